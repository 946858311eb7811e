import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CgroupError,
  detectLayout,
  ioMaxWrites,
  openCgroup,
  readHugePageSizes,
  sharesToWeight,
  swapToV2,
  v1DeviceWrites,
  warmUpCgroupAttach,
  type CgroupLayout,
} from '../../src/linux/cgroups/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-cg-manager-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const HYBRID_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'];

let n = 0;
/**
 * A fake cgroupfs: plain dirs under a temp root, a mountinfo naming them, and the root files the kernel would
 * provide (cpuset cpus/mems, cgroup.controllers).
 */
function fakeHost(mode: 'hybrid' | 'v2', procCgroup = '0::/\n', extraV1: string[] = []): CgroupLayout {
  const dir = path.join(tmp, `host-${n++}`);
  const root = path.join(dir, 'root');
  const lines = ['22 1 8:1 / / rw - ext4 /dev/sda1 rw'];
  // The kernel's huge page sizes: 2 MiB and 1 GiB, as on x86-64.
  for (const kb of ['2048', '1048576']) fs.mkdirSync(path.join(root, `sys/kernel/mm/hugepages/hugepages-${kb}kB`), { recursive: true });
  if (mode === 'hybrid') {
    // extraV1 entries like "net_cls,net_prio" are co-mounted, as systemd does.
    [...HYBRID_CONTROLLERS, ...extraV1].forEach((c, i) => lines.push(`${32 + i} 31 0:${29 + i} / /sys/fs/cgroup/${c} rw - cgroup cgroup rw,${c}`));
    lines.push('40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd');
    lines.push('41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw');
  } else {
    lines.push('30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate');
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'mountinfo'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'cgroup'), procCgroup);
  const layout = detectLayout({ mountinfoPath: path.join(dir, 'mountinfo'), procCgroupPath: path.join(dir, 'cgroup'), root });
  for (const h of layout.hierarchies) fs.mkdirSync(h.mountpoint, { recursive: true });
  if (mode === 'hybrid') {
    fs.writeFileSync(path.join(layout.controllers.cpuset, 'cpuset.cpus'), '0-3\n');
    fs.writeFileSync(path.join(layout.controllers.cpuset, 'cpuset.mems'), '0\n');
    fs.writeFileSync(path.join(layout.unified!, 'cgroup.controllers'), 'hugetlb\n');
  } else {
    fs.writeFileSync(path.join(layout.unified!, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    fs.writeFileSync(path.join(layout.unified!, 'cgroup.subtree_control'), '\n');
  }
  return layout;
}

const read = (...p: string[]): string => fs.readFileSync(path.join(...p), 'utf8').trim();
const put = (file: string, text: string): void => fs.writeFileSync(file, text);

describe('create / destroy on a fake hybrid tree', () => {
  it('makes the leaf in every hierarchy incl. unified and named, inherits cpuset, reports what it made', () => {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/runts/c1');
    assert.equal(cg.exists(), false);
    const r = cg.create();
    assert.equal(r.created, true);
    assert.equal(cg.dirs.length, 10);
    for (const d of cg.dirs) assert.ok(fs.statSync(d).isDirectory(), d);
    assert.ok(r.createdDirs.includes(path.join(l.unified!, 'runts')));
    assert.ok(r.createdDirs.includes(path.join(l.controllers['name=systemd'], 'runts/c1')));
    // Both the intermediate and the leaf got the parent's cpus/mems.
    assert.equal(read(l.controllers.cpuset, 'runts/cpuset.cpus'), '0-3');
    assert.equal(read(l.controllers.cpuset, 'runts/c1/cpuset.mems'), '0');
    assert.equal(cg.exists(), true);

    const again = cg.create();
    assert.equal(again.created, false);
    assert.deepEqual(again.createdDirs, []);

    assert.deepEqual(
      cg.procsFiles().sort(),
      cg.dirs.map((d) => path.join(d, 'cgroup.procs')).sort(),
    );
    assert.ok(cg.procsFiles().includes(path.join(l.unified!, 'runts/c1/cgroup.procs')));

    cg.destroy();
    assert.equal(cg.exists(), false);
    for (const d of cg.dirs) assert.ok(fs.existsSync(path.dirname(d)), 'parents stay');
    cg.destroy(); // idempotent
  });

  it('refuses an existing frozen cgroup (as runc) and leaves it as it was; warns about processes already inside', () => {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/runts/frozen');
    cg.create();
    const freezer = path.join(l.controllers.freezer, 'runts/frozen');
    put(path.join(freezer, 'freezer.state'), 'FROZEN\n');
    assert.throws(() => cg.create(), (e: unknown) => {
      assert.ok(e instanceof CgroupError);
      assert.equal(e.code, 'bad_state');
      assert.match(e.message, /runts\/frozen exists and is frozen: thaw it or choose another linux\.cgroupsPath$/);
      return true;
    });
    assert.equal(cg.exists(), true, 'a cgroup that existed is not removed');
    put(path.join(freezer, 'freezer.state'), 'THAWED\n');
    put(path.join(l.controllers.pids, 'runts/frozen/cgroup.procs'), '4242\n');
    const { warnings } = cg.create();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /already has 1 process\(es\) \(4242\)/);
  });

  it('removes the parents it made when a deeper level of the same chain cannot be made', () => {
    const l = fakeHost('hybrid');
    // The first hierarchy's chain: new/mid are made, then the leaf's name is longer than any file name may be.
    const cg = openCgroup(l, `/new/mid/${'x'.repeat(300)}`);
    assert.throws(() => cg.create(), (e: unknown) => e instanceof CgroupError && /ENAMETOOLONG/.test(e.message));
    for (const h of l.hierarchies) assert.equal(fs.existsSync(path.join(h.mountpoint, 'new')), false, `${h.mountpoint}/new is left`);
  });

  it('removes only what it made when applying resources fails', () => {
    const l = fakeHost('hybrid');
    // The memory leaf exists already (not ours) and its limit file cannot be written.
    const memLeaf = path.join(l.controllers.memory, 'pre/c1');
    fs.mkdirSync(path.join(memLeaf, 'memory.limit_in_bytes'), { recursive: true });
    const cg = openCgroup(l, '/pre/c1');
    assert.throws(() => cg.create({ memory: { limit: 1 << 20 } }), CgroupError);
    assert.ok(fs.existsSync(memLeaf), 'the pre-existing cgroup stays');
    assert.equal(fs.existsSync(path.join(l.controllers.cpu, 'pre')), false, 'what create made is gone');
    assert.equal(fs.existsSync(path.join(l.unified!, 'pre')), false);
  });

  it('validates before making anything', () => {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/bad');
    assert.throws(() => cg.create({ unified: { 'memory.high': '1G' } }), (e: unknown) => e instanceof CgroupError && e.code === 'bad_config');
    assert.equal(cg.exists(), false);
  });

  it('pids() reads cgroup.procs of the leaf and its sub-cgroups', () => {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/p');
    cg.create();
    const leaf = path.join(l.controllers.pids, 'p');
    put(path.join(leaf, 'cgroup.procs'), '12\n7\n');
    fs.mkdirSync(path.join(leaf, 'sub'));
    put(path.join(leaf, 'sub/cgroup.procs'), '30\n12\n');
    assert.deepEqual(cg.pids(), [7, 12, 30]);
    cg.destroy();
    assert.deepEqual(cg.pids(), []);
  });
});

