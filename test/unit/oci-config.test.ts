import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadBundle, parseJsonFile, validateProcess, validateSpec } from '../../src/oci/config.js';
import { defaultSpec } from '../../src/oci/default-spec.js';
import { jsonErrorOffset, lineColumn } from '../../src/oci/json-position.js';
import { RuntsError } from '../../src/errors.js';

type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A valid spec to break one field at a time. */
function base(): Any {
  return JSON.parse(JSON.stringify(defaultSpec({})));
}

function expectConfigError(fn: () => unknown, expected: string | RegExp): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  const err = caught as ConfigError;
  assert.ok(!err.message.includes('\n'), `message must be one line: ${JSON.stringify(err.message)}`);
  if (typeof expected === 'string') assert.equal(err.message, expected);
  else assert.match(err.message, expected);
  return err;
}

describe('validateSpec: valid input', () => {
  it('accepts the default spec and its rootless variant', () => {
    assert.equal(validateSpec(base()).process!.args![0], 'sh');
    assert.equal(validateSpec(JSON.parse(JSON.stringify(defaultSpec({ rootless: true })))).linux!.uidMappings!.length, 1);
  });

  it('accepts any SemVer 1.x ociVersion, pre-release and build parts included (Docker writes 1.0.2-dev)', () => {
    for (const v of ['1.0.0', '1.0.2-dev', '1.0.0-rc5+dev', '1.3.0', '1.10.20-rc.1+build.7']) {
      const s = base();
      s.ociVersion = v;
      assert.equal(validateSpec(s).ociVersion, v);
    }
  });

  it('keeps unknown fields, drops null optional fields, and does not mutate its input', () => {
    const s = base();
    s.futureField = { x: 1 };
    s.process.futureProcessField = 'y';
    s.hooks = null;
    s.linux.seccomp = null;
    const before = JSON.stringify(s);
    const out = validateSpec(s) as Any;
    assert.equal(JSON.stringify(s), before);
    assert.deepEqual(out.futureField, { x: 1 });
    assert.equal(out.process.futureProcessField, 'y');
    assert.equal('hooks' in out, false);
    assert.equal('seccomp' in out.linux, false);
  });

  it('accepts a rich but valid config', () => {
    const s = base();
    s.process.rlimits.push({ type: 'RLIMIT_CORE', hard: 18446744073709551615, soft: 0 });
    s.process.oomScoreAdj = -1000;
    s.process.user.additionalGids = [1, 2, 4294967295];
    s.process.user.umask = 0o022;
    s.process.scheduler = { policy: 'SCHED_BATCH', nice: 5 };
    s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 4 };
    s.hooks = { prestart: [{ path: '/bin/true', args: ['true'], env: ['A=b'], timeout: 5 }], futurePoint: 1 };
    s.annotations = { 'org.example/key': 'v' };
    s.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '100', 'fs.mqueue.msg_max': '10' };
    s.linux.cgroupsPath = '/runts/web';
    s.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 }, { type: 'p', path: '/dev/fifo' }];
    s.linux.resources = {
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: -1, access: 'rw' }],
      memory: { limit: 1 << 30, swap: -1, swappiness: 60, disableOOMKiller: false },
      cpu: { shares: 1024, quota: -1, period: 100000, cpus: '0-1', mems: '0' },
      pids: { limit: 100 },
      blockIO: { weight: 500, throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1000 }] },
      hugepageLimits: [{ pageSize: '2MB', limit: 0 }],
      network: { classID: 5, priorities: [{ name: 'eth0', priority: 1 }] },
      unified: { 'memory.high': '1G' },
    };
    s.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 1,
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: ['getcwd'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 1, op: 'SCMP_CMP_EQ' }] }],
    };
    s.linux.rootfsPropagation = 'rslave';
    s.linux.namespaces.push({ type: 'cgroup' }, { type: 'time' });
    s.linux.timeOffsets = { monotonic: { secs: 10, nanosecs: 5 } };
    s.mounts.push({ destination: '/data', type: 'bind', source: '/srv', options: ['rbind', 'ro'] });
    assert.doesNotThrow(() => validateSpec(s));
  });
});

