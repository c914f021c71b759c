// The aws backend under test: a second, in-process BleepStore (local backend, its own data
// dir, port 0) plays the upstream S3, and the gateway keeps its bytes there under "gw/".
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { createBleepStore, type BleepStore } from '../../lib/index.ts';
import type { BackendSetup } from './backend-setup.ts';

const ACCESS_KEY = 'bleepstore';
const SECRET_KEY = 'bleepstore-secret';
export const BACKING_BUCKET = 'gw-backing';
export const PREFIX = 'gw/';

export interface AwsUpstream {
  url: string;
  port: number;
  dataDir: string;
  /** The upstream's JSON log lines (`request completed` per request, with `op`). */
  logs: string[];
  /** A client for the upstream itself, e.g. to remove a backing object behind the gateway's back. */
  client: S3Client;
  /** Closes the upstream server; its data stays. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port. */
  restart(): Promise<void>;
}

export type AwsBackendSetup = BackendSetup & {
  storage: {
    backend: 'aws';
    aws: {
      bucket: string;
      endpoint_url: string;
      use_path_style: boolean;
      region: string;
      access_key_id: string;
      secret_access_key: string;
      prefix: string;
    };
  };
  upstream: AwsUpstream;
};

export async function awsBackend(_gatewayDataDir: string): Promise<AwsBackendSetup> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bleepstore-upstream-'));
  const logs: string[] = [];
  const open = () =>
    createBleepStore({
      overrides: { data_dir: dataDir, logging: { level: 'info', format: 'json' } },
      logWrite: (line) => void logs.push(line),
    });
  let store: BleepStore | undefined = await open();
  const { url, port } = await store.listen(0, '127.0.0.1');
  const client = new S3Client({
    endpoint: url,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY },
  });
  await client.send(new CreateBucketCommand({ Bucket: BACKING_BUCKET }));

  const upstream: AwsUpstream = {
    url,
    port,
    dataDir,
    logs,
    client,
    async stop() {
      await store?.close();
      store = undefined;
    },
    async restart() {
      store = await open();
      await store.listen(port, '127.0.0.1');
    },
  };
  return {
    storage: {
      backend: 'aws',
      aws: {
        bucket: BACKING_BUCKET,
        endpoint_url: url,
        use_path_style: true,
        region: 'us-east-1',
        access_key_id: ACCESS_KEY,
        secret_access_key: SECRET_KEY,
        prefix: PREFIX,
      },
    },
    upstream,
    async cleanup() {
      client.destroy();
      await upstream.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
