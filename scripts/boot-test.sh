#!/usr/bin/env bash
# Boots a Debian 12 kernel under qemu-system (software emulation) and runs syd's boot-test cases
# on it:
#
#   scripts/boot-test.sh ARCH      ARCH: amd64 i386 arm64 armhf mipsel mips64el, or riscv64
#
# Downloads (scripts/debian.sh, a private apt state) the kernel package and busybox-static of
# ARCH, builds syd for it (scripts/cross.sh), packs an initramfs of busybox, syd, init.sh and
# cases.sh (scripts/boot/; arm64 also gets armhf's busybox as /bin/busybox32 for the compat-ABI
# cases), boots it with -nographic -no-reboot under a time limit and the serial console captured
# in target/boot/ARCH/console.log, and exits 0 only if the guest reached its end and printed no
# failing RESULT line. Nothing needs the network inside the guest (loopback only).
#
# riscv64: Debian 12 has no riscv64 kernel, so instead the core's unit tests run under qemu-user
# (target riscv64gc-unknown-linux-gnu, static glibc: rustup has no musl std for riscv64 here).
#
# Host needs: qemu-system-x86 / -arm / -mips (or qemu-user-static and gcc-riscv64-linux-gnu for
# riscv64), cpio, gzip; missing Debian packages are installed when running as root.
# SYD_BOOT_TIMEOUT (seconds, default 900) bounds each boot.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/debian.sh

arch=${1:?usage: scripts/boot-test.sh amd64|i386|arm64|armhf|mipsel|mips64el|riscv64}
timeout=${SYD_BOOT_TIMEOUT:-900}

# Installs the Debian packages that provide the named commands, when missing (root only).
need() {
    local pkg=$1 missing=()
    shift
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "missing ${missing[*]}: install the Debian package $pkg" >&2
        exit 2
    fi
    echo "==> installing $pkg (for ${missing[*]})" >&2
    apt-get -q update >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $pkg >&2
}

start=$(date +%s)
if [ "$arch" = riscv64 ]; then
    need "qemu-user-static gcc-riscv64-linux-gnu libc6-dev-riscv64-cross" \
        qemu-riscv64-static riscv64-linux-gnu-gcc
    t=riscv64gc-unknown-linux-gnu
    rustup target add "$t" >&2
    v=CARGO_TARGET_RISCV64GC_UNKNOWN_LINUX_GNU
    export ${v}_LINKER=riscv64-linux-gnu-gcc ${v}_RUNNER=qemu-riscv64-static
    export ${v}_RUSTFLAGS="-C target-feature=+crt-static"
    status=0
    cargo test -p syd-core --target "$t" || status=$?
    echo "RESULT core_unit_tests $([ $status -eq 0 ] && echo ok || echo fail) cargo test exit $status"
    # The static riscv64 syd itself: qemu-user has no seccomp, but syd compiles and prints its
    # filter for riscv64 (to standard error) before it tries to load it.
    scripts/cross.sh riscv64gc-unknown-linux-musl >&2
    pfc=$(qemu-riscv64-static target/riscv64gc-unknown-linux-musl/release/syd -e pfc \
        -m core/sandbox/write:deny noexec 2>&1 || true)
    if grep -q "filter for arch riscv64" <<<"$pfc"; then
        echo "RESULT syd_pfc ok the riscv64 syd compiled its filter under qemu-user"
    else
        echo "RESULT syd_pfc fail no riscv64 filter from syd -e pfc under qemu-user"
        status=1
    fi
    echo "riscv64: under qemu-user, exit $status in $(($(date +%s) - start)) s"
    exit $status
fi

# arch -> syd target, kernel package, qemu command and its machine options, console device.
case $arch in
amd64)
    triple=x86_64-unknown-linux-musl kpkg=linux-image-amd64 qpkg=qemu-system-x86
    qemu=(qemu-system-x86_64 -M pc -cpu max -m 512) console=ttyS0 ;;
i386)
    triple=i686-unknown-linux-musl kpkg=linux-image-686 qpkg=qemu-system-x86
    qemu=(qemu-system-i386 -M pc -cpu max -m 512) console=ttyS0 ;;
