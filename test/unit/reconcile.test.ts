import { test } from 'node:test';
import assert from 'node:assert/strict';
import { observe, type Observer } from '../../src/actors/reconcile.js';
import type { ContainerFacts } from '../../src/persistence/store.js';

const facts = { id: 'c', initPid: 100, initStartTime: 5, creatorPid: 50, creatorStartTime: 1, cgroupPath: '/runts/c' } as ContainerFacts;
const kernel = (alive: number[], freezer: 'FROZEN' | 'THAWED' | null = 'THAWED', waiting = true): Observer => ({
  isAlive: (pid) => alive.includes(pid),
  initState: (pid) => (!alive.includes(pid) ? 'gone' : waiting ? 'waiting' : 'started'),
  freezerState: () => freezer,
});

test('a dead init means stopped, whatever the chart thought', () => {
  for (const status of ['created', 'running', 'paused'] as const) {
    assert.deepEqual(observe(facts, status, kernel([])), [{ type: 'observed.exited', exitStatus: null }], status);
  }
});

test('a live init changes nothing; a frozen or thawed cgroup moves running and paused', () => {
  assert.deepEqual(observe(facts, 'created', kernel([100])), []);
  // A start whose runts died after signalling the init: the init exec'd, so the container runs.
  assert.deepEqual(observe(facts, 'created', kernel([100], 'THAWED', false)), [{ type: 'observed.started' }]);
  // Started and frozen since (a record `runts repair` rebuilt at created): both moves, so it reads paused at once.
  assert.deepEqual(observe(facts, 'created', kernel([100], 'FROZEN', false)), [{ type: 'observed.started' }, { type: 'observed.frozen' }]);
  assert.deepEqual(observe(facts, 'running', kernel([100])), []);
  assert.deepEqual(observe(facts, 'running', kernel([100], 'FROZEN')), [{ type: 'observed.frozen' }]);
  assert.deepEqual(observe(facts, 'paused', kernel([100], 'THAWED')), [{ type: 'observed.thawed' }]);
  assert.deepEqual(observe(facts, 'paused', kernel([100], 'FROZEN')), []);
});

test('a dead gofer is reported once, while the container keeps running', () => {
  const withGofer = { ...facts, goferPid: 200, goferStartTime: 7 } as ContainerFacts;
  assert.deepEqual(observe(withGofer, 'running', kernel([100])), [{ type: 'gofer.exited', exitStatus: null }]);
  assert.deepEqual(observe(withGofer, 'running', kernel([100, 200])), []);
  assert.deepEqual(observe(withGofer, 'running', kernel([100]), true), [], 'already recorded');
});

test('a create whose runts process died is abandoned; one in progress is left alone', () => {
  assert.deepEqual(observe(facts, 'creating', kernel([])), [{ type: 'observed.abandoned' }]);
  assert.deepEqual(observe(facts, 'creating', kernel([50])), []);
  assert.deepEqual(observe(facts, 'stopped', kernel([])), []);
});

test("the kernel observer tells a forked init still waiting from one that exec'd, in one read of /proc/<pid>/stat", async () => {
  const { spawn } = await import('node:child_process');
  const { kernelObserver } = await import('../../src/actors/reconcile.js');
  const { readProcStat } = await import('../../src/linux/proc.js');
  const { nativePort } = await import('../../src/native/index.js');
  // python's os.fork(): a child that was forked and never exec'd, as runts' init is until start.
  const py = spawn('python3', ['-c', 'import os, time\npid = os.fork()\nif pid: print(pid, flush=True)\ntime.sleep(30)'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const forked = Number(await new Promise<string>((resolve) => py.stdout.once('data', (d) => resolve(String(d)))));
    const observer = kernelObserver(nativePort(), () => null);
    assert.equal(observer.initState(forked, readProcStat(forked)!.startTime), 'waiting');
    assert.equal(observer.initState(py.pid!, readProcStat(py.pid!)!.startTime), 'started');
    assert.equal(observer.initState(forked, readProcStat(forked)!.startTime + 1), 'gone', 'another process with the pid');
    process.kill(forked, 'SIGKILL');
  } finally {
    py.kill('SIGKILL');
  }
});
