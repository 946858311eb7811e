// linux.seccomp in real containers: libseccomp compiles the profile in the runtime, the init (and every exec'd
// process) installs it; denied syscalls get the configured errno; a profile runts cannot apply fails create cleanly.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Sandbox, assertNoLeftovers, eventually, isRoot } from '../helpers/runts.js';
import type { LinuxSeccomp, Spec } from '../../src/oci/types.js';

const skip = isRoot ? false : 'needs root: real containers';
const cc = ['/usr/bin/cc', '/usr/bin/gcc'].find((p) => existsSync(p));

/** Prints errno of mkdir and of syscall 1000 (no such syscall on any kernel yet). */
const PROBE_C = `#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  long r = mkdir("/x", 0755);
  printf("mkdir %ld %d\\n", r, r < 0 ? errno : 0);
  r = syscall(1000);
  printf("nr1000 %ld %d\\n", r, r < 0 ? errno : 0);
  return 0;
}
`;

/**
 * A seccomp agent: listens on argv[1], takes argv[4] connections, writes the k-th message (a ContainerProcessState
 * JSON) to argv[2].k and, with the listener of the last one, answers its first notification with errno argv[3].
 */
const AGENT_C = `#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc != 5) return 64;
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {0};
  a.sun_family = AF_UNIX;
  strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
  if (bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 4) < 0) { perror("bind"); return 1; }
  int count = atoi(argv[4]), fd = -1;
  for (int k = 1; k <= count; k++) {
    int c = accept(l, NULL, NULL);
    if (c < 0) { perror("accept"); return 1; }
    static char buf[65536];
    char ctrl[CMSG_SPACE(sizeof(int))];
    struct iovec iov = {buf, sizeof buf - 1};
    struct msghdr m = {0};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    m.msg_control = ctrl;
    m.msg_controllen = sizeof ctrl;
    ssize_t n = recvmsg(c, &m, 0);
    struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
    if (n <= 0 || cm == NULL || cm->cmsg_type != SCM_RIGHTS) { fprintf(stderr, "no fd\\n"); return 2; }
    memcpy(&fd, CMSG_DATA(cm), sizeof fd);
    buf[n] = 0;
    char name[4200];
    snprintf(name, sizeof name, "%s.%d", argv[2], k);
    FILE *f = fopen(name, "w");
    fputs(buf, f);
    fclose(f);
    close(c);
  }
  struct seccomp_notif req;
  memset(&req, 0, sizeof req);
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) { perror("NOTIF_RECV"); return 3; }
  struct seccomp_notif_resp resp;
  memset(&resp, 0, sizeof resp);
  resp.id = req.id;
  resp.error = -atoi(argv[3]);
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0) { perror("NOTIF_SEND"); return 4; }
  return 0;
}
`;

/** What runts-init needs after the filter and a static glibc program needs to start and print (not mkdir). */
const STATIC_PROGRAM_SYSCALLS = [
  'read', 'write', 'close', 'fstat', 'newfstatat', 'lseek', 'mmap', 'mprotect', 'munmap', 'brk', 'rt_sigaction',
  'rt_sigprocmask', 'rt_sigreturn', 'ioctl', 'pread64', 'readv', 'writev', 'access', 'sched_yield', 'getpid',
  'sendmsg', 'recvmsg', 'sendto', 'recvfrom', 'execve', 'execveat', 'exit', 'exit_group', 'uname', 'fcntl',
  'getcwd', 'readlink', 'readlinkat', 'umask', 'getuid', 'getgid', 'geteuid', 'getegid', 'getppid', 'arch_prctl',
  'set_tid_address', 'set_robust_list', 'rseq', 'prlimit64', 'getrandom', 'openat', 'open', 'futex', 'close_range',
  'statx', 'dup2', 'dup3', 'capget', 'capset', 'prctl', 'setgroups', 'setresuid', 'setresgid', 'chdir',
];

