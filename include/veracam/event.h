/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - recorded events (docs/PROTOCOL.md §15): the
 * frame record variant bound to an event instead of a live session, the
 * event manifest the camera signs, the per-camera chain of manifests, the
 * check of a clip's records against its manifest, and the sealed-event
 * envelope (a fresh content key wrapped for each paired hub with HPKE).
 *
 * Everything a hub gets from a store or cache goes through these checks
 * before anything is decoded or shown; each refusal names its reason.
 */
#ifndef VERACAM_EVENT_H
#define VERACAM_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include <veracam/common.h>
#include <veracam/enckey.h>
#include <veracam/hpke.h>
#include <veracam/keys.h>
#include <veracam/record.h>

#define VC_EVENT_ID_LEN		16

/* ---- event frame record (§15.2) ---- */

#define VC_EVREC_VERSION	3	/* the frame record's version, §6 */
#define VC_EVREC_F_IDR		0x01
#define VC_EVREC_F_SENSOR_SEQ	0x02
#define VC_EVREC_F_EVENT	0x04	/* always set: never a live record */
#define VC_EVREC_LEN		216

struct vc_event_record {
	uint8_t flags;
	uint8_t key_id[VC_KEY_ID_LEN];
	uint64_t seq;			/* 0 for the clip's first frame, then +1 */
	uint64_t capture_ns;		/* wall clock, display only */
	uint32_t sensor_seq;
	uint8_t au_hash[VC_HASH_LEN];
	uint8_t prev_hash[VC_HASH_LEN];	/* zero for seq 0 */
	uint8_t source[VC_HASH_LEN];
	uint8_t event_id[VC_EVENT_ID_LEN];
	uint8_t sig[VC_SIG_LEN];
};

void vc_event_record_encode(const struct vc_event_record *r, uint8_t out[VC_EVREC_LEN]);

/* ---- manifest (§15.3) ---- */

#define VC_MANIFEST_VERSION	1
#define VC_MANIFEST_MAX_RECIPIENTS 8
#define VC_MANIFEST_FIXED_LEN	192
#define VC_MANIFEST_LEN(n)	(VC_MANIFEST_FIXED_LEN + (n) * VC_KEY_ID_LEN + VC_SIG_LEN)
#define VC_MANIFEST_MAX_LEN	VC_MANIFEST_LEN(VC_MANIFEST_MAX_RECIPIENTS)	/* 384 */
#define VC_MANIFEST_F_THUMBNAIL	0x01

enum vc_event_trigger {
	VC_TRIGGER_MOTION = 1,
	VC_TRIGGER_MANUAL = 2,
	VC_TRIGGER_DOORBELL = 3,
};

struct vc_manifest {
	uint8_t flags;
	uint8_t trigger;
	uint8_t n_recipients;
	uint8_t key_id[VC_KEY_ID_LEN];		/* the camera */
	uint8_t event_id[VC_EVENT_ID_LEN];
	uint64_t number;			/* per camera: 0, 1, 2, ... */
	uint8_t source[VC_HASH_LEN];
	uint64_t start_ns, end_ns;		/* first and last frame's capture time */
	uint32_t n_frames;
	uint8_t last_record_hash[VC_HASH_LEN];	/* hash of the clip's last event record */
	uint8_t thumbnail_hash[VC_HASH_LEN];	/* SHA-256 of the JPEG; zero without one */
	uint8_t prev_hash[VC_HASH_LEN];		/* hash of manifest number - 1; zero for 0 */
	uint8_t recipients[VC_MANIFEST_MAX_RECIPIENTS][VC_KEY_ID_LEN];	/* hub key ids */
	uint8_t sig[VC_SIG_LEN];
};

/* Serialize; the length (VC_MANIFEST_LEN(n_recipients)) or -1. */
int vc_manifest_encode(const struct vc_manifest *m, uint8_t out[VC_MANIFEST_MAX_LEN]);

