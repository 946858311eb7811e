// Where one embedded API cycle (benchmark 3's runts side: create → start → wait → delete) spends its time, step by
// step: the kernel's scheduler and syscall tracepoints, recorded with `perf record` while the cycles run, mark when
// each process of the cycle reaches each step (stage 1's exec, its unshare, the init's clone, its first mount,
// pivot_root, readiness, the user program's exec and exit, the store's commits). The Runtime is opened with
// keepInitReady off, so that each create execs its runts-init, the event each cycle is found by. Tracepoints cost far
// less than strace, which stops every traced process at every syscall and makes the cycle several times slower.
//
// usage (root, perf installed — Debian's linux-perf): node bench/cycle-timeline.mjs <dist> <bundle dir> [cycles = 300]
//   <dist>: a runts dist/ with build/Release/ beside it (e.g. the repo's own dist/ after npm run build)
//   <bundle dir>: a config.json whose root.path is an absolute rootfs and whose process runs /bin/true
// Prints, over the last `cycles` cycles (500 untimed ones run first, as benchmark 3 warms up), the median time of each
// step from the previous cycle's last commit and the median of the step itself. Each container gets its own
// linux.cgroupsPath (/runts-timeline-<pid>/<id>); the state root is a temp dir on /dev/shm.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const EVENTS = [
  'sched:sched_process_fork', 'sched:sched_process_exec', 'sched:sched_process_exit',
  'syscalls:sys_enter_unshare', 'syscalls:sys_enter_mount', 'syscalls:sys_enter_pivot_root', 'syscalls:sys_enter_sendto',
  'syscalls:sys_enter_execve', 'syscalls:sys_enter_write', 'syscalls:sys_enter_fdatasync', 'syscalls:sys_exit_wait4',
  'syscalls:sys_enter_pidfd_open',
];

