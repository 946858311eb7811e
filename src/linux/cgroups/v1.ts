import * as path from 'node:path';
import { CgroupError } from './cgroup-error.js';
import { exists, readKeyValues, readNumber, readText, writeValue } from './fs-util.js';
import { checkHugePageSizes } from './layout.js';
import type { BlkioEntry, CgroupStats, LinuxBlockIoResources, LinuxDeviceRule, LinuxResources, MemoryEntry } from './types.js';

/** How the v1 code reaches the filesystem: the leaf dir of a controller (undefined when not mounted). */
export interface V1Dirs {
  dir(controller: string): string | undefined;
  isFake(dir: string): boolean;
  /** The kernel's huge page sizes ("2MB"), to refuse a hugepageLimits size before the first write. */
  hugePageSizes: string[];
}

/** One write the v1 devices controller needs, in order. */
export interface DeviceWrite {
  file: 'devices.allow' | 'devices.deny';
  value: string;
}

/** Formats one OCI device rule the way devices.allow/deny parse it ("c 1:3 rwm", "a"). */
export function formatDeviceRule(rule: LinuxDeviceRule): string {
  const type = rule.type ?? 'a';
  if (!['a', 'b', 'c'].includes(type)) {
    throw new CgroupError('bad_config', `invalid device rule type "${type}": use "a", "b" or "c" in linux.resources.devices`);
  }
  const access = rule.access ?? 'rwm';
  if (!/^[rwm]+$/.test(access)) {
    throw new CgroupError('bad_config', `invalid device rule access "${access}": use a combination of r, w and m in linux.resources.devices`);
  }
  // The kernel reads "a" as "every device, every access" and ignores the rest of the line.
  if (type === 'a') return 'a';
  const num = (n: number | undefined): string => (n === undefined || n < 0 ? '*' : String(n));
  return `${type} ${num(rule.major)}:${num(rule.minor)} ${access}`;
}

/**
 * The devices.allow / devices.deny writes for the OCI rules, in spec order. The kernel applies each write to the
 * current list, so writing in order gives the OCI meaning: a leading "deny all" ("a" to devices.deny) switches the
 * cgroup to default-deny and clears the inherited list, then each allow adds one exception.
 */
export function v1DeviceWrites(rules: LinuxDeviceRule[]): DeviceWrite[] {
  return rules.map((r) => ({ file: r.allow ? 'devices.allow' : 'devices.deny', value: formatDeviceRule(r) }));
}

function set(n: number | undefined): n is number {
  return n !== undefined && n !== 0;
}

/** Checks what can be checked before the first write, so a bad config changes nothing. */
export function validateV1(r: LinuxResources, mode: string, hugePageSizes: string[]): void {
  checkHugePageSizes(r.hugepageLimits, hugePageSizes);
  if (r.unified && Object.keys(r.unified).length > 0) {
    throw new CgroupError('bad_config', `linux.resources.unified needs cgroup v2 but this host uses ${mode} cgroups: remove it or use memory/cpu/pids fields`);
  }
  const m = r.memory;
  if (m && set(m.limit) && set(m.swap) && m.limit > 0 && m.swap > 0 && m.swap < m.limit) {
    throw new CgroupError('bad_config', `memory.swap (${m.swap}) is memory+swap and must be >= memory.limit (${m.limit}): raise it or use -1`);
  }
  if (m?.swappiness !== undefined && m.swappiness !== -1 && (m.swappiness < 0 || m.swappiness > 100)) {
    throw new CgroupError('bad_config', `memory.swappiness ${m.swappiness} is out of range: use 0-100`);
  }
  for (const rule of r.devices ?? []) formatDeviceRule(rule);
}

