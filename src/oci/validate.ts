/**
 * Hand-written validation of config.json (OCI runtime spec 1.2, Linux) and of `exec --process` files.
 *
 * Rules: every field runts uses is checked for type and range; unknown extra fields are kept (forward
 * compatibility); `null` in an optional field means "absent" (Go's encoding/json does the same, and some
 * tools write it), so the returned object never holds `null` where the types say optional. The input is
 * never mutated: objects are copied on the way through.
 *
 * Whatever JSON value comes in, the only thing that can be thrown is a `ConfigError` with a one-line
 * message "<where>: <field path> <problem>[: <fix>]". Fuzzers rely on that, so every property access goes
 * through `get` (own properties only, never Object.prototype) and every lookup table is a Map or Set.
 */
import { ConfigError } from './config-error.js';
import {
  CAPABILITIES,
  HOOK_POINTS,
  IOPRIO_CLASSES,
  NAMESPACE_TYPES,
  PERSONALITY_DOMAINS,
  RLIMITS,
  ROOTFS_PROPAGATIONS,
  SCHEDULER_FLAGS,
  SCHEDULER_POLICIES,
  SECCOMP_ACTIONS,
  SECCOMP_ARCHS,
  SECCOMP_FLAGS,
  SECCOMP_OPERATORS,
} from './constants.js';
import type { Process, Spec } from './types.js';
import { PLAN_LIMITS } from '../native/plan.js';

type Obj = Record<string, unknown>;
type Check<T> = (v: unknown, path: string) => T;

const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;
const I32_MIN = -0x80000000;
const I32_MAX = 0x7fffffff;
// 64-bit limits as doubles. JSON numbers above 2^53 are already rounded by JSON.parse (RLIM_INFINITY,
// 18446744073709551615, becomes exactly 2^64), so the bounds are the rounded values, inclusive.
const U64_MAX = 2 ** 64;
const I64_MIN = -(2 ** 63);
const I64_MAX = 2 ** 63;

const MAX_SHOWN = 64;

/** JSON-quotes a string for a message, cut so a huge or binary value cannot flood the terminal. */
export function quote(s: string): string {
  const q = JSON.stringify(s);
  return q.length > MAX_SHOWN ? `${q.slice(0, MAX_SHOWN)}…` : q;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** "(missing)" or "(got number)": what a type mismatch reports. */
function typeNote(v: unknown): string {
  return v === undefined ? 'missing' : `got ${kind(v)}`;
}

/** The value itself, for range and format errors. */
function show(v: unknown): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return kind(v);
}

/** Own property only: a config key named "constructor" must not find Object.prototype.constructor. */
function get(o: Obj, key: string): unknown {
  return Object.hasOwn(o, key) ? o[key] : undefined;
}

