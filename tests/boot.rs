//! Boot tests: `scripts/boot-test.sh ARCH` boots Debian 12's kernel for ARCH under qemu-system
//! with syd built for it and checks each sandboxing case on that kernel (riscv64: the core's unit
//! tests under qemu-user). They take minutes under emulation and need Debian's packages, so they
//! run only with `SYD_BOOT_TESTS=1`; `SYD_BOOT_ARCHES="armhf mipsel"` picks some. Otherwise each
//! prints `skip:` (even with SYD_TEST_REQUIRE_KERNEL=1: no kernel feature is missing here).
// Test code: clippy.toml's allowances cover only #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::sync::Mutex;

/// One emulator at a time: the machine has two cores, and each guest wants one.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn boot(arch: &str) {
    if std::env::var("SYD_BOOT_TESTS").as_deref() != Ok("1") {
        println!("skip: boot test {arch}: set SYD_BOOT_TESTS=1 (needs qemu and Debian's packages)");
        return;
    }
    if let Ok(list) = std::env::var("SYD_BOOT_ARCHES") {
        if !list.split_whitespace().any(|a| a == arch) {
            println!("skip: boot test {arch}: not in SYD_BOOT_ARCHES");
            return;
        }
    }
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("bash")
        .arg(format!("{dir}/scripts/boot-test.sh"))
        .arg(arch)
        .current_dir(dir)
        .output()
        .expect("run scripts/boot-test.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    let failed: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("RESULT ") && l.split(' ').nth(2) == Some("fail"))
        .collect();
    assert!(
        out.status.success(),
        "boot test {arch}: {}\nfailed cases:\n{}\nstderr (tail):\n{}",
        out.status,
        failed.join("\n"),
        tail(&String::from_utf8_lossy(&out.stderr), 30)
    );
}

/// The last `n` lines of `s`.
fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines
        .get(lines.len().saturating_sub(n)..)
        .unwrap_or(&[])
        .join("\n")
}

#[test]
fn boot_amd64() {
    boot("amd64");
}

#[test]
fn boot_i386() {
    boot("i386");
}

#[test]
fn boot_arm64() {
    boot("arm64");
}

#[test]
fn boot_armhf() {
    boot("armhf");
}

#[test]
fn boot_mipsel() {
    boot("mipsel");
}

#[test]
fn boot_mips64el() {
    boot("mips64el");
}

#[test]
fn riscv64_core_under_qemu_user() {
    boot("riscv64");
}
