// SPDX-License-Identifier: GPL-2.0
/*
 * The event-fetch messages (docs/PROTOCOL.md §5.7): the byte-exact vectors
 * of the document, each parser's refusals, and the spool name grammar.
 * The session's use of them (one request at a time, answers checked
 * against the request) is in test_session.c.
 */
#include <stdio.h>
#include <string.h>

#include <veracam/evfetch.h>
#include <veracam/session.h>

#include "fixture.h"

static const uint8_t id[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };

/* type, length (1 or 2 bytes: type >= 0x80), body: as hex */
static void wire_hex(unsigned int type, const uint8_t *body, size_t len, char *out)
{
	uint8_t msg[3 + VC_CTL_LONG_MAX];
	size_t h = 0;

	msg[h++] = (uint8_t)type;
	if (type & VC_CTL_LONG)
		msg[h++] = (uint8_t)(len >> 8);
	msg[h++] = (uint8_t)len;
	memcpy(msg + h, body, len);
	vc_hex(msg, h + len, out);
}

static bool vector(unsigned int type, const uint8_t *body, size_t len, const char *want)
{
	static char got[2 * (3 + VC_CTL_LONG_MAX) + 1];

	wire_hex(type, body, len, got);
	if (strcmp(got, want)) {
		g_test_message("got  %s\nwant %s", got, want);
		return false;
	}
	return true;
}

/* The vectors of PROTOCOL.md §5.7, space-free. */
static void vectors(void)
{
	uint8_t b[VC_EVX_CHUNK_MAX_LEN], data[12];
	struct vc_evx_get g = { .kind = VC_EVX_CLIP, .number = 2, .offset = 16384, .max = 16384 };
	struct vc_evx_entry e = { .number = 2, .size = { 0, 652, 3147, 54000 } };
	struct vc_evx_chunk c = { .kind = VC_EVX_ENV, .number = 2, .offset = 640, .total = 652,
				  .data = data, .len = sizeof(data) };

	for (int i = 0; i < 12; i++)
		data[i] = (uint8_t)(0xa0 + i);
	memcpy(g.event_id, id, 16);
	memcpy(e.event_id, id, 16);
	memcpy(c.event_id, id, 16);
	g_assert_true(vector(VC_CTL_EVENTS_LIST, b, vc_evx_list_encode(2, b),
			     "050c010000000000000000000002"));
	g_assert_true(vector(VC_CTL_EVENT_GET, b, vc_evx_get_encode(&g, b),
			     "062401030000000000000000000200112233445566778899aabbccddeeff"
			     "0000400000004000"));
	g_assert_true(vector(VC_CTL_EVENT_ERROR, b, vc_evx_error_encode(VC_EVX_ERR_GONE, b),
			     "070401020000"));
	g_assert_true(vector(VC_CTL_EVENTS, b, vc_evx_listing_encode(&e, 1, true, b),
			     "8100280101000100000000000000020011223344556677"
			     "8899aabbccddeeff0000028c00000c4b0000d2f0"));
	g_assert_true(vector(VC_CTL_EVENT_CHUNK, b, vc_evx_chunk_encode(&c, b),
			     "82003001010000000000000000000200112233445566778899aabbccddeeff"
			     "000002800000028ca0a1a2a3a4a5a6a7a8a9aaab"));
}

/* Each body parses back to what was encoded. */
static void round_trips(void)
{
	uint8_t b[VC_EVX_LISTING_MAX_LEN];
	struct vc_evx_entry e[VC_EVX_LIST_MAX], back[VC_EVX_LIST_MAX];
	struct vc_evx_get g = { .kind = VC_EVX_THUMB, .number = 7, .offset = 5, .max = 1 }, g2;
	enum vc_evx_error code;
	uint64_t from;
	size_t n, len;
	bool more;

	g_assert_true(vc_evx_list_parse(b, vc_evx_list_encode(UINT64_MAX, b), &from) == 0 &&
		      from == UINT64_MAX);
	memcpy(g.event_id, id, 16);
	g_assert_true(vc_evx_get_parse(b, vc_evx_get_encode(&g, b), &g2) == 0 &&
		      !memcmp(&g, &g2, sizeof(g)));
	g_assert_true(vc_evx_error_parse(b, vc_evx_error_encode(VC_EVX_ERR_STORE, b), &code) == 0 &&
		      code == VC_EVX_ERR_STORE);
	memset(e, 0, sizeof(e));
	for (size_t i = 0; i < VC_EVX_LIST_MAX; i++) {
		e[i].number = 10 + 2 * i;
		e[i].event_id[0] = (uint8_t)i;
		e[i].size[VC_EVX_ENV] = 600;
		e[i].size[VC_EVX_CLIP] = 1 + (uint32_t)i;
	}
	len = vc_evx_listing_encode(e, VC_EVX_LIST_MAX, false, b);
	g_assert_cmpint(len, ==, VC_EVX_LISTING_MAX_LEN);
	g_assert_true(vc_evx_listing_parse(b, len, 10, back, &n, &more) == 0 &&
		      n == VC_EVX_LIST_MAX && !more && !memcmp(back, e, sizeof(e)));
	/* an empty listing */
	g_assert_true(vc_evx_listing_parse(b, vc_evx_listing_encode(e, 0, false, b), 0, back, &n,
					   &more) == 0 &&
		      n == 0);
}

