// SPDX-License-Identifier: GPL-2.0
/*
 * Recorded events (event.h, docs/PROTOCOL.md §15): the event frame record,
 * the manifest and its per-camera chain, a clip's records against its
 * manifest, the sealed-event envelope and its objects; each attack a
 * store, cache or index could make is fed and its refusal asserted.
 *
 *   test_event VECTORS            check tests/vectors/event-v1.txt
 *   test_event --write VECTORS    regenerate it from the built-in inputs
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include <veracam/event.h>
#include <veracam/holder.h>
#include <veracam/record.h>
#include <veracam/sei.h>

#include "event_internal.h"
#include "fixture.h"

#define N_FRAMES	4
#define CAM		1	/* fx_key tags */
#define OTHER_CAM	3
#define HUB_A		2
#define HUB_B		4
#define HUB_C		5

/* Two enum vc_event_reject values, compared by name (both printed on mismatch). */
#define assert_ev(got, want)							\
	g_assert_cmpstr(vc_event_reject_name(got), ==, vc_event_reject_name(want))

/* One recorded event of a camera: its records and its signed manifest. */
struct clip {
	uint8_t rec[N_FRAMES][VC_EVREC_LEN];
	uint8_t man[VC_MANIFEST_MAX_LEN];
	size_t man_len;
	uint8_t man_hash[VC_HASH_LEN];
	struct vc_manifest m;
};

static const uint8_t thumb[] = "\xff\xd8 a JPEG thumbnail \xff\xd9";

static void sha(const void *p, size_t len, uint8_t out[32])
{
	EVP_Digest(p, len, out, NULL, EVP_sha256(), NULL);
}

/*
 * Event `ev` (its id from the tag) of key k, number `number`, chained to
 * prev_hash, for the hubs in hubs[n].
 */
static int make_clip(struct clip *c, const struct vc_device_key *k, uint8_t ev,
		     uint64_t number, const uint8_t *prev_hash, struct vc_device_key **hubs,
		     size_t n)
{
	struct vc_event_record r;
	uint8_t prev[VC_HASH_LEN] = { 0 };
	char au[32];
	size_t i;
	int len;

	memset(c, 0, sizeof(*c));
	memset(&r, 0, sizeof(r));
	memcpy(r.key_id, vc_key_id(k), VC_KEY_ID_LEN);
	fx_bytes(ev, r.event_id, VC_EVENT_ID_LEN);
	if (vc_source_id("id:c0ffee0000000000000000000000cafe", r.source) < 0)
		return -1;
	for (i = 0; i < N_FRAMES; i++) {
		r.flags = i == 0 ? VC_EVREC_F_IDR : 0;
		r.seq = i;
		r.capture_ns = FX_NOW_NS + i * 33333333ULL;
		snprintf(au, sizeof(au), "event %u frame %zu", ev, i);
		sha(au, strlen(au), r.au_hash);
		memcpy(r.prev_hash, prev, VC_HASH_LEN);
		vc_event_record_encode(&r, c->rec[i]);
		if (vc_event_record_sign(k, c->rec[i]) < 0 ||
		    vc_event_hash(c->rec[i], VC_EVREC_LEN, prev) < 0)
			return -1;
	}
	c->m.flags = VC_MANIFEST_F_THUMBNAIL;
	c->m.trigger = VC_TRIGGER_MOTION;
	c->m.n_recipients = (uint8_t)n;
	memcpy(c->m.key_id, vc_key_id(k), VC_KEY_ID_LEN);
	memcpy(c->m.event_id, r.event_id, VC_EVENT_ID_LEN);
	c->m.number = number;
	memcpy(c->m.source, r.source, VC_HASH_LEN);
	c->m.start_ns = FX_NOW_NS;
	c->m.end_ns = r.capture_ns;
	c->m.n_frames = N_FRAMES;
	memcpy(c->m.last_record_hash, prev, VC_HASH_LEN);
	sha(thumb, sizeof(thumb), c->m.thumbnail_hash);
	if (prev_hash)
		memcpy(c->m.prev_hash, prev_hash, VC_HASH_LEN);
	for (i = 0; i < n; i++)
		memcpy(c->m.recipients[i], vc_key_id(hubs[i]), VC_KEY_ID_LEN);
	len = vc_manifest_encode(&c->m, c->man);
	if (len < 0 || vc_manifest_sign(k, c->man, (size_t)len) < 0)
		return -1;
	c->man_len = (size_t)len;
	memcpy(c->m.sig, c->man + len - VC_SIG_LEN, VC_SIG_LEN);
	return vc_event_hash(c->man, c->man_len, c->man_hash);
}

static struct vc_device_key *cam, *other_cam, *hub_a, *hub_b, *hub_c;

/* An object's index (its bytes 4..8). */
static uint32_t object_index(const uint8_t *obj)
{
	return (uint32_t)obj[4] << 24 | (uint32_t)obj[5] << 16 | (uint32_t)obj[6] << 8 | obj[7];
}

