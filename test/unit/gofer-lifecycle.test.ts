// The gofer's lifecycle against the fake syscall port and a fake /proc tree: record, identity check, SIGKILL,
// wait, reap.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { GoferError, isGoferAlive, openGoferPidfd, recordGofer, stopGofer, type GoferFacts } from '../../src/gofer/index.js';
import { FakeSyscallPort, WNOHANG } from '../../src/native/index.js';

let proc = '';

before(() => (proc = mkdtempSync(join(tmpdir(), 'runts-gofer-proc-'))));
after(() => rmSync(proc, { recursive: true, force: true }));

/** Writes /proc/<pid>/stat with this state and start time (field 22). The comm has a space and a ')' on purpose. */
function fakeProcess(pid: number, startTime: number, state = 'S'): void {
  mkdirSync(join(proc, String(pid)), { recursive: true });
  writeFileSync(join(proc, String(pid), 'stat'), `${pid} (runts gofer)) ${state} 1 ${'0 '.repeat(17)}${startTime} 0 0\n`);
}

function facts(goferPid: number, goferStartTime: number | null): GoferFacts {
  return { id: 'c1', goferPid, goferStartTime };
}

describe('gofer lifecycle', () => {
  it('records the pid and its start time', () => {
    fakeProcess(501, 777);
    const f = facts(0, null);
    recordGofer(f, 501, { procRoot: proc });
    assert.equal(f.goferPid, 501);
    assert.equal(f.goferStartTime, 777);
    recordGofer(f, 0, { procRoot: proc });
    assert.deepEqual([f.goferPid, f.goferStartTime], [0, null]);
  });

  it('is alive only with the same start time and not as a zombie', () => {
    fakeProcess(502, 100);
    assert.equal(isGoferAlive(facts(502, 100), { procRoot: proc }), true);
    assert.equal(isGoferAlive(facts(502, 101), { procRoot: proc }), false, 'pid reused by another process');
    assert.equal(isGoferAlive(facts(503, 100), { procRoot: proc }), false, 'no such process');
    fakeProcess(504, 100, 'Z');
    assert.equal(isGoferAlive(facts(504, 100), { procRoot: proc }), false, 'zombie');
    assert.equal(isGoferAlive(facts(0, null), { procRoot: proc }), false);
  });

  it('stopGofer sends SIGKILL through a pidfd, waits for the exit and closes the pidfd', async () => {
    fakeProcess(510, 5);
    const sys = new FakeSyscallPort();
    const stopping = stopGofer(facts(510, 5), sys, { procRoot: proc });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sys.signals, [{ pid: 510, signal: 9 }]);
    sys.exit(510, { signal: 9 });
    await stopping;
    const methods = sys.calls.map((c) => c.method);
    assert.deepEqual(methods.slice(0, 3), ['pidfdOpen', 'pidfdSendSignal', 'pidfdWaitAsync']);
    assert.ok(methods.includes('closeFd'), 'the pidfd is closed');
  });

  it('stopGofer leaves a process that reused the pid alone', async () => {
    fakeProcess(520, 9);
    const sys = new FakeSyscallPort();
    await stopGofer(facts(520, 8), sys, { procRoot: proc });
    assert.deepEqual(sys.signals, []);
    assert.ok(sys.calls.some((c) => c.method === 'closeFd'), 'the pidfd opened for the check is closed');
  });

  it('stopGofer is a no-op without a gofer or when it is gone, and reaps a zombie gofer', async () => {
    const sys = new FakeSyscallPort();
    await stopGofer(facts(0, null), sys, { procRoot: proc });
    await stopGofer(facts(530, 1), sys, { procRoot: proc });
    assert.deepEqual(sys.signals, []);
    assert.equal(sys.calls.some((c) => c.method === 'waitPid'), false);
    fakeProcess(531, 3, 'Z');
    await stopGofer(facts(531, 3), sys, { procRoot: proc });
    assert.deepEqual(sys.signals, []);
    assert.deepEqual(sys.calls.find((c) => c.method === 'waitPid')?.args, [531, WNOHANG]);
  });

  it('stopGofer fails clearly when the gofer outlives the deadline', async () => {
    fakeProcess(540, 4);
    const sys = new FakeSyscallPort();
    await assert.rejects(
      stopGofer(facts(540, 4), sys, { procRoot: proc, timeoutMs: 20 }),
      (e: unknown) => e instanceof GoferError && e.code === 'sys' && /still alive 20 ms after SIGKILL/.test(e.message),
    );
  });

  it('openGoferPidfd returns a pidfd only for the recorded process', () => {
    fakeProcess(550, 6);
    const sys = new FakeSyscallPort();
    assert.equal(typeof openGoferPidfd(facts(550, 6), sys, { procRoot: proc }), 'number');
    assert.equal(openGoferPidfd(facts(550, 7), sys, { procRoot: proc }), null);
    assert.equal(openGoferPidfd(facts(0, null), sys, { procRoot: proc }), null);
  });
});
