// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - the frame record and the camera's signer.
 *
 * Record v3 (all integers big-endian; docs/PROTOCOL.md "Frame record"):
 *   0   version (3)        1  flags            2  n_sessions (1..8)
 *   3   reserved (0)       4  camera key id (16)
 *   20  sequence (8)       28 capture time, wall clock ns (8, display only)
 *   36  sensor sequence (4)
 *   40  SHA-256 of the AU's NAL units (32)
 *   72  previous record's hash (32)
 *   104 capture source id (32): SHA-256("veracam source v1" 00 || stable id)
 *   136 n session entries of 32 bytes:
 *       session id (16) | newest challenge received (8) | delay ns (8)
 *   ... Ed25519 signature (64) over "veracam1 record" 00 || bytes before it
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <veracam/record.h>
#include <veracam/sei.h>
#include "internal.h"

static const char sig_context[16] = "veracam1 record";	/* with its NUL: 16 bytes */
static const char source_context[18] = "veracam source v1";	/* with its NUL: 18 bytes */

int vc_source_id(const char *stable, uint8_t out[VC_HASH_LEN])
{
	size_t len = stable ? strnlen(stable, VC_SOURCE_MAX_LEN + 1) : 0;
	EVP_MD_CTX *md;
	int ok;

	if (len < 1 || len > VC_SOURCE_MAX_LEN)
		return vc_err("source: stable identity of 1..%d bytes required", VC_SOURCE_MAX_LEN);
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(md, source_context, sizeof(source_context)) == 1 &&
	     EVP_DigestUpdate(md, stable, len) == 1 &&
	     EVP_DigestFinal_ex(md, out, NULL) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : vc_err_ssl("SHA-256");
}

uint64_t vc_challenge_delay(int64_t capture_mono_ns, int64_t received_mono_ns)
{
	if (received_mono_ns <= capture_mono_ns)
		return 0;
	/* the difference of two int64 values always fits in a uint64 */
	return (uint64_t)received_mono_ns - (uint64_t)capture_mono_ns;
}

int vc_record_encode(const struct vc_record *r, uint8_t out[VC_RECORD_MAX_LEN])
{
	size_t i;

	if (r->n_sessions < 1 || r->n_sessions > VC_RECORD_MAX_SESSIONS)
		return vc_err("record: %u sessions (1..%d)", r->n_sessions, VC_RECORD_MAX_SESSIONS);
	out[0] = r->version;
	out[1] = r->flags;
	out[2] = r->n_sessions;
	out[3] = 0;
	memcpy(out + 4, r->key_id, VC_KEY_ID_LEN);
	vc_put_be64(out + 20, r->seq);
	vc_put_be64(out + 28, r->capture_ns);
	vc_put_be32(out + 36, r->sensor_seq);
	memcpy(out + 40, r->au_hash, VC_HASH_LEN);
	memcpy(out + 72, r->prev_hash, VC_HASH_LEN);
	memcpy(out + 104, r->source, VC_HASH_LEN);
	for (i = 0; i < r->n_sessions; i++) {
		uint8_t *e = out + VC_RECORD_FIXED_LEN + i * VC_RECORD_ENTRY_LEN;

		memcpy(e, r->sessions[i].id, VC_SESSION_ID_LEN);
		vc_put_be64(e + 16, r->sessions[i].challenge);
		vc_put_be64(e + 24, r->sessions[i].delay_ns);
	}
	memcpy(out + VC_RECORD_LEN(r->n_sessions) - VC_SIG_LEN, r->sig, VC_SIG_LEN);
	return VC_RECORD_LEN(r->n_sessions);
}

enum vc_reject vc_record_parse(const uint8_t *p, size_t len, struct vc_record *r)
{
	size_t i, n;

	if (len < 1)
		return VC_REJ_RECORD;
	if (p[0] != VC_RECORD_VERSION)
		return VC_REJ_RECORD_VERSION;
	if (len < VC_RECORD_FIXED_LEN)
		return VC_REJ_RECORD;
	n = p[2];
	if (n < 1 || n > VC_RECORD_MAX_SESSIONS || len != VC_RECORD_LEN(n) || p[3] != 0 ||
	    (p[1] & ~(VC_RECORD_F_IDR | VC_RECORD_F_SENSOR_SEQ)))
		return VC_REJ_RECORD;
	memset(r, 0, sizeof(*r));
	r->version = p[0];
	r->flags = p[1];
	r->n_sessions = (uint8_t)n;
	memcpy(r->key_id, p + 4, VC_KEY_ID_LEN);
	r->seq = vc_get_be64(p + 20);
	r->capture_ns = vc_get_be64(p + 28);
	r->sensor_seq = vc_get_be32(p + 36);
	if (!(r->flags & VC_RECORD_F_SENSOR_SEQ) && r->sensor_seq != 0)
		return VC_REJ_RECORD;
	memcpy(r->au_hash, p + 40, VC_HASH_LEN);
	memcpy(r->prev_hash, p + 72, VC_HASH_LEN);
	memcpy(r->source, p + 104, VC_HASH_LEN);
	for (i = 0; i < n; i++) {
		const uint8_t *e = p + VC_RECORD_FIXED_LEN + i * VC_RECORD_ENTRY_LEN;

		memcpy(r->sessions[i].id, e, VC_SESSION_ID_LEN);
		r->sessions[i].challenge = vc_get_be64(e + 16);
		r->sessions[i].delay_ns = vc_get_be64(e + 24);
	}
	memcpy(r->sig, p + len - VC_SIG_LEN, VC_SIG_LEN);
	return VC_OK;
}

