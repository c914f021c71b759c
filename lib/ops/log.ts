// Structured logs: one JSON object per line on stdout (or a readable text line with
// --log-format text). Secrets never reach a log call: callers pass ids, never keys.
import type { LogFormat, LogLevel } from '../config.ts';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

export function createLogger(opts: { level: LogLevel; format: LogFormat; write?: (line: string) => void }): Logger {
  const min = RANK[opts.level];
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const emit = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields): void => {
    if (RANK[level] < min) return;
    const time = new Date().toISOString();
    if (opts.format === 'json') {
      write(JSON.stringify({ time, level, msg, ...fields }, jsonSafe) + '\n');
    } else {
      const rest = fields ? Object.entries(fields).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v, jsonSafe)}`).join(' ') : '';
      write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${rest ? ' ' + rest : ''}\n`);
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (level) => RANK[level] >= min,
  };
}

function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, stack: value.stack };
  if (typeof value === 'bigint') return value.toString();
  return value;
}
