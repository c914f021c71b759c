// The staged blob of the file-based backends (local, and the gateways' staging dir).
import { FileSink } from '../body/file-sink.ts';
import type { StagedBlob } from './backend.ts';

/** A staged blob written to a new file at `tmpPath`; `commit` publishes that file. */
export async function fileStagedBlob(tmpPath: string, commit: () => Promise<string>): Promise<StagedBlob> {
  const sink = await FileSink.create(tmpPath);
  return {
    push: (b) => sink.push(b),
    backpressure: () => sink.backpressure(),
    finish: () => sink.finish(),
    discard: () => sink.discard(),
    commit,
  };
}
