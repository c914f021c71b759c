// The object browser for one bucket and folder: ListObjectsV2 with delimiter "/", 1000 keys a
// page (continuation tokens, so a bucket of any size stays quick), a prefix filter, breadcrumb,
// selection, uploads by picker or drag-and-drop, and deletes of objects or whole folders.
import { all, deleteKeys, s3Xml, text } from './api.js';
import { confirmDialog, fmtBytes, fmtDate, h, icon, toast } from './dom.js';
import { createUploader } from './upload.js';
import { download, showDetails, showShare } from './details.js';

const PAGE = 1000;
const FIRST = 60;
const SLICE = 200;
const hashFor = (bucket, prefix) => `#/b/${encodeURIComponent(bucket)}/${encodeURIComponent(prefix)}`;

/** Deletes every key under `prefix`, 1000 at a time; resolves with the number deleted. */
export async function deletePrefix(bucket, prefix, onProgress = () => {}) {
  let deleted = 0;
  for (let round = 0; round < 1e6; round++) {
    const doc = await s3Xml('GET', bucket, undefined, { query: { 'list-type': '2', prefix, 'max-keys': String(PAGE) } });
    const keys = all(doc, 'Contents').map((c) => text(c, 'Key'));
    if (!keys.length) break;
    const failed = await deleteKeys(bucket, keys);
    if (failed.length === keys.length) throw new Error(`Could not delete ${failed[0].key}: ${failed[0].code}`);
    deleted += keys.length - failed.length;
    onProgress(deleted);
    if (failed.length) throw new Error(`${failed.length} objects could not be deleted (${failed[0].code}).`);
  }
  return deleted;
}

