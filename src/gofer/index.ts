/**
 * The container's gofer: a small static process (src/gofer/gofer.c) per container that brokers file access into
 * its rootfs. This module gathers the TypeScript side: the client of its socket and its lifecycle (record, check,
 * stop).
 */
export { GoferError } from './errors.js';
export { goferBinaryPath, goferBuilt, goferSocketPath, requireGoferBinary, GOFER_SOCKET } from './paths.js';
export {
  goferList,
  goferMkdir,
  goferPidFromSocket,
  goferRead,
  goferReadStream,
  goferStat,
  goferWrite,
  type GoferData,
  type GoferDirEntry,
  type GoferStat,
} from './client.js';
export {
  GOFER_STOP_DEADLINE_MS,
  isGoferAlive,
  openGoferPidfd,
  recordGofer,
  stopGofer,
  type GoferFacts,
  type GoferProcOptions,
} from './lifecycle.js';
