#!/usr/bin/env python3
"""Generate syd's per-ABI syscall tables and constants from the Linux sources.

Usage:
    tools/gen-arch-tables.py SOURCE [--out DIR]
    tools/gen-arch-tables.py SOURCE --check [--out DIR] [--allow-sublevel-drift]
    tools/check-arch-tables.sh     (installs Debian's linux-source-6.1, then --check)

SOURCE is a Linux source tarball (such as Debian's linux-source-6.1.tar.xz) or an
extracted tree. The generator reads, and never executes, these inputs:

  * Makefile                                   the exact kernel version
  * arch/*/.../syscall*.tbl                    syscall tables of the .tbl ABIs
  * include/uapi/asm-generic/unistd.h          the generic table (aarch64, riscv64),
    with arch/<arch>/include/uapi/asm/unistd.h   evaluated through a small C preprocessor
  * include/uapi/{linux,asm-generic}/*.h and   open/mmap flags, TTY/console ioctls,
    arch/<arch>/include/uapi/asm/*.h             signal and errno numbers, AUDIT_ARCH values

and writes core/src/arch/tables/{mod.rs,<abi>.rs}. With --check it writes into a
temporary directory instead and exits 1 if anything differs from the committed files.

Only the Python 3 standard library is used. Run it by hand (never at build time).
"""

import argparse
import difflib
import os
import re
import sys
import tarfile
import tempfile
import textwrap

GENERATOR = "tools/gen-arch-tables.py"
DEFAULT_OUT = os.path.join("core", "src", "arch", "tables")

# x86_64 syscall numbers of the x32 ABI carry this bit (__X32_SYSCALL_BIT in
# arch/x86/include/uapi/asm/unistd.h); checked against the header below.
X32_SYSCALL_BIT = 0x40000000


class GenError(Exception):
    """A fact could not be read or did not check out; the message says which."""


# --------------------------------------------------------------------------------------
# ABI descriptions. Everything per ABI that is not read from the sources lives here.
# --------------------------------------------------------------------------------------

# Compiler-predefined macros for each ABI (what gcc defines for that target); they steer
# the #if blocks of the uapi headers (word size, MIPS ABI, ...).
_PRE_X86_64 = {"__x86_64__": "1", "__LP64__": "1", "__SIZEOF_POINTER__": "8"}
_PRE_MIPS = {"__mips__": "1", "__MIPSEB__": "1"}


def _merge(*dicts):
    out = {}
    for d in dicts:
        out.update(d)
    return out


# name: as syd's -a option spells it; arch: directory under arch/; audit: AUDIT_ARCH_*
# macro of include/uapi/linux/audit.h; long_bits: expected __BITS_PER_LONG (checked);
# table: ("tbl", file, ABI tags taken, entry-point column (3 native, 4 compat), number
# offset) or ("generic",) for include/uapi/asm-generic/unistd.h.
ABIS = [
    {
        "name": "x86_64", "arch": "x86", "audit": "AUDIT_ARCH_X86_64", "long_bits": 64,
        "predef": _PRE_X86_64,
        "table": ("tbl", "arch/x86/entry/syscalls/syscall_64.tbl", ("common", "64"), 3, 0),
    },
    {
        "name": "x86", "arch": "x86", "audit": "AUDIT_ARCH_I386", "long_bits": 32,
        "predef": {"__i386__": "1", "__SIZEOF_POINTER__": "4"},
        "table": ("tbl", "arch/x86/entry/syscalls/syscall_32.tbl", ("i386",), 3, 0),
    },
    {
        "name": "x32", "arch": "x86", "audit": "AUDIT_ARCH_X86_64", "long_bits": 32,
        "predef": {"__x86_64__": "1", "__ILP32__": "1", "__SIZEOF_POINTER__": "4"},
        "table": ("tbl", "arch/x86/entry/syscalls/syscall_64.tbl", ("common", "x32"), 3,
                  X32_SYSCALL_BIT),
    },
    {
        "name": "arm", "arch": "arm", "audit": "AUDIT_ARCH_ARM", "long_bits": 32,
        "predef": {"__arm__": "1", "__ARM_EABI__": "1", "__SIZEOF_POINTER__": "4"},
        # 6.1's table tags EABI rows "common" (the others are "oabi").
        "table": ("tbl", "arch/arm/tools/syscall.tbl", ("common",), 3, 0),
        "arm_private": True,
    },
    {
        "name": "aarch64", "arch": "arm64", "audit": "AUDIT_ARCH_AARCH64", "long_bits": 64,
        "predef": {"__aarch64__": "1", "__LP64__": "1", "__SIZEOF_POINTER__": "8"},
        "table": ("generic",),
    },
    {
        "name": "mips", "arch": "mips", "audit": "AUDIT_ARCH_MIPS", "long_bits": 32,
        "predef": _merge(_PRE_MIPS, {"_MIPS_SIM": "1", "_MIPS_SZLONG": "32",
                                     "__SIZEOF_POINTER__": "4"}),
        "table": ("tbl", "arch/mips/kernel/syscalls/syscall_o32.tbl", ("o32",), 3, 4000),
    },
    {
        "name": "mips64", "arch": "mips", "audit": "AUDIT_ARCH_MIPS64", "long_bits": 64,
        "predef": _merge(_PRE_MIPS, {"__mips64": "1", "_MIPS_SIM": "3", "_MIPS_SZLONG": "64",
                                     "__LP64__": "1", "__SIZEOF_POINTER__": "8"}),
        "table": ("tbl", "arch/mips/kernel/syscalls/syscall_n64.tbl", ("common", "n64"), 3,
                  5000),
    },
    {
        "name": "ppc", "arch": "powerpc", "audit": "AUDIT_ARCH_PPC", "long_bits": 32,
        "predef": {"__powerpc__": "1", "__SIZEOF_POINTER__": "4"},
        "table": ("tbl", "arch/powerpc/kernel/syscalls/syscall.tbl", ("common", "32", "nospu"),
                  3, 0),
    },
    {
        "name": "ppc64", "arch": "powerpc", "audit": "AUDIT_ARCH_PPC64", "long_bits": 64,
        "predef": {"__powerpc__": "1", "__powerpc64__": "1", "__LP64__": "1",
                   "__SIZEOF_POINTER__": "8"},
        "table": ("tbl", "arch/powerpc/kernel/syscalls/syscall.tbl", ("common", "64", "nospu"),
                  3, 0),
    },
    {
        "name": "ppc64le", "arch": "powerpc", "audit": "AUDIT_ARCH_PPC64LE", "long_bits": 64,
        "predef": {"__powerpc__": "1", "__powerpc64__": "1", "__LP64__": "1",
                   "__LITTLE_ENDIAN__": "1", "__SIZEOF_POINTER__": "8"},
        "table": ("tbl", "arch/powerpc/kernel/syscalls/syscall.tbl", ("common", "64", "nospu"),
                  3, 0),
    },
    {
        # 31-bit compat ABI of the s390x kernel: the entries with a compat entry point.
        "name": "s390", "arch": "s390", "audit": "AUDIT_ARCH_S390", "long_bits": 32,
        "predef": {"__s390__": "1", "__SIZEOF_POINTER__": "4"},
        "table": ("tbl", "arch/s390/kernel/syscalls/syscall.tbl", ("common", "32"), 4, 0),
    },
    {
        "name": "s390x", "arch": "s390", "audit": "AUDIT_ARCH_S390X", "long_bits": 64,
        "predef": {"__s390__": "1", "__s390x__": "1", "__LP64__": "1",
                   "__SIZEOF_POINTER__": "8"},
        "table": ("tbl", "arch/s390/kernel/syscalls/syscall.tbl", ("common", "64"), 3, 0),
    },
    {
        "name": "parisc", "arch": "parisc", "audit": "AUDIT_ARCH_PARISC", "long_bits": 32,
        "predef": {"__hppa__": "1", "__SIZEOF_POINTER__": "4"},
        "table": ("tbl", "arch/parisc/kernel/syscalls/syscall.tbl", ("common", "32"), 3, 0),
    },
    {
        "name": "parisc64", "arch": "parisc", "audit": "AUDIT_ARCH_PARISC64", "long_bits": 64,
        "predef": {"__hppa__": "1", "__hppa64__": "1", "__LP64__": "1",
                   "__SIZEOF_POINTER__": "8"},
        "table": ("tbl", "arch/parisc/kernel/syscalls/syscall.tbl", ("common", "64"), 3, 0),
    },
    {
        "name": "riscv64", "arch": "riscv", "audit": "AUDIT_ARCH_RISCV64", "long_bits": 64,
        "predef": {"__riscv": "1", "__riscv_xlen": "64", "__LP64__": "1",
                   "__SIZEOF_POINTER__": "8"},
        "table": ("generic",),
    },
]

