// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - a fragmented MP4's samples from untrusted bytes
 * (mp4.h). ISO/IEC 14496-12 boxes: size (4) | type (4) [| largesize (8)];
 * size 0 runs to the end of the enclosing range. Only what a clip needs is
 * read, and only the shape GStreamer's mp4mux gives the camera's clips is
 * accepted (PROTOCOL.md §15.7): ftyp, [export box], moov (one video trak,
 * empty sample tables, no edit list, mvex/trex), moof (mfhd, traf: tfhd,
 * tfdt, trun...) + mdat pairs whose decode times follow each other, [mfra].
 * Each read is checked against the range it is in; offsets are size_t and
 * every sum is checked before it is made.
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

struct traf_defaults {
	uint32_t sample_size;	/* from trex, then tfhd */
	uint32_t duration;	/* likewise */
};

struct parse {
	const uint8_t *p;
	struct vc_mp4 *out;
	size_t cap;
	struct traf_defaults trex;
	uint32_t track;		/* tkhd's = trex's = every tfhd's */
	uint64_t next_dts;	/* what the next fragment's tfdt must be */
	uint64_t frag_dts;	/* the fragment being read: its tfdt */
};

static int fail(struct parse *ps, const char *why)
{
	ps->out->error = why;
	return -1;
}

static int add_sample(struct parse *ps, size_t off, size_t len, uint32_t frag, uint64_t dts)
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
	m->samples[m->n_samples++] = (struct vc_mp4_sample){ off, len, frag, dts };
	return 0;
}

/* The payload of a box (after its header); n its length. */
static const uint8_t *payload(const struct parse *ps, const struct box *b, size_t *n)
{
	*n = b->size - b->hdr;
	return ps->p + b->off + b->hdr;
}

/*
 * The children of parent, each of a type listed (types: 4-letter types one
 * after the other); only types[0] may come more than once when many0.
 * found[i] is the last of types[i], count[i] how many. Any other type, a
 * second of one, or a child past the parent is refused with why.
 */
#define MAX_KIDS 8
static int children(struct parse *ps, const struct box *parent, const char *types, bool many0,
		    struct box found[MAX_KIDS], unsigned int count[MAX_KIDS], const char *why)
{
	size_t off = parent->off + parent->hdr, end = parent->off + parent->size;
	size_t nt = strlen(types) / 4;
	enum box_read r;
	struct box b;

	memset(count, 0, MAX_KIDS * sizeof(*count));
	for (; (r = box_at(ps->p, off, end, &b)) == BOX_OK; off += b.size) {
		size_t i;

		for (i = 0; i < nt && memcmp(b.type, types + 4 * i, 4); i++)
			;
		if (i == nt || (count[i] && !(i == 0 && many0)))
			return fail(ps, why);
		found[i] = b;
		count[i]++;
	}
	return r == BOX_END ? 0 : fail(ps, why);
}

static int full_box_v01(struct parse *ps, const struct box *b, size_t min0, size_t min1,
			const uint8_t **q, size_t *n)
{
	*q = payload(ps, b, n);
	if (*n < 4 || (*q)[0] > 1 || *n < ((*q)[0] ? min1 : min0))
		return fail(ps, "a box too short for its fields");
	return 0;
}

/*
 * stbl: the sample description (one avc3 entry) and empty sample tables:
 * every sample of the clip is in a fragment, none in moov.
 */
static int read_stbl(struct parse *ps, const struct box *stbl)
{
	static const char why[] = "moov's sample table is not the empty one of a fragmented clip";
	struct box k[MAX_KIDS];
	unsigned int c[MAX_KIDS];
	const uint8_t *q;
	size_t n;

	if (children(ps, stbl, "stsdsttsstscstszstcoco64", false, k, c, why) < 0)
		return -1;
	if (!c[0] || !c[1] || !c[2] || !c[3] || c[4] + c[5] != 1)
		return fail(ps, why);
	q = payload(ps, &k[0], &n);	/* stsd: version/flags, count, entries */
	if (n < 16 || vc_get_be32(q + 4) != 1 || memcmp(q + 12, "avc3", 4))
		return fail(ps, "the sample description is not one avc3 entry");
	for (int i = 1; i <= 5; i++) {
		if (!c[i])
			continue;
		q = payload(ps, &k[i], &n);
		if (i == 3) {	/* stsz: version/flags, sample size, count */
			if (n < 12 || vc_get_be32(q + 4) || vc_get_be32(q + 8))
				return fail(ps, why);
		} else if (n < 8 || vc_get_be32(q + 4)) {
			return fail(ps, why);
		}
	}
	return 0;
}

