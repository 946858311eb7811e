#!/usr/bin/env node
// `npm test`: every test file, two at a time. Most of the suite's time is spent waiting (containers starting and
// stopping, daemons, a browser), not computing, so two lanes finish much sooner than one; within a lane files run one
// at a time, as each test file assumes. Every test uses its own --root, IDs, cgroup paths and daemons in temp dirs,
// so two lanes share nothing but the machine, with two exceptions that decide the layout:
// - the conformance suite mounts cgroup v1 hierarchies (net_cls,net_prio, hugetlb) for its run, and a hierarchy is the
//   whole kernel's, not a mount namespace's (every process's /proc/<pid>/cgroup gains the line): it runs beside the
//   unit tests only, which use fake cgroup trees;
// - the rootless tests add and remove test users (useradd locks /etc/passwd): they share a lane.
//   phase 1:  test/unit                                    |  test/conformance, then the browser test
//   phase 2:  half of test/integration, the other e2e      |  the other half, test/escape
// The first lane of each phase prints as it goes; the second's output (kept in a temp file) follows it. The exit
// status is non-zero when any lane failed. Extra arguments are passed to every `node --test`.
// RUNTS_TEST_LANES=1 runs every file in one lane, one at a time.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const testFiles = (...dirs) =>
  dirs.flatMap((dir) =>
    readdirSync(dir)
      .flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory() ? testFiles(path) : name.endsWith('.test.ts') ? [path] : [];
      })
      .sort(),
  );

const integration = testFiles('test/integration');
const usersLane = (f) => /rootless/.test(f);
const [half, otherHalf] = [0, 1].map((k) => integration.filter((f, i) => (usersLane(f) ? k === 0 : i % 2 === k)));
// The browser's waits (a page of 1,000 containers, a click and the chart it redraws) are the ones the two container
// lanes of phase 2 slowed past their timeouts: it runs in phase 1, after the conformance suite, beside the unit tests.
const browser = testFiles('test/e2e').filter((f) => f.endsWith('browser.test.ts'));
const PHASES = [
  [testFiles('test/unit'), [...testFiles('test/conformance'), ...browser]],
  [[...half, ...testFiles('test/e2e').filter((f) => !browser.includes(f))], [...otherHalf, ...testFiles('test/escape')]],
];
const extra = process.argv.slice(2);

/** Runs one lane's files with node's test runner; resolves with its exit status. `out`: an fd for its output. */
function lane(files, out) {
  if (files.length === 0) return Promise.resolve(0);
  const stdio = out === undefined ? 'inherit' : ['ignore', out, out];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...extra, ...files], { stdio });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

const say = (line) => process.stdout.write(`\n# ${line}\n`);
let failed = 0;
if (process.env.RUNTS_TEST_LANES === '1') {
  failed = await lane(PHASES.flat(2));
} else {
  const dir = mkdtempSync(join(tmpdir(), 'runts-tests-'));
  try {
    for (const [i, [first, second]] of PHASES.entries()) {
      const file = join(dir, `phase-${i + 1}.tap`);
      const fd = openSync(file, 'w');
      const statuses = await Promise.all([lane(first), lane(second, fd)]);
      closeSync(fd);
      say(`phase ${i + 1}, second lane: ${second.join(' ')}`);
      process.stdout.write(readFileSync(file));
      say(`phase ${i + 1}: ${statuses.map((s) => (s === 0 ? 'passed' : `failed (exit ${s})`)).join(', ')}`);
      failed ||= statuses.find((s) => s !== 0) ?? 0;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
process.exitCode = failed;
