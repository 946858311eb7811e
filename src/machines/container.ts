/**
 * The container lifecycle statechart: the ONLY place where lifecycle rules live.
 *
 * Pure: no I/O. Every effect (spawning the init, signalling, freezing, destroying) is a named
 * actor declared here with a default that fails loudly, and supplied for real by the host with
 * `containerMachine().provide({ actors: { ... } })`. Because invokes reference actors by name, the
 * persisted snapshot stays plain JSON and can be restored in another process. An effect is a function of its
 * invoke input (the facts and request the host lends for one dispatch, see {@link DispatchData}) and resolves
 * with a patch of the facts, which its onDone merges in (`applyResult`).
 *
 * Top-level state = OCI status (creating, created, running, paused, stopped). Substates say
 * whether an effect is in flight (`starting`, `signalling`, ...) or not (`idle`, `pending`,
 * `deleted`). Status moves are exactly {@link ALLOWED_STATUS_MOVES} (gVisor's `changeStatus`).
 *
 * Error paths (documented decisions):
 * - `spawnInit` fails → `stopped.idle` (lastError set); the host tears down what was made.
 * - `startInit` fails (e.g. a prestart hook) → `stopped.idle` (lastError set); the OCI spec says
 *   the container must be destroyed, so the host then runs the delete teardown
 *   (`container.delete`, which `stopped.idle` accepts).
 * - `signalProcess` fails → back to the same `idle` (lastError set); the host reports it.
 * - `freezeCgroup` fails → `running.idle`; `thawCgroup` fails → `paused.idle` (a force delete that
 *   needed the thaw is abandoned: the flag is cleared and the error reported).
 * - `destroyContainer` fails → `stopped.idle` (lastError set); delete may be retried (idempotent).
 * `lastError` is cleared whenever a new effect starts, so after settling it belongs to this op.
 *
 * @example
 * ```ts
 * const live = containerMachine().provide({ actors: { spawnInit: fromPromise(async ({ input }) => spawn(input.id)) } });
 * const actor = createActor(live, { input: { id: 'web' } }).start();
 * actor.send({ type: 'container.create' });
 * await waitFor(actor, isSettled);
 * statusOf(actor.getSnapshot()); // 'created'
 * ```
 */
import {
  assign,
  createActor,
  fromPromise,
  setup,
  type AnyEventObject,
  type InspectionEvent,
  type SnapshotFrom,
} from 'xstate';
import { RuntsError, type ErrorCode } from '../errors.js';

/**
 * Version of this chart's shape. Stored next to every persisted snapshot so a snapshot written by
 * an older chart is detected instead of being restored into states that no longer exist.
 * Bump it whenever states, events or transitions change (a unit test pins the chart's fingerprint).
 */
export const MACHINE_VERSION = 'container/4';

/** The OCI statuses, in lifecycle order. */
export const CONTAINER_STATUSES = ['creating', 'created', 'running', 'paused', 'stopped'] as const;
/** An OCI container status (the top-level state of the chart). */
export type ContainerStatus = (typeof CONTAINER_STATUSES)[number];

/**
 * Every status move the chart may take (from → allowed targets), exactly gVisor's `changeStatus`:
 * created only from creating; paused only from running; running from created or paused;
 * stopped from creating, created, running or stopped. Nothing ever moves back to creating.
 */
export const ALLOWED_STATUS_MOVES: Readonly<Record<ContainerStatus, readonly ContainerStatus[]>> = {
  creating: ['created', 'stopped'],
  created: ['running', 'stopped'],
  running: ['paused', 'stopped'],
  paused: ['running'],
  stopped: ['stopped'],
};

/**
 * Machine context. `deleteAfterResume` is set while a force delete of a paused container thaws it. `dispatch` is
 * volatile: lent by the host for one dispatch ({@link lendDispatch}) and never persisted ({@link persistedSnapshot}).
 */
export interface ContainerContext {
  id: string;
  exitStatus: number | null;
  goferExited: boolean;
  lastError: string | null;
  deleteAfterResume: boolean;
  dispatch?: DispatchData;
}