/* ---- why an event, a manifest or a frame of a clip was refused ---- */

enum vc_event_reject {
	VC_EV_OK = 0,
	VC_EV_MALFORMED,	/* length, flags, reserved bytes, counts */
	VC_EV_VERSION,		/* not a version we read */
	VC_EV_CAMERA,		/* signed by (or naming) another camera than the pinned one */
	VC_EV_SIGNATURE,	/* does not verify under the pinned key */
	VC_EV_EVENT,		/* another event than the one asked for / of the manifest */
	VC_EV_RECIPIENT,	/* not sealed for this hub */
	VC_EV_SOURCE,		/* a frame of another capture source than the manifest's */
	VC_EV_SEQUENCE,		/* frame out of order (reordered, cut out or repeated) */
	VC_EV_CHAIN,		/* previous-hash link broken */
	VC_EV_GAP,		/* manifests missing before this one (still verified) */
	VC_EV_REPLAY,		/* a manifest not newer than the newest seen */
	VC_EV_TRUNCATED,	/* the clip ends before the manifest's last frame */
	VC_EV_EXTRA,		/* frames beyond the manifest's last one */
	VC_EV_THUMBNAIL,	/* thumbnail bytes not the manifest's */
	VC_EV_DECRYPT,		/* wrapped key or object does not open */
	VC_EV_NO_RECORD,	/* an AU of the clip without (exactly one) event record */
	VC_EV_AU_HASH,		/* the record belongs to other media */
	VC_EV_TIMING,		/* a frame plays at another time than it was captured */
	VC_EV__COUNT
};

const char *vc_event_reject_name(enum vc_event_reject r);

/* Strict parses (no signature check): VC_EV_OK, _MALFORMED or _VERSION. */
enum vc_event_reject vc_event_record_parse(const uint8_t *p, size_t len,
					   struct vc_event_record *r);
enum vc_event_reject vc_manifest_parse(const uint8_t *p, size_t len, struct vc_manifest *m);

/*
 * Sign an encoded event record or manifest into its last 64 bytes, with
 * the device key or, for the camera's remote key, through its key holder
 * (which parses the bytes as strictly and signs only its own). The
 * messages: "veracam1 event record" 00 || bytes before the signature, and
 * "veracam1 event manifest" 00 || bytes before the signature.
 */
int vc_event_record_sign(const struct vc_device_key *key, uint8_t rec[VC_EVREC_LEN]);
int vc_manifest_sign(const struct vc_device_key *key, uint8_t *man, size_t len);
/* True if an encoded event record's signature verifies under pub (nothing else checked). */
bool vc_event_record_verify(const uint8_t pub[VC_PUBKEY_LEN], const uint8_t *rec, size_t len);

/* The hash other records and manifests chain to: SHA-256 of the whole encoding. */
int vc_event_hash(const uint8_t *p, size_t len, uint8_t out[VC_HASH_LEN]);

/*
 * A hub's check of a manifest from anywhere: parsed, the pinned camera's
 * key id and signature, the event asked for (want_event NULL: any), and
 * hub_key_id among the recipients (NULL: not checked). On VC_EV_OK *m
 * holds it.
 */
enum vc_event_reject vc_manifest_verify(const uint8_t *p, size_t len,
					const uint8_t camera_pub[VC_PUBKEY_LEN],
					const uint8_t *want_event, const uint8_t *hub_key_id,
					struct vc_manifest *m);

/*
 * The per-camera chain: next (verified) against the newest manifest the
 * hub holds (prev, whose encoding hashes to prev_hash). VC_EV_OK when next
 * directly follows it, VC_EV_GAP when numbers were skipped (events
 * missing: shown as a gap), VC_EV_REPLAY when next is not newer,
 * VC_EV_CHAIN when it claims to follow but does not link.
 */
enum vc_event_reject vc_manifest_follows(const struct vc_manifest *prev,
					 const uint8_t prev_hash[VC_HASH_LEN],
					 const struct vc_manifest *next);

