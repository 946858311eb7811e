/**
 * The embeddable runtime: every operation runts offers, as calls on one open state root. Each call is one file of
 * src/operations/ (load, dispatch, map the error); this class only holds what they share.
 */
import type { Logger } from 'pino';
import { silentLogger } from './log.js';
import { callerEnv } from './cli-io.js';
import { ContainerHost } from './actors/host.js';
import type { ContainerEnv, Ports } from './actors/ports.js';
import { kernelObserver } from './actors/reconcile.js';
import { defaultPorts } from './actors/default-ports.js';
import { WorkerPool } from './workers/pool.js';
import { nativePort } from './native/index.js';
import { Store } from './persistence/store.js';
import type { LinuxResources } from './oci/types.js';
import type { GoferData, GoferDirEntry } from './gofer/client.js';
import type { CgroupStats } from './linux/cgroups/index.js';
import type { TransitionRecord } from './persistence/store.js';
import type { RepairReport } from './actors/repair.js';
import type { CommandCaller, OperationContext } from './operations/context.js';
import type { ContainerState, CreateOptions, ExecHandle, ExecOptions, RunOptions, RuntimeApi } from './operations/types.js';
import { followFeed, type EventsOptions, type RuntimeEvent } from './operations/events.js';
import { createContainer } from './operations/create.js';
import { startContainer } from './operations/start.js';
import { killContainer } from './operations/kill.js';
import { deleteContainer } from './operations/delete.js';
import { containerState } from './operations/state.js';
import { listContainers } from './operations/list.js';
import { runContainer } from './operations/run.js';
import { execInContainer } from './operations/exec.js';
import { pauseContainer } from './operations/pause.js';
import { resumeContainer } from './operations/resume.js';
import { containerPids } from './operations/ps.js';
import { containerOomKills, containerStats } from './operations/stats.js';
import { updateContainer } from './operations/update.js';
import { listContainerDir, readContainerFile, streamContainerFile, writeContainerFile } from './operations/files.js';
import { containerHistory, purgeHistory } from './operations/history.js';
import type { Resident, ServeOptions } from './supervisor/supervisor.js';
import { defaultStateRoot } from './state-root.js';

export { RuntimeError } from './operations/context.js';
export type { ContainerState, CreateOptions, ExecHandle, ExecOptions, RunOptions, RuntimeApi } from './operations/types.js';
export type { EventsOptions, RuntimeEvent, TransitionEvent, ExitEvent } from './operations/events.js';
export type { Resident, ServeOptions } from './supervisor/supervisor.js';
export type { TransitionRecord } from './persistence/store.js';
export type { RepairReport } from './actors/repair.js';

export const DEFAULT_ROOT = '/run/runts';

export interface RuntimeOptions {
  /** State root (default /run/runts; $XDG_RUNTIME_DIR/runts without root: src/state-root.ts). */
  root?: string;
  log?: Logger;
  /** Replace effects' ports (tests). */
  ports?: Partial<Ports>;
  /** Stop deadline of delete --force and of waits after SIGKILL (default 5 s, or $RUNTS_STOP_TIMEOUT: "5s", "500ms"). */
  stopTimeoutMs?: number;
  /**
   * Keep one runts-init started ahead of need while this Runtime is open (default true): after each create, the next
   * one's stage 1 is started on the addon's spawn thread and waits, as an idle child process of this one, so a
   * create skips starting it. The CLI, which creates at most one container, turns it off.
   */
  keepInitReady?: boolean;
}

/** Open Runtimes with keepInitReady: the addon keeps a runts-init ready (process-wide) while there is one. */
let keepingInitReady = 0;

function stopTimeoutFromEnv(): number {
  const m = /^(\d+)(ms|s)?$/.exec(callerEnv('RUNTS_STOP_TIMEOUT') ?? '');
  return m ? Number(m[1]) * (m[2] === 'ms' ? 1 : 1000) : 5000;
}

/**
 * The embeddable runtime.
 *
 * IDs: the calls that only read (state, ps, stats, history, readFile, readFileStream, listDir) accept an abbreviated
 * ID, the only one starting with it; the calls that change or destroy a container (start, kill, delete, exec,
 * pause, resume, update, writeFile) act only on the exact ID, else fail with `not_found` (`IdUse` in src/oci/id.ts).
 *
 * @example
 * const rt = await Runtime.open({ root: '/run/runts' });
 * await rt.create('web', { bundle: '/srv/bundles/web' });
 * await rt.start('web');
 * console.log((await rt.state('web')).status); // "running"
 * await rt.delete('web', { force: true });
 * await rt.close();
 */
