import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { __unsafe_getAllOwnEventDescriptors, createActor, fromPromise, getMicrosteps, waitFor, type AnyEventObject } from 'xstate';
import { getAdjacencyMap, getShortestPaths } from '@xstate/graph';
import {
  ALLOWED_STATUS_MOVES,
  CONTAINER_EVENT_TYPES,
  MACHINE_VERSION,
  containerMachine,
  isSettled,
  lendDispatch,
  persistedSnapshot,
  observeTransitions,
  opName,
  refusal,
  refusalError,
  stateName,
  statusOf,
  type ContainerEvent,
  type ContainerStatus,
} from '../../src/machines/container.js';

const ID = 'c1';
type Effect = 'spawnInit' | 'startInit' | 'signalProcess' | 'freezeCgroup' | 'thawCgroup' | 'destroyContainer' | 'spawnExec' | 'updateCgroup';

/** The machine with instant fake effects; `failing` ones reject with `boom <name>`. */
function fakeMachine(calls: { effect: Effect; input: unknown }[], failing: ReadonlySet<Effect> = new Set()) {
  const make = (effect: Effect) =>
    fromPromise<void, any>(async ({ input }) => {
      calls.push({ effect, input });
      if (failing.has(effect)) throw new Error(`boom ${effect}`);
    });
  return containerMachine().provide({
    actors: {
      spawnInit: make('spawnInit'),
      startInit: make('startInit'),
      signalProcess: make('signalProcess'),
      freezeCgroup: make('freezeCgroup'),
      thawCgroup: make('thawCgroup'),
      destroyContainer: make('destroyContainer'),
      spawnExec: make('spawnExec'),
      updateCgroup: make('updateCgroup'),
    },
  });
}

/** Representative events: every type, delete with both force values. */
const EVENTS: Record<string, ContainerEvent> = {
  create: { type: 'container.create' },
  start: { type: 'container.start' },
  kill: { type: 'container.kill', signal: 15, all: false },
  pause: { type: 'container.pause' },
  resume: { type: 'container.resume' },
  delete: { type: 'container.delete', force: false },
  'delete-force': { type: 'container.delete', force: true },
  exec: { type: 'container.exec' },
  'exec-ignore-paused': { type: 'container.exec', ignorePaused: true },
  update: { type: 'container.update' },
  exited: { type: 'observed.exited', exitStatus: 137 },
  abandoned: { type: 'observed.abandoned' },
  started: { type: 'observed.started' },
  frozen: { type: 'observed.frozen' },
  thawed: { type: 'observed.thawed' },
  'gofer-exited': { type: 'gofer.exited', exitStatus: 1 },
};

/** How to reach each settled state from the initial one, with instant successful effects. */
const SETUP: Record<string, ContainerEvent[]> = {
  'creating.pending': [],
  'created.idle': [EVENTS.create],
  'running.idle': [EVENTS.create, EVENTS.start],
  'paused.idle': [EVENTS.create, EVENTS.start, EVENTS.pause],
  'stopped.idle': [EVENTS.abandoned],
};

/**
 * The explicit expected outcome of every (settled state × event) pair:
 * 'refused', or `end state | status path | effects run`.
 */
