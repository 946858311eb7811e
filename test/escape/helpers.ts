// Shared pieces of the escape suite: a canary tree on the host that hostile links point at, a snapshot of the
// host places an escape would touch, and the two acceptable outcomes of a hostile create.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Spec } from '../../src/oci/types.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { assertNoLeftovers, isRoot, REPO, type Result, type Sandbox } from '../helpers/runts.js';

export const skip = isRoot ? false : 'needs root: real containers';

/** Host directories an escape aims at (their listings are compared). */
const WATCHED_DIRS = ['/dev', '/etc'];
/**
 * The names a runtime or a hostile case here can make in a watched directory: what runts makes in a container's
 * /dev and /etc, and whatever this guard named (its tag). Others on this VM install packages while the suite runs
 * (/etc/docker, /etc/*.dpkg-new appear); such a name cannot come from these cases, so it does not fail them.
 */
const RUNTIME_NAMES = new Set(['null', 'zero', 'full', 'random', 'urandom', 'tty', 'console', 'fd', 'stdin', 'stdout', 'stderr', 'ptmx', 'pts', 'shm', 'mqueue', 'hostname', 'hosts', 'resolv.conf', 'sub', 'planted', 'inner', 'secret']);
/** Host kernel settings a write through a fake or relinked /proc would change. */
const WATCHED_FILES = ['/proc/sys/kernel/core_pattern', '/proc/sys/kernel/modprobe'];

interface Entry {
  type: string;
  mode: number;
  uid: number;
  gid: number;
  content?: string;
  target?: string;
}

/**
 * A host directory `base` (under /tmp, never inside a rootfs) holding a canary tree — files and directories with
 * known contents and modes — that hostile links point at, plus the names of planned host targets that must never
 * appear. `check()` compares everything byte for byte with the state at construction; `cleanup()` removes it all,
 * including whatever an escape left (only paths this guard named).
 */
export class HostGuard {
  readonly base = mkdtempSync('/tmp/runts-escape-');
  readonly canary = join(this.base, 'canary');
  /** A directory hostile links point at: anything created through them would appear here. */
  readonly dir = join(this.canary, 'd1');
  /** A secret file hostile links point at: it must never be read out, written or replaced. */
  readonly secret = join(this.canary, 'secret');
  private readonly planned: string[] = [];
  private readonly before: Map<string, string>;
  private readonly tag = this.base.slice('/tmp/runts-escape-'.length);

  constructor() {
    mkdirSync(this.canary, { mode: 0o755 });
    writeFileSync(this.secret, `host secret ${this.tag}\n`, { mode: 0o600 });
    mkdirSync(this.dir, { mode: 0o750 });
    writeFileSync(join(this.dir, 'inner'), `inner ${this.tag}\n`, { mode: 0o644 });
    mkdirSync(join(this.canary, 'd2', 'deep'), { recursive: true, mode: 0o700 });
    writeFileSync(join(this.canary, 'd2', 'deep', 'ro'), 'read only\n', { mode: 0o444 });
    chmodSync(join(this.canary, 'd2'), 0o711);
    this.before = this.snapshot();
  }

  /**
   * A host path with a unique name that must not exist afterwards. `where` picks its directory: the guard's base
   * (default), or /etc or /dev (whose listings are watched too).
   */
  target(name: string, where: 'base' | '/etc' | '/dev' = 'base'): string {
    const p = where === 'base' ? join(this.base, `planted-${name}`) : join(where, `runts-escape-${this.tag}-${name}`);
    this.planned.push(p);
    return p;
  }

  /** Every watched thing as `key -> description`, so a difference can be named in one line. */
  private snapshot(): Map<string, string> {
    const snap = new Map<string, string>();
    const walk = (p: string): void => {
      const st = lstatSync(p);
      const type = st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'link' : st.isFile() ? 'file' : 'special';
      let what = `${type} mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid}`;
      if (st.isFile()) what += ` sha256=${createHash('sha256').update(readFileSync(p)).digest('hex')}`;
      if (st.isSymbolicLink()) what += ` -> ${readlinkSync(p)}`;
      snap.set(p, what);
      if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
    };
    walk(this.base);
    for (const d of WATCHED_DIRS) for (const n of readdirSync(d)) snap.set(join(d, n), 'present');
    for (const f of WATCHED_FILES) if (existsSync(f)) snap.set(f, readFileSync(f, 'utf8').trim());
    return snap;
  }

  /** The host is as it was: canary byte for byte, no planned target, same listings of /dev, /etc and the base. */
  check(): void {
    for (const p of this.planned) assert.equal(existsSync(p), false, `the host target ${p} was created`);
    const now = this.snapshot();
    const changes: string[] = [];
    const ours = (k: string) => !WATCHED_DIRS.includes(dirname(k)) || RUNTIME_NAMES.has(basename(k)) || k.includes(this.tag);
    for (const [k, v] of now) if (this.before.get(k) !== v && ours(k)) changes.push(this.before.has(k) ? `changed ${k}: ${v}` : `appeared ${k}: ${v}`);
    for (const k of this.before.keys()) if (!now.has(k) && ours(k)) changes.push(`vanished ${k}`);
    assert.deepEqual(changes, [], `the host changed:\n${changes.join('\n')}`);
  }

