import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { presignUrl, rfc3986 } from '../test/helpers/signer.ts';
class Sha256 { h: any; constructor(s?: any) { this.h = s === undefined ? createHash('sha256') : createHmac('sha256', s); } update(d: any) { this.h.update(d); } async digest() { return new Uint8Array(this.h.digest()); } }
const smithy = new SignatureV4({ service: 's3', region: 'eu-west-3', sha256: Sha256 as any, uriEscapePath: false, credentials: { accessKeyId: 'AK', secretAccessKey: 'SK' } });
const date = new Date(Date.UTC(2025, 5, 6, 7, 8, 9));
const theirs = await smithy.presign({ method: 'GET', protocol: 'http:', hostname: 'localhost', port: 9000, path: '/b/k', query: { 'response-content-type': 'text/plain; a=b' }, headers: { host: 'localhost:9000', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } } as any, { signingDate: date, expiresIn: 900 });
console.log(theirs.query, theirs.headers);
console.log(presignUrl({ method: 'GET', url: `http://localhost:9000/b/k?response-content-type=${rfc3986('text/plain; a=b')}&X-Amz-Content-Sha256=UNSIGNED-PAYLOAD`, accessKey: 'AK', secretKey: 'SK', region: 'eu-west-3', date, expires: 900 }));
