// Topics: the list (with create), and one topic's queues and offsets (with test send, delete).
import { api, confirmed, esc, num, readOnlyNote, table, time } from './util.js';

export async function topicsPage(el, info) {
  el.innerHTML = `
    <h1>Topics</h1>${readOnlyNote(info)}
    <form class="inline" id="create">
      <label>Topic <input name="topic" required pattern="[%|a-zA-Z0-9_-]+" /></label>
      <label>Queues <input name="queueNums" type="number" min="1" max="1024" value="8" /></label>
      <label>Ordered <select name="order"><option value="false">no</option><option value="true">yes</option></select></label>
      <button ${info.writeEnable ? '' : 'disabled'}>Create topic</button>
    </form>
    <div id="list"></div>`;
  const refresh = async () => {
    const topics = await api('/api/topics');
    el.querySelector('#list').innerHTML = table(
      topics,
      [
        ['Topic', (t) => `<a href="#/topics/${encodeURIComponent(t.topic)}">${esc(t.topic)}</a>`],
        ['Queues (r/w)', (t) => `${t.readQueueNums}/${t.writeQueueNums}`, 'num'],
        ['Perm', (t) => esc(t.perm), 'num'],
        ['Messages stored', (t) => num(t.messages), 'num'],
        ['In (since start)', (t) => num(t.messagesIn), 'num'],
        ['Out (since start)', (t) => num(t.messagesOut), 'num'],
      ],
      'topics-table',
    );
  };
  el.querySelector('#create').addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    const topic = f.get('topic');
    const done = await confirmed(`Create topic ${topic}?`, () =>
      api('/api/topics', {
        method: 'POST',
        body: { topic, queueNums: Number(f.get('queueNums')), order: f.get('order') === 'true' },
      }),
    );
    if (done) await refresh();
  });
  await refresh();
  return { refresh };
}

export async function topicPage(el, info, topic) {
  el.innerHTML = `
    <h1>Topic ${esc(topic)}</h1>${readOnlyNote(info)}
    <div id="queues"></div>
    <h2>Consumer groups with offsets</h2><div id="groups"></div>
    <h2>Send a test message</h2>
    <form class="inline" id="send">
      <label>Body <input name="body" size="40" value="hello from the dashboard" /></label>
      <label>Tag <input name="tags" /></label>
      <label>Keys <input name="keys" /></label>
      <button ${info.writeEnable ? '' : 'disabled'}>Send</button>
    </form>
    <pre id="sent" hidden></pre>
    <h2>Danger zone</h2>
    <button class="danger" id="delete" ${info.writeEnable ? '' : 'disabled'}>Delete topic</button>`;
  const refresh = async () => {
    const t = await api(`/api/topics/${encodeURIComponent(topic)}`);
    el.querySelector('#queues').innerHTML = table(
      t.queues,
      [
        ['Broker', (q) => esc(q.brokerName)],
        ['Queue', (q) => esc(q.queueId), 'num'],
        ['Min offset', (q) => num(q.minOffset), 'num'],
        ['Max offset', (q) => num(q.maxOffset), 'num'],
        ['Messages', (q) => num(q.maxOffset - q.minOffset), 'num'],
        ['Last update', (q) => esc(time(q.lastUpdateTimestamp))],
      ],
      'queues-table',
    );
    el.querySelector('#groups').innerHTML = t.groups.length
      ? t.groups.map((g) => `<a href="#/groups/${encodeURIComponent(g)}">${esc(g)}</a>`).join(', ')
      : '<span class="muted">none</span>';
  };
  el.querySelector('#send').addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    const sent = await confirmed(`Send a message to ${topic}?`, () =>
      api(`/api/topics/${encodeURIComponent(topic)}/messages`, {
        method: 'POST',
        body: { body: f.get('body'), tags: f.get('tags'), keys: f.get('keys') },
      }),
    );
    if (sent) {
      const pre = el.querySelector('#sent');
      pre.hidden = false;
      pre.textContent = JSON.stringify(sent, null, 2);
      await refresh();
    }
  });
  el.querySelector('#delete').addEventListener('click', async () => {
    const done = await confirmed(`Delete topic ${topic} from every broker?`, () =>
      api(`/api/topics/${encodeURIComponent(topic)}`, { method: 'DELETE' }),
    );
    if (done) location.hash = '#/topics';
  });
  await refresh();
  return { refresh };
}
