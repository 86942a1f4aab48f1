// SPDX-License-Identifier: GPL-2.0
/*
 * The verifier against every attack of issues 4 and 12: each test feeds
 * the attack itself to a hub verifier and asserts the rejection and reason.
 */
#include <stdint.h>
#include <string.h>

#include <veracam/keys.h>
#include <veracam/record.h>
#include <veracam/seal.h>
#include <veracam/sei.h>
#include <veracam/verify.h>

#include "fixture.h"

#define NOW	FX_NOW_NS	/* camera wall clock at capture: display only */
#define HELLO	FX_HELLO_NS	/* hub CLOCK_MONOTONIC of challenge 0 */
#define SEC	(1000 * FX_MS)

static struct vc_buf copy_of(const struct vc_buf *b)
{
	struct vc_buf c = { 0 };

	vc_buf_reserve(&c, b->len);
	memcpy(c.data, b->data, b->len);
	c.len = b->len;
	return c;
}

/* Seal arbitrary AU bytes with p's session key (an attacker who has it). */
static void seal_raw(struct fx_pipe *p, const uint8_t *au, size_t len, struct vc_buf *unit)
{
	vc_seal(p->sealer, au, len, unit);
}

/*
 * Re-sign p's last record after edit(), with key k, and insert it into
 * p->au again; leaves the forged AU in out.
 */
static void forge(struct fx_pipe *p, struct vc_device_key *k, void (*edit)(struct vc_record *),
		  struct vc_buf *out)
{
	uint8_t enc[VC_RECORD_MAX_LEN];
	struct vc_record r = *vc_signer_last(p->signer);
	struct vc_au_scan scan;
	int len;

	if (edit)
		edit(&r);
	len = vc_record_encode(&r, enc);
	vc_record_sign(k, enc, (size_t)len);
	vc_au_scan(p->au.data, p->au.len, &scan);
	vc_sei_insert(p->au.data, p->au.len, &scan, enc, (size_t)len, out);
}

static void accepts_a_signed_stream(void)
{
	struct fx_pipe p;
	struct vc_verified v;
	uint8_t source[VC_HASH_LEN];
	int i;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(vc_source_id(p.source, source) == 0);
	for (i = 0; i < 40; i++) {
		fx_require(fx_pipe_frame(&p, i % 10 == 0, (uint64_t)(NOW - 30 * FX_MS)) == 0);
		fx_assert_reject(vc_verifier_accept(p.ver, p.unit.data, p.unit.len, p.now, &v),
				 VC_OK);
		g_assert_cmpint(v.seq, ==, (uint64_t)i);
		g_assert_cmpint(v.idr, ==, i % 10 == 0);
		g_assert_true(v.has_sensor_seq && v.sensor_seq == (uint32_t)i);
		/* the bound: 30 ms since challenge 0 went, delay 0; capture time handed out */
		g_assert_cmpint(v.age_ns, ==, 30 * FX_MS);
		g_assert_cmpint(v.capture_ns, ==, (uint64_t)(NOW - 30 * FX_MS));
		/* the signed capture source is handed out */
		g_assert_cmpmem(v.source, VC_HASH_LEN, source, VC_HASH_LEN);
		/* the AU handed on is the signed AU, byte for byte */
		g_assert_true(v.au_len == p.signed_au.len &&
			      !memcmp(v.au, p.signed_au.data, v.au_len));
	}
	g_assert_cmpint(vc_verifier_stats(p.ver)->accepted, ==, 40);
	fx_pipe_fini(&p);
}

static void chacha_stream_verifies(void)
{
	struct fx_pipe p;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_CHACHA20POLY1305) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_pipe_fini(&p);
}

static void first_frame_must_be_idr(void)
{
	struct fx_pipe p;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_AWAIT_IDR);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_pipe_fini(&p);
}

/* An attacker signs with their own key but claims the pinned camera's key id. */
static void wrong_key_is_rejected(void)
{
	struct fx_pipe p;
	struct vc_device_key *mallory = fx_key(66);
	struct vc_buf au = { 0 }, unit = { 0 };

	fx_require(mallory && fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	forge(&p, mallory, NULL, &au);
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_SIGNATURE);
	g_assert_cmpint(vc_verifier_stats(p.ver)->rejected[VC_REJ_SIGNATURE], ==, 1);
	g_assert_cmpint(vc_verifier_stats(p.ver)->accepted, ==, 0);
	vc_buf_free(&au);
	vc_buf_free(&unit);
	vc_key_free(mallory);
	fx_pipe_fini(&p);
}

/*
 * Another camera's perfectly valid frame (its own key, even made for this
 * session id) reaches this hub: the misrouted-cache incident.
 */
