// Rootful Podman (Debian's 4.3, through conmon) drives runts end to end: `podman --runtime <repo>/bin/runts` runs,
// execs, lists, stops and removes containers of a busybox image imported from a tar, on private storage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { until, type CtrResult } from '../helpers/containerd.js';
import { PODMAN, Podman } from '../helpers/podman.js';
import { RUNTS, isRoot } from '../helpers/runts.js';

const skip = !isRoot ? 'needs root: rootful podman and real containers' : !Podman.installed() ? `needs ${PODMAN} (apt-get install podman)` : false;

describe('Podman drives runts end to end', { skip, timeout: 300_000 }, () => {
  let p: Podman;
  const ok = (r: CtrResult) => assert.equal(r.status, 0, p.explain(r));
  const runtsKnows = (id: string) => spawnSync(RUNTS, ['list', '-q'], { encoding: 'utf8', timeout: 15_000 }).stdout.split('\n').includes(id);

  before(async () => {
    p = await Podman.start();
  });
  after(async () => {
    await p?.stop();
  });

  test('run --rm prints the output and returns the process\'s exit code; runts forgets the container', async () => {
    const r = await p.podman(['run', '--rm', '--name', 'hello', ...p.runArgs(), p.image, 'sh', '-c', 'echo hello; exit 3']);
    assert.equal(r.stdout, 'hello\n', p.explain(r));
    assert.equal(r.status, 3, p.explain(r));
    const ps = await p.podman(['ps', '-a', '--format', '{{.Names}}']);
    assert.equal(ps.stdout.split('\n').includes('hello'), false, `podman ps -a: ${ps.stdout}`);
  });

  test('run -d, then ps / exec / stop / rm', async (t) => {
    const started = await p.podman(['run', '-d', '--name', 'life', ...p.runArgs(), p.image, 'sleep', '1000']);
    ok(started);
    const id = started.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/, p.explain(started));

    await t.test('ps lists it as running', async () => {
      const r = await p.podman(['ps', '--no-trunc', '--format', '{{.ID}} {{.Status}}']);
      assert.match(r.stdout, new RegExp(`^${id} Up `, 'm'), p.explain(r));
      const st = await p.podman(['inspect', '-f', '{{.State.Status}}', 'life']);
      assert.equal(st.stdout.trim(), 'running', p.explain(st));
      assert.ok(runtsKnows(id), 'runts list has the container');
    });

    await t.test('exec runs in it and returns the exit code', async () => {
      const r = await p.podman(['exec', '-e', 'FOO=bar', '-w', '/tmp', 'life', 'sh', '-c', 'echo "$FOO $(pwd)"; exit 6']);
      assert.equal(r.stdout, 'bar /tmp\n', p.explain(r));
      assert.equal(r.status, 6, p.explain(r));
    });

    await t.test('stop → exited (sleep as pid 1 ignores SIGTERM: SIGKILL after the timeout)', async () => {
      ok(await p.podman(['stop', '-t', '1', 'life']));
      let state = '';
      const exited = await until(async () => (state = (await p.podman(['inspect', '-f', '{{.State.Status}}', 'life'])).stdout.trim()) === 'exited', 15_000);
      assert.ok(exited, `state: ${state}`);
    });

    await t.test('rm removes it from podman and from runts', async () => {
      ok(await p.podman(['rm', 'life']));
      const ps = await p.podman(['ps', '-a', '-q', '--no-trunc']);
      assert.equal(ps.stdout.includes(id), false, p.explain(ps));
      assert.equal(runtsKnows(id), false, 'runts list no longer has the container');
    });
  });
});
