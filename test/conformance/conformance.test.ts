// The OCI runtime conformance suite as a regression gate: scripts/conformance.sh runs every file listed in
// test/conformance/passing.txt against bin/runts, and the test fails naming each listed file that did not pass,
// with its first "not ok" line (or the runner's reason when the file printed none). The first run fetches Go and
// builds the suite (~2 minutes; .ci/run does it beforehand with `scripts/conformance.sh --prepare`).
// The runner's own verdicts (what counts as a pass in the suite's TAP) are checked first, on a fake suite.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, RUNTS, isRoot } from '../helpers/runts.js';

const RUNNER = join(REPO, 'scripts/conformance.sh');
const skip = isRoot ? false : 'needs root: the suite creates real containers (and the runner refuses to run without root)';

interface Run {
  status: number | null;
  output: string;
  /** PASS or FAIL and the rest of the line, per file. */
  verdicts: Map<string, { pass: boolean; why: string }>;
}

/**
 * Runs the runner to completion, its output through a file (a container that outlives its file would keep a pipe
 * open, and the wait with it).
 */
function runRunner(args: string[], env: Record<string, string>, timeoutMs: number): Run {
  const dir = mkdtempSync(join(tmpdir(), 'runts-conformance-out-'));
  const fd = openSync(join(dir, 'out'), 'w+');
  try {
    const r = spawnSync(RUNNER, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env }, timeout: timeoutMs });
    const output = readFileSync(join(dir, 'out'), 'utf8');
    const verdicts = new Map<string, { pass: boolean; why: string }>();
    for (const m of output.matchAll(/^(PASS|FAIL) +(\S+) *(.*)$/gm)) verdicts.set(m[2]!, { pass: m[1] === 'PASS', why: m[3]! });
    return { status: r.status, output, verdicts };
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The names in passing.txt: one a line, `#` starts a comment. */
function listedFiles(): string[] {
  return readFileSync(join(REPO, 'test/conformance/passing.txt'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

describe('scripts/conformance.sh judges a file by its TAP and exit status', { skip, timeout: 120_000 }, () => {
  // A fake suite in a fake cache dir: a `go` and a `runtimetest` that are never run, and validation files that
  // are shell scripts printing what the real ones print in each case.
  let cache: string;
  const files: Record<string, string> = {
    pass: 'echo "TAP version 13"; echo "ok 1 - a"; echo "ok 2 - b # SKIP no such thing"; echo "1..2"',
    notok: 'echo "TAP version 13"; echo "ok 1 - a"; echo "not ok 2 - b"; echo "1..2"',
    todo: 'echo "TAP version 13"; echo "not ok 1 - a # TODO later"; echo "1..1"',
    // The hooks files: Header(0) + AutoPlan, the failure only in a YAML block after no test line.
    lone_error: `echo "TAP version 13"; printf '  ---\\n  {\\n    "error": "hooks MUST be called"\\n  }\\n  ...\\n'; echo "1..0"`,
    // RuntimeInsideValidate: the inner TAP as a YAML block (no "error") before its ok line.
    inner_yaml: `echo "TAP version 13"; printf '  ---\\n  {\\n    "stdout": "ok 1"\\n  }\\n  ...\\n'; echo "ok 1 - inside"; echo "1..1"`,
    // linux_cgroups_hugetlb: two TAP streams, each with its own plan.
    two_streams: 'echo "TAP version 13"; echo "ok 1 - a"; echo "1..1"; echo "TAP version 13"; echo "ok 1 - b"; echo "1..1"',
    short_plan: 'echo "TAP version 13"; echo "1..3"; echo "ok 1 - a"',
    // util.Fatal: a message on stderr and exit status 1.
    fatal: 'echo "TAP version 13"; echo "1..0"; echo "failed to create the container" >&2; echo "true: no such thing" >&2; exit 1',
    // The *_fail files print nothing and exit 0 when the runtime refused the bad config.
    silent: 'exit 0',
    hangs: 'exec sleep 60',
    // A file that fails after `create`, leaving its container behind (bundle in $TMPDIR, as util.PrepareBundle does).
    leaks_container: [
      'b=$(mktemp -d "$TMPDIR/ocitestXXXXXX")',
      `${JSON.stringify(join(REPO, 'scripts/make-rootfs.sh'))} "$b/rootfs"`,
      'cd "$b" && "$RUNTIME" spec && sed -i \'s/"terminal": true/"terminal": false/\' config.json',
      '"$RUNTIME" create --bundle "$b" "$LEAK_ID" && echo "not ok 1 - gave up"',
    ].join('\n'),
    // Sees the v1 hierarchies --host-cgroups mounts, and leaves a cgroup in the hugetlb one.
    host_cgroups: [
      'echo "TAP version 13"',
      'grep -q " /sys/fs/cgroup/net_cls,net_prio .* - cgroup .*net_cls" /proc/self/mountinfo && echo "ok 1 - net_cls"',
      'grep -q " /sys/fs/cgroup/hugetlb .* - cgroup .*hugetlb" /proc/self/mountinfo && echo "ok 2 - hugetlb"',
      '[ -L /sys/fs/cgroup/net_cls ] && [ -L /sys/fs/cgroup/net_prio ] && echo "ok 3 - links"',
      'mkdir /sys/fs/cgroup/hugetlb/conformance-leftover /sys/fs/cgroup/net_cls/conformance-leftover',
      'echo "1..3"',
    ].join('\n'),
  };
  const leakId = `conformance-leak-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  before(() => {
    cache = mkdtempSync(join(tmpdir(), 'runts-conformance-fake-'));
    const suite = join(cache, 'runtime-tools');
    const goBin = join(cache, 'go/usr/lib/go-1.23/bin');
    mkdirSync(goBin, { recursive: true });
    writeFileSync(join(goBin, 'go'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    mkdirSync(suite, { recursive: true });
    writeFileSync(join(suite, 'runtimetest'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    for (const [name, body] of Object.entries(files)) {
      mkdirSync(join(suite, 'validation', name), { recursive: true });
      writeFileSync(join(suite, 'validation', name, `${name}.go`), 'package main\n');
      writeFileSync(join(suite, 'validation', name, `${name}.t`), `#!/bin/sh\n${body}\n`);
      chmodSync(join(suite, 'validation', name, `${name}.t`), 0o755);
    }
  });
  after(() => {
    spawnSync(RUNTS, ['delete', '--force', leakId], { stdio: 'ignore' });
    if (cache) rmSync(cache, { recursive: true, force: true });
  });

  test('one PASS or FAIL line per file, with the reason; exit status 1 when a file failed', () => {
    const names = ['pass', 'notok', 'todo', 'lone_error', 'inner_yaml', 'two_streams', 'short_plan', 'fatal', 'silent', 'hangs'];
    const run = runRunner(['/bin/true', ...names, 'no_such_file'], { CONFORMANCE_DIR: cache, RESULTS: join(cache, 'results'), PER_FILE_TIMEOUT: '1' }, 60_000);
    const v = (name: string) => {
      const got = run.verdicts.get(name);
      assert.ok(got, `no line for ${name} in:\n${run.output}`);
      return got;
    };
    for (const name of ['pass', 'todo', 'inner_yaml', 'two_streams', 'silent']) assert.equal(v(name).pass, true, `${name}: ${run.output}`);
    assert.deepEqual(v('notok'), { pass: false, why: '1 not ok: not ok 2 - b' });
    assert.deepEqual(v('lone_error'), { pass: false, why: 'error outside any test: hooks MUST be called"' });
    assert.match(v('short_plan').why, /fewer or more tests than planned/);
    assert.deepEqual(v('fatal'), { pass: false, why: 'exit status 1: true: no such thing' });
    assert.deepEqual(v('hangs'), { pass: false, why: 'timed out after 1s' });
    assert.deepEqual(v('no_such_file'), { pass: false, why: 'no such validation file' });
    assert.equal(v('pass').why, '1 ok, 1 skipped');
    assert.equal(v('silent').why, 'no failure reported');
    assert.match(run.output, /^files: +11 run, 5 passed, 6 failed: notok lone_error short_plan fatal hangs no_such_file$/m);
    assert.equal(run.status, 1, run.output);
    assert.ok(existsSync(join(cache, 'results', 'notok.tap')), 'the .tap of each file is kept');
  });

  test('exit status 0 when every file passed', () => {
    const run = runRunner(['/bin/true', 'pass', 'silent'], { CONFORMANCE_DIR: cache, RESULTS: join(cache, 'results2') }, 60_000);
    assert.equal(run.status, 0, run.output);
  });

  test('a container a file left behind is deleted', () => {
    const run = runRunner([RUNTS, 'leaks_container'], { CONFORMANCE_DIR: cache, RESULTS: join(cache, 'results3'), LEAK_ID: leakId }, 60_000);
    assert.match(run.output, /^FAIL +leaks_container +1 not ok/m, run.output);
    assert.match(run.output, new RegExp(`deleting container ${leakId}`), run.output);
    const state = spawnSync(RUNTS, ['state', leakId], { encoding: 'utf8' });
    assert.notEqual(state.status, 0, `the container is still there: ${state.stdout}`);
  });

  // The controllers' hierarchy numbers in /proc/cgroups (0: cgroup2's, or none).
  const hierarchies = () => readFileSync('/proc/cgroups', 'utf8').split('\n').filter((l) => /^(hugetlb|net_cls|net_prio)\s/.test(l)).map((l) => l.split(/\s+/).slice(0, 2).join(' '));
  const mountedV1 = (c: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => / - cgroup /.test(l) && l.split(' - ')[1]!.split(' ')[2]!.split(',').includes(c));
  const hostCgroupsSkip = !isRoot
    ? 'needs root'
    : mountedV1('hugetlb') || mountedV1('net_cls') || !existsSync('/sys/fs/cgroup/unified/cgroup.subtree_control')
      ? 'for a hybrid host without v1 hugetlb and net_cls hierarchies (cgroup2 at /sys/fs/cgroup/unified)'
      : readFileSync('/sys/fs/cgroup/unified/cgroup.subtree_control', 'utf8').includes('hugetlb')
        ? 'hugetlb is enabled in cgroup2 here'
        : false;

  test('--host-cgroups: the suite sees v1 net_cls,net_prio and hugetlb; the host gets its controllers back and no new dir', { skip: hostCgroupsSkip }, () => {
    const before = hierarchies();
    const run = runRunner(['--host-cgroups', '/bin/true', 'host_cgroups'], { CONFORMANCE_DIR: cache, RESULTS: join(cache, 'results4') }, 60_000);
    assert.match(run.output, /^PASS +host_cgroups +3 ok$/m, run.output);
    assert.equal(run.status, 0, run.output);
    // Back where it was, or on no v1 hierarchy (one an earlier run left, which this run rejoined and released).
    const after = hierarchies();
    after.forEach((line, i) => assert.ok(line.endsWith(' 0') || line === before[i], `a controller is still held: ${after} (before: ${before})`));
    for (const name of ['net_cls,net_prio', 'net_cls', 'net_prio', 'hugetlb']) {
      assert.equal(existsSync(join('/sys/fs/cgroup', name)), false, `/sys/fs/cgroup/${name} appeared on the host`);
    }
  });
});

