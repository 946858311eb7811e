import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultSpec } from '../../src/oci/default-spec.js';
import type { Spec } from '../../src/oci/types.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const RUNTS = join(REPO, 'bin/runts');
export const isRoot = process.getuid?.() === 0;

export interface Result {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A scratch state root plus everything a test makes, removed by `cleanup()` even when the test failed. */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'runts-test-'));
  readonly root = join(this.dir, 'state');
  /** Unique per sandbox so parallel test files never share a cgroup. */
  readonly cgroupParent = `/runts-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private ids = new Set<string>();

  id(name: string): string {
    const id = `${name}-${Math.random().toString(36).slice(2, 8)}`;
    this.ids.add(id);
    return id;
  }

  /** Registers an ID chosen by the test, so cleanup deletes it. */
  track(id: string): string {
    this.ids.add(id);
    return id;
  }

  /** A bundle with a busybox rootfs and the default config, changed by `edit`. */
  bundle(id: string, edit: (spec: Spec) => void = () => undefined): string {
    const dir = join(this.dir, `bundle-${id}`);
    mkdirSync(dir, { recursive: true });
    const made = spawnSync(join(REPO, 'scripts/make-rootfs.sh'), [join(dir, 'rootfs')], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`make-rootfs failed: ${made.stderr}`);
    const spec = defaultSpec({});
    spec.process!.terminal = false;
    spec.linux!.cgroupsPath = `${this.cgroupParent}/${id}`;
    edit(spec);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    return dir;
  }

  runts(args: string[], opts: { cwd?: string; input?: string; timeoutMs?: number } = {}): Result {
    const r: SpawnSyncReturns<string> = spawnSync(RUNTS, ['--root', this.root, ...args], {
      encoding: 'utf8',
      cwd: opts.cwd,
      input: opts.input ?? '',
      timeout: opts.timeoutMs ?? 30_000,
    });
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  }

  /** Asynchronous variant, for concurrent commands. */
  runtsAsync(args: string[]): Promise<Result> {
    return new Promise((done) => {
      const child = spawn(RUNTS, ['--root', this.root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (status, signal) => done({ status, signal, stdout, stderr }));
    });
  }

  state(id: string): { status: string; pid: number } & Record<string, unknown> {
    const r = this.runts(['state', id]);
    if (r.status !== 0) throw new Error(`state ${id} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  /** Force-deletes every container the test made, then removes cgroups and files. */
  cleanup(): void {
    for (const id of this.ids) this.runts(['delete', '--force', id]);
    for (const hierarchy of cgroupHierarchies()) {
      const parent = join(hierarchy, this.cgroupParent);
      if (!existsSync(parent)) continue;
      for (const child of readdirSync(parent, { withFileTypes: true })) if (child.isDirectory()) rmdirQuiet(join(parent, child.name));
      rmdirQuiet(parent);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function cgroupHierarchies(): string[] {
  const base = '/sys/fs/cgroup';
  if (!existsSync(base)) return [];
  if (existsSync(join(base, 'cgroup.controllers'))) return [base];
  return readdirSync(base, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(base, d.name));
}

function rmdirQuiet(p: string): void {
  try {
    // cgroupfs directories are removed with rmdir even though they list files.
    rmdirSync(p);
  } catch {
    // best effort: still busy or already gone
  }
}

/** Live processes (not zombies) whose root directory is `rootfs` — what a leaked container would leave. */
export function processesRootedAt(rootfs: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/root`) === rootfs) pids.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** Waits (polling, test-only) until `check` is true or the time is up. */
export async function eventually(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return check();
}
