// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - a fragmented MP4's samples from untrusted bytes
 * (mp4.h). ISO/IEC 14496-12 boxes: size (4) | type (4) [| largesize (8)];
 * size 0 runs to the end of the enclosing range. Only what a clip needs is
 * read: ftyp, moov/mvex/trex (default sample size), moof/traf/tfhd/trun and
 * the mdat after each moof. Each read is checked against the range it is
 * in; offsets are size_t and every sum is checked before it is made.
 */
#include <stdlib.h>
#include <string.h>

#include <veracam/export.h>
#include <veracam/mp4.h>

#include "internal.h"

struct box {
	size_t off;	/* of the header */
	size_t hdr;	/* 8 or 16 */
	size_t size;	/* header included */
	char type[5];
};

enum box_read { BOX_OK, BOX_END, BOX_SHORT, BOX_BAD };

/* The box at off in [off, end): BOX_END at end, BOX_SHORT when it runs past end. */
static enum box_read box_at(const uint8_t *p, size_t off, size_t end, struct box *b)
{
	uint64_t size;

	if (off == end)
		return BOX_END;
	if (end - off < 8)
		return BOX_SHORT;
	size = vc_get_be32(p + off);
	memcpy(b->type, p + off + 4, 4);
	b->type[4] = 0;
	b->off = off;
	b->hdr = 8;
	if (size == 1) {
		if (end - off < 16)
			return BOX_SHORT;
		size = vc_get_be64(p + off + 8);
		b->hdr = 16;
	} else if (size == 0) {
		size = end - off;
	}
	if (size < b->hdr)
		return BOX_BAD;
	if (size > end - off)
		return BOX_SHORT;
	b->size = (size_t)size;
	return BOX_OK;
}

static bool is(const struct box *b, const char *type)
{
	return !memcmp(b->type, type, 4);
}

/* The first child of that type inside parent (full-box header skipped by the caller). */
static int child(const uint8_t *p, const struct box *parent, size_t skip, const char *type,
		 struct box *out)
{
	size_t off = parent->off + parent->hdr + skip, end = parent->off + parent->size;
	enum box_read r;

	if (skip > parent->size - parent->hdr)
		return -1;
	while ((r = box_at(p, off, end, out)) == BOX_OK) {
		if (is(out, type))
			return 0;
		off += out->size;
	}
	return -1;
}

struct traf_defaults {
	uint32_t sample_size;	/* from trex, then tfhd */
	bool have_size;
};

struct parse {
	const uint8_t *p;
	struct vc_mp4 *out;
	size_t cap;
	struct traf_defaults trex;
};

static int fail(struct parse *ps, const char *why)
{
	ps->out->error = why;
	return -1;
}

static int add_sample(struct parse *ps, size_t off, size_t len, uint32_t frag)
{
	struct vc_mp4 *m = ps->out;

	if (m->n_samples == VC_MP4_MAX_SAMPLES)
		return fail(ps, "more samples than a clip can have");
	if (m->n_samples == ps->cap) {
		size_t cap = ps->cap ? ps->cap * 2 : 64;
		struct vc_mp4_sample *s = realloc(m->samples, cap * sizeof(*s));

		if (!s)
			return fail(ps, "out of memory");
		m->samples = s;
		ps->cap = cap;
	}
	m->samples[m->n_samples++] = (struct vc_mp4_sample){ off, len, frag };
	return 0;
}

/* moov: one trak; its mvex/trex gives the default sample size. */
static int read_moov(struct parse *ps, const struct box *moov)
{
	struct box mvex, trex;

	if (child(ps->p, moov, 0, "mvex", &mvex) < 0)
		return fail(ps, "moov without mvex: not a fragmented MP4");
	if (child(ps->p, &mvex, 0, "trex", &trex) < 0 || trex.size - trex.hdr < 24)
		return fail(ps, "mvex without a trex");
	/* version/flags (4) track (4) description index (4) duration (4) size (4) flags (4) */
	ps->trex.sample_size = vc_get_be32(ps->p + trex.off + trex.hdr + 16);
	ps->trex.have_size = true;
	return 0;
}

/* tfhd: base offset (absolute, or the moof) and default size. */
static int read_tfhd(struct parse *ps, const struct box *tfhd, size_t moof_off, size_t *base,
		     struct traf_defaults *d)
{
	const uint8_t *q = ps->p + tfhd->off + tfhd->hdr;
	size_t n = tfhd->size - tfhd->hdr, at = 8;
	uint32_t flags;

