// Admin pages, for the owner of the server's configured key: server status, live metrics,
// and access keys (create with the secret shown once, rotate, delete).
import { api, session } from './api.js';
import { confirmDialog, fmtBytes, fmtDate, fmtDuration, h, icon, openDialog, toast } from './dom.js';
import { createMetricsPanel } from './metrics.js';

function copyField(label, value, id) {
  const input = h('input', { id, class: 'mono', readonly: true, value });
  return h('div', { class: 'secret-field' }, h('label', { for: id }, label), h('div', { class: 'field-row' }, input,
    h('button', { type: 'button', class: 'btn', 'aria-label': `Copy ${label}`, onclick: async () => {
      try { await navigator.clipboard.writeText(value); } catch { input.select(); document.execCommand('copy'); }
      toast(`${label} copied`, 'ok');
    } }, icon('copy'), 'Copy')));
}

function showSecret(title, row) {
  return openDialog({
    title, wide: true,
    body: h('div', {},
      h('p', { class: 'notice notice-warn' }, 'This is the only time the secret key is shown. Copy it now and keep it somewhere safe.'),
      copyField('Access key', row.accessKeyId, 'new-access-key'), copyField('Secret key', row.secretKey, 'new-secret-key'),
      h('p', { class: 'muted' }, `Owner: ${row.displayName} (${row.ownerId.slice(0, 16)}…)`)),
    buttons: [{ label: 'I have saved it', value: true, kind: 'primary' }],
  });
}

