/**
 * Whether `a[aStart, aStart+aLen)` and `b[bStart, bStart+bLen)` hold the same bytes. A plain loop:
 * the ranges compared on the hot paths (topic names, keys) are a few dozen bytes, shorter than
 * what a native compare call costs.
 */
export function equalBytes(
  a: Uint8Array,
  aStart: number,
  aLen: number,
  b: Uint8Array,
  bStart: number,
  bLen: number,
): boolean {
  if (aLen !== bLen) return false;
  for (let i = 0; i < aLen; i++) if (a[aStart + i] !== b[bStart + i]) return false;
  return true;
}
