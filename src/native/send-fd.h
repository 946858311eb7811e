// Sending and receiving a file descriptor over a unix socket (SCM_RIGHTS), shared by the addon (`sendFd`, the spawn's
// messages, the console socket) and the cloned child (the console master, the seccomp listener). Only syscalls and
// stack memory: safe after clone in a multithreaded process.
#pragma once

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace runts {

/** Sends `count` descriptors (at most Max) with `payload` (at least one byte) over `sock`; returns 0 or an errno. */
template <size_t Max>
inline int sendFds(int sock, const int* fds, size_t count, const void* payload, size_t payloadLen) {
  if (count > Max) return EINVAL;
  struct iovec iov;
  iov.iov_base = const_cast<void*>(payload);
  iov.iov_len = payloadLen;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * Max)];
  memset(control, 0, sizeof control);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int) * count);
  memcpy(CMSG_DATA(cm), fds, sizeof(int) * count);
  ssize_t r;
  do r = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? errno : 0;
}

/** Sends `fd` with `payload` (at least one byte) over `sock`; returns 0 or an errno. */
inline int sendFdWithPayload(int sock, int fd, void* payload, size_t payloadLen) {
  return sendFds<1>(sock, &fd, 1, payload, payloadLen);
}

/**
 * Receives one message of at most `len` bytes into `payload` (recvmsg `flags` besides MSG_CMSG_CLOEXEC, EINTR
 * retried), and the descriptors it carries into `fds` (*count of them; room for Max, as the control buffer). Sets
 * *truncated when the kernel dropped descriptors that did not fit (MSG_CTRUNC). Returns the message's size, 0 at EOF,
 * or -1 with errno set.
 */
template <size_t Max>
inline ssize_t recvFds(int sock, void* payload, size_t len, int flags, int (&fds)[Max], size_t* count, bool* truncated) {
  struct iovec iov;
  iov.iov_base = payload;
  iov.iov_len = len;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * Max)];
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | flags);
  while (n < 0 && errno == EINTR);
  *count = 0;
  *truncated = n >= 0 && (msg.msg_flags & MSG_CTRUNC) != 0;
  for (struct cmsghdr* cm = n > 0 ? CMSG_FIRSTHDR(&msg) : nullptr; cm != nullptr; cm = CMSG_NXTHDR(&msg, cm)) {
    if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS) continue;
    const size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    // The control buffer holds at most Max descriptors, so k never takes *count past Max.
    for (size_t i = 0; i < k && *count < Max; i++) memcpy(&fds[(*count)++], CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
  }
  return n;
}

/**
 * Receives one message of at most `len` bytes into `payload`; the first descriptor it carries goes to *fd (-1 when
 * none), any further ones are closed. Returns the message's size, 0 at EOF, or -1 with errno set.
 */
inline ssize_t recvWithFd(int sock, void* payload, size_t len, int* fd) {
  int got[4];
  size_t count;
  bool truncated;
  const ssize_t n = recvFds(sock, payload, len, 0, got, &count, &truncated);
  *fd = count > 0 ? got[0] : -1;
  for (size_t i = 1; i < count; i++) close(got[i]);
  return n;
}

}  // namespace runts
