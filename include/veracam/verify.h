/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - the hub's verifier: a pure state machine (no
 * I/O, no clock reads; the caller passes the time) that accepts a sealed
 * unit only if it opens, its record is signed by the pinned camera for
 * this session (and, if pinned, for the expected capture source), the
 * sequence advances, the chain links and the capture time is fresh. After any reject of an opened unit it accepts nothing
 * until the next signed IDR.
 */
#ifndef VERACAM_VERIFY_H
#define VERACAM_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <veracam/common.h>
#include <veracam/record.h>
#include <veracam/session.h>

#define VC_FRESHNESS_DEFAULT_NS	2000000000LL	/* 2 s */
#define VC_FUTURE_DEFAULT_NS	250000000LL	/* 250 ms */
#define VC_UNCERTAINTY_MAX_NS	1000000000LL	/* clock uncertainty is capped at 1 s */

struct vc_verifier_config {
	const uint8_t *camera_pub;		/* VC_PUBKEY_LEN, the pinned camera */
	const uint8_t *session_id;		/* VC_SESSION_ID_LEN */
	const struct vc_media_key *key;		/* camera-to-hub media key */
	int64_t clock_offset_ns;		/* camera clock - hub clock */
	int64_t clock_uncertainty_ns;		/* widens both bounds (rtt / 2) */
	int64_t freshness_ns;			/* max age; 0 = default */
	int64_t future_ns;			/* max lead; 0 = default */
	const uint8_t *source;			/* VC_HASH_LEN: the only capture source
						 * accepted (vc_source_id()); NULL = any */
};

/* Fill cfg from a hub-side session (freshness/future/source left at defaults). */
void vc_verifier_config_from_session(struct vc_verifier_config *cfg,
				     const struct vc_session_params *p);

/* An accepted access unit; au points into the verifier until the next call. */
struct vc_verified {
	const uint8_t *au;
	size_t au_len;
	uint64_t seq;
	uint64_t capture_ns;
	uint32_t sensor_seq;
	bool has_sensor_seq;
	bool idr;
	int64_t age_ns;				/* hub time - capture time */
	uint8_t source[VC_HASH_LEN];		/* signed capture source id */
};

struct vc_verifier_stats {
	uint64_t accepted;
	uint64_t rejected[VC_REJ__COUNT];	/* index VC_OK unused */
};

struct vc_verifier;

struct vc_verifier *vc_verifier_new(const struct vc_verifier_config *cfg);
void vc_verifier_free(struct vc_verifier *v);

/* One received unit; now_ns is the hub's wall clock (CLOCK_REALTIME). */
enum vc_reject vc_verifier_accept(struct vc_verifier *v, const uint8_t *unit, size_t len,
				  int64_t now_ns, struct vc_verified *out);

const struct vc_verifier_stats *vc_verifier_stats(const struct vc_verifier *v);
/* True while waiting for a signed IDR (at start and after a reject). */
bool vc_verifier_awaiting_idr(const struct vc_verifier *v);

#endif /* VERACAM_VERIFY_H */
