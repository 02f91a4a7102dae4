/*
 * capi_internal.h - C helpers shared by the shim, the last-error buffer and
 * the Go exports. Nothing here is exported from libsandlock.so: the names
 * start with capi_ (core/spawn's C uses sl_, and both end up in one
 * link), and the version script exports only sandlock_*.
 */
#ifndef CAPI_INTERNAL_H
#define CAPI_INTERNAL_H

#include <stddef.h>

/* Record the calling thread's last error: an errno (0 for none) and a
 * message of len bytes (not NUL-terminated; copied, and truncated at a
 * UTF-8 boundary if too long). */
void capi_set_last_error(int err, const char *msg, size_t len);

/* Reset the calling thread's last error to "" and errno 0. */
void capi_clear_last_error(void);

/* Copy n bytes into a new malloc'd buffer of n + 1 bytes whose last byte
 * is NUL; src may be NULL when n is 0. Returns NULL when out of memory. */
void *capi_dup_bytes(const void *src, size_t n);

/* free(3), for Go code that must not depend on cgo's C.free spelling. */
void capi_free(void *p);

#endif
