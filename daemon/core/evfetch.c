// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - the bodies of the event-fetch control messages
 * (docs/PROTOCOL.md §5.7, include/veracam/evfetch.h): fixed layouts, big
 * endian, a version byte first, reserved bytes zero. Parsers take exactly
 * the length of their layout and check every range; the session
 * (session.c) runs them on every message before anyone sees it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <veracam/evfetch.h>
#include "internal.h"

_Static_assert(VC_EVX_LISTING_MAX_LEN <= 65535 && VC_EVX_CHUNK_MAX_LEN <= 65535,
	       "long control messages carry a 16-bit length");

static const char *const ext[] = { NULL, "env", "thumb", "clip" };

const char *vc_evx_ext(unsigned int kind)
{
	return kind >= VC_EVX_ENV && kind <= VC_EVX_CLIP ? ext[kind] : NULL;
}

int vc_evx_name(uint64_t number, const uint8_t id[VC_EVENT_ID_LEN], unsigned int kind,
		char out[64])
{
	char hex[2 * VC_EVENT_ID_LEN + 1];

	if (!vc_evx_ext(kind))
		return -1;
	vc_hex(id, VC_EVENT_ID_LEN, hex);
	snprintf(out, 64, "%020" PRIu64 "-%s.%s", number, hex, ext[kind]);
	return 0;
}

bool vc_evx_name_parse(const char *name, uint64_t *number, uint8_t id[VC_EVENT_ID_LEN],
		       unsigned int *kind)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		if (n > (UINT64_MAX - (uint64_t)(name[i] - '0')) / 10)
			return false;
		n = n * 10 + (uint64_t)(name[i] - '0');
	}
	if (name[20] != '-')
		return false;
	for (i = 21; i < 21 + 2 * VC_EVENT_ID_LEN; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	if (name[i] != '.')
		return false;
	for (unsigned int k = VC_EVX_ENV; k <= VC_EVX_CLIP; k++) {
		if (!strcmp(name + i + 1, ext[k])) {
			if (vc_unhex(name + 21, 2 * VC_EVENT_ID_LEN, id) < 0)
				return false;
			*number = n;
			*kind = k;
			return true;
		}
	}
	return false;
}

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

size_t vc_evx_list_encode(uint64_t from, uint8_t out[VC_EVX_LIST_REQ_LEN])
{
	memset(out, 0, VC_EVX_LIST_REQ_LEN);
	out[0] = VC_EVX_VERSION;
	vc_put_be64(out + 4, from);
	return VC_EVX_LIST_REQ_LEN;
}

int vc_evx_list_parse(const uint8_t *p, size_t len, uint64_t *from)
{
	if (len != VC_EVX_LIST_REQ_LEN || p[0] != VC_EVX_VERSION || !zero(p + 1, 3))
		return vc_err("events list request: malformed");
	*from = vc_get_be64(p + 4);
	return 0;
}

/*
 * The 36 bytes a request for an object and its chunk share: version, kind,
 * 00 00, number, event id, offset, and last (the request's max, the
 * chunk's total).
 */
static void object_put(uint8_t *out, uint8_t kind, uint64_t number, const uint8_t *id,
		       uint32_t offset, uint32_t last)
{
	out[0] = VC_EVX_VERSION;
	out[1] = kind;
	out[2] = out[3] = 0;
	vc_put_be64(out + 4, number);
	memcpy(out + 12, id, VC_EVENT_ID_LEN);
	vc_put_be32(out + 28, offset);
	vc_put_be32(out + 32, last);
}

/* The same read back: false when the version, kind or reserved bytes are wrong. */
static bool object_get(const uint8_t *p, uint8_t *kind, uint64_t *number, uint8_t *id,
		       uint32_t *offset, uint32_t *last)
{
	if (p[0] != VC_EVX_VERSION || !vc_evx_ext(p[1]) || p[2] || p[3])
		return false;
	*kind = p[1];
	*number = vc_get_be64(p + 4);
	memcpy(id, p + 12, VC_EVENT_ID_LEN);
	*offset = vc_get_be32(p + 28);
	*last = vc_get_be32(p + 32);
	return true;
}

size_t vc_evx_get_encode(const struct vc_evx_get *g, uint8_t out[VC_EVX_GET_LEN])
{
	object_put(out, g->kind, g->number, g->event_id, g->offset, g->max);
	return VC_EVX_GET_LEN;
}

int vc_evx_get_parse(const uint8_t *p, size_t len, struct vc_evx_get *g)
{
	if (len != VC_EVX_GET_LEN ||
	    !object_get(p, &g->kind, &g->number, g->event_id, &g->offset, &g->max))
		return vc_err("event object request: malformed");
	if (g->max < 1 || g->max > VC_EVX_CHUNK_MAX)
		return vc_err("event object request: length %" PRIu32 " not in 1..%u", g->max,
			      VC_EVX_CHUNK_MAX);
	return 0;
}

size_t vc_evx_error_encode(enum vc_evx_error code, uint8_t out[VC_EVX_ERROR_LEN])
{
	out[0] = VC_EVX_VERSION;
	out[1] = (uint8_t)code;
	out[2] = out[3] = 0;
	return VC_EVX_ERROR_LEN;
}

