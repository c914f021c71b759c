// The cluster port's batch body (lib/cluster/wire-batch.ts): raw payloads, the older JSON
// form still read, and bounds checked on every length.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { encodeMessage, message, type Message } from '../../lib/cluster/raft/index.ts';
import { decodeBatch, encodeBatch, messageFrame, WireError } from '../../lib/cluster/wire-batch.ts';

const big = new Uint8Array(randomBytes(70_000));
const msgs: Message[] = [
  message('MsgApp', {
    from: 1,
    to: 2,
    term: 3,
    index: 9,
    logTerm: 2,
    commit: 8,
    entries: [
      { term: 3, index: 10, type: 'normal', data: big },
      { term: 3, index: 11, type: 'confChange', data: new Uint8Array() },
    ],
  }),
  message('MsgHeartbeat', { from: 1, to: 2, term: 3, commit: 11, context: 'read-7' }),
  message('MsgSnap', {
    from: 1,
    to: 2,
    term: 3,
    snapshot: {
      metadata: { index: 5, term: 2, confState: { voters: [1, 2, 3], learners: [] } },
      data: big.subarray(5, 500),
    },
  }),
];

test('a batch carries messages with their entry and snapshot bytes raw, and gives them back exactly', () => {
  const body = encodeBatch(msgs.map(messageFrame));
  assert.ok(body.length < 2 * big.length + 1000, `${body.length} bytes: no base64`);
  const back = decodeBatch(body);
  assert.deepEqual(back, msgs);
  assert.ok(back[0]!.entries[0]!.data.constructor === Uint8Array, 'payloads are plain Uint8Array (API.md)');
  assert.deepEqual(decodeBatch(Buffer.alloc(0)), []);
});

test('a body in the older JSON-lines form is still read', () => {
  const old = Buffer.from(msgs.map(encodeMessage).join('\n'));
  const back = decodeBatch(old).map((m) => {
    if (m.snapshot === undefined) delete m.snapshot; // the JSON form sets the key either way
    return m;
  });
  assert.deepEqual(back, msgs);
});

test('a truncated batch, a length past the end or an unknown version is refused with WireError', () => {
  const body = encodeBatch(msgs.map(messageFrame));
  for (const cut of [2, 10, body.length - 1]) assert.throws(() => decodeBatch(body.subarray(0, cut)), WireError);
  const lying = Buffer.from(body);
  lying.writeUInt32BE(0xffffffff, 1);
  assert.throws(() => decodeBatch(lying), WireError);
  assert.throws(() => decodeBatch(Buffer.of(9, 0, 0, 0, 0)), /unknown batch version 9/);
});
