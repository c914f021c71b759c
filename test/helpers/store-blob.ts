// A blob written straight into a storage backend (stage, one push, finish, commit): its id.
import type { StorageBackend } from '../../lib/storage/backend.ts';

export async function storeBlob(storage: Pick<StorageBackend, 'stage'>, bytes: Buffer | string): Promise<string> {
  const staged = await storage.stage();
  staged.push(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  await staged.finish();
  return staged.commit();
}
