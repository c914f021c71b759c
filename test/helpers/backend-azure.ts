// Azurite (npm `azurite`) as the upstream of the azure gateway: a child process per test
// server, in memory unless given a directory, on a port it picks and reports.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { BlobServiceClient, StorageSharedKeyCredential, type ContainerClient } from '@azure/storage-blob';
import type { BackendSetup } from './backend-setup.ts';

// Azurite's one built-in account: a published development key, not a secret.
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
export const CONTAINER = 'bleepstore';
export const PREFIX = 'objects/';

const MAIN = createRequire(import.meta.url).resolve('azurite/dist/src/blob/main.js');

export interface Azurite {
  proc: ChildProcess;
  /** The account's blob endpoint, e.g. http://127.0.0.1:PORT/devstoreaccount1 */
  endpoint: string;
  container: ContainerClient;
  kill(): Promise<void>;
}

/** Starts Azurite's blob service on a free port and creates the test container. */
export async function startAzurite(opts: { location?: string } = {}): Promise<Azurite> {
  const storage = opts.location ? ['--location', opts.location] : ['--inMemoryPersistence'];
  const proc = spawn(
    process.execPath,
    [
      MAIN,
      '--silent',
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      ...storage,
    ],
    { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const base = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      const m = /listens on (http:\/\/\S+)/.exec(line);
      if (m) resolve(m[1]!);
    });
    void exited.then(() => reject(new Error(`azurite exited before listening: ${stderr}`)));
  });
  const endpoint = `${base}/${AZURITE_ACCOUNT}`;
  const container = new BlobServiceClient(
    endpoint,
    new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_KEY),
  ).getContainerClient(CONTAINER);
  await container.create();
  return {
    proc,
    endpoint,
    container,
    async kill() {
      process.removeListener('exit', killOnExit);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** The azure gateway's config for an Azurite instance. */
export function azureStorage(az: Azurite) {
  return {
    backend: 'azure' as const,
    azure: {
      container: CONTAINER,
      prefix: PREFIX,
      account: AZURITE_ACCOUNT,
      account_key: AZURITE_KEY,
      endpoint_url: az.endpoint,
    },
  };
}

export async function azureBackend(): Promise<BackendSetup> {
  const az = await startAzurite();
  return { storage: azureStorage(az), cleanup: () => az.kill() };
}
