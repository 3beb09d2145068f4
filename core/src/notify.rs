//! Decoding a seccomp notification: everything the supervisor reads from the tracee before it
//! decides (SPEC §2.7–§2.11, §4.1, §5.4).
//!
//! All of it is hostile: the syscall number and arguments, and the bytes behind the pointers
//! (path strings, `struct open_how`, socketcall argument words, `struct msghdr`, socket
//! addresses, magic commands in stat paths). The binary reads tracee memory through the
//! [`Memory`] trait (cross memory attach or `/proc/PID/mem`); this module bounds every length
//! before reading, accepts short reads, never assumes a NUL, and turns each failure into the
//! errno the supervisor answers. The fuzz target `notify` feeds random notifications and memory
//! images through [`decode`].

use core::fmt;

use crate::addr::{self, parse_sockaddr, AddrError, RawSockAddr};
use crate::arch::{Arch, Consts, Endian, Word};
use crate::limits::{MAX_OPEN_HOW, MAX_SOCKADDR, PATH_MAX};
use crate::magic;
use crate::syscall::{lookup, Follow, Handler, NetCall, PathArg, Resolve, TypeCheck};

/// `EFAULT` (errno-base.h, the same on every ABI).
pub const EFAULT: i32 = 14;
/// `ENOENT` (errno-base.h, the same on every ABI).
const ENOENT: i32 = 2;
/// `E2BIG` (errno-base.h, the same on every ABI).
const E2BIG: i32 = 7;
/// `EINVAL` (errno-base.h, the same on every ABI).
const EINVAL: i32 = 22;
/// `ENOSYS` as asm-generic numbers it (the binary translates it for mips and parisc).
const ENOSYS: i32 = 38;
/// `ENAMETOOLONG` as asm-generic numbers it (the binary translates it for mips and parisc).
pub const ENAMETOOLONG: i32 = 36;

/// Reads are split at multiples of this: cross memory attach fails a whole iovec that touches
/// an unmapped page, and every Linux page size is a multiple of 4096.
const PAGE: u64 = 4096;

/// `sizeof(struct open_how)` in its first version (`OPEN_HOW_SIZE_VER0`, linux/openat2.h):
/// `flags`, `mode` and `resolve`, three `__u64`.
pub const OPEN_HOW_SIZE_VER0: u64 = 24;

/// A read of tracee memory that could not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// The errno: [`EFAULT`] for unmapped memory, or the access method's own failure.
    pub errno: i32,
}

/// Access to the memory of the task that made the call.
pub trait Memory {
    /// Reads up to `buf.len()` bytes at `addr` into the start of `buf` and returns how many were
    /// read: fewer when the range runs into an unmapped page, as `process_vm_readv` does. The
    /// bytes of `buf` after those are unspecified. Errors: [`Fault`] when nothing at `addr` can
    /// be read (returning `Ok(0)` means the same).
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<usize, Fault>;
}

/// Why a notification's arguments cannot be decoded; [`NotifyError::errno`] is the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyError {
    /// Memory at `addr` could not be read (NULL, unmapped, or the read failed with `errno`).
    Fault {
        /// The first address that could not be read.
        addr: u64,
        /// The errno of the failure ([`EFAULT`] for unmapped memory).
        errno: i32,
    },
    /// No NUL within the first `limit` bytes of a string (`PATH_MAX`): `ENAMETOOLONG`.
    NameTooLong {
        /// The bound, terminating NUL included.
        limit: usize,
    },
    /// An empty path without `AT_EMPTY_PATH`: `ENOENT`.
    EmptyPath {
        /// Argument index of the path.
        arg: u8,
    },
    /// An `open_how` size below [`OPEN_HOW_SIZE_VER0`]: `EINVAL`.
    HowTooSmall {
        /// The size passed.
        size: u64,
    },
    /// An `open_how` size above [`MAX_OPEN_HOW`]: `E2BIG`.
    HowTooBig {
        /// The size passed.
        size: u64,
        /// The largest size the kernel accepts.
        limit: usize,
    },
    /// A non-zero byte in the part of an `open_how` this kernel does not know: `E2BIG`.
    HowTail {
        /// Offset of the first non-zero byte in the struct.
        offset: u64,
    },
    /// `open_how` flags, mode or resolve bits the kernel refuses: `EINVAL`.
    HowInvalid {
        /// The field the kernel refuses.
        field: &'static str,
        /// Its value.
        value: u64,
    },
    /// A socket address length the kernel refuses (negative as an `int`, or above
    /// [`MAX_SOCKADDR`] for bind, connect and sendto): `EINVAL`.
    AddrLen {
        /// The length's low 32 bits, as the kernel's `int`.
        len: i32,
    },
    /// The syscall number has no handler on this ABI: `ENOSYS`.
    Unhandled {
        /// The number.
        nr: u64,
    },
}

impl NotifyError {
    /// The errno the supervisor answers, as asm-generic numbers it (`ENAMETOOLONG` and `ENOSYS`
    /// differ on mips and parisc: the binary translates them; the others are errno-base values,
    /// shared by every ABI).
    pub fn errno(&self) -> i32 {
        match *self {
            NotifyError::Fault { errno, .. } => errno,
            NotifyError::NameTooLong { .. } => ENAMETOOLONG,
            NotifyError::EmptyPath { .. } => ENOENT,
            NotifyError::HowTooSmall { .. }
            | NotifyError::HowInvalid { .. }
            | NotifyError::AddrLen { .. } => EINVAL,
            NotifyError::HowTooBig { .. } | NotifyError::HowTail { .. } => E2BIG,
            NotifyError::Unhandled { .. } => ENOSYS,
        }
    }
}

impl fmt::Display for NotifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            NotifyError::Fault { addr, errno } => {
                write!(f, "cannot read tracee memory at {addr:#x} (errno {errno})")
            }
            NotifyError::NameTooLong { limit } => {
                write!(f, "string without NUL in its first {limit} bytes")
            }
            NotifyError::EmptyPath { arg } => write!(f, "empty path in argument {arg}"),
            NotifyError::HowTooSmall { size } => {
                write!(f, "open_how size {size} below {OPEN_HOW_SIZE_VER0}")
            }
            NotifyError::HowTooBig { size, limit } => {
                write!(f, "open_how size {size} above {limit}")
            }
            NotifyError::HowTail { offset } => {
                write!(f, "open_how byte {offset} (unknown field) is not zero")
            }
            NotifyError::HowInvalid { field, value } => {
                write!(f, "open_how {field} {value:#x} refused")
            }
            NotifyError::AddrLen { len } => write!(f, "socket address length {len} refused"),
            NotifyError::Unhandled { nr } => write!(f, "syscall {nr} has no handler"),
        }
    }
}

fn fault(addr: u64) -> NotifyError {
    NotifyError::Fault {
        addr,
        errno: EFAULT,
    }
}

/// Reads one chunk at `addr`, turning a failure into [`NotifyError::Fault`] and clamping what a
/// misbehaving [`Memory`] claims to the buffer.
fn read_some<M: Memory + ?Sized>(mem: &M, addr: u64, buf: &mut [u8]) -> Result<usize, NotifyError> {
    match mem.read(addr, buf) {
        Ok(0) => Err(fault(addr)),
        Ok(n) => Ok(n.min(buf.len())),
        Err(Fault { errno }) => Err(NotifyError::Fault { addr, errno }),
    }
}

/// Reads exactly `buf.len()` bytes at `addr` (short reads are continued; nothing for an empty
/// `buf`). Errors: [`NotifyError::Fault`] at the first byte that cannot be read, or when the
/// range wraps around the address space.
pub fn read_exact<M: Memory + ?Sized>(
    mem: &M,
    addr: u64,
    buf: &mut [u8],
) -> Result<(), NotifyError> {
    let mut done = 0usize;
    while let Some(rest) = buf.get_mut(done..).filter(|r| !r.is_empty()) {
        // usize is at most 64 bits on every target: the conversion cannot fail there.
        let off = u64::try_from(done).map_err(|_| fault(addr))?;
        let at = addr.checked_add(off).ok_or(fault(addr))?;
        done += read_some(mem, at, rest)?;
    }
    Ok(())
}

