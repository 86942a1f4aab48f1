// SPDX-License-Identifier: GPL-2.0
/*
 * HPKE (daemon/core/hpke.c) against RFC 9180's appendix A vectors for the
 * two suites veracam uses (tests/vectors/hpke-rfc9180.txt, the argument),
 * then the public single-shot API: round trips and every refusal a
 * recipient relies on (another key, a changed enc, ciphertext, info or
 * aad, another AEAD, a small-order enc). Prints seal/open µs per call.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include <veracam/hpke.h>

#include "fixture.h"
#include "hpke_internal.h"

#define V(name)		fx_vec(name, NULL)

static const uint8_t *vp(const char *suite, const char *name, size_t *len)
{
	char full[64];

	snprintf(full, sizeof(full), "%s_%s", suite, name);
	return fx_vec(full, len);
}

static bool same(const uint8_t *a, const uint8_t *b, size_t len)
{
	return !memcmp(a, b, len);
}

static void check_suite(const char *s, enum vc_hpke_aead aead)
{
	uint8_t sk[32], pk[32], enc[32], ss[32], ss_r[32], out[32];
	size_t ikm_len, pt_len, info_len, ct_len, aad_len, ctx_len;
	const uint8_t *pt = fx_vec("pt", &pt_len), *info = fx_vec("info", &info_len);
	struct vc_hpke_ctx cs, cr;
	struct vc_enc_key *kr;
	struct vc_buf ct = { 0 }, back = { 0 };
	const uint8_t *ikm;
	char name[32];
	int i;

	ikm = vp(s, "ikmE", &ikm_len);
	fx_require(vc_hpke_derive_keypair(ikm, ikm_len, sk, pk) == 0);
	g_assert_true(same(sk, vp(s, "skEm", NULL), 32));
	g_assert_true(same(pk, vp(s, "pkEm", NULL), 32));
	ikm = vp(s, "ikmR", &ikm_len);
	fx_require(vc_hpke_derive_keypair(ikm, ikm_len, sk, pk) == 0);
	g_assert_true(same(sk, vp(s, "skRm", NULL), 32));
	g_assert_true(same(pk, vp(s, "pkRm", NULL), 32));

	ikm = vp(s, "ikmE", &ikm_len);
	fx_require(vc_hpke_setup_sender(aead, vp(s, "pkRm", NULL), info, info_len, ikm, ikm_len,
					enc, &cs, ss) == 0);
	g_assert_true(same(enc, vp(s, "enc", NULL), 32));
	g_assert_true(same(ss, vp(s, "shared_secret", NULL), 32));
	g_assert_cmpint(cs.key_len, ==, aead == VC_HPKE_AES128GCM ? 16u : 32u);
	g_assert_true(same(cs.key, vp(s, "key", NULL), cs.key_len));
	g_assert_true(same(cs.base_nonce, vp(s, "base_nonce", NULL), VC_HPKE_NN));
	g_assert_true(same(cs.exporter_secret, vp(s, "exporter_secret", NULL), 32));

	kr = vc_enc_key_from_raw(vp(s, "skRm", NULL));
	fx_require(kr);
	g_assert_true(same(vc_enc_key_public(kr), vp(s, "pkRm", NULL), 32));
	fx_require(vc_hpke_setup_recipient(aead, kr, enc, info, info_len, &cr, ss_r) == 0);
	g_assert_true(same(ss_r, ss, 32));

	/* sequences 0 and 1: the second checks the nonce's XOR with the counter */
	for (i = 0; i < 2; i++) {
		const uint8_t *aad, *want;

		snprintf(name, sizeof(name), "aad%d", i);
		aad = fx_vec(name, &aad_len);
		snprintf(name, sizeof(name), "ct%d", i);
		want = vp(s, name, &ct_len);
		g_assert_cmpint(vc_hpke_ctx_seal(&cs, aad, aad_len, pt, pt_len, &ct), ==, 0);
		g_assert_true(ct.len == ct_len && same(ct.data, want, ct_len));
		g_assert_cmpint(vc_hpke_ctx_open(&cr, aad, aad_len, want, ct_len, &back), ==, 0);
		g_assert_true(back.len == pt_len && same(back.data, pt, pt_len));
	}
	for (i = 0; i < 3; i++) {
		const uint8_t *ectx;

		snprintf(name, sizeof(name), "export_ctx%d", i);
		ectx = fx_vec(name, &ctx_len);
		snprintf(name, sizeof(name), "export%d", i);
		g_assert_cmpint(vc_hpke_ctx_export(&cs, ectx, ctx_len, out, 32), ==, 0);
		g_assert_true(same(out, vp(s, name, NULL), 32));
		g_assert_cmpint(vc_hpke_ctx_export(&cr, ectx, ctx_len, out, 32), ==, 0);
		g_assert_true(same(out, vp(s, name, NULL), 32));
	}
	vc_hpke_ctx_clear(&cs);
	vc_hpke_ctx_clear(&cr);
	vc_enc_key_free(kr);
	vc_buf_free(&ct);
	vc_buf_free(&back);
}

