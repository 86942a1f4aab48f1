// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - buffers, errors, hex, the CSPRNG, constant-time
 * compare and wipe, and the atomic file write every persistent file of the
 * library goes through.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "internal.h"

static _Thread_local char last_error[256];

const char *vc_last_error(void)
{
	return last_error[0] ? last_error : "no error";
}

int vc_err(const char *fmt, ...)
{
	char msg[sizeof(last_error)];	/* the arguments may be the last error itself */
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(last_error, msg, sizeof(msg));
	return -1;
}

int vc_err_ssl(const char *fmt, ...)
{
	unsigned long e = ERR_get_error();
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	n = strlen(last_error);
	if (e && n + 3 < sizeof(last_error)) {
		memcpy(last_error + n, ": ", 3);
		ERR_error_string_n(e, last_error + n + 2, sizeof(last_error) - n - 2);
	}
	ERR_clear_error();
	return -1;
}

int vc_buf_reserve(struct vc_buf *b, size_t cap)
{
	uint8_t *p;

	if (cap <= b->cap)
		return 0;
	p = realloc(b->data, cap);
	if (!p)
		return vc_err("out of memory (%zu bytes)", cap);
	b->data = p;
	b->cap = cap;
	return 0;
}

void vc_buf_free(struct vc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

int vc_random(void *out, size_t len)
{
	if (len > INT_MAX || RAND_bytes(out, (int)len) != 1)
		return vc_err_ssl("no random bytes");
	return 0;
}

bool vc_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void vc_wipe(void *p, size_t len)
{
	if (p)
		OPENSSL_cleanse(p, len);
}

void vc_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

/* Lowercase only: every hex text the core reads has exactly one spelling. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int vc_unhex(const char *in, size_t hexlen, uint8_t *out)
{
	size_t i;

	if (hexlen % 2)
		return -1;
	for (i = 0; i < hexlen; i += 2) {
		int hi = hexval(in[i]), lo = hexval(in[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

const char *vc_url_redact(const char *url, char *out, size_t cap)
{
	const char *auth = strstr(url, "://"), *at = NULL;

	if (auth) {
		auth += 3;
		/* the authority ends at the path, query or fragment */
		for (const char *p = auth; *p && *p != '/' && *p != '?' && *p != '#'; p++)
			if (*p == '@')
				at = p;
	}
	if (at)
		snprintf(out, cap, "%.*s***%s", (int)(auth - url), url, at);
	else
		snprintf(out, cap, "%s", url);
	return out;
}

const char *vc_reject_name(enum vc_reject r)
{
	static const char *const names[VC_REJ__COUNT] = {
		[VC_OK] = "ok",
		[VC_REJ_MALFORMED] = "malformed",
		[VC_REJ_UNIT_VERSION] = "unit-version",
		[VC_REJ_OTHER_SESSION] = "other-session",
		[VC_REJ_DECRYPT] = "decrypt",
		[VC_REJ_REPLAY] = "replay",
		[VC_REJ_NO_RECORD] = "no-record",
		[VC_REJ_RECORD] = "bad-record",
		[VC_REJ_RECORD_VERSION] = "record-version",
		[VC_REJ_KEY_ID] = "wrong-camera",
		[VC_REJ_SIGNATURE] = "bad-signature",
		[VC_REJ_AU_HASH] = "au-hash",
		[VC_REJ_SESSION] = "wrong-session",
		[VC_REJ_SOURCE] = "source",
		[VC_REJ_SEQUENCE] = "sequence",
		[VC_REJ_GAP] = "gap",
		[VC_REJ_CHAIN] = "chain",
		[VC_REJ_STALE] = "stale",
		[VC_REJ_FUTURE] = "future",
		[VC_REJ_AWAIT_IDR] = "await-idr",
	};

	if ((unsigned int)r >= VC_REJ__COUNT)
		return "unknown";
	return names[r];
}

int vc_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = 0;

	if (fd < 0)
		return vc_err("%s: %s", dir, strerror(errno));
	if (fsync(fd) < 0)
		ret = vc_err("%s: fsync: %s", dir, strerror(errno));
	close(fd);
	return ret;
}

int vc_give_to_dir_owner(const char *dir, int fd, const char *path)
{
	struct stat st;

	if (geteuid() != 0)
		return 0;
	if (stat(dir, &st) < 0)
		return vc_err("%s: %s", dir, strerror(errno));
	if (st.st_uid == 0)
		return 0;
	if ((fd >= 0 ? fchown(fd, st.st_uid, st.st_gid) : chown(path, st.st_uid, st.st_gid)) < 0)
		return vc_err("%s: cannot give it to the directory's owner (uid %u): %s",
			      path ? path : dir, (unsigned int)st.st_uid, strerror(errno));
	return 0;
}

int vc_key_subdir(const char *dir, const char *sub, char *out, size_t cap, bool create)
{
	struct stat st;

	if ((size_t)snprintf(out, cap, "%s/%s", dir, sub) >= cap)
		return vc_err("%s: path too long", dir);
	if (create) {
		if (mkdir(out, 0700) == 0)
			return vc_give_to_dir_owner(dir, -1, out);
		if (errno != EEXIST)
			return vc_err("%s: %s", out, strerror(errno));
	}
	if (lstat(out, &st) == 0 && !S_ISDIR(st.st_mode))
		return vc_err("%s: not a directory (a symlink?); refusing to use it", out);
	return 0;
}

int vc_write_file_atomic(const char *dir, const char *name, const void *data,
			 size_t len, unsigned int mode, int exclusive)
{
	char tmp[4096], dst[4096];
	uint8_t rnd[8];
	char rhex[17];
	const uint8_t *p = data;
	int fd, saved;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return vc_err_ssl("random");
	vc_hex(rnd, sizeof(rnd), rhex);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.%s.tmp", dir, name, rhex) >= sizeof(tmp) ||
	    (size_t)snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= sizeof(dst))
		return vc_err("%s/%s: path too long", dir, name);

	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return vc_err("%s: %s", tmp, strerror(errno));
	if (fchmod(fd, mode) < 0 || vc_give_to_dir_owner(dir, fd, NULL) < 0)
		goto fail;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (exclusive) {
		if (link(tmp, dst) < 0)
			goto fail;
		unlink(tmp);
	} else if (rename(tmp, dst) < 0) {
		goto fail;
	}
	return vc_fsync_dir(dir);

fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	if (saved == EEXIST)
		return vc_err("%s exists; refusing to overwrite", dst);
	return vc_err("%s: %s", dst, strerror(saved));
}

long vc_read_small_file(const char *path, char *buf, size_t cap, bool own)
{
	struct stat st;
	size_t got = 0;
	/* O_NONBLOCK: a FIFO put in place of the file cannot hang the open */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);

	if (fd < 0)
		return vc_err("%s: %s", path, strerror(errno));
	/* every check on the file opened, not on its name: no window to swap it */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return vc_err("%s: not a regular file", path);
	}
	if (own && st.st_uid != geteuid() && st.st_uid != 0) {
		close(fd);
		return vc_err("%s: owned by another user", path);
	}
	if (own && (st.st_mode & 0022)) {
		close(fd);
		return vc_err("%s: writable by others than its owner", path);
	}
	if ((size_t)st.st_size > cap) {
		close(fd);
		return vc_err("%s: too large (%lld bytes, at most %zu)", path,
			      (long long)st.st_size, cap);
	}
	while (got < cap) {
		ssize_t n = read(fd, buf + got, cap - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			return vc_err("%s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	return (long)got;
}