const EXPECTED: Record<string, Record<string, string>> = {
  'creating.pending': {
    create: 'created.idle | creating>created | spawnInit',
    start: 'refused',
    kill: 'refused',
    pause: 'refused',
    resume: 'refused',
    delete: 'refused',
    'delete-force': 'refused',
    exec: 'refused',
    'exec-ignore-paused': 'refused',
    update: 'refused',
    exited: 'stopped.idle | creating>stopped |',
    abandoned: 'stopped.idle | creating>stopped |',
    started: 'refused',
    frozen: 'refused',
    thawed: 'refused',
    'gofer-exited': 'creating.pending | creating |',
  },
  'created.idle': {
    create: 'refused',
    start: 'running.idle | created>running | startInit',
    kill: 'created.idle | created | signalProcess',
    pause: 'refused',
    resume: 'refused',
    delete: 'stopped.deleted | created>stopped | destroyContainer',
    'delete-force': 'stopped.deleted | created>stopped | destroyContainer',
    exec: 'created.idle | created | spawnExec',
    'exec-ignore-paused': 'created.idle | created | spawnExec',
    update: 'created.idle | created | updateCgroup',
    exited: 'stopped.idle | created>stopped |',
    abandoned: 'refused',
    started: 'running.idle | created>running |',
    frozen: 'refused',
    thawed: 'refused',
    'gofer-exited': 'created.idle | created |',
  },
  'running.idle': {
    create: 'refused',
    start: 'refused',
    kill: 'running.idle | running | signalProcess',
    pause: 'paused.idle | running>paused | freezeCgroup',
    resume: 'refused',
    delete: 'refused',
    'delete-force': 'stopped.deleted | running>stopped | destroyContainer',
    exec: 'running.idle | running | spawnExec',
    'exec-ignore-paused': 'running.idle | running | spawnExec',
    update: 'running.idle | running | updateCgroup',
    exited: 'stopped.idle | running>stopped |',
    abandoned: 'refused',
    started: 'refused',
    frozen: 'paused.idle | running>paused |',
    thawed: 'refused',
    'gofer-exited': 'running.idle | running |',
  },
  'paused.idle': {
    create: 'refused',
    start: 'refused',
    kill: 'paused.idle | paused | signalProcess',
    pause: 'refused',
    resume: 'running.idle | paused>running | thawCgroup',
    delete: 'refused',
    'delete-force': 'stopped.deleted | paused>running>stopped | thawCgroup,destroyContainer',
    exec: 'refused',
    'exec-ignore-paused': 'paused.idle | paused | spawnExec',
    update: 'paused.idle | paused | updateCgroup',
    exited: 'stopped.idle | paused>running>stopped |',
    abandoned: 'refused',
    started: 'refused',
    frozen: 'refused',
    thawed: 'running.idle | paused>running |',
    'gofer-exited': 'paused.idle | paused |',
  },
  'stopped.idle': {
    create: 'refused',
    start: 'refused',
    kill: 'refused',
    pause: 'refused',
    resume: 'refused',
    delete: 'stopped.deleted | stopped | destroyContainer',
    'delete-force': 'stopped.deleted | stopped | destroyContainer',
    exec: 'refused',
    'exec-ignore-paused': 'refused',
    update: 'refused',
    exited: 'refused',
    abandoned: 'refused',
    started: 'refused',
    frozen: 'refused',
    thawed: 'refused',
    'gofer-exited': 'refused',
  },
};

/** The op name the user sees in a refusal, written out (not derived) so opName() is checked too. */
const OP: Record<string, string> = {
  create: 'create',
  start: 'start',
  kill: 'kill',
  pause: 'pause',
  resume: 'resume',
  delete: 'delete',
  'delete-force': 'delete',
  exec: 'exec',
  'exec-ignore-paused': 'exec',
  update: 'update',
  exited: 'observed.exited',
  abandoned: 'observed.abandoned',
  started: 'observed.started',
  frozen: 'observed.frozen',
  thawed: 'observed.thawed',
  'gofer-exited': 'gofer.exited',
};

function isAllowedMove(from: ContainerStatus, to: ContainerStatus): boolean {
  return from === to || ALLOWED_STATUS_MOVES[from].includes(to);
}

/** Starts an actor that records every status it passes through (microsteps, not just macrosteps). */
function startRecorded(machine: ReturnType<typeof fakeMachine>, snapshot?: unknown) {
  const statuses: ContainerStatus[] = [];
  const leaves: string[] = [];
  const actor = createActor(machine, {
    input: { id: ID },
    ...(snapshot === undefined ? {} : { snapshot: snapshot as any }),
    inspect: observeTransitions((t) => {
      leaves.push(t.to);
      if (statuses.at(-1) !== t.toStatus) statuses.push(t.toStatus);
    }),
  });
  actor.start();
  statuses.push(statusOf(actor.getSnapshot()));
  return { actor, statuses, leaves };
}

