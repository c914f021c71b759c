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
  /** Hash MD5 and SHA-256 on a hashing thread (big bodies; see hash-offload.ts). The result
   *  then comes from finish(), not end(). */
  offload?: boolean;
}

export class BodyVerifier {
  private readonly spec: BodySpec;
  private readonly payload: PayloadMode;
  private readonly onData: (data: Buffer) => void;
  private readonly opts: VerifierOptions;
  private readonly decoder: AwsChunkedDecoder | undefined;
  private readonly md5: Hash | undefined;
  private readonly sha256: Hash | undefined;
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
    const algorithms: OffloadedAlgorithm[] = [];
    if (opts.alwaysMd5 || spec.contentMd5) algorithms.push('md5');
    if (payload.kind === 'sha256' || payload.kind === 'signature-sha256') algorithms.push('sha256');
    if (opts.offload && algorithms.length) this.offloaded = new OffloadedHashes(algorithms);
    else {
      if (algorithms.includes('md5')) this.md5 = createHash('md5');
      if (algorithms.includes('sha256')) this.sha256 = createHash('sha256');
    }
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
    this.md5?.update(data);
    this.sha256?.update(data);
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
  end(): VerifiedBody {
    if (this.offloaded) throw new Error('an offloaded body ends with finish()');
    this.endFraming();
    return this.check(this.md5?.digest(), this.sha256?.digest('hex'));
  }

  /** end() for any body, offloaded or not. */
  async finish(): Promise<VerifiedBody> {
    if (!this.offloaded) return this.end();
    this.endFraming();
    const digests = await this.offloaded.digests();
    const of = (a: OffloadedAlgorithm) => {
      const i = this.offloaded!.algorithms.indexOf(a);
      return i < 0 ? undefined : Buffer.from(digests[i]!);
    };
    return this.check(of('md5'), of('sha256')?.toString('hex'));
  }

  private endFraming(): void {
    if (this.spec.contentLength !== undefined && this.wireBytes !== this.spec.contentLength) {
      throw new S3Error('IncompleteBody');
    }
    this.decoder?.end();
  }

  private check(md5: Buffer | undefined, sha256Hex: string | undefined): VerifiedBody {
    const result: VerifiedBody = { size: this.size, md5Hex: '' };
    if (sha256Hex !== undefined && this.payload.kind === 'signature-sha256') this.payload.verify(sha256Hex);
    if (sha256Hex !== undefined && this.payload.kind === 'sha256') {
      const computed = sha256Hex;
      if (computed !== this.payload.hex) {
        throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
          ClientComputedContentSHA256: this.payload.hex,
          S3ComputedContentSHA256: computed,
        });
      }
    }
    if (md5) {
      const digest = md5;
      if (this.spec.contentMd5 && !digest.equals(this.spec.contentMd5)) {
        throw new S3Error('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
          ExpectedDigest: this.spec.contentMd5.toString('base64'),
          CalculatedDigest: digest.toString('base64'),
        });
      }
      result.md5Hex = digest.toString('hex');
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
