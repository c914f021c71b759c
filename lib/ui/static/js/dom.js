// Small DOM helpers: element building (text only, never innerHTML), formatting, toasts, dialogs.

/** h('button', { class: 'x', onclick }, 'text', child) → element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked' || k === 'indeterminate') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) el.setAttribute(k, String(v));
  append(el, children);
  return el;
}

/** A small icon (a CSS mask, see .i-* in app.css); decorative, hidden from screen readers. */
export function icon(name) {
  return h('span', { class: `icon i-${name}`, 'aria-hidden': 'true' });
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
export function fmtBytes(n) {
  if (n === undefined || n === null || Number.isNaN(n)) return '—';
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < UNITS.length - 1) { v /= 1024; i++; }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 2 : v < 100 ? 1 : 0)} ${UNITS[i]}`;
}

const DATE_FMT = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
export function fmtDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : DATE_FMT.format(d);
}

export function fmtDuration(seconds) {
  const d = Math.floor(seconds / 86400), hh = Math.floor((seconds % 86400) / 3600), m = Math.floor((seconds % 3600) / 60);
  return d ? `${d}d ${hh}h ${m}m` : hh ? `${hh}h ${m}m` : `${m}m ${Math.floor(seconds % 60)}s`;
}

/** A short message at the bottom of the screen, read out by screen readers. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  // One at a time: a stack that grows and shrinks would move the toasts already shown.
  const t = h('div', { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : undefined }, message);
  box.replaceChildren(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

/**
 * A modal dialog (native <dialog>: focus stays inside, Esc closes). `buttons` are
 * { label, value, kind }; resolves with the value of the button pressed, or null.
 */
export function openDialog({ title, body, buttons = [{ label: 'Close', value: null }], wide = false, onOpen }) {
  return new Promise((resolve) => {
    const titleId = `dlg-${Math.random().toString(36).slice(2)}`;
    const foot = h('div', { class: 'dialog-actions' });
    const dlg = h('dialog', { class: wide ? 'dialog dialog-wide' : 'dialog', 'aria-labelledby': titleId },
      h('div', { class: 'dialog-head' }, h('h2', { id: titleId }, title),
        h('button', { class: 'btn-icon', type: 'button', 'aria-label': 'Close', onclick: () => dlg.close('') }, icon('x'))),
      h('div', { class: 'dialog-body' }, body), foot);
    let result = null;
    for (const b of buttons) {
      foot.append(h('button', {
        type: 'button', class: `btn ${b.kind ? `btn-${b.kind}` : ''}`, dataset: b.testid ? { testid: b.testid } : undefined,
        onclick: async () => {
          if (b.action) {
            const keep = await b.action();
            if (keep === false) return;
          }
          result = b.value ?? null;
          dlg.close();
        },
      }, b.label));
    }
    dlg.addEventListener('close', () => { dlg.remove(); resolve(result); });
    document.body.append(dlg);
    dlg.showModal();
    onOpen?.(dlg);
  });
}

export async function confirmDialog(title, message, confirmLabel = 'Delete', kind = 'danger') {
  const v = await openDialog({ title, body: h('p', {}, message), buttons: [{ label: 'Cancel', value: false }, { label: confirmLabel, value: true, kind }] });
  return v === true;
}
