// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - recorded events (event.h, docs/PROTOCOL.md §15).
 *
 * Event frame record (216 bytes, big-endian; the §6 record's first 136
 * bytes with no session entries, then the event id):
 *   0 version (3)  1 flags (EVENT 04 always, IDR 01, SENSOR_SEQ 02)
 *   2 session count (0)  3 reserved (0)  4 camera key id (16)
 *   20 sequence in the clip (8)  28 capture time ns (8)  36 sensor sequence (4)
 *   40 AU hash (32)  72 previous record's hash (32, zero for sequence 0)
 *   104 capture source id (32)  136 event id (16)
 *   152 Ed25519 signature over "veracam1 event record" 00 || bytes 0..152
 *
 * Manifest v1 (192 + 16 n + 64 bytes):
 *   0 version (1)  1 flags (THUMBNAIL 01)  2 recipient count n (1..8)
 *   3 trigger (1 motion, 2 manual, 3 doorbell)  4 camera key id (16)
 *   20 event id (16)  36 event number (8)  44 capture source id (32)
 *   76 start capture ns (8)  84 end capture ns (8)  92 frame count (4)
 *   96 last event record's hash (32)  128 thumbnail hash (32)
 *   160 previous manifest's hash (32)  192 n hub key ids (16 each)
 *   then an Ed25519 signature over "veracam1 event manifest" 00 || the rest
 *
 * Envelope v1: 0 version (1)  1 AEAD id (1 AES-128-GCM, 3 ChaCha20-Poly1305)
 *   2 wrapped key count (= the manifest's n)  3 reserved (0)
 *   4 manifest length (2)  6 reserved (00 00)  8 the signed manifest
 *   then per recipient, in the manifest's order: hub key id (16) | HPKE
 *   enc (32) | the content key sealed (48)
 *
 * Object: 0 kind (1)  1 reserved (00 00 00)  4 index (4)  8 ciphertext || tag,
 *   the 8-byte header being the AEAD's aad; nonce = base nonce XOR index.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <veracam/event.h>
#include <veracam/holder.h>
#include <veracam/sei.h>
#include "event_internal.h"
#include "hpke_internal.h"
#include "internal.h"

static const char record_context[] = "veracam1 event record";	/* signed with its NUL */
static const char manifest_context[] = "veracam1 event manifest";
static const char wrap_context[] = "veracam1 event key";
static const char object_context[] = "veracam1 event object";

#define CONTEXT_MAX	32

static bool all_zero(const uint8_t *p, size_t len)
{
	uint8_t acc = 0;

	while (len--)
		acc |= *p++;
	return !acc;
}

const char *vc_event_reject_name(enum vc_event_reject r)
{
	static const char *const names[VC_EV__COUNT] = {
		[VC_EV_OK] = "ok",
		[VC_EV_MALFORMED] = "malformed",
		[VC_EV_VERSION] = "version",
		[VC_EV_CAMERA] = "wrong-camera",
		[VC_EV_SIGNATURE] = "bad-signature",
		[VC_EV_EVENT] = "wrong-event",
		[VC_EV_RECIPIENT] = "not-for-this-hub",
		[VC_EV_SOURCE] = "source",
		[VC_EV_SEQUENCE] = "sequence",
		[VC_EV_CHAIN] = "chain",
		[VC_EV_GAP] = "gap",
		[VC_EV_REPLAY] = "replay",
		[VC_EV_TRUNCATED] = "truncated",
		[VC_EV_EXTRA] = "extra-frames",
		[VC_EV_THUMBNAIL] = "thumbnail",
		[VC_EV_DECRYPT] = "decrypt",
		[VC_EV_NO_RECORD] = "no-record",
		[VC_EV_AU_HASH] = "au-hash",
		[VC_EV_TIMING] = "timing",
	};

	if ((unsigned int)r >= VC_EV__COUNT)
		return "unknown";
	return names[r];
}

int vc_event_hash(const uint8_t *p, size_t len, uint8_t out[VC_HASH_LEN])
{
	if (EVP_Digest(p, len, out, NULL, EVP_sha256(), NULL) != 1)
		return vc_err_ssl("SHA-256");
	return 0;
}

/* ---- signatures: context || bytes before the signature ---- */

static size_t signed_message(const char *ctx, const uint8_t *p, size_t len, uint8_t *msg)
{
	size_t n = strlen(ctx) + 1;

	memcpy(msg, ctx, n);
	memcpy(msg + n, p, len - VC_SIG_LEN);
	return n + len - VC_SIG_LEN;
}

static int sign_with(const struct vc_device_key *key, enum vc_holder_op op, const char *ctx,
		     uint8_t *p, size_t len)
{
	uint8_t msg[CONTEXT_MAX + VC_MANIFEST_MAX_LEN];
	size_t n;

	if (len < VC_SIG_LEN || len > VC_MANIFEST_MAX_LEN)
		return vc_err("event: bad length to sign");
	if (!key->sk)
		return vc_holder_sign((struct vc_device_key *)key, op, p, len);
	n = signed_message(ctx, p, len, msg);
	return vc_ed25519_sign(key, msg, n, p + len - VC_SIG_LEN);
}

static bool verify_with(const uint8_t pub[VC_PUBKEY_LEN], const char *ctx, const uint8_t *p,
			size_t len)
{
	uint8_t msg[CONTEXT_MAX + VC_MANIFEST_MAX_LEN];
	size_t n;

	if (len < VC_SIG_LEN || len > VC_MANIFEST_MAX_LEN)
		return false;
	n = signed_message(ctx, p, len, msg);
	return vc_ed25519_verify(pub, msg, n, p + len - VC_SIG_LEN);
}

/* ---- event frame record ---- */

void vc_event_record_encode(const struct vc_event_record *r, uint8_t out[VC_EVREC_LEN])
{
	out[0] = VC_EVREC_VERSION;
	out[1] = r->flags | VC_EVREC_F_EVENT;
	out[2] = 0;
	out[3] = 0;
	memcpy(out + 4, r->key_id, VC_KEY_ID_LEN);
	vc_put_be64(out + 20, r->seq);
	vc_put_be64(out + 28, r->capture_ns);
	vc_put_be32(out + 36, r->sensor_seq);
	memcpy(out + 40, r->au_hash, VC_HASH_LEN);
	memcpy(out + 72, r->prev_hash, VC_HASH_LEN);
	memcpy(out + 104, r->source, VC_HASH_LEN);
	memcpy(out + 136, r->event_id, VC_EVENT_ID_LEN);
	memcpy(out + 152, r->sig, VC_SIG_LEN);
}

enum vc_event_reject vc_event_record_parse(const uint8_t *p, size_t len,
					   struct vc_event_record *r)
{
	uint8_t known = VC_EVREC_F_IDR | VC_EVREC_F_SENSOR_SEQ | VC_EVREC_F_EVENT;

	if (len < 1)
		return VC_EV_MALFORMED;
	if (p[0] != VC_EVREC_VERSION)
		return VC_EV_VERSION;
	if (len != VC_EVREC_LEN || !(p[1] & VC_EVREC_F_EVENT) || (p[1] & ~known) || p[2] || p[3])
		return VC_EV_MALFORMED;
	memset(r, 0, sizeof(*r));
	r->flags = p[1];
	memcpy(r->key_id, p + 4, VC_KEY_ID_LEN);
	r->seq = vc_get_be64(p + 20);
	r->capture_ns = vc_get_be64(p + 28);
	r->sensor_seq = vc_get_be32(p + 36);
	if (!(r->flags & VC_EVREC_F_SENSOR_SEQ) && r->sensor_seq)
		return VC_EV_MALFORMED;
	memcpy(r->au_hash, p + 40, VC_HASH_LEN);
	memcpy(r->prev_hash, p + 72, VC_HASH_LEN);
	if (r->seq == 0 && !all_zero(r->prev_hash, VC_HASH_LEN))
		return VC_EV_MALFORMED;
	memcpy(r->source, p + 104, VC_HASH_LEN);
	memcpy(r->event_id, p + 136, VC_EVENT_ID_LEN);
	memcpy(r->sig, p + 152, VC_SIG_LEN);
	return VC_EV_OK;
}

int vc_event_record_sign(const struct vc_device_key *key, uint8_t rec[VC_EVREC_LEN])
{
	return sign_with(key, VC_HOLDER_OP_EVENT_RECORD, record_context, rec, VC_EVREC_LEN);
}

bool vc_event_record_verify(const uint8_t pub[VC_PUBKEY_LEN], const uint8_t *rec, size_t len)
{
	return len == VC_EVREC_LEN && verify_with(pub, record_context, rec, len);
}

/* ---- manifest ---- */

int vc_manifest_encode(const struct vc_manifest *m, uint8_t out[VC_MANIFEST_MAX_LEN])
{
	size_t i;

	if (m->n_recipients < 1 || m->n_recipients > VC_MANIFEST_MAX_RECIPIENTS)
		return vc_err("manifest: %u recipients (1..%d)", m->n_recipients,
			      VC_MANIFEST_MAX_RECIPIENTS);
	out[0] = VC_MANIFEST_VERSION;
	out[1] = m->flags;
	out[2] = m->n_recipients;
	out[3] = m->trigger;
	memcpy(out + 4, m->key_id, VC_KEY_ID_LEN);
	memcpy(out + 20, m->event_id, VC_EVENT_ID_LEN);
	vc_put_be64(out + 36, m->number);
	memcpy(out + 44, m->source, VC_HASH_LEN);
	vc_put_be64(out + 76, m->start_ns);
	vc_put_be64(out + 84, m->end_ns);
	vc_put_be32(out + 92, m->n_frames);
	memcpy(out + 96, m->last_record_hash, VC_HASH_LEN);
	memcpy(out + 128, m->thumbnail_hash, VC_HASH_LEN);
	memcpy(out + 160, m->prev_hash, VC_HASH_LEN);
	for (i = 0; i < m->n_recipients; i++)
		memcpy(out + VC_MANIFEST_FIXED_LEN + i * VC_KEY_ID_LEN, m->recipients[i],
		       VC_KEY_ID_LEN);
	memcpy(out + VC_MANIFEST_LEN(m->n_recipients) - VC_SIG_LEN, m->sig, VC_SIG_LEN);
	return VC_MANIFEST_LEN(m->n_recipients);
}

enum vc_event_reject vc_manifest_parse(const uint8_t *p, size_t len, struct vc_manifest *m)
{
	size_t i, n;

	if (len < 1)
		return VC_EV_MALFORMED;
	if (p[0] != VC_MANIFEST_VERSION)
		return VC_EV_VERSION;
	if (len < VC_MANIFEST_FIXED_LEN)
		return VC_EV_MALFORMED;
	n = p[2];
	if (n < 1 || n > VC_MANIFEST_MAX_RECIPIENTS || len != VC_MANIFEST_LEN(n) ||
	    (p[1] & ~VC_MANIFEST_F_THUMBNAIL) || p[3] < VC_TRIGGER_MOTION ||
	    p[3] > VC_TRIGGER_DOORBELL)
		return VC_EV_MALFORMED;
	memset(m, 0, sizeof(*m));
	m->flags = p[1];
	m->n_recipients = (uint8_t)n;
	m->trigger = p[3];
	memcpy(m->key_id, p + 4, VC_KEY_ID_LEN);
	memcpy(m->event_id, p + 20, VC_EVENT_ID_LEN);
	m->number = vc_get_be64(p + 36);
	memcpy(m->source, p + 44, VC_HASH_LEN);
	m->start_ns = vc_get_be64(p + 76);
	m->end_ns = vc_get_be64(p + 84);
	m->n_frames = vc_get_be32(p + 92);
	memcpy(m->last_record_hash, p + 96, VC_HASH_LEN);
	memcpy(m->thumbnail_hash, p + 128, VC_HASH_LEN);
	memcpy(m->prev_hash, p + 160, VC_HASH_LEN);
	if (m->n_frames < 1 || m->end_ns < m->start_ns ||
	    (!(m->flags & VC_MANIFEST_F_THUMBNAIL) && !all_zero(m->thumbnail_hash, VC_HASH_LEN)) ||
	    (m->number == 0 && !all_zero(m->prev_hash, VC_HASH_LEN)))
		return VC_EV_MALFORMED;
	for (i = 0; i < n; i++)
		memcpy(m->recipients[i], p + VC_MANIFEST_FIXED_LEN + i * VC_KEY_ID_LEN,
		       VC_KEY_ID_LEN);
	memcpy(m->sig, p + len - VC_SIG_LEN, VC_SIG_LEN);
	return VC_EV_OK;
}

int vc_manifest_sign(const struct vc_device_key *key, uint8_t *man, size_t len)
{
	return sign_with(key, VC_HOLDER_OP_MANIFEST, manifest_context, man, len);
}

enum vc_event_reject vc_manifest_verify(const uint8_t *p, size_t len,
					const uint8_t camera_pub[VC_PUBKEY_LEN],
					const uint8_t *want_event, const uint8_t *hub_key_id,
					struct vc_manifest *m)
{
	uint8_t id[VC_KEY_ID_LEN];
	enum vc_event_reject r = vc_manifest_parse(p, len, m);
	size_t i;

	if (r != VC_EV_OK)
		return r;
	if (vc_key_id_of(camera_pub, id) < 0 || CRYPTO_memcmp(id, m->key_id, VC_KEY_ID_LEN))
		return VC_EV_CAMERA;
	if (!verify_with(camera_pub, manifest_context, p, len))
		return VC_EV_SIGNATURE;
	if (want_event && CRYPTO_memcmp(want_event, m->event_id, VC_EVENT_ID_LEN))
		return VC_EV_EVENT;
	if (!hub_key_id)
		return VC_EV_OK;
	for (i = 0; i < m->n_recipients; i++)
		if (!CRYPTO_memcmp(hub_key_id, m->recipients[i], VC_KEY_ID_LEN))
			return VC_EV_OK;
	return VC_EV_RECIPIENT;
}

enum vc_event_reject vc_manifest_follows(const struct vc_manifest *prev,
					 const uint8_t prev_hash[VC_HASH_LEN],
					 const struct vc_manifest *next)
{
	if (CRYPTO_memcmp(prev->key_id, next->key_id, VC_KEY_ID_LEN))
		return VC_EV_CAMERA;
	if (next->number <= prev->number)
		return VC_EV_REPLAY;
	if (next->number > prev->number + 1)
		return VC_EV_GAP;
	return CRYPTO_memcmp(next->prev_hash, prev_hash, VC_HASH_LEN) ? VC_EV_CHAIN : VC_EV_OK;
}

enum vc_event_reject vc_manifest_check_thumbnail(const struct vc_manifest *m,
						 const uint8_t *jpeg, size_t len)
{
	uint8_t h[VC_HASH_LEN];

	if (!(m->flags & VC_MANIFEST_F_THUMBNAIL) || vc_event_hash(jpeg, len, h) < 0 ||
	    CRYPTO_memcmp(h, m->thumbnail_hash, VC_HASH_LEN))
		return VC_EV_THUMBNAIL;
	return VC_EV_OK;
}

/* ---- a clip's records ---- */

void vc_clip_check_init(struct vc_clip_check *c, const struct vc_manifest *m,
			const uint8_t camera_pub[VC_PUBKEY_LEN])
{
	memset(c, 0, sizeof(*c));
	c->m = m;
	memcpy(c->camera_pub, camera_pub, VC_PUBKEY_LEN);
}

enum vc_event_reject vc_clip_check_record(struct vc_clip_check *c, const uint8_t *rec,
					  size_t len, struct vc_event_record *out)
{
	struct vc_event_record r;
	enum vc_event_reject why = vc_event_record_parse(rec, len, &r);

	if (why != VC_EV_OK)
		return why;
	if (CRYPTO_memcmp(r.key_id, c->m->key_id, VC_KEY_ID_LEN))
		return VC_EV_CAMERA;
	if (!vc_event_record_verify(c->camera_pub, rec, len))
		return VC_EV_SIGNATURE;
	if (CRYPTO_memcmp(r.event_id, c->m->event_id, VC_EVENT_ID_LEN))
		return VC_EV_EVENT;
	if (CRYPTO_memcmp(r.source, c->m->source, VC_HASH_LEN))
		return VC_EV_SOURCE;
	if (c->next_seq >= c->m->n_frames)
		return VC_EV_EXTRA;
	if (r.seq != c->next_seq)
		return VC_EV_SEQUENCE;
	if (CRYPTO_memcmp(r.prev_hash, c->prev_hash, VC_HASH_LEN))
		return VC_EV_CHAIN;
	if (vc_event_hash(rec, len, c->prev_hash) < 0)
		return VC_EV_MALFORMED;
	c->next_seq++;
	if (out)
		*out = r;
	return VC_EV_OK;
}

enum vc_event_reject vc_clip_check_au(struct vc_clip_check *c, const uint8_t *au, size_t len,
				      struct vc_event_record *out)
{
	uint8_t rec[VC_RECORD_MAX_LEN];
	size_t rec_len = sizeof(rec);
	struct vc_event_record r;
	struct vc_au_scan scan;
	enum vc_event_reject why;

	if (vc_sei_extract(au, len, &scan, rec, &rec_len) != VC_OK)
		return VC_EV_NO_RECORD;
	/* the record alone first: a bad one must not advance the check */
	why = vc_event_record_parse(rec, rec_len, &r);
	if (why != VC_EV_OK)
		return why;
	if (CRYPTO_memcmp(r.au_hash, scan.hash, VC_HASH_LEN)) {
		if (vc_event_record_verify(c->camera_pub, rec, rec_len))
			return VC_EV_AU_HASH;
		return VC_EV_SIGNATURE;
	}
	return vc_clip_check_record(c, rec, rec_len, out);
}

enum vc_event_reject vc_clip_check_end(const struct vc_clip_check *c)
{
	if (c->next_seq < c->m->n_frames)
		return VC_EV_TRUNCATED;
	return CRYPTO_memcmp(c->prev_hash, c->m->last_record_hash, VC_HASH_LEN) ? VC_EV_CHAIN
										 : VC_EV_OK;
}

enum vc_event_reject vc_clip_check_time(struct vc_clip_check *c, const struct vc_event_record *r,
					uint64_t play_ns, uint64_t tick_ns)
{
	uint64_t seen, slack;

	if (r->seq == 0)
		c->first_capture_ns = r->capture_ns;
	if (r->capture_ns < c->first_capture_ns)
		return VC_EV_TIMING;
	seen = r->capture_ns - c->first_capture_ns;
	slack = VC_CLIP_TIME_SLACK_NS + tick_ns + seen / 1000;
	if (play_ns > seen ? play_ns - seen > slack : seen - play_ns > slack)
		return VC_EV_TIMING;
	return VC_EV_OK;
}

/* ---- the camera's writer ---- */

struct vc_event_writer {
	const struct vc_device_key *key;	/* borrowed */
	struct vc_manifest m;			/* filled as the clip grows */
	uint8_t prev[VC_HASH_LEN];
	uint64_t next_seq;
};

struct vc_event_writer *vc_event_writer_new(const struct vc_device_key *key,
					    const char *source_stable, uint64_t number,
					    const uint8_t *prev_manifest_hash)
{
	struct vc_event_writer *w;

	if ((number == 0) != (prev_manifest_hash == NULL)) {
		vc_err("event: the first event has no previous manifest, every other one has");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		vc_err("out of memory");
		return NULL;
	}
	w->key = key;
	memcpy(w->m.key_id, vc_key_id(key), VC_KEY_ID_LEN);
	w->m.number = number;
	if (prev_manifest_hash)
		memcpy(w->m.prev_hash, prev_manifest_hash, VC_HASH_LEN);
	if (vc_source_id(source_stable, w->m.source) < 0) {
		free(w);
		return NULL;
	}
	if (RAND_bytes(w->m.event_id, VC_EVENT_ID_LEN) != 1) {
		vc_err_ssl("event id");
		free(w);
		return NULL;
	}
	return w;
}

void vc_event_writer_free(struct vc_event_writer *w)
{
	free(w);
}

const uint8_t *vc_event_writer_id(const struct vc_event_writer *w)
{
	return w->m.event_id;
}

int vc_event_writer_add(struct vc_event_writer *w, const struct vc_frame_info *info,
			const uint8_t *au, size_t len, struct vc_buf *out)
{
	uint8_t rec[VC_EVREC_LEN];
	struct vc_event_record r;
	struct vc_au_scan scan;

	if (w->next_seq == UINT32_MAX)
		return vc_err("event: clip too long");
	if (vc_au_scan(au, len, &scan) != VC_OK)
		return vc_err("event: not an Annex-B H.264 access unit with a slice");
	if (scan.n_records)
		return vc_err("event: access unit already carries a veracam record");
	if (w->next_seq == 0 && !scan.idr)
		return vc_err("event: a clip starts with an IDR");
	memset(&r, 0, sizeof(r));
	r.flags = (scan.idr ? VC_EVREC_F_IDR : 0) |
		  (info->has_sensor_seq ? VC_EVREC_F_SENSOR_SEQ : 0);
	memcpy(r.key_id, w->m.key_id, VC_KEY_ID_LEN);
	r.seq = w->next_seq;
	r.capture_ns = info->capture_ns;
	r.sensor_seq = info->has_sensor_seq ? info->sensor_seq : 0;
	memcpy(r.au_hash, scan.hash, VC_HASH_LEN);
	memcpy(r.prev_hash, w->prev, VC_HASH_LEN);
	memcpy(r.source, w->m.source, VC_HASH_LEN);
	memcpy(r.event_id, w->m.event_id, VC_EVENT_ID_LEN);
	vc_event_record_encode(&r, rec);
	if (vc_event_record_sign(w->key, rec) < 0 ||
	    vc_sei_insert(au, len, &scan, rec, sizeof(rec), out) < 0 ||
	    vc_event_hash(rec, sizeof(rec), w->prev) < 0)
		return -1;
	if (w->next_seq == 0)
		w->m.start_ns = info->capture_ns;
	if (info->capture_ns > w->m.end_ns)
		w->m.end_ns = info->capture_ns;
	w->next_seq++;
	return 0;
}

int vc_event_writer_finish(struct vc_event_writer *w, enum vc_event_trigger trigger,
			   const uint8_t *thumb, size_t thumb_len,
			   const uint8_t (*recipients)[VC_KEY_ID_LEN], size_t n,
			   uint8_t out[VC_MANIFEST_MAX_LEN])
{
	struct vc_manifest *m = &w->m;
	int len;

	if (!w->next_seq)
		return vc_err("event: no frame recorded");
	if (trigger < VC_TRIGGER_MOTION || trigger > VC_TRIGGER_DOORBELL)
		return vc_err("event: unknown trigger %d", (int)trigger);
	if (n < 1 || n > VC_MANIFEST_MAX_RECIPIENTS)
		return vc_err("event: %zu recipients (1..%d)", n, VC_MANIFEST_MAX_RECIPIENTS);
	m->trigger = (uint8_t)trigger;
	m->n_recipients = (uint8_t)n;
	memcpy(m->recipients, recipients, n * VC_KEY_ID_LEN);
	m->n_frames = (uint32_t)w->next_seq;
	memcpy(m->last_record_hash, w->prev, VC_HASH_LEN);
	m->flags = thumb ? VC_MANIFEST_F_THUMBNAIL : 0;
	memset(m->thumbnail_hash, 0, VC_HASH_LEN);
	if (thumb && vc_event_hash(thumb, thumb_len, m->thumbnail_hash) < 0)
		return -1;
	len = vc_manifest_encode(m, out);
	if (len < 0 || vc_manifest_sign(w->key, out, (size_t)len) < 0)
		return -1;
	return len;
}

/* ---- envelope ---- */

static bool aead_known(unsigned int id)
{
	return id == VC_HPKE_AES128GCM || id == VC_HPKE_CHACHA20POLY1305;
}

/* HPKE info of one wrapped key: context 00 || hub key id || event id. */
#define WRAP_INFO_LEN	(sizeof(wrap_context) + VC_KEY_ID_LEN + VC_EVENT_ID_LEN)

static void wrap_info(const uint8_t hub[VC_KEY_ID_LEN], const uint8_t event[VC_EVENT_ID_LEN],
		      uint8_t info[WRAP_INFO_LEN])
{
	memcpy(info, wrap_context, sizeof(wrap_context));
	memcpy(info + sizeof(wrap_context), hub, VC_KEY_ID_LEN);
	memcpy(info + sizeof(wrap_context) + VC_KEY_ID_LEN, event, VC_EVENT_ID_LEN);
}

int vc_envelope_seal(enum vc_hpke_aead aead, const uint8_t *man, size_t man_len,
		     const struct vc_event_recipient *to, size_t n,
		     struct vc_event_sealer **sealer, struct vc_buf *env)
{
	uint8_t mh[VC_HASH_LEN], info[WRAP_INFO_LEN], content_key[VC_CONTENT_KEY_LEN];
	struct vc_buf ct = { 0 };
	struct vc_manifest m;
	size_t i, off;
	int ret = -1;

	*sealer = NULL;
	if (!aead_known(aead))
		return vc_err("envelope: unknown AEAD %#x", (unsigned int)aead);
	if (vc_manifest_parse(man, man_len, &m) != VC_EV_OK)
		return vc_err("envelope: not a manifest");
	if (n != m.n_recipients)
		return vc_err("envelope: %zu recipients for a manifest naming %u", n,
			      m.n_recipients);
	for (i = 0; i < n; i++)
		if (memcmp(to[i].key_id, m.recipients[i], VC_KEY_ID_LEN))
			return vc_err("envelope: recipient %zu is not the manifest's", i);
	if (vc_event_hash(man, man_len, mh) < 0 ||
	    vc_buf_reserve(env, VC_ENVELOPE_HDR_LEN + man_len + n * VC_WRAPPED_LEN) < 0)
		return -1;
	if (RAND_priv_bytes(content_key, VC_CONTENT_KEY_LEN) != 1)
		return vc_err_ssl("envelope: content key");
	env->data[0] = VC_ENVELOPE_VERSION;
	env->data[1] = (uint8_t)aead;
	env->data[2] = (uint8_t)n;
	env->data[3] = 0;
	env->data[4] = (uint8_t)(man_len >> 8);
	env->data[5] = (uint8_t)man_len;
	env->data[6] = env->data[7] = 0;
	memcpy(env->data + VC_ENVELOPE_HDR_LEN, man, man_len);
	off = VC_ENVELOPE_HDR_LEN + man_len;
	for (i = 0; i < n; i++, off += VC_WRAPPED_LEN) {
		uint8_t *e = env->data + off;

		memcpy(e, to[i].key_id, VC_KEY_ID_LEN);
		wrap_info(to[i].key_id, m.event_id, info);
		if (vc_hpke_seal(aead, to[i].enc_pub, info, sizeof(info), mh, sizeof(mh),
				 content_key, VC_CONTENT_KEY_LEN, e + VC_KEY_ID_LEN, &ct) < 0)
			goto out;
		memcpy(e + VC_KEY_ID_LEN + VC_HPKE_ENC_LEN, ct.data, ct.len);
	}
	/* the content key leaves only wrapped, and inside the event's one sealer */
	*sealer = vc_event_sealer_new_from_key(aead, content_key, mh);
	if (!*sealer)
		goto out;
	env->len = off;
	ret = 0;
out:
	OPENSSL_cleanse(content_key, VC_CONTENT_KEY_LEN);
	if (ret < 0)
		env->len = 0;
	vc_buf_free(&ct);
	return ret;
}

enum vc_event_reject vc_envelope_open(const uint8_t *env, size_t len,
				      const uint8_t camera_pub[VC_PUBKEY_LEN],
				      const uint8_t *want_event,
				      const uint8_t hub_key_id[VC_KEY_ID_LEN],
				      const struct vc_enc_key *hub_enc, struct vc_manifest *m,
				      uint8_t *man_out, size_t *man_len,
				      enum vc_hpke_aead *aead,
				      uint8_t content_key[VC_CONTENT_KEY_LEN])
{
	uint8_t mh[VC_HASH_LEN], info[WRAP_INFO_LEN];
	struct vc_buf pt = { 0 };
	enum vc_event_reject why;
	const uint8_t *man, *e;
	size_t mlen, n, i;

	if (len < 1)
		return VC_EV_MALFORMED;
	if (env[0] != VC_ENVELOPE_VERSION)
		return VC_EV_VERSION;
	if (len < VC_ENVELOPE_HDR_LEN || env[3] || env[6] || env[7])
		return VC_EV_MALFORMED;
	if (!aead_known(env[1]))
		return VC_EV_VERSION;
	n = env[2];
	mlen = (size_t)env[4] << 8 | env[5];
	if (n < 1 || n > VC_MANIFEST_MAX_RECIPIENTS || mlen > VC_MANIFEST_MAX_LEN ||
	    len != VC_ENVELOPE_HDR_LEN + mlen + n * VC_WRAPPED_LEN)
		return VC_EV_MALFORMED;
	man = env + VC_ENVELOPE_HDR_LEN;
	why = vc_manifest_verify(man, mlen, camera_pub, want_event, hub_key_id, m);
	if (why != VC_EV_OK)
		return why;
	if (n != m->n_recipients)
		return VC_EV_MALFORMED;
	e = man + mlen;
	for (i = 0; i < n; i++, e += VC_WRAPPED_LEN)
		if (memcmp(e, m->recipients[i], VC_KEY_ID_LEN))
			return VC_EV_MALFORMED;
	e = man + mlen;
	for (i = 0; i < n && CRYPTO_memcmp(e, hub_key_id, VC_KEY_ID_LEN); i++)
		e += VC_WRAPPED_LEN;
	if (i == n)
		return VC_EV_RECIPIENT;
	wrap_info(hub_key_id, m->event_id, info);
	if (vc_event_hash(man, mlen, mh) < 0)
		return VC_EV_MALFORMED;
	if (vc_hpke_open(env[1], hub_enc, e + VC_KEY_ID_LEN, info, sizeof(info), mh, sizeof(mh),
			 e + VC_KEY_ID_LEN + VC_HPKE_ENC_LEN, VC_CONTENT_KEY_LEN + VC_HPKE_TAG_LEN,
			 &pt) < 0 ||
	    pt.len != VC_CONTENT_KEY_LEN) {
		vc_buf_free(&pt);
		return VC_EV_DECRYPT;
	}
	memcpy(content_key, pt.data, VC_CONTENT_KEY_LEN);
	OPENSSL_cleanse(pt.data, pt.len);
	vc_buf_free(&pt);
	memcpy(man_out, man, mlen);
	*man_len = mlen;
	*aead = env[1];
	return VC_EV_OK;
}

/* ---- objects ---- */

/*
 * The event's object key and base nonce: HKDF(salt = manifest hash, ikm =
 * content key, info = context 00), Nk + 12 bytes. Each object's nonce is
 * the base nonce XOR its index (RFC 9180's ComputeNonce), and the indexes
 * come from the one sealer that holds the content key: no two objects of
 * an event ever share a nonce, whatever their kinds.
 */
static int object_ctx(enum vc_hpke_aead aead, const uint8_t key[VC_CONTENT_KEY_LEN],
		      const uint8_t mh[VC_HASH_LEN], struct vc_hpke_ctx *ctx)
{
	uint8_t okm[VC_HPKE_NK_MAX + VC_HPKE_NN];
	size_t nk = aead == VC_HPKE_AES128GCM ? 16 : 32;
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	if (!aead_known(aead))
		return vc_err("event object: unknown AEAD");
	ret = vc_hkdf_sha256(mh, VC_HASH_LEN, key, VC_CONTENT_KEY_LEN,
			     (const uint8_t *)object_context, sizeof(object_context), okm,
			     nk + VC_HPKE_NN);
	if (ret == 0) {
		ctx->aead = aead;
		ctx->key_len = nk;
		memcpy(ctx->key, okm, nk);
		memcpy(ctx->base_nonce, okm + nk, VC_HPKE_NN);
	}
	OPENSSL_cleanse(okm, sizeof(okm));
	return ret;
}

struct vc_event_sealer {
	struct vc_hpke_ctx ctx;		/* the object key; ctx.seq: the next index */
};

struct vc_event_sealer *vc_event_sealer_new_from_key(enum vc_hpke_aead aead,
						     const uint8_t key[VC_CONTENT_KEY_LEN],
						     const uint8_t mh[VC_HASH_LEN])
{
	struct vc_event_sealer *s = OPENSSL_secure_zalloc(sizeof(*s));

	if (!s) {
		vc_err("out of memory");
		return NULL;
	}
	if (object_ctx(aead, key, mh, &s->ctx) < 0) {
		OPENSSL_secure_clear_free(s, sizeof(*s));
		return NULL;
	}
	return s;
}

void vc_event_sealer_free(struct vc_event_sealer *s)
{
	if (s)
		OPENSSL_secure_clear_free(s, sizeof(*s));
}

uint32_t vc_event_sealer_next_index(const struct vc_event_sealer *s)
{
	return (uint32_t)s->ctx.seq;
}

static void object_header(enum vc_event_object kind, uint32_t index,
			  uint8_t hdr[VC_OBJECT_HDR_LEN])
{
	hdr[0] = (uint8_t)kind;
	hdr[1] = hdr[2] = hdr[3] = 0;
	vc_put_be32(hdr + 4, index);
}

int vc_event_object_seal(struct vc_event_sealer *s, enum vc_event_object kind,
			 const uint8_t *pt, size_t len, struct vc_buf *out)
{
	uint8_t hdr[VC_OBJECT_HDR_LEN];
	uint64_t index = s->ctx.seq;

	if (kind != VC_OBJECT_THUMBNAIL && kind != VC_OBJECT_CLIP)
		return vc_err("event object: unknown kind %d", (int)kind);
	if (index >= UINT32_MAX)
		return vc_err("event object: this event's object indexes are used up");
	object_header(kind, (uint32_t)index, hdr);
	/* the index is used up whatever happens (on success the seal advances it) */
	if (vc_hpke_ctx_seal(&s->ctx, hdr, sizeof(hdr), pt, len, out) < 0) {
		s->ctx.seq = index + 1;
		return -1;
	}
	if (vc_buf_reserve(out, out->len + VC_OBJECT_HDR_LEN) < 0)
		return -1;
	memmove(out->data + VC_OBJECT_HDR_LEN, out->data, out->len);
	memcpy(out->data, hdr, VC_OBJECT_HDR_LEN);
	out->len += VC_OBJECT_HDR_LEN;
	return 0;
}

enum vc_event_reject vc_event_object_open(enum vc_hpke_aead aead,
					  const uint8_t content_key[VC_CONTENT_KEY_LEN],
					  const uint8_t manifest_hash[VC_HASH_LEN],
					  enum vc_event_object kind, const uint8_t *obj,
					  size_t len, struct vc_buf *out)
{
	struct vc_hpke_ctx ctx;
	int ret;

	if (len < VC_OBJECT_HDR_LEN + VC_HPKE_TAG_LEN || obj[1] || obj[2] || obj[3])
		return VC_EV_MALFORMED;
	/* a thumbnail served as a clip (or the reverse) does not open as one */
	if (obj[0] != (uint8_t)kind)
		return VC_EV_DECRYPT;
	ret = object_ctx(aead, content_key, manifest_hash, &ctx);
	if (ret == 0) {
		ctx.seq = vc_get_be32(obj + 4);
		ret = vc_hpke_ctx_open(&ctx, obj, VC_OBJECT_HDR_LEN, obj + VC_OBJECT_HDR_LEN,
				       len - VC_OBJECT_HDR_LEN, out);
	}
	vc_hpke_ctx_clear(&ctx);
	return ret == 0 ? VC_EV_OK : VC_EV_DECRYPT;
}
