// User metadata values beyond US-ASCII, as S3 handles them
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html, "User-defined
// object metadata"): "Values of such headers are character decoded as per RFC 2047 before
// storing and encoded as per RFC 2047 to make them mail-safe before returning."

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

function decodeWord(charset: string, kind: string, text: string): string | undefined {
  const cs = charset.toLowerCase().replace(/\*.*$/, ''); // RFC 2231 language suffix
  const enc =
    cs === 'utf-8' || cs === 'utf8'
      ? 'utf8'
      : cs === 'iso-8859-1' || cs === 'us-ascii' || cs === 'latin1'
        ? 'latin1'
        : undefined;
  if (!enc) return undefined;
  const bytes =
    kind.toLowerCase() === 'b'
      ? Buffer.from(text, 'base64')
      : Buffer.from(
          text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
          'latin1',
        );
  return bytes.toString(enc);
}

/**
 * A header value as Node hands it over (each byte one latin1 character) to the text it
 * means: raw UTF-8 bytes are read as UTF-8, and RFC 2047 encoded-words are decoded
 * (whitespace between two adjacent encoded-words is dropped, RFC 2047 section 6.2).
 */
export function decodeMetaValue(raw: string): string {
  let v = raw;
  if (/[\u0080-\u00ff]/.test(v)) {
    const utf8 = Buffer.from(v, 'latin1').toString('utf8');
    if (!utf8.includes('\ufffd')) v = utf8;
  }
  if (!v.includes('=?')) return v;
  return v
    .replace(/(\?=)\s+(?==\?)/g, '$1')
    .replace(
      ENCODED_WORD,
      (word, charset: string, kind: string, text: string) => decodeWord(charset, kind, text) ?? word,
    );
}

/** Returned as is when US-ASCII, else as one RFC 2047 "B" encoded-word of its UTF-8 bytes. */
export function encodeMetaValue(value: string): string {
  if (!/[\u0080-\uffff]/.test(value)) return value;
  return `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;
}