/* trak: tkhd (enabled, its track id), no edit list, mdia of a video track. */
static int read_trak(struct parse *ps, const struct box *trak)
{
	struct box k[MAX_KIDS], m[MAX_KIDS], mi[MAX_KIDS];
	unsigned int c[MAX_KIDS], cm[MAX_KIDS], cmi[MAX_KIDS];
	const uint8_t *q;
	size_t n;

	if (children(ps, trak, "udtatkhdmdia", true, k, c, "trak: a box other than tkhd, mdia, "
		     "udta (an edit list, a reference...)") < 0)
		return -1;
	if (!c[1] || !c[2])
		return fail(ps, "trak without tkhd or mdia");
	if (full_box_v01(ps, &k[1], 16, 24, &q, &n) < 0)
		return -1;
	/* version/flags (4), times (8 or 16), track id (4) */
	ps->track = vc_get_be32(q + (q[0] ? 20 : 12));
	if (!(vc_get_be32(q) & 1) || !ps->track)
		return fail(ps, "the track is not enabled, or has no id");
	if (children(ps, &k[2], "mdhdhdlrminf", false, m, cm,
		     "mdia: a box other than mdhd, hdlr, minf") < 0)
		return -1;
	if (!cm[0] || !cm[1] || !cm[2])
		return fail(ps, "mdia without mdhd, hdlr or minf");
	/* mdhd: version/flags (4), times (8 or 16), timescale (4), duration, language */
	if (full_box_v01(ps, &m[0], 24, 36, &q, &n) < 0)
		return -1;
	ps->out->timescale = vc_get_be32(q + (q[0] ? 20 : 12));
	if (!ps->out->timescale)
		return fail(ps, "the track's timescale is 0");
	q = payload(ps, &m[1], &n);	/* hdlr: version/flags, pre-defined, type */
	if (n < 12 || memcmp(q + 8, "vide", 4))
		return fail(ps, "the track is not video");
	if (children(ps, &m[2], "vmhddinfstbl", false, mi, cmi,
		     "minf: a box other than vmhd, dinf, stbl") < 0)
		return -1;
	if (!cmi[2])
		return fail(ps, "minf without stbl");
	return read_stbl(ps, &mi[2]);
}

/*
 * moov: exactly one trak, empty sample tables, no edit list; its mvex/trex
 * (for the same track) gives the default sample size and duration.
 */
static int read_moov(struct parse *ps, const struct box *moov)
{
	struct box k[MAX_KIDS], x[MAX_KIDS];
	unsigned int c[MAX_KIDS], cx[MAX_KIDS];
	const uint8_t *q;
	size_t n;

	if (children(ps, moov, "udtamvhdtrakmvex", true, k, c,
		     "moov: a box other than mvhd, one trak, mvex, udta") < 0)
		return -1;
	if (!c[3])
		return fail(ps, "moov without mvex: not a fragmented MP4");
	if (!c[2])
		return fail(ps, "moov without a trak");
	if (read_trak(ps, &k[2]) < 0)
		return -1;
	if (children(ps, &k[3], "mehdtrex", false, x, cx,
		     "mvex: a box other than mehd, one trex") < 0)
		return -1;
	if (!cx[1])
		return fail(ps, "mvex without a trex");
	q = payload(ps, &x[1], &n);
	if (n < 24)
		return fail(ps, "mvex without a trex");
	/* version/flags (4) track (4) description index (4) duration (4) size (4) flags (4) */
	if (vc_get_be32(q + 4) != ps->track)
		return fail(ps, "trex names another track than tkhd");
	if (vc_get_be32(q + 8) != 1)
		return fail(ps, "trex names another sample description than the one");
	ps->trex.duration = vc_get_be32(q + 12);
	ps->trex.sample_size = vc_get_be32(q + 16);
	return 0;
}

/* tfhd flags read (all else refused); base-data-offset (0x000001) is not among them. */
#define TFHD_DESC	0x000002u
#define TFHD_DURATION	0x000008u
#define TFHD_SIZE	0x000010u
#define TFHD_FLAGS	0x000020u
#define TFHD_MOOF	0x020000u	/* default-base-is-moof: what the base is anyway */

