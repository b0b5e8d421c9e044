/* hyperlab shim over libxenstore (Xen 4.17): handles are small integers; every call returns >= 0 or -errno.
 * The socket path is chosen per open through XENSTORED_PATH, which libxenstore reads inside xs_open. */
#include "common.h"
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <xenstore.h>

#define HL_XS_MAX 256
static struct xs_handle *handles[HL_XS_MAX];
static pthread_mutex_t open_lock = PTHREAD_MUTEX_INITIALIZER;

static struct xs_handle *get(int h) {
  if (h < 0 || h >= HL_XS_MAX) return NULL;
  return handles[h];
}

#define HANDLE_OR_EBADF(var, h) \
  struct xs_handle *var = get(h); \
  if (!var) return -EBADF

/* Opens a connection. socket_path "" means libxenstore's default (/dev/xen/xenbus, then the daemon socket). */
HL_EXPORT int hl_xs_open(const char *socket_path) {
  pthread_mutex_lock(&open_lock);
  int slot = -1;
  for (int i = 0; i < HL_XS_MAX; i++)
    if (!handles[i]) { slot = i; break; }
  if (slot < 0) { pthread_mutex_unlock(&open_lock); return -EMFILE; }
  struct xs_handle *xh;
  if (socket_path && socket_path[0]) {
    const char *old = getenv("XENSTORED_PATH");
    char *saved = old ? strdup(old) : NULL;
    setenv("XENSTORED_PATH", socket_path, 1);
    xh = xs_open(XS_OPEN_SOCKETONLY);
    int e = errno;
    if (saved) { setenv("XENSTORED_PATH", saved, 1); free(saved); } else unsetenv("XENSTORED_PATH");
    errno = e;
  } else {
    xh = xs_open(0);
  }
  if (!xh) { int e = errno ? errno : EIO; pthread_mutex_unlock(&open_lock); return -e; }
  handles[slot] = xh;
  pthread_mutex_unlock(&open_lock);
  return slot;
}

HL_EXPORT int hl_xs_close(int h) {
  pthread_mutex_lock(&open_lock);
  struct xs_handle *xh = get(h);
  if (xh) handles[h] = NULL;
  pthread_mutex_unlock(&open_lock);
  if (!xh) return -EBADF;
  xs_close(xh);
  return 0;
}

/* Copies the value into buf; returns its length, or the needed length when buf is too small (caller retries). */
HL_EXPORT long hl_xs_read(int h, uint32_t tx, const char *path, char *buf, long buflen) {
  HANDLE_OR_EBADF(xh, h);
  unsigned int len = 0;
  char *v = xs_read(xh, tx, path, &len);
  if (!v) return -(long)(errno ? errno : EIO);
  if ((long)len <= buflen) memcpy(buf, v, len);
  free(v);
  return len;
}

HL_EXPORT int hl_xs_write(int h, uint32_t tx, const char *path, const char *data, unsigned int len) {
  HANDLE_OR_EBADF(xh, h);
  return xs_write(xh, tx, path, data, len) ? 0 : -(errno ? errno : EIO);
}

HL_EXPORT int hl_xs_mkdir(int h, uint32_t tx, const char *path) {
  HANDLE_OR_EBADF(xh, h);
  return xs_mkdir(xh, tx, path) ? 0 : -(errno ? errno : EIO);
}

HL_EXPORT int hl_xs_rm(int h, uint32_t tx, const char *path) {
  HANDLE_OR_EBADF(xh, h);
  return xs_rm(xh, tx, path) ? 0 : -(errno ? errno : EIO);
}

/* Child names, each NUL-terminated, into buf; returns the total length (needed length when buf is too small). */
HL_EXPORT long hl_xs_directory(int h, uint32_t tx, const char *path, char *buf, long buflen) {
  HANDLE_OR_EBADF(xh, h);
  unsigned int num = 0;
  char **names = xs_directory(xh, tx, path, &num);
  if (!names) return -(long)(errno ? errno : EIO);
  long total = 0;
  for (unsigned int i = 0; i < num; i++) {
    long n = (long)strlen(names[i]) + 1;
    if (total + n <= buflen) memcpy(buf + total, names[i], n);
    total += n;
  }
  free(names);
  return total;
}

