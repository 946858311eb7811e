// The gofer's lifecycle against the fake syscall port (its process table stands for /proc): record, identity
// check, SIGKILL, wait, reap.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { GoferError, isGoferAlive, openGoferPidfd, recordGofer, stopGofer, type GoferFacts } from '../../src/gofer/index.js';
import { WNOHANG } from '../../src/native/index.js';
import { FakeSyscallPort } from '../helpers/fake-port.js';

/** A fake process in `sys`'s table with this start time and state (a 'Z' is a child not reaped yet). */
function fakeProcess(sys: FakeSyscallPort, startTime: number, state: 'S' | 'Z' = 'S'): number {
  return sys.addProcess({ startTime, state, comm: 'runts-gofer' });
}

function facts(goferPid: number, goferStartTime: number | null): GoferFacts {
  return { id: 'c1', goferPid, goferStartTime };
}

describe('gofer lifecycle', () => {
  it('records the pid and its start time', () => {
    const sys = new FakeSyscallPort();
    const pid = fakeProcess(sys, 777);
    const f = facts(0, null);
    recordGofer(f, pid, sys);
    assert.equal(f.goferPid, pid);
    assert.equal(f.goferStartTime, 777);
    recordGofer(f, 0, sys);
    assert.deepEqual([f.goferPid, f.goferStartTime], [0, null]);
  });

  it('is alive only with the same start time and not as a zombie', () => {
    const sys = new FakeSyscallPort();
    const pid = fakeProcess(sys, 100);
    assert.equal(isGoferAlive(facts(pid, 100), sys), true);
    assert.equal(isGoferAlive(facts(pid, 101), sys), false, 'pid reused by another process');
    assert.equal(isGoferAlive(facts(pid + 1, 100), sys), false, 'no such process');
    const zombie = fakeProcess(sys, 100, 'Z');
    assert.equal(isGoferAlive(facts(zombie, 100), sys), false, 'zombie');
    assert.equal(isGoferAlive(facts(0, null), sys), false);
  });

  it('stopGofer sends SIGKILL through a pidfd, waits for the exit and closes the pidfd', async () => {
    const sys = new FakeSyscallPort();
    const pid = fakeProcess(sys, 5);
    sys.procs.get(pid)!.unkillable = true; // it exits when the test says so
    const stopping = stopGofer(facts(pid, 5), sys);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sys.signals, [{ pid, signal: 9 }]);
    sys.exit(pid, { signal: 9 });
    await stopping;
    const methods = sys.calls.map((c) => c.method);
    assert.deepEqual(methods.slice(0, 3), ['pidfdOpen', 'pidfdSendSignal', 'pidfdWaitAsync']);
    assert.ok(methods.includes('closeFd'), 'the pidfd is closed');
    assert.deepEqual(sys.callsOf('waitPid'), [[pid, WNOHANG]], 'reaped: it is our child');
    assert.equal(sys.procStat(pid), null);
  });

  it('stopGofer leaves a process that reused the pid alone', async () => {
    const sys = new FakeSyscallPort();
    const pid = fakeProcess(sys, 9);
    await stopGofer(facts(pid, 8), sys);
    assert.deepEqual(sys.signals, []);
    assert.ok(sys.calls.some((c) => c.method === 'closeFd'), 'the pidfd opened for the check is closed');
  });

  it('stopGofer is a no-op without a gofer or when it is gone, and reaps a zombie gofer', async () => {
    const sys = new FakeSyscallPort();
    await stopGofer(facts(0, null), sys);
    await stopGofer(facts(530, 1), sys);
    assert.deepEqual(sys.signals, []);
    assert.equal(sys.calls.some((c) => c.method === 'waitPid'), false);
    const zombie = fakeProcess(sys, 3, 'Z');
    await stopGofer(facts(zombie, 3), sys);
    assert.deepEqual(sys.signals, []);
    assert.deepEqual(sys.calls.find((c) => c.method === 'waitPid')?.args, [zombie, WNOHANG]);
  });

  it('stopGofer fails clearly when the gofer outlives the deadline', async () => {
    const sys = new FakeSyscallPort();
    const pid = sys.addProcess({ startTime: 4, unkillable: true });
    await assert.rejects(
      stopGofer(facts(pid, 4), sys, { timeoutMs: 20 }),
      (e: unknown) => e instanceof GoferError && e.code === 'sys' && /still alive 20 ms after SIGKILL/.test(e.message),
    );
  });

  it('openGoferPidfd returns a pidfd only for the recorded process', () => {
    const sys = new FakeSyscallPort();
    const pid = fakeProcess(sys, 6);
    assert.equal(typeof openGoferPidfd(facts(pid, 6), sys), 'number');
    assert.equal(openGoferPidfd(facts(pid, 7), sys), null);
    assert.equal(openGoferPidfd(facts(0, null), sys), null);
  });
});
