/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - the hub's verifier: a pure state machine (no
 * I/O, no clock reads; the caller passes the time) that accepts a sealed
 * unit only if it opens, its record is signed by the pinned camera for
 * this session (and, if pinned, for the expected capture source), the
 * sequence advances, the chain links and the frame is provably fresh:
 * the challenge it names was sent, on the hub's monotonic clock, no
 * longer ago than the window minus the camera's signed delay. After any
 * reject of an opened unit it accepts nothing until the next signed IDR.
 *
 * Every time passed in (challenge0_ns, vc_verifier_challenge(),
 * vc_verifier_accept()) is read from the same clock, the hub's
 * CLOCK_MONOTONIC; wall clocks play no part in the decision.
 */
#ifndef VERACAM_VERIFY_H
#define VERACAM_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <veracam/common.h>
#include <veracam/record.h>
#include <veracam/session.h>

#define VC_FRESHNESS_DEFAULT_NS	2000000000LL	/* 2 s */
/*
 * Send times remembered: challenges older than the newest 256 are refused
 * as stale, so freshness / challenge interval must stay below 256 (2 s at
 * one challenge per 100 ms uses 20).
 */
#define VC_CHALLENGES_KEPT	256

struct vc_verifier_config {
	const uint8_t *camera_pub;		/* VC_PUBKEY_LEN, the pinned camera */
	const uint8_t *session_id;		/* VC_SESSION_ID_LEN */
	const struct vc_media_key *key;		/* camera-to-hub media key */
	int64_t challenge0_ns;			/* CLOCK_MONOTONIC when the hub wrote its
						 * session hello: challenge 0 */
	int64_t freshness_ns;			/* max age bound; 0 = default */
	const uint8_t *source;			/* VC_HASH_LEN: the only capture source
						 * accepted (vc_source_id()); NULL = any */
};

/* Fill cfg from a hub-side session (freshness/source left at defaults). */
void vc_verifier_config_from_session(struct vc_verifier_config *cfg,
				     const struct vc_session_params *p);

/* An accepted access unit; au points into the verifier until the next call. */
struct vc_verified {
	const uint8_t *au;
	size_t au_len;
	uint64_t seq;
	uint64_t capture_ns;			/* camera wall clock: display only */
	uint32_t sensor_seq;
	bool has_sensor_seq;
	bool idr;
	int64_t age_ns;				/* bound on the frame's age at now:
						 * (now - sent(challenge)) + delay */
	uint8_t source[VC_HASH_LEN];		/* signed capture source id */
};

struct vc_verifier_stats {
	uint64_t accepted;
	uint64_t rejected[VC_REJ__COUNT];	/* index VC_OK unused */
};

struct vc_verifier;

struct vc_verifier *vc_verifier_new(const struct vc_verifier_config *cfg);
void vc_verifier_free(struct vc_verifier *v);

/*
 * The next challenge number (1, 2, ...); remembers now (CLOCK_MONOTONIC,
 * non-decreasing: a smaller value is taken as the previous send time) as
 * its send time. The caller sends the number to the camera on the control
 * channel right after this call.
 */
uint64_t vc_verifier_challenge(struct vc_verifier *v, int64_t now_mono_ns);

/* One received unit; now_mono_ns is the hub's CLOCK_MONOTONIC. */
enum vc_reject vc_verifier_accept(struct vc_verifier *v, const uint8_t *unit, size_t len,
				  int64_t now_mono_ns, struct vc_verified *out);

const struct vc_verifier_stats *vc_verifier_stats(const struct vc_verifier *v);
/* True while waiting for a signed IDR (at start and after a reject). */
bool vc_verifier_awaiting_idr(const struct vc_verifier *v);

#endif /* VERACAM_VERIFY_H */
