import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CgroupError,
  detectLayout,
  openCgroup,
  parseMountinfo,
  parseProcCgroup,
  resolveCgroupPath,
} from '../../src/linux/cgroups/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-cg-layout-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** Writes mountinfo and /proc/self/cgroup texts to files and detects from them (with a fake root). */
function detect(mountinfo: string, procCgroup = '0::/\n') {
  const dir = path.join(tmp, `case-${n++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'mountinfo'), mountinfo);
  fs.writeFileSync(path.join(dir, 'cgroup'), procCgroup);
  return detectLayout({
    mountinfoPath: path.join(dir, 'mountinfo'),
    procCgroupPath: path.join(dir, 'cgroup'),
    root: path.join(dir, 'root'),
  });
}

const ROOT_LINES = [
  '22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw',
  '23 22 0:5 / /proc rw,nosuid - proc proc rw',
  '31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
];

const V1 = [
  ...ROOT_LINES,
  '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct',
  '33 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset,clone_children',
  '34 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
  '35 31 0:33 / /sys/fs/cgroup/pids rw master:3 shared:4 - cgroup cgroup rw,pids',
  '36 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd,release_agent=/x',
  // A second (bind) mount of the memory hierarchy must not replace the first.
  '37 22 0:32 / /mnt/mem rw - cgroup cgroup rw,memory',
].join('\n');

const HYBRID = [
  ...ROOT_LINES,
  '32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu',
  '33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct',
  '34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset',
  '35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory',
  '36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices',
  '37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer',
  '38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio',
  '39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids',
  '40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd',
  '41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

const V2 = [...ROOT_LINES.slice(0, 2), '30 22 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate'].join('\n');

describe('parseMountinfo', () => {
  it('reads fstype and super options after the separator, with optional fields present', () => {
    const [e] = parseMountinfo('35 31 0:33 / /sys/fs/cgroup/pids rw master:3 shared:4 - cgroup cgroup rw,pids\n');
    assert.deepEqual(e, { root: '/', mountpoint: '/sys/fs/cgroup/pids', fstype: 'cgroup', superOptions: ['rw', 'pids'] });
  });
  it('decodes octal escapes in paths', () => {
    const [e] = parseMountinfo('35 31 0:33 /a\\040b /mnt/with\\040space rw - cgroup2 cgroup2 rw\n');
    assert.equal(e.mountpoint, '/mnt/with space');
    assert.equal(e.root, '/a b');
  });
});

describe('parseProcCgroup', () => {
  it('maps each controller, the joined key, named hierarchies and the v2 line', () => {
    const own = parseProcCgroup('9:name=systemd:/sys\n4:memory:/process_api/x\n2:cpu,cpuacct:/c\n0::/u\n');
    assert.equal(own.memory, '/process_api/x');
    assert.equal(own.cpu, '/c');
    assert.equal(own.cpuacct, '/c');
    assert.equal(own['cpu,cpuacct'], '/c');
    assert.equal(own['name=systemd'], '/sys');
    assert.equal(own[''], '/u');
  });
});

describe('detectLayout', () => {
  it('detects v1 with co-mounted and named hierarchies', () => {
    const l = detect(V1, '4:memory:/m\n0::/\n');
    assert.equal(l.mode, 'v1');
    assert.equal(l.unified, undefined);
    const root = path.dirname(path.dirname(path.dirname(path.dirname(l.controllers.memory))));
    assert.equal(l.controllers.cpu, path.join(root, 'sys/fs/cgroup/cpu,cpuacct'));
    assert.equal(l.controllers.cpuacct, l.controllers.cpu);
    assert.equal(l.controllers.memory, path.join(root, 'sys/fs/cgroup/memory'));
    assert.equal(l.controllers['name=systemd'], path.join(root, 'sys/fs/cgroup/systemd'));
    assert.equal(l.controllers.clone_children, undefined, 'mount options are not controllers');
    assert.equal(l.hierarchies.length, 5);
    assert.deepEqual(l.hierarchies[0].controllers, ['cpu', 'cpuacct']);
    assert.ok(l.hierarchies.every((h) => h.version === 1));
    assert.equal(l.own.memory, '/m');
  });

  it('detects hybrid: v1 controllers plus cgroup2 at /sys/fs/cgroup/unified', () => {
    const l = detect(HYBRID);
    assert.equal(l.mode, 'hybrid');
    assert.ok(l.unified?.endsWith('/sys/fs/cgroup/unified'));
    for (const c of ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'name=systemd']) {
      assert.ok(l.controllers[c]?.endsWith(`/sys/fs/cgroup/${c === 'name=systemd' ? 'systemd' : c}`), c);
    }
    assert.equal(l.hierarchies.at(-1)?.version, 2);
    assert.equal(l.hierarchies.length, 10);
  });

  it('detects pure v2', () => {
    const l = detect(V2);
    assert.equal(l.mode, 'v2');
    assert.ok(l.unified?.endsWith('/sys/fs/cgroup'));
    assert.deepEqual(l.controllers, {});
    assert.equal(l.hierarchies.length, 1);
  });

  it('treats a named-only v1 hierarchy beside cgroup2 as v2', () => {
    const l = detect(`${V2}\n50 22 0:40 / /run/systemd-v1 rw - cgroup cgroup rw,name=systemd`);
    assert.equal(l.mode, 'v2');
    assert.equal(l.hierarchies.length, 1);
  });

  it('fails with not_found when no cgroup filesystem is mounted', () => {
    assert.throws(() => detect(ROOT_LINES.join('\n')), (e: unknown) => e instanceof CgroupError && e.code === 'not_found');
  });

  it('reads the real host without throwing', () => {
    const l = detectLayout();
    assert.ok(['v1', 'v2', 'hybrid'].includes(l.mode));
  });
});

describe('resolveCgroupPath', () => {
  it('defaults to /runts/<id>', () => {
    assert.equal(resolveCgroupPath(undefined, 'abc'), '/runts/abc');
    assert.equal(resolveCgroupPath('', 'abc'), '/runts/abc');
  });
  it('keeps absolute paths, cleaned', () => {
    assert.equal(resolveCgroupPath('/default/abc', 'abc'), '/default/abc');
    assert.equal(resolveCgroupPath('//a/./b/', 'x'), '/a/b');
  });
  it('keeps relative paths relative', () => {
    assert.equal(resolveCgroupPath('a/b', 'x'), 'a/b');
    assert.equal(resolveCgroupPath('./a', 'x'), 'a');
  });
  it('maps systemd-style slice:prefix:name', () => {
    assert.equal(resolveCgroupPath('system.slice:cri-containerd:abc', 'abc'), '/system.slice/cri-containerd-abc.scope');
    assert.equal(resolveCgroupPath(':docker:abc', 'abc'), '/system.slice/docker-abc.scope');
    assert.equal(
      resolveCgroupPath('kubepods-burstable-pod1.slice:cri-containerd:abc', 'abc'),
      '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-abc.scope',
    );
    assert.equal(resolveCgroupPath('-.slice:p:n', 'n'), '/p-n.scope');
  });
  it('refuses .. and malformed systemd paths with bad_config', () => {
    const bad = (e: unknown) => e instanceof CgroupError && e.code === 'bad_config' && /cgroupsPath/.test(e.message);
    assert.throws(() => resolveCgroupPath('/a/../b', 'x'), bad);
    assert.throws(() => resolveCgroupPath('../b', 'x'), bad);
    assert.throws(() => resolveCgroupPath('/', 'x'), bad);
    assert.throws(() => resolveCgroupPath('system.slice:p:', 'x'), bad);
    assert.throws(() => resolveCgroupPath('notaslice:p:n', 'x'), bad);
    assert.throws(() => resolveCgroupPath('system.slice:p:a/b', 'x'), bad);
  });
});

describe('openCgroup path placement', () => {
  it('puts absolute paths under each mountpoint and relative ones under the own cgroup of that hierarchy', () => {
    const l = detect(HYBRID, '4:memory:/process_api/x\n1:cpu:/\n0::/u\n');
    const abs = openCgroup(l, '/runts/a');
    assert.ok(abs.dirs.includes(path.join(l.controllers.memory, 'runts/a')));
    assert.ok(abs.dirs.includes(path.join(l.unified!, 'runts/a')));
    const rel = openCgroup(l, 'sub/a');
    assert.ok(rel.dirs.includes(path.join(l.controllers.memory, 'process_api/x/sub/a')));
    assert.ok(rel.dirs.includes(path.join(l.controllers.cpu, 'sub/a')));
    assert.ok(rel.dirs.includes(path.join(l.unified!, 'u/sub/a')));
  });
  it('cuts the mount root from the own cgroup when only a subtree is mounted', () => {
    const l = detect(
      [...ROOT_LINES, '35 31 0:32 /docker/c1 /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory'].join('\n'),
      '4:memory:/docker/c1/inner\n',
    );
    assert.equal(openCgroup(l, 'x').dirs[0], path.join(l.controllers.memory, 'inner/x'));
  });
  it('refuses the hierarchy root itself', () => {
    const l = detect(V2, '0::/\n');
    assert.throws(() => openCgroup(l, '.'), (e: unknown) => e instanceof CgroupError && e.code === 'bad_config');
  });
});
