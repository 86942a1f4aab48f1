// SPDX-License-Identifier: GPL-2.0
/*
 * Frame records: encoding, strict parsing, signature, the capture source
 * id and the signer's numbering, chain and source.
 */
#include <string.h>

#include <openssl/evp.h>

#include <veracam/record.h>
#include <veracam/sei.h>

#include "fixture.h"

static void sample(struct vc_record *r, uint8_t n)
{
	memset(r, 0, sizeof(*r));
	r->version = VC_RECORD_VERSION;
	r->flags = VC_RECORD_F_IDR | VC_RECORD_F_SENSOR_SEQ;
	r->n_sessions = n;
	fx_bytes(1, r->key_id, sizeof(r->key_id));
	r->seq = 0x0102030405060708ull;
	r->capture_ns = (uint64_t)FX_NOW_NS;
	r->sensor_seq = 77;
	fx_bytes(2, r->au_hash, sizeof(r->au_hash));
	fx_bytes(3, r->prev_hash, sizeof(r->prev_hash));
	fx_bytes(6, r->source, sizeof(r->source));
	/* n = 9 (one too many) fills 8 */
	for (uint8_t i = 0; i < n && i < VC_RECORD_MAX_SESSIONS; i++) {
		fx_bytes((uint8_t)(10 + i), r->sessions[i].id, VC_SESSION_ID_LEN);
		r->sessions[i].challenge = 0x1112131415161718ull + i;
		r->sessions[i].delay_ns = 0x2122232425262728ull + i;
	}
	fx_bytes(4, r->sig, sizeof(r->sig));
}

static void encode_parse_round_trip(void)
{
	uint8_t buf[VC_RECORD_MAX_LEN];
	struct vc_record r, q;
	uint8_t n;

	for (n = 1; n <= VC_RECORD_MAX_SESSIONS; n++) {
		sample(&r, n);
		g_assert_cmpint(vc_record_encode(&r, buf), ==, (int)VC_RECORD_LEN(n));
		fx_assert_reject(vc_record_parse(buf, VC_RECORD_LEN(n), &q), VC_OK);
		g_assert_cmpmem(&r, sizeof(r), &q, sizeof(r));
		/* fields sit where docs/PROTOCOL.md says */
		g_assert_true(buf[0] == 3 && buf[1] == 3 && buf[2] == n && buf[3] == 0);
		g_assert_true(buf[20] == 1 && buf[27] == 8 && buf[39] == 77);
		g_assert_cmpmem(buf + 72, VC_HASH_LEN, r.prev_hash, VC_HASH_LEN);
		g_assert_cmpmem(buf + 104, VC_HASH_LEN, r.source, VC_HASH_LEN);
		for (uint8_t i = 0; i < n; i++) {
			const uint8_t *e = buf + 136 + 32 * i;

			g_assert_cmpmem(e, VC_SESSION_ID_LEN, r.sessions[i].id, VC_SESSION_ID_LEN);
			/* challenge and delay big-endian */
			g_assert_true(e[16] == 0x11 && e[23] == 0x18 + i);
			g_assert_true(e[24] == 0x21 && e[31] == 0x28 + i);
		}
		g_assert_cmpmem(buf + 136 + 32 * n, VC_SIG_LEN, r.sig, VC_SIG_LEN);
		g_assert_cmpint(VC_RECORD_LEN(n), ==, 200 + 32 * n);
	}
	g_assert_true(VC_RECORD_LEN(1) == 232 && VC_RECORD_MAX_LEN == 456);
	sample(&r, 0);
	g_assert_cmpint(vc_record_encode(&r, buf), <, 0);
	sample(&r, 9);
	g_assert_cmpint(vc_record_encode(&r, buf), <, 0);
}

