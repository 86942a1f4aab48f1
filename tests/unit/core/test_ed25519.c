// SPDX-License-Identifier: GPL-2.0
/*
 * Ed25519 of the frame records (libsodium, keys.c) against OpenSSL's, the
 * other implementation in the same process: the same signature bytes, each
 * verifying the other's, every flipped bit refused, and the small-order
 * inputs libsodium refuses where OpenSSL 3.0 accepts them.
 */
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include <veracam/keys.h>

#include "fixture.h"
#include "internal.h"	/* vc_key_pkey */

/* "veracam1 record" 00 and a one-session record without its signature */
#define RECORD_MSG_LEN	(16 + 136 + 32)

static const size_t msg_lens[] = { 0, 1, RECORD_MSG_LEN, 16 + 456 - 64, 1000 };

static int openssl_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t siglen = 64;
	int ok = md && EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, key, NULL) == 1 &&
		 EVP_DigestSign(md, sig, &siglen, msg, len) == 1 && siglen == 64;

	EVP_MD_CTX_free(md);
	return ok;
}

static int openssl_verify(const uint8_t pub[32], const uint8_t *msg, size_t len,
			  const uint8_t sig[64])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = key && md && EVP_DigestVerifyInit_ex(md, NULL, NULL, NULL, NULL, key, NULL) == 1 &&
		 EVP_DigestVerify(md, sig, 64, msg, len) == 1;

	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	return ok;
}

static void same_signatures_as_openssl(struct vc_device_key *k)
{
	uint8_t msg[1000], ours[64], theirs[64];
	size_t i;

	for (i = 0; i < sizeof(msg_lens) / sizeof(msg_lens[0]); i++) {
		size_t n = msg_lens[i];

		fx_bytes((uint8_t)(40 + i), msg, n);
		fx_require(vc_ed25519_sign(k, msg, n, ours) == 0);
		fx_require(openssl_sign(vc_key_pkey(k), msg, n, theirs));
		g_assert_cmpmem(ours, 64, theirs, 64);
		g_assert_true(vc_ed25519_verify(vc_key_public(k), msg, n, theirs));
		g_assert_true(openssl_verify(vc_key_public(k), msg, n, ours));
	}
}

static void signatures_are_byte_identical_to_openssl(void)
{
	struct vc_device_key *k;
	char dir[400];
	uint8_t tag;

	for (tag = 1; tag <= 4; tag++) {
		k = fx_key(tag);
		fx_require(k);
		same_signatures_as_openssl(k);
		vc_key_free(k);
	}
	/* a generated key, loaded from its PEM file */
	fx_require(fx_tmpdir(dir, sizeof(dir)) == 0);
	k = vc_keygen(dir) == 0 ? vc_key_load(dir) : NULL;
	fx_rmtree(dir);
	fx_require(k);
	same_signatures_as_openssl(k);
	vc_key_free(k);
}

/* RFC 8032 section 7.1, TEST 1: the empty message. */
static void rfc8032_test_1(void)
{
	static const char seed_hex[] =
		"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
	static const char pub_hex[] =
		"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
	static const char sig_hex[] =
		"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
		"5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";
	uint8_t seed[32], pub[32], want[64], sig[64];
	struct vc_device_key *k;

	fx_require(vc_unhex(seed_hex, 64, seed) == 0 && vc_unhex(pub_hex, 64, pub) == 0 &&
		   vc_unhex(sig_hex, 128, want) == 0);
	k = vc_key_from_seed(seed);
	fx_require(k);
	g_assert_cmpmem(vc_key_public(k), 32, pub, 32);
	fx_require(vc_ed25519_sign(k, (const uint8_t *)"", 0, sig) == 0);
	g_assert_cmpmem(sig, 64, want, 64);
	g_assert_true(vc_ed25519_verify(pub, (const uint8_t *)"", 0, want));
	same_signatures_as_openssl(k);
	vc_key_free(k);
}

