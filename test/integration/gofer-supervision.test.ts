// Gofer supervision (issue 4): an unexpected gofer exit becomes `gofer.exited` on the container's chart — at
// once under the resident supervisor, at the next command without one. Policy: the container keeps running; file
// calls fail clearly; delete still cleans up.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTS, Sandbox, assertNoLeftovers, eventually, isRoot, type Result } from '../helpers/runts.js';
import { Store } from '../../src/persistence/store.js';
import { nativePort } from '../../src/native/index.js';

const skip = isRoot ? false : 'needs root: real containers';

function goferPid(root: string, id: string): number {
  const store = Store.open(root, nativePort());
  try {
    return store.get(id)!.facts.goferPid;
  } finally {
    store.close();
  }
}

const goferEvents = (sb: Sandbox, id: string) =>
  (JSON.parse(sb.runts(['history', '--format', 'json', id]).stdout) as { event: string; from: string; to: string }[]).filter((t) => t.event === 'gofer.exited');

describe('gofer supervision', { skip }, () => {
  let sb: Sandbox;
  let supervisor: ChildProcess | undefined;
  before(() => (sb = new Sandbox()));
  after(async () => {
    supervisor?.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    sb.cleanup();
  });

  const start = () => {
    const id = sb.id('gof');
    const bundle = sb.bundle(id, (s) => (s.process!.args = ['/bin/sleep', '1000']));
    assert.equal(sb.runts(['run', '--detach', '--bundle', bundle, id]).status, 0);
    const pid = goferPid(sb.root, id);
    assert.ok(pid > 0);
    return { id, bundle, pid };
  };

  test('without a supervisor: the next command records gofer.exited; cp fails clearly; delete cleans up', () => {
    const { id, bundle, pid } = start();
    process.kill(pid, 'SIGKILL');
    assert.equal(sb.state(id).status, 'running', 'the container keeps running');
    const events = goferEvents(sb, id);
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.equal(events[0].from, 'running.idle');
    assert.equal(sb.state(id).status, 'running');
    assert.equal(goferEvents(sb, id).length, 1, 'recorded once');
    const host = join(sb.dir, 'cp-out');
    const cp = sb.runts(['cp', `${id}:/etc/passwd`, host]);
    assert.notEqual(cp.status, 0);
    assert.match(cp.stderr, /the gofer of container "[^"]+" is not running/);
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
    assertNoLeftovers(sb, id, bundle);
  });

  test('with the supervisor: gofer.exited is in the transition log within a second', async () => {
    // Its output goes to a file the failure message shows: a supervisor that does not come up says why there.
    const logPath = join(sb.dir, 'supervisor.log');
    const logFd = openSync(logPath, 'w');
    supervisor = spawn(RUNTS, ['--root', sb.root, '--debug', 'supervise'], { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    let list: Result | undefined;
    const up = await eventually(() => existsSync(join(sb.root, 'supervisor.sock')) && (list = sb.runts(['list', '-q'])).status === 0, 10_000);
    assert.ok(up, `the supervisor serves within 10 s; list: ${list?.status} ${list?.stderr}; its log:\n${readFileSync(logPath, 'utf8')}`);
    const { id, bundle, pid } = start();
    // The supervisor learns of the container from the store; give it a moment to start watching.
    await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    // Read the store directly: any runts command would itself reconcile and record the exit.
    const recorded = await eventually(() => {
      const store = Store.open(sb.root, nativePort());
      try {
        return store.history(id).some((t) => t.event === 'gofer.exited');
      } finally {
        store.close();
      }
    }, 1000);
    assert.ok(recorded, 'gofer.exited recorded by the supervisor within 1 s');
    writeFileSync(join(sb.dir, 'gofer-latency.txt'), `${Date.now() - t0} ms\n`);
    const del = sb.runts(['delete', '--force', id]);
    assert.equal(del.status, 0, del.stderr);
    assertNoLeftovers(sb, id, bundle);
  });
});