static void parse_is_strict(void)
{
	uint8_t buf[VC_RECORD_MAX_LEN + 1];
	struct vc_record r, q;
	size_t len, cut;

	sample(&r, 2);
	len = (size_t)vc_record_encode(&r, buf);
	for (cut = 0; cut < len; cut++)
		g_assert_cmpint(vc_record_parse(buf, cut, &q), !=, VC_OK);
	fx_assert_reject(vc_record_parse(buf, len + 1, &q), VC_REJ_RECORD);
	buf[2] = 3;	/* claims 3 sessions, carries 2 */
	fx_assert_reject(vc_record_parse(buf, len, &q), VC_REJ_RECORD);
	buf[2] = 0;
	fx_assert_reject(vc_record_parse(buf, len, &q), VC_REJ_RECORD);
	buf[2] = 2;
	buf[3] = 1;	/* reserved */
	fx_assert_reject(vc_record_parse(buf, len, &q), VC_REJ_RECORD);
	buf[3] = 0;
	buf[1] = 0x04;	/* unknown flag */
	fx_assert_reject(vc_record_parse(buf, len, &q), VC_REJ_RECORD);
	buf[1] = VC_RECORD_F_IDR;	/* no sensor sequence, but one is present */
	fx_assert_reject(vc_record_parse(buf, len, &q), VC_REJ_RECORD);
	buf[1] = 3;
	buf[0] = 0;
	fx_assert_reject(vc_record_parse(buf, len, &q), VC_REJ_RECORD_VERSION);
	buf[0] = 2;
	fx_assert_reject(vc_record_parse(buf, len, &q), VC_REJ_RECORD_VERSION);
	buf[0] = 4;
	fx_assert_reject(vc_record_parse(buf, len, &q), VC_REJ_RECORD_VERSION);
	buf[0] = 3;
	fx_assert_reject(vc_record_parse(buf, len, &q), VC_OK);
	/* every challenge and delay value is a valid encoding */
	memset(buf + 136 + 16, 0xff, 16);
	fx_assert_reject(vc_record_parse(buf, len, &q), VC_OK);
	g_assert_true(q.sessions[0].challenge == UINT64_MAX &&
		      q.sessions[0].delay_ns == UINT64_MAX);
}

/*
 * Older records are refused as a version, in their own layouts: v1 (no
 * source field, 16-byte session ids: 168 + 16n bytes) and v2 (16-byte
 * session ids: 200 + 16n bytes, no challenge or delay).
 */
static void old_versions_are_refused(void)
{
	uint8_t buf[VC_RECORD_MAX_LEN], v2[VC_RECORD_MAX_LEN];
	struct vc_record r, q;
	int len;

	sample(&r, 2);
	len = vc_record_encode(&r, buf);
	fx_require(len > 0);
	/* v2 layout: the session ids alone after the source */
	memcpy(v2, buf, 136);
	memcpy(v2 + 136, r.sessions[0].id, VC_SESSION_ID_LEN);
	memcpy(v2 + 152, r.sessions[1].id, VC_SESSION_ID_LEN);
	memcpy(v2 + 168, r.sig, VC_SIG_LEN);
	v2[0] = 2;
	fx_assert_reject(vc_record_parse(v2, 232, &q), VC_REJ_RECORD_VERSION);
	/* v1 layout: the 32 source bytes absent too, session ids at 104 */
	memmove(v2 + 104, v2 + 136, 232 - 136);
	v2[0] = 1;
	fx_assert_reject(vc_record_parse(v2, 200, &q), VC_REJ_RECORD_VERSION);
	/* nor does an old version byte pass on a v3-sized record */
	buf[0] = 2;
	fx_assert_reject(vc_record_parse(buf, (size_t)len, &q), VC_REJ_RECORD_VERSION);
	buf[0] = 1;
	fx_assert_reject(vc_record_parse(buf, (size_t)len, &q), VC_REJ_RECORD_VERSION);
}

/* The entry's delay, on the camera's monotonic clock, never negative, never wrapped. */
static void challenge_delay(void)
{
	g_assert_cmpint(vc_challenge_delay(1000, 1500), ==, 500);
	g_assert_cmpint(vc_challenge_delay(1500, 1000), ==, 0);	/* captured after the challenge came */
	g_assert_cmpint(vc_challenge_delay(1000, 1000), ==, 0);
	g_assert_cmpint(vc_challenge_delay(-5, 5), ==, 10);
	g_assert_cmpint(vc_challenge_delay(INT64_MIN, INT64_MAX), ==, UINT64_MAX);
	g_assert_cmpint(vc_challenge_delay(INT64_MAX, INT64_MIN), ==, 0);
}

