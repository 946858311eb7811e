/**
 * The spawn plan's op table: the one source of every op's code and arguments. The TypeScript encoder (plan.ts)
 * reads it directly; scripts/gen-plan-ops.ts writes the C++ side from it, src/native/plan-ops.h (enum OpCode and
 * kOpSpecs, which the addon uses to validate a plan and runts-init to dispatch and name its errors). The header is
 * committed, so a plain node-gyp build needs no generator; `npm run build:native` regenerates it, and
 * test/unit/plan-ops-gen.test.ts fails when it is stale.
 *
 * An op is `code` (u32 on the wire, 1..N, never reused), its numbers in order (each an i64 on the wire; 'u64' for
 * capability masks and rlimits) and its strings in order, each with how the parent validates it:
 * - path   a C string without NUL bytes, at most 4095 bytes
 * - cstr   a C string without NUL bytes, any length (mount data, hostname)
 * - bytes  arbitrary bytes (a file's content); a string on the TypeScript side
 * - list   entries each followed by a NUL (argv, env), at most 1024
 * - gids   packed u32 gids, at most 65536
 * - bpf    struct sock_filter[] (8 bytes each), 1..4096; a Buffer on the TypeScript side
 * `errorPath` names the string a failure of the op reports as its path; without it, the first path or cstr string
 * (none when there is none).
 * Adding an op: a row here, its case in PlanOp (plan.ts), a builder method, and its function in child.cc's table.
 */

export type OpNumKind = 'int' | 'u64';
export type OpStrKind = 'path' | 'cstr' | 'bytes' | 'list' | 'gids' | 'bpf';

export interface PlanOpDef {
  readonly code: number;
  readonly nums: ReadonlyArray<readonly [string, OpNumKind]>;
  readonly strs: ReadonlyArray<readonly [string, OpStrKind]>;
  readonly errorPath?: string;
}

// setIds is encoded as (uid, gid, setGroups; groups): see toWire/fromWire in plan.ts.
export const PLAN_OPS = {
  writeFile: { code: 1, nums: [], strs: [['path', 'path'], ['content', 'bytes']] },
  setns: { code: 2, nums: [['nstype', 'int']], strs: [['path', 'path']] },
  unshare: { code: 3, nums: [['flags', 'int']], strs: [] },
  usernsSync: { code: 4, nums: [], strs: [] },
  fork: { code: 5, nums: [], strs: [] },
  mount: {
    code: 6,
    nums: [['flags', 'int']],
    strs: [['source', 'cstr'], ['target', 'path'], ['fstype', 'cstr'], ['data', 'cstr']],
    errorPath: 'target',
  },
  mkdirP: { code: 7, nums: [['mode', 'int']], strs: [['path', 'path']] },
  mkfile: { code: 8, nums: [['mode', 'int']], strs: [['path', 'path']] },
  mknod: { code: 9, nums: [['mode', 'int'], ['dev', 'int']], strs: [['path', 'path']] },
  symlink: { code: 10, nums: [], strs: [['target', 'path'], ['linkpath', 'path']], errorPath: 'linkpath' },
  chown: { code: 11, nums: [['uid', 'int'], ['gid', 'int']], strs: [['path', 'path']] },
  chmod: { code: 12, nums: [['mode', 'int']], strs: [['path', 'path']] },
  pivotRoot: { code: 13, nums: [], strs: [['newRoot', 'path']] },
  maskPath: { code: 14, nums: [], strs: [['path', 'path']] },
  readonlyPath: { code: 15, nums: [], strs: [['path', 'path']] },
  remountReadonly: { code: 16, nums: [], strs: [['path', 'path']] },
  sethostname: { code: 17, nums: [], strs: [['name', 'cstr']] },
  setdomainname: { code: 18, nums: [], strs: [['name', 'cstr']] },
  setrlimit: { code: 19, nums: [['resource', 'int'], ['soft', 'u64'], ['hard', 'u64']], strs: [] },
  chdir: { code: 20, nums: [], strs: [['path', 'path']] },
  umask: { code: 21, nums: [['mask', 'int']], strs: [] },
  setsid: { code: 22, nums: [], strs: [] },
  setIds: { code: 23, nums: [['uid', 'int'], ['gid', 'int'], ['setGroups', 'int']], strs: [['groups', 'gids']] },
  caps: {
    code: 24,
    nums: [['bounding', 'u64'], ['effective', 'u64'], ['permitted', 'u64'], ['inheritable', 'u64'], ['ambient', 'u64']],
    strs: [],
  },
  noNewPrivs: { code: 25, nums: [], strs: [] },
  seccomp: { code: 26, nums: [['listener', 'int']], strs: [['bpf', 'bpf']] },
  openFifo: { code: 27, nums: [], strs: [['path', 'path']] },
  consoleConnect: { code: 28, nums: [], strs: [['socketPath', 'path']] },
  consoleSetup: { code: 29, nums: [], strs: [] },
  closeFds: { code: 30, nums: [['firstFd', 'int']], strs: [] },
  dup2: { code: 31, nums: [['oldFd', 'int'], ['newFd', 'int']], strs: [] },
  ready: { code: 32, nums: [], strs: [] },
  waitFifo: { code: 33, nums: [], strs: [] },
  checkExec: { code: 34, nums: [], strs: [['path', 'path'], ['env', 'list']] },
  exec: { code: 35, nums: [], strs: [['path', 'path'], ['argv', 'list'], ['env', 'list']] },
  goferPrepare: { code: 36, nums: [], strs: [['socketPath', 'path'], ['binaryPath', 'path']] },
  spawnGofer: { code: 37, nums: [], strs: [['root', 'path']] },
  cgroupOpen: { code: 38, nums: [], strs: [['path', 'path']] },
  cgroupJoin: { code: 39, nums: [], strs: [] },
  prctl: { code: 40, nums: [['option', 'int'], ['arg', 'int']], strs: [] },
  gate: { code: 41, nums: [], strs: [] },
  rootfsOpen: { code: 42, nums: [], strs: [['path', 'path']] },
  chroot: { code: 43, nums: [], strs: [['path', 'path']] },
  mountSetattr: { code: 44, nums: [['attrSet', 'int'], ['attrClr', 'int']], strs: [['path', 'path']] },
  sourceOpen: { code: 45, nums: [['recursive', 'int']], strs: [['path', 'path']] },
  mountSource: { code: 46, nums: [['index', 'int']], strs: [['target', 'path']] },
} as const satisfies Record<string, PlanOpDef>;

export type PlanOpTableName = keyof typeof PLAN_OPS;
