// The export format and the streaming reader under it, without a server.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { MetadataStore } from '../../lib/metadata/sqlite.ts';
import { exportMetadata } from '../../lib/metadata/export.ts';
import { importMetadata, ImportError, JsonFormatError } from '../../lib/metadata/import.ts';
import { SectionReader } from '../../lib/metadata/json-sections.ts';
import { sortKeys } from '../../lib/metadata/export-format.ts';
import { createKey } from '../../lib/metadata/credentials.ts';
import { objectRecord } from '../../lib/metadata/commands.ts';
import { progressLine } from '../../lib/admin/progress.ts';
import type { Acl, ObjectRow } from '../../lib/metadata/types.ts';

const NOW = new Date('2026-02-25T14:30:45.000Z');

async function withStores(fn: (open: () => MetadataStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-meta-'));
  const opened: MetadataStore[] = [];
  try {
    await fn(() => {
      const s = new MetadataStore({ path: path.join(dir, `${opened.length}.db`), durability: 'off' });
      opened.push(s);
      return s;
    });
  } finally {
    for (const s of opened) s.close();
    await rm(dir, { recursive: true, force: true });
  }
}

function acl(ownerId: string): Acl {
  return {
    owner: { id: ownerId, display_name: 'alice' },
    grants: [
      { grantee: { type: 'CanonicalUser', id: ownerId, display_name: 'alice' }, permission: 'FULL_CONTROL' },
      { grantee: { type: 'Group', uri: 'http://acs.amazonaws.com/groups/global/AllUsers' }, permission: 'READ' },
    ],
  };
}

function object(bucket: string, key: string, i: number): ObjectRow {
  return {
    bucket,
    key,
    fileId: i.toString(16).padStart(32, '0'),
    size: i,
    etag: `"${'ab'.repeat(16)}"`,
    contentType: 'text/plain',
    contentEncoding: null,
    contentLanguage: i % 2 ? 'en' : null,
    contentDisposition: null,
    cacheControl: null,
    expires: null,
    storageClass: 'STANDARD',
    acl: acl('a'.repeat(64)),
    userMetadata: { author: 'John' },
    lastModified: NOW.toISOString(),
    checksum: i % 3 ? null : { algorithm: 'CRC32', value: 'AAAAAA==', type: 'FULL_OBJECT' },
    partsCount: i % 5 ? null : 3,
    inline: null,
    ownerId: 'a'.repeat(64),
    ownerDisplay: 'alice',
  };
}

async function fill(store: MetadataStore, objects: number): Promise<void> {
  for (const name of ['alpha', 'beta']) {
    await store.submit({
      type: 'bucket.create',
      bucket: {
        name,
        region: 'us-east-1',
        ownerId: 'a'.repeat(64),
        ownerDisplay: 'alice',
        acl: acl('a'.repeat(64)),
        createdAt: NOW.toISOString(),
      },
    });
  }
  const puts = [];
  for (let i = 1; i <= objects; i++)
    puts.push(
      store.submit({
        type: 'object.put',
        object: objectRecord(object(i % 2 ? 'alpha' : 'beta', `dir/key-${i} ünï`, i)),
        at: NOW.toISOString(),
      }),
    );
  await Promise.all(puts);
  await store.submit({
    type: 'upload.create',
    upload: {
      uploadId: 'up-1',
      bucket: 'alpha',
      key: 'big',
      contentType: 'application/octet-stream',
      contentEncoding: null,
      contentLanguage: null,
      contentDisposition: null,
      cacheControl: null,
      expires: null,
      storageClass: 'STANDARD',
      acl: acl('a'.repeat(64)),
      userMetadata: { k: 'v' },
      ownerId: 'a'.repeat(64),
      ownerDisplay: 'alice',
      initiatedAt: NOW.toISOString(),
      checksumAlgorithm: null,
      checksumType: null,
    },
  });
  await store.submit({
    type: 'upload.part',
    uploadId: 'up-1',
    at: NOW.toISOString(),
    part: {
      partNumber: 1,
      fileId: 'f'.repeat(32),
      size: 5,
      etag: '"x"',
      lastModified: NOW.toISOString(),
      checksumValue: null,
    },
  });
  await createKey(store, { displayName: 'alice', accessKeyId: 'alice-key' });
  await store.submit({
    type: 'bucket.notifications',
    name: 'alpha',
    rules: [
      {
        id: 'jpgs',
        kind: 'Queue',
        arn: 'arn:bleepstore:sqs:us-east-1::orders',
        target: 'orders',
        events: ['s3:ObjectCreated:*'],
        prefix: 'photos/',
        suffix: '.jpg',
      },
    ],
  });
}

async function exportText(store: MetadataStore, opts: Parameters<typeof exportMetadata>[2] = {}): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await exportMetadata(store, out, { now: NOW, ...opts });
  return Buffer.concat(chunks).toString('utf8');
}

