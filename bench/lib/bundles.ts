import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BenchError } from './errors.js';
import type { RuntimeName } from './report.js';

/** The few config.json fields the benchmarks change; everything else stays as `runts spec` wrote it. */
interface BenchConfig {
  ociVersion: string;
  process: { terminal?: boolean; args: string[]; [k: string]: unknown };
  root: { path: string; readonly?: boolean };
  linux?: { cgroupsPath?: string; [k: string]: unknown };
  [k: string]: unknown;
}

/** Writes one bundle per container, all sharing one busybox rootfs. */
export interface BundleFactory {
  rootfs: string;
  /** Cgroup parent of every container of this run, e.g. `/runts-bench-1234`: removed at the end. */
  cgroupPrefix: string;
  /** Directory (under the run's temp dir) that holds the per-container bundles. */
  dir: string;
  base: BenchConfig;
}

/**
 * Builds the busybox rootfs (`scripts/make-rootfs.sh`) and the base config (`runts spec`), adjusted for benchmarks:
 * terminal false (there is no console socket), root.path absolute so every bundle shares the one rootfs, and
 * root.readonly left at the spec's default.
 */
export function prepareBundles(repo: string, runtsBin: string, workDir: string, cgroupPrefix: string): BundleFactory {
  const rootfs = path.join(workDir, 'rootfs');
  const mk = spawnSync(path.join(repo, 'scripts/make-rootfs.sh'), [rootfs], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (mk.status !== 0) throw new BenchError('sys', `scripts/make-rootfs.sh ${rootfs} failed: ${mk.stderr.trim()}; install busybox-static`);
  const specDir = path.join(workDir, 'spec');
  fs.mkdirSync(specDir);
  const sp = spawnSync(runtsBin, ['spec', '--bundle', specDir], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (sp.status !== 0) throw new BenchError('sys', `runts spec --bundle ${specDir} failed: ${sp.stderr.trim()}; run npm run build:ts`);
  const base = JSON.parse(fs.readFileSync(path.join(specDir, 'config.json'), 'utf8')) as BenchConfig;
  // crun 1.8.1 rejects any ociVersion that does not contain "1.0" ("unknown version specified"); runc and runts
  // accept 1.0.2, and nothing in this config needs a newer spec version, so all three get the same file.
  base.ociVersion = '1.0.2';
  base.process.terminal = false;
  base.root = { ...base.root, path: rootfs };
  const dir = path.join(workDir, 'bundles');
  fs.mkdirSync(dir);
  return { rootfs, cgroupPrefix, dir, base };
}

/**
 * Writes `<dir>/<runtime>/<id>/config.json` running `args`, with a cgroupsPath unique to the runtime and ID
 * (`<prefix>/<runtime>/<id>`): runtimes kill every process of a container's cgroup on delete, so two containers must
 * never share one. Returns the bundle directory.
 */
export function writeBundle(f: BundleFactory, rt: RuntimeName, id: string, args: string[]): string {
  const bundle = path.join(f.dir, rt, id);
  fs.mkdirSync(bundle, { recursive: true });
  const config: BenchConfig = {
    ...f.base,
    process: { ...f.base.process, args },
    linux: { ...f.base.linux, cgroupsPath: `${f.cgroupPrefix}/${rt}/${id}` },
  };
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config, null, 2));
  return bundle;
}
