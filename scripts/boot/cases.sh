# The boot-test cases, sourced by init.sh inside the guest (busybox sh, root, loopback only).
# Also runs on a host for a quick check (as root, in `unshare -mu`): SYD=path/to/syd
# BB=path/to/busybox sh scripts/boot/cases.sh, with busybox's applets first in PATH. Prints one line per case: RESULT <case> ok|fail <detail>.
# $SYD is the syd under test; $W a scratch directory (created here); $BB32, when present, a
# 32-bit busybox for the compat-ABI cases.

SYD=${SYD:-/bin/syd}
BB=${BB:-/bin/busybox}
W=${W:-/tmp/syd-boot.$$}
rm -rf "$W"
mkdir -p "$W/ok" "$W/no" "$W/m" "$W/l" "$W/denied" "$W/mnt" "$W/www"

# Each denial must carry the errno SPEC names, as this ABI numbers it: the messages are the
# libc's text for it (a wrong number shows as another text, or "Unknown error N").
EPERM="Operation not permitted"
EACCES="Permission denied"
ECONNREFUSED="Connection refused"
ECANCELED="Operation canceled"

result() {
    case=$1 verdict=$2
    shift 2
    echo "RESULT $case $verdict $*"
}

# The last line of a file, on one line, for a detail field.
last() {
    tail -n 1 "$1" 2>/dev/null | tr -d '\r'
}

# syd --test: every kernel feature syd uses is there.
"$SYD" --test >"$W/test.out" 2>&1
rc=$?
sed 's/^/INFO syd --test: /' "$W/test.out"
missing=$(grep -c '^missing' "$W/test.out")
if [ $rc -eq 0 ]; then
    result syd_test ok "exit 0, $missing feature(s) missing"
else
    result syd_test fail "exit $rc, $missing feature(s) missing: $(grep '^missing' "$W/test.out" | cut -c9-60 | tr '\n' ';')"
fi

# Writes: denied outside the allowlist, allowed inside it.
write_sandbox="-m core/sandbox/write:deny -m allowlist/write+$W/ok/***"
"$SYD" $write_sandbox -- sh -c "echo x > $W/no/f" 2>"$W/wd.err"
rc=$?
if [ $rc -ne 0 ] && [ ! -e "$W/no/f" ] && grep -q "$EPERM" "$W/wd.err"; then
    result write_denied ok "exit $rc: $(last "$W/wd.err")"
else
    result write_denied fail "exit $rc, file $( [ -e "$W/no/f" ] && echo written || echo absent): $(last "$W/wd.err")"
fi
"$SYD" $write_sandbox -- sh -c "echo x > $W/ok/f" 2>"$W/wa.err"
rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$W/ok/f" 2>/dev/null)" = x ]; then
    result write_allowed ok "exit 0"
else
    result write_allowed fail "exit $rc: $(last "$W/wa.err")"
fi

# Exec: a copy of busybox outside the allowlist is refused, busybox itself runs. Paths with a
# slash, so that busybox's shell really calls execve instead of running an applet in-process.
cp "$BB" "$W/denied/true"
exec_sandbox="-m core/sandbox/exec:deny -m allowlist/exec+${BB%/*}/***"
"$SYD" $exec_sandbox -- sh -c "$W/denied/true" 2>"$W/ed.err"
rc=$?
if [ $rc -ne 0 ] && grep -q "$EACCES" "$W/ed.err"; then
    result exec_denied ok "exit $rc: $(last "$W/ed.err")"
else
    result exec_denied fail "exit $rc: $(last "$W/ed.err")"
fi
"$SYD" $exec_sandbox -- sh -c "$BB true" 2>"$W/ea.err"
rc=$?
if [ $rc -eq 0 ]; then
    result exec_allowed ok "exit 0"
else
    result exec_allowed fail "exit $rc: $(last "$W/ea.err")"
fi

# Connect: two loopback listeners outside the sandbox; only one is in the allowlist.
nc -l -p 5555 >"$W/got5555" 2>/dev/null &
l1=$!
nc -l -p 5556 >"$W/got5556" 2>/dev/null &
l2=$!
sleep 1
net_sandbox="-m core/sandbox/network:deny -m allowlist/network/connect+inet:127.0.0.1@5555"
echo hello | "$SYD" $net_sandbox -- nc 127.0.0.1 5555 >/dev/null 2>"$W/ca.err"
rc=$?
sleep 1
if [ "$(cat "$W/got5555")" = hello ]; then
    result connect_allowed ok "exit $rc, the listener got the data"
else
    result connect_allowed fail "exit $rc, the listener got '$(cat "$W/got5555")': $(last "$W/ca.err")"