export async function renderAdmin(main) {
  const statusBody = h('div', { class: 'status-grid' }, Array.from({ length: 8 }, () => h('div', { class: 'status-item' }, h('span', { class: 'bar' }))));
  const metrics = createMetricsPanel();
  const keysBody = h('tbody');
  const nameInput = h('input', { id: 'key-name', placeholder: 'Display name of the new user', required: true, maxlength: 200 });
  const createForm = h('form', { class: 'inline-form', onsubmit: async (ev) => {
    ev.preventDefault();
    try {
      const row = await api('admin/keys', { displayName: nameInput.value.trim() });
      nameInput.value = '';
      await loadKeys();
      await showSecret('Access key created', row);
    } catch (e) { toast(e.message, 'error'); }
  } }, h('label', { for: 'key-name', class: 'sr-only' }, 'Display name of the new user'), nameInput, h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), 'Create key'));

  main.append(
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Administration'), h('p', { class: 'muted' }, 'Server status, live metrics and access keys.'))),
    h('section', { class: 'card', 'aria-labelledby': 'status-h' }, h('h2', { id: 'status-h' }, 'Server status'), statusBody),
    metrics.panel,
    h('section', { class: 'card', 'aria-labelledby': 'keys-h' },
      h('div', { class: 'section-head' }, h('h2', { id: 'keys-h' }, 'Access keys'), createForm),
      h('div', { class: 'table-scroll' }, h('table', { class: 'table keys-table' },
        h('caption', { class: 'sr-only' }, 'Access keys'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Access key'), h('th', { scope: 'col' }, 'User'), h('th', { scope: 'col', class: 'hide-narrow' }, 'Owner id'),
          h('th', { scope: 'col', class: 'hide-narrow' }, 'Created'), h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
        keysBody))));

  async function loadStatus() {
    const s = await api('admin/status');
    const item = (label, value, extra) => h('div', { class: 'status-item' }, h('span', { class: 'stat-label' }, label), h('span', { class: 'status-value' }, value), extra);
    const used = s.disk ? 1 - s.disk.freeBytes / s.disk.totalBytes : 0;
    const r = s.recovery;
    statusBody.replaceChildren(
      item('Version', `BleepStore ${s.version}`, h('span', { class: 'muted small' }, `Node ${s.node}`)),
      item('Uptime', fmtDuration(s.uptimeSeconds)),
      item('Durability', s.durability, h('span', { class: 'muted small' }, s.durability === 'full' ? 'fsync before every acknowledgement' : 'relaxed: recent writes may be lost in a power cut')),
      item('Storage', s.storage, h('span', { class: 'muted small' }, `region ${s.region}`)),
      item('Disk free', s.disk ? fmtBytes(s.disk.freeBytes) : '—', s.disk ? h('progress', { max: 1, value: used, 'aria-label': `Disk ${Math.round(used * 100)}% used` }) : null),
      item('Contents', `${s.totals.buckets.toLocaleString()} ${s.totals.buckets === 1 ? 'bucket' : 'buckets'}`, h('span', { class: 'muted small' }, `${s.totals.objects.toLocaleString()} objects, ${fmtBytes(s.totals.bytes)}`)),
      item('Data paths', h('span', { class: 'paths' }, Object.entries(s.paths).map(([k, v]) => h('span', {}, h('span', { class: 'muted' }, `${k} `), h('code', {}, v))))),
      item('Start-up recovery', `${r.tempFilesRemoved + r.orphanFilesRemoved + r.gcFilesRemoved + r.expiredUploadsFiles} files cleaned`,
        h('span', { class: 'muted small' }, `${r.tempFilesRemoved} temp, ${r.orphanFilesRemoved} orphan, ${r.gcFilesRemoved} pending removals, ${r.expiredUploadsFiles} from expired uploads; ${r.missingFiles} missing`)),
    );
  }

  async function loadKeys() {
    const { keys, configKey } = await api('admin/keys');
    keysBody.replaceChildren(...keys.map((k) => {
      const mine = k.accessKeyId === session.user.accessKeyId;
      const rotate = h('button', { type: 'button', class: 'btn btn-small', 'aria-label': `Rotate ${k.accessKeyId}`, onclick: async () => {
        const warn = mine ? ' You are logged in with this key: you will be logged out.' : '';
        if (!(await confirmDialog('Rotate secret?', `Give ${k.accessKeyId} a new secret? The old secret, and links shared with it, stop working at once.${warn}`, 'Rotate', 'primary'))) return;
        try {
          const row = await api('admin/keys/rotate', { accessKeyId: k.accessKeyId });
          await showSecret('Secret rotated', row);
          if (!mine) await loadKeys();
          else location.reload();
        } catch (e) { toast(e.message, 'error'); }
      } }, icon('refresh'), 'Rotate');
      const del = k.accessKeyId === configKey ? h('span', { class: 'badge', title: 'The key in the server config' }, 'config key')
        : h('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'aria-label': `Delete ${k.accessKeyId}`, onclick: async () => {
          if (!(await confirmDialog('Delete key?', `Delete ${k.accessKeyId} (${k.displayName})? Requests signed with it fail from now on. Buckets and objects stay.`))) return;
          try { await api('admin/keys/delete', { accessKeyId: k.accessKeyId }); toast(`Deleted ${k.accessKeyId}`, 'ok'); await loadKeys(); } catch (e) { toast(e.message, 'error'); }
        } }, icon('trash'), 'Delete');
      return h('tr', { dataset: { key: k.accessKeyId } },
        h('th', { scope: 'row' }, h('code', {}, k.accessKeyId), mine ? h('span', { class: 'badge badge-info' }, 'you') : null),
        h('td', {}, k.displayName), h('td', { class: 'hide-narrow' }, h('code', { class: 'muted', title: k.ownerId }, `${k.ownerId.slice(0, 12)}…`)),
        h('td', { class: 'hide-narrow' }, fmtDate(k.createdAt)),
        h('td', { class: 'col-actions' }, h('div', { class: 'row-actions' }, rotate, del)));
    }));
  }

  await Promise.all([loadStatus(), loadKeys()]);
  metrics.start();
  const refresh = setInterval(() => void loadStatus().catch(() => {}), 10_000);
  return { dispose: () => { metrics.stop(); clearInterval(refresh); } };
}
