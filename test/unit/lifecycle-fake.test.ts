// The container lifecycle through the Runtime against the fake syscall port (test/helpers/fake-port.ts) and a fake
// cgroupfs in a temp dir: create / start / pause / resume / kill / delete and their failure paths, with no root and
// no process started. Each test asserts the state, the stored facts and the port calls made.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { createActor, toPromise, type AnyActorLogic } from 'xstate';
import { hostCgroups } from '../../src/actors/default-ports.js';
import { effectActors, type DispatchRequest, type EffectResult } from '../../src/actors/effects.js';
import type { ContainerEnv, HookPort, LiveFacts, Ports } from '../../src/actors/ports.js';
import { RuntsError } from '../../src/errors.js';
import type { CgroupLayout } from '../../src/linux/cgroups/index.js';
import { NativeSpawnError } from '../../src/native/port.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { Runtime } from '../../src/runtime.js';
import type { Store } from '../../src/persistence/store.js';
import { waitForStop } from '../../src/workers/stop-waiter.js';
import { fakeHybridCgroupfs } from '../helpers/fake-cgroupfs.js';
import { FakeSyscallPort } from '../helpers/fake-port.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-lifecycle-fake-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;

/** A Runtime on a temp root whose every kernel touch is the fake port, with a fake cgroupfs and recorded hooks. */
async function world(opts: { failHook?: string } = {}) {
  const dir = path.join(tmp, `w${n++}`);
  fs.mkdirSync(path.join(dir, 'cg'), { recursive: true });
  const layout: CgroupLayout = fakeHybridCgroupfs(path.join(dir, 'cg'));
  const sys = new FakeSyscallPort();
  const cgroups = hostCgroups(() => layout);
  const hooksRun: string[] = [];
  /** What a failing hook threw, object by object. */
  const hookErrors: Error[] = [];
  const hooks: HookPort = {
    run: async (point) => {
      hooksRun.push(point);
      if (point === opts.failHook) throw hookErrors[hookErrors.push(new RuntsError('sys', `${point} hook failed`)) - 1];
    },
    runBestEffort: async (point) => void hooksRun.push(point),
  };
  const bundle = path.join(dir, 'bundle');
  fs.mkdirSync(path.join(bundle, 'rootfs'), { recursive: true });
  const spec = defaultSpec({});
  spec.process!.terminal = false;
  fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
  const root = path.join(dir, 'root');
  const ports: Ports = { sys, cgroups, hooks, stopWaiter: { wait: async (req) => waitForStop(req, sys, (p) => cgroups.open(p)) } };
  const rt = await Runtime.open({ root, stopTimeoutMs: 200, ports });
  after(() => rt.close());
  /** A v1 hierarchy's directory of the container's cgroup (runts' default path: /runts/<id>). */
  const cgroupDir = (controller: string, id: string) => path.join(layout.controllers[controller]!, 'runts', id);
  const procsOf = (id: string) => fs.readFileSync(path.join(cgroupDir('pids', id), 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  const status = async (id: string) => (await rt.state(id)).status;
  return { rt, sys, ports, hooksRun, hookErrors, bundle, root, cgroupDir, procsOf, status };
}

const code = (want: string) => (e: unknown) => e instanceof RuntsError && e.code === want;

describe('lifecycle against the fake port', () => {
  it('create → start → pause → resume → kill → delete', async () => {
    const { rt, sys, hooksRun, bundle, root, cgroupDir, procsOf, status } = await world();

    const created = await rt.create('c1', { bundle });
    assert.equal(created.status, 'created');
    const { pid, goferPid } = sys.spawns[0]!;
    assert.equal(created.pid, pid);
    assert.deepEqual(sys.callsOf('mkfifo'), [[path.join(root, 'c1', 'exec.fifo'), 0o600]]);
    assert.equal(sys.callsOf('spawnGated').length, 1, 'one gated spawn, opened once the cgroup was made');
    assert.deepEqual(procsOf('c1'), [pid], 'the init joined the cgroup');
    assert.equal(sys.procStat(pid)?.flags, 0x40, 'the init waits on the fifo (never exec\'d)');
    assert.ok(goferPid > 0);
    assert.deepEqual(hooksRun, ['prestart', 'createRuntime', 'createContainer']);

    assert.equal((await rt.start('c1')).status, 'running');
    assert.deepEqual(sys.callsOf('writeExecFifo'), [[path.join(root, 'c1', 'exec.fifo')]]);
    assert.equal(fs.existsSync(path.join(root, 'c1', 'exec.fifo')), false, 'the fifo is removed after the start');
    assert.equal(sys.procStat(pid)?.flags, 0, 'the init exec\'d the user program');
    assert.deepEqual(hooksRun.slice(3), ['startContainer', 'poststart']);

    await rt.pause('c1');
    assert.equal(await status('c1'), 'paused');
    assert.equal(fs.readFileSync(path.join(cgroupDir('freezer', 'c1'), 'freezer.state'), 'utf8').trim(), 'FROZEN');
    await rt.resume('c1');
    assert.equal(await status('c1'), 'running');
    assert.equal(fs.readFileSync(path.join(cgroupDir('freezer', 'c1'), 'freezer.state'), 'utf8').trim(), 'THAWED');

    await rt.kill('c1', 15);
    assert.deepEqual(sys.signals, [{ pid, signal: 15 }], 'SIGTERM to the init, through a pidfd');
    assert.deepEqual(procsOf('c1'), [], 'the init died of it and left its cgroup');
    assert.equal(await status('c1'), 'stopped');

    await rt.delete('c1');
    await assert.rejects(rt.state('c1'), code('not_found'));
    assert.deepEqual(sys.signals.slice(1), [{ pid: goferPid, signal: 9 }], 'delete stops the gofer');
    assert.equal(sys.procStat(goferPid), null, 'and reaps it');
    assert.equal(fs.existsSync(cgroupDir('pids', 'c1')), false, 'the cgroup is gone');
    assert.equal(fs.existsSync(path.join(root, 'c1')), false, 'the state directory is gone');
    assert.deepEqual(hooksRun.slice(5), ['poststop']);
  });

  it('kill --all signals every process of the cgroup; a member gone meanwhile is no error', async () => {
    const { rt, sys, bundle, cgroupDir, procsOf } = await world();
    await rt.create('c1', { bundle });
    await rt.start('c1');
    const { pid } = sys.spawns[0]!;
    const child = sys.addProcess({ ppid: pid });
    const gone = 4_000_000; // listed in the cgroup, but no such process any more
    fs.appendFileSync(path.join(cgroupDir('pids', 'c1'), 'cgroup.procs'), `${child}\n${gone}\n`);
    assert.deepEqual(procsOf('c1'), [pid, child, gone]);
    await rt.kill('c1', 9, { all: true });
    assert.deepEqual(sys.callsOf('kill'), [[pid, 9], [child, 9], [gone, 9]]);
    assert.deepEqual(sys.signals, [{ pid, signal: 9 }, { pid: child, signal: 9 }]);
  });

  it('a failed spawn leaves nothing behind: no record, no state directory, no cgroup', async () => {
    const { rt, sys, bundle, root, cgroupDir, hooksRun } = await world();
    sys.failSpawn = new NativeSpawnError({ operation: 'mount', errno: 1, errnoName: 'EPERM', path: '/proc', opIndex: 7 });
    await assert.rejects(rt.create('c1', { bundle }), (e: unknown) => /cannot mount on "\/proc" \(EPERM\)/.test((e as Error).message));
    await assert.rejects(rt.state('c1'), code('not_found'));
    assert.equal(fs.existsSync(path.join(root, 'c1')), false);
    assert.equal(fs.existsSync(cgroupDir('pids', 'c1')), false);
    assert.deepEqual(sys.spawns, []);
    assert.deepEqual(hooksRun, [], 'no hook ran');
  });

  it('a spawn refused capabilities names the ones runts itself lacks (its own set read through the port)', async () => {
    const { rt, sys, bundle } = await world();
    sys.ownCaps = 0n;
    sys.failSpawn = new NativeSpawnError({ operation: 'caps', errno: 1, errnoName: 'EPERM', opIndex: 3 });
    await assert.rejects(rt.create('c1', { bundle }), (e: unknown) => code('bad_config')(e) && /asks for CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE, which runts itself does not have/.test((e as Error).message));
    await assert.rejects(rt.state('c1'), code('not_found'));
  });

  it('a cgroup that cannot be made (an existing frozen one) cancels the spawn at its gate and is left as it was', async () => {
    const { rt, sys, bundle, root, cgroupDir } = await world();
    fs.mkdirSync(cgroupDir('freezer', 'c1'), { recursive: true });
    fs.writeFileSync(path.join(cgroupDir('freezer', 'c1'), 'freezer.state'), 'FROZEN\n');
    await assert.rejects(rt.create('c1', { bundle }), (e: unknown) => code('bad_state')(e) && /exists and is frozen/.test((e as Error).message));
    await assert.rejects(rt.state('c1'), code('not_found'));
    assert.deepEqual(sys.spawns, [], 'stage 1 ended at the gate: no init, no gofer');
    assert.equal(sys.callsOf('spawnGated').length, 1);
    assert.equal(fs.existsSync(path.join(root, 'c1')), false);
    assert.equal(fs.readFileSync(path.join(cgroupDir('freezer', 'c1'), 'freezer.state'), 'utf8').trim(), 'FROZEN', 'not ours: untouched');
  });

  it('kill of a container whose init is gone is refused as bad_state, and sends nothing', async () => {
    const { rt, sys, bundle, status } = await world();
    await rt.create('c1', { bundle });
    await rt.start('c1');
    const { pid } = sys.spawns[0]!;
    sys.exit(pid, { exitCode: 0 });
    sys.waitPid(pid); // reaped: the pid names nothing now
    await assert.rejects(rt.kill('c1', 15), code('bad_state'));
    assert.equal(await status('c1'), 'stopped');
    assert.deepEqual(sys.signals, []);
  });

  it('delete of a running container without force is refused and changes nothing', async () => {
    const { rt, sys, bundle, root, cgroupDir, status } = await world();
    await rt.create('c1', { bundle });
    await rt.start('c1');
    const calls = sys.calls.length;
    await assert.rejects(rt.delete('c1'), (e: unknown) => code('bad_state')(e) && /running/.test((e as Error).message));
    assert.equal(await status('c1'), 'running');
    assert.deepEqual(sys.signals, []);
    assert.deepEqual(sys.calls.slice(calls).filter((c) => c.method !== 'flock').map((c) => c.method), [], 'no signal, no wait');
    assert.ok(fs.existsSync(cgroupDir('pids', 'c1')));
    assert.ok(fs.existsSync(path.join(root, 'c1')));
  });

  it('delete --force of a running container kills every process, then removes the cgroup and the state', async () => {
    const { rt, sys, bundle, root, cgroupDir } = await world();
    await rt.create('c1', { bundle });
    await rt.start('c1');
    const { pid, goferPid } = sys.spawns[0]!;
    await rt.delete('c1', { force: true });
    // The gofer's SIGKILL first (it exits while the rest is done); then, gracefully, SIGTERM to the cgroup's
    // processes; the init of a pid namespace without a SIGTERM handler would never see it (the kernel drops it), so
    // it gets SIGKILL at once.
    assert.deepEqual(sys.signals, [{ pid: goferPid, signal: 9 }, { pid, signal: 15 }, { pid, signal: 9 }]);
    assert.equal(sys.exited.get(pid)?.signal, 15);
    await assert.rejects(rt.state('c1'), code('not_found'));
    assert.equal(fs.existsSync(cgroupDir('pids', 'c1')), false);
    assert.equal(fs.existsSync(path.join(root, 'c1')), false);
  });

  it('a failed start (its startContainer hook) tears the container down', async () => {
    const { rt, sys, bundle, root, cgroupDir, hooksRun } = await world({ failHook: 'startContainer' });
    await rt.create('c1', { bundle });
    const { pid, goferPid } = sys.spawns[0]!;
    await assert.rejects(rt.start('c1'), (e: unknown) => code('sys')(e) && /startContainer hook failed/.test((e as Error).message));
    assert.deepEqual(sys.callsOf('writeExecFifo'), [], 'the init was never let go');
    assert.equal(sys.exited.get(pid)?.signal, 15, 'the init was stopped (delete --force: SIGTERM first)');
    assert.equal(sys.exited.get(goferPid)?.signal, 9, 'and the gofer');
    await assert.rejects(rt.state('c1'), code('not_found'));
    assert.equal(fs.existsSync(cgroupDir('pids', 'c1')), false);
    assert.equal(fs.existsSync(path.join(root, 'c1')), false);
    assert.ok(hooksRun.includes('poststop'));
    // The history keeps the failure with the move it caused (what the visualizer shows as the step's error).
    const failed = (await rt.history('c1')).find((t) => t.from === 'created.starting');
    assert.deepEqual([failed?.to, failed?.event, failed?.error], ['stopped.idle', 'xstate.error.actor.startInit', 'startContainer hook failed']);
  });

  it('a command whose write lost to a concurrent one is logged as refused (conflict), the record left to the winner', async () => {
    const { rt, bundle } = await world();
    await rt.create('c1', { bundle });
    // Another process writes between this kill's read and its write (a real one: the version moves).
    const store = (rt as unknown as { ctx: { store: Store } }).ctx.store;
    const update = store.update.bind(store);
    let raced = false;
    store.update = (id, version, next, transitions) => {
      if (!raced) {
        raced = true;
        const now = store.get(id)!;
        update(id, now.version, { facts: { ...now.facts, owner: 'someone-else' } }, []);
      }
      return update(id, version, next, transitions);
    };
    await assert.rejects(rt.kill('c1', 10), code('conflict'));
    const last = (await rt.history('c1')).at(-1)!;
    assert.deepEqual([last.from, last.to, last.event, last.refused?.code], ['created.idle', 'created.idle', 'container.kill', 'conflict']);
    assert.match(last.refused!.reason, /changed concurrently/);
    assert.equal(store.get('c1')!.facts.owner, 'someone-else', "the winner's write stands");
  });

  it('a failed effect reaches the caller as its own error, not a copy (code, message and identity intact)', async () => {
    const { rt, bundle, hookErrors } = await world({ failHook: 'startContainer' });
    await rt.create('c1', { bundle });
    await assert.rejects(rt.start('c1'), (e: unknown) => e === hookErrors[0]);
    assert.equal(hookErrors.length, 1);
  });

  it('start of a created container whose init died reports it and stops the container', async () => {
    const { rt, sys, bundle, status } = await world();
    await rt.create('c1', { bundle });
    const { pid } = sys.spawns[0]!;
    sys.exit(pid, { signal: 9 });
    await assert.rejects(rt.start('c1'), code('bad_state'));
    assert.equal(await status('c1'), 'stopped');
    assert.deepEqual(sys.callsOf('writeExecFifo'), []);
  });
});

/** Freezes `value` and everything it holds: a write to any of it then throws (modules are strict mode). */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

describe('effects are functions of data', () => {
  it('each takes the facts deep-frozen, leaves its input as it was, and returns what it changed', async () => {
    const { sys, ports, root, bundle, cgroupDir } = await world();
    const env: ContainerEnv = { root, ports, log: pino({ level: 'silent' }), stopTimeoutMs: 200 };
    const actors = effectActors(env);
    const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8'));
    let facts = {
      id: 'e1', bundle, rootfs: path.join(bundle, 'rootfs'), sandboxId: 'e1', initPid: 0, initStartTime: null, goferPid: 0,
      cgroupPath: '/runts/e1', created: new Date().toISOString(), ociVersion: spec.ociVersion, owner: 'root', annotations: {},
      creatorPid: process.pid, creatorStartTime: null, spec,
    } as LiveFacts;
    /** Runs one effect as the chart would (its actor, its invoke input), then applies its patch as the chart's onDone. */
    const run = async (name: keyof typeof actors, request: DispatchRequest = {}, more: object = {}): Promise<EffectResult> => {
      const input = deepFreeze({ id: facts.id, facts, request, ...more });
      const before = structuredClone(input);
      const result = (await toPromise(createActor(actors[name] as AnyActorLogic, { input }).start())) as EffectResult;
      assert.deepEqual(input, before, `${name} left its input as it was`);
      if (result.patch) facts = { ...facts, ...result.patch };
      return result;
    };

    const created = await run('spawnInit');
    const { pid, goferPid } = sys.spawns[0]!;
    assert.deepEqual(created.patch, {
      initPid: pid, initStartTime: sys.procStat(pid)!.startTime, goferPid, goferStartTime: sys.procStat(goferPid)!.startTime,
    });
    assert.deepEqual(await run('startInit'), {});
    assert.equal(sys.procStat(pid)?.flags, 0, 'the init exec\'d the user program');
    assert.deepEqual(await run('freezeCgroup'), {});
    assert.equal(fs.readFileSync(path.join(cgroupDir('freezer', 'e1'), 'freezer.state'), 'utf8').trim(), 'FROZEN');
    assert.deepEqual(await run('thawCgroup'), {});
    assert.deepEqual(await run('signalProcess', {}, { signal: 10, all: false }), {});
    assert.deepEqual(sys.signals, [{ pid, signal: 10 }]);
    const exec = await run('spawnExec', { exec: { process: { ...spec.process, args: ['true'] } } });
    assert.deepEqual(exec, { execPid: sys.spawns[1]!.pid });
    const update = await run('updateCgroup', { update: { pids: { limit: 5 } } });
    assert.deepEqual(update.patch?.spec?.linux?.resources?.pids, { limit: 5 });
    assert.deepEqual(await run('destroyContainer', { destroy: { graceful: false } }), {});
    assert.equal(fs.existsSync(cgroupDir('pids', 'e1')), false);
    assert.equal(fs.existsSync(path.join(root, 'e1')), false);
  });
});
