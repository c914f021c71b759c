// Talking to the server: the console API under ui/api/ and the ordinary S3 paths. Every S3
// request carries the session cookie (sent by the browser) and the CSRF token in a header;
// the server then treats it exactly as a request signed with the session's access key.
// URLs are relative to the page, so the console works under a reverse proxy's base path.

export const CSRF_HEADER = 'x-bleepstore-csrf';
/** The server's root as the browser sees it: the page is at <base>ui/. */
export const BASE = new URL('../', document.baseURI);

export const session = { csrf: null, user: null };

export class S3Error extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

/** A key as a URL path: "/" kept, except around "." and ".." segments, which browsers would resolve. */
export function encodeKey(key) {
  const parts = key.split('/');
  if (parts.some((p) => p === '.' || p === '..')) return encodeURIComponent(key);
  return parts.map(encodeURIComponent).join('/');
}

export function s3Url(bucket, key, query) {
  let path = bucket === undefined ? '' : encodeURIComponent(bucket);
  if (key !== undefined) path += '/' + encodeKey(key);
  const u = new URL(path, BASE);
  if (query) for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) u.searchParams.set(k, v);
  return u.toString().replace(/=(?=&|$)/g, ''); // "?acl", not "?acl="
}

let onLoggedOut = () => {};
export function whenLoggedOut(fn) { onLoggedOut = fn; }

async function errorOf(res) {
  const text = await res.text().catch(() => '');
  const doc = text ? new DOMParser().parseFromString(text, 'application/xml') : null;
  const code = doc?.querySelector('Error > Code')?.textContent;
  const message = doc?.querySelector('Error > Message')?.textContent;
  return new S3Error(res.status, code, message);
}

/** An S3 request; resolves with the Response for 2xx, throws S3Error otherwise. */
export async function s3(method, bucket, key, { query, headers = {}, body } = {}) {
  const res = await fetch(s3Url(bucket, key, query), {
    method, body, credentials: 'same-origin', cache: 'no-store',
    headers: { ...headers, [CSRF_HEADER]: session.csrf ?? '' },
  });
  if (res.ok) return res;
  const err = await errorOf(res);
  // A 403 after the session ended (timeout, key rotated or deleted): back to the login page.
  if (res.status === 403 && !(await checkSession())) onLoggedOut('Your session ended; log in again.');
  throw err;
}

export async function s3Xml(method, bucket, key, opts) {
  const res = await s3(method, bucket, key, opts);
  return new DOMParser().parseFromString(await res.text(), 'application/xml');
}

/** Text of the first matching child element, or ''. */
export function text(node, name) {
  for (const c of node.children) if (c.localName === name) return c.textContent ?? '';
  return '';
}
export function all(node, name) {
  return [...node.getElementsByTagName(name)];
}
export function kids(node, name) {
  return [...node.children].filter((c) => c.localName === name);
}

/** A console API call; throws Error with the server's message. */
export async function api(path, body, method = body === undefined ? 'GET' : 'POST') {
  const res = await fetch(new URL(`api/${path}`, document.baseURI), {
    method, credentials: 'same-origin', cache: 'no-store',
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(session.csrf ? { [CSRF_HEADER]: session.csrf } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = new Error(data.error || `HTTP ${res.status}`);
    e.status = res.status;
    if (res.status === 401 && path !== 'login' && path !== 'session') onLoggedOut('Your session ended; log in again.');
    throw e;
  }
  return data;
}

export async function checkSession() {
  try {
    const s = await api('session');
    session.csrf = s.csrf;
    session.user = s.user;
    return s.user !== null;
  } catch {
    session.csrf = null;
    session.user = null;
    return false;
  }
}

export async function login(accessKeyId, secretKey) {
  const s = await api('login', { accessKeyId, secretKey, path: BASE.pathname });
  session.csrf = s.csrf;
  session.user = s.user;
}

export async function logout() {
  try { await api('logout', { path: BASE.pathname }); } catch { /* already gone */ }
  session.csrf = null;
  session.user = null;
}

/** A presigned GET URL (signed by the server with the session key's secret). */
export async function presign(bucket, key, expiresSeconds, download = false) {
  const r = await api('presign', { bucket, key, expiresSeconds, download });
  return { url: new URL(`.${r.path}?${r.query}`, BASE).toString(), expiresAt: r.expiresAt };
}

// CRC32 (IEEE), for the x-amz-checksum-crc32 header DeleteObjects needs; crypto.subtle is not
// there on plain-HTTP origins other than localhost, so it is computed here.
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
export function crc32Base64(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  c = (c ^ 0xffffffff) >>> 0;
  return btoa(String.fromCharCode(c >>> 24, (c >>> 16) & 255, (c >>> 8) & 255, c & 255));
}

export function xmlEscape(s) {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** DeleteObjects for up to 1000 keys; resolves with the keys that failed. */
export async function deleteKeys(bucket, keys) {
  const xml = `<?xml version="1.0" encoding="UTF-8"?><Delete><Quiet>true</Quiet>${keys.map((k) => `<Object><Key>${xmlEscape(k)}</Key></Object>`).join('')}</Delete>`;
  const bytes = new TextEncoder().encode(xml);
  const doc = await s3Xml('POST', bucket, undefined, { query: { delete: '' }, headers: { 'content-type': 'application/xml', 'x-amz-checksum-crc32': crc32Base64(bytes) }, body: bytes });
  return all(doc, 'Error').map((e) => ({ key: text(e, 'Key'), code: text(e, 'Code') }));
}
