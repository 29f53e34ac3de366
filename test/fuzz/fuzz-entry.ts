/**
 * The module Jazzer.js loads: exports `fuzz(data)`, running the target named by the
 * `SLUICE_FUZZ_TARGET` environment variable (default `all`, the multiplexer).
 */
import { fuzzTarget } from './targets.js';

const target = fuzzTarget(process.env.SLUICE_FUZZ_TARGET ?? 'all');

/** Jazzer.js entry point: one execution over one input. */
export function fuzz(data: Buffer): void {
  target.run(data);
}
