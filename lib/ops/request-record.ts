// What the server knows about a request once its response is closed (lib/ops/observe.ts turns it
// into the log line and the metrics; lib/ops/metrics.ts counts it).
export interface RequestRecord {
  requestId: string;
  method: string;
  /** The S3 operation (Endpoint.op), the ops path answered (e.g. `/health`), or `Unknown`. */
  route: string;
  /** True when an ops endpoint (/health, /metrics, /docs, ...) answered. */
  ops: boolean;
  bucket?: string | undefined;
  key?: string | undefined;
  /** HTTP status sent, or 0 when the connection closed before a response started. */
  status: number;
  /** Request body bytes the handler read (decoded, without aws-chunked framing). */
  bytesIn: number;
  /** Response body bytes handed to the socket. */
  bytesOut: number;
  durationMs: number;
  /** The connection closed before the whole response was written. */
  aborted: boolean;
  clientAddress?: string | undefined;
  userAgent?: string | undefined;
  /** The access key the request was signed with (or claimed, when the signature failed). */
  accessKeyId?: string | undefined;
}