	if (n < 8)
		return fail(ps, "tfhd too short");
	flags = vc_get_be32(q) & 0xffffff;
	*base = moof_off;
	if (flags & 0x000001) {	/* base-data-offset-present */
		uint64_t b;

		if (n < at + 8)
			return fail(ps, "tfhd too short");
		b = vc_get_be64(q + at);
		if (b > SIZE_MAX)
			return fail(ps, "tfhd base offset out of range");
		*base = (size_t)b;
		ps->out->absolute_offsets = true;
		at += 8;
	}
	if (flags & 0x000002)	/* sample-description-index */
		at += 4;
	if (flags & 0x000008)	/* default-sample-duration */
		at += 4;
	if (flags & 0x000010) {	/* default-sample-size */
		if (n < at + 4)
			return fail(ps, "tfhd too short");
		d->sample_size = vc_get_be32(q + at);
		d->have_size = true;
		at += 4;
	}
	if (flags & 0x000020)	/* default-sample-flags */
		at += 4;
	if (n < at)
		return fail(ps, "tfhd too short");
	return 0;
}

/*
 * One trun: its samples, each inside the mdat payload [lo, hi). *next is
 * where a run without a data offset starts (after the previous run).
 */
static int read_trun(struct parse *ps, const struct box *trun, size_t base, size_t *next,
		     const struct traf_defaults *d, size_t lo, size_t hi)
{
	const uint8_t *q = ps->p + trun->off + trun->hdr;
	size_t n = trun->size - trun->hdr, at = 8, per = 0, pos = *next;
	uint32_t flags, count;

	if (n < 8)
		return fail(ps, "trun too short");
	flags = vc_get_be32(q) & 0xffffff;
	count = vc_get_be32(q + 4);
	if (flags & 0x000001) {	/* data-offset-present: signed, from the base */
		int64_t rel;

		if (n < at + 4)
			return fail(ps, "trun too short");
		rel = (int32_t)vc_get_be32(q + at);
		if ((rel < 0 && (uint64_t)-rel > base) ||
		    (rel > 0 && (uint64_t)rel > SIZE_MAX - base))
			return fail(ps, "trun data offset out of range");
		pos = rel < 0 ? base - (size_t)-rel : base + (size_t)rel;
		at += 4;
	}
	if (flags & 0x000004)	/* first-sample-flags */
		at += 4;
	per = 4 * (size_t)(!!(flags & 0x100) + !!(flags & 0x200) + !!(flags & 0x400) +
			   !!(flags & 0x800));
	if (n < at || (per && count > (n - at) / per))
		return fail(ps, "trun shorter than its sample count");
	if (!(flags & 0x200) && !d->have_size)
		return fail(ps, "no sample size");
	if (count > VC_MP4_MAX_SAMPLES)
		return fail(ps, "more samples than a clip can have");
	for (uint32_t i = 0; i < count; i++) {
		size_t len = d->sample_size;
		const uint8_t *s = q + at + (size_t)i * per;

		if (flags & 0x100)
			s += 4;
		if (flags & 0x200)
			len = vc_get_be32(s);
		/* an empty sample is no AU; and so a sample count costs file bytes */
		if (len == 0)
			return fail(ps, "an empty sample");
		if (pos < lo || pos > hi || len > hi - pos)
			return fail(ps, "a sample lies outside its fragment's mdat");
		if (add_sample(ps, pos, len, ps->out->n_fragments) < 0)
			return -1;
		pos += len;
	}
	*next = pos;
	return 0;
}

