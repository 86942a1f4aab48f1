// SPDX-License-Identifier: GPL-2.0
/*
 * rtp.c - cutting a sealed unit into tagged RTP packets and putting it
 * back together. The reassembler checks a packet's tag before anything
 * else; after that it still checks every field against the header rules
 * and against the other fragments of the same unit (the camera is
 * trusted to be the camera, not to be bug-free), memory is bounded by
 * max_inflight * max_au, and a unit is delivered only when every
 * fragment slot of it was filled exactly once.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "rtp.h"
#include "wire.h"

uint32_t vcn_rtp_clock(uint64_t capture_ns)
{
	/* 90000 / 1e9 = 9 / 100000; split to keep the product in range */
	return (uint32_t)((capture_ns / 100000) * 9 + (capture_ns % 100000) * 9 / 100000);
}

int vcn_packetizer_init(struct vcn_packetizer *p, uint8_t pt, uint16_t stride,
			struct vcn_mac *mac)
{
	uint8_t rnd[12];

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	p->ssrc = vcn_get_be32(rnd);
	p->seq = (uint16_t)vcn_get_be16(rnd + 4);
	p->ts_offset = vcn_get_be32(rnd + 6) ^ (uint32_t)rnd[10] << 8;
	p->au_num = vcn_get_be32(rnd + 8);
	p->pt = pt & 0x7f;
	p->stride = stride;
	p->mac = mac;
	return 0;
}

void vcn_fragmenter_start(struct vcn_packetizer *p, struct vcn_fragmenter *f,
			  const uint8_t *data, size_t len, uint64_t capture_ns,
			  uint8_t flags)
{
	f->data = data;
	f->len = (uint32_t)len;
	f->offset = 0;
	f->au_num = p->au_num++;
	f->rtp_ts = vcn_rtp_clock(capture_ns) + p->ts_offset;
	f->flags = flags & VCN_FLAG_KEYFRAME;
	f->done = false;
}

/* The RTP and fragment headers of f's next fragment, n bytes long. */
static void put_headers(struct vcn_packetizer *p, const struct vcn_fragmenter *f, uint32_t n,
			uint8_t *out)
{
	bool marker = f->offset + n == f->len;

	out[0] = 0x80;				/* V=2, P=0, X=0, CC=0 */
	out[1] = (uint8_t)((marker ? 0x80 : 0) | p->pt);
	vcn_put_be16(out + 2, p->seq++);
	vcn_put_be32(out + 4, f->rtp_ts);
	vcn_put_be32(out + 8, p->ssrc);
	out += VCN_RTP_HEADER_LEN;
	out[0] = VCN_FRAG_VERSION;
	out[1] = VCN_KIND_MEDIA;
	out[2] = f->flags;
	out[3] = 0;
	vcn_put_be32(out + 4, f->au_num);
	vcn_put_be32(out + 8, f->len);
	vcn_put_be32(out + 12, f->offset);
	vcn_put_be16(out + 16, p->stride);
	vcn_put_be16(out + 18, 0);
}

size_t vcn_fragmenter_next(struct vcn_packetizer *p, struct vcn_fragmenter *f,
			   uint8_t *out)
{
	uint32_t n;

	if (f->done)
		return 0;
	n = f->len - f->offset;
	if (n > p->stride)
		n = p->stride;
	put_headers(p, f, n, out);
	if (n)
		memcpy(out + VCN_PACKET_HEADERS, f->data + f->offset, n);
	/* a failed MAC leaves a zero tag: the hub counts the packet forged (lost) */
	vcn_mac_tag(p->mac, out, VCN_PACKET_HEADERS + n, out + VCN_PACKET_HEADERS + n);
	f->offset += n;
	f->done = f->offset == f->len;
	return VCN_PACKET_OVERHEAD + n;
}

size_t vcn_frame_next(const uint8_t *buf, size_t len, const uint8_t **pkt, size_t *pkt_len)
{
	size_t n;

	if (len < 2)
		return 0;
	n = vcn_get_be16(buf);
	if (len < 2 + n)
		return 0;
	*pkt = buf + 2;
	*pkt_len = n;
	return 2 + n;
}