export class Runtime implements RuntimeApi {
  private keepsInitReady = false;

  private constructor(private readonly ctx: OperationContext) {}

  get root(): string {
    return this.ctx.root;
  }

  get log(): Logger {
    return this.ctx.log;
  }

  static async open(opts: RuntimeOptions = {}): Promise<Runtime> {
    const root = opts.root ?? defaultStateRoot();
    const log = opts.log ?? silentLogger();
    const workers = new WorkerPool();
    const ports = { ...defaultPorts(workers), ...opts.ports };
    const store = Store.open(root, ports.sys);
    const env: ContainerEnv = { root, ports, log, stopTimeoutMs: opts.stopTimeoutMs ?? stopTimeoutFromEnv() };
    const observer = kernelObserver(ports.sys, (path, relativeTo) => {
      try {
        const cg = ports.cgroups.open(path, relativeTo);
        return cg.exists() ? cg.freezerState() : null;
      } catch {
        return null;
      }
    });
    const rt = new Runtime({ root, store, host: new ContainerHost(env, store, observer), workers, log });
    if (opts.keepInitReady ?? true) {
      rt.keepsInitReady = true;
      if (keepingInitReady++ === 0) ports.sys.keepInitReady(true);
    }
    return rt;
  }

  /**
   * This Runtime as one command handed to a warm host sees it (src/supervisor/front-host.ts): the same store,
   * workers and ports, the command's logger and stop timeout (its $RUNTS_STOP_TIMEOUT); its close() leaves them open.
   * With `caller`, the command's spawns and waits go to the calling process (its SyscallPort), which is the creator
   * of what it creates.
   */
  forCommand(log: Logger, caller?: CommandCaller): Runtime {
    const { store, host } = this.ctx;
    const ports = caller ? { ...host.env.ports, sys: caller.port(host.env.ports.sys) } : host.env.ports;
    const env: ContainerEnv = { ...host.env, ports, log, stopTimeoutMs: stopTimeoutFromEnv() };
    const view = new Runtime({ ...this.ctx, host: new ContainerHost(env, store, host.observer), log, ...(caller ? { caller } : {}) });
    view.close = async () => undefined;
    return view;
  }

  /** Creates a container whose init waits, blocked, until `start`. */
  create(id: string, opts: CreateOptions = {}): Promise<ContainerState> {
    return createContainer(this.ctx, id, opts);
  }

  /** Runs the user program of a created container. */
  start(id: string): Promise<ContainerState> {
    return startContainer(this.ctx, id);
  }

  /** Sends a signal (number) to the init, or with `all` to every process of the container. */
  kill(id: string, signal = 15, opts: { all?: boolean } = {}): Promise<void> {
    return killContainer(this.ctx, id, signal, opts);
  }

  /**
   * Deletes a stopped (or created) container; `force` also kills a running or paused one first, and makes a missing
   * container no error (as runc: managers repeat `delete --force` to be sure).
   */
  delete(id: string, opts: { force?: boolean } = {}): Promise<void> {
    return deleteContainer(this.ctx, id, opts);
  }

  state(id: string): Promise<ContainerState> {
    return containerState(this.ctx, id);
  }

  list(): Promise<ContainerState[]> {
    return listContainers(this.ctx);
  }

  /**
   * create + start, then (unless detached) wait for the process, delete the container (unless `keep`) and
   * return the exit status: the process's code, or 128 + signal when a signal killed it.
   */
  run(id: string, opts: RunOptions = {}): Promise<number> {
    return runContainer(this.ctx, id, opts);
  }

  /**
   * Starts another process in a created or running container (joining its namespaces and cgroup). Returns the
   * host pid and `wait()`, which resolves to the exit status (128 + signal when killed).
   */
  exec(id: string, opts: ExecOptions): Promise<ExecHandle> {
    return execInContainer(this.ctx, id, opts);
  }

  /** Freezes every process of the container (cgroup freezer). */
  pause(id: string): Promise<void> {
    return pauseContainer(this.ctx, id);
  }

  /** Thaws a paused container. */
  resume(id: string): Promise<void> {
    return resumeContainer(this.ctx, id);
  }

  /** Host pids of every process in the container. */
  ps(id: string): Promise<number[]> {
    return containerPids(this.ctx, id);
  }

  /** cpu, memory, pids and blkio figures of the container's cgroup (the data of runc's `events --stats`). */
  stats(id: string): Promise<CgroupStats> {
    return containerStats(this.ctx, id);
  }