describe('create on a fake v2 tree', () => {
  it('enables the needed controllers in each ancestor', () => {
    const l = fakeHost('v2');
    fs.mkdirSync(path.join(l.unified!, 'k8s'));
    put(path.join(l.unified!, 'k8s/cgroup.controllers'), 'cpu memory pids');
    put(path.join(l.unified!, 'k8s/cgroup.subtree_control'), 'cpu');
    const cg = openCgroup(l, '/k8s/pod/c1');
    const r = cg.create();
    assert.equal(r.created, true);
    assert.equal(cg.dirs.length, 1);
    assert.equal(read(l.unified!, 'cgroup.subtree_control'), '+cpuset +cpu +io +memory +hugetlb +pids');
    assert.equal(read(l.unified!, 'k8s/cgroup.subtree_control'), '+memory +pids');
    assert.equal(fs.existsSync(path.join(l.unified!, 'k8s/pod/c1/cgroup.subtree_control')), false, 'never on the leaf');
    cg.destroy();
    assert.equal(fs.existsSync(path.join(l.unified!, 'k8s/pod/c1')), false);
    assert.ok(fs.existsSync(path.join(l.unified!, 'k8s/pod')));
  });
});

describe('apply on v1', () => {
  it('orders OCI device rules and formats wildcards', () => {
    assert.deepEqual(
      v1DeviceWrites([
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 136, access: 'rwm' },
        { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
        { allow: false, type: 'c', major: 5, minor: 1 },
      ]),
      [
        { file: 'devices.deny', value: 'a' },
        { file: 'devices.allow', value: 'c 1:3 rwm' },
        { file: 'devices.allow', value: 'c 136:* rwm' },
        { file: 'devices.allow', value: 'b *:* m' },
        { file: 'devices.deny', value: 'c 5:1 rwm' },
      ],
    );
    assert.throws(() => v1DeviceWrites([{ allow: true, type: 'x' }]), (e: unknown) => e instanceof CgroupError && e.code === 'bad_config');
    assert.throws(() => v1DeviceWrites([{ allow: true, type: 'c', access: 'rwx' }]), CgroupError);
  });

  it('writes the right files', () => {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/a');
    cg.create();
    const mem = path.join(l.controllers.memory, 'a');
    put(path.join(mem, 'memory.memsw.limit_in_bytes'), '9223372036854771712');
    const blkio = path.join(l.controllers.blkio, 'a');
    put(path.join(blkio, 'blkio.bfq.weight'), '100');
    const warnings = cg.apply({
      memory: { limit: 64 << 20, reservation: 32 << 20, swap: 128 << 20, swappiness: 10, disableOOMKiller: true },
      cpu: { shares: 512, quota: 50000, period: 100000, realtimePeriod: 1000000, realtimeRuntime: 950000, cpus: '0-1', mems: '0' },
      pids: { limit: 20 },
      blockIO: { weight: 300 },
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }],
    });
    assert.deepEqual(warnings, []);
    assert.equal(read(mem, 'memory.limit_in_bytes'), String(64 << 20));
    assert.equal(read(mem, 'memory.memsw.limit_in_bytes'), String(128 << 20));
    assert.equal(read(mem, 'memory.soft_limit_in_bytes'), String(32 << 20));
    assert.equal(read(mem, 'memory.swappiness'), '10');
    assert.equal(read(mem, 'memory.oom_control'), '1');
    const cpu = path.join(l.controllers.cpu, 'a');
    assert.equal(read(cpu, 'cpu.shares'), '512');
    assert.equal(read(cpu, 'cpu.cfs_quota_us'), '50000');
    assert.equal(read(cpu, 'cpu.cfs_period_us'), '100000');
    assert.equal(read(cpu, 'cpu.rt_period_us'), '1000000');
    assert.equal(read(cpu, 'cpu.rt_runtime_us'), '950000');
    assert.equal(read(l.controllers.cpuset, 'a/cpuset.cpus'), '0-1');
    assert.equal(read(l.controllers.pids, 'a/pids.max'), '20');
    assert.equal(read(blkio, 'blkio.bfq.weight'), '300');
    // A fake file keeps only the last write of each; the order itself is checked by v1DeviceWrites above.
    assert.equal(read(l.controllers.devices, 'a/devices.deny'), 'a');
    assert.equal(read(l.controllers.devices, 'a/devices.allow'), 'c 1:3 rwm');

    cg.apply({ pids: { limit: 0 }, memory: { limit: -1 } });
    assert.equal(read(l.controllers.pids, 'a/pids.max'), 'max');
    assert.equal(read(mem, 'memory.limit_in_bytes'), '-1');
    assert.equal(read(mem, 'memory.memsw.limit_in_bytes'), '-1', 'unlimited memory lifts memsw too');
  });

  it('warns instead of pretending: no memsw file, no blkio weight file', () => {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/w');
    cg.create();
    const warnings = cg.apply({ memory: { limit: 1 << 20, swap: 2 << 20 }, blockIO: { weight: 500 } });
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /swap/);
    assert.match(warnings[1], /blockIO/);
    assert.equal(fs.existsSync(path.join(l.controllers.memory, 'w/memory.memsw.limit_in_bytes')), false);
  });

  it('writes kernelTCP, every blockIO field, hugetlb (with the reservation limit) and net_cls/net_prio', () => {
    const l = fakeHost('hybrid', '0::/\n', ['hugetlb', 'net_cls,net_prio']);
    const cg = openCgroup(l, '/r');
    cg.create();
    const mem = path.join(l.controllers.memory, 'r');
    const blkio = path.join(l.controllers.blkio, 'r');
    const hugetlb = path.join(l.controllers.hugetlb, 'r');
    // The files the kernel provides (a fake tree has only what a test puts there): CFQ's weight files.
    put(path.join(mem, 'memory.kmem.tcp.limit_in_bytes'), '9223372036854771712');
    for (const f of ['weight', 'leaf_weight', 'weight_device', 'leaf_weight_device', 'throttle.read_bps_device',
      'throttle.write_bps_device', 'throttle.read_iops_device', 'throttle.write_iops_device']) put(path.join(blkio, `blkio.${f}`), '');
    put(path.join(hugetlb, 'hugetlb.1GB.rsvd.limit_in_bytes'), '');
    const warnings = cg.apply({
      memory: { limit: 64 << 20, kernelTCP: 8 << 20 },
      blockIO: {
        weight: 500,
        leafWeight: 300,
        weightDevice: [{ major: 8, minor: 0, weight: 400, leafWeight: 200 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 102400 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 16, rate: 204800 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 32, rate: 300 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 48, rate: 400 }],
      },
      hugepageLimits: [{ pageSize: '2MB', limit: 2 << 30 }, { pageSize: '1GB', limit: 4 << 30 }],
      network: { classID: 0x100001, priorities: [{ name: 'lo', priority: 10 }] },
    });
    assert.deepEqual(warnings, []);
    assert.equal(read(mem, 'memory.kmem.tcp.limit_in_bytes'), String(8 << 20));
    assert.equal(read(blkio, 'blkio.weight'), '500');
    assert.equal(read(blkio, 'blkio.leaf_weight'), '300');
    assert.equal(read(blkio, 'blkio.weight_device'), '8:0 400');
    assert.equal(read(blkio, 'blkio.leaf_weight_device'), '8:0 200');
    assert.equal(read(blkio, 'blkio.throttle.read_bps_device'), '8:0 102400');
    assert.equal(read(blkio, 'blkio.throttle.write_bps_device'), '8:16 204800');
    assert.equal(read(blkio, 'blkio.throttle.read_iops_device'), '8:32 300');
    assert.equal(read(blkio, 'blkio.throttle.write_iops_device'), '8:48 400');
    assert.equal(read(hugetlb, 'hugetlb.2MB.limit_in_bytes'), String(2 << 30));
    assert.equal(fs.existsSync(path.join(hugetlb, 'hugetlb.2MB.rsvd.limit_in_bytes')), false, 'only where the kernel has it');
    assert.equal(read(hugetlb, 'hugetlb.1GB.limit_in_bytes'), String(4 << 30));
    assert.equal(read(hugetlb, 'hugetlb.1GB.rsvd.limit_in_bytes'), String(4 << 30));
    // net_cls and net_prio co-mounted: both files in the one dir.
    assert.equal(l.controllers.net_cls, l.controllers.net_prio);
    assert.equal(read(l.controllers.net_cls, 'r/net_cls.classid'), String(0x100001));
    assert.equal(read(l.controllers.net_prio, 'r/net_prio.ifpriomap'), 'lo 10');
  });

  it('BFQ: weights go to blkio.bfq.weight(_device); leaf weights (CFQ only) are reported', () => {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/bfq');
    cg.create();
    const blkio = path.join(l.controllers.blkio, 'bfq');
    put(path.join(blkio, 'blkio.bfq.weight'), '100');
    put(path.join(blkio, 'blkio.bfq.weight_device'), '');
    const warnings = cg.apply({ blockIO: { weight: 500, leafWeight: 300, weightDevice: [{ major: 8, minor: 0, weight: 400, leafWeight: 200 }] } });
    assert.equal(read(blkio, 'blkio.bfq.weight'), '500');
    assert.equal(read(blkio, 'blkio.bfq.weight_device'), '8:0 400');
    assert.equal(warnings.length, 2);
    assert.match(warnings[0], /leafWeight not applied/);
    assert.match(warnings[1], /8:0 leafWeight not applied/);
  });

  it('warns for what this host lacks: net_cls/net_prio/hugetlb not mounted, no kmem.tcp, kernel memory', () => {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/x');
    cg.create();
    const warnings = cg.apply({
      memory: { kernel: 1 << 20, kernelTCP: 1 << 20 },
      hugepageLimits: [{ pageSize: '2MB', limit: 1 << 30 }],
      network: { classID: 1, priorities: [{ name: 'lo', priority: 1 }] },
    });
    assert.deepEqual(warnings.map((w) => w.split(':')[0]), [
      'memory.kernel ignored',
      'memory.kernelTCP not applied',
      'hugepageLimits not applied',
      'network.classID not applied',
      'network.priorities not applied',
    ]);
    assert.equal(fs.existsSync(path.join(l.controllers.memory, 'x/memory.kmem.limit_in_bytes')), false, 'kernel memory is never written');
  });

  it('refuses a huge page size the kernel does not have before writing anything', () => {
    const l = fakeHost('hybrid', '0::/\n', ['hugetlb']);
    const cg = openCgroup(l, '/h');
    cg.create();
    assert.throws(
      () => cg.apply({ pids: { limit: 5 }, hugepageLimits: [{ pageSize: '3MB', limit: 1 << 30 }] }),
      (e: unknown) => e instanceof CgroupError && e.code === 'bad_config' && /"3MB".*supports 1GB, 2MB/.test(e.message),
    );
    assert.equal(fs.existsSync(path.join(l.controllers.pids, 'h/pids.max')), false);
    assert.equal(fs.existsSync(path.join(l.controllers.hugetlb, 'h/hugetlb.3MB.limit_in_bytes')), false);
  });

  it('names huge page sizes as the hugetlb controller does', () => {
    const dir = path.join(tmp, 'hugepages');
    for (const kb of ['64', '2048', '32768', '1048576', '16777216']) fs.mkdirSync(path.join(dir, `hugepages-${kb}kB`), { recursive: true });
    fs.mkdirSync(path.join(dir, 'not-a-size'));
    assert.deepEqual(readHugePageSizes(dir), ['16GB', '1GB', '2MB', '32MB', '64KB']);
    assert.deepEqual(readHugePageSizes(path.join(tmp, 'no-such-dir')), []);
  });

  // memory.memsw.limit_in_bytes is made a directory so writing it fails: whether memory.limit_in_bytes changed
  // before the failure shows which file was written first.
  function orderProbe(current: number, limit: number, swap: number): string {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/o');
    cg.create();
    const mem = path.join(l.controllers.memory, 'o');
    put(path.join(mem, 'memory.limit_in_bytes'), String(current));
    fs.mkdirSync(path.join(mem, 'memory.memsw.limit_in_bytes'));
    assert.throws(() => cg.apply({ memory: { limit, swap } }), CgroupError);
    return read(mem, 'memory.limit_in_bytes');
  }
  it('raising memory writes memsw first', () => {
    assert.equal(orderProbe(100, 200, 400), '100');
  });
  it('lowering memory writes the limit first', () => {
    assert.equal(orderProbe(400, 100, 200), '100');
  });

  it('refuses unified and swap < limit before writing anything', () => {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/v');
    cg.create();
    const bad = (e: unknown) => e instanceof CgroupError && e.code === 'bad_config';
    assert.throws(() => cg.apply({ pids: { limit: 5 }, unified: { 'pids.max': '5' } }), bad);
    assert.throws(() => cg.apply({ pids: { limit: 5 }, memory: { limit: 200, swap: 100 } }), bad);
    assert.throws(() => cg.apply({ pids: { limit: 5 }, memory: { swappiness: 101 } }), bad);
    assert.equal(fs.existsSync(path.join(l.controllers.pids, 'v/pids.max')), false);
  });
});