static void other_cameras_valid_frame_is_rejected(void)
{
	struct fx_pipe mine, other;

	fx_require(fx_pipe_init(&mine, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_init(&other, 2, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&other, true, NOW) == 0);
	/* made for this very session id and sealed with its key: opens, not ours */
	seal_raw(&mine, other.signed_au.data, other.signed_au.len, &other.unit);
	fx_assert_reject(fx_pipe_deliver(&mine, &other.unit), VC_REJ_KEY_ID);
	/* and the honest camera's IDR is accepted afterwards */
	fx_require(fx_pipe_frame(&mine, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&mine, &mine.unit), VC_OK);
	fx_pipe_fini(&mine);
	fx_pipe_fini(&other);
}

/* The right camera's valid frame from another session (other hub, earlier session, recording). */
static void other_sessions_valid_frame_is_rejected(void)
{
	struct fx_pipe s1, s2;
	struct vc_buf unit = { 0 };

	fx_require(fx_pipe_init(&s1, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_init(&s2, 1, 2, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&s2, true, NOW) == 0);
	/* replayed as is: sealed for the other session */
	fx_assert_reject(fx_pipe_deliver(&s1, &s2.unit), VC_REJ_OTHER_SESSION);
	/* header rewritten to this session id: the tag no longer verifies */
	unit = copy_of(&s2.unit);
	memcpy(unit.data + 4, s1.session_id, VC_SESSION_ID_LEN);
	fx_assert_reject(fx_pipe_deliver(&s1, &unit), VC_REJ_DECRYPT);
	/* re-sealed with this session's key (a relay holding it): the signed session id fails */
	seal_raw(&s1, s2.signed_au.data, s2.signed_au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&s1, &unit), VC_REJ_SESSION);
	vc_buf_free(&unit);
	fx_pipe_fini(&s1);
	fx_pipe_fini(&s2);
}

/* A verifier of p's session with another window (p->ver replaced). */
static int set_window(struct fx_pipe *p, int64_t freshness_ns)
{
	struct vc_verifier_config cfg;

	fx_pipe_config(p, &cfg);
	cfg.freshness_ns = freshness_ns;
	vc_verifier_free(p->ver);
	p->ver = vc_verifier_new(&cfg);
	return p->ver ? 0 : -1;
}

/*
 * Rule 15 at its edge: bound = (now - sent(challenge)) + delay. A bound 1 ns
 * over the window is stale; exactly the window is shown, with age_ns = bound.
 */
static void bound_just_over_window_is_stale(void)
{
	struct fx_pipe p;
	struct vc_verified v;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_challenge(&p, HELLO + 100 * FX_MS) == 1);
	p.delay_ns = 300 * FX_MS;
	/* now - sent = 1.7 s + 1 ns, + 300 ms delay: the default 2 s window plus 1 ns */
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(p.ver, p.unit.data, p.unit.len,
					    HELLO + 1800 * FX_MS + 1, &v), VC_REJ_STALE);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(p.ver, p.unit.data, p.unit.len, HELLO + 1800 * FX_MS,
					    &v), VC_OK);
	g_assert_cmpint(v.age_ns, ==, VC_FRESHNESS_DEFAULT_NS);
	g_assert_cmpint(vc_verifier_stats(p.ver)->rejected[VC_REJ_STALE], ==, 1);

	/* a configured window (500 ms) replaces the default, same edge */
	fx_require(set_window(&p, 500 * FX_MS) == 0);
	p.challenge = 0;
	p.delay_ns = 100 * FX_MS;
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(p.ver, p.unit.data, p.unit.len, HELLO + 400 * FX_MS + 1,
					    &v), VC_REJ_STALE);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(p.ver, p.unit.data, p.unit.len, HELLO + 400 * FX_MS,
					    &v), VC_OK);
	g_assert_cmpint(v.age_ns, ==, 500 * FX_MS);
	fx_pipe_fini(&p);
}

/* A signed delay no window can hold, up to values with no representable bound. */
static void huge_delay_is_stale(void)
{
	static const uint64_t delays[] = {
		VC_FRESHNESS_DEFAULT_NS + 1, 3600 * (uint64_t)SEC, (uint64_t)INT64_MAX,
		(uint64_t)INT64_MAX + 1, UINT64_MAX,
	};
	struct fx_pipe p;
	size_t i;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	p.now = HELLO;		/* the challenge just went: the delay alone decides */
	for (i = 0; i < sizeof(delays) / sizeof(delays[0]); i++) {
		p.delay_ns = delays[i];
		fx_require(fx_pipe_frame(&p, true, NOW) == 0);
		fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_STALE);
	}
	/* and a large elapsed time plus a large delay does not wrap round */
	p.now = INT64_MAX;
	p.delay_ns = (uint64_t)INT64_MAX - 5;
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_STALE);
	p.now = HELLO;
	p.delay_ns = VC_FRESHNESS_DEFAULT_NS;
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_pipe_fini(&p);
}

/* A signed record naming a challenge the hub never sent: a broken or compromised camera. */
static void challenge_never_sent_is_future(void)
{
	struct fx_pipe p;
	struct vc_verified v;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	p.challenge = 1;
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_FUTURE);
	p.challenge = UINT64_MAX;
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_FUTURE);
	/* sent, but after the time the caller says the unit arrived */
	fx_require(fx_pipe_challenge(&p, p.now + 1) == 1);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_FUTURE);
	g_assert_cmpint(vc_verifier_stats(p.ver)->rejected[VC_REJ_FUTURE], ==, 3);
	/* once it has gone, the same number is fine */
	p.now += 10 * FX_MS;
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	/* a clock read going backwards is taken as the previous send time (1 ns after now) */
	g_assert_cmpint(vc_verifier_challenge(p.ver, HELLO), ==, 2);
	p.challenge = 2;
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(p.ver, p.unit.data, p.unit.len, p.now, &v), VC_OK);
	g_assert_cmpint(v.age_ns, ==, 10 * FX_MS - 1);
	fx_pipe_fini(&p);
}

/*
 * Only the newest VC_CHALLENGES_KEPT send times are kept: a record naming
 * an older challenge is stale, even where its time alone would pass.
 */
static void challenge_out_of_ring_is_stale(void)
{
	struct fx_pipe p;
	uint64_t k;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	for (k = 1; k <= VC_CHALLENGES_KEPT; k++)
		g_assert_cmpint(vc_verifier_challenge(p.ver, HELLO + (int64_t)k * FX_MS), ==, k);
	p.now = HELLO + 300 * FX_MS;
	p.challenge = 0;	/* 256 challenges ago: forgotten */
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_STALE);
	p.challenge = 1;	/* the oldest one kept: 299 ms */
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	p.challenge = VC_CHALLENGES_KEPT;
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	/* one more challenge pushes 1 out too */
	g_assert_cmpint(vc_verifier_challenge(p.ver, HELLO + 257 * FX_MS), ==,
			VC_CHALLENGES_KEPT + 1);
	p.challenge = 1;
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_STALE);
	fx_pipe_fini(&p);
}

