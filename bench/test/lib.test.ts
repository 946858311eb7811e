import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { Tracker, cgroupHierarchies, inBatches } from '../lib/cleanup.js';
import { hasExited } from '../lib/proc.js';
import { formatMs, renderMarkdown, renderTable, type Entry } from '../lib/report.js';
import { showCommand } from '../lib/runtimes.js';
import { ratio, summarize } from '../lib/stats.js';

describe('summarize / ratio', () => {
  it('gives median, min, max of an odd count without reordering the input', () => {
    const xs = [5, 1, 3];
    assert.deepEqual(summarize(xs), { n: 3, median: 3, min: 1, max: 5 });
    assert.deepEqual(xs, [5, 1, 3]);
  });
  it('averages the two middle values of an even count', () => {
    assert.equal(summarize([4, 1, 2, 10])?.median, 3);
  });
  it('is undefined for no samples, and so is any ratio with it', () => {
    assert.equal(summarize([]), undefined);
    assert.equal(summarize(undefined), undefined);
    assert.equal(ratio(summarize([1]), undefined), undefined);
  });
  it('divides medians', () => {
    assert.equal(ratio(summarize([10, 30, 20]), summarize([4, 5, 6])), 4);
  });
});

describe('report', () => {
  const entries: Entry[] = [
    { kind: 'row', num: 1, title: 'run', samples: { runts: [200, 100, 300], runc: [50], crun: [25] } },
    { kind: 'row', num: 7, title: 'node floor', samples: { runts: [60] }, note: 'a | b' },
    { kind: 'placeholder', num: 3, title: 'embedded API', reason: 'needs the embedded Runtime API / resident supervisor' },
  ];
  const table = renderTable(entries);
  const lines = table.trim().split('\n');

  it('prints median (min–max) per runtime and the runts/runc, runts/crun ratios of medians', () => {
    assert.match(lines[2], /\| 1 \| run \| 3\/1 \| 200 \(100–300\) \| 50\.0 \(50\.0–50\.0\) \| 25\.0 \(25\.0–25\.0\) \| 4\.00× \| 8\.00× \|/);
  });
  it('prints a dash for runtimes without samples and escapes pipes in notes', () => {
    assert.match(lines[3], /\| — \| — \| — \| — \| a \\\| b \|$/);
  });
  it('prints placeholders as not yet measured with the reason', () => {
    assert.match(lines[4], /^\| 3 \| embedded API \|.*\*\*not yet measured\*\*: needs the embedded Runtime API \/ resident supervisor \|$/);
  });
  it('keeps every line at the header column count', () => {
    const cols = (l: string) => l.replace(/\\\|/g, '').split('|').length;
    for (const l of lines) assert.equal(cols(l), cols(lines[0]), l);
  });
  it('wraps the table with facts, commands and notes', () => {
    const md = renderMarkdown({ title: 'T', facts: [['k', 'v']], commands: ['cmd'], notes: ['n'] }, entries);
    assert.ok(md.startsWith('# T\n\n- **k**: v\n'));
    assert.ok(md.includes(table));
    assert.ok(md.includes('\n    cmd\n') && md.includes('\n- n\n'));
  });
  it('formats milliseconds by magnitude', () => {
    assert.deepEqual([0.123, 12.34, 1234.5].map(formatMs), ['0.12', '12.3', '1235']);
  });
});

describe('helpers', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-bench-test-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('Tracker forgets removed IDs per runtime only', () => {
    const t = new Tracker();
    t.add('runts', 'a');
    t.add('runc', 'a');
    t.add('runts', 'b');
    t.remove('runts', 'a');
    assert.deepEqual(t.ids('runts'), ['b']);
    assert.deepEqual(t.ids('runc'), ['a']);
    assert.equal(t.size, 2);
  });

  it('inBatches never runs more than the width at once and visits every item', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await inBatches([1, 2, 3, 4, 5], 2, async (x) => {
      peak = Math.max(peak, ++running);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(x);
      running--;
    });
    assert.equal(peak, 2);
    assert.deepEqual(seen.sort(), [1, 2, 3, 4, 5]);
  });

  it('cgroupHierarchies finds v1 controller dirs, or the base itself when it is cgroup2', () => {
    const v1 = path.join(tmp, 'v1');
    for (const d of ['memory', 'pids', 'unified']) {
      fs.mkdirSync(path.join(v1, d), { recursive: true });
      fs.writeFileSync(path.join(v1, d, 'cgroup.procs'), '');
    }
    fs.mkdirSync(path.join(v1, 'not-a-cgroup'));
    assert.deepEqual(cgroupHierarchies(v1).map((p) => path.basename(p)).sort(), ['memory', 'pids', 'unified']);
    const v2 = path.join(tmp, 'v2');
    fs.mkdirSync(v2);
    fs.writeFileSync(path.join(v2, 'cgroup.procs'), '');
    assert.deepEqual(cgroupHierarchies(v2), [v2]);
  });

  it('hasExited is false for a live process and true once it exited', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      assert.equal(hasExited(child.pid!), false);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    assert.equal(hasExited(child.pid!), true);
  });

  it('showCommand quotes only what a shell would split', () => {
    assert.equal(showCommand('/bin/x', ['--root', '/tmp/a b', "it's"]), `/bin/x --root '/tmp/a b' 'it'\\''s'`);
  });
});

