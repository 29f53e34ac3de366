import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLogger } from '../common/logger.js';
import { ConfigFile, type PersistentTable } from './config-files.js';

class Names implements PersistentTable<{ names: string[] }> {
  names: string[] = [];
  encodes = 0;
  encode(): { names: string[] } {
    this.encodes++;
    return { names: [...this.names] };
  }
  decode(json: Partial<{ names: string[] }> | undefined): void {
    this.names = json?.names ?? [];
  }
}

test('persistCoalesced: changes made while a save runs share the next save; each promise covers its change', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cfg-'));
  try {
    const table = new Names();
    const file = new ConfigFile(dir, 'names.json', table, createLogger('test'));
    file.load();
    const onDisk = (): string[] =>
      (JSON.parse(fs.readFileSync(path.join(dir, 'names.json'), 'utf8')) as { names: string[] })
        .names;
    const waits: Array<Promise<void>> = [];
    for (let i = 0; i < 200; i++) {
      table.names.push(`t${i}`);
      const p = file.persistCoalesced();
      assert.equal(file.pending, p);
      const n = i;
      waits.push(p.then(() => assert.ok(onDisk().includes(`t${n}`), `t${n} durable`)));
      if (i % 50 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(waits);
    assert.equal(onDisk().length, 200);
    assert.equal(file.pending, undefined);
    // 200 changes, a handful of saves (each save encodes twice: content check and write).
    assert.ok(table.encodes < 30, `saves coalesce (${table.encodes} encodes)`);
    await file.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A table that says when it changed. */
class VersionedNames extends Names {
  version = 0;
  add(name: string): void {
    this.names.push(name);
    this.version++;
  }
}

test('a table with a version is not encoded while its version stays put; a change is saved', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cfg-'));
  try {
    const table = new VersionedNames();
    const file = new ConfigFile(dir, 'names.json', table, createLogger('test'));
    file.load();
    const loadEncodes = table.encodes;
    for (let i = 0; i < 5; i++) await file.persistAsync();
    file.persistSync();
    assert.equal(table.encodes, loadEncodes, 'unchanged: no encode, nothing written');
    assert.equal(fs.existsSync(path.join(dir, 'names.json')), false);
    table.add('a');
    await file.persistAsync();
    const saved = JSON.parse(fs.readFileSync(path.join(dir, 'names.json'), 'utf8')) as {
      names: string[];
    };
    assert.deepEqual(saved.names, ['a']);
    const afterSave = table.encodes;
    await file.persistAsync();
    assert.equal(table.encodes, afterSave, 'saved version: skipped again');
    table.add('b');
    await file.close();
    const closed = JSON.parse(fs.readFileSync(path.join(dir, 'names.json'), 'utf8')) as {
      names: string[];
    };
    assert.deepEqual(closed.names, ['a', 'b'], 'the final save writes the last change');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