/* tfhd: the track's, the moof as base; default size and duration. */
static int read_tfhd(struct parse *ps, const struct box *tfhd, struct traf_defaults *d)
{
	const uint8_t *q;
	size_t n, at = 8;
	uint32_t flags;

	q = payload(ps, tfhd, &n);
	if (n < 8)
		return fail(ps, "tfhd too short");
	flags = vc_get_be32(q) & 0xffffff;
	if (q[0] || (flags & ~(TFHD_DESC | TFHD_DURATION | TFHD_SIZE | TFHD_FLAGS | TFHD_MOOF)))
		return fail(ps, "tfhd with a version or flag the camera does not write");
	if (vc_get_be32(q + 4) != ps->track)
		return fail(ps, "a fragment of another track than moov's");
	if (flags & TFHD_DESC) {
		if (n < at + 4 || vc_get_be32(q + at) != 1)
			return fail(ps, "tfhd names another sample description than the one");
		at += 4;
	}
	if (flags & TFHD_DURATION) {
		if (n < at + 4)
			return fail(ps, "tfhd too short");
		d->duration = vc_get_be32(q + at);
		at += 4;
	}
	if (flags & TFHD_SIZE) {
		if (n < at + 4)
			return fail(ps, "tfhd too short");
		d->sample_size = vc_get_be32(q + at);
		at += 4;
	}
	if (flags & TFHD_FLAGS)
		at += 4;
	if (n != at)
		return fail(ps, "tfhd of the wrong size");
	return 0;
}

#define TRUN_OFFSET	0x000001u
#define TRUN_FIRST	0x000004u
#define TRUN_DURATION	0x000100u
#define TRUN_SIZE	0x000200u
#define TRUN_FLAGS	0x000400u

/*
 * One trun: its samples, each inside the mdat payload [lo, hi) and right
 * after the previous one (*next: the mdat's first payload byte for the
 * first run); *dur += their durations. A duration may be 0: mp4mux writes
 * one for an AU whose time rounds to its predecessor's tick.
 */
static int read_trun(struct parse *ps, const struct box *trun, size_t base, size_t *next,
		     const struct traf_defaults *d, size_t lo, size_t hi, uint64_t *dur)
{
	const uint8_t *q;
	size_t n, at = 12, per, pos;
	uint32_t flags, count;
	int64_t rel;

	q = payload(ps, trun, &n);
	if (n < 12)
		return fail(ps, "trun too short");
	flags = vc_get_be32(q) & 0xffffff;
	count = vc_get_be32(q + 4);
	/* no composition offsets (the camera's PTS is its DTS), no implicit data offset */
	if (q[0] || !(flags & TRUN_OFFSET) ||
	    (flags & ~(TRUN_OFFSET | TRUN_FIRST | TRUN_DURATION | TRUN_SIZE | TRUN_FLAGS)))
		return fail(ps, "trun with a version or flag the camera does not write");
	rel = (int32_t)vc_get_be32(q + 8);	/* signed, from the base (the moof) */
	if ((rel < 0 && (uint64_t)-rel > base) || (rel > 0 && (uint64_t)rel > SIZE_MAX - base))
		return fail(ps, "trun data offset out of range");
	pos = rel < 0 ? base - (size_t)-rel : base + (size_t)rel;
	if (flags & TRUN_FIRST)
		at += 4;
	per = 4 * (size_t)(!!(flags & TRUN_DURATION) + !!(flags & TRUN_SIZE) +
			   !!(flags & TRUN_FLAGS));
	if (n < at || (per ? count != (n - at) / per || (n - at) % per : n != at))
		return fail(ps, "trun not the size of its sample count");
	if (!count)
		return fail(ps, "a trun without samples");
	if (count > VC_MP4_MAX_SAMPLES)
		return fail(ps, "more samples than a clip can have");
	for (uint32_t i = 0; i < count; i++) {
		size_t len = d->sample_size;
		uint32_t du = d->duration;
		const uint8_t *s = q + at + (size_t)i * per;

		if (flags & TRUN_DURATION) {
			du = vc_get_be32(s);
			s += 4;
		}
		if (flags & TRUN_SIZE)
			len = vc_get_be32(s);
		/* an empty sample is no AU; and so a sample count costs file bytes */
		if (len == 0)
			return fail(ps, "an empty sample");
		if (pos < lo || pos > hi || len > hi - pos)
			return fail(ps, "a sample lies outside its fragment's mdat");
		if (pos != *next)
			return fail(ps, "the samples do not follow each other in the mdat");
		if (add_sample(ps, pos, len, ps->out->n_fragments, ps->frag_dts + *dur) < 0)
			return -1;
		*dur += du;
		pos += len;
		*next = pos;
	}
	return 0;
}

