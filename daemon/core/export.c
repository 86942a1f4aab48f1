// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - a hub's export of a recorded event and its
 * offline verification (export.h, docs/PROTOCOL.md §15.7).
 *
 * Export box (top level, right after ftyp; players skip a uuid box they do
 * not know):
 *   0 size (4, = 36 + M + T)  4 "uuid"  8 extended type (16, vc_export_uuid)
 *   24 version (1)  25 flags (THUMBNAIL 01)  26 reserved (00 00)
 *   28 manifest length M (2)  30 reserved (00 00)  32 thumbnail length T (4)
 *   36 the signed manifest (M)  36+M the thumbnail's JPEG (T)
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <veracam/export.h>
#include <veracam/mp4.h>
#include <veracam/sei.h>

#include "internal.h"

const uint8_t vc_export_uuid[16] = {
	0x3d, 0x73, 0x51, 0x73, 0x56, 0x85, 0x4b, 0xf0,
	0x91, 0x4e, 0x38, 0xd3, 0x9f, 0xd9, 0x98, 0x94,
};

enum vc_event_reject vc_event_open(const uint8_t *env, size_t env_len,
				   const uint8_t *thumb, size_t thumb_len,
				   const uint8_t *clip, size_t clip_len,
				   const uint8_t camera_pub[VC_PUBKEY_LEN],
				   const uint8_t hub_key_id[VC_KEY_ID_LEN],
				   const struct vc_enc_key *hub_enc, struct vc_manifest *m,
				   uint8_t man[VC_MANIFEST_MAX_LEN], size_t *man_len,
				   struct vc_buf *jpeg, struct vc_buf *mp4)
{
	uint8_t mh[VC_HASH_LEN], ck[VC_CONTENT_KEY_LEN];
	enum vc_hpke_aead aead;
	enum vc_event_reject r;

	r = vc_envelope_open(env, env_len, camera_pub, NULL, hub_key_id, hub_enc, m, man, man_len,
			     &aead, ck);
	if (r != VC_EV_OK)
		return r;
	if (vc_event_hash(man, *man_len, mh) < 0) {
		r = VC_EV_MALFORMED;
		goto out;
	}
	jpeg->len = 0;
	if (m->flags & VC_MANIFEST_F_THUMBNAIL) {
		r = thumb ? vc_event_object_open(aead, ck, mh, VC_OBJECT_THUMBNAIL, thumb,
						 thumb_len, jpeg)
			  : VC_EV_THUMBNAIL;
		if (r == VC_EV_OK)
			r = vc_manifest_check_thumbnail(m, jpeg->data, jpeg->len);
		if (r != VC_EV_OK)
			goto out;
	}
	r = vc_event_object_open(aead, ck, mh, VC_OBJECT_CLIP, clip, clip_len, mp4);
out:
	OPENSSL_cleanse(ck, sizeof(ck));
	return r;
}

static int append(struct vc_buf *b, const uint8_t *p, size_t n)
{
	if (n > SIZE_MAX - b->len || vc_buf_reserve(b, b->len + n) < 0)
		return vc_err("out of memory");
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	return 0;
}

int vc_export_build(const uint8_t *clip, size_t clip_len, const uint8_t *man, size_t man_len,
		    const uint8_t *jpeg, size_t jpeg_len, struct vc_buf *out)
{
	uint8_t hdr[VC_EXPORT_HDR_LEN] = { 0 };
	struct vc_mp4 mp4;
	size_t off, size;

	if (man_len > VC_MANIFEST_MAX_LEN || (jpeg && jpeg_len > VC_EXPORT_MAX_THUMBNAIL))
		return vc_err("export: manifest or thumbnail too long");
	if (vc_mp4_parse(clip, clip_len, &mp4) < 0)
		return vc_err("export: the clip is not a fragmented MP4: %s", mp4.error);
	if (mp4.truncated || mp4.export_len || mp4.absolute_offsets) {
		vc_mp4_free(&mp4);
		return vc_err("export: the clip is cut short, already an export or has absolute "
			      "sample offsets");
	}
	size = VC_EXPORT_HDR_LEN + man_len + (jpeg ? jpeg_len : 0);
	vc_put_be32(hdr, (uint32_t)size);
	memcpy(hdr + 4, "uuid", 4);
	memcpy(hdr + 8, vc_export_uuid, 16);
	hdr[24] = VC_EXPORT_VERSION;
	hdr[25] = jpeg ? VC_EXPORT_F_THUMBNAIL : 0;
	hdr[28] = (uint8_t)(man_len >> 8);
	hdr[29] = (uint8_t)man_len;
	vc_put_be32(hdr + 32, jpeg ? (uint32_t)jpeg_len : 0);
	out->len = 0;
	if (append(out, clip, mp4.ftyp_end) < 0 || append(out, hdr, sizeof(hdr)) < 0 ||
	    append(out, man, man_len) < 0 || (jpeg && append(out, jpeg, jpeg_len) < 0))
		goto fail;
	/* every top-level box after ftyp but mfra, as the walk found them */
	for (off = mp4.ftyp_end; off < mp4.end;) {
		uint64_t bs = vc_get_be32(clip + off);

		if (bs == 1)
			bs = vc_get_be64(clip + off + 8);
		else if (bs == 0)
			bs = mp4.end - off;
		if (memcmp(clip + off + 4, "mfra", 4) && append(out, clip + off, (size_t)bs) < 0)
			goto fail;
		off += (size_t)bs;
	}
	vc_mp4_free(&mp4);
	return 0;
fail:
	vc_mp4_free(&mp4);
	return -1;
}

