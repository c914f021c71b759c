// The credential scope (AKID/yyyyMMdd/region/s3/aws4_request) and the ISO 8601 basic
// timestamps SigV4 uses, shared by header and query authentication. Each caller turns a
// problem into its own error code and wording.

export interface CredentialScope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminal: string;
  /** date/region/service/terminal, as it appears in the string to sign. */
  scope: string;
}

/** Splits `AKID/date/region/service/aws4_request`; undefined when it has the wrong shape. */
export function parseCredential(value: string): CredentialScope | undefined {
  const parts = value.split('/');
  if (parts.length !== 5 || parts.some((p) => p === '')) return undefined;
  const [accessKeyId, date, region, service, terminal] = parts as [string, string, string, string, string];
  return { accessKeyId, date, region, service, terminal, scope: `${date}/${region}/${service}/${terminal}` };
}

export type ScopeProblem =
  | { kind: 'date'; value: string }
  | { kind: 'region'; value: string }
  | { kind: 'service'; value: string }
  | { kind: 'terminal'; value: string };

export function checkScope(c: CredentialScope, region: string): ScopeProblem | undefined {
  if (!/^\d{8}$/.test(c.date) || parseAmzDate(c.date + 'T000000Z') === undefined)
    return { kind: 'date', value: c.date };
  if (c.region !== region) return { kind: 'region', value: c.region };
  if (c.service !== 's3') return { kind: 'service', value: c.service };
  if (c.terminal !== 'aws4_request') return { kind: 'terminal', value: c.terminal };
  return undefined;
}

const AMZ_DATE_RE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

// Every signed request parses two dates that repeat for a second or a day: remember a few.
const parsedDates = new Map<string, number | undefined>();

/** Parses `yyyyMMddTHHmmssZ` to epoch milliseconds; undefined unless it is a real instant. */
export function parseAmzDate(s: string): number | undefined {
  if (s.length !== 16) return undefined; // never the shape AMZ_DATE_RE accepts
  if (parsedDates.has(s)) return parsedDates.get(s);
  const ms = parseAmzDateUncached(s);
  if (parsedDates.size >= 64) parsedDates.clear();
  parsedDates.set(s, ms);
  return ms;
}

function parseAmzDateUncached(s: string): number | undefined {
  const m = AMZ_DATE_RE.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, d, h, mi, se);
  const t = new Date(ms);
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== mo - 1 || t.getUTCDate() !== d || h > 23 || mi > 59 || se > 59) {
    return undefined;
  }
  return ms;
}

/** Epoch milliseconds to `yyyyMMddTHHmmssZ`. */
export function formatAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
}

/** Epoch milliseconds to the ISO 8601 extended form S3 prints in error details. */
export function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