async function* chunksOf(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

describe('metadata export format', () => {
  test('the export is the sorted, 2-space-indented JSON document the spec describes', async () => {
    await withStores(async (open) => {
      const store = open();
      await fill(store, 3);
      const text = await exportText(store);
      const doc = JSON.parse(text) as Record<string, unknown>;
      assert.equal(text, JSON.stringify(sortKeys(doc), null, 2) + '\n');
      assert.deepEqual(Object.keys(doc), [
        'bleepstore_export',
        'bucket_notifications',
        'buckets',
        'credentials',
        'multipart_parts',
        'multipart_uploads',
        'object_versions',
        'objects',
      ]);
      assert.deepEqual(doc.bleepstore_export, {
        exported_at: NOW.toISOString(),
        schema_version: 1,
        source: 'typescript/0.1.0',
        version: 1,
      });
      const obj = (doc.objects as Array<Record<string, unknown>>)[0]!;
      assert.equal(obj.delete_marker, false);
      assert.deepEqual(obj.user_metadata, { 'x-amz-meta-author': 'John' });
      assert.equal(obj.content_encoding, null);
      assert.equal(typeof obj.acl, 'object');
      assert.match(String((obj.x_bleepstore as Record<string, string>).file_id), /^[0-9a-f]{32}$/);
      const cred = (doc.credentials as Array<Record<string, unknown>>)[0]!;
      assert.equal(cred.secret_key, 'REDACTED');
      assert.equal(cred.active, true);
    });
  });

  test('an empty store exports empty arrays, and --tables leaves the other sections out', async () => {
    await withStores(async (open) => {
      const store = open();
      assert.deepEqual(JSON.parse(await exportText(store)).objects, []);
      const partial = JSON.parse(await exportText(store, { tables: ['buckets'] })) as object;
      assert.deepEqual(Object.keys(partial), ['bleepstore_export', 'buckets']);
    });
  });

  test('export then import into an empty store gives an identical export, extension columns and notification rules included', async () => {
    await withStores(async (open) => {
      const source = open();
      await fill(source, 2500);
      const progress: number[] = [];
      const text = await exportText(source, { includeCredentials: true, onProgress: (n) => progress.push(n) });
      assert.deepEqual(progress, [1000, 2000, 2506]);
      assert.equal((JSON.parse(text) as { bucket_notifications: unknown[] }).bucket_notifications.length, 1);
      const target = open();
      const report = await importMetadata(target, () => chunksOf(text, 4096), { mode: 'merge' });
      assert.deepEqual(report.imported, {
        buckets: 2,
        objects: 2500,
        multipart_uploads: 1,
        multipart_parts: 1,
        credentials: 1,
        bucket_notifications: 1,
      });
      assert.equal(await exportText(target, { includeCredentials: true }), text);
      assert.deepEqual(target.notificationRules('alpha'), source.notificationRules('alpha'));
      assert.equal(target.notificationRules('beta'), undefined);
      assert.deepEqual(target.getObject('alpha', 'dir/key-9 ünï')?.checksum, {
        algorithm: 'CRC32',
        value: 'AAAAAA==',
        type: 'FULL_OBJECT',
      });
    });
  });

  test('the reader gives the same records and lines whatever the chunk size', async () => {
    const text =
      '{\n  "a": [\n    {"x": "}\\"]"},\n    {\n      "y": [1, 2]\n    }\n  ],\n  "b": {"v": 1},\n  "c": []\n}\n';
    const expected: string[] = [];
    for (const size of [1, 2, 3, 7, 1000]) {
      const seen: string[] = [];
      const reader = new SectionReader({
        begin: (s, line, isArray) => seen.push(`begin ${s} ${line} ${isArray}`),
        item: (s, v, line) => seen.push(`item ${s} ${line} ${JSON.stringify(v)}`),
        value: (s, v, line) => seen.push(`value ${s} ${line} ${JSON.stringify(v)}`),
      });
      for (let i = 0; i < text.length; i += size) reader.push(text.slice(i, i + size));
      reader.end();
      if (!expected.length) expected.push(...seen);
      assert.deepEqual(seen, expected, `chunk size ${size}`);
    }
    assert.deepEqual(expected, [
      'begin a 2 true',
      'item a 3 {"x":"}\\"]"}',
      'item a 4 {"y":[1,2]}',
      'begin b 8 false',
      'value b 8 {"v":1}',
      'begin c 9 true',
    ]);
  });

  test('the reader names the line of every syntax error', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['[]', 1, /expected '\{'/],
      ['{\n "a": [\n {"x": 1,}\n ]\n}', 3, /invalid JSON/],
      ['{\n "a": [\n {"x":\n 1\n "y": 2}\n ]\n}', 5, /invalid JSON/],
      ['{\n "a": [\n {},\n ]\n}', 4, /expected a record/],
      ['{\n "a": [\n {}\n ],\n}', 5, /expected a section name/],
      ['{\n "a": []\n}\n x', 4, /nothing after the closing brace/],
      ['{\n "a": [\n {}', 3, /ends early/],
      ['{\n "a": [],\n "a": []\n}', 3, /appears twice/],
    ];
    for (const [text, line, message] of cases) {
      const reader = new SectionReader({ begin() {}, item() {}, value() {} });
      assert.throws(
        () => {
          reader.push(text);
          reader.end();
        },
        (err: unknown) => err instanceof JsonFormatError && err.line === line && message.test(err.message),
        JSON.stringify(text),
      );
    }
  });

  test('a record that is valid JSON but not a valid record fails on its line, and nothing is imported', async () => {
    await withStores(async (open) => {
      const source = open();
      await fill(source, 4);
      const text = await exportText(source);
      const lines = text.split('\n');
      const sizeLine = lines.findIndex((l) => l.includes('"size": 3'));
      const bad = [...lines.slice(0, sizeLine), lines[sizeLine]!.replace('3', '-3'), ...lines.slice(sizeLine + 1)].join(
        '\n',
      );
      const target = open();
      await fill(target, 1);
      const before = await exportText(target);
      await assert.rejects(
        importMetadata(target, () => chunksOf(bad, 100), { mode: 'replace' }),
        (err: unknown) => {
          assert.ok(err instanceof JsonFormatError);
          const recordStart = lines.slice(0, sizeLine).lastIndexOf('    {') + 1;
          assert.equal(err.line, recordStart, err.message);
          assert.match(err.message, /"size" must be a non-negative integer/);
          return true;
        },
      );
      assert.equal(await exportText(target), before);
      const noEnvelope = '{\n  "buckets": []\n}\n';
      await assert.rejects(
        importMetadata(target, () => chunksOf(noEnvelope, 100), { mode: 'merge' }),
        ImportError,
      );
      const partialReplace = '{\n  "bleepstore_export": {"version": 1},\n  "buckets": []\n}\n';
      await assert.rejects(
        importMetadata(target, () => chunksOf(partialReplace, 100), { mode: 'replace' }),
        /would empty objects and multipart_uploads/,
      );
      const badRules =
        '{\n  "bleepstore_export": {"version": 1},\n  "bucket_notifications": [{"bucket": "alpha", "rules": "nope"}]\n}\n';
      await assert.rejects(
        importMetadata(target, () => chunksOf(badRules, 100), { mode: 'merge' }),
        /"rules" must be an array of notification rules/,
      );
      assert.equal(await exportText(target), before);
    });
  });

  test('the progress line is rewritten in place on a terminal and printed line by line elsewhere', () => {
    const written: string[] = [];
    const fake = (isTTY: boolean) =>
      ({ isTTY, write: (s: string) => written.push(s) }) as unknown as NodeJS.WriteStream;
    const pipe = progressLine('meta export', fake(false), 0);
    pipe.update('1000 records written');
    pipe.done('exported 2 buckets');
    assert.deepEqual(written.splice(0), ['meta export: 1000 records written\n', 'meta export: exported 2 buckets\n']);
    const tty = progressLine('meta export', fake(true), 0);
    tty.update('1000 records written');
    tty.done('exported 2 buckets');
    assert.deepEqual(written, [
      '\r\x1b[2Kmeta export: 1000 records written',
      '\r\x1b[2Kmeta export: exported 2 buckets\n',
    ]);
  });
});
