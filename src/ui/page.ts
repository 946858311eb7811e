/**
 * The visualizer's single page: plain HTML, CSS and JS, no dependencies, nothing fetched from elsewhere (works
 * offline). A transition debugger: the root's containers (a virtualised list, filtered by id and status; or grouped
 * by sandbox), the selected one's statechart (zoom and pan; or a compact view of the statuses and the effect in
 * flight), and its transitions as steps to walk through (slider, ←/→, table rows): each step shows its state and
 * the edge taken on the chart, and its event, pid, exit status, error or refusal. It follows `/events`
 * (server-sent events from the store's feed) so every change, made by any process, shows at once. The URL's hash
 * holds the container, the step and the view (`#id=web&step=7&view=compact`): a link reproduces what is seen.
 *
 * Hooks for tests and scripts: `#containers .row[data-id][data-status]` (rendered rows only: the list is
 * virtualised), `#chart[data-id][data-current][data-step][data-zoom][data-refused]`, `g.node.current` /
 * `g.cluster.current` / `g.edge.last` in the chart, `#compact g.status.current`, `#scrubber`, `#timeline
 * tr[data-seq]` (`.selected`, `.refused`), `#details [data-field]`, `#sandboxes .sandbox[data-sandbox] .member`,
 * `#live[data-state]`, `body[data-first-paint]` (ms from navigation to the first list drawn with data).
 */
import type { ChartModel } from './chart.js';

