import * as path from 'node:path';
import { CgroupError } from './cgroup-error.js';
import { exists, readKeyValues, readNumber, readText, writeValue } from './fs-util.js';
import { checkHugePageSizes } from './layout.js';
import { THROTTLES, UNLIMITED_MEMORY, writeDeviceLimit } from './v1.js';
import type { BlkioEntry, BlockDevice, CgroupStats, LinuxBlockIoResources, LinuxResources } from './types.js';

/**
 * cgroup v1 cpu.shares (2–262144, default 1024) → v2 cpu.weight (1–10000, default 100), the linear map runc and
 * crun use so both runtimes agree.
 */
export function sharesToWeight(shares: number): number {
  return 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** cgroup v1 blkio.weight (10–1000) → v2 io.weight (1–10000), runc's linear map. */
export function blkioWeightToIoWeight(weight: number): number {
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * OCI memory.swap is memory+swap (the v1 meaning); v2's memory.swap.max is swap alone. Returns the v2 value:
 * -1 unlimited, 0 leave unset, else swap - limit. Throws `bad_config` for combinations v2 cannot express.
 */
export function swapToV2(swap: number | undefined, limit: number | undefined): number {
  const s = swap ?? 0;
  const m = limit ?? 0;
  // As on v1: unlimited memory with swap unset means unlimited swap, not whatever was there before.
  if (m === -1 && s === 0) return -1;
  if (s === -1 || s === 0) return s;
  if (m === 0 || m === -1) {
    throw new CgroupError('bad_config', `memory.swap ${s} needs a memory.limit on cgroup v2 (swap there is counted apart from memory): set memory.limit`);
  }
  if (s < m) {
    throw new CgroupError('bad_config', `memory.swap (${s}) is memory+swap and must be >= memory.limit (${m}): raise it or use -1`);
  }
  return s - m;
}

/**
 * The io.max writes for the OCI throttle lists, in spec order: one line per limit, since the kernel keeps the
 * keys a line does not name. A rate of 0 (v1: "remove the limit") is "max".
 */
export function ioMaxWrites(b: LinuxBlockIoResources): { device: BlockDevice; field: string; line: string }[] {
  const out: { device: BlockDevice; field: string; line: string }[] = [];
  for (const [key, , ioKey] of THROTTLES) {
    for (const d of b[key] ?? []) {
      out.push({ device: d, field: `blockIO.${key}`, line: `${d.major}:${d.minor} ${ioKey}=${d.rate > 0 ? d.rate : 'max'}` });
    }
  }
  return out;
}

/** A byte/count limit as v2 writes it: -1 → "max". */
function limitStr(n: number): string {
  return n < 0 ? 'max' : String(n);
}

function set(n: number | undefined): n is number {
  return n !== undefined && n !== 0;
}

/** Checks what can be checked before the first write, so a bad config changes nothing. */
export function validateV2(r: LinuxResources, hugePageSizes: string[]): void {
  swapToV2(r.memory?.swap, r.memory?.limit);
  checkHugePageSizes(r.hugepageLimits, hugePageSizes);
  for (const key of Object.keys(r.unified ?? {})) {
    if (!/^[a-z_]+\.[A-Za-z0-9_.]+$/.test(key)) {
      throw new CgroupError('bad_config', `linux.resources.unified key "${key}" is not a cgroup file name like "memory.high"`);
    }
  }
}

/**
 * Applies OCI resources to one v2 cgroup dir; returns warnings for what v2 cannot do here.
 * Device rules are NOT enforced on v2 (that needs an eBPF program, not implemented yet): they produce a warning,
 * not an error, so containers still start — the container keeps its parent's device access.
 */
export function applyV2(dir: string, fake: boolean, r: LinuxResources, hugePageSizes: string[]): string[] {
  validateV2(r, hugePageSizes);
  const warnings: string[] = [];
  const w = (file: string, value: string | number): void => writeValue(path.join(dir, file), String(value), fake);

  const cpu = r.cpu;
  if (cpu?.cpus) w('cpuset.cpus', cpu.cpus);
  if (cpu?.mems) w('cpuset.mems', cpu.mems);

  if (r.devices && r.devices.length > 0) {
    warnings.push('device rules are not enforced on cgroup v2 yet (needs an eBPF device program): the container keeps its parent cgroup\'s device access');
  }

  const mem = r.memory;
  if (mem) {
    const swap = swapToV2(mem.swap, mem.limit);
    if (swap !== 0) {
      if (exists(path.join(dir, 'memory.swap.max'))) w('memory.swap.max', limitStr(swap));
      else if (swap !== -1) warnings.push('memory.swap not applied: swap accounting is off in this kernel (no memory.swap.max)');
    }
    if (set(mem.limit)) w('memory.max', limitStr(mem.limit));
    if (set(mem.reservation)) w('memory.low', limitStr(mem.reservation));
    if (mem.swappiness !== undefined && mem.swappiness !== -1) warnings.push('memory.swappiness is not supported on cgroup v2: ignored');
    if (mem.disableOOMKiller) warnings.push('memory.disableOOMKiller is not supported on cgroup v2: ignored');
    if (set(mem.kernel)) warnings.push('memory.kernel ignored: kernel memory limits are deprecated (Linux 5.4) and do not exist on cgroup v2; remove it');
    if (set(mem.kernelTCP)) warnings.push('memory.kernelTCP is not supported on cgroup v2 (TCP memory is part of memory.max there): ignored');
  }

  if (cpu) {
    if (set(cpu.shares)) w('cpu.weight', sharesToWeight(cpu.shares));
    if (set(cpu.quota) || set(cpu.period)) {
      // Without a period the kernel keeps the current one.
      let value = cpu.quota !== undefined && cpu.quota > 0 ? String(cpu.quota) : 'max';
      if (set(cpu.period)) value += ` ${cpu.period}`;
      w('cpu.max', value);
    }
    if (set(cpu.realtimeRuntime) || set(cpu.realtimePeriod)) {
      warnings.push('cpu.realtimeRuntime/realtimePeriod are not supported on cgroup v2: ignored');
    }
  }

  if (r.pids?.limit !== undefined) w('pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max');

  const b = r.blockIO;
  if (b) {
    // BFQ keeps the v1 scale; the generic io.weight uses 1–10000. Per-device weights exist only with BFQ (runc's
    // rule: io.weight's per-device form belongs to the io.cost model, a different scale).
    const bfq = exists(path.join(dir, 'io.bfq.weight'));
    if (set(b.weight)) {
      if (bfq) w('io.bfq.weight', b.weight);
      else w('io.weight', blkioWeightToIoWeight(b.weight));
    }
    if (set(b.leafWeight)) warnings.push('blockIO.leafWeight is not supported on cgroup v2: ignored');
    for (const d of b.weightDevice ?? []) {
      if (set(d.weight)) {
        if (bfq) w('io.bfq.weight', `${d.major}:${d.minor} ${d.weight}`);
        else warnings.push(`blockIO.weightDevice ${d.major}:${d.minor} not applied: per-device weights need the BFQ scheduler (no io.bfq.weight)`);
      }
      if (set(d.leafWeight)) warnings.push(`blockIO.weightDevice ${d.major}:${d.minor} leafWeight is not supported on cgroup v2: ignored`);
    }
    for (const x of ioMaxWrites(b)) writeDeviceLimit(() => w('io.max', x.line), x.device, x.field);
  }

  for (const h of r.hugepageLimits ?? []) {
    w(`hugetlb.${h.pageSize}.max`, h.limit);
    // See v1: the reservation limit (Linux 5.7) where the kernel has it.
    const rsvd = `hugetlb.${h.pageSize}.rsvd.max`;
    if (exists(path.join(dir, rsvd))) w(rsvd, h.limit);
  }

  if (r.network && (r.network.classID !== undefined || (r.network.priorities?.length ?? 0) > 0)) {
    warnings.push('linux.resources.network is not supported on cgroup v2 (net_cls/net_prio are v1 controllers): ignored');
  }

  // Raw files last, so they override anything above (runc's order).
  for (const [key, value] of Object.entries(r.unified ?? {})) w(key, value);
  return warnings;
}

/** Parses io.stat lines ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 …") into runc's v1-shaped blkio entries. */
export function parseIoStat(text: string | undefined): { bytes: BlkioEntry[]; ios: BlkioEntry[] } {
  const bytes: BlkioEntry[] = [];
  const ios: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...kvs] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const major = Number(m[1]);
    const minor = Number(m[2]);
    for (const kv of kvs) {
      const [k, v] = kv.split('=');
      const value = Number(v);
      if (!Number.isFinite(value)) continue;
      if (k === 'rbytes') bytes.push({ major, minor, op: 'Read', value });
      else if (k === 'wbytes') bytes.push({ major, minor, op: 'Write', value });
      else if (k === 'rios') ios.push({ major, minor, op: 'Read', value });
      else if (k === 'wios') ios.push({ major, minor, op: 'Write', value });
    }
  }
  return { bytes, ios };
}

