/**
 * Following the store's global feed: every transition any runts process commits under a root, in commit order,
 * as {@link RuntimeEvent}s. A follower remembers the cursor of the last entry it saw and reads what came after it;
 * it sleeps until the LMDB data file changes (fs.watch: every commit writes it) or, as a fallback for
 * filesystems where inotify says nothing, a short timer fires. It never busy-loops.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { FeedEntry, Store } from '../persistence/store.js';
import { isExit, statusOfState, type ContainerStatus } from '../machines/container.js';

/**
 * A container's statechart moved: one record of its history (the fields `history` shows: seq, from, to, event, time,
 * pid, exitStatus, error, refused), as it was committed. `cursor` is its position in the root's feed: pass it as
 * `since` to resume after it.
 */
export interface TransitionEvent extends FeedEntry {
  type: 'transition';
  /** OCI status after the move (top-level state of `to`). */
  status: ContainerStatus;
}

/** A container's process ended: its chart left created/running/paused for stopped. */
export interface ExitEvent {
  type: 'exit';
  cursor: number;
  id: string;
  /** The init's exit status (128 + signal when killed), or null when no runts process could wait for it. */
  exitStatus: number | null;
  time: string;
  pid: number;
}

/** What `Runtime.events()` yields. */
export type RuntimeEvent = TransitionEvent | ExitEvent;

/** Options of `Runtime.events()`. */
export interface EventsOptions {
  /** Only this container's events (exact id). */
  id?: string;
  /** Start after this cursor (0 = the oldest kept); default: only events committed from now on. */
  since?: number;
  /** Ends the iteration (the loop then finishes normally). */
  signal?: AbortSignal;
  /** Fallback wake-up interval when no file change is noticed (ms, default 500). */
  fallbackMs?: number;
}

/** The events one feed entry stands for: its transition, plus an exit when it leaves a live status for stopped. */
export function eventsOf(e: FeedEntry): RuntimeEvent[] {
  const status = statusOfState(e.to);
  const transition: TransitionEvent = {
    type: 'transition',
    cursor: e.cursor,
    id: e.id,
    seq: e.seq,
    from: e.from,
    to: e.to,
    status,
    event: e.event,
    time: e.time,
    pid: e.pid,
    ...(e.exitStatus !== undefined ? { exitStatus: e.exitStatus } : {}),
    ...(e.error !== undefined ? { error: e.error } : {}),
    ...(e.refused ? { refused: e.refused } : {}),
  };
  if (!isExit(statusOfState(e.from), status)) return [transition];
  return [transition, { type: 'exit', cursor: e.cursor, id: e.id, exitStatus: e.exitStatus ?? null, time: e.time, pid: e.pid }];
}

/**
 * Follows the feed of `store` until `opts.signal` aborts, the consumer stops iterating, or the store is closed.
 * @example for await (const ev of followFeed(store, { id: 'web' })) console.log(ev.type, ev.id);
 */
export async function* followFeed(store: Store, opts: EventsOptions = {}): AsyncGenerator<RuntimeEvent> {
  const { signal } = opts;
  let cursor: number;
  try {
    cursor = opts.since ?? store.feedHead();
  } catch (e) {
    if (isClosed(e)) return;
    throw e;
  }
  const waker = new Waker(store.dataFile, opts.fallbackMs ?? 500, signal);
  try {
    while (!signal?.aborted) {
      let batch: FeedEntry[];
      try {
        batch = store.feedAfter(cursor);
      } catch (e) {
        if (isClosed(e)) return; // the runtime was closed under us: the stream simply ends
        throw e;
      }
      if (batch.length === 0) {
        await waker.next();
        continue;
      }
      for (const entry of batch) {
        cursor = entry.cursor;
        if (opts.id !== undefined && entry.id !== opts.id) continue;
        for (const ev of eventsOf(entry)) {
          if (signal?.aborted) return;
          yield ev;
        }
      }
    }
  } finally {
    waker.close();
  }
}

/** lmdb-js refuses reads after close with this message. */
function isClosed(e: unknown): boolean {
  return /closed/i.test(String((e as Error)?.message ?? e));
}

/**
 * Resolves `next()` when the watched file changes, the fallback timer fires, or the signal aborts — whichever is
 * first. Changes between two `next()` calls are remembered, so none is lost while the consumer is busy.
 *
 * A file event can come a moment before its commit is readable: LMDB writes the meta page, and only then publishes
 * the new transaction id (in the lock file's shared memory, which makes no file event) that readers start from. So
 * every file event also schedules a few re-checks shortly after it (AFTERSHOCKS_MS): the commit is seen within
 * milliseconds instead of at the fallback timer, and an idle root costs nothing.
 */
const AFTERSHOCKS_MS = [2, 10, 40, 120];

class Waker {
  private watcher: FSWatcher | undefined;
  private aftershocks: NodeJS.Timeout[] = [];
  private pending = false;
  private wake: (() => void) | undefined;
  private readonly onAbort = () => this.fire();

  constructor(
    file: string,
    private readonly fallbackMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    try {
      this.watcher = watch(file, { persistent: false }, () => this.changed());
      this.watcher.on('error', () => this.stopWatching());
    } catch {
      // No inotify for this file (or too many watches): the fallback timer alone wakes us.
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  next(): Promise<void> {
    if (this.pending || this.signal?.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.fire(), this.fallbackMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.pending = false;
        resolve();
      };
    });
  }

  close(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.stopWatching();
    this.clearAftershocks();
    this.wake?.();
  }

  private changed(): void {
    this.fire();
    this.clearAftershocks();
    this.aftershocks = AFTERSHOCKS_MS.map((ms) => setTimeout(() => this.fire(), ms).unref());
  }

  private clearAftershocks(): void {
    for (const t of this.aftershocks) clearTimeout(t);
    this.aftershocks = [];
  }

  private fire(): void {
    if (this.wake) this.wake();
    else this.pending = true;
  }

  private stopWatching(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}
