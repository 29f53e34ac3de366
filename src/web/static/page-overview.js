// Overview: cluster and brokers, disk use, and live produce/consume rate charts (last 15 min).
import { api, bytes, card, esc, num, table } from './util.js';

function chartOptions(title, series, width) {
  return {
    title,
    width,
    height: 220,
    scales: { x: { time: true } },
    series: [{}, ...series.map(([label, stroke]) => ({ label, stroke, width: 2 }))],
    axes: [{}, { size: 70 }],
  };
}

function makeChart(el, title, series) {
  const width = Math.max(320, el.clientWidth - 16);
  const data = [[], ...series.map(() => [])];
  return new window.uPlot(chartOptions(title, series, width), data, el);
}

function render(el, o) {
  const l = o.local;
  el.querySelector('#cards').innerHTML = [
    card('Brokers', num(o.brokers.length), 'brokers'),
    card('Topics (this broker)', num(l.topics), 'topics'),
    card('Connections', num(l.connections), 'connections'),
    card('Messages in', num(l.messagesIn), 'messages-in'),
    card('Messages out', num(l.messagesOut), 'messages-out'),
    card('Store size', bytes(l.storeSizeBytes), 'store-size'),
    card('Disk used', `${(l.diskUsedRatio * 100).toFixed(1)} %`, 'disk-used'),
    card('Disk free', bytes(l.disk.freeBytes), 'disk-free'),
  ].join('');
  el.querySelector('#brokers').innerHTML = table(
    o.brokers,
    [
      ['Cluster', (b) => esc(b.cluster)],
      ['Broker', (b) => esc(b.brokerName)],
      ['Id', (b) => esc(b.brokerId), 'num'],
      ['Address', (b) => esc(b.addr)],
      ['Version', (b) => esc(b.runtime.brokerVersionDesc ?? b.runtime.error ?? '')],
      ['Messages put', (b) => num(b.runtime.msgPutTotalTodayNow), 'num'],
      ['Log max offset', (b) => num(b.runtime.commitLogMaxOffset), 'num'],
      [
        'Disk used',
        (b) =>
          b.runtime.commitLogDiskRatio === undefined
            ? ''
            : `${(Number(b.runtime.commitLogDiskRatio) * 100).toFixed(1)} %`,
        'num',
      ],
    ],
    'brokers-table',
  );
}

export async function overviewPage(el) {
  el.innerHTML = `
    <h1>Overview</h1>
    <div class="cards" id="cards"></div>
    <div class="charts">
      <div class="chart" id="chart-messages" data-testid="chart-messages"></div>
      <div class="chart" id="chart-bytes" data-testid="chart-bytes"></div>
    </div>
    <h2>Brokers</h2><div id="brokers"></div>`;
  const msgChart = makeChart(el.querySelector('#chart-messages'), 'Messages / s', [
    ['produced', '#2563eb'],
    ['consumed', '#16a34a'],
  ]);
  const byteChart = makeChart(el.querySelector('#chart-bytes'), 'Bytes / s', [
    ['in', '#9333ea'],
    ['out', '#ea580c'],
  ]);
  const refresh = async () => {
    const [o, r] = await Promise.all([api('/api/overview'), api('/api/rates?seconds=900')]);
    render(el, o);
    msgChart.setData([r.t, r.messagesInPerSec, r.messagesOutPerSec]);
    byteChart.setData([r.t, r.bytesInPerSec, r.bytesOutPerSec]);
    el.querySelector('#chart-messages').dataset.points = String(r.t.length);
    el.querySelector('#chart-bytes').dataset.points = String(r.t.length);
  };
  await refresh();
  return {
    refresh,
    dispose() {
      msgChart.destroy();
      byteChart.destroy();
    },
  };
}
