/* SPDX-License-Identifier: GPL-2.0 */
/* veracam security core - helpers shared by the library's own files. */
#ifndef VERACAM_CORE_INTERNAL_H
#define VERACAM_CORE_INTERNAL_H

#include <stdint.h>
#include <veracam/common.h>

#if defined(__GNUC__)
#define VC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VC_PRINTF(a, b)
#endif

/* Set the thread's last error; always returns -1 for "return vc_err(...)". */
int vc_err(const char *fmt, ...) VC_PRINTF(1, 2);
/* Same, appending OpenSSL's first queued error (and clearing the queue). */
int vc_err_ssl(const char *fmt, ...) VC_PRINTF(1, 2);

static inline void vc_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void vc_put_be64(uint8_t *p, uint64_t v)
{
	vc_put_be32(p, (uint32_t)(v >> 32));
	vc_put_be32(p + 4, (uint32_t)v);
}

static inline uint32_t vc_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t vc_get_be64(const uint8_t *p)
{
	return (uint64_t)vc_get_be32(p) << 32 | vc_get_be32(p + 4);
}

/*
 * Write data to DIR/NAME atomically with the given mode: temp file in
 * DIR, fsync, rename (or link, when exclusive: refuse an existing NAME),
 * fsync DIR.
 */
int vc_write_file_atomic(const char *dir, const char *name, const void *data,
			 size_t len, unsigned int mode, int exclusive);

/* fsync a directory, making a rename or unlink in it durable. */
int vc_fsync_dir(const char *dir);

/* Read a whole small regular file (no symlinks) into buf; returns length or -1. */
long vc_read_small_file(const char *path, char *buf, size_t cap);

#endif /* VERACAM_CORE_INTERNAL_H */
