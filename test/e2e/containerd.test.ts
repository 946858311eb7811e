// containerd drives runts end to end: Debian's containerd 1.6 and its runc v2 shim call bin/runts exactly as they
// call runc (`ctr ... --runc-binary <runts>`), for run, exec, ps, pause/resume, kill, delete, ttys and errors.
// Each container gets its own busybox rootfs (`ctr run --rootfs`, no image pull). On failure, each assertion
// message carries ctr's output, runts' log.json from the shim's task dir and containerd's log tail.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { CONTAINERD, Containerd, hasScript, until, type CtrResult } from '../helpers/containerd.js';
import { RUNTS, isRoot } from '../helpers/runts.js';

const skip = !isRoot
  ? 'needs root: containerd and real containers'
  : !existsSync(CONTAINERD)
    ? `needs ${CONTAINERD} (apt-get install containerd)`
    : false;
const noPty = hasScript() ? false : 'needs util-linux `script` to give ctr -t a pty';

/**
 * What a pty showed, without its carriage returns and the `^@` echoed when `script` passes on the EOF of its
 * own (empty) stdin.
 */
const ttyText = (r: CtrResult) => r.stdout.replace(/\r/g, '').replace(/\^@/g, '');

describe('containerd drives runts end to end', { skip, timeout: 240_000 }, () => {
  let cd: Containerd;

  before(async () => {
    cd = await Containerd.start();
  });
  after(async () => {
    await cd?.stop();
  });

  test('ctr run --rm: stdout reaches ctr and the exit status is the process\'s', async () => {
    const id = 'hello';
    const r = await cd.ctr(['run', '--rm', ...cd.runtimeArgs(), ...cd.fifoArgs(), '--rootfs', cd.rootfs(id), id, '/bin/sh', '-c', 'echo hello; exit 3']);
    assert.equal(r.stdout, 'hello\n', cd.explain(id, r));
    assert.equal(r.status, 3, cd.explain(id, r));
    assert.equal(await cd.task(id), undefined, '--rm removed the task');
  });

  test('ctr run -d, then task ps / exec / exec -t / pause / resume / kill / delete', async (t) => {
    const id = 'life';
    const started = await cd.ctr(['run', '-d', ...cd.runtimeArgs(), ...cd.fifoArgs(), '--rootfs', cd.rootfs(id), id, '/bin/sleep', '1000']);
    assert.equal(started.status, 0, cd.explain(id, started));
    const task = await cd.task(id);
    assert.equal(task?.status, 'RUNNING', `task ls: ${JSON.stringify(task)}`);
    const pid = task!.pid;
    assert.ok(pid > 0);

    // Each step is a subtest, so one broken command still lets the later ones report.
    await t.test('task ps lists the init pid', async () => {
      const r = await cd.ctr(['task', 'ps', id]);
      assert.equal(r.status, 0, cd.explain(id, r));
      const pids = r.stdout.split('\n').slice(1).map((l) => Number(l.trim().split(/\s+/)[0]));
      assert.ok(pids.includes(pid), `init pid ${pid} in ${JSON.stringify(r.stdout)}`);
    });

    await t.test('task exec runs a process in the container and returns its output', async () => {
      const r = await cd.ctr(['task', 'exec', ...cd.fifoArgs(), '--exec-id', 'e1', id, '/bin/sh', '-c', 'echo in-exec']);
      assert.equal(r.stdout, 'in-exec\n', cd.explain(id, r));
      assert.equal(r.status, 0, cd.explain(id, r));
    });

    await t.test('task exec -t gives the process a pty', { skip: noPty }, async () => {
      const r = await cd.ctr(['task', 'exec', '-t', ...cd.fifoArgs(), '--exec-id', 'e2', id, '/bin/tty'], { tty: true });
      assert.match(ttyText(r), /^\/dev\/pts\/\d+$/m, cd.explain(id, r));
      assert.equal(r.status, 0, cd.explain(id, r));
    });

    await t.test('task pause → PAUSED, task resume → RUNNING', async () => {
      const p = await cd.ctr(['task', 'pause', id]);
      assert.equal(p.status, 0, cd.explain(id, p));
      assert.equal((await cd.task(id))?.status, 'PAUSED');
      const r = await cd.ctr(['task', 'resume', id]);
      assert.equal(r.status, 0, cd.explain(id, r));
      assert.equal((await cd.task(id))?.status, 'RUNNING');
    });

    await t.test('task kill -s SIGKILL → STOPPED; task delete; container delete', async () => {
      const k = await cd.ctr(['task', 'kill', '-s', 'SIGKILL', id]);
      assert.equal(k.status, 0, cd.explain(id, k));
      let last: unknown;
      const stopped = await until(async () => (last = await cd.task(id))?.status === 'STOPPED', 10_000);
      assert.ok(stopped, `task after SIGKILL: ${JSON.stringify(last)}`);
      const d = await cd.ctr(['task', 'delete', id]);
      assert.equal(d.status, 0, cd.explain(id, d));
      assert.equal(await cd.task(id), undefined);
      const c = await cd.ctr(['container', 'delete', id]);
      assert.equal(c.status, 0, cd.explain(id, c));
      // The shim ran `runts delete`: runts no longer knows the container.
      const list = spawnSync(RUNTS, ['--root', cd.runtsRoot, 'list', '-q'], { encoding: 'utf8', timeout: 15_000 });
      assert.equal(list.status, 0, `runts list failed: ${list.stderr}`);
      assert.equal(list.stdout.split('\n').includes(id), false, `runts list: ${list.stdout}${list.stderr}`);
    });
  });

  test('ctr run -t --rm: the process\'s stdio is a pty', { skip: noPty }, async () => {
    const id = 'tty';
    const r = await cd.ctr(['run', '-t', '--rm', ...cd.runtimeArgs(), ...cd.fifoArgs(), '--rootfs', cd.rootfs(id), id, '/bin/sh', '-c', 'tty'], { tty: true });
    assert.match(ttyText(r), /^\/dev\/pts\/\d+$/m, cd.explain(id, r));
    assert.equal(r.status, 0, cd.explain(id, r));
  });

  test('a process that does not exist: ctr fails with runts\' own error from its json log', async () => {
    const id = 'noexec';
    const r = await cd.ctr(['run', '--rm', ...cd.runtimeArgs(), ...cd.fifoArgs(), '--rootfs', cd.rootfs(id), id, '/no/such/binary']);
    assert.notEqual(r.status, 0, cd.explain(id, r));
    assert.match(r.stderr, /OCI runtime create failed: .*\/no\/such\/binary/, cd.explain(id, r));
    // When the log's last line has no error, the shim falls back to "<binary> did not terminate successfully:
    // exit status N: <stderr>"; its absence proves the message is the `error` line runts wrote to log.json.
    assert.doesNotMatch(r.stderr, /did not terminate successfully/, cd.explain(id, r));
    assert.equal(await cd.task(id), undefined, 'no task left');
    const list = spawnSync(RUNTS, ['--root', cd.runtsRoot, 'list', '-q'], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(list.status, 0, `runts list failed: ${list.stderr}`);
    assert.equal(list.stdout.split('\n').includes(id), false, `runts kept a record of the failed create: ${list.stdout}`);
  });
});
