/* SPDX-License-Identifier: GPL-2.0 */
/* veracam security core - helpers shared by the library's own files. */
#ifndef VERACAM_CORE_INTERNAL_H
#define VERACAM_CORE_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <openssl/types.h>
#include <veracam/common.h>
#include <veracam/holder.h>
#include <veracam/pairing.h>

#if defined(__GNUC__)
#define VC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define VC_PRINTF(a, b)
#endif

/* Set the thread's last error; always returns -1 for "return vc_err(...)". */
int vc_err(const char *fmt, ...) VC_PRINTF(1, 2);
/* Same, appending OpenSSL's first queued error (and clearing the queue). */
int vc_err_ssl(const char *fmt, ...) VC_PRINTF(1, 2);

#define VC_KEY_SK_LEN	64	/* libsodium's Ed25519 secret key: seed || public key */

/*
 * A device key. Local (the key holder, veracamctl, the hub, tests): sk is
 * set, in sodium_malloc'd memory. Remote (the camera's network process,
 * holder.c): sk is NULL, holder_fd is the socket to the key holder, and
 * pkey belongs to holder.c's OpenSSL provider.
 */
struct vc_device_key {
	EVP_PKEY *pkey;			/* TLS */
	uint8_t *sk;			/* records; NULL when remote */
	uint8_t pub[VC_PUBKEY_LEN];
	uint8_t id[VC_KEY_ID_LEN];
	int holder_fd;			/* -1 when local */
	pthread_mutex_t lock;		/* one request at a time on holder_fd */
	/*
	 * The holder's count, from its last reply: written under lock, read
	 * by vc_key_holder_refused() from any thread without it (atomic).
	 */
	uint32_t refused;
	bool holder_gone;
};

/* The key's OpenSSL form, for TLS (session.c) and the core's tests; borrowed. */
EVP_PKEY *vc_key_pkey(const struct vc_device_key *k);

/* A device's X25519 encryption key (enckey.c). */
struct vc_enc_key {
	EVP_PKEY *pkey;
	uint8_t pub[32];
};

/* Take ownership of an X25519 EVP_PKEY (freed on failure). */
struct vc_enc_key *vc_enc_key_wrap(EVP_PKEY *pkey);

/*
 * DIR/NAME: a new private key of OpenSSL algorithm alg ("ED25519",
 * "X25519") as PKCS#8 PEM, mode 0600, DIR made 0700 if needed; an
 * existing NAME is never replaced. 0 or -1.
 */
int vc_keygen_pem(const char *dir, const char *name, const char *alg);
/*
 * Load DIR/NAME with the key file checks of vc_key_load() (regular file,
 * no symlink, mode 0600 or stricter, this user's or root's), any type.
 */
EVP_PKEY *vc_load_pem(const char *dir, const char *name);

/* PREFIX and 64 hex digits of a 32-byte key (identity lines); strict parse, 0 or -1. */
void vc_keyline_format(const char *prefix, const uint8_t key[32], char *out);
int vc_keyline_parse(const char *line, const char *prefix, uint8_t key[32]);

/* libsodium initialised (once per process): 0 or -1. */
int vc_sodium_ready(void);

/* Sign a whole encoded record in the key holder (record.c for a remote key). */
int vc_holder_sign_record(struct vc_device_key *k, uint8_t *rec, size_t len);
/* The same for an operation of holder.h (event records and manifests, event.c). */
int vc_holder_sign(struct vc_device_key *k, enum vc_holder_op op, uint8_t *msg, size_t len);

/*
 * For tests that play a broken peer: vc_session_send() without the event
 * fetch's rules for what this side sends (any type, unasked answers).
 */
struct vc_session;
int vc_session_send_unchecked(struct vc_session *s, unsigned int type, const void *body,
			      size_t len);

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
/*
 * Run as root in a directory another user owns (a service's state
 * directory): hand what we made there (fd, else path) to that owner, so
 * the service can read it. A no-op otherwise. 0 or -1.
 */
int vc_give_to_dir_owner(const char *dir, int fd, const char *path);
int vc_write_file_atomic(const char *dir, const char *name, const void *data,
			 size_t len, unsigned int mode, int exclusive);

/*
 * DIR/SUB (peers/, hub-enc/) into out, made 0700 when create (and given to
 * DIR's owner, see above); refused when it is there but not a real
 * directory: a symlink there (DIR may be a service's, writable by its
 * user, while veracamctl runs as root) would have files written into, or
 * unlinked from, whatever directory it names. 0 or -1.
 */
int vc_key_subdir(const char *dir, const char *sub, char *out, size_t cap, bool create);

/* fsync a directory, making a rename or unlink in it durable. */
int vc_fsync_dir(const char *dir);

/* Read a whole small regular file (no symlinks) into buf; returns length or -1. */
/*
 * Read a regular file of at most @cap bytes (no symlink, no FIFO). @own: it
 * must also be this user's or root's and writable by its owner alone.
 */
long vc_read_small_file(const char *path, char *buf, size_t cap, bool own);

/*
 * A TLS 1.3 context for key in role (client for the hub, server for the
 * camera) with its self-signed certificate, asking for the peer's and
 * handing its leaf to check (which replaces chain verification). Not
 * cached: the caller frees it. session.c.
 */
SSL_CTX *vc_tls_ctx_new(const struct vc_device_key *dk, enum vc_role role,
		       int (*check)(X509_STORE_CTX *, void *), void *arg);

#endif /* VERACAM_CORE_INTERNAL_H */
