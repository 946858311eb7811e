// A/B of the embedded API cycle between two builds of runts, in one process: both builds are loaded side by side
// and their create → start → wait → delete cycles alternate (A B, B A, …), so machine noise — large on a VM —
// falls on both alike. Prints each build's median and the median of the paired differences (B − A).
//
// usage (root): node bench/ab-cycle.mjs <dist A> <dist B> <bundle dir> [pairs = 100] [warm-up cycles = 10] [block = 1]
//   <dist X>: the dist/ of a runts install (dist/, build/Release/ and node_modules beside it), e.g. a copy made with
//             mkdir -p X/build && cp -a dist X/ && cp -a build/Release X/build/ && cp package.json X/ && ln -s $PWD/node_modules X/
//   <bundle dir>: a config.json whose root.path is a rootfs and whose process runs /bin/true; each container gets a
//             copy with its own linux.cgroupsPath (/runts-ab-<pid>/<A|B>/<id>).
//   [warm-up cycles]: untimed pairs first; V8 optimises a function only after many runs (benchmark 3 uses 500).
//   [block]: cycles each build runs in a row (A×block, B×block, B×block, A×block, …), as benchmark 3 runs runts'
//            cycles one after another: work a cycle leaves to the next (a runts-init started ahead, the kernel's
//            teardown of its namespaces) then falls on the same build. The first cycle of a block is not counted,
//            and the pairs are those of the blocks' medians: `pairs` blocks.
//   The state roots are in a temp dir under $TMPDIR (or /tmp): put it on a tmpfs to compare as benchmark 3 does.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [distA, distB, bundleDir, pairsArg, warmupArg, blockArg] = process.argv.slice(2);
if (!distA || !distB || !bundleDir) {
  console.error('usage: node bench/ab-cycle.mjs <dist A> <dist B> <bundle dir> [pairs] [warm-up cycles]');
  process.exit(2);
}
const pairs = Number(pairsArg ?? 100);
const WARMUP = Number(warmupArg ?? 10);
const BLOCK = Number(blockArg ?? 1);
const base = JSON.parse(fs.readFileSync(path.join(bundleDir, 'config.json'), 'utf8'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'runts-ab-'));
const cgroupPrefix = `/runts-ab-${process.pid}`;

async function open(dist, tag) {
  const { Runtime } = await import(path.resolve(dist, 'index.js'));
  const { nativePort } = await import(path.resolve(dist, 'native/index.js'));
  return { tag, rt: await Runtime.open({ root: path.join(work, `root-${tag}`) }), sys: nativePort(), live: new Set() };
}

function bundle(tag, id) {
  const dir = path.join(work, 'bundles', tag, id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ ...base, linux: { ...base.linux, cgroupsPath: `${cgroupPrefix}/${tag}/${id}` } }));
  return dir;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sides = [];
const times = { A: [], B: [] };
try {
  sides.push(await open(distA, 'A'), await open(distB, 'B'));
  const cycle = async (s, id) => {
    const b = bundle(s.tag, id);
    const t0 = performance.now();
    s.live.add(id);
    const { pid } = await s.rt.create(id, { bundle: b });
    await s.rt.start(id);
    await s.sys.waitPidAsync(pid).catch(() => undefined);
    await s.rt.delete(id, { force: true });
    s.live.delete(id);
    return performance.now() - t0;
  };
  const all = { A: [], B: [] };
  const warmupBlocks = Math.ceil(WARMUP / BLOCK);
  for (let i = 0; i < pairs + warmupBlocks; i++) {
    for (const s of i % 2 ? sides : [...sides].reverse()) {
      const block = [];
      for (let k = 0; k < BLOCK; k++) {
        const ms = await cycle(s, `c${i}-${k}`);
        if (BLOCK === 1 || k > 0) block.push(ms);
      }
      if (i >= warmupBlocks) {
        times[s.tag].push(median(block));
        all[s.tag].push(...block);
      }
    }
  }
  const diffs = times.A.map((a, i) => times.B[i] - a);
  const what = BLOCK === 1 ? `${pairs} pairs` : `${pairs} blocks of ${BLOCK}`;
  console.log(`A ${median(all.A).toFixed(2)} ms  B ${median(all.B).toFixed(2)} ms  median(B − A) ${median(diffs).toFixed(3)} ms  (${what})`);
} finally {
  for (const s of sides) {
    for (const id of s.live) await s.rt.delete(id, { force: true }).catch(() => undefined);
    await s.rt.close();
  }
  fs.rmSync(work, { recursive: true, force: true });
  // The containers' parents, left empty by their deletes: one tree on a pure cgroup2 host, one per hierarchy otherwise.
  const trees = fs.existsSync('/sys/fs/cgroup/cgroup.controllers') ? ['/sys/fs/cgroup'] : fs.readdirSync('/sys/fs/cgroup').map((h) => path.join('/sys/fs/cgroup', h));
  for (const tree of trees) {
    for (const dir of [`${cgroupPrefix}/A`, `${cgroupPrefix}/B`, cgroupPrefix]) {
      try {
        fs.rmdirSync(path.join(tree, dir));
      } catch {
        // not in this hierarchy
      }
    }
  }
}
