// What is on disk versus what the database references, read straight from the data dir.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';

export interface DiskState {
  /** File ids present under objects/ab/. */
  files: Set<string>;
  /** File ids referenced by object (current or noncurrent version) and part rows. */
  referenced: Set<string>;
  /** Names left in objects/.tmp. */
  temp: string[];
}

export async function diskState(dataDir: string): Promise<DiskState> {
  const root = path.join(dataDir, 'objects');
  const files = new Set<string>();
  for (const a of await readdir(root)) {
    if (a.startsWith('.')) continue; // .tmp, .quarantine
    for (const f of await readdir(path.join(root, a))) files.add(f);
  }
  const db = new DatabaseSync(path.join(dataDir, 'metadata.db'), { readOnly: true });
  try {
    const rows = db
      .prepare(
        "SELECT file_id FROM objects WHERE file_id != '' UNION ALL SELECT file_id FROM object_versions WHERE file_id != '' UNION ALL SELECT file_id FROM multipart_parts",
      )
      .all() as Array<{ file_id: string }>;
    return { files, referenced: new Set(rows.map((r) => r.file_id)), temp: await readdir(path.join(root, '.tmp')) };
  } finally {
    db.close();
  }
}

/** Blob removals recorded in gc_files and not yet finished. */
export function pendingRemovals(dataDir: string): string[] {
  const db = new DatabaseSync(path.join(dataDir, 'metadata.db'), { readOnly: true });
  try {
    return (db.prepare('SELECT file_id FROM gc_files ORDER BY file_id').all() as Array<{ file_id: string }>).map(
      (r) => r.file_id,
    );
  } finally {
    db.close();
  }
}
