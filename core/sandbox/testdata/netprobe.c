/* netprobe: network operations for the real-kernel tests of the network
 * mediation (feature_net_test.go). Written for this project.
 *
 * Usage: netprobe OP ARGS...   (addresses are numeric IPv4 or IPv6)
 *
 * Exit status: 0 on success, the errno of the failed call otherwise (its
 * name goes to stderr), 100 and up for a probe malfunction. Every loop is
 * bounded by its arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { EX_USAGE_ = 100, EX_SETUP = 101, EX_WRONG = 102 };

static const char *op;

static int fail(int err)
{
	const char *name = strerrorname_np(err);
	fprintf(stderr, "netprobe: %s: %s\n", op, name ? name : "E?");
	return err;
}

/* addr fills ss with host:port; returns its length, 0 when host does not
 * parse. */
static socklen_t addr(struct sockaddr_storage *ss, const char *host, const char *port)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)atoi(port));
		return sizeof(*s4);
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)atoi(port));
		return sizeof(*s6);
	}
	return 0;
}

static unsigned short port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* connect HOST PORT [FAMILY]: one TCP connect, blocking. FAMILY 6 forces an
 * AF_INET6 socket (for IPv4-mapped addresses). */
static int op_connect(int argc, char **argv, int nonblock)
{
	if (argc < 2)
		return EX_USAGE_;
	struct sockaddr_storage ss;
	socklen_t l = addr(&ss, argv[0], argv[1]);
	if (!l)
		return EX_USAGE_;
	int fam = ss.ss_family;
	if (argc > 2 && argv[2][0] == '6')
		fam = AF_INET6;
	int fd = socket(fam, SOCK_STREAM | (nonblock ? SOCK_NONBLOCK : 0), 0);
	if (fd < 0)
		return fail(errno);
	if (connect(fd, (struct sockaddr *)&ss, l) < 0) {
		if (!nonblock || errno != EINPROGRESS)
			return fail(errno);
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		if (poll(&p, 1, 5000) != 1)
			return EX_WRONG;
		int err = 0;
		socklen_t el = sizeof(err);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err)
			return fail(err);
		printf("inprogress\n");
	}
	char buf[16] = {0};
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0)
		printf("read %s\n", buf);
	close(fd);
	return 0;
}

/* fork-connect HOST PORT: a grandchild connects; its status is ours. */
static int op_fork_connect(int argc, char **argv)
{
	pid_t c = fork();
	if (c < 0)
		return fail(errno);
	if (c == 0) {
		pid_t g = fork();
		if (g < 0)
			_exit(fail(errno));
		if (g == 0)
			_exit(op_connect(argc, argv, 0));
		int st;
		if (waitpid(g, &st, 0) < 0)
			_exit(EX_SETUP);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : EX_SETUP);
	}
	int st;
	if (waitpid(c, &st, 0) < 0)
		return EX_SETUP;
	return WIFEXITED(st) ? WEXITSTATUS(st) : EX_SETUP;
}

/* The race: a thread flips the shared address between two hosts while the
 * main thread connects again and again. */
static struct sockaddr_in race_addr;
static struct in_addr race_a, race_b;
static volatile int race_stop;

static void *flipper(void *arg)
{
	(void)arg;
	while (!race_stop) {
		__atomic_store_n(&race_addr.sin_addr.s_addr, race_a.s_addr, __ATOMIC_RELAXED);
		__atomic_store_n(&race_addr.sin_addr.s_addr, race_b.s_addr, __ATOMIC_RELAXED);
	}
	return 0;
}

/* race-connect ALLOWED OTHER PORT N: prints "ok N refused M other K". */
static int op_race_connect(int argc, char **argv)
{
	if (argc < 4)
		return EX_USAGE_;
	if (inet_pton(AF_INET, argv[0], &race_a) != 1 || inet_pton(AF_INET, argv[1], &race_b) != 1)
		return EX_USAGE_;
	race_addr.sin_family = AF_INET;
	race_addr.sin_port = htons((unsigned short)atoi(argv[2]));
	race_addr.sin_addr = race_a;
	long n = atol(argv[3]);
	pthread_t t;
	if (pthread_create(&t, 0, flipper, 0))
		return EX_SETUP;
	long ok = 0, refused = 0, other = 0;
	for (long i = 0; i < n; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0) {
			race_stop = 1;
			return fail(errno);
		}
		if (connect(fd, (struct sockaddr *)&race_addr, sizeof(race_addr)) == 0)
			ok++;
		else if (errno == ECONNREFUSED)
			refused++;
		else
			other++;
		close(fd);
	}
	race_stop = 1;
	pthread_join(t, 0);
	printf("ok %ld refused %ld other %ld\n", ok, refused, other);
	return 0;
}

/* udp OP: sendto|sendmsg|connect HOST PORT MSG */
static int op_udp(int argc, char **argv)
{
	if (argc < 4)
		return EX_USAGE_;
	struct sockaddr_storage ss;
	socklen_t l = addr(&ss, argv[1], argv[2]);
	if (!l)
		return EX_USAGE_;
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0)
		return fail(errno);
	const char *msg = argv[3];
	ssize_t n;
	if (!strcmp(argv[0], "sendto")) {
		n = sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&ss, l);
	} else if (!strcmp(argv[0], "sendmsg")) {
		struct iovec iov[2] = {{(void *)msg, 1}, {(void *)(msg + 1), strlen(msg) - 1}};
		struct msghdr m = {.msg_name = &ss, .msg_namelen = l, .msg_iov = iov, .msg_iovlen = 2};
		n = sendmsg(fd, &m, 0);
	} else if (!strcmp(argv[0], "connect")) {
		if (connect(fd, (struct sockaddr *)&ss, l) < 0)
			return fail(errno);
		n = send(fd, msg, strlen(msg), 0);
	} else {
		return EX_USAGE_;
	}
	if (n < 0)
		return fail(errno);
	if ((size_t)n != strlen(msg))
		return EX_WRONG;
	return 0;
}

