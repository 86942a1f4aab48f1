/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - the camera's key holder (docs/ARCHITECTURE.md
 * "Key custody", request format in docs/PROTOCOL.md §14).
 *
 * The holder is a child process forked before the camera opens anything
 * from the network. It alone reads device.key; it then installs a seccomp
 * filter, and answers, over one SOCK_SEQPACKET socketpair, fixed-size
 * requests: its public key, the signature of a frame record, an event
 * frame record or an event manifest of this camera, the signature of a
 * TLS 1.3 server CertificateVerify, and the event chain head it keeps.
 * Anything else is refused and counted.
 *
 * The holder keeps the camera's event chain head (the last manifest it
 * signed) in DIR/event-chain and signs a manifest only when it is the
 * next one of that chain: a network process taken over cannot fork the
 * chain or sign an old position again (docs/PROTOCOL.md §14).
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

#include <veracam/event.h>
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
	VC_HOLDER_OP_EVENT_HEAD = 6,	/* body empty; reply: the event chain head */
};

enum vc_holder_status {
	VC_HOLDER_OK = 0,
	VC_HOLDER_REFUSED = 1,		/* not a well-formed request of this camera */
	VC_HOLDER_FAILED = 2,		/* well formed, but signing (or keeping the head) failed */
	VC_HOLDER_REFUSED_CHAIN = 3,	/* a manifest that is not the next of the chain head */
};

/* The camera's event chain head: the last manifest the holder signed. */
struct vc_event_head {
	bool set;				/* false: none yet, the next is number 0 */
	uint64_t number;
	uint8_t hash[VC_HASH_LEN];		/* SHA-256 of the signed manifest */
	uint8_t event_id[VC_EVENT_ID_LEN];
};

/* What the holder keeps between requests. */
struct vc_holder_state {
	uint32_t refused;		/* requests refused so far, echoed in each reply */
	struct vc_event_head head;
	int head_fd;			/* DIR/event-chain, or -1: in memory only (tests) */
	uint64_t head_gen;		/* generation of the slot last written */
};

/* Nothing refused, no head, kept in memory only. */
void vc_holder_state_init(struct vc_holder_state *st);
/*
 * Open (or create, 0600) DIR/event-chain and read the head of the key
 * with key_id from it (a head of another key counts as none). Refuses a
 * symlink, another file type, access for group or others, another owner
 * than this user or root, a file longer than its two copies, and one whose copies are
 * both damaged (a shorter file without a whole copy: a first write that
 * never completed, no head). 0 or -1. Called by the holder before its sandbox.
 */
int vc_holder_head_open(struct vc_holder_state *st, const char *dir,
			const uint8_t key_id[VC_KEY_ID_LEN]);

/*
 * The holder's side, no I/O but the chain head's file (none when
 * st->head_fd is -1): answer one request of len bytes for key k into
 * reply (VC_HOLDER_REPLY_LEN bytes). Refusals (_REFUSED, _REFUSED_CHAIN)
 * are counted in st->refused, echoed in each reply. A manifest's signature
 * leaves only once the new head is on disk. Returns the reply's status.
 */
enum vc_holder_status vc_holder_answer(const struct vc_device_key *k,
				       struct vc_holder_state *st, const uint8_t *req,
				       size_t len, uint8_t reply[VC_HOLDER_REPLY_LEN]);

/*
 * Install the holder's sandbox on the calling (single-threaded) process:
 * PR_SET_DUMPABLE 0, no new privileges, and a seccomp filter that kills
 * the process on any system call but reading and writing its socket,
 * pwrite and fdatasync (the chain head file),
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

/*
 * The network process's view of the chain head (operation 6): where its
 * next event starts (number head->number + 1 after head->hash, or 0 when
 * !head->set). 0, or -1 for a local key or a holder that is gone.
 */
int vc_holder_event_head(struct vc_device_key *k, struct vc_event_head *head);

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
