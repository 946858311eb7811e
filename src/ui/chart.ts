/**
 * The statechart the visualizer draws: the generated docs/statecharts/container.svg (Graphviz, from the machine
 * itself), or — where the docs are not installed — a plain drawing of the machine's states. Both mark states the
 * same way, which is what the page highlights: `<g class="node"><title>running.idle</title>…` for a leaf state and
 * `<g class="cluster"><title>cluster_running</title>…` for a status.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AnyStateMachine, AnyStateNode } from 'xstate';

// src/ui (tsx) and dist/ui both sit two levels below the repository root.
export const CHART_FILE = fileURLToPath(new URL('../../docs/statecharts/container.svg', import.meta.url));

/** The chart as inline SVG markup (no XML prologue; scales to its container). */
export function loadChart(machine: AnyStateMachine, file = CHART_FILE): string {
  let svg: string;
  try {
    svg = readFileSync(file, 'utf8');
  } catch {
    return drawStates(machine);
  }
  return inlineSvg(svg);
}

/** Drops what precedes `<svg` and the fixed width/height, keeping the viewBox so CSS can size it. */
export function inlineSvg(svg: string): string {
  const start = svg.indexOf('<svg');
  if (start < 0) return svg;
  return svg.slice(start).replace(/^<svg([^>]*)>/, (_all, attrs: string) => `<svg${attrs.replace(/\s(width|height)="[^"]*"/g, '')}>`);
}

/**
 * What the page's compact view draws: the top-level statuses in chart order with their substates, and the status
 * moves the chart allows (one arrow per pair, whatever the substates).
 */
export interface ChartModel {
  statuses: { name: string; substates: string[] }[];
  moves: Readonly<Record<string, readonly string[]>>;
}

export function chartModel(machine: AnyStateMachine, moves: Readonly<Record<string, readonly string[]>>): ChartModel {
  const statuses = (Object.values(machine.root.states) as AnyStateNode[]).map((top) => ({
    name: top.key,
    substates: (Object.values(top.states) as AnyStateNode[]).map((n) => n.key),
  }));
  return { statuses, moves };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A column per top-level state, its leaf states stacked inside: states only (the docs have the transitions). */
export function drawStates(machine: AnyStateMachine): string {
  const COL = 190;
  const ROW = 34;
  const tops = Object.values(machine.root.states) as AnyStateNode[];
  const leavesOf = (n: AnyStateNode): AnyStateNode[] => {
    const kids = Object.values(n.states) as AnyStateNode[];
    return kids.length === 0 ? [n] : kids.flatMap(leavesOf);
  };
  const rows = Math.max(...tops.map((t) => leavesOf(t).length));
  const height = 50 + rows * ROW + 10;
  const parts: string[] = [];
  tops.forEach((top, i) => {
    const x = 10 + i * COL;
    const name = top.path.join('.');
    parts.push(
      `<g class="cluster"><title>cluster_${esc(name)}</title>` +
        `<rect x="${x}" y="10" width="${COL - 20}" height="${height - 20}" rx="8" fill="none" stroke="black"/>` +
        `<text x="${x + (COL - 20) / 2}" y="32" text-anchor="middle" font-family="sans-serif" font-size="14">${esc(name)}</text></g>`,
    );
    leavesOf(top).forEach((leaf, j) => {
      const y = 44 + j * ROW;
      const path = leaf.path.join('.');
      parts.push(
        `<g class="node"><title>${esc(path)}</title>` +
          `<rect x="${x + 12}" y="${y}" width="${COL - 44}" height="${ROW - 8}" rx="6" fill="none" stroke="black"/>` +
          `<text x="${x + (COL - 20) / 2}" y="${y + 17}" text-anchor="middle" font-family="sans-serif" font-size="12">${esc(leaf.key)}</text></g>`,
      );
    });
  });
  const width = 10 + tops.length * COL;
  return `<svg viewBox="0 0 ${width} ${height}" xmlns="http://www.w3.org/2000/svg">${parts.join('')}</svg>`;
}
