/**
 * Growing a scratch buffer: the writers that encode into one reusable buffer (JSON and binary
 * remoting headers, ConsumeQueue write batches) double it until the bytes they need fit.
 */

/**
 * A fresh, unpooled Buffer of at least `neededBytes` — `buf`'s size doubled as often as needed —
 * holding a copy of `buf`'s first `usedBytes`.
 */
export function growBuffer(
  buf: Uint8Array,
  usedBytes: number,
  neededBytes: number,
): Buffer<ArrayBuffer> {
  let size = Math.max(1, buf.length) * 2;
  while (size < neededBytes) size *= 2;
  const bigger = Buffer.allocUnsafeSlow(size);
  bigger.set(buf.subarray(0, usedBytes), 0);
  return bigger;
}