describe('the conformance files in test/conformance/passing.txt still pass', { skip, timeout: 45 * 60_000 }, () => {
  test('scripts/conformance.sh --host-cgroups bin/runts <passing.txt>', () => {
    const names = listedFiles();
    assert.ok(names.length > 0, 'passing.txt lists no file');
    const results = mkdtempSync(join(tmpdir(), 'runts-conformance-'));
    const run = runRunner(['--host-cgroups', RUNTS, ...names], { RESULTS: results }, 40 * 60_000);
    assert.notEqual(run.status, 2, `the runner could not run the suite:\n${run.output}`);
    const broken: string[] = [];
    for (const name of names) {
      const v = run.verdicts.get(name);
      if (v?.pass) continue;
      const tap = join(results, `${name}.tap`);
      const notOk = existsSync(tap) ? readFileSync(tap, 'utf8').split('\n').find((l) => l.startsWith('not ok')) : undefined;
      broken.push(`${name}: ${notOk ?? v?.why ?? 'no result (the runner stopped early)'}`);
    }
    if (broken.length) {
      assert.fail(`${broken.length} listed conformance file(s) no longer pass (results: ${results}):\n  ${broken.join('\n  ')}\n\nrunner output:\n${run.output}`);
    }
    assert.equal(run.status, 0, run.output);
    rmSync(results, { recursive: true, force: true });
  });
});