export async function renderBrowser(main, bucket, prefix) {
  let tokens = [undefined]; // continuation token of each page seen
  let page = 0;
  const selected = new Map(); // key or folder prefix → 'file' | 'folder'
  const filter = h('input', { id: 'filter', type: 'search', placeholder: 'Filter by name prefix', autocomplete: 'off', spellcheck: 'false' });
  const picker = h('input', { type: 'file', multiple: true, hidden: true, id: 'file-picker', 'aria-label': 'Choose files to upload' });
  const uploader = createUploader({ bucket, prefix, onUploaded: () => void load() });
  picker.addEventListener('change', () => { uploader.enqueue([...picker.files]); picker.value = ''; });

  const crumbs = h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('ol', {},
    h('li', {}, h('a', { href: '#/buckets' }, 'Buckets')),
    h('li', {}, h('a', { href: hashFor(bucket, ''), 'aria-current': prefix ? undefined : 'page' }, bucket)),
    prefix.split('/').slice(0, -1).map((part, i, arr) => {
      const p = arr.slice(0, i + 1).join('/') + '/';
      return h('li', {}, h('a', { href: hashFor(bucket, p), 'aria-current': p === prefix ? 'page' : undefined }, part || '(empty)'));
    })));

  const deleteSelected = h('button', { type: 'button', class: 'btn btn-danger-ghost', disabled: true, onclick: () => void removeSelected() }, icon('trash'), 'Delete selected');
  const toolbar = h('div', { class: 'toolbar' },
    h('div', { class: 'toolbar-group grow' }, h('label', { for: 'filter', class: 'sr-only' }, 'Filter by name prefix'), filter),
    h('div', { class: 'toolbar-group' },
      h('button', { type: 'button', class: 'btn btn-ghost', 'aria-label': 'Refresh', title: 'Refresh', onclick: () => void load() }, icon('refresh')),
      deleteSelected,
      prefix ? h('button', { type: 'button', class: 'btn btn-danger-ghost', onclick: () => void removeFolder(prefix) }, icon('trash'), 'Delete folder') : null,
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => picker.click() }, icon('upload'), 'Upload'),
      picker));

  const selectAll = h('input', { type: 'checkbox', 'aria-label': 'Select all on this page' });
  const tbody = h('tbody');
  const table = h('table', { class: 'table objects-table' },
    h('caption', { class: 'sr-only' }, `Objects in ${bucket}/${prefix}`),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'col-check' }, selectAll),
      h('th', { scope: 'col', class: 'col-name' }, 'Name'),
      h('th', { scope: 'col', class: 'col-num' }, 'Size'),
      h('th', { scope: 'col', class: 'col-date hide-narrow' }, 'Last modified'),
      h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
    tbody);
  const status = h('span', { class: 'muted', 'aria-live': 'polite' }, '\u00a0');
  const prev = h('button', { type: 'button', class: 'btn btn-small', disabled: true, onclick: () => { page--; void load(false); } }, '‹ Previous');
  const next = h('button', { type: 'button', class: 'btn btn-small', disabled: true, onclick: () => { page++; void load(false); } }, 'Next ›');
  const drop = h('div', { class: 'drop-hint', 'aria-hidden': 'true' }, icon('upload'), 'Drop files to upload to ', h('strong', {}, `${bucket}/${prefix}`));
  // The pager sits above the rows, so rows arriving never push anything on the screen down.
  const card = h('div', { class: 'card table-card dropzone' }, h('div', { class: 'pager' }, status, h('div', { class: 'pager-buttons' }, prev, next)), table, drop);

  let depth = 0;
  card.addEventListener('dragenter', (e) => { if (e.dataTransfer?.types.includes('Files')) { depth++; card.classList.add('dragging'); } });
  card.addEventListener('dragleave', () => { if (--depth <= 0) { depth = 0; card.classList.remove('dragging'); } });
  card.addEventListener('dragover', (e) => { if (e.dataTransfer?.types.includes('Files')) e.preventDefault(); });
  card.addEventListener('drop', (e) => {
    e.preventDefault();
    depth = 0;
    card.classList.remove('dragging');
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length) uploader.enqueue(files);
  });

  main.append(h('div', { class: 'page-head' }, h('div', {}, crumbs, h('h1', { class: 'truncate' }, prefix ? prefix.slice(prefix.slice(0, -1).lastIndexOf('/') + 1) : bucket))),
    toolbar, uploader.panel, card);

  let timer;
  filter.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => void load(), 300); });
  selectAll.addEventListener('change', () => {
    for (const cb of tbody.querySelectorAll('input[type=checkbox]')) { cb.checked = selectAll.checked; cb.dispatchEvent(new Event('change')); }
  });

  function updateSelection() {
    deleteSelected.disabled = selected.size === 0;
    deleteSelected.lastChild.textContent = selected.size ? `Delete selected (${selected.size})` : 'Delete selected';
  }

  let loads = 0;
  async function load(reset = true) {
    const mine = ++loads; // a slower, older listing must not overwrite a newer one
    if (reset) { tokens = [undefined]; page = 0; }
    selected.clear();
    selectAll.checked = false;
    updateSelection();
    const keep = tbody.children.length;
    tbody.replaceChildren(...Array.from({ length: Math.max(3, Math.min(keep, 12)) }, () => h('tr', { class: 'skeleton' }, Array.from({ length: 5 }, () => h('td', {}, h('span', { class: 'bar' }))))));
    status.textContent = 'Loading…';
    let doc;
    try {
      doc = await s3Xml('GET', bucket, undefined, { query: { 'list-type': '2', delimiter: '/', prefix: prefix + filter.value, 'max-keys': String(PAGE), 'continuation-token': tokens[page] } });
    } catch (e) {
      if (mine !== loads) return;
      tbody.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, e.code === 'NoSuchBucket' ? `There is no bucket ${bucket}.` : `Cannot list ${bucket}: ${e.message}`)));
      status.textContent = '';
      return;
    }
    if (mine !== loads) return;
    const root = doc.documentElement;
    const folders = [...root.children].filter((c) => c.localName === 'CommonPrefixes').map((c) => text(c, 'Prefix'));
    const files = [...root.children].filter((c) => c.localName === 'Contents').map((c) => ({ key: text(c, 'Key'), size: Number(text(c, 'Size')), modified: text(c, 'LastModified') })).filter((f) => f.key !== prefix);
    const truncated = text(root, 'IsTruncated') === 'true';
    tokens[page + 1] = truncated ? text(root, 'NextContinuationToken') : undefined;
    const n = folders.length + files.length;
    const from = page * PAGE;
    const count = (k, word) => `${k.toLocaleString()} ${word}${k === 1 ? '' : 's'}`;
    status.textContent = n ? `Page ${page + 1} · ${folders.length ? `${count(folders.length, 'folder')}, ` : ''}${count(files.length, 'object')}${truncated || page ? ` (items ${(from + 1).toLocaleString()}–${(from + n).toLocaleString()})` : ''}` : '';
    prev.disabled = page === 0;
    next.disabled = !truncated;
    const items = [...folders.map((p) => () => folderRow(p)), ...files.map((f) => () => fileRow(f))];
    if (!items.length) tbody.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'empty' }, filter.value ? 'Nothing matches the filter.' : 'This folder is empty. Upload files with the button above or drop them here.')));
    else {
      // The first screenful at once, the rest of the page in slices between frames: the list
      // shows at once and the page stays responsive; rows only ever append below.
      tbody.replaceChildren(...items.slice(0, FIRST).map((make) => make()));
      for (let i = FIRST; i < items.length; i += SLICE) {
        await new Promise((r) => setTimeout(r, 0));
        if (mine !== loads) return;
        tbody.append(...items.slice(i, i + SLICE).map((make) => make()));
      }
    }
  }

  function check(id, kind, label) {
    const cb = h('input', { type: 'checkbox', 'aria-label': `Select ${label}` });
    cb.addEventListener('change', () => { if (cb.checked) selected.set(id, kind); else selected.delete(id); updateSelection(); });
    return h('td', { class: 'col-check' }, cb);
  }

  function folderRow(p) {
    const name = p.slice(prefix.length);
    return h('tr', { dataset: { prefix: p } }, check(p, 'folder', name),
      h('th', { scope: 'row', class: 'col-name' }, h('a', { href: hashFor(bucket, p), class: 'name-link' }, icon('folder'), h('span', { class: 'truncate' }, name))),
      h('td', { class: 'col-num muted' }, '—'), h('td', { class: 'col-date hide-narrow muted' }, 'Folder'),
      h('td', { class: 'col-actions' }, h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'btn-icon', title: 'Delete folder', 'aria-label': `Delete folder ${name}`, onclick: () => void removeFolder(p) }, icon('trash')))));
  }

  function fileRow(f) {
    const name = f.key.slice(prefix.length);
    const act = (label, ic, fn) => h('button', { type: 'button', class: 'btn-icon', title: label, 'aria-label': `${label} ${name}`, onclick: fn }, icon(ic));
    return h('tr', { dataset: { key: f.key } }, check(f.key, 'file', name),
      h('th', { scope: 'row', class: 'col-name' }, h('button', { type: 'button', class: 'name-link link-button', onclick: () => void showDetails(bucket, f.key) }, icon('file'), h('span', { class: 'truncate' }, name))),
      h('td', { class: 'col-num' }, fmtBytes(f.size)), h('td', { class: 'col-date hide-narrow' }, fmtDate(f.modified)),
      h('td', { class: 'col-actions' }, h('div', { class: 'row-actions' },
        act('Download', 'download', () => void download(bucket, f.key)),
        act('Share', 'share', () => void showShare(bucket, f.key)),
        act('Details', 'info', () => void showDetails(bucket, f.key)),
        act('Delete', 'trash', () => void removeKeys([f.key])))));
  }

  async function removeKeys(keys) {
    const what = keys.length === 1 ? keys[0] : `${keys.length} objects`;
    if (!(await confirmDialog('Delete objects?', `Delete ${what} from ${bucket}? This cannot be undone.`))) return;
    try {
      const failed = await deleteKeys(bucket, keys);
      if (failed.length) toast(`${failed.length} could not be deleted: ${failed[0].code}`, 'error');
      else toast(`Deleted ${what}`, 'ok');
    } catch (e) { toast(e.message, 'error'); }
    await load(false);
  }

  async function removeFolder(p) {
    if (!(await confirmDialog('Delete folder?', `Delete everything under ${bucket}/${p}? Every object whose key starts with “${p}” is removed. This cannot be undone.`, 'Delete everything'))) return;
    try {
      const n = await deletePrefix(bucket, p, (k) => { status.textContent = `Deleted ${k.toLocaleString()} objects…`; });
      toast(`Deleted ${n.toLocaleString()} objects under ${p}`, 'ok');
      if (p === prefix) location.hash = hashFor(bucket, prefix.slice(0, prefix.slice(0, -1).lastIndexOf('/') + 1));
      else await load();
    } catch (e) { toast(e.message, 'error'); await load(); }
  }

  async function removeSelected() {
    const files = [...selected].filter(([, k]) => k === 'file').map(([id]) => id);
    const folders = [...selected].filter(([, k]) => k === 'folder').map(([id]) => id);
    const what = [files.length && `${files.length} objects`, folders.length && `${folders.length} folders with everything in them`].filter(Boolean).join(' and ');
    if (!(await confirmDialog('Delete selected?', `Delete ${what} from ${bucket}? This cannot be undone.`))) return;
    try {
      if (files.length) await deleteKeys(bucket, files);
      for (const f of folders) await deletePrefix(bucket, f);
      toast(`Deleted ${what}`, 'ok');
    } catch (e) { toast(e.message, 'error'); }
    await load();
  }

  await load();
  return {};
}
