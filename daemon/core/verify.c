// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - the hub's verifier, in the order of
 * docs/PROTOCOL.md "Verifier rules": open -> record present and well
 * formed -> camera key id -> signature under the pinned key -> AU hash ->
 * session entry -> capture source (if pinned) -> sequence advances ->
 * IDR wait / gap -> chain -> freshness from this session's challenge.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <veracam/keys.h>
#include <veracam/seal.h>
#include <veracam/sei.h>
#include <veracam/verify.h>
#include "internal.h"

struct vc_verifier {
	struct vc_opener *opener;
	uint8_t camera[VC_PUBKEY_LEN];
	uint8_t camera_id[VC_KEY_ID_LEN];
	uint8_t session_id[VC_SESSION_ID_LEN];
	uint8_t source[VC_HASH_LEN];
	bool pin_source;
	int64_t freshness_ns;

	/* send times of challenges newest - VC_CHALLENGES_KEPT + 1 .. newest */
	int64_t sent_ns[VC_CHALLENGES_KEPT];
	uint64_t newest;

	bool awaiting_idr;
	bool have_last;
	uint64_t last_seq;
	uint8_t last_hash[VC_HASH_LEN];

	struct vc_buf plain;
	struct vc_verifier_stats stats;
};

void vc_verifier_config_from_session(struct vc_verifier_config *cfg,
				     const struct vc_session_params *p)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->camera_pub = p->peer.pub;
	cfg->session_id = p->session_id;
	cfg->key = &p->camera_to_hub;
	cfg->challenge0_ns = p->hello_ns;
}

struct vc_verifier *vc_verifier_new(const struct vc_verifier_config *cfg)
{
	struct vc_verifier *v = calloc(1, sizeof(*v));

	if (!v) {
		vc_err("out of memory");
		return NULL;
	}
	v->opener = vc_opener_new(cfg->key, cfg->session_id);
	memcpy(v->camera, cfg->camera_pub, VC_PUBKEY_LEN);
	if (!v->opener || vc_key_id_of(cfg->camera_pub, v->camera_id) < 0) {
		vc_verifier_free(v);
		return NULL;
	}
	memcpy(v->session_id, cfg->session_id, VC_SESSION_ID_LEN);
	if (cfg->source) {
		memcpy(v->source, cfg->source, VC_HASH_LEN);
		v->pin_source = true;
	}
	v->freshness_ns = cfg->freshness_ns > 0 ? cfg->freshness_ns : VC_FRESHNESS_DEFAULT_NS;
	v->sent_ns[0] = cfg->challenge0_ns;	/* the session hello is challenge 0 */
	v->newest = 0;
	v->awaiting_idr = true;
	return v;
}

void vc_verifier_free(struct vc_verifier *v)
{
	if (!v)
		return;
	vc_opener_free(v->opener);
	vc_buf_free(&v->plain);
	free(v);
}

uint64_t vc_verifier_challenge(struct vc_verifier *v, int64_t now_mono_ns)
{
	int64_t prev = v->sent_ns[v->newest % VC_CHALLENGES_KEPT];

	/*
	 * A remembered send time must never be later than the real one (a
	 * later one makes frames look younger). The caller reads now before
	 * it sends, and this challenge goes out after the previous one, so
	 * both are early enough; a clock going backwards gets the previous.
	 */
	v->newest++;
	v->sent_ns[v->newest % VC_CHALLENGES_KEPT] = now_mono_ns > prev ? now_mono_ns : prev;
	return v->newest;
}

static const struct vc_record_session *session_entry(const struct vc_record *r,
						     const uint8_t id[VC_SESSION_ID_LEN])
{
	size_t i;

	for (i = 0; i < r->n_sessions; i++)
		if (memcmp(r->sessions[i].id, id, VC_SESSION_ID_LEN) == 0)
			return &r->sessions[i];
	return NULL;
}

/*
 * Rule 15: the frame cannot be older than the time since the challenge it
 * names was sent plus the camera's delay, since the camera cannot have
 * received the challenge before the hub sent it. Delaying any message
 * only makes frames look older; no wall clock is read.
 */