async function reach(state: string, machine: ReturnType<typeof fakeMachine>) {
  const rec = startRecorded(machine);
  for (const ev of SETUP[state]) {
    assert.ok(rec.actor.getSnapshot().can(ev), `setup: ${ev.type} must be accepted on the way to ${state}`);
    rec.actor.send(ev);
    await waitFor(rec.actor, isSettled, { timeout: 1000 });
  }
  assert.equal(stateName(rec.actor.getSnapshot()), state);
  rec.statuses.splice(0, rec.statuses.length, statusOf(rec.actor.getSnapshot()));
  return rec;
}

describe('container machine: helpers', () => {
  it('statusOf / stateName / isSettled read plain and persisted snapshots', () => {
    assert.equal(statusOf({ value: { running: 'idle' } }), 'running');
    assert.equal(stateName({ value: { paused: 'resuming' } }), 'paused.resuming');
    assert.equal(isSettled({ value: { created: 'idle' } }), true);
    assert.equal(isSettled({ value: { creating: 'pending' } }), true);
    assert.equal(isSettled({ value: { stopped: 'deleted' } }), true);
    assert.equal(isSettled({ value: { created: 'starting' } }), false);
    assert.equal(isSettled({ value: { stopped: 'destroying' } }), false);
    assert.throws(() => statusOf({ value: { bogus: 'idle' } }), /not a container status/);
  });

  it('opName and refusal give the user-facing text', () => {
    assert.equal(opName('container.start'), 'start');
    assert.equal(opName('container.delete'), 'delete');
    assert.equal(opName('observed.exited'), 'observed.exited');
    assert.equal(refusal('web', 'stopped', 'start'), 'cannot start container "web" in state stopped');
    const err = refusalError('web', 'paused', 'delete');
    assert.equal(err.code, 'bad_state');
    assert.equal(err.message, 'cannot delete container "web" in state paused');
  });

  it('ALLOWED_STATUS_MOVES is exactly gVisor changeStatus', () => {
    assert.deepEqual(ALLOWED_STATUS_MOVES, {
      creating: ['created', 'stopped'],
      created: ['running', 'stopped'],
      running: ['paused', 'stopped'],
      paused: ['running'],
      stopped: ['stopped'],
    });
  });

  it('the default effects fail loudly instead of pretending', async () => {
    const actor = createActor(containerMachine(), { input: { id: ID } }).start();
    actor.send({ type: 'container.create' });
    await waitFor(actor, isSettled, { timeout: 1000 });
    assert.equal(stateName(actor.getSnapshot()), 'stopped.idle');
    assert.match(actor.getSnapshot().context.lastError ?? '', /effect "spawnInit" is not provided/);
  });

  it('MACHINE_VERSION is bumped whenever the chart changes', () => {
    // If this fails you changed the chart: bump MACHINE_VERSION and record the new fingerprint. A transition's
    // actions are left out: they change no state a stored snapshot is restored into.
    const fingerprints: Record<string, string> = {
      'container/4': '78e2954fe75ae9d0d95a957c8673393c410d043316821cbb59eafbb9b5716535',
    };
    const definition = JSON.stringify(containerMachine().definition, (key, value) => (key === 'actions' ? undefined : value));
    const print = createHash('sha256').update(definition).digest('hex');
    assert.equal(print, fingerprints[MACHINE_VERSION], `chart fingerprint for ${MACHINE_VERSION}`);
  });
});

