// Blobs being read, so that removing one waits for its readers. A cloud bucket, unlike a POSIX
// file system, does not keep a deleted object readable for a reader that already opened it:
// an overwrite committed while a GET streamed, or a copy read, the replaced blob cut that read
// short (CopyObject answered 500 after three overwrites in a row beat its retries). S3 itself
// serves a GET that began before an overwrite from the version it began with.
export class ReadPins {
  private readonly readers = new Map<string, number>();
  /** Removals asked for while the blob was read: run by the last reader's release. */
  private readonly deferred = new Map<string, () => Promise<void>>();

  /** Marks `fileId` as read until the returned release is called (once). */
  pin(fileId: string): () => void {
    this.readers.set(fileId, (this.readers.get(fileId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = this.readers.get(fileId)! - 1;
      if (n > 0) return void this.readers.set(fileId, n);
      this.readers.delete(fileId);
      const remove = this.deferred.get(fileId);
      if (!remove) return;
      this.deferred.delete(fileId);
      // A failure leaves an orphan, which the orphan sweep removes later.
      remove().catch(() => {});
    };
  }

  /** Removes now, or once the blob's last reader is done (then resolving at once). */
  remove(fileId: string, remove: () => Promise<void>): Promise<void> {
    if (!this.readers.has(fileId)) return remove();
    this.deferred.set(fileId, remove);
    return Promise.resolve();
  }

  /** Blobs being read now (tests). */
  get reading(): number {
    return this.readers.size;
  }
}
