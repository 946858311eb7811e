// The chart the visualizer serves (src/ui/chart.ts): the generated SVG made inlinable, or a drawing of the states.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerMachine } from '../../src/machines/container.js';
import { drawStates, inlineSvg, loadChart } from '../../src/ui/chart.js';

const LEAVES = [
  'creating.pending', 'creating.spawning', 'created.idle', 'created.starting', 'running.idle', 'running.pausing',
  'paused.idle', 'paused.resuming', 'stopped.idle', 'stopped.destroying', 'stopped.deleted',
];

function titles(svg: string, cls: 'node' | 'cluster'): string[] {
  return [...svg.matchAll(new RegExp(`<g id="[^"]*" class="${cls}">\\s*<title>([^<]*)</title>|<g class="${cls}"><title>([^<]*)</title>`, 'g'))].map((m) => m[1] ?? m[2]);
}

describe('visualizer chart', () => {
  test('the generated docs SVG is served without prologue or fixed size, and names every leaf state', () => {
    const svg = loadChart(containerMachine());
    assert.match(svg, /^<svg[^>]*viewBox=/);
    assert.doesNotMatch(svg.slice(0, svg.indexOf('>')), /\s(width|height)=/);
    const nodes = titles(svg, 'node');
    for (const leaf of LEAVES) assert.ok(nodes.includes(leaf), `node ${leaf}`);
    for (const status of ['creating', 'created', 'running', 'paused', 'stopped']) assert.ok(titles(svg, 'cluster').includes(`cluster_${status}`), status);
  });

  test('without the docs file, a drawing of the machine has the same node and cluster titles', () => {
    const dir = mkdtempSync(join(tmpdir(), 'runts-ui-chart-'));
    try {
      const svg = loadChart(containerMachine(), join(dir, 'missing.svg'));
      assert.equal(svg, drawStates(containerMachine()));
      const nodes = titles(svg, 'node');
      for (const leaf of LEAVES) assert.ok(nodes.includes(leaf), `node ${leaf}`);
      assert.deepEqual(titles(svg, 'cluster'), ['cluster_creating', 'cluster_created', 'cluster_running', 'cluster_paused', 'cluster_stopped']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('inlineSvg keeps the viewBox and drops only the root element\'s width and height', () => {
    const out = inlineSvg('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg width="10pt" height="5pt" viewBox="0 0 10 5"><rect width="3" height="4"/></svg>');
    assert.equal(out, '<svg viewBox="0 0 10 5"><rect width="3" height="4"/></svg>');
  });
});