const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;
const ENV_NAME_OK = /^[^=]+=/;
const SYSCTL_KEY = /^[A-Za-z0-9_][A-Za-z0-9_\-:@+]*([./][A-Za-z0-9_\-:@+]+)*$/;
const UNIFIED_KEY = /^[a-z0-9_]+\.[A-Za-z0-9_.\-]+$/;
const PAGE_SIZE = /^[1-9][0-9]*[KMGTP]B$/;
/** SemVer 2.0.0 (the spec's format for ociVersion): MAJOR.MINOR.PATCH, then an optional -pre-release and +build. */
const SEMVER = /^(\d+)\.\d+\.\d+(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;

const IPC_SYSCTLS = new Set([
  'kernel.msgmax',
  'kernel.msgmnb',
  'kernel.msgmni',
  'kernel.sem',
  'kernel.shmall',
  'kernel.shmmax',
  'kernel.shmmni',
  'kernel.shm_rmid_forced',
]);

class Checker {
  constructor(readonly where: string) {}

  fail(message: string): never {
    throw new ConfigError('bad_config', `${this.where}: ${message}`);
  }

  // ---- fields of an object (the object is our own copy, so writing back is safe) ----

  /** An optional field: null/undefined are removed, anything else must pass `check`. */
  opt<T>(o: Obj, key: string, path: string, check: Check<T>): T | undefined {
    const v = get(o, key);
    if (v === undefined || v === null) {
      delete o[key];
      return undefined;
    }
    const out = check(v, path);
    o[key] = out;
    return out;
  }

  /** A required field: `check` sees undefined/null and reports "(missing)" / "(got null)". */
  req<T>(o: Obj, key: string, path: string, check: Check<T>): T {
    const out = check(get(o, key), path);
    o[key] = out;
    return out;
  }

  // ---- value checks ----

  object(v: unknown, path: string): Obj {
    if (!isObj(v)) this.fail(`${path} must be an object (${typeNote(v)})`);
    return { ...v };
  }

  array<T>(v: unknown, path: string, want: string, item: Check<T>): T[] {
    if (!Array.isArray(v)) this.fail(`${path} must be ${want} (${typeNote(v)})`);
    return v.map((x, i) => item(x, `${path}[${i}]`));
  }

  string(v: unknown, path: string, want = 'a string'): string {
    if (typeof v !== 'string') this.fail(`${path} must be ${want} (${typeNote(v)})`);
    return v;
  }

  /** A string handed to the kernel (path, argv, env...): C strings end at NUL, so refuse one inside. */
  cstring(v: unknown, path: string, want = 'a string'): string {
    const s = this.string(v, path, want);
    if (s.includes('\0')) this.fail(`${path} must not contain a NUL byte (got ${quote(s)})`);
    return s;
  }

  nonEmpty(v: unknown, path: string): string {
    const s = this.cstring(v, path, 'a non-empty string');
    if (s === '') this.fail(`${path} must be a non-empty string (got "")`);
    return s;
  }

  bool(v: unknown, path: string): boolean {
    if (typeof v !== 'boolean') this.fail(`${path} must be true or false (${typeNote(v)})`);
    return v;
  }

  int(v: unknown, path: string, min: number, max: number, want = `an integer from ${min} to ${max}`): number {
    if (typeof v !== 'number') this.fail(`${path} must be ${want} (${typeNote(v)})`);
    if (!Number.isInteger(v) || v < min || v > max) this.fail(`${path} must be ${want} (got ${show(v)})`);
    return v;
  }

  u16 = (v: unknown, path: string): number => this.int(v, path, 0, U16_MAX);
  u32 = (v: unknown, path: string): number => this.int(v, path, 0, U32_MAX);
  u64 = (v: unknown, path: string): number => this.int(v, path, 0, U64_MAX, 'a non-negative integer');
  i64 = (v: unknown, path: string): number => this.int(v, path, I64_MIN, I64_MAX, 'an integer');
  /** Memory limits: -1 means unlimited. */
  limit = (v: unknown, path: string): number => this.int(v, path, -1, I64_MAX, 'an integer >= -1 (-1 = unlimited)');

  absPath = (v: unknown, path: string): string => {
    const s = this.cstring(v, path, 'an absolute path');
    if (!s.startsWith('/')) this.fail(`${path} must be an absolute path (got ${quote(s)})`);
    return s;
  };

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[] | readonly string[]): T {
    const s = this.string(v, path, `one of ${allowed.join(', ')}`);
    if (!(allowed as readonly string[]).includes(s)) this.fail(`${path} ${quote(s)} is not one of ${allowed.join(', ')}`);
    return s as T;
  }

  strings = (v: unknown, path: string): string[] =>
    this.array(v, path, 'an array of strings', (x, p) => this.cstring(x, p));

  /** A JSON object used as a map: string keys, each value checked. */
  map<T>(v: unknown, path: string, value: Check<T>, key?: (k: string, path: string) => void): Record<string, T> {
    const o = this.object(v, path);
    for (const k of Object.keys(o)) {
      const p = `${path}[${quote(k)}]`;
      key?.(k, p);
      o[k] = value(o[k], p);
    }
    return o as Record<string, T>;
  }

  cpuList = (v: unknown, path: string): string => {
    const s = this.string(v, path, 'a CPU list like "0-3,7"');
    if (s !== '' && !CPU_LIST.test(s)) this.fail(`${path} must be a list like "0-3,7" (got ${quote(s)})`);
    return s;
  };
}

// ---------------------------------------------------------------------------------------------------------
// process

function checkEnv(c: Checker, v: unknown, path: string): string[] {
  return c.array(v, path, 'an array of "NAME=value" strings', (x, p) => {
    const s = c.cstring(x, p, 'a "NAME=value" string');
    if (!ENV_NAME_OK.test(s)) c.fail(`${p} ${quote(s)} must look like NAME=value (a name, then "=")`);
    return s;
  });
}

function checkIdMappings(c: Checker, v: unknown, path: string): Obj[] {
  return c.array(v, path, 'an array of {containerID, hostID, size}', (x, p) => {
    const m = c.object(x, p);
    const cid = c.req(m, 'containerID', `${p}.containerID`, c.u32);
    const hid = c.req(m, 'hostID', `${p}.hostID`, c.u32);
    const size = c.req(m, 'size', `${p}.size`, (y, q) => c.int(y, q, 1, U32_MAX));
    // The kernel refuses ranges that wrap past the last 32-bit id; say which mapping does it.
    if (cid + size - 1 > U32_MAX || hid + size - 1 > U32_MAX) {
      c.fail(`${p} maps ids beyond 4294967295: lower size`);
    }
    return m;
  });
}

function checkCapabilities(c: Checker, v: unknown, path: string): Obj {
  const caps = c.object(v, path);
  for (const set of ['bounding', 'effective', 'inheritable', 'permitted', 'ambient']) {
    c.opt(caps, set, `${path}.${set}`, (x, p) =>
      c.array(x, p, 'an array of CAP_* names', (y, q) => {
        const name = c.string(y, q, 'a CAP_* name');
        if (!CAPABILITIES.has(name)) c.fail(`${q} ${quote(name)} is not a known capability: use names like CAP_KILL`);
        return name;
      }),
    );
  }
  return caps;
}