/*
 * A clip's frames against its verified manifest, in order: each record
 * must be the camera's, signed, of this event and source, numbered
 * 0, 1, 2, ... and chained; at the end the count and the last record's
 * hash must be the manifest's (else VC_EV_TRUNCATED).
 */
struct vc_clip_check {
	const struct vc_manifest *m;		/* borrowed */
	uint8_t camera_pub[VC_PUBKEY_LEN];
	uint64_t next_seq;
	uint8_t prev_hash[VC_HASH_LEN];
	bool failed;
	uint64_t first_capture_ns;	/* the clip's frame 0 (vc_clip_check_time) */
};

void vc_clip_check_init(struct vc_clip_check *c, const struct vc_manifest *m,
			const uint8_t camera_pub[VC_PUBKEY_LEN]);
/* One encoded event record; on VC_EV_OK, *r (may be NULL) holds it. */
enum vc_event_reject vc_clip_check_record(struct vc_clip_check *c, const uint8_t *rec,
					  size_t len, struct vc_event_record *r);
/*
 * The same for a whole Annex-B AU of the clip: its event record (from the
 * SEI, §7) checked as above, and the AU's hash must be the record's.
 */
enum vc_event_reject vc_clip_check_au(struct vc_clip_check *c, const uint8_t *au, size_t len,
				      struct vc_event_record *r);
enum vc_event_reject vc_clip_check_end(const struct vc_clip_check *c);
/*
 * When a container plays the frame r (just checked as above): play_ns
 * after the clip's first frame, which it gives in ticks of tick_ns. Its
 * signed capture time, from the first frame's, must agree within
 * VC_CLIP_TIME_SLACK_NS plus one tick plus 0.1 % of the time into the clip
 * (NTP slews the camera's wall clock by at most 0.05 %): else
 * VC_EV_TIMING, a frame held on screen longer or shorter than the camera
 * saw it (durations moved between frames of one fragment). A step of the
 * camera's wall clock during the recording is refused the same way.
 */
#define VC_CLIP_TIME_SLACK_NS	20000000ull
enum vc_event_reject vc_clip_check_time(struct vc_clip_check *c, const struct vc_event_record *r,
					uint64_t play_ns, uint64_t tick_ns);

/* The thumbnail's bytes against the manifest. */
enum vc_event_reject vc_manifest_check_thumbnail(const struct vc_manifest *m,
						 const uint8_t *jpeg, size_t len);

/*
 * Camera: records one event. Each AU (the first an IDR; unsigned, as the
 * encoder made it) gets its event record in the SEI, numbered and chained;
 * finishing signs the manifest. The key is borrowed (a remote key signs
 * through the key holder). The camera keeps its chain (the next event
 * number and the last manifest's hash) across events and restarts.
 */
struct vc_event_writer;

/* prev_manifest_hash: NULL for the camera's first event (number 0). */
struct vc_event_writer *vc_event_writer_new(const struct vc_device_key *key,
					    const char *source_stable, uint64_t number,
					    const uint8_t *prev_manifest_hash);
void vc_event_writer_free(struct vc_event_writer *w);
/* The event's id (random, VC_EVENT_ID_LEN bytes). */
const uint8_t *vc_event_writer_id(const struct vc_event_writer *w);
/* Sign one AU of the clip into out (the AU with its event record's SEI). */
int vc_event_writer_add(struct vc_event_writer *w, const struct vc_frame_info *info,
			const uint8_t *au, size_t len, struct vc_buf *out);
/*
 * The signed manifest of the clip so far, for the hubs with the given key
 * ids (1..8), with the thumbnail's bytes (NULL: none); its length, or -1.
 */
int vc_event_writer_finish(struct vc_event_writer *w, enum vc_event_trigger trigger,
			   const uint8_t *thumb, size_t thumb_len,
			   const uint8_t (*recipients)[VC_KEY_ID_LEN], size_t n,
			   uint8_t out[VC_MANIFEST_MAX_LEN]);

