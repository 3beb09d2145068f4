#!/bin/busybox sh
# PID 1 of the boot-test initramfs (busybox-static, syd, this file and cases.sh, nothing else
# but the arm64 test's 32-bit busybox):
# mounts what the cases need, brings up loopback, runs the cases, powers off. The host reads the
# serial console: RESULT lines between BEGIN and END.
/bin/busybox mkdir -p /proc /sys /dev /tmp /root
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
hostname syd-boot
echo "INFO kernel $(uname -srm)"
echo "INFO cpu $(grep -m1 -E 'model name|cpu model|^CPU part|isa' /proc/cpuinfo)"
echo "BEGIN"
. /cases.sh
echo "END"
sync
poweroff -f
sleep 5
reboot -f