describe('validateSpec: malformed configs give one-line messages', () => {
  const cases: [string, (s: Any) => unknown, string | RegExp][] = [
    ['not an object', () => [], 'config.json: must hold a JSON object (got array)'],
    ['null', () => null, 'config.json: must hold a JSON object (got null)'],
    ['no ociVersion', (s) => void delete s.ociVersion, 'config.json: ociVersion must be a non-empty string (missing)'],
    ['ociVersion 2', (s) => void (s.ociVersion = '2.0.0'), 'config.json: ociVersion "2.0.0" is not supported: runts implements 1.x'],
    // The spec: ociVersion MUST be in SemVer v2.0.0 format (the conformance suite's misc_props checks "invalid").
    ['ociVersion not SemVer', (s) => void (s.ociVersion = 'invalid'), 'config.json: ociVersion "invalid" must be a SemVer version like "1.2.0"'],
    ['ociVersion two parts', (s) => void (s.ociVersion = '1.0'), 'config.json: ociVersion "1.0" must be a SemVer version like "1.2.0"'],
    ['args a number', (s) => void (s.process.args = 5), 'config.json: process.args must be a non-empty array of strings (got number)'],
    ['args empty', (s) => void (s.process.args = []), 'config.json: process.args must be a non-empty array of strings (got an empty array)'],
    ['args item', (s) => void (s.process.args = ['sh', 1]), 'config.json: process.args[1] must be a string (got number)'],
    ['args NUL', (s) => void (s.process.args = ['s\0h']), 'config.json: process.args[0] must not contain a NUL byte (got "s\\u0000h")'],
    ['no process', (s) => void delete s.process, 'config.json: process must be an object (missing)'],
    ['process array', (s) => void (s.process = []), 'config.json: process must be an object (got array)'],
    ['no user', (s) => void delete s.process.user, 'config.json: process.user must be an object (missing)'],
    ['uid negative', (s) => void (s.process.user.uid = -1), 'config.json: process.user.uid must be an integer from 0 to 4294967295 (got -1)'],
    ['uid too big', (s) => void (s.process.user.uid = 4294967296), 'config.json: process.user.uid must be an integer from 0 to 4294967295 (got 4294967296)'],
    ['gid fraction', (s) => void (s.process.user.gid = 1.5), 'config.json: process.user.gid must be an integer from 0 to 4294967295 (got 1.5)'],
    ['gid string', (s) => void (s.process.user.gid = '0'), 'config.json: process.user.gid must be an integer from 0 to 4294967295 (got string)'],
    ['additionalGids', (s) => void (s.process.user.additionalGids = [1, -2]), /^config\.json: process\.user\.additionalGids\[1\] must be an integer from 0 to 4294967295 \(got -2\)$/],
    ['umask', (s) => void (s.process.user.umask = 1000), 'config.json: process.user.umask must be an integer from 0 to 511 (0o777) (got 1000)'],
    ['oomScoreAdj', (s) => void (s.process.oomScoreAdj = 1001), 'config.json: process.oomScoreAdj must be an integer from -1000 to 1000 (got 1001)'],
    ['oomScoreAdj low', (s) => void (s.process.oomScoreAdj = -1001), 'config.json: process.oomScoreAdj must be an integer from -1000 to 1000 (got -1001)'],
    ['cwd relative', (s) => void (s.process.cwd = 'tmp'), 'config.json: process.cwd must be an absolute path (got "tmp")'],
    ['cwd missing', (s) => void delete s.process.cwd, 'config.json: process.cwd must be an absolute path (missing)'],
    ['env no =', (s) => void (s.process.env = ['PATH=/bin', 'FOO']), 'config.json: process.env[1] "FOO" must look like NAME=value (a name, then "=")'],
    ['env empty name', (s) => void (s.process.env = ['=x']), 'config.json: process.env[0] "=x" must look like NAME=value (a name, then "=")'],
    ['env object', (s) => void (s.process.env = { A: 'b' }), 'config.json: process.env must be an array of "NAME=value" strings (got object)'],
    ['terminal', (s) => void (s.process.terminal = 'yes'), 'config.json: process.terminal must be true or false (got string)'],
    ['capability unknown', (s) => void (s.process.capabilities.bounding = ['CAP_KILL', 'CAP_FLY']), 'config.json: process.capabilities.bounding[1] "CAP_FLY" is not a known capability: use names like CAP_KILL'],
    ['capability lower', (s) => void (s.process.capabilities.ambient = ['cap_kill']), /capabilities\.ambient\[0\] "cap_kill" is not a known capability/],
    ['capability proto', (s) => void (s.process.capabilities.effective = ['constructor']), /effective\[0\] "constructor" is not a known capability/],
    ['rlimit type', (s) => void (s.process.rlimits = [{ type: 'RLIMIT_FOO', hard: 1, soft: 1 }]), 'config.json: process.rlimits[0].type "RLIMIT_FOO" is not a known RLIMIT_* name: use one like RLIMIT_NOFILE'],
    ['rlimit soft > hard', (s) => void (s.process.rlimits = [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 2048 }]), 'config.json: process.rlimits[0]: soft limit 2048 is above hard limit 1024 for RLIMIT_NOFILE: lower soft or raise hard'],
    ['rlimit dup', (s) => void s.process.rlimits.push({ type: 'RLIMIT_NOFILE', hard: 1, soft: 1 }), 'config.json: process.rlimits[1].type "RLIMIT_NOFILE" is listed twice: keep one'],
    ['rlimit negative', (s) => void (s.process.rlimits = [{ type: 'RLIMIT_CORE', hard: -1, soft: 0 }]), 'config.json: process.rlimits[0].hard must be a non-negative integer (got -1)'],
    ['scheduler policy', (s) => void (s.process.scheduler = { policy: 'SCHED_FAST' }), /^config\.json: process\.scheduler\.policy "SCHED_FAST" is not one of SCHED_OTHER, /],
    ['ioPriority', (s) => void (s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }), 'config.json: process.ioPriority.priority must be an integer from 0 to 7 (got 8)'],
    ['no root', (s) => void delete s.root, 'config.json: root must be an object (missing)'],
    ['root path empty', (s) => void (s.root.path = ''), 'config.json: root.path must be a non-empty string (got "")'],
    ['root readonly', (s) => void (s.root.readonly = 1), 'config.json: root.readonly must be true or false (got number)'],
    ['mount relative', (s) => void (s.mounts[0].destination = 'proc'), 'config.json: mounts[0].destination must be an absolute path (got "proc")'],
    ['mount options', (s) => void (s.mounts[1].options = 'nosuid'), 'config.json: mounts[1].options must be an array of strings (got string)'],
    ['mount item', (s) => void (s.mounts = [null]), 'config.json: mounts[0] must be an object (got null)'],
    ['mount idmap half', (s) => void (s.mounts[0].uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), 'config.json: mounts[0]: uidMappings and gidMappings must be given together (idmapped mount)'],
    ['hook relative', (s) => void (s.hooks = { prestart: [{ path: 'hook.sh' }] }), 'config.json: hooks.prestart[0].path must be an absolute path (got "hook.sh")'],
    ['hook timeout 0', (s) => void (s.hooks = { poststop: [{ path: '/h', timeout: 0 }] }), 'config.json: hooks.poststop[0].timeout must be a positive integer (seconds) (got 0)'],
    ['hook timeout float', (s) => void (s.hooks = { poststart: [{ path: '/h', timeout: 1.5 }] }), 'config.json: hooks.poststart[0].timeout must be a positive integer (seconds) (got 1.5)'],
    ['hook env', (s) => void (s.hooks = { createRuntime: [{ path: '/h', env: ['X'] }] }), 'config.json: hooks.createRuntime[0].env[0] "X" must look like NAME=value (a name, then "=")'],
    ['hooks not array', (s) => void (s.hooks = { startContainer: {} }), 'config.json: hooks.startContainer must be an array of hooks {path, args, env, timeout} (got object)'],
    ['annotation value', (s) => void (s.annotations = { a: 1 }), 'config.json: annotations["a"] must be a string (got number)'],
    ['ns unknown', (s) => void (s.linux.namespaces[2].type = 'foo'), 'config.json: linux.namespaces[2].type "foo" is not one of pid, network, mount, ipc, uts, user, cgroup, time'],
    ['ns duplicate', (s) => void s.linux.namespaces.push({ type: 'pid' }), 'config.json: linux.namespaces[5].type "pid" is listed twice: keep one'],
    ['ns path relative', (s) => void (s.linux.namespaces[0].path = 'proc/1/ns/pid'), 'config.json: linux.namespaces[0].path must be an absolute path (got "proc/1/ns/pid")'],
    ['hostname without uts', (s) => void (s.linux.namespaces = s.linux.namespaces.filter((n: Any) => n.type !== 'uts')), 'config.json: hostname "runc" needs a uts namespace: add {"type": "uts"} to linux.namespaces'],
    ['hostname without linux', (s) => void delete s.linux, 'config.json: hostname "runc" needs a uts namespace: add {"type": "uts"} to linux.namespaces'],
    ['mappings without userns', (s) => void (s.linux.uidMappings = [{ containerID: 0, hostID: 1000, size: 1 }]), 'config.json: linux.uidMappings needs a user namespace: add {"type": "user"} to linux.namespaces'],
    ['userns without mappings', (s) => void s.linux.namespaces.push({ type: 'user' }), /^config\.json: linux\.namespaces: a new user namespace needs linux\.uidMappings and linux\.gidMappings/],
    ['mapping size 0', (s) => void (s.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 0 }]), 'config.json: linux.uidMappings[0].size must be an integer from 1 to 4294967295 (got 0)'],
    ['mapping overflow', (s) => void (s.linux.gidMappings = [{ containerID: 4294967295, hostID: 0, size: 2 }]), 'config.json: linux.gidMappings[0] maps ids beyond 4294967295: lower size'],
    ['cgroupsPath number', (s) => void (s.linux.cgroupsPath = 7), 'config.json: linux.cgroupsPath must be a string (got number)'],
    ['cgroupsPath NUL', (s) => void (s.linux.cgroupsPath = '/a\0b'), 'config.json: linux.cgroupsPath must not contain a NUL byte (got "/a\\u0000b")'],
    ['cgroupsPath dotdot', (s) => void (s.linux.cgroupsPath = '/a/../../b'), 'config.json: linux.cgroupsPath "/a/../../b" must not contain ".." components'],
    ['sysctl bad key', (s) => void (s.linux.sysctl = { 'net..x': '1' }), 'config.json: linux.sysctl["net..x"]: not a sysctl name like "net.ipv4.ip_forward"'],
    ['sysctl not namespaced', (s) => void (s.linux.sysctl = { 'vm.swappiness': '1' }), /^config\.json: linux\.sysctl "vm\.swappiness" is not namespaced, a container cannot set it: /],
    ['sysctl needs netns', (s) => { s.linux.namespaces = s.linux.namespaces.filter((n: Any) => n.type !== 'network'); s.linux.sysctl = { 'net.ipv4.ip_forward': '1' }; }, 'config.json: linux.sysctl "net.ipv4.ip_forward" needs a network namespace: add {"type": "network"} to linux.namespaces'],
    ['sysctl hostname', (s) => void (s.linux.sysctl = { 'kernel.hostname': 'x' }), 'config.json: linux.sysctl "kernel.hostname" is not allowed: set the hostname field instead'],
    ['sysctl domainname needs uts', (s) => { s.linux.namespaces = s.linux.namespaces.filter((n: Any) => n.type !== 'uts'); delete s.hostname; s.linux.sysctl = { 'kernel.domainname': 'x' }; }, 'config.json: linux.sysctl "kernel.domainname" needs a uts namespace: add {"type": "uts"} to linux.namespaces'],
    ['sysctl value', (s) => void (s.linux.sysctl = { 'net.ipv4.ip_forward': 1 }), 'config.json: linux.sysctl["net.ipv4.ip_forward"] must be a string (got number)'],
    ['device type', (s) => void (s.linux.devices = [{ type: 'x', path: '/dev/x' }]), 'config.json: linux.devices[0].type "x" is not one of c, b, u, p'],
    ['device no major', (s) => void (s.linux.devices = [{ type: 'c', path: '/dev/x', minor: 1 }]), 'config.json: linux.devices[0].major must be an integer from 0 to 4294967295 (missing)'],
    ['device path', (s) => void (s.linux.devices = [{ type: 'p', path: 'dev/x' }]), 'config.json: linux.devices[0].path must be an absolute path (got "dev/x")'],
    ['device rule access', (s) => void (s.linux.resources.devices[0].access = 'rwx'), 'config.json: linux.resources.devices[0].access must be a combination of r, w, m (got "rwx")'],
    ['device rule allow', (s) => void delete s.linux.resources.devices[0].allow, 'config.json: linux.resources.devices[0].allow must be true or false (missing)'],
    ['swappiness', (s) => void (s.linux.resources.memory = { swappiness: 101 }), 'config.json: linux.resources.memory.swappiness must be an integer from 0 to 100 (got 101)'],
    ['memory limit', (s) => void (s.linux.resources.memory = { limit: -2 }), 'config.json: linux.resources.memory.limit must be an integer >= -1 (-1 = unlimited) (got -2)'],
    ['cpus', (s) => void (s.linux.resources.cpu = { cpus: '0-a' }), 'config.json: linux.resources.cpu.cpus must be a list like "0-3,7" (got "0-a")'],
    ['pids limit', (s) => void (s.linux.resources.pids = {}), 'config.json: linux.resources.pids.limit must be an integer (missing)'],
    ['hugepage size', (s) => void (s.linux.resources.hugepageLimits = [{ pageSize: '2M', limit: 1 }]), 'config.json: linux.resources.hugepageLimits[0].pageSize must be a page size like "2MB" or "1GB" (got "2M")'],
    ['unified key', (s) => void (s.linux.resources.unified = { '../memory.max': '1' }), /^config\.json: linux\.resources\.unified\["\.\.\/memory\.max"\]: key must be a cgroup v2 file name/],
    ['propagation', (s) => void (s.linux.rootfsPropagation = 'sideways'), /^config\.json: linux\.rootfsPropagation "sideways" is not one of private, rprivate, /],
    ['seccomp default', (s) => void (s.linux.seccomp = { defaultAction: 'SCMP_ACT_MAYBE' }), /^config\.json: linux\.seccomp\.defaultAction "SCMP_ACT_MAYBE" is not one of /],
    ['seccomp names', (s) => void (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [], action: 'SCMP_ACT_ERRNO' }] }), 'config.json: linux.seccomp.syscalls[0].names must be a non-empty array of syscall names (got an empty array)'],
    ['seccomp arg index', (s) => void (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }), 'config.json: linux.seccomp.syscalls[0].args[0].index must be an integer from 0 to 5 (got 6)'],
    ['seccomp errnoRet', (s) => void (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', errnoRet: 1 }] }), 'config.json: linux.seccomp.syscalls[0].errnoRet needs action SCMP_ACT_ERRNO or SCMP_ACT_TRACE (got SCMP_ACT_KILL)'],
    ['seccomp notify', (s) => void (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_NOTIFY' }] }), /needs linux\.seccomp\.listenerPath/],
    ['maskedPaths', (s) => void (s.linux.maskedPaths = ['proc/kcore']), 'config.json: linux.maskedPaths[0] must be an absolute path (got "proc/kcore")'],
    ['timeOffsets without timens', (s) => void (s.linux.timeOffsets = { boottime: { secs: 1 } }), 'config.json: linux.timeOffsets needs a time namespace: add {"type": "time"} to linux.namespaces'],
    ['timeOffsets clock', (s) => void (s.linux.timeOffsets = { realtime: {} }), 'config.json: linux.timeOffsets["realtime"]: clock must be "monotonic" or "boottime"'],
    ['personality', (s) => void (s.linux.personality = { domain: 'WIN32' }), 'config.json: linux.personality.domain "WIN32" is not one of LINUX, LINUX32'],
    ['linux array', (s) => void (s.linux = []), 'config.json: linux must be an object (got array)'],
    ['huge id in message is cut', (s) => void (s.process.cwd = 'x'.repeat(100000)), /^config\.json: process\.cwd must be an absolute path \(got "x{63}…\)$/],
  ];
  for (const [name, mutate, expected] of cases) {
    it(name, () => {
      const s = base();
      const replaced = mutate(s);
      const input = replaced === undefined ? s : replaced;
      const err = expectConfigError(() => validateSpec(input), expected);
      assert.equal(err.code, 'bad_config');
      assert.ok(err instanceof RuntsError);
    });
  }
});

describe('validateProcess', () => {
  it('accepts an exec process and reports paths relative to it', () => {
    const p = base().process;
    assert.deepEqual(validateProcess(p).args, ['sh']);
    p.args = 'sh';
    expectConfigError(() => validateProcess(p), 'process.json: args must be a non-empty array of strings (got string)');
    expectConfigError(() => validateProcess(7, 'exec.json'), 'exec.json: must hold a JSON object (got number)');
  });

  it('takes a process.json without user as uid 0, gid 0 (runc\'s exec does); config.json still needs it', () => {
    const { user: _user, ...noUser } = base().process;
    assert.deepEqual(validateProcess({ ...noUser, args: ['sh'] }).user, { uid: 0, gid: 0 });
    const spec = base();
    delete (spec.process as { user?: unknown }).user;
    expectConfigError(() => validateSpec(spec), 'config.json: process.user must be an object (missing)');
  });
});

describe('validateSpec never throws anything but ConfigError (seeded random JSON)', () => {
  // mulberry32: small, deterministic, good enough to shake the validator.
  function rng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }
  const rand = rng(0x5eed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const KEYS = ['ociVersion', 'process', 'root', 'path', 'args', 'env', 'cwd', 'user', 'uid', 'gid', 'linux', 'namespaces',
    'type', 'mounts', 'destination', 'options', 'hooks', 'prestart', 'poststop', 'timeout', 'resources', 'memory', 'limit',
    'seccomp', 'syscalls', 'names', 'sysctl', 'hostname', 'capabilities', 'bounding', 'rlimits', 'hard', 'soft',
    'uidMappings', 'size', 'devices', '__proto__', 'constructor', 'toString', 'hasOwnProperty', ''];
  const STRINGS = ['', '/', 'rootfs', 'pid', 'uts', 'CAP_KILL', 'RLIMIT_NOFILE', 'A=b', '\0', 'x'.repeat(300), 'SCMP_ACT_ALLOW', '1.2.0', '2.0.0', '..', 'constructor'];
  const NUMBERS = [0, -1, 1, 1.5, 4294967295, 4294967296, 2 ** 64, -(2 ** 63), 1e308, -0, 1000, -1001];
  function value(depth: number): unknown {
    const r = rand();
    if (depth > 4 || r < 0.35) {
      const k = rand();
      if (k < 0.15) return null;
      if (k < 0.3) return rand() < 0.5;
      if (k < 0.6) return pick(NUMBERS);
      return pick(STRINGS);
    }
    if (r < 0.6) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
    const o: Record<string, unknown> = {};
    const n = Math.floor(rand() * 5);
    for (let i = 0; i < n; i++) Object.defineProperty(o, pick(KEYS), { value: value(depth + 1), enumerable: true, configurable: true, writable: true });
    return o;
  }
  /** Replace one random node of a valid spec: deep paths get exercised, not just the top-level checks. */
  function mutated(): unknown {
    const s = base();
    let node: Any = s;
    for (let d = 0; d < 6; d++) {
      const keys = Object.keys(node);
      if (keys.length === 0) break;
      const k = pick(keys);
      if (rand() < 0.3 || node[k] === null || typeof node[k] !== 'object') {
        node[k] = value(3);
        return s;
      }
      node = node[k];
    }
    return s;
  }

  it('2000 values: each either validates or throws a one-line ConfigError', () => {
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      const v = i % 2 === 0 ? value(0) : mutated();
      try {
        validateSpec(v);
        accepted++;
      } catch (e) {
        if (!(e instanceof ConfigError)) assert.fail(`input ${JSON.stringify(v)?.slice(0, 300)} threw ${String(e)}`);
        assert.ok(!e.message.includes('\n'), e.message);
        assert.ok(e.message.startsWith('config.json: '), e.message);
        assert.ok(e.message.length < 400, e.message);
      }
      try {
        validateProcess(v);
      } catch (e) {
        if (!(e instanceof ConfigError)) assert.fail(`validateProcess threw ${String(e)}`);
      }
    }
    // Some mutations leave the spec valid (a no-op replacement); the loop must not reject everything blindly.
    assert.ok(accepted > 0, 'no input was accepted');
  });
});

describe('JSON syntax errors name line and column', () => {
  const samples: [string, number, number][] = [
    ['{"a": }', 1, 7],
    ['{\n  "a": 1,\n  x}', 3, 3],
    ['[1,2', 1, 5],
    ['', 1, 1],
    ['{"a":1}x', 1, 8],
    ['{\n"a"\n 1}', 3, 2],
    ['{"a": tru}', 1, 10],
    ['{"a": "b\nc"}', 1, 9],
    ['[1,]', 1, 4],
    ['{"a":1,}', 1, 8],
    ['{"a": -}', 1, 8],
    ['{"a": "\\x"}', 1, 9],
    ['[01]', 1, 3],
  ];
  for (const [text, line, column] of samples) {
    it(JSON.stringify(text), () => {
      assert.throws(() => JSON.parse(text));
      assert.deepEqual(lineColumn(text, jsonErrorOffset(text)), { line, column });
      expectConfigError(() => parseJsonFile(text, 'config.json in "/b"'), new RegExp(`^config\\.json in "/b": invalid JSON at line ${line} column ${column}: `));
    });
  }
  it('valid JSON scans clean, deep nesting included', () => {
    for (const text of ['{}', '[]', ' {"a": [1, -2.5e3, true, false, null, "x\\u00e9\\n"], "b": {}} ', '"s"', '0']) {
      assert.equal(jsonErrorOffset(text), -1, text);
    }
    const deep = '['.repeat(100000) + ']'.repeat(100000);
    assert.equal(jsonErrorOffset(deep), -1);
    assert.equal(jsonErrorOffset(deep.slice(0, -1)), 199999);
  });
});

describe('loadBundle', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'runts-oci-config-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function bundle(name: string, config: string | object | undefined, rootfs = true): string {
    const b = join(dir, name);
    mkdirSync(b);
    if (rootfs) mkdirSync(join(b, 'rootfs'));
    if (config !== undefined) writeFileSync(join(b, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
    return b;
  }

  it('loads a valid bundle with absolute, real paths', () => {
    const b = bundle('ok', base());
    symlinkSync(b, join(dir, 'ok-link'));
    const loaded = loadBundle(join(dir, 'ok-link'));
    assert.equal(loaded.bundle, b);
    assert.equal(loaded.rootfs, join(b, 'rootfs'));
    assert.deepEqual(loaded.config.process!.args, ['sh']);
  });

  it('accepts an absolute root.path', () => {
    const spec = base();
    spec.root.path = join(dir, 'ok', 'rootfs');
    const b = bundle('abs-root', spec, false);
    assert.equal(loadBundle(b).rootfs, join(dir, 'ok', 'rootfs'));
  });

  it('missing bundle → not_found', () => {
    const missing = join(dir, 'nope');
    const err = expectConfigError(() => loadBundle(missing), `bundle "${missing}" does not exist: pass --bundle with a directory holding config.json`);
    assert.equal(err.code, 'not_found');
  });

  it('bundle that is a file → bad_config', () => {
    const f = join(dir, 'file');
    writeFileSync(f, 'x');
    const err = expectConfigError(() => loadBundle(f), `bundle "${f}" is not a directory: pass --bundle with a directory holding config.json`);
    assert.equal(err.code, 'bad_config');
  });

  it('no config.json → not_found', () => {
    const b = bundle('noconfig', undefined);
    const err = expectConfigError(() => loadBundle(b), `bundle "${b}" has no config.json: run "runts spec" there or pass --bundle with a directory holding config.json`);
    assert.equal(err.code, 'not_found');
  });

  it('config.json that is a directory → bad_config', () => {
    const b = bundle('configdir', undefined);
    mkdirSync(join(b, 'config.json'));
    expectConfigError(() => loadBundle(b), new RegExp(`^config\\.json in "${b}" cannot be read \\(EISDIR: `));
  });

  it('unreadable config.json → bad_config (skipped as root, who reads anything)', (t) => {
    if (process.getuid?.() === 0) return t.skip('root bypasses file permissions');
    const b = bundle('unreadable', base());
    chmodSync(join(b, 'config.json'), 0);
    expectConfigError(() => loadBundle(b), /cannot be read \(EACCES/);
  });

  it('invalid JSON → line and column', () => {
    const b = bundle('badjson', '{\n  "ociVersion": "1.2.0",\n    x\n}');
    const err = expectConfigError(() => loadBundle(b), new RegExp(`^config\\.json in "${b}": invalid JSON at line 3 column 5: `));
    assert.equal(err.code, 'bad_config');
  });

  it('a BOM is tolerated', () => {
    const b = bundle('bom', '\ufeff' + JSON.stringify(base()));
    assert.equal(loadBundle(b).config.ociVersion, '1.2.0');
  });

  it('invalid field → the validator message', () => {
    const spec = base();
    spec.process.args = 5;
    const b = bundle('badfield', spec);
    expectConfigError(() => loadBundle(b), 'config.json: process.args must be a non-empty array of strings (got number)');
  });

  it('missing rootfs → not_found naming root.path and the bundle', () => {
    const b = bundle('norootfs', base(), false);
    const err = expectConfigError(() => loadBundle(b), `config.json: root.path "rootfs" does not exist in bundle "${b}": create it or fix root.path`);
    assert.equal(err.code, 'not_found');
  });

  it('rootfs that is a file → bad_config', () => {
    const b = bundle('filerootfs', base(), false);
    writeFileSync(join(b, 'rootfs'), '');
    expectConfigError(() => loadBundle(b), `config.json: root.path "rootfs" is not a directory in bundle "${b}": point it at the root filesystem`);
  });
});
