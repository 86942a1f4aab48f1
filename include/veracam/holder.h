/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - the camera's key holder (docs/ARCHITECTURE.md
 * "Key custody", request format in docs/PROTOCOL.md §14).
 *
 * The holder is a child process forked before the camera opens anything
 * from the network. It alone reads device.key; it then installs a seccomp
 * filter, and answers, over one SOCK_SEQPACKET socketpair, exactly three
 * fixed-size requests: its public key, the signature of a frame record, an
 * event frame record or an event manifest of this camera, and the
 * signature of a TLS 1.3 server CertificateVerify.
 * Anything else is refused and counted.
 *
 * The network process holds a "remote" struct vc_device_key
 * (vc_holder_spawn): the same public key and id, no seed; its records are
 * signed by the holder (vc_record_sign), and its EVP_PKEY belongs to a
 * small OpenSSL provider that forwards TLS's CertificateVerify signature to
 * the holder. A remote key refuses every other signature.
 */
#ifndef VERACAM_HOLDER_H
#define VERACAM_HOLDER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <veracam/keys.h>
#include <veracam/record.h>

#define VC_HOLDER_VERSION	1
#define VC_HOLDER_HDR_LEN	8
#define VC_HOLDER_BODY_MAX	VC_RECORD_MAX_LEN	/* the largest request body */
#define VC_HOLDER_REQ_MAX	(VC_HOLDER_HDR_LEN + VC_HOLDER_BODY_MAX)
#define VC_HOLDER_REPLY_LEN	(VC_HOLDER_HDR_LEN + VC_SIG_LEN)	/* always this long */

/* The OpenSSL property query of a TLS context that signs through the holder. */
#define VC_HOLDER_PROPQ		"?provider=veracam-holder"

enum vc_holder_op {
	VC_HOLDER_OP_PUBLIC = 1,	/* body empty; reply: public key (32) */
	VC_HOLDER_OP_RECORD = 2,	/* body: an encoded record; reply: its signature */
	VC_HOLDER_OP_TLS13 = 3,		/* body: CertificateVerify content; reply: signature */
	VC_HOLDER_OP_EVENT_RECORD = 4,	/* body: an encoded event record; reply: its signature */
	VC_HOLDER_OP_MANIFEST = 5,	/* body: an encoded event manifest; reply: its signature */
};

enum vc_holder_status {
	VC_HOLDER_OK = 0,
	VC_HOLDER_REFUSED = 1,		/* not a well-formed request of this camera */
	VC_HOLDER_FAILED = 2,		/* well formed, but signing failed */
};

/*
 * The holder's side, pure (no I/O): answer one request of len bytes for
 * key k into reply (VC_HOLDER_REPLY_LEN bytes). *refused counts refused
 * requests and is echoed in each reply. Returns the reply's status.
 */
enum vc_holder_status vc_holder_answer(const struct vc_device_key *k, const uint8_t *req,
				       size_t len, uint32_t *refused,
				       uint8_t reply[VC_HOLDER_REPLY_LEN]);

/*
 * Install the holder's sandbox on the calling (single-threaded) process:
 * PR_SET_DUMPABLE 0, no new privileges, and a seccomp filter that kills
 * the process on any system call but reading and writing its socket,
 * memory management, futex and exit. 0 or -1.
 */
int vc_holder_sandbox(void);

/*
 * Fork the key holder for the key in keys_dir. Call while the process is
 * still single-threaded and before it opens anything from the network:
 * the child closes every descriptor but stdin/out/err and its socket,
 * loads the key, sandboxes itself and serves until its socket closes. The
 * parent never opens the key file; it gets a remote key (see above), or
 * NULL with vc_last_error() telling why (the holder's own reason when
 * it could not load the key). *pid is the holder's pid.
 */
struct vc_device_key *vc_holder_spawn(const char *keys_dir, pid_t *pid);

/* A remote key over an already connected holder socket (tests). */
struct vc_device_key *vc_key_remote(int fd);

/* A remote key's holder socket (to watch for hang-up), or -1 for a local key. */
int vc_key_holder_fd(const struct vc_device_key *k);
/* Requests the holder refused, as it last reported (0 for a local key). */
uint32_t vc_key_holder_refused(const struct vc_device_key *k);
bool vc_key_is_remote(const struct vc_device_key *k);

/*
 * Make OpenSSL's secure heap real (CRYPTO_secure_malloc_init), so that
 * OPENSSL_secure_malloc'd secrets are locked, outside the normal heap and
 * cleared on free. Idempotent. 0, or -1 when it could not be set up (the
 * caller logs it; OpenSSL then falls back to the normal heap).
 */
int vc_secure_heap_init(void);

#endif /* VERACAM_HOLDER_H */
