#!/usr/bin/env bash
# Static release builds of syd for every supported architecture, from an x86_64 host:
#
#   scripts/cross.sh [TRIPLE...]      (default: all seven below)
#
# Each binary lands at target/<triple>/release/syd. Two routes, both linked by rust-lld with
# relocation-model=static, both against musl:
# - x86_64, aarch64, i686: the pinned toolchain (rust-toolchain.toml) with rustup's std for the
#   target and the musl that rustup ships inside it (link-self-contained=yes, .cargo/config.toml).
# - armv7 (hard float), riscv64, mipsel (o32) and mips64el (n64): the nightly toolchain builds
#   core and alloc itself (-Zbuild-std; syd is no_std, so nothing else is needed), linked against
#   Debian's musl-dev for that architecture (libc.a and crt1.o, fetched with scripts/debian.sh;
#   riscv64 from Debian 13 since Debian 12 has no riscv64 port). The mips targets are tier 3
#   (no rustup std at all); armv7 and riscv64 take this route too because rustup's std for them is
#   not always to be had (this project's machines get none), and one route per target keeps the
#   builds the same everywhere.
# 32-bit targets use musl's 64-bit time_t ABI (libc's --cfg libc_unstable_musl_v1_2: the
# __*_time64 symbols), which the code assumes. Needs: rustup (a nightly toolchain and its rust-src
# are installed when missing; SYD_NIGHTLY picks another, e.g. nightly-2026-10-29), apt-get and
# dpkg-deb, and a Debian mirror. Prints a table: target, libc, size (flagged over 200 KiB).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/debian.sh

# Size the binaries should stay under (bytes); larger ones are flagged, not failed.
SIZE_GOAL=204800
NIGHTLY=${SYD_NIGHTLY:-nightly}

all=(x86_64-unknown-linux-musl aarch64-unknown-linux-musl i686-unknown-linux-musl
    armv7-unknown-linux-musleabihf riscv64gc-unknown-linux-musl mipsel-unknown-linux-musl
    mips64el-unknown-linux-muslabi64)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

# triple -> "debian-arch suite musl-dir extra-target-features" for the build-std route.
debian_musl() {
    case $1 in
    armv7-unknown-linux-musleabihf) echo "armhf bookworm arm-linux-musleabihf" ;;
    riscv64gc-unknown-linux-musl) echo "riscv64 trixie riscv64-linux-musl" ;;
    # Rust's mips musl targets default to soft float; Debian's mipsel and mips64el (and their
    # musl) are hard float.
    mipsel-unknown-linux-musl) echo "mipsel bookworm mipsel-linux-musl ,-soft-float" ;;
    mips64el-unknown-linux-muslabi64) echo "mips64el bookworm mips64el-linux-musl ,-soft-float" ;;
    *) return 1 ;;
    esac
}

declare -A libc_of
for t in "${targets[@]}"; do
    echo "==> $t" >&2
    if spec=$(debian_musl "$t"); then
        read -r darch suite mdir feat <<<"$spec"
        deb=$(deb_fetch "$suite" "$darch" musl-dev)
        root="$deb_dir/sysroot/$t"
        rm -rf "$root"
        deb_extract "$deb" "$root"
        lib="$root/usr/lib/$mdir"
        if ! rustup run "$NIGHTLY" rustc --version >/dev/null 2>&1; then
            rustup toolchain install "$NIGHTLY" --profile minimal >&2
        fi
        rustup component add rust-src --toolchain "$NIGHTLY" >&2
        # The C start code is musl's crt1.o: with link-self-contained=no rustc adds none.
        RUSTFLAGS="-C target-feature=+crt-static${feat:-} -C link-self-contained=no \
-C relocation-model=static -C force-unwind-tables=no -C linker=rust-lld \
--cfg libc_unstable_musl_v1_2 -L native=$lib -C link-arg=$lib/crt1.o" \
            cargo "+$NIGHTLY" build --release --target "$t" -Zbuild-std=core,alloc --bin syd
        v=$(basename "$deb")
        v=${v#musl-dev_}
        libc_of[$t]="musl ${v%%_*} (Debian $suite musl-dev:$darch, build-std)"
    else
        rustup target add "$t" >&2
        cargo build --release --target "$t" --bin syd
        libc_of[$t]="musl (rustup's self-contained)"
    fi
done

status=0
printf '\n%-34s %-68s %8s\n' target libc bytes
for t in "${targets[@]}"; do
    bin="target/$t/release/syd"
    size=$(stat -c %s "$bin")
    note=""
    if readelf -lW "$bin" | grep -q 'INTERP\|DYNAMIC'; then
        note=" NOT STATIC"
        status=1
    fi
    [ "$size" -le "$SIZE_GOAL" ] || note="$note (over $SIZE_GOAL)"
    printf '%-34s %-68s %8s%s\n' "$t" "${libc_of[$t]}" "$size" "$note"
done
exit $status
