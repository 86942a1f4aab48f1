/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - the frame record: what the camera signs for
 * each access unit, and the signer object the camera calls once per AU.
 */
#ifndef VERACAM_RECORD_H
#define VERACAM_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <veracam/common.h>
#include <veracam/keys.h>

#define VC_RECORD_VERSION	3
#define VC_RECORD_MAX_SESSIONS	8
#define VC_RECORD_FIXED_LEN	136	/* bytes before the session entries */
#define VC_RECORD_ENTRY_LEN	32	/* session id, challenge, delay */
#define VC_SOURCE_MAX_LEN	255	/* longest stable identity string */
#define VC_RECORD_LEN(n)	(VC_RECORD_FIXED_LEN + (n) * VC_RECORD_ENTRY_LEN + VC_SIG_LEN)
#define VC_RECORD_MAX_LEN	VC_RECORD_LEN(VC_RECORD_MAX_SESSIONS)	/* 456 */

#define VC_RECORD_F_IDR		0x01
#define VC_RECORD_F_SENSOR_SEQ	0x02	/* sensor_seq is present */

/*
 * One hub session the record is made for, with the freshness proof for
 * that hub: the newest challenge the camera had received from it when it
 * signed, and how long before receiving that challenge the frame was
 * captured (docs/PROTOCOL.md §6 and §9 rule 15).
 */
struct vc_record_session {
	uint8_t id[VC_SESSION_ID_LEN];
	uint64_t challenge;	/* newest challenge number received from that hub session */
	uint64_t delay_ns;	/* vc_challenge_delay() */
};

struct vc_record {
	uint8_t version;
	uint8_t flags;
	uint8_t n_sessions;
	uint8_t key_id[VC_KEY_ID_LEN];
	uint64_t seq;
	uint64_t capture_ns;		/* wall clock, ns since the Unix epoch; display only */
	uint32_t sensor_seq;
	uint8_t au_hash[VC_HASH_LEN];
	uint8_t prev_hash[VC_HASH_LEN];
	uint8_t source[VC_HASH_LEN];	/* the capture source, vc_source_id() */
	struct vc_record_session sessions[VC_RECORD_MAX_SESSIONS];
	uint8_t sig[VC_SIG_LEN];
};

/* Serialize; returns the length (VC_RECORD_LEN(n_sessions)) or -1. */
int vc_record_encode(const struct vc_record *r, uint8_t out[VC_RECORD_MAX_LEN]);
/* Strict parse: VC_OK, VC_REJ_RECORD or VC_REJ_RECORD_VERSION. */
enum vc_reject vc_record_parse(const uint8_t *p, size_t len, struct vc_record *r);
/*
 * Sign bytes [0, len - 64) of an encoded record into its last 64 bytes
 * (the message is "veracam1 record" 00 || those bytes; vc_ed25519_sign).
 */
int vc_record_sign(const struct vc_device_key *key, uint8_t *rec, size_t len);
/* 1 if the signature of an encoded record verifies under pub, else 0. */
int vc_record_verify(const uint8_t pub[VC_PUBKEY_LEN], const uint8_t *rec, size_t len);
/* The chain hash: SHA-256 of the whole encoded record. */
int vc_record_hash(const uint8_t *rec, size_t len, uint8_t out[VC_HASH_LEN]);

/*
 * The source id of a capture device's stable identity (e.g. "id:<hex>" or
 * "bus:<bus_info>;serial:<serial>", 1..VC_SOURCE_MAX_LEN bytes, no NUL):
 * SHA-256("veracam source v1" 00 || stable). 0, or -1 for a bad string.
 */
int vc_source_id(const char *stable, uint8_t out[VC_HASH_LEN]);

/*
 * The delay of a record entry, on the camera's monotonic clock: how long
 * before the challenge was received the frame was captured, 0 when it was
 * captured after (max(0, received - capture), exact for any two values).
 */
uint64_t vc_challenge_delay(int64_t capture_mono_ns, int64_t received_mono_ns);

/* Camera side: numbers, chains and signs the stream's access units. */
struct vc_signer;

struct vc_frame_info {
	uint64_t capture_ns;		/* capture time, wall clock ns (display only) */
	uint32_t sensor_seq;		/* from the metadata node, when known */
	bool has_sensor_seq;
};

/* The key is borrowed: it must outlive the signer. */
struct vc_signer *vc_signer_new(const struct vc_device_key *key);
void vc_signer_free(struct vc_signer *s);

/*
 * The capture source whose frames the signer signs from now on (its
 * stable identity, see vc_source_id()). The signer refuses to sign
 * before a source is set. 0, or -1 for a bad string.
 */
int vc_signer_set_source(struct vc_signer *s, const char *stable);

/*
 * Sign one Annex-B access unit for the listed sessions (1 to
 * VC_RECORD_MAX_SESSIONS, each with its newest challenge and delay): hash
 * its NAL units, build and sign the record (sequence +1, chained to the
 * previous one, IDR flag from the NAL types) and write the AU with the
 * record's SEI inserted before its first slice to out. The same output is
 * then sealed once per session.
 */
int vc_signer_sign(struct vc_signer *s, const struct vc_frame_info *info,
		   const struct vc_record_session *sessions, size_t n, const uint8_t *au,
		   size_t au_len, struct vc_buf *out);

/* The record of the last vc_signer_sign() call (for tests and logs). */
const struct vc_record *vc_signer_last(const struct vc_signer *s);

#endif /* VERACAM_RECORD_H */