/* Every field out of its range refuses the message. */
static void refusals(void)
{
	uint8_t b[VC_EVX_CHUNK_MAX_LEN + 1], d[VC_EVX_CHUNK_MAX + 1] = { 0 };
	struct vc_evx_entry e[2] = { { .number = 5, .size = { 0, 600, 0, 100 } },
				     { .number = 6, .size = { 0, 600, 0, 100 } } }, back[64];
	struct vc_evx_get g = { .kind = VC_EVX_ENV, .number = 1, .max = 100 };
	struct vc_evx_chunk c = { .kind = VC_EVX_CLIP, .number = 1, .offset = 0, .total = 100,
				  .data = d, .len = 100 }, c2;
	enum vc_evx_error code;
	uint64_t from;
	size_t n, len;
	bool more;

	/* list request: length, version, reserved */
	vc_evx_list_encode(1, b);
	g_assert_cmpint(vc_evx_list_parse(b, VC_EVX_LIST_REQ_LEN - 1, &from), <, 0);
	b[0] = 2;
	g_assert_cmpint(vc_evx_list_parse(b, VC_EVX_LIST_REQ_LEN, &from), <, 0);
	b[0] = 1, b[3] = 1;
	g_assert_cmpint(vc_evx_list_parse(b, VC_EVX_LIST_REQ_LEN, &from), <, 0);
	/* get: kind 0 and 4 (no such object), max 0 and over a chunk, reserved */
	for (unsigned int k = 0; k < 6; k++) {
		vc_evx_get_encode(&g, b);
		switch (k) {
		case 0: b[1] = 0; break;
		case 1: b[1] = 4; break;
		case 2: memset(b + 32, 0, 4); break;
		case 3: b[32] = 0, b[33] = 0, b[34] = 0x40, b[35] = 0x01; break;	/* 16385 */
		case 4: b[2] = 1; break;
		case 5: b[0] = 0; break;
		}
		g_assert_cmpint(vc_evx_get_parse(b, VC_EVX_GET_LEN, &g), <, 0);
	}
	/* error: unknown code */
	vc_evx_error_encode(VC_EVX_ERR_GONE, b);
	b[1] = 3;
	g_assert_cmpint(vc_evx_error_parse(b, VC_EVX_ERROR_LEN, &code), <, 0);
	/* listing: a rollback (older than asked), not rising, sizes, count vs length, flags */
	len = vc_evx_listing_encode(e, 2, false, b);
	g_assert_cmpint(vc_evx_listing_parse(b, len, 5, back, &n, &more), ==, 0);
	g_assert_cmpint(vc_evx_listing_parse(b, len, 6, back, &n, &more), <, 0);	/* rollback */
	e[1].number = 5;
	g_assert_cmpint(vc_evx_listing_parse(b, vc_evx_listing_encode(e, 2, false, b), 0, back, &n,
					     &more), <, 0);
	e[1].number = 6;
	e[1].size[VC_EVX_ENV] = VC_ENVELOPE_MAX_LEN + 1;
	g_assert_cmpint(vc_evx_listing_parse(b, vc_evx_listing_encode(e, 2, false, b), 0, back, &n,
					     &more), <, 0);
	e[1].size[VC_EVX_ENV] = 600;
	e[1].size[VC_EVX_CLIP] = VC_EVX_CLIP_MAX + 1;
	g_assert_cmpint(vc_evx_listing_parse(b, vc_evx_listing_encode(e, 2, false, b), 0, back, &n,
					     &more), <, 0);
	e[1].size[VC_EVX_CLIP] = 0;
	g_assert_cmpint(vc_evx_listing_parse(b, vc_evx_listing_encode(e, 2, false, b), 0, back, &n,
					     &more), <, 0);
	e[1].size[VC_EVX_CLIP] = 100;
	e[1].size[VC_EVX_THUMB] = VC_EVX_THUMB_MAX + 1;
	g_assert_cmpint(vc_evx_listing_parse(b, vc_evx_listing_encode(e, 2, false, b), 0, back, &n,
					     &more), <, 0);
	e[1].size[VC_EVX_THUMB] = 0;
	len = vc_evx_listing_encode(e, 2, false, b);
	g_assert_cmpint(vc_evx_listing_parse(b, len - 1, 0, back, &n, &more), <, 0);
	b[3] = 3;
	g_assert_cmpint(vc_evx_listing_parse(b, len, 0, back, &n, &more), <, 0);
	b[3] = 2, b[1] = 2;
	g_assert_cmpint(vc_evx_listing_parse(b, len, 0, back, &n, &more), <, 0);
	/* chunk: empty, oversized, past the object's end, offset at the end */
	len = vc_evx_chunk_encode(&c, b);
	g_assert_true(vc_evx_chunk_parse(b, len, &c2) == 0 && c2.len == 100 && c2.total == 100);
	g_assert_cmpint(vc_evx_chunk_parse(b, VC_EVX_CHUNK_HDR, &c2), <, 0);
	c.total = VC_EVX_CHUNK_MAX + 1, c.len = VC_EVX_CHUNK_MAX + 1;
	g_assert_cmpint(vc_evx_chunk_parse(b, vc_evx_chunk_encode(&c, b), &c2), <, 0);	/* 16 KiB + 1 */
	c.total = 100, c.len = 100, c.offset = 1;
	g_assert_cmpint(vc_evx_chunk_parse(b, vc_evx_chunk_encode(&c, b), &c2), <, 0);	/* 1 + 100 > 100 */
	c.offset = 100, c.len = 1, c.total = 100;
	g_assert_cmpint(vc_evx_chunk_parse(b, vc_evx_chunk_encode(&c, b), &c2), <, 0);
	/* a chunk answers only its own request, never more than asked */
	c.offset = 0, c.len = 100, c.total = 100;
	vc_evx_chunk_parse(b, vc_evx_chunk_encode(&c, b), &c2);
	g = (struct vc_evx_get){ .kind = VC_EVX_CLIP, .number = 1, .offset = 0, .max = 100 };
	g_assert_true(vc_evx_chunk_answers(&c2, &g));
	g.max = 99;
	g_assert_false(vc_evx_chunk_answers(&c2, &g));
	g.max = 100, g.number = 2;
	g_assert_false(vc_evx_chunk_answers(&c2, &g));
	g.number = 1, g.kind = VC_EVX_THUMB;
	g_assert_false(vc_evx_chunk_answers(&c2, &g));
	g.kind = VC_EVX_CLIP, g.event_id[3] = 1;
	g_assert_false(vc_evx_chunk_answers(&c2, &g));
}