/* sendmmsg HOST PORT [HOST PORT ...]: one datagram "mN" per destination;
 * prints the return value and each msg_len. */
static int op_sendmmsg(int argc, char **argv)
{
	enum { MAXM = 8 };
	int n = argc / 2;
	if (n < 1 || n > MAXM)
		return EX_USAGE_;
	struct sockaddr_storage ss[MAXM];
	struct mmsghdr mm[MAXM];
	struct iovec iov[MAXM];
	char text[MAXM][4];
	memset(mm, 0, sizeof(mm));
	int fam = 0;
	for (int i = 0; i < n; i++) {
		socklen_t l = addr(&ss[i], argv[2 * i], argv[2 * i + 1]);
		if (!l)
			return EX_USAGE_;
		fam = ss[i].ss_family;
		snprintf(text[i], sizeof(text[i]), "m%d", i);
		iov[i].iov_base = text[i];
		iov[i].iov_len = strlen(text[i]);
		mm[i].msg_hdr.msg_name = &ss[i];
		mm[i].msg_hdr.msg_namelen = l;
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
		mm[i].msg_len = 999;
	}
	int fd = socket(fam, SOCK_DGRAM, 0);
	if (fd < 0)
		return fail(errno);
	int r = sendmmsg(fd, mm, (unsigned)n, 0);
	if (r < 0)
		return fail(errno);
	printf("sent %d", r);
	for (int i = 0; i < n; i++)
		printf(" %u", mm[i].msg_len);
	printf("\n");
	return 0;
}

/* bind-hold HOST PORT: bind and listen, print "port N" (getsockname), then
 * answer each connection with "hi" until stdin reaches EOF. */
static int op_bind_hold(int argc, char **argv)
{
	if (argc < 2)
		return EX_USAGE_;
	struct sockaddr_storage ss;
	socklen_t l = addr(&ss, argv[0], argv[1]);
	if (!l)
		return EX_USAGE_;
	int fd = socket(ss.ss_family, SOCK_STREAM, 0);
	if (fd < 0)
		return fail(errno);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, l) < 0)
		return fail(errno);
	if (listen(fd, 16) < 0)
		return fail(errno);
	struct sockaddr_storage got;
	socklen_t gl = sizeof(got);
	if (getsockname(fd, (struct sockaddr *)&got, &gl) < 0)
		return fail(errno);
	printf("port %u\n", port_of(&got));
	fflush(stdout);
	for (;;) {
		struct pollfd p[2] = {{.fd = 0, .events = POLLIN}, {.fd = fd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0)
			return fail(errno);
		if (p[0].revents) {
			char b[64];
			if (read(0, b, sizeof(b)) <= 0)
				return 0;
		}
		if (p[1].revents & POLLIN) {
			int c = accept(fd, 0, 0);
			if (c >= 0) {
				if (write(c, "hi", 2) < 0) {
				}
				close(c);
			}
		}
	}
}

/* self-connect PORT: listen on 127.0.0.1:PORT, connect to it, and print
 * "local L peer P" as getsockname of the listener and getpeername of the
 * client report them. */
static int op_self_connect(int argc, char **argv)
{
	if (argc < 1)
		return EX_USAGE_;
	struct sockaddr_storage ss;
	socklen_t l = addr(&ss, "127.0.0.1", argv[0]);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&ss, l) < 0 || listen(s, 4) < 0)
		return fail(errno);
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (c < 0 || connect(c, (struct sockaddr *)&ss, l) < 0)
		return fail(errno);
	struct sockaddr_storage a, b;
	socklen_t al = sizeof(a), bl = sizeof(b);
	if (getsockname(s, (struct sockaddr *)&a, &al) < 0 || getpeername(c, (struct sockaddr *)&b, &bl) < 0)
		return fail(errno);
	printf("local %u peer %u\n", port_of(&a), port_of(&b));
	return 0;
}

/* cat PATH: print a file. */
static int op_cat(int argc, char **argv)
{
	if (argc < 1)
		return EX_USAGE_;
	int fd = open(argv[0], O_RDONLY);
	if (fd < 0)
		return fail(errno);
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	return n < 0 ? fail(errno) : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return EX_USAGE_;
	op = argv[1];
	argc -= 2;
	argv += 2;
	if (!strcmp(op, "connect"))
		return op_connect(argc, argv, 0);
	if (!strcmp(op, "connect-nb"))
		return op_connect(argc, argv, 1);
	if (!strcmp(op, "fork-connect"))
		return op_fork_connect(argc, argv);
	if (!strcmp(op, "race-connect"))
		return op_race_connect(argc, argv);
	if (!strcmp(op, "udp"))
		return op_udp(argc, argv);
	if (!strcmp(op, "sendmmsg"))
		return op_sendmmsg(argc, argv);
	if (!strcmp(op, "bind-hold"))
		return op_bind_hold(argc, argv);
	if (!strcmp(op, "self-connect"))
		return op_self_connect(argc, argv);
	if (!strcmp(op, "cat"))
		return op_cat(argc, argv);
	return EX_USAGE_;
}