/**
 * What a host lends the chart for one dispatch (opaque to the chart): the container's facts, which every effect takes
 * as its input and whose patch (the effect's output) the effect's onDone merges in, so the next effect starts from
 * them; the command's request (what exec, update or delete asks for); and what the effects reported: an exec's pid,
 * the original error of a failed effect (`xstate.error.actor.*`'s `error`, code and message intact).
 */
export interface DispatchData {
  facts: object;
  request: object;
  execPid?: number;
  error?: unknown;
}

/** What an effect resolves with (its done event's `output`): a patch of the facts, and an exec's pid. */
export interface EffectOutput {
  patch?: object;
  execPid?: number;
}

/** Input when creating the actor. */
export interface ContainerInput {
  id: string;
}

/** Every event the chart understands (commands `container.*`, kernel facts `observed.*`, `gofer.*`). */
export type ContainerEvent =
  | { type: 'container.create' }
  | { type: 'container.start' }
  | { type: 'container.kill'; signal: number; all: boolean }
  | { type: 'container.pause' }
  | { type: 'container.resume' }
  | { type: 'container.delete'; force: boolean }
  /** `ignorePaused`: runc's `exec --ignore-paused`, the only way into a paused container (the process stays frozen). */
  | { type: 'container.exec'; ignorePaused?: boolean }
  | { type: 'container.update' }
  | { type: 'observed.exited'; exitStatus: number | null }
  | { type: 'observed.abandoned' }
  | { type: 'observed.started' }
  | { type: 'observed.frozen' }
  | { type: 'observed.thawed' }
  | { type: 'gofer.exited'; exitStatus: number | null };

/** All event types, in a stable order (tests and docs iterate it). */
export const CONTAINER_EVENT_TYPES: readonly ContainerEvent['type'][] = [
  'container.create',
  'container.start',
  'container.kill',
  'container.pause',
  'container.resume',
  'container.delete',
  'container.exec',
  'container.update',
  'observed.exited',
  'observed.abandoned',
  'observed.started',
  'observed.frozen',
  'observed.thawed',
  'gofer.exited',
];

/**
 * Input of every effect actor: the container's facts as they are when it starts and the command's request, from the
 * dispatch the host lent ({@link DispatchData}; absent when none was lent, as in the chart's own tests).
 */
export interface EffectInput {
  id: string;
  facts?: object;
  request?: object;
}
/** Input of `signalProcess`: the signal comes with the `container.kill` event. */
export interface SignalInput extends EffectInput {
  signal: number;
  all: boolean;
}

