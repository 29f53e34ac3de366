// Message search by id, key or time range; body as text, hex or JSON; DLQ resend.
import { api, bytes, confirmed, esc, readOnlyNote, table, time } from './util.js';

let bodyMode = 'text';

function bodyOf(m) {
  if (bodyMode === 'hex') return m.bodyHex.replace(/(..)/g, '$1 ').trim();
  if (bodyMode === 'json')
    return m.bodyJson === null ? '(not JSON)' : JSON.stringify(m.bodyJson, null, 2);
  return m.bodyText;
}

function detail(m, info) {
  const dlq = m.queueTopic.startsWith('%DLQ%');
  const props = Object.entries(m.properties)
    .map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`)
    .join('');
  return `
    <h2>Message ${esc(m.offsetMsgId)}</h2>
    <table data-testid="message-detail">
      <tr><th>Topic</th><td>${esc(m.topic)} (queue ${esc(m.queueTopic)}:${m.queueId} @ ${m.queueOffset})</td></tr>
      <tr><th>Message id</th><td>${esc(m.msgId)}</td></tr>
      <tr><th>Tag / keys</th><td>${esc(m.tags ?? '-')} / ${esc(m.keys.join(' ') || '-')}</td></tr>
      <tr><th>Stored</th><td>${esc(time(m.storeTimestampMs))} on ${esc(m.storeHost)}, born ${esc(time(m.bornTimestampMs))} at ${esc(m.bornHost)}</td></tr>
      <tr><th>Size</th><td>body ${bytes(m.bodySizeBytes)}, record ${bytes(m.storeSizeBytes)}; reconsumed ${m.reconsumeTimes}×</td></tr>
      ${props}
    </table>
    <div class="tabs" style="margin:10px 0">
      ${['text', 'hex', 'json'].map((k) => `<button data-mode="${k}" class="${bodyMode === k ? 'on' : ''}">${k.toUpperCase()}</button>`).join(' ')}
    </div>
    <pre data-testid="message-body">${esc(bodyOf(m))}</pre>
    ${dlq ? `<button id="resend" ${info.writeEnable ? '' : 'disabled'}>Resend to ${esc(m.properties.RETRY_TOPIC ?? 'original topic')}</button>` : ''}`;
}

export async function messagesPage(el, info) {
  const now = new Date(Date.now() - new Date().getTimezoneOffset() * 60000);
  const hourAgo = new Date(now.getTime() - 3600_000);
  el.innerHTML = `
    <h1>Messages</h1>${readOnlyNote(info)}
    <form class="inline" id="search">
      <label>Message id <input name="id" size="34" /></label>
      <label>Topic <input name="topic" /></label>
      <label>Key <input name="key" /></label>
      <label>From <input name="begin" type="datetime-local" step="1" value="${hourAgo.toISOString().slice(0, 19)}" /></label>
      <label>To <input name="end" type="datetime-local" step="1" value="${now.toISOString().slice(0, 19)}" /></label>
      <button>Search</button>
    </form>
    <div id="results"></div><div id="detail"></div>`;
  let found = [];
  const showDetail = (m) => {
    const d = el.querySelector('#detail');
    d.innerHTML = detail(m, info);
    for (const b of d.querySelectorAll('[data-mode]')) {
      b.addEventListener('click', () => {
        bodyMode = b.dataset.mode;
        showDetail(m);
      });
    }
    d.querySelector('#resend')?.addEventListener('click', () =>
      confirmed(`Resend message ${m.offsetMsgId} to ${m.properties.RETRY_TOPIC}?`, () =>
        api('/api/messages/resend', { method: 'POST', body: { id: m.offsetMsgId } }),
      ),
    );
  };
  el.querySelector('#search').addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    const q = new URLSearchParams();
    const id = f.get('id').trim();
    if (id) {
      q.set('id', id);
      if (f.get('topic')) q.set('topic', f.get('topic'));
    } else {
      q.set('topic', f.get('topic'));
      if (f.get('key')) q.set('key', f.get('key'));
      if (f.get('begin')) q.set('begin', String(new Date(f.get('begin')).getTime()));
      if (f.get('end')) q.set('end', String(new Date(f.get('end')).getTime()));
    }
    const results = el.querySelector('#results');
    try {
      found = (await api(`/api/messages?${q}`)).messages;
    } catch (error) {
      results.innerHTML = `<p class="readonly">${esc(error.message)}</p>`;
      return;
    }
    results.innerHTML = table(
      found.map((m, i) => ({ ...m, i })),
      [
        ['Stored', (m) => esc(time(m.storeTimestampMs))],
        ['Offset id', (m) => `<a href="#/messages" data-i="${m.i}">${esc(m.offsetMsgId)}</a>`],
        ['Topic', (m) => esc(m.topic)],
        ['Tag', (m) => esc(m.tags ?? '')],
        ['Keys', (m) => esc(m.keys.join(' '))],
        ['Body', (m) => esc(m.bodyText.slice(0, 80))],
      ],
      'messages-table',
    );
    for (const a of results.querySelectorAll('[data-i]')) {
      a.addEventListener('click', (e) => {
        e.preventDefault();
        showDetail(found[Number(a.dataset.i)]);
      });
    }
    if (found.length === 1) showDetail(found[0]);
  });
  return {};
}