/** Reads runc-shaped stats from v2 files; missing files read as zero. */
export function statsV2(dir: string): CgroupStats {
  const f = (name: string): string => path.join(dir, name);
  const cpuStat = readKeyValues(f('cpu.stat'));
  const raw = readKeyValues(f('memory.stat'));
  const events = readKeyValues(f('memory.events'));
  const usage = {
    limit: readNumber(f('memory.max'), UNLIMITED_MEMORY),
    usage: readNumber(f('memory.current')),
    max: readNumber(f('memory.peak')),
    failcnt: events.max ?? 0,
  };
  // v1 reports swap as memory+swap; do the same so consumers see one meaning on both versions.
  const swapLimit = readNumber(f('memory.swap.max'), UNLIMITED_MEMORY);
  const swap = {
    limit: exists(f('memory.swap.max'))
      ? swapLimit === UNLIMITED_MEMORY || usage.limit === UNLIMITED_MEMORY
        ? UNLIMITED_MEMORY
        : swapLimit + usage.limit
      : 0,
    usage: exists(f('memory.swap.current')) ? readNumber(f('memory.swap.current')) + usage.usage : 0,
    max: exists(f('memory.swap.peak')) ? readNumber(f('memory.swap.peak')) + usage.max : 0,
    failcnt: readKeyValues(f('memory.swap.events')).max ?? 0,
  };
  const io = parseIoStat(readText(f('io.stat')));
  return {
    cpu: {
      usage: {
        total: (cpuStat.usage_usec ?? 0) * 1000,
        percpu: [],
        kernel: (cpuStat.system_usec ?? 0) * 1000,
        user: (cpuStat.user_usec ?? 0) * 1000,
      },
      throttling: {
        periods: cpuStat.nr_periods ?? 0,
        throttledPeriods: cpuStat.nr_throttled ?? 0,
        throttledTime: (cpuStat.throttled_usec ?? 0) * 1000,
      },
    },
    memory: {
      cache: raw.file ?? 0,
      usage,
      swap,
      kernel: { limit: 0, usage: raw.kernel ?? 0, max: 0, failcnt: 0 },
      raw,
    },
    pids: { current: readNumber(f('pids.current')), limit: readNumber(f('pids.max'), 0) },
    blkio: { ioServiceBytesRecursive: io.bytes, ioServicedRecursive: io.ios },
  };
}
