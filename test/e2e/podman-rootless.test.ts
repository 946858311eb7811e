// Rootless Podman (Debian's 4.3) as an ordinary user drives runts — and runc, the reference — end to end: run --rm,
// run -d, exec, stop, rm, on vfs storage in a temp dir, `--network none`, no cgroups (none delegated).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { until, type CtrResult } from '../helpers/containerd.js';
import { PODMAN, RootlessPodman } from '../helpers/podman-rootless.js';
import { hasIdMappers, TestUser } from '../helpers/rootless.js';
import { RUNTS, isRoot } from '../helpers/runts.js';

const runc = spawnSync('sh', ['-c', 'command -v runc'], { encoding: 'utf8' }).stdout.trim();
const skip = !isRoot
  ? 'needs root: makes a test user'
  : !existsSync(PODMAN)
    ? `needs ${PODMAN} (apt-get install podman)`
    : !hasIdMappers
      ? 'needs newuidmap/newgidmap (apt-get install uidmap)'
      : false;

for (const [name, runtime] of [['runts', RUNTS], ['runc', runc]] as const) {
  describe(`rootless Podman drives ${name} end to end`, { skip: skip || (runtime ? false : 'runc not installed'), timeout: 300_000 }, () => {
    let user: TestUser;
    let p: RootlessPodman;
    const ok = (r: CtrResult) => assert.equal(r.status, 0, p.explain(r));

    before(async () => {
      user = new TestUser();
      p = await RootlessPodman.start(user, runtime);
    });
    after(async () => {
      await p?.stop();
      user?.remove();
    });

    test('run --rm prints the output and returns the exit code, as root of the user\'s namespace', async () => {
      const r = await p.podman(['run', '--rm', '--network', 'none', p.image, 'sh', '-c', 'echo "hello $(id -u)"; exit 3']);
      assert.equal(r.stdout, 'hello 0\n', p.explain(r));
      assert.equal(r.status, 3, p.explain(r));
    });

    test('run -d, then exec / stop / rm', async () => {
      const started = await p.podman(['run', '-d', '--name', 'life', '--network', 'none', p.image, 'sleep', '1000']);
      ok(started);
      const id = started.stdout.trim();
      assert.match(id, /^[0-9a-f]{64}$/, p.explain(started));
      // The container's root is the user; its uid 1 the first subordinate uid.
      const exec = await p.podman(['exec', 'life', 'sh', '-c', 'cat /proc/self/uid_map; exit 6']);
      assert.equal(exec.status, 6, p.explain(exec));
      const map = exec.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
      assert.deepEqual(map, [`0 ${user.uid} 1`, `1 ${user.subStart} 65536`]);
      ok(await p.podman(['stop', '-t', '1', 'life']));
      let state = '';
      const exited = await until(async () => (state = (await p.podman(['inspect', '-f', '{{.State.Status}}', 'life'])).stdout.trim()) === 'exited', 15_000);
      assert.ok(exited, `state: ${state}`);
      ok(await p.podman(['rm', 'life']));
      const ps = await p.podman(['ps', '-a', '-q', '--no-trunc']);
      assert.equal(ps.stdout.includes(id), false, p.explain(ps));
      if (name === 'runts') {
        const left = existsSync(p.runtsRoot) ? readdirSync(p.runtsRoot).filter((n) => /^[0-9a-f]{64}$/.test(n)) : [];
        assert.deepEqual(left, [], 'runts forgot the container');
      }
    });
  });
}