/* Known answers computed outside this code (Python hashlib), and the input rules. */
static void source_id_derivation(void)
{
	static const struct {
		const char *stable, *hex;
	} kat[] = {
		{ "id:00112233445566778899aabbccddeeff",
		  "6cd2ca2ed316abede4fece0373fed1dd1ce086793d4ac1ecaa30bf3550170b84" },
		{ "bus:usb-0000:00:14.0-1;serial:SN123",
		  "d06b0ce7b220d4900560d9f19204d1dfdc2de90b185e1019d2655f676490ce3c" },
	};
	uint8_t id[VC_HASH_LEN], want[VC_HASH_LEN], plain[VC_HASH_LEN];
	char longest[VC_SOURCE_MAX_LEN + 2];
	size_t i;

	for (i = 0; i < sizeof(kat) / sizeof(kat[0]); i++) {
		fx_require(vc_unhex(kat[i].hex, 64, want) == 0);
		g_assert_cmpint(vc_source_id(kat[i].stable, id), ==, 0);
		g_assert_cmpmem(id, VC_HASH_LEN, want, VC_HASH_LEN);
		/* domain separated: not the bare hash of the string */
		EVP_Digest(kat[i].stable, strlen(kat[i].stable), plain, NULL, EVP_sha256(), NULL);
		g_assert_true(memcmp(id, plain, VC_HASH_LEN) != 0);
	}
	fx_require(vc_source_id("id:aa", id) == 0);
	fx_require(vc_source_id("id:ab", want) == 0);
	g_assert_true(memcmp(id, want, VC_HASH_LEN) != 0);
	memset(longest, 'x', sizeof(longest));
	longest[VC_SOURCE_MAX_LEN] = '\0';
	g_assert_cmpint(vc_source_id(longest, id), ==, 0);
	longest[VC_SOURCE_MAX_LEN] = 'x';
	longest[VC_SOURCE_MAX_LEN + 1] = '\0';
	g_assert_cmpint(vc_source_id(longest, id), <, 0);
	g_assert_cmpint(vc_source_id("", id), <, 0);
	g_assert_cmpint(vc_source_id(NULL, id), <, 0);
}

static void signature_covers_every_byte(void)
{
	uint8_t buf[VC_RECORD_MAX_LEN];
	struct vc_device_key *k = fx_key(1), *other = fx_key(2);
	const uint8_t *pub, *opub;
	struct vc_record r;
	size_t len, i;

	fx_require(k && other);
	pub = vc_key_public(k);
	opub = vc_key_public(other);
	sample(&r, 1);
	len = (size_t)vc_record_encode(&r, buf);
	fx_require(vc_record_sign(k, buf, len) == 0);
	g_assert_cmpint(vc_record_verify(pub, buf, len), ==, 1);
	g_assert_cmpint(vc_record_verify(opub, buf, len), ==, 0);
	for (i = 0; i < len; i++) {
		buf[i] ^= 0x20;
		g_assert_cmpint(vc_record_verify(pub, buf, len), ==, 0);
		buf[i] ^= 0x20;
	}
	g_assert_cmpint(vc_record_verify(pub, buf, len - 1), ==, 0);
	vc_key_free(k);
	vc_key_free(other);
}