/* The signed message: context || record without its signature. */
static size_t signed_message(const uint8_t *rec, size_t len, uint8_t *msg)
{
	memcpy(msg, sig_context, sizeof(sig_context));
	memcpy(msg + sizeof(sig_context), rec, len - VC_SIG_LEN);
	return sizeof(sig_context) + len - VC_SIG_LEN;
}

int vc_record_sign(const struct vc_device_key *key, uint8_t *rec, size_t len)
{
	uint8_t msg[sizeof(sig_context) + VC_RECORD_MAX_LEN];
	size_t mlen;

	if (len < VC_SIG_LEN || len > VC_RECORD_MAX_LEN)
		return vc_err("record: bad length");
	if (!key->sk)
		return vc_holder_sign_record((struct vc_device_key *)key, rec, len);
	mlen = signed_message(rec, len, msg);
	return vc_ed25519_sign(key, msg, mlen, rec + len - VC_SIG_LEN);
}

int vc_record_verify(const uint8_t pub[VC_PUBKEY_LEN], const uint8_t *rec, size_t len)
{
	uint8_t msg[sizeof(sig_context) + VC_RECORD_MAX_LEN];
	size_t mlen;

	if (len < VC_SIG_LEN || len > VC_RECORD_MAX_LEN)
		return 0;
	mlen = signed_message(rec, len, msg);
	return vc_ed25519_verify(pub, msg, mlen, rec + len - VC_SIG_LEN);
}

int vc_record_hash(const uint8_t *rec, size_t len, uint8_t out[VC_HASH_LEN])
{
	if (EVP_Digest(rec, len, out, NULL, EVP_sha256(), NULL) != 1)
		return vc_err_ssl("SHA-256");
	return 0;
}

struct vc_signer {
	const struct vc_device_key *key;	/* borrowed */
	uint8_t key_id[VC_KEY_ID_LEN];
	uint64_t next_seq;
	uint8_t prev_hash[VC_HASH_LEN];
	uint8_t source[VC_HASH_LEN];
	bool has_source;
	struct vc_record last;
};

struct vc_signer *vc_signer_new(const struct vc_device_key *key)
{
	struct vc_signer *s = calloc(1, sizeof(*s));

	if (!s) {
		vc_err("out of memory");
		return NULL;
	}
	s->key = key;
	memcpy(s->key_id, vc_key_id(key), VC_KEY_ID_LEN);
	return s;
}

void vc_signer_free(struct vc_signer *s)
{
	free(s);
}

int vc_signer_set_source(struct vc_signer *s, const char *stable)
{
	if (vc_source_id(stable, s->source) < 0)
		return -1;
	s->has_source = true;
	return 0;
}

int vc_signer_sign(struct vc_signer *s, const struct vc_frame_info *info,
		   const struct vc_record_session *sessions, size_t n, const uint8_t *au,
		   size_t au_len, struct vc_buf *out)
{
	uint8_t enc[VC_RECORD_MAX_LEN];
	struct vc_au_scan scan;
	struct vc_record r;
	int len;

	if (!s->has_source)
		return vc_err("sign: no capture source set");
	if (n < 1 || n > VC_RECORD_MAX_SESSIONS)
		return vc_err("sign: %zu sessions (1..%d)", n, VC_RECORD_MAX_SESSIONS);
	if (vc_au_scan(au, au_len, &scan) != VC_OK)
		return vc_err("sign: not an Annex-B H.264 access unit with a slice");
	if (scan.n_records)
		return vc_err("sign: access unit already carries a veracam record");

	memset(&r, 0, sizeof(r));
	r.version = VC_RECORD_VERSION;
	r.flags = (scan.idr ? VC_RECORD_F_IDR : 0) |
		  (info->has_sensor_seq ? VC_RECORD_F_SENSOR_SEQ : 0);
	r.n_sessions = (uint8_t)n;
	memcpy(r.key_id, s->key_id, VC_KEY_ID_LEN);
	r.seq = s->next_seq;
	r.capture_ns = info->capture_ns;
	r.sensor_seq = info->has_sensor_seq ? info->sensor_seq : 0;
	memcpy(r.au_hash, scan.hash, VC_HASH_LEN);
	memcpy(r.prev_hash, s->prev_hash, VC_HASH_LEN);
	memcpy(r.source, s->source, VC_HASH_LEN);
	memcpy(r.sessions, sessions, n * sizeof(*sessions));

	len = vc_record_encode(&r, enc);
	if (len < 0 || vc_record_sign(s->key, enc, (size_t)len) < 0 ||
	    vc_sei_insert(au, au_len, &scan, enc, (size_t)len, out) < 0)
		return -1;
	if (vc_record_hash(enc, (size_t)len, s->prev_hash) < 0)
		return -1;
	memcpy(r.sig, enc + len - VC_SIG_LEN, VC_SIG_LEN);
	s->last = r;
	s->next_seq++;
	return 0;
}

const struct vc_record *vc_signer_last(const struct vc_signer *s)
{
	return &s->last;
}
