// SPDX-License-Identifier: GPL-2.0
/*
 * decproto - the hub <-> decoder child messages (decproto.h).
 */
#include <errno.h>
#include <string.h>

#include "decproto.h"

uint32_t hub_decproto_get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint64_t hub_decproto_get64(const uint8_t *p)
{
	return (uint64_t)hub_decproto_get32(p) | (uint64_t)hub_decproto_get32(p + 4) << 32;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

void hub_decproto_put_hdr(uint8_t *buf, enum hub_decproto_type type, uint32_t body_len)
{
	buf[0] = 'V';
	buf[1] = 'D';
	buf[2] = DECPROTO_VERSION;
	buf[3] = (uint8_t)type;
	put32(buf + 4, body_len);
}

int hub_decproto_hdr(const uint8_t *buf, size_t len, uint8_t *type, const uint8_t **body,
		     size_t *body_len)
{
	if (len < DECPROTO_HDR || buf[0] != 'V' || buf[1] != 'D' ||
	    buf[2] != DECPROTO_VERSION || hub_decproto_get32(buf + 4) != len - DECPROTO_HDR)
		return -EBADMSG;
	*type = buf[3];
	*body = buf + DECPROTO_HDR;
	*body_len = len - DECPROTO_HDR;
	return 0;
}

size_t hub_decproto_put_picture(uint8_t buf[DECPROTO_HDR + DECPROTO_PICTURE_LEN],
				const struct hub_decproto_picture *p)
{
	uint8_t *b = buf + DECPROTO_HDR;

	hub_decproto_put_hdr(buf, DECPROTO_PICTURE, DECPROTO_PICTURE_LEN);
	put32(b, p->slot);
	put32(b + 4, p->format);
	put32(b + 8, p->matrix);
	put32(b + 12, p->full_range);
	put32(b + 16, p->width);
	put32(b + 20, p->height);
	put64(b + 24, p->seq);
	for (int i = 0; i < 3; i++) {
		put32(b + 32 + 4 * i, p->offset[i]);
		put32(b + 44 + 4 * i, p->stride[i]);
	}
	return DECPROTO_HDR + DECPROTO_PICTURE_LEN;
}

size_t hub_decproto_put_hello(uint8_t buf[DECPROTO_HDR + DECPROTO_HELLO_LEN], uint32_t flags,
			      const char *name)
{
	size_t n = strnlen(name, DECPROTO_NAME_LEN);

	hub_decproto_put_hdr(buf, DECPROTO_HELLO, DECPROTO_HELLO_LEN);
	put32(buf + DECPROTO_HDR, flags);
	memset(buf + DECPROTO_HDR + 4, 0, DECPROTO_NAME_LEN);
	memcpy(buf + DECPROTO_HDR + 4, name, n);
	return DECPROTO_HDR + DECPROTO_HELLO_LEN;
}

size_t hub_decproto_put_fail(uint8_t buf[DECPROTO_HDR + DECPROTO_FAIL_MAX], const char *why)
{
	size_t n = strnlen(why, DECPROTO_FAIL_MAX);

	if (!n)
		why = "?", n = 1;
	hub_decproto_put_hdr(buf, DECPROTO_FAIL, (uint32_t)n);
	memcpy(buf + DECPROTO_HDR, why, n);
	return DECPROTO_HDR + n;
}

size_t hub_decproto_put_release(uint8_t buf[DECPROTO_HDR + DECPROTO_RELEASE_LEN], uint32_t slot)
{
	hub_decproto_put_hdr(buf, DECPROTO_RELEASE, DECPROTO_RELEASE_LEN);
	put32(buf + DECPROTO_HDR, slot);
	return DECPROTO_HDR + DECPROTO_RELEASE_LEN;
}

size_t hub_decproto_put_flush(uint8_t buf[DECPROTO_HDR])
{
	hub_decproto_put_hdr(buf, DECPROTO_FLUSH, 0);
	return DECPROTO_HDR;
}

size_t hub_decproto_put_au_head(uint8_t *buf, uint64_t seq, uint32_t total, uint32_t offset,
				uint32_t chunk)
{
	hub_decproto_put_hdr(buf, DECPROTO_AU, DECPROTO_AU_FIXED + chunk);
	put64(buf + DECPROTO_HDR, seq);
	put32(buf + DECPROTO_HDR + 8, total);
	put32(buf + DECPROTO_HDR + 12, offset);
	return DECPROTO_HDR + DECPROTO_AU_FIXED;
}

/* One plane of @rows rows of @row_bytes: inside the slot, stride wide enough. */
static bool plane_ok(uint32_t offset, uint32_t stride, uint64_t row_bytes, uint64_t rows)
{
	if (stride < row_bytes || stride > DECPROTO_SLOT_SIZE)
		return false;
	return (uint64_t)offset + (uint64_t)stride * (rows - 1) + row_bytes <= DECPROTO_SLOT_SIZE;
}

/* Why @p cannot be taken, or NULL when it can. */
static const char *picture_bad(const struct hub_decproto_picture *p)
{
	uint64_t cw = (p->width + 1) / 2, ch = (p->height + 1) / 2;

	if (p->slot >= DECPROTO_SLOTS)
		return "slot out of range";
	if (p->format != DECPROTO_I420 && p->format != DECPROTO_NV12)
		return "unknown pixel format";
	if (p->matrix > 1 || p->full_range > 1)
		return "unknown colour description";
	if (p->width < DECPROTO_MIN_DIM || p->width > DECPROTO_MAX_W ||
	    p->height < DECPROTO_MIN_DIM || p->height > DECPROTO_MAX_H)
		return "picture size out of range";
	if (!plane_ok(p->offset[0], p->stride[0], p->width, p->height))
		return "luma plane outside its slot";
	if (p->format == DECPROTO_NV12) {
		if (!plane_ok(p->offset[1], p->stride[1], 2 * cw, ch))
			return "chroma plane outside its slot";
		if (p->offset[2] || p->stride[2])
			return "third plane given for NV12";
		return NULL;
	}
	if (!plane_ok(p->offset[1], p->stride[1], cw, ch) ||
	    !plane_ok(p->offset[2], p->stride[2], cw, ch))
		return "chroma plane outside its slot";
	return NULL;
}

/* NULL when @buf is a message the hub takes (then in @m); else why not. */
static const char *parse_child(const uint8_t *buf, size_t len, struct hub_decproto_msg *m)
{
	const uint8_t *b;
	size_t blen;
	uint8_t type;

	memset(m, 0, sizeof(*m));
	if (hub_decproto_hdr(buf, len, &type, &b, &blen) < 0)
		return "bad header";
	m->type = type;
	switch (type) {
	case DECPROTO_HELLO:
		if (blen != DECPROTO_HELLO_LEN)
			break;
		m->hello.flags = hub_decproto_get32(b);
		memcpy(m->hello.name, b + 4, DECPROTO_NAME_LEN);
		for (size_t i = 0; m->hello.name[i]; i++)
			if (m->hello.name[i] < 0x20 || m->hello.name[i] > 0x7e)
				m->hello.name[i] = '?';
		return NULL;
	case DECPROTO_FAIL:
		if (!blen || blen > DECPROTO_FAIL_MAX)
			break;
		for (size_t i = 0; i < blen; i++)
			m->fail[i] = b[i] >= 0x20 && b[i] <= 0x7e ? (char)b[i] : '?';
		return NULL;
	case DECPROTO_PICTURE:
		if (blen != DECPROTO_PICTURE_LEN)
			break;
		m->pic.slot = hub_decproto_get32(b);
		m->pic.format = hub_decproto_get32(b + 4);
		m->pic.matrix = hub_decproto_get32(b + 8);
		m->pic.full_range = hub_decproto_get32(b + 12);
		m->pic.width = hub_decproto_get32(b + 16);
		m->pic.height = hub_decproto_get32(b + 20);
		m->pic.seq = hub_decproto_get64(b + 24);
		for (int i = 0; i < 3; i++) {
			m->pic.offset[i] = hub_decproto_get32(b + 32 + 4 * i);
			m->pic.stride[i] = hub_decproto_get32(b + 44 + 4 * i);
		}
		return picture_bad(&m->pic);
	default:
		return "unknown message type";
	}
	return "wrong length for its type";
}

int hub_decproto_parse_child(const uint8_t *buf, size_t len, struct hub_decproto_msg *m,
			     GError **error)
{
	const char *why = parse_child(buf, len, m);

	if (!why)
		return 0;
	g_set_error_literal(error, HUB_ERROR, HUB_ERROR_PROTOCOL, why);
	return -EBADMSG;
}