/*
 * A moof (mfhd, one traf: tfhd, tfdt, truns) and the mdat right after it,
 * filled by its samples; its tfdt where the previous fragment ended.
 */
static int read_fragment(struct parse *ps, const struct box *moof, const struct box *mdat)
{
	struct traf_defaults d = ps->trex;
	size_t lo = mdat->off + mdat->hdr, hi = mdat->off + mdat->size;
	size_t off, end, next = lo, n;
	struct box k[MAX_KIDS], t[MAX_KIDS], b;
	unsigned int c[MAX_KIDS], ct[MAX_KIDS];
	uint64_t dts, dur = 0;
	const uint8_t *q;
	enum box_read r;

	if (children(ps, moof, "mfhdtraf", false, k, c,
		     "moof: a box other than mfhd and one traf") < 0)
		return -1;
	if (!c[0] || !c[1])
		return fail(ps, "a fragment must have mfhd and exactly one track (traf)");
	if (children(ps, &k[1], "truntfhdtfdt", true, t, ct,
		     "traf: a box other than tfhd, tfdt, trun") < 0)
		return -1;
	if (!ct[1])
		return fail(ps, "traf without tfhd");
	if (!ct[2])
		return fail(ps, "traf without tfdt (its decode time)");
	if (!ct[0])
		return fail(ps, "a fragment without samples (no trun)");
	if (read_tfhd(ps, &t[1], &d) < 0)
		return -1;
	if (full_box_v01(ps, &t[2], 8, 12, &q, &n) < 0)
		return -1;
	dts = q[0] ? vc_get_be64(q + 4) : vc_get_be32(q + 4);
	if (dts != ps->next_dts)
		return fail(ps, "a fragment's decode time (tfdt) is not where the previous ended");
	ps->frag_dts = dts;
	end = k[1].off + k[1].size;
	for (off = k[1].off + k[1].hdr; (r = box_at(ps->p, off, end, &b)) == BOX_OK;
	     off += b.size)
		if (is(&b, "trun") && read_trun(ps, &b, moof->off, &next, &d, lo, hi, &dur) < 0)
			return -1;
	if (next != hi)
		return fail(ps, "an mdat holds bytes that are no sample");
	if (!dur)
		return fail(ps, "a fragment without a duration");
	if (dur > UINT64_MAX - dts)
		return fail(ps, "decode times overflow");
	ps->next_dts = dts + dur;
	ps->out->n_fragments++;
	return 0;
}

static bool is_export_box(const struct parse *ps, const struct box *b)
{
	return is(b, "uuid") && b->size - b->hdr >= 16 &&
	       !memcmp(ps->p + b->off + b->hdr, vc_export_uuid, 16);
}

static int walk(struct parse *ps, size_t len)
{
	struct vc_mp4 *m = ps->out;
	struct box b, moof = { 0 };
	bool have_moof = false, have_mfra = false;
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
		if (have_mfra)
			return fail(ps, "a box after mfra");
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
		} else if (is(&b, "mfra") && m->n_fragments) {
			have_mfra = true;	/* a seek index: last, after the fragments */
		} else if (i == 1 && is_export_box(ps, &b)) {
			m->export_off = b.off;
			m->export_len = b.size;
		} else {
			return fail(ps, is_export_box(ps, &b) ?
				    "a veracam export box other than right after ftyp" :
				    "a top-level box the camera does not write (free, skip, "
				    "sidx, another uuid...)");
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

uint64_t vc_mp4_sample_ns(const struct vc_mp4 *m, size_t i)
{
	uint64_t t = m->samples[i].dts, ts = m->timescale;

	/* whole seconds first: dts * 1e9 could overflow */
	return t / ts * 1000000000ull + t % ts * 1000000000ull / ts;
}

uint64_t vc_mp4_tick_ns(const struct vc_mp4 *m)
{
	return (1000000000ull + m->timescale - 1) / m->timescale;
}