describe('container machine: (state × event) table', () => {
  it('covers every event type', () => {
    assert.deepEqual(new Set(Object.values(EVENTS).map((e) => e.type)), new Set(CONTAINER_EVENT_TYPES));
    for (const row of Object.values(EXPECTED)) assert.deepEqual(Object.keys(row).sort(), Object.keys(EVENTS).sort());
  });

  for (const [state, row] of Object.entries(EXPECTED)) {
    for (const [name, expected] of Object.entries(row)) {
      it(`${state} × ${name} → ${expected}`, async () => {
        const calls: { effect: Effect; input: unknown }[] = [];
        const rec = await reach(state, fakeMachine(calls));
        calls.length = 0;
        const event = EVENTS[name];
        const before = rec.actor.getSnapshot();
        const status = statusOf(before);

        if (expected === 'refused') {
          assert.equal(before.can(event), false, `${state} must refuse ${event.type}`);
          const hint = status === 'paused' && OP[name] === 'exec' ? ': resume it first, or pass --ignore-paused (the process stays frozen until resume)' : '';
          assert.equal(refusal(ID, status, opName(event.type)), `cannot ${OP[name]} container "${ID}" in state ${status}${hint}`);
          // A refused operation changes nothing.
          rec.actor.send(event);
          const after = rec.actor.getSnapshot();
          assert.equal(stateName(after), state);
          assert.deepEqual(after.context, before.context);
          assert.deepEqual(calls, []);
          return;
        }

        const [end, path, effects] = expected.split('|').map((s) => s.trim());
        assert.equal(before.can(event), true, `${state} must accept ${event.type}`);
        rec.actor.send(event);
        const after = await waitFor(rec.actor, isSettled, { timeout: 1000 });
        assert.equal(stateName(after), end);
        assert.equal(rec.statuses.join('>'), path);
        for (let i = 1; i < rec.statuses.length; i++) {
          assert.ok(isAllowedMove(rec.statuses[i - 1], rec.statuses[i]), `status move ${rec.statuses[i - 1]} → ${rec.statuses[i]}`);
        }
        assert.equal(calls.map((c) => c.effect).join(','), effects);
        assert.equal(after.context.lastError, null);
        assert.equal(after.context.deleteAfterResume, false);
        if (event.type === 'observed.exited') assert.equal(after.context.exitStatus, 137);
        if (event.type === 'gofer.exited') assert.equal(after.context.goferExited, true);
        if (event.type === 'container.kill') assert.deepEqual(calls[0].input, { id: ID, signal: 15, all: false });
        else for (const c of calls) assert.deepEqual(c.input, { id: ID });
      });
    }
  }

  it('gofer.exited is recorded as a self-transition', async () => {
    const rec = await reach('running.idle', fakeMachine([]));
    rec.leaves.length = 0;
    rec.actor.send(EVENTS['gofer-exited']);
    assert.deepEqual(rec.leaves, ['running.idle']);
  });

  it('observeTransitions reports every microstep of a force delete of a paused container', async () => {
    const steps: string[] = [];
    const machine = fakeMachine([]);
    const actor = createActor(machine, {
      input: { id: ID },
      inspect: observeTransitions((t) => steps.push(`${t.from}(${t.fromStatus}) -${t.event.type}-> ${t.to}(${t.toStatus})`)),
    }).start();
    for (const ev of SETUP['paused.idle']) {
      actor.send(ev);
      await waitFor(actor, isSettled);
    }
    steps.length = 0;
    actor.send(EVENTS.start); // refused: no step recorded
    actor.send(EVENTS['delete-force']);
    await waitFor(actor, isSettled);
    assert.deepEqual(steps, [
      'paused.idle(paused) -container.delete-> paused.resuming(paused)',
      'paused.resuming(paused) -xstate.done.actor.thawCgroup-> running.idle(running)',
      'running.idle(running) -xstate.done.actor.thawCgroup-> stopped.destroying(stopped)',
      'stopped.destroying(stopped) -xstate.done.actor.destroyContainer-> stopped.deleted(stopped)',
    ]);
  });

  it('gofer.exited does not interrupt an effect in flight', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const machine = fakeMachine([]).provide({ actors: { startInit: fromPromise(async () => gate) } });
    const actor = createActor(machine, { input: { id: ID } }).start();
    actor.send(EVENTS.create);
    await waitFor(actor, isSettled);
    actor.send(EVENTS.start);
    actor.send(EVENTS['gofer-exited']);
    assert.equal(stateName(actor.getSnapshot()), 'created.starting');
    release();
    const done = await waitFor(actor, isSettled, { timeout: 1000 });
    assert.equal(stateName(done), 'running.idle');
    assert.equal(done.context.goferExited, true);
  });
});

