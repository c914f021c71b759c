// A dispatcher that keeps up is handed each commit's events in memory instead of reading the
// outbox table back (lib/events/dispatcher.ts, Loop.memory): the real metadata store, the real
// dispatcher and a webhook target posting to a real HTTP server on loopback. The table stays
// the record: after a failed publish the loop reads it again, and nothing is lost or reordered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Dispatcher, type OutboxPort } from '../../lib/events/dispatcher.ts';
import { WebhookTarget } from '../../lib/events/targets/webhook.ts';
import { MetadataStore } from '../../lib/metadata/sqlite.ts';
import { ownerOnly as acl, stamp } from '../helpers/event-stamp.ts';

interface Receiver {
  server: Server;
  url: string;
  /** Event ids in the order they arrived. */
  ids: string[];
  /** While true, every POST gets 500. */
  failing: boolean;
  /** Called for each POST answered 500. */
  onFailed: () => void;
}

async function receiver(): Promise<Receiver> {
  const r: Receiver = { server: createServer(), url: '', ids: [], failing: false, onFailed: () => {} };
  r.server.on('request', (req, res) => {
    req.resume();
    req.on('end', () => {
      if (r.failing) {
        r.onFailed();
        res.writeHead(500).end();
        return;
      }
      r.ids.push(String(req.headers['x-bleepstore-event-id']));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/hook`;
  return r;
}

async function until(ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

function idOf(seq: number): string {
  return `evt_${seq.toString(16).padStart(16, '0')}`;
}

test('a dispatcher that keeps up publishes each commit from memory, and reads the table again after a failed publish', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-dispatch-memory-'));
  const hook = await receiver();
  const store = new MetadataStore({ path: path.join(dir, 'm.db'), durability: 'full', eventTargets: ['hook'] });
  const port = store.outbox();
  let reads = 0;
  const counted: OutboxPort = {
    ...port,
    pending: (target, limit) => {
      reads++;
      return port.pending(target, limit);
    },
  };
  const dispatcher = new Dispatcher(
    counted,
    [new WebhookTarget({ name: 'hook', format: 'bleepstore', url: hook.url, secret: 's', timeoutMs: 2000 })],
    {
      source: 'test',
      batchSize: 8,
      maxPending: 100_000,
      minBackoffMs: 20,
      maxBackoffMs: 50,
      pollMs: 60_000,
      lingerMs: 0,
      deleteDelayMs: 0,
    },
  );
  const commit = (n: number, from: number) =>
    Promise.all(
      Array.from({ length: n }, (_, i) =>
        store.submit({
          type: 'bucket.create',
          bucket: {
            name: `b${from + i}`,
            region: 'us-east-1',
            ownerId: 'o',
            ownerDisplay: 'o',
            acl,
            createdAt: stamp.at,
          },
          event: stamp,
        }),
      ),
    );
  const unsubscribe = store.subscribe(() => dispatcher.kick());
  try {
    await commit(3, 0);
    dispatcher.start();
    await until(() => hook.ids.length === 3);
    const first = reads;
    // 40 group commits of 5 while the loop keeps up: handed over, not read back.
    for (let g = 0; g < 40; g++) {
      await commit(5, 3 + g * 5);
      if (g % 2) await until(() => hook.ids.length === 8 + g * 5);
    }
    await until(() => hook.ids.length === 203);
    assert.ok(reads - first <= 2, `reads of the outbox table while keeping up: ${reads - first}`);
    // A failed publish: the loop goes back to the table, which still holds every event.
    // Reads counted when the last publish failed: delivering after it takes a read.
    let readsAtFailure = -1;
    hook.onFailed = () => {
      readsAtFailure = reads;
    };
    hook.failing = true;
    await commit(6, 203);
    await until(() => readsAtFailure >= 0);
    await new Promise((r) => setTimeout(r, 150));
    hook.failing = false;
    await until(() => hook.ids.length === 209);
    assert.ok(reads > readsAtFailure, 'read the table after the failure');
    assert.deepEqual(
      hook.ids,
      Array.from({ length: 209 }, (_, i) => idOf(i + 1)),
      'every event once, in commit order',
    );
    await until(() => port.depth('hook').rows === 0);
  } finally {
    unsubscribe();
    await dispatcher.stop();
    store.close();
    hook.server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
