// compileSeccomp (src/linux/seccomp.ts) over the fake port (error mapping, limits) and over the real addon when it
// is built (libseccomp: what it accepts, refuses and emits). Nothing is installed: programs are only inspected.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { compileSeccomp, SeccompError, SUPPORTED_SECCOMP_ACTIONS, SUPPORTED_SECCOMP_ARCHS, SUPPORTED_SECCOMP_OPERATORS } from '../../src/linux/seccomp.js';
import { nativeAddonBuilt, nativePort, SeccompCompileError } from '../../src/native/index.js';
import { FakeSyscallPort } from '../helpers/fake-port.js';
import { SECCOMP_ACTIONS, SECCOMP_ARCHS, SECCOMP_OPERATORS } from '../../src/oci/constants.js';
import type { LinuxSeccomp } from '../../src/oci/types.js';

/** The `ret K` values of a classic BPF program (BPF_RET|BPF_K = 0x06). */
function returns(bpf: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 8 <= bpf.length; i += 8) if (bpf.readUInt16LE(i) === 0x06) out.push(bpf.readUInt32LE(i + 4));
  return out;
}

const RET_ERRNO = 0x00050000;
const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;

const denyMkdir = (errnoRet?: number): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', ...(errnoRet === undefined ? {} : { errnoRet }) }],
});

describe('compileSeccomp over the fake port', () => {
  it('passes the profile through and returns the program', () => {
    const fake = new FakeSyscallPort();
    const profile: LinuxSeccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 15, op: 'SCMP_CMP_EQ' }] }],
    };
    const bpf = compileSeccomp(profile, fake);
    assert.equal(bpf.length, 8);
    assert.deepEqual(fake.calls.map((c) => c.method), ['compileSeccomp']);
    assert.deepEqual(fake.calls[0].args[0], {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ALLOW', errnoRet: undefined, args: [{ index: 1, value: 15, valueTwo: undefined, op: 'SCMP_CMP_EQ' }] }],
    });
  });

  it('turns an addon refusal into a SeccompError naming linux.seccomp.<field>', () => {
    const fake = new FakeSyscallPort();
    fake.failSeccomp = new SeccompCompileError('bad_config', 'syscalls[0].action', 'syscalls[0].action: unknown action "SCMP_ACT_FOO": use one of SCMP_ACT_ALLOW');
    assert.throws(
      () => compileSeccomp(denyMkdir(), fake),
      (e: unknown) => e instanceof SeccompError && e.code === 'bad_config' && e.message === 'linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_FOO": use one of SCMP_ACT_ALLOW',
    );
  });

  it('refuses a program longer than the kernel takes (4096 instructions)', () => {
    const port = { compileSeccomp: () => Buffer.alloc(4097 * 8) };
    assert.throws(() => compileSeccomp(denyMkdir(), port), (e: unknown) => e instanceof SeccompError && /4097 BPF instructions, more than the kernel's 4096/.test(e.message));
    assert.equal(compileSeccomp(denyMkdir(), { compileSeccomp: () => Buffer.alloc(4096 * 8) }).length, 4096 * 8);
  });

  it('supports what config validation accepts, minus LoongArch (libseccomp 2.5)', () => {
    assert.deepEqual(SECCOMP_ACTIONS.filter((a) => !SUPPORTED_SECCOMP_ACTIONS.includes(a)), []);
    assert.deepEqual([...SUPPORTED_SECCOMP_OPERATORS].sort(), [...SECCOMP_OPERATORS].sort());
    assert.deepEqual(SECCOMP_ARCHS.filter((a) => !SUPPORTED_SECCOMP_ARCHS.includes(a)), ['SCMP_ARCH_LOONGARCH64']);
  });
});

