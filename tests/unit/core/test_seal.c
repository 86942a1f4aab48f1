// SPDX-License-Identifier: GPL-2.0
/* Sealed units: AEAD round trip, nonce from sequence, header as AAD, replay window. */
#include <string.h>

#include <veracam/seal.h>

#include "fixture.h"
#include "harness.h"

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

	REQUIRE(pair_init(&p, c) == 0);
	REQUIRE(vc_seal(p.s, msg, sizeof(msg), &p.unit) == 0);
	CHECK(p.unit.len == VC_UNIT_HEADER_LEN + sizeof(msg) + VC_UNIT_TAG_LEN);
	CHECK_REJ(vc_unit_header_parse(p.unit.data, p.unit.len, &h, &ulen), VC_OK);
	CHECK(ulen == p.unit.len && h.seq == 0 && h.cipher == c && h.payload_len == sizeof(msg));
	CHECK(!memcmp(h.session_id, p.sid, VC_SESSION_ID_LEN));
	/* ciphertext is not the plaintext */
	CHECK(memmem(p.unit.data, p.unit.len, msg, 8) == NULL);
	vc_buf_reserve(&first, p.unit.len);
	memcpy(first.data, p.unit.data, p.unit.len);
	first.len = p.unit.len;
	CHECK_REJ(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_OK);
	CHECK(seq == 0 && p.plain.len == sizeof(msg) && !memcmp(p.plain.data, msg, sizeof(msg)));
	/* same payload again: new sequence, new nonce, different ciphertext */
	REQUIRE(vc_seal(p.s, msg, sizeof(msg), &p.unit) == 0);
	CHECK(memcmp(first.data + VC_UNIT_HEADER_LEN, p.unit.data + VC_UNIT_HEADER_LEN,
		     sizeof(msg)) != 0);
	CHECK_REJ(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_OK);
	CHECK(seq == 1);
	/* empty payload is a valid unit */
	REQUIRE(vc_seal(p.s, msg, 0, &p.unit) == 0);
	CHECK_REJ(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_OK);
	CHECK(p.plain.len == 0);
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

	REQUIRE(pair_init(&p, VC_CIPHER_AES128GCM) == 0);
	k2 = p.key;
	k2.key[0] ^= 1;
	o2 = vc_opener_new(&k2, p.sid);
	REQUIRE(o2);
	REQUIRE(vc_seal(p.s, (const uint8_t *)"x", 1, &p.unit) == 0);
	CHECK_REJ(vc_open(o2, p.unit.data, p.unit.len, &p.plain, &seq), VC_REJ_DECRYPT);
	/* a failed open leaves the window untouched: the right key still opens it */
	CHECK_REJ(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_OK);
	k2 = p.key;
	k2.iv[11] ^= 1;		/* wrong IV = wrong nonce */
	vc_opener_free(o2);
	o2 = vc_opener_new(&k2, p.sid);
	REQUIRE(o2);
	CHECK_REJ(vc_open(o2, p.unit.data, p.unit.len, &p.plain, &seq), VC_REJ_DECRYPT);
	vc_opener_free(o2);
	pair_fini(&p);
}

static void replay_window(void)
{
	struct vc_buf units[200] = { { 0 } };
	struct pair p;
	uint64_t seq;
	int i;

	REQUIRE(pair_init(&p, VC_CIPHER_AES128GCM) == 0);
	for (i = 0; i < 200; i++)
		REQUIRE(vc_seal(p.s, (const uint8_t *)"au", 2, &units[i]) == 0);
#define OPEN(i) vc_open(p.o, units[i].data, units[i].len, &p.plain, &seq)
	CHECK_REJ(OPEN(10), VC_OK);
	CHECK_REJ(OPEN(10), VC_REJ_REPLAY);	/* duplicate */
	CHECK_REJ(OPEN(5), VC_OK);		/* late, within window, first time */
	CHECK_REJ(OPEN(5), VC_REJ_REPLAY);
	CHECK_REJ(OPEN(100), VC_OK);		/* jump */
	CHECK_REJ(OPEN(37), VC_OK);		/* 63 behind: inside the window */
	CHECK_REJ(OPEN(36), VC_REJ_REPLAY);	/* 64 behind: outside */
	CHECK_REJ(OPEN(10), VC_REJ_REPLAY);
	CHECK_REJ(OPEN(99), VC_OK);
	CHECK_REJ(OPEN(199), VC_OK);		/* jump beyond the whole window */
	CHECK_REJ(OPEN(136), VC_OK);
	CHECK_REJ(OPEN(135), VC_REJ_REPLAY);
	CHECK_REJ(OPEN(199), VC_REJ_REPLAY);
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

	REQUIRE(pair_init(&p, VC_CIPHER_AES128GCM) == 0);
	REQUIRE(vc_seal(p.s, (const uint8_t *)"abc", 3, &p.unit) == 0);
	/* a stream transport learns the unit length from the first 32 bytes */
	CHECK_REJ(vc_unit_header_parse(p.unit.data, VC_UNIT_HEADER_LEN, &h, &ulen), VC_OK);
	CHECK(ulen == VC_UNIT_HEADER_LEN + 3 + VC_UNIT_TAG_LEN);
	CHECK_REJ(vc_unit_header_parse(p.unit.data, VC_UNIT_HEADER_LEN - 1, &h, &ulen),
		  VC_REJ_MALFORMED);
	p.unit.data[3] = 1;	/* reserved */
	CHECK_REJ(vc_unit_header_parse(p.unit.data, p.unit.len, &h, &ulen), VC_REJ_MALFORMED);
	p.unit.data[3] = 0;
	p.unit.data[1] = 2;	/* unknown type */
	CHECK_REJ(vc_unit_header_parse(p.unit.data, p.unit.len, &h, &ulen), VC_REJ_UNIT_VERSION);
	p.unit.data[1] = 1;
	p.unit.data[28] = 0x10;	/* payload length 256 MiB > limit */
	CHECK_REJ(vc_unit_header_parse(p.unit.data, p.unit.len, &h, &ulen), VC_REJ_MALFORMED);
	p.unit.data[28] = 0;
	p.unit.data[31] = 4;	/* claims 4 bytes, has 3 */
	CHECK_REJ(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_REJ_MALFORMED);
	p.unit.data[31] = 3;
	p.unit.data[4] ^= 1;	/* session id */
	CHECK_REJ(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_REJ_OTHER_SESSION);
	p.unit.data[4] ^= 1;
	CHECK_REJ(vc_open(p.o, p.unit.data, p.unit.len, &p.plain, &seq), VC_OK);
	CHECK(!memcmp(p.plain.data, "abc", 3));
	pair_fini(&p);
}

static void unknown_cipher_refused(void)
{
	struct vc_media_key k;
	uint8_t sid[VC_SESSION_ID_LEN] = { 0 };

	memset(&k, 0, sizeof(k));
	k.cipher = (enum vc_cipher)7;
	CHECK(vc_sealer_new(&k, sid) == NULL);
	CHECK(vc_opener_new(&k, sid) == NULL);
}

int main(void)
{
	RUN(aes_gcm_round_trip);
	RUN(chacha_round_trip);
	RUN(wrong_key_does_not_open);
	RUN(replay_window);
	RUN(header_checks);
	RUN(unknown_cipher_refused);
	return harness_done();
}
