// Sending one file descriptor over a unix socket (SCM_RIGHTS), shared by the addon (`sendFd`) and the cloned
// child (the console master). Only syscalls and stack memory: safe after clone in a multithreaded process.
#pragma once

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

namespace runts {

/** Sends `fd` with `payload` (at least one byte) over `sock`; returns 0 or an errno. */
inline int sendFdWithPayload(int sock, int fd, void* payload, size_t payloadLen) {
  struct iovec iov;
  iov.iov_base = payload;
  iov.iov_len = payloadLen;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct msghdr msg;
  memset(&msg, 0, sizeof msg);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &fd, sizeof fd);
  ssize_t r;
  do r = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? errno : 0;
}

}  // namespace runts
