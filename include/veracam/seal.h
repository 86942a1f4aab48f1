/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - sealed units: the only bytes that travel on
 * the media path. A 32-byte header (authenticated as AEAD associated
 * data), the encrypted payload, a 16-byte tag. This file is the one
 * place the framing is defined; transports carry units whole.
 */
#ifndef VERACAM_SEAL_H
#define VERACAM_SEAL_H

#include <stdint.h>
#include <veracam/common.h>
#include <veracam/session.h>

#define VC_UNIT_VERSION		1
#define VC_UNIT_TYPE_AU		1	/* payload: a signed access unit */
#define VC_UNIT_HEADER_LEN	32
#define VC_UNIT_TAG_LEN		16
#define VC_UNIT_MAX_PAYLOAD	(16u << 20)
#define VC_REPLAY_WINDOW	64

struct vc_unit_header {
	uint8_t version;
	uint8_t type;
	uint8_t cipher;
	uint8_t session_id[VC_SESSION_ID_LEN];
	uint64_t seq;
	uint32_t payload_len;
};

/*
 * Parse the header at the start of p (at least VC_UNIT_HEADER_LEN bytes).
 * On VC_OK, *unit_len is the whole unit's length: what a stream transport
 * reads before handing the unit to vc_open(). VC_REJ_MALFORMED or
 * VC_REJ_UNIT_VERSION otherwise.
 */
enum vc_reject vc_unit_header_parse(const uint8_t *p, size_t len,
				    struct vc_unit_header *h, size_t *unit_len);

struct vc_sealer;	/* one per session and direction: owns the sequence */
struct vc_opener;	/* the receiving end: owns the replay window */

struct vc_sealer *vc_sealer_new(const struct vc_media_key *key,
				const uint8_t session_id[VC_SESSION_ID_LEN]);
void vc_sealer_free(struct vc_sealer *s);
/* Encrypt one payload into out (replacing its contents). */
int vc_seal(struct vc_sealer *s, const uint8_t *payload, size_t len, struct vc_buf *out);

struct vc_opener *vc_opener_new(const struct vc_media_key *key,
				const uint8_t session_id[VC_SESSION_ID_LEN]);
void vc_opener_free(struct vc_opener *o);
/*
 * Check header, replay window and tag; on VC_OK the plaintext is in out
 * and the unit's sequence in *seq. Rejects leave the window unchanged.
 */
enum vc_reject vc_open(struct vc_opener *o, const uint8_t *unit, size_t len,
		       struct vc_buf *out, uint64_t *seq);

#endif /* VERACAM_SEAL_H */