static enum vc_event_reject malformed(struct vc_export_verdict *v, const char *why)
{
	v->detail = why;
	v->verdict = VC_EV_MALFORMED;
	return v->verdict;
}

/* The export box's fields; the manifest verified under camera_pub, the thumbnail against it. */
static enum vc_event_reject read_box(const uint8_t *p, const struct vc_mp4 *mp4,
				     const uint8_t camera_pub[VC_PUBKEY_LEN],
				     struct vc_export_verdict *v)
{
	const uint8_t *b = p + mp4->export_off;
	size_t mlen, tlen;

	if (!mp4->export_len)
		return malformed(v, "no veracam export box: not an exported clip");
	if (mp4->export_len < VC_EXPORT_HDR_LEN || vc_get_be32(b) != mp4->export_len)
		return malformed(v, "export box too short (or with a 64-bit size)");
	if (b[24] != VC_EXPORT_VERSION) {
		v->detail = "export box of another version";
		return v->verdict = VC_EV_VERSION;
	}
	mlen = (size_t)b[28] << 8 | b[29];
	tlen = vc_get_be32(b + 32);
	if ((b[25] & ~VC_EXPORT_F_THUMBNAIL) || b[26] || b[27] || b[30] || b[31] ||
	    !(b[25] & VC_EXPORT_F_THUMBNAIL) != !tlen || mlen > VC_MANIFEST_MAX_LEN ||
	    tlen > VC_EXPORT_MAX_THUMBNAIL || VC_EXPORT_HDR_LEN + mlen + tlen != mp4->export_len)
		return malformed(v, "export box: flags, reserved bytes or lengths wrong");
	v->verdict = vc_manifest_verify(b + VC_EXPORT_HDR_LEN, mlen, camera_pub, NULL, NULL,
					&v->m);
	if (v->verdict != VC_EV_OK)
		return v->verdict;
	v->have_manifest = true;
	if (tlen) {
		v->verdict = vc_manifest_check_thumbnail(&v->m, b + VC_EXPORT_HDR_LEN + mlen, tlen);
		if (!(v->m.flags & VC_MANIFEST_F_THUMBNAIL))
			v->verdict = VC_EV_THUMBNAIL;
		v->thumbnail = v->verdict == VC_EV_OK;
	}
	return v->verdict;
}

/*
 * One frame: its record read for the report, then the check proper, then
 * when the file plays it against when it was captured.
 */
static enum vc_event_reject one_frame(struct vc_clip_check *cc, const struct vc_buf *au,
				      const struct vc_mp4 *mp4, size_t i, struct vc_export_frame *f)
{
	uint8_t rec[VC_RECORD_MAX_LEN];
	size_t rec_len = sizeof(rec);
	struct vc_event_record r;
	struct vc_au_scan scan;
	enum vc_event_reject why;

	f->have_record = vc_sei_extract(au->data, au->len, &scan, rec, &rec_len) == VC_OK &&
			 vc_event_record_parse(rec, rec_len, &f->rec) == VC_EV_OK;
	why = vc_clip_check_au(cc, au->data, au->len, &r);
	if (why != VC_EV_OK)
		return why;
	return vc_clip_check_time(cc, &r, vc_mp4_sample_ns(mp4, i), vc_mp4_tick_ns(mp4));
}

enum vc_event_reject vc_export_verify(const uint8_t *p, size_t len,
				      const uint8_t camera_pub[VC_PUBKEY_LEN],
				      void (*on_frame)(void *ctx, const struct vc_export_frame *f),
				      void *ctx, struct vc_export_verdict *v)
{
	struct vc_clip_check cc;
	struct vc_buf au = { 0 };
	struct vc_mp4 mp4;

	memset(v, 0, sizeof(*v));
	v->bad_frame = SIZE_MAX;
	if (vc_mp4_parse(p, len, &mp4) < 0)
		return malformed(v, mp4.error);
	v->frames = mp4.n_samples;
	v->cut = mp4.truncated;
	if (read_box(p, &mp4, camera_pub, v) != VC_EV_OK)
		goto out;
	vc_clip_check_init(&cc, &v->m, camera_pub);
	for (size_t i = 0; i < mp4.n_samples; i++) {
		const struct vc_mp4_sample *s = &mp4.samples[i];
		struct vc_export_frame f = { .index = i, .fragment = s->fragment };

		if (vc_mp4_sample_annexb(p + s->off, s->len, &au) < 0)
			f.verdict = VC_EV_NO_RECORD;
		else
			f.verdict = one_frame(&cc, &au, &mp4, i, &f);
		if (on_frame)
			on_frame(ctx, &f);
		if (f.verdict != VC_EV_OK) {
			v->verdict = f.verdict;
			v->bad_frame = i;
			goto out;
		}
		v->frames_ok++;
	}
	v->verdict = vc_clip_check_end(&cc);
	/* every frame good, but the file ends inside a box: cut, and what follows unknown */
	if (v->verdict == VC_EV_OK && mp4.truncated) {
		v->verdict = VC_EV_TRUNCATED;
		v->detail = "the file ends inside a box";
	}
out:
	vc_buf_free(&au);
	vc_mp4_free(&mp4);
	return v->verdict;
}
