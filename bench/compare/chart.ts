/**
 * SVG chart of the comparison: publish throughput (median msgs/s) against topic count on a log
 * x axis, one line per system, one panel per durability class. Plain SVG, no dependencies.
 */
import type { ComparedSystem, Durability } from './config.js';
import { medianSample, type ResultTable } from './results.js';

const COLORS: Record<string, string> = {
  sluice: '#d9480f',
  nats: '#1971c2',
  redis: '#2f9e44',
};
const PANEL_WIDTH = 460;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 70, right: 20, top: 50, bottom: 50 };

const TITLES: Record<Durability, string> = {
  async: 'batched durability (async flush / everysec)',
  sync: 'per-message durability (sync flush / always)',
};

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A round axis maximum at or above `value` (1, 2 or 5 times a power of ten). */
function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function compact(value: number): string {
  if (value >= 1_000_000) return `${(value / 1_000_000).toFixed(value % 1_000_000 === 0 ? 0 : 1)}M`;
  if (value >= 1_000) return `${(value / 1_000).toFixed(value % 1_000 === 0 ? 0 : 1)}k`;
  return String(value);
}

/** Renders the chart for the given cells; returns the SVG document. */
export function renderChart(
  table: ResultTable,
  systems: readonly ComparedSystem[],
  durabilities: readonly Durability[],
  topicCounts: readonly number[],
  title: string,
): string {
  const xs = [...topicCounts].sort((a, b) => a - b);
  const minX = Math.log10(xs[0] ?? 1);
  const maxX = Math.log10(xs[xs.length - 1] ?? 10);
  const spanX = maxX - minX || 1;
  let maxY = 0;
  for (const cell of table.all()) {
    const m = medianSample(cell);
    if (m && Number.isFinite(m.publishMsgsPerSec)) maxY = Math.max(maxY, m.publishMsgsPerSec);
  }
  maxY = niceCeiling(maxY * 1.05);
  const plotW = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const width = PANEL_WIDTH * durabilities.length;
  const height = PANEL_HEIGHT + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  durabilities.forEach((durability, panel) => {
    const ox = panel * PANEL_WIDTH + MARGIN.left;
    const oy = MARGIN.top;
    const px = (topics: number): number => ox + ((Math.log10(topics) - minX) / spanX) * plotW;
    const py = (value: number): number => oy + plotH - (value / maxY) * plotH;
    parts.push(
      `<text x="${ox + plotW / 2}" y="${oy - 10}" text-anchor="middle">${escapeXml(TITLES[durability])}</text>`,
      `<rect x="${ox}" y="${oy}" width="${plotW}" height="${plotH}" fill="none" stroke="#888"/>`,
    );
    for (let i = 0; i <= 5; i++) {
      const value = (maxY * i) / 5;
      const y = py(value);
      parts.push(
        `<line x1="${ox}" y1="${y}" x2="${ox + plotW}" y2="${y}" stroke="#e5e5e5"/>`,
        `<text x="${ox - 6}" y="${y + 4}" text-anchor="end">${compact(value)}</text>`,
      );
    }
    for (const topics of xs) {
      const x = px(topics);
      parts.push(
        `<line x1="${x}" y1="${oy}" x2="${x}" y2="${oy + plotH}" stroke="#e5e5e5"/>`,
        `<text x="${x}" y="${oy + plotH + 16}" text-anchor="middle">${compact(topics)}</text>`,
      );
    }
    parts.push(
      `<text x="${ox + plotW / 2}" y="${oy + plotH + 36}" text-anchor="middle">topics (log scale)</text>`,
      `<text transform="translate(${ox - 52} ${oy + plotH / 2}) rotate(-90)" text-anchor="middle">publish msgs/s (median)</text>`,
    );
    systems.forEach((system) => {
      const color = COLORS[system.key] ?? '#555';
      const points: string[] = [];
      for (const topics of xs) {
        const cell = table.find(system.key, durability, topics);
        const m = cell ? medianSample(cell) : undefined;
        if (!m || !Number.isFinite(m.publishMsgsPerSec)) continue;
        const x = px(topics).toFixed(1);
        const y = py(m.publishMsgsPerSec).toFixed(1);
        points.push(`${x},${y}`);
        parts.push(`<circle cx="${x}" cy="${y}" r="3.5" fill="${color}"/>`);
      }
      if (points.length > 1) {
        parts.push(
          `<polyline points="${points.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`,
        );
      }
    });
  });
  // One legend for both panels, in a row under them.
  const legendY = PANEL_HEIGHT + 22;
  const itemWidth = 150;
  const legendX = width / 2 - (systems.length * itemWidth) / 2;
  systems.forEach((system, index) => {
    const color = COLORS[system.key] ?? '#555';
    const lx = legendX + index * itemWidth;
    parts.push(
      `<line x1="${lx}" y1="${legendY - 4}" x2="${lx + 22}" y2="${legendY - 4}" stroke="${color}" stroke-width="2"/>`,
      `<circle cx="${lx + 11}" cy="${legendY - 4}" r="3.5" fill="${color}"/>`,
      `<text x="${lx + 28}" y="${legendY}">${escapeXml(system.name)}</text>`,
    );
  });
  parts.push('</svg>', '');
  return parts.join('\n');
}
