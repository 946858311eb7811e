// compileSeccomp: an OCI linux.seccomp profile → a classic BPF program, compiled with libseccomp in the
// parent (Node's thread, normal C++). The child only installs the bytes (OP_SECCOMP in child.cc): libseccomp
// allocates, so it must never run after a clone.
#pragma once

#include <napi.h>

namespace runts {

// compileSeccomp(profile): Buffer (struct sock_filter[]). See seccomp.cc for the profile shape and errors.
Napi::Value CompileSeccomp(const Napi::CallbackInfo& info);

}  // namespace runts