export function pageHtml(root: string, model: ChartModel = { statuses: [], moves: {} }): string {
  // Inside a <script>: "</" must not close it.
  const modelJson = JSON.stringify(model).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<link rel="preload" href="api/containers?leaf=0" as="fetch" crossorigin="anonymous">
<link rel="preload" href="chart.svg" as="fetch" crossorigin="anonymous">
<title>runts — ${escapeHtml(root)}</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #222; font-size: 15px; }
  body { margin: 0; display: grid; grid-template-columns: 340px 1fr; grid-template-rows: auto 1fr; height: 100vh; overflow: hidden; }
  header { grid-column: 1 / 3; display: flex; gap: 1em; align-items: baseline; padding: .5em 1em; background: #263238; color: #eceff1; }
  header h1 { font-size: 1.1em; margin: 0; }
  header .root { font-family: monospace; opacity: .8; }
  header .keys { font-size: .8em; opacity: .7; }
  #live { margin-left: auto; font-size: .9em; }
  #live[data-state="open"]::before { content: "● "; color: #66bb6a; }
  #live[data-state="closed"]::before { content: "● "; color: #ef5350; }
  aside { display: flex; flex-direction: column; border-right: 1px solid #ddd; min-height: 0; }
  .filters { display: flex; gap: .4em; padding: .5em; border-bottom: 1px solid #ddd; }
  .filters input { flex: 1; min-width: 0; }
  #count { padding: .2em .6em; font-size: .85em; color: #666; }
  #list { flex: 1; overflow-y: auto; position: relative; min-height: 0; }
  #list .spacer { position: relative; }
  #containers { position: absolute; left: 0; right: 0; top: 0; }
  .row { display: grid; grid-template-columns: 1fr 80px 70px; height: 26px; line-height: 26px; padding: 0 .6em; cursor: pointer; border-bottom: 1px solid #f2f2f2; white-space: nowrap; }
  .row > span { overflow: hidden; text-overflow: ellipsis; }
  .row.selected { background: #e3f2fd; }
  .row[data-status="deleted"] { color: #999; text-decoration: line-through; }
  .status { font-weight: 600; }
  [data-status="running"] .status, [data-status="running"].status { color: #2e7d32; }
  [data-status="paused"] .status, [data-status="paused"].status { color: #ef6c00; }
  [data-status="created"] .status, [data-status="created"].status { color: #1565c0; }
  [data-status="stopped"] .status, [data-status="stopped"].status { color: #c62828; }
  main { overflow: auto; padding: 0 1em 1em; min-width: 0; }
  nav.tabs { display: flex; gap: .3em; margin: .6em 0; }
  nav.tabs button[aria-selected="true"] { background: #263238; color: #fff; }
  .toolbar { display: flex; gap: .4em; align-items: center; flex-wrap: wrap; margin: .3em 0; }
  .toolbar .sep { width: 1em; }
  #chart { border: 1px solid #ddd; border-radius: 6px; height: 52vh; background: #fff; overflow: hidden; cursor: grab; touch-action: none; }
  #chart.dragging { cursor: grabbing; }
  #chart svg { width: 100%; height: 100%; display: block; user-select: none; }
  #chart.has-current g.node, #chart.has-current g.edge, #chart.has-current g.cluster { opacity: .3; transition: opacity .15s; }
  #chart.has-current g.node.current, #chart.has-current g.cluster.current, #chart.has-current g.edge.last,
  #chart.has-current g.edge.out, #chart.has-current g.node.next, #chart.has-current g.node.prev { opacity: 1; }
  #chart g.node.current > path, #chart g.node.current > polygon, #chart g.node.current > rect, #chart g.node.current > ellipse
    { fill: #ffe082; stroke: #e65100; stroke-width: 4px; }
  #chart g.node.current.refused > path, #chart g.node.current.refused > polygon, #chart g.node.current.refused > rect, #chart g.node.current.refused > ellipse
    { fill: #ffcdd2; stroke: #b71c1c; }
  #chart g.cluster.current > path, #chart g.cluster.current > rect { fill: #fff8e1; stroke: #ff8f00; stroke-width: 3px; }
  #chart g.edge.last > path { stroke: #e65100; stroke-width: 4px; }
  #chart g.edge.last > polygon { fill: #e65100; stroke: #e65100; }
  #chart g.edge.last text { font-weight: bold; fill: #bf360c; }
  #chart g.edge.out > path { stroke: #1565c0; }
  #chart[data-mode="compact"] { cursor: default; }
  #compact g.status rect { fill: #fafafa; stroke: #90a4ae; stroke-width: 2px; }
  #compact g.status.current rect { fill: #fff8e1; stroke: #ff8f00; stroke-width: 4px; }
  #compact g.status.current.refused rect { fill: #ffebee; stroke: #b71c1c; }
  #compact g.move path { fill: none; stroke: #b0bec5; stroke-width: 2px; }
  #compact g.move.last path { stroke: #e65100; stroke-width: 4px; }
  #compact text { font-family: system-ui, sans-serif; }
  .steps { display: flex; gap: .6em; align-items: center; margin: .6em 0 .3em; }
  #scrubber { flex: 1; }
  #step-label { font-family: monospace; min-width: 9em; }
  #details { display: grid; grid-template-columns: max-content 1fr max-content 1fr max-content 1fr; gap: .2em .8em; background: #f7f9fa; border: 1px solid #e0e0e0; border-radius: 6px; padding: .5em .8em; font-size: .92em; }
  #details dt { color: #666; }
  #details dd { margin: 0; font-family: monospace; overflow-wrap: anywhere; }
  #details dd[data-field="error"] { grid-column: span 3; color: #b71c1c; }
  h2 { font-size: 1em; margin: 1em 0 .3em; }
  table { border-collapse: collapse; width: 100%; font-size: .9em; }
  th, td { text-align: left; padding: .25em .5em; border-bottom: 1px solid #eee; white-space: nowrap; }
  #timeline tr { cursor: pointer; }
  #timeline tr.selected { background: #e3f2fd; }
  #timeline tr.refused td { color: #b71c1c; }
  #timeline tr.refused td.to::after { content: " ✕ refused"; font-weight: 600; }
  #timeline td.why { white-space: normal; color: #b71c1c; }
  #sandboxes { display: grid; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); gap: .6em; }
  .sandbox { border: 1px solid #ddd; border-radius: 6px; padding: .4em .6em; }
  .sandbox h3 { font-size: .95em; margin: 0 0 .3em; font-family: monospace; }
  .member { display: flex; justify-content: space-between; gap: .5em; cursor: pointer; padding: .1em .2em; }
  .member:hover { background: #f0f4f8; }
  .member .id { overflow: hidden; text-overflow: ellipsis; font-family: monospace; }
  .empty { color: #888; padding: 1em; }
  code { font-size: .95em; }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<header><h1>runts</h1><span class="root">${escapeHtml(root)}</span>
<span class="keys">←/→ step · Home/End · +/− zoom · 0 fit · f focus · shift+arrows pan · c compact</span>
<span id="live" data-state="connecting">connecting…</span></header>
<aside>
  <div class="filters">
    <input id="filter-id" type="search" placeholder="filter by id" aria-label="filter by id">
    <select id="filter-status" aria-label="filter by status">
      <option value="">all</option><option>creating</option><option>created</option><option>running</option>
      <option>paused</option><option>stopped</option><option>deleted</option>
    </select>
  </div>
  <div id="count"></div>
  <div id="list"><div class="spacer"><div id="containers"></div></div></div>
  <div id="no-containers" class="empty">No containers.</div>
</aside>
<main>
  <nav class="tabs">
    <button id="tab-chart" aria-selected="true">Chart</button>
    <button id="tab-sandboxes" aria-selected="false">Sandboxes</button>
  </nav>
  <section id="view-chart">
    <h2>Statechart of <code id="selected-id">—</code>: <span id="current-state">no container selected</span></h2>
    <div class="toolbar">
      <button id="zoom-in" title="zoom in (+)">+</button><button id="zoom-out" title="zoom out (−)">−</button>
      <button id="zoom-fit" title="whole chart (0)">fit</button><button id="zoom-focus" title="the current state (f)">focus</button>
      <span class="sep"></span>
      <label><input id="compact" type="checkbox"> compact (statuses and the effect in flight)</label>
      <span id="zoom-label"></span>
    </div>
    <div id="chart" data-id="" data-current="" data-mode="full"></div>
    <div class="steps">
      <button id="step-prev" title="previous step (←)">◀</button>
      <input id="scrubber" type="range" min="0" max="0" value="0" disabled aria-label="step">
      <button id="step-next" title="next step (→)">▶</button>
      <span id="step-label"></span>
      <button id="step-live" title="follow the latest step (End)">latest</button>
    </div>
    <dl id="details">
      <dt>step</dt><dd data-field="seq"></dd><dt>event</dt><dd data-field="event"></dd><dt>time</dt><dd data-field="time"></dd>
      <dt>from</dt><dd data-field="from"></dd><dt>to</dt><dd data-field="to"></dd><dt>pid</dt><dd data-field="pid"></dd>
      <dt>exit</dt><dd data-field="exit"></dd><dt>error</dt><dd data-field="error"></dd>
    </dl>
    <h2>Transitions</h2>
    <table><thead><tr><th>SEQ</th><th>TIME</th><th>FROM</th><th>TO</th><th>EVENT</th><th>PID</th><th>EXIT</th><th>ERROR / REFUSED</th></tr></thead>
    <tbody id="timeline"></tbody></table>
  </section>
  <section id="view-sandboxes" hidden>
    <h2>Sandboxes <span id="sandbox-count"></span></h2>
    <div id="sandboxes"></div>
  </section>
</main>
<script>
"use strict";
const MODEL = ${modelJson};
const ROW_H = 26;
const SANDBOX_CARDS = 200;
const containers = new Map(); // id -> { status, pid, leaf, sandbox }
let sortedIds = [];
let filtered = [];
let selected = null;
let steps = [];      // the selected container's transitions (latest incarnation)
let step = null;     // index into steps, or null: follow the latest
let wantSeq = null;  // a step asked for by the URL, applied when the history arrives
let refreshTimer = null;
let firstPaint = false;
let tab = 'chart';
let compact = false;

const $ = (id) => document.getElementById(id);

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}

// ---- URL: #id=<id>&step=<seq>&view=compact|sandboxes ----
function readUrl() {
  const p = new URLSearchParams(location.hash.slice(1));
  const seq = p.get('step');
  return { id: p.get('id'), step: seq !== null && /^\\d+$/.test(seq) ? Number(seq) : null, view: p.get('view') || '' };
}
function writeUrl() {
  const p = new URLSearchParams();
  if (selected) p.set('id', selected);
  if (step !== null && steps[step]) p.set('step', String(steps[step].seq));
  if (tab === 'sandboxes') p.set('view', 'sandboxes');
  else if (compact) p.set('view', 'compact');
  history.replaceState(null, '', '#' + p.toString());
}

// ---- the container list: filtered, sorted, only the visible rows in the DOM ----
function matches(id, c) {
  const text = $('filter-id').value.trim().toLowerCase();
  const status = $('filter-status').value;
  return (!text || id.toLowerCase().includes(text)) && (!status || c.status === status);
}
function resort() { sortedIds = [...containers.keys()].sort(); }
function renderList() {
  filtered = sortedIds.filter((id) => matches(id, containers.get(id)));
  $('no-containers').hidden = containers.size > 0;
  $('count').textContent = filtered.length === containers.size ? containers.size + ' containers' : filtered.length + ' of ' + containers.size + ' containers';
  const list = $('list');
  list.querySelector('.spacer').style.height = filtered.length * ROW_H + 'px';
  // A shorter list (a filter) must not be drawn from an offset past its end: the browser clamps scrollTop only at its
  // next layout, and the rows drawn meanwhile would be none.
  const end = Math.max(0, filtered.length * ROW_H - list.clientHeight);
  if (list.scrollTop > end) list.scrollTop = end;
  renderRows();
  if (tab === 'sandboxes') renderSandboxes();
  if (!firstPaint && containers.size > 0) {
    firstPaint = true;
    requestAnimationFrame(() => { document.body.dataset.firstPaint = String(Math.round(performance.now())); });
  }
}
function renderRows() {
  const list = $('list');
  const first = Math.max(0, Math.floor(list.scrollTop / ROW_H) - 10);
  const last = Math.min(filtered.length, Math.ceil((list.scrollTop + list.clientHeight) / ROW_H) + 10);
  const body = $('containers');
  body.style.transform = 'translateY(' + first * ROW_H + 'px)';
  const rows = [];
  for (let i = first; i < last; i++) {
    const id = filtered[i];
    const c = containers.get(id);
    const row = el('div', null, { class: 'row' + (id === selected ? ' selected' : ''), 'data-id': id, 'data-status': c.status, title: id });
    row.append(el('span', id, { class: 'id' }), el('span', c.status, { class: 'status' }), el('span', c.pid || '', { class: 'pid' }));
    rows.push(row);
  }
  body.replaceChildren(...rows);
}
function scrollToSelected() {
  const i = filtered.indexOf(selected);
  const list = $('list');
  if (i < 0) return;
  if (i * ROW_H < list.scrollTop || (i + 1) * ROW_H > list.scrollTop + list.clientHeight) list.scrollTop = Math.max(0, i * ROW_H - list.clientHeight / 2);
  renderRows();
}

// ---- sandboxes: each with its containers and their states side by side ----
function renderSandboxes() {
  const groups = new Map();
  for (const id of filtered) {
    const c = containers.get(id);
    const key = c.sandbox || id;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(id);
  }
  // Pods first (more than one container), then by id.
  const keys = [...groups.keys()].sort((a, b) => (groups.get(b).length > 1) - (groups.get(a).length > 1) || (a < b ? -1 : a > b ? 1 : 0));
  const cards = keys.slice(0, SANDBOX_CARDS).map((key) => {
    const card = el('div', null, { class: 'sandbox', 'data-sandbox': key });
    card.append(el('h3', key + ' (' + groups.get(key).length + ')'));
    for (const id of groups.get(key)) {
      const c = containers.get(id);
      const m = el('div', null, { class: 'member', 'data-id': id, 'data-status': c.status });
      m.append(el('span', id, { class: 'id' }), el('span', c.leaf || c.status, { class: 'status' }));
      card.append(m);
    }
    return card;
  });
  $('sandboxes').replaceChildren(...cards);
  $('sandbox-count').textContent = keys.length > SANDBOX_CARDS ? '(' + SANDBOX_CARDS + ' of ' + keys.length + ': filter to narrow)' : '(' + keys.length + ')';
}

// ---- the chart: zoom and pan by the SVG's viewBox, kept at the box's aspect ratio ----
let svg = null;
let base = null;   // the chart's own viewBox
let view = null;   // what is shown now
let userMoved = false;
function chartSize() { const r = $('chart').getBoundingClientRect(); return { w: Math.max(1, r.width), h: Math.max(1, r.height) }; }
function scale() { return view ? chartSize().w / view.w : 1; }
function applyView() {
  if (!svg || !view) return;
  svg.setAttribute('viewBox', view.x + ' ' + view.y + ' ' + view.w + ' ' + view.h);
  const s = scale();
  $('chart').dataset.zoom = s.toFixed(3);
  $('zoom-label').textContent = Math.round(s * 100) + '%';
}
/** Shows the box (user units) whole, centred, at most at maxScale. */
function showBox(box, maxScale) {
  const { w, h } = chartSize();
  let s = Math.min(w / box.w, h / box.h);
  if (maxScale) s = Math.min(s, maxScale);
  s = clampScale(s);
  const cx = box.x + box.w / 2;
  const cy = box.y + box.h / 2;
  view = { x: cx - w / s / 2, y: cy - h / s / 2, w: w / s, h: h / s };
  applyView();
}
function clampScale(s) {
  const { w, h } = chartSize();
  const min = Math.min(w / base.w, h / base.h) * 0.5;
  return Math.max(min, Math.min(6, s));
}
function zoomAt(factor, cx, cy) {
  if (!view) return;
  const { w, h } = chartSize();
  const s = clampScale(scale() * factor);
  // Keep the point under (cx, cy) where it is.
  const ux = view.x + cx / scale();
  const uy = view.y + cy / scale();
  view = { x: ux - cx / s, y: uy - cy / s, w: w / s, h: h / s };
  userMoved = true;
  applyView();
}
function pan(dx, dy) {
  if (!view) return;
  view.x -= dx / scale();
  view.y -= dy / scale();
  userMoved = true;
  applyView();
}
function fit() { if (base) { showBox(base); userMoved = true; } }
/** The element's box in the SVG's user units (from its rendered box and the current view). */
function boxOf(g) {
  const r = g.getBoundingClientRect();
  const c = $('chart').getBoundingClientRect();
  const s = scale();
  return { x: view.x + (r.left - c.left) / s, y: view.y + (r.top - c.top) / s, w: r.width / s, h: r.height / s };
}
/** The current status's cluster, readable: labels at least ~12 px (scale 1.3 of 9 pt), centred on the current node. */
function focus() {
  userMoved = false;
  if (!svg || !view) return;
  const cluster = svg.querySelector('g.cluster.current');
  const node = svg.querySelector('g.node.current');
  if (!cluster && !node) { showBox(base); return; }
  const box = boxOf(cluster || node);
  const pad = 30;
  const padded = { x: box.x - pad, y: box.y - pad, w: box.w + 2 * pad, h: box.h + 2 * pad };
  const { w, h } = chartSize();
  const s = Math.min(w / padded.w, h / padded.h, 2);
  if (s >= 1.3 || !node) showBox(padded, 2);
  else {
    const nb = boxOf(node);
    showBox({ x: nb.x + nb.w / 2 - w / 2.6, y: nb.y + nb.h / 2 - h / 2.6, w: w / 1.3, h: h / 1.3 });
  }
}
function installChart(markup) {
  const chart = $('chart');
  chart.innerHTML = markup;
  svg = chart.querySelector('svg');
  if (!svg) return;
  const vb = (svg.getAttribute('viewBox') || '').split(/[\\s,]+/).map(Number);
  base = vb.length === 4 && vb.every(Number.isFinite) ? { x: vb[0], y: vb[1], w: vb[2], h: vb[3] } : { x: 0, y: 0, w: 1000, h: 600 };
  svg.setAttribute('preserveAspectRatio', 'xMinYMin meet');
  view = { ...base };
  showBox(base);
  // Edge titles name their ends ("a->b"): index them once for highlighting.
  for (const g of svg.querySelectorAll('g.edge')) {
    const t = g.querySelector('title');
    const [from, to] = (t ? t.textContent : '').split('->');
    g.dataset.from = from || '';
    g.dataset.to = to || '';
  }
}
function installGestures() {
  const chart = $('chart');
  chart.addEventListener('wheel', (e) => {
    if (compact) return;
    e.preventDefault();
    const r = chart.getBoundingClientRect();
    zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX - r.left, e.clientY - r.top);
  }, { passive: false });
  let drag = null;
  chart.addEventListener('pointerdown', (e) => {
    if (compact || e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY };
    chart.setPointerCapture(e.pointerId);
    chart.classList.add('dragging');
  });
  chart.addEventListener('pointermove', (e) => {
    if (!drag) return;
    pan(e.clientX - drag.x, e.clientY - drag.y);
    drag = { x: e.clientX, y: e.clientY };
  });
  const end = () => { drag = null; chart.classList.remove('dragging'); };
  chart.addEventListener('pointerup', end);
  chart.addEventListener('pointercancel', end);
  const mid = (f) => () => { const { w, h } = chartSize(); zoomAt(f, w / 2, h / 2); };
  $('zoom-in').onclick = mid(1.25);
  $('zoom-out').onclick = mid(0.8);
  $('zoom-fit').onclick = fit;
  $('zoom-focus').onclick = focus;
  new ResizeObserver(() => { if (view && !compact) { if (userMoved) { const { w, h } = chartSize(); const s = scale(); view.w = w / s; view.h = h / s; applyView(); } else focus(); } }).observe(chart);
}

// ---- the compact view: the statuses in a row, the current one with the substate (effect) in flight ----
const SVGNS = 'http://www.w3.org/2000/svg';
function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}
function drawCompact(leaf, from, refused) {
  const W = 200, H = 120, GAP = 70, TOP = 110;
  const n = MODEL.statuses.length;
  const root = svgEl('svg', { id: 'compact', viewBox: '0 0 ' + (n * (W + GAP) + GAP) + ' ' + (TOP + H + 110), xmlns: SVGNS });
  const defs = svgEl('defs');
  const marker = svgEl('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(svgEl('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#78909c' }));
  defs.append(marker);
  root.append(defs);
  const x = (i) => GAP + i * (W + GAP);
  const index = new Map(MODEL.statuses.map((s, i) => [s.name, i]));
  const status = leaf ? leaf.split('.')[0] : '';
  const fromStatus = from ? from.split('.')[0] : '';
  for (const [a, tos] of Object.entries(MODEL.moves)) {
    for (const b of tos) {
      if (a === b || !index.has(a) || !index.has(b)) continue;
      const i = index.get(a), j = index.get(b);
      const fwd = j > i;
      const x1 = fwd ? x(i) + W : x(i), x2 = fwd ? x(j) : x(j) + W;
      let d;
      if (Math.abs(j - i) === 1) {
        const y = TOP + H / 2 + (fwd ? -15 : 15);
        d = 'M' + x1 + ',' + y + ' L' + x2 + ',' + y;
      } else {
        // Longer moves arc above (forward) or below (back) the row.
        const y = fwd ? TOP : TOP + H;
        const lift = fwd ? -40 - 12 * Math.abs(j - i) : 40 + 12 * Math.abs(j - i);
        const sx = x(i) + W / 2 + (fwd ? 20 : -20), ex = x(j) + W / 2 + (fwd ? -20 : 20);
        d = 'M' + sx + ',' + y + ' C' + sx + ',' + (y + lift) + ' ' + ex + ',' + (y + lift) + ' ' + ex + ',' + y;
      }
      const g = svgEl('g', { class: 'move' + (fromStatus === a && status === b ? ' last' : ''), 'data-from': a, 'data-to': b });
      g.append(svgEl('title', {}, a + '->' + b), svgEl('path', { d, 'marker-end': 'url(#arrow)' }));
      root.append(g);
    }
  }
  MODEL.statuses.forEach((s, i) => {
    const current = s.name === status;
    const g = svgEl('g', { class: 'status' + (current ? ' current' : '') + (current && refused ? ' refused' : ''), 'data-status': s.name });
    g.append(svgEl('title', {}, s.name));
    g.append(svgEl('rect', { x: x(i), y: TOP, width: W, height: H, rx: 14 }));
    g.append(svgEl('text', { x: x(i) + W / 2, y: TOP + 38, 'text-anchor': 'middle', 'font-size': 24, 'font-weight': 600 }, s.name));
    const sub = current ? leaf.split('.').slice(1).join('.') : '';
    const note = current ? (refused ? sub + ' — refused' : sub) : s.substates.length + ' substates';
    g.append(svgEl('text', { x: x(i) + W / 2, y: TOP + 78, 'text-anchor': 'middle', 'font-size': current ? 20 : 15, fill: current ? '#bf360c' : '#90a4ae', 'font-style': current ? 'normal' : 'italic' }, note));
    root.append(g);
  });
  return root;
}

// ---- highlighting a state: the full chart and the compact view ----
function highlight(leaf, from, refused) {
  const chart = $('chart');
  chart.dataset.current = leaf || '';
  chart.dataset.refused = refused ? '1' : '';
  $('current-state').textContent = leaf ? leaf + (refused ? ' (event refused)' : '') : 'unknown';
  chart.classList.toggle('has-current', !!leaf);
  const compactSvg = chart.querySelector('#compact');
  if (compactSvg) compactSvg.replaceWith(drawCompact(leaf, from, refused));
  if (!svg) return;
  for (const g of svg.querySelectorAll('g.current, g.last, g.out, g.next, g.prev, g.refused')) g.classList.remove('current', 'last', 'out', 'next', 'prev', 'refused');
  if (!leaf) return;
  const status = leaf.split('.')[0];
  for (const g of svg.querySelectorAll('g.node, g.cluster')) {
    const title = g.querySelector('title');
    const name = title ? title.textContent : '';
    if (g.classList.contains('node') && name === leaf) g.classList.add('current', ...(refused ? ['refused'] : []));
    if (g.classList.contains('cluster') && name === 'cluster_' + status) g.classList.add('current');
  }
  const mark = (name, cls) => { for (const g of svg.querySelectorAll('g.node')) { const t = g.querySelector('title'); if (t && t.textContent === name) g.classList.add(cls); } };
  for (const g of svg.querySelectorAll('g.edge')) {
    if (from && !refused && g.dataset.from === from && g.dataset.to === leaf) { g.classList.add('last'); mark(from, 'prev'); }
    else if (g.dataset.from === leaf) { g.classList.add('out'); mark(g.dataset.to, 'next'); }
  }
  if (!userMoved && !compact) focus();
}

// ---- stepping through the history ----
function renderTimeline() {
  const body = $('timeline');
  const rows = steps.map((t, i) => {
    const tr = el('tr', null, { 'data-seq': String(t.seq), 'data-index': String(i) });
    if (t.refused) tr.classList.add('refused');
    const exit = t.exitStatus === undefined ? '' : t.exitStatus === null ? '?' : t.exitStatus;
    const why = t.refused ? t.refused.code + ': ' + t.refused.reason : t.error || '';
    tr.append(el('td', t.seq), el('td', (t.time || '').replace('T', ' ').replace('Z', '')), el('td', t.from || '—'),
      el('td', t.to, { class: 'to' }), el('td', t.event), el('td', t.pid), el('td', exit), el('td', why, { class: 'why' }));
    return tr;
  });
  body.replaceChildren(...rows);
  const sc = $('scrubber');
  sc.max = String(Math.max(0, steps.length - 1));
  sc.disabled = steps.length === 0;
}
function shownIndex() { return step === null ? steps.length - 1 : step; }
function showStep() {
  const i = shownIndex();
  const t = steps[i];
  const chart = $('chart');
  chart.dataset.step = t ? String(t.seq) : '';
  $('scrubber').value = String(Math.max(0, i));
  $('step-label').textContent = t ? 'step ' + (i + 1) + ' / ' + steps.length + (step === null ? ' (latest)' : '') : '';
  for (const tr of $('timeline').querySelectorAll('tr.selected')) tr.classList.remove('selected');
  const row = t && $('timeline').querySelector('tr[data-seq="' + t.seq + '"]');
  if (row) { row.classList.add('selected'); if (step !== null) row.scrollIntoView({ block: 'nearest' }); }
  const exit = !t || t.exitStatus === undefined ? '—' : t.exitStatus === null ? 'unknown (no one could wait for it)' : String(t.exitStatus);
  const fields = { seq: t ? t.seq : '—', event: t ? t.event : '—', time: t ? t.time : '—', from: t ? t.from || '—' : '—', to: t ? t.to : '—', pid: t ? t.pid : '—', exit,
    error: !t ? '' : t.refused ? 'refused (' + t.refused.code + '): ' + t.refused.reason : t.error || '' };
  for (const [k, v] of Object.entries(fields)) document.querySelector('#details [data-field="' + k + '"]').textContent = String(v);
  if (t) highlight(t.to, t.from, !!t.refused);
  else { const c = containers.get(selected); highlight(c && c.leaf, '', false); }
  writeUrl();
}
function goTo(i) {
  if (steps.length === 0) return;
  const n = Math.max(0, Math.min(steps.length - 1, i));
  step = n === steps.length - 1 && step === null ? null : n;
  showStep();
}

/** The latest incarnation of an id: history is kept across delete and re-create. */
function lastIncarnation(records) {
  let start = 0;
  records.forEach((r, i) => { if (r.from === '') start = i; });
  return records.slice(start);
}

async function select(id, seq) {
  selected = id;
  step = null;
  $('selected-id').textContent = id;
  $('chart').dataset.id = id;
  renderRows();
  const r = await fetch('api/containers/' + encodeURIComponent(id) + '/history');
  const got = r.ok ? lastIncarnation(await r.json()) : [];
  if (selected !== id) return;
  steps = got;
  if (seq !== undefined && seq !== null) {
    const i = steps.findIndex((t) => t.seq === seq);
    if (i >= 0) step = i;
  }
  renderTimeline();
  userMoved = false;
  showStep();
}

async function loadList() {
  const r = await fetch('api/containers?leaf=0');
  if (!r.ok) return;
  const live = new Set();
  for (const s of await r.json()) {
    live.add(s.id);
    const known = containers.get(s.id);
    // The listing has no leaf states: keep the one a transition told, unless the status has moved on since.
    const leaf = known && known.leaf && known.leaf.split('.')[0] === s.status ? known.leaf : '';
    containers.set(s.id, { status: s.status, pid: s.pid, leaf, sandbox: s.sandbox });
  }
  // Containers deleted since the page loaded stay listed, struck through.
  for (const [id, c] of containers) if (!live.has(id) && c.status !== 'deleted') c.status = 'deleted';
  resort();
  renderList();
  if (!selected) {
    const want = readUrl();
    const first = want.id && containers.has(want.id) ? want.id : sortedIds.find((id) => containers.get(id).status !== 'deleted');
    if (first) {
      await select(first, want.id === first ? want.step : null);
      scrollToSelected();
    }
  }
}

function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(loadList, 150);
}

let listFrame = 0;
function renderListSoon() {
  if (listFrame) return;
  listFrame = requestAnimationFrame(() => { listFrame = 0; renderList(); });
}

function onTransition(ev) {
  const known = containers.get(ev.id);
  const status = ev.to === 'stopped.deleted' ? 'deleted' : ev.status;
  containers.set(ev.id, { status, pid: known ? known.pid : 0, leaf: ev.to, sandbox: known ? known.sandbox : ev.id });
  if (!known) resort();
  if (!known || ev.to.startsWith('created.idle')) refreshSoon(); // learn the new container's pid and sandbox
  if (ev.id === selected) {
    if (ev.from === '' && !ev.refused) { steps = []; step = null; }
    if (!steps.some((t) => t.seq === ev.seq)) steps.push(ev);
    renderTimeline();
    showStep();
  }
  renderListSoon();
  if (!selected && status !== 'deleted') select(ev.id);
}

function connect() {
  const live = $('live');
  const es = new EventSource('events');
  es.onopen = () => { live.dataset.state = 'open'; live.textContent = 'live'; };
  es.onerror = () => { live.dataset.state = 'closed'; live.textContent = 'reconnecting…'; };
  es.onmessage = (m) => {
    const ev = JSON.parse(m.data);
    if (ev.type === 'transition') onTransition(ev);
  };
}

function setCompact(on) {
  compact = on;
  $('compact').checked = on;
  const chart = $('chart');
  chart.dataset.mode = on ? 'compact' : 'full';
  const old = chart.querySelector('#compact');
  if (old) old.remove();
  if (svg) svg.style.display = on ? 'none' : '';
  if (on) { const t = steps[shownIndex()]; chart.append(drawCompact(t ? t.to : '', t ? t.from : '', t && !!t.refused)); }
  writeUrl();
}
function setTab(name) {
  tab = name;
  $('tab-chart').setAttribute('aria-selected', String(name === 'chart'));
  $('tab-sandboxes').setAttribute('aria-selected', String(name === 'sandboxes'));
  $('view-chart').hidden = name !== 'chart';
  $('view-sandboxes').hidden = name !== 'sandboxes';
  if (name === 'sandboxes') renderSandboxes();
  writeUrl();
}

function installControls() {
  $('list').addEventListener('scroll', () => renderRows(), { passive: true });
  $('containers').addEventListener('click', (e) => { const row = e.target.closest('.row'); if (row) select(row.dataset.id); });
  $('sandboxes').addEventListener('click', (e) => { const m = e.target.closest('.member'); if (m) { setTab('chart'); select(m.dataset.id); } });
  $('filter-id').addEventListener('input', renderList);
  $('filter-status').addEventListener('change', renderList);
  $('timeline').addEventListener('click', (e) => { const tr = e.target.closest('tr'); if (tr) { step = Number(tr.dataset.index); showStep(); } });
  $('scrubber').addEventListener('input', () => { step = Number($('scrubber').value); showStep(); });
  $('step-prev').onclick = () => goTo(shownIndex() - 1);
  $('step-next').onclick = () => goTo(shownIndex() + 1);
  $('step-live').onclick = () => { step = null; showStep(); };
  $('compact').addEventListener('change', () => setCompact($('compact').checked));
  $('tab-chart').onclick = () => setTab('chart');
  $('tab-sandboxes').onclick = () => setTab('sandboxes');
  document.addEventListener('keydown', (e) => {
    const t = e.target;
    // Form fields keep their own keys (the slider steps by itself: its input event lands here too).
    if (t && ((t.tagName === 'INPUT' && t.type !== 'checkbox') || t.tagName === 'SELECT' || t.tagName === 'TEXTAREA')) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const P = 60;
    const keys = {
      ArrowLeft: () => (e.shiftKey ? pan(P, 0) : goTo(shownIndex() - 1)),
      ArrowRight: () => (e.shiftKey ? pan(-P, 0) : goTo(shownIndex() + 1)),
      ArrowUp: () => e.shiftKey && pan(0, P),
      ArrowDown: () => e.shiftKey && pan(0, -P),
      Home: () => goTo(0),
      End: () => { step = null; showStep(); },
      '+': () => $('zoom-in').click(), '=': () => $('zoom-in').click(), '-': () => $('zoom-out').click(),
      '0': fit, f: focus, c: () => setCompact(!compact),
    };
    const k = keys[e.key];
    if (!k) return;
    e.preventDefault();
    k();
  });
}

(async () => {
  installControls();
  const want = readUrl();
  if (want.view === 'sandboxes') setTab('sandboxes');
  connect();
  const [chart] = await Promise.all([fetch('chart.svg').then((r) => (r.ok ? r.text() : '')), loadList()]);
  installChart(chart);
  installGestures();
  if (want.view === 'compact') setCompact(true);
  if (selected) showStep();
})();
</script>
</body>
</html>
`;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
