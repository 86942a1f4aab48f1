// SPDX-License-Identifier: GPL-2.0
/* Sealed units: AEAD round trip, nonce from sequence, header as AAD, replay window. */
#include <string.h>

#include <veracam/seal.h>

#include "fixture.h"

struct pair {
	struct vc_media_key key;
	uint8_t sid[VC_SESSION_ID_LEN];
	struct vc_sealer *s;
	struct vc_opener *o;
	struct vc_buf unit, plain;
};

static int pair_init(struct pair *p, enum vc_cipher c)
{
	memset(p, 0, sizeof(*p));
	p->key.cipher = c;
	fx_bytes(1, p->key.key, sizeof(p->key.key));
	fx_bytes(2, p->key.iv, sizeof(p->key.iv));
	fx_bytes(3, p->sid, sizeof(p->sid));
	p->s = vc_sealer_new(&p->key, p->sid);
	p->o = vc_opener_new(&p->key, p->sid);
	return p->s && p->o ? 0 : -1;
}

static void pair_fini(struct pair *p)
{
	vc_sealer_free(p->s);
	vc_opener_free(p->o);
	vc_buf_free(&p->unit);
	vc_buf_free(&p->plain);
}

static void round_trip(enum vc_cipher c)
{
	static const uint8_t msg[] = "a signed access unit";
	struct pair p;
	struct vc_unit_header h;
	struct vc_buf first = { 0 };
	uint64_t seq = 99;
	size_t ulen;

	fx_require(pair_init(&p, c) == 0);
	fx_require(vc_seal(p.s, msg, sizeof(msg), &p.unit) == 0);
	g_assert_cmpint(p.unit.len, ==, VC_UNIT_HEADER_LEN + sizeof(msg) + VC_UNIT_TAG_LEN);
	fx_assert_reject(vc_unit_header_parse(p.unit.data, p.unit.len, &h, &ulen), VC_OK);
	g_assert_true(ulen == p.unit.len && h.seq == 0 && h.cipher == c &&
		      h.payload_len == sizeof(msg));
	g_assert_cmpmem(h.session_id, VC_SESSION_ID_LEN, p.sid, VC_SESSION_ID_LEN);
	/* ciphertext is not the plaintext */
	g_assert_null(memmem(p.unit.data, p.unit.len, msg, 8));
	vc_buf_reserve(&first, p.unit.len);
	memcpy(first.data, p.unit.data, p.unit.len);
	first.len = p.unit.len;
	fx_assert_reject(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_OK);
	g_assert_true(seq == 0 && p.plain.len == sizeof(msg) &&
		      !memcmp(p.plain.data, msg, sizeof(msg)));
	/* same payload again: new sequence, new nonce, different ciphertext */
	fx_require(vc_seal(p.s, msg, sizeof(msg), &p.unit) == 0);
	g_assert_true(memcmp(first.data + VC_UNIT_HEADER_LEN, p.unit.data + VC_UNIT_HEADER_LEN,
			     sizeof(msg)) != 0);
	fx_assert_reject(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_OK);
	g_assert_cmpint(seq, ==, 1);
	/* empty payload is a valid unit */
	fx_require(vc_seal(p.s, msg, 0, &p.unit) == 0);
	fx_assert_reject(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_OK);
	g_assert_cmpint(p.plain.len, ==, 0);
	vc_buf_free(&first);
	pair_fini(&p);
}

static void aes_gcm_round_trip(void)
{
	round_trip(VC_CIPHER_AES128GCM);
}

static void chacha_round_trip(void)
{
	round_trip(VC_CIPHER_CHACHA20POLY1305);
}

static void wrong_key_does_not_open(void)
{
	struct pair p;
	struct vc_media_key k2;
	struct vc_opener *o2;
	uint64_t seq;

	fx_require(pair_init(&p, VC_CIPHER_AES128GCM) == 0);
	k2 = p.key;
	k2.key[0] ^= 1;
	o2 = vc_opener_new(&k2, p.sid);
	fx_require(o2);
	fx_require(vc_seal(p.s, (const uint8_t *)"x", 1, &p.unit) == 0);
	fx_assert_reject(vc_open(o2, p.unit.data, p.unit.len, &p.plain, &seq), VC_REJ_DECRYPT);
	/* a failed open leaves the window untouched: the right key still opens it */
	fx_assert_reject(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_OK);
	k2 = p.key;
	k2.iv[11] ^= 1;		/* wrong IV = wrong nonce */
	vc_opener_free(o2);
	o2 = vc_opener_new(&k2, p.sid);
	fx_require(o2);
	fx_assert_reject(vc_open(o2, p.unit.data, p.unit.len, &p.plain, &seq), VC_REJ_DECRYPT);
	vc_opener_free(o2);
	pair_fini(&p);
}

