/**
 * Fuzzing in `npm test`: replays the committed seed corpus and every crash reproducer through its
 * target in-process, then runs the multiplexed `all` target under Jazzer.js (coverage-guided) for
 * a short time box (SLUICE_FUZZ_TEST_SECONDS, default 4). Longer runs: `npm run test:fuzz`.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { test } from 'node:test';
import { decodeProperties, encodeProperties } from '../src/common/codec/properties.js';
import { CORPUS_DIR, filesOf, multiplexedSeeds, REGRESSIONS_DIR, runJazzer } from './fuzz/run.js';
import { FUZZ_TARGETS } from './fuzz/targets.js';

test('every seed and regression input passes its fuzz target', () => {
  let inputs = 0;
  for (const target of FUZZ_TARGETS) {
    const files = [
      ...filesOf(join(CORPUS_DIR, target.name)),
      ...filesOf(join(REGRESSIONS_DIR, target.name)),
    ];
    assert.ok(files.length > 0, `no seed corpus for ${target.name}`);
    for (const file of files) {
      try {
        target.run(readFileSync(file));
      } catch (err) {
        assert.fail(`${target.name}/${basename(file)}: ${String(err)}`);
      }
      inputs++;
    }
  }
  assert.ok(inputs >= FUZZ_TARGETS.length);
});

test('finding F1 (fixed): a property value holding 0x01 decodes and re-encodes to the same map', () => {
  const input = readFileSync(join(REGRESSIONS_DIR, 'text/properties-value-with-separator'));
  const props = decodeProperties(input.toString('utf8'));
  assert.deepEqual(decodeProperties(encodeProperties(props)), props);
});

test('Jazzer.js fuzzes every target (multiplexed) for a short time box without findings', async (t) => {
  if (
    process.platform !== 'linux' &&
    process.platform !== 'darwin' &&
    process.platform !== 'win32'
  ) {
    t.skip(`no Jazzer.js prebuild for ${process.platform}`);
    return;
  }
  const seconds = Number(process.env.SLUICE_FUZZ_TEST_SECONDS ?? 4);
  const seeds = multiplexedSeeds();
  try {
    const run = await runJazzer({ target: 'all', seconds, seedDirs: [seeds] });
    t.diagnostic(
      `all targets: ${run.executions} executions in ${run.seconds.toFixed(1)} s, cov ${run.coverage}`,
    );
    assert.equal(
      run.crashInput,
      undefined,
      `fuzzing found a crash; reproducer at ${run.crashInput}\n${run.outputTail}`,
    );
    assert.equal(run.exitCode, 0, run.outputTail);
    assert.ok(run.executions > 100, `too few executions:\n${run.outputTail}`);
  } finally {
    rmSync(seeds, { recursive: true, force: true });
  }
});
