/**
 * Process-wide V8 heap settings a broker applies when it starts.
 *
 * V8's memory reducer runs full collections that shrink the heap when the process looks idle
 * (e.g. between bursts, or at a steady 1,000 sends/s). On a broker that gives memory back only to
 * fault it in again with the next burst: see `BrokerConfig.heapMemoryReducer`.
 */
import v8 from 'node:v8';
import type { BrokerConfig } from './broker-config.js';

/** Sets V8's flags from the config; returns the flags it set. V8 flags are process-wide. */
export function applyHeapSettings(
  config: Pick<BrokerConfig, 'heapMemoryReducer'>,
  setFlags: (flags: string) => void = v8.setFlagsFromString,
): string[] {
  const flags = [config.heapMemoryReducer ? '--memory-reducer' : '--no-memory-reducer'];
  for (const flag of flags) setFlags(flag);
  return flags;
}