describe('apply on v2', () => {
  it('converts shares, swap and quota and writes raw unified files last', () => {
    assert.equal(sharesToWeight(2), 1);
    assert.equal(sharesToWeight(1024), 39);
    assert.equal(sharesToWeight(262144), 10000);
    assert.equal(swapToV2(128, 64), 64);
    assert.equal(swapToV2(undefined, -1), -1);
    assert.equal(swapToV2(-1, 64), -1);
    assert.equal(swapToV2(undefined, 64), 0);
    assert.throws(() => swapToV2(128, undefined), CgroupError);

    const l = fakeHost('v2');
    const cg = openCgroup(l, '/c');
    cg.create();
    const dir = path.join(l.unified!, 'c');
    put(path.join(dir, 'memory.swap.max'), 'max');
    const warnings = cg.apply({
      memory: { limit: 64 << 20, reservation: 16 << 20, swap: 96 << 20 },
      cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0', mems: '0' },
      pids: { limit: 20 },
      blockIO: { weight: 500 },
      unified: { 'memory.high': '50000000', 'pids.max': '30' },
    });
    assert.deepEqual(warnings, []);
    assert.equal(read(dir, 'memory.max'), String(64 << 20));
    assert.equal(read(dir, 'memory.low'), String(16 << 20));
    assert.equal(read(dir, 'memory.swap.max'), String(32 << 20));
    assert.equal(read(dir, 'cpu.weight'), '20');
    assert.equal(read(dir, 'cpu.max'), '50000 100000');
    assert.equal(read(dir, 'cpuset.cpus'), '0');
    assert.equal(read(dir, 'io.weight'), String(1 + Math.floor((490 * 9999) / 990)));
    assert.equal(read(dir, 'memory.high'), '50000000');
    assert.equal(read(dir, 'pids.max'), '30', 'unified overrides');

    cg.apply({ cpu: { quota: -1, period: 100000 }, memory: { limit: -1 }, pids: { limit: -1 } });
    assert.equal(read(dir, 'cpu.max'), 'max 100000');
    assert.equal(read(dir, 'memory.max'), 'max');
    assert.equal(read(dir, 'memory.swap.max'), 'max');
    assert.equal(read(dir, 'pids.max'), 'max');
  });

  it('writes io.max per limit, BFQ device weights, hugetlb max (and rsvd), and reports what v2 lacks', () => {
    assert.deepEqual(
      ioMaxWrites({
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 100 }, { major: 8, minor: 16, rate: 0 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 200 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 0, rate: 300 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 400 }],
      }).map((x) => `${x.field} ${x.line}`),
      [
        'blockIO.throttleReadBpsDevice 8:0 rbps=100',
        'blockIO.throttleReadBpsDevice 8:16 rbps=max',
        'blockIO.throttleWriteBpsDevice 8:0 wbps=200',
        'blockIO.throttleReadIOPSDevice 8:0 riops=300',
        'blockIO.throttleWriteIOPSDevice 8:0 wiops=400',
      ],
    );

    const l = fakeHost('v2');
    const cg = openCgroup(l, '/io');
    cg.create();
    const dir = path.join(l.unified!, 'io');
    put(path.join(dir, 'io.bfq.weight'), 'default 100');
    put(path.join(dir, 'hugetlb.2MB.rsvd.max'), 'max');
    const warnings = cg.apply({
      memory: { kernel: 1 << 20, kernelTCP: 1 << 20 },
      blockIO: { leafWeight: 300, weightDevice: [{ major: 8, minor: 0, weight: 400 }], throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 400 }] },
      hugepageLimits: [{ pageSize: '2MB', limit: 2 << 30 }],
      network: { classID: 1 },
    });
    assert.equal(read(dir, 'io.bfq.weight'), '8:0 400');
    assert.equal(read(dir, 'io.max'), '8:0 wiops=400');
    assert.equal(read(dir, 'hugetlb.2MB.max'), String(2 << 30));
    assert.equal(read(dir, 'hugetlb.2MB.rsvd.max'), String(2 << 30));
    assert.deepEqual(warnings.map((w) => w.split(/ (is|ignored)/)[0]), ['memory.kernel', 'memory.kernelTCP', 'blockIO.leafWeight', 'linux.resources.network']);
    assert.throws(() => cg.apply({ hugepageLimits: [{ pageSize: '3MB', limit: 1 }] }), (e: unknown) => e instanceof CgroupError && e.code === 'bad_config');
  });

  it('reports device rules, swappiness and realtime as not supported', () => {
    const l = fakeHost('v2');
    const cg = openCgroup(l, '/d');
    cg.create();
    const warnings = cg.apply({
      devices: [{ allow: false, access: 'rwm' }],
      memory: { swappiness: 5 },
      cpu: { realtimeRuntime: 1 },
    });
    assert.equal(warnings.length, 3);
    assert.match(warnings[0], /device rules are not enforced/);
    assert.throws(() => cg.apply({ unified: { '../escape': '1' } }), (e: unknown) => e instanceof CgroupError && e.code === 'bad_config');
  });
});

