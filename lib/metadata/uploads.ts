// Multipart uploads as handlers read them (the writes are commands: upload.create,
// upload.part, upload.abort, upload.complete, uploads.reap).
import type { MetadataReads } from './reads.ts';
import type { PartRow, UploadRow } from './types.ts';

export type { PartRow, UploadRow } from './types.ts';

export interface UploadReads {
  get(uploadId: string): UploadRow | undefined;
  parts(uploadId: string, after?: number, limit?: number): PartRow[];
  completed(uploadId: string): { bucket: string; key: string; etag: string } | undefined;
  list(
    bucket: string,
    opts: { prefix: string; keyMarker: string | null; uploadIdMarker: string | null; limit: number },
  ): UploadRow[];
}

export function uploadReads(m: MetadataReads): UploadReads {
  return {
    get: (id) => m.getUpload(id),
    parts: (id, after, limit) => m.listParts(id, after, limit),
    completed: (id) => m.completedUpload(id),
    list: (bucket, opts) => m.listUploads(bucket, opts),
  };
}