const char *vcn_pkt_name(enum vcn_pkt k)
{
	static const char *const names[VCN_PKT__COUNT] = {
		[VCN_PKT_FRAGMENT] = "fragment",
		[VCN_PKT_MALFORMED] = "malformed",
		[VCN_PKT_FORGED] = "forged",
		[VCN_PKT_FOREIGN] = "foreign",
		[VCN_PKT_OVERSIZED] = "oversized",
		[VCN_PKT_DUPLICATE] = "duplicate",
		[VCN_PKT_INCONSISTENT] = "inconsistent",
		[VCN_PKT_LATE] = "late",
	};

	return (unsigned int)k < VCN_PKT__COUNT ? names[k] : "?";
}

/* Units recently abandoned: their stragglers are duplicates, not new units. */
#define CLOSED_RING	16

struct slot {
	bool used;
	bool complete;
	uint8_t flags;
	uint32_t au_num;
	uint32_t total;
	uint32_t stride;
	uint32_t rtp_ts;
	uint32_t nfrags;
	uint32_t have;
	int64_t first_ns;
	uint8_t *buf;
	size_t buf_cap;
	uint8_t *bitmap;
	size_t bitmap_cap;
};

struct vcn_reasm {
	struct vcn_reasm_config cfg;
	struct slot *slots;
	bool delivered_any;
	uint32_t last_delivered;
	uint32_t closed[CLOSED_RING];
	unsigned int n_closed;
	struct vcn_reasm_stats stats;
};

