// Request bodies for the load generator. Small bodies are one reused Buffer; large bodies are
// a 1 MiB random block repeated by a generator, so a 256 MiB PUT never holds 256 MiB. The
// SHA-256 for signed payloads is computed once, by a generation pass, and then reused.
import { createHash, randomBytes } from 'node:crypto';

export const BLOCK_SIZE = 1 << 20;

export interface Payload {
  readonly size: number;
  /** Hex SHA-256 of the whole body (computed on first use, then cached). */
  sha256(): string;
  /** The body, chunk by chunk; chunks may be the same Buffer object repeated. */
  chunks(): Iterable<Buffer>;
  /** The whole body, when it is one Buffer (sent with a single write). */
  readonly buf?: Buffer;
}

function hashOf(p: Pick<Payload, 'chunks'>): string {
  const h = createHash('sha256');
  for (const c of p.chunks()) h.update(c);
  return h.digest('hex');
}

export function bufferPayload(buf: Buffer): Payload & { readonly buf: Buffer } {
  let hash: string | undefined;
  return {
    buf,
    size: buf.length,
    sha256: () => (hash ??= hashOf({ chunks: () => [buf] })),
    *chunks() {
      yield buf;
    },
  };
}

export function repeatedPayload(block: Buffer, size: number): Payload {
  let hash: string | undefined;
  const p: Payload = {
    size,
    sha256: () => (hash ??= hashOf(p)),
    *chunks() {
      let left = size;
      while (left >= block.length) {
        yield block;
        left -= block.length;
      }
      if (left > 0) yield block.subarray(0, left);
    },
  };
  return p;
}

/** Random bytes, so nothing between client and disk can compress or deduplicate them. */
export function randomPayload(size: number): Payload & { readonly buf: Buffer } {
  return bufferPayload(randomBytes(size));
}

let sharedBlock: Buffer | undefined;
export function largePayload(size: number): Payload {
  sharedBlock ??= randomBytes(BLOCK_SIZE);
  return repeatedPayload(sharedBlock, size);
}