/* NUMBER-EVENTID.EXT exactly: nothing else is a spool name. */
static void names(void)
{
	static const char *const bad[] = {
		"../00000000000000000002-00112233445566778899aabbccddeeff.env",
		"00000000000000000002-00112233445566778899aabbccddeeff.env/..",
		"00000000000000000002-00112233445566778899aabbccddeeff.env.tmp",
		".00000000000000000002-00112233445566778899aabbccddeeff.env.tmp",
		"00000000000000000002-00112233445566778899AABBCCDDEEFF.env",
		"0000000000000000002-00112233445566778899aabbccddeeff0.env",
		"00000000000000000002-00112233445566778899aabbccddeeff.mp4",
		"00000000000000000002-00112233445566778899aabbccddeeff.",
		"00000000000000000002-00112233445566778899aabbccddeeff",
		"99999999999999999999-00112233445566778899aabbccddeeff.env",	/* > 2^64 */
		"0000000000000000000x-00112233445566778899aabbccddeeff.env",
		"",
	};
	uint8_t got[16];
	uint64_t n;
	unsigned int kind;
	char name[64];

	g_assert_true(vc_evx_name(2, id, VC_EVX_CLIP, name) == 0 &&
		      !strcmp(name, "00000000000000000002-00112233445566778899aabbccddeeff.clip"));
	g_assert_cmpint(vc_evx_name(2, id, 4, name), <, 0);
	g_assert_true(vc_evx_name_parse(name, &n, got, &kind) && n == 2 && !memcmp(got, id, 16) &&
		      kind == VC_EVX_CLIP);
	g_assert_true(vc_evx_name_parse("18446744073709551615-"
					"00112233445566778899aabbccddeeff.thumb", &n, got, &kind) &&
		      n == UINT64_MAX && kind == VC_EVX_THUMB);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (vc_evx_name_parse(bad[i], &n, got, &kind)) {
			g_test_message("taken: %s", bad[i]);
			g_test_fail();
		}
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	g_test_add_func("/core/evfetch/vectors", vectors);
	g_test_add_func("/core/evfetch/round-trips", round_trips);
	g_test_add_func("/core/evfetch/refusals", refusals);
	g_test_add_func("/core/evfetch/names", names);
	return g_test_run();
}