ARCH_DIRS = sorted({abi["arch"] for abi in ABIS})

# sizeof() of the types that the ioctl macros we evaluate use, per ABI. Only the
# request macros that encode a size need these (_IOR/_IOW); the generator fails on any
# type missing here, so the table never grows silently.
#   int / unsigned int: 4 on every Linux ABI.
#   struct winsize: four unsigned short (include/uapi/asm-generic/termios.h and the
#     arch termios.h files): 8 everywhere.
#   struct termios on powerpc (arch/powerpc/include/uapi/asm/termbits.h): four
#     tcflag_t (unsigned int), c_cc[NCCS=19], c_line, then two speed_t (unsigned int):
#     16 + 19 + 1 = 36, + 8 = 44 (0x2c); no padding, the same for 32 and 64 bits.
#   struct termios on parisc (arch/parisc/include/uapi/asm/termbits.h): four tcflag_t
#     (unsigned int), c_line, c_cc[NCCS=19]: 16 + 1 + 19 = 36 (0x24), no padding.
_SIZEOF_COMMON = {"int": 4, "unsigned int": 4, "struct winsize": 8}
SIZEOF = {abi["name"]: dict(_SIZEOF_COMMON) for abi in ABIS}
for _ppc in ("ppc", "ppc64", "ppc64le"):
    SIZEOF[_ppc]["struct termios"] = 44
for _parisc in ("parisc", "parisc64"):
    SIZEOF[_parisc]["struct termios"] = 36

# Open and mmap flags: (Rust field of Consts, C macro).
OPEN_MMAP_CONSTS = [
    ("o_rdonly", "O_RDONLY"),
    ("o_wronly", "O_WRONLY"),
    ("o_rdwr", "O_RDWR"),
    ("o_accmode", "O_ACCMODE"),
    ("o_creat", "O_CREAT"),
    ("o_excl", "O_EXCL"),
    ("o_noctty", "O_NOCTTY"),
    ("o_trunc", "O_TRUNC"),
    ("o_append", "O_APPEND"),
    ("o_nonblock", "O_NONBLOCK"),
    ("o_largefile", "O_LARGEFILE"),
    ("o_directory", "O_DIRECTORY"),
    ("o_nofollow", "O_NOFOLLOW"),
    ("o_cloexec", "O_CLOEXEC"),
    ("o_path", "O_PATH"),
    ("o_tmpfile", "O_TMPFILE"),
    ("o_dsync", "O_DSYNC"),
    ("o_async", "FASYNC"),
    ("o_direct", "O_DIRECT"),
    ("o_noatime", "O_NOATIME"),
    ("o_sync", "O_SYNC"),
    ("prot_none", "PROT_NONE"),
    ("prot_read", "PROT_READ"),
    ("prot_write", "PROT_WRITE"),
    ("prot_exec", "PROT_EXEC"),
    ("map_shared", "MAP_SHARED"),
    ("map_private", "MAP_PRIVATE"),
    ("map_shared_validate", "MAP_SHARED_VALIDATE"),
    ("map_fixed", "MAP_FIXED"),
    ("map_anonymous", "MAP_ANONYMOUS"),
    ("map_denywrite", "MAP_DENYWRITE"),
    ("map_noreserve", "MAP_NORESERVE"),
    ("map_stack", "MAP_STACK"),
]