/** Raised by this module: refusals (`bad_state`) and effects the host forgot to provide. */
export class ContainerMachineError extends RuntsError {
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

// The defaults only exist so the chart is complete and drawable; a host that forgets one must
// fail loudly rather than pretend the effect happened.
function notProvided<I>(name: string) {
  return fromPromise<void, I>(async () => {
    throw new ContainerMachineError(
      'bad_config',
      `effect "${name}" is not provided; supply it with containerMachine().provide({ actors: { ${name} } })`,
    );
  });
}

/** How an effect's error reads in the chart's `lastError` and in the history's `error`. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error === undefined) return 'unknown error';
  return String(error);
}

const effectInput = ({ context }: { context: ContainerContext }): EffectInput => ({
  id: context.id,
  ...(context.dispatch && { facts: context.dispatch.facts, request: context.dispatch.request }),
});

/**
 * A substate that runs one effect and goes back to `idle` either way (recording the error on failure): kill, exec
 * and update, in every status that allows them. The status does not change.
 */
function effectThenIdle<const S extends 'signalProcess' | 'spawnExec' | 'updateCgroup', I extends EffectInput>(
  src: S,
  input: (args: { context: ContainerContext; event: ContainerEvent }) => I,
) {
  return {
    entry: 'clearError' as const,
    invoke: {
      id: src,
      src,
      input,
      onDone: { target: 'idle', actions: 'applyResult' as const },
      onError: { target: 'idle', actions: 'recordError' as const },
    },
  };
}

/**
 * The container statechart. Supply the effects with `provide` before running it for real.
 *
 * Built on first use and then kept: building it costs over a millisecond, which `runts state` and `list` (answered
 * from the persisted snapshot) need not pay.
 */
export function containerMachine(): ContainerMachine {
  return (built ??= buildContainerMachine());
}
let built: ContainerMachine | undefined;

/** The type of {@link containerMachine}'s chart. */
export type ContainerMachine = ReturnType<typeof buildContainerMachine>;

function buildContainerMachine() {
  return setup({
  types: {
    context: {} as ContainerContext,
    events: {} as ContainerEvent,
    input: {} as ContainerInput,
  },
  actors: {
    spawnInit: notProvided<EffectInput>('spawnInit'),
    startInit: notProvided<EffectInput>('startInit'),
    signalProcess: notProvided<SignalInput>('signalProcess'),
    freezeCgroup: notProvided<EffectInput>('freezeCgroup'),
    thawCgroup: notProvided<EffectInput>('thawCgroup'),
    destroyContainer: notProvided<EffectInput>('destroyContainer'),
    spawnExec: notProvided<EffectInput>('spawnExec'),
    updateCgroup: notProvided<EffectInput>('updateCgroup'),
  },
  guards: {
    isForced: ({ event }) => event.type === 'container.delete' && event.force,
    isDeleteAfterResume: ({ context }) => context.deleteAfterResume,
    isIgnoringPaused: ({ event }) => event.type === 'container.exec' && event.ignorePaused === true,
  },
  actions: {
    clearError: assign({ lastError: null }),
    recordError: assign(({ context, event }) => {
      const { error } = event as AnyEventObject;
      return { lastError: errorText(error), ...(context.dispatch && { dispatch: { ...context.dispatch, error } }) };
    }),
    // The effect's result, taken with its done event: before the transition goes on, so an effect started after it
    // (the destroy after a force delete's thaw) gets the patched facts.
    applyResult: assign(({ context, event }) => {
      const output = (event as AnyEventObject).output as EffectOutput | undefined;
      if (!context.dispatch || !output) return {};
      const { facts } = context.dispatch;
      const patched = output.patch ? { ...facts, ...output.patch } : facts;
      return { dispatch: { ...context.dispatch, facts: patched, ...(output.execPid !== undefined && { execPid: output.execPid }) } };
    }),
    recordExit: assign({
      exitStatus: ({ event }) => (event.type === 'observed.exited' ? event.exitStatus : null),
    }),
    recordGoferExit: assign({ goferExited: true }),
    markDeleteAfterResume: assign({ deleteAfterResume: true }),
    clearDeleteAfterResume: assign({ deleteAfterResume: false }),
  },
}).createMachine({
  id: 'container',
  context: ({ input }) => ({
    id: input.id,
    exitStatus: null,
    goferExited: false,
    lastError: null,
    deleteAfterResume: false,
  }),
  initial: 'creating',
  states: {
    creating: {
      initial: 'pending',
      on: {
        'observed.exited': { target: '#container.stopped.idle', actions: 'recordExit' },
        'gofer.exited': { actions: 'recordGoferExit' },
      },
      states: {
        pending: {
          on: {
            'container.create': { target: 'spawning' },
            // The runts process that was creating it died: nothing will ever finish the create.
            'observed.abandoned': { target: '#container.stopped.idle' },
          },
        },
        spawning: {
          entry: 'clearError',
          invoke: {
            id: 'spawnInit',
            src: 'spawnInit',
            input: effectInput,
            onDone: { target: '#container.created.idle', actions: 'applyResult' },
            onError: { target: '#container.stopped.idle', actions: 'recordError' },
          },
        },
      },
    },
    created: {
      initial: 'idle',
      on: {
        'observed.exited': { target: '#container.stopped.idle', actions: 'recordExit' },
        'gofer.exited': { actions: 'recordGoferExit' },
      },
      states: {
        idle: {
          on: {
            'container.start': { target: 'starting' },
            'container.kill': { target: 'signalling' },
            'container.exec': { target: 'execing' },
            'container.update': { target: 'updating' },
            // The init left the start fifo and exec'd the user program: a start we did not finish recording
            // (its runts was killed after signalling) still happened.
            'observed.started': { target: '#container.running.idle' },
            // created → stopped is allowed; killing the blocked init is destroyContainer's job.
            'container.delete': { target: '#container.stopped.destroying' },
          },
        },
        starting: {
          entry: 'clearError',
          invoke: {
            id: 'startInit',
            src: 'startInit',
            input: effectInput,
            onDone: { target: '#container.running.idle', actions: 'applyResult' },
            // A failed start (prestart hook) must end in teardown: the host sends container.delete next.
            onError: { target: '#container.stopped.idle', actions: 'recordError' },
          },
        },
        execing: effectThenIdle('spawnExec', effectInput),
        updating: effectThenIdle('updateCgroup', effectInput),
        signalling: effectThenIdle('signalProcess', signalInput),
      },
    },
    running: {
      initial: 'idle',
      on: {
        'observed.exited': { target: '#container.stopped.idle', actions: 'recordExit' },
        'gofer.exited': { actions: 'recordGoferExit' },
      },
      states: {
        idle: {
          // A force delete of a paused container arrives here after the thaw; go straight on so the
          // status path is paused → running → stopped (paused → stopped is not an allowed move).
          always: {
            guard: 'isDeleteAfterResume',
            target: '#container.stopped.destroying',
            actions: 'clearDeleteAfterResume',
          },
          on: {
            'container.kill': { target: 'signalling' },
            'container.pause': { target: 'pausing' },
            'container.exec': { target: 'execing' },
            'container.update': { target: 'updating' },
            'container.delete': { guard: 'isForced', target: '#container.stopped.destroying' },
            'observed.frozen': { target: '#container.paused.idle' },
          },
        },
        // Transient: a paused container's init died; pass through running on the way to stopped.
        exited: {
          always: { target: '#container.stopped.idle', actions: 'clearDeleteAfterResume' },
        },
        execing: effectThenIdle('spawnExec', effectInput),
        updating: effectThenIdle('updateCgroup', effectInput),
        signalling: effectThenIdle('signalProcess', signalInput),
        pausing: {
          entry: 'clearError',
          invoke: {
            id: 'freezeCgroup',
            src: 'freezeCgroup',
            input: effectInput,
            onDone: { target: '#container.paused.idle', actions: 'applyResult' },
            onError: { target: 'idle', actions: 'recordError' },
          },
        },
      },
    },
    paused: {
      initial: 'idle',
      on: {
        'observed.exited': { target: '#container.running.exited', actions: 'recordExit' },
        'gofer.exited': { actions: 'recordGoferExit' },
      },
      states: {
        idle: {
          on: {
            'container.kill': { target: 'signalling' },
            'container.resume': { target: 'resuming' },
            // As runc: only when asked. The process joins the frozen cgroup and freezes there until resume; the
            // spawn waits for it, but only in the exec's own runts (see ContainerHost.commit), so pause, resume,
            // kill and delete from others are never blocked behind it.
            'container.exec': { guard: 'isIgnoringPaused', target: 'execing' },
            'container.update': { target: 'updating' },
            // Never paused → stopped: thaw first, then running.idle continues to destroying.
            'container.delete': {
              guard: 'isForced',
              target: 'resuming',
              actions: 'markDeleteAfterResume',
            },
            'observed.thawed': { target: '#container.running.idle' },
          },
        },
        execing: effectThenIdle('spawnExec', effectInput),
        updating: effectThenIdle('updateCgroup', effectInput),
        signalling: effectThenIdle('signalProcess', signalInput),
        resuming: {
          entry: 'clearError',
          invoke: {
            id: 'thawCgroup',
            src: 'thawCgroup',
            input: effectInput,
            onDone: { target: '#container.running.idle', actions: 'applyResult' },
            onError: { target: 'idle', actions: ['recordError', 'clearDeleteAfterResume'] },
          },
        },
      },
    },
    stopped: {
      initial: 'idle',
      states: {
        idle: {
          on: {
            // Destroy is idempotent (stopped → stopped), so delete is always accepted here.
            'container.delete': { target: 'destroying' },
          },
        },
        destroying: {
          entry: 'clearError',
          invoke: {
            id: 'destroyContainer',
            src: 'destroyContainer',
            input: effectInput,
            onDone: { target: 'deleted', actions: 'applyResult' },
            onError: { target: 'idle', actions: 'recordError' },
          },
        },
        deleted: { type: 'final' },
      },
    },
  },
});
}

function signalInput({ context, event }: { context: ContainerContext; event: ContainerEvent }): SignalInput {
  // Entered only through container.kill, whose payload carries the signal.
  if (event.type !== 'container.kill') {
    throw new ContainerMachineError('bad_state', `signalling container "${context.id}" needs a container.kill event`);
  }
  return { ...effectInput({ context }), signal: event.signal, all: event.all };
}

/** A snapshot of the container machine (live or restored). */
export type ContainerSnapshot = SnapshotFrom<ContainerMachine>;

/**
 * A stored snapshot with `dispatch` lent to its context, to restore an actor from: the facts and request of one
 * dispatch reach the effects as the chart's invoke input, not through a side channel.
 */
export function lendDispatch(snapshot: unknown, dispatch: DispatchData): unknown {
  const stored = snapshot as { context: object };
  return { ...stored, context: { ...stored.context, dispatch } };
}

/**
 * The persisted snapshot of a new container's chart, as an actor started with `{ id }` would give it, and the state it
 * is in: computed once — starting and stopping an actor was most of an insert's work — with the id filled in.
 */
export function initialSnapshot(id: string): { snapshot: unknown; state: string } {
  if (initial === undefined) {
    const actor = createActor(containerMachine(), { input: { id: '' } });
    actor.start();
    initial = { snapshot: actor.getPersistedSnapshot() as unknown as { context: ContainerContext }, state: stateName(actor.getSnapshot()) };
    actor.stop();
  }
  const snapshot = structuredClone(initial.snapshot);
  snapshot.context.id = id;
  return { snapshot, state: initial.state };
}
let initial: { snapshot: { context: ContainerContext }; state: string } | undefined;

/** The actor's snapshot to store: its persisted snapshot without the volatile `dispatch` (facts, spec, request). */
export function persistedSnapshot(actor: { getPersistedSnapshot(): unknown }): unknown {
  const persisted = actor.getPersistedSnapshot() as { context: ContainerContext };
  const { dispatch: _volatile, ...context } = persisted.context;
  return { ...persisted, context };
}

/** Minimal shape read by the helpers below, so persisted-then-restored snapshots work too. */
interface ValueHolder {
  value: unknown;
}

/**
 * The OCI status of a snapshot: its top-level state.
 * @example statusOf(actor.getSnapshot()) // 'running'
 */
export function statusOf(snapshot: ValueHolder): ContainerStatus {
  const value = snapshot.value;
  const top = typeof value === 'string' ? value : Object.keys(value as object)[0];
  if (!isStatus(top)) {
    throw new ContainerMachineError('bad_state', `snapshot state ${JSON.stringify(value)} is not a container status`);
  }
  return top;
}

/**
 * The OCI status of a dotted leaf state name as transition records store it (`running.idle` → `running`); `''`,
 * the `from` of a container's first record (before the chart existed), is `creating`.
 * @example statusOfState('paused.resuming') // 'paused'
 */
export function statusOfState(state: string): ContainerStatus {
  const top = state.split('.')[0];
  return isStatus(top) ? top : 'creating';
}

/** The OCI status of a stored snapshot (as read from the store, unchecked), or undefined when it has none. */
export function statusOfStored(snapshot: unknown): ContainerStatus | undefined {
  const value = (snapshot as { value?: unknown } | null | undefined)?.value;
  const top = typeof value === 'string' ? value : value && typeof value === 'object' ? Object.keys(value)[0] : undefined;
  return isStatus(top) ? top : undefined;
}

function isStatus(s: string | undefined): s is ContainerStatus {
  return (CONTAINER_STATUSES as readonly (string | undefined)[]).includes(s);
}

/**
 * The dotted path of the active leaf state, e.g. `running.idle` (what transition records store).
 * @example stateName(actor.getSnapshot()) // 'created.starting'
 */
export function stateName(snapshot: ValueHolder): string {
  const parts: string[] = [];
  let value: unknown = snapshot.value;
  while (value !== null && typeof value === 'object') {
    const key = Object.keys(value)[0];
    if (key === undefined) break;
    parts.push(key);
    value = (value as Record<string, unknown>)[key];
  }
  if (typeof value === 'string') parts.push(value);
  return parts.join('.');
}

/** Settled states that invoke nothing: restoring a snapshot there starts no effect. */
const RESTING = new Set(['creating.pending', 'created.idle', 'running.idle', 'paused.idle', 'stopped.idle']);
/** Every settled state: the resting ones and the final `stopped.deleted`. */
const SETTLED = new Set([...RESTING, 'stopped.deleted']);

/**
 * True when no effect is in flight: an `.idle` state, `creating.pending` or `stopped.deleted`.
 * Hosts wait for this before persisting: `await waitFor(actor, isSettled)`.
 */
export function isSettled(snapshot: ValueHolder): boolean {
  return SETTLED.has(stateName(snapshot));
}

/**
 * True when a restored actor of this stored snapshot would do nothing by itself: it rests in a settled state with no
 * invoke to restart, and is not `running.idle` on the way of a force delete (`deleteAfterResume`: an eventless move
 * to destroying). A snapshot without that flag (not written by this chart) is not taken as resting.
 */
export function isResting(snapshot: ValueHolder & { context?: { deleteAfterResume?: boolean } }): boolean {
  const name = stateName(snapshot);
  if (!RESTING.has(name)) return false;
  return name !== 'running.idle' || snapshot.context?.deleteAfterResume === false;
}

/**
 * The statuses in which the container's init exists (or existed until its exit is seen): created, running, paused.
 * Leaving one of them for stopped is an exit; a resident host watches the init of a container in one of them.
 */
export function hasInit(status: ContainerStatus | undefined): boolean {
  return status === 'created' || status === 'running' || status === 'paused';
}

/** Whether a move between these statuses is the init's exit (the feed then reports an `exit` event too). */
export function isExit(from: ContainerStatus, to: ContainerStatus): boolean {
  return to === 'stopped' && hasInit(from);
}

/**
 * Whether a query may look at the container's cgroup now. `'processes'` (ps, OOM kills): also once stopped, as runc
 * (it lists what is left, usually nothing). `'live'` (stats, file calls through the gofer): only while its init is
 * there. Never while creating: the cgroup and gofer are not set up yet.
 */
export function canQuery(status: ContainerStatus, what: 'processes' | 'live'): boolean {
  if (status === 'creating') return false;
  return status !== 'stopped' || what === 'processes';
}

/** Whether a new container may join this one as its sandbox (CRI): only while the sandbox's init lives, unpaused. */
export function canHostChildren(status: ContainerStatus): boolean {
  return status === 'created' || status === 'running';
}

/** {@link canHostChildren}'s refusal. */
export function sandboxRefusal(sandboxId: string, childId: string, status: ContainerStatus): ContainerMachineError {
  return new ContainerMachineError('bad_state', `sandbox "${sandboxId}" of container "${childId}" is ${status}: it must be created or running`);
}

/**
 * Deleting a sandbox (a container that is its own sandbox) first stops its children: their cgroups are nested in
 * its own, and their namespaces are its.
 */
export function deleteStopsChildren(facts: { id: string; sandboxId: string }): boolean {
  return facts.sandboxId === facts.id;
}

/**
 * Whether a failed `start` must end in teardown (OCI: a container whose start failed is destroyed). Not after a
 * refusal or an init found gone (`bad_state`: the chart moved nothing that needs undoing, or already stopped it),
 * nor after losing a write race (`conflict`: another runts process owns the container's next move).
 */
export function startFailureTearsDown(error: unknown): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return code !== 'bad_state' && code !== 'conflict';
}

