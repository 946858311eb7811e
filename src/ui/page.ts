/**
 * The visualizer's single page: plain HTML, CSS and JS, no dependencies. It lists the root's containers, draws
 * the selected one's statechart with its current state highlighted, shows its transition timeline, and follows
 * `/events` (server-sent events from the store's feed) so every change — made by any process — shows at once.
 *
 * Hooks for tests and scripts: `#containers tr[data-id][data-status]`, `#chart[data-id][data-current]`,
 * `g.node.current` / `g.cluster.current` in the chart, `#timeline tr[data-seq]`, `#live[data-state]`.
 */
export function pageHtml(root: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>runts — ${escapeHtml(root)}</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #222; }
  body { margin: 0; display: grid; grid-template-columns: 330px 1fr; grid-template-rows: auto 1fr; height: 100vh; }
  header { grid-column: 1 / 3; display: flex; gap: 1em; align-items: baseline; padding: .5em 1em; background: #263238; color: #eceff1; }
  header h1 { font-size: 1.1em; margin: 0; }
  header .root { font-family: monospace; opacity: .8; }
  #live { margin-left: auto; font-size: .9em; }
  #live[data-state="open"]::before { content: "● "; color: #66bb6a; }
  #live[data-state="closed"]::before { content: "● "; color: #ef5350; }
  aside { overflow: auto; border-right: 1px solid #ddd; }
  main { overflow: auto; padding: 0 1em 1em; }
  table { border-collapse: collapse; width: 100%; font-size: .9em; }
  th, td { text-align: left; padding: .25em .5em; border-bottom: 1px solid #eee; white-space: nowrap; }
  #containers tr { cursor: pointer; }
  #containers tr.selected { background: #e3f2fd; }
  #containers tr[data-status="deleted"] { color: #999; text-decoration: line-through; }
  .status { font-weight: 600; }
  [data-status="running"] .status { color: #2e7d32; }
  [data-status="paused"] .status { color: #ef6c00; }
  [data-status="created"] .status { color: #1565c0; }
  [data-status="stopped"] .status { color: #c62828; }
  #chart { border: 1px solid #ddd; border-radius: 6px; margin: .5em 0 1em; padding: .5em; background: #fff; }
  #chart svg { width: 100%; height: auto; max-height: 60vh; }
  #chart g.node.current > path, #chart g.node.current > polygon, #chart g.node.current > rect, #chart g.node.current > ellipse
    { fill: #ffe082; stroke: #e65100; stroke-width: 4px; }
  #chart g.cluster.current > path, #chart g.cluster.current > rect { fill: #fff8e1; stroke: #ff8f00; stroke-width: 3px; }
  #chart g.edge.last > path { stroke: #e65100; stroke-width: 3px; }
  #chart g.edge.last > polygon { fill: #e65100; stroke: #e65100; }
  h2 { font-size: 1em; margin: 1em 0 .3em; }
  .empty { color: #888; padding: 1em; }
  code { font-size: .95em; }
</style>
</head>
<body>
<header><h1>runts</h1><span class="root">${escapeHtml(root)}</span><span id="live" data-state="connecting">connecting…</span></header>
<aside>
  <table><thead><tr><th>ID</th><th>STATUS</th><th>PID</th></tr></thead><tbody id="containers"></tbody></table>
  <div id="no-containers" class="empty">No containers.</div>
</aside>
<main>
  <h2>Statechart of <code id="selected-id">—</code>: <span id="current-state">no container selected</span></h2>
  <div id="chart" data-id="" data-current=""></div>
  <h2>Transitions</h2>
  <table><thead><tr><th>SEQ</th><th>TIME</th><th>FROM</th><th>TO</th><th>EVENT</th><th>PID</th><th>EXIT</th></tr></thead>
  <tbody id="timeline"></tbody></table>
</main>
<script>
"use strict";
const containers = new Map(); // id -> { status, pid, leaf }
let selected = null;
let history = [];
let refreshTimer = null;

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

function renderList() {
  const body = document.getElementById('containers');
  body.replaceChildren();
  const ids = [...containers.keys()].sort();
  document.getElementById('no-containers').hidden = ids.length > 0;
  for (const id of ids) {
    const c = containers.get(id);
    const tr = el('tr', null, { 'data-id': id, 'data-status': c.status });
    if (id === selected) tr.classList.add('selected');
    tr.append(el('td', id, { class: 'id' }), el('td', c.status, { class: 'status' }), el('td', c.pid || '', { class: 'pid' }));
    tr.addEventListener('click', () => select(id));
    body.append(tr);
  }
}

function renderTimeline() {
  const body = document.getElementById('timeline');
  body.replaceChildren();
  for (const t of history) {
    const tr = el('tr', null, { 'data-seq': String(t.seq) });
    const exit = t.exitStatus === undefined ? '' : t.exitStatus === null ? '?' : t.exitStatus;
    tr.append(el('td', t.seq), el('td', (t.time || '').replace('T', ' ').replace('Z', '')), el('td', t.from || '—'),
      el('td', t.to), el('td', t.event), el('td', t.pid), el('td', exit));
    body.append(tr);
  }
}

function highlight(leaf, from) {
  const chart = document.getElementById('chart');
  chart.dataset.current = leaf || '';
  document.getElementById('current-state').textContent = leaf || 'unknown';
  for (const g of chart.querySelectorAll('g.current, g.last')) g.classList.remove('current', 'last');
  if (!leaf) return;
  const status = leaf.split('.')[0];
  for (const g of chart.querySelectorAll('g.node, g.cluster, g.edge')) {
    const title = g.querySelector('title');
    const name = title ? title.textContent : '';
    if (g.classList.contains('node') && name === leaf) g.classList.add('current');
    if (g.classList.contains('cluster') && name === 'cluster_' + status) g.classList.add('current');
    if (g.classList.contains('edge') && from && name === from + '->' + leaf) g.classList.add('last');
  }
}

/** The latest incarnation of an id: history is kept across delete and re-create. */
function lastIncarnation(records) {
  let start = 0;
  records.forEach((r, i) => { if (r.from === '') start = i; });
  return records.slice(start);
}

async function select(id) {
  selected = id;
  location.hash = encodeURIComponent(id);
  document.getElementById('selected-id').textContent = id;
  document.getElementById('chart').dataset.id = id;
  renderList();
  const r = await fetch('api/containers/' + encodeURIComponent(id) + '/history');
  history = r.ok ? lastIncarnation(await r.json()) : [];
  if (selected !== id) return;
  renderTimeline();
  const last = history[history.length - 1];
  const c = containers.get(id);
  highlight(last ? last.to : c && c.leaf, last ? last.from : '');
}

async function loadList() {
  const r = await fetch('api/containers');
  if (!r.ok) return;
  const live = new Set();
  for (const s of await r.json()) {
    live.add(s.id);
    containers.set(s.id, { status: s.status, pid: s.pid, leaf: s.leaf });
  }
  // Containers deleted since the page loaded stay listed, struck through.
  for (const [id, c] of containers) if (!live.has(id) && c.status !== 'deleted') c.status = 'deleted';
  renderList();
  if (!selected) {
    const want = decodeURIComponent(location.hash.slice(1));
    const first = containers.has(want) ? want : [...containers.keys()].sort().find((id) => containers.get(id).status !== 'deleted');
    if (first) await select(first);
  }
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(loadList, 150);
}

function onTransition(ev) {
  const known = containers.get(ev.id);
  const status = ev.to === 'stopped.deleted' ? 'deleted' : ev.status;
  containers.set(ev.id, { status, pid: known ? known.pid : 0, leaf: ev.to });
  if (!known || ev.to.startsWith('created.idle')) refreshSoon(); // learn the new container's pid
  if (ev.id === selected) {
    if (ev.from === '') history = [];
    if (!history.some((t) => t.seq === ev.seq)) history.push(ev);
    renderTimeline();
    highlight(ev.to, ev.from);
  }
  renderList();
  if (!selected && status !== 'deleted') select(ev.id);
}

function connect() {
  const live = document.getElementById('live');
  const es = new EventSource('events');
  es.onopen = () => { live.dataset.state = 'open'; live.textContent = 'live'; };
  es.onerror = () => { live.dataset.state = 'closed'; live.textContent = 'reconnecting…'; };
  es.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    if (ev.type === 'transition') onTransition(ev);
  };
}

(async () => {
  const svg = await fetch('chart.svg');
  document.getElementById('chart').innerHTML = svg.ok ? await svg.text() : '';
  connect();
  await loadList();
})();
</script>
</body>
</html>
`;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
