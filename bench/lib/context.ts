import type { BundleFactory } from './bundles.js';
import type { Tracker } from './cleanup.js';
import type { RuntimeSpec } from './runtimes.js';
import type { StateRoots } from './state-roots.js';

/** Sizes of one benchmark run (the full run's defaults, or --smoke's). */
export interface BenchOptions {
  smoke: boolean;
  /** Iterations per runtime for `run` and the create/start/wait/delete cycle. */
  iterations: number;
  /** Untimed API cycles that make benchmark 3's process warm (V8 optimises only after many runs) before it is timed. */
  apiWarmup: number;
  /** Untimed stops that make benchmark 4's resident host warm, as one that has recorded many exits is. */
  stopWarmup: number;
  /** Containers kept in `created` state while `list` and `state` are timed. */
  listN: number;
  /** Timed `list` / `state` calls per runtime at listN containers. */
  listRuns: number;
  /** Runs per command for the CLI cold-start figures (and benchmark 9's). */
  coldRuns: number;
  /** Containers per runtime for benchmark 9 (the native front). */
  frontN: number;
  /** Timed iterations per runtime of each client in benchmark 10 (ctr, podman, docker). */
  clientRuns: number;
  /** How many creates/deletes run at once when filling/emptying the listN containers. */
  batch: number;
}

/** What every benchmark gets: the runtimes (in alternation order), bundles, and the leftover tracker. */
export interface BenchContext {
  opts: BenchOptions;
  runtimes: RuntimeSpec[];
  bundles: BundleFactory;
  tracker: Tracker;
  /** The run's temp dir (logs, bundles, rootfs). */
  workDir: string;
  /** The state roots: every runtime's --root is under `roots.dir`, a tmpfs (see state-roots.ts). */
  roots: StateRoots;
  /** Directory for pid files. */
  pidDir: string;
  /** Throws if the run was interrupted (SIGINT/SIGTERM), so `finally` blocks clean up. */
  checkAbort(): void;
  log(msg: string): void;
}
