/**
 * The subset of the OCI runtime spec's `linux.resources` that the cgroup manager applies. Field names and shapes
 * follow the spec (config-linux.md) and every field is optional, so the full OCI type from src/oci/types.ts can
 * be passed straight in.
 */

/** How the cgroup filesystems are mounted on this host. */
export type CgroupMode = 'v1' | 'v2' | 'hybrid';

/** What a freezer reports. FREEZING is the transient state while the kernel stops every task. */
export type FreezerState = 'FROZEN' | 'THAWED' | 'FREEZING';

/** One OCI device cgroup rule (`linux.resources.devices[]`). */
export interface LinuxDeviceRule {
  allow: boolean;
  /** 'a' (all, the default), 'c' or 'b'. */
  type?: string;
  /** Omitted or -1 means every major (`*`). */
  major?: number;
  /** Omitted or -1 means every minor (`*`). */
  minor?: number;
  /** Any of r, w, m; omitted means "rwm". */
  access?: string;
}

export interface LinuxMemoryResources {
  /** Bytes; -1 unlimited; 0 or omitted leaves it unchanged. */
  limit?: number;
  /** Soft limit in bytes (v1 memory.soft_limit_in_bytes, v2 memory.low). */
  reservation?: number;
  /** memory + swap in bytes, as in cgroup v1 (converted to swap only on v2); -1 unlimited. */
  swap?: number;
  /** Deprecated by the spec and by Linux (5.4; writes are no-ops since 6.1): ignored with a warning, as runc. */
  kernel?: number;
  /** TCP buffer memory in bytes (v1 memory.kmem.tcp.limit_in_bytes; v2 has no such limit); -1 unlimited. */
  kernelTCP?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

export interface LinuxCpuResources {
  shares?: number;
  /** Microseconds per period; -1 unlimited. */
  quota?: number;
  period?: number;
  realtimeRuntime?: number;
  realtimePeriod?: number;
  cpus?: string;
  mems?: string;
}

export interface LinuxPidsResources {
  /** ≤ 0 means unlimited ("max"). */
  limit?: number;
}

/** One block device, by major:minor. */
export interface BlockDevice {
  major: number;
  minor: number;
}

export interface LinuxBlockIoResources {
  /** 10–1000 as in cgroup v1 blkio.weight. */
  weight?: number;
  /** 10–1000, CFQ only (v1 blkio.leaf_weight): the weight of the cgroup's own tasks against its children. */
  leafWeight?: number;
  weightDevice?: (BlockDevice & { weight?: number; leafWeight?: number })[];
  /** Bytes or IOs per second per device; 0 removes the device's limit. */
  throttleReadBpsDevice?: (BlockDevice & { rate: number })[];
  throttleWriteBpsDevice?: (BlockDevice & { rate: number })[];
  throttleReadIOPSDevice?: (BlockDevice & { rate: number })[];
  throttleWriteIOPSDevice?: (BlockDevice & { rate: number })[];
}

export interface LinuxHugepageLimit {
  /** "2MB", "1GB", "64KB": the size as the hugetlb controller names its files. */
  pageSize: string;
  /** Bytes. */
  limit: number;
}

export interface LinuxNetworkResources {
  /** v1 net_cls.classid (0xAAAABBBB: tc class AAAA:BBBB). */
  classID?: number;
  /** v1 net_prio.ifpriomap entries. */
  priorities?: { name: string; priority: number }[];
}

export interface LinuxResources {
  devices?: LinuxDeviceRule[];
  memory?: LinuxMemoryResources;
  cpu?: LinuxCpuResources;
  pids?: LinuxPidsResources;
  blockIO?: LinuxBlockIoResources;
  hugepageLimits?: LinuxHugepageLimit[];
  network?: LinuxNetworkResources;
  /** Raw cgroup v2 files (e.g. { "memory.high": "1G" }); an error on v1 and hybrid hosts. */
  unified?: Record<string, string>;
}

/** One memory counter set, as runc reports it. */
export interface MemoryEntry {
  limit: number;
  usage: number;
  max: number;
  failcnt: number;
}

/** One blkio counter line, as runc reports it ("8:0 Read 4096" → {major 8, minor 0, op "Read", value 4096}). */
export interface BlkioEntry {
  major: number;
  minor: number;
  op: string;
  value: number;
}

/**
 * Container resource usage in the shape of runc's `events --stats` ("data" of a stats event).
 * Times are nanoseconds, sizes bytes. Missing kernel files read as zero. An unlimited memory limit reads as
 * 9223372036854771712 on v1 and v2 alike (v1's own "unlimited"; v2's "max" has no exact double).
 */
export interface CgroupStats {
  cpu: {
    usage: { total: number; percpu: number[]; kernel: number; user: number };
    throttling: { periods: number; throttledPeriods: number; throttledTime: number };
  };
  memory: {
    cache: number;
    usage: MemoryEntry;
    swap: MemoryEntry;
    kernel: MemoryEntry;
    raw: Record<string, number>;
  };
  pids: { current: number; limit: number };
  blkio: { ioServiceBytesRecursive: BlkioEntry[]; ioServicedRecursive: BlkioEntry[] };
}