/* ---- the sealed-event envelope (§15.5) ---- */

#define VC_ENVELOPE_VERSION	1
#define VC_ENVELOPE_HDR_LEN	8
#define VC_CONTENT_KEY_LEN	32
#define VC_WRAPPED_LEN		(VC_KEY_ID_LEN + VC_HPKE_ENC_LEN + VC_CONTENT_KEY_LEN + VC_HPKE_TAG_LEN)
#define VC_ENVELOPE_MAX_LEN	(VC_ENVELOPE_HDR_LEN + VC_MANIFEST_MAX_LEN + \
				 VC_MANIFEST_MAX_RECIPIENTS * VC_WRAPPED_LEN)

/* One paired hub to seal for: its device key id and its (bound) encryption key. */
struct vc_event_recipient {
	uint8_t key_id[VC_KEY_ID_LEN];
	uint8_t enc_pub[VC_ENC_PUBKEY_LEN];
};

/*
 * Camera: a fresh content key, wrapped for each recipient under the signed
 * manifest man (its recipients, in order, must be theirs), into the
 * envelope env (replacing its contents). The content key itself goes
 * nowhere but into *sealer, the event's one object sealer (free it with
 * vc_event_sealer_free once the objects are sealed; NULL on failure).
 */
struct vc_event_sealer;

int vc_envelope_seal(enum vc_hpke_aead aead, const uint8_t *man, size_t man_len,
		     const struct vc_event_recipient *to, size_t n,
		     struct vc_event_sealer **sealer, struct vc_buf *env);
void vc_event_sealer_free(struct vc_event_sealer *s);

/*
 * Hub: check the envelope's manifest (vc_manifest_verify with this hub's
 * key id and want_event) and unwrap this hub's content key. The manifest's
 * encoding goes to man_out (VC_MANIFEST_MAX_LEN bytes, its length in
 * *man_len) for the hub's chain.
 */
enum vc_event_reject vc_envelope_open(const uint8_t *env, size_t len,
				      const uint8_t camera_pub[VC_PUBKEY_LEN],
				      const uint8_t *want_event,
				      const uint8_t hub_key_id[VC_KEY_ID_LEN],
				      const struct vc_enc_key *hub_enc, struct vc_manifest *m,
				      uint8_t *man_out, size_t *man_len,
				      enum vc_hpke_aead *aead,
				      uint8_t content_key[VC_CONTENT_KEY_LEN]);

/*
 * The event's objects (thumbnail, clip) under the content key, bound to
 * the manifest and to their kind, with the envelope's AEAD. An object is
 * kind (1) | 00 00 00 | index (4, big-endian) | ciphertext || tag; its
 * nonce is the event's base nonce XOR the index, and a sealer hands out
 * each index once (0, 1, 2, ...): two objects of one event never share a
 * nonce, whatever their kinds (docs/PROTOCOL.md §15.5).
 */
enum vc_event_object {
	VC_OBJECT_THUMBNAIL = 1,
	VC_OBJECT_CLIP = 2,
};

#define VC_OBJECT_HDR_LEN	8

/* Seal one object with the sealer's next index into out (replacing it). */
int vc_event_object_seal(struct vc_event_sealer *s, enum vc_event_object kind,
			 const uint8_t *pt, size_t len, struct vc_buf *out);
/* The index the next object will get. */
uint32_t vc_event_sealer_next_index(const struct vc_event_sealer *s);
/* Hub: open an object of the expected kind with the unwrapped content key. */
enum vc_event_reject vc_event_object_open(enum vc_hpke_aead aead,
					  const uint8_t content_key[VC_CONTENT_KEY_LEN],
					  const uint8_t manifest_hash[VC_HASH_LEN],
					  enum vc_event_object kind, const uint8_t *obj,
					  size_t len, struct vc_buf *out);

#endif /* VERACAM_EVENT_H */
