// Hostile processes against `runts cp`: a running container plants links to procfs and sysfs files, fifos,
// device nodes and links out of its rootfs, and waits for the host to copy them. The gofer serves regular files
// and directories of the rootfs only; everything else is refused with one line, leaves no host file, and never
// hangs (each copy runs under a timeout and a file-size limit, so a failing run cannot block or fill the disk).
// Links are planted absolute and relative: a relative one stays beneath the root, so only the procfs/sysfs check
// stops it. runc has no `cp`; `docker cp` resolves links within the container's root.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTS, Sandbox } from '../helpers/runts.js';
import { guarded, hostile, skip, type Hostile } from './helpers.js';

const TIMEOUT_MS = 8000;
const SIZE_CAP = 1 << 20;
const UP = '../../../../../../../../../..';

describe('escape: cp', { skip }, () => {
  let sb: Sandbox;
  let c: Hostile;
  let initPid: number;
  before(() => {
    sb = new Sandbox();
    c = hostile(sb, 'cp-target', { edit: (s) => (s.process!.args = ['/bin/sleep', '100000']) });
    const r = sb.runts(['run', '--detach', '--bundle', c.bundle, c.id]);
    assert.equal(r.status, 0, r.stderr);
    initPid = sb.state(c.id).pid;
    // A character device like /dev/zero (endless) planted from outside: the container has no CAP_MKNOD.
    assert.equal(spawnSync('mknod', ['-m', '666', join(c.rootfs, 'tmp', 'zero'), 'c', '1', '5']).status, 0);
  });
  after(() => sb.cleanup());

  /** The container's process plants something (as the attacker would, from inside). */
  const plant = (script: string) => {
    const r = sb.runts(['exec', c.id, '/bin/sh', '-c', script]);
    assert.equal(r.status, 0, r.stderr);
  };

  /** `runts cp` bounded in time and in the size of what it may write. */
  const cp = (from: string, to: string) => {
    const r = spawnSync('prlimit', [`--fsize=${SIZE_CAP}`, '--', RUNTS, '--root', sb.root, 'cp', from, to], { encoding: 'utf8', timeout: TIMEOUT_MS, killSignal: 'SIGKILL' });
    assert.equal(r.signal, null, `cp ${from} did not finish within ${TIMEOUT_MS} ms (killed: it blocked or wrote past ${SIZE_CAP} bytes)`);
    return r;
  };

  /** Copying `path` out of the container is refused in one line and leaves no file on the host. */
  const refusedOut = (host: { base: string }, path: string) => {
    const dest = join(host.base, `copied-${path.replace(/\W/g, '_')}`);
    const r = cp(`${c.id}:${path}`, dest);
    try {
      assert.notEqual(r.status, 0, `cp ${path} succeeded: ${existsSync(dest) ? readFileSync(dest).subarray(0, 80).toString('hex') : ''}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, `one line: ${r.stderr}`);
      assert.equal(existsSync(dest), false, `cp ${path} left ${dest} behind`);
    } finally {
      rmSync(dest, { force: true });
    }
  };

  test('a link to /proc/kmsg is refused (it would block reading the host kernel log)', () =>
    guarded((host) => {
      plant('ln -sf /proc/kmsg /tmp/kmsg; ln -sf ../proc/kmsg /tmp/kmsg-rel');
      refusedOut(host, '/tmp/kmsg');
      refusedOut(host, '/tmp/kmsg-rel');
    }));

  test('a link to /proc/1/pagemap is refused (huge, and a window on memory)', () =>
    guarded((host) => {
      plant('ln -sf /proc/1/pagemap /tmp/pagemap; ln -sf ../proc/1/pagemap /tmp/pagemap-rel');
      refusedOut(host, '/tmp/pagemap');
      refusedOut(host, '/tmp/pagemap-rel');
    }));

  test('a link to /proc/kallsyms is refused', () =>
    guarded((host) => {
      plant('ln -sf /proc/kallsyms /tmp/kallsyms; ln -sf ../proc/kallsyms /tmp/kallsyms-rel');
      refusedOut(host, '/tmp/kallsyms');
      refusedOut(host, '/tmp/kallsyms-rel');
    }));

  test('procfs paths named directly are refused: /proc/self/environ would be the gofer\'s own, a host process', () =>
    guarded((host) => {
      for (const p of ['/proc/self/environ', '/proc/1/environ', '/proc/kmsg']) refusedOut(host, p);
    }));

  test('a link into /sys, and /sys directly, are refused', () =>
    guarded((host) => {
      plant('ln -sf /sys/devices/system/cpu/online /tmp/sys-online; ln -sf ../sys/devices/system/cpu/online /tmp/sys-online-rel');
      refusedOut(host, '/tmp/sys-online');
      refusedOut(host, '/tmp/sys-online-rel');
      refusedOut(host, '/sys/kernel/uevent_seqnum');
    }));

  test('a fifo is refused (opening it would block)', () =>
    guarded((host) => {
      plant('mkfifo /tmp/fifo');
      refusedOut(host, '/tmp/fifo');
    }));

  test('a device node is refused (an endless /dev/zero)', () =>
    guarded((host) => {
      refusedOut(host, '/tmp/zero');
      refusedOut(host, '/dev/zero');
    }));

  test('../.. chains, absolute and relative links out, and magic links never read the host secret', () =>
    guarded((host) => {
      plant(`ln -sf ${host.secret} /tmp/abs; ln -sf ${UP}${host.secret} /tmp/rel; ln -sf /proc/1/root${host.secret} /tmp/magic; ln -sf /proc/self/root${host.secret} /tmp/magic2`);
      for (const p of [`/../../../../../../..${host.secret}`, `/tmp/${UP}${host.secret}`, '/tmp/abs', '/tmp/rel', '/tmp/magic', '/tmp/magic2']) refusedOut(host, p);
    }));

  test('cp into the container through planted links to a host dir writes nothing on the host', () =>
    guarded((host) => {
      plant(`ln -sf ${host.dir} /tmp/in-abs; ln -sf ${UP}${host.dir} /tmp/in-rel; ln -sf /proc/1/root${host.dir} /tmp/in-magic; ln -sf /proc/self/root${host.dir} /tmp/in-magic2`);
      const source = join(sb.dir, 'cp-source');
      writeFileSync(source, 'from the host\n');
      for (const p of ['/tmp/in-abs/planted', '/tmp/in-rel/planted', '/tmp/in-magic/planted', '/tmp/in-magic2/planted', `/../../../../../..${host.dir}/planted`]) {
        const r = cp(source, `${c.id}:${p}`);
        if (r.status === 0) {
          // Resolved as if the rootfs were `/`: the file is inside the container, where the container sees it.
          assert.equal(readFileSync(`/proc/${initPid}/root${host.dir}/planted`, 'utf8'), 'from the host\n', p);
          rmSync(`/proc/${initPid}/root${host.dir}/planted`);
        } else {
          assert.equal(r.stderr.trim().split('\n').length, 1, `${p}: one line: ${r.stderr}`);
        }
      }
    }));
});
