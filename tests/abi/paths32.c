/* i386 helper for syd's ABI tests (tests/abi.rs compiles it with `cc -m32 -nostdlib`): one path
   call through the i386 entry point `int $0x80`, printing `ok N` or `err ERRNO-NUMBER`.
   Calls: open-r PATH (O_RDONLY), open-w PATH (O_WRONLY|O_CREAT|O_TRUNC, 0644), mkdir PATH,
   unlink PATH, rename FROM TO, getpid. No libc. */
void *memset(void *d, int c, unsigned long n) { char *p = d; while (n--) *p++ = (char)c; return d; }

static long sys3(long nr, long a, long b, long c) {
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(nr), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}
static unsigned long slen(const char *s) { unsigned long n = 0; while (s[n]) n++; return n; }
static void out(const char *s) { sys3(4, 1, (long)s, (long)slen(s)); }
static void outnum(unsigned long v) {
    char b[12]; int i = 11; b[i] = 0;
    do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
    out(b + i);
}
static int streq(const char *a, const char *b) { while (*a && *a == *b) { a++; b++; } return *a == *b; }
static void finish(long r) {
    if (r < 0 && r > -4096) { out("err "); outnum((unsigned long)-r); out("\n"); sys3(1, 1, 0, 0); }
    out("ok "); outnum((unsigned long)r); out("\n"); sys3(1, 0, 0, 0);
}

__attribute__((used)) void cmain(long *sp) {
    char **argv = (char **)(sp + 1);
    const char *op = argv[1] ? argv[1] : "";
    const char *a = argv[1] ? argv[2] : 0;
    const char *b = a ? argv[3] : 0;
    if (streq(op, "open-r")) { long fd = sys3(5, (long)a, 0, 0); finish(fd < 0 ? fd : 0); }
    if (streq(op, "open-w")) { long fd = sys3(5, (long)a, 01 | 0100 | 01000, 0644); finish(fd < 0 ? fd : 0); }
    if (streq(op, "mkdir")) finish(sys3(39, (long)a, 0755, 0));
    if (streq(op, "unlink")) finish(sys3(10, (long)a, 0, 0));
    if (streq(op, "rename")) finish(sys3(38, (long)a, (long)b, 0));
    if (streq(op, "getpid")) finish(sys3(20, 0, 0, 0) > 0 ? 0 : -1);
    out("usage\n");
    sys3(1, 2, 0, 0);
}

__asm__(".text\n.globl _start\n_start:\n\txorl %ebp, %ebp\n\tmovl %esp, %eax\n"
        "\tandl $-16, %esp\n\tsubl $12, %esp\n\tpushl %eax\n\tcall cmain\n\thlt\n");
