// Starts a real BleepStore on a real socket (port 0) over a fresh temp data directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { createBleepStore, type BleepStore, type ConfigInput } from '../../lib/index.ts';
import type { StorageKind } from '../../lib/config.ts';
import { backendConfig } from './backends.ts';

export const ACCESS_KEY = process.env.BLEEPSTORE_ENDPOINT
  ? (process.env.AWS_ACCESS_KEY_ID ?? 'bleepstore')
  : 'bleepstore';
export const SECRET_KEY = process.env.BLEEPSTORE_ENDPOINT
  ? (process.env.AWS_SECRET_ACCESS_KEY ?? 'bleepstore-secret')
  : 'bleepstore-secret';
export const REGION = 'us-east-1';

export interface TestServer {
  store: BleepStore;
  url: string;
  port: number;
  dataDir: string;
  logs: string[];
  client(extra?: Partial<S3ClientConfig>): S3Client;
  stop(): Promise<void>;
}

/**
 * The storage backend every suite runs against: BLEEPSTORE_TEST_BACKEND=local (default),
 * memory, sqlite, aws, azure or gcp (`npm run test:backends` runs them all).
 */
export const BACKEND = (process.env.BLEEPSTORE_TEST_BACKEND ?? 'local') as StorageKind;

/**
 * BLEEPSTORE_ENDPOINT=http://host:port runs the suites against a server started elsewhere
 * (run_e2e.sh does this): startServer() then starts nothing and hands out clients for it.
 */
export const ENDPOINT = process.env.BLEEPSTORE_ENDPOINT;
/** For tests that need the embedded server (its config, logs or files): skipped against an external one. */
export const EMBEDDED_ONLY = ENDPOINT ? `needs an embedded server; this run targets ${ENDPOINT}` : false;

/** For tests that look at the local disk layout: skipped, with the reason, on other backends. */
export const LOCAL_ONLY =
  EMBEDDED_ONLY ||
  (BACKEND === 'local' ? false : `inspects the local disk layout; this run uses the ${BACKEND} backend`);

function external(url: string): TestServer {
  const clients: S3Client[] = [];
  const missing = (what: string) => () => {
    throw new Error(
      `${what} is not available against an external server (BLEEPSTORE_ENDPOINT); mark the test { skip: EMBEDDED_ONLY }`,
    );
  };
  return {
    get store(): BleepStore {
      return missing('store')();
    },
    get dataDir(): string {
      return missing('dataDir')();
    },
    url,
    port: Number(new URL(url).port),
    logs: [],
    client(extra = {}) {
      const c = new S3Client({
        endpoint: url,
        region: REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
        ...extra,
      });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.destroy();
    },
  };
}

export async function startServer(overrides: ConfigInput = {}): Promise<TestServer> {
  if (ENDPOINT) {
    if (Object.keys(overrides).length)
      throw new Error(
        `this test configures its own server (${Object.keys(overrides).join(', ')}); mark it { skip: EMBEDDED_ONLY }`,
      );
    return external(ENDPOINT.replace(/\/$/, ''));
  }
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-test-'));
  const logs: string[] = [];
  const backend = await backendConfig(BACKEND, dataDir);
  const store = await createBleepStore({
    overrides: {
      data_dir: dataDir,
      logging: { level: 'info', format: 'json' },
      ...overrides,
      server: { port: 0, ...overrides.server },
      storage: { ...backend.storage, ...overrides.storage } as ConfigInput['storage'],
    },
    logWrite: (line) => void logs.push(line),
  });
  const { url, port } = await store.listen(0, '127.0.0.1');
  const clients: S3Client[] = [];
  return {
    store,
    url,
    port,
    dataDir,
    logs,
    client(extra = {}) {
      const c = new S3Client({
        endpoint: url,
        region: REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
        ...extra,
      });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await store.close();
      await backend.cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Reads a response body stream into a Buffer. */
export async function bodyBytes(body: unknown): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body as AsyncIterable<Uint8Array>) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}