  /** How many processes of the container the OOM killer has killed so far (also after it stopped). */
  oomKills(id: string): Promise<number> {
    return containerOomKills(this.ctx, id);
  }

  /** Changes resource limits of a live container (applied to its cgroup at once). */
  update(id: string, resources: LinuxResources): Promise<void> {
    return updateContainer(this.ctx, id, resources);
  }

  /**
   * Reads a file inside the container through its gofer (the broker in its mount namespace). Paths are the
   * container's; one that leaves the rootfs (`..`, a symlink pointing out) is refused.
   */
  readFile(id: string, path: string): Promise<Buffer> {
    return readContainerFile(this.ctx, id, path);
  }

  /** Streams a file out of the container (see readFile). */
  readFileStream(id: string, path: string): AsyncGenerator<Buffer> {
    return streamContainerFile(this.ctx, id, path);
  }

  /** Writes (creates or replaces) a file inside the container (see readFile). */
  writeFile(id: string, path: string, data: GoferData, opts: { mode?: number } = {}): Promise<void> {
    return writeContainerFile(this.ctx, id, path, data, opts);
  }

  /** Lists a directory inside the container (see readFile). */
  listDir(id: string, path: string): Promise<GoferDirEntry[]> {
    return listContainerDir(this.ctx, id, path);
  }

  /**
   * The transition log of a container, oldest first: every move of its statechart (id, seq, from, to, event,
   * time, the pid of the runts process that made it, and exitStatus for `observed.exited`). Kept after delete
   * (bounded), so a deleted container's log can still be read by its exact id.
   * @example for (const t of await rt.history('web')) console.log(t.seq, t.from, '->', t.to, t.event);
   */
  history(id: string): Promise<TransitionRecord[]> {
    return containerHistory(this.ctx, id);
  }

  /**
   * Drops the transition log of deleted container `id` (exact), or with no id those of every deleted container.
   * The logs of existing containers are kept. Returns the ids purged. (The logs of the DELETED_HISTORY_LIMIT most
   * recent deletions are kept anyway; older ones go as containers are deleted.)
   * @example await rt.purgeHistory(); // every deleted container's log
   */
  purgeHistory(id?: string): Promise<string[]> {
    return purgeHistory(this.ctx, id);
  }

  /**
   * Every transition (and each exit) of this root's containers from now on, as they are committed — by this
   * process or any other (a CLI `pause`, a supervisor recording an exit). Ends when `signal` aborts or the loop
   * breaks. `since` resumes after an event's `cursor`.
   * @example
   * for await (const ev of rt.events({ id: 'web' })) {
   *   if (ev.type === 'exit') console.log('exited with', ev.exitStatus);
   *   if (ev.type === 'transition' && ev.to === 'stopped.deleted') break;
   * }
   */
  events(opts: EventsOptions = {}): AsyncIterable<RuntimeEvent> {
    return followFeed(this.ctx.store, opts);
  }

  /**
   * Makes this process the resident host of the root (what `runts supervise` runs): a child subreaper that is the
   * parent of the containers it creates, records their exit statuses the moment they exit, serves the control
   * socket `<root>/supervisor.sock` that CLI commands forward to, and with `listen` the visualizer. Close the
   * returned handle before `close()`. One resident per root.
   * @example
   * const rt = await Runtime.open({ root: '/run/runts' });
   * const resident = await rt.serve({ listen: '127.0.0.1:7433' });
   * // ... later
   * await resident.close();
   * await rt.close();
   */
  async serve(opts: ServeOptions = {}): Promise<Resident> {
    const { Resident } = await import('./supervisor/supervisor.js');
    return Resident.start(this, { store: this.ctx.store, host: this.ctx.host, forCommand: (log, caller) => this.forCommand(log, caller) }, opts);
  }

  /** Ends the worker threads and closes the store. */
  async close(): Promise<void> {
    if (this.keepsInitReady) {
      this.keepsInitReady = false;
      if (--keepingInitReady === 0) this.ctx.host.env.ports.sys.keepInitReady(false);
    }
    await this.ctx.workers.close();
    this.ctx.store.close();
  }

  /**
   * Rebuilds the damaged state store of `root` from the containers' state directories (`runts repair`, see
   * src/actors/repair.ts); undefined when it is not damaged (nothing changed). Needs no Runtime: one cannot be
   * opened on a damaged store.
   * @example const report = Runtime.repair('/run/runts');
   */
  static async repair(root = defaultStateRoot()): Promise<RepairReport | undefined> {
    const { repair } = await import('./actors/repair.js');
    return repair(root, nativePort());
  }
}
