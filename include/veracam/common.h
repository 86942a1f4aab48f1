/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - shared sizes, the byte buffer, errors and the
 * reasons a unit can be rejected.
 */
#ifndef VERACAM_COMMON_H
#define VERACAM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VC_PUBKEY_LEN		32	/* raw Ed25519 public key */
#define VC_KEY_ID_LEN		16	/* SHA-256(raw public key), first 16 bytes */
#define VC_SESSION_ID_LEN	16
#define VC_HASH_LEN		32	/* SHA-256 */
#define VC_SIG_LEN		64	/* Ed25519 */
#define VC_HUB_MAX_CAMERAS	4	/* cameras one hub shows: its 2x2 grid */

/* A growable byte buffer. Zero-initialise; vc_buf_free() releases it. */
struct vc_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

int vc_buf_reserve(struct vc_buf *b, size_t cap);
void vc_buf_free(struct vc_buf *b);

/*
 * Functions returning -1 (or NULL) leave a one-line, human readable
 * explanation here, per thread, until the next failure. Never contains
 * key material.
 */
const char *vc_last_error(void);

/*
 * The three secret-handling primitives the rooms outside core/ need, so that
 * none of them includes OpenSSL: vc_random() fills @out from the CSPRNG (0,
 * or -1 when it cannot), vc_equal() compares in constant time (true when
 * equal: keys, hashes, MACs), vc_wipe() clears memory the compiler may not
 * optimise away (NULL is allowed).
 */
int vc_random(void *out, size_t len);
bool vc_equal(const void *a, const void *b, size_t len);
void vc_wipe(void *p, size_t len);

/* Lowercase hex; out must hold 2 * len + 1 bytes. */
void vc_hex(const uint8_t *in, size_t len, char *out);
/* Exactly hexlen lowercase hex digits (hexlen even); 0 or -1. */
int vc_unhex(const char *in, size_t hexlen, uint8_t *out);

/*
 * url as it may be shown (logs, status, errors): a userinfo part
 * (scheme://user:password@host) becomes "***" so that credentials in a
 * store's URL are never printed. out (cap bytes, truncated) is returned.
 */
const char *vc_url_redact(const char *url, char *out, size_t cap);

/*
 * Why a received unit was not accepted. Every value is counted by the
 * verifier (see verify.h); vc_reject_name() gives a stable short name
 * for logs and status output.
 */
enum vc_reject {
	VC_OK = 0,
	/* open stage (seal.c): the unit does not change the verifier's state */
	VC_REJ_MALFORMED,	/* sealed header or length wrong */
	VC_REJ_UNIT_VERSION,	/* sealed unit version/cipher/type not ours */
	VC_REJ_OTHER_SESSION,	/* sealed for another session id */
	VC_REJ_DECRYPT,		/* AEAD authentication failed */
	VC_REJ_REPLAY,		/* duplicate or older than the replay window */
	/* verify stage (verify.c): authentic for this session, then refused;
	 * the verifier then waits for the next signed IDR */
	VC_REJ_NO_RECORD,	/* no veracam SEI in the access unit */
	VC_REJ_RECORD,		/* record or SEI malformed (length, padding) */
	VC_REJ_RECORD_VERSION,	/* record version not supported */
	VC_REJ_KEY_ID,		/* signed by another camera */
	VC_REJ_SIGNATURE,	/* signature does not verify under the pinned key */
	VC_REJ_AU_HASH,		/* record belongs to other media */
	VC_REJ_SESSION,		/* record not made for this session */
	VC_REJ_SOURCE,		/* signed for another capture source than pinned */
	VC_REJ_SEQUENCE,	/* sequence does not advance */
	VC_REJ_GAP,		/* frames missing before a non-IDR frame */
	VC_REJ_CHAIN,		/* previous-record hash does not link */
	VC_REJ_STALE,		/* captured longer ago than the freshness window */
	VC_REJ_FUTURE,		/* capture time ahead of the clock */
	VC_REJ_AWAIT_IDR,	/* after a reject: non-IDR frame dropped */
	VC_REJ__COUNT
};

const char *vc_reject_name(enum vc_reject r);

#endif /* VERACAM_COMMON_H */
