// The metadata connection's memory: what the SQLite file costs the process's RSS.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PAGE_CACHE_KIB, Sql } from '../../lib/metadata/connection.ts';

test('reading the whole metadata database maps none of it into memory and caps the page cache', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-connection-'));
  const file = path.join(dir, 'metadata.db');
  const sql = new Sql(file, 'off');
  try {
    assert.equal((sql.q('PRAGMA cache_size').get() as { cache_size: number }).cache_size, -PAGE_CACHE_KIB);
    sql.exec('CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
    const insert = sql.q('INSERT INTO blobs (body) VALUES (?)');
    const body = Buffer.alloc(16 * 1024, 7);
    sql.tx(() => {
      for (let i = 0; i < 512; i++) insert.run(body);
    });
    let bytes = 0;
    for (const row of sql.q('SELECT body FROM blobs').iterate()) bytes += (row.body as Uint8Array).length;
    assert.equal(bytes, 512 * body.length);
    // Pages read through a memory map would stay in RSS as file-backed pages of metadata.db.
    if (existsSync('/proc/self/maps')) {
      const mapped = readFileSync('/proc/self/maps', 'utf8')
        .split('\n')
        .filter((line) => line.endsWith(file));
      assert.deepEqual(mapped, []);
    }
  } finally {
    sql.close();
    await rm(dir, { recursive: true, force: true });
  }
});
