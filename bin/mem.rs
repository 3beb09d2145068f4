//! Reading and writing tracee memory (SPEC §8.9): cross memory attach, or `/proc/PID/mem`.
//!
//! Everything read is hostile: lengths are bounded before reading, short reads are accepted, and
//! strings are never assumed to be terminated.

use core::ffi::CStr;

use crate::sys::{self, Errno, Fd, Pid};

/// Page size used to split string reads: cross memory attach fails a whole iovec that touches
/// an unmapped page, so a read never crosses a page boundary.
const PAGE: u64 = 4096;

/// How tracee memory is accessed (`-M`, `core/trace/memory_access`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// process_vm_readv/writev, falling back to /proc/PID/mem on ENOSYS or EPERM (modes 0, 2).
    CrossMemory,
    /// /proc/PID/mem only (modes 1, 3).
    ProcMem,
}

impl Method {
    /// The method of a `-M` mode.
    pub fn of(mode: u8) -> Method {
        if mode % 2 == 1 {
            Method::ProcMem
        } else {
            Method::CrossMemory
        }
    }
}

fn proc_mem(pid: Pid, write: bool) -> Result<Fd, Errno> {
    let mut path = [0u8; 32];
    let n = fmt_proc(&mut path, pid, b"/mem");
    let c = CStr::from_bytes_with_nul(path.get(..=n).unwrap_or(&[])).map_err(|_| Errno(22))?;
    let flags = if write { libc::O_RDWR } else { libc::O_RDONLY };
    sys::open(c, flags | libc::O_CLOEXEC, 0)
}

/// Writes `/proc/<pid><suffix>` and a NUL into `buf`; returns the length without the NUL.
pub fn fmt_proc(buf: &mut [u8], pid: Pid, suffix: &[u8]) -> usize {
    let mut n = 0;
    let mut put = |b: &[u8]| {
        for &c in b {
            if let Some(slot) = buf.get_mut(n) {
                *slot = c;
                n += 1;
            }
        }
    };
    put(b"/proc/");
    syd_core::report::put_int(&mut put, i64::from(pid.0));
    put(suffix);
    put(b"\0");
    n.saturating_sub(1)
}

/// Reads up to `buf.len()` bytes at `addr`; returns how many were read (short at an unmapped
/// page). Errors: EFAULT when nothing could be read.
pub fn read(method: Method, pid: Pid, addr: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut done = 0;
    while done < buf.len() {
        let at = addr.checked_add(done as u64).ok_or(Errno(libc::EFAULT))?;
        let room = usize::try_from(PAGE - at % PAGE).unwrap_or(buf.len());
        let end = buf.len().min(done + room);
        let chunk = buf.get_mut(done..end).ok_or(Errno(libc::EFAULT))?;
        let r = match method {
            Method::CrossMemory => match sys::process_vm_readv(pid, chunk, at) {
                Err(Errno(libc::ENOSYS | libc::EPERM)) => read_proc(pid, at, chunk),
                r => r,
            },
            Method::ProcMem => read_proc(pid, at, chunk),
        };
        match r {
            Ok(0) | Err(_) if done > 0 => break,
            Ok(0) => return Err(Errno(libc::EFAULT)),
            Err(Errno(libc::EIO | libc::ESRCH)) => return Err(Errno(libc::EFAULT)),
            Err(e) => return Err(e),
            Ok(n) => done += n,
        }
        if done < end {
            break;
        }
    }
    Ok(done)
}

fn read_proc(pid: Pid, addr: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    let fd = proc_mem(pid, false)?;
    sys::pread(&fd, buf, addr)
}

/// Reads exactly `buf.len()` bytes at `addr`. Errors: EFAULT when not all of it is readable.
pub fn read_exact(method: Method, pid: Pid, addr: u64, buf: &mut [u8]) -> Result<(), Errno> {
    if read(method, pid, addr, buf)? == buf.len() {
        Ok(())
    } else {
        Err(Errno(libc::EFAULT))
    }
}

/// Reads a NUL-terminated string at `addr` into `buf` and returns it without the NUL.
/// Errors: EFAULT for NULL or unreadable memory, ENAMETOOLONG when no NUL comes within
/// `buf.len()` bytes.
pub fn read_cstr(method: Method, pid: Pid, addr: u64, buf: &mut [u8]) -> Result<&[u8], Errno> {
    if addr == 0 {
        return Err(Errno(libc::EFAULT));
    }
    let mut len = 0;
    while len < buf.len() {
        let at = addr.checked_add(len as u64).ok_or(Errno(libc::EFAULT))?;
        let room = usize::try_from(PAGE - at % PAGE).unwrap_or(1);
        let end = buf.len().min(len + room);
        let chunk = buf.get_mut(len..end).ok_or(Errno(libc::EFAULT))?;
        let n = read(method, pid, at, chunk)?;
        if let Some(nul) = chunk.get(..n).and_then(|c| c.iter().position(|&b| b == 0)) {
            return buf.get(..len + nul).ok_or(Errno(libc::EFAULT));
        }
        len += n;
        if n < chunk.len() {
            return Err(Errno(libc::EFAULT));
        }
    }
    Err(Errno(libc::ENAMETOOLONG))
}

/// Writes `data` at `addr`. /proc/PID/mem can write read-only pages; cross memory attach cannot.
pub fn write(method: Method, pid: Pid, addr: u64, data: &[u8]) -> Result<(), Errno> {
    let r = match method {
        Method::CrossMemory => match sys::process_vm_writev(pid, data, addr) {
            Err(Errno(libc::ENOSYS | libc::EPERM | libc::EFAULT)) => write_proc(pid, addr, data),
            r => r,
        },
        Method::ProcMem => write_proc(pid, addr, data),
    }?;
    if r == data.len() {
        Ok(())
    } else {
        Err(Errno(libc::EFAULT))
    }
}

fn write_proc(pid: Pid, addr: u64, data: &[u8]) -> Result<usize, Errno> {
    let fd = proc_mem(pid, true)?;
    sys::pwrite(&fd, data, addr)
}