/*
 * The clock-step property: the decision never reads a wall clock. A frame
 * stamped hours in the past or future (the camera's clock was stepped, or
 * is just wrong) with a fresh challenge is shown, its capture time handed
 * out as signed; a frame stamped with the exact current time but naming an
 * old challenge is refused.
 */
static void bound_ignores_wall_clock(void)
{
	static const uint64_t captures[] = {
		(uint64_t)(NOW - 6 * 3600 * SEC), (uint64_t)(NOW + 6 * 3600 * SEC), 0,
		(uint64_t)INT64_MAX, UINT64_MAX,
	};
	struct fx_pipe p;
	struct vc_verified v;
	size_t i;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	for (i = 0; i < sizeof(captures) / sizeof(captures[0]); i++) {
		int64_t sent = HELLO + (int64_t)(i + 1) * SEC;

		fx_require(fx_pipe_challenge(&p, sent) == i + 1);
		p.delay_ns = 20 * FX_MS;
		fx_require(fx_pipe_frame(&p, i == 0, captures[i]) == 0);
		fx_assert_reject(vc_verifier_accept(p.ver, p.unit.data, p.unit.len,
						    sent + 50 * FX_MS, &v),
				 VC_OK);
		g_assert_true(v.capture_ns == captures[i] && v.age_ns == 70 * FX_MS);
	}
	/* "now" by the wall clock, but the newest challenge it names went 2.5 s ago */
	p.challenge = 1;
	p.delay_ns = 0;
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(p.ver, p.unit.data, p.unit.len, HELLO + 3500 * FX_MS,
					    &v), VC_REJ_STALE);
	fx_pipe_fini(&p);
}

/*
 * A relay holds the hub -> camera direction: the camera keeps naming the
 * last challenge it received, so its frames age on the hub's clock and
 * are refused once the hold passes the window, however fresh they are by
 * their (signed, honest) capture times.
 */
static void held_challenges_make_frames_stale(void)
{
	struct fx_pipe p;
	struct vc_verified v;
	int64_t t, shown = -1;
	int i;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	/* challenge 1 reaches the camera; 2, 3, ... (every 100 ms) are held */
	fx_require(fx_pipe_challenge(&p, HELLO + 100 * FX_MS) == 1);
	for (i = 0, t = HELLO + 100 * FX_MS; i < 40; i++, t += 100 * FX_MS) {
		enum vc_reject r;

		if (i)
			vc_verifier_challenge(p.ver, t);
		fx_require(fx_pipe_frame(&p, i % 10 == 0, (uint64_t)(NOW + t - HELLO)) == 0);
		r = vc_verifier_accept(p.ver, p.unit.data, p.unit.len, t + 10 * FX_MS, &v);
		if (r == VC_OK) {
			g_assert_cmpint(v.age_ns, ==, t + 10 * FX_MS - (HELLO + 100 * FX_MS));
			g_assert_cmpint(v.age_ns, <=, VC_FRESHNESS_DEFAULT_NS);
			shown = t - HELLO;
		} else {
			g_assert_true(r == VC_REJ_STALE || r == VC_REJ_AWAIT_IDR);
			g_assert_cmpint(t + 10 * FX_MS - (HELLO + 100 * FX_MS), >,
					VC_FRESHNESS_DEFAULT_NS);
		}
	}
	/* the last frame shown arrived 1.91 s after challenge 1 went; IDRs after it are stale */
	g_assert_cmpint(shown, ==, 2000 * FX_MS);
	g_assert_cmpint(vc_verifier_stats(p.ver)->rejected[VC_REJ_STALE], ==, 2);
	fx_pipe_fini(&p);
}

/*
 * A small model of a session through a relay, on a true time axis: the hub
 * challenges every 100 ms on its monotonic clock, the camera (another
 * monotonic clock, hours apart, and a wall clock that is wrong) captures
 * every 33 ms and signs 20 ms later with the newest challenge it has, and
 * the relay holds each direction by a schedule (TLS and the media stay in
 * order). Whatever the holds, every frame shown is younger than the bound
 * the hub computed, and no frame older than the window is shown.
 */
#define SIM_FRAMES	300
#define SIM_CHALLENGES	120

struct sim {
	const char *name;
	int64_t (*hold_h2c)(int64_t t);	/* hold of a challenge sent at t */
	int64_t (*hold_c2h)(int64_t t);	/* hold of a frame signed at t */
	int min_shown, max_shown;	/* frames shown expected */
};

static int64_t no_hold(int64_t t)
{
	(void)t;
	return 0;
}

/* the hub's hello (challenge 0) held 6 s, and all behind it */
static int64_t hold_hello(int64_t t)
{
	return t == 0 ? 6 * SEC : 0;
}

/* the camera's first 6 s held, then released at once (issue 12's hold, on the media) */
static int64_t camera_first_6s(int64_t t)
{
	return t < 6 * SEC ? 6 * SEC - t : 0;
}

/* a hold ramped up by 500 ms per second from 1 s on */
static int64_t ramp(int64_t t)
{
	return t < SEC ? 0 : (t - SEC) / 2;
}

static int64_t media_held_6s(int64_t t)
{
	return t >= 3 * SEC && t < 4 * SEC ? 6 * SEC : 0;
}