/// Reads up to `buf.len()` bytes at `addr`, stopping at the first byte that cannot be read,
/// and returns those read. Errors: [`NotifyError::Fault`] when not even the first byte can be.
pub fn read_partial<'b, M: Memory + ?Sized>(
    mem: &M,
    addr: u64,
    buf: &'b mut [u8],
) -> Result<&'b [u8], NotifyError> {
    let mut done = 0usize;
    while let Some(rest) = buf.get_mut(done..).filter(|r| !r.is_empty()) {
        let Some(at) = u64::try_from(done).ok().and_then(|o| addr.checked_add(o)) else {
            break;
        };
        match read_some(mem, at, rest) {
            Ok(n) => done += n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(buf.get(..done).unwrap_or_default())
}

/// Reads the NUL-terminated string at `addr` into `buf` and returns it without the NUL.
///
/// Memory is read a page at a time, so that bytes after the NUL on an unmapped page do not
/// matter. Errors: [`NotifyError::Fault`] for NULL, for memory that cannot be read before the
/// NUL, or a string that wraps around the address space; [`NotifyError::NameTooLong`] when no
/// NUL comes within `buf.len()` bytes (with a [`PATH_MAX`] buffer: a path the kernel refuses).
pub fn read_cstr<'b, M: Memory + ?Sized>(
    mem: &M,
    addr: u64,
    buf: &'b mut [u8],
) -> Result<&'b [u8], NotifyError> {
    if addr == 0 {
        return Err(fault(addr));
    }
    let mut len = 0usize;
    while len < buf.len() {
        let at = u64::try_from(len)
            .ok()
            .and_then(|o| addr.checked_add(o))
            .ok_or(fault(addr))?;
        // PAGE - at % PAGE is in 1..=4096: it fits any usize.
        let room = usize::try_from(PAGE - at % PAGE).unwrap_or(1);
        let end = buf.len().min(len.saturating_add(room));
        let chunk = buf.get_mut(len..end).ok_or(fault(at))?;
        let n = read_some(mem, at, chunk)?;
        if let Some(nul) = chunk.get(..n).and_then(|c| c.iter().position(|&b| b == 0)) {
            return buf.get(..len + nul).ok_or(fault(at));
        }
        len += n;
    }
    Err(NotifyError::NameTooLong { limit: buf.len() })
}

/// A path argument as read: a string, or the dirfd's own file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathStr<'b> {
    /// The path as the tracee passed it (non-empty, without the NUL).
    Str(&'b [u8]),
    /// NULL where the call allows it (`null_is_dirfd`), or empty with `AT_EMPTY_PATH`: the
    /// object the dirfd refers to.
    Dirfd,
}

/// Reads path argument `pa` of a call with arguments `args` into `buf`, with the supervisor's
/// rules (SPEC §2.8): NULL names the dirfd where the call allows it, an empty path names it with
/// `AT_EMPTY_PATH`. Errors: those of [`read_cstr`], and [`NotifyError::EmptyPath`].
pub fn read_path<'b, M: Memory + ?Sized>(
    mem: &M,
    pa: &PathArg,
    args: &[u64; 6],
    buf: &'b mut [u8],
) -> Result<PathStr<'b>, NotifyError> {
    let ptr = args.get(usize::from(pa.path)).copied().unwrap_or(0);
    if ptr == 0 && pa.null_is_dirfd {
        return Ok(PathStr::Dirfd);
    }
    let s = read_cstr(mem, ptr, buf)?;
    if !s.is_empty() {
        return Ok(PathStr::Str(s));
    }
    if pa.empty_path_for(args) {
        Ok(PathStr::Dirfd)
    } else {
        Err(NotifyError::EmptyPath { arg: pa.path })
    }
}

/// `struct open_how` (linux/openat2.h), or the flags and mode of `open`, `openat` and `creat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenHow {
    /// `O_*` flags.
    pub flags: u64,
    /// Creation mode.
    pub mode: u64,
    /// `RESOLVE_*` flags (0 outside openat2).
    pub resolve: u64,
}

/// `RESOLVE_BENEATH` (linux/openat2.h).
pub const RESOLVE_BENEATH: u64 = 0x08;
/// `RESOLVE_IN_ROOT` (linux/openat2.h).
pub const RESOLVE_IN_ROOT: u64 = 0x10;
/// Every `RESOLVE_*` flag: `NO_XDEV | NO_MAGICLINKS | NO_SYMLINKS | BENEATH | IN_ROOT | CACHED`
/// (`VALID_RESOLVE_FLAGS`, include/linux/fcntl.h).
pub const VALID_RESOLVE: u64 = 0x3f;
/// `S_IALLUGO` (include/linux/stat.h): the mode bits a creating open accepts.
const S_IALLUGO: u64 = 0o7777;

/// The flags open(2) knows on the ABI of `c` (`VALID_OPEN_FLAGS`, include/linux/fcntl.h): the
/// kernel ignores others in open(2) and openat(2), but openat2(2) refuses them.
pub fn valid_open_flags(c: &Consts) -> u64 {
    u64::from(
        c.o_accmode
            | c.o_creat
            | c.o_excl
            | c.o_noctty
            | c.o_trunc
            | c.o_append
            | c.o_nonblock
            | c.o_sync
            | c.o_dsync
            | c.o_async
            | c.o_direct
            | c.o_largefile
            | c.o_directory
            | c.o_nofollow
            | c.o_noatime
            | c.o_cloexec
            | c.o_path
            | c.o_tmpfile,
    )
}

/// The checks openat2 makes on `how` before any lookup (fs/open.c `build_open_how` and
/// `build_open_flags`) that the supervisor's own open would not repeat: unknown flag bits
/// (upper half included), a mode without `O_CREAT`/`O_TMPFILE` or beyond `S_IALLUGO`, unknown
/// `RESOLVE_*` bits, `RESOLVE_BENEATH` with `RESOLVE_IN_ROOT`. Errors:
/// [`NotifyError::HowInvalid`] naming the field.
pub fn check_open_how(c: &Consts, how: &OpenHow) -> Result<(), NotifyError> {
    let bad = |field, value| Err(NotifyError::HowInvalid { field, value });
    let tmpfile = u64::from(c.o_tmpfile);
    let creating = how.flags & u64::from(c.o_creat) != 0 || how.flags & tmpfile == tmpfile;
    if how.flags & !valid_open_flags(c) != 0 {
        return bad("flags", how.flags);
    }
    if (creating && how.mode & !S_IALLUGO != 0) || (!creating && how.mode != 0) {
        return bad("mode", how.mode);
    }
    if how.resolve & !VALID_RESOLVE != 0
        || (how.resolve & RESOLVE_BENEATH != 0 && how.resolve & RESOLVE_IN_ROOT != 0)
    {
        return bad("resolve", how.resolve);
    }
    Ok(())
}

/// A 64-bit word of `b` at `off` in `endian` order; 0 past the end (callers read whole structs).
fn word64(b: &[u8], off: usize, endian: Endian) -> u64 {
    let w = b
        .get(off..)
        .and_then(|s| s.get(..8))
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .unwrap_or([0; 8]);
    match endian {
        Endian::Little => u64::from_le_bytes(w),
        Endian::Big => u64::from_be_bytes(w),
    }
}

/// A 32-bit word of `b` at `off` in `endian` order; 0 past the end.
fn word32(b: &[u8], off: usize, endian: Endian) -> u64 {
    let w = b
        .get(off..)
        .and_then(|s| s.get(..4))
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .unwrap_or([0; 4]);
    u64::from(match endian {
        Endian::Little => u32::from_le_bytes(w),
        Endian::Big => u32::from_be_bytes(w),
    })
}

