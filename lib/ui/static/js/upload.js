// Uploads: one PUT for small files, multipart for large ones (8 MiB parts, three at a time),
// through XMLHttpRequest for its upload progress events. Cancel aborts what is in flight and
// the multipart upload. One file at a time; the queue shows each file's progress.
import { CSRF_HEADER, s3, s3Url, s3Xml, session, text, xmlEscape } from './api.js';
import { fmtBytes, h, icon, toast } from './dom.js';

export const PART_SIZE = 8 * 1024 * 1024;
const PARALLEL_PARTS = 3;

class Cancelled extends Error {}

// Uploads keep going when the user browses elsewhere in the console; leaving the page would
// cut them, so the browser asks first.
let active = 0;
window.addEventListener('beforeunload', (e) => { if (active) e.preventDefault(); });

/** PUT a body with progress; resolves with the ETag. */
function put(url, body, headers, onProgress, signal) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('PUT', url);
    xhr.setRequestHeader(CSRF_HEADER, session.csrf ?? '');
    for (const [k, v] of Object.entries(headers)) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve(xhr.getResponseHeader('ETag'));
      const doc = new DOMParser().parseFromString(xhr.responseText || '<x/>', 'application/xml');
      reject(new Error(doc.querySelector('Message')?.textContent || doc.querySelector('Code')?.textContent || `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new Error('The connection failed.'));
    xhr.onabort = () => reject(new Cancelled('Cancelled'));
    if (signal.aborted) return reject(new Cancelled('Cancelled'));
    signal.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(body);
  });
}

async function uploadFile(bucket, key, file, onProgress, signal) {
  const type = file.type || 'application/octet-stream';
  if (file.size <= PART_SIZE) {
    await put(s3Url(bucket, key), file, { 'content-type': type }, onProgress, signal);
    return;
  }
  const created = await s3Xml('POST', bucket, key, { query: { uploads: '' }, headers: { 'content-type': type } });
  const uploadId = text(created.documentElement, 'UploadId');
  const count = Math.ceil(file.size / PART_SIZE);
  const loaded = new Array(count).fill(0);
  const etags = new Array(count);
  let next = 0;
  try {
    await Promise.all(Array.from({ length: Math.min(PARALLEL_PARTS, count) }, async () => {
      while (next < count) {
        const i = next++;
        const blob = file.slice(i * PART_SIZE, Math.min(file.size, (i + 1) * PART_SIZE));
        etags[i] = await put(s3Url(bucket, key, { partNumber: String(i + 1), uploadId }), blob, {}, (n) => {
          loaded[i] = n;
          onProgress(loaded.reduce((a, b) => a + b, 0));
        }, signal);
      }
    }));
    const body = `<?xml version="1.0" encoding="UTF-8"?><CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${xmlEscape(e ?? '')}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
    const done = await s3Xml('POST', bucket, key, { query: { uploadId }, headers: { 'content-type': 'application/xml' }, body });
    if (done.documentElement.localName === 'Error') throw new Error(text(done.documentElement, 'Message') || 'CompleteMultipartUpload failed');
  } catch (e) {
    await s3('DELETE', bucket, key, { query: { uploadId } }).catch(() => {});
    throw e;
  }
}

/** The upload queue panel; `enqueue(files)` adds files under the current folder. */
export function createUploader({ bucket, prefix, onUploaded }) {
  const list = h('ul', { class: 'upload-list', 'aria-label': 'Uploads' });
  const panel = h('section', { class: 'card upload-panel', hidden: true, 'aria-label': 'Uploads' },
    h('div', { class: 'upload-head' }, h('h2', {}, 'Uploads'),
      h('button', { type: 'button', class: 'btn btn-small btn-ghost', onclick: () => { for (const li of [...list.children]) if (li.dataset.state !== 'active' && li.dataset.state !== 'queued') li.remove(); panel.hidden = !list.children.length; } }, 'Clear finished')),
    list);
  const queue = [];
  let running = false;

  function enqueue(files) {
    for (const file of files) {
      const key = prefix + (file.webkitRelativePath || file.name);
      const ctl = new AbortController();
      const bar = h('progress', { max: file.size || 1, value: 0, 'aria-label': `Upload progress of ${key}` });
      const status = h('span', { class: 'upload-status' }, 'Queued');
      const cancel = h('button', { type: 'button', class: 'btn btn-small btn-ghost', 'aria-label': `Cancel upload of ${key}`, onclick: () => ctl.abort() }, 'Cancel');
      const li = h('li', { class: 'upload-item', dataset: { key, state: 'queued' } },
        h('div', { class: 'upload-name' }, icon('file'), h('span', { class: 'truncate', title: key }, key), h('span', { class: 'muted' }, fmtBytes(file.size))),
        bar, status, cancel);
      list.append(li);
      queue.push({ file, key, ctl, bar, status, cancel, li });
    }
    panel.hidden = false;
    void run();
  }

  async function run() {
    if (running) return;
    running = true;
    let uploaded = 0;
    while (queue.length) {
      const u = queue.shift();
      if (u.ctl.signal.aborted) { finish(u, 'cancelled', 'Cancelled'); continue; }
      active++;
      u.li.dataset.state = 'active';
      const started = performance.now();
      try {
        await uploadFile(bucket, u.key, u.file, (n) => {
          u.bar.value = n;
          const pct = u.file.size ? Math.floor((n / u.file.size) * 100) : 100;
          const secs = (performance.now() - started) / 1000;
          u.status.textContent = `${pct}% · ${fmtBytes(n / Math.max(secs, 0.001))}/s`;
        }, u.ctl.signal);
        u.bar.value = u.file.size || 1;
        finish(u, 'done', 'Done');
        uploaded++;
      } catch (e) {
        if (e instanceof Cancelled || u.ctl.signal.aborted) finish(u, 'cancelled', 'Cancelled');
        else { finish(u, 'failed', `Failed: ${e.message}`); toast(`Upload of ${u.key} failed: ${e.message}`, 'error'); }
      } finally {
        active--;
      }
    }
    running = false;
    if (uploaded) { toast(uploaded === 1 ? '1 file uploaded' : `${uploaded} files uploaded`, 'ok'); onUploaded(); }
  }

  function finish(u, state, label) {
    u.li.dataset.state = state;
    u.status.textContent = label;
    u.cancel.remove();
  }

  return { panel, enqueue };
}