/** Applies OCI resources on cgroup v1; returns warnings for what this host cannot apply. */
export function applyV1(dirs: V1Dirs, r: LinuxResources, mode: string): string[] {
  validateV1(r, mode, dirs.hugePageSizes);
  const warnings: string[] = [];
  const w = (dir: string, file: string, value: string | number): void =>
    writeValue(path.join(dir, file), String(value), dirs.isFake(dir));
  const need = (controller: string, what: string): string | undefined => {
    const dir = dirs.dir(controller);
    if (!dir) warnings.push(`${what} not applied: the ${controller} cgroup controller is not mounted`);
    return dir;
  };

  const cpu = r.cpu;
  if (cpu?.cpus || cpu?.mems) {
    const dir = need('cpuset', 'cpu.cpus/cpu.mems');
    if (dir) {
      if (cpu.cpus) w(dir, 'cpuset.cpus', cpu.cpus);
      if (cpu.mems) w(dir, 'cpuset.mems', cpu.mems);
    }
  }

  if (r.devices && r.devices.length > 0) {
    const dir = need('devices', 'device rules');
    if (dir) for (const d of v1DeviceWrites(r.devices)) w(dir, d.file, d.value);
  }

  const mem = r.memory;
  if (mem) {
    const dir = need('memory', 'memory limits');
    if (dir) applyMemoryV1(dir, mem, w, warnings);
  }

  if (cpu && (set(cpu.shares) || set(cpu.quota) || set(cpu.period) || set(cpu.realtimeRuntime) || set(cpu.realtimePeriod))) {
    const dir = need('cpu', 'cpu limits');
    if (dir) {
      if (set(cpu.shares)) {
        w(dir, 'cpu.shares', cpu.shares);
        // The kernel clamps shares to [2, 262144] without an error; say so instead of pretending.
        const actual = readNumber(path.join(dir, 'cpu.shares'));
        if (actual !== cpu.shares) warnings.push(`cpu.shares ${cpu.shares} was clamped by the kernel to ${actual}`);
      }
      let retryPeriod = false;
      if (set(cpu.period)) {
        try {
          w(dir, 'cpu.cfs_period_us', cpu.period);
        } catch (e) {
          // A shorter period can be refused (EINVAL) while the old quota/new period exceeds the parent's
          // bandwidth; once the new quota is in, it fits.
          if (!set(cpu.quota)) throw e;
          retryPeriod = true;
        }
      }
      if (set(cpu.quota)) {
        w(dir, 'cpu.cfs_quota_us', cpu.quota);
        if (retryPeriod && cpu.period !== undefined) w(dir, 'cpu.cfs_period_us', cpu.period);
      }
      // The realtime period must be in place before the runtime that has to fit into it.
      if (set(cpu.realtimePeriod)) w(dir, 'cpu.rt_period_us', cpu.realtimePeriod);
      if (set(cpu.realtimeRuntime)) w(dir, 'cpu.rt_runtime_us', cpu.realtimeRuntime);
    }
  }

  if (r.pids?.limit !== undefined) {
    const dir = need('pids', 'pids.limit');
    if (dir) w(dir, 'pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max');
  }

  if (r.blockIO && hasBlockIo(r.blockIO)) {
    const dir = need('blkio', 'blockIO limits');
    if (dir) applyBlkioV1(dir, r.blockIO, w, warnings);
  }

  if (r.hugepageLimits && r.hugepageLimits.length > 0) {
    const dir = need('hugetlb', 'hugepageLimits');
    if (dir) {
      // The reservation limit (Linux 5.7) also caps pages reserved by mmap but not yet faulted in; without it a
      // task can reserve past the limit and be SIGBUSed at fault time. Written where the kernel has it, as runc.
      for (const h of r.hugepageLimits) {
        w(dir, `hugetlb.${h.pageSize}.limit_in_bytes`, h.limit);
        const rsvd = `hugetlb.${h.pageSize}.rsvd.limit_in_bytes`;
        if (exists(path.join(dir, rsvd))) w(dir, rsvd, h.limit);
      }
    }
  }

  const net = r.network;
  if (net?.classID !== undefined) {
    const dir = need('net_cls', 'network.classID');
    if (dir) w(dir, 'net_cls.classid', net.classID);
  }
  if (net?.priorities && net.priorities.length > 0) {
    const dir = need('net_prio', 'network.priorities');
    // The kernel parses one "<ifname> <prio>" per write and looks the name up among the host's (init netns)
    // interfaces, whatever the container's network namespace.
    if (dir) {
      for (const p of net.priorities) {
        try {
          w(dir, 'net_prio.ifpriomap', `${p.name} ${p.priority}`);
        } catch (e) {
          if ((e as { cause?: NodeJS.ErrnoException }).cause?.code !== 'ENODEV') throw e;
          throw new CgroupError('bad_config', `linux.resources.network.priorities names interface "${p.name}", which the host does not have: fix or remove it`, { cause: e });
        }
      }
    }
  }
  return warnings;
}

function hasBlockIo(b: LinuxBlockIoResources): boolean {
  return (
    set(b.weight) ||
    set(b.leafWeight) ||
    [b.weightDevice, b.throttleReadBpsDevice, b.throttleWriteBpsDevice, b.throttleReadIOPSDevice, b.throttleWriteIOPSDevice]
      .some((list) => list !== undefined && list.length > 0)
  );
}

/** The four throttle lists with their v1 file suffix and v2 io.max key, in spec order. */
export const THROTTLES = [
  ['throttleReadBpsDevice', 'read_bps_device', 'rbps'],
  ['throttleWriteBpsDevice', 'write_bps_device', 'wbps'],
  ['throttleReadIOPSDevice', 'read_iops_device', 'riops'],
  ['throttleWriteIOPSDevice', 'write_iops_device', 'wiops'],
] as const;

