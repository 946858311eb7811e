import { spawnSync } from 'node:child_process';
import { chmodSync, constants, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUNTS, type Result } from './runts.js';

/** newuidmap/newgidmap (Debian's uidmap package) are installed: the subordinate-id tests need them. */
export const hasIdMappers = spawnSync('sh', ['-c', 'command -v newuidmap && command -v newgidmap'], { encoding: 'utf8' }).status === 0;

/**
 * An ordinary user made for one test file (useradd, a unique name runts-rl-<random>), with its own subordinate uid
 * and gid range in /etc/subuid and /etc/subgid; `remove()` deletes it and its ranges. runts runs as that user through
 * setpriv, with XDG_RUNTIME_DIR a 0700 directory of its own.
 */
export class TestUser {
  readonly name = `runts-rl-${Math.random().toString(36).slice(2, 8)}`;
  readonly uid: number;
  readonly gid: number;
  /** The first subordinate id of the user (uid and gid alike), 65536 of them. */
  readonly subStart: number;

  constructor() {
    must('useradd', ['--no-create-home', '--shell', '/usr/sbin/nologin', '--user-group', this.name]);
    this.uid = Number(must('id', ['-u', this.name]).trim());
    this.gid = Number(must('id', ['-g', this.name]).trim());
    // useradd gives a range when SUB_UID_COUNT allows it; read what it chose, else add one.
    const existing = subStartOf('/etc/subuid', this.name);
    this.subStart = existing ?? 300000 + (this.uid % 1000) * 65536;
    if (existing === undefined || subStartOf('/etc/subgid', this.name) !== existing) {
      const range = `${this.subStart}-${this.subStart + 65535}`;
      must('usermod', ['--add-subuids', range, '--add-subgids', range, this.name]);
    }
  }

  /** A 0700 directory of the user's (its XDG_RUNTIME_DIR in the tests). */
  privateDir(parent: string, name: string): string {
    const dir = join(parent, name);
    mkdirSync(dir, { recursive: true });
    chownSync(dir, this.uid, this.gid);
    chmodSync(dir, 0o700);
    return dir;
  }

  /**
   * Runs a command as the user, with only PATH and the given environment. Output goes through files, not pipes: a
   * container the command starts inherits them and may outlive it.
   *
   * `stdinOpen` gives it a stdin that never ends (a fifo this process holds open) instead of /dev/null: script(1)
   * turns the end of its stdin into a byte typed on its terminal, which a relay copies into the container's terminal
   * and that terminal echoes ("^@") into the output, at a moment that varies from run to run.
   */
  run(cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string; stdinOpen?: boolean } = {}): Result {
    const dir = mkdtempSync(join(tmpdir(), 'runts-rl-out-'));
    const outFd = openSync(join(dir, 'out'), 'w+');
    const errFd = openSync(join(dir, 'err'), 'w+');
    let inFd: number | 'ignore' = 'ignore';
    if (opts.stdinOpen) {
      const fifo = join(dir, 'in');
      if (spawnSync('mkfifo', [fifo]).status !== 0) throw new Error(`mkfifo ${fifo} failed`);
      // Read and write: the open does not wait for a writer, and the reader never sees one leave.
      inFd = openSync(fifo, constants.O_RDWR);
    }
    try {
      const r = spawnSync('setpriv', ['--reuid', String(this.uid), '--regid', String(this.gid), '--init-groups', cmd, ...args], {
        cwd: opts.cwd ?? '/',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...opts.env },
        stdio: [inFd, outFd, errFd],
        timeout: 30_000,
      });
      return { status: r.status, signal: r.signal, stdout: readFileSync(join(dir, 'out'), 'utf8'), stderr: readFileSync(join(dir, 'err'), 'utf8') };
    } finally {
      closeSync(outFd);
      closeSync(errFd);
      if (inFd !== 'ignore') closeSync(inFd);
      rmSync(dir, { recursive: true, force: true });
    }
  }

  /** bin/runts as the user. */
  runts(args: string[], env: Record<string, string>, cwd?: string): Result {
    return this.run(RUNTS, args, { env, cwd });
  }

  remove(): void {
    // userdel also removes the user's subordinate ranges; processes left by a failed test go first.
    for (const pid of pidsOfUid(this.uid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    spawnSync('userdel', [this.name]);
  }
}

function must(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

function subStartOf(file: string, name: string): number | undefined {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const line = text.split('\n').find((l) => l.startsWith(`${name}:`));
  return line ? Number(line.split(':')[1]) : undefined;
}

/** Pids whose real uid is `uid` (/proc/<pid>/status). */
export function pidsOfUid(uid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const line = readFileSync(`/proc/${name}/status`, 'utf8').split('\n').find((l) => l.startsWith('Uid:'));
      if (line && Number(line.split(/\s+/)[1]) === uid) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}