# The TTY/console ioctl requests that core/restrict/io_control permits, in the order of
# syd's specification (section 6.3, read row by row). FIONREAD is also known as TIOCINQ.
IOCTLS = [
    "TCGETS", "TIOCGLCKTRMIOS", "TIOCGWINSZ",
    "TIOCSWINSZ", "FIONREAD", "TIOCOUTQ",
    "TCFLSH", "TIOCSTI", "TIOCSCTTY",
    "TIOCNOTTY", "TIOCGPGRP", "TIOCSPGRP",
    "TIOCGSID", "TIOCEXCL", "TIOCGEXCL",
    "TIOCNXCL", "TIOCGETD", "TIOCSETD",
    "TIOCPKT", "TIOCGPKT", "TIOCSPTLCK",
    "TIOCGPTLCK", "TIOCGPTPEER", "TIOCGSOFTCAR",
    "TIOCSSOFTCAR", "KDGETLED", "KDSETLED",
    "KDGKBLED", "KDSKBLED", "KDGKBTYPE",
    "KDGETMODE", "KDSETMODE", "KDMKTONE",
    "KIOCSOUND", "GIO_CMAP", "PIO_CMAP",
    "GIO_FONT", "PIO_FONT", "GIO_FONTX",
    "PIO_FONTX", "PIO_FONTRESET", "GIO_SCRNMAP",
    "PIO_SCRNMAP", "GIO_UNISCRNMAP", "PIO_UNISCRNMAP",
    "GIO_UNIMAP", "PIO_UNIMAP", "PIO_UNIMAPCLR",
    "KDGKBMODE", "KDSKBMODE", "KDGKBMETA",
    "KDSKBMETA", "KDGKBENT", "KDSKBENT",
    "KDGKBSENT", "KDSKBSENT", "KDGKBDIACR",
    "KDGETKEYCODE", "KDSETKEYCODE", "KDSIGACCEPT",
    "VT_OPENQRY", "VT_GETMODE", "VT_SETMODE",
    "VT_GETSTATE", "VT_RELDISP", "VT_ACTIVATE",
    "VT_WAITACTIVE", "VT_DISALLOCATE", "VT_RESIZE",
    "VT_RESIZEX",
]

# Signals: those of syd's specification section 6.8 in its order, then the other
# classic ones. A name the ABI does not define (SIGSTKFLT on mips, SIGEMT outside mips)
# is left out of that ABI's list.
SIGNALS = [
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGABRT", "SIGFPE", "SIGKILL", "SIGSEGV",
    "SIGPIPE", "SIGALRM", "SIGTERM", "SIGUSR1", "SIGUSR2", "SIGSTOP", "SIGTSTP", "SIGTTIN",
    "SIGTTOU", "SIGBUS", "SIGPOLL", "SIGIO", "SIGPROF", "SIGSYS", "SIGTRAP", "SIGVTALRM",
    "SIGXCPU", "SIGXFSZ", "SIGSTKFLT",
    "SIGCHLD", "SIGCONT", "SIGURG", "SIGWINCH", "SIGPWR", "SIGEMT",
]

# errno values syd's filters return or its supervisor answers with. mips and parisc (like
# alpha and sparc) number many of them differently from asm-generic: a filter must return
# the number of the ABI it is compiled for. Every ABI defines them all.
ERRNOS = [
    "EPERM", "ENOENT", "ESRCH", "EINTR", "EIO", "EBADF", "EAGAIN", "ENOMEM", "EACCES",
    "EFAULT", "EBUSY", "EEXIST", "EXDEV", "ENOTDIR", "EISDIR", "EINVAL", "ENOSPC", "EROFS",
    "ERANGE", "ENAMETOOLONG", "ENOSYS", "ENOTEMPTY", "ELOOP", "EPROTO", "ENOTSOCK",
    "EOPNOTSUPP", "EAFNOSUPPORT", "EADDRINUSE", "EADDRNOTAVAIL", "ENOTCONN", "ECONNREFUSED",
    "ECANCELED",
]

# Headers every constant is read from (the arch's own uapi/asm header when it has one,
# include/uapi/asm-generic otherwise, as the kernel's generic-y rule does).
CONST_HEADERS = [
    "<linux/fcntl.h>",
    "<linux/mman.h>",
    "<asm/ioctls.h>",
    "<linux/kd.h>",
    "<linux/vt.h>",
    "<asm/signal.h>",
    "<asm/bitsperlong.h>",
    "<asm/errno.h>",
]


# --------------------------------------------------------------------------------------
# Reading the sources
# --------------------------------------------------------------------------------------

def _wanted(rel):
    """Whether a source-relative path is one the generator may read."""
    if rel == "Makefile":
        return True
    if rel.startswith("include/uapi/"):
        return rel.endswith(".h")
    parts = rel.split("/")
    if len(parts) < 2 or parts[0] != "arch" or parts[1] not in ARCH_DIRS:
        return False
    if rel.startswith("arch/%s/include/uapi/" % parts[1]):
        return rel.endswith(".h")
    return rel.endswith(".tbl")


class Source:
    """The kernel files the generator reads, from a tarball or a directory."""

    def __init__(self, path):
        self.files = {}
        if os.path.isdir(path):
            self._from_dir(path)
        elif os.path.isfile(path):
            self._from_tar(path)
        else:
            raise GenError("%s: no such file or directory" % path)
        if "Makefile" not in self.files:
            raise GenError("%s: no top-level Makefile: not a Linux source tree" % path)

    def _from_dir(self, root):
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fname in sorted(filenames):
                full = os.path.join(dirpath, fname)
                rel = os.path.relpath(full, root).replace(os.sep, "/")
                if _wanted(rel):
                    with open(full, "rb") as f:
                        self.files[rel] = f.read().decode("utf-8", "replace")

    def _from_tar(self, path):
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                if not member.isfile():
                    continue
                # Members are "<top>/<path>"; strip the top directory.
                parts = member.name.split("/", 1)
                if len(parts) != 2:
                    continue
                rel = parts[1]
                if _wanted(rel):
                    f = tar.extractfile(member)
                    if f is not None:
                        self.files[rel] = f.read().decode("utf-8", "replace")

    def read(self, rel):
        """Text of one file; GenError if the sources lack it."""
        text = self.files.get(rel)
        if text is None:
            raise GenError("missing source file %s" % rel)
        return text

    def has(self, rel):
        return rel in self.files

    def version(self):
        """VERSION.PATCHLEVEL.SUBLEVEL[EXTRAVERSION] from the top-level Makefile."""
        fields = {}
        for line in self.read("Makefile").splitlines():
            m = re.match(r"^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(\S*)\s*$", line)
            if m and m.group(1) not in fields:
                fields[m.group(1)] = m.group(2)
        try:
            ver = "%s.%s.%s" % (fields["VERSION"], fields["PATCHLEVEL"], fields["SUBLEVEL"])
        except KeyError as e:
            raise GenError("Makefile: no %s line" % e.args[0]) from None
        return ver + fields.get("EXTRAVERSION", "")


# --------------------------------------------------------------------------------------
# A small C preprocessor: enough for the uapi headers, loud about anything else.
# --------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<num>(?:0[xX][0-9a-fA-F]+|[0-9]+)[uUlL]*)
      | (?P<chr>'(?:\\.|[^\\'])')
      | (?P<id>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><<|>>|<=|>=|==|!=|&&|\|\||\#\#|[-+*/%()<>!~&|^?:,\#])
      | (?P<str>"(?:\\.|[^\\"])*")
    )""",
    re.VERBOSE,
)


def tokenize(text):
    toks = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise GenError("cannot tokenize %r at %r" % (text, text[pos:]))
        toks.append(m.group(m.lastgroup))
        pos = m.end()
    return toks


def strip_comments(text):
    """Remove /* */ and // comments, keeping line structure."""
    out = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise GenError("unterminated comment")
            out.append("\n" * text.count("\n", i, j) + " ")
            i = j + 2
        elif text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def logical_lines(text):
    """Lines with backslash continuations joined, comments removed."""
    text = strip_comments(text).replace("\\\n", " ")
    return text.split("\n")