/**
 * The user-facing operation name of an event type: `container.start` → `start`.
 * Non-command events keep their full type (`observed.exited`).
 */
export function opName(eventType: string): string {
  return eventType.startsWith('container.') ? eventType.slice('container.'.length) : eventType;
}

/**
 * The exact refusal message for an operation the chart does not accept in this status.
 * @example refusal('web', 'stopped', 'start') // 'cannot start container "web" in state stopped'
 */
export function refusal(id: string, status: ContainerStatus, op: string): string {
  const hint = REFUSAL_HINTS[`${op}/${status}`];
  return `cannot ${op} container "${id}" in state ${status}${hint ? `: ${hint}` : ''}`;
}

/** The way out of a refusal, where there is one besides waiting for another state. */
const REFUSAL_HINTS: Record<string, string> = {
  'exec/paused': 'resume it first, or pass --ignore-paused (the process stays frozen until resume)',
};

/** {@link refusal} as a `bad_state` error, ready to throw. */
export function refusalError(id: string, status: ContainerStatus, op: string): ContainerMachineError {
  return new ContainerMachineError('bad_state', refusal(id, status, op));
}

/**
 * A `bad_state` refusal the chart's transitions cannot state: the kernel contradicts the record (an effect finds the
 * init gone while the chart still says it lives; the next reconcile records the exit), or the record itself forbids
 * the call (written by another chart version). Every `bad_state` about a container is built here or by
 * {@link refusalError}.
 */
