import { createActor, waitFor } from 'xstate';
import {
  containerMachine,
  type ContainerMachine,
  initialSnapshot,
  isResting,
  isSettled,
  lendDispatch,
  MACHINE_VERSION,
  persistedSnapshot,
  observeTransitions,
  stateName,
  errorText,
  opName,
  refusalError,
  stateError,
  statusOf,
  type ContainerEvent,
  type ContainerStatus,
} from '../machines/container.js';
import { RuntsError } from '../errors.js';
import { SCHEMA_VERSION, StoreError, type ContainerFacts, type ContainerRecord, type Store, type TransitionRecord } from '../persistence/store.js';
import type { ContainerEnv, LiveFacts } from './ports.js';
import type { DispatchRequest, EffectOutcome } from './effects.js';
import { observe, type Observer } from './reconcile.js';
import { writeFactsFile } from '../persistence/facts-file.js';

/** A dispatch whose effects ran but whose outcome could not be written to the store (message and code: the cause's). */
export class UnrecordedError extends RuntsError {
  constructor(
    cause: unknown,
    /** The container's facts after the effects: what exists now (processes, cgroup, state dir). */
    readonly facts: LiveFacts,
  ) {
    super((cause as RuntsError).code ?? 'sys', (cause as Error).message, { cause });
  }
}

// Imported on the first dispatch, not at load: the effects bring every container operation (plans, cgroups,
// seccomp) that `state` and `list`, answered from the snapshot, never need, and each command's start-up would pay
// for loading them. The promise is kept: even a cached import() goes through the module loader (and its hooks).
let effects: Promise<typeof import('./effects.js')> | undefined;
const loadEffects = () => (effects ??= import('./effects.js'));

type TransitionDraft = Omit<TransitionRecord, 'seq'>;

/** The result of one dispatch: where the container ended, its facts, and its record (undefined once deleted). */
export interface Settled {
  status: ContainerStatus;
  facts: LiveFacts;
  record: ContainerRecord | undefined;
  transitions: TransitionDraft[];
  outcome: EffectOutcome;
}

/**
 * Hosts container actors for one command (the transient host): rehydrate the actor from its persisted snapshot,
 * reconcile it with the kernel, check the chart allows the event, send it, wait until its effects settle, and
 * persist snapshot + facts + transitions in one compare-and-set write. The chart decides; nothing here assigns a
 * status.
 */
export class ContainerHost {
  /** The chart with this host's effects (see effects.ts), provided on the first dispatch. */
  private machine: ContainerMachine | undefined;

  constructor(
    readonly env: ContainerEnv,
    readonly store: Store,
    readonly observer: Observer,
  ) {}

  /** Inserts a new record in `creating` (taking the ID exclusively: a second create of the ID fails here). */
  insert(facts: LiveFacts): ContainerRecord {
    const { snapshot, state } = initialSnapshot(facts.id);
    return this.store.insert(
      { facts, snapshot, schemaVersion: SCHEMA_VERSION, machineVersion: MACHINE_VERSION },
      [{ id: facts.id, seq: 0, from: '', to: state, event: 'xstate.init', time: now(), pid: process.pid }],
    );
  }

