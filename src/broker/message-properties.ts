/**
 * Reading single properties out of a `name\u0001value\u0002` string without decoding all of it
 * (send path), plus the property names the broker itself reads or writes.
 */

/** Property names (RocketMQ's MessageConst). */
export const MessageConst = {
  TAGS: 'TAGS',
  KEYS: 'KEYS',
  UNIQ_KEY: 'UNIQ_KEY',
  DELAY: 'DELAY',
  RETRY_TOPIC: 'RETRY_TOPIC',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_QID: 'REAL_QID',
  RECONSUME_TIME: 'RECONSUME_TIME',
  MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
  TRAN_MSG: 'TRAN_MSG',
  PRODUCER_GROUP: 'PGROUP',
} as const;

const NV = '\u0001';
const PS = '\u0002';

/**
 * Finds the value of `name` in a properties string; returns its start index (the value runs to
 * the next `\u0002` or the end), or -1.
 */
export function findPropertyValueStart(properties: string, name: string): number {
  let pos = 0;
  const n = properties.length;
  while (pos < n) {
    if (properties.startsWith(name, pos) && properties.charCodeAt(pos + name.length) === 1) {
      return pos + name.length + 1;
    }
    const next = properties.indexOf(PS, pos);
    if (next < 0) return -1;
    pos = next + 1;
  }
  return -1;
}

function valueEnd(properties: string, start: number): number {
  const end = properties.indexOf(PS, start);
  return end < 0 ? properties.length : end;
}

/** The value of `name`, or undefined. */
export function getProperty(properties: string, name: string): string | undefined {
  const start = findPropertyValueStart(properties, name);
  return start < 0 ? undefined : properties.slice(start, valueEnd(properties, start));
}

/** Appends (or replaces) properties in a string, keeping the others in order. */
export function withProperties(properties: string, updates: Record<string, string>): string {
  let out = '';
  let pos = 0;
  const n = properties.length;
  while (pos < n) {
    let end = properties.indexOf(PS, pos);
    if (end < 0) end = n;
    const sep = properties.indexOf(NV, pos);
    if (sep > pos && sep < end) {
      const name = properties.slice(pos, sep);
      if (!Object.prototype.hasOwnProperty.call(updates, name)) {
        out += properties.slice(pos, end) + PS;
      }
    }
    pos = end + 1;
  }
  for (const [name, value] of Object.entries(updates)) out += name + NV + value + PS;
  return out;
}
