/**
 * Generates docs/statecharts/ from the machine definitions themselves (never by hand):
 * for every machine in src/machines/index.ts, `<name>.mmd` (Mermaid stateDiagram-v2),
 * `<name>.svg` (Graphviz `dot -Tsvg`), and a README.md listing them.
 *
 *   node --import tsx scripts/gen-statecharts.ts            write the files (npm run docs)
 *   node --import tsx scripts/gen-statecharts.ts --check    exit 1 listing stale files
 *   ... --out DIR                                           use DIR instead of docs/statecharts
 *
 * Output is deterministic: machines sorted by name, edges sorted, and Graphviz's version comment
 * stripped, so a freshness test can compare bytes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnyStateMachine, AnyStateNode, AnyTransitionDefinition } from 'xstate';
import { machines } from '../src/machines/index.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
export const DEFAULT_OUT = path.join(REPO, 'docs', 'statecharts');

/** One transition drawn as an edge. `target` undefined = targetless (actions only). */
interface Edge {
  eventType: string;
  source: AnyStateNode;
  target: AnyStateNode | undefined;
  label: string;
}

const pathOf = (n: AnyStateNode): string => n.path.join('.');
const childrenOf = (n: AnyStateNode): AnyStateNode[] => Object.values(n.states) as AnyStateNode[];
const isCompound = (n: AnyStateNode): boolean => childrenOf(n).length > 0;

function allNodes(n: AnyStateNode): AnyStateNode[] {
  return [n, ...childrenOf(n).flatMap(allNodes)];
}

function nameOf(x: unknown): string {
  if (typeof x === 'string') return x;
  if (x && typeof x === 'object' && 'type' in x && typeof (x as { type: unknown }).type === 'string') {
    return (x as { type: string }).type;
  }
  if (typeof x === 'function') return x.name || 'inline';
  return 'inline';
}

function trigger(eventType: string): string {
  if (eventType === '') return 'always';
  const done = /^xstate\.done\.actor\.(.+)$/.exec(eventType);
  if (done) return `done ${done[1]}`;
  const error = /^xstate\.error\.actor\.(.+)$/.exec(eventType);
  if (error) return `error ${error[1]}`;
  return eventType;
}

function transitionLabel(t: AnyTransitionDefinition): string {
  let label = trigger(t.eventType);
  if (t.guard !== undefined) label += ` [${nameOf(t.guard)}]`;
  const actions = (t.actions as unknown[]).map(nameOf);
  if (actions.length > 0) label += ` / ${actions.join(', ')}`;
  return label;
}