  cleanup(): void {
    // A run that did write a host kernel setting must not leave it changed for the rest of the machine.
    for (const f of WATCHED_FILES) {
      const was = this.before.get(f);
      if (was !== undefined && readFileSync(f, 'utf8').trim() !== was) writeFileSync(f, was);
    }
    for (const p of this.planned) rmSync(p, { recursive: true, force: true });
    rmSync(this.base, { recursive: true, force: true });
  }
}

/** Runs `body` with a fresh HostGuard, checks the host afterwards and cleans up even on failure. */
export async function guarded(body: (host: HostGuard) => void | Promise<void>): Promise<void> {
  const host = new HostGuard();
  try {
    await body(host);
    host.check();
  } finally {
    host.cleanup();
  }
}

export interface Hostile {
  id: string;
  bundle: string;
  rootfs: string;
}

/**
 * A busybox bundle made hostile: `edit` changes its config, `prepare` its rootfs (links, fifos, nodes...).
 * Like `Sandbox.bundle` (same defaults), but the rootfs is a copy of one made once per sandbox: make-rootfs.sh
 * takes seconds, a copy a tenth of one, and the suite makes dozens.
 */
export function hostile(sb: Sandbox, name: string, opts: { edit?: (s: Spec) => void; prepare?: (rootfs: string) => void } = {}): Hostile {
  const template = join(sb.dir, 'template-rootfs');
  if (!existsSync(template)) {
    const made = spawnSync(join(REPO, 'scripts/make-rootfs.sh'), [template], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`make-rootfs failed: ${made.stderr}`);
  }
  const id = sb.id(name);
  const bundle = join(sb.dir, `bundle-${id}`);
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(bundle);
  const copied = spawnSync('cp', ['-a', template, rootfs], { encoding: 'utf8' });
  if (copied.status !== 0) throw new Error(`copying the rootfs failed: ${copied.stderr}`);
  const spec = defaultSpec({});
  spec.process!.terminal = false;
  spec.process!.args = ['/bin/true'];
  spec.root!.readonly = false;
  spec.linux!.cgroupsPath = `${sb.cgroupParent}/${id}`;
  opts.edit?.(spec);
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
  opts.prepare?.(rootfs);
  return { id, bundle, rootfs };
}

/** Replaces rootfs/<path> (file, dir or nothing) with a symlink to `target`, making its parents. */
export function plantLink(rootfs: string, path: string, target: string): void {
  const p = join(rootfs, path);
  rmSync(p, { recursive: true, force: true });
  mkdirSync(join(p, '..'), { recursive: true });
  spawnSync('ln', ['-s', target, p]);
  assert.equal(readlinkSync(p), target);
}

/** The mount list without one destination (so a link planted under it is not hidden by the runtime's mount). */
export function withoutMount(s: Spec, ...destinations: string[]): void {
  s.mounts = (s.mounts ?? []).filter((m) => !destinations.includes(m.destination));
}

/** A refusal: non-zero exit, one clear line on stderr, nothing left behind. */
export function assertRefused(sb: Sandbox, c: Hostile, r: Result, mentions?: RegExp): void {
  assert.notEqual(r.status, 0, `expected a refusal, got success: ${r.stdout}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
  if (mentions) assert.match(lines[0], mentions);
  assertNoLeftovers(sb, c.id, c.bundle);
  sb.untrack(c.id); // nothing to delete at cleanup (each delete there is a whole runts run)
}

/**
 * Either outcome runc would accept for a hostile path that resolves inside the rootfs: the run succeeds (then
 * `inside` checks where things landed, from the container's output), or it is refused cleanly. Both leave
 * nothing behind (`run` deletes the container when its process exits).
 */
export function assertInsideOrRefused(sb: Sandbox, c: Hostile, r: Result, inside: (stdout: string) => void): void {
  if (r.status === 0) {
    inside(r.stdout);
    assertNoLeftovers(sb, c.id, c.bundle);
    sb.untrack(c.id);
  } else {
    assertRefused(sb, c, r);
  }
}

/** /proc/<pid>/status capability sets, as bigints. */
export function capsOf(status: string): { eff: bigint; prm: bigint; bnd: bigint; inh: bigint; amb: bigint } {
  const get = (k: string) => BigInt(`0x${status.match(new RegExp(`^${k}:\\s*([0-9a-f]+)$`, 'm'))?.[1] ?? 'x'}`);
  return { eff: get('CapEff'), prm: get('CapPrm'), bnd: get('CapBnd'), inh: get('CapInh'), amb: get('CapAmb') };
}
