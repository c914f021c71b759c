// A bounded, streaming multipart/form-data reader (RFC 7578) for browser-based uploads:
// the text fields before the file are read into memory under a byte budget, and the file
// part is handed out as a stream of buffers, never held whole.
// https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html ("The form data and
// boundaries (excluding the contents of the file) cannot exceed 20KB"; "file ... must be the
// last field in the form").
import { S3Error } from './errors.ts';

export interface FormPart {
  /** Field name as sent (callers compare names case-insensitively). */
  name: string;
  /** The filename parameter of a file part, if any. */
  filename?: string;
  contentType?: string;
}

const MAX_PART_HEADER = 8 * 1024;
const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

export function malformedPost(): S3Error {
  return new S3Error('MalformedPOSTRequest', 'The body of your POST request is not well-formed multipart/form-data.');
}

/** The boundary parameter of a multipart/form-data Content-Type, or undefined. */
export function formBoundary(contentType: string | undefined): string | undefined {
  if (!contentType || !/^\s*multipart\/form-data\s*(;|$)/i.test(contentType)) return undefined;
  const m = /;\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return m ? (m[1] ?? m[2]) : undefined;
}

function parseDisposition(value: string): { name?: string; filename?: string } {
  if (!/^\s*form-data\s*(;|$)/i.test(value)) return {};
  const out: { name?: string; filename?: string } = {};
  // Browsers escape '"' as %22 and send backslashes as they are (WHATWG multipart/form-data
  // encoding), so a quoted value runs to the next quote.
  const re = /;\s*([A-Za-z*-]+)\s*=\s*(?:"([^"]*)"|([^;\s]*))/g;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const v = m[2] ?? m[3]!;
    const key = m[1]!.toLowerCase();
    if (key === 'name') out.name = v;
    else if (key === 'filename') out.filename = v;
  }
  return out;
}

export class FormDataReader {
  private buf: Buffer;
  private ended = false;
  private readonly it: AsyncIterator<Buffer | string>;
  /** CRLF "--" boundary: what ends every part (a CRLF is put in front of the body for the first). */
  private readonly delimiter: Buffer;
  /** Bytes of field data (and part headers) still allowed before the file. */
  private budget: number;
  bytesRead = 0;
  private readonly tooLarge: () => S3Error;

  constructor(source: AsyncIterable<Buffer | string>, boundary: string, fieldBudget: number, tooLarge: () => S3Error) {
    this.tooLarge = tooLarge;
    this.it = source[Symbol.asyncIterator]();
    this.delimiter = Buffer.from(`\r\n--${boundary}`);
    this.buf = CRLF;
    this.budget = fieldBudget;
  }

  /** Appends the next chunk; false at the end of the body. */
  private async more(): Promise<boolean> {
    if (this.ended) return false;
    let next: IteratorResult<Buffer | string>;
    try {
      next = await this.it.next();
    } catch {
      throw new S3Error('IncompleteBody', 'The request body ended before it was complete.');
    }
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
    this.bytesRead += chunk.length;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    return true;
  }

  /** Finds `needle` in the buffer, reading more while it is absent and the budget allows. */
  private async find(needle: Buffer, limit: number): Promise<number> {
    for (;;) {
      const at = this.buf.indexOf(needle);
      if (at >= 0) return at;
      if (this.buf.length > limit + needle.length) throw this.tooLarge();
      if (!(await this.more())) throw malformedPost();
    }
  }

  private take(n: number): Buffer {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Skips the preamble up to the first boundary. */
  async start(): Promise<void> {
    const at = await this.find(this.delimiter, this.budget);
    this.spend(at);
    this.take(at + this.delimiter.length);
  }

  private spend(n: number): void {
    this.budget -= n;
    if (this.budget < 0) throw this.tooLarge();
  }

  /** The next part's headers, or null after the closing boundary. */
  async next(): Promise<FormPart | null> {
    while (this.buf.length < 2) if (!(await this.more())) throw malformedPost();
    if (this.buf[0] === 0x2d && this.buf[1] === 0x2d) return null; // "--": the closing boundary
    // RFC 2046 allows transport padding (spaces, tabs) before the CRLF after a boundary.
    const eol = await this.find(CRLF, MAX_PART_HEADER);
    if (this.take(eol).toString('latin1').trim() !== '') throw malformedPost();
    this.take(2);
    let headerBlock = '';
    if (this.buf.length >= 2 && this.buf[0] === 0x0d && this.buf[1] === 0x0a) {
      this.take(2); // a part with no headers at all
    } else {
      const end = await this.find(HEADER_END, MAX_PART_HEADER);
      this.spend(end + 4);
      headerBlock = this.take(end).toString('utf8');
      this.take(4);
    }
    const part: FormPart = { name: '' };
    for (const line of headerBlock.split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-disposition') Object.assign(part, parseDisposition(value));
      else if (name === 'content-type') part.contentType = value;
    }
    if (part.name === '') throw malformedPost();
    return part;
  }

  /** The value of a text field (counted against the field budget). */
  async value(): Promise<string> {
    const at = await this.find(this.delimiter, this.budget);
    this.spend(at);
    const v = this.take(at).toString('utf8');
    this.take(this.delimiter.length);
    return v;
  }

  /**
   * The bytes of the current part, streamed: everything up to the next boundary, holding
   * back only as many bytes as could be the start of that boundary.
   */
  async *stream(): AsyncGenerator<Buffer> {
    const keep = this.delimiter.length - 1;
    for (;;) {
      const at = this.buf.indexOf(this.delimiter);
      if (at >= 0) {
        if (at > 0) yield this.take(at);
        this.take(this.delimiter.length);
        return;
      }
      if (this.buf.length > keep) yield this.take(this.buf.length - keep);
      if (!(await this.more())) throw malformedPost();
    }
  }

  /** Reads and drops whatever follows (fields after the file are ignored, as AWS does). */
  async drain(limit: number): Promise<void> {
    let seen = this.buf.length;
    this.buf = Buffer.alloc(0);
    while (await this.more()) {
      seen += this.buf.length;
      this.buf = Buffer.alloc(0);
      if (seen > limit) throw this.tooLarge();
    }
  }
}
