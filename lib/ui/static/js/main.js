// The console shell: login, the top bar, and a hash router (#/buckets, #/b/<bucket>/<prefix>,
// #/admin). Each view renders into <main>.
import { checkSession, login, logout, session, whenLoggedOut } from './api.js';
import { clear, h, icon, toast } from './dom.js';
import { renderBuckets } from './buckets.js';
import { renderBrowser } from './browser.js';
import { renderAdmin } from './admin.js';

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');

function parseRoute() {
  const hash = location.hash.replace(/^#/, '') || '/buckets';
  const m = /^\/b\/([^/]+)\/?(.*)$/.exec(hash);
  if (m) return { view: 'browser', bucket: decodeURIComponent(m[1]), prefix: decodeURIComponent(m[2]) };
  if (hash === '/admin' && session.user?.admin) return { view: 'admin' };
  return { view: 'buckets' };
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

let current = null;
async function route() {
  if (!session.user) return showLogin();
  const r = parseRoute();
  current?.dispose?.();
  renderTopbar(r.view);
  clear(main);
  try {
    if (r.view === 'browser') current = await renderBrowser(main, r.bucket, r.prefix);
    else if (r.view === 'admin') current = await renderAdmin(main);
    else current = await renderBuckets(main);
  } catch (e) {
    main.append(h('div', { class: 'notice notice-error', role: 'alert' }, e.message));
  }
}

const brand = () => h('a', { class: 'brand', href: '#/buckets', 'aria-label': 'BleepStore' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }, icon('bucket')), h('span', { class: 'brand-name' }, 'BleepStore'));

// The bar is always there (only its contents change), so logging in moves nothing.
function renderTopbar(view) {
  clear(topbar);
  const link = (hash, label, active) => h('a', { href: hash, class: active ? 'nav-link active' : 'nav-link', 'aria-current': active ? 'page' : undefined }, label);
  topbar.append(
    brand(),
    h('nav', { 'aria-label': 'Main' }, link('#/buckets', 'Buckets', view !== 'admin'), session.user.admin ? link('#/admin', 'Admin', view === 'admin') : null),
    h('div', { class: 'user' },
      h('span', { class: 'user-name', title: `Access key ${session.user.accessKeyId}` }, session.user.displayName),
      h('button', { type: 'button', class: 'btn btn-ghost', onclick: async () => { await logout(); showLogin(); } }, 'Log out')),
  );
}

function showLogin(message) {
  current?.dispose?.();
  current = null;
  clear(topbar).append(brand());
  clear(main);
  const err = h('p', { class: 'form-error', role: 'alert', id: 'login-error' }, message ?? '');
  const key = h('input', { id: 'login-key', name: 'accessKeyId', autocomplete: 'username', required: true, spellcheck: 'false', autocapitalize: 'off' });
  const secret = h('input', { id: 'login-secret', name: 'secretKey', type: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Log in');
  const form = h('form', {
    class: 'login-card', 'aria-describedby': 'login-error',
    onsubmit: async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      err.textContent = '';
      try {
        await login(key.value.trim(), secret.value);
        secret.value = ''; // the secret is not kept anywhere in the page
        if (!location.hash || location.hash === '#') location.hash = '#/buckets';
        await route();
      } catch (e) {
        err.textContent = e.message;
        secret.select();
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('h1', {}, 'Log in to the console'),
  h('p', { class: 'muted' }, 'Use an access key and its secret. You can do here exactly what that key may do through S3.'),
  h('label', { for: 'login-key' }, 'Access key'), key,
  h('label', { for: 'login-secret' }, 'Secret key'), secret,
  err, submit);
  main.append(h('div', { class: 'login-wrap' }, form));
  key.focus();
}

whenLoggedOut((message) => showLogin(message));
// After navigating, focus goes to the new content (screen readers announce it; Tab continues there).
window.addEventListener('hashchange', () => void route().then(() => main.focus({ preventScroll: true })));
window.addEventListener('error', (e) => toast(e.message, 'error'));
window.addEventListener('unhandledrejection', (e) => toast(e.reason?.message ?? String(e.reason), 'error'));

if (await checkSession()) await route();
else showLogin();
