/**
 * Diagnostic preload for a Node.js process (a Sluice broker in a bench cell): prints a `STALL`
 * line to stdout for every timer or immediate callback and every event emit that runs longer
 * than `STALL_TRACE_MS` (default 2), every V8 GC pause longer than 1 ms, and, once a second,
 * the event loop's longest delay when it exceeds 4 ms. Each line starts with the wall clock in
 * milliseconds modulo 100,000, to line stalls up with slow messages.
 *
 * Usage: `node --import ./bench/trace-stalls.mjs dist/src/cli/main.js start` and load it (e.g.
 * `sluice bench produce`); in bench:compare, `SLUICE_BENCH_NODE_FLAGS="--import
 * ./bench/trace-stalls.mjs"` adds it to the broker, whose output the harness keeps. It wraps
 * globals and `EventEmitter.prototype.emit`: for looking into a run, not for measuring one.
 */
import { EventEmitter } from 'node:events';
import { PerformanceObserver, monitorEventLoopDelay, performance } from 'node:perf_hooks';

const limitMs = Number(process.env.STALL_TRACE_MS ?? 2);
const report = (text) => process.stdout.write(`STALL ${Date.now() % 100_000} ${text}\n`);

function timed(schedule, kind) {
  return function (callback, ...rest) {
    if (typeof callback !== 'function') return schedule.call(this, callback, ...rest);
    const name = callback.name || String(callback).slice(0, 100).replace(/\s+/g, ' ');
    const wrapped = function (...args) {
      const startMs = performance.now();
      try {
        return callback.apply(this, args);
      } finally {
        const tookMs = performance.now() - startMs;
        if (tookMs > limitMs) report(`${kind} ${tookMs.toFixed(1)} ms ${name}`);
      }
    };
    return schedule.call(this, wrapped, ...rest);
  };
}

globalThis.setTimeout = timed(globalThis.setTimeout, 'timeout');
globalThis.setInterval = timed(globalThis.setInterval, 'interval');
globalThis.setImmediate = timed(globalThis.setImmediate, 'immediate');

const emit = EventEmitter.prototype.emit;
EventEmitter.prototype.emit = function (event, ...args) {
  const startMs = performance.now();
  try {
    return emit.call(this, event, ...args);
  } finally {
    const tookMs = performance.now() - startMs;
    if (tookMs > limitMs) {
      report(`emit ${tookMs.toFixed(1)} ms '${String(event)}' on ${this?.constructor?.name}`);
    }
  }
};

new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if (entry.duration > 1) report(`gc ${entry.duration.toFixed(1)} ms kind ${entry.detail?.kind}`);
  }
}).observe({ entryTypes: ['gc'] });

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
setInterval(() => {
  const maxMs = delay.max / 1e6;
  if (maxMs > 4) report(`event loop delay max ${maxMs.toFixed(1)} ms in the last second`);
  delay.reset();
}, 1000).unref();