describe('container machine: failing effects', () => {
  const cases: { from: string; event: ContainerEvent; fail: Effect; end: string; path: string }[] = [
    { from: 'creating.pending', event: EVENTS.create, fail: 'spawnInit', end: 'stopped.idle', path: 'creating>stopped' },
    { from: 'created.idle', event: EVENTS.start, fail: 'startInit', end: 'stopped.idle', path: 'created>stopped' },
    { from: 'created.idle', event: EVENTS.kill, fail: 'signalProcess', end: 'created.idle', path: 'created' },
    { from: 'running.idle', event: EVENTS.kill, fail: 'signalProcess', end: 'running.idle', path: 'running' },
    { from: 'paused.idle', event: EVENTS.kill, fail: 'signalProcess', end: 'paused.idle', path: 'paused' },
    { from: 'running.idle', event: EVENTS.pause, fail: 'freezeCgroup', end: 'running.idle', path: 'running' },
    { from: 'paused.idle', event: EVENTS.resume, fail: 'thawCgroup', end: 'paused.idle', path: 'paused' },
    { from: 'paused.idle', event: EVENTS['delete-force'], fail: 'thawCgroup', end: 'paused.idle', path: 'paused' },
    { from: 'created.idle', event: EVENTS.delete, fail: 'destroyContainer', end: 'stopped.idle', path: 'created>stopped' },
    { from: 'running.idle', event: EVENTS['delete-force'], fail: 'destroyContainer', end: 'stopped.idle', path: 'running>stopped' },
    { from: 'stopped.idle', event: EVENTS.delete, fail: 'destroyContainer', end: 'stopped.idle', path: 'stopped' },
  ];
  for (const c of cases) {
    it(`${c.from} × ${c.event.type} with ${c.fail} failing → ${c.end}`, async () => {
      const calls: { effect: Effect; input: unknown }[] = [];
      const rec = await reach(c.from, fakeMachine(calls, new Set([c.fail])));
      rec.actor.send(c.event);
      const after = await waitFor(rec.actor, isSettled, { timeout: 1000 });
      assert.equal(stateName(after), c.end);
      assert.equal(rec.statuses.join('>'), c.path);
      assert.equal(after.context.lastError, `boom ${c.fail}`);
      assert.equal(after.context.deleteAfterResume, false);
    });
  }

  it('a failed start leaves stopped.idle from which delete tears down', async () => {
    const calls: { effect: Effect; input: unknown }[] = [];
    const rec = await reach('created.idle', fakeMachine(calls, new Set(['startInit'])));
    rec.actor.send(EVENTS.start);
    await waitFor(rec.actor, isSettled);
    assert.equal(rec.actor.getSnapshot().can(EVENTS.delete), true);
    rec.actor.send(EVENTS.delete);
    const after = await waitFor(rec.actor, isSettled);
    assert.equal(stateName(after), 'stopped.deleted');
    assert.equal(after.context.lastError, null, 'a new effect clears the previous error');
  });
});