describe('freezer', () => {
  it('v1: freeze writes FROZEN and reads it back, thaw returns to THAWED', () => {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/f');
    cg.create();
    const file = path.join(l.controllers.freezer, 'f/freezer.state');
    put(file, 'THAWED\n');
    assert.equal(cg.freezerState(), 'THAWED');
    cg.freeze();
    assert.equal(read(file), 'FROZEN');
    assert.equal(cg.freezerState(), 'FROZEN');
    cg.thaw();
    assert.equal(cg.freezerState(), 'THAWED');
    cg.destroy();
    const notFound = (e: unknown) => e instanceof CgroupError && e.code === 'not_found';
    assert.throws(() => cg.freezerState(), notFound);
    assert.throws(() => cg.freeze(), notFound);
    assert.equal(fs.existsSync(file), false, 'freeze of a removed cgroup must not recreate its files');
  });

  it('v2: freeze waits for "frozen 1" in cgroup.events, thaw for "frozen 0"', () => {
    const l = fakeHost('v2');
    const cg = openCgroup(l, '/f');
    cg.create();
    const dir = path.join(l.unified!, 'f');
    put(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 1\n');
    cg.freeze();
    assert.equal(read(dir, 'cgroup.freeze'), '1');
    assert.equal(cg.freezerState(), 'FROZEN');
    put(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    assert.equal(cg.freezerState(), 'FREEZING');
    cg.thaw();
    assert.equal(read(dir, 'cgroup.freeze'), '0');
    assert.equal(cg.freezerState(), 'THAWED');
  });

  it('v2: a freeze that never completes times out, thaws again and says so', () => {
    const l = fakeHost('v2');
    const cg = openCgroup(l, '/t');
    cg.create();
    const dir = path.join(l.unified!, 't');
    put(path.join(dir, 'cgroup.events'), 'populated 1\nfrozen 0\n');
    const start = Date.now();
    assert.throws(() => cg.freeze(), (e: unknown) => e instanceof CgroupError && e.code === 'sys' && /cannot freeze/.test(e.message));
    assert.ok(Date.now() - start >= 900);
    assert.equal(read(dir, 'cgroup.freeze'), '0');
  });
});

describe('stats', () => {
  it('v1: parses cpuacct, cpu.stat, memory, pids and blkio files', () => {
    const l = fakeHost('hybrid');
    const cg = openCgroup(l, '/s');
    cg.create();
    const at = (c: string, f: string, text: string) => put(path.join(l.controllers[c], 's', f), text);
    at('cpuacct', 'cpuacct.usage', '123456789\n');
    at('cpuacct', 'cpuacct.usage_percpu', '100 200 \n');
    at('cpuacct', 'cpuacct.stat', 'user 3\nsystem 2\n');
    at('cpu', 'cpu.stat', 'nr_periods 10\nnr_throttled 4\nthrottled_time 5000\n');
    at('memory', 'memory.usage_in_bytes', '4096\n');
    at('memory', 'memory.max_usage_in_bytes', '8192\n');
    at('memory', 'memory.limit_in_bytes', '9223372036854771712\n');
    at('memory', 'memory.failcnt', '1\n');
    at('memory', 'memory.stat', 'cache 100\nrss 200\ntotal_cache 100\n');
    at('pids', 'pids.current', '1\n');
    at('pids', 'pids.max', 'max\n');
    at('blkio', 'blkio.throttle.io_service_bytes_recursive', '8:0 Read 4096\n8:0 Write 0\nTotal 4096\n');
    const s = cg.stats();
    assert.equal(s.cpu.usage.total, 123456789);
    assert.deepEqual(s.cpu.usage.percpu, [100, 200]);
    assert.equal(s.cpu.usage.user, 3e7);
    assert.equal(s.cpu.usage.kernel, 2e7);
    assert.deepEqual(s.cpu.throttling, { periods: 10, throttledPeriods: 4, throttledTime: 5000 });
    assert.deepEqual(s.memory.usage, { limit: 9223372036854771712, usage: 4096, max: 8192, failcnt: 1 });
    assert.equal(s.memory.cache, 100);
    assert.equal(s.memory.raw.rss, 200);
    assert.deepEqual(s.memory.swap, { limit: 0, usage: 0, max: 0, failcnt: 0 });
    assert.deepEqual(s.pids, { current: 1, limit: 0 });
    assert.deepEqual(s.blkio.ioServiceBytesRecursive, [
      { major: 8, minor: 0, op: 'Read', value: 4096 },
      { major: 8, minor: 0, op: 'Write', value: 0 },
    ]);
  });

  it('v2: converts usec to ns and reads memory/pids/io', () => {
    const l = fakeHost('v2');
    const cg = openCgroup(l, '/s');
    cg.create();
    const dir = path.join(l.unified!, 's');
    put(path.join(dir, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 3\nnr_throttled 1\nthrottled_usec 7\n');
    put(path.join(dir, 'memory.current'), '4096\n');
    put(path.join(dir, 'memory.max'), 'max\n');
    put(path.join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 2\noom 0\n');
    put(path.join(dir, 'memory.stat'), 'anon 100\nfile 300\n');
    put(path.join(dir, 'pids.current'), '2\n');
    put(path.join(dir, 'pids.max'), '20\n');
    put(path.join(dir, 'io.stat'), '8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n');
    const s = cg.stats();
    assert.deepEqual(s.cpu.usage, { total: 1_500_000, percpu: [], kernel: 500_000, user: 1_000_000 });
    assert.deepEqual(s.cpu.throttling, { periods: 3, throttledPeriods: 1, throttledTime: 7000 });
    assert.equal(s.memory.usage.usage, 4096);
    assert.equal(s.memory.usage.limit, 9223372036854771712);
    assert.equal(s.memory.usage.failcnt, 2);
    assert.equal(s.memory.cache, 300);
    assert.deepEqual(s.pids, { current: 2, limit: 20 });
    assert.deepEqual(s.blkio.ioServicedRecursive, [
      { major: 8, minor: 0, op: 'Read', value: 1 },
      { major: 8, minor: 0, op: 'Write', value: 2 },
    ]);
  });

  it('never throws: a missing cgroup reads as zeros', () => {
    for (const mode of ['hybrid', 'v2'] as const) {
      const s = openCgroup(fakeHost(mode), '/nothing').stats();
      assert.equal(s.cpu.usage.total, 0);
      assert.equal(s.memory.usage.usage, 0);
      assert.deepEqual(s.memory.raw, {});
      assert.deepEqual(s.pids, { current: 0, limit: 0 });
    }
  });
});

describe('warmUpCgroupAttach', () => {
  const waitFor = async (cond: () => boolean) => {
    // A cap, not a timing assertion: a loaded machine's libuv pool can take hundreds of ms.
    for (let i = 0; i < 2000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  };

  it("writes this process's pid to the cgroup it is already in (first hierarchy), so nothing moves", async () => {
    const l = fakeHost('hybrid', '4:cpu:/mine/here\n3:cpuacct:/mine/here\n0::/\n');
    const own = path.join(l.controllers.cpu, 'mine/here');
    fs.mkdirSync(own, { recursive: true });
    warmUpCgroupAttach(l);
    const file = path.join(own, 'cgroup.procs');
    await waitFor(() => fs.existsSync(file) && read(file) !== '');
    assert.equal(read(file), String(process.pid));
    // Nothing was written anywhere else (no container cgroup, no other hierarchy).
    assert.deepEqual(fs.readdirSync(l.controllers.memory), []);
  });

  it('on a pure v2 host, uses the cgroup2 tree; never throws when the file cannot be opened', async () => {
    const l = fakeHost('v2', '0::/svc\n');
    fs.mkdirSync(path.join(l.unified!, 'svc'));
    const file = path.join(l.unified!, 'svc', 'cgroup.procs');
    // One warm-up at a time: while the previous test's write is still in flight (its pool thread can lag on a
    // loaded machine) a call does nothing, so call again until this one has written.
    await waitFor(() => {
      warmUpCgroupAttach(l);
      return fs.existsSync(file) && read(file) !== '';
    });
    assert.equal(read(file), String(process.pid));
    const missing = fakeHost('v2', '0::/not/there\n');
    assert.doesNotThrow(() => warmUpCgroupAttach(missing));
  });
});