fi
echo hello | "$SYD" $net_sandbox -- nc 127.0.0.1 5556 >/dev/null 2>"$W/cd.err"
rc=$?
sleep 1
if [ $rc -ne 0 ] && [ ! -s "$W/got5556" ] && grep -q "$ECONNREFUSED" "$W/cd.err"; then
    result connect_denied ok "exit $rc: $(last "$W/cd.err")"
else
    result connect_denied fail "exit $rc, the listener got '$(cat "$W/got5556")': $(last "$W/cd.err")"
fi
kill $l1 $l2 2>/dev/null
wait $l1 $l2 2>/dev/null

# successful_bind: a server inside the sandbox binds 127.0.0.1 port 0 (busybox httpd; its port is
# read back with netstat), and a client in the same sandbox may then connect to that port, which
# no allowlist entry names.
echo served >"$W/www/index.html"
cat >"$W/bind.sh" <<EOF
httpd -f -p 127.0.0.1:0 -h $W/www &
srv=\$!
# busybox's netstat has no -p: find httpd's socket inode in /proc/PID/fd, then its port in
# /proc/net/tcp (local_address HEXIP:HEXPORT, inode in column 10). No redirections to files here:
# writes are denied by default (core/sandbox/write is bpf).
port=
for i in 1 2 3 4 5 6 7 8 9 10; do
    sleep 1
    for ino in \$(ls -l /proc/\$srv/fd | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p'); do
        hex=\$(awk -v ino="\$ino" '\$10 == ino && \$4 == "0A" { sub(/.*:/, "", \$2); print \$2 }' /proc/net/tcp)
        [ -n "\$hex" ] && port=\$(printf '%d' "0x\$hex")
    done
    [ -n "\$port" ] && break
done
echo "port \$port"
wget -q -O - "http://127.0.0.1:\$port/"
rc=\$?
kill \$srv
exit \$rc
EOF
"$SYD" -m core/sandbox/network:deny -m allowlist/network/bind+LOOPBACK@0 \
    -- sh "$W/bind.sh" >"$W/bind.out" 2>"$W/bind.err"
rc=$?
port=$(sed -n 's/^port //p' "$W/bind.out")
if [ $rc -eq 0 ] && grep -q served "$W/bind.out"; then
    result successful_bind ok "bound 127.0.0.1:0 -> port $port, connect allowed"
else
    result successful_bind fail "exit $rc, port '$port': $(last "$W/bind.err")"
fi
# The control: with the option off the same connect is denied.
"$SYD" -m core/sandbox/network:deny -m allowlist/network/bind+LOOPBACK@0 \
    -m core/allowlist/successful_bind:false -- sh "$W/bind.sh" >"$W/bind.out" 2>"$W/bind.err"
rc=$?
port=$(sed -n 's/^port //p' "$W/bind.out")
if [ $rc -ne 0 ] && [ -n "$port" ] && ! grep -q served "$W/bind.out" &&
    grep -q "$ECONNREFUSED" "$W/bind.err"; then
    result successful_bind_off ok "port $port, connect denied: $(last "$W/bind.err")"
else
    result successful_bind_off fail "exit $rc, port '$port': $(last "$W/bind.err")"
fi

# Runtime magic: the sandboxed shell allowlists a directory through /dev/sydbox, then writes
# there; with -l (lock) the same magic is refused and the write denied.
magic="test -e '/dev/sydbox/allowlist/write+$W/m/***' && echo x > $W/m/f"
"$SYD" -m core/sandbox/write:deny -- sh -c "$magic" 2>"$W/mg.err"
rc=$?
if [ $rc -eq 0 ] && [ -e "$W/m/f" ]; then
    result magic ok "exit 0: the magic stat allowed the write"
else
    result magic fail "exit $rc: $(last "$W/mg.err")"
fi
magic="test -e '/dev/sydbox/allowlist/write+$W/l/***' && echo x > $W/l/f"
"$SYD" -l -m core/sandbox/write:deny -- sh -c "$magic" 2>"$W/lk.err"
rc=$?
if [ $rc -ne 0 ] && [ ! -e "$W/l/f" ]; then
    result lock ok "exit $rc: magic refused under -l"
else
    result lock fail "exit $rc, file $( [ -e "$W/l/f" ] && echo written || echo absent)"
fi

# Level-0 restrictions: mount(2) and sethostname(2) work outside the sandbox (root), and fail
# with ECANCELED inside it.
if mount -t tmpfs none "$W/mnt" 2>"$W/mo.err"; then
    umount "$W/mnt"
    "$SYD" -m core/sandbox/write:allow -- mount -t tmpfs none "$W/mnt" 2>"$W/mi.err"
    rc=$?
    if [ $rc -ne 0 ] && ! grep -q " $W/mnt " /proc/mounts && grep -q "$ECANCELED" "$W/mi.err"; then
        result level0_mount ok "exit $rc: $(last "$W/mi.err")"
    else
        umount "$W/mnt" 2>/dev/null
        result level0_mount fail "exit $rc: $(last "$W/mi.err")"
    fi
else
    result level0_mount skip "mount fails outside the sandbox too: $(last "$W/mo.err")"
fi
name=$(hostname)
if hostname "$name" 2>"$W/ho.err"; then
    "$SYD" -m core/sandbox/write:allow -- hostname syd-was-here 2>"$W/hi.err"
    rc=$?
    if [ $rc -ne 0 ] && [ "$(hostname)" = "$name" ] && grep -q "$ECANCELED" "$W/hi.err"; then
        result level0_sethostname ok "exit $rc: $(last "$W/hi.err")"
    else
        hostname "$name"
        result level0_sethostname fail "exit $rc: $(last "$W/hi.err")"
    fi
else
    result level0_sethostname skip "sethostname fails outside the sandbox too: $(last "$W/ho.err")"
fi

# Compat ABI: a 32-bit busybox ($BB32, only in the arm64 initramfs: armhf's busybox-static) under
# this syd. With the default ABIs (native and compat) its writes are checked like native ones, the
# report says abi=1, and magic stat answers it; with `-a <native>` alone its first system call
# kills it (SIGSYS: exit 128 + 31).
BB32=${BB32:-/bin/busybox32}
if [ -x "$BB32" ]; then
    if ! "$BB32" true 2>"$W/c32.err"; then
        result compat32 skip "this kernel runs no 32-bit program: $(last "$W/c32.err")"
    else
        mkdir -p "$W/m32"
        "$SYD" $write_sandbox -- "$BB32" sh -c "echo x > $W/no/f32" 2>"$W/cd32.err"
        rc=$?
        if [ $rc -ne 0 ] && [ ! -e "$W/no/f32" ] && grep -q "$EPERM" "$W/cd32.err" &&
            grep -q "(abi=1 name:" "$W/cd32.err" && grep -q "open.*(\`$W/no/f32')" "$W/cd32.err"; then
            result compat32_write_denied ok "exit $rc: $(grep -o '(abi=.*' "$W/cd32.err")"
        else
            result compat32_write_denied fail "exit $rc, file $( [ -e "$W/no/f32" ] && echo written || echo absent): $(tr '\n' ';' <"$W/cd32.err")"
        fi
        "$SYD" $write_sandbox -- "$BB32" sh -c "echo x > $W/ok/f32" 2>"$W/ca32.err"
        rc=$?
        if [ $rc -eq 0 ] && [ "$(cat "$W/ok/f32" 2>/dev/null)" = x ]; then
            result compat32_write_allowed ok "exit 0"
        else
            result compat32_write_allowed fail "exit $rc: $(last "$W/ca32.err")"
        fi
        # Magic stat: the shell's own test grows its allowlist (magic changes only the calling
        # process), and a stat program sees the fake stat of SPEC 5.4.
        "$SYD" -m core/sandbox/write:deny -- "$BB32" sh -c \
            "test -e '/dev/sydbox/allowlist/write+$W/m32/***' && echo x > $W/m32/f &&
            $BB32 stat -c '%F %a %t,%T %X %Y %Z' '/dev/sydbox/core/sandbox/write?'" \
            >"$W/cm32.out" 2>"$W/cm32.err"
        rc=$?
        fake="character special file 666 1,3 505958400 -842745600 -2036448000"
        if [ $rc -eq 0 ] && [ -e "$W/m32/f" ] && [ "$(cat "$W/cm32.out")" = "$fake" ]; then
            result compat32_magic ok "exit 0, stat: $fake"
        else
            result compat32_magic fail "exit $rc, stat '$(cat "$W/cm32.out")': $(last "$W/cm32.err")"
        fi
        # Without the compat ABI in the filter: the native busybox runs, the 32-bit one is killed.
        native=$(uname -m)
        "$SYD" -a "$native" -- "$BB" true 2>"$W/cn32.err"
        rcn=$?
        "$SYD" -a "$native" -- "$BB32" true 2>"$W/ck32.err"
        rc=$?
        if [ $rcn -eq 0 ] && [ $rc -eq 159 ]; then
            result compat32_killed ok "-a $native: native exit 0, 32-bit exit 159 (SIGSYS)"
        else
            result compat32_killed fail "-a $native: native exit $rcn, 32-bit exit $rc: $(last "$W/ck32.err")"
        fi
    fi
fi

rm -rf "$W"