class Macro:
    def __init__(self, params, body):
        self.params = params  # None for object-like macros
        self.body = body


class Preprocessor:
    """Runs #include/#define/#if over the uapi headers of one ABI."""

    def __init__(self, source, arch_dir, predefined, sizeof):
        self.source = source
        self.arch_dir = arch_dir
        self.sizeof = sizeof
        self.macros = {}
        for name, value in predefined.items():
            self.macros[name] = Macro(None, tokenize(value))
        self.text_lines = []  # (file, line) of active non-directive lines
        self.missing_includes = set()
        self.depth = 0

    # -- include resolution ------------------------------------------------------------
    def resolve(self, spec):
        if spec.startswith("asm/"):
            own = "arch/%s/include/uapi/%s" % (self.arch_dir, spec)
            if self.source.has(own):
                return own
            generic = "include/uapi/asm-generic/" + spec[len("asm/"):]
            return generic if self.source.has(generic) else None
        if spec.startswith(("linux/", "asm-generic/")):
            rel = "include/uapi/" + spec
            return rel if self.source.has(rel) else None
        return None

    def include(self, spec):
        rel = self.resolve(spec)
        if rel is None:
            # Headers outside the uapi tree (libc's, compiler's) define nothing we read;
            # a constant that needed one fails later as undefined.
            self.missing_includes.add(spec)
            return
        self.run_file(rel)

    # -- directives --------------------------------------------------------------------
    def run_text(self, text, fname="<input>"):
        self.depth += 1
        if self.depth > 40:
            raise GenError("%s: #include nested too deeply" % fname)
        # Each entry: [taking_now, some_branch_taken, parent_active]
        stack = []
        active = True
        for lineno, line in enumerate(logical_lines(text), 1):
            where = "%s:%d" % (fname, lineno)
            s = line.strip()
            if not s.startswith("#"):
                if active and s:
                    self.text_lines.append((where, s))
                continue
            m = re.match(r"#\s*(\w+)\s*(.*)$", s)
            if not m:
                continue  # a lone '#' is a null directive
            d, rest = m.group(1), m.group(2).strip()
            try:
                if d in ("if", "ifdef", "ifndef"):
                    if not active:
                        stack.append([False, True, False])
                        continue
                    if d == "if":
                        cond = self.eval_if(rest)
                    elif d == "ifdef":
                        cond = rest.split()[0] in self.macros
                    else:
                        cond = rest.split()[0] not in self.macros
                    stack.append([cond, cond, True])
                    active = cond
                elif d == "elif":
                    top = self._top(stack, where, d)
                    if not top[2] or top[1]:
                        top[0] = False
                    else:
                        top[0] = self.eval_if(rest)
                        top[1] = top[0]
                    active = top[0]
                elif d == "else":
                    top = self._top(stack, where, d)
                    top[0] = top[2] and not top[1]
                    top[1] = True
                    active = top[0]
                elif d == "endif":
                    self._top(stack, where, d)
                    stack.pop()
                    active = stack[-1][0] if stack else True
                elif not active:
                    continue
                elif d == "define":
                    self.define(rest)
                elif d == "undef":
                    self.macros.pop(rest.split()[0], None)
                elif d == "include":
                    inc = re.match(r'[<"]([^>"]+)[>"]', rest)
                    if not inc:
                        raise GenError("bad #include %r" % rest)
                    self.include(inc.group(1))
                elif d == "error":
                    raise GenError("#error %s" % rest)
                elif d in ("warning", "pragma", "ident", "line"):
                    pass
                else:
                    raise GenError("unknown directive #%s" % d)
            except GenError as e:
                raise GenError("%s: %s" % (where, e)) from None
        if stack:
            raise GenError("%s: unterminated #if" % fname)
        self.depth -= 1

    @staticmethod
    def _top(stack, where, d):
        if not stack:
            raise GenError("%s: #%s without #if" % (where, d))
        return stack[-1]

    def run_file(self, rel):
        self.run_text(self.source.read(rel), rel)

    def define(self, rest):
        m = re.match(r"([A-Za-z_]\w*)(\(([^)]*)\))?\s*(.*)$", rest)
        if not m:
            raise GenError("bad #define %r" % rest)
        name = m.group(1)
        if m.group(2) is not None:
            params = [p.strip() for p in m.group(3).split(",") if p.strip()]
            if any(p == "..." for p in params):
                # Variadic macros are never evaluated here; remember that they exist.
                self.macros[name] = Macro(params, None)
                return
            body_text = m.group(4)
        else:
            params = None
            body_text = rest[len(name):]
        try:
            body = tokenize(body_text)
        except GenError:
            body = None  # a body we cannot tokenize; fails only if evaluated
        self.macros[name] = Macro(params, body)

    # -- macro expansion and evaluation -----------------------------------------------
    def expand(self, toks, hide=frozenset(), in_if=False):
        out = []
        i = 0
        while i < len(toks):
            t = toks[i]
            if in_if and t == "defined":
                # defined NAME / defined(NAME): never expanded.
                if i + 1 < len(toks) and toks[i + 1] == "(":
                    if i + 3 >= len(toks) or toks[i + 3] != ")":
                        raise GenError("bad defined() in %r" % " ".join(toks))
                    name = toks[i + 2]
                    i += 4
                else:
                    name = toks[i + 1]
                    i += 2
                out.append("1" if name in self.macros else "0")
                continue
            mac = self.macros.get(t)
            if mac is None or t in hide:
                out.append(t)
                i += 1
                continue
            if mac.params is None:
                if mac.body is None:
                    raise GenError("macro %s has a body this tool cannot read" % t)
                out.extend(self.expand(mac.body, hide | {t}, in_if))
                i += 1
                continue
            if i + 1 >= len(toks) or toks[i + 1] != "(":
                out.append(t)
                i += 1
                continue
            args, i = self._collect_args(toks, i + 2, t)
            if mac.body is None:
                raise GenError("macro %s has a body this tool cannot read" % t)
            if len(args) == 1 and not args[0] and not mac.params:
                args = []
            if len(args) != len(mac.params):
                raise GenError("macro %s takes %d arguments, got %d"
                               % (t, len(mac.params), len(args)))
            if "#" in mac.body or "##" in mac.body:
                raise GenError("macro %s uses # or ##, which this tool does not do" % t)
            expanded_args = {p: self.expand(a, hide, in_if) for p, a in zip(mac.params, args)}
            body = []
            for bt in mac.body:
                body.extend(expanded_args.get(bt, [bt]))
            out.extend(self.expand(body, hide | {t}, in_if))
        return out

    @staticmethod
    def _collect_args(toks, i, name):
        args = [[]]
        depth = 0
        while i < len(toks):
            t = toks[i]
            if t == "(":
                depth += 1
            elif t == ")":
                if depth == 0:
                    return args, i + 1
                depth -= 1
            elif t == "," and depth == 0:
                args.append([])
                i += 1
                continue
            args[-1].append(t)
            i += 1
        raise GenError("unterminated call of macro %s" % name)

    def eval_if(self, text):
        return Evaluator(self.expand(tokenize(text), in_if=True), self.sizeof, True).run() != 0

    def value(self, name):
        """Integer value of macro `name`; GenError if undefined or not a constant."""
        if name not in self.macros:
            raise GenError("%s is not defined" % name)
        return Evaluator(self.expand([name]), self.sizeof, False).run()