function checkRlimits(c: Checker, v: unknown, path: string): Obj[] {
  const seen = new Set<string>();
  return c.array(v, path, 'an array of {type, hard, soft}', (x, p) => {
    const r = c.object(x, p);
    const type = c.req(r, 'type', `${p}.type`, (y, q) => c.string(y, q, 'an RLIMIT_* name'));
    if (!RLIMITS.has(type)) c.fail(`${p}.type ${quote(type)} is not a known RLIMIT_* name: use one like RLIMIT_NOFILE`);
    if (seen.has(type)) c.fail(`${p}.type ${quote(type)} is listed twice: keep one`);
    seen.add(type);
    const hard = c.req(r, 'hard', `${p}.hard`, c.u64);
    const soft = c.req(r, 'soft', `${p}.soft`, c.u64);
    if (soft > hard) c.fail(`${p}: soft limit ${soft} is above hard limit ${hard} for ${type}: lower soft or raise hard`);
    return r;
  });
}

function checkScheduler(c: Checker, v: unknown, path: string): Obj {
  const s = c.object(v, path);
  c.req(s, 'policy', `${path}.policy`, (x, p) => c.oneOf(x, p, SCHEDULER_POLICIES));
  c.opt(s, 'nice', `${path}.nice`, (x, p) => c.int(x, p, -20, 19));
  c.opt(s, 'priority', `${path}.priority`, (x, p) => c.int(x, p, I32_MIN, I32_MAX));
  c.opt(s, 'flags', `${path}.flags`, (x, p) =>
    c.array(x, p, 'an array of SCHED_FLAG_* names', (y, q) => c.oneOf(y, q, SCHEDULER_FLAGS)),
  );
  for (const k of ['runtime', 'deadline', 'period']) c.opt(s, k, `${path}.${k}`, c.u64);
  return s;
}

/** Checks a process object already copied; `pre` is the path prefix ("process." or ""). */
function checkProcessFields(c: Checker, p: Obj, pre: string, o: { userDefault?: boolean } = {}): Process {
  // runc's exec takes a process.json without `user` as uid 0, gid 0 (Go's zero value); config.json must have it.
  if (o.userDefault && p.user === undefined) p.user = { uid: 0, gid: 0 };
  c.opt(p, 'terminal', `${pre}terminal`, (x, q) => c.bool(x, q));
  c.opt(p, 'consoleSize', `${pre}consoleSize`, (x, q) => {
    const box = c.object(x, q);
    c.req(box, 'height', `${q}.height`, c.u16);
    c.req(box, 'width', `${q}.width`, c.u16);
    return box;
  });
  c.req(p, 'user', `${pre}user`, (x, q) => {
    const u = c.object(x, q);
    c.req(u, 'uid', `${q}.uid`, c.u32);
    c.req(u, 'gid', `${q}.gid`, c.u32);
    c.opt(u, 'umask', `${q}.umask`, (y, r) => c.int(y, r, 0, 0o777, 'an integer from 0 to 511 (0o777)'));
    c.opt(u, 'additionalGids', `${q}.additionalGids`, (y, r) =>
      c.array(y, r, 'an array of gids', c.u32),
    );
    c.opt(u, 'username', `${q}.username`, (y, r) => c.cstring(y, r));
    return u;
  });
  c.req(p, 'args', `${pre}args`, (x, q) => {
    if (!Array.isArray(x) || x.length === 0) {
      c.fail(`${q} must be a non-empty array of strings (${Array.isArray(x) ? 'got an empty array' : typeNote(x)})`);
    }
    return checkListSize(c, c.strings(x, q), q);
  });
  c.opt(p, 'commandLine', `${pre}commandLine`, (x, q) => c.string(x, q));
  c.opt(p, 'env', `${pre}env`, (x, q) => checkListSize(c, checkEnv(c, x, q), q));
  c.req(p, 'cwd', `${pre}cwd`, c.absPath);
  c.opt(p, 'capabilities', `${pre}capabilities`, (x, q) => checkCapabilities(c, x, q));
  c.opt(p, 'rlimits', `${pre}rlimits`, (x, q) => checkRlimits(c, x, q));
  c.opt(p, 'noNewPrivileges', `${pre}noNewPrivileges`, (x, q) => c.bool(x, q));
  c.opt(p, 'apparmorProfile', `${pre}apparmorProfile`, (x, q) => c.cstring(x, q));
  c.opt(p, 'selinuxLabel', `${pre}selinuxLabel`, (x, q) => c.cstring(x, q));
  c.opt(p, 'oomScoreAdj', `${pre}oomScoreAdj`, (x, q) => c.int(x, q, -1000, 1000));
  c.opt(p, 'scheduler', `${pre}scheduler`, (x, q) => checkScheduler(c, x, q));
  c.opt(p, 'ioPriority', `${pre}ioPriority`, (x, q) => {
    const io = c.object(x, q);
    c.req(io, 'class', `${q}.class`, (y, r) => c.oneOf(y, r, IOPRIO_CLASSES));
    c.req(io, 'priority', `${q}.priority`, (y, r) => c.int(y, r, 0, 7));
    return io;
  });
  c.opt(p, 'execCPUAffinity', `${pre}execCPUAffinity`, (x, q) => {
    const a = c.object(x, q);
    c.opt(a, 'initial', `${q}.initial`, c.cpuList);
    c.opt(a, 'final', `${q}.final`, c.cpuList);
    return a;
  });
  return p as unknown as Process;
}

