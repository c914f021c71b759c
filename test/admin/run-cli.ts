// Runs bin/bleepstore as a real child process, the way an operator would.
import { execFile } from 'node:child_process';
import path from 'node:path';

const BIN = path.resolve(import.meta.dirname, '../../bin/bleepstore');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `bleepstore <args>`; the environment carries no BLEEPSTORE_* settings from outside. */
export function cli(args: string[], input?: string): Promise<CliResult> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('BLEEPSTORE_')));
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      { env, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin!.end(input);
    else child.stdin!.end();
  });
}
