import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BenchError } from './errors.js';

/**
 * Where the runtimes keep their state during a run: a tmpfs of the run's own, as /run — where runc, crun and runts
 * keep theirs by default (/run/runc, /run/crun, /run/runts) — is a tmpfs on a standard Debian 12 system (systemd or
 * initscripts mount it). Some machines have /run on disk (this VM, without systemd); there a root on disk makes
 * runts pay a disk flush per store commit that it does not pay where it is deployed, while runc and crun, which do
 * not flush their state files, would not notice. Benchmark 3 also runs once with its root on the disk (`diskDir`),
 * so the report shows both.
 */
export interface StateRoots {
  /** The tmpfs mount point: every runtime's root lives under it. */
  dir: string;
  /** A directory on the disk of the run's temp dir, for the disk variant of benchmark 3. */
  diskDir: string;
  /** Unmounts the tmpfs (lazily if a straggler still holds a file in it). */
  release(): void;
}

export function mountStateRoots(workDir: string): StateRoots {
  const dir = path.join(workDir, 'roots');
  const diskDir = path.join(workDir, 'roots-on-disk');
  fs.mkdirSync(dir);
  fs.mkdirSync(diskDir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'mode=0700', 'runts-bench-roots', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new BenchError('sys', `mounting a tmpfs on ${dir} failed: ${(r.stderr || r.error?.message || '').trim()}; run the benchmarks as root`);
  return {
    dir,
    diskDir,
    release() {
      if (spawnSync('umount', [dir]).status !== 0) spawnSync('umount', ['-l', dir]);
    },
  };
}