export function stateError(message: string, options?: { cause?: unknown }): ContainerMachineError {
  return new ContainerMachineError('bad_state', message, options);
}

/** One microstep of the chart as seen by {@link observeTransitions}. */
export interface ObservedTransition {
  /** Leaf state before, e.g. `paused.resuming`. */
  from: string;
  /** Leaf state after, e.g. `running.idle`. */
  to: string;
  /** OCI status before (top-level state of `from`). */
  fromStatus: ContainerStatus;
  /** OCI status after (top-level state of `to`). */
  toStatus: ContainerStatus;
  /** The event that started the macrostep (eventless steps report their triggering event). */
  event: AnyEventObject;
  /** Context after the step. */
  context: ContainerContext;
}

/**
 * An `inspect` callback for `createActor(machine, { inspect })` that reports every microstep of
 * the root container actor. Subscriptions only see macrosteps, so they would miss the transient
 * `running` of paused → running → stopped; transition records must come from here.
 *
 * @example
 * const moves: ObservedTransition[] = [];
 * const actor = createActor(live, { input: { id }, inspect: observeTransitions((t) => moves.push(t)) });
 */
export function observeTransitions(onStep: (t: ObservedTransition) => void): (ev: InspectionEvent) => void {
  let previous: string | undefined;
  return (ev) => {
    if (ev.type !== '@xstate.microstep' && ev.type !== '@xstate.snapshot') return;
    // Only the container actor itself, not its invoked promise actors.
    if (ev.actorRef.sessionId !== ev.rootId) return;
    const snap = ev.snapshot as unknown as { value?: unknown; context?: ContainerContext };
    if (snap.value === undefined || snap.context === undefined) return;
    const now = stateName(snap as ValueHolder);
    if (ev.type === '@xstate.snapshot') {
      // Snapshot events only seed the starting point (initial or restored state).
      previous ??= now;
      return;
    }
    // xstate also emits microsteps for events no transition took (e.g. a refused command or the
    // internal done.state event); those changed nothing and are not transitions.
    if (ev._transitions.length === 0) {
      previous = now;
      return;
    }
    const from = previous ?? now;
    onStep({
      from,
      to: now,
      fromStatus: statusOf({ value: from.split('.')[0] }),
      toStatus: statusOf(snap as ValueHolder),
      event: ev.event,
      context: snap.context,
    });
    previous = now;
  };
}
