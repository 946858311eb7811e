import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GoferError } from './errors.js';

/** File name of the gofer's socket inside the container's state directory. */
export const GOFER_SOCKET = 'gofer.sock';

/** `<root>/<id>/gofer.sock`: where a container's gofer listens (the state directory is 0700, root's). */
export function goferSocketPath(root: string, id: string): string {
  return join(root, id, GOFER_SOCKET);
}

// Both src/gofer/paths.ts (tsx) and dist/gofer/paths.js (tsc output) sit two levels below the repo root,
// like the addon (src/native/index.ts).
const GOFER_BINARY = fileURLToPath(new URL('../../build/Release/runts-gofer', import.meta.url));

/** Host path of the static gofer executable (build/Release/runts-gofer, built by scripts/build-helpers.sh). */
export function goferBinaryPath(): string {
  return GOFER_BINARY;
}

/** True when the gofer executable exists (tests use it to skip). */
export function goferBuilt(): boolean {
  return existsSync(GOFER_BINARY);
}

/**
 * {@link goferBinaryPath}, checked to exist.
 * @throws GoferError (sys) naming the build step when it is missing.
 */
export function requireGoferBinary(): string {
  if (!goferBuilt()) {
    throw new GoferError('sys', `runts gofer not built (${GOFER_BINARY} is missing): run npm run build:native`);
  }
  return GOFER_BINARY;
}
