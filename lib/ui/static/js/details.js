// Object dialogs: details (HeadObject with checksums, GetObjectAcl), share (a presigned GET
// with a chosen expiry and a copy button), and download (a short-lived presigned link).
import { all, presign, s3, s3Xml, text } from './api.js';
import { fmtBytes, fmtDate, h, icon, openDialog, toast } from './dom.js';

const EXPIRIES = [
  [15 * 60, '15 minutes'], [3600, '1 hour'], [12 * 3600, '12 hours'], [86400, '1 day'], [3 * 86400, '3 days'], [7 * 86400, '7 days (the most S3 allows)'],
];

function dl(rows) {
  return h('dl', { class: 'props' }, rows.filter(([, v]) => v !== undefined && v !== null && v !== '').flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

export async function showDetails(bucket, key) {
  const body = h('div', { class: 'details' }, h('p', { class: 'muted' }, 'Loading…'));
  const opened = openDialog({ title: key.slice(key.lastIndexOf('/', key.length - 2) + 1) || key, body, wide: true });
  try {
    const [head, acl] = await Promise.allSettled([
      s3('HEAD', bucket, key, { headers: { 'x-amz-checksum-mode': 'ENABLED' } }),
      s3Xml('GET', bucket, key, { query: { acl: '' } }),
    ]);
    const parts = [];
    if (head.status === 'fulfilled') {
      const hd = head.value.headers;
      const meta = [];
      const checksums = [];
      hd.forEach((v, k) => {
        if (k.startsWith('x-amz-meta-')) meta.push([k.slice(11), v]);
        if (k.startsWith('x-amz-checksum-') && k !== 'x-amz-checksum-type') checksums.push([k.slice(15).toUpperCase(), h('code', {}, v)]);
      });
      parts.push(h('h3', {}, 'Object'), dl([
        ['Bucket', bucket], ['Key', h('code', { class: 'wrap' }, key)],
        ['Size', `${fmtBytes(Number(hd.get('content-length')))} (${Number(hd.get('content-length')).toLocaleString()} bytes)`],
        ['Last modified', fmtDate(hd.get('last-modified'))], ['Content type', hd.get('content-type')],
        ['ETag', h('code', {}, hd.get('etag') ?? '')], ['Storage class', hd.get('x-amz-storage-class') ?? 'STANDARD'],
        ['Cache-Control', hd.get('cache-control')], ['Content-Disposition', hd.get('content-disposition')], ['Content-Encoding', hd.get('content-encoding')],
      ]));
      parts.push(h('h3', {}, 'Checksum'), checksums.length ? dl([...checksums, ['Type', hd.get('x-amz-checksum-type')]]) : h('p', { class: 'muted' }, 'No additional checksum was stored with this object (the ETag above is its MD5 or multipart ETag).'));
      parts.push(h('h3', {}, 'User metadata'), meta.length ? dl(meta) : h('p', { class: 'muted' }, 'None.'));
    } else parts.push(h('p', { class: 'notice notice-error' }, `Cannot read the object: ${head.reason.message}`));
    if (acl.status === 'fulfilled') {
      const doc = acl.value;
      const owner = doc.getElementsByTagName('Owner')[0];
      parts.push(h('h3', {}, 'Access control list'), dl([['Owner', owner ? text(owner, 'DisplayName') || text(owner, 'ID') : '—']]),
        h('table', { class: 'table table-compact' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Grantee'), h('th', { scope: 'col' }, 'Permission'))),
          h('tbody', {}, all(doc, 'Grant').map((g) => {
            const who = g.getElementsByTagName('Grantee')[0];
            const uri = who ? text(who, 'URI') : '';
            const name = uri ? (uri.endsWith('/AllUsers') ? 'Everyone (AllUsers)' : uri.endsWith('/AuthenticatedUsers') ? 'Any signed user' : uri) : (text(who, 'DisplayName') || text(who, 'ID'));
            return h('tr', {}, h('td', {}, name), h('td', {}, text(g, 'Permission')));
          }))));
    } else parts.push(h('h3', {}, 'Access control list'), h('p', { class: 'muted' }, `Not readable with this key (${acl.reason.message}).`));
    body.replaceChildren(...parts);
  } catch (e) {
    body.replaceChildren(h('p', { class: 'notice notice-error' }, e.message));
  }
  return opened;
}

export function showShare(bucket, key) {
  const select = h('select', { id: 'share-expiry' }, EXPIRIES.map(([s, label]) => h('option', { value: String(s), selected: s === 86400 }, label)));
  const out = h('input', { id: 'share-url', class: 'mono', readonly: true, placeholder: 'Press “Create link”', 'aria-label': 'Shareable link' });
  const note = h('p', { class: 'muted', 'aria-live': 'polite' }, 'Anyone with the link can download this object until it expires. Rotating or deleting your key revokes it.');
  const copy = h('button', { type: 'button', class: 'btn', disabled: true, onclick: async () => {
    try { await navigator.clipboard.writeText(out.value); } catch { out.select(); document.execCommand('copy'); }
    toast('Link copied', 'ok');
  } }, icon('copy'), 'Copy');
  const make = h('button', { type: 'button', class: 'btn btn-primary', onclick: async () => {
    try {
      const r = await presign(bucket, key, Number(select.value));
      out.value = r.url;
      copy.disabled = false;
      note.textContent = `The link works until ${fmtDate(r.expiresAt)}. Anyone who has it can download the object.`;
      out.focus();
      out.select();
    } catch (e) { toast(e.message, 'error'); }
  } }, icon('share'), 'Create link');
  const body = h('div', { class: 'share' },
    h('p', {}, 'Share ', h('code', {}, key), ' with a link that needs no login.'),
    h('div', { class: 'field-row' }, h('label', { for: 'share-expiry' }, 'Expires after'), select, make),
    h('div', { class: 'field-row' }, out, copy), note);
  return openDialog({ title: 'Share a link', body, wide: true });
}

export async function download(bucket, key) {
  try {
    const { url } = await presign(bucket, key, 300, true);
    const a = h('a', { href: url, download: key.slice(key.lastIndexOf('/') + 1), hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
  } catch (e) { toast(`Cannot download: ${e.message}`, 'error'); }
}
