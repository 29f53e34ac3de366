// Store: CommitLog segments, written vs flushed vs dispatched offsets, disk.
import { api, bytes, card, esc, num, table } from './util.js';

export async function storePage(el) {
  el.innerHTML =
    '<h1>Store</h1><div class="cards" id="cards"></div><h2>CommitLog segments</h2><div id="segments"></div>';
  const refresh = async () => {
    const s = await api('/api/store');
    el.querySelector('#cards').innerHTML = [
      card('Backend / flush', `${s.backend} / ${s.flushMode}`),
      card('Written offset', num(s.writtenOffset), 'written-offset'),
      card('Flushed offset', num(s.flushedOffset), 'flushed-offset'),
      card('Unflushed', bytes(s.unflushedBytes)),
      card('Dispatch lag', bytes(s.dispatchLagBytes)),
      card('Messages put', num(s.putMessageCount)),
      card('Disk used', `${(s.diskUsedRatio * 100).toFixed(1)} %`),
      card('Disk free', bytes(s.disk.freeBytes)),
    ].join('');
    el.querySelector('#segments').innerHTML = table(
      s.segments,
      [
        ['File', (g) => esc(g.fileName)],
        ['Start offset', (g) => num(g.startOffset), 'num'],
        ['Size', (g) => bytes(g.sizeBytes), 'num'],
        ['Written', (g) => bytes(g.wroteBytes), 'num'],
        ['Flushed', (g) => bytes(g.flushedBytes), 'num'],
        [
          'Written / flushed',
          (g) =>
            `<div class="bar"><span class="written" style="width:${(100 * g.wroteBytes) / g.sizeBytes}%"></span><span class="flushed" style="width:${(100 * g.flushedBytes) / g.sizeBytes}%"></span></div>`,
        ],
      ],
      'segments-table',
    );
  };
  await refresh();
  return { refresh };
}