/**
 * blkio on v1. Weights: CFQ (gone since Linux 5.0) had blkio.weight, blkio.leaf_weight and their _device files;
 * BFQ has blkio.bfq.weight and blkio.bfq.weight_device and no leaf weights; with neither scheduler there are no
 * weight files and the weights are reported as not applied. Throttling is scheduler-independent.
 */
function applyBlkioV1(
  dir: string,
  b: LinuxBlockIoResources,
  w: (dir: string, file: string, value: string | number) => void,
  warnings: string[],
): void {
  const bfq = exists(path.join(dir, 'blkio.bfq.weight'));
  const weightFile = bfq ? 'blkio.bfq.weight' : 'blkio.weight';
  const weightDeviceFile = bfq ? 'blkio.bfq.weight_device' : 'blkio.weight_device';
  const has = (file: string): boolean => exists(path.join(dir, file));
  if (set(b.weight)) {
    if (has(weightFile)) w(dir, weightFile, b.weight);
    else warnings.push('blockIO.weight not applied: neither blkio.weight nor blkio.bfq.weight exists (no CFQ/BFQ scheduler)');
  }
  if (set(b.leafWeight)) {
    if (has('blkio.leaf_weight')) w(dir, 'blkio.leaf_weight', b.leafWeight);
    else warnings.push('blockIO.leafWeight not applied: blkio.leaf_weight exists only with the CFQ scheduler (removed in Linux 5.0)');
  }
  for (const d of b.weightDevice ?? []) {
    if (set(d.weight)) {
      if (has(weightDeviceFile)) w(dir, weightDeviceFile, `${d.major}:${d.minor} ${d.weight}`);
      else warnings.push(`blockIO.weightDevice ${d.major}:${d.minor} weight not applied: no ${weightDeviceFile} (no CFQ/BFQ scheduler)`);
    }
    if (set(d.leafWeight)) {
      if (has('blkio.leaf_weight_device')) w(dir, 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
      else warnings.push(`blockIO.weightDevice ${d.major}:${d.minor} leafWeight not applied: blkio.leaf_weight_device exists only with the CFQ scheduler`);
    }
  }
  for (const [key, suffix] of THROTTLES) {
    const file = `blkio.throttle.${suffix}`;
    for (const d of b[key] ?? []) {
      if (!has(file)) {
        warnings.push(`blockIO.${key} not applied: no ${file} (kernel built without CONFIG_BLK_DEV_THROTTLING)`);
        break;
      }
      writeDeviceLimit(() => w(dir, file, `${d.major}:${d.minor} ${d.rate}`), d, `blockIO.${key}`);
    }
  }
}

/** Runs one per-device write; the kernel's ENODEV (no such block device) becomes an error naming the field. */
export function writeDeviceLimit(write: () => void, d: { major: number; minor: number }, field: string): void {
  try {
    write();
  } catch (e) {
    if ((e as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENODEV') {
      throw new CgroupError('bad_config', `linux.resources.${field} names block device ${d.major}:${d.minor}, which does not exist on this host: fix or remove it`, { cause: e });
    }
    throw e;
  }
}

function applyMemoryV1(
  dir: string,
  mem: NonNullable<LinuxResources['memory']>,
  w: (dir: string, file: string, value: string | number) => void,
  warnings: string[],
): void {
  const hasMemsw = exists(path.join(dir, 'memory.memsw.limit_in_bytes'));
  const limit = mem.limit ?? 0;
  let swap = mem.swap ?? 0;
  // "Unlimited memory" with swap unset means unlimited memory+swap too, or the old memsw limit would cap it.
  if (limit === -1 && swap === 0 && hasMemsw) swap = -1;
  const writeSwap = (): void => {
    if (swap === 0) return;
    if (hasMemsw) w(dir, 'memory.memsw.limit_in_bytes', swap);
    else warnings.push('memory.swap not applied: swap accounting is off in this kernel (no memory.memsw.limit_in_bytes)');
  };
  const writeLimit = (): void => {
    if (limit !== 0) w(dir, 'memory.limit_in_bytes', limit);
  };
  // The kernel keeps limit <= memsw at every step. Raising: memsw first, or the new limit exceeds the old memsw.
  // Lowering: limit first, or the new memsw drops below the old limit.
  const current = readNumber(path.join(dir, 'memory.limit_in_bytes'));
  if (limit !== 0 && swap !== 0 && (swap === -1 || current < swap)) {
    writeSwap();
    writeLimit();
  } else {
    writeLimit();
    writeSwap();
  }
  if (set(mem.reservation)) w(dir, 'memory.soft_limit_in_bytes', mem.reservation);
  if (set(mem.kernel)) {
    warnings.push('memory.kernel ignored: kernel memory limits are deprecated (Linux 5.4, no effect since 6.1); remove it');
  }
  if (set(mem.kernelTCP)) {
    if (exists(path.join(dir, 'memory.kmem.tcp.limit_in_bytes'))) w(dir, 'memory.kmem.tcp.limit_in_bytes', mem.kernelTCP);
    else warnings.push('memory.kernelTCP not applied: this kernel has no memory.kmem.tcp.limit_in_bytes');
  }
  if (mem.swappiness !== undefined && mem.swappiness !== -1) w(dir, 'memory.swappiness', mem.swappiness);
  if (mem.disableOOMKiller) w(dir, 'memory.oom_control', '1');
}

/** v1 "unlimited" memory (PAGE_COUNTER_MAX pages of 4 KiB): also what v2 "max" reads as, for one shape. */
export const UNLIMITED_MEMORY = 9223372036854771712;

/** USER_HZ: cpuacct.stat counts in clock ticks of 1/100 s. */
const NS_PER_TICK = 1e9 / 100;

function memoryEntry(dir: string, prefix: string): MemoryEntry {
  const f = (name: string): string => path.join(dir, `${prefix}.${name}`);
  return {
    limit: readNumber(f('limit_in_bytes'), UNLIMITED_MEMORY),
    usage: readNumber(f('usage_in_bytes')),
    max: readNumber(f('max_usage_in_bytes')),
    failcnt: readNumber(f('failcnt')),
  };
}

/** Parses blkio "8:0 Read 4096" lines; the "Total" line has no device and is skipped. */
export function parseBlkioV1(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, op, value] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m || !op || value === undefined) continue;
    out.push({ major: Number(m[1]), minor: Number(m[2]), op, value: Number(value) });
  }
  return out;
}

