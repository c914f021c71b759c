// Reading a backup's snapshot database (a VACUUM INTO copy) without opening it as a store:
// read-only, so the copy stays byte for byte what was taken.
import { DatabaseSync } from 'node:sqlite';

/** Every file id the snapshot's object and part rows reference. */
export function snapshotFileIds(dbFile: string): string[] {
  const db = new DatabaseSync(dbFile, { readOnly: true });
  try {
    // Snapshots taken before versioning existed have no object_versions table.
    const versions = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'object_versions'").get()
      ? " UNION SELECT file_id FROM object_versions WHERE file_id != ''"
      : '';
    return (
      db
        .prepare(`SELECT file_id FROM objects WHERE file_id != '' UNION SELECT file_id FROM multipart_parts${versions}`)
        .all() as Array<{ file_id: string }>
    ).map((r) => r.file_id);
  } finally {
    db.close();
  }
}