describe('compileSeccomp with libseccomp', { skip: nativeAddonBuilt() ? false : 'addon not built: npm run build:native' }, () => {
  const compile = (p: LinuxSeccomp) => compileSeccomp(p, nativePort());
  const refused = (p: LinuxSeccomp, message: RegExp) =>
    assert.throws(() => compile(p), (e: unknown) => e instanceof SeccompError && e.code === 'bad_config' && message.test(e.message) && !e.message.includes('\n'));

  it('emits a program whose returns are the configured errno and the default action', () => {
    const bpf = compile(denyMkdir(38));
    assert.equal(bpf.length % 8, 0);
    const rets = returns(bpf);
    assert.ok(rets.includes(RET_ERRNO | 38), 'ERRNO(38) for mkdir');
    assert.ok(rets.includes(RET_ALLOW), 'the default ALLOW');
    assert.ok(!rets.includes(RET_ERRNO | 1), 'no EPERM anywhere');
  });

  it('defaults errnoRet and defaultErrnoRet to EPERM', () => {
    assert.ok(returns(compile(denyMkdir())).includes(RET_ERRNO | 1));
    assert.ok(returns(compile({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] })).includes(RET_ERRNO | 1));
    assert.ok(returns(compile({ defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 22, syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] })).includes(RET_ERRNO | 22));
  });

  it('a denying default gets runc\'s -ENOSYS stub in front, bounded by the highest syscall named; a permissive one does not', () => {
    const arches = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
    const deny = compile({ defaultAction: 'SCMP_ACT_ERRNO', architectures: arches, syscalls: [{ names: ['read', 'openat'], action: 'SCMP_ACT_ALLOW' }] });
    // ld [arch]; ... the first `ret` is ERRNO(ENOSYS), and x86_64's bound is openat (257), i386's openat (295).
    assert.equal(deny.readUInt16LE(0), 0x20);
    assert.equal(deny.readUInt32LE(4), 4);
    assert.equal(returns(deny)[0], RET_ERRNO | 38);
    const jgt = (k: number) => { for (let i = 0; i < deny.length; i += 8) if (deny.readUInt16LE(i) === 0x25 && deny.readUInt32LE(i + 4) === k) return true; return false; };
    assert.ok(jgt(257) && jgt(295) && jgt(0x40000000 | 257), 'one bound per ABI');
    const allow = compile({ defaultAction: 'SCMP_ACT_ALLOW', architectures: arches, syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
    assert.ok(!returns(allow).includes(RET_ERRNO | 38));
  });

  it('compiles SCMP_ACT_NOTIFY to SECCOMP_RET_USER_NOTIF', () => {
    assert.ok(returns(compile({ ...denyMkdir(), syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] })).includes(0x7fc00000));
  });

  it('skips unknown syscall names and rules that repeat the default action', () => {
    const plain = compile(denyMkdir());
    assert.deepEqual(compile({ ...denyMkdir(), syscalls: [{ names: ['mkdir', 'no_such_syscall', 'mkdirat'], action: 'SCMP_ACT_ERRNO' }] }), plain);
    assert.deepEqual(compile({ ...denyMkdir(), syscalls: [...denyMkdir().syscalls!, { names: ['read'], action: 'SCMP_ACT_ALLOW' }] }), plain);
  });

  it('compiles argument conditions of every operator, and repeated indexes (one rule each, as runc)', () => {
    for (const op of SUPPORTED_SECCOMP_OPERATORS) {
      const bpf = compile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_KILL_PROCESS', args: [{ index: 1, value: 9, valueTwo: 9, op: op as 'SCMP_CMP_EQ' }] }] });
      assert.ok(returns(bpf).includes(RET_KILL_PROCESS), op);
    }
    const twice = compile({
      defaultAction: 'SCMP_ACT_ALLOW',
      syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }, { index: 1, value: 15, op: 'SCMP_CMP_EQ' }] }],
    });
    assert.ok(returns(twice).includes(RET_ERRNO | 1));
  });

  it('accepts every architecture it lists, and every action but NOTIFY', () => {
    for (const arch of SUPPORTED_SECCOMP_ARCHS) assert.ok(compile({ ...denyMkdir(), architectures: [arch] }).length > 0, arch);
    for (const action of SUPPORTED_SECCOMP_ACTIONS) {
      assert.ok(compile({ defaultAction: action as 'SCMP_ACT_ALLOW', syscalls: [{ names: ['getpid'], action: action === 'SCMP_ACT_ALLOW' ? 'SCMP_ACT_LOG' : 'SCMP_ACT_ALLOW' }] }).length > 0, action);
    }
  });

  it('refuses unknown actions, architectures and operators, and bad errnos, each in one line naming the field', () => {
    refused({ defaultAction: 'SCMP_ACT_FOO' as 'SCMP_ACT_ALLOW' }, /^linux\.seccomp\.defaultAction: unknown action "SCMP_ACT_FOO": use one of SCMP_ACT_ALLOW, /);
    refused({ ...denyMkdir(), syscalls: [{ names: ['read'], action: 'SCMP_ACT_MAYBE' as 'SCMP_ACT_ALLOW' }] }, /^linux\.seccomp\.syscalls\[0\]\.action: unknown action "SCMP_ACT_MAYBE"/);
    refused({ ...denyMkdir(), architectures: ['SCMP_ARCH_LOONGARCH64'] }, /^linux\.seccomp\.architectures\[0\]: unknown architecture "SCMP_ARCH_LOONGARCH64": use one of SCMP_ARCH_X86, /);
    refused(
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 1, op: 'SCMP_CMP_ABOUT' as 'SCMP_CMP_EQ' }] }] },
      /^linux\.seccomp\.syscalls\[0\]\.args\[0\]\.op: unknown operator "SCMP_CMP_ABOUT": use one of SCMP_CMP_NE, /,
    );
    refused(denyMkdir(70000), /^linux\.seccomp\.syscalls\[0\]\.errnoRet: must be an integer from 0 to 65535$/);
    refused({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 1, op: 'SCMP_CMP_EQ' }] }] }, /args\[0\]\.index: must be an integer from 0 to 5$/);
  });
});