/* Strict parsing of the record variant, and no crossing with the live record. */
static void test_event_record_parse(void)
{
	struct vc_device_key *hubs[1] = { hub_a };
	struct vc_event_record r, r2;
	struct vc_record live;
	uint8_t buf[VC_EVREC_LEN + 1], enc[VC_EVREC_LEN];
	struct clip c;

	fx_require(make_clip(&c, cam, 7, 0, NULL, hubs, 1) == 0);
	assert_ev(vc_event_record_parse(c.rec[1], VC_EVREC_LEN, &r), VC_EV_OK);
	vc_event_record_encode(&r, enc);
	g_assert_cmpmem(enc, VC_EVREC_LEN, c.rec[1], VC_EVREC_LEN);
	g_assert_true(r.seq == 1 && r.flags == VC_EVREC_F_EVENT);
	/* a live verifier never takes an event record for a live one, nor the reverse */
	fx_assert_reject(vc_record_parse(c.rec[1], VC_EVREC_LEN, &live), VC_REJ_RECORD);
	{
		uint8_t lrec[VC_RECORD_MAX_LEN];
		int n;

		memset(&live, 0, sizeof(live));
		live.version = VC_RECORD_VERSION;
		live.n_sessions = 1;
		n = vc_record_encode(&live, lrec);
		fx_require(n > 0);
		assert_ev(vc_event_record_parse(lrec, (size_t)n, &r2), VC_EV_MALFORMED);
	}
	memcpy(buf, c.rec[1], VC_EVREC_LEN);
	assert_ev(vc_event_record_parse(buf, VC_EVREC_LEN - 1, &r2), VC_EV_MALFORMED);
	buf[VC_EVREC_LEN] = 0;
	assert_ev(vc_event_record_parse(buf, VC_EVREC_LEN + 1, &r2), VC_EV_MALFORMED);
	assert_ev(vc_event_record_parse(buf, 0, &r2), VC_EV_MALFORMED);
	buf[0] = 4;
	assert_ev(vc_event_record_parse(buf, VC_EVREC_LEN, &r2), VC_EV_VERSION);
	buf[0] = 3;
	buf[1] = 0;					/* EVENT flag missing */
	assert_ev(vc_event_record_parse(buf, VC_EVREC_LEN, &r2), VC_EV_MALFORMED);
	buf[1] = VC_EVREC_F_EVENT | 0x08;		/* unknown flag */
	assert_ev(vc_event_record_parse(buf, VC_EVREC_LEN, &r2), VC_EV_MALFORMED);
	buf[1] = VC_EVREC_F_EVENT;
	buf[2] = 1;					/* a session count */
	assert_ev(vc_event_record_parse(buf, VC_EVREC_LEN, &r2), VC_EV_MALFORMED);
	buf[2] = 0;
	buf[39] = 1;					/* sensor sequence without its flag */
	assert_ev(vc_event_record_parse(buf, VC_EVREC_LEN, &r2), VC_EV_MALFORMED);
	/* the first frame of a clip chains to nothing */
	memcpy(buf, c.rec[0], VC_EVREC_LEN);
	buf[72] = 1;
	assert_ev(vc_event_record_parse(buf, VC_EVREC_LEN, &r2), VC_EV_MALFORMED);
}

static void test_manifest_verify(void)
{
	struct vc_device_key *hubs[2] = { hub_a, hub_b };
	uint8_t bad[VC_MANIFEST_MAX_LEN + 1], other_event[VC_EVENT_ID_LEN];
	struct vc_manifest m;
	struct clip c, forged;
	size_t i;
	int len;

	fx_require(make_clip(&c, cam, 7, 0, NULL, hubs, 2) == 0);
	g_assert_cmpint(c.man_len, ==, VC_MANIFEST_LEN(2));
	assert_ev(vc_manifest_verify(c.man, c.man_len, vc_key_public(cam), c.m.event_id,
				     vc_key_id(hub_b), &m), VC_EV_OK);
	g_assert_cmpmem(&m, sizeof(m), &c.m, sizeof(m));
	len = vc_manifest_encode(&m, bad);
	g_assert_true(len == (int)c.man_len && !memcmp(bad, c.man, c.man_len));
	/* another camera's manifest, under this camera's pin */
	fx_require(make_clip(&forged, other_cam, 7, 0, NULL, hubs, 2) == 0);
	assert_ev(vc_manifest_verify(forged.man, forged.man_len, vc_key_public(cam), NULL, NULL,
				     &m), VC_EV_CAMERA);
	/* ... claiming this camera's key id: the signature gives it away */
	memcpy(forged.m.key_id, vc_key_id(cam), VC_KEY_ID_LEN);
	len = vc_manifest_encode(&forged.m, bad);
	fx_require(len > 0 && vc_manifest_sign(other_cam, bad, (size_t)len) == 0);
	assert_ev(vc_manifest_verify(bad, (size_t)len, vc_key_public(cam), NULL, NULL, &m),
		  VC_EV_SIGNATURE);
	/* the event asked for, the hub asking */
	fx_bytes(8, other_event, sizeof(other_event));
	assert_ev(vc_manifest_verify(c.man, c.man_len, vc_key_public(cam), other_event, NULL, &m),
		  VC_EV_EVENT);
	assert_ev(vc_manifest_verify(c.man, c.man_len, vc_key_public(cam), NULL, vc_key_id(hub_c),
				     &m), VC_EV_RECIPIENT);
	/* every changed byte is refused (as malformed, another version or a bad signature) */
	for (i = 0; i < c.man_len; i++) {
		memcpy(bad, c.man, c.man_len);
		bad[i] ^= 0x10;
		g_assert_cmpint(vc_manifest_verify(bad, c.man_len, vc_key_public(cam), NULL, NULL,
						   &m), !=, VC_EV_OK);
	}
	/* truncated, extended */
	for (i = 0; i < c.man_len; i += 13)
		g_assert_cmpint(vc_manifest_verify(c.man, i, vc_key_public(cam), NULL, NULL, &m),
				!=, VC_EV_OK);
	memcpy(bad, c.man, c.man_len);
	assert_ev(vc_manifest_verify(bad, c.man_len + 1, vc_key_public(cam), NULL, NULL, &m),
		  VC_EV_MALFORMED);
	/* the thumbnail */
	assert_ev(vc_manifest_check_thumbnail(&c.m, thumb, sizeof(thumb)), VC_EV_OK);
	assert_ev(vc_manifest_check_thumbnail(&c.m, thumb, sizeof(thumb) - 1), VC_EV_THUMBNAIL);
	assert_ev(vc_manifest_check_thumbnail(&forged.m, (const uint8_t *)"another", 7),
		  VC_EV_THUMBNAIL);
}

/* The per-camera chain: next, gap, replay, reorder, a forged link, another camera. */
static void test_manifest_chain(void)
{
	struct vc_device_key *hubs[1] = { hub_a };
	struct clip c0, c1, c2, fork1, foreign;

	fx_require(make_clip(&c0, cam, 10, 0, NULL, hubs, 1) == 0);
	fx_require(make_clip(&c1, cam, 11, 1, c0.man_hash, hubs, 1) == 0);
	fx_require(make_clip(&c2, cam, 12, 2, c1.man_hash, hubs, 1) == 0);
	fx_require(make_clip(&fork1, cam, 13, 1, c2.man_hash, hubs, 1) == 0);
	fx_require(make_clip(&foreign, other_cam, 11, 1, c0.man_hash, hubs, 1) == 0);
	assert_ev(vc_manifest_follows(&c0.m, c0.man_hash, &c1.m), VC_EV_OK);
	assert_ev(vc_manifest_follows(&c1.m, c1.man_hash, &c2.m), VC_EV_OK);
	assert_ev(vc_manifest_follows(&c0.m, c0.man_hash, &c2.m), VC_EV_GAP);	/* c1 missing */
	assert_ev(vc_manifest_follows(&c1.m, c1.man_hash, &c1.m), VC_EV_REPLAY);
	assert_ev(vc_manifest_follows(&c2.m, c2.man_hash, &c1.m), VC_EV_REPLAY);	/* older as newest */
	assert_ev(vc_manifest_follows(&c0.m, c0.man_hash, &fork1.m), VC_EV_CHAIN);
	assert_ev(vc_manifest_follows(&c0.m, c0.man_hash, &foreign.m), VC_EV_CAMERA);
	/* the first manifest of a camera chains to nothing */
	{
		uint8_t bad[VC_MANIFEST_MAX_LEN];
		struct vc_manifest m = c0.m;
		int len;

		m.prev_hash[0] = 1;
		len = vc_manifest_encode(&m, bad);
		fx_require(len > 0);
		assert_ev(vc_manifest_parse(bad, (size_t)len, &m), VC_EV_MALFORMED);
	}
}

