// The light client for small-object workloads: requests written as bytes (pre-signed where the
// request repeats, signed in a few µs where it does not) over raw keep-alive `net` sockets,
// one request at a time per socket (no pipelining), and a minimal HTTP/1.1 response reader
// (Content-Length or chunked). It costs the client a small fraction of what a request costs a
// server, so a server's throughput is not hidden by its load generator's (issue #17).
import net from 'node:net';

export interface RawResponse {
  status: number;
  /** Body bytes received. */
  bytes: number;
  /** Milliseconds from writing the request to the first response byte. */
  ttfbMs: number;
  /** Kept for error answers (up to 64 KiB), for the S3 error code. */
  body: Buffer | undefined;
  /** The response head, kept for error answers only. */
  head: string | undefined;
}

const ERROR_BODY_LIMIT = 64 * 1024;
const HEAD_LIMIT = 64 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');

class RawConn {
  readonly socket: net.Socket;
  reused = false;
  closed = false;
  #resolve: ((r: RawResponse) => void) | undefined;
  #reject: ((e: Error) => void) | undefined;
  #isHead = false;
  #t0 = 0;
  #ttfb = -1;
  #headBuf: Buffer | undefined;
  #status = 0;
  #inBody = false;
  #left = 0; // Content-Length bytes left, or bytes left of the current chunk
  #chunked = false;
  #chunkState: 'size' | 'data' | 'crlf' | 'trailer' = 'size';
  #line = '';
  #bytes = 0;
  #keep: Buffer[] | undefined;
  #kept = 0;
  #close = false;
  #head: string | undefined;

