/**
 * The shapes of runts' operations: their options and results, and `RuntimeApi`, the calls every caller sees. The
 * embeddable `Runtime` implements it; the CLI's forwarding stand-in and the resident host speak it; nothing here
 * depends on how an operation is carried out.
 */
import type { Logger } from 'pino';
import type { CgroupStats, SubCgroups } from '../linux/cgroups/index.js';
import type { RuncState } from '../oci/state.js';
import type { LinuxResources, Process } from '../oci/types.js';
import type { TransitionRecord } from '../persistence/store.js';
import type { GoferData, GoferDirEntry } from '../gofer/client.js';
import type { EventsOptions, RuntimeEvent } from './events.js';

/** What `state` prints: runc's fields, in runc's order, and the sandbox (pod) the container belongs to (its own id
 * for a standalone or root container). */
export type ContainerState = RuncState & { sandbox: string };

export interface CreateOptions {
  /** Bundle directory (default: the current directory). */
  bundle?: string;
  /** Written last, with the init's pid: containerd treats its appearance as "created". */
  pidFile?: string;
  /** Unix socket that receives the pty master when process.terminal is true. */
  consoleSocket?: string;
  /** Extra fds from 3 up that the container process keeps. */
  preserveFds?: number;
  /** The container dies with this process (a foreground run): its init gets SIGKILL when its parent dies. */
  attached?: boolean;
}

/** What `exec` runs: a whole process (`--process file`), or arguments and flags over the container's process. */
export interface ExecOptions {
  process?: Process;
  args?: string[];
  /** Added to the container's environment (K=V). */
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number };
  /** Supplementary groups of the process (runc's `exec --additional-gids`), instead of the container's. */
  additionalGids?: number[];
  /** Capabilities added to the container's sets (they must be in its bounding set). */
  caps?: string[];
  noNewPrivs?: boolean;
  tty?: boolean;
  consoleSocket?: string;
  pidFile?: string;
  preserveFds?: number;
  detach?: boolean;
  /** runc's `--ignore-paused`: a paused container accepts the exec; the process stays frozen until resume. */
  ignorePaused?: boolean;
  /** runc's `exec --cgroup`: existing sub-cgroups of the container's to start in (see parseSubCgroups). */
  cgroups?: SubCgroups;
}

export interface RunOptions extends CreateOptions {
  /** Return once started instead of waiting for the process. */
  detach?: boolean;
  /** Keep the container (stopped) after it exits instead of deleting it. */
  keep?: boolean;
  /** While waiting, pass SIGINT, SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 this process gets on to the container's. */
  forwardSignals?: boolean;
}

/** A process `exec` started: its host pid, and `wait()` for its exit status (128 + signal when killed). */
export interface ExecHandle {
  pid: number;
  wait: () => Promise<number>;
}

/**
 * Every call of the runtime, as its callers see it (the CLI's commands, the resident host, the visualizer). IDs: the
 * calls that only read accept an abbreviated ID; those that change a container need the exact one (src/oci/id.ts).
 */
export interface RuntimeApi {
  readonly root: string;
  readonly log: Logger;
  create(id: string, opts?: CreateOptions): Promise<ContainerState>;
  start(id: string): Promise<ContainerState>;
  kill(id: string, signal?: number, opts?: { all?: boolean }): Promise<void>;
  delete(id: string, opts?: { force?: boolean }): Promise<void>;
  state(id: string): Promise<ContainerState>;
  list(): Promise<ContainerState[]>;
  run(id: string, opts?: RunOptions): Promise<number>;
  exec(id: string, opts: ExecOptions): Promise<ExecHandle>;
  pause(id: string): Promise<void>;
  resume(id: string): Promise<void>;
  ps(id: string): Promise<number[]>;
  stats(id: string): Promise<CgroupStats>;
  oomKills(id: string): Promise<number>;
  update(id: string, resources: LinuxResources): Promise<void>;
  readFile(id: string, path: string): Promise<Buffer>;
  readFileStream(id: string, path: string): AsyncIterable<Buffer>;
  writeFile(id: string, path: string, data: GoferData, opts?: { mode?: number }): Promise<void>;
  listDir(id: string, path: string): Promise<GoferDirEntry[]>;
  history(id: string): Promise<TransitionRecord[]>;
  purgeHistory(id?: string): Promise<string[]>;
  events(opts?: EventsOptions): AsyncIterable<RuntimeEvent>;
  close(): Promise<void>;
}
