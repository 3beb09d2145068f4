/* Opens FILE, drops privileges in the same thread (MODE "uid": setresuid to 65534; "caps":
 * capset without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH), opens FILE again, and prints the
 * outcome of each open: "before ok|EACCES", "after ok|EACCES". Exit 3 if the drop failed.
 *
 * MODE "exec": becomes uid 65534 keeping its capabilities (PR_SET_KEEPCAPS, then capset), opens
 * FILE, then executes itself with MODE "after": an exec by a non-root user clears the
 * capabilities, so the second open runs without them. "exec-magic" first runs a magic query
 * (stat /dev/sydbox), after which syd no longer answers calls without looking at the caller. */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void try_open(const char *when, const char *file) {
    int fd = open(file, O_RDONLY);
    if (fd >= 0) {
        printf("%s ok\n", when);
        close(fd);
    } else {
        printf("%s %s\n", when, errno == EACCES ? "EACCES" : strerror(errno));
    }
}

int main(int argc, char **argv) {
    if (argc != 3) return 2;
    if (strcmp(argv[2], "after") == 0) {
        try_open("after", argv[1]);
        fflush(stdout);
        return 0;
    }
    if (strncmp(argv[2], "exec", 4) == 0) {
        struct stat st;
        if (strcmp(argv[2], "exec-magic") == 0 && stat("/dev/sydbox", &st) != 0) {
            perror("stat /dev/sydbox");
            return 3;
        }
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct d[2];
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) { perror("PR_SET_KEEPCAPS"); return 3; }
        if (syscall(SYS_setresuid, 65534, 65534, 65534) != 0) { perror("setresuid"); return 3; }
        if (syscall(SYS_capget, &h, d) != 0) { perror("capget"); return 3; }
        d[0].effective = d[0].permitted;
        d[1].effective = d[1].permitted;
        if (syscall(SYS_capset, &h, d) != 0) { perror("capset"); return 3; }
        try_open("before", argv[1]);
        fflush(stdout);
        char *args[] = { argv[0], argv[1], "after", NULL };
        execv(argv[0], args);
        perror("execv");
        return 3;
    }
    try_open("before", argv[1]);
    if (strcmp(argv[2], "uid") == 0) {
        if (syscall(SYS_setresuid, 65534, 65534, 65534) != 0) { perror("setresuid"); return 3; }
    } else {
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct d[2];
        if (syscall(SYS_capget, &h, d) != 0) { perror("capget"); return 3; }
        d[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
        if (syscall(SYS_capset, &h, d) != 0) { perror("capset"); return 3; }
    }
    try_open("after", argv[1]);
    fflush(stdout);
    return 0;
}
