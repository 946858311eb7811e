// linux.resources beyond memory/cpu/pids (what the OCI conformance suite's cgroup files set), applied by real
// `runts create` runs and read back from the kernel's cgroup files. Written for v1/hybrid hosts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox, assertNoLeftovers, isRoot } from '../helpers/runts.js';
import { detectLayout } from '../../src/linux/cgroups/index.js';
import type { Spec } from '../../src/oci/types.js';

const layout = isRoot ? detectLayout() : undefined;
const skip = !isRoot ? 'needs root: real containers' : layout!.mode === 'v2' ? 'written for v1/hybrid hosts (this one is v2)' : false;

const MiB = 1024 * 1024;
const read = (file: string): string => readFileSync(file, 'utf8').trim();

/** A whole block device of this host ("254:0"), from /sys/block. */
function someBlockDevice(): { major: number; minor: number } {
  for (const name of readdirSync('/sys/block')) {
    const [major, minor] = read(`/sys/block/${name}/dev`).split(':').map(Number);
    // Skip zram/loop style devices that may have no queue for throttling: any disk with a size will do.
    if (Number(read(`/sys/block/${name}/size`)) > 0) return { major, minor };
  }
  throw new Error('this host has no block device with a size');
}

describe('cgroup resources on the real host', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  /** `runts create` with `edit` applied; the runtime's log (warnings) goes to a file the result carries. */
  const create = (name: string, edit: (s: Spec) => void) => {
    const id = sb.id(name);
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['sleep', '100'];
      edit(s);
    });
    const log = join(sb.dir, `${id}.log`);
    const r = sb.runts(['--log', log, 'create', '--bundle', bundle, id]);
    return { id, bundle, r, log: existsSync(log) ? readFileSync(log, 'utf8') : '' };
  };
  const dirOf = (controller: string, id: string): string => join(layout!.controllers[controller], sb.cgroupParent, id);

  test('memory.kernelTCP is written to memory.kmem.tcp.limit_in_bytes; memory.kernel is ignored, with a warning', () => {
    const { id, r, log } = create('kmem', (s) => {
      s.linux!.resources = { memory: { limit: 64 * MiB, kernel: 32 * MiB, kernelTCP: 16 * MiB } };
    });
    assert.equal(r.status, 0, r.stderr);
    const mem = dirOf('memory', id);
    assert.equal(read(join(mem, 'memory.limit_in_bytes')), String(64 * MiB));
    assert.equal(read(join(mem, 'memory.kmem.tcp.limit_in_bytes')), String(16 * MiB));
    if (existsSync(join(mem, 'memory.kmem.limit_in_bytes'))) {
      assert.notEqual(read(join(mem, 'memory.kmem.limit_in_bytes')), String(32 * MiB), 'kernel memory is never written');
    }
    assert.match(log, /memory\.kernel ignored/);
  });

  test('blockIO throttles reach the blkio.throttle files for a real device; weights the scheduler lacks are reported', () => {
    const d = someBlockDevice();
    const { id, r, log } = create('blkio', (s) => {
      s.linux!.resources = {
        blockIO: {
          weight: 500,
          throttleReadBpsDevice: [{ ...d, rate: 1 * MiB }],
          throttleWriteBpsDevice: [{ ...d, rate: 2 * MiB }],
          throttleReadIOPSDevice: [{ ...d, rate: 300 }],
          throttleWriteIOPSDevice: [{ ...d, rate: 400 }],
        },
      };
    });
    assert.equal(r.status, 0, r.stderr);
    const blkio = dirOf('blkio', id);
    const dev = `${d.major}:${d.minor}`;
    assert.equal(read(join(blkio, 'blkio.throttle.read_bps_device')), `${dev} ${1 * MiB}`);
    assert.equal(read(join(blkio, 'blkio.throttle.write_bps_device')), `${dev} ${2 * MiB}`);
    assert.equal(read(join(blkio, 'blkio.throttle.read_iops_device')), `${dev} 300`);
    assert.equal(read(join(blkio, 'blkio.throttle.write_iops_device')), `${dev} 400`);
    const weightFile = ['blkio.weight', 'blkio.bfq.weight'].find((f) => existsSync(join(blkio, f)));
    if (weightFile) assert.match(read(join(blkio, weightFile)), /500/);
    else assert.match(log, /blockIO\.weight not applied/);
  });

  test('a throttle on a block device the host lacks fails create with one line naming the field; nothing is left', () => {
    const d = someBlockDevice();
    // The largest minor number (20 bits): no such device exists next to a real disk.
    const missing = { major: d.major, minor: 1048575 };
    assert.equal(existsSync(`/sys/dev/block/${missing.major}:${missing.minor}`), false);
    const { id, bundle, r } = create('nodev', (s) => {
      s.linux!.resources = { blockIO: { throttleReadBpsDevice: [{ ...missing, rate: MiB }] } };
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, new RegExp(`blockIO\\.throttleReadBpsDevice names block device ${missing.major}:${missing.minor}, which does not exist`));
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assertNoLeftovers(sb, id, bundle);
  });

  test('a huge page size the kernel does not have fails create before anything is made', () => {
    const { id, bundle, r } = create('huge3', (s) => {
      s.linux!.resources = { hugepageLimits: [{ pageSize: '3MB', limit: 300 * MiB }] };
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /hugepageLimits pageSize "3MB" is not a huge page size of this host/);
    assertNoLeftovers(sb, id, bundle);
  });

  test('hugepageLimits and network are applied where their v1 controller is mounted, else reported', () => {
    const sizes = readdirSync('/sys/kernel/mm/hugepages').map((n) => /^hugepages-(\d+)kB$/.exec(n)?.[1]).filter(Boolean);
    const kb = Number(sizes[0] ?? 2048);
    const pageSize = kb >= 1024 * 1024 ? `${kb / (1024 * 1024)}GB` : kb >= 1024 ? `${kb / 1024}MB` : `${kb}KB`;
    const { id, r, log } = create('hugenet', (s) => {
      s.linux!.resources = {
        ...(sizes.length ? { hugepageLimits: [{ pageSize, limit: 2 * 1024 * MiB }] } : {}),
        network: { classID: 0x100001, priorities: [{ name: 'lo', priority: 7 }] },
      };
    });
    assert.equal(r.status, 0, r.stderr);
    if (sizes.length) {
      if (layout!.controllers.hugetlb) assert.equal(read(join(dirOf('hugetlb', id), `hugetlb.${pageSize}.limit_in_bytes`)), String(2 * 1024 * MiB));
      else assert.match(log, /hugepageLimits not applied: the hugetlb cgroup controller is not mounted/);
    }
    if (layout!.controllers.net_cls) assert.equal(read(join(dirOf('net_cls', id), 'net_cls.classid')), String(0x100001));
    else assert.match(log, /network\.classID not applied: the net_cls cgroup controller is not mounted/);
    if (layout!.controllers.net_prio) assert.match(read(join(dirOf('net_prio', id), 'net_prio.ifpriomap')), /^lo 7$/m);
    else assert.match(log, /network\.priorities not applied: the net_prio cgroup controller is not mounted/);
  });
});