static void signer_numbers_and_chains(void)
{
	struct vc_device_key *k = fx_key(1);
	struct vc_signer *s;
	struct vc_buf au = { 0 }, out = { 0 };
	struct vc_frame_info info = { .capture_ns = 123 };
	struct vc_record_session sid[1] = { { .challenge = 42, .delay_ns = 7 } };
	uint8_t prev[VC_HASH_LEN] = { 0 };
	uint8_t rec[VC_RECORD_MAX_LEN];
	struct vc_au_scan scan;
	struct vc_record r;
	size_t len;
	int i;

	uint8_t src[VC_HASH_LEN];

	fx_require(k && (s = vc_signer_new(k)));
	fx_bytes(5, sid[0].id, VC_SESSION_ID_LEN);
	/* no capture source yet: nothing is signed (fail closed) */
	fx_au(&au, true, 2000, 0);
	g_assert_cmpint(vc_signer_sign(s, &info, sid, 1,
				       au.data, au.len, &out), <, 0);
	g_assert_cmpint(vc_signer_set_source(s, ""), <, 0);
	g_assert_cmpint(vc_signer_sign(s, &info, sid, 1,
				       au.data, au.len, &out), <, 0);
	fx_require(vc_signer_set_source(s, "id:0a0b0c") == 0);
	fx_require(vc_source_id("id:0a0b0c", src) == 0);
	for (i = 0; i < 5; i++) {
		fx_au(&au, i == 0 || i == 3, 2000, (uint32_t)i);
		fx_require(vc_signer_sign(s, &info, sid, 1,
					  au.data, au.len, &out) == 0);
		fx_require(vc_sei_extract(out.data, out.len, &scan, rec, &len) == VC_OK);
		fx_require(vc_record_parse(rec, len, &r) == VC_OK);
		g_assert_cmpint(r.seq, ==, (uint64_t)i);
		g_assert_true(!!(r.flags & VC_RECORD_F_IDR) == (i == 0 || i == 3));
		g_assert_true(!(r.flags & VC_RECORD_F_SENSOR_SEQ) && r.sensor_seq == 0);
		g_assert_cmpint(r.capture_ns, ==, 123);
		g_assert_true(r.n_sessions == 1 && !memcmp(r.sessions, sid, sizeof(sid)));
		g_assert_cmpmem(r.key_id, VC_KEY_ID_LEN, vc_key_id(k), VC_KEY_ID_LEN);
		g_assert_cmpmem(r.prev_hash, VC_HASH_LEN, prev, VC_HASH_LEN);
		g_assert_cmpmem(r.source, VC_HASH_LEN, src, VC_HASH_LEN);
		g_assert_cmpmem(&r, sizeof(r), vc_signer_last(s), sizeof(r));
		vc_record_hash(rec, len, prev);
		/* the AU hash is the same with or without the SEI */
		fx_require(vc_au_scan(au.data, au.len, &scan) == VC_OK);
		g_assert_cmpmem(scan.hash, VC_HASH_LEN, r.au_hash, VC_HASH_LEN);
	}
	/* an AU that already carries a record is not signed twice */
	g_assert_cmpint(vc_signer_sign(s, &info, sid, 1,
				       out.data, out.len, &au), <, 0);
	/* nor is something that is not an access unit, nor 0 or 9 sessions */
	g_assert_cmpint(vc_signer_sign(s, &info, sid, 1,
				       (const uint8_t *)"junk", 4, &au), <, 0);
	g_assert_cmpint(vc_signer_sign(s, &info, sid, 0,
				       out.data, out.len, &au), <, 0);
	g_assert_cmpint(vc_signer_sign(s, &info, sid, 9,
				       out.data, out.len, &au), <, 0);
	g_assert_cmpint(vc_signer_last(s)->seq, ==, 4);

	/* another source (a device came back as another one): signed from then on, chain kept */
	fx_require(vc_signer_set_source(s, "bus:usb-1;serial:X") == 0);
	fx_require(vc_source_id("bus:usb-1;serial:X", src) == 0);
	fx_au(&au, true, 2000, 9);
	fx_require(vc_signer_sign(s, &info, sid, 1,
				  au.data, au.len, &out) == 0);
	fx_require(vc_sei_extract(out.data, out.len, &scan, rec, &len) == VC_OK);
	fx_require(vc_record_parse(rec, len, &r) == VC_OK);
	g_assert_true(!memcmp(r.source, src, VC_HASH_LEN) && r.seq == 5);
	g_assert_cmpmem(r.prev_hash, VC_HASH_LEN, prev, VC_HASH_LEN);
	vc_buf_free(&au);
	vc_buf_free(&out);
	vc_signer_free(s);
	vc_key_free(k);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	g_test_add_func("/core/record/encode-parse-round-trip", encode_parse_round_trip);
	g_test_add_func("/core/record/parse-is-strict", parse_is_strict);
	g_test_add_func("/core/record/old-versions-are-refused", old_versions_are_refused);
	g_test_add_func("/core/record/challenge-delay", challenge_delay);
	g_test_add_func("/core/record/source-id-derivation", source_id_derivation);
	g_test_add_func("/core/record/signature-covers-every-byte", signature_covers_every_byte);
	g_test_add_func("/core/record/signer-numbers-and-chains", signer_numbers_and_chains);
	return g_test_run();
}