static void replay_window(void)
{
	struct vc_buf units[200] = { { 0 } };
	struct pair p;
	uint64_t seq;
	int i;

	fx_require(pair_init(&p, VC_CIPHER_AES128GCM) == 0);
	for (i = 0; i < 200; i++)
		fx_require(vc_seal(p.s, (const uint8_t *)"au", 2, &units[i]) == 0);
#define OPEN(i) vc_open(p.o, units[i].data, units[i].len, &p.plain, &seq)
	fx_assert_reject(OPEN(10), VC_OK);
	fx_assert_reject(OPEN(10), VC_REJ_REPLAY);	/* duplicate */
	fx_assert_reject(OPEN(5), VC_OK);		/* late, within window, first time */
	fx_assert_reject(OPEN(5), VC_REJ_REPLAY);
	fx_assert_reject(OPEN(100), VC_OK);		/* jump */
	fx_assert_reject(OPEN(37), VC_OK);		/* 63 behind: inside the window */
	fx_assert_reject(OPEN(36), VC_REJ_REPLAY);	/* 64 behind: outside */
	fx_assert_reject(OPEN(10), VC_REJ_REPLAY);
	fx_assert_reject(OPEN(99), VC_OK);
	fx_assert_reject(OPEN(199), VC_OK);		/* jump beyond the whole window */
	fx_assert_reject(OPEN(136), VC_OK);
	fx_assert_reject(OPEN(135), VC_REJ_REPLAY);
	fx_assert_reject(OPEN(199), VC_REJ_REPLAY);
#undef OPEN
	for (i = 0; i < 200; i++)
		vc_buf_free(&units[i]);
	pair_fini(&p);
}

static void header_checks(void)
{
	struct pair p;
	struct vc_unit_header h;
	size_t ulen;
	uint64_t seq;

	fx_require(pair_init(&p, VC_CIPHER_AES128GCM) == 0);
	fx_require(vc_seal(p.s, (const uint8_t *)"abc", 3, &p.unit) == 0);
	/* a stream transport learns the unit length from the first 32 bytes */
	fx_assert_reject(vc_unit_header_parse(p.unit.data, VC_UNIT_HEADER_LEN, &h, &ulen), VC_OK);
	g_assert_cmpint(ulen, ==, VC_UNIT_HEADER_LEN + 3 + VC_UNIT_TAG_LEN);
	fx_assert_reject(vc_unit_header_parse(p.unit.data, VC_UNIT_HEADER_LEN - 1, &h, &ulen),
			 VC_REJ_MALFORMED);
	p.unit.data[3] = 1;	/* reserved */
	fx_assert_reject(vc_unit_header_parse(p.unit.data, p.unit.len, &h, &ulen),
			 VC_REJ_MALFORMED);
	p.unit.data[3] = 0;
	p.unit.data[1] = 2;	/* unknown type */
	fx_assert_reject(vc_unit_header_parse(p.unit.data, p.unit.len, &h, &ulen),
			 VC_REJ_UNIT_VERSION);
	p.unit.data[1] = 1;
	p.unit.data[28] = 0x10;	/* payload length 256 MiB > limit */
	fx_assert_reject(vc_unit_header_parse(p.unit.data, p.unit.len, &h, &ulen),
			 VC_REJ_MALFORMED);
	p.unit.data[28] = 0;
	p.unit.data[31] = 4;	/* claims 4 bytes, has 3 */
	fx_assert_reject(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_REJ_MALFORMED);
	p.unit.data[31] = 3;
	p.unit.data[4] ^= 1;	/* session id */
	fx_assert_reject(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq),
			 VC_REJ_OTHER_SESSION);
	p.unit.data[4] ^= 1;
	fx_assert_reject(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_OK);
	g_assert_cmpmem(p.plain.data, 3, "abc", 3);
	pair_fini(&p);
}

static void unknown_cipher_refused(void)
{
	struct vc_media_key k;
	uint8_t sid[VC_SESSION_ID_LEN] = { 0 };

	memset(&k, 0, sizeof(k));
	k.cipher = (enum vc_cipher)7;
	g_assert_null(vc_sealer_new(&k, sid));
	g_assert_null(vc_opener_new(&k, sid));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	g_test_add_func("/core/seal/aes-gcm-round-trip", aes_gcm_round_trip);
	g_test_add_func("/core/seal/chacha-round-trip", chacha_round_trip);
	g_test_add_func("/core/seal/wrong-key-does-not-open", wrong_key_does_not_open);
	g_test_add_func("/core/seal/replay-window", replay_window);
	g_test_add_func("/core/seal/header-checks", header_checks);
	g_test_add_func("/core/seal/unknown-cipher-refused", unknown_cipher_refused);
	return g_test_run();
}
