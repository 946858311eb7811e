import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectLayout, type CgroupLayout } from '../../src/linux/cgroups/index.js';

const HYBRID_CONTROLLERS = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids'];

/**
 * A fake hybrid cgroupfs under `dir` (as this host has: v1 controllers, name=systemd, a cgroup2 at unified): plain
 * directories, a mountinfo naming them and the root files the kernel would provide. The cgroup manager sees it is
 * not a cgroupfs mount and creates the control files it writes; the v1 freezer reads back what it wrote.
 */
export function fakeHybridCgroupfs(dir: string): CgroupLayout {
  const root = path.join(dir, 'root');
  const lines = ['22 1 8:1 / / rw - ext4 /dev/sda1 rw'];
  for (const kb of ['2048', '1048576']) fs.mkdirSync(path.join(root, `sys/kernel/mm/hugepages/hugepages-${kb}kB`), { recursive: true });
  HYBRID_CONTROLLERS.forEach((c, i) => lines.push(`${32 + i} 31 0:${29 + i} / /sys/fs/cgroup/${c} rw - cgroup cgroup rw,${c}`));
  lines.push('40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd');
  lines.push('41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw');
  fs.writeFileSync(path.join(dir, 'mountinfo'), lines.join('\n') + '\n');
  fs.writeFileSync(path.join(dir, 'cgroup'), '0::/\n');
  const layout = detectLayout({ mountinfoPath: path.join(dir, 'mountinfo'), procCgroupPath: path.join(dir, 'cgroup'), root });
  for (const h of layout.hierarchies) fs.mkdirSync(h.mountpoint, { recursive: true });
  fs.writeFileSync(path.join(layout.controllers.cpuset, 'cpuset.cpus'), '0-3\n');
  fs.writeFileSync(path.join(layout.controllers.cpuset, 'cpuset.mems'), '0\n');
  fs.writeFileSync(path.join(layout.unified!, 'cgroup.controllers'), 'hugetlb\n');
  return layout;
}