describe('container machine: persist → JSON → restore', () => {
  const settled = [...Object.keys(SETUP), 'stopped.deleted'];
  for (const state of settled) {
    it(`round-trips ${state}`, async () => {
      const machine = fakeMachine([]);
      const rec = state === 'stopped.deleted' ? await reach('stopped.idle', machine) : await reach(state, machine);
      if (state === 'stopped.deleted') {
        rec.actor.send(EVENTS.delete);
        await waitFor(rec.actor, isSettled);
      }
      rec.actor.send(EVENTS['gofer-exited']); // make the context non-default where accepted
      const live = rec.actor.getSnapshot();
      const persisted = JSON.parse(JSON.stringify(rec.actor.getPersistedSnapshot()));
      const restored = createActor(machine, { snapshot: persisted, input: { id: ID } }).start().getSnapshot();
      assert.deepEqual(restored.value, live.value);
      assert.deepEqual(restored.context, live.context);
      for (const [name, ev] of Object.entries(EVENTS)) {
        assert.equal(restored.can(ev), live.can(ev), `can(${name}) after restore of ${state}`);
      }
    });
  }

  it('restoring mid-effect re-runs the effect (so effects must be idempotent)', async () => {
    const calls: { effect: Effect; input: unknown }[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const stuck = fakeMachine([]).provide({ actors: { spawnInit: fromPromise(async () => gate) } });
    const first = createActor(stuck, { input: { id: ID } }).start();
    first.send(EVENTS.create);
    const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
    first.stop();
    release();
    assert.equal(stateName(persisted), 'creating.spawning');
    const rec = startRecorded(fakeMachine(calls), persisted);
    const after = await waitFor(rec.actor, isSettled, { timeout: 1000 });
    assert.equal(stateName(after), 'created.idle');
    assert.deepEqual(calls, [{ effect: 'spawnInit', input: { id: ID } }]);
    assert.deepEqual(rec.statuses, ['creating', 'created']);
  });
});

// The host lends each dispatch's facts and request to the restored context; effects get them as their invoke input,
// onDone merges each effect's patch in before the next effect starts, and none of it is ever persisted.
describe('container machine: the dispatch lent to the chart', () => {
  /** A paused container's snapshot with a dispatch lent to it, restored with effects that record their input. */
  async function lent(effects: Partial<Record<Effect, (input: any) => Promise<unknown>>>) {
    const calls: { effect: Effect; input: unknown }[] = [];
    const paused = (await reach('paused.idle', fakeMachine([]))).actor;
    const stored = JSON.parse(JSON.stringify(persistedSnapshot(paused)));
    const machine = fakeMachine(calls).provide({
      actors: Object.fromEntries(
        Object.entries(effects).map(([name, run]) => [name, fromPromise(async ({ input }: { input: any }) => (calls.push({ effect: name as Effect, input }), run!(input)))]),
      ),
    });
    const facts = { id: ID, initPid: 42 };
    const request = { destroy: { graceful: true } };
    const actor = createActor(machine, { snapshot: lendDispatch(stored, { facts, request }) as any, input: { id: ID } }).start();
    return { actor, calls, facts, request };
  }

  it('a force delete of a paused container: the destroy after the thaw gets the facts with the thaw\'s patch', async () => {
    const { actor, calls, facts, request } = await lent({
      thawCgroup: async () => ({ patch: { thawed: true } }),
      destroyContainer: async () => ({}),
    });
    actor.send(EVENTS['delete-force']);
    const after = await waitFor(actor, isSettled, { timeout: 1000 });
    assert.equal(stateName(after), 'stopped.deleted');
    assert.deepEqual(calls, [
      { effect: 'thawCgroup', input: { id: ID, facts, request } },
      { effect: 'destroyContainer', input: { id: ID, facts: { ...facts, thawed: true }, request } },
    ]);
    assert.deepEqual(facts, { id: ID, initPid: 42 }, 'the lent facts themselves are left as they were');
    assert.deepEqual(after.context.dispatch?.facts, { ...facts, thawed: true });
  });

  it('an exec\'s pid comes back in the dispatch; a failed effect\'s error is the very object it threw', async () => {
    const boom = new Error('boom');
    const { actor } = await lent({ spawnExec: async () => ({ execPid: 4242 }), thawCgroup: async () => Promise.reject(boom) });
    actor.send(EVENTS['exec-ignore-paused']);
    assert.equal((await waitFor(actor, isSettled, { timeout: 1000 })).context.dispatch?.execPid, 4242);
    actor.send(EVENTS.resume);
    const after = await waitFor(actor, isSettled, { timeout: 1000 });
    assert.equal(after.context.dispatch?.error, boom);
    assert.equal(after.context.lastError, 'boom');
  });

  it('is never persisted: the stored snapshot has the context it had before', async () => {
    const { actor } = await lent({ thawCgroup: async () => ({ patch: { thawed: true } }) });
    actor.send(EVENTS.resume);
    await waitFor(actor, isSettled, { timeout: 1000 });
    const { context } = persistedSnapshot(actor) as { context: object };
    assert.deepEqual(Object.keys(context).sort(), ['deleteAfterResume', 'exitStatus', 'goferExited', 'id', 'lastError']);
  });
});

describe('container machine: model-based (@xstate/graph)', () => {
  // Payloads for the events that carry one; the rest (including xstate.done/error.actor.*) are
  // derived by @xstate/graph from what each state accepts.
  const events = [
    EVENTS.kill,
    { type: 'container.kill', signal: 9, all: true },
    EVENTS.delete,
    EVENTS['delete-force'],
    EVENTS.exited,
    { type: 'observed.exited', exitStatus: null },
    EVENTS['gofer-exited'],
    EVENTS.exec,
    EVENTS['exec-ignore-paused'],
  ] as ContainerEvent[];
  // A function, not an array: an array replaces @xstate/graph's derivation of the other events.
  const options = {
    input: { id: ID },
    events: (state: any) =>
      __unsafe_getAllOwnEventDescriptors(state).flatMap((type) => {
        const withPayload = events.filter((e) => e.type === type);
        return withPayload.length > 0 ? withPayload : [{ type }];
      }) as any,
  };

  function statusPath(from: any, event: AnyEventObject): ContainerStatus[] {
    const path = [statusOf(from)];
    for (const [snap] of getMicrosteps(containerMachine(), from, event as any)) {
      const s = statusOf(snap);
      if (path.at(-1) !== s) path.push(s);
    }
    return path;
  }

  it('every edge of the reachable graph takes only allowed status moves', () => {
    const adj = getAdjacencyMap(containerMachine(), options);
    let edges = 0;
    const throughRunning = new Set<string>();
    const vertices = Object.values(adj) as { state: any; transitions: Record<string, { event: AnyEventObject }> }[];
    for (const { state, transitions } of vertices) {
      for (const { event } of Object.values(transitions)) {
        const path = statusPath(state, event);
        if (path.join('>') === 'paused>running>stopped') throughRunning.add(event.type);
        for (let i = 1; i < path.length; i++) {
          assert.ok(isAllowedMove(path[i - 1], path[i]), `${stateName(state)} --${event.type}--> ${path.join('>')}`);
        }
        edges++;
      }
    }
    assert.ok(edges > 50, `explored ${edges} edges`);
    // Both ways out of paused into stopped are exercised, and pass through running.
    assert.deepEqual([...throughRunning].sort(), ['observed.exited', 'xstate.done.actor.thawCgroup']);
  });

  it('every shortest path only takes allowed status moves, and every leaf state is reachable', () => {
    const paths = getShortestPaths(containerMachine(), options);
    const reached = new Set<string>();
    for (const p of paths) {
      reached.add(stateName(p.state));
      for (let i = 1; i < p.steps.length; i++) {
        const statuses = statusPath(p.steps[i - 1].state, p.steps[i].event);
        for (let j = 1; j < statuses.length; j++) {
          assert.ok(isAllowedMove(statuses[j - 1], statuses[j]), `path to ${stateName(p.state)}: ${statuses.join('>')}`);
        }
      }
    }
    // running.exited is transient (always), so it never is a resting state.
    assert.deepEqual([...reached].sort(), [
      'created.execing',
      'created.idle',
      'created.signalling',
      'created.starting',
      'created.updating',
      'creating.pending',
      'creating.spawning',
      'paused.execing',
      'paused.idle',
      'paused.resuming',
      'paused.signalling',
      'paused.updating',
      'running.execing',
      'running.idle',
      'running.pausing',
      'running.signalling',
      'running.updating',
      'stopped.deleted',
      'stopped.destroying',
      'stopped.idle',
    ]);
  });
});
