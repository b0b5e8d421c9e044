/* Shared conventions of hyperlab's C shims: every exported function returns >= 0 on success or -errno. */
#ifndef HYPERLAB_COMMON_H
#define HYPERLAB_COMMON_H
#include <errno.h>
#include <unistd.h>

#define HL_EXPORT __attribute__((visibility("default")))
/* Return -errno when a libc call reported failure with -1. */
#define HL_SYSRET(expr) ({ long _r = (long)(expr); _r < 0 ? -(long)errno : _r; })

HL_EXPORT int hl_close(int fd);
#endif
