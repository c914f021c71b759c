// The bucket list: ListBuckets, then each bucket's owner and access (GetBucketAcl) and totals
// (ui/api/bucket-stats) filled in as they arrive; create, delete, public-read / private.
import { all, api, kids, s3, s3Xml, text } from './api.js';
import { confirmDialog, fmtBytes, fmtDate, h, icon, toast } from './dom.js';

const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

export function isPublic(aclDoc) {
  return all(aclDoc, 'Grant').some((g) => all(g, 'URI').some((u) => u.textContent === ALL_USERS) && ['READ', 'FULL_CONTROL'].includes(text(g, 'Permission')));
}

/** Runs fn over items, at most `n` at a time. */
async function pool(items, n, fn) {
  let i = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (i < items.length) await fn(items[i++]);
  }));
}

export async function renderBuckets(main) {
  const name = h('input', { id: 'new-bucket', name: 'bucket', placeholder: 'new-bucket-name', pattern: '[a-z0-9][a-z0-9.\\-]{1,61}[a-z0-9]', required: true, spellcheck: 'false', autocapitalize: 'off', 'aria-describedby': 'new-bucket-help' });
  const form = h('form', {
    class: 'inline-form',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        await s3('PUT', name.value.trim());
        toast(`Bucket ${name.value.trim()} created`, 'ok');
        name.value = '';
        await load();
      } catch (e) {
        toast(`Could not create the bucket: ${e.message}`, 'error');
      }
    },
  }, h('label', { for: 'new-bucket', class: 'sr-only' }, 'New bucket name'), name,
  h('button', { type: 'submit', class: 'btn btn-primary' }, icon('plus'), 'Create bucket'));

  const tbody = h('tbody');
  const table = h('table', { class: 'table buckets-table' },
    h('caption', { class: 'sr-only' }, 'Your buckets'),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', class: 'col-name' }, 'Name'),
      h('th', { scope: 'col', class: 'col-access' }, 'Access'),
      h('th', { scope: 'col', class: 'col-num hide-narrow' }, 'Objects'),
      h('th', { scope: 'col', class: 'col-num' }, 'Size'),
      h('th', { scope: 'col', class: 'col-owner hide-narrow' }, 'Owner'),
      h('th', { scope: 'col', class: 'col-date hide-narrow' }, 'Created'),
      h('th', { scope: 'col', class: 'col-actions' }, h('span', { class: 'sr-only' }, 'Actions')))),
    tbody);
  const summary = h('p', { class: 'muted', 'aria-live': 'polite' }, '\u00a0');

  main.append(
    h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Buckets'), summary), form),
    h('p', { id: 'new-bucket-help', class: 'sr-only' }, '3 to 63 lowercase letters, digits, dots and hyphens.'),
    h('div', { class: 'card table-card' }, table));

  async function load() {
    tbody.replaceChildren(...Array.from({ length: 3 }, () => h('tr', { class: 'skeleton' }, Array.from({ length: 7 }, () => h('td', {}, h('span', { class: 'bar' }))))));
    const doc = await s3Xml('GET', undefined, undefined, { query: { 'max-buckets': '10000' } });
    const buckets = kids(doc.documentElement.getElementsByTagName('Buckets')[0] ?? doc.documentElement, 'Bucket').map((b) => ({ name: text(b, 'Name'), created: text(b, 'CreationDate') }));
    summary.textContent = buckets.length === 1 ? '1 bucket' : `${buckets.length} buckets`;
    if (!buckets.length) {
      tbody.replaceChildren(h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No buckets yet. Create one above.')));
      return;
    }
    const rows = buckets.map((b) => row(b));
    tbody.replaceChildren(...rows.map((r) => r.tr));
    await pool(rows, 4, (r) => r.fill());
  }

  function row(b) {
    const access = h('td', { class: 'col-access' }, h('span', { class: 'bar' }));
    const objects = h('td', { class: 'col-num hide-narrow' }, h('span', { class: 'bar' }));
    const bytes = h('td', { class: 'col-num' }, h('span', { class: 'bar' }));
    const owner = h('td', { class: 'col-owner hide-narrow' }, h('span', { class: 'bar' }));
    const toggle = h('button', { type: 'button', class: 'btn btn-small', disabled: true }, 'Make public');
    let pub = false;
    toggle.addEventListener('click', async () => {
      const next = pub ? 'private' : 'public-read';
      if (next === 'public-read' && !(await confirmDialog('Make bucket public?', `Anyone on the network will be able to list the objects in ${b.name}. Objects keep their own ACLs.`, 'Make public', 'primary'))) return;
      try {
        await s3('PUT', b.name, undefined, { query: { acl: '' }, headers: { 'x-amz-acl': next } });
        toast(`${b.name} is now ${next === 'private' ? 'private' : 'public-read'}`, 'ok');
        await fill();
      } catch (e) { toast(e.message, 'error'); }
    });
    const del = h('button', { type: 'button', class: 'btn btn-small btn-danger-ghost', 'aria-label': `Delete bucket ${b.name}` }, icon('trash'), h('span', { class: 'hide-narrow' }, 'Delete'));
    del.addEventListener('click', async () => {
      if (!(await confirmDialog('Delete bucket?', `Delete the bucket ${b.name}? It must be empty.`))) return;
      try {
        await s3('DELETE', b.name);
        toast(`Bucket ${b.name} deleted`, 'ok');
        await load();
      } catch (e) { toast(e.code === 'BucketNotEmpty' ? `${b.name} is not empty: delete its objects first.` : e.message, 'error'); }
    });
    const tr = h('tr', { dataset: { bucket: b.name } },
      h('th', { scope: 'row', class: 'col-name' }, h('a', { href: `#/b/${encodeURIComponent(b.name)}/` }, icon('bucket'), b.name)),
      access, objects, bytes, owner,
      h('td', { class: 'col-date hide-narrow' }, fmtDate(b.created)),
      h('td', { class: 'col-actions' }, h('div', { class: 'row-actions' }, toggle, del)));
    async function fill() {
      const [acl, stats] = await Promise.allSettled([s3Xml('GET', b.name, undefined, { query: { acl: '' } }), api(`bucket-stats?bucket=${encodeURIComponent(b.name)}`)]);
      if (acl.status === 'fulfilled') {
        pub = isPublic(acl.value);
        access.replaceChildren(h('span', { class: pub ? 'badge badge-warn' : 'badge' }, pub ? 'Public read' : 'Private'));
        toggle.textContent = pub ? 'Make private' : 'Make public';
        toggle.disabled = false;
      } else access.textContent = '—';
      if (stats.status === 'fulfilled') {
        objects.textContent = stats.value.objects.toLocaleString();
        bytes.textContent = fmtBytes(stats.value.bytes);
        owner.textContent = stats.value.owner;
      } else objects.textContent = bytes.textContent = owner.textContent = '—';
    }
    return { tr, fill };
  }

  await load();
  return {};
}
