import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createMachine } from 'xstate';
import { toDot, toMermaid } from '../../scripts/gen-statecharts.js';
import { containerMachine } from '../../src/machines/container.js';
import { machines } from '../../src/machines/index.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const DOCS = path.join(REPO, 'docs', 'statecharts');
const SCRIPT = path.join(REPO, 'scripts', 'gen-statecharts.ts');

function generator(...args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: REPO, encoding: 'utf8' });
}

describe('generated statechart docs', () => {
  let tmp: string;
  before(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-docs-'));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('the checked-in docs/statecharts match a fresh run (run `npm run docs` if this fails)', () => {
    const out = path.join(tmp, 'fresh');
    const run = generator('--out', out);
    assert.equal(run.status, 0, run.stderr);
    const fresh = fs.readdirSync(out).sort();
    const expected = ['README.md', ...machines.flatMap((m) => [`${m.name}.mmd`, `${m.name}.svg`])].sort();
    assert.deepEqual(fresh, expected);
    assert.deepEqual(fs.readdirSync(DOCS).sort(), expected, 'docs/statecharts holds exactly the generated files');
    for (const name of fresh) {
      assert.equal(fs.readFileSync(path.join(DOCS, name), 'utf8'), fs.readFileSync(path.join(out, name), 'utf8'), `${name} is stale`);
    }
    assert.doesNotMatch(fs.readFileSync(path.join(out, 'container.svg'), 'utf8'), /graphviz version/);
  });

  it('--check passes on the checked-in docs and lists stale files otherwise', () => {
    const ok = generator('--check');
    assert.equal(ok.status, 0, ok.stderr);

    const copy = path.join(tmp, 'stale');
    fs.cpSync(DOCS, copy, { recursive: true });
    fs.appendFileSync(path.join(copy, 'container.mmd'), '  extra --> line\n');
    fs.rmSync(path.join(copy, 'README.md'));
    fs.writeFileSync(path.join(copy, 'retired.svg'), '<svg/>');
    const bad = generator('--check', '--out', copy);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /container\.mmd/);
    assert.match(bad.stderr, /README\.md/);
    assert.match(bad.stderr, /retired\.svg \(no such machine\)/);
    assert.doesNotMatch(bad.stderr, /container\.svg/);
  });

  it('is derived from the machine: every state, effect, guard and eventless transition appears', () => {
    const mmd = toMermaid(containerMachine());
    const dot = toDot(containerMachine());
    for (const leaf of ['creating_pending', 'created_starting', 'running_exited', 'paused_resuming', 'stopped_deleted']) {
      assert.match(mmd, new RegExp(`state "\\w+" as ${leaf}\\b`));
    }
    for (const effect of ['spawnInit', 'startInit', 'signalProcess', 'freezeCgroup', 'thawCgroup', 'destroyContainer']) {
      assert.ok(mmd.includes(`invoke ${effect}`), `mermaid names ${effect}`);
      assert.ok(dot.includes(`invoke ${effect}`), `dot names ${effect}`);
    }
    assert.ok(mmd.includes('running --> stopped : always [isDeleteAfterResume] / clearDeleteAfterResume (running.idle → stopped.destroying)'));
    assert.ok(mmd.includes('container.delete [isForced] (running.idle → stopped.destroying)'));
    assert.ok(mmd.includes('stopped_deleted --> [*]'));
    assert.ok(dot.includes('"running.idle" -> "stopped.destroying" [label="always [isDeleteAfterResume] / clearDeleteAfterResume", style=dashed];'));
    assert.ok(dot.includes('"stopped.deleted" [label="deleted", peripheries=2];'));
  });

  it('draws edges to and from compound states at the cluster border', () => {
    const toy = createMachine({
      id: 'toy',
      initial: 'a',
      states: {
        a: { on: { GO: 'b' } },
        b: {
          initial: 'one',
          on: { BACK: 'a', TICK: { actions: 'count' } },
          states: { one: { on: { NEXT: 'two' } }, two: {} },
        },
      },
    });
    const dot = toDot(toy);
    assert.ok(dot.includes('"a" -> "b.one" [label="GO", lhead="cluster_b"];'), dot);
    assert.ok(dot.includes('"b.one" -> "a" [label="BACK", ltail="cluster_b"];'), dot);
    assert.ok(dot.includes('label="b\\nTICK / count (no state change)";'), dot);
    const mmd = toMermaid(toy);
    assert.ok(mmd.includes('a --> b : GO\n'), mmd);
    assert.ok(mmd.includes('b --> a : BACK\n'), mmd);
    assert.ok(mmd.includes('note right of b : TICK / count (no state change)'), mmd);
  });
});