/** argv and env reach the init as lists of at most PLAN_LIMITS.maxListEntries (it builds their arrays on its stack). */
function checkListSize<T>(c: Checker, list: T[], path: string): T[] {
  const max = PLAN_LIMITS.maxListEntries;
  if (list.length > max) c.fail(`${path} has ${list.length} entries, more than the ${max} runts supports: shorten it`);
  return list;
}

// ---------------------------------------------------------------------------------------------------------
// mounts, hooks

function checkMount(c: Checker, v: unknown, path: string): Obj {
  const m = c.object(v, path);
  c.req(m, 'destination', `${path}.destination`, c.absPath);
  c.opt(m, 'type', `${path}.type`, (x, p) => c.cstring(x, p));
  c.opt(m, 'source', `${path}.source`, (x, p) => c.cstring(x, p));
  c.opt(m, 'options', `${path}.options`, c.strings);
  const uid = c.opt(m, 'uidMappings', `${path}.uidMappings`, (x, p) => checkIdMappings(c, x, p));
  const gid = c.opt(m, 'gidMappings', `${path}.gidMappings`, (x, p) => checkIdMappings(c, x, p));
  // An idmapped mount needs both maps (mount_setattr takes one user namespace carrying both).
  if ((uid === undefined) !== (gid === undefined)) {
    c.fail(`${path}: uidMappings and gidMappings must be given together (idmapped mount)`);
  }
  return m;
}

function checkHook(c: Checker, v: unknown, path: string): Obj {
  const h = c.object(v, path);
  c.req(h, 'path', `${path}.path`, c.absPath);
  c.opt(h, 'args', `${path}.args`, c.strings);
  c.opt(h, 'env', `${path}.env`, (x, p) => checkEnv(c, x, p));
  c.opt(h, 'timeout', `${path}.timeout`, (x, p) => c.int(x, p, 1, I32_MAX, 'a positive integer (seconds)'));
  return h;
}

function checkHooks(c: Checker, v: unknown, path: string): Obj {
  const hooks = c.object(v, path);
  for (const point of HOOK_POINTS) {
    c.opt(hooks, point, `${path}.${point}`, (x, p) =>
      c.array(x, p, 'an array of hooks {path, args, env, timeout}', (y, q) => checkHook(c, y, q)),
    );
  }
  return hooks;
}

// ---------------------------------------------------------------------------------------------------------
// linux