/// Reads and checks openat2's `struct open_how` of `size` bytes at `addr` on `arch`, as the
/// kernel does (fs/open.c, `copy_struct_from_user`), then [`check_open_how`].
///
/// Errors, in this order: [`NotifyError::HowTooSmall`] below 24 bytes,
/// [`NotifyError::HowTooBig`] above [`MAX_OPEN_HOW`], [`NotifyError::Fault`] if any of the
/// `size` bytes cannot be read, [`NotifyError::HowTail`] for a non-zero byte past the 24 known
/// ones, then those of [`check_open_how`].
pub fn read_open_how<M: Memory + ?Sized>(
    mem: &M,
    arch: &Arch,
    addr: u64,
    size: u64,
) -> Result<OpenHow, NotifyError> {
    if size < OPEN_HOW_SIZE_VER0 {
        return Err(NotifyError::HowTooSmall { size });
    }
    let limit = MAX_OPEN_HOW;
    let total = usize::try_from(size)
        .ok()
        .filter(|&s| s <= limit)
        .ok_or(NotifyError::HowTooBig { size, limit })?;
    let mut head = [0u8; 24];
    read_exact(mem, addr, &mut head)?;
    // The tail is read in chunks, so that no MAX_OPEN_HOW buffer sits on the stack.
    let mut chunk = [0u8; 256];
    let mut off = head.len();
    let mut tail: Option<u64> = None;
    while off < total {
        let n = chunk.len().min(total - off);
        let c = chunk.get_mut(..n).ok_or(fault(addr))?;
        // off < total <= MAX_OPEN_HOW: it fits a u64.
        let at = u64::try_from(off)
            .ok()
            .and_then(|o| addr.checked_add(o))
            .ok_or(fault(addr))?;
        read_exact(mem, at, c)?;
        if tail.is_none() {
            tail = c
                .iter()
                .position(|&b| b != 0)
                .and_then(|p| u64::try_from(off + p).ok());
        }
        off += n;
    }
    if let Some(offset) = tail {
        return Err(NotifyError::HowTail { offset });
    }
    let how = OpenHow {
        flags: word64(&head, 0, arch.endian),
        mode: word64(&head, 8, arch.endian),
        resolve: word64(&head, 16, arch.endian),
    };
    check_open_how(arch.consts, &how)?;
    Ok(how)
}

/// Size in bytes of a pointer, `long` and `size_t` of the tracee's ABI: 4 on the 32-bit ABIs
/// and on x32 (ILP32 with 64-bit registers), 8 otherwise.
pub fn pointer_size(arch: &Arch) -> usize {
    if arch.word == Word::W32 || arch.name == "x32" {
        4
    } else {
        8
    }
}

/// A pointer-sized word of `b` at `off` on `arch`.
fn word_ptr(arch: &Arch, b: &[u8], off: usize) -> u64 {
    if pointer_size(arch) == 4 {
        word32(b, off, arch.endian)
    } else {
        word64(b, off, arch.endian)
    }
}

/// The byte order of `arch` as [`addr::parse_sockaddr`] takes it (for `sa_family`).
pub fn addr_endian(arch: &Arch) -> addr::Endian {
    match arch.endian {
        Endian::Little => addr::Endian::Little,
        Endian::Big => addr::Endian::Big,
    }
}

/// One network call that carries an address, after socketcall decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetArgs {
    /// The call: [`NetCall::Bind`], [`NetCall::Connect`], [`NetCall::SendTo`],
    /// [`NetCall::SendMsg`] or [`NetCall::RecvMsg`].
    pub call: NetCall,
    /// Its kernel name, for reports.
    pub name: &'static str,
    /// Its arguments (socketcall: the words read from memory, zero-extended; unused ones 0).
    pub args: [u64; 6],
}

/// The socketcall(2) subcalls that carry an address (linux/net.h `SYS_*`): number, name, call
/// and how many argument words the kernel copies (`nargs` in net/socket.c).
const SOCKETCALLS: [(u64, &str, NetCall, usize); 5] = [
    (2, "bind", NetCall::Bind, 3),
    (3, "connect", NetCall::Connect, 3),
    (11, "sendto", NetCall::SendTo, 6),
    (16, "sendmsg", NetCall::SendMsg, 3),
    (17, "recvmsg", NetCall::RecvMsg, 3),
];

/// Decodes `socketcall(call, args)` on `arch`: the subcall number is the low 32 bits of `call`,
/// and its arguments are pointer-sized words at `args_ptr`. `Ok(None)` for a subcall that
/// carries no address (nothing to check). Errors: [`NotifyError::Fault`] when the words cannot
/// all be read.
pub fn read_socketcall<M: Memory + ?Sized>(
    mem: &M,
    arch: &Arch,
    call: u64,
    args_ptr: u64,
) -> Result<Option<NetArgs>, NotifyError> {
    let sub = call & 0xffff_ffff;
    let Some(&(_, name, net, count)) = SOCKETCALLS.iter().find(|s| s.0 == sub) else {
        return Ok(None);
    };
    let ptr = pointer_size(arch);
    let mut words = [0u8; 48];
    let bytes = words.get_mut(..count * ptr).ok_or(fault(args_ptr))?;
    read_exact(mem, args_ptr, bytes)?;
    let mut args = [0u64; 6];
    for (i, slot) in args.iter_mut().enumerate().take(count) {
        *slot = word_ptr(arch, &words, i * ptr);
    }
    Ok(Some(NetArgs {
        call: net,
        name,
        args,
    }))
}

/// Reads `msg_name` and `msg_namelen` of the `struct msghdr` at `addr` on `arch`: the pointer
/// first, then the 32-bit length (after padding to a pointer's size on 64-bit ABIs). Errors:
/// [`NotifyError::Fault`] when those two pointer-sized words cannot be read.
pub fn read_msghdr_name<M: Memory + ?Sized>(
    mem: &M,
    arch: &Arch,
    addr: u64,
) -> Result<(u64, u64), NotifyError> {
    let ptr = pointer_size(arch);
    let mut hdr = [0u8; 16];
    let h = hdr.get_mut(..2 * ptr).ok_or(fault(addr))?;
    read_exact(mem, addr, h)?;
    Ok((word_ptr(arch, &hdr, 0), word32(&hdr, ptr, arch.endian)))
}

/// The fields of a `struct msghdr` the supervisor uses, as the caller's ABI lays them out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgHdr {
    /// `msg_name`.
    pub name: u64,
    /// `msg_namelen` (32 bits).
    pub namelen: u64,
    /// `msg_iov`.
    pub iov: u64,
    /// `msg_iovlen` (`size_t`: a pointer-sized word).
    pub iovlen: u64,
    /// `msg_control`.
    pub control: u64,
    /// `msg_controllen` (`size_t`: a pointer-sized word).
    pub controllen: u64,
}

/// Reads the first six fields of the `struct msghdr` at `addr` on `arch` (six pointer-sized
/// words: `msg_namelen` is padded to one on 64-bit ABIs), as the kernel copies the whole
/// header. Errors: [`NotifyError::Fault`] when those words cannot be read.
pub fn read_msghdr<M: Memory + ?Sized>(
    mem: &M,
    arch: &Arch,
    addr: u64,
) -> Result<MsgHdr, NotifyError> {
    let ptr = pointer_size(arch);
    let mut hdr = [0u8; 48];
    let h = hdr.get_mut(..6 * ptr).ok_or(fault(addr))?;
    read_exact(mem, addr, h)?;
    Ok(MsgHdr {
        name: word_ptr(arch, &hdr, 0),
        namelen: word32(&hdr, ptr, arch.endian),
        iov: word_ptr(arch, &hdr, 2 * ptr),
        iovlen: word_ptr(arch, &hdr, 3 * ptr),
        control: word_ptr(arch, &hdr, 4 * ptr),
        controllen: word_ptr(arch, &hdr, 5 * ptr),
    })
}

/// Where the address of a network call is: `(pointer, declared length)`, reading the msghdr of
/// sendmsg and recvmsg. `Ok(None)` for calls without one ([`NetCall::Learn`],
/// [`NetCall::SocketCall`]: decode it first with [`read_socketcall`]). Errors: those of
/// [`read_msghdr_name`].
pub fn net_addr_arg<M: Memory + ?Sized>(
    mem: &M,
    arch: &Arch,
    call: NetCall,
    args: &[u64; 6],
) -> Result<Option<(u64, u64)>, NotifyError> {
    let [_, a1, a2, _, a4, a5] = *args;
    Ok(Some(match call {
        NetCall::Bind | NetCall::Connect => (a1, a2),
        NetCall::SendTo => (a4, a5),
        NetCall::SendMsg | NetCall::RecvMsg => read_msghdr_name(mem, arch, a1)?,
        NetCall::Learn | NetCall::SocketCall => return Ok(None),
    }))
}

/// Reads the socket address of `len` declared bytes at `addr` into `buf`, at most
/// [`MAX_SOCKADDR`] bytes (`sizeof(struct sockaddr_storage)`: the kernel refuses longer
/// addresses in bind and connect, and truncates msghdr's to it), stopping at an unmapped page.
/// Returns the bytes read, for [`addr::parse_sockaddr`]. Errors: [`NotifyError::Fault`] when
/// not even the first byte can be read.
pub fn read_sockaddr<'b, M: Memory + ?Sized>(
    mem: &M,
    addr: u64,
    len: u64,
    buf: &'b mut [u8; MAX_SOCKADDR],
) -> Result<&'b [u8], NotifyError> {
    let n = usize::try_from(len).map_or(MAX_SOCKADDR, |l| l.min(MAX_SOCKADDR));
    let b = buf.get_mut(..n).ok_or(fault(addr))?;
    read_partial(mem, addr, b)
}

