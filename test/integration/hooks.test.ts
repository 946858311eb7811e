// The six OCI hook points on real containers: order, the state on stdin, timeouts, and failure semantics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, assertNoLeftovers, eventually, isRoot } from '../helpers/runts.js';
import type { Hook } from '../../src/oci/types.js';

const skip = isRoot ? false : 'needs root: real containers';

/** A hook that appends "<name> <status from the state on stdin> <id>" to `log`. */
const recorder = (name: string, log: string): Hook => ({
  path: '/bin/sh',
  args: ['sh', '-c', `state=$(cat); s=\${state#*\\"status\\":\\"}; i=\${state#*\\"id\\":\\"}; echo "${name} \${s%%\\"*} \${i%%\\"*}" >> ${log}`],
});

describe('hooks', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('all six run in order with the state JSON on stdin', async () => {
    const id = sb.id('hooks');
    const hostLog = join(sb.dir, `${id}.hooks`);
    // createContainer and startContainer run in the container's mount namespace: their log is the rootfs's.
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sh', '-c', `echo user-program >> /container.log`];
      s.hooks = {
        prestart: [recorder('prestart', hostLog)],
        createRuntime: [recorder('createRuntime', hostLog)],
        createContainer: [recorder('createContainer', '/container.log')],
        startContainer: [recorder('startContainer', '/container.log')],
        poststart: [recorder('poststart', hostLog)],
        poststop: [recorder('poststop', hostLog)],
      };
    });
    const containerLog = join(bundle, 'rootfs/container.log');

    assert.equal(sb.runts(['create', '--bundle', bundle, id]).status, 0);
    assert.deepEqual(readFileSync(hostLog, 'utf8').trim().split('\n'), [`prestart creating ${id}`, `createRuntime creating ${id}`]);
    assert.deepEqual(readFileSync(containerLog, 'utf8').trim().split('\n'), [`createContainer creating ${id}`]);

    assert.equal(sb.runts(['start', id]).status, 0);
    assert.ok(await eventually(() => readFileSync(containerLog, 'utf8').includes('user-program')));
    assert.deepEqual(readFileSync(containerLog, 'utf8').trim().split('\n'), [
      `createContainer creating ${id}`,
      `startContainer created ${id}`,
      'user-program',
    ]);
    assert.ok(readFileSync(hostLog, 'utf8').includes(`poststart running ${id}`));

    assert.ok(await eventually(() => sb.state(id).status === 'stopped'));
    assert.equal(sb.runts(['delete', id]).status, 0);
    assert.deepEqual(readFileSync(hostLog, 'utf8').trim().split('\n'), [
      `prestart creating ${id}`,
      `createRuntime creating ${id}`,
      `poststart running ${id}`,
      `poststop stopped ${id}`,
    ]);
  });

  test('a failing createRuntime hook fails create and leaves nothing behind', () => {
    const id = sb.id('hookfail');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sleep', '100'];
      s.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'echo broken network >&2; exit 3'] }] };
    });
    const r = sb.runts(['create', '--bundle', bundle, id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /createRuntime hook \/bin\/sh failed: exit status 3.*broken network/);
    assertNoLeftovers(sb, id, bundle);
  });

  test('a hook past its timeout is killed and fails create', () => {
    const id = sb.id('hookslow');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sleep', '100'];
      s.hooks = { prestart: [{ path: '/bin/sleep', args: ['sleep', '30'], timeout: 1 }] };
    });
    const t0 = Date.now();
    const r = sb.runts(['create', '--bundle', bundle, id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /prestart hook \/bin\/sleep timed out after 1s/);
    assert.ok(Date.now() - t0 < 10_000, 'the timeout cut the hook short');
    assertNoLeftovers(sb, id, bundle);
  });

  test('a failing startContainer hook fails start and destroys the container', () => {
    const id = sb.id('startfail');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sh', '-c', 'touch /ran'];
      s.hooks = { startContainer: [{ path: '/bin/false' }] };
    });
    assert.equal(sb.runts(['create', '--bundle', bundle, id]).status, 0);
    const r = sb.runts(['start', id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /startContainer hook \/bin\/false failed/);
    assert.equal(existsSync(join(bundle, 'rootfs/ran')), false, 'the user program never ran');
    assertNoLeftovers(sb, id, bundle);
  });

  test('startContainer hooks run under the container\'s seccomp filter (as runc: its init installs it first)', () => {
    const id = sb.id('hookfilter');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/true'];
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
      s.hooks = {
        startContainer: [
          {
            path: '/bin/sh',
            args: ['sh', '-c', 'cat >/dev/null; mkdir /hookdir 2>/hook.out || echo mkdir-failed >> /hook.out'],
          },
        ],
      };
    });
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    const out = readFileSync(join(bundle, 'rootfs/hook.out'), 'utf8').trim().split('\n');
    assert.deepEqual(out, ["mkdir: can't create directory '/hookdir': Operation not permitted", 'mkdir-failed']);
    assert.equal(existsSync(join(bundle, 'rootfs/hookdir')), false);
  });

  test('a startContainer hook that cannot start under the filter fails start with the reason', () => {
    const id = sb.id('hookmissing');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/true'];
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
      s.hooks = { startContainer: [{ path: '/no/such/hook' }] };
    });
    assert.equal(sb.runts(['create', '--bundle', bundle, id]).status, 0);
    const r = sb.runts(['start', id]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /startContainer hook \/no\/such\/hook failed: exit status \d+: runts: exec \/no\/such\/hook: ENOENT/);
    assertNoLeftovers(sb, id, bundle);
  });

  test('failing poststart and poststop hooks are warnings only', async () => {
    const id = sb.id('postfail');
    const log = join(sb.dir, `${id}.log`);
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/true'];
      s.hooks = { poststart: [{ path: '/bin/false' }], poststop: [{ path: '/bin/false' }, recorder('second-poststop', join(sb.dir, `${id}.hooks`))] };
    });
    assert.equal(sb.runts(['--log', log, '--log-format', 'json', 'run', '--bundle', bundle, id]).status, 0);
    const warnings = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.level === 'warn');
    assert.ok(warnings.some((w) => /poststart hook \/bin\/false failed/.test(w.msg)), JSON.stringify(warnings));
    assert.ok(warnings.some((w) => /poststop hook \/bin\/false failed/.test(w.msg)), JSON.stringify(warnings));
    assert.match(readFileSync(join(sb.dir, `${id}.hooks`), 'utf8'), /second-poststop stopped/);
  });
});
