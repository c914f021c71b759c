// What authentication hands to the rest of the request pipeline.

export interface Principal {
  accessKeyId: string;
  ownerId: string;
  displayName: string;
}

export interface Credential {
  accessKeyId: string;
  secretKey: string;
  ownerId: string;
  displayName: string;
}

/** Looks up an active credential by access key id; undefined when unknown or inactive. */
export type CredentialLookup = (accessKeyId: string) => Credential | undefined;

/** How the request body must be read and verified (x-amz-content-sha256 and friends). */
export type PayloadMode =
  /** No payload verification: UNSIGNED-PAYLOAD, presigned URLs, anonymous requests. */
  | { kind: 'unsigned' }
  /** Hex SHA-256 of the whole body, verified while streaming (XAmzContentSHA256Mismatch). */
  | { kind: 'sha256'; hex: string }
  /** aws-chunked body with per-chunk signatures; trailer=true for ...-PAYLOAD-TRAILER. */
  | {
      kind: 'streaming-signed';
      trailer: boolean;
      seedSignature: string;
      signingKey: Buffer;
      timestamp: string;
      scope: string;
    }
  /** aws-chunked body without chunk signatures, checksum in an unsigned trailer. */
  | { kind: 'streaming-unsigned-trailer' }
  /**
   * Signed without x-amz-content-sha256: the signature covers the body's SHA-256, so it is
   * checked once the body is read (`verify` throws SignatureDoesNotMatch), before anything
   * is committed.
   */
  | { kind: 'signature-sha256'; verify(sha256Hex: string): void };

export interface AuthResult {
  /** null for anonymous (unsigned) requests. */
  principal: Principal | null;
  payload: PayloadMode;
}

/** The request as the authenticator needs it; nothing here touches the body. */
export interface AuthRequest {
  method: string;
  /** The path exactly as sent on the wire (still percent-encoded), without the query. */
  rawPath: string;
  /** The raw query string without the leading '?', possibly empty. */
  rawQuery: string;
  /** Node's IncomingMessage.headers (lower-case names; repeated headers joined by Node). */
  headers: Record<string, string | string[] | undefined>;
  /**
   * Optional: IncomingMessage.rawHeaders. When given, a header sent several times is
   * canonicalized exactly as SigV4 wants (values joined by ','), not as Node joined them.
   */
  rawHeaders?: readonly string[];
  /** The bucket named by the Host header (virtual-hosted style); Signature Version 2 signs it. */
  virtualBucket?: string | undefined;
}

export interface AuthOptions {
  region: string;
  /** Milliseconds since epoch; injectable for tests. */
  now: number;
  /** Allowed clock skew for header auth, in ms (default 15 minutes). */
  maxSkewMs?: number;
  /** Accept Signature Version 2 (config auth.sigv2). */
  sigv2?: boolean;
  /**
   * The operation reads its whole body before it changes anything, so a header-signed
   * request without x-amz-content-sha256 may have its signature checked against the body's
   * SHA-256 at the end of the body (PayloadMode 'signature-sha256').
   */
  deferBodySignature?: boolean;
}