const denyMkdir = (errnoRet: number): LinuxSeccomp => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet }],
});

describe('seccomp', { skip }, () => {
  let sb: Sandbox;
  before(() => (sb = new Sandbox()));
  after(() => sb.cleanup());

  const run = (script: string, edit: (s: Spec) => void) => {
    const id = sb.id('sc');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sh', '-c', script];
      edit(s);
    });
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    return { out: r.stdout.trim().split('\n'), err: r.stderr };
  };

  test('a denied syscall fails with EPERM while others work; the init is in filter mode', () => {
    const { out, err } = run('grep Seccomp: /proc/self/status; mkdir /tmp/x || echo mkdir-failed; touch /tmp/y && echo touched; ls -d /tmp/x 2>/dev/null || echo no-x', (s) => {
      s.linux!.seccomp = denyMkdir(1);
    });
    assert.deepEqual(out, ['Seccomp:\t2', 'mkdir-failed', 'touched', 'no-x']);
    assert.match(err, /mkdir: can't create directory '\/tmp\/x': Operation not permitted/);
  });

  test('errnoRet 38 comes back as ENOSYS', () => {
    const { out, err } = run('mkdir /tmp/x || echo mkdir-failed', (s) => (s.linux!.seccomp = denyMkdir(38)));
    assert.deepEqual(out, ['mkdir-failed']);
    assert.match(err, /Function not implemented/);
  });

  test('argument conditions: kill(pid, 9) is denied, kill(pid, 15) is not', () => {
    // 999999 does not exist: an allowed kill says ESRCH, a denied one the rule's errno.
    const { out, err } = run('kill -9 999999; echo a; kill -15 999999; echo b', (s) => {
      s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, args: [{ index: 1, value: 9, op: 'SCMP_CMP_EQ' }] }] };
    });
    assert.deepEqual(out, ['a', 'b']);
    const lines = err.trim().split('\n');
    assert.match(lines[0], /can't kill pid 999999: Function not implemented/);
    assert.match(lines[1], /can't kill pid 999999: No such process/);
  });

  test('without no_new_privs the filter is installed before the capabilities drop, for a non-root user too', () => {
    const { out } = run('id -u; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; mkdir /tmp/x 2>/dev/null || echo mkdir-failed', (s) => {
      s.process!.noNewPrivileges = false;
      s.process!.user = { uid: 1000, gid: 1000 };
      s.linux!.seccomp = denyMkdir(1);
    });
    assert.deepEqual(out, ['1000', 'NoNewPrivs:\t0', 'Seccomp:\t2', 'mkdir-failed']);
  });

  test('exec\'d processes get the container\'s profile', () => {
    const id = sb.id('exec');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/bin/sleep', '60'];
      s.linux!.seccomp = denyMkdir(1);
    });
    assert.equal(sb.runts(['create', '--bundle', bundle, id]).status, 0);
    assert.equal(sb.runts(['start', id]).status, 0);
    const r = sb.runts(['exec', id, '/bin/sh', '-c', 'grep Seccomp: /proc/self/status; mkdir /tmp/e || echo mkdir-failed; touch /tmp/f && echo touched']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), ['Seccomp:\t2', 'mkdir-failed', 'touched']);
    assert.match(r.stderr, /Operation not permitted/);
    assert.equal(sb.runts(['delete', '--force', id]).status, 0);
  });

  test('an allow-list too small for the init to start fails create with one line, and leaves nothing behind', () => {
    // The filter is installed before the init reports ready; with sendmsg/read/execve denied it cannot even report
    // its error, so create names the likely cause.
    for (const noNewPrivileges of [true, false]) {
      const id = sb.id('small');
      const bundle = sb.bundle(id, (s) => {
        s.process!.args = ['/bin/true'];
        s.process!.noNewPrivileges = noNewPrivileges;
        s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['write', 'exit_group'], action: 'SCMP_ACT_ALLOW' }] };
      });
      const r = sb.runts(['create', '--bundle', bundle, id]);
      assert.notEqual(r.status, 0);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /the seccomp profile may deny a syscall needed before the program runs/);
      assertNoLeftovers(sb, id, bundle);
    }
  });

  test('deny by default: an unlisted syscall gets defaultErrnoRet, one numbered past every syscall the profile names gets ENOSYS (runc\'s stub)', { skip: cc ? false : 'needs a C compiler for the probe' }, () => {
    const id = sb.id('enosys');
    const bundle = sb.bundle(id, (s) => {
      s.process!.args = ['/probe'];
      s.linux!.seccomp = {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 13,
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        syscalls: [{ names: STATIC_PROGRAM_SYSCALLS, action: 'SCMP_ACT_ALLOW' }],
      };
    });
    const made = spawnSync(cc!, ['-static', '-O2', '-o', join(bundle, 'rootfs/probe'), '-x', 'c', '-'], { input: PROBE_C, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const r = sb.runts(['run', '--bundle', bundle, id]);
    assert.equal(r.status, 0, r.stderr);
    // mkdir is not allowed: the default action's errno (EACCES). Syscall 1000 is past the highest the profile
    // names: ENOSYS, as the kernel would say for a syscall it lacks.
    assert.deepEqual(r.stdout.trim().split('\n'), ['mkdir -1 13', 'nr1000 -1 38']);
  });

  /**
   * Builds and starts the test's seccomp agent on `<name>.sock`: it takes `listeners` listeners, writes each message
   * to `<name>.json.<n>`, and answers the last one's first notification with `errno`.
   */
  function startAgent(name: string, errno: number, listeners: number) {
    const agent = join(sb.dir, name);
    const made = spawnSync(cc!, ['-O2', '-o', agent, '-x', 'c', '-'], { input: AGENT_C, encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const socket = join(sb.dir, `${name}.sock`);
    const received = join(sb.dir, `${name}.json`);
    const child = spawn(agent, [socket, received, String(errno), String(listeners)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (b) => (stderr += b));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    return { socket, received, exited, stderr: () => stderr, kill: () => child.kill('SIGKILL') };
  }

  for (const path of ['node', 'host'] as const) {
    test(`SCMP_ACT_NOTIFY: the agent at listenerPath gets the ContainerProcessState and the listener, and answers for the container (${path})`, { skip: cc ? false : 'needs a C compiler for the agent' }, async () => {
      // Answers the first notification with EXDEV (18), a reply no real mkdir here would give.
      const { socket, received, exited: agentDone, stderr, kill } = startAgent(`seccomp-agent-${path}`, 18, 1);
      // Through a warm host the front spawns the init and hands the listener to the host, which hands it to the agent.
      if (path === 'host') await sb.startHost();
      try {
        assert.ok(await eventually(() => existsSync(socket), 10_000), 'the agent listens');
        const id = sb.id('notify');
        const bundle = sb.bundle(id, (s) => {
          s.process!.args = ['/bin/sh', '-c', 'mkdir /x || echo mkdir-failed; touch /y && echo touched'];
          s.linux!.seccomp = {
            defaultAction: 'SCMP_ACT_ALLOW',
            listenerPath: socket,
            listenerMetadata: 'meta-1',
            syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }],
          };
        });
        assert.equal(sb.runts(['create', '--bundle', bundle, id]).status, 0);
        const pid = sb.state(id).pid;
        const r = sb.runts(['start', id]);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(await agentDone, 0, stderr());
        const message = JSON.parse(readFileSync(`${received}.1`, 'utf8'));
        assert.deepEqual(message.fds, ['seccompFd']);
        assert.equal(message.pid, pid);
        assert.equal(message.metadata, 'meta-1');
        assert.equal(typeof message.ociVersion, 'string');
        assert.equal(message.state.id, id);
        assert.equal(message.state.pid, pid);
        assert.equal(message.state.status, 'creating');
        assert.equal(message.state.bundle, bundle);
        assert.ok(await eventually(() => sb.state(id).status === 'stopped', 10_000));
        assert.equal(existsSync(join(bundle, 'rootfs/x')), false);
        assert.ok(existsSync(join(bundle, 'rootfs/y')), 'other syscalls run as usual');
      } finally {
        kill();
        await sb.stopHosts();
      }
    });

    test(`SCMP_ACT_NOTIFY: each exec'd process has its own listener, handed to the agent with its pid (${path})`, { skip: cc ? false : 'needs a C compiler for the agent' }, async () => {
      // The init's listener (1st), then the exec's (2nd), whose mkdir gets EXDEV.
      const { socket, received, exited: agentDone, stderr, kill } = startAgent(`seccomp-agent-exec-${path}`, 18, 2);
      if (path === 'host') await sb.startHost();
      try {
        assert.ok(await eventually(() => existsSync(socket), 10_000), 'the agent listens');
        const id = sb.id('notifyexec');
        const bundle = sb.bundle(id, (s) => {
          s.process!.args = ['/bin/sleep', '1000'];
          s.linux!.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: socket, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] };
        });
        assert.equal(sb.runts(['run', '--detach', '--bundle', bundle, id]).status, 0);
        const pidFile = join(sb.dir, `${id}.exec.pid`);
        const r = sb.runts(['exec', '--pid-file', pidFile, id, 'sh', '-c', 'mkdir /x 2>&1; echo done']);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, "mkdir: can't create directory '/x': Invalid cross-device link\ndone\n");
        assert.equal(await agentDone, 0, stderr());
        const message = JSON.parse(readFileSync(`${received}.2`, 'utf8'));
        assert.equal(message.pid, Number(readFileSync(pidFile, 'utf8')));
        assert.equal(message.state.status, 'running');
        assert.equal(message.state.pid, sb.state(id).pid);
        assert.equal(sb.runts(['delete', '--force', id]).status, 0);
      } finally {
        kill();
        await sb.stopHosts();
      }
    });
  }

  const invalid: [string, LinuxSeccomp, RegExp][] = [
    ['unknown action', { defaultAction: 'SCMP_ACT_FOO' as 'SCMP_ACT_ALLOW' }, /SCMP_ACT_FOO/],
    ['unknown architecture (config)', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_VAX'] }, /SCMP_ARCH_VAX/],
    ['architecture libseccomp lacks', { defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_LOONGARCH64'] }, /linux\.seccomp\.architectures\[0\]: unknown architecture "SCMP_ARCH_LOONGARCH64": use one of /],
    [
      'unknown operator',
      { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 9, op: 'SCMP_CMP_ABOUT' as 'SCMP_CMP_EQ' }] }] },
      /SCMP_CMP_ABOUT/,
    ],
    [
      'SCMP_ACT_NOTIFY on a syscall the init needs before the agent has the listener',
      { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', syscalls: [{ names: ['mkdir', 'sendmsg'], action: 'SCMP_ACT_NOTIFY' }] },
      /linux\.seccomp\.syscalls\[0\]\.action SCMP_ACT_NOTIFY cannot apply to sendmsg/,
    ],
    [
      'SCMP_ACT_NOTIFY with no agent listening',
      { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/nonexistent/agent.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] },
      /cannot hand the seccomp listener to the agent at linux\.seccomp\.listenerPath \/nonexistent\/agent\.sock: ENOENT/,
    ],
  ];
  for (const [name, profile, message] of invalid) {
    test(`an invalid profile (${name}) fails create with one clear line and leaves nothing behind`, () => {
      const id = sb.id('bad');
      const bundle = sb.bundle(id, (s) => (s.linux!.seccomp = profile));
      const r = sb.runts(['create', '--bundle', bundle, id]);
      assert.notEqual(r.status, 0);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
      assertNoLeftovers(sb, id, bundle);
    });
  }
});
