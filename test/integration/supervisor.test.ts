// The resident host (`runts supervise`) with real containers: CLI commands forward to it and give the same answers
// as without it; containers it creates are its children, and the exit status of one killed with SIGKILL is
// recorded at once (history row with exitStatus 137); a create that needs the caller's stdio runs in the CLI and
// its exit is still seen; a second supervisor is refused; a dead supervisor's socket is ignored.
// RUNTS_LATENCY_RUNS=50 measures SIGKILL → exit event (end to end, through the store feed) over 50 containers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTS, Sandbox, eventually, isRoot } from '../helpers/runts.js';
import { readProcStat } from '../../src/linux/proc.js';
import { nativePort } from '../../src/native/index.js';
import { Runtime } from '../../src/runtime.js';
import type { TransitionRecord } from '../../src/persistence/store.js';

const skip = isRoot ? false : 'needs root: real containers';
const sleeper = (spec: { process?: { args?: string[] } }) => (spec.process!.args = ['sleep', '1000']);
const transient = { RUNTS_NO_SUPERVISOR: '1' };
// These tests are about the Node CLI forwarding to supervisor.sock: bin/runts goes straight to Node (a supervisor
// also serves the native front, which test/integration/front.test.ts covers).
process.env.RUNTS_FRONT = '0';

