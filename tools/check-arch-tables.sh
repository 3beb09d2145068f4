#!/usr/bin/env bash
# Regenerate the arch tables from Debian's linux-source-6.1 into a temporary directory and
# fail if they differ from core/src/arch/tables/ (tools/gen-arch-tables.py --check).
#
# Debian ships security updates of the package (6.1.x -> 6.1.y); those never change syscall
# tables or uapi constants, so a difference confined to the release named in the headers is
# reported but accepted. Set ARCH_TABLES_STRICT=1 to fail on it too. LINUX_SOURCE overrides
# the tarball (or tree) to read.
set -euo pipefail
cd "$(dirname "$0")/.."

src=${LINUX_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
if [ ! -e "$src" ]; then
    sudo=
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq linux-source-6.1 >/dev/null
fi

drift=--allow-sublevel-drift
[ "${ARCH_TABLES_STRICT:-0}" = 1 ] && drift=
exec python3 tools/gen-arch-tables.py "$src" --check $drift
