// A hostile image that changes under the runtime: while creates run, a loop swaps rootfs/dev and the parent of a
// mount destination between a directory and a symlink to a host directory, and back. A runtime that checks a path
// and then uses its string (instead of an fd it resolved inside the root) follows the link some of the time.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from '../helpers/runts.js';
import { assertRefused, guarded, hostile, skip } from './helpers.js';

const ROUNDS = 6;

/**
 * Swaps each `<path>` with `<path>.link` (a prepared symlink) by renames, as fast as it can, until `stop` exists.
 * A separate process, so the test's own event loop (and runts' spawnSync) does not pause it.
 */
function swapper(paths: string[], stop: string) {
  const script = `
    const { renameSync, existsSync } = require('node:fs');
    const paths = ${JSON.stringify(paths)};
    // A millisecond in each state: the runtime's steps take about that long, and the loop leaves a core to runts.
    const nap = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    const swap = (p) => { try { renameSync(p, p + '.dir'); renameSync(p + '.link', p); nap(); renameSync(p, p + '.link'); renameSync(p + '.dir', p); nap(); } catch {} };
    let n = 0;
    while (!(n++ % 16 === 0 && existsSync(${JSON.stringify(stop)}))) for (const p of paths) swap(p);
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return { exited, kill: () => child.kill('SIGKILL') };
}

describe('escape: symlink race during create', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test(`${ROUNDS} creates while rootfs/dev and a mount's parent flip to links to a host dir leave the host alone`, () =>
    guarded(async (host) => {
      const c = hostile(sb, 'race', {
        edit: (s) => s.mounts!.push({ destination: '/mnt/a/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }),
        prepare: (r) => {
          mkdirSync(join(r, 'mnt', 'a'), { recursive: true });
          symlinkSync(host.dir, join(r, 'mnt', 'a.link'));
          symlinkSync(`/proc/self/root${host.dir}`, join(r, 'dev.link'));
        },
      });
      const stop = join(sb.dir, 'stop-race');
      const loop = swapper([join(c.rootfs, 'dev'), join(c.rootfs, 'mnt', 'a')], stop);
      const outcomes: string[] = [];
      try {
        for (let i = 0; i < ROUNDS; i++) {
          const id = sb.track(`${c.id}-${i}`);
          const r = await sb.runtsAsync(['run', '--bundle', c.bundle, id]);
          outcomes.push(r.status === 0 ? 'ran' : `refused: ${r.stderr.trim()}`);
          if (r.status !== 0) assertRefused(sb, { ...c, id }, r);
        }
      } finally {
        writeFileSync(stop, '');
        await Promise.race([loop.exited, new Promise((t) => setTimeout(t, 2000))]);
        loop.kill();
      }
      // Put the rootfs back as it was (a swap may have stopped half way) before the host check.
      for (const p of [join(c.rootfs, 'dev'), join(c.rootfs, 'mnt', 'a')]) {
        if (existsSync(`${p}.dir`)) {
          rmSync(p, { recursive: true, force: true }); // a link, or a directory made in a window between renames
          renameSync(`${p}.dir`, p);
        }
      }
      assert.equal(outcomes.length, ROUNDS, outcomes.join('\n'));
    }));
});
