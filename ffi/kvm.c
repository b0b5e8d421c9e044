/* KVM shim: thin wrappers over /dev/kvm ioctls. Policy lives in lib/kvm. */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include "common.h"

HL_EXPORT int hl_close(int fd) { return (int)HL_SYSRET(close(fd)); }

/* Opens the KVM system device (path usually /dev/kvm). */
HL_EXPORT int hl_kvm_open(const char *path) { return (int)HL_SYSRET(open(path, O_RDWR | O_CLOEXEC)); }

HL_EXPORT int hl_kvm_api_version(int sys_fd) { return (int)HL_SYSRET(ioctl(sys_fd, KVM_GET_API_VERSION, 0)); }

HL_EXPORT int hl_kvm_check_extension(int fd, int cap) { return (int)HL_SYSRET(ioctl(fd, KVM_CHECK_EXTENSION, cap)); }

HL_EXPORT int hl_kvm_vcpu_mmap_size(int sys_fd) { return (int)HL_SYSRET(ioctl(sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0)); }
