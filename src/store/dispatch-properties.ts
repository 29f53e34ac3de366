/**
 * Finds, in one pass over a record's encoded properties (`name\u0001value\u0002` pairs), the
 * values the dispatcher needs: TAGS, KEYS, UNIQ_KEY and DELAY. Works on the log's bytes; no
 * string is made.
 */

// Property names the dispatcher looks for, as bytes.
const T = 0x54; // 'T'
const K = 0x4b; // 'K'
const U = 0x55; // 'U'
const D = 0x44; // 'D'

/**
 * Value ranges of the properties the dispatcher needs, found in one pass over the encoded
 * `name\u0001value\u0002` pairs (start -1: absent). Reused for every record.
 */
export class PropertyRanges {
  tagsStart = -1;
  tagsEnd = -1;
  keysStart = -1;
  keysEnd = -1;
  uniqStart = -1;
  uniqEnd = -1;
  delayStart = -1;
  delayEnd = -1;

  /** Scans `[start, start+len)` of `b`; the first pair of each name wins. */
  scan(b: Uint8Array, start: number, len: number): void {
    this.tagsStart = this.keysStart = this.uniqStart = this.delayStart = -1;
    const end = start + len;
    let p = start;
    while (p < end) {
      let sep = p;
      while (sep < end && b[sep] !== 0x01 && b[sep] !== 0x02) sep++;
      if (sep >= end || b[sep] === 0x02) {
        p = sep + 1; // a pair without a value
        continue;
      }
      const vs = sep + 1;
      let ve = vs;
      while (ve < end && b[ve] !== 0x02) ve++;
      const n = sep - p;
      const c = b[p];
      if (n === 4 && c === T && b[p + 1] === 0x41 && b[p + 2] === 0x47 && b[p + 3] === 0x53) {
        if (this.tagsStart < 0) {
          this.tagsStart = vs;
          this.tagsEnd = ve;
        }
      } else if (
        n === 4 &&
        c === K &&
        b[p + 1] === 0x45 &&
        b[p + 2] === 0x59 &&
        b[p + 3] === 0x53
      ) {
        if (this.keysStart < 0) {
          this.keysStart = vs;
          this.keysEnd = ve;
        }
      } else if (n === 8 && c === U && isUniqKey(b, p)) {
        if (this.uniqStart < 0) {
          this.uniqStart = vs;
          this.uniqEnd = ve;
        }
      } else if (n === 5 && c === D && isDelay(b, p)) {
        if (this.delayStart < 0) {
          this.delayStart = vs;
          this.delayEnd = ve;
        }
      }
      p = ve + 1;
    }
  }
}

/** "UNIQ_KEY" at p. */
function isUniqKey(b: Uint8Array, p: number): boolean {
  return (
    b[p + 1] === 0x4e &&
    b[p + 2] === 0x49 &&
    b[p + 3] === 0x51 &&
    b[p + 4] === 0x5f &&
    b[p + 5] === 0x4b &&
    b[p + 6] === 0x45 &&
    b[p + 7] === 0x59
  );
}

/** "DELAY" at p. */
function isDelay(b: Uint8Array, p: number): boolean {
  return b[p + 1] === 0x45 && b[p + 2] === 0x4c && b[p + 3] === 0x41 && b[p + 4] === 0x59;
}