static void test_rfc9180_a1_aes128gcm(void)
{
	check_suite("a1", VC_HPKE_AES128GCM);
}

static void test_rfc9180_a2_chacha20poly1305(void)
{
	check_suite("a2", VC_HPKE_CHACHA20POLY1305);
}

static const uint8_t msg[] = "a content key, 32 bytes long....";
static const uint8_t info[] = "veracam event v1";
static const uint8_t aad[] = "event 42";

/* Round trips with fresh keys; each enc is new. */
static void test_round_trip(void)
{
	enum vc_hpke_aead aeads[] = { VC_HPKE_AES128GCM, VC_HPKE_CHACHA20POLY1305 };
	struct vc_enc_key *k = vc_enc_key_generate();
	struct vc_buf ct = { 0 }, pt = { 0 };
	uint8_t enc[32], enc2[32];
	size_t i;

	fx_require(k);
	for (i = 0; i < 2; i++) {
		fx_require(vc_hpke_seal(aeads[i], vc_enc_key_public(k), info, sizeof(info), aad,
					sizeof(aad), msg, sizeof(msg), enc, &ct) == 0);
		g_assert_cmpint(ct.len, ==, sizeof(msg) + VC_HPKE_TAG_LEN);
		g_assert_true(memcmp(ct.data, msg, sizeof(msg)) != 0);
		g_assert_cmpint(vc_hpke_open(aeads[i], k, enc, info, sizeof(info), aad, sizeof(aad),
					     ct.data, ct.len, &pt), ==, 0);
		g_assert_true(pt.len == sizeof(msg) && same(pt.data, msg, sizeof(msg)));
		/* empty info, aad and plaintext are allowed */
		fx_require(vc_hpke_seal(aeads[i], vc_enc_key_public(k), NULL, 0, NULL, 0, NULL, 0,
					enc2, &ct) == 0);
		g_assert_cmpint(ct.len, ==, VC_HPKE_TAG_LEN);
		g_assert_true(memcmp(enc, enc2, 32) != 0);
		g_assert_true(vc_hpke_open(aeads[i], k, enc2, NULL, 0, NULL, 0, ct.data, ct.len,
					   &pt) == 0 && pt.len == 0);
	}
	vc_enc_key_free(k);
	vc_buf_free(&ct);
	vc_buf_free(&pt);
}