function checkResources(c: Checker, v: unknown, path: string): Obj {
  const r = c.object(v, path);
  c.opt(r, 'devices', `${path}.devices`, (x, p) =>
    c.array(x, p, 'an array of device rules {allow, type, major, minor, access}', (y, q) => {
      const d = c.object(y, q);
      c.req(d, 'allow', `${q}.allow`, (z, s) => c.bool(z, s));
      c.opt(d, 'type', `${q}.type`, (z, s) => c.oneOf(z, s, ['a', 'b', 'c']));
      // -1 is the wildcard some tools write instead of omitting major/minor.
      c.opt(d, 'major', `${q}.major`, (z, s) => c.int(z, s, -1, U32_MAX));
      c.opt(d, 'minor', `${q}.minor`, (z, s) => c.int(z, s, -1, U32_MAX));
      c.opt(d, 'access', `${q}.access`, (z, s) => {
        const a = c.string(z, s, 'a combination of r, w, m');
        if (!/^[rwm]*$/.test(a)) c.fail(`${s} must be a combination of r, w, m (got ${quote(a)})`);
        return a;
      });
      return d;
    }),
  );
  c.opt(r, 'memory', `${path}.memory`, (x, p) => {
    const m = c.object(x, p);
    for (const k of ['limit', 'reservation', 'swap', 'kernel', 'kernelTCP']) c.opt(m, k, `${p}.${k}`, c.limit);
    c.opt(m, 'swappiness', `${p}.swappiness`, (y, q) => c.int(y, q, 0, 100));
    for (const k of ['disableOOMKiller', 'useHierarchy', 'checkBeforeUpdate']) {
      c.opt(m, k, `${p}.${k}`, (y, q) => c.bool(y, q));
    }
    return m;
  });
  c.opt(r, 'cpu', `${path}.cpu`, (x, p) => {
    const cpu = c.object(x, p);
    for (const k of ['shares', 'burst', 'period', 'realtimePeriod']) c.opt(cpu, k, `${p}.${k}`, c.u64);
    for (const k of ['quota', 'realtimeRuntime', 'idle']) c.opt(cpu, k, `${p}.${k}`, c.i64);
    c.opt(cpu, 'cpus', `${p}.cpus`, c.cpuList);
    c.opt(cpu, 'mems', `${p}.mems`, c.cpuList);
    return cpu;
  });
  c.opt(r, 'pids', `${path}.pids`, (x, p) => {
    const pids = c.object(x, p);
    c.req(pids, 'limit', `${p}.limit`, c.i64);
    return pids;
  });
  c.opt(r, 'blockIO', `${path}.blockIO`, (x, p) => {
    const b = c.object(x, p);
    c.opt(b, 'weight', `${p}.weight`, c.u16);
    c.opt(b, 'leafWeight', `${p}.leafWeight`, c.u16);
    c.opt(b, 'weightDevice', `${p}.weightDevice`, (y, q) =>
      c.array(y, q, 'an array of {major, minor, weight, leafWeight}', (z, s) => {
        const d = c.object(z, s);
        c.req(d, 'major', `${s}.major`, c.u32);
        c.req(d, 'minor', `${s}.minor`, c.u32);
        c.opt(d, 'weight', `${s}.weight`, c.u16);
        c.opt(d, 'leafWeight', `${s}.leafWeight`, c.u16);
        return d;
      }),
    );
    for (const k of [
      'throttleReadBpsDevice',
      'throttleWriteBpsDevice',
      'throttleReadIOPSDevice',
      'throttleWriteIOPSDevice',
    ]) {
      c.opt(b, k, `${p}.${k}`, (y, q) =>
        c.array(y, q, 'an array of {major, minor, rate}', (z, s) => {
          const d = c.object(z, s);
          c.req(d, 'major', `${s}.major`, c.u32);
          c.req(d, 'minor', `${s}.minor`, c.u32);
          c.req(d, 'rate', `${s}.rate`, c.u64);
          return d;
        }),
      );
    }
    return b;
  });
  c.opt(r, 'hugepageLimits', `${path}.hugepageLimits`, (x, p) =>
    c.array(x, p, 'an array of {pageSize, limit}', (y, q) => {
      const h = c.object(y, q);
      c.req(h, 'pageSize', `${q}.pageSize`, (z, s) => {
        const size = c.string(z, s, 'a page size like "2MB"');
        if (!PAGE_SIZE.test(size)) c.fail(`${s} must be a page size like "2MB" or "1GB" (got ${quote(size)})`);
        return size;
      });
      c.req(h, 'limit', `${q}.limit`, c.u64);
      return h;
    }),
  );
  c.opt(r, 'network', `${path}.network`, (x, p) => {
    const n = c.object(x, p);
    c.opt(n, 'classID', `${p}.classID`, c.u32);
    c.opt(n, 'priorities', `${p}.priorities`, (y, q) =>
      c.array(y, q, 'an array of {name, priority}', (z, s) => {
        const pr = c.object(z, s);
        c.req(pr, 'name', `${s}.name`, (w, t) => c.nonEmpty(w, t));
        c.req(pr, 'priority', `${s}.priority`, c.u32);
        return pr;
      }),
    );
    return n;
  });
  c.opt(r, 'rdma', `${path}.rdma`, (x, p) =>
    c.map(x, p, (y, q) => {
      const d = c.object(y, q);
      c.opt(d, 'hcaHandles', `${q}.hcaHandles`, c.u32);
      c.opt(d, 'hcaObjects', `${q}.hcaObjects`, c.u32);
      return d;
    }),
  );
  c.opt(r, 'unified', `${path}.unified`, (x, p) =>
    c.map(
      x,
      p,
      (y, q) => c.cstring(y, q),
      (k, q) => {
        // A key becomes a file name in the container's cgroup directory: no "/" or ".." to escape it.
        if (!UNIFIED_KEY.test(k) || k.includes('..')) {
          c.fail(`${q}: key must be a cgroup v2 file name like "memory.high" (no "/")`);
        }
      },
    ),
  );
  return r;
}

/** Syscalls runts-init makes between installing a filter and handing its listener over (sendmsg), or right after. */
const NOTIFY_REFUSED = new Set(['write', 'sendmsg', 'read', 'close', 'execve', 'execveat']);

