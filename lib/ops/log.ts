// Structured logs: one JSON object per line on stdout, or a readable `key=value` line with
// --log-format text. Callers pass ids, never keys; as a second guard, any field whose name
// looks like a credential is replaced before it is written.
import type { LogFormat, LogLevel } from '../config.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
  /**
   * JSON format: writes a line whose fields the caller rendered as JSON members (`"k":v,...`,
   * no credential among them) and returns true; false in text format, where the caller passes
   * the fields instead. For the one line per request, built without an object.
   */
  rendered(level: Exclude<LogLevel, 'silent'>, msg: string, members: string): boolean;
}

const SECRET_FIELD = /secret|password|authorization|signature|token|credential/i;
const REDACTED = '[redacted]';

export function createLogger(opts: {
  level: LogLevel;
  format: LogFormat;
  write?: (line: string, level?: LogLevel) => void;
}): Logger {
  const min = RANK[opts.level];
  const write = opts.write ?? stdoutLines;
  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    const time = new Date().toISOString();
    if (opts.format === 'json') {
      const record = { time, level, msg, ...fields };
      write((plain(fields) ? JSON.stringify(record) : JSON.stringify(record, jsonSafe)) + '\n', level);
      return;
    }
    let line = `${time} ${level.toUpperCase().padEnd(5)} ${msg}`;
    for (const [k, v] of Object.entries(fields ?? {})) {
      if (v === undefined) continue;
      line += ` ${k}=${textValue(jsonSafe(k, v))}`;
    }
    write(line + '\n', level);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (level) => RANK[level] >= min,
    rendered: (level, msg, members) => {
      if (opts.format !== 'json') return false;
      if (RANK[level] >= min)
        write(
          `{"time":"${new Date().toISOString()}","level":"${level}","msg":${JSON.stringify(msg)},${members}}\n`,
          level,
        );
      return true;
    },
  };
}

/** Whether each field key looks like a credential (keys come from the code: a small set). */
const secretKeys = new Map<string, boolean>();

/** Fields that need no replacer: flat values under keys that are no credential. A replacer
 *  makes JSON.stringify call back into JS for every value of every access-log line. */
function plain(fields: LogFields | undefined): boolean {
  for (const k in fields) {
    let secret = secretKeys.get(k);
    if (secret === undefined) {
      secret = SECRET_FIELD.test(k);
      if (secretKeys.size < 1024) secretKeys.set(k, secret);
    }
    const v = fields[k];
    if (secret || (typeof v === 'object' && v !== null) || typeof v === 'bigint') return false;
  }
  return true;
}

// Log lines are written at most every FLUSH_MS or FLUSH_BYTES instead of once per line (a
// file or pipe on stdout is written synchronously: one write per loop turn still cost ~4 µs of
// a small GET, STATUS.md "Session 8"). Warnings and errors go out at once with what is
// pending; a kill -9 can lose at most the last FLUSH_MS of info lines.
const FLUSH_BYTES = 64 * 1024;
const FLUSH_MS = 50;

/** A logger's `write` that hands `sink` whole lines, batched as above; `flush()` and exit write what is pending. */
export function batchedLines(
  sink: (text: string) => void,
): ((line: string, level?: LogLevel) => void) & { flush(): void } {
  let pending = '';
  let timer: NodeJS.Timeout | undefined;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!pending) return;
    const out = pending;
    pending = '';
    sink(out);
  };
  process.on('exit', flush);
  const write = (line: string, level?: LogLevel): void => {
    pending += line;
    if (level === 'warn' || level === 'error' || pending.length >= FLUSH_BYTES) return flush();
    timer ??= setTimeout(flush, FLUSH_MS).unref();
  };
  return Object.assign(write, { flush });
}

const stdoutLines = batchedLines((text) => process.stdout.write(text));

/** Plain words stay bare; anything a reader could mis-split (spaces, quotes, `=`) is quoted. */
function textValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v, jsonSafe) ?? String(v);
}

function jsonSafe(key: string, value: unknown): unknown {
  if (key !== '' && SECRET_FIELD.test(key) && value !== undefined && value !== null && typeof value !== 'object')
    return REDACTED;
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A request target safe to log: presigned-URL signatures and credentials are replaced. */
export function redactUrl(url: string): string {
  return url.replace(
    /([?&](?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId)=)[^&]*/gi,
    `$1${REDACTED}`,
  );
}
