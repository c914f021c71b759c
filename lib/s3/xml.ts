// XML for S3: a small writer for responses and a sax-based reader for request bodies.
import sax from 'sax';
import { S3Error, type S3ErrorCode } from './errors.ts';

export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const DECL = '<?xml version="1.0" encoding="UTF-8"?>\n';

// XML 1.0 cannot carry most C0 controls even as references; AWS suggests encoding-type=url
// for such keys. We escape the representable ones and replace the rest with U+FFFD.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html#object-key-xml-related-constraints
// biome-ignore lint/suspicious/noControlCharactersInRegex: XML 1.0 cannot carry these characters (https://www.w3.org/TR/xml/#charsets)
const ESCAPE_RE = /[&<>"'\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  '\r': '&#13;',
};

export function escapeXml(s: string): string {
  return s.replace(ESCAPE_RE, (c) => ESCAPES[c] ?? '\ufffd');
}

export type XmlValue = string | number | boolean | null | undefined | XmlNode | XmlValue[];
/**
 * Element children by name; the key '@' holds the element's attributes, and '#seq' a list of
 * [name, value] children written in that order (elements of different names interleaved).
 */
export interface XmlNode {
  [name: string]: XmlValue;
}

/** Serialises a nested object: arrays repeat the element, null/undefined are omitted. */
function write(name: string, value: XmlValue, out: string[]): void {
  if (value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const v of value) write(name, v, out);
    return;
  }
  if (typeof value === 'object') {
    out.push('<', name);
    const attrs = value['@'];
    if (attrs && typeof attrs === 'object' && !Array.isArray(attrs)) {
      for (const [k, v] of Object.entries(attrs)) out.push(' ', k, '="', escapeXml(String(v)), '"');
    }
    out.push('>');
    writeChildren(value, out);
    out.push('</', name, '>');
    return;
  }
  const text = escapeXml(String(value));
  out.push('<', name, '>', text, '</', name, '>');
}

function writeChildren(node: XmlNode, out: string[]): void {
  for (const [k, v] of Object.entries(node)) {
    if (k === '@') continue;
    if (k === '#seq') for (const [n, x] of v as Array<[string, XmlValue]>) write(n, x, out);
    else write(k, v, out);
  }
}

/** A complete document with the S3 namespace on the root element. */
export function xmlDocument(root: string, body: XmlNode, namespace: string | null = S3_NS): string {
  const out: string[] = [DECL];
  out.push('<', root, namespace ? ` xmlns="${namespace}"` : '', '>');
  writeChildren(body, out);
  out.push('</', root, '>');
  return out.join('');
}

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

export interface XmlLimits {
  /** Elements in the whole document; parsing stops at the first one past it. */
  maxElements?: number;
  /** Nesting depth; S3 request documents nest at most 5 deep (AccessControlPolicy). */
  maxDepth?: number;
  /** The root element's name, when only one is valid. */
  root?: string;
  /**
   * Per parent element: the child names its schema allows (leaves: none) and how many
   * children at most. Anything else fails at once, as AWS validates against its schema.
   */
  schema?: Record<string, { names: readonly string[]; max?: number; required?: readonly string[] }>;
}

const DEFAULT_LIMITS = { maxElements: 1000, maxDepth: 16 };
// sax is fed in slices, so an excess found early costs no parse of the rest of the body.
const SLICE_CHARS = 64 * 1024;

/**
 * A streaming reader for request documents. Bytes must be valid UTF-8: a lenient decode
 * would turn a bad <Key> into U+FFFD and act on a key the client never named. Depth and
 * element count are checked as sax streams, so a hostile body fails at its first excess
 * (write() throws) instead of building a huge tree or even being read to its end.
 */
export class XmlReader {
  private readonly parser = sax.parser(true, { trim: false, normalize: false, xmlns: false });
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private readonly stack: XmlElement[] = [];
  private root: XmlElement | undefined;
  private failed: Error | undefined;
  private elements = 0;
  private bytes = 0;
  private readonly errorCode: S3ErrorCode;

  constructor(errorCode: S3ErrorCode = 'MalformedXML', limits: XmlLimits = {}) {
    this.errorCode = errorCode;
    const { maxElements, maxDepth, root, schema } = { ...DEFAULT_LIMITS, ...limits };
    const p = this.parser;
    p.onerror = (err) => void (this.failed = err);
    p.ondoctype = () => void (this.failed = new Error('DOCTYPE is not allowed'));
    p.onopentag = (tag) => {
      if (++this.elements > maxElements || this.stack.length >= maxDepth)
        throw new Error('document too large or too deep');
      const name = tag.name.includes(':') ? tag.name.slice(tag.name.indexOf(':') + 1) : tag.name;
      const parent = this.stack[this.stack.length - 1];
      const rule = parent && schema?.[parent.name];
      if (rule && (!rule.names.includes(name) || parent.children.length >= (rule.max ?? Infinity)))
        throw new Error(`unexpected <${name}> in <${parent.name}>`);
      if (!parent && root !== undefined && name !== root) throw new Error(`unexpected root <${name}>`);
      const el: XmlElement = { name, attributes: tag.attributes as Record<string, string>, children: [], text: '' };
      if (this.stack.length) this.stack[this.stack.length - 1]!.children.push(el);
      else if (this.root) this.failed = new Error('more than one root element');
      else this.root = el;
      this.stack.push(el);
    };
    p.onclosetag = () => {
      const el = this.stack.pop()!;
      const missing = schema?.[el.name]?.required?.find((n) => !el.children.some((c) => c.name === n));
      if (missing) throw new Error(`<${el.name}> without <${missing}>`);
    };
    p.ontext = (t) => {
      if (this.stack.length) this.stack[this.stack.length - 1]!.text += t;
    };
    p.oncdata = p.ontext;
  }

  /** Bytes read so far. */
  get size(): number {
    return this.bytes;
  }

  /** Parses the next piece; throws the S3 error at the first problem. */
  write(chunk: Buffer | string): void {
    this.bytes += chunk.length;
    try {
      const text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
      for (let i = 0; i < text.length && !this.failed; i += SLICE_CHARS)
        this.parser.write(text.slice(i, i + SLICE_CHARS));
    } catch (err) {
      this.failed ??= err as Error;
    }
    if (this.failed) throw new S3Error(this.errorCode);
  }

  /** The document's root element, once the body has ended. */
  end(): XmlElement {
    try {
      this.write(this.decoder.decode());
      this.parser.close();
    } catch (err) {
      this.failed ??= err as Error;
    }
    if (this.failed || !this.root || this.stack.length) throw new S3Error(this.errorCode);
    return this.root;
  }
}

/** Parses a whole, already size-bounded XML body into a tree (see XmlReader). */
export function parseXml(
  body: Buffer | string,
  errorCode: S3ErrorCode = 'MalformedXML',
  limits: XmlLimits = {},
): XmlElement {
  const reader = new XmlReader(errorCode, limits);
  reader.write(body);
  return reader.end();
}

export function child(el: XmlElement, name: string): XmlElement | undefined {
  return el.children.find((c) => c.name === name);
}

export function children(el: XmlElement, name: string): XmlElement[] {
  return el.children.filter((c) => c.name === name);
}

export function childText(el: XmlElement, name: string): string | undefined {
  return child(el, name)?.text;
}