function checkSeccomp(c: Checker, v: unknown, path: string): Obj {
  const s = c.object(v, path);
  const usesErrno = (action: string): boolean => action === 'SCMP_ACT_ERRNO' || action === 'SCMP_ACT_TRACE';
  const def = c.req(s, 'defaultAction', `${path}.defaultAction`, (x, p) => c.oneOf(x, p, SECCOMP_ACTIONS));
  if (def === 'SCMP_ACT_NOTIFY') c.fail(`${path}.defaultAction cannot be SCMP_ACT_NOTIFY: pick another default`);
  const defErrno = c.opt(s, 'defaultErrnoRet', `${path}.defaultErrnoRet`, c.u32);
  if (defErrno !== undefined && !usesErrno(def)) {
    c.fail(`${path}.defaultErrnoRet needs defaultAction SCMP_ACT_ERRNO or SCMP_ACT_TRACE (got ${def})`);
  }
  c.opt(s, 'architectures', `${path}.architectures`, (x, p) =>
    c.array(x, p, 'an array of SCMP_ARCH_* names', (y, q) => c.oneOf(y, q, SECCOMP_ARCHS)),
  );
  c.opt(s, 'flags', `${path}.flags`, (x, p) =>
    c.array(x, p, 'an array of SECCOMP_FILTER_FLAG_* names', (y, q) => c.oneOf(y, q, SECCOMP_FLAGS)),
  );
  const listener = c.opt(s, 'listenerPath', `${path}.listenerPath`, (x, p) => c.cstring(x, p));
  c.opt(s, 'listenerMetadata', `${path}.listenerMetadata`, (x, p) => c.string(x, p));
  c.opt(s, 'syscalls', `${path}.syscalls`, (x, p) =>
    c.array(x, p, 'an array of {names, action, errnoRet, args}', (y, q) => {
      const sc = c.object(y, q);
      c.req(sc, 'names', `${q}.names`, (z, t) => {
        if (!Array.isArray(z) || z.length === 0) {
          c.fail(`${t} must be a non-empty array of syscall names (${Array.isArray(z) ? 'got an empty array' : typeNote(z)})`);
        }
        return c.array(z, t, 'an array of syscall names', (w, u) => c.nonEmpty(w, u));
      });
      const action = c.req(sc, 'action', `${q}.action`, (z, t) => c.oneOf(z, t, SECCOMP_ACTIONS));
      if (action === 'SCMP_ACT_NOTIFY' && !listener) {
        c.fail(`${q}.action SCMP_ACT_NOTIFY needs ${path}.listenerPath: set it to the agent's unix socket`);
      }
      // The init makes these after installing the filter, before the agent holds the listener: it would hang there
      // (runc refuses write, its own sync call, for the same reason).
      const blocking = action === 'SCMP_ACT_NOTIFY' && Array.isArray(sc.names) ? sc.names.find((n) => NOTIFY_REFUSED.has(n as string)) : undefined;
      if (blocking !== undefined) {
        c.fail(`${q}.action SCMP_ACT_NOTIFY cannot apply to ${String(blocking)}: the container's init needs it before the agent gets the listener`);
      }
      const errno = c.opt(sc, 'errnoRet', `${q}.errnoRet`, c.u32);
      if (errno !== undefined && !usesErrno(action)) {
        c.fail(`${q}.errnoRet needs action SCMP_ACT_ERRNO or SCMP_ACT_TRACE (got ${action})`);
      }
      c.opt(sc, 'args', `${q}.args`, (z, t) =>
        c.array(z, t, 'an array of {index, value, valueTwo, op}', (w, u) => {
          const a = c.object(w, u);
          c.req(a, 'index', `${u}.index`, (i, ip) => c.int(i, ip, 0, 5));
          c.req(a, 'value', `${u}.value`, c.u64);
          c.opt(a, 'valueTwo', `${u}.valueTwo`, c.u64);
          c.req(a, 'op', `${u}.op`, (o, op) => c.oneOf(o, op, SECCOMP_OPERATORS));
          return a;
        }),
      );
      return sc;
    }),
  );
  return s;
}