static enum vc_event_reject run_clip(const struct clip *c, const uint8_t *const *recs, size_t n,
				     enum vc_event_reject *first_bad)
{
	struct vc_clip_check chk;
	size_t i;

	vc_clip_check_init(&chk, &c->m, vc_key_public(cam));
	*first_bad = VC_EV_OK;
	for (i = 0; i < n; i++) {
		enum vc_event_reject r = vc_clip_check_record(&chk, recs[i], VC_EVREC_LEN, NULL);

		if (r != VC_EV_OK && *first_bad == VC_EV_OK)
			*first_bad = r;
	}
	return vc_clip_check_end(&chk);
}

/* A clip's frames: whole, truncated, cut, reordered, repeated, mixed with others. */
static void test_clip_check(void)
{
	struct vc_device_key *hubs[1] = { hub_a };
	const uint8_t *recs[N_FRAMES + 1];
	enum vc_event_reject bad;
	struct clip c, c2, foreign;
	uint8_t tampered[VC_EVREC_LEN];

	fx_require(make_clip(&c, cam, 20, 0, NULL, hubs, 1) == 0);
	fx_require(make_clip(&c2, cam, 21, 1, c.man_hash, hubs, 1) == 0);
	fx_require(make_clip(&foreign, other_cam, 20, 0, NULL, hubs, 1) == 0);
	for (int i = 0; i < N_FRAMES; i++)
		recs[i] = c.rec[i];
	assert_ev(run_clip(&c, recs, N_FRAMES, &bad), VC_EV_OK);
	assert_ev(bad, VC_EV_OK);
	/* truncated: the last frame missing, then only the first */
	assert_ev(run_clip(&c, recs, N_FRAMES - 1, &bad), VC_EV_TRUNCATED);
	assert_ev(bad, VC_EV_OK);
	assert_ev(run_clip(&c, recs, 1, &bad), VC_EV_TRUNCATED);
	assert_ev(run_clip(&c, recs, 0, &bad), VC_EV_TRUNCATED);
	/* a frame cut out of the middle */
	recs[1] = c.rec[2];
	recs[2] = c.rec[3];
	assert_ev(run_clip(&c, recs, N_FRAMES - 1, &bad), VC_EV_TRUNCATED);
	assert_ev(bad, VC_EV_SEQUENCE);
	/* two frames swapped */
	recs[1] = c.rec[2];
	recs[2] = c.rec[1];
	recs[3] = c.rec[3];
	assert_ev(run_clip(&c, recs, N_FRAMES, &bad), VC_EV_TRUNCATED);
	assert_ev(bad, VC_EV_SEQUENCE);
	/* a frame repeated, then a frame after the last */
	recs[1] = c.rec[0];
	assert_ev(run_clip(&c, recs, 2, &bad), VC_EV_TRUNCATED);
	assert_ev(bad, VC_EV_SEQUENCE);
	for (int i = 0; i < N_FRAMES; i++)
		recs[i] = c.rec[i];
	recs[N_FRAMES] = c.rec[N_FRAMES - 1];
	assert_ev(run_clip(&c, recs, N_FRAMES + 1, &bad), VC_EV_OK);
	assert_ev(bad, VC_EV_EXTRA);
	/* a frame of another event of this camera (same position) */
	recs[2] = c2.rec[2];
	assert_ev(run_clip(&c, recs, N_FRAMES, &bad), VC_EV_TRUNCATED);
	assert_ev(bad, VC_EV_EVENT);
	/* a frame of another camera, and one claiming this camera */
	recs[2] = foreign.rec[2];
	run_clip(&c, recs, N_FRAMES, &bad);
	assert_ev(bad, VC_EV_CAMERA);
	memcpy(tampered, foreign.rec[2], VC_EVREC_LEN);
	memcpy(tampered + 4, vc_key_id(cam), VC_KEY_ID_LEN);
	recs[2] = tampered;
	run_clip(&c, recs, N_FRAMES, &bad);
	assert_ev(bad, VC_EV_SIGNATURE);
	/* other media under this frame's record */
	memcpy(tampered, c.rec[2], VC_EVREC_LEN);
	tampered[40] ^= 1;
	run_clip(&c, recs, N_FRAMES, &bad);
	assert_ev(bad, VC_EV_SIGNATURE);
	/* the manifest of another event for these frames */
	for (int i = 0; i < N_FRAMES; i++)
		recs[i] = c.rec[i];
	run_clip(&c2, recs, N_FRAMES, &bad);
	assert_ev(bad, VC_EV_EVENT);
}

