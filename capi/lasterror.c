/*
 * lasterror.c - the per-thread last error, and sandlock_strerror().
 *
 * The buffer is a C _Thread_local rather than Go state: a Go export runs on
 * the caller's OS thread (runtime.cgocallbackg locks the goroutine to the
 * thread that called in), so capi_set_last_error() called from an export
 * writes the caller's buffer, and sandlock_last_error() needs no Go call.
 */
#include <string.h>
#include <stdlib.h>

#include "sandlock.h"
#include "capi_internal.h"

/* Messages are one line about one call; 2 KiB leaves room for a long path
 * and its explanation. Longer ones end with "...". */
#define CAPI_MSG_MAX 2048

static _Thread_local char capi_msg[CAPI_MSG_MAX];
static _Thread_local int capi_errno;

void capi_set_last_error(int err, const char *msg, size_t len)
{
    static const char more[] = "...";
    if (msg == NULL) {
        len = 0;
    }
    if (len >= CAPI_MSG_MAX) {
        len = CAPI_MSG_MAX - sizeof more;
        /* Do not cut a UTF-8 sequence: back off to the start of the
         * character that the cut would split. */
        while (len > 0 && ((unsigned char)msg[len] & 0xC0) == 0x80) {
            len--;
        }
        memcpy(capi_msg, msg, len);
        memcpy(capi_msg + len, more, sizeof more);
    } else {
        if (len > 0) {
            memcpy(capi_msg, msg, len);
        }
        capi_msg[len] = '\0';
    }
    capi_errno = err;
}

void capi_clear_last_error(void)
{
    capi_msg[0] = '\0';
    capi_errno = 0;
}

void *capi_dup_bytes(const void *src, size_t n)
{
    unsigned char *p;
    if (n == (size_t)-1) {
        return NULL;
    }
    p = malloc(n + 1);
    if (p == NULL) {
        return NULL;
    }
    if (n > 0) {
        memcpy(p, src, n);
    }
    p[n] = '\0';
    return p;
}

void capi_free(void *p)
{
    free(p);
}

const char *sandlock_last_error(void)
{
    return capi_msg;
}

int sandlock_last_errno(void)
{
    return capi_errno;
}

const char *sandlock_strerror(int code)
{
    switch (code) {
    case SANDLOCK_OK:
        return "SANDLOCK_OK: success";
    case SANDLOCK_EINVAL:
        return "SANDLOCK_EINVAL: invalid argument";
    case SANDLOCK_EPOLICY:
        return "SANDLOCK_EPOLICY: invalid policy";
    case SANDLOCK_ENOTSUP:
        return "SANDLOCK_ENOTSUP: not supported by this kernel or build";
    case SANDLOCK_ESPAWN:
        return "SANDLOCK_ESPAWN: the command could not be started";
    case SANDLOCK_ECONFINE:
        return "SANDLOCK_ECONFINE: the kernel refused a confinement step";
    case SANDLOCK_ESTATE:
        return "SANDLOCK_ESTATE: wrong state for this call";
    case SANDLOCK_ETIMEOUT:
        return "SANDLOCK_ETIMEOUT: timed out";
    case SANDLOCK_EOS:
        return "SANDLOCK_EOS: a system call failed";
    case SANDLOCK_ENOMEM:
        return "SANDLOCK_ENOMEM: out of memory";
    case SANDLOCK_EINTERNAL:
        return "SANDLOCK_EINTERNAL: internal error in libsandlock";
    }
    return "unknown sandlock status code";
}
