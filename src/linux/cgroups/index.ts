export { CgroupError } from './cgroup-error.js';
export { resolveCgroupPath } from './cgroup-path.js';
export { warmUpCgroupAttach } from './attach-warmup.js';
export {
  detectLayout,
  readHugePageSizes,
  hostLayout,
  refreshOwnCgroups,
  parseMountinfo,
  parseProcCgroup,
  V1_CONTROLLERS,
  type CgroupHierarchy,
  type CgroupLayout,
  type DetectOptions,
  type MountinfoEntry,
} from './layout.js';
export { parseSubCgroups, type SubCgroups } from './sub-cgroups.js';
export { CgroupManager, openCgroup, V2_CONTROLLERS, type CreateResult } from './manager.js';
export { formatDeviceRule, v1DeviceWrites, UNLIMITED_MEMORY, type DeviceWrite } from './v1.js';
export { sharesToWeight, blkioWeightToIoWeight, swapToV2, ioMaxWrites } from './v2.js';
export type * from './types.js';
