// Single byte ranges (RFC 7233). S3 serves one range per request; anything it cannot parse
// it ignores and serves the whole object, as RFC 7233 section 3.1 allows.
import { S3Error } from './errors.ts';

export interface ByteRange {
  start: number;
  end: number;
}

/** The inclusive range to serve, undefined for the whole object; throws InvalidRange (416). */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  const unsatisfiable = () =>
    new S3Error(
      'InvalidRange',
      undefined,
      { RangeRequested: header.trim(), ActualObjectSize: String(size) },
      { 'Content-Range': `bytes */${size}` },
    );
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined;
  if (start >= size) throw unsatisfiable();
  return { start, end };
}