/* Sealed for hubs A and B: each opens it, C and the store do not; nothing moves. */
static void test_envelope(void)
{
	struct vc_device_key *hubs[2] = { hub_a, hub_b };
	struct vc_enc_key *ea = vc_enc_key_generate(), *eb = vc_enc_key_generate();
	struct vc_event_recipient to[2];
	uint8_t ck_a[32], ck_b[32], man[VC_MANIFEST_MAX_LEN];
	struct vc_event_sealer *sealer, *sealer2;
	struct vc_buf env = { 0 }, env2 = { 0 }, obj = { 0 }, pt = { 0 }, bad = { 0 };
	enum vc_hpke_aead aead;
	struct vc_manifest m;
	struct clip c, c2;
	size_t man_len, off;

	fx_require(ea && eb);
	fx_require(make_clip(&c, cam, 30, 0, NULL, hubs, 2) == 0);
	fx_require(make_clip(&c2, cam, 31, 1, c.man_hash, hubs, 2) == 0);
	memcpy(to[0].key_id, vc_key_id(hub_a), VC_KEY_ID_LEN);
	memcpy(to[0].enc_pub, vc_enc_key_public(ea), 32);
	memcpy(to[1].key_id, vc_key_id(hub_b), VC_KEY_ID_LEN);
	memcpy(to[1].enc_pub, vc_enc_key_public(eb), 32);
	fx_require(vc_envelope_seal(VC_HPKE_CHACHA20POLY1305, c.man, c.man_len, to, 2, &sealer,
				    &env) == 0);
	fx_require(sealer);
	g_assert_cmpint(env.len, ==, VC_ENVELOPE_HDR_LEN + c.man_len + 2 * VC_WRAPPED_LEN);
	assert_ev(vc_envelope_open(env.data, env.len, vc_key_public(cam), c.m.event_id,
				   vc_key_id(hub_a), ea, &m, man, &man_len, &aead, ck_a), VC_EV_OK);
	g_assert_cmpint(aead, ==, VC_HPKE_CHACHA20POLY1305);
	g_assert_true(man_len == c.man_len && !memcmp(man, c.man, man_len));
	assert_ev(vc_envelope_open(env.data, env.len, vc_key_public(cam), NULL, vc_key_id(hub_b),
				   eb, &m, man, &man_len, &aead, ck_b), VC_EV_OK);
	g_assert_cmpmem(ck_b, 32, ck_a, 32);
	/* a hub it was not sealed for; another camera's pin; another event asked for */
	assert_ev(vc_envelope_open(env.data, env.len, vc_key_public(cam), NULL, vc_key_id(hub_c),
				   ea, &m, man, &man_len, &aead, ck_a), VC_EV_RECIPIENT);
	assert_ev(vc_envelope_open(env.data, env.len, vc_key_public(other_cam), NULL,
				   vc_key_id(hub_a), ea, &m, man, &man_len, &aead, ck_a),
		  VC_EV_CAMERA);
	assert_ev(vc_envelope_open(env.data, env.len, vc_key_public(cam), c2.m.event_id,
				   vc_key_id(hub_a), ea, &m, man, &man_len, &aead, ck_a),
		  VC_EV_EVENT);
	/* hub A's slot opened with B's key: A's key id, not A's key */
	assert_ev(vc_envelope_open(env.data, env.len, vc_key_public(cam), NULL, vc_key_id(hub_a),
				   eb, &m, man, &man_len, &aead, ck_a), VC_EV_DECRYPT);
	/* B's wrapped key moved into A's slot */
	fx_require(vc_buf_reserve(&bad, env.len) == 0);
	memcpy(bad.data, env.data, env.len);
	off = VC_ENVELOPE_HDR_LEN + c.man_len;
	memcpy(bad.data + off + VC_KEY_ID_LEN, env.data + off + VC_WRAPPED_LEN + VC_KEY_ID_LEN,
	       VC_WRAPPED_LEN - VC_KEY_ID_LEN);
	assert_ev(vc_envelope_open(bad.data, env.len, vc_key_public(cam), NULL, vc_key_id(hub_a),
				   ea, &m, man, &man_len, &aead, ck_a), VC_EV_DECRYPT);
	/* A's wrapped key of event 31 moved under event 30's manifest (same hubs) */
	fx_require(vc_envelope_seal(VC_HPKE_CHACHA20POLY1305, c2.man, c2.man_len, to, 2, &sealer2,
				    &env2) == 0);
	vc_event_sealer_free(sealer2);
	memcpy(bad.data, env.data, env.len);
	memcpy(bad.data + off, env2.data + VC_ENVELOPE_HDR_LEN + c2.man_len, VC_WRAPPED_LEN);
	assert_ev(vc_envelope_open(bad.data, env.len, vc_key_public(cam), NULL, vc_key_id(hub_a),
				   ea, &m, man, &man_len, &aead, ck_a), VC_EV_DECRYPT);
	/* the AEAD id changed */
	memcpy(bad.data, env.data, env.len);
	bad.data[1] = VC_HPKE_AES128GCM;
	assert_ev(vc_envelope_open(bad.data, env.len, vc_key_public(cam), NULL, vc_key_id(hub_a),
				   ea, &m, man, &man_len, &aead, ck_a), VC_EV_DECRYPT);
	bad.data[1] = 2;
	assert_ev(vc_envelope_open(bad.data, env.len, vc_key_public(cam), NULL, vc_key_id(hub_a),
				   ea, &m, man, &man_len, &aead, ck_a), VC_EV_VERSION);
	/* truncated anywhere */
	for (size_t n = 0; n < env.len; n += 29)
		g_assert_cmpint(vc_envelope_open(env.data, n, vc_key_public(cam), NULL,
						 vc_key_id(hub_a), ea,
						 &m, man, &man_len, &aead, ck_a), !=, VC_EV_OK);
	/* sealing refuses recipients that are not the manifest's */
	g_assert_cmpint(vc_envelope_seal(VC_HPKE_AES128GCM, c.man, c.man_len, to, 1, &sealer2,
					 &env2), <, 0);
	g_assert_null(sealer2);
	memcpy(&to[1], &to[0], sizeof(to[0]));
	g_assert_cmpint(vc_envelope_seal(VC_HPKE_AES128GCM, c.man, c.man_len, to, 2, &sealer2,
					 &env2), <, 0);
	g_assert_null(sealer2);

	/* objects: bound to their kind and their manifest, opened with the unwrapped key */
	fx_require(vc_event_object_seal(sealer, VC_OBJECT_THUMBNAIL, thumb, sizeof(thumb),
					&obj) == 0);
	g_assert_cmpint(obj.len, ==, VC_OBJECT_HDR_LEN + sizeof(thumb) + VC_HPKE_TAG_LEN);
	g_assert_cmpint(object_index(obj.data), ==, 0);
	assert_ev(vc_event_object_open(VC_HPKE_CHACHA20POLY1305, ck_a, c.man_hash,
				       VC_OBJECT_THUMBNAIL, obj.data, obj.len, &pt), VC_EV_OK);
	g_assert_true(pt.len == sizeof(thumb) && !memcmp(pt.data, thumb, sizeof(thumb)));
	assert_ev(vc_manifest_check_thumbnail(&c.m, pt.data, pt.len), VC_EV_OK);
	assert_ev(vc_event_object_open(VC_HPKE_CHACHA20POLY1305, ck_a, c.man_hash, VC_OBJECT_CLIP,
				       obj.data, obj.len, &pt), VC_EV_DECRYPT);
	assert_ev(vc_event_object_open(VC_HPKE_CHACHA20POLY1305, ck_a, c2.man_hash,
				       VC_OBJECT_THUMBNAIL, obj.data, obj.len, &pt), VC_EV_DECRYPT);
	assert_ev(vc_event_object_open(VC_HPKE_AES128GCM, ck_a, c.man_hash, VC_OBJECT_THUMBNAIL,
				       obj.data, obj.len, &pt), VC_EV_DECRYPT);
	/* the kind byte rewritten, another index claimed, a reserved byte, too short */
	fx_require(vc_buf_reserve(&bad, obj.len) == 0);
	memcpy(bad.data, obj.data, obj.len);
	bad.data[0] = VC_OBJECT_CLIP;
	assert_ev(vc_event_object_open(VC_HPKE_CHACHA20POLY1305, ck_a, c.man_hash, VC_OBJECT_CLIP,
				       bad.data, obj.len, &pt), VC_EV_DECRYPT);
	memcpy(bad.data, obj.data, obj.len);
	bad.data[7] = 1;
	assert_ev(vc_event_object_open(VC_HPKE_CHACHA20POLY1305, ck_a, c.man_hash,
				       VC_OBJECT_THUMBNAIL, bad.data, obj.len, &pt), VC_EV_DECRYPT);
	memcpy(bad.data, obj.data, obj.len);
	bad.data[2] = 1;
	assert_ev(vc_event_object_open(VC_HPKE_CHACHA20POLY1305, ck_a, c.man_hash,
				       VC_OBJECT_THUMBNAIL, bad.data, obj.len, &pt),
		  VC_EV_MALFORMED);
	assert_ev(vc_event_object_open(VC_HPKE_CHACHA20POLY1305, ck_a, c.man_hash,
				       VC_OBJECT_THUMBNAIL, obj.data, VC_OBJECT_HDR_LEN + 15, &pt),
		  VC_EV_MALFORMED);
	ck_a[0] ^= 1;
	assert_ev(vc_event_object_open(VC_HPKE_CHACHA20POLY1305, ck_a, c.man_hash,
				       VC_OBJECT_THUMBNAIL, obj.data, obj.len, &pt), VC_EV_DECRYPT);
	ck_a[0] ^= 1;
	/*
	 * Nonce reuse: objects of one kind sealed again and again under one
	 * content key (a clip re-sealed after an upload failed, a thumbnail
	 * replaced) each get a fresh index, so no two share a keystream: the
	 * XOR of two ciphertexts of the same zeros is never all zero.
	 */
	{
		static const uint8_t zeros[64];
		struct vc_buf o[4] = { { 0 } };
		size_t i, j, k;

		for (i = 0; i < 4; i++) {
			enum vc_event_object kind = i < 3 ? VC_OBJECT_CLIP : VC_OBJECT_THUMBNAIL;

			fx_require(vc_event_object_seal(sealer, kind, zeros, sizeof(zeros),
							&o[i]) == 0);
			g_assert_cmpint(object_index(o[i].data), ==, i + 1);
		}
		g_assert_cmpint(vc_event_sealer_next_index(sealer), ==, 5);
		for (i = 0; i < 4; i++)
			for (j = i + 1; j < 4; j++) {
				uint8_t acc = 0;

				for (k = 0; k < sizeof(zeros); k++)
					acc |= o[i].data[VC_OBJECT_HDR_LEN + k] ^
					       o[j].data[VC_OBJECT_HDR_LEN + k];
				g_assert_cmpint(acc, !=, 0);
			}
		for (i = 0; i < 4; i++) {
			assert_ev(vc_event_object_open(VC_HPKE_CHACHA20POLY1305, ck_a, c.man_hash,
						       i < 3 ? VC_OBJECT_CLIP : VC_OBJECT_THUMBNAIL,
						       o[i].data, o[i].len, &pt), VC_EV_OK);
			vc_buf_free(&o[i]);
		}
	}
	vc_event_sealer_free(sealer);
	vc_enc_key_free(ea);
	vc_enc_key_free(eb);
	vc_buf_free(&env);
	vc_buf_free(&env2);
	vc_buf_free(&obj);
	vc_buf_free(&pt);
	vc_buf_free(&bad);
}

