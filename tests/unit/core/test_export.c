// SPDX-License-Identifier: GPL-2.0
/*
 * Exported clips (core/mp4.c, core/export.c; docs/PROTOCOL.md §15.7): a
 * clip of synthetic AUs signed by the event writer, muxed here into a
 * minimal fragmented MP4 (ftyp, moov/mvex/trex, two moof + mdat pairs),
 * exported and verified; the export box's bytes against the vector of
 * §15.7 (event-v1.txt's manifest_0 and thumbnail); each attack fed and its
 * refusal asserted; and the parser on every prefix of the file and every
 * byte of its boxes' headers corrupted (never a sample outside the input).
 *
 * usage: test_export EVENT-VECTORS [CORPUS-DIR]
 * (with CORPUS-DIR: also writes the clip and its export there, the seeds
 * of tests/fuzz/corpus/mp4)
 */
#include <stdio.h>
#include <string.h>

#include <veracam/event.h>
#include <veracam/export.h>
#include <veracam/mp4.h>

#include "fixture.h"

#define FRAMES		6
#define PER_FRAG	3
#define FRAME_MS	33

static struct vc_device_key *cam, *other;
static uint8_t hub_id[VC_KEY_ID_LEN];

static void put(struct vc_buf *b, const void *p, size_t n)
{
	vc_buf_reserve(b, b->len + n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put32(struct vc_buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	put(b, x, 4);
}

/* Open a box: its size is patched by box_end. */
static size_t box(struct vc_buf *b, const char *type)
{
	size_t at = b->len;

	put32(b, 0);
	put(b, type, 4);
	return at;
}

static void box_end(struct vc_buf *b, size_t at)
{
	size_t n = b->len - at;

	b->data[at] = (uint8_t)(n >> 24);
	b->data[at + 1] = (uint8_t)(n >> 16);
	b->data[at + 2] = (uint8_t)(n >> 8);
	b->data[at + 3] = (uint8_t)n;
}

/* Annex-B AU (4-byte start codes, no start code inside a NAL) as an avc3 sample. */
static void to_sample(const struct vc_buf *au, struct vc_buf *out)
{
	size_t i = 0;

	out->len = 0;
	while (i + 4 <= au->len) {
		size_t j = i + 4;

		while (j + 3 <= au->len && !(au->data[j] == 0 && au->data[j + 1] == 0 &&
					    (au->data[j + 2] == 1 ||
					     (j + 4 <= au->len && au->data[j + 2] == 0 &&
					      au->data[j + 3] == 1))))
			j++;
		if (j + 3 > au->len)
			j = au->len;
		put32(out, (uint32_t)(j - i - 4));
		put(out, au->data + i + 4, j - i - 4);
		i = j;
	}
}

/* The clip (fMP4 of FRAMES signed AUs, PER_FRAG a fragment) and its signed manifest. */
static void make_clip(struct vc_buf *mp4, uint8_t man[VC_MANIFEST_MAX_LEN], size_t *man_len,
		      const uint8_t *thumb, size_t thumb_len)
{
	struct vc_event_writer *w = vc_event_writer_new(cam, "id:export-test", 0, NULL);
	struct vc_buf au = { 0 }, signed_au = { 0 }, s[FRAMES] = { 0 };
	size_t at, moov, trak, mdia, minf, stbl, entry, mvex, traf, trun, data_off;
	int n;

	for (int i = 0; i < FRAMES; i++) {
		struct vc_frame_info info = { .capture_ns = 1795219200000000000ull +
							   (uint64_t)i * 33333333u };

		fx_au(&au, i % PER_FRAG == 0, 300, (uint32_t)i);
		if (vc_event_writer_add(w, &info, au.data, au.len, &signed_au) < 0)
			abort();
		to_sample(&signed_au, &s[i]);
	}
	n = vc_event_writer_finish(w, VC_TRIGGER_MANUAL, thumb, thumb_len,
				   (const uint8_t (*)[VC_KEY_ID_LEN])hub_id, 1, man);
	if (n < 0)
		abort();
	*man_len = (size_t)n;
	mp4->len = 0;
	at = box(mp4, "ftyp");
	put(mp4, "iso6\0\0\0\0iso6", 12);
	box_end(mp4, at);
	/* moov as mp4mux writes it: one video trak, empty sample tables, mvex/trex */
	moov = box(mp4, "moov");
	trak = box(mp4, "trak");
	at = box(mp4, "tkhd");
	put32(mp4, 0x000007);	/* enabled, in movie, in preview */
	put32(mp4, 0);
	put32(mp4, 0);
	put32(mp4, 1);		/* track */
	for (int i = 0; i < 5; i++)
		put32(mp4, 0);	/* reserved, duration, reserved, layer..volume */
	for (int i = 0; i < 9; i++)	/* unity matrix */
		put32(mp4, i == 0 || i == 4 ? 0x10000 : i == 8 ? 0x40000000 : 0);
	put32(mp4, 64u << 16);
	put32(mp4, 48u << 16);
	box_end(mp4, at);
	mdia = box(mp4, "mdia");
	at = box(mp4, "mdhd");
	put32(mp4, 0);
	put32(mp4, 0);
	put32(mp4, 0);
	put32(mp4, 1000);	/* timescale: ms */
	put32(mp4, 0);
	put32(mp4, 0x55c40000);	/* "und" */
	box_end(mp4, at);
	at = box(mp4, "hdlr");
	put32(mp4, 0);
	put32(mp4, 0);
	put(mp4, "vide", 4);
	for (int i = 0; i < 3; i++)
		put32(mp4, 0);
	put(mp4, "", 1);
	box_end(mp4, at);
	minf = box(mp4, "minf");
	at = box(mp4, "vmhd");
	put32(mp4, 1);
	put32(mp4, 0);
	put32(mp4, 0);
	box_end(mp4, at);
	stbl = box(mp4, "stbl");
	at = box(mp4, "stsd");
	put32(mp4, 0);
	put32(mp4, 1);
	entry = box(mp4, "avc3");
	put32(mp4, 0);
	put32(mp4, 1);		/* reserved (6), data reference index 1 */
	for (int i = 0; i < 70 / 2; i++)
		put(mp4, "\0", 2);
	box_end(mp4, entry);
	box_end(mp4, at);
	for (int i = 0; i < 4; i++) {
		at = box(mp4, (const char *[]){ "stts", "stsc", "stsz", "stco" }[i]);
		put32(mp4, 0);
		if (i == 2)
			put32(mp4, 0);	/* stsz: sample size */
		put32(mp4, 0);		/* no entries */
		box_end(mp4, at);
	}
	box_end(mp4, stbl);
	box_end(mp4, minf);
	box_end(mp4, mdia);
	box_end(mp4, trak);
	mvex = box(mp4, "mvex");
	at = box(mp4, "trex");
	put32(mp4, 0);
	put32(mp4, 1);		/* track */
	put32(mp4, 1);
	put32(mp4, 0);
	put32(mp4, 0);		/* default size: none */
	put32(mp4, 0);
	box_end(mp4, at);
	box_end(mp4, mvex);
	box_end(mp4, moov);
	for (int f = 0; f < FRAMES / PER_FRAG; f++) {
		size_t moof = box(mp4, "moof"), mdat, pos;

		at = box(mp4, "mfhd");
		put32(mp4, 0);
		put32(mp4, (uint32_t)f + 1);
		box_end(mp4, at);
		traf = box(mp4, "traf");
		at = box(mp4, "tfhd");
		put32(mp4, 0);		/* no flags: base is the moof */
		put32(mp4, 1);
		box_end(mp4, at);
		at = box(mp4, "tfdt");
		put32(mp4, 0);
		put32(mp4, (uint32_t)(f * PER_FRAG * FRAME_MS));
		box_end(mp4, at);
		trun = box(mp4, "trun");
		put32(mp4, 0x000701);	/* data offset; duration, size, flags per sample */
		put32(mp4, PER_FRAG);
		data_off = mp4->len;
		put32(mp4, 0);
		for (int i = 0; i < PER_FRAG; i++) {
			put32(mp4, FRAME_MS);
			put32(mp4, (uint32_t)s[f * PER_FRAG + i].len);
			put32(mp4, i ? 0x000100c0 : 0x00000040);	/* as mp4mux: sync first */
		}
		box_end(mp4, trun);
		box_end(mp4, traf);
		box_end(mp4, moof);
		mdat = box(mp4, "mdat");
		pos = mp4->len - moof;
		mp4->data[data_off] = (uint8_t)(pos >> 24);
		mp4->data[data_off + 1] = (uint8_t)(pos >> 16);
		mp4->data[data_off + 2] = (uint8_t)(pos >> 8);
		mp4->data[data_off + 3] = (uint8_t)pos;
		for (int i = 0; i < PER_FRAG; i++)
			put(mp4, s[f * PER_FRAG + i].data, s[f * PER_FRAG + i].len);
		box_end(mp4, mdat);
	}
	for (int i = 0; i < FRAMES; i++)
		vc_buf_free(&s[i]);
	vc_buf_free(&au);
	vc_buf_free(&signed_au);
	vc_event_writer_free(w);
}

static const uint8_t jpeg[] = { 0xff, 0xd8, 'e', 'x', 'p', 0xff, 0xd9 };
static struct vc_buf clip, xp;
static uint8_t man[VC_MANIFEST_MAX_LEN];
static size_t man_len;

static enum vc_event_reject verify(const struct vc_buf *b, const struct vc_device_key *k,
				   struct vc_export_verdict *v)
{
	return vc_export_verify(b->data, b->len, vc_key_public(k), NULL, NULL, v);
}

static void test_parse_and_export(void)
{
	struct vc_export_verdict v;
	struct vc_mp4 m;

	make_clip(&clip, man, &man_len, jpeg, sizeof(jpeg));
	fx_require(vc_mp4_parse(clip.data, clip.len, &m) == 0);
	g_assert_true(m.n_samples == FRAMES && m.n_fragments == FRAMES / PER_FRAG && !m.truncated);
	g_assert_true(m.moov_off == m.ftyp_end && m.end == clip.len && !m.export_len);
	g_assert_true(m.samples[PER_FRAG].fragment == 1 && m.timescale == 1000);
	g_assert_true(m.samples[4].dts == 4 * FRAME_MS &&
		      vc_mp4_sample_ns(&m, 4) == 4 * FRAME_MS * 1000000ull);
	vc_mp4_free(&m);
	fx_require(vc_export_build(clip.data, clip.len, man, man_len, jpeg, sizeof(jpeg),
				   &xp) == 0);
	g_assert_cmpint(xp.len, ==, clip.len + VC_EXPORT_HDR_LEN + man_len + sizeof(jpeg));
	g_assert_cmpmem(xp.data + 20 + 4, 4, "uuid", 4);	/* after the 20-byte ftyp */
	g_assert_cmpint(verify(&xp, cam, &v), ==, VC_EV_OK);
	g_assert_true(v.frames == FRAMES && v.frames_ok == FRAMES && v.thumbnail &&
		      v.have_manifest);
	g_assert_true(v.bad_frame == SIZE_MAX && v.m.n_frames == FRAMES);
	/* the export of an export, or of a cut clip, is refused; without the thumbnail */
	{
		struct vc_buf e2 = { 0 };

		g_assert_cmpint(vc_export_build(xp.data, xp.len, man, man_len, NULL, 0, &e2), <, 0);
		g_assert_cmpint(vc_export_build(clip.data, clip.len - 1, man, man_len, NULL, 0,
						&e2), <, 0);
		fx_require(vc_export_build(clip.data, clip.len, man, man_len, NULL, 0, &e2) == 0);
		g_assert_true(verify(&e2, cam, &v) == VC_EV_OK && !v.thumbnail);
		vc_buf_free(&e2);
	}
}

/* The export box of §15.7's vector: manifest_0 and the thumbnail of event-v1.txt. */
static void test_vector(void)
{
	static const char hdr_hex[] = "0000014b757569643d73517356854bf0914e38d39fd99894"
				      "0101000001100000" "00000017";
	uint8_t want[VC_EXPORT_HDR_LEN];
	const uint8_t *m0, *th;
	size_t m0_len, th_len;
	struct vc_buf e = { 0 };
	struct vc_mp4 m;

	m0 = fx_vec("manifest_0", &m0_len);
	th = fx_vec("thumbnail", &th_len);
	fx_require(m0 && th && vc_unhex(hdr_hex, 2 * VC_EXPORT_HDR_LEN, want) == 0);
	fx_require(vc_export_build(clip.data, clip.len, m0, m0_len, th, th_len, &e) == 0);
	fx_require(vc_mp4_parse(e.data, e.len, &m) == 0);
	g_assert_cmpint(m.export_len, ==, VC_EXPORT_HDR_LEN + m0_len + th_len);
	g_assert_cmpmem(e.data + m.export_off, sizeof(want), want, sizeof(want));
	g_assert_cmpmem(e.data + m.export_off + VC_EXPORT_HDR_LEN, m0_len, m0, m0_len);
	g_assert_cmpmem(e.data + m.export_off + VC_EXPORT_HDR_LEN + m0_len, th_len, th, th_len);
	vc_mp4_free(&m);
	vc_buf_free(&e);
}

static void test_attacks(void)
{
	struct vc_export_verdict v;
	struct vc_buf b = { 0 };
	struct vc_mp4 m;
	size_t last_moof;

	fx_require(vc_mp4_parse(xp.data, xp.len, &m) == 0);
	/* the last fragment cut off: truncated */
	last_moof = m.samples[FRAMES - 1].off;
	while (memcmp(xp.data + last_moof + 4, "moof", 4))
		last_moof--;
	put(&b, xp.data, last_moof);
	g_assert_true(verify(&b, cam, &v) == VC_EV_TRUNCATED && v.frames_ok == PER_FRAG && !v.cut);
	/* cut inside it: truncated too */
	b.len = 0;
	put(&b, xp.data, xp.len - 10);
	g_assert_true(verify(&b, cam, &v) == VC_EV_TRUNCATED && v.cut && v.frames_ok == PER_FRAG);
	/* frame 4's last byte flipped: refused at frame 4 */
	b.len = 0;
	put(&b, xp.data, xp.len);
	b.data[m.samples[4].off + m.samples[4].len - 1] ^= 0x01;
	g_assert_true(verify(&b, cam, &v) == VC_EV_AU_HASH && v.bad_frame == 4 && v.frames_ok == 4);
	/* another camera's identity */
	g_assert_true(verify(&xp, other, &v) == VC_EV_CAMERA && !v.have_manifest);
	/* the manifest's signature broken */
	b.len = 0;
	put(&b, xp.data, xp.len);
	b.data[m.export_off + VC_EXPORT_HDR_LEN + man_len - 1] ^= 0x80;
	g_assert_cmpint(verify(&b, cam, &v), ==, VC_EV_SIGNATURE);
	/* the thumbnail changed */
	b.len = 0;
	put(&b, xp.data, xp.len);
	b.data[m.export_off + m.export_len - 3] ^= 0x01;
	g_assert_cmpint(verify(&b, cam, &v), ==, VC_EV_THUMBNAIL);
	/* no export box: the plain clip */
	g_assert_true(verify(&clip, cam, &v) == VC_EV_MALFORMED && v.detail);
	vc_mp4_free(&m);
	vc_buf_free(&b);
}

/* The top-level box of that type (the first), its offset; or SIZE_MAX. */
static size_t top_box(const struct vc_buf *b, const char *type)
{
	for (size_t off = 0; off + 8 <= b->len;) {
		size_t n = (size_t)b->data[off] << 24 | (size_t)b->data[off + 1] << 16 |
			   (size_t)b->data[off + 2] << 8 | b->data[off + 3];

		if (!memcmp(b->data + off + 4, type, 4))
			return off;
		if (n < 8)
			break;
		off += n;
	}
	return SIZE_MAX;
}

/* The first box of that type in [from, to) (its header's offset); SIZE_MAX if none. */
static size_t find_box(const struct vc_buf *b, size_t from, size_t to, const char *type)
{
	const uint8_t *t = memmem(b->data + from + 4, to - from - 4, type, 4);

	return t ? (size_t)(t - b->data) - 4 : SIZE_MAX;
}

static uint32_t get32(const struct vc_buf *b, size_t at)
{
	return (uint32_t)b->data[at] << 24 | (uint32_t)b->data[at + 1] << 16 |
	       (uint32_t)b->data[at + 2] << 8 | b->data[at + 3];
}

static void set32(struct vc_buf *b, size_t at, uint32_t v)
{
	b->data[at] = (uint8_t)(v >> 24);
	b->data[at + 1] = (uint8_t)(v >> 16);
	b->data[at + 2] = (uint8_t)(v >> 8);
	b->data[at + 3] = (uint8_t)v;
}

/* n bytes inserted at at, each box of boxes[] (offsets before at; 0-ended) grown by n. */
static void insert(struct vc_buf *b, size_t at, const void *p, size_t n, const size_t *boxes)
{
	vc_buf_reserve(b, b->len + n);
	memmove(b->data + at + n, b->data + at, b->len - at);
	memcpy(b->data + at, p, n);
	b->len += n;
	for (; *boxes; boxes++)
		set32(b, *boxes, get32(b, *boxes) + (uint32_t)n);
}

/* In each moof from first on, the box of that type: its first field after version/flags set to v (or + v). */
static void each_fragment(struct vc_buf *b, size_t first, const char *type, uint32_t v, bool add)
{
	for (size_t off = first; off < b->len; off += get32(b, off)) {
		size_t at = find_box(b, off, off + get32(b, off), type);

		if (at != SIZE_MAX && !memcmp(b->data + off + 4, "moof", 4))
			set32(b, at + 12, (add ? get32(b, at + 12) : 0) + v);
	}
}

/*
 * What a player would show other than the frames verified (the review of
 * session 11: each verified "ok" before): every one refused.
 */
static void test_playback_attacks(void)
{
	struct vc_export_verdict v;
	struct vc_buf b = { 0 };
	size_t moov = top_box(&xp, "moov"), moov_end, trak, tkhd, stsz, moof, off;

	fx_require(moov != SIZE_MAX);
	moov_end = moov + get32(&xp, moov);
	trak = find_box(&xp, moov, moov_end, "trak");
	tkhd = find_box(&xp, moov, moov_end, "tkhd");
	stsz = find_box(&xp, moov, moov_end, "stsz");
	moof = top_box(&xp, "moof");
	fx_require(trak != SIZE_MAX && tkhd != SIZE_MAX && stsz != SIZE_MAX && moof != SIZE_MAX);
	/* an edit list starting playback at the second fragment: frames never shown */
	{
		static const uint8_t edts[36] = {
			0, 0, 0, 36, 'e', 'd', 't', 's', 0, 0, 0, 28, 'e', 'l', 's', 't',
			0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x03, 0xe8, 0, 0, 0, PER_FRAG * FRAME_MS,
			0, 1, 0, 0,
		};

		put(&b, xp.data, xp.len);
		insert(&b, tkhd + get32(&xp, tkhd), edts, sizeof(edts),
		       (const size_t[]){ moov, trak, 0 });
		g_assert_true(verify(&b, cam, &v) == VC_EV_MALFORMED && v.detail);
	}
	/* a sample listed in moov's own table (played before the fragments) */
	{
		static const uint8_t sz[4] = { 0, 0, 0, 100 };
		size_t stbl = find_box(&xp, moov, moov_end, "stbl");
		size_t minf = find_box(&xp, moov, moov_end, "minf");
		size_t mdia = find_box(&xp, moov, moov_end, "mdia");

		b.len = 0;
		put(&b, xp.data, xp.len);
		set32(&b, stsz + 16, 1);	/* size, type, version/flags, sample size, count */
		insert(&b, stsz + 20, sz, 4, (const size_t[]){ moov, trak, mdia, minf, stbl, stsz, 0 });
		g_assert_true(verify(&b, cam, &v) == VC_EV_MALFORMED && v.detail);
	}
	/* a free box (where such samples would be) before the fragments */
	{
		static const uint8_t fr[16] = { 0, 0, 0, 16, 'f', 'r', 'e', 'e' };

		b.len = 0;
		put(&b, xp.data, xp.len);
		insert(&b, moof, fr, sizeof(fr), (const size_t[]){ 0 });
		g_assert_true(verify(&b, cam, &v) == VC_EV_MALFORMED && v.detail);
	}
	/* every fragment's decode time a second later (a gap before them) */
	b.len = 0;
	put(&b, xp.data, xp.len);
	each_fragment(&b, moof, "tfdt", 1000, true);
	g_assert_true(verify(&b, cam, &v) == VC_EV_MALFORMED && v.detail);
	/* every fragment of track 2, which moov does not have: nothing shown */
	b.len = 0;
	put(&b, xp.data, xp.len);
	each_fragment(&b, moof, "tfhd", 2, false);
	g_assert_true(verify(&b, cam, &v) == VC_EV_MALFORMED && v.detail);
	/* the first fragment's frames lasting 1 ms each: they flash past */
	{
		size_t trun = find_box(&xp, moof, moof + get32(&xp, moof), "trun");

		fx_require(trun != SIZE_MAX);
		b.len = 0;
		put(&b, xp.data, xp.len);
		for (int i = 0; i < PER_FRAG; i++)	/* after size, type, flags, count, offset */
			set32(&b, trun + 20 + 12 * (size_t)i, 1);
		g_assert_true(verify(&b, cam, &v) == VC_EV_MALFORMED && v.detail);
	}
	/*
	 * Durations moved between the first fragment's frames, its total kept
	 * (so every tfdt still follows): frame 0 held 97 ms, frames 1 and 2
	 * flashed for 1 ms. Refused at frame 1 (timing); a 10 ms shift, within
	 * what mp4mux's rounding and the camera's clock may do, plays.
	 */
	{
		static const uint32_t held[PER_FRAG] = { 97, 1, 1 }, nudged[PER_FRAG] = { 43, 23, 33 };
		size_t trun = find_box(&xp, moof, moof + get32(&xp, moof), "trun");

		fx_require(trun != SIZE_MAX);
		b.len = 0;
		put(&b, xp.data, xp.len);
		for (int i = 0; i < PER_FRAG; i++)
			set32(&b, trun + 20 + 12 * (size_t)i, held[i]);
		g_assert_true(verify(&b, cam, &v) == VC_EV_TIMING && v.bad_frame == 1 &&
			      v.frames_ok == 1);
		for (int i = 0; i < PER_FRAG; i++)
			set32(&b, trun + 20 + 12 * (size_t)i, nudged[i]);
		g_assert_true(verify(&b, cam, &v) == VC_EV_OK && v.frames_ok == FRAMES);
	}
	/* a copy of the last fragment appended, its mdat one byte past the end: cut */
	{
		size_t last = moof, mdat;

		for (off = moof; off < xp.len; off += get32(&xp, off))
			if (!memcmp(xp.data + off + 4, "moof", 4))
				last = off;
		mdat = last + get32(&xp, last);
		b.len = 0;
		put(&b, xp.data, xp.len);
		put(&b, xp.data + last, xp.len - last);
		set32(&b, xp.len + (mdat - last), get32(&xp, mdat) + 1);
		g_assert_true(verify(&b, cam, &v) == VC_EV_TRUNCATED && v.cut &&
			      v.frames_ok == FRAMES);
	}
	vc_buf_free(&b);
}

/* Every prefix, and every byte of the first 200 corrupted: no sample outside the input. */
static void test_parser_bounds(void)
{
	struct vc_export_verdict v;
	struct vc_mp4 m;
	struct vc_buf b = { 0 };
	size_t bad = 0;

	for (size_t n = 0; n < xp.len; n++) {
		if (vc_mp4_parse(xp.data, n, &m) == 0)
			for (size_t i = 0; i < m.n_samples; i++)
				bad += m.samples[i].off > n || m.samples[i].len > n - m.samples[i].off;
		vc_mp4_free(&m);
		bad += verify(&(struct vc_buf){ .data = xp.data, .len = n }, cam, &v) == VC_EV_OK;
	}
	put(&b, xp.data, xp.len);
	for (size_t at = 0; at < 200 && at < xp.len; at++)
		for (unsigned int x = 1; x < 256; x <<= 1) {
			b.data[at] ^= (uint8_t)x;
			if (vc_mp4_parse(b.data, b.len, &m) == 0)
				for (size_t i = 0; i < m.n_samples; i++)
					bad += m.samples[i].off > b.len ||
					       m.samples[i].len > b.len - m.samples[i].off;
			vc_mp4_free(&m);
			b.data[at] ^= (uint8_t)x;
		}
	g_assert_cmpint(bad, ==, 0);
	/* a box shorter than its header */
	g_assert_true(vc_mp4_parse((const uint8_t *)"\0\0\0\4ftyp", 8, &m) < 0 && m.error);
	vc_buf_free(&b);
}

/* What the reader refuses in a clip: each one made from the good clip. */
static void test_parser_refusals(void)
{
	struct vc_buf b = { 0 };
	struct vc_mp4 m;
	size_t moof, mdat, moov;
	const uint8_t *trun;
	static const uint8_t free_box[8] = { 0, 0, 0, 8, 'f', 'r', 'e', 'e' };

	moof = top_box(&clip, "moof");
	mdat = top_box(&clip, "mdat");
	moov = top_box(&clip, "moov");
	fx_require(moof != SIZE_MAX && mdat != SIZE_MAX && moov != SIZE_MAX);
	/* a box between a moof and its mdat */
	put(&b, clip.data, mdat);
	put(&b, free_box, sizeof(free_box));
	put(&b, clip.data + mdat, clip.len - mdat);
	g_assert_true(vc_mp4_parse(b.data, b.len, &m) < 0 && m.error);
	/* the first fragment's first sample one byte longer than the mdat holds it */
	b.len = 0;
	put(&b, clip.data, clip.len);
	trun = memmem(b.data + moof, mdat - moof, "trun", 4);
	fx_require(trun);
	/* after the type: flags (4), count (4), data offset (4), then duration, size, flags */
	b.data[(size_t)(trun - b.data) + 4 + 12 + 12 * (PER_FRAG - 1) + 4 + 3] += 1;
	g_assert_true(vc_mp4_parse(b.data, b.len, &m) < 0 && m.error &&
		      strstr(m.error, "outside its fragment"));
	/* an mdat with no moof before it (the first moof removed) */
	b.len = 0;
	put(&b, clip.data, moof);
	put(&b, clip.data + mdat, clip.len - mdat);
	g_assert_cmpint(vc_mp4_parse(b.data, b.len, &m), <, 0);
	/* no moov */
	b.len = 0;
	put(&b, clip.data, moov);
	put(&b, clip.data + moof, clip.len - moof);
	g_assert_cmpint(vc_mp4_parse(b.data, b.len, &m), <, 0);
	/* not starting with ftyp */
	g_assert_cmpint(vc_mp4_parse(clip.data + moov, clip.len - moov, &m), <, 0);
	/* a NAL length past its sample */
	g_assert_cmpint(vc_mp4_sample_annexb((const uint8_t *)"\0\0\0\x09" "abc", 7, &b), <, 0);
	g_assert_cmpint(vc_mp4_sample_annexb((const uint8_t *)"\0\0\0\0", 4, &b), <, 0);
	vc_buf_free(&b);
}

int main(int argc, char **argv)
{
	uint8_t seed[32];
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	if (argc < 2 || argc > 3 || fx_vec_load(argv[1]) < 0) {
		fprintf(stderr, "usage: test_export EVENT-VECTORS [CORPUS-DIR]\n");
		return 1;
	}
	cam = fx_key(1);
	other = fx_key(2);
	fx_bytes(3, seed, sizeof(seed));
	memcpy(hub_id, seed, VC_KEY_ID_LEN);
	g_test_add_func("/core/export/parse-and-export", test_parse_and_export);
	g_test_add_func("/core/export/vector", test_vector);
	g_test_add_func("/core/export/attacks", test_attacks);
	g_test_add_func("/core/export/playback-attacks", test_playback_attacks);
	g_test_add_func("/core/export/parser-bounds", test_parser_bounds);
	g_test_add_func("/core/export/parser-refusals", test_parser_refusals);
	rc = g_test_run();
	if (argc == 3) {
		char p[4096];

		snprintf(p, sizeof(p), "%s/clip-0", argv[2]);
		fx_write(p, clip.data, clip.len, 0644);
		snprintf(p, sizeof(p), "%s/export-0", argv[2]);
		fx_write(p, xp.data, xp.len, 0644);
	}
	vc_buf_free(&clip);
	vc_buf_free(&xp);
	vc_key_free(cam);
	vc_key_free(other);
	return rc;
}