static void relay_timing_cannot_stretch_freshness(void)
{
	static const struct sim sims[] = {
		{ "no relay hold", no_hold, no_hold, SIM_FRAMES, SIM_FRAMES },
		{ "hub's hello held 6 s", hold_hello, no_hold, 1, SIM_FRAMES - 1 },
		{ "camera's first 6 s held", no_hold, camera_first_6s, 1, SIM_FRAMES - 1 },
		{ "challenges held, ramped", ramp, no_hold, 1, SIM_FRAMES - 1 },
		{ "media held, ramped", no_hold, ramp, 1, SIM_FRAMES - 1 },
		{ "both held, ramped", ramp, ramp, 1, SIM_FRAMES - 1 },
		{ "media held 6 s", no_hold, media_held_6s, 1, SIM_FRAMES - 1 },
	};
	const int64_t cam_mono = -3 * 3600 * SEC + 7;	/* camera monotonic - true time */
	const int64_t frame_ns = 33333333, sign_ns = 20 * FX_MS, chal_ns = 100 * FX_MS;
	size_t si;

	for (si = 0; si < sizeof(sims) / sizeof(sims[0]); si++) {
		const struct sim *sm = &sims[si];
		int64_t chal_at[SIM_CHALLENGES], deliv_at[SIM_FRAMES], prev = 0;
		struct fx_pipe p;
		struct vc_buf units[SIM_FRAMES];
		int64_t capture[SIM_FRAMES], oldest = 0;
		int f, k, sent = 1, shown = 0, wrong = 0;

		fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
		/* challenge k leaves the hub at k * 100 ms (true time; 0 = hello) */
		for (k = 0; k < SIM_CHALLENGES; k++) {
			chal_at[k] = k * chal_ns + sm->hold_h2c(k * chal_ns);
			if (chal_at[k] < prev)
				chal_at[k] = prev;
			prev = chal_at[k];
		}
		prev = 0;
		for (f = 0; f < SIM_FRAMES; f++) {
			int64_t cap = 50 * FX_MS + f * frame_ns, sig = cap + sign_ns;
			uint64_t wall;
			int newest = -1;

			for (k = 0; k < SIM_CHALLENGES && chal_at[k] <= sig; k++)
				newest = k;
			memset(&units[f], 0, sizeof(units[f]));
			capture[f] = cap;
			if (newest < 0) {	/* nothing received yet: the camera cannot sign */
				deliv_at[f] = -1;
				continue;
			}
			p.challenge = (uint64_t)newest;
			p.delay_ns = vc_challenge_delay(cap + cam_mono, chal_at[newest] + cam_mono);
			wall = (uint64_t)(NOW - 7 * 3600 * SEC + cap);	/* 7 h wrong */
			fx_require(fx_pipe_frame(&p, f % 30 == 0, wall) == 0);
			units[f] = p.unit;
			memset(&p.unit, 0, sizeof(p.unit));
			deliv_at[f] = sig + sm->hold_c2h(sig);
			if (deliv_at[f] < prev)
				deliv_at[f] = prev;
			prev = deliv_at[f];
		}
		/* the hub, in true-time order: challenges it sends and frames it receives */
		for (f = 0; f < SIM_FRAMES; f++) {
			struct vc_verified v;
			enum vc_reject r;
			int64_t age;

			if (deliv_at[f] < 0)
				continue;
			while (sent < SIM_CHALLENGES && sent * chal_ns <= deliv_at[f])
				vc_verifier_challenge(p.ver, HELLO + chal_ns * sent++);
			r = vc_verifier_accept(p.ver, units[f].data, units[f].len,
					       HELLO + deliv_at[f], &v);
			age = deliv_at[f] - capture[f];
			if (r != VC_OK) {
				g_assert_true(r == VC_REJ_STALE || r == VC_REJ_AWAIT_IDR);
				continue;
			}
			shown++;
			wrong += age > v.age_ns || v.age_ns > VC_FRESHNESS_DEFAULT_NS;
			if (age > oldest)
				oldest = age;
		}
		g_test_message("%s: %d of %d frames shown, oldest %lld ms", sm->name, shown,
		       SIM_FRAMES, (long long)(oldest / FX_MS));
		g_assert_cmpint(wrong, ==, 0);
		g_assert_true(shown >= sm->min_shown && shown <= sm->max_shown);
		for (f = 0; f < SIM_FRAMES; f++)
			vc_buf_free(&units[f]);
		fx_pipe_fini(&p);
	}
}

/* After a lost unit, the next IDR resynchronises at once (no second GOP). */
static void idr_after_lost_unit_is_accepted(void)
{
	struct fx_pipe p;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);	/* lost */
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);	/* lost */
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	g_assert_false(vc_verifier_awaiting_idr(p.ver));
	/* and the chain continues from that IDR */
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	g_assert_cmpint(vc_verifier_stats(p.ver)->accepted, ==, 4);
	g_assert_cmpint(vc_verifier_stats(p.ver)->rejected[VC_REJ_GAP], ==, 0);
	fx_pipe_fini(&p);
}

static void duplicate_is_rejected_without_stalling(void)
{
	struct fx_pipe p;
	struct vc_buf first;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	first = copy_of(&p.unit);
	fx_assert_reject(fx_pipe_deliver(&p, &first), VC_OK);
	fx_assert_reject(fx_pipe_deliver(&p, &first), VC_REJ_REPLAY);
	/* a replayed copy proves nothing new and does not blank the stream */
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_assert_reject(fx_pipe_deliver(&p, &first), VC_REJ_REPLAY);
	g_assert_cmpint(vc_verifier_stats(p.ver)->rejected[VC_REJ_REPLAY], ==, 2);
	vc_buf_free(&first);
	fx_pipe_fini(&p);
}