/* The holder's answers (vc_holder_answer, pure): its own events only, each by its own op. */
static void test_holder_ops(void)
{
	struct vc_device_key *hubs[1] = { hub_a };
	uint8_t req[VC_HOLDER_REQ_MAX], reply[VC_HOLDER_REPLY_LEN], msg[64 + VC_MANIFEST_MAX_LEN];
	struct vc_holder_state st;
	struct clip c, foreign;

	fx_require(make_clip(&c, cam, 40, 0, NULL, hubs, 1) == 0);
	fx_require(make_clip(&foreign, other_cam, 40, 0, NULL, hubs, 1) == 0);
	vc_holder_state_init(&st);
#define ASK(op, body, len) (req[0] = 'V', req[1] = 'K', req[2] = VC_HOLDER_VERSION,	\
	req[3] = (op), req[4] = (uint8_t)((len) >> 8), req[5] = (uint8_t)(len),	\
	req[6] = req[7] = 0, memcpy(req + 8, (body), (len)),			\
	vc_holder_answer(cam, &st, req, 8 + (len), reply))
	g_assert_cmpint(ASK(VC_HOLDER_OP_EVENT_RECORD, c.rec[2], VC_EVREC_LEN), ==, VC_HOLDER_OK);
	g_assert_cmpmem(reply + 8, 64, c.rec[2] + VC_EVREC_LEN - 64, 64);
	g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, c.man, c.man_len), ==, VC_HOLDER_OK);
	g_assert_cmpmem(reply + 8, 64, c.man + c.man_len - 64, 64);
	g_assert_cmpint(st.refused, ==, 0);
	/* another camera's, or by the wrong op, or a signing oracle for anything else */
	g_assert_cmpint(ASK(VC_HOLDER_OP_EVENT_RECORD, foreign.rec[2], VC_EVREC_LEN), ==,
			VC_HOLDER_REFUSED);
	g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, foreign.man, foreign.man_len), ==,
			VC_HOLDER_REFUSED);
	g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, c.rec[2], VC_EVREC_LEN), ==, VC_HOLDER_REFUSED);
	g_assert_cmpint(ASK(VC_HOLDER_OP_EVENT_RECORD, c.man, c.man_len), ==, VC_HOLDER_REFUSED);
	g_assert_cmpint(ASK(VC_HOLDER_OP_RECORD, c.rec[2], VC_EVREC_LEN), ==, VC_HOLDER_REFUSED);
	g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, c.man, c.man_len - 1), ==, VC_HOLDER_REFUSED);
	memset(msg, 0x41, sizeof(msg));
	g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, msg, c.man_len), ==, VC_HOLDER_REFUSED);
	g_assert_cmpint(st.refused, ==, 7);
	/*
	 * A network process taken over forks the chain: a second manifest at
	 * the position just signed, a jump ahead, a next number linked to
	 * another manifest, the next number under the head's event id, and,
	 * once the next one is signed, the old position again. Each is
	 * refused as out of chain and counted; the head does not move.
	 */
	{
		struct clip fork0, c1, jump, badlink, sameid, c2;
		uint8_t sig1[VC_SIG_LEN];

		g_assert_true(st.head.set && st.head.number == 0 &&
			      !memcmp(st.head.hash, c.man_hash, VC_HASH_LEN));
		fx_require(make_clip(&fork0, cam, 41, 0, NULL, hubs, 1) == 0);
		fx_require(make_clip(&c1, cam, 42, 1, c.man_hash, hubs, 1) == 0);
		fx_require(make_clip(&jump, cam, 43, 5, c.man_hash, hubs, 1) == 0);
		fx_require(make_clip(&badlink, cam, 44, 1, fork0.man_hash, hubs, 1) == 0);
		fx_require(make_clip(&sameid, cam, 40, 1, c.man_hash, hubs, 1) == 0);
		fx_require(make_clip(&c2, cam, 45, 2, c1.man_hash, hubs, 1) == 0);
		g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, fork0.man, fork0.man_len), ==,
				VC_HOLDER_REFUSED_CHAIN);
		g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, jump.man, jump.man_len), ==,
				VC_HOLDER_REFUSED_CHAIN);
		g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, badlink.man, badlink.man_len), ==,
				VC_HOLDER_REFUSED_CHAIN);
		g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, sameid.man, sameid.man_len), ==,
				VC_HOLDER_REFUSED_CHAIN);
		g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, c2.man, c2.man_len), ==,
				VC_HOLDER_REFUSED_CHAIN);
		g_assert_true(st.refused == 12 && reply[3] == VC_HOLDER_REFUSED_CHAIN);
		g_assert_cmpmem(st.head.hash, VC_HASH_LEN, c.man_hash, VC_HASH_LEN);
		/* the head's own manifest again: the same signature (a lost reply) */
		g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, c.man, c.man_len), ==, VC_HOLDER_OK);
		g_assert_cmpmem(reply + 8, 64, c.man + c.man_len - 64, 64);
		g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, c1.man, c1.man_len), ==, VC_HOLDER_OK);
		memcpy(sig1, reply + 8, sizeof(sig1));
		g_assert_true(st.head.number == 1 && !memcmp(st.head.hash, c1.man_hash,
							     VC_HASH_LEN) &&
			      !memcmp(st.head.event_id, c1.m.event_id, VC_EVENT_ID_LEN));
		/* the old position, and the fork at it, are refused from now on */
		g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, c.man, c.man_len), ==,
				VC_HOLDER_REFUSED_CHAIN);
		g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, fork0.man, fork0.man_len), ==,
				VC_HOLDER_REFUSED_CHAIN);
		g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, c1.man, c1.man_len), ==, VC_HOLDER_OK);
		g_assert_cmpmem(reply + 8, sizeof(sig1), sig1, sizeof(sig1));
		g_assert_cmpint(ASK(VC_HOLDER_OP_MANIFEST, c2.man, c2.man_len), ==, VC_HOLDER_OK);
		/* the head, as the network process asks for it */
		g_assert_cmpint(ASK(VC_HOLDER_OP_EVENT_HEAD, msg, 0), ==, VC_HOLDER_OK);
		g_assert_true(reply[8] == 1 && reply[16 + 7] == 2 && !memcmp(reply + 24,
									     c2.man_hash, 32) &&
			      !memcmp(reply + 56, c2.m.event_id, VC_EVENT_ID_LEN));
		g_assert_cmpint(ASK(VC_HOLDER_OP_EVENT_HEAD, msg, 1), ==, VC_HOLDER_REFUSED);
		g_assert_cmpint(st.refused, ==, 15);
	}