  /**
   * Reconciles a container with the kernel and persists what changed; returns where it is now. `statusOnly`: the
   * caller reports the OCI status of many containers and nothing else (`list`), so the fast path skips the one
   * kernel fact that cannot change it, the gofer's liveness — a `list` of 1,000 is 1,000 fewer /proc reads. A dead
   * gofer is still recorded by the next command on that container, `state` included (or at once by a supervisor).
   */
  async refresh(record: ContainerRecord, opts: { statusOnly?: boolean } = {}): Promise<Settled> {
    const unchanged = this.unchanged(record, opts.statusOnly ?? false);
    if (unchanged) return unchanged;
    // Reconciling has no effects, so losing a compare-and-set race to another runts process is harmless: read
    // the record again and redo it (a few times at most).
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.dispatch(record, undefined);
      } catch (e) {
        const latest = this.store.get(record.facts.id);
        const cause = e instanceof UnrecordedError ? e.cause : e;
        if (!(cause instanceof StoreError) || cause.code !== 'conflict' || !latest || attempt >= 3) throw e;
        record = latest;
      }
    }
  }

  /**
   * The fast path of `refresh` (a `list` of 1,000 containers is 1,000 refreshes): when the record rests in a
   * quiet state and the kernel agrees with it, a restored actor would do nothing and persist nothing, so answer
   * from the persisted snapshot without creating one. `undefined` sends the record the full way (`dispatch`),
   * which also reports a record of another runts version.
   */
  private unchanged(record: ContainerRecord, statusOnly: boolean): Settled | undefined {
    if (record.machineVersion !== MACHINE_VERSION || record.schemaVersion !== SCHEMA_VERSION) return undefined;
    const snapshot = record.snapshot as { status?: string; value: unknown; context?: { goferExited?: boolean; deleteAfterResume?: boolean } };
    if (snapshot?.status !== 'active' || !snapshot.context || !isResting(snapshot)) return undefined;
    const status = statusOf(snapshot);
    const skipGofer = statusOnly || snapshot.context.goferExited === true;
    if (observe(record.facts, status, this.observer, skipGofer).length > 0) return undefined;
    // The record was just read from the store and is this caller's alone: no copy of its facts needed.
    return { status, facts: record.facts as LiveFacts, record, transitions: [], outcome: {} };
  }

  /**
   * Sends `event` (after reconciling) and persists the outcome. Throws the refusal when the chart does not allow
   * the event in the current state, or the effect's own error when an effect failed (after persisting the state
   * the chart moved to).
   */
  async dispatch(record: ContainerRecord, event: ContainerEvent | undefined, request: DispatchRequest = {}): Promise<Settled> {
    return this.commit(await this.run(record, event, request));
  }

  /**
   * Several dispatches whose outcomes are written in one store transaction — one lock, one commit, one disk flush:
   * the resident host records a burst of exits so (each `dispatch` on its own would commit, and flush, once per
   * container). Each result is what `dispatch` would have returned or thrown for that item.
   */
  async dispatchMany(items: { record: ContainerRecord; event: ContainerEvent }[]): Promise<(Settled | Error)[]> {
    const runs: (Run | Error)[] = [];
    for (const { record, event } of items) runs.push(await this.run(record, event).catch((e: Error) => e));
    return this.store.transaction(() =>
      runs.map((run) => {
        if (run instanceof Error) return run;
        try {
          return this.commit(run);
        } catch (e) {
          return e as Error;
        }
      }),
    );
  }

  /** Restores the actor, reconciles it, sends `event` and waits until its effects settle; writes nothing. */
  private async run(record: ContainerRecord, event: ContainerEvent | undefined, request: DispatchRequest = {}): Promise<Run> {
    if (record.machineVersion !== MACHINE_VERSION || record.schemaVersion !== SCHEMA_VERSION) {
      throw stateError(
        `container "${record.facts.id}" was stored by another runts version (chart ${record.machineVersion}); delete it with that version`,
      );
    }
    const { id } = record.facts;
    // Effects need the spec. A record read without it (Store.list, an exit being recorded) gets it when a command may
    // start one, or when the chart does not rest (a restored actor would go on by itself).
    if (record.facts.spec === undefined && (event?.type.startsWith('container.') || !isResting(record.snapshot as { value: unknown }))) {
      const spec = this.store.get(id)?.facts.spec;
      if (spec !== undefined) record = { ...record, facts: { ...record.facts, spec } };
    }
    const transitions: TransitionDraft[] = [];
    const { effectActors } = await loadEffects();
    this.machine ??= containerMachine().provide({ actors: effectActors(this.env) as never });
    // The facts and the request reach the effects as the chart's invoke input: lent in the restored context (never
    // persisted). Nothing changes them in place: an effect's patch makes new facts (so `persist` can also tell by
    // identity whether the spec must be written again — most dispatches leave it as it was).
    const actor = createActor(this.machine, {
      snapshot: lendDispatch(record.snapshot, { facts: record.facts, request }) as never,
      input: { id },
      // Every microstep, so paused → running → stopped is logged as two moves, not one.
      inspect: observeTransitions((t) =>
        transitions.push({ id, from: t.from, to: t.to, event: t.event.type, time: now(), pid: process.pid, ...exitOf(t.event), ...errorOf(t.event) }),
      ),
    });
    actor.start();
    try {
      // An observation sent as the event (e.g. the exit status a waiting parent reaped) is more precise than the
      // reconcile would be (which cannot know the status): do not reconcile first.
      const observations = event && /^(observed|gofer)\./.test(event.type) ? [] : observe(record.facts, statusOf(actor.getSnapshot()), this.observer, actor.getSnapshot().context.goferExited);
      for (const observed of observations) {
        if (actor.getSnapshot().can(observed)) actor.send(observed);
        await waitFor(actor, isSettled);
      }
      let refused: Error | undefined;
      if (event) {
        if (!actor.getSnapshot().can(event)) {
          refused = refusalError(id, statusOf(actor.getSnapshot()), opName(event.type));
        } else {
          actor.send(event);
          await waitFor(actor, isSettled);
        }
      }
      const final = actor.getSnapshot();
      const done = final.context.dispatch!;
      const outcome: EffectOutcome = done.execPid === undefined ? {} : { execPid: done.execPid };
      const failure = 'error' in done ? { error: done.error } : undefined;
      return { record, event: event?.type, facts: done.facts as LiveFacts, final, persisted: persistedSnapshot(actor), transitions, outcome, failure, refused };
    } finally {
      actor.stop();
    }
  }

  /**
   * Writes a settled dispatch and returns its result. Throws the refusal (after writing what the reconcile moved),
   * an UnrecordedError when the write failed after the effects ran, or the effect's own error.
   */
  private commit(run: Run): Settled {
    if (run.refused) {
      this.persist(run);
      this.recordRefusal(run, run.refused);
      throw run.refused;
    }
    let saved: ContainerRecord | undefined;
    try {
      saved = this.persist(run);
    } catch (e) {
      const rebased = lostRace(e) ? this.rebase(run) : undefined;
      if (rebased) {
        saved = rebased;
      } else if (yieldsTo(run, e)) {
        saved = this.store.get(run.facts.id);
      } else {
        if (lostRace(e)) this.recordRefusal(run, e as StoreError);
        // The effects ran but their result could not be recorded: say what they made, so the caller can undo it.
        throw new UnrecordedError(e, run.facts);
      }
    }
    // The failed effect's own error, as the chart received it (its `xstate.error.actor.*` event).
    if (run.failure) throw run.failure.error;
    return { status: statusOf(run.final), facts: run.facts, record: saved, transitions: run.transitions, outcome: run.outcome };
  }

  /**
   * Logs a command the chart refused (or whose write lost to a concurrent one) as a transition from the state the
   * record is in to itself, with the reason: `runts history` and the visualizer show why nothing happened. Appended
   * to the log only (Store.appendHistory): the record's version stays, so no concurrent writer loses its
   * compare-and-set to this. Commands only: a refused observation (a second exit report) is routine, not news.
   * Best effort: the refusal itself is what the caller gets.
   */
  private recordRefusal(run: Run, error: Error): void {
    if (!run.event?.startsWith('container.')) return;
    try {
      const id = run.facts.id;
      const stored = this.store.get(id, { withSpec: false });
      if (!stored) return;
      const state = stateName(stored.snapshot as { value: unknown });
      this.store.appendHistory(id, [
        { id, from: state, to: state, event: run.event, time: now(), pid: process.pid, refused: { code: (error as RuntsError).code ?? 'sys', reason: error.message } },
      ]);
    } catch (e) {
      this.env.log.warn({ id: run.facts.id, err: (e as Error).message }, 'could not record the refusal in the history');
    }
  }

  /**
   * A dispatch that lost its compare-and-set to a write that changed neither the status nor the facts it started
   * from (an exec recording itself: it waited, frozen, in a paused container until this very resume thawed it)
   * was computed from what is still true: it is written again on top of that write instead of failing.
   */
  private rebase(run: Run): ContainerRecord | undefined {
    const now = this.store.get(run.facts.id);
    if (!now || now.version === run.record.version) return undefined;
    const status = (r: ContainerRecord) => statusOf(r.snapshot as { value: unknown });
    if (status(now) !== status(run.record) || JSON.stringify(now.facts) !== JSON.stringify(run.record.facts)) return undefined;
    // The facts are equal: keep the run's own objects, so persist sees the spec unchanged (it compares by identity)
    // and writes neither the spec nor the facts file again.
    return this.persist({ ...run, record: { ...now, facts: run.record.facts } });
  }

  private persist({ record, facts: live, final, persisted, transitions }: Run): ContainerRecord | undefined {
    if (final.status === 'done' || stateName(final) === 'stopped.deleted') {
      // Destruction is final: whatever another writer recorded meanwhile (say, a supervisor noting the init's exit
      // while we killed it) is moot, so no compare-and-set here. The ID was ours throughout, so no new container
      // of that name can be caught by this.
      this.store.remove(live.id, undefined, transitions);
      return undefined;
    }
    const { spec, ...facts } = live;
    const { spec: storedSpec, ...storedFacts } = record.facts;
    const specKept = spec === storedSpec;
    const factsKept = specKept && JSON.stringify(facts) === JSON.stringify(storedFacts);
    if (transitions.length === 0 && factsKept) return record;
    // Facts without a spec keep the stored one (Store.update): an unchanged spec is not encoded and written again.
    const saved = this.store.update(live.id, record.version, { facts: specKept ? facts : live, snapshot: persisted }, transitions);
    if (!factsKept) this.keepFactsFile(live);
    return saved;
  }

  /**
   * The facts as recorded, in the container's state directory too (the init's pid once create recorded it, an
   * update's spec): what `runts repair` rebuilds a lost store from. Best effort: the store has them already.
   */
  private keepFactsFile(facts: LiveFacts): void {
    try {
      const spec = facts.spec ?? this.store.get(facts.id)?.facts.spec;
      writeFactsFile(this.env.root, { ...facts, spec });
    } catch (e) {
      this.env.log.warn({ id: facts.id, err: (e as Error).message }, 'could not write the facts file of the state directory');
    }
  }
}