if (process.argv[2] === '--driver') {
  await drive(process.argv[3], process.argv[4], Number(process.argv[5]));
} else {
  const [dist, bundleDir, cyclesArg] = process.argv.slice(2);
  if (!dist || !bundleDir) {
    console.error('usage: node bench/cycle-timeline.mjs <dist> <bundle dir> [cycles]');
    process.exit(2);
  }
  const cycles = Number(cyclesArg ?? 300);
  const data = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'runts-timeline-')), 'perf.data');
  const rec = spawnSync('perf', ['record', '-q', '-o', data, ...EVENTS.flatMap((e) => ['-e', e]), '--', process.execPath, import.meta.filename, '--driver', path.resolve(dist), path.resolve(bundleDir), String(cycles)], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (rec.status !== 0) throw new Error(`perf record failed (status ${rec.status}): install linux-perf, run as root`);
  const script = spawnSync('perf', ['script', '-i', data, '-F', 'comm,tid,time,event,trace'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  fs.rmSync(path.dirname(data), { recursive: true, force: true });
  report(script.stdout, cycles);
}

/** The cycles themselves, in the process perf traces. */
async function drive(dist, bundleDir, cycles) {
  const { Runtime } = await import(path.join(dist, 'index.js'));
  const { nativePort } = await import(path.join(dist, 'native/index.js'));
  const sys = nativePort();
  const work = fs.mkdtempSync('/dev/shm/runts-timeline-');
  const prefix = `/runts-timeline-${process.pid}`;
  const base = JSON.parse(fs.readFileSync(path.join(bundleDir, 'config.json'), 'utf8'));
  const rt = await Runtime.open({ root: path.join(work, 'root'), keepInitReady: false });
  try {
    for (let i = 0; i < 500 + cycles; i++) {
      const id = `t${i}`;
      const bundle = path.join(work, id);
      fs.mkdirSync(bundle);
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify({ ...base, linux: { ...base.linux, cgroupsPath: `${prefix}/${id}` } }));
      const { pid } = await rt.create(id, { bundle });
      await rt.start(id);
      await sys.waitPidAsync(pid).catch(() => undefined);
      await rt.delete(id, { force: true });
      fs.rmSync(bundle, { recursive: true });
    }
  } finally {
    await rt.close();
    fs.rmSync(work, { recursive: true, force: true });
    const trees = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : fs.readdirSync('/sys/fs/cgroup').map((h) => path.join('/sys/fs/cgroup', h));
    for (const tree of trees) {
      try {
        fs.rmdirSync(path.join(tree, prefix)); // the containers' parent, left empty by their deletes
      } catch {
        // not in this hierarchy
      }
    }
  }
}

/** Finds each cycle's steps in `perf script` output and prints their medians. */
function report(text, cycles) {
  const events = [];
  for (const line of text.split('\n')) {
    const m = /^\s*(\S+)\s+(\d+)\s+([\d.]+):\s+(\S+):\s*(.*)$/.exec(line);
    if (m) events.push({ comm: m[1], tid: Number(m[2]), ms: Number(m[3]) * 1000, name: m[4], rest: m[5] });
  }
  const main = events.find((e) => e.comm === 'node')?.tid;
  const execs = events.flatMap((e, i) => (e.name === 'sched:sched_process_exec' && e.comm === 'runts-init' ? [i] : []));
  const steps = [
    'insert committed', 'plan sent to stage 1', "stage 1 exec'd", 'stage 1 unshare',
    'unshare(pid)', 'init cloned', 'first mount', 'pivot_root', 'init ready', 'created committed', 'start: execve',
    "/bin/true exec'd", '/bin/true exited', 'wait4 returned', 'delete: kill gofer', 'delete committed',
  ];
  const rows = [];
  for (let k = 1; k < execs.length - 1; k++) {
    const seg = events.slice(execs[k - 1], execs[k + 1]);
    const exec = execs[k] - execs[k - 1];
    const after = (from, pred) => { for (let j = from; j >= 0 && j < seg.length; j++) if (pred(seg[j])) return j; return -1; };
    const before = (from, pred) => { for (let j = from; j >= 0; j--) if (pred(seg[j])) return j; return -1; };
    const mainSync = (e) => e.tid === main && e.name === 'syscalls:sys_enter_fdatasync';
    const stage1 = seg[exec].tid;
    // The plan: the spawn thread's one large write (to the plan's memfd) just before stage 1 starts.
    const plan = before(exec, (e) => e.name === 'syscalls:sys_enter_write' && e.tid !== main && e.comm === 'node' && Number.parseInt(/count: (0x[0-9a-f]+)/.exec(e.rest)?.[1] ?? '0', 16) > 1024);
    const insert = before(plan, mainSync);
    const prevEnd = before(insert - 1, mainSync);
    const unshare = after(exec, (e) => e.tid === stage1 && e.name === 'syscalls:sys_enter_unshare');
    const pidns = after(exec, (e) => e.tid === stage1 && e.name === 'syscalls:sys_enter_unshare' && e.rest.includes('0x20000000'));
    const fork = after(pidns, (e) => e.tid === stage1 && e.name === 'sched:sched_process_fork');
    const init = fork >= 0 ? Number(/child_pid=(\d+)/.exec(seg[fork].rest)?.[1]) : -1;
    const mount = after(fork, (e) => e.tid === init && e.name === 'syscalls:sys_enter_mount');
    const pivot = after(fork, (e) => e.tid === init && e.name === 'syscalls:sys_enter_pivot_root');
    const ready = after(pivot, (e) => e.tid === init && e.name === 'syscalls:sys_enter_sendto');
    const created = after(ready, mainSync);
    const execve = after(ready, (e) => e.tid === init && e.name === 'syscalls:sys_enter_execve');
    const userExec = after(execve, (e) => e.tid === init && e.name === 'sched:sched_process_exec');
    const exit = after(execve, (e) => e.tid === init && e.name === 'sched:sched_process_exit');
    const waited = after(exit, (e) => e.name === 'syscalls:sys_exit_wait4' && e.rest.trim() === `0x${init.toString(16)}`);
    const del = after(waited, (e) => e.tid === main && e.name === 'syscalls:sys_enter_pidfd_open');
    const end = after(del, mainSync);
    const at = [prevEnd, insert, plan, exec, unshare, pidns, fork, mount, pivot, ready, created, execve, userExec, exit, waited, del, end];
    if (at.every((j) => j >= 0)) rows.push(at.map((j) => seg[j].ms));
  }
  rows.splice(0, Math.max(0, rows.length - cycles));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`${rows.length} cycles; ms: the step's median time from the previous cycle's last commit, then the step's own median`);
  steps.forEach((name, s) => {
    console.log(`${name.padEnd(22)} ${median(rows.map((r) => r[s + 1] - r[0])).toFixed(2).padStart(6)}  +${median(rows.map((r) => r[s + 1] - r[s])).toFixed(2)}`);
  });
}
