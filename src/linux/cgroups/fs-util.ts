import * as fs from 'node:fs';
import * as path from 'node:path';
import { CgroupError } from './cgroup-error.js';

const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Synchronous sleep: the CLI is short-lived and sync, and Atomics.wait blocks without spinning. */
export function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * True when `dir` sits on a real cgroup (v1 or v2) filesystem. Unit tests use plain temp dirs laid out like
 * cgroupfs; those need a recursive remove (rmdir sees the regular files) and let writes create files.
 */
export function isCgroupFs(dir: string): boolean {
  try {
    const type = fs.statfsSync(dir).type;
    return type === CGROUP_SUPER_MAGIC || type === CGROUP2_SUPER_MAGIC;
  } catch {
    return false;
  }
}

function errnoOf(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | undefined)?.code;
}

/** Reads a cgroup file, trimmed; undefined when it does not exist (or cannot be read). */
export function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Reads a one-number file; "max" reads as `max`; missing or garbage reads as 0. */
export function readNumber(file: string, max = 0): number {
  const text = readText(file);
  if (text === undefined || text === '') return 0;
  if (text === 'max') return max;
  const n = Number(text);
  return Number.isFinite(n) ? n : 0;
}

/** Parses "key value" lines (memory.stat, cpu.stat, cgroup.events) into numbers. */
export function readKeyValues(file: string): Record<string, number> {
  const out: Record<string, number> = {};
  const text = readText(file);
  if (!text) return out;
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && Number.isFinite(Number(value))) out[key] = Number(value);
  }
  return out;
}

export function exists(file: string): boolean {
  return fs.existsSync(file);
}

/**
 * Writes one value to a cgroup file as a single write(2) (cgroupfs parses each write on its own).
 * On a real cgroupfs the file must already exist (O_CREAT is refused there, and a missing file means the
 * controller is not enabled); on a fake tree it is created.
 */
export function writeValue(file: string, value: string, fake: boolean): void {
  const flags = fs.constants.O_WRONLY | fs.constants.O_TRUNC | (fake ? fs.constants.O_CREAT : 0);
  let fd: number;
  try {
    fd = fs.openSync(file, flags, 0o644);
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') {
      throw new CgroupError(
        'sys',
        `cgroup file ${file} does not exist: its controller is not enabled for this cgroup or not supported by the kernel`,
        { cause: e },
      );
    }
    throw new CgroupError('sys', `cannot open cgroup file ${file}: ${errnoOf(e) ?? String(e)}`, { cause: e });
  }
  try {
    fs.writeSync(fd, value);
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'EBUSY' && path.basename(file).startsWith('memory.')) {
      throw new CgroupError(
        'sys',
        `cannot write "${value}" to ${file}: EBUSY, the cgroup uses more memory than that and the kernel could not reclaim it; set a higher limit`,
        { cause: e },
      );
    }
    throw new CgroupError('sys', `cannot write "${value}" to ${file}: ${code ?? String(e)}`, { cause: e });
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads every pid in `dir`/cgroup.procs and in each sub-cgroup below it. */
export function readPidsRecursive(dir: string): number[] {
  const pids = new Set<number>();
  const walk = (d: string): void => {
    const text = readText(path.join(d, 'cgroup.procs'));
    if (text) {
      for (const line of text.split('\n')) {
        const pid = Number(line.trim());
        if (Number.isInteger(pid) && pid > 0) pids.add(pid);
      }
    }
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) if (entry.isDirectory()) walk(path.join(d, entry.name));
  };
  walk(dir);
  return [...pids].sort((a, b) => a - b);
}
