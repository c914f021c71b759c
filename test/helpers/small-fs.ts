// A real small filesystem for full-disk tests: a tmpfs mounted on a temp directory (needs
// root), and a filler that writes until the kernel answers ENOSPC.
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Mounts a tmpfs of `size` on a new directory, or says why that is impossible here. */
export async function mountTmpfs(size: string): Promise<{ dir: string; unmount(): Promise<void> } | string> {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = await mkdtemp(path.join(tmpdir(), 'bleepstore-small-fs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    return `cannot mount a tmpfs here: ${(err as Error).message.split('\n')[0]}`;
  }
  return {
    dir,
    async unmount() {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Writes zeros into `file` until the filesystem refuses (ENOSPC); returns the bytes written. */
export async function fillDisk(file: string): Promise<number> {
  const fh = await open(file, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  let written = 0;
  try {
    for (;;) {
      try {
        written += (await fh.write(chunk)).bytesWritten;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw err;
      }
    }
    // The last partial chunk: whatever single pages are left.
    for (const small of [4096, 512, 1]) {
      try {
        for (;;) written += (await fh.write(Buffer.alloc(small))).bytesWritten;
      } catch {
        /* next size */
      }
    }
  } finally {
    await fh.close();
  }
  return written;
}