function checkLinux(c: Checker, v: unknown, path: string): Obj {
  const l = c.object(v, path);
  const seen = new Set<string>();
  c.opt(l, 'namespaces', `${path}.namespaces`, (x, p) =>
    c.array(x, p, 'an array of {type, path}', (y, q) => {
      const ns = c.object(y, q);
      const type = c.req(ns, 'type', `${q}.type`, (z, s) => c.oneOf(z, s, NAMESPACE_TYPES));
      if (seen.has(type)) c.fail(`${q}.type ${quote(type)} is listed twice: keep one`);
      seen.add(type);
      c.opt(ns, 'path', `${q}.path`, c.absPath);
      return ns;
    }),
  );
  c.opt(l, 'uidMappings', `${path}.uidMappings`, (x, p) => checkIdMappings(c, x, p));
  c.opt(l, 'gidMappings', `${path}.gidMappings`, (x, p) => checkIdMappings(c, x, p));
  c.opt(l, 'devices', `${path}.devices`, (x, p) =>
    c.array(x, p, 'an array of devices {type, path, major, minor, fileMode, uid, gid}', (y, q) => {
      const d = c.object(y, q);
      const type = c.req(d, 'type', `${q}.type`, (z, s) => c.oneOf(z, s, ['c', 'b', 'u', 'p']));
      c.req(d, 'path', `${q}.path`, c.absPath);
      // A FIFO has no device number; every other node needs both.
      for (const k of ['major', 'minor']) {
        if (type === 'p') c.opt(d, k, `${q}.${k}`, c.u32);
        else c.req(d, k, `${q}.${k}`, c.u32);
      }
      c.opt(d, 'fileMode', `${q}.fileMode`, (z, s) => c.int(z, s, 0, 0o7777, 'a mode from 0 to 4095 (0o7777)'));
      c.opt(d, 'uid', `${q}.uid`, c.u32);
      c.opt(d, 'gid', `${q}.gid`, c.u32);
      return d;
    }),
  );
  c.opt(l, 'cgroupsPath', `${path}.cgroupsPath`, (x, p) => {
    const s = c.cstring(x, p);
    // The path is joined under each cgroup mount; ".." would climb out of the hierarchy.
    if (s.split('/').includes('..')) c.fail(`${p} ${quote(s)} must not contain ".." components`);
    return s;
  });
  c.opt(l, 'resources', `${path}.resources`, (x, p) => checkResources(c, x, p));
  // "" is what some tools write for "not set"; treat it as absent.
  if (get(l, 'rootfsPropagation') === '') delete l.rootfsPropagation;
  c.opt(l, 'rootfsPropagation', `${path}.rootfsPropagation`, (x, p) => c.oneOf(x, p, ROOTFS_PROPAGATIONS));
  c.opt(l, 'seccomp', `${path}.seccomp`, (x, p) => checkSeccomp(c, x, p));
  c.opt(l, 'sysctl', `${path}.sysctl`, (x, p) =>
    c.map(
      x,
      p,
      (y, q) => c.cstring(y, q),
      (k, q) => {
        if (!SYSCTL_KEY.test(k)) c.fail(`${q}: not a sysctl name like "net.ipv4.ip_forward"`);
      },
    ),
  );
  c.opt(l, 'maskedPaths', `${path}.maskedPaths`, (x, p) => c.array(x, p, 'an array of absolute paths', c.absPath));
  c.opt(l, 'readonlyPaths', `${path}.readonlyPaths`, (x, p) =>
    c.array(x, p, 'an array of absolute paths', c.absPath),
  );
  c.opt(l, 'mountLabel', `${path}.mountLabel`, (x, p) => c.cstring(x, p));
  c.opt(l, 'intelRdt', `${path}.intelRdt`, (x, p) => {
    const r = c.object(x, p);
    c.opt(r, 'closID', `${p}.closID`, (y, q) => {
      const id = c.cstring(y, q);
      // closID names a directory under /sys/fs/resctrl.
      if (id.includes('/') || id === '.' || id === '..') c.fail(`${q} must be a plain name without "/" (got ${quote(id)})`);
      return id;
    });
    c.opt(r, 'l3CacheSchema', `${p}.l3CacheSchema`, (y, q) => c.cstring(y, q));
    c.opt(r, 'memBwSchema', `${p}.memBwSchema`, (y, q) => c.cstring(y, q));
    c.opt(r, 'enableCMT', `${p}.enableCMT`, (y, q) => c.bool(y, q));
    c.opt(r, 'enableMBM', `${p}.enableMBM`, (y, q) => c.bool(y, q));
    return r;
  });
  c.opt(l, 'personality', `${path}.personality`, (x, p) => {
    const per = c.object(x, p);
    c.req(per, 'domain', `${p}.domain`, (y, q) => c.oneOf(y, q, PERSONALITY_DOMAINS));
    c.opt(per, 'flags', `${p}.flags`, c.strings);
    return per;
  });
  c.opt(l, 'timeOffsets', `${path}.timeOffsets`, (x, p) =>
    c.map(
      x,
      p,
      (y, q) => {
        const off = c.object(y, q);
        c.opt(off, 'secs', `${q}.secs`, c.i64);
        c.opt(off, 'nanosecs', `${q}.nanosecs`, (z, s) => c.int(z, s, 0, 999_999_999));
        return off;
      },
      (k, q) => {
        if (k !== 'monotonic' && k !== 'boottime') c.fail(`${q}: clock must be "monotonic" or "boottime"`);
      },
    ),
  );
  return l;
}

/** Namespace a sysctl lives in (runc's rule), or undefined when it is not namespaced at all. */
function sysctlNamespace(key: string): string | undefined {
  const k = key.replaceAll('/', '.');
  if (IPC_SYSCTLS.has(k) || k.startsWith('fs.mqueue.')) return 'ipc';
  if (k.startsWith('net.')) return 'network';
  if (k === 'kernel.domainname') return 'uts';
  return undefined;
}