int vc_evx_error_parse(const uint8_t *p, size_t len, enum vc_evx_error *code)
{
	if (len != VC_EVX_ERROR_LEN || p[0] != VC_EVX_VERSION || p[2] || p[3] ||
	    (p[1] != VC_EVX_ERR_STORE && p[1] != VC_EVX_ERR_GONE))
		return vc_err("event error answer: malformed");
	*code = p[1];
	return 0;
}

size_t vc_evx_listing_encode(const struct vc_evx_entry *e, size_t n, bool more,
			     uint8_t out[VC_EVX_LISTING_MAX_LEN])
{
	if (n > VC_EVX_LIST_MAX)
		n = VC_EVX_LIST_MAX;
	out[0] = VC_EVX_VERSION;
	out[1] = more ? 1 : 0;
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	for (size_t i = 0; i < n; i++) {
		uint8_t *q = out + VC_EVX_LISTING_HDR + i * VC_EVX_ENTRY_LEN;

		vc_put_be64(q, e[i].number);
		memcpy(q + 8, e[i].event_id, VC_EVENT_ID_LEN);
		vc_put_be32(q + 24, e[i].size[VC_EVX_ENV]);
		vc_put_be32(q + 28, e[i].size[VC_EVX_THUMB]);
		vc_put_be32(q + 32, e[i].size[VC_EVX_CLIP]);
	}
	return VC_EVX_LISTING_HDR + n * VC_EVX_ENTRY_LEN;
}

int vc_evx_listing_parse(const uint8_t *p, size_t len, uint64_t from,
			 struct vc_evx_entry e[VC_EVX_LIST_MAX], size_t *n, bool *more)
{
	size_t count;

	if (len < VC_EVX_LISTING_HDR || p[0] != VC_EVX_VERSION || (p[1] & ~1u))
		return vc_err("events listing: malformed header");
	count = (size_t)p[2] << 8 | p[3];
	if (count > VC_EVX_LIST_MAX || len != VC_EVX_LISTING_HDR + count * VC_EVX_ENTRY_LEN)
		return vc_err("events listing: %zu entries in %zu bytes", count, len);
	for (size_t i = 0; i < count; i++) {
		const uint8_t *q = p + VC_EVX_LISTING_HDR + i * VC_EVX_ENTRY_LEN;
		struct vc_evx_entry *x = &e[i];

		x->number = vc_get_be64(q);
		memcpy(x->event_id, q + 8, VC_EVENT_ID_LEN);
		x->size[0] = 0;
		x->size[VC_EVX_ENV] = vc_get_be32(q + 24);
		x->size[VC_EVX_THUMB] = vc_get_be32(q + 28);
		x->size[VC_EVX_CLIP] = vc_get_be32(q + 32);
		/* older than asked for, or not rising: the camera's chain rolled back */
		if (x->number < from || (i && x->number <= e[i - 1].number))
			return vc_err("events listing: event %" PRIu64 " out of order (rollback)",
				      x->number);
		if (x->size[VC_EVX_ENV] < 1 || x->size[VC_EVX_ENV] > VC_ENVELOPE_MAX_LEN ||
		    x->size[VC_EVX_THUMB] > VC_EVX_THUMB_MAX || x->size[VC_EVX_CLIP] < 1 ||
		    x->size[VC_EVX_CLIP] > VC_EVX_CLIP_MAX)
			return vc_err("events listing: event %" PRIu64 ": object sizes out of range",
				      x->number);
	}
	*n = count;
	*more = p[1] & 1;
	return 0;
}

size_t vc_evx_chunk_encode(const struct vc_evx_chunk *c, uint8_t *out)
{
	object_put(out, c->kind, c->number, c->event_id, c->offset, c->total);
	memcpy(out + VC_EVX_CHUNK_HDR, c->data, c->len);
	return VC_EVX_CHUNK_HDR + c->len;
}

int vc_evx_chunk_parse(const uint8_t *p, size_t len, struct vc_evx_chunk *c)
{
	if (len < VC_EVX_CHUNK_HDR + 1 || len > VC_EVX_CHUNK_MAX_LEN ||
	    !object_get(p, &c->kind, &c->number, c->event_id, &c->offset, &c->total))
		return vc_err("event chunk: malformed (%zu bytes)", len);
	c->data = p + VC_EVX_CHUNK_HDR;
	c->len = len - VC_EVX_CHUNK_HDR;
	if (c->offset >= c->total || c->len > c->total - c->offset)
		return vc_err("event chunk: bytes %" PRIu32 "+%zu past the object's %" PRIu32,
			      c->offset, c->len, c->total);
	return 0;
}

bool vc_evx_chunk_answers(const struct vc_evx_chunk *c, const struct vc_evx_get *g)
{
	return c->kind == g->kind && c->number == g->number &&
	       !memcmp(c->event_id, g->event_id, VC_EVENT_ID_LEN) && c->offset == g->offset &&
	       c->len <= g->max;
}