/** Reads runc-shaped stats from v1 files; missing files read as zero. */
export function statsV1(dirs: V1Dirs): CgroupStats {
  const cpuacct = dirs.dir('cpuacct');
  const cpu = dirs.dir('cpu');
  const memory = dirs.dir('memory');
  const pids = dirs.dir('pids');
  const blkio = dirs.dir('blkio');

  const acctStat = cpuacct ? readKeyValues(path.join(cpuacct, 'cpuacct.stat')) : {};
  const cpuStat = cpu ? readKeyValues(path.join(cpu, 'cpu.stat')) : {};
  const percpu = cpuacct ? (readText(path.join(cpuacct, 'cpuacct.usage_percpu')) ?? '') : '';
  const raw = memory ? readKeyValues(path.join(memory, 'memory.stat')) : {};
  const zeroEntry = (): MemoryEntry => ({ limit: 0, usage: 0, max: 0, failcnt: 0 });

  // CFQ fills blkio.io_*; with other schedulers only the throttle.* counters have data.
  const blkioFile = (name: string): BlkioEntry[] => {
    if (!blkio) return [];
    const cfq = parseBlkioV1(readText(path.join(blkio, `blkio.${name}`)));
    return cfq.length > 0 ? cfq : parseBlkioV1(readText(path.join(blkio, `blkio.throttle.${name}`)));
  };

  return {
    cpu: {
      usage: {
        total: cpuacct ? readNumber(path.join(cpuacct, 'cpuacct.usage')) : 0,
        percpu: percpu.split(/\s+/).filter(Boolean).map(Number),
        kernel: (acctStat.system ?? 0) * NS_PER_TICK,
        user: (acctStat.user ?? 0) * NS_PER_TICK,
      },
      throttling: {
        periods: cpuStat.nr_periods ?? 0,
        throttledPeriods: cpuStat.nr_throttled ?? 0,
        throttledTime: cpuStat.throttled_time ?? 0,
      },
    },
    memory: {
      cache: raw.cache ?? 0,
      usage: memory ? memoryEntry(memory, 'memory') : zeroEntry(),
      swap: memory && exists(path.join(memory, 'memory.memsw.usage_in_bytes')) ? memoryEntry(memory, 'memory.memsw') : zeroEntry(),
      kernel: memory ? memoryEntry(memory, 'memory.kmem') : zeroEntry(),
      raw,
    },
    pids: {
      current: pids ? readNumber(path.join(pids, 'pids.current')) : 0,
      limit: pids ? readNumber(path.join(pids, 'pids.max'), 0) : 0,
    },
    blkio: {
      ioServiceBytesRecursive: blkioFile('io_service_bytes_recursive'),
      ioServicedRecursive: blkioFile('io_serviced_recursive'),
    },
  };
}
