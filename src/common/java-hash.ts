/**
 * Java `String.hashCode` as RocketMQ uses it: for ConsumeQueue tag hash codes and IndexFile key
 * hashes. Java hashes UTF-16 code units (`s[0]·31^(n−1) + … + s[n−1]`, int32 wrap-around), which
 * is exactly what JavaScript's `charCodeAt` yields.
 *
 * The `…Utf8` variants hash UTF-8 bytes (as stored in a CommitLog record) as if they had been
 * decoded to a JS string first, without allocating: the dispatcher hashes TAGS and KEYS straight
 * from the log. Invalid UTF-8 sequences count as U+FFFD, like `TextDecoder`.
 */

/** Java `String.hashCode` of `s` (int32). The empty string hashes to 0. */
export function javaStringHashCode(s: string): number {
  return javaHashContinue(0, s);
}

/** Continues a Java hash `h` over the UTF-16 code units of `s` (hash of a concatenation). */
export function javaHashContinue(h: number, s: string): number {
  let hash = h | 0;
  for (let i = 0; i < s.length; i++) hash = (Math.imul(hash, 31) + s.charCodeAt(i)) | 0;
  return hash;
}

const REPLACEMENT_CHAR = 0xfffd;

/**
 * Continues a Java hash `h` over the string that the UTF-8 bytes `bytes[start, end)` decode to.
 * Allocation-free.
 */
export function javaHashContinueUtf8(
  h: number,
  bytes: Uint8Array,
  start: number,
  end: number,
): number {
  let hash = h | 0;
  let i = start;
  while (i < end) {
    const b0 = bytes[i++];
    if (b0 < 0x80) {
      hash = (Math.imul(hash, 31) + b0) | 0;
      continue;
    }
    // WHATWG UTF-8 decoding: the bounds of the second byte depend on the lead byte.
    let need = 0;
    let cp = 0;
    let lower = 0x80;
    let upper = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
      need = 1;
      cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      cp = b0 & 0x0f;
      if (b0 === 0xe0) lower = 0xa0;
      else if (b0 === 0xed) upper = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      cp = b0 & 0x07;
      if (b0 === 0xf0) lower = 0x90;
      else if (b0 === 0xf4) upper = 0x8f;
    }
    let ok = need > 0;
    for (let k = 0; k < need; k++) {
      const b = i < end ? bytes[i] : -1;
      if (b < lower || b > upper) {
        ok = false; // the offending byte is not consumed
        break;
      }
      lower = 0x80;
      upper = 0xbf;
      cp = (cp << 6) | (b & 0x3f);
      i++;
    }
    if (!ok) cp = REPLACEMENT_CHAR;
    if (cp >= 0x10000) {
      const v = cp - 0x10000;
      hash = (Math.imul(hash, 31) + (0xd800 | (v >> 10))) | 0;
      hash = (Math.imul(hash, 31) + (0xdc00 | (v & 0x3ff))) | 0;
    } else {
      hash = (Math.imul(hash, 31) + cp) | 0;
    }
  }
  return hash;
}

/** Java `String.hashCode` of the UTF-8 bytes `bytes[start, end)` (decoded as UTF-8). */
export function javaHashUtf8(bytes: Uint8Array, start: number, end: number): number {
  return javaHashContinueUtf8(0, bytes, start, end);
}

/**
 * The IndexFile key hash: `abs(hashCode)`, with `Integer.MIN_VALUE` (whose abs overflows in Java)
 * mapped to 0. Always in [0, 2^31 − 1].
 */
export function indexKeyHash(javaHash: number): number {
  const h = javaHash | 0;
  if (h === -2147483648) return 0;
  return h < 0 ? -h : h;
}
