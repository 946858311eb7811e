/**
 * The container's gofer: a small static process (src/gofer/gofer.c) per container that performs its mounts inside
 * the rootfs and then brokers file access into it. This module gathers the TypeScript side: the mount list the
 * plan carries, the client of its socket, and its lifecycle (record, check, stop).
 */
export { GoferError } from './errors.js';
export { MountList, decodeMountList, type MountListEntry, type MountSink } from './mount-list.js';
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
