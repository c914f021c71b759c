// Storage config for each backend the suites run against, with whatever upstream it needs
// started for the test (a second BleepStore for aws, Azurite for azure, ...).
import type { StorageKind } from '../../lib/config.ts';
import type { BackendSetup } from './backend-setup.ts';

export type { BackendSetup } from './backend-setup.ts';

export async function backendConfig(kind: StorageKind, _dataDir: string): Promise<BackendSetup> {
  switch (kind) {
    case 'local':
    case 'memory':
    case 'sqlite':
      return { storage: { backend: kind }, cleanup: async () => {} };
    case 'aws':
      return (await import('./backend-aws.ts')).awsBackend(_dataDir);
    case 'azure':
      return (await import('./backend-azure.ts')).azureBackend();
    default:
      throw new Error(`no test setup for the ${kind} backend yet`);
  }
}
