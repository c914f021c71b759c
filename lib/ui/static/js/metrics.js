// Live metrics from the server's Prometheus endpoint (/metrics): requests/s, errors/s and
// latency percentiles over the last interval, and a small SVG chart of the last two minutes.
import { BASE } from './api.js';
import { h, svg } from './dom.js';

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** The samples of the families we chart, summed the way the page needs them. */
export function parseMetrics(textBody) {
  const out = { requests: 0, errors: 0, buckets: new Map(), count: 0, sum: 0 };
  for (const line of textBody.split('\n')) {
    if (!line.startsWith('bleepstore_http_request')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels = {};
    for (const [, k, v] of (m[2] ?? '').matchAll(LABEL)) labels[k] = v;
    const v = Number(m[3]);
    if (m[1] === 'bleepstore_http_requests_total') {
      out.requests += v;
      if (Number(labels.status) >= 400 || labels.status === '0') out.errors += v;
    } else if (m[1] === 'bleepstore_http_request_duration_seconds_bucket') {
      const le = labels.le === '+Inf' ? Infinity : Number(labels.le);
      out.buckets.set(le, (out.buckets.get(le) ?? 0) + v);
    } else if (m[1] === 'bleepstore_http_request_duration_seconds_count') out.count += v;
    else if (m[1] === 'bleepstore_http_request_duration_seconds_sum') out.sum += v;
  }
  return out;
}

/** Prometheus' histogram_quantile over cumulative bucket counts (linear within a bucket). */
export function quantile(q, buckets) {
  const les = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? 0;
  if (!total) return NaN;
  const rank = q * total;
  let prevLe = 0, prevCount = 0;
  for (const le of les) {
    const c = buckets.get(le);
    if (c >= rank) {
      if (le === Infinity) return prevLe;
      return prevLe + (le - prevLe) * ((rank - prevCount) / Math.max(c - prevCount, 1e-9));
    }
    prevLe = le;
    prevCount = c;
  }
  return prevLe;
}

const fmtMs = (s) => (Number.isNaN(s) ? '—' : s < 0.001 ? `${(s * 1000).toFixed(2)} ms` : s < 1 ? `${(s * 1000).toFixed(1)} ms` : `${s.toFixed(2)} s`);

export function createMetricsPanel() {
  const POINTS = 60;
  const INTERVAL = 2000;
  const history = [];
  const stat = (label) => {
    const value = h('span', { class: 'stat-value' }, '—');
    return { el: h('div', { class: 'stat' }, h('span', { class: 'stat-label' }, label), value), value };
  };
  const rps = stat('Requests/s'), eps = stat('Errors/s'), p50 = stat('p50 latency'), p90 = stat('p90 latency'), p99 = stat('p99 latency');
  const W = 600, H = 140;
  const chart = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'Requests and errors per second, last two minutes', preserveAspectRatio: 'none' });
  const scale = h('span', { class: 'scale' });
  const note = h('p', { class: 'muted small' }, 'Sampled from /metrics every 2 seconds.');
  const panel = h('section', { class: 'card', 'aria-labelledby': 'metrics-h' },
    h('h2', { id: 'metrics-h' }, 'Live metrics'),
    h('div', { class: 'stats' }, rps.el, eps.el, p50.el, p90.el, p99.el),
    h('div', { class: 'chart-wrap' }, chart),
    h('div', { class: 'legend' }, h('span', { class: 'key key-req' }, 'requests/s'), h('span', { class: 'key key-err' }, 'errors/s'), scale),
    note);

  let last = null;
  let timer;
  async function tick() {
    let sample;
    try {
      // A plain GET: with the console's CSRF header this would be ListObjects of a bucket "metrics".
      const res = await fetch(new URL('metrics', BASE), { cache: 'no-store', credentials: 'omit' });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      sample = { at: performance.now(), ...parseMetrics(await res.text()) };
    } catch (e) {
      note.textContent = `Metrics are not available (${e.message}); the server may have observability.metrics off.`;
      return;
    }
    if (last) {
      const secs = (sample.at - last.at) / 1000;
      const r = Math.max(0, (sample.requests - last.requests) / secs);
      const er = Math.max(0, (sample.errors - last.errors) / secs);
      const delta = new Map([...sample.buckets].map(([le, c]) => [le, c - (last.buckets.get(le) ?? 0)]));
      const lat = (delta.get(Infinity) ?? 0) > 0 ? delta : sample.buckets; // idle: all-time figures
      rps.value.textContent = r.toFixed(1);
      eps.value.textContent = er.toFixed(1);
      p50.value.textContent = fmtMs(quantile(0.5, lat));
      p90.value.textContent = fmtMs(quantile(0.9, lat));
      p99.value.textContent = fmtMs(quantile(0.99, lat));
      history.push({ r, er });
      if (history.length > POINTS) history.shift();
      draw();
    }
    last = sample;
  }

  function draw() {
    const max = Math.max(1, ...history.map((p) => p.r));
    const x = (i) => (i / (POINTS - 1)) * W;
    const y = (v) => H - 4 - (v / max) * (H - 14);
    const path = (key) => history.map((p, i) => `${i ? 'L' : 'M'}${x(i + POINTS - history.length).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
    scale.textContent = `top of chart: ${max.toFixed(max < 10 ? 1 : 0)} requests/s`;
    chart.replaceChildren(
      ...[0.25, 0.5, 0.75].map((f) => svg('line', { class: 'grid', x1: 0, x2: W, y1: y(max * f), y2: y(max * f) })),
      svg('path', { class: 'line-req', d: path('r') }),
      svg('path', { class: 'line-err', d: path('er') }));
  }

  return {
    panel,
    start() { void tick(); timer = setInterval(() => void tick(), INTERVAL); },
    stop() { clearInterval(timer); },
  };
}
