// Where a config really puts things, resolved, for logs and `bleepstore status`.
import path from 'node:path';
import type { Config } from './config.ts';

/** Where this store really keeps things, for the start-up log (resolved, so no guessing). */
export function dataPaths(config: Config): { data_dir: string; metadata_path: string; objects_path: string } {
  const metadataPath =
    config.metadata.sqlite.path === ':memory:' ? 'memory' : path.resolve(config.metadata.sqlite.path);
  const s = config.storage;
  const objects =
    s.backend === 'local'
      ? path.resolve(s.local.root_dir)
      : s.backend === 'memory'
        ? 'memory'
        : s.backend === 'sqlite'
          ? metadataPath
          : `${s.backend}:${s.backend === 'azure' ? s.azure.container : s[s.backend].bucket}/${s[s.backend].prefix}`;
  return { data_dir: path.resolve(config.data_dir), metadata_path: metadataPath, objects_path: objects };
}