function edgesOf(machine: AnyStateMachine): Edge[] {
  const edges: Edge[] = [];
  for (const node of allNodes(machine.root)) {
    const defs: AnyTransitionDefinition[] = [...node.transitions.values()].flat();
    if (node.always) defs.push(...node.always);
    for (const t of defs) {
      const targets = (t.target ?? []) as AnyStateNode[];
      const base = { eventType: t.eventType, source: node, label: transitionLabel(t) };
      if (targets.length === 0) edges.push({ ...base, target: undefined });
      for (const target of targets) edges.push({ ...base, target });
    }
  }
  const key = (e: Edge) => `${pathOf(e.source)}\u0000${e.target ? pathOf(e.target) : ''}\u0000${e.label}`;
  return edges.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

function initialChild(n: AnyStateNode): AnyStateNode | undefined {
  return (n.initial?.target?.[0] as AnyStateNode | undefined) ?? undefined;
}

/** The leaf entered when entering `n` (following initial states). */
function initialLeaf(n: AnyStateNode): AnyStateNode {
  let cur = n;
  for (let next = initialChild(cur); next !== undefined; next = initialChild(cur)) cur = next;
  return cur;
}

function invokeNames(n: AnyStateNode): string[] {
  return (n.invoke as { src: unknown }[]).map((i) => nameOf(i.src));
}

function ancestors(n: AnyStateNode): AnyStateNode[] {
  const out: AnyStateNode[] = [];
  for (let p = n.parent; p !== undefined; p = p.parent) out.push(p);
  return out;
}

/** The deepest state that strictly contains both (the root at worst). */
function commonAncestor(a: AnyStateNode, b: AnyStateNode): AnyStateNode {
  const ofB = new Set(ancestors(b));
  for (const p of ancestors(a)) if (ofB.has(p)) return p;
  return a.machine.root;
}

/** The ancestor-or-self of `n` that is a direct child of `scope`. */
function childWithin(scope: AnyStateNode, n: AnyStateNode): AnyStateNode {
  let cur = n;
  while (cur.parent !== undefined && cur.parent !== scope) cur = cur.parent;
  return cur;
}

// ---------------------------------------------------------------- Mermaid

const mid = (n: AnyStateNode): string => (n.path.length === 0 ? 'root' : n.path.join('_'));
const mtext = (s: string): string => s.replace(/[:;#{}"]/g, ' ').replace(/\s+/g, ' ').trim();

/**
 * Mermaid stateDiagram-v2. Mermaid cannot draw an edge between states inside two different
 * composite states, so such an edge is drawn between the outermost states that differ, and its
 * label names the real source and target (`idle → destroying`).
 */
export function toMermaid(machine: AnyStateMachine): string {
  const byScope = new Map<AnyStateNode, string[]>();
  const push = (scope: AnyStateNode, line: string) => {
    const list = byScope.get(scope) ?? [];
    list.push(line);
    byScope.set(scope, list);
  };
  for (const e of edgesOf(machine)) {
    if (e.target === undefined) {
      if (isCompound(e.source)) push(e.source.parent ?? machine.root, `note right of ${mid(e.source)} : ${mtext(e.label)} (no state change)`);
      else push(e.source.parent ?? machine.root, `${mid(e.source)} --> ${mid(e.source)} : ${mtext(e.label)}`);
      continue;
    }
    const scope = e.source === e.target ? (e.source.parent ?? machine.root) : commonAncestor(e.source, e.target);
    const from = e.source === e.target ? e.source : childWithin(scope, e.source);
    const to = e.source === e.target ? e.target : childWithin(scope, e.target);
    let label = e.label;
    if (from !== e.source || to !== e.target) {
      const rel = (n: AnyStateNode, shown: AnyStateNode) => n.path.slice(shown.path.length - 1).join('.');
      label += ` (${rel(e.source, from)} → ${rel(e.target, to)})`;
    }
    push(scope, `${mid(from)} --> ${mid(to)} : ${mtext(label)}`);
  }

  const lines = ['stateDiagram-v2'];
  const emit = (scope: AnyStateNode, indent: string) => {
    const init = initialChild(scope);
    if (init) lines.push(`${indent}[*] --> ${mid(init)}`);
    for (const child of childrenOf(scope)) {
      if (isCompound(child)) {
        lines.push(`${indent}state "${child.key}" as ${mid(child)} {`);
        emit(child, indent + '  ');
        lines.push(`${indent}}`);
      } else {
        lines.push(`${indent}state "${child.key}" as ${mid(child)}`);
        for (const src of invokeNames(child)) lines.push(`${indent}${mid(child)} : invoke ${mtext(src)}`);
        if (child.type === 'final') lines.push(`${indent}${mid(child)} --> [*]`);
      }
    }
    for (const line of byScope.get(scope) ?? []) lines.push(indent + line);
  };
  emit(machine.root, '  ');
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------- Graphviz

const q = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
const cluster = (n: AnyStateNode): string => q(`cluster_${pathOf(n)}`);

/**
 * Graphviz DOT with one cluster per compound state. An edge to or from a compound state is drawn
 * to its initial leaf and clipped at the cluster border (`lhead` / `ltail`).
 */
export function toDot(machine: AnyStateMachine): string {
  const lines = [
    `digraph ${q(machine.id)} {`,
    '  compound=true;',
    // newrank: graphviz 2.43's default ranking fails ("trouble in init_rank") on edges between clusters.
    '  newrank=true;',
    '  rankdir=LR;',
    '  fontname="Helvetica";',
    '  node [shape=box, style=rounded, fontname="Helvetica", fontsize=11];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  const internal = new Map<AnyStateNode, string[]>();
  const edges = edgesOf(machine);
  for (const e of edges) {
    if (e.target === undefined && isCompound(e.source)) {
      internal.set(e.source, [...(internal.get(e.source) ?? []), e.label]);
    }
  }
  const emit = (scope: AnyStateNode, indent: string) => {
    const init = initialChild(scope);
    if (init) {
      const start = q(`${pathOf(scope) || machine.id}.__initial`);
      lines.push(`${indent}${start} [shape=point, width=0.12, label=""];`);
      const attrs = isCompound(init) ? ` [lhead=${cluster(init)}]` : '';
      lines.push(`${indent}${start} -> ${q(pathOf(initialLeaf(init)))}${attrs};`);
    }
    for (const child of childrenOf(scope)) {
      if (isCompound(child)) {
        const label = [child.key, ...(internal.get(child) ?? []).map((l) => `${l} (no state change)`)].join('\n');
        lines.push(`${indent}subgraph ${cluster(child)} {`);
        lines.push(`${indent}  label=${q(label)};`);
        lines.push(`${indent}  style=rounded;`);
        emit(child, indent + '  ');
        lines.push(`${indent}}`);
      } else {
        const label = [child.key, ...invokeNames(child).map((s) => `invoke ${s}`)].join('\n');
        const shape = child.type === 'final' ? ', peripheries=2' : '';
        lines.push(`${indent}${q(pathOf(child))} [label=${q(label)}${shape}];`);
      }
    }
  };
  emit(machine.root, '  ');
  for (const e of edges) {
    if (e.target === undefined) {
      if (!isCompound(e.source)) {
        lines.push(`  ${q(pathOf(e.source))} -> ${q(pathOf(e.source))} [label=${q(e.label)}, style=dashed];`);
      }
      continue;
    }
    const attrs = [`label=${q(e.label)}`];
    if (isCompound(e.source)) attrs.push(`ltail=${cluster(e.source)}`);
    if (isCompound(e.target)) attrs.push(`lhead=${cluster(e.target)}`);
    if (e.label.startsWith('always')) attrs.push('style=dashed');
    lines.push(`  ${q(pathOf(initialLeaf(e.source)))} -> ${q(pathOf(initialLeaf(e.target)))} [${attrs.join(', ')}];`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** Renders DOT to SVG with Debian's graphviz, minus the version comment (stable output). */
export function renderSvg(dot: string): string {
  const svg = execFileSync('dot', ['-Tsvg'], { input: dot, encoding: 'utf8' });
  return svg.replace(/<!-- Generated by graphviz[\s\S]*?-->\n/, '');
}

// ---------------------------------------------------------------- README

function readme(list: { name: string; machine: AnyStateMachine }[], mermaid: Map<string, string>): string {
  const out = [
    '# Statecharts',
    '',
    'Generated from `src/machines/` by `npm run docs` (`scripts/gen-statecharts.ts`). Do not edit by hand:',
    '`test/unit/statechart-docs.test.ts` fails when these files are stale.',
    '',
    'Edge labels: `event [guard] / actions`; `done X` / `error X` = the invoked actor X finished / failed;',
    '`always` = eventless transition; in Mermaid, an edge between states inside different composite states is',
    'drawn between the composites and names the real states in parentheses.',
    '',
  ];
  for (const { name, machine } of list) {
    const nodes = allNodes(machine.root).filter((n) => n !== machine.root);
    const effects = nodes.flatMap((n) => invokeNames(n).map((src) => `\`${src}\` (${pathOf(n)})`));
    // Events a sender can send: not eventless, not xstate's internal done/error events.
    const events = [...new Set(edgesOf(machine).map((e) => e.eventType))].filter((ev) => ev !== '' && !ev.startsWith('xstate.'));
    out.push(
      `## ${name}`,
      '',
      `- Mermaid: [${name}.mmd](${name}.mmd)`,
      `- SVG: [${name}.svg](${name}.svg)`,
      `- States: ${nodes.length} (${nodes.filter((n) => !isCompound(n)).length} leaves)`,
      `- Events: ${events.sort().map((e) => `\`${e}\``).join(', ')}`,
      `- Invoked effects: ${effects.join(', ') || 'none'}`,
      '',
      '```mermaid',
      (mermaid.get(name) ?? '').trimEnd(),
      '```',
      '',
    );
  }
  return out.join('\n');
}

/** Every generated file: name → content. */
export function renderAll(): Map<string, string> {
  const list = [...machines].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const files = new Map<string, string>();
  const mermaid = new Map<string, string>();
  for (const { name, machine } of list) {
    const mmd = toMermaid(machine);
    mermaid.set(name, mmd);
    files.set(`${name}.mmd`, mmd);
    files.set(`${name}.svg`, renderSvg(toDot(machine)));
  }
  files.set('README.md', readme(list, mermaid));
  return files;
}

/** Files in `dir` that differ from `files` (missing, changed, or generated-looking leftovers). */
export function staleFiles(dir: string, files: Map<string, string>): string[] {
  const stale: string[] = [];
  for (const [name, content] of files) {
    const p = path.join(dir, name);
    if (!fs.existsSync(p) || fs.readFileSync(p, 'utf8') !== content) stale.push(name);
  }
  const present = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  for (const name of present) {
    if (/\.(mmd|svg)$/.test(name) && !files.has(name)) stale.push(`${name} (no such machine)`);
  }
  return stale.sort();
}

function main(argv: string[]): number {
  const check = argv.includes('--check');
  const outIdx = argv.indexOf('--out');
  const out = outIdx >= 0 ? path.resolve(argv[outIdx + 1] ?? '') : DEFAULT_OUT;
  const files = renderAll();
  if (check) {
    const stale = staleFiles(out, files);
    if (stale.length > 0) {
      process.stderr.write(`stale statechart docs in ${out} (run npm run docs):\n${stale.map((s) => `  ${s}\n`).join('')}`);
      return 1;
    }
    return 0;
  }
  fs.mkdirSync(out, { recursive: true });
  for (const [name, content] of files) fs.writeFileSync(path.join(out, name), content);
  for (const name of fs.readdirSync(out)) {
    if (/\.(mmd|svg)$/.test(name) && !files.has(name)) fs.rmSync(path.join(out, name));
  }
  process.stdout.write(`wrote ${[...files.keys()].join(', ')} to ${path.relative(process.cwd(), out) || '.'}\n`);
  return 0;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  process.exitCode = main(process.argv.slice(2));
}
