// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - the hub's verifier, in the order of
 * docs/PROTOCOL.md "Verifier rules": open -> record present and well
 * formed -> camera key id -> signature under the pinned key -> AU hash ->
 * session id -> capture source (if pinned) -> sequence advances -> IDR wait / gap -> chain -> freshness.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <veracam/keys.h>
#include <veracam/seal.h>
#include <veracam/sei.h>
#include <veracam/verify.h>
#include "internal.h"

struct vc_verifier {
	struct vc_opener *opener;
	EVP_PKEY *camera;
	uint8_t camera_id[VC_KEY_ID_LEN];
	uint8_t session_id[VC_SESSION_ID_LEN];
	uint8_t source[VC_HASH_LEN];
	bool pin_source;
	int64_t offset_ns, uncertainty_ns, freshness_ns, future_ns;

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
	cfg->clock_offset_ns = p->clock_offset_ns;
	cfg->clock_uncertainty_ns = p->rtt_ns / 2;
}

struct vc_verifier *vc_verifier_new(const struct vc_verifier_config *cfg)
{
	struct vc_verifier *v = calloc(1, sizeof(*v));

	if (!v) {
		vc_err("out of memory");
		return NULL;
	}
	v->opener = vc_opener_new(cfg->key, cfg->session_id);
	v->camera = vc_pubkey_new(cfg->camera_pub);
	if (!v->opener || !v->camera || vc_key_id_of(cfg->camera_pub, v->camera_id) < 0) {
		vc_verifier_free(v);
		return NULL;
	}
	memcpy(v->session_id, cfg->session_id, VC_SESSION_ID_LEN);
	if (cfg->source) {
		memcpy(v->source, cfg->source, VC_HASH_LEN);
		v->pin_source = true;
	}
	v->offset_ns = cfg->clock_offset_ns;
	v->uncertainty_ns = cfg->clock_uncertainty_ns > 0 ? cfg->clock_uncertainty_ns : 0;
	v->freshness_ns = cfg->freshness_ns > 0 ? cfg->freshness_ns : VC_FRESHNESS_DEFAULT_NS;
	v->future_ns = cfg->future_ns > 0 ? cfg->future_ns : VC_FUTURE_DEFAULT_NS;
	if (v->uncertainty_ns > VC_UNCERTAINTY_MAX_NS)
		v->uncertainty_ns = VC_UNCERTAINTY_MAX_NS;
	v->awaiting_idr = true;
	return v;
}

void vc_verifier_free(struct vc_verifier *v)
{
	if (!v)
		return;
	vc_opener_free(v->opener);
	EVP_PKEY_free(v->camera);
	vc_buf_free(&v->plain);
	free(v);
}

static bool has_session(const struct vc_record *r, const uint8_t id[VC_SESSION_ID_LEN])
{
	size_t i;

	for (i = 0; i < r->n_sessions; i++)
		if (memcmp(r->session_ids[i], id, VC_SESSION_ID_LEN) == 0)
			return true;
	return false;
}

/* Every rule after the unit opened; the record and AU are authentic session data. */
static enum vc_reject check_au(struct vc_verifier *v, int64_t now_ns, struct vc_verified *out,
			       uint8_t rec_hash[VC_HASH_LEN])
{
	uint8_t rec_bytes[VC_RECORD_MAX_LEN];
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
	if (!has_session(&r, v->session_id))
		return VC_REJ_SESSION;
	if (v->pin_source && CRYPTO_memcmp(r.source, v->source, VC_HASH_LEN) != 0)
		return VC_REJ_SOURCE;
	if (v->have_last && r.seq <= v->last_seq)
		return VC_REJ_SEQUENCE;
	idr = r.flags & VC_RECORD_F_IDR;
	if (v->awaiting_idr) {
		if (!idr)
			return VC_REJ_AWAIT_IDR;
	} else {
		/* v->have_last holds whenever no IDR is awaited */
		if (r.seq != v->last_seq + 1)
			return VC_REJ_GAP;
		if (CRYPTO_memcmp(r.prev_hash, v->last_hash, VC_HASH_LEN) != 0)
			return VC_REJ_CHAIN;
	}
	/* age in the camera's clock: (hub now + offset) - capture time */
	if (r.capture_ns > INT64_MAX || __builtin_add_overflow(now_ns, v->offset_ns, &age) ||
	    __builtin_sub_overflow(age, (int64_t)r.capture_ns, &age))
		return VC_REJ_FUTURE;	/* no representable age: not a plausible capture time */
	if (age > 0 && age - v->uncertainty_ns > v->freshness_ns)
		return VC_REJ_STALE;
	if (age < 0 && age + v->uncertainty_ns < -v->future_ns)
		return VC_REJ_FUTURE;
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
				  int64_t now_ns, struct vc_verified *out)
{
	uint8_t rec_hash[VC_HASH_LEN];
	uint64_t unit_seq;
	enum vc_reject r;

	memset(out, 0, sizeof(*out));
	r = vc_open(v->opener, unit, len, &v->plain, &unit_seq);
	if (r == VC_OK) {
		r = check_au(v, now_ns, out, rec_hash);
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