/// The length of the address argument of `call` as the kernel takes it (net/socket.c
/// `move_addr_to_kernel`, `__copy_msghdr`): a C `int`, so only the low 32 bits of `raw` count.
/// sendmsg and recvmsg clamp it to [`MAX_SOCKADDR`]. Errors: [`NotifyError::AddrLen`] when it is
/// negative, or above [`MAX_SOCKADDR`] for bind, connect and sendto.
pub fn sockaddr_len(call: NetCall, raw: u64) -> Result<usize, NotifyError> {
    // Truncation is the point: the kernel reads an int and ignores the upper half.
    let len = (raw as u32).cast_signed();
    let refused = NotifyError::AddrLen { len };
    let n = usize::try_from(len).map_err(|_| refused)?;
    match call {
        NetCall::SendMsg | NetCall::RecvMsg => Ok(n.min(MAX_SOCKADDR)),
        _ if n > MAX_SOCKADDR => Err(refused),
        _ => Ok(n),
    }
}

/// Reads the address argument of `call` at `addr`, of the raw length `raw_len`, as the kernel
/// does: [`sockaddr_len`] bytes, all of them (an address cut at an unmapped page would be
/// checked short), except for recvmsg, whose `msg_name` is an output buffer the kernel never
/// reads: there what can be read is returned. Errors: those of [`sockaddr_len`];
/// [`NotifyError::Fault`] when a byte (recvmsg: the first byte) cannot be read.
pub fn read_call_sockaddr<'b, M: Memory + ?Sized>(
    mem: &M,
    call: NetCall,
    addr: u64,
    raw_len: u64,
    buf: &'b mut [u8; MAX_SOCKADDR],
) -> Result<&'b [u8], NotifyError> {
    let len = sockaddr_len(call, raw_len)?;
    let b = buf.get_mut(..len).ok_or(fault(addr))?;
    if call == NetCall::RecvMsg {
        return read_partial(mem, addr, b);
    }
    read_exact(mem, addr, b)?;
    Ok(b)
}

/// A decoded network call: [`NetArgs`] and its address, if it passes one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetRequest<'b> {
    /// The call after socketcall decoding.
    pub args: NetArgs,
    /// The socket descriptor (a C `int`: the low 32 bits).
    pub fd: u64,
    /// The address: `None` for a NULL pointer or a zero length (a send on a connected socket).
    pub addr: Option<SockaddrRead<'b>>,
}

/// A socket address as read from the tracee.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SockaddrRead<'b> {
    /// Where they were read: the pointer the tracee passed.
    pub at: u64,
    /// The bytes read: at most the declared length and [`MAX_SOCKADDR`].
    pub bytes: &'b [u8],
    /// The length the tracee declared.
    pub declared: u64,
    /// The bytes parsed ([`addr::parse_sockaddr`] in the ABI's byte order).
    pub parsed: Result<RawSockAddr<'b>, AddrError>,
}

/// Buffers the strings and addresses of one notification are read into ([`decode`]).
pub struct Buffers {
    paths: [[u8; PATH_MAX]; 2],
    sockaddr: [u8; MAX_SOCKADDR],
}

impl Buffers {
    /// Zeroed buffers (about 8 KiB: two paths and a socket address).
    pub const fn new() -> Self {
        Buffers {
            paths: [[0; PATH_MAX]; 2],
            sockaddr: [0; MAX_SOCKADDR],
        }
    }
}

impl Default for Buffers {
    fn default() -> Self {
        Self::new()
    }
}

/// A path argument of a request, read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathRead<'b> {
    /// How the argument is found and resolved.
    pub arg: PathArg,
    /// What was read, or the errno the supervisor answers.
    pub path: Result<PathStr<'b>, NotifyError>,
}

/// Everything the supervisor reads from one notification before deciding. Each part carries
/// its own result, so that the caller answers the first failure in its own order (a denied
/// first path is answered before the second path is looked at).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'b> {
    /// The syscall's kernel name on its ABI.
    pub name: &'static str,
    /// What the supervisor does for it.
    pub handler: Handler,
    /// The path arguments: the first and, for the link and rename families, the second.
    pub paths: [Option<PathRead<'b>>; 2],
    /// Flags, mode and resolve flags of the open family (openat2: `struct open_how`, checked).
    pub open: Option<Result<OpenHow, NotifyError>>,
    /// The network call and its address (`Ok(None)`: a call or subcall without one).
    pub net: Option<Result<Option<NetRequest<'b>>, NotifyError>>,
    /// The magic command of a stat path under the magic prefix (without the prefix and its
    /// slash). A stat path that cannot be read is no magic command.
    pub magic: Option<&'b [u8]>,
}

/// The path of `creat(path, mode)`: may be missing, final symlink followed.
pub const CREAT_PATH: PathArg = PathArg {
    path: 0,
    dirfd: None,
    resolve: Resolve::NoLast,
    follow: Follow::Yes,
    follow_flag: None,
    empty_path: None,
    null_is_dirfd: false,
    check: TypeCheck::None,
};

/// The path of `openat2(dirfd, path, how, size)` before `how` classifies it.
pub const OPENAT2_PATH: PathArg = PathArg {
    path: 1,
    dirfd: Some(0),
    resolve: Resolve::Exist,
    follow: Follow::Yes,
    follow_flag: None,
    empty_path: None,
    null_is_dirfd: false,
    check: TypeCheck::None,
};

/// Decodes a notification of syscall `nr` with `args` from a task of ABI `arch` whose memory
/// is `mem`, reading strings and addresses into `bufs`.
///
/// The handler comes from [`lookup`] by the ABI's name of `nr` (a number above `u32::MAX` has
/// none). Errors: [`NotifyError::Unhandled`] for a call without handler (the supervisor answers
/// `ENOSYS`); every other failure sits in the part of the [`Request`] it concerns.
pub fn decode<'b, M: Memory + ?Sized>(
    arch: &Arch,
    nr: u64,
    args: &[u64; 6],
    mem: &M,
    bufs: &'b mut Buffers,
) -> Result<Request<'b>, NotifyError> {
    let unhandled = NotifyError::Unhandled { nr };
    let name = u32::try_from(nr)
        .ok()
        .and_then(|n| arch.name_of(n))
        .ok_or(unhandled)?;
    let handler = lookup(name).ok_or(unhandled)?;
    let [b0, b1] = &mut bufs.paths;
    let mut req = Request {
        name,
        handler,
        paths: [None, None],
        open: None,
        net: None,
        magic: None,
    };
    let (mut first, mut second) = (None, None);
    let arg = |i: u8| args.get(usize::from(i)).copied().unwrap_or(0);
    let read = |pa: PathArg, buf: &'b mut [u8; PATH_MAX]| {
        Some(PathRead {
            arg: pa,
            path: read_path(mem, &pa, args, buf),
        })
    };
    match handler {
        Handler::Open { path, flags, mode } => {
            first = read(path, b0);
            req.open = Some(Ok(OpenHow {
                flags: arg(flags),
                mode: arg(mode),
                resolve: 0,
            }));
        }
        Handler::Creat => {
            first = read(CREAT_PATH, b0);
            let c = arch.consts;
            req.open = Some(Ok(OpenHow {
                flags: u64::from(c.o_creat | c.o_wronly | c.o_trunc),
                mode: arg(1),
                resolve: 0,
            }));
        }
        Handler::Openat2 => {
            req.open = Some(read_open_how(mem, arch, arg(2), arg(3)));
            first = read(OPENAT2_PATH, b0);
        }
        Handler::Access { path, .. } | Handler::Exec { path } => {
            first = read(path, b0);
        }
        Handler::Path {
            first: one,
            second: two,
            ..
        } => {
            first = read(one, b0);
            second = two.and_then(|s| read(s, b1));
        }
        Handler::Stat { path, .. } => {
            req.magic = read_cstr(mem, arg(path), b0)
                .ok()
                .and_then(magic::strip_prefix);
        }
        Handler::Net(call) => {
            req.net = Some(decode_net(mem, arch, call, args, &mut bufs.sockaddr));
        }
        Handler::Fchdir | Handler::Uname | Handler::Identity => {}
    }
    req.paths = [first, second];
    Ok(req)
}