/** Runs runts with stdin, stdout and stderr on /dev/null — the same files as the supervisor's, so a create forwards. */
function quiet(sb: Sandbox, args: string[]): number | null {
  return spawnSync(RUNTS, ['--root', sb.root, ...args], { stdio: 'ignore', timeout: 30_000 }).status;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

describe('runts supervise', { skip }, () => {
  let sb: Sandbox;
  let supervisor: ChildProcess;
  let logFile: string;
  const socket = () => join(sb.root, 'supervisor.sock');

  before(async () => {
    sb = new Sandbox();
    logFile = join(sb.dir, 'supervisor.log');
    // stdio on /dev/null, as a daemon's: creates from callers whose stdio is /dev/null too can be forwarded.
    supervisor = spawn(RUNTS, ['--root', sb.root, '--log', logFile, '--debug', 'supervise'], { stdio: 'ignore' });
    const up = await eventually(() => existsSync(socket()) && sb.runts(['list', '-q']).status === 0, 10_000);
    assert.ok(up, `supervisor did not come up: ${existsSync(logFile) ? readFileSync(logFile, 'utf8') : 'no log'}`);
  });

  after(async () => {
    if (supervisor.exitCode === null && supervisor.signalCode === null) {
      const gone = new Promise((r) => supervisor.once('exit', r));
      supervisor.kill('SIGTERM');
      await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
      if (supervisor.exitCode === null && supervisor.signalCode === null) supervisor.kill('SIGKILL');
    }
    sb.cleanup(); // no supervisor any more: transient deletes
  });

  test('the control socket is the root\'s supervisor.sock, mode 0600, and a second supervisor is refused', () => {
    const mode = spawnSync('stat', ['-c', '%a %F', socket()], { encoding: 'utf8' }).stdout.trim();
    assert.equal(mode, '600 socket');
    const second = sb.runts(['supervise'], { timeoutMs: 10_000 });
    assert.equal(second.status, 1);
    assert.match(second.stderr, new RegExp(`^runts: a supervisor \\(pid ${supervisor.pid}\\) already serves ${sb.root}: stop it first`));
  });

  test('a create forwarded to the supervisor makes the init its child; SIGKILL is recorded at once with status 137', async () => {
    const id = sb.id('sigkill');
    const bundle = sb.bundle(id, sleeper);
    assert.equal(quiet(sb, ['create', '--bundle', bundle, id]), 0);
    assert.equal(sb.runts(['start', id]).status, 0);
    const { pid } = sb.state(id);
    assert.equal(readProcStat(pid)?.ppid, supervisor.pid, 'the init is a child of the supervisor');

    const rt = await Runtime.open({ root: sb.root });
    const ac = new AbortController();
    try {
      const exit = (async () => {
        for await (const ev of rt.events({ id, signal: ac.signal })) if (ev.type === 'exit') return ev;
        return undefined;
      })();
      const t0 = performance.now();
      process.kill(pid, 'SIGKILL');
      const ev = await Promise.race([exit, new Promise<undefined>((r) => setTimeout(r, 5000))]);
      const ms = performance.now() - t0;
      assert.equal(ev?.exitStatus, 137, 'exit event with the status');
      assert.equal(ev?.pid, supervisor.pid, 'recorded by the supervisor');
      assert.ok(ms < 1000, `exit recorded ${ms.toFixed(1)} ms after SIGKILL`);
    } finally {
      ac.abort();
      await rt.close();
    }
    // No reconcile needed: the record already says so, for the CLI with or without forwarding.
    for (const env of [{}, transient]) {
      const state = JSON.parse(sb.runts(['state', id], { env }).stdout);
      assert.equal(state.status, 'stopped');
      assert.equal(state.pid, 0);
      const history = JSON.parse(sb.runts(['history', '--format', 'json', id], { env }).stdout) as TransitionRecord[];
      const last = history.at(-1)!;
      assert.deepEqual([last.from, last.to, last.event, last.exitStatus, last.pid], ['running.idle', 'stopped.idle', 'observed.exited', 137, supervisor.pid]);
    }
    const table = sb.runts(['history', id]).stdout.trimEnd().split('\n').at(-1)!.split(/\s+/);
    assert.deepEqual(table.slice(3), ['stopped.idle', 'observed.exited', String(supervisor.pid), '137']);
    assert.equal(sb.runts(['delete', id]).status, 0);
  });

  test('a create with a console socket is forwarded (the pty is the stdio, the caller\'s fds do not matter)', async () => {
    const id = sb.id('tty');
    const bundle = sb.bundle(id, (s) => {
      s.process!.terminal = true;
      s.process!.args = ['sleep', '1000'];
    });
    const console = join(sb.dir, `console-${id}.sock`);
    const master = nativePort().recvFdAsync(console, 10_000);
    const r = sb.runts(['create', '--bundle', bundle, '--console-socket', console, id]);
    assert.equal(r.status, 0, r.stderr);
    nativePort().closeFd(await master);
    assert.equal(readProcStat(sb.state(id).pid)?.ppid, supervisor.pid);
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
  });

  test('a create with a relative cgroupsPath runs in the CLI: the path hangs from the caller\'s cgroup, not the supervisor\'s', async () => {
    const id = sb.id('relcg');
    const bundle = sb.bundle(id, (s) => {
      sleeper(s);
      s.process!.terminal = true; // with a console socket: the caller's stdio would not keep it from being forwarded
      s.linux!.cgroupsPath = `relc-${id}`; // one level: delete removes all of it
    });
    const console = join(sb.dir, `console-${id}.sock`);
    const master = nativePort().recvFdAsync(console, 10_000);
    const r = sb.runts(['--debug', 'create', '--bundle', bundle, '--console-socket', console, id]);
    assert.equal(r.status, 0, r.stderr);
    nativePort().closeFd(await master);
    assert.match(r.stderr, /the supervisor declined: running here.*relative cgroupsPath/);
    assert.notEqual(readProcStat(sb.state(id).pid)?.ppid, supervisor.pid);
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
  });

  test('a create that needs the caller\'s stdio runs in the CLI; the supervisor still sees its exit (status unknown)', async () => {
    const id = sb.id('own-stdio');
    const bundle = sb.bundle(id, sleeper);
    const r = sb.runts(['--debug', 'create', '--bundle', bundle, id]); // stdout and stderr are files: not the supervisor's
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /the supervisor declined: running here/);
    assert.equal(sb.runts(['start', id]).status, 0);
    const { pid } = sb.state(id);
    assert.notEqual(readProcStat(pid)?.ppid, supervisor.pid);
    process.kill(pid, 'SIGKILL');
    // Recorded by the supervisor (not by a reconcile of a later command): its pid is on the row.
    const recorded = await eventually(() => {
      const last = readHistory(sb, id).at(-1);
      return last?.event === 'observed.exited' && last.pid === supervisor.pid;
    }, 5000);
    assert.ok(recorded, JSON.stringify(readHistory(sb, id).at(-1)));
    assert.equal(readHistory(sb, id).at(-1)!.exitStatus, null);
    assert.equal(sb.runts(['delete', id]).status, 0);
  });

  test('commands give the same answers with the supervisor and without it', () => {
    const a = sb.id('same-a');
    const b = sb.id('same-b');
    assert.equal(quiet(sb, ['run', '--detach', '--bundle', sb.bundle(a, sleeper), a]), 0);
    assert.equal(quiet(sb, ['create', '--bundle', sb.bundle(b, sleeper), b]), 0);
    assert.equal(sb.runts(['pause', a]).status, 0);
    const both = (args: string[]) => [sb.runts(args), sb.runts(args, { env: transient })];
    for (const args of [['state', a], ['state', b], ['list', '--format', 'json'], ['list', '-q'], ['history', '--format', 'json', a], ['ps', '--format', 'json', a]]) {
      const [fwd, local] = both(args);
      assert.equal(fwd.status, 0, `${args.join(' ')}: ${fwd.stderr}`);
      assert.deepEqual([fwd.status, fwd.stdout, fwd.stderr], [local.status, local.stdout, local.stderr], args.join(' '));
    }
    // Errors: same exit status and the same single line on stderr.
    for (const args of [['state', 'nosuch'], ['pause', b], ['start', a], ['delete', a], ['kill', 'nosuch', 'KILL'], ['history', 'never-was']]) {
      const [fwd, local] = both(args);
      assert.equal(fwd.status, 1, args.join(' '));
      assert.deepEqual([fwd.status, fwd.stderr], [local.status, local.stderr], args.join(' '));
    }
    // Operations through either host act on the same state.
    assert.equal(sb.runts(['resume', a], { env: transient }).status, 0);
    assert.equal(sb.state(a).status, 'running');
    assert.equal(sb.runts(['pause', a], { env: transient }).status, 0);
    assert.equal(sb.runts(['state', a], { env: transient }).stdout, sb.runts(['state', a]).stdout);
    assert.equal(sb.runts(['delete', '--force', a]).status, 0);
    assert.equal(sb.runts(['delete', b]).status, 0);
    assert.equal(sb.runts(['list', '-q']).stdout.split('\n').filter((l) => l === a || l === b).length, 0);
  });

  test('exec --detach is forwarded too, and its process is reaped by the supervisor', async () => {
    const id = sb.id('exec');
    assert.equal(quiet(sb, ['run', '--detach', '--bundle', sb.bundle(id, sleeper), id]), 0);
    const pidFile = join(sb.dir, `exec-${id}.pid`);
    assert.equal(quiet(sb, ['exec', '--detach', '--pid-file', pidFile, id, 'sh', '-c', 'exit 3']), 0);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // A child of the supervisor, gone without a zombie left behind.
    assert.ok(await eventually(() => readProcStat(pid) === null, 5000), `exec'd process ${pid} left as ${readProcStat(pid)?.state}`);
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
  });

  test('exec --ignore-paused --detach into a paused container does not hold the container\'s queue: resume goes through', async () => {
    const id = sb.id('ipause');
    assert.equal(quiet(sb, ['run', '--detach', '--bundle', sb.bundle(id, sleeper), id]), 0);
    assert.equal(quiet(sb, ['pause', id]), 0);
    const pidFile = join(sb.dir, `exec-${id}.pid`);
    // stdio like the supervisor's: such a detached exec could be forwarded; this one waits for the resume.
    const exec = spawn(RUNTS, ['--root', sb.root, 'exec', '--ignore-paused', '--detach', '--pid-file', pidFile, id, 'true'], { stdio: 'ignore' });
    const execDone = new Promise<number | null>((done) => exec.once('exit', (code) => done(code)));
    const procs = join('/sys/fs/cgroup/pids', sb.cgroupParent, id, 'cgroup.procs');
    assert.ok(await eventually(() => readFileSync(procs, 'utf8').trim().split('\n').length >= 2, 10_000), 'the exec process joined the frozen cgroup');
    // Forwarded to the supervisor (stdio /dev/null); the exec in flight must not be ahead of it in its queue.
    assert.equal(quiet(sb, ['resume', id]), 0);
    assert.equal(await execDone, 0);
    assert.equal(sb.state(id).status, 'running');
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
  });

  test('forwarded commands follow the id rule: a repeated delete --force of abc leaves abcd alone', () => {
    const short = sb.track(`fwd-${Math.random().toString(36).slice(2, 8)}`);
    const long = sb.track(`${short}d`);
    const bundle = sb.bundle(long, sleeper);
    assert.equal(quiet(sb, ['create', '--bundle', sb.bundleFrom(bundle, short), short]), 0);
    assert.equal(quiet(sb, ['create', '--bundle', bundle, long]), 0);
    assert.equal(sb.runts(['delete', '--force', short]).status, 0);
    const again = sb.runts(['--debug', 'delete', '--force', short]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, new RegExp(`forwarded to the supervisor.*supervisor=${supervisor.pid}`));
    assert.equal(again.stdout, '');
    const kill = sb.runts(['--debug', 'kill', short, 'KILL']);
    assert.equal(kill.status, 1);
    assert.match(kill.stderr, new RegExp(`^runts: container "${short}" does not exist$`, 'm'));
    assert.equal(sb.state(short).id, long, 'a forwarded read still resolves the abbreviation');
    assert.equal(sb.state(long).status, 'created');
    assert.equal(sb.runts(['delete', long]).status, 0);
  });

  test('stop-detection latency: SIGKILL → exit event', async () => {
    const runs = Number(process.env.RUNTS_LATENCY_RUNS ?? 5);
    const bundle = sb.bundle('latency', sleeper);
    const rt = await Runtime.open({ root: sb.root });
    const samples: number[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        const id = sb.track(`latency-${i}-${process.pid}`);
        assert.equal(quiet(sb, ['run', '--detach', '--bundle', bundle, id]), 0);
        const { pid } = sb.state(id);
        const ac = new AbortController();
        const exit = (async () => {
          for await (const ev of rt.events({ id, signal: ac.signal })) if (ev.type === 'exit') return ev;
          return undefined;
        })();
        await new Promise((r) => setImmediate(r)); // the follower has taken its starting cursor
        const t0 = performance.now();
        process.kill(pid, 'SIGKILL');
        const ev = await Promise.race([exit, new Promise<undefined>((r) => setTimeout(r, 5000))]);
        samples.push(performance.now() - t0);
        ac.abort();
        assert.equal(ev?.exitStatus, 137);
        assert.equal(quiet(sb, ['delete', id]), 0);
      }
    } finally {
      await rt.close();
    }
    const sorted = [...samples].sort((x, y) => x - y);
    const line = `SIGKILL → exit recorded and seen (n=${runs}): p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`;
    process.stdout.write(`# ${line}\n`);
    assert.ok(percentile(sorted, 50) < 250, line);
  });

  test('a supervisor that died leaves a stale socket, and commands still work without it', async () => {
    const gone = new Promise((r) => supervisor.once('exit', r));
    supervisor.kill('SIGKILL');
    await gone;
    assert.ok(existsSync(socket()), 'the socket file is left behind');
    const id = sb.id('after');
    const r = sb.runts(['--debug', 'run', '--detach', '--bundle', sb.bundle(id, sleeper), id]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /no supervisor answers: running here/);
    assert.equal(sb.state(id).status, 'running');
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
  });
});