/* Permissions as "b0\0r5\0..." into buf; returns the total length (needed length when buf is too small). */
HL_EXPORT long hl_xs_get_perms(int h, uint32_t tx, const char *path, char *buf, long buflen) {
  HANDLE_OR_EBADF(xh, h);
  unsigned int num = 0;
  struct xs_permissions *p = xs_get_permissions(xh, tx, path, &num);
  if (!p) return -(long)(errno ? errno : EIO);
  long total = 0;
  for (unsigned int i = 0; i < num; i++) {
    char one[16];
    unsigned int rw = p[i].perms & (XS_PERM_READ | XS_PERM_WRITE);
    char letter = rw == (XS_PERM_READ | XS_PERM_WRITE) ? 'b' : rw == XS_PERM_READ ? 'r' : rw == XS_PERM_WRITE ? 'w' : 'n';
    int n = snprintf(one, sizeof one, "%c%u", letter, p[i].id) + 1;
    if (total + n <= buflen) memcpy(buf + total, one, n);
    total += n;
  }
  free(p);
  return total;
}

/* perms: "b0\0r5\0" (num entries), parsed by libxenstore's own xs_strings_to_perms. */
HL_EXPORT int hl_xs_set_perms(int h, uint32_t tx, const char *path, const char *perms, unsigned int num) {
  HANDLE_OR_EBADF(xh, h);
  if (num == 0 || num > 1024) return -EINVAL;
  struct xs_permissions *p = calloc(num, sizeof *p);
  if (!p) return -ENOMEM;
  if (!xs_strings_to_perms(p, num, perms)) { free(p); return -EINVAL; }
  bool ok = xs_set_permissions(xh, tx, path, p, num);
  int e = errno;
  free(p);
  return ok ? 0 : -(e ? e : EIO);
}

HL_EXPORT long hl_xs_transaction_start(int h) {
  HANDLE_OR_EBADF(xh, h);
  xs_transaction_t t = xs_transaction_start(xh);
  if (t == XBT_NULL) return -(long)(errno ? errno : EIO);
  return (long)t;
}

HL_EXPORT int hl_xs_transaction_end(int h, uint32_t tx, int abort_tx) {
  HANDLE_OR_EBADF(xh, h);
  return xs_transaction_end(xh, tx, abort_tx != 0) ? 0 : -(errno ? errno : EIO);
}

HL_EXPORT int hl_xs_watch(int h, const char *path, const char *token) {
  HANDLE_OR_EBADF(xh, h);
  xs_fileno(xh); /* creates the event pipe before the first event can arrive */
  return xs_watch(xh, path, token) ? 0 : -(errno ? errno : EIO);
}

HL_EXPORT int hl_xs_unwatch(int h, const char *path, const char *token) {
  HANDLE_OR_EBADF(xh, h);
  return xs_unwatch(xh, path, token) ? 0 : -(errno ? errno : EIO);
}

static long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Waits up to timeout_ms for a watch event; writes "path\0token\0" into buf and returns its length,
 * -ETIMEDOUT when none came, -ENOBUFS when buf is too small (the event is lost). Call it nonblocking. */
HL_EXPORT long hl_xs_read_watch(int h, char *buf, long buflen, int timeout_ms) {
  HANDLE_OR_EBADF(xh, h);
  int fd = xs_fileno(xh);
  if (fd < 0) return -(long)(errno ? errno : EIO);
  long deadline = now_ms() + (timeout_ms < 0 ? 0 : timeout_ms);
  for (;;) {
    char **vec = xs_check_watch(xh);
    if (vec) {
      size_t lp = strlen(vec[XS_WATCH_PATH]) + 1, lt = strlen(vec[XS_WATCH_TOKEN]) + 1;
      long total = (long)(lp + lt);
      if (total > buflen) { free(vec); return -ENOBUFS; }
      memcpy(buf, vec[XS_WATCH_PATH], lp);
      memcpy(buf + lp, vec[XS_WATCH_TOKEN], lt);
      free(vec);
      return total;
    }
    if (errno != EAGAIN) return -(long)(errno ? errno : EIO);
    long left = deadline - now_ms();
    if (left <= 0) return -ETIMEDOUT;
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r = poll(&pfd, 1, (int)left);
    if (r < 0 && errno != EINTR) return -(long)errno;
  }
}
