//! A random notification through the supervisor's decision path: a policy built by magic
//! commands, an ABI, a syscall number, six arguments and a memory image of a few regions at
//! chosen addresses with unmapped gaps. `notify::decode` runs on it, then the policy checks on
//! every path and address it yields, and magic parse + apply on magic stat paths.
//!
//! Invariants beyond "no panic": decoding is deterministic and does not depend on how reads are
//! split (a memory that returns a few bytes per read gives the same request); every string,
//! word and address equals what an independent byte-by-byte reader finds in the image (so no
//! byte comes from outside a mapped region: reads past a short one see a sentinel); a path is
//! shorter than PATH_MAX; a socket address is no longer than declared nor than 128 bytes;
//! every error maps to the errno the reference reader gives; a check on an off sandbox allows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use syd_core::addr::{Case, NoServices, RawSockAddr, SockAddr};
use syd_core::arch::{Arch, Endian, ARCHES, MIPSEL, MIPSEL64};
use syd_core::limits::{MAX_OPEN_HOW, MAX_SOCKADDR, PATH_MAX};
use syd_core::magic::{self, Context, Origin};
use syd_core::notify::{
    decode, pointer_size, read_call_sockaddr, sockaddr_len, Buffers, Fault, Memory, NotifyError,
    OpenHow, PathStr, Request, EFAULT, ENAMETOOLONG,
};
use syd_core::sandbox::{check_addr, check_path, Cap, Mode, Net, Sandbox, Verdict};
use syd_core::syscall::{classify_open, lookup, Handler, NetCall, OpenFlags};
use syd_core::wildmatch::{wildmatch, wildmatch_casefold};

/// Bytes a short read leaves in the rest of the buffer: a decoder that uses them shows.
const SENTINEL: u8 = 0xa5;

/// The tracee's memory: sorted, disjoint regions; `chunk` bounds each read.
struct Image {
    regions: Vec<(u64, Vec<u8>)>,
    chunk: usize,
}

impl Image {
    fn byte(&self, addr: u64) -> Option<u8> {
        self.regions.iter().find_map(|(base, b)| {
            let off = usize::try_from(addr.checked_sub(*base)?).ok()?;
            b.get(off).copied()
        })
    }

    /// Reference: the NUL-terminated string at `addr`, byte by byte.
    fn cstr(&self, addr: u64) -> Result<Vec<u8>, i32> {
        if addr == 0 {
            return Err(EFAULT);
        }
        let mut s = Vec::new();
        for i in 0..PATH_MAX as u64 {
            let b = addr
                .checked_add(i)
                .and_then(|a| self.byte(a))
                .ok_or(EFAULT)?;
            if b == 0 {
                return Ok(s);
            }
            s.push(b);
        }
        Err(ENAMETOOLONG)
    }

    /// Reference: up to `len` mapped bytes at `addr`, stopping at the first unmapped one.
    fn run(&self, addr: u64, len: usize) -> Vec<u8> {
        (0..len as u64)
            .map_while(|i| addr.checked_add(i).and_then(|a| self.byte(a)))
            .collect()
    }

    /// Reference: a word of `size` bytes at `addr` in `endian` order, if all mapped.
    fn word(&self, addr: u64, size: usize, endian: Endian) -> Option<u64> {
        let b = self.run(addr, size);
        if b.len() != size {
            return None;
        }
        let it = b.iter().map(|&x| u64::from(x));
        Some(match endian {
            Endian::Little => it.rev().fold(0, |v, x| (v << 8) | x),
            Endian::Big => it.fold(0, |v, x| (v << 8) | x),
        })
    }
}

impl Memory for Image {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<usize, Fault> {
        buf.fill(SENTINEL);
        for (base, bytes) in &self.regions {
            let Some(off) = addr.checked_sub(*base) else {
                continue;
            };
            let Some(src) = usize::try_from(off).ok().and_then(|o| bytes.get(o..)) else {
                continue;
            };
            if src.is_empty() {
                continue;
            }
            let n = src.len().min(buf.len()).min(self.chunk);
            buf[..n].copy_from_slice(&src[..n]);
            return Ok(n);
        }
        Err(Fault { errno: EFAULT })
    }
}

/// The input, consumed from the front; zeros once it runs out.
struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn u8(&mut self) -> u8 {
        let (b, rest) = self.0.split_first().map_or((0, &[][..]), |(b, r)| (*b, r));
        self.0 = rest;
        b
    }
    fn uint(&mut self, n: usize) -> u64 {
        (0..n).fold(0, |v, _| (v << 8) | u64::from(self.u8()))
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        b
    }
}