function readHistory(sb: Sandbox, id: string): TransitionRecord[] {
  const r = sb.runts(['history', '--format', 'json', id], { env: transient });
  return r.status === 0 ? (JSON.parse(r.stdout) as TransitionRecord[]) : [];
}

describe('Runtime.serve(): an embedding program as the resident host', { skip }, () => {
  let sb: Sandbox;
  let rt: Runtime;
  let resident: Awaited<ReturnType<Runtime['serve']>> | undefined;
  before(async () => {
    sb = new Sandbox();
    rt = await Runtime.open({ root: sb.root });
    resident = await rt.serve();
  });
  after(async () => {
    await resident?.close();
    await rt.close();
    sb.cleanup();
  });

  test('containers it creates through the API are its children; their exit status is recorded; CLI calls forward to it', async () => {
    assert.equal(resident!.socketPath, join(sb.root, 'supervisor.sock'));
    const id = sb.id('embedded');
    await rt.create(id, { bundle: sb.bundle(id, sleeper) });
    await rt.start(id);
    const { pid } = await rt.state(id);
    assert.equal(readProcStat(pid)?.ppid, process.pid);
    const ac = new AbortController();
    const exit = (async () => {
      for await (const ev of rt.events({ id, signal: ac.signal })) if (ev.type === 'exit') return ev;
      return undefined;
    })();
    await new Promise((r) => setImmediate(r));
    process.kill(pid, 'SIGKILL');
    const ev = await Promise.race([exit, new Promise<undefined>((r) => setTimeout(r, 5000))]);
    ac.abort();
    assert.equal(ev?.exitStatus, 137);
    assert.equal(ev?.pid, process.pid);
    // An async CLI call (a synchronous one would block this very process, which must answer it).
    const state = await sb.runtsAsync(['--debug', 'state', id]);
    assert.equal(state.status, 0, state.stderr);
    assert.match(state.stderr, new RegExp(`forwarded to the supervisor.*supervisor=${process.pid}`));
    assert.equal(JSON.parse(state.stdout).status, 'stopped');
    await rt.delete(id);
  });

  test('a burst of exits (12 inits killed at once) is recorded, each with its status', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => sb.id(`burst${i}`));
    const pids: number[] = [];
    try {
      for (const id of ids) {
        await rt.run(id, { bundle: sb.bundle(id, sleeper), detach: true });
        pids.push((await rt.state(id)).pid);
      }
      for (const pid of pids) process.kill(pid, 'SIGKILL');
      // Read the history, not `state`: a state call reconciles, and would record a dead init itself (status unknown)
      // if it came before the reaper.
      const lastMoves = async () => Promise.all(ids.map(async (id) => (await rt.history(id)).at(-1)!));
      const deadline = Date.now() + 10_000;
      while ((await lastMoves()).some((t) => t.event !== 'observed.exited') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (const last of await lastMoves()) assert.deepEqual([last.to, last.event, last.exitStatus, last.pid], ['stopped.idle', 'observed.exited', 137, process.pid], last.id);
    } finally {
      for (const id of ids) await rt.delete(id, { force: true }).catch(() => undefined);
    }
  });
});