static void reorder_beyond_window_is_rejected(void)
{
	struct fx_pipe p;
	struct vc_buf old;
	int i;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	old = copy_of(&p.unit);		/* held back by a relay */
	for (i = 0; i < VC_REPLAY_WINDOW; i++) {
		fx_require(fx_pipe_frame(&p, i == 0, NOW) == 0);
		fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	}
	fx_assert_reject(fx_pipe_deliver(&p, &old), VC_REJ_REPLAY);
	vc_buf_free(&old);
	fx_pipe_fini(&p);
}

/* Reordered within the window: opens, but the stream must resync on an IDR. */
static void reorder_within_window_waits_for_idr(void)
{
	struct fx_pipe p;
	struct vc_buf f1;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	f1 = copy_of(&p.unit);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_GAP);	/* 2 before 1 */
	fx_assert_reject(fx_pipe_deliver(&p, &f1), VC_REJ_AWAIT_IDR);
	g_assert_true(vc_verifier_awaiting_idr(p.ver));
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	vc_buf_free(&f1);
	fx_pipe_fini(&p);
}

static void gap_then_p_frame_waits_for_idr(void)
{
	struct fx_pipe p;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);	/* lost */
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_GAP);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_AWAIT_IDR);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_pipe_fini(&p);
}

/* Any reject of authentic data (here: stale) stops decoding until an IDR. */
static void reject_then_waits_for_idr(void)
{
	struct fx_pipe p;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	p.delay_ns = 5 * SEC;	/* captured 5 s before challenge 0 reached the camera */
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_STALE);
	p.delay_ns = 0;
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_REJ_AWAIT_IDR);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_pipe_fini(&p);
}

/* A forked stream under the same key and session: sequence fits, chain does not. */
static void broken_chain_is_rejected(void)
{
	struct fx_pipe a, b;

	fx_require(fx_pipe_init(&a, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_init(&b, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&a, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&a, &a.unit), VC_OK);
	fx_require(fx_pipe_frame(&b, true, NOW - 1) == 0);	/* b's frame 0 differs */
	fx_require(fx_pipe_frame(&b, false, NOW) == 0);	/* b's frame 1 chains to it */
	/* delivered on a's session (sealed by a relay holding a's key) */
	fx_require(vc_seal(a.sealer, b.signed_au.data, b.signed_au.len, &b.unit) == 0);
	fx_assert_reject(fx_pipe_deliver(&a, &b.unit), VC_REJ_CHAIN);
	fx_pipe_fini(&a);
	fx_pipe_fini(&b);
}

/* The camera's own older record re-sealed (new unit sequence): sequence must advance. */
static void old_record_resealed_is_rejected(void)
{
	struct fx_pipe p;
	struct vc_buf old = { 0 }, unit = { 0 };

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	old = copy_of(&p.signed_au);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	seal_raw(&p, old.data, old.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_SEQUENCE);
	vc_buf_free(&old);
	vc_buf_free(&unit);
	fx_pipe_fini(&p);
}

static void set_bad_flag(struct vc_record *r)
{
	r->flags |= 0x80;
}

static void set_version_0(struct vc_record *r)
{
	r->version = 0;
}

static void set_version_1(struct vc_record *r)
{
	r->version = 1;
}

static void set_version_2(struct vc_record *r)
{
	r->version = 2;
}

static void set_version_4(struct vc_record *r)
{
	r->version = 4;
}

/* Re-write the record inside the AU: truncated, extended, bit-flipped. */
static void tampered_record_is_rejected(void)
{
	uint8_t rec[VC_RECORD_MAX_LEN + 1];
	struct fx_pipe p;
	struct vc_au_scan scan;
	struct vc_buf au = { 0 }, unit = { 0 };
	size_t len, bit;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_require(vc_sei_extract(p.signed_au.data, p.signed_au.len, &scan, rec, &len) == VC_OK);
	fx_require(vc_au_scan(p.au.data, p.au.len, &scan) == VC_OK);

	vc_sei_insert(p.au.data, p.au.len, &scan, rec, len - 1, &au);	/* truncated */
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_RECORD);

	rec[len] = 0;
	vc_sei_insert(p.au.data, p.au.len, &scan, rec, len + 1, &au);	/* extended */
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_RECORD);

	/* every single bit flip anywhere in the record is caught */
	for (bit = 0; bit < len * 8; bit++) {
		enum vc_reject r;

		rec[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		vc_sei_insert(p.au.data, p.au.len, &scan, rec, len, &au);
		seal_raw(&p, au.data, au.len, &unit);
		r = fx_pipe_deliver(&p, &unit);
		if (r == VC_OK)
			g_test_message("bit %zu flipped: accepted", bit);
		g_assert_cmpint(r, !=, VC_OK);
		rec[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	/* a correctly re-signed record with an unknown flag is still refused */
	forge(&p, p.cam, set_bad_flag, &au);
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_RECORD);
	/* and the untouched frame still verifies */
	seal_raw(&p, p.signed_au.data, p.signed_au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_OK);
	vc_buf_free(&au);
	vc_buf_free(&unit);
	fx_pipe_fini(&p);
}

static void tampered_unit_is_rejected(void)
{
	struct fx_pipe p;
	struct vc_buf u = { 0 };
	size_t i;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	u = copy_of(&p.unit);
	u.data[VC_UNIT_HEADER_LEN + 100] ^= 1;
	fx_assert_reject(fx_pipe_deliver(&p, &u), VC_REJ_DECRYPT);
	u.data[VC_UNIT_HEADER_LEN + 100] ^= 1;
	u.data[u.len - 1] ^= 0x40;	/* tag */
	fx_assert_reject(fx_pipe_deliver(&p, &u), VC_REJ_DECRYPT);
	u.data[u.len - 1] ^= 0x40;
	u.data[27] ^= 1;		/* sequence, authenticated as AAD */
	fx_assert_reject(fx_pipe_deliver(&p, &u), VC_REJ_DECRYPT);
	u.data[27] ^= 1;
	u.len--;			/* truncated */
	fx_assert_reject(fx_pipe_deliver(&p, &u), VC_REJ_MALFORMED);
	u.len++;
	vc_buf_reserve(&u, u.len + 1);
	u.data[u.len++] = 0;		/* extended */
	fx_assert_reject(fx_pipe_deliver(&p, &u), VC_REJ_MALFORMED);
	u.len--;
	for (i = 0; i < VC_UNIT_HEADER_LEN - 1; i++)
		g_assert_cmpint(vc_verifier_accept(p.ver, u.data, i, p.now,
						   &(struct vc_verified){ 0 }), !=, VC_OK);
	/* none of that changed the state: the original opens and verifies */
	fx_assert_reject(fx_pipe_deliver(&p, &u), VC_OK);
	vc_buf_free(&u);
	fx_pipe_fini(&p);
}

static void version_downgrade_is_rejected(void)
{
	struct fx_pipe p;
	struct vc_buf au = { 0 }, unit = { 0 };

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	/* versions 0, 1, 2 and 4 in a v3 layout, correctly signed by the camera key itself */
	forge(&p, p.cam, set_version_0, &au);
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_RECORD_VERSION);
	forge(&p, p.cam, set_version_1, &au);
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_RECORD_VERSION);
	forge(&p, p.cam, set_version_2, &au);
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_RECORD_VERSION);
	forge(&p, p.cam, set_version_4, &au);
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_RECORD_VERSION);
	/*
	 * Whole version 2 and version 1 records (no challenge: their freshness
	 * rested on the wall clock; v1 has no source field either), signed by
	 * the camera key.
	 */
	{
		uint8_t enc[VC_RECORD_MAX_LEN];
		struct vc_record r = *vc_signer_last(p.signer);
		struct vc_au_scan scan;
		int len = vc_record_encode(&r, enc);

		fx_require(len == 232);
		memmove(enc + 152, enc + 168, VC_SIG_LEN);	/* v2: the session id alone */
		len -= 16;
		enc[0] = 2;
		fx_require(vc_record_sign(p.cam, enc, (size_t)len) == 0);
		vc_au_scan(p.au.data, p.au.len, &scan);
		vc_sei_insert(p.au.data, p.au.len, &scan, enc, (size_t)len, &au);
		seal_raw(&p, au.data, au.len, &unit);
		fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_RECORD_VERSION);
		memmove(enc + 104, enc + 136, (size_t)len - 136);	/* v1: no source */
		len -= VC_HASH_LEN;
		enc[0] = 1;
		fx_require(vc_record_sign(p.cam, enc, (size_t)len) == 0);
		vc_sei_insert(p.au.data, p.au.len, &scan, enc, (size_t)len, &au);
		seal_raw(&p, au.data, au.len, &unit);
		fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_RECORD_VERSION);
		g_assert_cmpint(vc_verifier_stats(p.ver)->rejected[VC_REJ_RECORD_VERSION], ==, 6);
	}
	/* sealed unit version and cipher fields */
	vc_buf_free(&unit);
	unit = copy_of(&p.unit);
	unit.data[0] = 0;
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_UNIT_VERSION);
	unit.data[0] = VC_UNIT_VERSION;
	unit.data[2] = VC_CIPHER_CHACHA20POLY1305;
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_UNIT_VERSION);
	unit.data[2] = 0;
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_UNIT_VERSION);
	vc_buf_free(&au);
	vc_buf_free(&unit);
	fx_pipe_fini(&p);
}

