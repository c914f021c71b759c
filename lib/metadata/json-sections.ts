// A streaming reader for documents shaped like a metadata export:
//   { "section": [ value, value, ... ], "other": value, ... }
// Text arrives in chunks; each array element (and each non-array member) is handed over
// parsed, with the line it starts on, so a file of any size is read in constant memory and
// every error names a line.

export class JsonFormatError extends Error {
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'JsonFormatError';
    this.line = line;
  }
}

export interface SectionHandlers {
  /** A member begins; `isArray` tells whether items or one value follow. */
  begin(section: string, line: number, isArray: boolean): void;
  item(section: string, value: unknown, line: number): void;
  value(section: string, value: unknown, line: number): void;
}

type State =
  | 'start'
  | 'key-or-end'
  | 'key'
  | 'colon'
  | 'value'
  | 'array-first'
  | 'array-elem'
  | 'array-next'
  | 'comma-or-end'
  | 'done';
type CaptureKind = 'key' | 'value' | 'item';

interface Capture {
  kind: CaptureKind;
  parts: string[];
  line: number;
  depth: number;
  inString: boolean;
  escape: boolean;
  scalar: boolean;
}

const WS = new Set([' ', '\t', '\r', '\n']);
const EXPECTED: Record<State, string> = {
  start: "'{' at the start of the document",
  'key-or-end': "a section name or '}'",
  key: 'a section name',
  colon: "':'",
  value: 'a value',
  'array-first': "a record or ']'",
  'array-elem': 'a record',
  'array-next': "',' or ']'",
  'comma-or-end': "',' or '}'",
  done: 'nothing after the closing brace',
};

function shown(c: string): string {
  return JSON.stringify(c);
}

export class SectionReader {
  private state: State = 'start';
  private line = 1;
  private cap: Capture | null = null;
  private section = '';
  private readonly seen = new Set<string>();
  private readonly h: SectionHandlers;

  constructor(handlers: SectionHandlers) {
    this.h = handlers;
  }

  push(chunk: string): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.cap) {
        i = this.capture(chunk, i);
        continue;
      }
      const c = chunk[i]!;
      if (WS.has(c)) {
        if (c === '\n') this.line++;
        i++;
        continue;
      }
      i += this.structural(c);
    }
  }

  end(): void {
    if (this.cap?.scalar) this.finish('', 0);
    if (this.cap || this.state !== 'done')
      throw new JsonFormatError(this.line, `the document ends early (expected ${EXPECTED[this.state]})`);
  }

  /** Handles one structural character; returns how many characters it consumed (0 when a capture starts on it). */
  private structural(c: string): number {
    const fail = (): never => {
      throw new JsonFormatError(this.line, `expected ${EXPECTED[this.state]}, found ${shown(c)}`);
    };
    switch (this.state) {
      case 'start':
        if (c !== '{') fail();
        this.state = 'key-or-end';
        return 1;
      case 'key-or-end':
        if (c === '}') {
          this.state = 'done';
          return 1;
        }
        if (c !== '"') fail();
        this.begin('key');
        return 0;
      case 'key':
        if (c !== '"') fail();
        this.begin('key');
        return 0;
      case 'colon':
        if (c !== ':') fail();
        this.state = 'value';
        return 1;
      case 'value':
        if (c === '[') {
          this.h.begin(this.section, this.line, true);
          this.state = 'array-first';
          return 1;
        }
        this.h.begin(this.section, this.line, false);
        this.begin('value');
        return 0;
      case 'array-first':
        if (c === ']') {
          this.state = 'comma-or-end';
          return 1;
        }
        this.begin('item');
        return 0;
      case 'array-elem':
        if (c === ']' || c === ',') fail();
        this.begin('item');
        return 0;
      case 'array-next':
        if (c === ',') this.state = 'array-elem';
        else if (c === ']') this.state = 'comma-or-end';
        else fail();
        return 1;
      case 'comma-or-end':
        if (c === ',') this.state = 'key';
        else if (c === '}') this.state = 'done';
        else fail();
        return 1;
      case 'done':
        return fail();
    }
  }

  private begin(kind: CaptureKind): void {
    this.cap = { kind, parts: [], line: this.line, depth: 0, inString: false, escape: false, scalar: false };
  }

  /** Scans a captured value from `i`; returns where scanning stopped. */
  private capture(chunk: string, i: number): number {
    const cap = this.cap!;
    const start = i;
    if (cap.parts.length === 0 && !cap.inString && cap.depth === 0 && !cap.scalar) {
      const c = chunk[i]!;
      if (c !== '"' && c !== '{' && c !== '[') cap.scalar = true;
    }
    for (; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (cap.scalar) {
        if (WS.has(c) || c === ',' || c === ']' || c === '}') return this.finish(chunk.slice(start, i), i);
        continue;
      }
      if (c === '\n') this.line++;
      if (cap.inString) {
        if (cap.escape) cap.escape = false;
        else if (c === '\\') cap.escape = true;
        else if (c === '"') {
          cap.inString = false;
          if (cap.depth === 0) return this.finish(chunk.slice(start, i + 1), i + 1);
        }
      } else if (c === '"') {
        cap.inString = true;
      } else if (c === '{' || c === '[') {
        cap.depth++;
      } else if (c === '}' || c === ']') {
        cap.depth--;
        if (cap.depth === 0) return this.finish(chunk.slice(start, i + 1), i + 1);
      }
    }
    cap.parts.push(chunk.slice(start));
    return chunk.length;
  }

  private finish(tail: string, next: number): number {
    const cap = this.cap!;
    this.cap = null;
    const text = cap.parts.join('') + tail;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      const msg = (err as Error).message;
      const pos = /at position (\d+)/.exec(msg);
      const line = cap.line + (pos ? (text.slice(0, Number(pos[1])).match(/\n/g)?.length ?? 0) : 0);
      throw new JsonFormatError(line, `invalid JSON: ${msg.replace(/\s*(in JSON )?at position \d+.*$/s, '')}`);
    }
    switch (cap.kind) {
      case 'key':
        this.section = value as string;
        if (this.seen.has(this.section))
          throw new JsonFormatError(cap.line, `section ${JSON.stringify(this.section)} appears twice`);
        this.seen.add(this.section);
        this.state = 'colon';
        break;
      case 'value':
        this.h.value(this.section, value, cap.line);
        this.state = 'comma-or-end';
        break;
      case 'item':
        this.h.item(this.section, value, cap.line);
        this.state = 'array-next';
        break;
    }
    return next;
  }
}

/** Reads a whole stream of text chunks through a SectionReader. */
export async function readSections(chunks: AsyncIterable<string | Buffer>, handlers: SectionHandlers): Promise<void> {
  const reader = new SectionReader(handlers);
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for await (const chunk of chunks)
    reader.push(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
  reader.push(decoder.decode());
  reader.end();
}