class Evaluator:
    """Integer constant expressions of C (as used by the uapi headers)."""

    BINARY = [
        ["||"], ["&&"], ["|"], ["^"], ["&"], ["==", "!="], ["<", ">", "<=", ">="],
        ["<<", ">>"], ["+", "-"], ["*", "/", "%"],
    ]
    TYPE_WORDS = {"unsigned", "signed", "int", "long", "short", "char", "struct", "__u32",
                  "__s32", "__u16", "__u64"}

    def __init__(self, toks, sizeof, in_if):
        self.toks = toks
        self.pos = 0
        self.sizeof = sizeof
        self.in_if = in_if

    def run(self):
        if not self.toks:
            raise GenError("empty expression")
        v = self.ternary()
        if self.pos != len(self.toks):
            raise GenError("trailing tokens in %r" % " ".join(self.toks))
        return v

    def peek(self):
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def take(self, want=None):
        t = self.peek()
        if t is None or (want is not None and t != want):
            raise GenError("expected %r in %r" % (want or "a token", " ".join(self.toks)))
        self.pos += 1
        return t

    def ternary(self):
        c = self.binary(0)
        if self.peek() == "?":
            self.take("?")
            a = self.ternary()
            self.take(":")
            b = self.ternary()
            return a if c else b
        return c

    def binary(self, level):
        if level == len(self.BINARY):
            return self.unary()
        v = self.binary(level + 1)
        while self.peek() in self.BINARY[level]:
            op = self.take()
            w = self.binary(level + 1)
            v = self.apply(op, v, w)
        return v

    @staticmethod
    def apply(op, a, b):
        if op in ("/", "%"):
            if b == 0:
                raise GenError("division by zero")
            q = abs(a) // abs(b) * (1 if (a >= 0) == (b >= 0) else -1)
            return q if op == "/" else a - q * b
        return {
            "||": lambda: int(bool(a) or bool(b)), "&&": lambda: int(bool(a) and bool(b)),
            "|": lambda: a | b, "^": lambda: a ^ b, "&": lambda: a & b,
            "==": lambda: int(a == b), "!=": lambda: int(a != b),
            "<": lambda: int(a < b), ">": lambda: int(a > b),
            "<=": lambda: int(a <= b), ">=": lambda: int(a >= b),
            "<<": lambda: a << b, ">>": lambda: a >> b,
            "+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b,
        }[op]()

    def type_name(self):
        """Read a type name up to the closing parenthesis (not consumed)."""
        words = []
        while self.peek() not in (")", None):
            words.append(self.take())
        return " ".join(words)

    def unary(self):
        t = self.peek()
        if t in ("-", "+", "~", "!"):
            self.take()
            v = self.unary()
            return {"-": -v, "+": v, "~": ~v, "!": int(not v)}[t]
        if t == "sizeof":
            self.take()
            self.take("(")
            ty = self.type_name()
            self.take(")")
            if ty not in self.sizeof:
                raise GenError("sizeof(%s) unknown: add it to SIZEOF with its source" % ty)
            return self.sizeof[ty]
        if t == "(":
            self.take()
            nxt = self.peek()
            if nxt in self.TYPE_WORDS:
                # A cast: the uapi headers only cast to integer types that hold the value.
                self.type_name()
                self.take(")")
                return self.unary()
            v = self.ternary()
            self.take(")")
            return v
        return self.primary()

    def primary(self):
        t = self.take()
        m = re.match(r"^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)[uUlL]*$", t)
        if m:
            lit = m.group(1)
            if lit.lower().startswith("0x"):
                return int(lit, 16)
            if lit.startswith("0"):
                return int(lit, 8)
            return int(lit)
        if t.startswith("'"):
            body = t[1:-1]
            if body.startswith("\\"):
                raise GenError("escaped char literal %s not supported" % t)
            return ord(body)
        if re.match(r"^[A-Za-z_]\w*$", t):
            if self.in_if:
                return 0  # an undefined identifier in #if is 0
            raise GenError("%s is not a defined constant" % t)
        raise GenError("unexpected %r in %r" % (t, " ".join(self.toks)))


# --------------------------------------------------------------------------------------
# Syscall tables
# --------------------------------------------------------------------------------------

def _is_ni(entry):
    return entry in ("", "-", "sys_ni_syscall")