/* Serial-number order (RFC 1982 style) on 32-bit unit numbers. */
static bool newer(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

struct vcn_reasm *vcn_reasm_new(const struct vcn_reasm_config *cfg)
{
	struct vcn_reasm *r;

	if (!cfg->mac) {
		errno = EINVAL;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = *cfg;
	if (!r->cfg.max_au)
		r->cfg.max_au = VCN_MAX_AU_DEFAULT;
	if (!r->cfg.max_inflight)
		r->cfg.max_inflight = VCN_INFLIGHT_DEFAULT;
	if (r->cfg.timeout_ns <= 0)
		r->cfg.timeout_ns = VCN_REASM_TIMEOUT_DEFAULT_NS;
	r->cfg.pt &= 0x7f;
	r->slots = calloc(r->cfg.max_inflight, sizeof(*r->slots));
	if (!r->slots) {
		free(r);
		return NULL;
	}
	return r;
}

void vcn_reasm_free(struct vcn_reasm *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < r->cfg.max_inflight; i++) {
		free(r->slots[i].buf);
		free(r->slots[i].bitmap);
	}
	free(r->slots);
	free(r);
}

const struct vcn_reasm_stats *vcn_reasm_stats(const struct vcn_reasm *r)
{
	return &r->stats;
}

static void close_slot(struct vcn_reasm *r, struct slot *s)
{
	r->closed[r->n_closed++ % CLOSED_RING] = s->au_num;
	s->used = false;
}

static void abandon(struct vcn_reasm *r, struct slot *s)
{
	r->stats.incomplete++;
	close_slot(r, s);
}

static bool recently_closed(const struct vcn_reasm *r, uint32_t au)
{
	unsigned int n = r->n_closed < CLOSED_RING ? r->n_closed : CLOSED_RING;

	for (unsigned int i = 0; i < n; i++)
		if (r->closed[i] == au)
			return true;
	return false;
}

static struct slot *find_slot(struct vcn_reasm *r, uint32_t au)
{
	for (unsigned int i = 0; i < r->cfg.max_inflight; i++)
		if (r->slots[i].used && r->slots[i].au_num == au)
			return &r->slots[i];
	return NULL;
}

/* A free slot, or the oldest one if the new unit is newer than it. */
static struct slot *claim_slot(struct vcn_reasm *r, uint32_t au)
{
	struct slot *oldest = NULL;

	for (unsigned int i = 0; i < r->cfg.max_inflight; i++) {
		struct slot *s = &r->slots[i];

		if (!s->used)
			return s;
		if (!oldest || newer(oldest->au_num, s->au_num))
			oldest = s;
	}
	if (!oldest || !newer(au, oldest->au_num))
		return NULL;
	abandon(r, oldest);
	return oldest;
}

static bool grow(uint8_t **p, size_t *cap, size_t need)
{
	uint8_t *n;

	if (*cap >= need)
		return true;
	n = realloc(*p, need);
	if (!n)
		return false;
	*p = n;
	*cap = need;
	return true;
}

struct frag {
	bool marker;
	uint8_t kind;
	uint8_t flags;
	uint32_t rtp_ts;
	uint32_t au_num;
	uint32_t total;
	uint32_t offset;
	uint32_t stride;
	const uint8_t *data;
	uint32_t len;
};

/*
 * Header rules that hold for a single packet on its own; len is within
 * [VCN_PACKET_OVERHEAD, VCN_TCP_PACKET_MAX] and the tag was right.
 */
static enum vcn_pkt parse(const struct vcn_reasm *r, const uint8_t *p, size_t len,
			  struct frag *f)
{
	const uint8_t *h = p + VCN_RTP_HEADER_LEN;
	uint32_t expect;

	if (p[0] != 0x80)	/* V=2, no P/X/CC */
		return VCN_PKT_MALFORMED;
	if ((p[1] & 0x7f) != r->cfg.pt || vcn_get_be32(p + 8) != r->cfg.ssrc)
		return VCN_PKT_FOREIGN;
	if (h[0] != VCN_FRAG_VERSION || h[3] || vcn_get_be16(h + 18))
		return VCN_PKT_MALFORMED;
	f->marker = p[1] & 0x80;
	f->rtp_ts = vcn_get_be32(p + 4);
	f->kind = h[1];
	f->flags = h[2];
	f->au_num = vcn_get_be32(h + 4);
	f->total = vcn_get_be32(h + 8);
	f->offset = vcn_get_be32(h + 12);
	f->stride = vcn_get_be16(h + 16);
	f->data = p + VCN_PACKET_HEADERS;
	f->len = (uint32_t)(len - VCN_PACKET_OVERHEAD);

	if (f->kind != VCN_KIND_MEDIA || (f->flags & ~VCN_FLAG_KEYFRAME) ||
	    f->stride < VCN_STRIDE_MIN)
		return VCN_PKT_MALFORMED;
	if (f->total > r->cfg.max_au)
		return VCN_PKT_OVERSIZED;
	if (f->total == 0)
		return !f->offset && !f->len && f->marker ? VCN_PKT_FRAGMENT : VCN_PKT_MALFORMED;
	if (f->offset >= f->total || f->offset % f->stride)
		return VCN_PKT_MALFORMED;
	expect = f->total - f->offset;
	if (expect > f->stride)
		expect = f->stride;
	if (f->len != expect || f->marker != (f->offset + f->len == f->total))
		return VCN_PKT_MALFORMED;
	return VCN_PKT_FRAGMENT;
}

static enum vcn_pkt store(struct vcn_reasm *r, const struct frag *f, int64_t now_ns)
{
	struct slot *s;
	uint32_t idx;

	if (r->delivered_any && !newer(f->au_num, r->last_delivered))
		return f->au_num == r->last_delivered ? VCN_PKT_DUPLICATE : VCN_PKT_LATE;
	s = find_slot(r, f->au_num);
	if (s) {
		if (s->total != f->total || s->stride != f->stride ||
		    s->rtp_ts != f->rtp_ts || s->flags != f->flags)
			return VCN_PKT_INCONSISTENT;
	} else {
		if (recently_closed(r, f->au_num))
			return VCN_PKT_DUPLICATE;
		s = claim_slot(r, f->au_num);
		if (!s)
			return VCN_PKT_LATE;
		s->nfrags = f->total ? (f->total - 1) / f->stride + 1 : 1;
		/*
		 * GCC 12's analyzer loses the buffers grow() stores back into
		 * the slot array and reports them leaked; they are freed with
		 * the slots (vcn_reasm_free()).
		 */
#if !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wanalyzer-malloc-leak"
#endif
		if (!grow(&s->buf, &s->buf_cap, f->total ? f->total : 1) ||
		    !grow(&s->bitmap, &s->bitmap_cap, (s->nfrags + 7) / 8))
			return VCN_PKT_OVERSIZED;	/* cannot hold it: same outcome */
#if !defined(__clang__)
#pragma GCC diagnostic pop
#endif
		memset(s->bitmap, 0, (s->nfrags + 7) / 8);
		s->used = true;
		s->complete = false;
		s->flags = f->flags;
		s->au_num = f->au_num;
		s->total = f->total;
		s->stride = f->stride;
		s->rtp_ts = f->rtp_ts;
		s->have = 0;
		s->first_ns = now_ns;
	}
	idx = f->offset / f->stride;
	if (s->bitmap[idx / 8] & (1u << (idx % 8)))
		return VCN_PKT_DUPLICATE;
	s->bitmap[idx / 8] |= (uint8_t)(1u << (idx % 8));
	memcpy(s->buf + f->offset, f->data, f->len);
	s->complete = ++s->have == s->nfrags;
	return VCN_PKT_FRAGMENT;
}

enum vcn_pkt vcn_reasm_push(struct vcn_reasm *r, const uint8_t *pkt, size_t len,
			    int64_t now_ns)
{
	struct frag f;
	enum vcn_pkt k;

	r->stats.packets++;
	if (len < VCN_PACKET_OVERHEAD || len > VCN_TCP_PACKET_MAX)
		k = VCN_PKT_MALFORMED;
	else if (!vcn_mac_check(r->cfg.mac, pkt, len - VCN_TAG_LEN, pkt + len - VCN_TAG_LEN))
		k = VCN_PKT_FORGED;
	else
		k = parse(r, pkt, len, &f);
	if (k == VCN_PKT_FRAGMENT)
		k = store(r, &f, now_ns);
	if (k != VCN_PKT_FRAGMENT)
		r->stats.discarded[k]++;
	return k;
}

bool vcn_reasm_pop(struct vcn_reasm *r, int64_t now_ns, struct vcn_unit *out)
{
	struct slot *best = NULL;

	for (unsigned int i = 0; i < r->cfg.max_inflight; i++) {
		struct slot *s = &r->slots[i];

		if (s->used && !s->complete && now_ns - s->first_ns >= r->cfg.timeout_ns)
			abandon(r, s);
	}
	for (unsigned int i = 0; i < r->cfg.max_inflight; i++) {
		struct slot *s = &r->slots[i];

		if (s->used && s->complete && (!best || newer(best->au_num, s->au_num)))
			best = s;
	}
	if (!best)
		return false;
	/* Older unfinished units: wait for them, unless a keyframe supersedes them. */
	for (unsigned int i = 0; i < r->cfg.max_inflight; i++) {
		struct slot *s = &r->slots[i];

		if (!s->used || s->complete || !newer(best->au_num, s->au_num))
			continue;
		if (!(best->flags & VCN_FLAG_KEYFRAME))
			return false;
		abandon(r, s);
	}
	out->data = best->buf;
	out->len = best->total;
	out->au_num = best->au_num;
	out->rtp_ts = best->rtp_ts;
	out->keyframe = best->flags & VCN_FLAG_KEYFRAME;
	r->delivered_any = true;
	r->last_delivered = best->au_num;
	r->stats.units++;
	r->stats.unit_bytes += best->total;
	close_slot(r, best);
	return true;
}

int64_t vcn_reasm_deadline(const struct vcn_reasm *r)
{
	int64_t d = INT64_MAX;

	for (unsigned int i = 0; i < r->cfg.max_inflight; i++) {
		const struct slot *s = &r->slots[i];

		if (s->used && !s->complete && s->first_ns + r->cfg.timeout_ns < d)
			d = s->first_ns + r->cfg.timeout_ns;
	}
	return d;
}