describe('quantile', () => {
  it('is the nearest-rank quantile', async () => {
    const { quantile } = await import('../lib/stats.js');
    assert.equal(quantile([3, 1, 2, 4], 0.5), 2);
    assert.equal(quantile([3, 1, 2, 4], 0.99), 4);
    assert.equal(quantile(Array.from({ length: 100 }, (_, i) => i + 1), 0.99), 99);
    assert.equal(quantile([], 0.5), undefined);
  });
});

describe('runtime-call probe', () => {
  it('a probe logs each call as one line and runs the real binary with the same arguments', async () => {
    const { writeProbe, parseProbeLog } = await import('../lib/probe.js');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-bench-probe-'));
    try {
      const p = writeProbe(dir, "it's", '/bin/echo');
      const { spawnSync } = await import('node:child_process');
      const a = spawnSync(p.bin, ['--root', '/r x', 'create', '--bundle', 'b', 'id'], { encoding: 'utf8' });
      const b = spawnSync(p.bin, ['delete', '--force', 'id'], { encoding: 'utf8' });
      assert.equal(a.stdout, '--root /r x create --bundle b id\n');
      assert.equal(b.stdout, 'delete --force id\n');
      assert.deepEqual(parseProbeLog(fs.readFileSync(p.log, 'utf8')), [
        ['--root', '/r x', 'create', '--bundle', 'b', 'id'],
        ['delete', '--force', 'id'],
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describes a call by its command word and option names, skipping global options and their values', async () => {
    const { describeCall } = await import('../lib/probe.js');
    assert.deepEqual(describeCall(['--root', '/run/x', '--log', '/l.json', '--log-format', 'json', 'create', '--bundle', '/b', '--pid-file', '/p', 'id']), {
      command: 'create',
      root: '/run/x',
      flags: ['--bundle', '--pid-file'],
    });
    assert.deepEqual(describeCall(['--root=/r', '--systemd-cgroup', 'kill', '--all=true', 'id', 'KILL']), { command: 'kill', root: '/r', flags: ['--all'] });
    assert.deepEqual(describeCall(['start', 'id']), { command: 'start', root: undefined, flags: [] });
  });

  it('summarizes the calls of one run with their roots', async () => {
    const { summarizeCalls } = await import('../lib/probe.js');
    assert.equal(summarizeCalls([['--root', '/r', 'start', 'x']]), '1 call: start (--root /r)');
    assert.equal(
      summarizeCalls([
        ['create', '--bundle', 'b', 'x'],
        ['delete', '--force', 'x'],
      ]),
      '2 calls: create --bundle, delete --force (--root none (the default))',
    );
  });
});

describe('warm hosts', () => {
  it('hostOf picks out a runts host serving the root from a command line', async () => {
    const { hostOf } = await import('../lib/host.js');
    const argv = ['node', '/x/bin/runts.cjs', '--root', '/run/containerd/runc/ns', 'supervise', '--auto', ''];
    assert.equal(hostOf(argv, '/run/containerd/runc/ns'), '/x/bin/runts.cjs');
    assert.equal(hostOf(argv, '/run/containerd/runc/ns/'), '/x/bin/runts.cjs');
    assert.equal(hostOf(argv, '/run/runts'), undefined);
    assert.equal(hostOf(['node', '/x/bin/runts.cjs', '--root', '/r', 'state', 'id'], '/r'), undefined);
    assert.equal(hostOf(['node', '/x/bin/runts.cjs', '--root=/r', 'supervise'], '/r'), '/x/bin/runts.cjs');
  });

  it('a skipped row prints its status and reason', () => {
    const table = renderTable([{ kind: 'placeholder', num: 10, title: 'ctr', reason: 'needs containerd', status: 'skipped' }]);
    assert.match(table, /\| 10 \| ctr \|.*\*\*skipped\*\*: needs containerd \|$/m);
  });
});
