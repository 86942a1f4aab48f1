/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - a recorded event opened by a hub and exported as
 * one MP4 file that ordinary players play and anyone holding the camera's
 * identity can verify offline (docs/PROTOCOL.md §15.7): the clip's
 * fragmented MP4 with one top-level `uuid` box, right after `ftyp`,
 * carrying the signed manifest and, optionally, the thumbnail.
 */
#ifndef VERACAM_EXPORT_H
#define VERACAM_EXPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veracam/event.h>

/* The box's extended type: 3d735173-5685-4bf0-914e-38d39fd99894. */
extern const uint8_t vc_export_uuid[16];

#define VC_EXPORT_VERSION	1
#define VC_EXPORT_HDR_LEN	36	/* size, "uuid", extended type, fields */
#define VC_EXPORT_F_THUMBNAIL	0x01
#define VC_EXPORT_MAX_THUMBNAIL	(4u << 20)

/*
 * Hub: a sealed event as the store holds it (the envelope and the two
 * objects' bytes; thumb NULL when there is none) opened with this hub's
 * keys against its pinned camera (vc_envelope_open: the checks of §15.4),
 * the thumbnail opened and checked against the manifest, the clip opened
 * into mp4 (its frames are not checked here: vc_export_verify does).
 */
enum vc_event_reject vc_event_open(const uint8_t *env, size_t env_len,
				   const uint8_t *thumb, size_t thumb_len,
				   const uint8_t *clip, size_t clip_len,
				   const uint8_t camera_pub[VC_PUBKEY_LEN],
				   const uint8_t hub_key_id[VC_KEY_ID_LEN],
				   const struct vc_enc_key *hub_enc, struct vc_manifest *m,
				   uint8_t man[VC_MANIFEST_MAX_LEN], size_t *man_len,
				   struct vc_buf *jpeg, struct vc_buf *mp4);

/*
 * The export file into out (replacing it): the clip's top-level boxes in
 * order with the export box after ftyp; the clip's mfra (a seek index of
 * absolute offsets the new box would shift) is left out. jpeg NULL: no
 * thumbnail. 0, or -1 (vc_last_error) if the clip is not a fragmented MP4.
 */
int vc_export_build(const uint8_t *clip, size_t clip_len, const uint8_t *man, size_t man_len,
		    const uint8_t *jpeg, size_t jpeg_len, struct vc_buf *out);

/* One frame of an export as checked, in file order. */
struct vc_export_frame {
	size_t index;			/* 0, 1, 2 ... in the file */
	uint32_t fragment;		/* its moof + mdat pair */
	enum vc_event_reject verdict;
	bool have_record;		/* rec parsed (the record's own fields, even if refused) */
	struct vc_event_record rec;
};

struct vc_export_verdict {
	enum vc_event_reject verdict;	/* VC_EV_OK: every frame of the manifest, signed and chained */
	const char *detail;		/* a malformed file: what (static text), else NULL */
	bool have_manifest;		/* m holds the manifest (verified unless verdict says) */
	struct vc_manifest m;
	size_t frames;			/* frames in the file (samples) */
	size_t frames_ok;		/* checked and accepted, from the first */
	size_t bad_frame;		/* index of the refused frame; SIZE_MAX if none */
	bool thumbnail;			/* a thumbnail was carried (and matched the manifest) */
	bool cut;			/* the bytes end inside a box */
};

/*
 * Offline check of an export against the camera's public key: the file
 * parses, its export box, the manifest (the camera's key id, its
 * signature; no recipient check: offline there is no hub), the thumbnail
 * if carried, then every frame in order (vc_clip_check_au: signed, of this
 * event and source, numbered, chained), stopping at the first refused one,
 * and the end (all the manifest's frames: else VC_EV_TRUNCATED). on_frame
 * (may be NULL) sees each frame checked. Returns v->verdict.
 */
enum vc_event_reject vc_export_verify(const uint8_t *p, size_t len,
				      const uint8_t camera_pub[VC_PUBKEY_LEN],
				      void (*on_frame)(void *ctx, const struct vc_export_frame *f),
				      void *ctx, struct vc_export_verdict *v);

#endif /* VERACAM_EXPORT_H */