/* Strip the SEI: an unsigned AU must fail closed, never pass as "unsigned ok". */
static void sei_removed_fails_closed(void)
{
	struct fx_pipe p;
	struct vc_buf unit = { 0 };

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	seal_raw(&p, p.au.data, p.au.len, &unit);	/* the AU without its SEI */
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_NO_RECORD);
	g_assert_cmpint(vc_verifier_stats(p.ver)->rejected[VC_REJ_NO_RECORD], ==, 1);
	vc_buf_free(&unit);
	fx_pipe_fini(&p);
}

/* Take frame A's (valid) SEI and put it on frame B's pictures. */
static void sei_moved_to_another_au_is_rejected(void)
{
	uint8_t rec[VC_RECORD_MAX_LEN];
	struct fx_pipe p;
	struct vc_au_scan scan;
	struct vc_buf other = { 0 }, au = { 0 }, unit = { 0 };
	size_t len;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_require(vc_sei_extract(p.signed_au.data, p.signed_au.len, &scan, rec, &len) == VC_OK);
	fx_au(&other, true, 3000, 777);
	fx_require(vc_au_scan(other.data, other.len, &scan) == VC_OK);
	fx_require(vc_sei_insert(other.data, other.len, &scan, rec, len, &au) == 0);
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_AU_HASH);
	/* a second SEI appended to a valid AU makes it ambiguous: refused */
	fx_require(vc_au_scan(p.au.data, p.au.len, &scan) == VC_OK);
	fx_require(vc_sei_insert(p.signed_au.data, p.signed_au.len, &scan, rec, len, &au) == 0);
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_RECORD);
	vc_buf_free(&other);
	vc_buf_free(&au);
	vc_buf_free(&unit);
	fx_pipe_fini(&p);
}

/* Slices appended to or removed from a signed AU change its hash. */
static void au_content_change_is_rejected(void)
{
	struct fx_pipe p;
	struct vc_buf au = { 0 }, unit = { 0 };

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	au = copy_of(&p.signed_au);
	vc_buf_reserve(&au, au.len + 6);
	memcpy(au.data + au.len, "\x00\x00\x01\x41\x9a\x21", 6);
	au.len += 6;
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_AU_HASH);
	au.len -= 6 + 40;	/* cut the end of the slice instead */
	seal_raw(&p, au.data, au.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_AU_HASH);
	vc_buf_free(&au);
	vc_buf_free(&unit);
	fx_pipe_fini(&p);
}