/** A dispatch whose chart has settled, not yet written (see `dispatch` and `dispatchMany`). */
interface Run {
  record: ContainerRecord;
  /** The command's event type (undefined for a reconcile). */
  event?: ContainerEvent['type'];
  /** The facts after the effects (each effect's patch applied). */
  facts: LiveFacts;
  /** Where the chart ended, and its stored form. */
  final: { status: string; value: unknown };
  persisted: unknown;
  transitions: TransitionDraft[];
  outcome: EffectOutcome;
  /** The original error of the effect that failed, when one did. */
  failure?: { error: unknown };
  /** The chart did not allow the event: nothing was sent (what the reconcile moved is still written). */
  refused?: Error;
}

/** A write that lost its compare-and-set (the store's refusal of a stale version). */
function lostRace(e: unknown): boolean {
  return e instanceof StoreError && e.code === 'conflict';
}

/**
 * Whether a dispatch that lost its compare-and-set to `e` may leave the record to the other writer. An exec into a
 * paused container waits in its dispatch until someone resumes the container, and meanwhile other runts processes
 * record their own moves (that resume, a kill, a delete). An exec changes neither the status nor the facts, so it
 * has nothing to add to theirs: it yields (its transition records are dropped) rather than fail an exec
 * whose process runs.
 */
function yieldsTo(run: Run, e: unknown): boolean {
  if (run.event !== 'container.exec' || !(e instanceof StoreError) || (e.code !== 'conflict' && e.code !== 'not_found')) return false;
  if (statusOf(run.final) !== statusOf(run.record.snapshot as { value: unknown })) return false;
  const { spec, ...facts } = run.facts;
  const { spec: storedSpec, ...storedFacts } = run.record.facts;
  return spec === storedSpec && JSON.stringify(facts) === JSON.stringify(storedFacts);
}

function exitOf(event: { type: string; exitStatus?: unknown }): { exitStatus?: number | null } {
  return 'exitStatus' in event ? { exitStatus: (event.exitStatus as number | null) ?? null } : {};
}

/** An effect's failure (xstate's error event carries it), logged with the move it caused: what the visualizer shows as the step's error. */
function errorOf(event: { type: string; error?: unknown }): { error?: string } {
  return event.type.startsWith('xstate.error.') && event.error !== undefined ? { error: errorText(event.error) } : {};
}

function now(): string {
  return new Date().toISOString();
}

export type { ContainerFacts };
