import { join } from 'node:path';

/** Per-container files that are not state (state lives in LMDB): the exec fifo the init blocks on. */
export function containerDir(root: string, id: string): string {
  return join(root, id);
}

export function execFifoPath(root: string, id: string): string {
  return join(root, id, 'exec.fifo');
}
