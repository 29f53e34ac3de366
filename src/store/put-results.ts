/**
 * The results of an append and of a put, made without V8 allocation sites.
 *
 * V8 tracks each object literal's allocation site: when every object a site made was still alive
 * at a young-generation collection, it "pretenures" the site, and from then on makes its objects
 * in the old generation, where even those that die at once wait for a full collection. It does
 * not take that back when they stop surviving. In a store put loop over 80,000 ConsumeQueues
 * the append and put results (literals then, dropped by the caller at once) came to be made
 * there and filled the old generation: its heap grew ~4 MB per young collection, a full one
 * followed every 1-3 s, and V8's helper threads spent ~60 ticks each per million puts marking.
 * Class instances carry no allocation memento and are never pretenured; made as below (the list
 * with `new Array`), the loop's heap stayed flat and the helper threads used 13-26 ticks each.
 *
 * Turning pretenuring off for the whole broker (`--no-allocation-site-pretenuring`) did the same
 * for the store, but a one-topic broker then published ~10 % fewer messages per second
 * (presumably sites whose objects do live long gain from it). See docs/benchmarks.md.
 */
import type { AppendResult, PutResult, PutStatus } from './types.js';

/** Where one record went (an {@link AppendResult}). */
export class AppendedRecord implements AppendResult {
  constructor(
    readonly physicalOffset: number,
    readonly queueOffset: number,
    readonly sizeBytes: number,
    readonly storeTimestamp: number,
  ) {}
}

/** The outcome of a put (a {@link PutResult}). */
export class PutOutcome implements PutResult {
  constructor(
    readonly status: PutStatus,
    readonly appended: AppendResult[],
  ) {}
}

/** `[result]`, made without an array literal's allocation site. */
export function oneAppended(result: AppendResult): AppendResult[] {
  const list = new Array<AppendResult>(1);
  list[0] = result;
  return list;
}