/* Garbage from anyone without the key is counted but cannot blank the stream. */
static void forged_units_do_not_stall_the_stream(void)
{
	struct fx_pipe p, stranger;
	int i;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_init(&stranger, 2, 9, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	fx_require(fx_pipe_frame(&stranger, true, NOW) == 0);	/* stranger's units now numbered > 0 */
	for (i = 0; i < 5; i++) {
		fx_require(fx_pipe_frame(&stranger, true, NOW) == 0);
		memcpy(stranger.unit.data + 4, p.session_id, VC_SESSION_ID_LEN);
		fx_assert_reject(fx_pipe_deliver(&p, &stranger.unit), VC_REJ_DECRYPT);
	}
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(fx_pipe_deliver(&p, &p.unit), VC_OK);
	g_assert_cmpint(vc_verifier_stats(p.ver)->rejected[VC_REJ_DECRYPT], ==, 5);
	fx_pipe_fini(&p);
	fx_pipe_fini(&stranger);
}

/* The record lists several hub sessions: each hub finds its own; others fail. */
static void multi_session_record(void)
{
	struct fx_pipe a, b, c;
	struct vc_frame_info info = { .capture_ns = NOW };
	struct vc_record_session ids[2] = { { .challenge = 0 }, { .challenge = 1 } };
	struct vc_verified v;
	struct vc_buf unit = { 0 };

	fx_require(fx_pipe_init(&a, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_init(&b, 1, 2, VC_CIPHER_CHACHA20POLY1305) == 0);
	fx_require(fx_pipe_init(&c, 1, 3, VC_CIPHER_AES128GCM) == 0);
	memcpy(ids[0].id, a.session_id, VC_SESSION_ID_LEN);
	memcpy(ids[1].id, b.session_id, VC_SESSION_ID_LEN);
	/* each hub's own challenge and delay: b sent challenge 1 at +500 ms */
	ids[1].delay_ns = 40 * FX_MS;
	fx_require(vc_verifier_challenge(b.ver, HELLO + 500 * FX_MS) == 1);
	fx_au(&a.au, true, 5000, 5);
	fx_require(vc_signer_sign(a.signer, &info, ids, 2, a.au.data, a.au.len, &a.signed_au) == 0);
	fx_require(vc_seal(a.sealer, a.signed_au.data, a.signed_au.len, &unit) == 0);
	fx_assert_reject(vc_verifier_accept(a.ver, unit.data, unit.len, HELLO + 600 * FX_MS, &v),
			 VC_OK);
	g_assert_cmpint(v.age_ns, ==, 600 * FX_MS);
	fx_require(vc_seal(b.sealer, a.signed_au.data, a.signed_au.len, &unit) == 0);
	fx_assert_reject(vc_verifier_accept(b.ver, unit.data, unit.len, HELLO + 600 * FX_MS, &v),
			 VC_OK);
	g_assert_cmpint(v.age_ns, ==, 140 * FX_MS);
	fx_require(vc_seal(c.sealer, a.signed_au.data, a.signed_au.len, &unit) == 0);
	fx_assert_reject(fx_pipe_deliver(&c, &unit), VC_REJ_SESSION);
	vc_buf_free(&unit);
	fx_pipe_fini(&a);
	fx_pipe_fini(&b);
	fx_pipe_fini(&c);
}

/*
 * A hub pinned to one capture source: the same camera key signing frames
 * of another source (another sensor, a swapped device) is rejected as
 * "source", counted, and nothing passes until a signed IDR of the pinned
 * source.
 */
static void other_source_is_rejected_when_pinned(void)
{
	struct vc_verifier_config cfg;
	struct vc_verifier *pinned;
	struct vc_verified v;
	uint8_t want[VC_HASH_LEN];
	struct fx_pipe p;

	fx_require(fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(vc_source_id("id:00000000000000000000000000000002", want) == 0);
	fx_pipe_config(&p, &cfg);
	cfg.source = want;
	fx_require((pinned = vc_verifier_new(&cfg)));

	/* p signs for FX_SOURCE_FMT: a valid, fresh, in-session IDR, but not the pinned source */
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(pinned, p.unit.data, p.unit.len, p.now, &v),
			 VC_REJ_SOURCE);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(pinned, p.unit.data, p.unit.len, p.now, &v),
			 VC_REJ_SOURCE);
	g_assert_cmpint(vc_verifier_stats(pinned)->rejected[VC_REJ_SOURCE], ==, 2);
	g_assert_cmpstr(vc_reject_name(VC_REJ_SOURCE), ==, "source");

	/* the camera now captures from the pinned source: a P-frame still waits for an IDR */
	fx_require(vc_signer_set_source(p.signer, "id:00000000000000000000000000000002") == 0);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(pinned, p.unit.data, p.unit.len, p.now, &v),
			 VC_REJ_AWAIT_IDR);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(pinned, p.unit.data, p.unit.len, p.now, &v), VC_OK);
	g_assert_cmpmem(v.source, VC_HASH_LEN, want, VC_HASH_LEN);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(pinned, p.unit.data, p.unit.len, p.now, &v), VC_OK);

	/* and back to another source mid-stream: rejected at once, verifier awaits an IDR */
	fx_require(vc_signer_set_source(p.signer, "id:00000000000000000000000000000003") == 0);
	fx_require(fx_pipe_frame(&p, false, NOW) == 0);
	fx_assert_reject(vc_verifier_accept(pinned, p.unit.data, p.unit.len, p.now, &v),
			 VC_REJ_SOURCE);
	g_assert_true(vc_verifier_awaiting_idr(pinned));
	g_assert_cmpint(vc_verifier_stats(pinned)->accepted, ==, 2);
	vc_verifier_free(pinned);
	fx_pipe_fini(&p);
}

