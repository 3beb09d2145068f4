/* i386 helper for syd's network tests (tests/net.rs compiles it with `cc -m32 -nostdlib`):
   one network call through socketcall(2) (connect-direct: the direct i386 socket calls),
   printing `ok N` or `err ERRNO-NUMBER` (a failed preparatory call: `setup err N`).
   Addresses are 127.0.0.1:PORT or a UNIX path. No libc: raw `int $0x80` system calls. */
typedef unsigned int u32;
typedef unsigned short u16;

/* gcc may emit calls to these for structure initialisation, even with -ffreestanding. */
void *memset(void *d, int c, unsigned long n) { char *p = d; while (n--) *p++ = (char)c; return d; }
void *memcpy(void *d, const void *s, unsigned long n) {
    char *p = d; const char *q = s; while (n--) *p++ = *q++; return d;
}

static long sys3(long nr, long a, long b, long c) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}
static long sc(long call, u32 *args) { return sys3(102, call, (long)args, 0); }
static unsigned long slen(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }
static void out(const char *s) { sys3(4, 1, (long)s, (long)slen(s)); }
static void outnum(unsigned long v) {
    char b[12]; int i = 11; b[i] = 0;
    do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    out(b + i);
}
static unsigned long num(const char *s) {
    unsigned long v = 0;
    while (s && *s >= '0' && *s <= '9') v = v * 10 + (unsigned long)(*s++ - '0');
    return v;
}
static int streq(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return *a == *b; }
static void finish(long r) {
    if (r < 0 && r > -4096) { out("err "); outnum((unsigned long)-r); out("\n"); sys3(1, 1, 0, 0); }
    out("ok "); outnum((unsigned long)r); out("\n"); sys3(1, 0, 0, 0);
}
static void check(long r) { if (r < 0 && r > -4096) { out("setup "); finish(r); } }

struct sin { u16 family; u16 port; u32 addr; char zero[8]; };
struct sun { u16 family; char path[108]; };
struct msghdr32 { u32 name, namelen, iov, iovlen, control, controllen, flags; };
struct iovec32 { u32 base, len; };

static long sock(u32 family, u32 type) {
    u32 a[3] = { family, type, 0 };
    long fd = sc(1, a);
    check(fd);
    return fd;
}

__attribute__((used)) void cmain(long *sp) {
    char **argv = (char **)(sp + 1);
    const char *op = argv[1] ? argv[1] : "";
    const char *arg = argv[1] ? argv[2] : 0;
    static char x[1] = { 'x' };
    struct sin in = { 2, 0, 0x0100007f, { 0 } };
    unsigned long port = num(arg);
    in.port = (u16)(((port & 0xff) << 8) | (port >> 8));
    if (streq(op, "connect")) {
        u32 a[3] = { (u32)sock(2, 1), (u32)&in, 16 };
        finish(sc(3, a));
    }
    if (streq(op, "connect-direct")) {
        long fd = sys3(359, 2, 1, 0);
        check(fd);
        finish(sys3(362, fd, (long)&in, 16));
    }
    if (streq(op, "connect-unix")) {
        struct sun un = { 1, { 0 } };
        unsigned long n = slen(arg), i;
        for (i = 0; i < n && i < 107; i++) un.path[i] = arg[i];
        u32 a[3] = { (u32)sock(1, 1), (u32)&un, (u32)(2 + n + 1) };
        finish(sc(3, a));
    }
    if (streq(op, "sendto")) {
        u32 a[6] = { (u32)sock(2, 2), (u32)x, 1, 0, (u32)&in, 16 };
        finish(sc(11, a));
    }
    if (streq(op, "sendmsg")) {
        struct iovec32 iov = { (u32)x, 1 };
        struct msghdr32 m = { (u32)&in, 16, (u32)&iov, 1, 0, 0, 0 };
        u32 a[3] = { (u32)sock(2, 2), (u32)&m, 0 };
        finish(sc(16, a));
    }
    if (streq(op, "sendto-null") || streq(op, "sendmsg-noname")) {
        u32 sv[2];
        u32 p[4] = { 1, 2, 0, (u32)sv };
        check(sc(8, p));
        if (streq(op, "sendto-null")) {
            u32 a[6] = { sv[0], (u32)x, 1, 0, 0, 0 };
            finish(sc(11, a));
        }
        struct iovec32 iov = { (u32)x, 1 };
        struct msghdr32 m = { 0, 0, (u32)&iov, 1, 0, 0, 0 };
        u32 a[3] = { sv[0], (u32)&m, 0 };
        finish(sc(16, a));
    }
    if (streq(op, "bind-connect")) {
        /* bind 127.0.0.1:0, listen, getsockname: then connect a second socket to that port. */
        struct sin b = in;
        u32 len = 16;
        long s = sock(2, 1);
        b.port = 0;
        u32 a[3] = { (u32)s, (u32)&b, 16 };
        check(sc(2, a));
        u32 l[2] = { (u32)s, 1 };
        check(sc(4, l));
        u32 g[3] = { (u32)s, (u32)&b, (u32)&len };
        check(sc(6, g));
        out("port=");
        outnum((unsigned long)(((b.port & 0xff) << 8) | (b.port >> 8)));
        out(" ");
        u32 c[3] = { (u32)sock(2, 1), (u32)&b, 16 };
        finish(sc(3, c));
    }
    /* File calls, for the compat-ABI test: i386 open (5), mkdir (39), stat64 (195). */
    if (streq(op, "open-w")) finish(sys3(5, (long)arg, 0x41, 0644));
    if (streq(op, "mkdir")) finish(sys3(39, (long)arg, 0755, 0));
    if (streq(op, "stat64")) { static char st[96]; finish(sys3(195, (long)arg, (long)st, 0)); }
    out("usage\n");
    sys3(1, 2, 0, 0);
}

__asm__(".text\n.globl _start\n_start:\n\txorl %ebp, %ebp\n\tmovl %esp, %eax\n"
        "\tandl $-16, %esp\n\tsubl $12, %esp\n\tpushl %eax\n\tcall cmain\n\thlt\n");
