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
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\r': '&#13;' };

export function escapeXml(s: string): string {
  return s.replace(ESCAPE_RE, (c) => ESCAPES[c] ?? '\ufffd');
}

export type XmlValue = string | number | boolean | null | undefined | XmlNode | XmlValue[];
/** Element children by name; the key '@' holds the element's attributes. */
export interface XmlNode { [name: string]: XmlValue }

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
    for (const [k, v] of Object.entries(value)) if (k !== '@') write(k, v, out);
    out.push('</', name, '>');
    return;
  }
  const text = escapeXml(String(value));
  out.push('<', name, '>', text, '</', name, '>');
}

/** A complete document with the S3 namespace on the root element. */
export function xmlDocument(root: string, body: XmlNode, namespace: string | null = S3_NS): string {
  const out: string[] = [DECL];
  out.push('<', root, namespace ? ` xmlns="${namespace}"` : '', '>');
  for (const [k, v] of Object.entries(body)) write(k, v, out);
  out.push('</', root, '>');
  return out.join('');
}


export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

/** Parses a small, already size-bounded XML body into a tree. Namespace prefixes are stripped. */
export function parseXml(body: Buffer | string, errorCode: S3ErrorCode = 'MalformedXML'): XmlElement {
  const parser = sax.parser(true, { trim: false, normalize: false, xmlns: false });
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let failed: Error | undefined;
  parser.onerror = (err) => {
    failed = err;
  };
  parser.ondoctype = () => {
    failed = new Error('DOCTYPE is not allowed');
  };
  parser.onopentag = (tag) => {
    const name = tag.name.includes(':') ? tag.name.slice(tag.name.indexOf(':') + 1) : tag.name;
    const el: XmlElement = { name, attributes: tag.attributes as Record<string, string>, children: [], text: '' };
    if (stack.length) stack[stack.length - 1]!.children.push(el);
    else if (root) failed = new Error('more than one root element');
    else root = el;
    stack.push(el);
  };
  parser.onclosetag = () => {
    stack.pop();
  };
  parser.ontext = (t) => {
    if (stack.length) stack[stack.length - 1]!.text += t;
  };
  parser.oncdata = parser.ontext;
  try {
    parser.write(typeof body === 'string' ? body : body.toString('utf8')).close();
  } catch (err) {
    failed = err as Error;
  }
  if (failed || !root || stack.length) throw new S3Error(errorCode);
  return root;
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