/* Every change a store or cache could make is refused, and nothing leaks into pt. */
static void test_refusals(void)
{
	struct vc_enc_key *k = vc_enc_key_generate(), *other = vc_enc_key_generate();
	struct vc_buf ct = { 0 }, pt = { 0 }, bad = { 0 };
	uint8_t enc[32], e2[32], zero[32] = { 0 };
	size_t i;

	fx_require(k && other);
	fx_require(vc_hpke_seal(VC_HPKE_AES128GCM, vc_enc_key_public(k), info, sizeof(info), aad,
				sizeof(aad), msg, sizeof(msg), enc, &ct) == 0);
	/* another recipient's key */
	g_assert_true(vc_hpke_open(VC_HPKE_AES128GCM, other, enc, info, sizeof(info), aad,
				   sizeof(aad), ct.data, ct.len, &pt) < 0 && pt.len == 0);
	/* enc changed in any byte */
	for (i = 0; i < 32; i += 7) {
		memcpy(e2, enc, 32);
		e2[i] ^= 0x01;
		g_assert_true(vc_hpke_open(VC_HPKE_AES128GCM, k, e2, info, sizeof(info), aad,
					   sizeof(aad), ct.data, ct.len, &pt) < 0 && pt.len == 0);
	}
	/* a small-order enc: refused at the DH, before any AEAD */
	g_assert_cmpint(vc_hpke_open(VC_HPKE_AES128GCM, k, zero, info, sizeof(info), aad,
				     sizeof(aad), ct.data, ct.len, &pt), <, 0);
	/* ciphertext and tag changed in any byte, truncated, extended */
	fx_require(vc_buf_reserve(&bad, ct.len + 1) == 0);
	for (i = 0; i < ct.len; i++) {
		memcpy(bad.data, ct.data, ct.len);
		bad.data[i] ^= 0x80;
		g_assert_true(vc_hpke_open(VC_HPKE_AES128GCM, k, enc, info, sizeof(info), aad,
					   sizeof(aad), bad.data, ct.len, &pt) < 0 && pt.len == 0);
	}
	g_assert_cmpint(vc_hpke_open(VC_HPKE_AES128GCM, k, enc, info, sizeof(info), aad,
				     sizeof(aad), ct.data, ct.len - 1, &pt), <, 0);
	g_assert_cmpint(vc_hpke_open(VC_HPKE_AES128GCM, k, enc, info, sizeof(info), aad,
				     sizeof(aad), ct.data, VC_HPKE_TAG_LEN - 1, &pt), <, 0);
	memcpy(bad.data, ct.data, ct.len);
	bad.data[ct.len] = 0;
	g_assert_cmpint(vc_hpke_open(VC_HPKE_AES128GCM, k, enc, info, sizeof(info), aad,
				     sizeof(aad), bad.data, ct.len + 1, &pt), <, 0);
	/* another info or aad: another event, another use */
	g_assert_cmpint(vc_hpke_open(VC_HPKE_AES128GCM, k, enc, info, sizeof(info) - 1, aad,
				     sizeof(aad), ct.data, ct.len, &pt), <, 0);
	g_assert_cmpint(vc_hpke_open(VC_HPKE_AES128GCM, k, enc, (const uint8_t *)"veracam event v2",
				     sizeof(info), aad, sizeof(aad), ct.data, ct.len, &pt), <, 0);
	g_assert_cmpint(vc_hpke_open(VC_HPKE_AES128GCM, k, enc, info, sizeof(info), aad,
				     sizeof(aad) - 1, ct.data, ct.len, &pt), <, 0);
	g_assert_cmpint(vc_hpke_open(VC_HPKE_AES128GCM, k, enc, info, sizeof(info), NULL, 0,
				     ct.data, ct.len, &pt), <, 0);
	/* another AEAD */
	g_assert_cmpint(vc_hpke_open(VC_HPKE_CHACHA20POLY1305, k, enc, info, sizeof(info), aad,
				     sizeof(aad), ct.data, ct.len, &pt), <, 0);
	g_assert_cmpint(vc_hpke_open((enum vc_hpke_aead)2, k, enc, info, sizeof(info), aad,
				     sizeof(aad), ct.data, ct.len, &pt), <, 0);
	g_assert_cmpint(vc_hpke_seal((enum vc_hpke_aead)0xffff, vc_enc_key_public(k), NULL, 0, NULL,
				     0, msg, sizeof(msg), e2, &bad), <, 0);
	/* sealing to a small-order public key is refused too */
	g_assert_cmpint(vc_hpke_seal(VC_HPKE_AES128GCM, zero, NULL, 0, NULL, 0, msg, sizeof(msg),
				     e2, &bad), <, 0);
	/* and the right inputs still open */
	g_assert_cmpint(vc_hpke_open(VC_HPKE_AES128GCM, k, enc, info, sizeof(info), aad,
				     sizeof(aad), ct.data, ct.len, &pt), ==, 0);
	vc_enc_key_free(k);
	vc_enc_key_free(other);
	vc_buf_free(&ct);
	vc_buf_free(&pt);
	vc_buf_free(&bad);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Not a pass/fail figure: the CPU time of one wrap and one unwrap here. */
static void test_cost(void)
{
	struct vc_enc_key *k = vc_enc_key_generate();
	struct vc_buf ct = { 0 }, pt = { 0 };
	uint8_t enc[32];
	double t0, t1, t2;
	int i, n = 200, ok = 1;

	fx_require(k);
	t0 = now_us();
	for (i = 0; i < n; i++)
		ok &= vc_hpke_seal(VC_HPKE_AES128GCM, vc_enc_key_public(k), info, sizeof(info),
				   aad, sizeof(aad), msg, sizeof(msg), enc, &ct) == 0;
	t1 = now_us();
	for (i = 0; i < n; i++)
		ok &= vc_hpke_open(VC_HPKE_AES128GCM, k, enc, info, sizeof(info), aad,
				   sizeof(aad), ct.data, ct.len, &pt) == 0;
	t2 = now_us();
	g_assert_true(ok);
	g_test_message("HPKE AES-128-GCM, 32-byte message: seal %.1f us, open %.1f us per call "
		       "(CPU time)", (t1 - t0) / n, (t2 - t1) / n);
	vc_enc_key_free(k);
	vc_buf_free(&ct);
	vc_buf_free(&pt);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	if (argc != 2 || fx_vec_load(argv[1]) < 0) {
		fprintf(stderr, "usage: test_hpke VECTORS (cannot read the RFC 9180 vectors)\n");
		return 1;
	}
	g_test_add_func("/core/hpke/rfc9180-a1-aes128gcm", test_rfc9180_a1_aes128gcm);
	g_test_add_func("/core/hpke/rfc9180-a2-chacha20poly1305", test_rfc9180_a2_chacha20poly1305);
	g_test_add_func("/core/hpke/round-trip", test_round_trip);
	g_test_add_func("/core/hpke/refusals", test_refusals);
	g_test_add_func("/core/hpke/cost", test_cost);
	return g_test_run();
}