/* The source field is signed: a record re-signed by another key with the source edited fails. */
static void edit_source(struct vc_record *r)
{
	r->source[0] ^= 1;
}

static void tampered_source_is_rejected(void)
{
	struct vc_device_key *mallory = fx_key(9);
	struct vc_buf forged = { 0 }, unit = { 0 };
	struct fx_pipe p;

	fx_require(mallory && fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) == 0);
	fx_require(fx_pipe_frame(&p, true, NOW) == 0);
	/* the source edited, the camera's signature left as it was */
	{
		uint8_t enc[VC_RECORD_MAX_LEN];
		struct vc_record r = *vc_signer_last(p.signer);
		struct vc_au_scan scan;
		int len;

		edit_source(&r);
		len = vc_record_encode(&r, enc);
		fx_require(len > 0);
		vc_au_scan(p.au.data, p.au.len, &scan);
		vc_sei_insert(p.au.data, p.au.len, &scan, enc, (size_t)len, &forged);
		seal_raw(&p, forged.data, forged.len, &unit);
		fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_SIGNATURE);
	}
	/* edited and re-signed by a key that is not the pinned camera's */
	forge(&p, mallory, edit_source, &forged);
	seal_raw(&p, forged.data, forged.len, &unit);
	fx_assert_reject(fx_pipe_deliver(&p, &unit), VC_REJ_SIGNATURE);
	vc_buf_free(&forged);
	vc_buf_free(&unit);
	vc_key_free(mallory);
	fx_pipe_fini(&p);
}

static void every_reason_has_a_name(void)
{
	int r;

	for (r = 0; r < VC_REJ__COUNT; r++)
		g_assert_cmpstr(vc_reject_name((enum vc_reject)r), !=, "unknown");
	g_assert_cmpstr(vc_reject_name(VC_REJ__COUNT), ==, "unknown");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	g_test_add_func("/core/verify/accepts-a-signed-stream", accepts_a_signed_stream);
	g_test_add_func("/core/verify/chacha-stream-verifies", chacha_stream_verifies);
	g_test_add_func("/core/verify/first-frame-must-be-idr", first_frame_must_be_idr);
	g_test_add_func("/core/verify/wrong-key-is-rejected", wrong_key_is_rejected);
	g_test_add_func("/core/verify/other-cameras-valid-frame-is-rejected",
			other_cameras_valid_frame_is_rejected);
	g_test_add_func("/core/verify/other-sessions-valid-frame-is-rejected",
			other_sessions_valid_frame_is_rejected);
	g_test_add_func("/core/verify/bound-just-over-window-is-stale",
			bound_just_over_window_is_stale);
	g_test_add_func("/core/verify/huge-delay-is-stale", huge_delay_is_stale);
	g_test_add_func("/core/verify/challenge-never-sent-is-future",
			challenge_never_sent_is_future);
	g_test_add_func("/core/verify/challenge-out-of-ring-is-stale",
			challenge_out_of_ring_is_stale);
	g_test_add_func("/core/verify/bound-ignores-wall-clock", bound_ignores_wall_clock);
	g_test_add_func("/core/verify/held-challenges-make-frames-stale",
			held_challenges_make_frames_stale);
	g_test_add_func("/core/verify/relay-timing-cannot-stretch-freshness",
			relay_timing_cannot_stretch_freshness);
	g_test_add_func("/core/verify/duplicate-is-rejected-without-stalling",
			duplicate_is_rejected_without_stalling);
	g_test_add_func("/core/verify/reorder-beyond-window-is-rejected",
			reorder_beyond_window_is_rejected);
	g_test_add_func("/core/verify/reorder-within-window-waits-for-idr",
			reorder_within_window_waits_for_idr);
	g_test_add_func("/core/verify/gap-then-p-frame-waits-for-idr",
			gap_then_p_frame_waits_for_idr);
	g_test_add_func("/core/verify/idr-after-lost-unit-is-accepted",
			idr_after_lost_unit_is_accepted);
	g_test_add_func("/core/verify/reject-then-waits-for-idr", reject_then_waits_for_idr);
	g_test_add_func("/core/verify/broken-chain-is-rejected", broken_chain_is_rejected);
	g_test_add_func("/core/verify/old-record-resealed-is-rejected",
			old_record_resealed_is_rejected);
	g_test_add_func("/core/verify/tampered-record-is-rejected", tampered_record_is_rejected);
	g_test_add_func("/core/verify/tampered-unit-is-rejected", tampered_unit_is_rejected);
	g_test_add_func("/core/verify/version-downgrade-is-rejected",
			version_downgrade_is_rejected);
	g_test_add_func("/core/verify/sei-removed-fails-closed", sei_removed_fails_closed);
	g_test_add_func("/core/verify/sei-moved-to-another-au-is-rejected",
			sei_moved_to_another_au_is_rejected);
	g_test_add_func("/core/verify/au-content-change-is-rejected",
			au_content_change_is_rejected);
	g_test_add_func("/core/verify/forged-units-do-not-stall-the-stream",
			forged_units_do_not_stall_the_stream);
	g_test_add_func("/core/verify/multi-session-record", multi_session_record);
	g_test_add_func("/core/verify/other-source-is-rejected-when-pinned",
			other_source_is_rejected_when_pinned);
	g_test_add_func("/core/verify/tampered-source-is-rejected", tampered_source_is_rejected);
	g_test_add_func("/core/verify/every-reason-has-a-name", every_reason_has_a_name);
	return g_test_run();
}