arm64)
    triple=aarch64-unknown-linux-musl kpkg=linux-image-arm64 qpkg=qemu-system-arm
    qemu=(qemu-system-aarch64 -M virt -cpu cortex-a57 -m 512) console=ttyAMA0 ;;
armhf)
    # No LPAE in the armmp flavour: keep every device below 4 GiB.
    triple=armv7-unknown-linux-musleabihf kpkg=linux-image-armmp qpkg=qemu-system-arm
    qemu=(qemu-system-arm -M virt,highmem=off -cpu cortex-a15 -m 512) console=ttyAMA0 ;;
mipsel)
    triple=mipsel-unknown-linux-musl kpkg=linux-image-4kc-malta qpkg=qemu-system-mips
    qemu=(qemu-system-mipsel -M malta -cpu 24Kf -m 256) console=ttyS0 ;;
mips64el)
    # Debian's mips64el userland is MIPS64r2: the 5KEf core (the 5kc flavour runs on it).
    triple=mips64el-unknown-linux-muslabi64 kpkg=linux-image-5kc-malta qpkg=qemu-system-mips
    qemu=(qemu-system-mips64el -M malta -cpu 5KEf -m 512) console=ttyS0 ;;
*)
    echo "unknown arch $arch" >&2
    exit 2 ;;
esac
need "$qpkg" "${qemu[0]}"
need cpio cpio

out=target/boot/$arch
rm -rf "$out"
mkdir -p "$out/root/bin"

echo "==> $arch: packages" >&2
kdeb=$(deb_fetch bookworm "$arch" "$kpkg")
bdeb=$(deb_fetch bookworm "$arch" busybox-static)
dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$out" ./boot
kernel=$(ls "$out"/boot/vmlinu[xz]-*)
deb_extract "$bdeb" "$out/bb"
cp "$out/bb/bin/busybox" "$out/root/bin/busybox"
# arm64 also gets armhf's busybox as /bin/busybox32: the cases run it under the aarch64 syd to
# check the compat (arm) ABI.
if [ "$arch" = arm64 ]; then
    deb_extract "$(deb_fetch bookworm armhf busybox-static)" "$out/bb32"
    cp "$out/bb32/bin/busybox" "$out/root/bin/busybox32"
fi

echo "==> $arch: syd for $triple" >&2
scripts/cross.sh "$triple" >&2
cp "target/$triple/release/syd" "$out/root/bin/syd"
cp scripts/boot/init.sh "$out/root/init"
cp "${SYD_BOOT_CASES:-scripts/boot/cases.sh}" "$out/root/cases.sh"
chmod 755 "$out/root/init"
mkdir -p "$out/root/dev"
(cd "$out/root" && find . | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$out/initrd.gz"

echo "==> $arch: booting $(basename "$kernel") (limit ${timeout} s)" >&2
boot=$(date +%s)
rc=0
timeout "$timeout" "${qemu[@]}" -nographic -no-reboot -nic none \
    -kernel "$kernel" -initrd "$out/initrd.gz" \
    -append "console=$console rdinit=/init panic=-1 quiet" \
    </dev/null >"$out/console.log" 2>&1 || rc=$?
now=$(date +%s)

tr -d '\r' <"$out/console.log" | grep -aoE '^RESULT.*|INFO kernel.*' || true
fails=$(tr -d '\r' <"$out/console.log" | grep -c '^RESULT [^ ]* fail' || true)
oks=$(tr -d '\r' <"$out/console.log" | grep -c '^RESULT [^ ]* ok' || true)
ended=$(tr -d '\r' <"$out/console.log" | grep -c '^END$' || true)
summary="$arch: $oks ok, $fails failed; boot+tests $((now - boot)) s, total $((now - start)) s"
if [ "$rc" -eq 124 ]; then
    echo "$summary; TIMED OUT after $timeout s (console: $out/console.log)"
    exit 1
fi
if [ "$ended" -eq 0 ] || [ "$oks" -eq 0 ]; then
    echo "$summary; the guest did not finish (qemu exit $rc; console: $out/console.log)"
    tail -n 20 "$out/console.log"
    exit 1
fi
echo "$summary"
[ "$fails" -eq 0 ]
