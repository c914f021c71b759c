// Multipart uploads and their parts. Every change is one transaction; files a change
// orphans are queued in gc_files inside it, so a crash never loses track of them.
import { describedColumns, type MetadataStore } from './sqlite.ts';
import type { Acl, ChecksumAlgorithm, ContentHeaders, ObjectRow, WriteCondition } from './types.ts';

type Row = Record<string, unknown>;

export interface UploadRow extends ContentHeaders {
  uploadId: string;
  bucket: string;
  key: string;
  storageClass: string;
  acl: Acl;
  userMetadata: Record<string, string>;
  ownerId: string;
  ownerDisplay: string;
  initiatedAt: string;
  checksumAlgorithm: ChecksumAlgorithm | null;
  checksumType: 'COMPOSITE' | 'FULL_OBJECT' | null;
}

export interface PartRow {
  partNumber: number;
  fileId: string;
  size: number;
  etag: string;
  lastModified: string;
  checksumValue: string | null;
}

function toUpload(r: Row): UploadRow {
  return {
    uploadId: r.upload_id as string,
    bucket: r.bucket as string,
    key: r.key as string,
    ...describedColumns(r),
    ownerId: r.owner_id as string,
    ownerDisplay: r.owner_display as string,
    initiatedAt: r.initiated_at as string,
    checksumAlgorithm: (r.checksum_algorithm as ChecksumAlgorithm | null) ?? null,
    checksumType: (r.checksum_type as UploadRow['checksumType']) ?? null,
  };
}

function toPart(r: Row): PartRow {
  return {
    partNumber: r.part_number as number,
    fileId: r.file_id as string,
    size: r.size as number,
    etag: r.etag as string,
    lastModified: r.last_modified as string,
    checksumValue: (r.checksum_value as string | null) ?? null,
  };
}

export class UploadStore {
  private readonly m: MetadataStore;

  constructor(metadata: MetadataStore) {
    this.m = metadata;
  }

