import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HookError, runHooks, runHooksBestEffort } from '../../src/oci/hooks.js';
import { ociState } from '../../src/oci/state.js';
import type { Hook, State } from '../../src/oci/types.js';

const SH = '/bin/sh';

/** A shell hook; `OUT` in its env names the test's output file. */
function sh(script: string, out: string, extra: Partial<Hook> = {}): Hook {
  return { path: SH, args: ['sh', '-c', script], env: [`OUT=${out}`], ...extra };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill(0); it is dead for our purpose.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return cond();
}

describe('runHooks', () => {
  let dir = '';
  let state: State;
  const strays: number[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runts-oci-hooks-'));
    state = ociState({ id: 'c1', status: 'created', pid: 4242, bundle: dir, annotations: { a: 'b' } });
  });
  after(() => {
    for (const pid of strays) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const file = (name: string): string => join(dir, name);

  it('does nothing for undefined or empty hooks', async () => {
    await runHooks('prestart', undefined, state);
    await runHooks('prestart', [], state);
  });

  it('runs hooks in order', async () => {
    const out = file('order');
    await runHooks('createRuntime', ['one', 'two', 'three'].map((n) => sh(`echo ${n} >> "$OUT"`, out)), state);
    assert.equal(readFileSync(out, 'utf8'), 'one\ntwo\nthree\n');
  });

  it('passes the state JSON, and only it, on stdin', async () => {
    const out = file('stdin');
    await runHooks('prestart', [sh('cat > "$OUT"', out)], state);
    const text = readFileSync(out, 'utf8');
    assert.equal(text, JSON.stringify(state));
    assert.deepEqual(JSON.parse(text), { ociVersion: '1.2.0', id: 'c1', status: 'created', pid: 4242, bundle: dir, annotations: { a: 'b' } });
  });

  it('gives the hook exactly its env, its argv (args[0] as argv0) and the bundle as cwd', async () => {
    const out = file('env');
    const hook: Hook = {
      path: SH,
      args: ['my-hook', '-c', 'tr "\\0" "\\n" < /proc/$$/environ > "$OUT.env"; tr "\\0" " " < /proc/$$/cmdline > "$OUT.argv"; pwd > "$OUT.cwd"', 'x'],
      env: ['A=1', 'B=two words', `OUT=${out}`],
    };
    await runHooks('createRuntime', [hook], state);
    assert.deepEqual(readFileSync(`${out}.env`, 'utf8').trim().split('\n').sort(), ['A=1', 'B=two words', `OUT=${out}`]);
    assert.match(readFileSync(`${out}.argv`, 'utf8'), /^my-hook -c .* x $/);
    assert.equal(readFileSync(`${out}.cwd`, 'utf8').trim(), dir);
  });

  it('gives an empty environment when the hook has none', async () => {
    // No OUT either: write to a fixed path under the bundle (the cwd).
    await runHooks('prestart', [{ path: SH, args: ['sh', '-c', 'tr "\\0" "\\n" < /proc/$$/environ > empty-env'] }], state);
    assert.equal(readFileSync(file('empty-env'), 'utf8'), '');
  });

  it('uses the path as argv0 when args is missing', async () => {
    await runHooks('prestart', [{ path: '/bin/true' }], state);
  });

  it('fails with exit status and stderr tail, and stops at the first failure', async () => {
    const out = file('stop');
    await assert.rejects(
      runHooks('createRuntime', [sh('echo 1 >> "$OUT"', out), sh('echo "line one" >&2; echo "oops: broken" >&2; exit 3', out), sh('echo 3 >> "$OUT"', out)], state),
      (e: unknown) => {
        assert.ok(e instanceof HookError);
        assert.equal(e.code, 'sys');
        assert.equal(e.message, 'createRuntime hook /bin/sh failed: exit status 3: line one oops: broken');
        return true;
      },
    );
    assert.equal(readFileSync(out, 'utf8'), '1\n');
  });

  it('falls back to stdout when stderr is empty, and omits an empty tail', async () => {
    await assert.rejects(runHooks('prestart', [sh('echo from-stdout; exit 2', file('x'))], state), {
      message: 'prestart hook /bin/sh failed: exit status 2: from-stdout',
    });
    await assert.rejects(runHooks('prestart', [{ path: '/bin/false' }], state), { message: 'prestart hook /bin/false failed: exit status 1' });
  });

  it('keeps only a short tail of a flood of output', async () => {
    await assert.rejects(runHooks('prestart', [sh('head -c 1000000 /dev/zero | tr "\\0" a >&2; echo END >&2; exit 1', file('x'))], state), (e: unknown) => {
      const msg = (e as Error).message;
      assert.ok(msg.length < 300, `message is ${msg.length} chars`);
      assert.ok(msg.endsWith('aaaaEND'), msg.slice(-40));
      return true;
    });
  });

  it('reports death by signal', async () => {
    await assert.rejects(runHooks('poststart', [sh('kill -SEGV $$', file('x'))], state), {
      message: 'poststart hook /bin/sh failed: killed by signal SIGSEGV',
    });
  });

  it('reports a missing or non-executable hook', async () => {
    await assert.rejects(runHooks('prestart', [{ path: '/nonexistent/hook' }], state), {
      name: 'HookError',
      message: 'prestart hook /nonexistent/hook failed to start: ENOENT: no such file: fix the hook path',
    });
    await assert.rejects(runHooks('prestart', [{ path: file('stdin') }], state), /prestart hook .* failed to start: EACCES/);
  });

  it('kills a hook (and what it started) at its timeout', async () => {
    const out = file('timeout-pid');
    const started = Date.now();
    await assert.rejects(runHooks('createContainer', [sh('sleep 30 & echo $! > "$OUT"; wait', out, { timeout: 1 })], state), (e: unknown) => {
      assert.ok(e instanceof HookError);
      assert.equal(e.message, 'createContainer hook /bin/sh timed out after 1s');
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 900 && elapsed < 5000, `took ${elapsed} ms`);
    const pid = Number(readFileSync(out, 'utf8'));
    strays.push(pid);
    assert.ok(await waitUntil(() => !alive(pid), 3000), `sleep ${pid} survived the timeout`);
  });

  it('does not wait for a background process that keeps the output pipes open', async () => {
    const out = file('bg-pid');
    const started = Date.now();
    await runHooks('poststart', [sh('sleep 10 & echo $! > "$OUT"; exit 0', out)], state);
    strays.push(Number(readFileSync(out, 'utf8')));
    assert.ok(Date.now() - started < 3000);
  });

  it('survives a hook that does not read a large state', async () => {
    const big = ociState({ id: 'c1', status: 'created', pid: 1, bundle: dir, annotations: { big: 'x'.repeat(4 << 20) } });
    await runHooks('prestart', [{ path: '/bin/true' }], big);
  });

  it('runs the hook in the mount namespace of nsenterPid', async (t) => {
    if (process.getuid?.() !== 0 || !existsSync('/usr/bin/nsenter')) return t.skip('needs root and nsenter');
    const out = file('nsenter');
    // Our own mount namespace: proves the nsenter path is taken and the hook still sees its stdin and env.
    await runHooks('startContainer', [sh('cat > "$OUT"; readlink /proc/self/ns/mnt >> "$OUT"', out)], state, { nsenterPid: process.pid });
    const text = readFileSync(out, 'utf8');
    assert.ok(text.startsWith(JSON.stringify(state)));
    assert.ok(text.endsWith(`${(await import('node:fs')).readlinkSync('/proc/self/ns/mnt')}\n`));
    await assert.rejects(runHooks('startContainer', [{ path: '/bin/true' }], state, { nsenterPid: 2 ** 22 + 7 }), /startContainer hook \/bin\/true failed: exit status 1: nsenter: /);
  });
});

describe('runHooksBestEffort', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runts-oci-hooks-be-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs every hook, warns for each failure, never throws', async () => {
    const out = join(dir, 'be');
    const state = ociState({ id: 'c1', status: 'stopped', pid: 7, bundle: dir });
    const warnings: string[] = [];
    await runHooksBestEffort(
      'poststop',
      [sh('echo 1 >> "$OUT"', out), sh('exit 4', out), { path: '/nonexistent' }, sh('echo 4 >> "$OUT"', out), sh('sleep 5', out, { timeout: 1 })],
      state,
      (m) => warnings.push(m),
    );
    assert.equal(readFileSync(out, 'utf8'), '1\n4\n');
    assert.deepEqual(warnings, [
      'poststop hook /bin/sh failed: exit status 4',
      'poststop hook /nonexistent failed to start: ENOENT: no such file: fix the hook path',
      'poststop hook /bin/sh timed out after 1s',
    ]);
  });

  it('survives a warn callback that throws', async () => {
    const state = ociState({ id: 'c1', status: 'stopped', bundle: dir });
    await runHooksBestEffort('poststop', [{ path: '/bin/false' }], state, () => {
      throw new Error('logger broke');
    });
  });
});
