// What the main thread (the one metadata writer) and a serving thread say to each other.
import type { Command } from '../metadata/commands.ts';
import type { RequestRecord } from '../ops/request-record.ts';
import type { Config } from '../config.ts';
import type { WireError } from './wire-errors.ts';

export interface ServeInit {
  config: Config;
  host: string;
  port: number;
  /** The main thread's private socket for requests this thread hands over (pass-to-main.ts). */
  mainSocket: string;
  /** Proves to the main thread's private socket that a request comes from a serving thread. */
  handoverSecret: string;
  /** Log lines go to the main thread (an embedder's logWrite) instead of stdout. */
  logToMain: boolean;
  /** This thread's part of server.max_connections. */
  connectionShare: number;
}

export type FromServer =
  | { t: 'ready' }
  | { t: 'submit'; id: number; cmd: Command }
  | { t: 'collect'; fileIds: string[] }
  | { t: 'records'; records: RequestRecord[] }
  | { t: 'log'; text: string }
  | { t: 'fatal'; error: WireError }
  | { t: 'stopped' };

export type ToServer =
  | { t: 'result'; id: number; ok: true; value: unknown }
  | { t: 'result'; id: number; ok: false; error: WireError }
  | { t: 'stop'; graceMs: number };
