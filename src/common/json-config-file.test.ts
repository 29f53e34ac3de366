import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadJsonConfig, saveJsonConfig, saveJsonConfigAsync } from './json-config-file.js';

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-json-'));
}

test('save then load round-trips and keeps the previous content as .bak', () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'sub', 'topics.json');
    assert.deepEqual(loadJsonConfig(file, { none: true }), { none: true });
    saveJsonConfig(file, { v: 1 });
    assert.deepEqual(loadJsonConfig(file, null), { v: 1 });
    assert.equal(fs.existsSync(`${file}.bak`), false);
    saveJsonConfig(file, { v: 2 });
    assert.deepEqual(loadJsonConfig(file, null), { v: 2 });
    assert.deepEqual(JSON.parse(fs.readFileSync(`${file}.bak`, 'utf8')), { v: 1 });
    assert.equal(fs.existsSync(`${file}.tmp`), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('load falls back to .bak when the main file is corrupt, empty or missing', () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'consumerOffset.json');
    saveJsonConfig(file, { a: 1 });
    saveJsonConfig(file, { a: 2 });
    const warnings: string[] = [];
    const warn = (m: string): void => void warnings.push(m);
    fs.writeFileSync(file, '{"a": 2, trunc');
    assert.deepEqual(loadJsonConfig(file, null, warn), { a: 1 });
    fs.writeFileSync(file, '');
    assert.deepEqual(loadJsonConfig(file, null, warn), { a: 1 });
    fs.unlinkSync(file);
    assert.deepEqual(loadJsonConfig(file, null, warn), { a: 1 });
    assert.equal(warnings.length, 3);
    assert.match(warnings[0], /corrupt/);
    fs.writeFileSync(`${file}.bak`, 'nope');
    assert.deepEqual(loadJsonConfig(file, 'fb', warn), 'fb');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('async saves are serialized and the last one wins', async () => {
  const dir = tmpDir();
  try {
    const file = path.join(dir, 'x.json');
    await Promise.all([1, 2, 3, 4, 5].map((v) => saveJsonConfigAsync(file, { v })));
    assert.deepEqual(loadJsonConfig(file, null), { v: 5 });
    assert.deepEqual(loadJsonConfig(`${file}.bak`, null), { v: 4 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