#undef ASK
}

/*
 * The SEI carrier (§7) carries an event record as it carries a live one;
 * the hub finds it, and the AU's hash binds the media to it.
 */
static void test_carrier(void)
{
	struct vc_buf au = { 0 }, signed_au = { 0 };
	uint8_t rec[VC_EVREC_LEN], got[VC_RECORD_MAX_LEN];
	struct vc_event_record r, back;
	struct vc_au_scan scan, hub;
	struct vc_clip_check chk;
	struct vc_manifest m = { 0 };
	size_t got_len = sizeof(got);

	fx_au(&au, true, 3000, 77);
	fx_require(vc_au_scan(au.data, au.len, &scan) == VC_OK);
	memset(&r, 0, sizeof(r));
	memcpy(r.key_id, vc_key_id(cam), VC_KEY_ID_LEN);
	fx_bytes(60, r.event_id, VC_EVENT_ID_LEN);
	r.flags = VC_EVREC_F_IDR;
	memcpy(r.au_hash, scan.hash, VC_HASH_LEN);
	vc_event_record_encode(&r, rec);
	fx_require(vc_event_record_sign(cam, rec) == 0);
	fx_require(vc_sei_insert(au.data, au.len, &scan, rec, sizeof(rec), &signed_au) == 0);
	fx_require(vc_sei_extract(signed_au.data, signed_au.len, &hub, got, &got_len) == VC_OK);
	g_assert_true(got_len == VC_EVREC_LEN && !memcmp(got, rec, VC_EVREC_LEN));
	g_assert_true(vc_event_record_verify(vc_key_public(cam), got, got_len));
	assert_ev(vc_event_record_parse(got, got_len, &back), VC_EV_OK);
	g_assert_cmpmem(back.au_hash, VC_HASH_LEN, hub.hash, VC_HASH_LEN);
	/* a one-frame clip of this AU, checked whole */
	m.flags = 0;
	m.trigger = VC_TRIGGER_DOORBELL;
	m.n_recipients = 1;
	memcpy(m.key_id, r.key_id, VC_KEY_ID_LEN);
	memcpy(m.event_id, r.event_id, VC_EVENT_ID_LEN);
	m.n_frames = 1;
	fx_require(vc_event_hash(rec, VC_EVREC_LEN, m.last_record_hash) == 0);
	vc_clip_check_init(&chk, &m, vc_key_public(cam));
	assert_ev(vc_clip_check_au(&chk, signed_au.data, signed_au.len, NULL), VC_EV_OK);
	assert_ev(vc_clip_check_end(&chk), VC_EV_OK);
	/* the AU without its record, and another slice under the record */
	vc_clip_check_init(&chk, &m, vc_key_public(cam));
	assert_ev(vc_clip_check_au(&chk, au.data, au.len, NULL), VC_EV_NO_RECORD);
	signed_au.data[signed_au.len - 5] ^= 0x01;
	fx_require(vc_sei_extract(signed_au.data, signed_au.len, &hub, got, &got_len) == VC_OK);
	g_assert_true(memcmp(back.au_hash, hub.hash, VC_HASH_LEN) != 0);
	assert_ev(vc_clip_check_au(&chk, signed_au.data, signed_au.len, NULL), VC_EV_AU_HASH);
	assert_ev(vc_clip_check_end(&chk), VC_EV_TRUNCATED);
	vc_buf_free(&au);
	vc_buf_free(&signed_au);
}

