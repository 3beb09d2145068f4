# Sourced by cross.sh and boot-test.sh: fetch Debian packages of any architecture into a private
# apt state under target/debian/, without touching the host's apt configuration or its list of
# architectures. Needs apt-get, apt-cache and dpkg-deb (any Debian or Ubuntu host) and a Debian
# mirror: $DEBIAN_MIRROR, else the first Debian mirror of the host's apt sources, else
# deb.debian.org.

deb_dir="${DEB_DIR:-$(pwd)/target/debian}"

# The Debian mirror to use (its URI up to /debian).
deb_mirror() {
    if [ -n "${DEBIAN_MIRROR:-}" ]; then
        echo "$DEBIAN_MIRROR"
        return
    fi
    local m
    m=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
        grep -oE '(https?|file):[^ ]*/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ')
    echo "${m:-http://deb.debian.org/debian}"
}

# deb_apt SUITE ARCH apt-get|apt-cache ARGS...: runs the tool on a private state for one suite and
# one architecture (created, and its package lists fetched, on first use or when older than a day).
deb_apt() {
    local suite=$1 arch=$2 tool=$3
    shift 3
    local st="$deb_dir/apt/$suite-$arch"
    if [ ! -f "$st/apt.conf" ]; then
        mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/empty"
        : >"$st/status"
        echo "deb [arch=$arch] $(deb_mirror) $suite main" >"$st/sources.list"
        # Read through APT_CONFIG, before the host's apt.conf.d: none of the host's extra index
        # targets (DEP-11, translations) or hooks apply.
        cat >"$st/apt.conf" <<CONF
Dir::State "$st"; Dir::State::Lists "$st/lists"; Dir::State::status "$st/status";
Dir::Cache "$st/cache"; Dir::Etc::SourceList "$st/sources.list";
Dir::Etc::SourceParts "$st/empty"; Dir::Etc::Parts "$st/empty";
Dir::Etc::Preferences "$st/empty/none"; Dir::Etc::PreferencesParts "$st/empty";
APT::Architecture "$arch"; APT::Architectures { "$arch"; };
APT::Sandbox::User "root"; Acquire::Languages "none"; Debug::NoLocking "1";
CONF
    fi
    if [ -z "$(find "$st/lists" -maxdepth 1 -name '*_Packages*' -mtime -1 2>/dev/null)" ]; then
        APT_CONFIG="$st/apt.conf" apt-get -q update >&2
    fi
    APT_CONFIG="$st/apt.conf" "$tool" "$@"
}

# deb_fetch SUITE ARCH PACKAGE: downloads PACKAGE's .deb (a metapackage resolves to the first
# package it depends on, e.g. linux-image-armmp -> linux-image-6.1.0-N-armmp) into
# target/debian/debs/ unless present, and prints its path.
deb_fetch() {
    local suite=$1 arch=$2 pkg=$3 real
    real=$(deb_apt "$suite" "$arch" apt-cache show --no-all-versions "$pkg:$arch" |
        sed -n 's/^Depends: \([^ ,]*\).*/\1/p' | head -n1)
    case "$pkg" in
    linux-image-*) [ -n "$real" ] && pkg=${real%%:*} ;;
    esac
    local ver file
    ver=$(deb_apt "$suite" "$arch" apt-cache show --no-all-versions "$pkg:$arch" |
        sed -n 's/^Version: //p' | head -n1)
    [ -n "$ver" ] || { echo "no package $pkg:$arch in $suite" >&2; return 1; }
    file="$deb_dir/debs/${pkg}_${ver//:/%3a}_$arch.deb"
    if [ ! -f "$file" ]; then
        mkdir -p "$deb_dir/debs"
        (cd "$deb_dir/debs" && deb_apt "$suite" "$arch" apt-get -q download "$pkg:$arch" >&2)
    fi
    [ -f "$file" ] || { echo "download of $pkg:$arch failed" >&2; return 1; }
    echo "$file"
}

# deb_extract DEB DIR: unpacks a .deb's files (no scripts run) into DIR.
deb_extract() {
    mkdir -p "$2"
    dpkg-deb -x "$1" "$2"
}
