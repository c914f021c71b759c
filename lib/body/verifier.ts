// The verifying core shared by both body readers: takes the body as it arrives on the wire,
// decodes aws-chunked framing, hashes every payload byte exactly once per algorithm, hands
// the payload on, and at the end checks every promise the request made about it.
import { createHash, type Hash } from 'node:crypto';
import type { PayloadMode } from '../auth/types.ts';
import { S3Error } from '../s3/errors.ts';
import { AwsChunkedDecoder } from './aws-chunked.ts';
import {
  assertValidChecksumValue,
  checksumHeaderName,
  checksumMismatch,
  createChecksummer,
  type ChecksumAlgorithm,
  type Checksummer,
} from './checksums.ts';
import type { BodySpec } from './spec.ts';
import { type OffloadedAlgorithm, OffloadedHashes } from './hash-offload.ts';

export interface VerifiedBody {
  /** Payload bytes (decoded). */
  size: number;
  /** Hex MD5 of the payload (the ETag of a single-part object); '' unless computed. */
  md5Hex: string;
  checksum?: { algorithm: ChecksumAlgorithm; base64: string };
}

export interface VerifierOptions {
  /** Compute MD5 even without Content-MD5 (object uploads need it for the ETag). */
  alwaysMd5: boolean;
  /** Payload bytes allowed; beyond it `tooLarge` is thrown. */
  maxSize?: number;
  tooLarge: () => S3Error;
  /** Hash MD5 and SHA-256 on a hashing thread (big bodies; see hash-offload.ts). */
  offload?: boolean;
}

export class BodyVerifier {
  private readonly spec: BodySpec;
  private readonly payload: PayloadMode;
  private readonly onData: (data: Buffer) => void;
  private readonly opts: VerifierOptions;
  private readonly decoder: AwsChunkedDecoder | undefined;
  /** MD5 and/or SHA-256, in this order, hashed here (`local`) or on a hashing thread. */
  private readonly algorithms: OffloadedAlgorithm[] = [];
  private readonly local: Hash[] = [];
  private readonly offloaded: OffloadedHashes | undefined;
  private readonly checksum: Checksummer | undefined;
  private wireBytes = 0;
  private size = 0;

  constructor(spec: BodySpec, payload: PayloadMode, onData: (data: Buffer) => void, opts: VerifierOptions) {
    this.spec = spec;
    this.payload = payload;
    this.onData = onData;
    this.opts = opts;
    if (spec.chunked) {
      this.decoder = new AwsChunkedDecoder(
        {
          decodedLength: spec.decodedContentLength,
          signing: payload.kind === 'streaming-signed' ? payload : undefined,
        },
        (data) => this.payloadData(data),
      );
    }
    if (opts.alwaysMd5 || spec.contentMd5) this.algorithms.push('md5');
    if (payload.kind === 'sha256' || payload.kind === 'signature-sha256') this.algorithms.push('sha256');
    if (opts.offload && this.algorithms.length) this.offloaded = new OffloadedHashes(this.algorithms);
    else for (const a of this.algorithms) this.local.push(createHash(a));
    if (spec.algorithm) this.checksum = createChecksummer(spec.algorithm);
  }

  /** Bytes of the body as received; throws S3Error as soon as something is wrong. */
  write(buf: Buffer): void {
    this.wireBytes += buf.length;
    if (this.spec.contentLength !== undefined && this.wireBytes > this.spec.contentLength) {
      throw new S3Error('IncompleteBody', 'The request body is longer than its Content-Length.');
    }
    if (this.decoder) this.decoder.write(buf);
    else this.payloadData(buf);
  }

  private payloadData(data: Buffer): void {
    this.size += data.length;
    if (this.opts.maxSize !== undefined && this.size > this.opts.maxSize) throw this.opts.tooLarge();
    for (const h of this.local) h.update(data);
    this.offloaded?.update(data);
    this.checksum?.update(data);
    this.onData(data);
  }

  /** While the hashing thread is behind: a promise to wait for before reading on. */
  backpressure(): Promise<void> | undefined {
    return this.offloaded?.backpressure();
  }

  /** The body failed: nothing more is hashed for it. */
  drop(): void {
    this.offloaded?.drop();
  }

  /** Call once the body has ended: verifies lengths, signatures, digests and checksums. */
  async finish(): Promise<VerifiedBody> {
    if (this.spec.contentLength !== undefined && this.wireBytes !== this.spec.contentLength) {
      throw new S3Error('IncompleteBody');
    }
    this.decoder?.end();
    const digests = this.offloaded ? await this.offloaded.digests() : this.local.map((h) => h.digest());
    const of = (a: OffloadedAlgorithm) => {
      const i = this.algorithms.indexOf(a);
      return i < 0 ? undefined : Buffer.from(digests[i]!);
    };
    const md5 = of('md5');
    const computed = of('sha256')?.toString('hex');
    const result: VerifiedBody = { size: this.size, md5Hex: '' };
    if (computed !== undefined && this.payload.kind === 'signature-sha256') this.payload.verify(computed);
    if (computed !== undefined && this.payload.kind === 'sha256') {
      if (computed !== this.payload.hex) {
        throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
          ClientComputedContentSHA256: this.payload.hex,
          S3ComputedContentSHA256: computed,
        });
      }
    }
    if (md5) {
      if (this.spec.contentMd5 && !md5.equals(this.spec.contentMd5)) {
        throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
          ExpectedDigest: this.spec.contentMd5.toString('base64'),
          CalculatedDigest: md5.toString('base64'),
        });
      }
      result.md5Hex = md5.toString('hex');
    }
    if (this.checksum) {
      const base64 = this.checksum.digest().toString('base64');
      const algorithm = this.checksum.algorithm;
      const expected = this.spec.headerChecksum?.base64 ?? this.trailerValue();
      if (expected !== undefined && expected !== base64) throw checksumMismatch(algorithm);
      result.checksum = { algorithm, base64 };
    }
    this.checkUndeclaredTrailers();
    return result;
  }

  /** The promised checksum from the trailer, validated; undefined when none was promised. */
  private trailerValue(): string | undefined {
    const algorithm = this.spec.trailerChecksum;
    if (!algorithm) return undefined;
    const name = checksumHeaderName(algorithm);
    const value = this.decoder?.trailers.find(([n]) => n === name)?.[1];
    if (value === undefined) {
      throw new S3Error('InvalidRequest', `The ${name} trailing header was declared in x-amz-trailer but not sent.`);
    }
    assertValidChecksumValue(algorithm, value, 'trailing header');
    return value;
  }

  private checkUndeclaredTrailers(): void {
    const declared = this.spec.trailerChecksum && checksumHeaderName(this.spec.trailerChecksum);
    for (const [name] of this.decoder?.trailers ?? []) {
      if (name !== declared)
        throw new S3Error('InvalidRequest', `The trailing header ${name} was not declared in x-amz-trailer.`);
    }
  }
}