static void every_flipped_bit_is_refused(void)
{
	struct vc_device_key *k = fx_key(5);
	uint8_t msg[RECORD_MSG_LEN], sig[64], pub[32];
	size_t bit;

	fx_require(k);
	memcpy(pub, vc_key_public(k), 32);
	fx_bytes(50, msg, sizeof(msg));
	fx_require(vc_ed25519_sign(k, msg, sizeof(msg), sig) == 0);
	fx_require(vc_ed25519_verify(pub, msg, sizeof(msg), sig));
	for (bit = 0; bit < 8 * sizeof(msg); bit++) {
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		g_assert_false(vc_ed25519_verify(pub, msg, sizeof(msg), sig));
		msg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (bit = 0; bit < 8 * sizeof(sig); bit++) {
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		g_assert_false(vc_ed25519_verify(pub, msg, sizeof(msg), sig));
		sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	for (bit = 0; bit < 8 * sizeof(pub); bit++) {
		pub[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		g_assert_false(vc_ed25519_verify(pub, msg, sizeof(msg), sig));
		pub[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	g_assert_true(vc_ed25519_verify(pub, msg, sizeof(msg), sig));
	vc_key_free(k);
}

/*
 * Inputs no honest key or signature has, which OpenSSL 3.0 accepts and
 * libsodium refuses (the set accepted only shrinks): a public key of
 * small order, under which anyone can sign anything; R of small order,
 * which only the key's holder can make; S not reduced below the group
 * order, which both refuse.
 */
static void small_order_and_unreduced_inputs_are_refused(void)
{
	static const uint8_t order[32] = {	/* the group order L, little-endian */
		0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
		0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		[31] = 0x10,
	};
	uint8_t msg[RECORD_MSG_LEN], sig[64], neutral[32] = { 1 }, h[64], a[64], e[32];
	struct vc_device_key *k = fx_key(6);
	crypto_hash_sha512_state st;
	uint8_t seed[32];

	fx_require(k);
	fx_bytes(60, msg, sizeof(msg));

	/* public key = the neutral point; R = B, S = 1 satisfies [S]B = R + [h]A */
	memset(sig, 0x66, 32);
	sig[0] = 0x58;
	memset(sig + 32, 0, 32);
	sig[32] = 1;
	g_assert_false(vc_ed25519_verify(neutral, msg, sizeof(msg), sig));
	g_test_message("neutral public key, forged signature: OpenSSL %s",
	       openssl_verify(neutral, msg, sizeof(msg), sig) ? "accepts" : "refuses");

	/* R = the neutral point, S = h * a: valid by the equation, made with the seed */
	fx_bytes(6, seed, sizeof(seed));	/* fx_key's seed */
	crypto_hash_sha512(a, seed, sizeof(seed));
	a[0] &= 248;
	a[31] &= 127;
	a[31] |= 64;
	memset(a + 32, 0, 32);
	crypto_core_ed25519_scalar_reduce(e, a);
	crypto_hash_sha512_init(&st);
	crypto_hash_sha512_update(&st, neutral, 32);
	crypto_hash_sha512_update(&st, vc_key_public(k), 32);
	crypto_hash_sha512_update(&st, msg, sizeof(msg));
	crypto_hash_sha512_final(&st, h);
	crypto_core_ed25519_scalar_reduce(h, h);
	memcpy(sig, neutral, 32);
	crypto_core_ed25519_scalar_mul(sig + 32, h, e);
	g_assert_false(vc_ed25519_verify(vc_key_public(k), msg, sizeof(msg), sig));
	g_test_message("small-order R made by the key's holder: OpenSSL %s",
	       openssl_verify(vc_key_public(k), msg, sizeof(msg), sig) ? "accepts" : "refuses");

	/* a valid signature with S + L */
	fx_require(vc_ed25519_sign(k, msg, sizeof(msg), sig) == 0);
	sodium_add(sig + 32, order, 32);
	g_assert_false(vc_ed25519_verify(vc_key_public(k), msg, sizeof(msg), sig));
	g_assert_false(openssl_verify(vc_key_public(k), msg, sizeof(msg), sig));
	sodium_memzero(a, sizeof(a));
	sodium_memzero(e, sizeof(e));
	vc_key_free(k);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	g_test_add_func("/core/ed25519/signatures-are-byte-identical-to-openssl",
			signatures_are_byte_identical_to_openssl);
	g_test_add_func("/core/ed25519/rfc8032-test-1", rfc8032_test_1);
	g_test_add_func("/core/ed25519/every-flipped-bit-is-refused", every_flipped_bit_is_refused);
	g_test_add_func("/core/ed25519/small-order-and-unreduced-inputs-are-refused",
			small_order_and_unreduced_inputs_are_refused);
	return g_test_run();
}
