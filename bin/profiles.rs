//! Built-in copies of the shipped profiles (SPEC §5.8), used when `@paludis` or `@default` is
//! not found under `$sharedir/sydbox/`. A file there takes precedence.

const WRITE_ALLOW: &str = "\
allowlist/write+/dev/stdout
allowlist/write+/dev/stderr
allowlist/write+/dev/zero
allowlist/write+/dev/null
allowlist/write+/dev/full
allowlist/write+/dev/console
allowlist/write+/dev/random
allowlist/write+/dev/urandom
allowlist/write+/dev/ptmx
allowlist/write+/dev/fd/***
allowlist/write+/dev/tty*
allowlist/write+/dev/pty*
allowlist/write+/dev/tts
allowlist/write+/dev/pts/***
allowlist/write+/dev/shm/***
allowlist/write+/selinux/context/***
allowlist/write+/proc/self/attr/***
allowlist/write+/proc/self/fd/***
allowlist/write+/proc/self/task/***
allowlist/write+/tmp/***
allowlist/write+/var/tmp/***
allowlist/write+/var/cache/***
allowlist/network/bind+LOOPBACK@0
allowlist/network/bind+LOOPBACK@1024-65535
allowlist/network/bind+LOOPBACK6@0
allowlist/network/bind+LOOPBACK6@1024-65535
";

const CONNECT_NSS: &str = "\
allowlist/network/connect+unix:/var/run/nscd/socket
allowlist/network/connect+unix:/run/nscd/socket
allowlist/network/connect+unix:/var/lib/sss/pipes/nss
allowlist/network/connect+LOOPBACK@65535
allowlist/network/connect+LOOPBACK6@65535
";

/// The paludis profile: package builds write only to their build and temporary directories and
/// the listed devices, and reach no network.
const PALUDIS: &str = "\
# syd built-in profile: paludis (package builds)
core/sandbox/exec:off
core/sandbox/read:off
core/sandbox/write:deny
core/sandbox/network:deny
core/allowlist/per_process_directories:true
core/allowlist/successful_bind:true
core/allowlist/unsupported_socket_families:true
core/violation/decision:deny
core/violation/exit_code:-1
core/violation/raise_fail:false
core/violation/raise_safe:false
core/trace/magic_lock:off
core/trace/memory_access:0
core/trace/program_checksum:2
core/trace/use_toolong_hack:true
core/restrict/id_change:false
core/restrict/io_control:false
core/restrict/memory_map:false
core/restrict/shared_memory_writable:false
core/restrict/system_info:false
core/restrict/general:0
core/match/case_sensitive:true
core/match/no_wildcard:prefix
";

/// The default profile (shell mode).
const DEFAULT: &str = "\
# syd built-in profile: default
core/sandbox/exec:allow
core/sandbox/read:allow
core/sandbox/write:deny
core/sandbox/network:deny
core/allowlist/per_process_directories:false
core/allowlist/successful_bind:true
core/allowlist/unsupported_socket_families:false
core/violation/decision:deny
core/violation/exit_code:-1
core/violation/raise_fail:false
core/violation/raise_safe:true
core/trace/memory_access:0
core/trace/program_checksum:2
core/trace/use_toolong_hack:true
core/restrict/id_change:true
core/restrict/system_info:true
core/restrict/io_control:false
core/restrict/memory_map:false
core/restrict/shared_memory_writable:true
core/restrict/general:0
core/match/case_sensitive:true
core/match/no_wildcard:literal
denylist/exec+/etc/***
denylist/exec+/dev/***
denylist/exec+/proc/***
denylist/exec+/run/***
denylist/exec+/sys/***
denylist/exec+/var/***
denylist/exec+/tmp/***
denylist/read+/boot/***
denylist/read+/root/***
denylist/read+/etc/security/***
denylist/read+/etc/g?shadow*
denylist/read+/etc/passwd*
denylist/read+/etc/group+
denylist/read+/etc/ftpusers
denylist/read+/etc/aliases
denylist/read+/etc/services
denylist/read+/etc/conf.*/***
denylist/read+/etc/init.*/***
denylist/read+/etc/rc.*/***
denylist/read+/etc/system.*/***
denylist/read+/etc/xinet.*/***
denylist/read+/etc/ssl*/***
denylist/read+/etc/mtab
denylist/read+/etc/fstab
denylist/read+/etc/crontab
denylist/read+/etc/cron*/***
denylist/read+/etc/crypttab
denylist/read+/etc/securetty
denylist/read+/etc/pam*/***
denylist/read+/dev/k?mem
denylist/read+/dev/port
denylist/read+/dev/autofs
denylist/read+/dev/btrfs-control
denylist/read+/dev/ram*
denylist/read+/dev/core
denylist/read+/proc/kcore
denylist/read+/dev/usb*
denylist/read+/dev/vga_arbiter
denylist/read+/dev/watchdog*
denylist/read+/dev/zram*
denylist/read+/proc/kallsyms
denylist/read+/proc/*/mem
denylist/read+/proc/*/*map*
denylist/read+/proc/*/map_files/***
denylist/read+/proc/*/syscall
denylist/read+/proc/*/root/***
denylist/read+/var/log/***
denylist/read+/dev/kmsg
denylist/read+/proc/cmdline
denylist/read+/proc/config*
denylist/read+/proc/version
denylist/read+/proc/sys/***
denylist/read+/etc/sysctl.conf
denylist/read+/etc/sysctl.d/***
denylist/read+/proc/cpuinfo
denylist/read+/proc/meminfo
denylist/read+/proc/swaps
denylist/read+/proc/iomem
denylist/read+/proc/slabinfo
denylist/read+/proc/vmallocinfo
denylist/read+/proc/vmstat
denylist/read+/proc/self/auxv
denylist/read+/proc/self/cgroup
denylist/read+/proc/self/cwd
denylist/read+/proc/self/environ
denylist/read+/proc/self/mtab
denylist/read+/proc/self/net/***
denylist/read+/proc/self/ns/***
denylist/read+/proc/self/*map*
denylist/read+/proc/self/map_files/***
denylist/read+/proc/self/mem
denylist/read+/proc/self/mount*
denylist/read+/proc/self/oom*
denylist/read+/proc/self/root
denylist/read+/proc/self/setgroups
denylist/read+/proc/self/*stat*
denylist/read+/proc/self/syscall
denylist/read+/proc/self/task
denylist/read+/sys/fs/***
denylist/read+/dev/fuse
denylist/read+/dev/dm*/***
denylist/read+/dev/mapper/***
denylist/read+/home/*/.*login*
denylist/read+/home/*/.netrc*
denylist/read+/home/*/.ssh*
denylist/read+/home/*/.gnupg*
denylist/read+/home/*/.password-store/***
denylist/read+/home/*/.config*/***
denylist/read+/home/*/.cache*/***
denylist/read+/home/*/.emacs*/***
denylist/read+/home/*/.mutt*/***
denylist/read+/home/*/.mozilla*/***
denylist/read+/home/*/.vim*/***
denylist/write+/home/*/.*login*
denylist/write+/home/*/.netrc*
denylist/write+/home/*/.*sh*
denylist/write+/home/*/.gnupg*
denylist/write+/home/*/.password-store/***
denylist/write+/home/*/.config*/***
denylist/write+/home/*/.cache*/***
denylist/write+/home/*/.emacs*/***
denylist/write+/home/*/.mutt*/***
denylist/write+/home/*/.mozilla*/***
denylist/write+/home/*/.vim*/***
allowlist/network/connect+LOOPBACK@9050
allowlist/network/connect+LOOPBACK6@9050
";

/// Parts of a built-in profile, in order.
pub fn builtin(name: &[u8]) -> Option<&'static [&'static str]> {
    let name = name.strip_suffix(b".syd-2").unwrap_or(name);
    match name {
        b"paludis" => Some(&[PALUDIS, WRITE_ALLOW, CONNECT_NSS]),
        b"default" => Some(&[DEFAULT, WRITE_ALLOW, CONNECT_NSS]),
        _ => None,
    }
}