/*
 * The camera's writer makes what the hub's checks accept, AU by AU, and
 * the next event chains to it.
 */
static void test_writer(void)
{
	uint8_t man[VC_MANIFEST_MAX_LEN], man2[VC_MANIFEST_MAX_LEN], mh[VC_HASH_LEN];
	uint8_t ids[2][VC_KEY_ID_LEN];
	struct vc_frame_info info = { .capture_ns = FX_NOW_NS };
	struct vc_buf au = { 0 }, out[3] = { { 0 } };
	struct vc_event_writer *w, *w2;
	struct vc_manifest m, m2;
	struct vc_clip_check chk;
	int len, len2, i;

	memcpy(ids[0], vc_key_id(hub_a), VC_KEY_ID_LEN);
	memcpy(ids[1], vc_key_id(hub_b), VC_KEY_ID_LEN);
	g_assert_null(vc_event_writer_new(cam, "id:writer", 1, NULL));	/* number 1 needs a previous */
	g_assert_null(vc_event_writer_new(cam, "", 0, NULL));
	w = vc_event_writer_new(cam, "id:writer", 0, NULL);
	fx_require(w);
	g_assert_cmpint(vc_event_writer_finish(w, VC_TRIGGER_MOTION, NULL, 0, ids, 2, man), <, 0);
	fx_au(&au, false, 2000, 1);
	g_assert_cmpint(vc_event_writer_add(w, &info, au.data, au.len, &out[0]), <, 0);	/* not an IDR */
	for (i = 0; i < 3; i++) {
		fx_au(&au, i == 0, 2000, (uint32_t)i + 1);
		info.capture_ns = FX_NOW_NS + (uint64_t)i * 40000000;
		fx_require(vc_event_writer_add(w, &info, au.data, au.len, &out[i]) == 0);
	}
	/* an AU that already carries a record is refused */
	g_assert_cmpint(vc_event_writer_add(w, &info, out[0].data, out[0].len, &au), <, 0);
	len = vc_event_writer_finish(w, VC_TRIGGER_MANUAL, thumb, sizeof(thumb), ids, 2, man);
	fx_require(len == (int)VC_MANIFEST_LEN(2));
	assert_ev(vc_manifest_verify(man, (size_t)len, vc_key_public(cam), vc_event_writer_id(w),
				     vc_key_id(hub_b), &m), VC_EV_OK);
	g_assert_true(m.n_frames == 3 && m.number == 0 && m.trigger == VC_TRIGGER_MANUAL);
	g_assert_true(m.start_ns == FX_NOW_NS && m.end_ns == FX_NOW_NS + 80000000);
	assert_ev(vc_manifest_check_thumbnail(&m, thumb, sizeof(thumb)), VC_EV_OK);
	vc_clip_check_init(&chk, &m, vc_key_public(cam));
	for (i = 0; i < 3; i++)
		assert_ev(vc_clip_check_au(&chk, out[i].data, out[i].len, NULL), VC_EV_OK);
	assert_ev(vc_clip_check_end(&chk), VC_EV_OK);
	/* the next event */
	fx_require(vc_event_hash(man, (size_t)len, mh) == 0);
	w2 = vc_event_writer_new(cam, "id:writer", 1, mh);
	fx_require(w2);
	g_assert_true(memcmp(vc_event_writer_id(w), vc_event_writer_id(w2), VC_EVENT_ID_LEN) != 0);
	fx_au(&au, true, 2000, 9);
	fx_require(vc_event_writer_add(w2, &info, au.data, au.len, &out[0]) == 0);
	len2 = vc_event_writer_finish(w2, VC_TRIGGER_DOORBELL, NULL, 0, ids, 1, man2);
	fx_require(len2 > 0);
	assert_ev(vc_manifest_verify(man2, (size_t)len2, vc_key_public(cam), NULL, vc_key_id(hub_a),
				     &m2), VC_EV_OK);
	assert_ev(vc_manifest_follows(&m, mh, &m2), VC_EV_OK);
	g_assert_false(m2.flags & VC_MANIFEST_F_THUMBNAIL);
	/* a clip AU of event 1 is not one of event 0 */
	vc_clip_check_init(&chk, &m, vc_key_public(cam));
	assert_ev(vc_clip_check_au(&chk, out[0].data, out[0].len, NULL), VC_EV_EVENT);
	vc_event_writer_free(w);
	vc_event_writer_free(w2);
	vc_buf_free(&au);
	for (i = 0; i < 3; i++)
		vc_buf_free(&out[i]);
}

/* ---- vectors (docs/PROTOCOL.md §15.5) ---- */

static FILE *out_file;
static int vec_mismatch;

static void vec(const char *name, const uint8_t *p, size_t len)
{
	char hex[2 * VC_MANIFEST_MAX_LEN + 1];	/* the longest vector */
	const uint8_t *want;
	size_t wlen;

	if (out_file) {
		vc_hex(p, len, hex);
		fprintf(out_file, "%s = %s\n", name, hex);
		return;
	}
	want = fx_vec(name, &wlen);
	if (wlen != len || memcmp(want, p, len)) {
		g_test_message("vector %s differs", name);
		vec_mismatch = 1;
	}
}

