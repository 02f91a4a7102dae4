/* filesprobe: the file-mediation probes of files_test.go. Written for this
 * project.
 *
 * Usage: filesprobe OP ARGS...
 *
 *   at DIR REL        open DIR, then openat(dirfd, REL) and print the file
 *   creat MASK PATH   umask(MASK, octal), create PATH, print its mode (octal)
 *   list DIR          print the names getdents64 returns, one a line
 *   list32 DIR        the same with the legacy getdents (x86_64 only)
 *   writeread PATH    open PATH read-write (to check that a virtual file
 *                     refuses it)
 *   uname             print the nodename uname(2) returns
 *   siocgifconf       ioctl(SIOCGIFCONF) on an AF_INET socket
 *
 * Exit status: 0 on success, the errno value when the operation failed
 * (its name goes to stderr), 100 for bad usage, 101 for a setup failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *op;

static int fail(int err)
{
	const char *name = strerrorname_np(err);
	fprintf(stderr, "filesprobe: %s: %s\n", op, name ? name : "E?");
	return err;
}

static int copy_fd(int fd)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0)
			return fail(errno);
		if (n == 0)
			return 0;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return 101;
	}
}

static int op_at(const char *dir, const char *rel)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return fail(errno);
	int fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno);
	return copy_fd(fd);
}

static int op_creat(const char *mask, const char *path)
{
	umask((mode_t)strtol(mask, NULL, 8));
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (fd < 0)
		return fail(errno);
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fail(errno);
	printf("%o\n", (unsigned)(st.st_mode & 07777));
	return 0;
}

struct dirent64_ {
	unsigned long long ino;
	long long off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static int op_list(const char *dir, int legacy)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno);
	char buf[1024]; /* small, so that a long listing takes many calls */
	for (;;) {
		long n;
#ifdef SYS_getdents
		n = syscall(legacy ? SYS_getdents : SYS_getdents64, fd, buf, sizeof buf);
#else
		if (legacy)
			return fail(ENOSYS);
		n = syscall(SYS_getdents64, fd, buf, sizeof buf);
#endif
		if (n < 0)
			return fail(errno);
		if (n == 0)
			return 0;
		for (long off = 0; off < n;) {
			struct dirent64_ *d = (struct dirent64_ *)(buf + off);
			/* linux_dirent has the name one byte earlier (no type). */
			const char *name = legacy ? (const char *)&d->type : d->name;
			printf("%s\n", name);
			off += d->reclen;
		}
	}
}

static int op_writeread(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fail(errno);
	return 0;
}

static int op_uname(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		return fail(errno);
	printf("%s\n", u.nodename);
	return 0;
}

static int op_siocgifconf(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 101;
	char buf[4096];
	struct ifconf ifc = {.ifc_len = sizeof buf, .ifc_buf = buf};
	if (ioctl(s, SIOCGIFCONF, &ifc) < 0)
		return fail(errno);
	printf("%d\n", ifc.ifc_len / (int)sizeof(struct ifreq));
	return 0;
}

#define IS(name, nargs) (strcmp(op, name) == 0 && argc == 2 + (nargs))

int main(int argc, char **argv)
{
	if (argc < 2)
		return 100;
	op = argv[1];
	if (IS("at", 2))
		return op_at(argv[2], argv[3]);
	if (IS("creat", 2))
		return op_creat(argv[2], argv[3]);
	if (IS("list", 1))
		return op_list(argv[2], 0);
	if (IS("list32", 1))
		return op_list(argv[2], 1);
	if (IS("writeread", 1))
		return op_writeread(argv[2]);
	if (IS("uname", 0))
		return op_uname();
	if (IS("siocgifconf", 0))
		return op_siocgifconf();
	fprintf(stderr, "filesprobe: bad usage\n");
	return 100;
}
