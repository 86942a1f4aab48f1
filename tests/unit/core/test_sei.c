// SPDX-License-Identifier: GPL-2.0
/* The SEI carrier: Annex-B scanning, hashing, insertion/extraction, emulation prevention. */
#include <string.h>

#include <openssl/evp.h>

#include <veracam/record.h>
#include <veracam/sei.h>

#include "fixture.h"

static void put(struct vc_buf *b, const void *p, size_t n)
{
	vc_buf_reserve(b, b->len + n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* A record-sized payload full of the byte patterns that need escaping. */
static void nasty_record(uint8_t *rec, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		rec[i] = (i % 4 == 2) ? (uint8_t)(i / 4 % 4) : 0;	/* 00 00 0x 00 ... */
}

static void insert_extract_round_trip(void)
{
	uint8_t rec[VC_RECORD_MAX_LEN], got[VC_RECORD_MAX_LEN];
	struct vc_buf au = { 0 }, out = { 0 };
	struct vc_au_scan scan, scan2;
	size_t len, glen, i, escapes = 0;

	for (len = 1; len <= VC_RECORD_MAX_LEN; len += 37) {
		nasty_record(rec, len);
		fx_au(&au, true, 1000, (uint32_t)len);
		fx_require(vc_au_scan(au.data, au.len, &scan) == VC_OK);
		g_assert_true(scan.n_records == 0 && scan.idr);
		fx_require(vc_sei_insert(au.data, au.len, &scan, rec, len, &out) == 0);
		fx_assert_reject(vc_sei_extract(out.data, out.len, &scan2, got, &glen), VC_OK);
		g_assert_true(glen == len && !memcmp(got, rec, len));
		/* the hash ignores exactly the veracam SEI */
		g_assert_cmpmem(scan.hash, VC_HASH_LEN, scan2.hash, VC_HASH_LEN);
		g_assert_cmpint(scan2.n_records, ==, 1);
		/* no start code emulation inside the inserted NAL */
		for (i = 2; i < scan2.sei_len; i++) {
			g_assert_false(scan2.sei[i - 2] == 0 && scan2.sei[i - 1] == 0 &&
				       scan2.sei[i] < 3);
			escapes += scan2.sei[i - 2] == 0 && scan2.sei[i - 1] == 0 && scan2.sei[i] == 3;
		}
	}
	g_assert_cmpint(escapes, >, 0);	/* emulation prevention was exercised */
	/* the longest record (8 sessions, 456 bytes) fits; one byte more is not inserted */
	g_assert_cmpint(VC_RECORD_MAX_LEN, ==, 456);
	nasty_record(rec, VC_RECORD_MAX_LEN);
	fx_require(vc_au_scan(au.data, au.len, &scan) == VC_OK);
	fx_require(vc_sei_insert(au.data, au.len, &scan, rec, VC_RECORD_MAX_LEN, &out) == 0);
	fx_assert_reject(vc_sei_extract(out.data, out.len, &scan2, got, &glen), VC_OK);
	g_assert_true(glen == VC_RECORD_MAX_LEN && !memcmp(got, rec, glen));
	g_assert_cmpint(vc_sei_insert(au.data, au.len, &scan, rec, VC_RECORD_MAX_LEN + 1, &out), <,
			0);
	vc_buf_free(&au);
	vc_buf_free(&out);
}

/* The SEI goes right before the first slice, after AUD/SPS/PPS and other SEI. */
static void placement_before_first_slice(void)
{
	static const uint8_t au_bytes[] = {
		0, 0, 0, 1, 0x09, 0xf0,			/* AUD */
		0, 0, 1, 0x06, 0x05, 0x01, 0x44, 0x80,	/* someone else's SEI */
		0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x01, 0x22,	/* IDR slice */
		0, 0, 1, 0x65, 0x11, 0x22, 0, 0,	/* second slice, trailing zeros */
	};
	uint8_t rec[10] = { 1, 2, 3 }, got[VC_RECORD_MAX_LEN];
	struct vc_buf out = { 0 };
	struct vc_au_scan scan, scan2;
	size_t glen;

	fx_require(vc_au_scan(au_bytes, sizeof(au_bytes), &scan) == VC_OK);
	g_assert_cmpint(scan.first_slice, ==, 14);
	fx_require(vc_sei_insert(au_bytes, sizeof(au_bytes), &scan, rec, sizeof(rec), &out) == 0);
	g_assert_cmpmem(out.data, 14, au_bytes, 14);
	g_assert_cmpmem(out.data + 14, 6, "\x00\x00\x00\x01\x06\x05", 6);
	g_assert_cmpmem(out.data + out.len - (sizeof(au_bytes) - 14), sizeof(au_bytes) - 14,
			au_bytes + 14, sizeof(au_bytes) - 14);
	fx_assert_reject(vc_sei_extract(out.data, out.len, &scan2, got, &glen), VC_OK);
	g_assert_true(glen == sizeof(rec) && !memcmp(got, rec, glen));
	g_assert_cmpmem(scan.hash, VC_HASH_LEN, scan2.hash, VC_HASH_LEN);
	vc_buf_free(&out);
}

/* Start code length and trailing zeros do not change the hash; NAL bytes do. */
static void hash_definition(void)
{
	static const uint8_t a[] = { 0, 0, 1, 0x41, 0x9a, 0x00, 0x00, 0x03, 0x01, 0x7f };
	static const uint8_t b[] = { 0, 0, 0, 1, 0x41, 0x9a, 0x00, 0x00, 0x03, 0x01, 0x7f, 0, 0 };
	static const uint8_t c[] = { 0, 0, 1, 0x41, 0x9a, 0x00, 0x00, 0x03, 0x01, 0x7e };
	/* the same bytes split differently into NAL units */
	static const uint8_t d[] = { 0, 0, 1, 0x41, 0x9a, 0, 0, 1, 0x03, 0x01, 0x7f };
	struct vc_au_scan sa, sb, sc, sd;
	uint8_t expect[VC_HASH_LEN];
	uint8_t msg[4 + 7] = { 0, 0, 0, 7 };

	fx_require(vc_au_scan(a, sizeof(a), &sa) == VC_OK);
	fx_require(vc_au_scan(b, sizeof(b), &sb) == VC_OK);
	fx_require(vc_au_scan(c, sizeof(c), &sc) == VC_OK);
	fx_require(vc_au_scan(d, sizeof(d), &sd) == VC_OK);
	g_assert_cmpmem(sa.hash, VC_HASH_LEN, sb.hash, VC_HASH_LEN);
	g_assert_true(memcmp(sa.hash, sc.hash, VC_HASH_LEN) != 0);
	g_assert_true(memcmp(sa.hash, sd.hash, VC_HASH_LEN) != 0);
	g_assert_false(sa.idr);
	/* SHA-256(BE32(len) || NAL), escaped bytes included */
	memcpy(msg + 4, a + 3, 7);
	fx_require(EVP_Digest(msg, sizeof(msg), expect, NULL, EVP_sha256(), NULL) == 1);
	g_assert_cmpmem(sa.hash, VC_HASH_LEN, expect, VC_HASH_LEN);
}

static void malformed_access_units(void)
{
	static const struct {
		const char *what;
		const uint8_t *p;
		size_t n;
	} bad[] = {
		{ "empty", (const uint8_t *)"", 0 },
		{ "no start code", (const uint8_t *)"\x65\x88\x84", 3 },
		{ "junk before start code", (const uint8_t *)"\x07\x00\x00\x01\x65\x88", 6 },
		{ "empty NAL", (const uint8_t *)"\x00\x00\x01\x00\x00\x01\x65\x88", 8 },
		{ "forbidden bit", (const uint8_t *)"\x00\x00\x01\xe5\x88", 5 },
		{ "no slice", (const uint8_t *)"\x00\x00\x01\x67\x42\x00\x00\x01\x68\xce", 10 },
		{ "only zeros", (const uint8_t *)"\x00\x00\x00\x00", 4 },
	};
	struct vc_au_scan scan;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		enum vc_reject r = vc_au_scan(bad[i].p, bad[i].n, &scan);

		if (r != VC_REJ_RECORD)
			g_test_message("%s: %s", bad[i].what, vc_reject_name(r));
		fx_assert_reject(r, VC_REJ_RECORD);
	}
}

static void sei_variants(void)
{
	uint8_t rec[VC_RECORD_MAX_LEN], got[VC_RECORD_MAX_LEN];
	struct vc_buf au = { 0 }, sei = { 0 };
	struct vc_au_scan scan;
	size_t glen;
	uint8_t size = 16 + 4;
	static const uint8_t slice[] = { 0, 0, 1, 0x41, 0x9a, 0x01 };

#define SEI_START() do { sei.len = 0; put(&sei, "\x00\x00\x01\x06\x05", 5);	\
		put(&sei, &size, 1); put(&sei, vc_sei_uuid, 16); } while (0)
	memset(rec, 0x11, sizeof(rec));
	/* well formed: 4-byte record */
	SEI_START();
	put(&sei, rec, 4);
	put(&sei, "\x80", 1);
	put(&sei, slice, sizeof(slice));
	fx_assert_reject(vc_sei_extract(sei.data, sei.len, &scan, got, &glen), VC_OK);
	g_assert_cmpint(glen, ==, 4);
	/* a second message after ours */
	SEI_START();
	put(&sei, rec, 4);
	put(&sei, "\x05\x01\x44\x80", 4);
	put(&sei, slice, sizeof(slice));
	fx_assert_reject(vc_sei_extract(sei.data, sei.len, &scan, got, &glen), VC_REJ_RECORD);
	/* size says 20 but the NAL ends early */
	SEI_START();
	put(&sei, rec, 2);
	put(&sei, "\x80", 1);
	put(&sei, slice, sizeof(slice));
	fx_assert_reject(vc_sei_extract(sei.data, sei.len, &scan, got, &glen), VC_REJ_RECORD);
	/* missing stop bit */
	SEI_START();
	put(&sei, rec, 4);
	put(&sei, slice, sizeof(slice));
	fx_assert_reject(vc_sei_extract(sei.data, sei.len, &scan, got, &glen), VC_REJ_RECORD);
	/* illegal 00 00 02 inside */
	SEI_START();
	put(&sei, "\x00\x00\x02\x11\x80", 5);
	put(&sei, slice, sizeof(slice));
	fx_assert_reject(vc_sei_extract(sei.data, sei.len, &scan, got, &glen), VC_REJ_RECORD);
	/* another UUID is someone else's SEI: hashed, and no record found */
	SEI_START();
	sei.data[6] ^= 1;
	put(&sei, rec, 4);
	put(&sei, "\x80", 1);
	put(&sei, slice, sizeof(slice));
	fx_assert_reject(vc_sei_extract(sei.data, sei.len, &scan, got, &glen), VC_REJ_NO_RECORD);
	/* record one byte longer than any valid record (payload 16 + 457 = 255 + 218) */
	fx_au(&au, false, 600, 1);
	sei.len = 0;
	put(&sei, "\x00\x00\x01\x06\x05\xff\xda", 7);
	put(&sei, vc_sei_uuid, 16);
	put(&sei, au.data + 10, VC_RECORD_MAX_LEN + 1);
	put(&sei, "\x80", 1);
	put(&sei, slice, sizeof(slice));
	fx_assert_reject(vc_sei_extract(sei.data, sei.len, &scan, got, &glen), VC_REJ_RECORD);
	/* and far longer */
	sei.len = 0;
	put(&sei, "\x00\x00\x01\x06\x05\xff\xff", 7);
	put(&sei, "\x02", 1);
	put(&sei, vc_sei_uuid, 16);
	put(&sei, au.data + 10, 512 - 16);
	put(&sei, "\x80", 1);
	put(&sei, slice, sizeof(slice));
	fx_assert_reject(vc_sei_extract(sei.data, sei.len, &scan, got, &glen), VC_REJ_RECORD);
#undef SEI_START
	vc_buf_free(&au);
	vc_buf_free(&sei);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	g_test_add_func("/core/sei/insert-extract-round-trip", insert_extract_round_trip);
	g_test_add_func("/core/sei/placement-before-first-slice", placement_before_first_slice);
	g_test_add_func("/core/sei/hash-definition", hash_definition);
	g_test_add_func("/core/sei/malformed-access-units", malformed_access_units);
	g_test_add_func("/core/sei/sei-variants", sei_variants);
	return g_test_run();
}