static void test_vectors(void)
{
	struct vc_device_key *hubs[1];
	uint8_t seed[32], hub_seed[32], id[VC_KEY_ID_LEN], name[24];
	struct vc_device_key *vcam, *vhub;
	struct clip c, c1;

	/* the keys of tests/vectors/frame-v3.txt */
	fx_require(vc_unhex("20272e353c434a51585f666d747b828990979ea5acb3bac1c8cfd6dde4ebf2f9", 64,
			    seed) == 0);
	fx_require(vc_unhex("3f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a1118", 64,
			    hub_seed) == 0);
	vcam = vc_key_from_seed(seed);
	vhub = vc_key_from_seed(hub_seed);
	fx_require(vcam && vhub);
	hubs[0] = vhub;
	vec_mismatch = 0;
	vec("camera_seed", seed, 32);
	vec("camera_key_id", vc_key_id(vcam), VC_KEY_ID_LEN);
	vec("hub_key_id", vc_key_id(vhub), VC_KEY_ID_LEN);
	fx_require(make_clip(&c, vcam, 50, 0, NULL, hubs, 1) == 0);
	fx_require(make_clip(&c1, vcam, 51, 1, c.man_hash, hubs, 1) == 0);
	vec("source_id", c.m.source, VC_HASH_LEN);
	vec("event_id_0", c.m.event_id, VC_EVENT_ID_LEN);
	for (int i = 0; i < N_FRAMES; i++) {
		struct vc_event_record r;
		uint8_t h[VC_HASH_LEN];

		fx_require(vc_event_record_parse(c.rec[i], VC_EVREC_LEN, &r) == VC_EV_OK);
		snprintf((char *)name, sizeof(name), "au_hash_%d", i);
		vec((char *)name, r.au_hash, VC_HASH_LEN);
		snprintf((char *)name, sizeof(name), "event_record_%d", i);
		vec((char *)name, c.rec[i], VC_EVREC_LEN);
		vc_event_hash(c.rec[i], VC_EVREC_LEN, h);
		snprintf((char *)name, sizeof(name), "event_record_hash_%d", i);
		vec((char *)name, h, VC_HASH_LEN);
	}
	vec("thumbnail", thumb, sizeof(thumb));
	vec("thumbnail_hash", c.m.thumbnail_hash, VC_HASH_LEN);
	vec("manifest_0", c.man, c.man_len);
	vec("manifest_hash_0", c.man_hash, VC_HASH_LEN);
	vec("event_id_1", c1.m.event_id, VC_EVENT_ID_LEN);
	vec("manifest_1", c1.man, c1.man_len);
	/*
	 * Objects under a fixed content key (60 61 .. 7f) and manifest_0: with
	 * ChaCha20-Poly1305, the thumbnail (index 0), event_record_0 as a clip
	 * (index 1), the thumbnail again (index 2: another nonce); with
	 * AES-128-GCM, the thumbnail (index 0).
	 */
	{
		struct vc_event_sealer *s, *s2;
		struct vc_buf o = { 0 };
		uint8_t ck[VC_CONTENT_KEY_LEN];

		for (int i = 0; i < VC_CONTENT_KEY_LEN; i++)
			ck[i] = (uint8_t)(0x60 + i);
		vec("content_key", ck, sizeof(ck));
		s = vc_event_sealer_new_from_key(VC_HPKE_CHACHA20POLY1305, ck, c.man_hash);
		s2 = vc_event_sealer_new_from_key(VC_HPKE_AES128GCM, ck, c.man_hash);
		fx_require(s && s2);
		fx_require(vc_event_object_seal(s, VC_OBJECT_THUMBNAIL, thumb, sizeof(thumb),
						&o) == 0);
		vec("object_chacha_0", o.data, o.len);
		fx_require(vc_event_object_seal(s, VC_OBJECT_CLIP, c.rec[0], VC_EVREC_LEN,
						&o) == 0);
		vec("object_chacha_1", o.data, o.len);
		fx_require(vc_event_object_seal(s, VC_OBJECT_THUMBNAIL, thumb, sizeof(thumb),
						&o) == 0);
		vec("object_chacha_2", o.data, o.len);
		fx_require(vc_event_object_seal(s2, VC_OBJECT_THUMBNAIL, thumb, sizeof(thumb),
						&o) == 0);
		vec("object_aes_0", o.data, o.len);
		vc_event_sealer_free(s);
		vc_event_sealer_free(s2);
		vc_buf_free(&o);
	}
	memcpy(id, c1.m.key_id, sizeof(id));
	g_assert_cmpmem(id, sizeof(id), vc_key_id(vcam), sizeof(id));
	g_assert_false(vec_mismatch);
	vc_key_free(vcam);
	vc_key_free(vhub);
}

int main(int argc, char **argv)
{
	const char *path;
	bool write;
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	write = argc == 3 && !strcmp(argv[1], "--write");
	path = argc == 2 ? argv[1] : write ? argv[2] : NULL;
	cam = fx_key(CAM);
	other_cam = fx_key(OTHER_CAM);
	hub_a = fx_key(HUB_A);
	hub_b = fx_key(HUB_B);
	hub_c = fx_key(HUB_C);
	if (!path || !cam || !other_cam || !hub_a || !hub_b || !hub_c) {
		fprintf(stderr, "usage: test_event [--write] VECTORS\n");
		return 1;
	}
	if (write) {
		out_file = fopen(path, "w");
		if (!out_file)
			return 1;
		fprintf(out_file, "# veracam event v1 test vectors: docs/PROTOCOL.md §15.5.\n"
			"# Generated by test_event --write; checked by test_event (core-event).\n"
			"# Keys: the camera and hub seeds of frame-v3.txt. Clip: %d frames,\n"
			"# au_hash_i = SHA-256(\"event 50 frame i\"), capture time\n"
			"# 1795219200000000000 + i * 33333333 ns, source id:c0ffee0000000000000000000000cafe.\n"
			"# Objects: content key 60 61 .. 7f, manifest_0's hash; object_S_i is index i.\n",
			N_FRAMES);
		g_test_add_func("/core/event/write-vectors", test_vectors);
		rc = g_test_run();
		fclose(out_file);
		return rc;
	}
	if (fx_vec_load(path) < 0) {
		fprintf(stderr, "test_event: cannot read %s\n", path);
		return 1;
	}
	g_test_add_func("/core/event/event-record-parse", test_event_record_parse);
	g_test_add_func("/core/event/manifest-verify", test_manifest_verify);
	g_test_add_func("/core/event/manifest-chain", test_manifest_chain);
	g_test_add_func("/core/event/clip-check", test_clip_check);
	g_test_add_func("/core/event/envelope", test_envelope);
	g_test_add_func("/core/event/holder-ops", test_holder_ops);
	g_test_add_func("/core/event/carrier", test_carrier);
	g_test_add_func("/core/event/writer", test_writer);
	g_test_add_func("/core/event/vectors", test_vectors);
	return g_test_run();
}
