// Transition history and live events, with real containers: `runts history` (table and JSON), `runts events
// --transitions`, Runtime.events() seeing other processes' changes, and the README's embedding example run as is.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, RUNTS, Sandbox, assertNoLeftovers, isRoot } from '../helpers/runts.js';
import { Runtime } from '../../src/runtime.js';
import type { RuntimeEvent } from '../../src/operations/events.js';
import type { TransitionRecord } from '../../src/persistence/store.js';

const skip = isRoot ? false : 'needs root: real containers';
const sleeper = (spec: { process?: { args?: string[] } }) => (spec.process!.args = ['sleep', '1000']);
// No supervisor in these tests: every command runs as a transient host.
const env = { RUNTS_NO_SUPERVISOR: '1' };

/** Starts `runts events --transitions` and collects its JSON lines until it exits. */
function followCli(sb: Sandbox, id: string): { lines: string[]; exited: Promise<number | null>; kill(): void } {
  const child = spawn(RUNTS, ['--root', sb.root, 'events', '--transitions', id], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const lines: string[] = [];
  let buf = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => {
    buf += c;
    for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) lines.push(buf.slice(0, i));
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return { lines, exited, kill: () => child.kill('SIGKILL') };
}

describe('history and events', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('history prints every move as a table and as JSON, and keeps it after delete', () => {
    const id = sb.id('hist');
    const bundle = sb.bundle(id, sleeper);
    for (const args of [['create', '--bundle', bundle, id], ['start', id], ['pause', id], ['resume', id], ['kill', id, 'KILL']]) {
      const r = sb.runts(args, { env });
      assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
    }
    // The SIGKILL is noticed by the next command's reconcile (no supervisor here: status unknown).
    assert.equal(sb.state(id).status, 'stopped');

    const table = sb.runts(['history', id], { env });
    assert.equal(table.status, 0, table.stderr);
    const [header, ...rows] = table.stdout.trimEnd().split('\n');
    assert.deepEqual(header.split(/\s+/), ['SEQ', 'TIME', 'FROM', 'TO', 'EVENT', 'PID', 'EXIT']);
    const cells = rows.map((r) => r.split(/\s+/));
    assert.deepEqual(cells.map((c) => c[3]), [
      'creating.pending', 'creating.spawning', 'created.idle', 'created.starting', 'running.idle',
      'running.pausing', 'paused.idle', 'paused.resuming', 'running.idle', 'running.signalling', 'running.idle', 'stopped.idle',
    ]);
    assert.deepEqual(cells.map((c) => Number(c[0])), cells.map((_, i) => i + 1), 'SEQ counts up from 1');
    assert.equal(cells[0][2], '-', 'the first record comes from nowhere');
    assert.equal(cells.at(-1)![4], 'observed.exited');
    assert.equal(cells.at(-1)![6], '?', 'exited, status unknown to a transient host');

    const json = JSON.parse(sb.runts(['history', '--format', 'json', id], { env }).stdout) as TransitionRecord[];
    assert.equal(json.length, rows.length);
    assert.deepEqual(Object.keys(json[0]).sort(), ['event', 'from', 'id', 'pid', 'seq', 'time', 'to']);
    assert.equal(json.at(-1)!.exitStatus, null);
    assert.ok(json.every((t) => t.id === id && Number.isInteger(t.pid) && !Number.isNaN(Date.parse(t.time))));

    assert.equal(sb.runts(['delete', id], { env }).status, 0);
    const kept = JSON.parse(sb.runts(['history', '--format', 'json', id], { env }).stdout) as TransitionRecord[];
    assert.deepEqual(kept.slice(-2).map((t) => t.to), ['stopped.destroying', 'stopped.deleted']);
    assertNoLeftovers(sb, id, bundle);
  });

  test('history of an unknown container is an error naming it', () => {
    const r = sb.runts(['history', 'never-was'], { env });
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim(), 'runts: container "never-was" has no history: check the ID with runts list');
  });

  test('history --purge drops a deleted container\'s log (exact ID), or every deleted one\'s; a live one\'s is kept', () => {
    const [gone1, gone2, live] = [sb.id('purge1'), sb.id('purge2'), sb.id('purge-live')];
    const bundle = sb.bundle(live, sleeper);
    for (const id of [gone1, gone2, live]) assert.equal(sb.runts(['create', '--bundle', bundle, id], { env }).status, 0);
    for (const id of [gone1, gone2]) assert.equal(sb.runts(['delete', id], { env }).status, 0);
    const hasHistory = (id: string) => sb.runts(['history', id], { env }).status === 0;
    assert.ok(hasHistory(gone1) && hasHistory(gone2) && hasHistory(live));

    const refused = sb.runts(['history', '--purge', live], { env });
    assert.equal(refused.status, 1);
    assert.equal(refused.stderr, `runts: container "${live}" exists: its history is kept until it is deleted\n`);
    const unknown = sb.runts(['history', '--purge', 'never-was'], { env });
    assert.equal(unknown.status, 1);
    assert.match(unknown.stderr, /^runts: container "never-was" has no history: .*\n$/);
    const none = sb.runts(['history'], { env });
    assert.equal(none.status, 1);
    assert.equal(none.stderr, 'runts: history needs a container ID (or --purge)\n');

    assert.equal(sb.runts(['history', '--purge', gone1], { env }).status, 0);
    assert.equal(hasHistory(gone1), false);
    assert.equal(hasHistory(gone2), true);
    assert.equal(sb.runts(['history', '--purge'], { env }).status, 0);
    assert.equal(hasHistory(gone2), false);
    assert.equal(hasHistory(live), true, 'a live container keeps its log');
    assert.equal(sb.runts(['delete', live], { env }).status, 0);
    assertNoLeftovers(sb, live, bundle);
  });

  test('events --transitions streams moves made by other processes, with the exit, and ends at delete', async () => {
    const id = sb.id('follow');
    const bundle = sb.bundle(id, sleeper);
    assert.equal(sb.runts(['create', '--bundle', bundle, id], { env }).status, 0);
    const follower = followCli(sb, id);
    try {
      // It prints nothing until something happens: wait until it is surely listening (the CLI starts in ~0.3 s).
      await new Promise((r) => setTimeout(r, 1500));
      for (const args of [['start', id], ['pause', id], ['resume', id], ['delete', '--force', id]]) {
        const r = await sb.runtsAsync(args);
        assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
      }
      const code = await Promise.race([follower.exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      assert.equal(code, 0, 'the stream ends by itself once the container is deleted');
    } finally {
      follower.kill();
    }
    const events = follower.lines.map((l) => JSON.parse(l) as RuntimeEvent);
    const moves = events.filter((e) => e.type === 'transition').map((e) => (e.type === 'transition' ? e.to : ''));
    assert.deepEqual(moves, ['created.starting', 'running.idle', 'running.pausing', 'paused.idle', 'paused.resuming', 'running.idle', 'stopped.destroying', 'stopped.deleted']);
    const exit = events.find((e) => e.type === 'exit');
    assert.deepEqual(exit && { type: exit.type, id: exit.id, exitStatus: exit.exitStatus }, { type: 'exit', id, exitStatus: null });
    assert.ok(events.every((e) => e.id === id));
  });

  test('events: --stats and --transitions exclude each other', () => {
    const id = sb.id('excl');
    assert.equal(sb.runts(['create', '--bundle', sb.bundle(id, sleeper), id], { env }).status, 0);
    const r = sb.runts(['events', '--stats', '--transitions', id], { env });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--stats and --transitions exclude each other/);
  });

  test('Runtime.events() in this process sees a CLI pause at once', async () => {
    const id = sb.id('api');
    assert.equal(sb.runts(['run', '--detach', '--bundle', sb.bundle(id, sleeper), id], { env }).status, 0);
    const rt = await Runtime.open({ root: sb.root });
    const ac = new AbortController();
    const seen: { to: string; at: number }[] = [];
    try {
      const listening = (async () => {
        for await (const ev of rt.events({ id, signal: ac.signal })) {
          if (ev.type === 'transition') seen.push({ to: ev.to, at: Date.now() });
          if (ev.type === 'transition' && ev.to === 'paused.idle') return;
        }
      })();
      const paused = sb.runtsAsync(['pause', id]);
      const r = await paused;
      const done = Date.now();
      assert.equal(r.status, 0, r.stderr);
      await Promise.race([listening, new Promise((_, no) => setTimeout(() => no(new Error(`no paused.idle event; saw ${JSON.stringify(seen)}`)), 5000))]);
      assert.deepEqual(seen.map((s) => s.to), ['running.pausing', 'paused.idle']);
      // Woken by the data file changing, not by the 500 ms fallback: seen before the CLI process even exited.
      assert.ok(seen[1].at - done < 400, `seen ${seen[1].at - done} ms after the pause command returned`);
    } finally {
      ac.abort();
      await rt.close();
    }
  });

  test("the README's embedding example runs as written", () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Embedding runts'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(code?.includes("from 'runts'"), 'the example imports the package by name');
    const bundle = sb.bundle('embed', sleeper);
    // Inside the repository, so `import ... from 'runts'` resolves to this package (self-reference via exports).
    const dir = join(REPO, 'test-artifacts');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `embed-example-${process.pid}.mjs`);
    writeFileSync(file, code!);
    let out: string;
    try {
      const r = sbNode(sb, file, [bundle]);
      assert.equal(r.status, 0, r.stderr);
      out = r.stdout;
    } finally {
      rmSync(file, { force: true });
    }
    const lines = out.split('\n');
    assert.ok(lines.includes('status running'), out);
    assert.ok(lines.includes('hello from runc'), out); // the default spec's hostname, printed by the exec'd process
    assert.ok(lines.includes('exec exit status 0'), out);
    assert.match(out, /^memory \d+ bytes, pids \d+$/m);
    // The listener saw the whole life, made by this process, in order, and ended at stopped.deleted.
    const moves = lines.filter((l) => l.startsWith('transition ')).map((l) => l.split(' ')[3]);
    assert.deepEqual(moves.slice(0, 5), ['creating.pending', 'creating.spawning', 'created.idle', 'created.starting', 'running.idle']);
    assert.equal(moves.at(-1), 'stopped.deleted');
    assert.ok(lines.includes('exit status null'), 'a delete --force of a running container ends its process');
    assert.doesNotMatch(sb.runts(['list', '-q'], { env }).stdout, /agent-demo-/);
  });
});

/** Runs a Node script with the sandbox's root in RUNTS_ROOT; output through files (a container may inherit them). */
function sbNode(sb: Sandbox, file: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const out = join(sb.dir, `node-${process.pid}`);
  const outFd = openSync(`${out}.stdout`, 'w+');
  const errFd = openSync(`${out}.stderr`, 'w+');
  try {
    const r = spawnSync(process.execPath, [file, ...args], {
      stdio: ['ignore', outFd, errFd],
      env: { ...process.env, RUNTS_ROOT: sb.root, ...env },
      timeout: 60_000,
    });
    return { status: r.status, stdout: readFileSync(`${out}.stdout`, 'utf8'), stderr: readFileSync(`${out}.stderr`, 'utf8') };
  } finally {
    closeSync(outFd);
    closeSync(errFd);
  }
}
