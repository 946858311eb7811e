/**
 * Runs tasks one at a time per key (a container id) and freely across keys: two forwarded commands on one
 * container, or a command and the exit the supervisor is recording for it, never race for its record (whose
 * compare-and-set write would make the loser fail with "changed concurrently").
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    return this.runMany([key], task);
  }

  /** Runs `task` once every task queued so far for any of `keys` is done; later tasks of those keys wait for it. */
  runMany<T>(keys: string[], task: () => Promise<T>): Promise<T> {
    const previous = Promise.all(keys.map((key) => this.tails.get(key)));
    const result = previous.then(task, task);
    const tail = result.catch(() => undefined);
    for (const key of keys) this.tails.set(key, tail);
    // Forget the keys once their last task is done, so the map does not grow with every container ever seen.
    void tail.then(() => {
      for (const key of keys) if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Resolves when every task queued so far has finished. */
  async drain(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()]);
  }
}
