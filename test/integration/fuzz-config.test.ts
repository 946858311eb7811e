// Hostile input (issue 7): property-based fuzzing of config.json through the real runtime. Every case ends in a
// clear one-line RuntsError or a working container (then deleted) — never a crash, an uncaught exception, or
// anything left behind. `npm run stress` runs 10,000 cases; CI runs RUNTS_FUZZ_RUNS (default 1,000).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { Runtime } from '../../src/runtime.js';
import { isRuntsError } from '../../src/errors.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { Sandbox, cgroupHierarchies, isRoot, processesRootedAt } from '../helpers/runts.js';
import { existsSync, readdirSync } from 'node:fs';

const skip = isRoot ? false : 'needs root: real containers';
const RUNS = Number(process.env.RUNTS_FUZZ_RUNS ?? 1000);

type Json = unknown;

/** Replaces the value at a random path of `base` with `value`, or deletes it (value === undefined). */
function mutate(base: Record<string, Json>, pathPicks: number[], value: Json, remove: boolean): Record<string, Json> {
  const copy = structuredClone(base);
  let node: Json = copy;
  for (const [depth, pick] of pathPicks.entries()) {
    if (!node || typeof node !== 'object') break;
    const keys = Object.keys(node as object);
    if (keys.length === 0) break;
    const key = keys[pick % keys.length];
    const last = depth === pathPicks.length - 1 || typeof (node as Record<string, Json>)[key] !== 'object' || (node as Record<string, Json>)[key] === null;
    if (last) {
      if (remove) delete (node as Record<string, Json>)[key];
      else (node as Record<string, Json>)[key] = value;
      break;
    }
    node = (node as Record<string, Json>)[key];
  }
  return copy;
}

describe('config.json fuzzing', { skip }, () => {
  let sb: Sandbox;
  let rt: Runtime;
  let rootfs: string;
  before(async () => {
    sb = new Sandbox();
    rt = await Runtime.open({ root: sb.root });
    // One rootfs for every case: each bundle links to it.
    const template = sb.bundle('template');
    rootfs = join(template, 'rootfs');
  });
  after(async () => {
    await rt.close();
    sb.cleanup();
  });

  test(`${RUNS} mutated or random configs: a clear error or a working container, never leftovers`, async () => {
    const base = defaultSpec({}) as unknown as Record<string, Json>;
    const config = fc.oneof(
      { weight: 9, arbitrary: fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), fc.jsonValue(), fc.boolean()).map(([p, v, r]) => mutate(base, p, v, r)) },
      { weight: 1, arbitrary: fc.jsonValue() },
    );
    let n = 0;
    let created = 0;
    await fc.assert(
      fc.asyncProperty(config, async (raw) => {
        const id = `fz${n++}`;
        const bundle = join(sb.dir, `fuzz-${id}`);
        mkdirSync(bundle);
        symlinkSync(rootfs, join(bundle, 'rootfs'));
        const spec = raw as Record<string, Json>;
        if (spec && typeof spec === 'object' && !Array.isArray(spec)) {
          // Keep the fuzzer away from the host: no hooks (they run host programs), cgroups under the test's parent.
          delete spec.hooks;
          if (spec.linux && typeof spec.linux === 'object' && !Array.isArray(spec.linux)) (spec.linux as Record<string, Json>).cgroupsPath = `${sb.cgroupParent}/${id}`;
          if (spec.process && typeof spec.process === 'object' && !Array.isArray(spec.process)) (spec.process as Record<string, Json>).terminal = false;
        }
        writeFileSync(join(bundle, 'config.json'), JSON.stringify(raw));
        try {
          await rt.create(id, { bundle });
          created++;
          // Tracked (for cleanup after a failure) only while it exists: cleanup deletes each tracked ID.
          sb.track(id);
          await rt.delete(id, { force: true });
          sb.untrack(id);
        } catch (e) {
          assert.ok(isRuntsError(e), `not a RuntsError: ${(e as Error)?.stack}`);
          assert.ok(!(e as Error).message.includes('\n'), `one line: ${(e as Error).message}`);
          assert.ok((e as Error).message.length > 10);
        }
        assert.deepEqual(await rt.list(), [], 'no record left');
        assert.equal(existsSync(join(sb.root, id)), false, 'no state directory left');
      }),
      { numRuns: RUNS, seed: Number(process.env.RUNTS_FUZZ_SEED ?? 20261129) },
    );
    assert.deepEqual(processesRootedAt(rootfs), [], 'no process left');
    for (const h of cgroupHierarchies()) {
      const parent = join(h, sb.cgroupParent);
      assert.deepEqual(existsSync(parent) ? readdirSync(parent, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name) : [], [], `no cgroup left in ${h}`);
    }
    // The fuzzer must also reach working containers, or it only tests the validator.
    assert.ok(created > 0, 'some fuzzed configs made working containers');
  });
});
