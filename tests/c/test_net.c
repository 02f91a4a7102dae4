/*
 * test_net.c - the network options through the C ABI: a host allowlist
 * and port remapping (sandlock_sandbox_port_mappings).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* A listening socket of this process on 127.0.0.1 with a kernel-chosen
 * port, which the sandbox then binds too; -1 on failure. */
static int host_listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a;
    socklen_t l = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void test_port_mappings(void)
{
    uint16_t v[4], r[4];
    size_t n = 99;
    CHECK_ERR(sandlock_sandbox_port_mappings(NULL, v, r, 4, &n), SANDLOCK_EINVAL,
              "sandlock_sandbox_port_mappings", "sb is NULL");

    const char *python = "/usr/bin/python3";
    CHECK(access(python, X_OK) == 0, "%s is part of the test environment", python);
    uint16_t port = 0;
    int host = host_listener(&port);
    CHECK(host >= 0, "host listener on 127.0.0.1");
    if (host < 0) {
        return;
    }
    char script[256];
    snprintf(script, sizeof script,
             "import socket,time\n"
             "s=socket.socket()\n"
             "s.bind(('127.0.0.1',%u))\n"
             "s.listen()\n"
             "print(s.getsockname()[1],flush=True)\n"
             "time.sleep(60)\n",
             (unsigned)port);
    const char *const argv[] = {python, "-c", script, NULL};

    for (int remap = 0; remap <= 1; remap++) {
        sandlock_policy_t *p = base_policy();
        sandlock_spawn_options_t *o = NULL;
        sandlock_sandbox_t *sb = NULL;
        CHECK_RC(sandlock_policy_add_net_bind_range(p, port, port), SANDLOCK_OK);
        CHECK_RC(sandlock_policy_add_net_allow_hosts(p, "127.0.0.1"), SANDLOCK_OK);
        CHECK_RC(sandlock_policy_set_port_remap(p, remap), SANDLOCK_OK);
        CHECK_RC(sandlock_spawn_options_new(&o), SANDLOCK_OK);
        CHECK_RC(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDOUT, SANDLOCK_STDIO_CAPTURE, -1),
                 SANDLOCK_OK);
        CHECK_RC(sandlock_spawn(p, argv, o, &sb), SANDLOCK_OK);
        if (sb == NULL) {
            sandlock_spawn_options_free(o);
            sandlock_policy_free(p);
            continue;
        }
        CHECK_ERR(sandlock_sandbox_port_mappings(sb, v, r, 4, NULL), SANDLOCK_EINVAL,
                  "sandlock_sandbox_port_mappings", "count is NULL");
        CHECK_ERR(sandlock_sandbox_port_mappings(sb, NULL, r, 4, &n), SANDLOCK_EINVAL,
                  "sandlock_sandbox_port_mappings", "must not be NULL");
        n = 0;
        for (int i = 0; i < 100 && n == 0; i++) {
            CHECK_RC(sandlock_sandbox_port_mappings(sb, NULL, NULL, 0, &n), SANDLOCK_OK);
            if (n == 0 && remap) {
                sleep_ms(50);
            }
        }
        if (remap) {
            /* The host holds the port: the sandbox got another one. */
            CHECK(n == 1, "port_remap: %zu mappings, want 1", n);
            v[0] = r[0] = 0;
            CHECK_RC(sandlock_sandbox_port_mappings(sb, v, r, 4, &n), SANDLOCK_OK);
            CHECK(n == 1 && v[0] == port && r[0] != 0 && r[0] != port,
                  "mapping %u -> %u (n %zu), want %u -> another port", v[0], r[0], n, port);
        } else {
            /* Without remapping the port is taken: EADDRINUSE in the child,
             * and there is no mapping. */
            CHECK(n == 0, "no port_remap: %zu mappings, want 0", n);
        }
        sandlock_result_t *res = NULL;
        CHECK_RC(sandlock_sandbox_kill(sb), SANDLOCK_OK);
        CHECK_RC(sandlock_sandbox_wait(sb, -1, &res), SANDLOCK_OK);
        if (remap && res != NULL) {
            char want[16];
            snprintf(want, sizeof want, "%u\n", (unsigned)port);
            CHECK(strcmp(out_str(res), want) == 0, "getsockname in the sandbox: %s, want %s",
                  out_str(res), want);
        }
        CHECK_RC(sandlock_sandbox_port_mappings(sb, NULL, NULL, 0, &n), SANDLOCK_OK);
        CHECK(n == 0, "%zu mappings after the end, want 0", n);
        sandlock_result_free(res);
        sandlock_sandbox_free(sb);
        sandlock_spawn_options_free(o);
        sandlock_policy_free(p);
    }
    close(host);
}