  create(u: UploadRow): void {
    this.m.q(`INSERT INTO multipart_uploads (upload_id, bucket, key, content_type, content_encoding, content_language,
                content_disposition, cache_control, expires, storage_class, acl, user_metadata, owner_id, owner_display,
                initiated_at, checksum_algorithm, checksum_type)
              VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(u.uploadId, u.bucket, u.key, u.contentType, u.contentEncoding, u.contentLanguage, u.contentDisposition,
        u.cacheControl, u.expires, u.storageClass, JSON.stringify(u.acl), JSON.stringify(u.userMetadata), u.ownerId,
        u.ownerDisplay, u.initiatedAt, u.checksumAlgorithm, u.checksumType);
  }

  get(uploadId: string): UploadRow | undefined {
    const r = this.m.q('SELECT * FROM multipart_uploads WHERE upload_id = ?').get(uploadId) as Row | undefined;
    return r ? toUpload(r) : undefined;
  }

  /**
   * Records a part, replacing an earlier one with the same number. Returns the files to
   * remove: the replaced part's, or the new one itself when the upload is gone (aborted or
   * completed meanwhile; `stored` is then false).
   */
  putPart(uploadId: string, p: PartRow): { stored: boolean; remove: string[] } {
    return this.m.tx(() => {
      if (!this.m.q('SELECT 1 FROM multipart_uploads WHERE upload_id = ?').get(uploadId)) {
        this.m.queueGc(p.fileId);
        return { stored: false, remove: [p.fileId] };
      }
      const prev = this.m.q('SELECT file_id FROM multipart_parts WHERE upload_id = ? AND part_number = ?').get(uploadId, p.partNumber) as Row | undefined;
      this.m.q(`INSERT OR REPLACE INTO multipart_parts (upload_id, part_number, file_id, size, etag, last_modified, checksum_value)
                VALUES (?, ?, ?, ?, ?, ?, ?)`)
        .run(uploadId, p.partNumber, p.fileId, p.size, p.etag, p.lastModified, p.checksumValue);
      if (!prev || prev.file_id === p.fileId) return { stored: true, remove: [] };
      this.m.queueGc(prev.file_id as string);
      return { stored: true, remove: [prev.file_id as string] };
    });
  }

  parts(uploadId: string, after = 0, limit = 10001): PartRow[] {
    return (this.m.q('SELECT * FROM multipart_parts WHERE upload_id = ? AND part_number > ? ORDER BY part_number LIMIT ?')
      .all(uploadId, after, limit) as Row[]).map(toPart);
  }

  /** Removes the upload and its parts; returns the part files queued for removal, or null if unknown. */
  abort(uploadId: string): string[] | null {
    return this.m.tx(() => this.dropInTx(uploadId));
  }

  private dropInTx(uploadId: string): string[] | null {
    if (!this.m.q('SELECT 1 FROM multipart_uploads WHERE upload_id = ?').get(uploadId)) return null;
    const files = (this.m.q('SELECT file_id FROM multipart_parts WHERE upload_id = ?').all(uploadId) as Row[]).map((r) => r.file_id as string);
    for (const f of files) this.m.queueGc(f);
    this.m.q('DELETE FROM multipart_parts WHERE upload_id = ?').run(uploadId);
    this.m.q('DELETE FROM multipart_uploads WHERE upload_id = ?').run(uploadId);
    return files;
  }

  /**
   * Completes an upload in one transaction: the object row replaces any current version,
   * the upload and its part rows go, the part files and the replaced file are queued for
   * removal, and the completion is remembered for idempotent retries. Returns the files to
   * remove, or null when the upload vanished meanwhile (the assembled file is then queued).
   */
  complete(uploadId: string, object: ObjectRow, cond?: WriteCondition): string[] | null {
    return this.m.tx(() => {
      if (!this.m.q('SELECT 1 FROM multipart_uploads WHERE upload_id = ?').get(uploadId)) {
        this.m.queueGc(object.fileId);
        return null;
      }
      // A failed precondition throws PreconditionError and rolls back; the caller removes the file.
      const replaced = this.m.putObjectInTx(object, cond);
      const files = this.dropInTx(uploadId) ?? [];
      this.m.q('INSERT OR REPLACE INTO completed_uploads (upload_id, bucket, key, etag, completed_at) VALUES (?, ?, ?, ?, ?)')
        .run(uploadId, object.bucket, object.key, object.etag, new Date().toISOString());
      return replaced ? [...files, replaced] : files;
    });
  }

  completed(uploadId: string): { bucket: string; key: string; etag: string } | undefined {
    return this.m.q('SELECT bucket, key, etag FROM completed_uploads WHERE upload_id = ?').get(uploadId) as
      { bucket: string; key: string; etag: string } | undefined;
  }

  /** Uploads in key order (then initiation time), starting after the given markers. */
  list(bucket: string, opts: { prefix: string; keyMarker: string | null; uploadIdMarker: string | null; limit: number }): UploadRow[] {
    const rows = opts.keyMarker === null
      ? this.m.q(`SELECT * FROM multipart_uploads WHERE bucket = ? AND key >= ? ORDER BY key, initiated_at, upload_id LIMIT ?`)
        .all(bucket, opts.prefix, opts.limit)
      : opts.uploadIdMarker === null
        ? this.m.q(`SELECT * FROM multipart_uploads WHERE bucket = ? AND key > ? ORDER BY key, initiated_at, upload_id LIMIT ?`)
          .all(bucket, opts.keyMarker, opts.limit)
        : this.m.q(`SELECT * FROM multipart_uploads u WHERE bucket = ? AND (key > ? OR (key = ? AND (initiated_at, upload_id) >
                      (SELECT initiated_at, upload_id FROM multipart_uploads WHERE upload_id = ?)))
                    ORDER BY key, initiated_at, upload_id LIMIT ?`)
          .all(bucket, opts.keyMarker, opts.keyMarker, opts.uploadIdMarker, opts.limit);
    return (rows as Row[]).map(toUpload).filter((u) => u.key.startsWith(opts.prefix));
  }

  /** Drops uploads initiated before `cutoff` and completions remembered since before it. */
  reapExpired(cutoff: string): string[] {
    return this.m.tx(() => {
      const ids = (this.m.q('SELECT upload_id FROM multipart_uploads WHERE initiated_at < ?').all(cutoff) as Row[]).map((r) => r.upload_id as string);
      const files = ids.flatMap((id) => this.dropInTx(id) ?? []);
      this.m.q('DELETE FROM completed_uploads WHERE completed_at < ?').run(cutoff);
      return files;
    });
  }
}
