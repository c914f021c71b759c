// Placeholder: the Google Cloud Storage gateway adapter (issue #6) is being written.
import type { Config } from '../config.ts';
import type { CloudBucket } from './gateway.ts';

export function createGcsBucket(_c: Config['storage']["gcp"]): CloudBucket {
  throw new Error('the gcp storage backend is not built yet');
}
