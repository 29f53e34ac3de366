// The dashboard: a hash router over the pages, refreshing the current page every few seconds.
import { api, esc } from './util.js';
import { overviewPage } from './page-overview.js';
import { topicsPage, topicPage } from './page-topics.js';
import { groupsPage, groupPage } from './page-groups.js';
import { messagesPage } from './page-messages.js';
import { storePage } from './page-store.js';

const REFRESH_MS = 2000;
const main = document.getElementById('main');
let info = { writeEnable: false };
let current = null;
let timer = null;

function routeOf(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const [page, arg] = parts;
  switch (page) {
    case 'topics':
      return arg ? ['topics', topicPage, arg] : ['topics', topicsPage];
    case 'groups':
      return arg ? ['groups', groupPage, arg] : ['groups', groupsPage];
    case 'messages':
      return ['messages', messagesPage];
    case 'store':
      return ['store', storePage];
    default:
      return ['overview', overviewPage];
  }
}

async function show() {
  clearInterval(timer);
  current?.dispose?.();
  const [name, page, arg] = routeOf(location.hash);
  for (const a of document.querySelectorAll('nav a')) {
    a.classList.toggle('active', a.dataset.page === name);
  }
  main.innerHTML = '<p class="muted">Loading…</p>';
  document.body.dataset.page = name;
  document.body.dataset.ready = 'false';
  try {
    current = await page(main, info, arg);
    document.body.dataset.ready = 'true';
    if (current?.refresh) {
      timer = setInterval(() => current.refresh().catch(() => undefined), REFRESH_MS);
    }
  } catch (error) {
    main.innerHTML = `<p class="readonly">Could not load this page: ${esc(error.message)}</p>`;
    document.body.dataset.ready = 'error';
  }
}

async function start() {
  try {
    info = await api('/api/info');
    document.getElementById('broker-info').textContent =
      `${info.clusterName} / ${info.brokerName} @ ${info.brokerAddr}${info.writeEnable ? '' : ' (read-only)'}`;
  } catch (error) {
    document.getElementById('broker-info').textContent = `broker unreachable: ${error.message}`;
  }
  window.addEventListener('hashchange', show);
  await show();
}

void start();
