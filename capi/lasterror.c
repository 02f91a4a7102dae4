/*
 * lasterror.c - the per-thread last error, and sandlock_strerror().
 *
 * The buffer is a C _Thread_local rather than Go state: a Go export runs on
 * the caller's OS thread (runtime.cgocallbackg locks the goroutine to the
 * thread that called in), so capi_set_last_error() called from an export
 * writes the caller's buffer, and sandlock_last_error() needs no Go call.
 */
#include <pthread.h>
#include <string.h>
#include <stdlib.h>

#include "sandlock.h"
#include "capi_internal.h"

/* Messages are one line about one call; 2 KiB leaves room for a long path
 * and its explanation. Longer ones end with "...". */
#define CAPI_MSG_MAX 2048

/*
 * Only a pointer is thread-local; the buffer is allocated on a thread's
 * first message and freed when the thread exits. The Go runtime makes the
 * library's whole TLS block initial-exec (DF_STATIC_TLS), so a dlopen()
 * (Python's ctypes) must fit it into glibc's small static TLS surplus
 * (glibc.rtld.optional_static_tls, 512 bytes by default): with a 2 KiB
 * array here dlopen failed with "cannot allocate memory in static TLS
 * block".
 */
static _Thread_local char *capi_msg;
static _Thread_local int capi_errno;
/* Set when a message could not be stored for lack of memory. */
static _Thread_local int capi_msg_lost;

static pthread_key_t capi_msg_key;
static pthread_once_t capi_msg_once = PTHREAD_ONCE_INIT;
static int capi_msg_key_ok;

/* Thread exit: free the buffer and forget it, in case a later destructor
 * of the same thread calls into the library again. */
static void capi_msg_release(void *buf)
{
    if (capi_msg == buf) {
        capi_msg = NULL;
    }
    free(buf);
}

static void capi_msg_key_init(void)
{
    capi_msg_key_ok = pthread_key_create(&capi_msg_key, capi_msg_release) == 0;
}

/* The calling thread's buffer, allocated on first use; NULL if out of
 * memory. */
static char *capi_msg_buf(void)
{
    if (capi_msg == NULL) {
        char *b = malloc(CAPI_MSG_MAX);
        if (b == NULL) {
            return NULL;
        }
        b[0] = '\0';
        pthread_once(&capi_msg_once, capi_msg_key_init);
        if (capi_msg_key_ok) {
            (void)pthread_setspecific(capi_msg_key, b);
        }
        capi_msg = b;
    }
    return capi_msg;
}

void capi_set_last_error(int err, const char *msg, size_t len)
{
    static const char more[] = "...";
    char *buf;
    if (msg == NULL) {
        len = 0;
    }
    capi_errno = err;
    capi_msg_lost = 0;
    if (len == 0) {
        if (capi_msg != NULL) {
            capi_msg[0] = '\0';
        }
        return;
    }
    buf = capi_msg_buf();
    if (buf == NULL) {
        capi_msg_lost = 1;
        return;
    }
    if (len >= CAPI_MSG_MAX) {
        len = CAPI_MSG_MAX - sizeof more;
        /* Do not cut a UTF-8 sequence: back off to the start of the
         * character that the cut would split. */
        while (len > 0 && ((unsigned char)msg[len] & 0xC0) == 0x80) {
            len--;
        }
        memcpy(buf, msg, len);
        memcpy(buf + len, more, sizeof more);
    } else {
        memcpy(buf, msg, len);
        buf[len] = '\0';
    }
}

void capi_clear_last_error(void)
{
    if (capi_msg != NULL) {
        capi_msg[0] = '\0';
    }
    capi_errno = 0;
    capi_msg_lost = 0;
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
    if (capi_msg_lost) {
        return "out of memory while recording the error message";
    }
    return capi_msg != NULL ? capi_msg : "";
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
        return "SANDLOCK_ENOTSUP: not supported by this kernel";
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
    case SANDLOCK_ENOTIMPL:
        return "SANDLOCK_ENOTIMPL: feature not implemented yet";
    }
    return "unknown sandlock status code";
}
