// Runs a command through the real @aws-sdk/client-s3 with a request handler that records
// the HTTP request instead of sending it, and turns it into what the server would see.
import { S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { AuthRequest } from '../../lib/auth/types.ts';
import { rfc3986 } from './signer.ts';

export const SDK_CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};

interface CapturedHttpRequest {
  method: string;
  path: string;
  query: Record<string, string | string[] | null | undefined>;
  headers: Record<string, string>;
  body?: unknown;
}

export interface CapturedRequest {
  auth: AuthRequest;
  headers: Record<string, string>;
  /** The body exactly as it would go on the wire. */
  body: Buffer;
}

function rawQueryOf(query: CapturedHttpRequest['query']): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    const value = query[key];
    if (Array.isArray(value)) for (const v of value) parts.push(`${rfc3986(key)}=${rfc3986(v)}`);
    else if (value === null || value === undefined) parts.push(rfc3986(key));
    else parts.push(`${rfc3986(key)}=${rfc3986(value)}`);
  }
  return parts.join('&');
}

async function bodyBytes(body: unknown): Promise<Buffer> {
  if (body === undefined || body === null) return Buffer.alloc(0);
  if (typeof body === 'string' || body instanceof Uint8Array) return Buffer.from(body);
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array | string>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

/** Sends `command` (any S3 command) with a capturing client and returns the request it produced. */
export async function captureSdkRequest(command: object, region = 'us-east-1'): Promise<CapturedRequest> {
  let captured: CapturedHttpRequest | undefined;
  let body: Buffer | undefined;
  const client = new S3Client({
    region,
    endpoint: 'http://127.0.0.1:9000',
    forcePathStyle: true,
    credentials: SDK_CREDENTIALS,
    maxAttempts: 1,
    requestHandler: {
      handle: async (req: CapturedHttpRequest) => {
        captured = req;
        body = await bodyBytes(req.body);
        return { response: { statusCode: 200, headers: {}, body: Readable.from([]) } };
      },
    } as never,
  });
  await client.send(command as Parameters<S3Client['send']>[0]).catch(() => {});
  client.destroy();
  if (!captured) throw new Error('the SDK sent no request');
  const headers = Object.fromEntries(Object.entries(captured.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  return {
    auth: { method: captured.method, rawPath: captured.path, rawQuery: rawQueryOf(captured.query), headers },
    headers,
    body: body ?? Buffer.alloc(0),
  };
}