/// The network part of [`decode`].
fn decode_net<'b, M: Memory + ?Sized>(
    mem: &M,
    arch: &Arch,
    call: NetCall,
    args: &[u64; 6],
    buf: &'b mut [u8; MAX_SOCKADDR],
) -> Result<Option<NetRequest<'b>>, NotifyError> {
    let [a0, a1, ..] = *args;
    let net = match call {
        NetCall::SocketCall => match read_socketcall(mem, arch, a0, a1)? {
            Some(n) => n,
            None => return Ok(None),
        },
        NetCall::Learn => return Ok(None),
        call => NetArgs {
            call,
            name: match call {
                NetCall::Bind => "bind",
                NetCall::Connect => "connect",
                NetCall::SendTo => "sendto",
                NetCall::SendMsg => "sendmsg",
                _ => "recvmsg",
            },
            args: *args,
        },
    };
    let Some((ptr, len)) = net_addr_arg(mem, arch, net.call, &net.args)? else {
        return Ok(None);
    };
    let [fd, ..] = net.args;
    let fd = fd & 0xffff_ffff;
    if ptr == 0 || len == 0 {
        return Ok(Some(NetRequest {
            args: net,
            fd,
            addr: None,
        }));
    }
    let bytes = read_sockaddr(mem, ptr, len, buf)?;
    Ok(Some(NetRequest {
        args: net,
        fd,
        addr: Some(SockaddrRead {
            at: ptr,
            bytes,
            declared: len,
            parsed: parse_sockaddr(bytes, bytes.len(), addr_endian(arch)),
        }),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::addr::SockAddr;
    use crate::arch::{MIPS, PPC64, S390, S390X, X32, X86, X86_64};
    use std::vec::Vec;

    /// Tracee memory: mapped regions `(base, bytes)`; bytes past a short read are overwritten
    /// with a non-zero sentinel, so that a decoder using them shows.
    struct Image<'a> {
        regions: &'a [(u64, &'a [u8])],
        /// Err for every read, instead of the regions' bytes.
        fail: Option<i32>,
    }

    fn image<'a>(regions: &'a [(u64, &'a [u8])]) -> Image<'a> {
        Image {
            regions,
            fail: None,
        }
    }

    impl Memory for Image<'_> {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<usize, Fault> {
            if let Some(errno) = self.fail {
                return Err(Fault { errno });
            }
            buf.fill(0xa5);
            for &(base, bytes) in self.regions {
                let Some(off) = addr.checked_sub(base) else {
                    continue;
                };
                let Some(src) = usize::try_from(off).ok().and_then(|o| bytes.get(o..)) else {
                    continue;
                };
                if src.is_empty() {
                    continue;
                }
                let n = src.len().min(buf.len());
                buf[..n].copy_from_slice(&src[..n]);
                return Ok(n);
            }
            Err(Fault { errno: EFAULT })
        }
    }

    fn f(addr: u64) -> NotifyError {
        NotifyError::Fault {
            addr,
            errno: EFAULT,
        }
    }

    #[test]
    fn cstr_cases() {
        let long_ok = [b'a'; PATH_MAX - 1];
        let mut ok_z = long_ok.to_vec();
        ok_z.push(0);
        let long_bad = [b'a'; PATH_MAX];
        // A string crossing from one page into the next, mapped as two regions.
        let (p1, p2): (&[u8], &[u8]) = (b"/et", b"c/passwd\0");
        let top = u64::MAX - 3;
        type Case<'a> = (
            &'a str,
            Vec<(u64, &'a [u8])>,
            u64,
            Result<&'a [u8], NotifyError>,
        );
        let cases: Vec<Case> = std::vec![
            ("null", std::vec![(0, b"x\0")], 0, Err(f(0))),
            ("plain", std::vec![(0x1000, b"abc\0zz")], 0x1000, Ok(b"abc")),
            ("empty", std::vec![(0x1000, b"\0")], 0x1000, Ok(b"")),
            ("middle", std::vec![(0x1000, b"abc\0zz")], 0x1002, Ok(b"c")),
            (
                "unterminated at end",
                std::vec![(0x1000, b"abc")],
                0x1000,
                Err(f(0x1003))
            ),
            (
                "unmapped",
                std::vec![(0x1000, b"abc\0")],
                0x5000,
                Err(f(0x5000))
            ),
            (
                "across pages",
                std::vec![(0x1ffd, p1), (0x2000, p2)],
                0x1ffd,
                Ok(b"/etc/passwd")
            ),
            (
                "gap after page",
                std::vec![(0x1ffd, p1), (0x3000, p2)],
                0x1ffd,
                Err(f(0x2000))
            ),
            (
                "nul at page end",
                std::vec![(0x1ffc, b"abc\0")],
                0x1ffc,
                Ok(b"abc")
            ),
            (
                "PATH_MAX - 1",
                std::vec![(0x1000, &ok_z)],
                0x1000,
                Ok(&long_ok)
            ),
            (
                "PATH_MAX",
                std::vec![(0x1000, &long_bad)],
                0x1000,
                Err(NotifyError::NameTooLong { limit: PATH_MAX })
            ),
            ("wraps", std::vec![(top, b"abcd")], top, Err(f(top))),
            ("last byte", std::vec![(u64::MAX, b"\0")], u64::MAX, Ok(b"")),
        ];
        for (what, regions, addr, want) in cases {
            let mut buf = [0u8; PATH_MAX];
            let got = read_cstr(&image(&regions), addr, &mut buf);
            assert_eq!(got, want, "{what}");
        }
        // A zero-length bound finds no NUL; a failing method passes its errno through.
        let mem = image(&[(0x1000, b"\0")]);
        assert_eq!(
            read_cstr(&mem, 0x1000, &mut []),
            Err(NotifyError::NameTooLong { limit: 0 })
        );
        let dead = Image {
            regions: &[(0x1000, b"a\0")],
            fail: Some(3),
        };
        let err = read_cstr(&dead, 0x1000, &mut [0; 8]).unwrap_err();
        assert_eq!(
            (err, err.errno()),
            (
                NotifyError::Fault {
                    addr: 0x1000,
                    errno: 3
                },
                3
            )
        );
        assert_eq!(NotifyError::NameTooLong { limit: 1 }.errno(), ENAMETOOLONG);
    }

    /// A Memory that reads one byte at a time: decoders must continue short reads.
    struct Trickle<'a>(Image<'a>);

    impl Memory for Trickle<'_> {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<usize, Fault> {
            let n = buf.len().min(1);
            self.0.read(addr, &mut buf[..n])
        }
    }

    #[test]
    fn short_reads_are_continued() {
        let mem = Trickle(image(&[(0x1000, b"/tmp/x\0\x02\0\x01\x02\x03\x04")]));
        assert_eq!(read_cstr(&mem, 0x1000, &mut [0; 64]), Ok(&b"/tmp/x"[..]));
        let mut four = [0u8; 4];
        assert_eq!(read_exact(&mem, 0x1007, &mut four), Ok(()));
        assert_eq!(four, [2, 0, 1, 2]);
        let mut sa = [0u8; MAX_SOCKADDR];
        assert_eq!(read_sockaddr(&mem, 0x1007, 100, &mut sa).unwrap().len(), 6);
        assert_eq!(read_exact(&mem, 0x1007, &mut [0; 7]), Err(f(0x100d)));
    }

    #[test]
    fn path_arguments() {
        use crate::syscall::lookup;
        let Some(Handler::Exec { path: execveat }) = lookup("execveat") else {
            panic!()
        };
        let Some(Handler::Path { first: unlink, .. }) = lookup("unlink") else {
            panic!()
        };
        let mem = image(&[(0x1000, b"\0/bin/sh\0")]);
        // (what, path arg, args, want)
        type Case<'a> = (&'a str, PathArg, [u64; 6], Result<PathStr<'a>, NotifyError>);
        let cases: &[Case] = &[
            (
                "string",
                unlink,
                [0x1001, 0, 0, 0, 0, 0],
                Ok(PathStr::Str(b"/bin/sh")),
            ),
            ("null", unlink, [0; 6], Err(f(0))),
            (
                "empty",
                unlink,
                [0x1000, 0, 0, 0, 0, 0],
                Err(NotifyError::EmptyPath { arg: 0 }),
            ),
            (
                "null is dirfd",
                execveat,
                [3, 0, 0, 0, 0, 0],
                Ok(PathStr::Dirfd),
            ),
            (
                "empty",
                execveat,
                [3, 0x1000, 0, 0, 0, 0],
                Err(NotifyError::EmptyPath { arg: 1 }),
            ),
            (
                "AT_EMPTY_PATH",
                execveat,
                [3, 0x1000, 0, 0, 0x1000, 0],
                Ok(PathStr::Dirfd),
            ),
            (
                "unmapped",
                execveat,
                [3, 0x9000, 0, 0, 0x1000, 0],
                Err(f(0x9000)),
            ),
        ];
        for (what, pa, args, want) in cases {
            let mut buf = [0u8; PATH_MAX];
            assert_eq!(read_path(&mem, pa, args, &mut buf), *want, "{what}");
        }
        assert_eq!(NotifyError::EmptyPath { arg: 0 }.errno(), ENOENT);
    }

    fn how(flags: u64, mode: u64, resolve: u64, endian: Endian) -> [u8; 24] {
        let mut b = [0u8; 24];
        for (i, w) in [flags, mode, resolve].into_iter().enumerate() {
            let bytes = match endian {
                Endian::Little => w.to_le_bytes(),
                Endian::Big => w.to_be_bytes(),
            };
            b[i * 8..i * 8 + 8].copy_from_slice(&bytes);
        }
        b
    }

    #[test]
    fn open_how_cases() {
        let le = Endian::Little;
        let invalid = |field, value| Err(NotifyError::HowInvalid { field, value });
        let ok = |flags, mode, resolve| {
            Ok(OpenHow {
                flags,
                mode,
                resolve,
            })
        };
        let mut page = [0u8; 8192];
        page[..24].copy_from_slice(&how(0x42, 0o644, 0, le));
        let mut dirty = page;
        dirty[100] = 1;
        let mut last = page;
        last[4095] = 7;
        // (what, struct bytes at 0x1000, size, want)
        type Case<'a> = (&'a str, &'a [u8], u64, Result<OpenHow, NotifyError>);
        let h = |f, m, r| how(f, m, r, le);
        let cases: &[Case] = &[
            ("read only", &h(0, 0, 0), 24, ok(0, 0, 0)),
            (
                "too small",
                &h(0, 0, 0),
                23,
                Err(NotifyError::HowTooSmall { size: 23 }),
            ),
            (
                "zero",
                &h(0, 0, 0),
                0,
                Err(NotifyError::HowTooSmall { size: 0 }),
            ),
            ("MAX_OPEN_HOW", &page, 4096, ok(0x42, 0o644, 0)),
            (
                "above MAX_OPEN_HOW",
                &page,
                4097,
                Err(NotifyError::HowTooBig {
                    size: 4097,
                    limit: 4096,
                }),
            ),
            (
                "huge",
                &page,
                u64::MAX,
                Err(NotifyError::HowTooBig {
                    size: u64::MAX,
                    limit: 4096,
                }),
            ),
            (
                "tail",
                &dirty,
                200,
                Err(NotifyError::HowTail { offset: 100 }),
            ),
            ("tail not read", &dirty, 100, ok(0x42, 0o644, 0)),
            (
                "last tail byte",
                &last,
                4096,
                Err(NotifyError::HowTail { offset: 4095 }),
            ),
            ("tail unmapped", &h(0, 0, 0), 32, Err(f(0x1018))),
            ("head unmapped", &h(0, 0, 0)[..20], 24, Err(f(0x1014))),
            (
                "unknown flag",
                &h(1 << 40, 0, 0),
                24,
                invalid("flags", 1 << 40),
            ),
            (
                "unknown low flag",
                &h(0x80_0000, 0, 0),
                24,
                invalid("flags", 0x80_0000),
            ),
            (
                "mode without O_CREAT",
                &h(0, 0o600, 0),
                24,
                invalid("mode", 0o600),
            ),
            ("O_CREAT mode", &h(0x41, 0o7777, 0), 24, ok(0x41, 0o7777, 0)),
            (
                "O_CREAT big mode",
                &h(0x41, 0o10000, 0),
                24,
                invalid("mode", 0o10000),
            ),
            (
                "O_TMPFILE mode",
                &h(0x41_0002, 0o600, 0),
                24,
                ok(0x41_0002, 0o600, 0),
            ),
            (
                "O_DIRECTORY is no O_TMPFILE",
                &h(0x1_0000, 0o600, 0),
                24,
                invalid("mode", 0o600),
            ),
            ("every flag", &h(0x7f_ffc3, 0, 0), 24, ok(0x7f_ffc3, 0, 0)),
            ("resolve", &h(0, 0, 0x3f & !0x10), 24, ok(0, 0, 0x2f)),
            (
                "unknown resolve",
                &h(0, 0, 0x40),
                24,
                invalid("resolve", 0x40),
            ),
            (
                "beneath and in root",
                &h(0, 0, 0x18),
                24,
                invalid("resolve", 0x18),
            ),
        ];
        for (what, bytes, size, want) in cases {
            let regions = [(0x1000u64, *bytes)];
            let got = read_open_how(&image(&regions), &X86_64, 0x1000, *size);
            assert_eq!(got, *want, "{what}");
        }
        assert_eq!(valid_open_flags(X86_64.consts), 0x7f_ffc3);
        assert_eq!(NotifyError::HowTail { offset: 0 }.errno(), E2BIG);
        assert_eq!(NotifyError::HowTooBig { size: 0, limit: 0 }.errno(), E2BIG);
        assert_eq!(NotifyError::HowTooSmall { size: 0 }.errno(), EINVAL);
        // mips: big-endian words and its own O_CREAT (0x100).
        let be = how(0x100, 0o600, 0, Endian::Big);
        let regions = [(0x1000u64, &be[..])];
        let got = read_open_how(&image(&regions), &MIPS, 0x1000, 24);
        assert_eq!(got, ok(0x100, 0o600, 0));
        let got = read_open_how(&image(&regions), &X86_64, 0x1000, 24);
        assert!(got.is_err(), "{got:?}");
    }

    #[test]
    fn socketcall_words() {
        // bind(7, 0x2000, 16) as 4-byte words (x86 and x32: little; s390: big) and 8-byte words.
        let le32: &[u8] = &[7, 0, 0, 0, 0, 0x20, 0, 0, 16, 0, 0, 0];
        let be32: &[u8] = &[0, 0, 0, 7, 0, 0, 0x20, 0, 0, 0, 0, 16];
        let mut be64 = [0u8; 24];
        be64[7] = 7;
        be64[14] = 0x20;
        be64[23] = 16;
        let bind = |args| {
            Ok(Some(NetArgs {
                call: NetCall::Bind,
                name: "bind",
                args,
            }))
        };
        let want = [7, 0x2000, 16, 0, 0, 0];
        // (what, arch, words, call, want)
        type Case<'a> = (
            &'a str,
            &'a Arch,
            &'a [u8],
            u64,
            Result<Option<NetArgs>, NotifyError>,
        );
        let cases: &[Case] = &[
            ("x86", &X86, le32, 2, bind(want)),
            ("x32", &X32, le32, 2, bind(want)),
            ("s390", &S390, be32, 2, bind(want)),
            ("s390x", &S390X, &be64, 2, bind(want)),
            ("upper half ignored", &X86, le32, 0x1_0000_0002, bind(want)),
            ("socket", &X86, le32, 1, Ok(None)),
            ("huge", &X86, le32, u64::MAX, Ok(None)),
            ("short", &X86, &le32[..11], 2, Err(f(0x100b))),
            ("sendto needs six", &X86, le32, 11, Err(f(0x100c))),
            ("s390x words are 8 bytes", &S390X, be32, 2, Err(f(0x100c))),
        ];
        for (what, arch, words, call, want) in cases {
            let regions = [(0x1000u64, *words)];
            let got = read_socketcall(&image(&regions), arch, *call, 0x1000);
            assert_eq!(got, *want, "{what}");
        }
        let mut six = [0u8; 24];
        six[16] = 0x30;
        six[20] = 5;
        let regions = [(0x1000u64, &six[..])];
        let got = read_socketcall(&image(&regions), &X86, 11, 0x1000)
            .unwrap()
            .unwrap();
        assert_eq!(
            (got.call, got.args),
            (NetCall::SendTo, [0, 0, 0, 0, 0x30, 5])
        );
    }

    #[test]
    fn msghdr_name() {
        // (what, arch, header bytes, want)
        let mut le64 = [0u8; 16];
        le64[..8].copy_from_slice(&0x1234_5678_9abc_u64.to_le_bytes());
        le64[8..12].copy_from_slice(&28u32.to_le_bytes());
        le64[12] = 0xff; // padding: not part of msg_namelen
        let mut be64 = [0u8; 16];
        be64[..8].copy_from_slice(&0x5000u64.to_be_bytes());
        be64[8..12].copy_from_slice(&16u32.to_be_bytes());
        let mut le32 = [0u8; 8];
        le32[..4].copy_from_slice(&0x5000u32.to_le_bytes());
        le32[4..].copy_from_slice(&110u32.to_le_bytes());
        type Case<'a> = (&'a str, &'a Arch, &'a [u8], Result<(u64, u64), NotifyError>);
        let cases: &[Case] = &[
            ("x86_64", &X86_64, &le64, Ok((0x1234_5678_9abc, 28))),
            ("ppc64", &PPC64, &be64, Ok((0x5000, 16))),
            ("x86", &X86, &le32, Ok((0x5000, 110))),
            ("x32", &X32, &le32, Ok((0x5000, 110))),
            ("x86_64 short", &X86_64, &le64[..12], Err(f(0x100c))),
            ("x86 short", &X86, &le32[..7], Err(f(0x1007))),
        ];
        for (what, arch, bytes, want) in cases {
            let regions = [(0x1000u64, *bytes)];
            assert_eq!(
                read_msghdr_name(&image(&regions), arch, 0x1000),
                *want,
                "{what}"
            );
        }
    }

    #[test]
    fn msghdr_whole() {
        let mut le64 = [0u8; 48];
        for (i, v) in [0x5000u64, 16, 0x6000, 2, 0x7000, 24].iter().enumerate() {
            le64[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        le64[12] = 0xff; // padding after msg_namelen
        let mut le32 = [0u8; 24];
        for (i, v) in [0x5000u32, 110, 0x6000, 1, 0x7000, 12].iter().enumerate() {
            le32[i * 4..i * 4 + 4].copy_from_slice(&v.to_le_bytes());
        }
        let want64 = MsgHdr {
            name: 0x5000,
            namelen: 16,
            iov: 0x6000,
            iovlen: 2,
            control: 0x7000,
            controllen: 24,
        };
        let want32 = MsgHdr {
            name: 0x5000,
            namelen: 110,
            iov: 0x6000,
            iovlen: 1,
            control: 0x7000,
            controllen: 12,
        };
        type Case<'a> = (&'a str, &'a Arch, &'a [u8], Result<MsgHdr, NotifyError>);
        let cases: &[Case] = &[
            ("x86_64", &X86_64, &le64, Ok(want64)),
            ("x86", &X86, &le32, Ok(want32)),
            ("x32", &X32, &le32, Ok(want32)),
            ("x86_64 short", &X86_64, &le64[..47], Err(f(0x102f))),
            ("x86 short", &X86, &le32[..20], Err(f(0x1014))),
        ];
        for (what, arch, bytes, want) in cases {
            let regions = [(0x1000u64, *bytes)];
            assert_eq!(read_msghdr(&image(&regions), arch, 0x1000), *want, "{what}");
        }
    }

    #[test]
    fn call_sockaddr_lengths_as_the_kernel() {
        let big = [7u8; 300];
        let regions = [(0x1000u64, &big[..])];
        let mem = image(&regions);
        let einval = |len| Err(NotifyError::AddrLen { len });
        // (call, declared length, bytes read or error)
        let cases: &[(NetCall, u64, Result<usize, NotifyError>)] = &[
            (NetCall::Connect, 16, Ok(16)),
            (NetCall::Connect, 128, Ok(128)),
            (NetCall::Connect, 129, einval(129)),
            (NetCall::Bind, (1 << 32) | 16, Ok(16)),
            (NetCall::SendTo, 0xffff_ffff, einval(-1)),
            (NetCall::SendMsg, 200, Ok(128)),
            (NetCall::RecvMsg, 200, Ok(128)),
            (NetCall::Connect, 0, Ok(0)),
        ];
        for &(call, len, want) in cases {
            let mut sa = [0u8; MAX_SOCKADDR];
            let got = read_call_sockaddr(&mem, call, 0x1000, len, &mut sa).map(<[u8]>::len);
            assert_eq!(got, want, "{call:?} {len:#x}");
        }
        // The end of the mapping: all or EFAULT, but recvmsg takes what is there.
        let end = 0x1000 + 300 - 6;
        let mut sa = [0u8; MAX_SOCKADDR];
        let r = read_call_sockaddr(&mem, NetCall::Connect, end, 16, &mut sa);
        assert_eq!(r, Err(f(0x1000 + 300)));
        let r = read_call_sockaddr(&mem, NetCall::RecvMsg, end, 16, &mut sa).map(<[u8]>::len);
        assert_eq!(r, Ok(6));
    }

    #[test]
    fn sockaddr_bounds() {
        let big = [1u8; 300];
        // (what, mapped bytes, declared length, bytes read)
        type Case<'a> = (&'a str, &'a [u8], u64, Result<usize, NotifyError>);
        let cases: &[Case] = &[
            ("MAX_SOCKADDR", &big, 128, Ok(128)),
            ("above MAX_SOCKADDR", &big, 129, Ok(128)),
            ("huge", &big, u64::MAX, Ok(128)),
            ("declared short", &big, 3, Ok(3)),
            ("runs into a gap", &big[..20], 110, Ok(20)),
            ("unmapped", &[], 16, Err(f(0x1000))),
        ];
        for (what, bytes, len, want) in cases {
            let regions = [(0x1000u64, *bytes)];
            let mut buf = [0u8; MAX_SOCKADDR];
            let got = read_sockaddr(&image(&regions), 0x1000, *len, &mut buf).map(<[u8]>::len);
            assert_eq!(got, *want, "{what}");
        }
    }

    /// A network request: call name, fd and address bytes.
    type NetSummary = (&'static str, u64, Vec<u8>);

    /// What a request holds, flattened for comparison.
    #[derive(Debug, PartialEq)]
    struct Summary {
        name: &'static str,
        paths: Vec<Result<Vec<u8>, NotifyError>>,
        open: Option<Result<OpenHow, NotifyError>>,
        net: Option<Result<Option<NetSummary>, NotifyError>>,
        magic: Option<Vec<u8>>,
    }

    fn summary(r: &Request<'_>) -> Summary {
        Summary {
            name: r.name,
            paths: r
                .paths
                .iter()
                .flatten()
                .map(|p| {
                    p.path.map(|s| match s {
                        PathStr::Str(s) => s.to_vec(),
                        PathStr::Dirfd => b"<dirfd>".to_vec(),
                    })
                })
                .collect(),
            open: r.open,
            net: r.net.map(|n| {
                n.map(|o| {
                    o.map(|n| {
                        let bytes = n.addr.map_or(Vec::new(), |a| a.bytes.to_vec());
                        (n.args.name, n.fd, bytes)
                    })
                })
            }),
            magic: r.magic.map(<[u8]>::to_vec),
        }
    }

    #[test]
    fn decode_requests() {
        let mut mem: Vec<(u64, &[u8])> = std::vec![
            (0x1000, b"/etc/passwd\0"),
            (0x2000, b"/dev/sydbox/core/sandbox/read:deny\0"),
            (0x2100, b"/dev/sydbox\0"),
            (0x2200, b"/dev/sydboxy\0"),
            // sockaddr_in 127.0.0.1:80 (family little-endian).
            (0x3000, &[2, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
        ];
        // x86 socketcall words: connect(5, 0x3000, 16).
        mem.push((0x4000, &[5, 0, 0, 0, 0, 0x30, 0, 0, 16, 0, 0, 0]));
        // x86_64 msghdr: msg_name 0x3000, msg_namelen 200.
        mem.push((
            0x5000,
            &[0, 0x30, 0, 0, 0, 0, 0, 0, 200, 0, 0, 0, 0, 0, 0, 0],
        ));
        let how = how(0x41, 0o600, 0, Endian::Little);
        mem.push((0x6000, &how));
        let mem = image(&mem);
        let s = |name, paths: &[Result<&[u8], NotifyError>]| Summary {
            name,
            paths: paths.iter().map(|p| p.map(<[u8]>::to_vec)).collect(),
            open: None,
            net: None,
            magic: None,
        };
        let inet = std::vec![2, 0, 0, 80, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        let x86_64 = |n: &str| u64::from(X86_64.nr(n).unwrap());
        let x86 = |n: &str| u64::from(X86.nr(n).unwrap());
        let pw: &[u8] = b"/etc/passwd";
        // (what, arch, nr, args, want)
        type Case<'a> = (
            &'a str,
            &'a Arch,
            u64,
            [u64; 6],
            Result<Summary, NotifyError>,
        );
        let cases: Vec<Case> = std::vec![
            (
                "openat",
                &X86_64,
                x86_64("openat"),
                [0, 0x1000, 0x241, 0o644, 0, 0],
                Ok(Summary {
                    open: Some(Ok(OpenHow {
                        flags: 0x241,
                        mode: 0o644,
                        resolve: 0
                    })),
                    ..s("openat", &[Ok(pw)])
                }),
            ),
            (
                "creat",
                &X86,
                x86("creat"),
                [0x1000, 0o600, 0, 0, 0, 0],
                Ok(Summary {
                    open: Some(Ok(OpenHow {
                        flags: 0x241,
                        mode: 0o600,
                        resolve: 0
                    })),
                    ..s("creat", &[Ok(pw)])
                }),
            ),
            (
                "openat2",
                &X86_64,
                x86_64("openat2"),
                [0, 0x1000, 0x6000, 24, 0, 0],
                Ok(Summary {
                    open: Some(Ok(OpenHow {
                        flags: 0x41,
                        mode: 0o600,
                        resolve: 0
                    })),
                    ..s("openat2", &[Ok(pw)])
                }),
            ),
            (
                "openat2 bad size, path still read",
                &X86_64,
                x86_64("openat2"),
                [0, 0x1000, 0x6000, 8, 0, 0],
                Ok(Summary {
                    open: Some(Err(NotifyError::HowTooSmall { size: 8 })),
                    ..s("openat2", &[Ok(pw)])
                }),
            ),
            (
                "link, second unmapped",
                &X86_64,
                x86_64("link"),
                [0x1000, 0x9000, 0, 0, 0, 0],
                Ok(s("link", &[Ok(pw), Err(f(0x9000))])),
            ),
            (
                "unlinkat",
                &X86_64,
                x86_64("unlinkat"),
                [3, 0x1005, 0x200, 0, 0, 0],
                Ok(s("unlinkat", &[Ok(b"passwd")])),
            ),
            (
                "execve",
                &X86,
                x86("execve"),
                [0x1000, 0, 0, 0, 0, 0],
                Ok(s("execve", &[Ok(pw)])),
            ),
            (
                "stat magic",
                &X86_64,
                x86_64("newfstatat"),
                [0, 0x2000, 0x7000, 0, 0, 0],
                Ok(Summary {
                    magic: Some(b"core/sandbox/read:deny".to_vec()),
                    ..s("newfstatat", &[])
                }),
            ),
            (
                "stat probe",
                &X86,
                x86("stat64"),
                [0x2100, 0, 0, 0, 0, 0],
                Ok(Summary {
                    magic: Some(Vec::new()),
                    ..s("stat64", &[])
                }),
            ),
            (
                "stat lookalike",
                &X86,
                x86("stat"),
                [0x2200, 0, 0, 0, 0, 0],
                Ok(s("stat", &[]))
            ),
            (
                "stat plain",
                &X86,
                x86("lstat"),
                [0x1000, 0, 0, 0, 0, 0],
                Ok(s("lstat", &[]))
            ),
            (
                "stat unmapped",
                &X86,
                x86("stat"),
                [0x9000, 0, 0, 0, 0, 0],
                Ok(s("stat", &[]))
            ),
            (
                "connect",
                &X86_64,
                x86_64("connect"),
                [0x1_0000_0004, 0x3000, 16, 0, 0, 0],
                Ok(Summary {
                    net: Some(Ok(Some(("connect", 4, inet.clone())))),
                    ..s("connect", &[])
                }),
            ),
            (
                "connect without address",
                &X86_64,
                x86_64("connect"),
                [4, 0, 16, 0, 0, 0],
                Ok(Summary {
                    net: Some(Ok(Some(("connect", 4, Vec::new())))),
                    ..s("connect", &[])
                }),
            ),
            (
                "sendmsg: namelen 200 read as far as mapped",
                &X86_64,
                x86_64("sendmsg"),
                [4, 0x5000, 0, 0, 0, 0],
                Ok(Summary {
                    net: Some(Ok(Some(("sendmsg", 4, inet.clone())))),
                    ..s("sendmsg", &[])
                }),
            ),
            (
                "recvmsg: msghdr unmapped",
                &X86_64,
                x86_64("recvmsg"),
                [4, 0x9000, 0, 0, 0, 0],
                Ok(Summary {
                    net: Some(Err(f(0x9000))),
                    ..s("recvmsg", &[])
                }),
            ),
            (
                "socketcall connect",
                &X86,
                x86("socketcall"),
                [3, 0x4000, 0, 0, 0, 0],
                Ok(Summary {
                    net: Some(Ok(Some(("connect", 5, inet.clone())))),
                    ..s("socketcall", &[])
                }),
            ),
            (
                "socketcall socket",
                &X86,
                x86("socketcall"),
                [1, 0x4000, 0, 0, 0, 0],
                Ok(Summary {
                    net: Some(Ok(None)),
                    ..s("socketcall", &[])
                }),
            ),
            (
                "listen",
                &X86_64,
                x86_64("listen"),
                [3, 0, 0, 0, 0, 0],
                Ok(Summary {
                    net: Some(Ok(None)),
                    ..s("listen", &[])
                }),
            ),
            (
                "uname",
                &X86_64,
                x86_64("uname"),
                [0; 6],
                Ok(s("uname", &[]))
            ),
            (
                "read",
                &X86_64,
                0,
                [0; 6],
                Err(NotifyError::Unhandled { nr: 0 })
            ),
            (
                "no such number",
                &X86_64,
                9999,
                [0; 6],
                Err(NotifyError::Unhandled { nr: 9999 })
            ),
            (
                "above u32",
                &X86_64,
                (1 << 32) | 257,
                [0; 6],
                Err(NotifyError::Unhandled {
                    nr: (1 << 32) | 257
                }),
            ),
        ];
        for (what, arch, nr, args, want) in cases {
            let mut bufs = Buffers::new();
            let got = decode(arch, nr, &args, &mem, &mut bufs).map(|r| summary(&r));
            assert_eq!(got, want, "{what}");
        }
        // The address parses in the ABI's byte order.
        let mut bufs = Buffers::new();
        let r = decode(
            &X86_64,
            x86_64("connect"),
            &[4, 0x3000, 16, 0, 0, 0],
            &mem,
            &mut bufs,
        );
        let addr = r.unwrap().net.unwrap().unwrap().unwrap().addr.unwrap();
        let want = RawSockAddr::Addr(SockAddr::Inet {
            addr: [127, 0, 0, 1],
            port: 80,
        });
        assert_eq!(
            (addr.parsed, addr.declared, addr.at),
            (Ok(want), 16, 0x3000)
        );
        assert_eq!(NotifyError::Unhandled { nr: 0 }.errno(), ENOSYS);
    }

    #[test]
    fn pointer_sizes() {
        let cases: &[(&Arch, usize)] = &[
            (&X86_64, 8),
            (&X86, 4),
            (&X32, 4),
            (&MIPS, 4),
            (&S390, 4),
            (&S390X, 8),
            (&PPC64, 8),
        ];
        for &(arch, want) in cases {
            assert_eq!(pointer_size(arch), want, "{}", arch.name);
        }
    }

    #[test]
    fn errors_display() {
        use core::fmt::Write;
        let cases: &[(NotifyError, &str)] = &[
            (f(0x10), "cannot read tracee memory at 0x10 (errno 14)"),
            (
                NotifyError::NameTooLong { limit: 4096 },
                "string without NUL in its first 4096 bytes",
            ),
            (
                NotifyError::HowTooBig {
                    size: 5000,
                    limit: 4096,
                },
                "open_how size 5000 above 4096",
            ),
            (
                NotifyError::HowInvalid {
                    field: "mode",
                    value: 8,
                },
                "open_how mode 0x8 refused",
            ),
        ];
        for (e, want) in cases {
            let mut s = heapless::String::<80>::new();
            write!(s, "{e}").unwrap();
            assert_eq!(s.as_str(), *want);
        }
    }
}
