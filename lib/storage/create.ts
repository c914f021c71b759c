// Picks the storage backend from config. Cloud SDKs are optional dependencies, loaded only
// when their backend is chosen; a missing one stops start-up with one clear sentence.
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import type { MetadataStore } from '../metadata/sqlite.ts';
import type { StorageBackend } from './backend.ts';
import { LocalStorage } from './local.ts';
import { MemoryStorage } from './memory.ts';
import { SqliteBlobStorage } from './sqlite-blobs.ts';
import { GatewayStorage, type CloudBucket } from './gateway.ts';

const SDK_PACKAGE = { aws: '@aws-sdk/client-s3', azure: '@azure/storage-blob', gcp: '@google-cloud/storage' } as const;

async function loadCloud(kind: keyof typeof SDK_PACKAGE, config: Config): Promise<CloudBucket> {
  try {
    switch (kind) {
      case 'aws':
        return (await import('./aws.ts')).createAwsBucket(config.storage.aws);
      case 'azure':
        return (await import('./azure.ts')).createAzureContainer(config.storage.azure);
      case 'gcp':
        return (await import('./gcp.ts')).createGcsBucket(config.storage.gcp);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if ((e.code === 'ERR_MODULE_NOT_FOUND' || e.code === 'MODULE_NOT_FOUND') && e.message.includes(SDK_PACKAGE[kind])) {
      throw new ConfigError(
        `storage.backend "${kind}" needs the optional package ${SDK_PACKAGE[kind]}; install it with: npm install ${SDK_PACKAGE[kind]}`,
      );
    }
    throw err;
  }
}

export async function createStorage(config: Config, metadata: MetadataStore): Promise<StorageBackend> {
  const s = config.storage;
  switch (s.backend) {
    case 'local':
      return new LocalStorage(s.local.root_dir, { quarantineMaxAgeSeconds: s.local.quarantine_max_age_seconds });
    case 'memory':
      return new MemoryStorage({ maxSizeBytes: s.memory.max_size_bytes });
    case 'sqlite':
      return new SqliteBlobStorage(metadata);
    case 'aws':
      return new GatewayStorage('aws', await loadCloud('aws', config), {
        prefix: s.aws.prefix,
        stagingDir: s.staging_dir,
      });
    case 'azure':
      return new GatewayStorage('azure', await loadCloud('azure', config), {
        prefix: s.azure.prefix,
        stagingDir: s.staging_dir,
      });
    case 'gcp':
      return new GatewayStorage('gcp', await loadCloud('gcp', config), {
        prefix: s.gcp.prefix,
        stagingDir: s.staging_dir,
      });
  }
}