const MODES: [Mode; 4] = [Mode::Off, Mode::Bpf, Mode::Deny, Mode::Allow];

/// `path` made absolute (relative to `/`) and lexically normalized: no `.`, `..` or `//`.
fn normalize(path: &[u8]) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    for c in path.split(|&b| b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = Vec::new();
    for p in parts {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    out
}

/// A request flattened for comparison (paths, how, net, magic).
fn summary(r: &Request<'_>) -> String {
    format!("{:?}", r)
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input(data);
    // The policy: modes, then up to three magic commands.
    let mut sb = Box::<Sandbox>::default();
    let modes = inp.u8();
    for (i, cap) in Cap::ALL.into_iter().enumerate() {
        sb.task
            .set_mode(cap, MODES[usize::from(modes >> (2 * i)) % 4]);
    }
    sb.task.network = MODES[usize::from(modes >> 6)];
    let ctx = Context {
        origin: Origin::CommandLine,
        services: &NoServices,
    };
    // Rules that allow every path (the supervisor then checks nothing), before the fuzzed
    // commands, which may add rules after them.
    let all = inp.u8();
    let deny = inp.u8();
    for (i, name) in ["read", "write", "exec"].into_iter().enumerate() {
        if all >> i & 1 != 0 {
            let pattern = if all >> (i + 3) & 1 != 0 { "/***" } else { "/**" };
            let mut text = format!("allowlist/{name}+{pattern}").into_bytes();
            if let Ok(cmd) = magic::parse(&text) {
                let _ = magic::apply(&mut sb.global, &mut sb.task, &cmd, &ctx);
            }
            // And maybe a deny rule after it, whose pattern the input gives.
            if deny >> i & 1 != 0 {
                text = format!("denylist/{name}+/").into_bytes();
                text.extend_from_slice(inp.bytes(usize::from(deny >> 4)));
                if deny & 8 != 0 {
                    text.extend_from_slice(b"**");
                }
                if let Ok(cmd) = magic::parse(&text) {
                    let _ = magic::apply(&mut sb.global, &mut sb.task, &cmd, &ctx);
                }
            }
        }
    }
    for _ in 0..inp.u8() % 4 {
        let len = usize::from(inp.u8() % 64);
        if let Ok(cmd) = magic::parse(inp.bytes(len)) {
            let _ = magic::apply(&mut sb.global, &mut sb.task, &cmd, &ctx);
        }
    }
    // The ABI.
    let all: Vec<&Arch> = ARCHES.iter().copied().chain([&MIPSEL, &MIPSEL64]).collect();
    let arch = all[usize::from(inp.u8()) % all.len()];
    // The memory: one to four regions, disjoint, with gaps or touching.
    let mut regions: Vec<(u64, Vec<u8>)> = Vec::new();
    for _ in 0..1 + inp.u8() % 4 {
        let kind = inp.u8();
        let len = inp.uint(2) as usize % 6000 + 1;
        let bytes = if kind & 0x80 != 0 {
            // A run of one byte: long unterminated strings, zero tails.
            vec![inp.u8(); len]
        } else {
            inp.bytes(len).to_vec()
        };
        if bytes.is_empty() {
            continue;
        }
        let len = bytes.len() as u64;
        let base = match kind & 3 {
            // Right after the previous region (a string across regions), or in its page.
            0 => match regions.last() {
                Some((b, r)) => match b.checked_add(r.len() as u64) {
                    Some(next) => next,
                    None => continue,
                },
                None => 0x1000,
            },
            // The last bytes of the address space.
            1 => u64::MAX - len + 1,
            // Anywhere, page-aligned or not.
            _ => inp.uint(4) << 8 | u64::from(inp.u8()),
        };
        let end = base.checked_add(len - 1);
        let overlaps = regions.iter().any(|(b, r)| {
            let e = b + (r.len() as u64 - 1);
            end.is_none_or(|end| base <= e && *b <= end)
        });
        if end.is_some() && !overlaps {
            regions.push((base, bytes));
        }
    }
    regions.sort_by_key(|r| r.0);
    let chunk = [1, 3, 8, 4096, usize::MAX][usize::from(inp.u8()) % 5];
    // The call: a handled syscall of the ABI, or any number.
    let handled: Vec<u32> = arch
        .syscalls()
        .filter(|(n, _)| lookup(n).is_some())
        .map(|(_, nr)| nr)
        .collect();
    let sel = inp.u8();
    let nr = if sel < 240 && !handled.is_empty() {
        u64::from(handled[usize::from(inp.u8()) % handled.len()])
    } else {
        inp.uint(8)
    };
    // The arguments: small values, pointers into (or just past) regions, or anything.
    let small = [
        0u64,
        1,
        2,
        3,
        4,
        11,
        16,
        17,
        24,
        28,
        0x41,
        0x100,
        0x200,
        0x1000,
        u64::MAX,
    ];
    let mut args = [0u64; 6];
    for a in args.iter_mut() {
        let s = inp.u8();
        *a = match s % 4 {
            0 => small[usize::from(inp.u8()) % small.len()],
            1 | 2 if !regions.is_empty() => {
                let (base, r) = &regions[usize::from(inp.u8()) % regions.len()];
                let off = inp.uint(2) % (r.len() as u64 + 1);
                if s % 4 == 1 {
                    base.wrapping_add(off)
                } else {
                    // Near the end: unterminated strings, short structs.
                    base.wrapping_add(r.len() as u64).wrapping_sub(off % 64)
                }
            }
            _ => inp.uint(8),
        };
    }

    let mem = Image { regions, chunk };
    let whole = Image {
        regions: mem.regions.clone(),
        chunk: usize::MAX,
    };
    let mut bufs = Box::new(Buffers::new());
    let req = decode(arch, nr, &args, &mem, &mut bufs);
    // Deterministic, and independent of how reads are split.
    let mut again = Box::new(Buffers::new());
    let req2 = decode(arch, nr, &args, &whole, &mut again);
    assert_eq!(
        req.as_ref().map(summary),
        req2.as_ref().map(summary),
        "chunk {chunk}"
    );
    let req = match req {
        Ok(r) => r,
        Err(e) => {
            let name = u32::try_from(nr).ok().and_then(|n| arch.name_of(n));
            assert!(name.and_then(lookup).is_none(), "{e:?} for {name:?}");
            assert_eq!(e.errno(), 38);
            return;
        }
    };
    assert_eq!(
        Some(req.name),
        u32::try_from(nr).ok().and_then(|n| arch.name_of(n))
    );
    assert_eq!(Some(req.handler), lookup(req.name));

    let traced = |_: u32| false;
    // Paths: each equals the reference reader's string, and goes through every check.
    for p in req.paths.iter().flatten() {
        let ptr = args[usize::from(p.arg.path)];
        match p.path {
            Ok(PathStr::Str(s)) => {
                assert!(s.len() < PATH_MAX);
                assert!(!s.is_empty());
                assert_eq!(mem.cstr(ptr).as_deref(), Ok(s), "path at {ptr:#x}");
                let norm = normalize(s);
                for cap in Cap::ALL {
                    let v = check_path(&sb.global, &sb.task, cap, &norm, &traced);
                    assert_eq!(v, check_path(&sb.global, &sb.task, cap, &norm, &traced));
                    if sb.task.mode(cap) == Mode::Off {
                        assert_eq!(v, Verdict::Allow);
                    }
                    // The list's last match is the matcher's, rule by rule (its prefilter
                    // refuses nothing the matcher accepts).
                    let list = sb.task.list(cap);
                    let rules: Vec<_> = list.iter().collect();
                    let fold = sb.global.case() == Case::Insensitive;
                    let naive = rules
                        .into_iter()
                        .rev()
                        .find(|(_, p)| {
                            if fold {
                                wildmatch_casefold(p, &norm)
                            } else {
                                wildmatch(p, &norm)
                            }
                        })
                        .map(|(k, _)| k);
                    assert_eq!(list.last_match(&norm, sb.global.case()), naive);
                    // The supervisor skips the check when it says so: it must hold.
                    if sb.task.allows_every_path(cap) {
                        assert_eq!(v, Verdict::Allow, "{cap:?} {norm:?}");
                    }
                }
            }
            Ok(PathStr::Dirfd) => {
                let empty = mem.cstr(ptr).is_ok_and(|s| s.is_empty());
                assert!(
                    (ptr == 0 && p.arg.null_is_dirfd) || (empty && p.arg.empty_path_for(&args))
                );
            }
            Err(NotifyError::EmptyPath { .. }) => {
                assert_eq!(mem.cstr(ptr), Ok(Vec::new()));
            }
            Err(e) => assert_eq!(mem.cstr(ptr).map(|_| ()), Err(e.errno()), "{e:?}"),
        }
    }
    // Open flags: classified for the ABI; openat2's struct equals the reference reading.
    if let Some(open) = req.open {
        if req.handler == Handler::Openat2 {
            let (addr, size) = (args[2], args[3]);
            let want: Result<OpenHow, i32> = if size < 24 {
                Err(22)
            } else if size > MAX_OPEN_HOW as u64 {
                Err(7)
            } else {
                let all = mem.run(addr, size as usize);
                if all.len() as u64 != size {
                    Err(EFAULT)
                } else if all[24..].iter().any(|&b| b != 0) {
                    Err(7)
                } else {
                    let w = |i: u64| mem.word(addr + 8 * i, 8, arch.endian).unwrap();
                    Ok(OpenHow {
                        flags: w(0),
                        mode: w(1),
                        resolve: w(2),
                    })
                }
            };
            match (open, want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want),
                (Err(e), Ok(_)) => assert!(matches!(e, NotifyError::HowInvalid { .. }), "{e:?}"),
                (got, want) => assert_eq!(got.map_err(|e| e.errno()), want),
            }
        }
        if let Ok(how) = open {
            let c = classify_open(how.flags, &OpenFlags::of(arch.consts), false);
            let acc = how.flags as u32 & arch.consts.o_accmode;
            assert!(!c.read || acc != arch.consts.o_accmode);
        }
    }
    // Network: the words and the address equal the reference reading; checked by both groups.
    if let Some(net) = req.net {
        let ptr = pointer_size(arch);
        let word = |a: u64, size| mem.word(a, size, arch.endian);
        if let Ok(Some(n)) = net {
            if let Handler::Net(NetCall::SocketCall) = req.handler {
                for (i, &v) in n.args.args.iter().enumerate() {
                    let at = args[1].wrapping_add((i * ptr) as u64);
                    let count = if n.args.call == NetCall::SendTo { 6 } else { 3 };
                    let want = if i < count { word(at, ptr) } else { Some(0) };
                    assert_eq!(Some(v), want, "socketcall word {i}");
                }
            }
            if let Some(a) = n.addr {
                // The binary's reading (the kernel's length rules): all declared bytes or an
                // error, but for recvmsg; never more than MAX_SOCKADDR.
                let mut sa = [0u8; MAX_SOCKADDR];
                let call = n.args.call;
                match read_call_sockaddr(&mem, call, a.at, a.declared, &mut sa) {
                    Ok(b) => {
                        let len = sockaddr_len(call, a.declared).unwrap_or(usize::MAX);
                        assert!(b.len() <= MAX_SOCKADDR);
                        if call != NetCall::RecvMsg {
                            assert_eq!(b.len(), len, "whole address");
                        }
                        assert_eq!(b, &mem.run(a.at, b.len())[..], "call sockaddr");
                    }
                    Err(e) => assert!(e.errno() != 0),
                }
                assert!(a.bytes.len() as u64 <= a.declared);
                assert!(a.bytes.len() <= MAX_SOCKADDR);
                let bound = a.declared.min(MAX_SOCKADDR as u64) as usize;
                assert_eq!(
                    a.bytes,
                    mem.run(a.at, bound).as_slice(),
                    "sockaddr at {:#x}",
                    a.at
                );
                if matches!(n.args.call, NetCall::SendMsg | NetCall::RecvMsg) {
                    let hdr = n.args.args[1];
                    assert_eq!(word(hdr, ptr), Some(a.at));
                    assert_eq!(word(hdr + ptr as u64, 4), Some(a.declared));
                }
                let norm;
                let addr = match a.parsed {
                    Ok(RawSockAddr::Addr(x)) => x,
                    Ok(RawSockAddr::UnixPath(p)) => {
                        norm = normalize(p);
                        SockAddr::Unix(&norm)
                    }
                    Err(_) => return,
                };
                for group in [Net::Bind, Net::Connect] {
                    let v = check_addr(&sb.global, &sb.task, group, &addr, &traced);
                    if sb.task.network == Mode::Off {
                        assert_eq!(v, Verdict::Allow);
                    }
                }
            }
        }
    }
    // Magic stat paths: the command after the prefix; parsed and applied at run time.
    if let Handler::Stat { path, .. } = req.handler {
        let want = mem
            .cstr(args[usize::from(path)])
            .ok()
            .and_then(|s| magic::strip_prefix(&s).map(<[u8]>::to_vec));
        assert_eq!(req.magic.map(<[u8]>::to_vec), want);
        if let Some(cmd) = req.magic {
            if let Ok(parsed) = magic::parse(cmd) {
                assert_eq!(magic::parse(cmd), Ok(parsed));
                let mut task = sb.clone();
                let rt = Context {
                    origin: Origin::Runtime,
                    services: &NoServices,
                };
                let _ = magic::apply(&mut task.global, &mut task.task, &parsed, &rt);
            }
        }
    }
});
