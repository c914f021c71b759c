import { S3Client, PutObjectCommand, GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { authenticate } from '/work/main/lib/auth/sigv4/index.ts';
import { ingest, readSmallBody } from '/work/main/lib/body/ingest.ts';
let captured: any;
const client = new S3Client({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true, credentials: { accessKeyId: 'AKID', secretAccessKey: 'SECRET' }, maxAttempts: 1,
  requestHandler: { handle: async (req: any) => { captured = req; return { response: { statusCode: 200, headers: {}, body: Readable.from([]) } }; } } as any });
const cred = { accessKeyId: 'AKID', secretKey: 'SECRET', ownerId: 'o', displayName: 'd' };
const lookup = (id: string) => (id === 'AKID' ? cred : undefined);
function q(query: Record<string, any>) { const parts: string[] = []; for (const k of Object.keys(query)) { const v = query[k]; const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, c => '%' + c.charCodeAt(0).toString(16).toUpperCase()); if (Array.isArray(v)) for (const x of v) parts.push(enc(k) + '=' + enc(x)); else if (v === null || v === undefined) parts.push(enc(k)); else parts.push(enc(k) + '=' + enc(v)); } return parts.join('&'); }
for (const key of ['a b', 'ünï/cødé', 'a+b=c', "!*'()", '100%', 'x//y/./z/../w', '~-_.', 'é?#&;:@$,[]']) {
  await client.send(new GetObjectCommand({ Bucket: 'bkt', Key: key })).catch(e => console.log('send err', e.message));
  const headers = Object.fromEntries(Object.entries(captured.headers).map(([k, v]) => [k.toLowerCase(), v]));
  try { const r = authenticate({ method: captured.method, rawPath: captured.path, rawQuery: q(captured.query), headers }, lookup, { region: 'us-east-1', now: Date.now() }); console.log(JSON.stringify(key), captured.path, 'OK'); } catch (e: any) { console.log(JSON.stringify(key), captured.path, 'FAIL', e.code, e.message); }
}
await client.send(new ListObjectsV2Command({ Bucket: 'bkt', Prefix: 'a b+c/ü', Delimiter: '/', StartAfter: "x!'*" })).catch(e => console.log('send err', e.message));
{ const headers = Object.fromEntries(Object.entries(captured.headers).map(([k, v]) => [k.toLowerCase(), v]));
  try { authenticate({ method: captured.method, rawPath: captured.path, rawQuery: q(captured.query), headers }, lookup, { region: 'us-east-1', now: Date.now() }); console.log('list', q(captured.query), 'OK'); } catch (e: any) { console.log('list FAIL', e.code, e.message); } }
const data = Buffer.alloc(200000, 7);
await client.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: Readable.from([data.subarray(0, 70000), data.subarray(70000)]), ContentLength: data.length })).catch(e => console.log('send err', e.message));
console.log(captured.headers);
const headers = Object.fromEntries(Object.entries(captured.headers).map(([k, v]) => [k.toLowerCase(), v])) as any;
const auth = authenticate({ method: captured.method, rawPath: captured.path, rawQuery: q(captured.query), headers }, lookup, { region: 'us-east-1', now: Date.now() });
console.log(auth.payload);
const bodyChunks: Buffer[] = []; for await (const c of captured.body) bodyChunks.push(Buffer.from(c));
const wire = Buffer.concat(bodyChunks); console.log(JSON.stringify(wire.subarray(wire.length - 60).toString('latin1')));
const r = await ingest(Readable.from([wire]), { tmpPath: '/tmp/bs/out-' + Date.now(), payload: auth.payload, headers });
console.log(r);
