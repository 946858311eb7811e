import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BenchError } from './errors.js';

/** The runts the benchmark runs: a private copy, so rebuilds of the repo during a long run cannot change it. */
export interface RuntsInstall {
  /** bin/runts of the copy. */
  bin: string;
  /** Where it came from (commit, dirty or not), for the report. */
  origin: string;
  /** How it was built, for the report. */
  build: string;
}

const ADDON = path.join('build', 'Release', 'runts_native.node');

function run(cmd: string, args: string[], cwd: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
}

function gitHead(repo: string): string {
  return run('git', ['-C', repo, 'rev-parse', '--short', 'HEAD'], repo).out;
}

/**
 * `--source worktree` (default): `npm run build:ts` in the repo, then copy bin/, dist/, package.json and the native
 * outputs (build/Release/*) into `<workDir>/runts` with node_modules linked. Everything runts resolves at run time (addon, worker modules) is
 * relative to its own dist/ file, so the copy is self-contained. tsc still emits on type errors, so a failed build
 * is reported (in `build`), not fatal.
 */
export function installWorktree(repo: string, workDir: string, build: boolean, log: (m: string) => void): RuntsInstall {
  let status = 'skipped (--no-build)';
  if (build) {
    log('building dist/ (npm run build:ts)…');
    const r = run('npm', ['run', 'build:ts'], repo);
    status = r.ok ? 'npm run build:ts: ok' : 'npm run build:ts FAILED (type errors; measuring what tsc emitted)';
    if (!r.ok) log(`warning: npm run build:ts failed; measuring what tsc emitted anyway\n${r.out}`);
  }
  if (!fs.existsSync(path.join(repo, 'dist', 'cli.js'))) throw new BenchError('not_found', 'dist/cli.js is missing: run npm run build:ts');
  if (!fs.existsSync(path.join(repo, ADDON))) throw new BenchError('not_found', `${ADDON} is missing: run npm run build:native`);
  const dir = path.join(workDir, 'runts');
  fs.cpSync(path.join(repo, 'bin'), path.join(dir, 'bin'), { recursive: true, verbatimSymlinks: true });
  fs.cpSync(path.join(repo, 'dist'), path.join(dir, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(repo, 'package.json'), path.join(dir, 'package.json'));
  // The native outputs (addon, helper executables such as the gofer): the regular files of build/Release.
  const release = path.join(repo, 'build', 'Release');
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  for (const f of fs.readdirSync(release, { withFileTypes: true })) {
    if (f.isFile()) fs.copyFileSync(path.join(release, f.name), path.join(dir, 'build', 'Release', f.name));
  }
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  const dirty = run('git', ['-C', repo, 'status', '--porcelain', '--', 'src', 'binding.gyp'], repo).out !== '';
  return {
    bin: path.join(dir, 'bin', 'runts'),
    origin: `working tree at git ${gitHead(repo)}${dirty ? ' + uncommitted changes in src/' : ''}`,
    build: status,
  };
}

/**
 * `--source head`: the last commit, whatever the working tree holds — `git archive HEAD` into `<workDir>/runts`,
 * node_modules linked, then `npm run build:native` and `npm run build:ts` there. Use it to measure a known commit
 * while src/ is being edited. Both builds must succeed.
 */
export function installHead(repo: string, workDir: string, log: (m: string) => void): RuntsInstall {
  const dir = path.join(workDir, 'runts');
  fs.mkdirSync(dir);
  const head = gitHead(repo);
  log(`exporting git ${head} and building it (npm run build:native, npm run build:ts)…`);
  const exp = run('sh', ['-c', `git -C "$0" archive HEAD | tar -x -C "$1"`, repo, dir], repo);
  if (!exp.ok) throw new BenchError('sys', `git archive HEAD of ${repo} failed: ${exp.out}`);
  fs.symlinkSync(path.join(repo, 'node_modules'), path.join(dir, 'node_modules'));
  for (const script of ['build:native', 'build:ts']) {
    const r = run('npm', ['run', script], dir);
    if (!r.ok) throw new BenchError('sys', `npm run ${script} of git ${head} failed in ${dir}: ${r.out.split('\n').slice(-5).join(' / ')}`);
  }
  return { bin: path.join(dir, 'bin', 'runts'), origin: `git ${head} (committed HEAD, built apart from the working tree)`, build: 'npm run build:native + build:ts: ok' };
}
