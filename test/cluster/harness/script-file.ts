/**
 * The data-driven script format (after etcd-io/raft's `datadriven` testdata):
 *
 *   # a comment
 *   command positional key=value key=a,b
 *   ----
 *   expected output, one or more lines
 *   <blank line ends the block>
 *
 * Expected output never contains a blank line (the runner prints `ok` for nothing).
 */
export interface ScriptBlock {
  /** 1-based line number of the command, for error messages. */
  line: number;
  /** Comment lines that precede the command, kept when the file is rewritten. */
  comments: string[];
  command: string;
  positional: string[];
  args: Map<string, string>;
  /** The command line as written. */
  text: string;
  expected: string;
}

export function parseScript(source: string, name = 'script'): ScriptBlock[] {
  const lines = source.replace(/\r\n/g, '\n').split('\n');
  const blocks: ScriptBlock[] = [];
  let comments: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const raw = lines[i] as string;
    const line = raw.trim();
    if (line === '') {
      i++;
      continue;
    }
    if (line.startsWith('#')) {
      comments.push(raw);
      i++;
      continue;
    }
    const at = i + 1;
    if (lines[i + 1]?.trim() !== '----') throw new Error(`${name}:${at}: expected "----" after the command "${line}"`);
    const out: string[] = [];
    i += 2;
    while (i < lines.length && (lines[i] as string).trim() !== '') out.push(lines[i++] as string);
    const [command, ...rest] = line.split(/\s+/);
    const positional: string[] = [];
    const args = new Map<string, string>();
    for (const tok of rest) {
      const eq = tok.indexOf('=');
      if (eq > 0) args.set(tok.slice(0, eq), tok.slice(eq + 1));
      else positional.push(tok);
    }
    blocks.push({
      line: at,
      comments,
      command: command as string,
      positional,
      args,
      text: line,
      expected: out.join('\n'),
    });
    comments = [];
  }
  return blocks;
}

/** Writes blocks back with the given outputs (used by REWRITE=1). */
export function formatScript(blocks: readonly ScriptBlock[], outputs: readonly string[]): string {
  const parts: string[] = [];
  blocks.forEach((b, n) => {
    const head = b.comments.length > 0 ? `${b.comments.join('\n')}\n` : '';
    parts.push(`${head}${b.text}\n----\n${outputs[n] ?? b.expected}\n`);
  });
  return parts.join('\n');
}

/** Reads an integer argument, with a clear message when it is missing or malformed. */
export function intArg(b: ScriptBlock, key: string, fallback?: number): number {
  const v = b.args.get(key);
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    throw new Error(`line ${b.line}: "${b.command}" needs ${key}=<number>`);
  }
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`line ${b.line}: ${key}=${v} is not an integer`);
  return n;
}

/** Parses `1,2,3` or `(1,2,3)` into numbers. */
export function idList(v: string): number[] {
  const s = v.replace(/^\(|\)$/g, '');
  if (s === '') return [];
  return s.split(',').map((x) => {
    const n = Number(x);
    if (!Number.isInteger(n)) throw new Error(`"${v}" is not a list of node ids`);
    return n;
  });
}
