import fs from 'node:fs';
import path from 'node:path';
import type { RuntimeName } from './report.js';
import { rtAsync, type RuntimeSpec } from './runtimes.js';

/**
 * Remembers every container a benchmark may have left behind. An ID is added *before* the command that creates
 * it (a failed create can still leave state) and removed once a delete succeeded.
 */
export class Tracker {
  private readonly live = new Map<RuntimeName, Set<string>>();

  add(rt: RuntimeName, id: string): void {
    let s = this.live.get(rt);
    if (!s) this.live.set(rt, (s = new Set()));
    s.add(id);
  }

  remove(rt: RuntimeName, id: string): void {
    this.live.get(rt)?.delete(id);
  }

  /** IDs still possibly present for one runtime. */
  ids(rt: RuntimeName): string[] {
    return [...(this.live.get(rt) ?? [])];
  }

  get size(): number {
    let n = 0;
    for (const s of this.live.values()) n += s.size;
    return n;
  }
}

/** Runs `fn` over items, `width` at a time. */
export async function inBatches<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(fn));
}

/** `delete --force` every tracked container of every runtime, 8 at a time; errors are ignored (it may be gone). */
export async function forceDeleteAll(runtimes: readonly RuntimeSpec[], tracker: Tracker, width = 8): Promise<void> {
  for (const rt of runtimes) {
    await inBatches(tracker.ids(rt.name), width, async (id) => {
      const r = await rtAsync(rt, ['delete', '--force', id]);
      if (r.status === 0) tracker.remove(rt.name, id);
    });
  }
}

/**
 * The mounted cgroup hierarchies: every v1 controller directory under /sys/fs/cgroup plus the cgroup2 mount
 * (/sys/fs/cgroup/unified here, or /sys/fs/cgroup itself on a pure v2 host). Symlinks such as `cpu,cpuacct` are
 * skipped so no hierarchy is visited twice.
 */
export function cgroupHierarchies(base = '/sys/fs/cgroup'): string[] {
  if (fs.existsSync(path.join(base, 'cgroup.procs'))) return [base];
  const out: string[] = [];
  for (const d of fs.readdirSync(base, { withFileTypes: true })) {
    if (d.isDirectory() && fs.existsSync(path.join(base, d.name, 'cgroup.procs'))) out.push(path.join(base, d.name));
  }
  return out;
}

function subdirsDepthFirst(dir: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) if (d.isDirectory()) out.push(...subdirsDepthFirst(path.join(dir, d.name)));
  out.push(dir);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Removes `<hierarchy><prefix>` and everything below it in every hierarchy, deepest first. Processes still in one of
 * these cgroups can only be this run's containers, so they are SIGKILLed; rmdir is retried for a while because a
 * killed task leaves its cgroup asynchronously (EBUSY until then). Returns the directories that could not be removed.
 */
export async function removeCgroupTree(prefix: string, hierarchies = cgroupHierarchies()): Promise<string[]> {
  const left: string[] = [];
  for (const h of hierarchies) {
    const top = path.join(h, prefix);
    if (!fs.existsSync(top)) continue;
    for (const dir of subdirsDepthFirst(top)) {
      let removed = false;
      for (let attempt = 0; attempt < 100 && !removed; attempt++) {
        try {
          for (const pid of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
            try {
              process.kill(Number(pid), 'SIGKILL');
            } catch {
              // already gone
            }
          }
          fs.rmdirSync(dir);
          removed = true;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') removed = true;
          else await sleep(20);
        }
      }
      if (!removed) left.push(dir);
    }
  }
  return left;
}