  constructor(host: string, port: number, timeoutMs: number) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.setTimeout(timeoutMs, () => this.socket.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    this.socket.on('data', (c: Buffer) => this.#data(c));
    this.socket.on('error', (e) => this.#fail(e));
    this.socket.on('close', () => {
      this.closed = true;
      this.#fail(new Error('connection closed before the response ended'));
    });
  }

  send(head: string, body: Buffer | undefined, isHead: boolean): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
      this.#isHead = isHead;
      this.#ttfb = -1;
      this.#headBuf = undefined;
      this.#inBody = false;
      this.#bytes = 0;
      this.#keep = undefined;
      this.#kept = 0;
      this.#head = undefined;
      this.#t0 = performance.now();
      if (body) {
        this.socket.cork();
        this.socket.write(head, 'latin1');
        this.socket.write(body);
        this.socket.uncork();
      } else this.socket.write(head, 'latin1');
    });
  }

  #fail(e: Error): void {
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    if (reject) {
      (e as { reused?: boolean; started?: boolean }).reused = this.reused;
      (e as { started?: boolean }).started = this.#ttfb >= 0;
      reject(e);
    }
  }

  #data(c: Buffer): void {
    if (!this.#resolve) {
      this.socket.destroy(new Error('bytes from the server with no request outstanding'));
      return;
    }
    if (this.#ttfb < 0) this.#ttfb = performance.now() - this.#t0;
    if (!this.#inBody) {
      const buf: Buffer = this.#headBuf ? Buffer.concat([this.#headBuf, c]) : c;
      const end = buf.indexOf(CRLFCRLF);
      if (end < 0) {
        if (buf.length > HEAD_LIMIT) this.socket.destroy(new Error('response head over 64 KiB'));
        else this.#headBuf = buf;
        return;
      }
      this.#headBuf = undefined;
      this.#parseHead(buf.toString('latin1', 0, end));
      this.#inBody = true;
      c = buf.subarray(end + 4);
      if (this.#isHead || this.#status === 204 || this.#status === 304) {
        this.#chunked = false;
        this.#left = 0;
      }
    }
    if (this.#chunked) this.#chunkedBody(c);
    else {
      if (c.length > this.#left) {
        this.socket.destroy(new Error('more response bytes than Content-Length'));
        return;
      }
      this.#take(c);
      this.#left -= c.length;
    }
    if (!this.#chunked ? this.#left === 0 : this.#chunkState === 'trailer' && this.#line === '\r\n') this.#done();
  }

  #parseHead(head: string): void {
    this.#status = Number(head.slice(9, 12));
    const lower = head.toLowerCase();
    this.#chunked = /\r\ntransfer-encoding:[^\r]*chunked/.test(lower);
    const m = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    this.#left = this.#chunked ? 0 : m ? Number(m[1]) : 0;
    this.#chunkState = 'size';
    this.#line = '';
    this.#close = /\r\nconnection:\s*close/.test(lower);
    if (this.#status >= 300) {
      this.#keep = [];
      this.#head = head;
    }
  }

  #take(c: Buffer): void {
    this.#bytes += c.length;
    if (this.#keep && this.#kept < ERROR_BODY_LIMIT) {
      this.#keep.push(c);
      this.#kept += c.length;
    }
  }

  /** RFC 9112 §7.1 chunked coding; chunk extensions and trailers are read and ignored. */
  #chunkedBody(c: Buffer): void {
    let i = 0;
    while (i < c.length) {
      if (this.#chunkState === 'data') {
        const n = Math.min(this.#left, c.length - i);
        this.#take(c.subarray(i, i + n));
        this.#left -= n;
        i += n;
        if (this.#left === 0) this.#chunkState = 'crlf';
        continue;
      }
      const nl = c.indexOf(10, i);
      const piece = c.toString('latin1', i, nl < 0 ? c.length : nl + 1);
      i = nl < 0 ? c.length : nl + 1;
      this.#line += piece;
      if (this.#line.length > 4096) {
        this.socket.destroy(new Error('chunked framing line over 4 KiB'));
        return;
      }
      if (nl < 0) return;
      const line = this.#line;
      this.#line = '';
      if (this.#chunkState === 'crlf') this.#chunkState = 'size';
      else if (this.#chunkState === 'size') {
        this.#left = parseInt(line, 16);
        if (!Number.isFinite(this.#left)) {
          this.socket.destroy(new Error('bad chunk size'));
          return;
        }
        this.#chunkState = this.#left === 0 ? 'trailer' : 'data';
      } else if (line === '\r\n') {
        this.#line = '\r\n'; // the empty line that ends the trailer section: done
        return;
      }
    }
  }

  #done(): void {
    const resolve = this.#resolve!;
    this.#resolve = this.#reject = undefined;
    this.reused = true;
    if (this.#close) this.socket.destroy();
    resolve({
      status: this.#status,
      bytes: this.#bytes,
      ttfbMs: this.#ttfb,
      body: this.#keep ? Buffer.concat(this.#keep) : undefined,
      head: this.#head,
    });
  }
}

/** A pool of raw keep-alive connections; each carries one request at a time. */
export class RawClient {
  readonly #host: string;
  readonly #port: number;
  readonly #timeoutMs: number;
  readonly #free: RawConn[] = [];
  readonly #all = new Set<RawConn>();

  constructor(endpoint: URL, timeoutMs = 300_000) {
    this.#host = endpoint.hostname.replace(/^\[|\]$/g, '');
    this.#port = Number(endpoint.port) || 80;
    this.#timeoutMs = timeoutMs;
  }

  async send(head: string, body: Buffer | undefined, isHead: boolean): Promise<RawResponse> {
    try {
      return await this.#once(head, body, isHead);
    } catch (err) {
      // A keep-alive socket the server closed while idle: retry once on a fresh one.
      const e = err as { reused?: boolean; started?: boolean };
      if (e.reused && !e.started) return this.#once(head, body, isHead);
      throw err;
    }
  }

  async #once(head: string, body: Buffer | undefined, isHead: boolean): Promise<RawResponse> {
    let conn = this.#free.pop();
    while (conn?.closed) {
      this.#all.delete(conn);
      conn = this.#free.pop();
    }
    if (!conn) {
      conn = new RawConn(this.#host, this.#port, this.#timeoutMs);
      this.#all.add(conn);
    }
    try {
      const res = await conn.send(head, body, isHead);
      if (!conn.closed) this.#free.push(conn);
      return res;
    } catch (err) {
      conn.socket.destroy();
      this.#all.delete(conn);
      throw err;
    }
  }

  close(): void {
    for (const c of this.#all) c.socket.destroy();
    this.#all.clear();
    this.#free.length = 0;
  }
}