/** Rules that span several fields; run after each field is known to be well-typed. */
function checkCrossFields(c: Checker, s: Spec): void {
  const linux = s.linux ?? {};
  const namespaces = new Map((linux.namespaces ?? []).map((n) => [n.type as string, n]));
  const need = (ns: string, what: string): void => {
    if (!namespaces.has(ns)) c.fail(`${what} needs a ${ns} namespace: add {"type": "${ns}"} to linux.namespaces`);
  };
  // runc refuses these too: without a private UTS namespace the host's name would change.
  if (s.hostname) need('uts', `hostname ${quote(s.hostname)}`);
  if (s.domainname) need('uts', `domainname ${quote(s.domainname)}`);
  if (linux.uidMappings?.length) need('user', 'linux.uidMappings');
  if (linux.gidMappings?.length) need('user', 'linux.gidMappings');
  const user = namespaces.get('user');
  if (user && !user.path && !(linux.uidMappings?.length && linux.gidMappings?.length)) {
    c.fail('linux.namespaces: a new user namespace needs linux.uidMappings and linux.gidMappings: add both, or give the namespace a path to join');
  }
  if (linux.timeOffsets && Object.keys(linux.timeOffsets).length > 0) {
    need('time', 'linux.timeOffsets');
    if (namespaces.get('time')?.path) c.fail('linux.timeOffsets cannot apply to a joined time namespace: drop the offsets or the path');
  }
  for (const key of Object.keys(linux.sysctl ?? {})) {
    const ns = sysctlNamespace(key);
    const what = `linux.sysctl ${quote(key)}`;
    // runc refuses it too: two sources for one name would disagree.
    if (key.replaceAll('/', '.') === 'kernel.hostname') c.fail(`${what} is not allowed: set the hostname field instead`);
    if (ns === undefined) {
      c.fail(`${what} is not namespaced, a container cannot set it: only net.*, kernel.shm*/msg*/sem, fs.mqueue.* and kernel.domainname are allowed`);
    }
    need(ns, what);
  }
}

/**
 * Validates a parsed config.json and returns it typed (a normalised copy: `null` optional fields removed).
 * Throws only `ConfigError` (code 'bad_config'), whatever `value` is.
 *
 * @param where prefix of every message, e.g. "config.json" or "config.json in \"/b\"".
 * @example
 * const spec = validateSpec(JSON.parse(text)); // spec.process!.args is a non-empty string[]
 */
export function validateSpec(value: unknown, where = 'config.json'): Spec {
  const c: Checker = new Checker(where);
  if (!isObj(value)) c.fail(`must hold a JSON object (got ${kind(value)})`);
  const s: Obj = { ...value };
  c.req(s, 'ociVersion', 'ociVersion', (x, p) => {
    const version = c.nonEmpty(x, p);
    const major = SEMVER.exec(version)?.[1];
    if (major === undefined) c.fail(`${p} ${quote(version)} must be a SemVer version like "1.2.0"`);
    if (major !== '1') c.fail(`${p} ${quote(version)} is not supported: runts implements 1.x`);
    return version;
  });
  c.req(s, 'root', 'root', (x, p) => {
    const r = c.object(x, p);
    c.req(r, 'path', `${p}.path`, (y, q) => c.nonEmpty(y, q));
    c.opt(r, 'readonly', `${p}.readonly`, (y, q) => c.bool(y, q));
    return r;
  });
  c.req(s, 'process', 'process', (x, p) => checkProcessFields(c, c.object(x, p), 'process.'));
  c.opt(s, 'hostname', 'hostname', (x, p) => c.cstring(x, p));
  c.opt(s, 'domainname', 'domainname', (x, p) => c.cstring(x, p));
  c.opt(s, 'mounts', 'mounts', (x, p) =>
    c.array(x, p, 'an array of mounts {destination, type, source, options}', (y, q) => checkMount(c, y, q)),
  );
  c.opt(s, 'hooks', 'hooks', (x, p) => checkHooks(c, x, p));
  c.opt(s, 'annotations', 'annotations', (x, p) =>
    c.map(
      x,
      p,
      (y, q) => c.string(y, q),
      (k, q) => {
        if (k === '') c.fail(`${q}: annotation keys must be non-empty`);
      },
    ),
  );
  c.opt(s, 'linux', 'linux', (x, p) => checkLinux(c, x, p));
  const spec = s as unknown as Spec;
  checkCrossFields(c, spec);
  return spec;
}

/**
 * Validates a standalone process object (`runts exec --process file.json`), same rules as config.json's
 * `process` but that a missing `user` means uid 0, gid 0 (as runc). Paths in messages are relative to the process
 * object ("args", "user.uid").
 *
 * @example
 * const proc = validateProcess(JSON.parse(text), 'process.json');
 */
export function validateProcess(value: unknown, where = 'process.json'): Process {
  const c: Checker = new Checker(where);
  if (!isObj(value)) c.fail(`must hold a JSON object (got ${kind(value)})`);
  return checkProcessFields(c, { ...value }, '', { userDefault: true });
}
