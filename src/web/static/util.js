// Shared helpers of the dashboard page: API calls, formatting, small DOM builders.

/** Fetches JSON from the broker's API; throws with the server's error message. */
export async function api(path, options = {}) {
  const init = { ...options, headers: { ...(options.headers ?? {}) } };
  if (options.body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const res = await fetch(path, init);
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error ?? `${res.status} ${res.statusText}`);
  return data;
}

/** Asks for confirmation, then runs a write action and reports its outcome. */
export async function confirmed(question, action) {
  if (!window.confirm(question)) return undefined;
  try {
    const result = await action();
    toast('Done');
    return result;
  } catch (error) {
    toast(error.message, true);
    return undefined;
  }
}

let toastTimer;
/** Shows a short message at the bottom right. */
export function toast(text, isError = false) {
  const el = document.getElementById('toast');
  el.textContent = text;
  el.className = isError ? 'error' : '';
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 4000);
}

/** Escapes text for HTML. */
export function esc(value) {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

/** 1234567 → "1,234,567". */
export function num(n) {
  return Number(n ?? 0).toLocaleString('en-US');
}

/** Bytes with a binary unit. */
export function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = Number(n ?? 0);
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** Epoch ms → local date and time ("-" for 0). */
export function time(ms) {
  return ms ? new Date(ms).toLocaleString() : '-';
}

/** A table from rows; `cols` are [header, (row) => html, className?]. */
export function table(rows, cols, testid = '') {
  const head = cols.map(([h, , cls]) => `<th class="${cls ?? ''}">${esc(h)}</th>`).join('');
  const body = rows
    .map(
      (r) =>
        `<tr>${cols.map(([, cell, cls]) => `<td class="${cls ?? ''}">${cell(r)}</td>`).join('')}</tr>`,
    )
    .join('');
  const empty =
    rows.length === 0 ? `<tr><td colspan="${cols.length}" class="muted">none</td></tr>` : '';
  return `<table data-testid="${esc(testid)}"><thead><tr>${head}</tr></thead><tbody>${body}${empty}</tbody></table>`;
}

/** A figure card. */
export function card(label, value, testid = '') {
  return `<div class="card"><div class="label">${esc(label)}</div><div class="value" data-testid="${esc(testid)}">${esc(value)}</div></div>`;
}

/** A banner shown when write actions are off. */
export function readOnlyNote(info) {
  return info.writeEnable
    ? ''
    : '<div class="readonly">Read-only dashboard: start the broker with <code>httpWriteEnable=true</code> to create topics, reset offsets or resend messages.</div>';
}