/* A moof (one traf) and the mdat right after it. */
static int read_fragment(struct parse *ps, const struct box *moof, const struct box *mdat)
{
	struct traf_defaults d = ps->trex;
	size_t lo = mdat->off + mdat->hdr, hi = mdat->off + mdat->size;
	size_t off, end = moof->off + moof->size, base = 0, next;
	struct box traf, b, tfhd;
	unsigned int trafs = 0, truns = 0;
	enum box_read r;

	for (off = moof->off + moof->hdr; (r = box_at(ps->p, off, end, &b)) == BOX_OK;
	     off += b.size)
		if (is(&b, "traf")) {
			traf = b;
			trafs++;
		}
	if (r != BOX_END)
		return fail(ps, "a box inside moof runs past it");
	if (trafs != 1)
		return fail(ps, "a fragment must have exactly one track (traf)");
	if (child(ps->p, &traf, 0, "tfhd", &tfhd) < 0)
		return fail(ps, "traf without tfhd");
	if (read_tfhd(ps, &tfhd, moof->off, &base, &d) < 0)
		return -1;
	next = base;
	end = traf.off + traf.size;
	for (off = traf.off + traf.hdr; (r = box_at(ps->p, off, end, &b)) == BOX_OK;
	     off += b.size) {
		if (!is(&b, "trun"))
			continue;
		if (read_trun(ps, &b, base, &next, &d, lo, hi) < 0)
			return -1;
		truns++;
	}
	if (r != BOX_END)
		return fail(ps, "a box inside traf runs past it");
	if (!truns)
		return fail(ps, "a fragment without samples (no trun)");
	ps->out->n_fragments++;
	return 0;
}

static int walk(struct parse *ps, size_t len)
{
	struct vc_mp4 *m = ps->out;
	struct box b, moof = { 0 };
	bool have_moof = false;
	size_t off = 0;
	enum box_read r;
	unsigned int i;

	for (i = 0; (r = box_at(ps->p, off, len, &b)) == BOX_OK; i++, off += b.size) {
		m->end = off + b.size;
		if (i == 0) {
			if (!is(&b, "ftyp"))
				return fail(ps, "not an MP4 (no ftyp box first)");
			m->ftyp_end = b.size;
			continue;
		}
		if (have_moof && !is(&b, "mdat"))
			return fail(ps, "a box between moof and its mdat");
		if (is(&b, "moov")) {
			if (m->moov_len)
				return fail(ps, "two moov boxes");
			if (m->n_fragments || have_moof)
				return fail(ps, "moov after a fragment");
			m->moov_off = b.off;
			m->moov_len = b.size;
			if (read_moov(ps, &b) < 0)
				return -1;
		} else if (is(&b, "moof")) {
			if (!m->moov_len)
				return fail(ps, "moof before moov");
			moof = b;
			have_moof = true;
		} else if (is(&b, "mdat")) {
			if (!have_moof)
				return fail(ps, "mdat without a moof before it");
			if (read_fragment(ps, &moof, &b) < 0)
				return -1;
			have_moof = false;
		} else if (is(&b, "uuid") && b.size - b.hdr >= 16 &&
			   !memcmp(ps->p + b.off + b.hdr, vc_export_uuid, 16)) {
			if (m->export_len)
				return fail(ps, "two veracam export boxes");
			m->export_off = b.off;
			m->export_len = b.size;
		}
	}
	if (r == BOX_BAD)
		return fail(ps, "a box shorter than its header");
	if (i == 0)
		return fail(ps, r == BOX_END ? "empty file" : "not an MP4 (shorter than a box)");
	if (r == BOX_SHORT || have_moof) {
		/* cut: the last complete fragment ends the file */
		m->truncated = true;
		if (have_moof)
			m->end = moof.off;
	}
	if (!m->moov_len)
		return fail(ps, "no moov box");
	return 0;
}

int vc_mp4_parse(const uint8_t *p, size_t len, struct vc_mp4 *out)
{
	struct parse ps = { .p = p, .out = out };

	memset(out, 0, sizeof(*out));
	if (walk(&ps, len) < 0) {
		free(out->samples);
		out->samples = NULL;
		out->n_samples = 0;
		return -1;
	}
	return 0;
}

void vc_mp4_free(struct vc_mp4 *m)
{
	free(m->samples);
	m->samples = NULL;
	m->n_samples = 0;
}

int vc_mp4_sample_annexb(const uint8_t *p, size_t len, struct vc_buf *out)
{
	static const uint8_t sc[4] = { 0, 0, 0, 1 };
	size_t i = 0;

	out->len = 0;
	if (vc_buf_reserve(out, len) < 0)	/* as long as the sample: 4 bytes each way */
		return -1;
	while (i < len) {
		uint32_t n;

		if (len - i < 4)
			return vc_err("MP4 sample: a NAL length cut short");
		n = vc_get_be32(p + i);
		if (n == 0 || n > len - i - 4)
			return vc_err("MP4 sample: a NAL length past the sample");
		memcpy(out->data + out->len, sc, 4);
		memcpy(out->data + out->len + 4, p + i + 4, n);
		out->len += 4 + (size_t)n;
		i += 4 + (size_t)n;
	}
	return 0;
}
