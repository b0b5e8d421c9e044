#!/bin/sh
# hyperlab Xen lab host: dom0 init (busybox). Markers on the console ("hyperlab-xen: ...") let the host follow the
# boot; "hyperlab-xen: dom0 ready" means xenstored, xen-init-dom0, xenconsoled, network and sshd are up.
export PATH=/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/xen-4.17/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
mkdir -p /run/xen /run/xenstored /run/lock /var/log/xen/console /var/lib/xen /var/lib/xenstored /root
t() { echo "hyperlab-xen: $* uptime=$(cut -d' ' -f1 /proc/uptime)"; }
fail() { echo "hyperlab-xen: FAILED $*"; }
t "dom0 userspace"
for m in $(cat /lib/modules/load-order); do insmod /lib/modules/$m.ko || fail "insmod $m"; done
mount -t xenfs xenfs /proc/xen || fail "mount xenfs"
name=$(sed -n 's/.*hyperlab.name=\([^ ]*\).*/\1/p' /proc/cmdline)
hostname "${name:-xen0}"
# Host shares (QEMU -virtfs mount_tag=<tag>): the project, the build cache, Deno executable directory, npm cache.
# Deno and its npm cache do not change while the host runs: cached (cache=loose) so Deno's 95 MB are read once.
for share in hlproject:/mnt/project:none hlcache:/mnt/cache:none hldeno:/mnt/deno:loose hlnpm:/mnt/deno-npm:loose; do
  tag=${share%%:*}; rest=${share#*:}; dir=${rest%%:*}; cache=${rest#*:}
  if grep -qx "$tag" /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag 2>/dev/null; then
    mkdir -p "$dir"
    mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=$cache "$tag" "$dir" && t "share $tag at $dir" \
      || fail "mount $tag"
  fi
done
export XENSTORED_ROOTDIR=/run/xenstored
XS=xenstored; grep -q 'hyperlab.xenstored=oxenstored' /proc/cmdline && XS=oxenstored
/usr/lib/xen-4.17/bin/$XS --pid-file /run/xenstore.pid || fail "start $XS"
i=0
while ! xenstore-read -s / >/dev/null 2>&1; do
  i=$((i+1)); [ $i -gt 600 ] && { fail "$XS did not answer"; break; }; sleep 0.1
done
t "xenstored up ($XS pid $(cat /run/xenstore.pid 2>/dev/null))"
/usr/lib/xen-4.17/bin/xen-init-dom0 >/var/log/xen/xen-init-dom0.log 2>&1 || fail "xen-init-dom0: $(tail -n 2 /var/log/xen/xen-init-dom0.log)"
/usr/lib/xen-4.17/bin/xenconsoled --pid-file /run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console \
  || fail "xenconsoled"
t "xen toolstack up"
ip link set lo up
nic=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
if [ -n "$nic" ]; then
  ip link set "$nic" up
  ip addr add 10.0.2.15/24 dev "$nic"
  ip route add default via 10.0.2.2
  dropbear -r /etc/dropbear/dropbear_ed25519_host_key -p 22 -s -E 2>/var/log/dropbear.log || fail "dropbear"
else
  fail "no network interface: no sshd"
fi
t "dom0 ready"
while true; do sleep 3600; done
