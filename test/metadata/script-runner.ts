// Data-driven tests for apply(): a script is a list of blocks, each a directive line, its
// input lines, a `----` line, and the expected output up to the next blank line.
//
//   submit          each input line is one command (JSON); all are submitted in the same
//                   turn, so they share one transaction: prints each result or error, then
//                   the changes the feed saw after COMMIT
//   state TABLE...  the tables' rows as `meta export` records, one per line
//   stats           bucket_stats rows (the counters), then the totals /metrics reads
//   gc              pending blob removals (gc_files)
//
// Commands may leave out fields that do not matter to a script; expand() fills them with
// fixed values, so the scripts stay short and every run is the same.
// REWRITE=1 writes the actual output back into the script instead of comparing.
import { readFile, writeFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { MetadataStore, type Change } from '../../lib/metadata/sqlite.ts';
import { exportMetadata } from '../../lib/metadata/export.ts';
import type { Command } from '../../lib/metadata/commands.ts';
import type { TableName } from '../../lib/metadata/export-format.ts';

export const T0 = '2026-01-01T00:00:00.000Z';
const OWNER = { id: 'o'.repeat(64), display_name: 'owner' };
const ACL = {
  owner: OWNER,
  grants: [
    { grantee: { type: 'CanonicalUser', id: OWNER.id, display_name: OWNER.display_name }, permission: 'FULL_CONTROL' },
  ],
};
const CONTENT = {
  contentType: 'application/octet-stream',
  contentEncoding: null,
  contentLanguage: null,
  contentDisposition: null,
  cacheControl: null,
  expires: null,
  storageClass: 'STANDARD',
  acl: ACL,
  userMetadata: {},
};

type Json = Record<string, unknown>;

/** Fills the fields a script left out with fixed values. */
export function expand(raw: Json): Command {
  const c: Json = { ...raw };
  const needsAt = [
    'object.put',
    'object.delete',
    'objects.delete',
    'upload.part',
    'upload.abort',
    'upload.complete',
    'uploads.reap',
    'credential.seed',
    'credential.create',
    'import.clear',
    'store.reset',
  ];
  if (needsAt.includes(c.type as string)) c.at ??= T0;
  if (c.type === 'bucket.create')
    c.bucket = {
      region: 'us-east-1',
      ownerId: OWNER.id,
      ownerDisplay: OWNER.display_name,
      acl: ACL,
      createdAt: T0,
      ...(c.bucket as Json),
    };
  if (c.type === 'bucket.acl' || c.type === 'object.acl') c.acl ??= ACL;
  if (c.type === 'object.put' || c.type === 'upload.complete') {
    const o = c.object as Json;
    c.object = {
      ...CONTENT,
      fileId: '',
      size: 0,
      etag: '"d41d8cd98f00b204e9800998ecf8427e"',
      lastModified: T0,
      checksum: null,
      partsCount: null,
      inline: null,
      ownerId: OWNER.id,
      ownerDisplay: OWNER.display_name,
      ...o,
    };
    if (o.inline === undefined && (c.object as Json).fileId === '') (c.object as Json).inline = '';
  }
  if (c.type === 'upload.create') {
    c.upload = {
      ...CONTENT,
      ownerId: OWNER.id,
      ownerDisplay: OWNER.display_name,
      initiatedAt: T0,
      checksumAlgorithm: null,
      checksumType: null,
      ...(c.upload as Json),
    };
  }
  if (c.type === 'upload.part')
    c.part = { size: 5, etag: '"p"', lastModified: T0, checksumValue: null, ...(c.part as Json) };
  return c as unknown as Command;
}

function describe(err: unknown): string {
  const e = err as Error & { reason?: string };
  return `error ${e.name === 'Error' ? e.constructor.name : e.name}${e.reason ? `(${e.reason})` : ''}: ${e.message}`;
}

async function records(store: MetadataStore, tables: TableName[]): Promise<string[]> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await exportMetadata(store, out, { tables, includeCredentials: true, now: new Date(T0) });
  const doc = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, Json[]>;
  return tables.flatMap((t) => doc[t]!.map((r) => `${t} ${JSON.stringify(r)}`));
}

async function run(store: MetadataStore, directive: string, input: string[], seen: Change[][]): Promise<string[]> {
  const [verb, ...args] = directive.split(/\s+/);
  switch (verb) {
    case 'submit': {
      seen.length = 0;
      const settled = await Promise.allSettled(input.map((line) => store.submit(expand(JSON.parse(line) as Json))));
      const lines = settled.map((s) =>
        s.status === 'fulfilled' ? `ok ${JSON.stringify(s.value)}` : describe(s.reason),
      );
      for (const batch of seen) for (const c of batch) lines.push(`change ${JSON.stringify(c)}`);
      return lines;
    }
    case 'state':
      return records(store, args as TableName[]);
    case 'stats': {
      const s = store.stats();
      return [
        ...store.bucketStats().map((r) => `${r.bucket} objects=${r.objects} bytes=${r.bytes}`),
        `total buckets=${s.buckets} objects=${s.objects} bytes=${s.bytes}`,
      ];
    }
    case 'gc':
      return store.pendingGc().map((id) => `pending ${id}`);
  }
  throw new Error(`unknown directive "${directive}"`);
}

interface Block {
  directive: string;
  input: string[];
  expected: string[];
  comments: string[];
}

function parse(text: string): Block[] {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  let comments: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith('#') || line.trim() === '') {
      if (line.startsWith('#')) comments.push(line);
      continue;
    }
    const block: Block = { directive: line, input: [], expected: [], comments };
    comments = [];
    for (i++; i < lines.length && lines[i] !== '----'; i++) block.input.push(lines[i]!);
    for (i++; i < lines.length && lines[i]!.trim() !== ''; i++) block.expected.push(lines[i]!);
    blocks.push(block);
  }
  return blocks;
}

function render(blocks: Block[], outputs: string[][]): string {
  return (
    blocks.map((b, i) => [...b.comments, b.directive, ...b.input, '----', ...outputs[i]!].join('\n')).join('\n\n') +
    '\n'
  );
}

/** Runs a script on an empty in-memory store; returns [expected text, actual text]. */
export async function runScript(file: string): Promise<{ expected: string; actual: string }> {
  const text = await readFile(file, 'utf8');
  const blocks = parse(text);
  const store = new MetadataStore({ path: ':memory:', durability: 'off' });
  const seen: Change[][] = [];
  store.subscribe((changes) => void seen.push([...changes]));
  const outputs: string[][] = [];
  try {
    for (const b of blocks) outputs.push(await run(store, b.directive, b.input, seen));
  } finally {
    store.close();
  }
  const actual = render(blocks, outputs);
  if (process.env.REWRITE === '1') {
    await writeFile(file, actual);
    return { expected: actual, actual };
  }
  return {
    expected: render(
      blocks,
      blocks.map((b) => b.expected),
    ),
    actual,
  };
}
