// The process and linux settings of config.json, checked from inside real containers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, addUserNamespace, isRoot } from '../helpers/runts.js';
import type { Spec } from '../../src/oci/types.js';

const skip = isRoot ? false : 'needs root: real containers';

describe('process and linux settings', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  const run = (script: string, edit: (s: Spec) => void) => {
    const id = sb.id('cfg');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sh', '-c', script];
      edit(s);
    });
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.trim().split('\n');
  };

  test('user, groups, umask, cwd, env, rlimits, no_new_privs, oom_score_adj', () => {
    const out = run('id -u; id -g; id -G; umask; pwd; echo $GREETING; ulimit -n; grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj', (s) => {
      s.process!.user = { uid: 1000, gid: 1000, additionalGids: [10, 20], umask: 0o027 };
      s.process!.cwd = '/tmp';
      s.process!.env = [...(s.process!.env ?? []), 'GREETING=hello'];
      // Below this machine's hard limit: raising a hard limit needs CAP_SYS_RESOURCE, which the host lacks.
      s.process!.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 321, hard: 654 }];
      s.process!.noNewPrivileges = true;
      s.process!.oomScoreAdj = 500;
    });
    assert.deepEqual(out, ['1000', '1000', '1000 10 20', '0027', '/tmp', 'hello', '321', 'NoNewPrivs:\t1', '500']);
  });

  test('hostname, domainname and sysctls in the container\'s own namespaces', () => {
    const out = run('hostname; cat /proc/sys/kernel/domainname; cat /proc/sys/net/ipv4/ip_forward', (s) => {
      s.hostname = 'box';
      s.domainname = 'example.test';
      s.linux!.sysctl = { 'net.ipv4.ip_forward': '1' };
      s.linux!.readonlyPaths = [];
    });
    assert.deepEqual(out, ['box', 'example.test', '1']);
    assert.notEqual(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), 'box', 'the host keeps its hostname');
  });

  test('root.readonly makes / read-only while tmpfs mounts stay writable', () => {
    const out = run('touch /x 2>/dev/null && echo wrote-root; touch /dev/shm/y && echo wrote-shm', (s) => (s.root!.readonly = true));
    assert.deepEqual(out, ['wrote-shm']);
  });

  test('config devices are created with their mode, owner and cgroup access; defaults exist', () => {
    const out = run('stat -c "%t:%T %a %u" /dev/mynull; echo ok > /dev/mynull && echo writable; ls -d /dev/null /dev/zero /dev/urandom /dev/tty /dev/ptmx /dev/fd /dev/stdout | wc -l', (s) => {
      s.linux!.devices = [{ type: 'c', path: '/dev/mynull', major: 1, minor: 3, fileMode: 0o666, uid: 7, gid: 0 }];
    });
    assert.deepEqual(out, ['1:3 666 7', 'writable', '7']);
  });

  test('a read-only /dev (tmpfs with "ro") works as runc\'s: its mounts and device nodes are there, writes are refused', () => {
    const out = run('echo x > /dev/null && echo null-ok; ls -d /dev/pts /dev/shm >/dev/null && echo subdirs-ok; touch /dev/new 2>/dev/null || echo dev-ro', (s) => {
      const dev = s.mounts!.find((m) => m.destination === '/dev')!;
      dev.options = [...(dev.options ?? []), 'ro'];
    });
    assert.deepEqual(out, ['null-ok', 'subdirs-ok', 'dev-ro']);
  });

  test('bind mounts: read-only bind refuses writes; a file bind works', () => {
    const id = sb.id('bind');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sh', '-c', 'cat /data/f; (echo x > /data/g) 2>/dev/null || echo ro; cat /etc/single'];
      s.mounts = [
        ...(s.mounts ?? []),
        { destination: '/data', type: 'bind', source: 'hostdata', options: ['rbind', 'ro'] },
        { destination: '/etc/single', type: 'bind', source: 'hostdata/f', options: ['bind'] },
      ];
    });
    spawnMkdata(bundle);
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['from-host', 'ro', 'from-host']);
    assert.equal(existsSync(join(bundle, 'hostdata/g')), false);
  });

  test('a user namespace with id mappings: root inside, an unprivileged uid outside', () => {
    const id = sb.id('userns');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sh', '-c', 'id -u; cat /proc/self/uid_map; cat /proc/self/gid_map; sleep 100'];
      addUserNamespace(s);
    });
    const log = join(sb.dir, `${id}.out`);
    const r = sb.runts(['run', '--detach', '--bundle', bundle, '--pid-file', log + '.pid', id]);
    assert.equal(r.status, 0, r.stderr);
    const pid = Number(readFileSync(log + '.pid', 'utf8'));
    const uid = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)![1];
    assert.equal(uid, '100000', 'the container\'s root is uid 100000 on the host');
    assert.match(readFileSync(`/proc/${pid}/uid_map`, 'utf8'), /^\s*0\s+100000\s+65536$/m);
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
  });
});

describe('joining namespaces by path', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  test('a container joins another one\'s uts and network namespaces', () => {
    const first = sb.id('first');
    const firstBundle = sb.bundle(first, (s) => {
      s.hostname = 'shared-host';
      s.process!.args = ['/bin/sleep', '1000'];
    });
    assert.equal(sb.runts(['run', '--detach', '--bundle', firstBundle, first]).status, 0);
    const pid = sb.state(first).pid;
    const second = sb.id('second');
    const bundle = sb.bundle(second, (s) => {
      s.process!.args = ['/bin/sh', '-c', 'hostname; readlink /proc/self/ns/net'];
      delete s.hostname; // setting one would rename the shared namespace
      s.linux!.namespaces = s.linux!.namespaces!.map((ns) =>
        ns.type === 'uts' || ns.type === 'network' ? { type: ns.type, path: `/proc/${pid}/ns/${ns.type === 'uts' ? 'uts' : 'net'}` } : ns,
      );
    });
    const r = sb.runts(['run', '--bundle', bundle, second]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['shared-host', readlinkSync(`/proc/${pid}/ns/net`)]);
  });
});

function spawnMkdata(bundle: string): void {
  
  mkdirSync(join(bundle, 'hostdata'));
  writeFileSync(join(bundle, 'hostdata/f'), 'from-host\n');
}
