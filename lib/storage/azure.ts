// The Azure Blob gateway adapter: one block blob per BleepStore blob, named `<prefix><id>` in
// one container. Loaded only when storage.backend is "azure" (see lib/storage/create.ts), so
// the SDK, an optional dependency, is imported statically here.
import type { Readable } from 'node:stream';
import {
  BlobSASPermissions,
  BlobServiceClient,
  StorageSharedKeyCredential,
  type BlobClient,
  type BlockBlobClient,
  type RestError,
  type StoragePipelineOptions,
} from '@azure/storage-blob';
import { ConfigError, type Config } from '../config.ts';
import type { ByteRange } from './backend.ts';
import type { CloudBucket } from './gateway.ts';

type AzureConfig = Config['storage']['azure'];

/** Put Block takes at most 4000 MiB (service version 2019-12-12 and later). */
export const MAX_BLOCK_BYTES = 4000 * 1024 * 1024;

// The SDK's default retries back off for up to minutes; an unreachable upstream must turn
// into a 503 within seconds, and S3 clients retry those themselves.
const PIPELINE: StoragePipelineOptions = {
  retryOptions: { maxTries: 3, retryDelayInMs: 200, maxRetryDelayInMs: 1000 },
};

function serviceClient(c: AzureConfig): BlobServiceClient {
  if (c.connection_string) {
    try {
      return BlobServiceClient.fromConnectionString(c.connection_string, PIPELINE);
    } catch (err) {
      throw new ConfigError(`Config key "storage.azure.connection_string" is not usable: ${(err as Error).message}`);
    }
  }
  if (c.use_managed_identity) {
    throw new ConfigError(
      'Config key "storage.azure.use_managed_identity" is not supported yet; set "storage.azure.connection_string" or "storage.azure.account_key".',
    );
  }
  if (!c.account_key) {
    throw new ConfigError(
      'Config key "storage.azure.account_key" (or "storage.azure.connection_string") must be set for storage.backend "azure".',
    );
  }
  const url = c.endpoint_url || `https://${c.account}.blob.core.windows.net`;
  return new BlobServiceClient(url, new StorageSharedKeyCredential(c.account, c.account_key), PIPELINE);
}

/** Splits `size` bytes into consecutive blocks of at most `max` bytes (none for an empty blob). */
export function blockRanges(size: number, max = MAX_BLOCK_BYTES): Array<{ offset: number; count: number }> {
  const out: Array<{ offset: number; count: number }> = [];
  for (let offset = 0; offset < size; offset += max) out.push({ offset, count: Math.min(max, size - offset) });
  return out;
}

/** Block ids must all have the same length within a blob, base64-encoded. */
export function blockId(n: number): string {
  return Buffer.from(`block-${String(n).padStart(6, '0')}`).toString('base64');
}

function status(err: unknown): { statusCode?: number; code?: string } {
  return err as RestError;
}

export function createAzureContainer(c: AzureConfig): CloudBucket {
  const container = serviceClient(c).getContainerClient(c.container);
  // Put Block From URL reads each source through a SAS signed with the shared key, so it
  // needs one; Azurite answers it 501, and then blocks are streamed through this process.
  let fromUrl = container.credential instanceof StorageSharedKeyCredential;

  async function stageOne(
    dest: BlockBlobClient,
    src: BlobClient,
    id: string,
    offset: number,
    count: number,
  ): Promise<void> {
    if (fromUrl) {
      const sas = await src.generateSasUrl({
        permissions: BlobSASPermissions.parse('r'),
        expiresOn: new Date(Date.now() + 3600_000),
      });
      try {
        await dest.stageBlockFromURL(id, sas, offset, count);
        return;
      } catch (err) {
        if (status(err).statusCode !== 501) throw err;
        fromUrl = false;
      }
    }
    const body = (await src.download(offset, count)).readableStreamBody as Readable;
    try {
      await dest.stageBlock(id, body, count);
    } finally {
      body.destroy();
    }
  }

  return {
    async probe() {
      try {
        await container.getProperties();
      } catch (err) {
        if (status(err).statusCode === 404) throw new Error(`the container "${c.container}" does not exist`);
        throw err;
      }
    },
    async putFile(key, filePath) {
      // uploadFile reads the file in ranges (one Put Blob up to 256 MiB, staged blocks beyond).
      await container.getBlockBlobClient(key).uploadFile(filePath, { concurrency: 4 });
    },
    async get(key: string, range?: ByteRange) {
      const blob = container.getBlobClient(key);
      const res = range ? await blob.download(range.start, range.end - range.start + 1) : await blob.download();
      return res.readableStreamBody as Readable;
    },
    exists: (key) => container.getBlobClient(key).exists(),
    async delete(key) {
      await container.getBlobClient(key).deleteIfExists();
    },
    async *list(prefix) {
      for await (const item of container.listBlobsFlat({ prefix }))
        yield { key: item.name, modifiedMs: item.properties.lastModified?.getTime() };
    },
    // Multipart Complete: every source becomes one or more staged blocks of the target, then
    // one Put Block List commits them in order.
    async compose(target, sources) {
      const dest = container.getBlockBlobClient(target);
      const ids: string[] = [];
      for (const key of sources) {
        const src = container.getBlobClient(key);
        const { contentLength = 0 } = await src.getProperties();
        for (const { offset, count } of blockRanges(contentLength)) {
          const id = blockId(ids.length);
          await stageOne(dest, src, id, offset, count);
          ids.push(id);
        }
      }
      await dest.commitBlockList(ids);
    },
    isNotFound(err) {
      const e = status(err);
      return e.statusCode === 404 && e.code !== 'ContainerNotFound';
    },
  };
}
