import type { Server } from 'node:net';

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
