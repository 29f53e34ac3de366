// Consumer groups: the list with lag, and one group's members, per-queue lag and offset reset.
import { api, confirmed, esc, num, readOnlyNote, table, time } from './util.js';

export async function groupsPage(el) {
  el.innerHTML = '<h1>Consumer groups</h1><div id="list"></div>';
  const refresh = async () => {
    const groups = await api('/api/groups');
    el.querySelector('#list').innerHTML = table(
      groups,
      [
        ['Group', (g) => `<a href="#/groups/${encodeURIComponent(g.group)}">${esc(g.group)}</a>`],
        ['Online members', (g) => num(g.members), 'num'],
        ['Topics', (g) => esc(g.topics.join(', '))],
        ['Lag', (g) => num(g.lag), 'num'],
      ],
      'groups-table',
    );
  };
  await refresh();
  return { refresh };
}

export async function groupPage(el, info, group) {
  el.innerHTML = `
    <h1>Consumer group ${esc(group)}</h1>${readOnlyNote(info)}
    <div class="cards" id="cards"></div>
    <h2>Members</h2><div id="members"></div>
    <h2>Per-queue lag</h2><div id="queues"></div>
    <h2>Reset offset</h2>
    <form class="inline" id="reset">
      <label>Topic <input name="topic" required /></label>
      <label>To time <input name="time" type="datetime-local" step="1" required /></label>
      <button class="danger" ${info.writeEnable ? '' : 'disabled'}>Reset offsets</button>
    </form>`;
  const refresh = async () => {
    const g = await api(`/api/groups/${encodeURIComponent(group)}`);
    const p = g.progress;
    el.querySelector('#cards').innerHTML = `
      <div class="card"><div class="label">Online</div><div class="value">${g.online ? 'yes' : 'no'}</div></div>
      <div class="card"><div class="label">Members</div><div class="value" data-testid="members">${num(g.members.length)}</div></div>
      <div class="card"><div class="label">Total lag</div><div class="value" data-testid="total-lag">${num(p.totalLag)}</div></div>
      <div class="card"><div class="label">Model</div><div class="value">${esc(g.messageModel ?? '-')}</div></div>`;
    el.querySelector('#members').innerHTML = table(
      g.members,
      [
        ['Client id', (m) => esc(m.clientId)],
        ['Address', (m) => esc(m.clientAddr)],
        ['Language', (m) => esc(m.language)],
        ['Last heartbeat', (m) => esc(time(m.lastUpdateTimestamp))],
      ],
      'members-table',
    );
    el.querySelector('#queues').innerHTML = table(
      p.queues,
      [
        ['Topic', (q) => esc(q.topic)],
        ['Broker', (q) => esc(q.brokerName)],
        ['Queue', (q) => esc(q.queueId), 'num'],
        ['Broker offset', (q) => num(q.brokerOffset), 'num'],
        ['Consumer offset', (q) => num(q.consumerOffset), 'num'],
        ['Lag', (q) => num(q.lag), 'num'],
        ['Last consumed', (q) => esc(time(q.lastTimestamp))],
      ],
      'lag-table',
    );
    const topicInput = el.querySelector('#reset input[name=topic]');
    if (!topicInput.value && p.queues.length) topicInput.value = p.queues[0].topic;
  };
  el.querySelector('#reset').addEventListener('submit', async (event) => {
    event.preventDefault();
    const f = new FormData(event.target);
    const timestampMs = new Date(f.get('time')).getTime();
    const done = await confirmed(
      `Move group ${group} on ${f.get('topic')} to the first message stored at or after ${new Date(timestampMs).toLocaleString()}?`,
      () =>
        api(`/api/groups/${encodeURIComponent(group)}/reset-offset`, {
          method: 'POST',
          body: { topic: f.get('topic'), timestampMs },
        }),
    );
    if (done) await refresh();
  });
  await refresh();
  return { refresh };
}