static enum vc_reject age_bound(const struct vc_verifier *v, const struct vc_record_session *e,
				int64_t now, int64_t *age)
{
	int64_t sent;

	if (e->challenge > v->newest)
		return VC_REJ_FUTURE;	/* never sent: only a broken or compromised camera */
	if (v->newest - e->challenge >= VC_CHALLENGES_KEPT)
		return VC_REJ_STALE;	/* send time forgotten: older than any window */
	sent = v->sent_ns[e->challenge % VC_CHALLENGES_KEPT];
	if (now < sent)
		return VC_REJ_FUTURE;	/* answered before it went, by the caller's clock */
	if (__builtin_sub_overflow(now, sent, age) || e->delay_ns > INT64_MAX ||
	    __builtin_add_overflow(*age, (int64_t)e->delay_ns, age))
		return VC_REJ_STALE;	/* no representable bound */
	return *age > v->freshness_ns ? VC_REJ_STALE : VC_OK;
}

/* Every rule after the unit opened; the record and AU are authentic session data. */
static enum vc_reject check_au(struct vc_verifier *v, int64_t now, struct vc_verified *out,
			       uint8_t rec_hash[VC_HASH_LEN])
{
	uint8_t rec_bytes[VC_RECORD_MAX_LEN];
	const struct vc_record_session *mine;
	size_t rec_len;
	struct vc_au_scan scan;
	struct vc_record r;
	enum vc_reject res;
	bool idr;
	int64_t age;

	res = vc_sei_extract(v->plain.data, v->plain.len, &scan, rec_bytes, &rec_len);
	if (res != VC_OK)
		return res;
	res = vc_record_parse(rec_bytes, rec_len, &r);
	if (res != VC_OK)
		return res;
	if (CRYPTO_memcmp(r.key_id, v->camera_id, VC_KEY_ID_LEN) != 0)
		return VC_REJ_KEY_ID;
	if (!vc_record_verify(v->camera, rec_bytes, rec_len))
		return VC_REJ_SIGNATURE;
	if (CRYPTO_memcmp(r.au_hash, scan.hash, VC_HASH_LEN) != 0)
		return VC_REJ_AU_HASH;
	mine = session_entry(&r, v->session_id);
	if (!mine)
		return VC_REJ_SESSION;
	if (v->pin_source && CRYPTO_memcmp(r.source, v->source, VC_HASH_LEN) != 0)
		return VC_REJ_SOURCE;
	if (v->have_last && r.seq <= v->last_seq)
		return VC_REJ_SEQUENCE;
	idr = r.flags & VC_RECORD_F_IDR;
	if (v->awaiting_idr) {
		if (!idr)
			return VC_REJ_AWAIT_IDR;
	} else if (r.seq != v->last_seq + 1) {
		/*
		 * Units were lost (v->have_last holds whenever no IDR is
		 * awaited). An IDR is a resynchronisation point, as when one is
		 * awaited: accepted, the chain not checked across the gap.
		 */
		if (!idr)
			return VC_REJ_GAP;
	} else if (CRYPTO_memcmp(r.prev_hash, v->last_hash, VC_HASH_LEN) != 0) {
		return VC_REJ_CHAIN;
	}
	res = age_bound(v, mine, now, &age);
	if (res != VC_OK)
		return res;
	if (vc_record_hash(rec_bytes, rec_len, rec_hash) < 0)
		return VC_REJ_RECORD;

	v->have_last = true;
	v->last_seq = r.seq;
	out->au = v->plain.data;
	out->au_len = v->plain.len;
	out->seq = r.seq;
	out->capture_ns = r.capture_ns;
	out->has_sensor_seq = r.flags & VC_RECORD_F_SENSOR_SEQ;
	out->sensor_seq = r.sensor_seq;
	out->idr = idr;
	out->age_ns = age;
	memcpy(out->source, r.source, VC_HASH_LEN);
	return VC_OK;
}

enum vc_reject vc_verifier_accept(struct vc_verifier *v, const uint8_t *unit, size_t len,
				  int64_t now_mono_ns, struct vc_verified *out)
{
	uint8_t rec_hash[VC_HASH_LEN];
	uint64_t unit_seq;
	enum vc_reject r;

	memset(out, 0, sizeof(*out));
	r = vc_open(v->opener, unit, len, &v->plain, &unit_seq);
	if (r == VC_OK) {
		r = check_au(v, now_mono_ns, out, rec_hash);
		if (r == VC_OK) {
			memcpy(v->last_hash, rec_hash, VC_HASH_LEN);
			v->awaiting_idr = false;
			v->stats.accepted++;
			return VC_OK;
		}
		/* authentic session data that broke a rule: resynchronise on an IDR */
		v->awaiting_idr = true;
	}
	v->stats.rejected[r]++;
	return r;
}

const struct vc_verifier_stats *vc_verifier_stats(const struct vc_verifier *v)
{
	return &v->stats;
}

bool vc_verifier_awaiting_idr(const struct vc_verifier *v)
{
	return v->awaiting_idr;
}