def parse_tbl(source, rel, abis, column, offset):
    """(name, nr) of a syscall*.tbl file: rows whose ABI is in `abis` and whose entry
    point (column index `column`: 3 native, 4 compat) exists and is not sys_ni_syscall."""
    out = []
    seen = set()
    for lineno, line in enumerate(source.read(rel).splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = line.split()
        if len(f) < 3 or not f[0].isdigit():
            raise GenError("%s:%d: malformed line %r" % (rel, lineno, line))
        nr, abi, name = int(f[0]), f[1], f[2]
        seen.add(abi)
        if abi not in abis:
            continue
        entry = f[column] if len(f) > column else ""
        if _is_ni(entry):
            continue  # unimplemented on this ABI: the kernel answers ENOSYS
        out.append((name, nr + offset))
    if not set(abis) <= seen:
        raise GenError("%s: no rows tagged %s" % (rel, ", ".join(sorted(set(abis) - seen))))
    return out


_SC_CALL = re.compile(r"^(__SYSCALL|__SC_COMP|__SC_3264|__SC_COMP_3264)\s*\((.*)\)\s*;?$")


def parse_generic(source, abi):
    """(name, nr) of an ABI that uses include/uapi/asm-generic/unistd.h (64-bit, native).

    The arch's uapi unistd.h is preprocessed with the ABI's predefined macros; each
    active __SYSCALL-family line gives one entry. Its number is the value of its __NR_
    macro; its name is that macro's, or for the __NR3264_ ones, the name of the __NR_
    alias that the header defines for 64-bit ABIs (newfstatat, fstat, mmap, ...)."""
    pp = Preprocessor(source, abi["arch"], abi["predef"], SIZEOF[abi["name"]])
    pp.run_file("arch/%s/include/uapi/asm/unistd.h" % abi["arch"])
    if pp.value("__BITS_PER_LONG") != 64:
        raise GenError("%s: the generic table is read for 64-bit ABIs only" % abi["name"])
    aliases = {}
    for name, mac in pp.macros.items():
        if name.startswith("__NR_") and mac.params is None and mac.body and \
                len(mac.body) == 1 and mac.body[0].startswith("__NR3264_"):
            if mac.body[0] in aliases:
                raise GenError("%s: two aliases for %s" % (abi["name"], mac.body[0]))
            aliases[mac.body[0]] = name
    out = []
    for where, line in pp.text_lines:
        m = _SC_CALL.match(line)
        if not m:
            raise GenError("%s: unexpected text %r" % (where, line))
        kind = m.group(1)
        args = [a.strip() for a in m.group(2).split(",")]
        # 64-bit native ABI, no __SYSCALL_COMPAT: __SC_3264 and __SC_COMP_3264 take the
        # 64-bit entry, __SC_COMP the native one (unistd.h's own definitions).
        want = {"__SYSCALL": 2, "__SC_COMP": 3, "__SC_3264": 3, "__SC_COMP_3264": 4}[kind]
        if len(args) != want:
            raise GenError("%s: %s takes %d arguments" % (where, kind, want))
        entry = args[2] if kind in ("__SC_3264", "__SC_COMP_3264") else args[1]
        nrmac = args[0]
        if _is_ni(entry):
            continue
        if nrmac.startswith("__NR3264_"):
            if nrmac not in aliases:
                raise GenError("%s: no __NR_ alias for %s" % (where, nrmac))
            cname = aliases[nrmac]
        elif nrmac.startswith("__NR_"):
            cname = nrmac
        else:
            raise GenError("%s: unexpected number macro %s" % (where, nrmac))
        out.append((cname[len("__NR_"):], pp.value(nrmac)))
    return out


def arm_private(source):
    """ARM-private calls: __ARM_NR_<name> of arch/arm/include/uapi/asm/unistd.h (EABI,
    so __NR_SYSCALL_BASE is 0), handled by arm_syscall() in arch/arm/kernel/traps.c."""
    pp = Preprocessor(source, "arm", {"__ARM_EABI__": "1", "__arm__": "1"}, {})
    pp.run_file("arch/arm/include/uapi/asm/unistd.h")
    out = []
    for name in sorted(pp.macros):
        if name.startswith("__ARM_NR_") and name != "__ARM_NR_BASE":
            out.append((name[len("__ARM_NR_"):], pp.value(name)))
    if pp.value("__ARM_NR_BASE") != 0x0F0000:
        raise GenError("arm: __ARM_NR_BASE is not 0x0f0000")
    return out


def syscall_table(source, abi):
    kind = abi["table"][0]
    if kind == "tbl":
        _, rel, abis, column, offset = abi["table"]
        if abi["name"] == "x32":
            pp = Preprocessor(source, "x86", abi["predef"], {})
            pp.run_file("arch/x86/include/uapi/asm/unistd.h")
            if pp.value("__X32_SYSCALL_BIT") != offset:
                raise GenError("__X32_SYSCALL_BIT is not %#x" % offset)
        entries = parse_tbl(source, rel, abis, column, offset)
    else:
        entries = parse_generic(source, abi)
    if abi.get("arm_private"):
        entries += arm_private(source)
    names, nrs = {}, {}
    for name, nr in entries:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            raise GenError("%s: odd syscall name %r" % (abi["name"], name))
        if name in names:
            raise GenError("%s: %s listed twice (%d, %d)" % (abi["name"], name, names[name], nr))
        if nr in nrs:
            raise GenError("%s: number %d used by %s and %s" % (abi["name"], nr, nrs[nr], name))
        if not 0 <= nr <= 0xFFFFFFFF:
            raise GenError("%s: %s number %d out of range" % (abi["name"], name, nr))
        names[name] = nr
        nrs[nr] = name
    return sorted(names.items())


# --------------------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------------------

def abi_consts(source, abi):
    pp = Preprocessor(source, abi["arch"], abi["predef"], SIZEOF[abi["name"]])
    pp.run_text("\n".join("#include %s" % h for h in CONST_HEADERS), "<consts>")
    bits = pp.value("__BITS_PER_LONG")
    if bits != abi["long_bits"]:
        raise GenError("%s: __BITS_PER_LONG is %d, expected %d"
                       % (abi["name"], bits, abi["long_bits"]))
    values = {}
    for field, macro in OPEN_MMAP_CONSTS:
        values[field] = u32(abi, macro, pp.value(macro))
    ioctls = []
    for n in IOCTLS:
        if n not in pp.macros:
            # Consts stores one value per name of the shared list, with no "absent" value.
            raise GenError("%s is not defined" % n)
        try:
            ioctls.append(u32(abi, n, pp.value(n)))
        except GenError as e:
            raise GenError("%s: %s" % (n, e)) from None
    signals = []
    for n in SIGNALS:
        v = pp.value(n) if n in pp.macros else 0  # 0: the ABI has no such signal
        if n in pp.macros and not 1 <= v <= 255:
            raise GenError("%s = %d does not fit u8 (or is 0, which means absent)" % (n, v))
        signals.append(v)
    errnos = []
    for n in ERRNOS:
        if n not in pp.macros:
            raise GenError("%s is not defined" % n)
        v = pp.value(n)
        if not 1 <= v <= 0xFFFF:
            raise GenError("%s = %d does not fit u16" % (n, v))
        errnos.append(v)
    return values, ioctls, signals, errnos


def u32(abi, name, v):
    if not 0 <= v <= 0xFFFFFFFF:
        raise GenError("%s: %s = %d does not fit u32" % (abi["name"], name, v))
    return v


def audit_values(source):
    pp = Preprocessor(source, "x86", {}, {})
    pp.run_text("#include <linux/audit.h>\n", "<audit>")
    return {abi["audit"]: u32(abi, abi["audit"], pp.value(abi["audit"])) for abi in ABIS}


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------

def header(version):
    return ("// @generated by %s from Linux %s. Do not edit: change the generator and\n"
            "// run it again (see the commit that last changed this file for the command).\n"
            % (GENERATOR, version))


# Stored values of SyscallTable (core/src/arch/mod.rs): NR_NONE for "no such syscall",
# low_base + v below NR_HIGH, high_base + v - NR_HIGH from NR_HIGH up.
NR_NONE = 0xFFFF
NR_HIGH = 0x8000


def syscall_bases(abi):
    """(low_base, high_base) of an ABI: the numbers of its .tbl file are stored as they are
    written there (the x32 bit or the mips 4000/5000 offset is the low base); the ARM-private
    calls (__ARM_NR_BASE + n) are the high range."""
    kind = abi["table"]
    low = kind[4] if kind[0] == "tbl" else 0
    high = 0x0F0000 if abi.get("arm_private") else 0
    return low, high


def encode_nr(abi, name, nr):
    low, high = syscall_bases(abi)
    if low <= nr < low + NR_HIGH:
        return nr - low
    if abi.get("arm_private") and high <= nr < high + (NR_NONE - NR_HIGH):
        return NR_HIGH + nr - high
    raise GenError("%s: %s number %#x fits neither range (%#x, %#x)"
                   % (abi["name"], name, nr, low, high))


def render_array(lines, field, rows):
    """A struct field holding an array, one (value, comment) row per line, the comments
    aligned as rustfmt aligns them (one column for the whole array)."""
    width = max(len(v) for v, _ in rows) + 1
    lines.append("    %s: [\n" % field)
    for v, comment in rows:
        lines.append("        %s // %s\n" % ((v + ",").ljust(width), comment))
    lines.append("    ],\n")


def render_abi(abi, version, names, syscalls, consts, ioctls, signals, errnos, same_as=None):
    """One ABI's file. `same_as` names an earlier ABI with the very same constants: this one
    then re-exports its `CONSTS`, so that a binary carrying both holds one copy."""
    name = abi["name"]
    kind = abi["table"]
    if kind[0] == "tbl":
        src = "%s, ABIs %s" % (kind[1], ", ".join(kind[2]))
        if kind[3] == 4:
            src += ", compat entry points"
        if name == "x32":
            src += ", numbers | __X32_SYSCALL_BIT (%#x)" % kind[4]
        elif kind[4]:
            src += ", numbers + %d" % kind[4]
    else:
        src = ("include/uapi/asm-generic/unistd.h as arch/%s/include/uapi/asm/unistd.h "
               "includes it, with __BITS_PER_LONG 64" % abi["arch"])
    if abi.get("arm_private"):
        src += "; plus the __ARM_NR_* calls of arch/arm/include/uapi/asm/unistd.h"
    doc = ("Syscalls: %s. Entries without an entry point or with sys_ni_syscall are left "
           "out. Constants: the uapi headers of arch/%s, and include/uapi/asm-generic where "
           "the arch has none." % (src, abi["arch"]))
    low, high = syscall_bases(abi)
    lines = [header(version)]
    lines.append("//! Syscall numbers and constants of the `%s` ABI.\n" % name)
    lines.append("//!\n")
    for part in textwrap.wrap(doc, 96, break_long_words=False, break_on_hyphens=False):
        lines.append("//! %s\n" % part)
    lines.append("\n")
    if same_as:
        lines.append("use crate::arch::{SyscallTable, NONE};\n\n")
    else:
        lines.append("use crate::arch::{Consts, SyscallTable, NONE};\n\n")
    lines.append("/// System call numbers of `%s`, one per name of `SYSCALL_NAMES`, encoded as\n"
                 "/// [`SyscallTable`] says.\n" % name)
    lines.append("pub static SYSCALLS: SyscallTable = SyscallTable {\n")
    lines.append("    low_base: 0x%x,\n" % low)
    lines.append("    high_base: 0x%x,\n" % high)
    rows = []
    for sname in names:
        if sname not in syscalls:
            rows.append(("NONE", sname))
            continue
        nr = syscalls[sname]
        v = encode_nr(abi, sname, nr)
        if v >= NR_HIGH:
            rows.append(("0x%x" % v, "%s = 0x%x" % (sname, nr)))
        else:
            rows.append(("%d" % v, sname))
    render_array(lines, "nrs", rows)
    lines.append("};\n\n")
    if same_as:
        lines.append("/// Open, mmap, ioctl, signal and errno constants of `%s`: the same values as "
                     "`%s`'s,\n/// so the same table.\n" % (name, same_as))
        lines.append("pub use super::%s::CONSTS;\n" % same_as)
        return "".join(lines)
    lines.append("/// Open, mmap, ioctl, signal and errno constants of `%s`.\n" % name)
    lines.append("pub static CONSTS: Consts = Consts {\n")
    for field, _ in OPEN_MMAP_CONSTS:
        lines.append("    %s: 0x%x,\n" % (field, consts[field]))
    render_array(lines, "ioctls", [("0x%x" % v, n) for n, v in zip(IOCTLS, ioctls)])
    render_array(lines, "signals", [("%d" % v, n) for n, v in zip(SIGNALS, signals)])
    render_array(lines, "errnos", [("%d" % v, n) for n, v in zip(ERRNOS, errnos)])
    lines.append("};\n")
    return "".join(lines)


def render_names(lines, doc, ident, names):
    for part in doc:
        lines.append("/// %s\n" % part)
    lines.append("pub static %s: super::Names = names![\n" % ident)
    for n in names:
        lines.append('    "%s",\n' % n)
    lines.append("];\n")


def render_mod(version, audits, names):
    lines = [header(version)]
    lines.append("//! Per-ABI tables read from the Linux sources by the generator.\n\n")
    for name in sorted(abi["name"] for abi in ABIS):  # rustfmt's order
        lines.append("pub mod %s;\n" % name)
    lines.append("\n/// The kernel release the tables were generated from.\n")
    lines.append('pub const LINUX_VERSION: &str = "%s";\n' % version)
    for macro in sorted(audits):
        lines.append("\n/// `%s` from include/uapi/linux/audit.h.\n" % macro)
        lines.append("pub const %s: u32 = 0x%X;\n" % (macro, audits[macro]))
    lines.append("\n/// Number of names in [`SYSCALL_NAMES`].\n")
    lines.append("pub const SYSCALL_COUNT: usize = %d;\n" % len(names))
    lines.append("\n/// Number of names in [`IOCTL_NAMES`].\n")
    lines.append("pub const IOCTL_COUNT: usize = %d;\n" % len(IOCTLS))
    lines.append("\n/// Number of names in [`SIGNAL_NAMES`].\n")
    lines.append("pub const SIGNAL_COUNT: usize = %d;\n" % len(SIGNALS))
    lines.append("\n/// Number of names in [`ERRNO_NAMES`].\n")
    lines.append("pub const ERRNO_COUNT: usize = %d;\n\n" % len(ERRNOS))
    render_names(lines, ["The kernel names of the syscalls of all ABIs, sorted: each ABI's "
                         "`SYSCALLS` has one",
                         "number per name, in this order."], "SYSCALL_NAMES", names)
    lines.append("\n")
    render_names(lines, ["The TTY and console ioctl requests that `core/restrict/io_control` "
                         "permits, in the order",
                         "of syd's list: each ABI's `CONSTS` has one value per name, in this "
                         "order."], "IOCTL_NAMES", IOCTLS)
    lines.append("\n")
    render_names(lines, ["Signal names: each ABI's `CONSTS` has one number per name, in this "
                         "order (0: no such", "signal)."], "SIGNAL_NAMES", SIGNALS)
    lines.append("\n")
    render_names(lines, ["errno names: each ABI's `CONSTS` has one value per name, in this "
                         "order (every ABI", "defines them all; the generator fails "
                         "otherwise)."], "ERRNO_NAMES", ERRNOS)
    return "".join(lines)


def generate(source):
    version = source.version()
    files = {}
    counts = []
    tables = []
    for abi in ABIS:
        try:
            syscalls = syscall_table(source, abi)
            consts, ioctls, signals, errnos = abi_consts(source, abi)
        except GenError as e:
            raise GenError("%s: %s" % (abi["name"], e)) from None
        tables.append((abi, dict(syscalls), consts, ioctls, signals, errnos))
        counts.append((abi["name"], len(syscalls), len(ioctls), sum(1 for v in signals if v)))
    names = sorted({n for _, syscalls, _, _, _, _ in tables for n in syscalls})
    if len("".join(names)) > 0xFFFF:
        raise GenError("the syscall names take more than 65535 bytes")
    first_with = {}  # constants -> the first ABI (in ABIS order) that has them
    for abi, syscalls, consts, ioctls, signals, errnos in tables:
        key = (tuple(sorted(consts.items())), tuple(ioctls), tuple(signals), tuple(errnos))
        same_as = first_with.setdefault(key, abi["name"])
        if same_as == abi["name"]:
            same_as = None
        files[abi["name"] + ".rs"] = render_abi(abi, version, names, syscalls, consts, ioctls,
                                                signals, errnos, same_as)
    files["mod.rs"] = render_mod(version, audit_values(source), names)
    return version, files, counts


def write_files(out_dir, files):
    os.makedirs(out_dir, exist_ok=True)
    for name, text in files.items():
        with open(os.path.join(out_dir, name), "w", newline="\n") as f:
            f.write(text)


_VERSION_LINE = re.compile(r"^(// @generated by .* from Linux )(\S+)(\. Do not edit.*)$")
_VERSION_CONST = re.compile(r'^(pub const LINUX_VERSION: &str = ")([^"]*)(";)$')


def _series(version):
    return version.split(".")[:2]


def only_sublevel_differs(old, new):
    """Whether two generated texts differ only in the stable release (6.1.x) they name."""
    a, b = old.splitlines(), new.splitlines()
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x == y:
            continue
        for pat in (_VERSION_LINE, _VERSION_CONST):
            mx, my = pat.match(x), pat.match(y)
            if mx and my and mx.group(1) == my.group(1) and mx.group(3) == my.group(3) \
                    and _series(mx.group(2)) == _series(my.group(2)):
                break
        else:
            return False
    return True


def check(out_dir, files, allow_drift):
    """Compare freshly generated files with those in out_dir. Returns (ok, drifted)."""
    with tempfile.TemporaryDirectory(prefix="gen-arch-tables.") as tmp:
        write_files(tmp, files)
        fresh = {}
        for n in files:
            with open(os.path.join(tmp, n), encoding="utf-8") as f:
                fresh[n] = f.read()
    committed = {}
    if os.path.isdir(out_dir):
        for n in sorted(os.listdir(out_dir)):
            if n.endswith(".rs"):
                with open(os.path.join(out_dir, n), encoding="utf-8") as f:
                    committed[n] = f.read()
    bad = False
    drift = False
    for n in sorted(set(fresh) | set(committed)):
        old, new = committed.get(n), fresh.get(n)
        if old == new:
            continue
        if old is None:
            print("check: %s is missing from %s" % (n, out_dir))
            bad = True
            continue
        if new is None:
            print("check: %s in %s is not generated" % (n, out_dir))
            bad = True
            continue
        if allow_drift and only_sublevel_differs(old, new):
            drift = True
            continue
        bad = True
        diff = difflib.unified_diff(old.splitlines(True), new.splitlines(True),
                                    os.path.join(out_dir, n), "regenerated/" + n, n=1)
        sys.stdout.writelines(list(diff)[:200])
    return not bad, drift


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", help="Linux source tarball or extracted tree")
    ap.add_argument("--out", default=DEFAULT_OUT,
                    help="output directory (default: %(default)s)")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary directory; exit 1 on any difference")
    ap.add_argument("--allow-sublevel-drift", action="store_true",
                    help="with --check: accept files whose only difference is the stable "
                         "release (the x of 6.1.x) named in their headers; stable releases "
                         "never change syscall tables or uapi constants")
    args = ap.parse_args(argv)
    try:
        source = Source(args.source)
        version, files, counts = generate(source)
    except GenError as e:
        print("gen-arch-tables: error: %s" % e, file=sys.stderr)
        return 2
    if args.check:
        ok, drift = check(args.out, files, args.allow_sublevel_drift)
        if ok and drift:
            print("check: %s matches Linux %s except for the 6.1.x release its headers "
                  "name (accepted: --allow-sublevel-drift)" % (args.out, version))
            return 0
        if ok:
            print("check: %s is up to date with Linux %s" % (args.out, version))
            return 0
        print("check: %s differs from what Linux %s gives; run %s %s"
              % (args.out, version, GENERATOR, args.source))
        return 1
    write_files(args.out, files)
    print("wrote %s from Linux %s" % (args.out, version))
    for name, nsys, nioc, nsig in counts:
        print("  %-9s %4d syscalls %3d ioctls %3d signals" % (name, nsys, nioc, nsig))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
