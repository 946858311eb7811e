// The plan's op table (src/native/plan-ops.ts) is the one source of the op codes: the committed C++ header must be
// what scripts/gen-plan-ops.ts writes from it, and the TypeScript encoder must use the same codes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';

import { checkedOps, enumName, HEADER_PATH, renderPlanOpsHeader } from '../../scripts/gen-plan-ops.js';
import { PLAN_OPS, type PlanOpDef } from '../../src/native/plan-ops.js';
import { decodePlan, PlanBuilder } from '../../src/native/plan.js';

describe('plan op table generator', () => {
  it('the committed src/native/plan-ops.h is up to date (run npm run build:native after editing plan-ops.ts)', () => {
    assert.equal(fs.readFileSync(HEADER_PATH, 'utf8'), renderPlanOpsHeader());
  });

  it('writes one enum value and one kOpSpecs row per op, with its code, arity, string kinds and error path', () => {
    const text = renderPlanOpsHeader();
    assert.match(text, /^  OP_WRITE_FILE = 1,$/m);
    assert.match(text, /^  OP_MKDIR_P = 7,$/m);
    assert.match(text, /^  OP_MOUNT_SOURCE = 46,$/m);
    assert.match(text, /^ {4}\{"mount", 1, 4, \{S_CSTR, S_PATH, S_CSTR, S_CSTR\}, 1\},$/m);
    assert.match(text, /^ {4}\{"symlink", 0, 2, \{S_PATH, S_PATH\}, 1\},$/m);
    assert.match(text, /^ {4}\{"setIds", 3, 1, \{S_GIDS\}, -1\},$/m);
    assert.match(text, /^ {4}\{"seccomp", 1, 1, \{S_BPF\}, -1\},$/m);
    assert.match(text, /^ {4}\{"writeFile", 0, 2, \{S_PATH, S_BYTES\}, 0\},$/m);
    assert.match(text, /^ {4}\{"ready", 0, 0, \{\}, -1\},$/m);
    const rows = text.match(/^ {4}\{"\w+", /gm) ?? [];
    assert.equal(rows.length, Object.keys(PLAN_OPS).length);
    assert.equal(enumName('noNewPrivs'), 'OP_NO_NEW_PRIVS');
    assert.equal(enumName('dup2'), 'OP_DUP2');
  });

  it('refuses a table the C side could not use: a gap in the codes, too many arguments, a bad errorPath', () => {
    const base = PLAN_OPS as Record<string, PlanOpDef>;
    assert.throws(() => checkedOps({ ...base, extra: { code: 48, nums: [], strs: [] } }), /without gaps; extra has 48, expected 47/);
    assert.throws(() => checkedOps({ ...base, extra: { code: 1, nums: [], strs: [] } }), /without gaps/);
    const nums = Array.from({ length: 7 }, (_, i) => [`n${i}`, 'int'] as const);
    assert.throws(() => checkedOps({ ...base, extra: { code: 47, nums, strs: [] } }), /extra has more than 6 numbers/);
    const strs = Array.from({ length: 5 }, (_, i) => [`s${i}`, 'path'] as const);
    assert.throws(() => checkedOps({ ...base, extra: { code: 47, nums: [], strs } }), /extra has more than 4 strings/);
    assert.throws(
      () => checkedOps({ ...base, extra: { code: 47, nums: [], strs: [['a', 'path']], errorPath: 'b' } }),
      /extra\.errorPath names no string/,
    );
  });

  it('the TypeScript encoder writes the table codes and arity', () => {
    const buf = new PlanBuilder().mountSource(0, '/x').setrlimit(7, 1n, 2n).encode();
    // header 16 + five empty header strings of 8 + 8 bytes each: the first op starts at 96
    assert.equal(buf.readUInt32LE(96), PLAN_OPS.mountSource.code);
    assert.equal(buf.readUInt16LE(100), PLAN_OPS.mountSource.nums.length);
    assert.equal(buf.readUInt16LE(102), PLAN_OPS.mountSource.strs.length);
    assert.deepEqual(decodePlan(buf).ops.map((o) => o.op), ['mountSource', 'setrlimit']);
  });
});
