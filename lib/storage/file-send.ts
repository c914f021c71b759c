// A file's bytes written to a response through a few buffers that are reused once the socket
// has taken them. Reading a 256 MiB object through a ReadStream allocated a fresh 1 MiB Buffer
// per read: 256 MiB of short-lived Buffers per GET, which under the server's bounded young
// generation (bin/bleepstore) cost more CPU in GC than the copying itself (STATUS, issue #17).
import type { FileHandle } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';

const CHUNK = 256 * 1024;
/** At most this many chunks in the socket's hands at once (1 MiB per response in flight). */
const IN_FLIGHT = 4;

/** A Readable of a file range that can also send itself (LocalStorage.openRead). */
export interface SendableFile extends Readable {
  sendTo(out: Writable): Promise<void>;
}

export function isSendable(r: Readable): r is SendableFile {
  return typeof (r as Partial<SendableFile>).sendTo === 'function';
}

/** Writes bytes [start, end] of `fh` to `out`, then ends it; rejects if `out` closes first. */
export async function sendFileRange(fh: FileHandle, start: number, end: number, out: Writable): Promise<void> {
  const free: Buffer[] = [];
  let made = 0;
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onClose = (): void => {
    failed ??= Object.assign(new Error('the response closed before the body was sent'), {
      code: 'ERR_STREAM_PREMATURE_CLOSE',
    });
    poke();
  };
  out.once('close', onClose);
  try {
    for (let pos = start; pos <= end; ) {
      if (!free.length && made < IN_FLIGHT) {
        free.push(Buffer.allocUnsafeSlow(Math.min(CHUNK, end - start + 1)));
        made++;
      }
      while (!free.length && !failed) await new Promise<void>((r) => (wake = r));
      if (failed) throw failed;
      const buf = free.pop()!;
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos + 1), pos);
      if (bytesRead === 0) throw new Error(`the file ended at byte ${pos}, before ${end + 1}`);
      pos += bytesRead;
      out.write(buf.subarray(0, bytesRead), (err) => {
        if (err) failed ??= err;
        free.push(buf);
        poke();
      });
    }
    if (failed) throw failed;
    await new Promise<void>((resolve, reject) => {
      out.end(() => (failed ? reject(failed) : resolve()));
    });
  } finally {
    out.off('close', onClose);
  }
}
