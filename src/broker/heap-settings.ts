/**
 * Process-wide V8 heap settings a broker applies when it starts.
 *
 * V8's memory reducer runs full collections that shrink the heap when the process looks idle
 * (e.g. between bursts, or at a steady 1,000 sends/s). On a broker that gives memory back only to
 * fault it in again with the next burst: see `BrokerConfig.heapMemoryReducer`. Its
 * allocation-site pretenuring, once a site's objects survived a young-generation collection,
 * makes that site's later objects in the old generation, where even those that die at once wait
 * for a full collection: see `BrokerConfig.heapPretenuring`.
 */
import v8 from 'node:v8';
import type { BrokerConfig } from './broker-config.js';

/** Sets V8's flags from the config; returns the flags it set. V8 flags are process-wide. */
export function applyHeapSettings(
  config: Pick<BrokerConfig, 'heapMemoryReducer' | 'heapPretenuring'>,
  setFlags: (flags: string) => void = v8.setFlagsFromString,
): string[] {
  const flags = [
    config.heapMemoryReducer ? '--memory-reducer' : '--no-memory-reducer',
    config.heapPretenuring ? '--allocation-site-pretenuring' : '--no-allocation-site-pretenuring',
  ];
  for (const flag of flags) setFlags(flag);
  return flags;
}
