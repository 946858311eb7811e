import { closeSync, lstatSync, openSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import type { Server } from 'node:net';
import { dirname, join } from 'node:path';
import { nativePort } from '../native/index.js';

/**
 * Listens on the unix socket `path`, born with mode 0600: the umask is set for the bind, so there is no window in
 * which another user could connect before a chmod would have closed it.
 */
export async function listenOwnerOnly(server: Server, path: string): Promise<void> {
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } finally {
    process.umask(umask);
  }
}

/**
 * Which file is at `path` (its inode and change time: a socket bound after another was removed can get the same
 * inode number), undefined when there is none.
 */
export function fileAt(path: string): string | undefined {
  try {
    const st = lstatSync(path, { bigint: true });
    return `${st.ino}:${st.ctimeNs}`;
  } catch {
    return undefined;
  }
}

/** Names bound by this process before they are renamed onto their path (see ClaimedSocket.listen). */
let bindings = 0;

/**
 * The socket a host serves at a well-known path (the root's supervisor.sock, host/front.sock), held against the
 * races of two hosts of one root. Checking that nothing answers at the path and then putting our socket there are
 * not one step: two hosts starting together could both remove what is there and bind — the second bind failing
 * (EADDRINUSE), or the second removing the first one's socket. And libuv removes the name a server was bound to when
 * it closes, whatever file is there by then: a host whose socket was removed, closing after another took the path,
 * would remove the other's. So a host binds a name of its own and renames it onto the path, and claims the path and
 * removes its socket under an flock of `<path>.lock`, held for that step only (released with LOCK_UN, so a child that
 * inherited the fd meanwhile does not keep it).
 */
export class ClaimedSocket {
  private constructor(
    readonly path: string,
    /** Which file our socket is (fileAt). */
    private readonly file: string,
  ) {}

  /**
   * Serves `server` at `path` (mode 0600), unless another host put its socket there since `seen` — what was at the
   * path (fileAt) before the caller checked that nothing answers there: then `exists()` is thrown. A dead host's
   * socket that is still `seen` is replaced in one step.
   */
  static async listen(server: Server, path: string, seen: string | undefined, exists: () => Error): Promise<ClaimedSocket> {
    // `.<pid>.<n>` in the same directory (rename cannot cross file systems), short, so it fits wherever `path` does.
    const bound = join(dirname(path), `.${process.pid.toString(36)}.${(bindings++).toString(36)}`);
    rmSync(bound, { force: true }); // left by a dead process of our pid
    await listenOwnerOnly(server, bound);
    try {
      return holdingLock(path, () => {
        const now = fileAt(path);
        if (now !== undefined && now !== seen) throw exists();
        renameSync(bound, path);
        return new ClaimedSocket(path, fileAt(path)!);
      });
    } catch (e) {
      await new Promise((r) => server.close(r));
      throw e;
    }
  }

  /** Why our socket is no longer at the path, if it is not. */
  lost(): 'its socket was removed' | 'its socket was replaced' | undefined {
    const now = fileAt(this.path);
    if (now === undefined) return 'its socket was removed';
    return now !== this.file ? 'its socket was replaced' : undefined;
  }

  /** Removes our socket from the path if it is still there (after the server closed). */
  remove(): void {
    try {
      holdingLock(this.path, () => {
        if (fileAt(this.path) === this.file) unlinkSync(this.path);
      });
    } catch {
      // the directory went with the root: nothing of ours is left
    }
  }
}

function holdingLock<T>(path: string, fn: () => T): T {
  const sys = nativePort();
  const fd = openSync(`${path}.lock`, 'a', 0o600);
  try {
    sys.flock(fd, true);
    try {
      return fn();
    } finally {
      sys.flock(fd, false);
    }
  } finally {
    closeSync(fd);
  }
}
