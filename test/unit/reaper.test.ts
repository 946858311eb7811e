import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { FakeSyscallPort } from '../helpers/fake-port.js';
import { Reaper, type Watch } from '../../src/supervisor/reaper.js';

// The watched processes are the fake port's children (its process table stands for /proc): which ones "exited" is up
// to the test.
test('on SIGCHLD the reaper asks its epoll set which children exited: one call however many it watches', async () => {
  const sys = new FakeSyscallPort();
  const exits: [Watch, number | null][] = [];
  const reaper = new Reaper(sys, (w, status) => exits.push([w, status]), pino({ level: 'silent' }), false);
  const sleeps = Array.from({ length: 40 }, () => sys.addProcess());
  try {
    reaper.start();
    for (const [i, pid] of sleeps.entries()) reaper.watch({ id: `c${i}`, pid, startTime: sys.procStat(pid)!.startTime, kind: 'init' });
    assert.equal(reaper.pids().length, 40);
    const dying = [sleeps[3]!, sleeps[17]!, sleeps[39]!];
    sys.exit(dying[0]!, { signal: 9 });
    sys.exit(dying[1]!, { exitCode: 0 });
    sys.exit(dying[2]!, { exitCode: 3 });
    const before = sys.calls.length;
    process.emit('SIGCHLD' as never);
    const calls = sys.calls.slice(before).map((c) => c.method);
    assert.equal(calls.filter((m) => m === 'epollReady').length, 1);
    assert.equal(calls.filter((m) => m === 'pidfdWait').length, 0, 'no pidfd is polled one by one');
    assert.deepEqual(
      exits.map(([w, status]) => [w.pid, w.child, status]),
      [
        [dying[0], true, 137],
        [dying[1], true, 0],
        [dying[2], true, 3],
      ],
    );
    assert.equal(reaper.pids().length, 37, 'the exited ones are not watched any more');
    // Their pidfds left the set: the next SIGCHLD finds nothing.
    exits.length = 0;
    process.emit('SIGCHLD' as never);
    assert.deepEqual(exits, []);
  } finally {
    reaper.close();
  }
  assert.equal(sys.calls.filter((c) => c.method === 'closeFd').length, 41, 'every pidfd and the epoll set closed');
});

test('more exited children than one epoll batch are all finished on one SIGCHLD', async () => {
  const sys = new FakeSyscallPort();
  const exited: number[] = [];
  const reaper = new Reaper(sys, (w) => exited.push(w.pid), pino({ level: 'silent' }), false);
  const sleeps = Array.from({ length: 100 }, () => sys.addProcess());
  try {
    reaper.start();
    for (const [i, pid] of sleeps.entries()) reaper.watch({ id: `c${i}`, pid, startTime: sys.procStat(pid)!.startTime, kind: 'init' });
    const dying = sleeps.slice(0, 70);
    for (const pid of dying) sys.exit(pid, { signal: 9 });
    process.emit('SIGCHLD' as never);
    assert.deepEqual([...exited].sort(), [...dying].sort());
    assert.equal(reaper.pids().length, 30);
  } finally {
    reaper.close();
  }
});

test("another process's children are watched by one thread (the port's watchReadable) on an epoll set of their pidfds, their status unknown", async () => {
  const sys = new FakeSyscallPort();
  const exits: [Watch, number | null][] = [];
  const reaper = new Reaper(sys, (w, status) => exits.push([w, status]), pino({ level: 'silent' }), false);
  const parent = sys.addProcess();
  const pids = [sys.addProcess({ ppid: parent }), sys.addProcess({ ppid: parent }), sys.addProcess({ ppid: parent })];
  try {
    reaper.start();
    for (const pid of pids) reaper.watch({ id: `c${pid}`, pid, startTime: sys.procStat(pid)!.startTime, kind: 'init' });
    assert.equal(sys.callsOf('watchReadable').length, 1, 'one thread for all of them');
    const [set] = sys.callsOf('watchReadable')[0] as [number];
    assert.equal(sys.callsOf('epollAdd').filter(([epfd]) => epfd === set).length, 3, 'their pidfds are in its epoll set');
    sys.exit(pids[1]!, { exitCode: 3 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(exits, [[{ id: `c${pids[1]}`, pid: pids[1], kind: 'init', child: false, parentPid: parent }, null]]);
    const pidfd = sys.callsOf('epollAdd').find(([, , key]) => key === pids[1])![1];
    assert.deepEqual(sys.callsOf('closeFd'), [[pidfd]], 'its pidfd closed once the watch ended');
    assert.deepEqual(sys.callsOf('waitPid'), [[pids[1], 1]], 'a reap is tried (ECHILD for another\'s child)');
    assert.deepEqual(reaper.pids().sort(), [pids[0], pids[2]].sort(), 'the others are still watched');
  } finally {
    reaper.close();
  }
});
