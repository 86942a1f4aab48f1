// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - HPKE, RFC 9180 base mode (hpke.h), from OpenSSL
 * 3.0 EVP primitives: X25519 through EVP_PKEY_derive, HKDF-SHA256 through
 * the EVP_KDF "HKDF" in extract-only and expand-only modes (Labeled-
 * Extract/LabeledExpand, §4), and the AEADs through EVP_CIPHER.
 *
 *   suite ids: KEM "KEM" 0020; HPKE "HPKE" 0020 0001 <aead id>
 *   LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" suite label ikm)
 *   LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) "HPKE-v1" suite label info, L)
 */
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <veracam/hpke.h>
#include "hpke_internal.h"
#include "internal.h"

#define KEM_ID		0x0020	/* DHKEM(X25519, HKDF-SHA256) */
#define KDF_ID		0x0001	/* HKDF-SHA256 */
#define MODE_BASE	0x00
#define SUITE_MAX	10
#define LABELED_MAX	256	/* labeled info and ikm of this file, exporter contexts */

static const char version_label[7] = { 'H', 'P', 'K', 'E', '-', 'v', '1' };

struct suite {
	uint8_t id[SUITE_MAX];
	size_t len;
};

static void kem_suite(struct suite *s)
{
	memcpy(s->id, "KEM", 3);
	s->id[3] = KEM_ID >> 8;
	s->id[4] = KEM_ID & 0xff;
	s->len = 5;
}

static void hpke_suite(struct suite *s, enum vc_hpke_aead aead)
{
	memcpy(s->id, "HPKE", 4);
	s->id[4] = KEM_ID >> 8;
	s->id[5] = KEM_ID & 0xff;
	s->id[6] = KDF_ID >> 8;
	s->id[7] = KDF_ID & 0xff;
	s->id[8] = (uint8_t)(aead >> 8);
	s->id[9] = (uint8_t)aead;
	s->len = 10;
}

static size_t aead_nk(enum vc_hpke_aead aead)
{
	switch (aead) {
	case VC_HPKE_AES128GCM:
		return 16;
	case VC_HPKE_CHACHA20POLY1305:
		return 32;
	}
	return 0;
}

static const char *aead_name(enum vc_hpke_aead aead)
{
	return aead == VC_HPKE_AES128GCM ? "AES-128-GCM" : "ChaCha20-Poly1305";
}

static pthread_once_t kdf_once = PTHREAD_ONCE_INIT;
static EVP_KDF *kdf_hkdf;	/* fetched once, kept until exit */

static void kdf_fetch(void)
{
	kdf_hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
}

/* One HKDF step: extract (salt, ikm) or expand (prk in key, info). */
static int hkdf(int mode, const uint8_t *key, size_t key_len, const uint8_t *salt,
		size_t salt_len, const uint8_t *info, size_t info_len, uint8_t *out,
		size_t out_len)
{
	EVP_KDF_CTX *kctx;
	OSSL_PARAM params[6], *p = params;
	int ok;

	pthread_once(&kdf_once, kdf_fetch);
	kctx = kdf_hkdf ? EVP_KDF_CTX_new(kdf_hkdf) : NULL;

	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0);
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
	if (salt_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
							 salt_len);
	if (info_len)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info,
							 info_len);
	*p = OSSL_PARAM_construct_end();
	ok = kctx && EVP_KDF_derive(kctx, out, out_len, params) == 1;
	EVP_KDF_CTX_free(kctx);
	return ok ? 0 : vc_err_ssl("HKDF-SHA256");
}

int vc_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
		   const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
	return hkdf(EVP_KDF_HKDF_MODE_EXTRACT_AND_EXPAND, ikm, ikm_len, salt, salt_len, info,
		    info_len, out, out_len);
}

/* "HPKE-v1" || suite || label || data into buf; its length, or 0 when too long. */
static size_t labeled(uint8_t *buf, size_t cap, const struct suite *s, const char *label,
		      const uint8_t *data, size_t len)
{
	size_t ll = strlen(label), n = sizeof(version_label) + s->len + ll + len;

	if (n > cap)
		return 0;
	memcpy(buf, version_label, sizeof(version_label));
	memcpy(buf + sizeof(version_label), s->id, s->len);
	memcpy(buf + sizeof(version_label) + s->len, label, ll);
	if (len)
		memcpy(buf + sizeof(version_label) + s->len + ll, data, len);
	return n;
}

static int labeled_extract(const struct suite *s, const uint8_t *salt, size_t salt_len,
			   const char *label, const uint8_t *ikm, size_t ikm_len,
			   uint8_t prk[VC_HPKE_NH])
{
	uint8_t buf[LABELED_MAX];
	size_t n = labeled(buf, sizeof(buf), s, label, ikm, ikm_len);
	int ret;

	if (!n)
		return vc_err("HPKE: input too long");
	ret = hkdf(EVP_KDF_HKDF_MODE_EXTRACT_ONLY, buf, n, salt, salt_len, NULL, 0, prk,
		   VC_HPKE_NH);
	OPENSSL_cleanse(buf, sizeof(buf));
	return ret;
}

static int labeled_expand(const struct suite *s, const uint8_t prk[VC_HPKE_NH],
			  const char *label, const uint8_t *info, size_t info_len, uint8_t *out,
			  size_t len)
{
	uint8_t buf[LABELED_MAX];
	size_t n;

	if (len > 0xffff || len > 255 * VC_HPKE_NH)
		return vc_err("HPKE: output too long");
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	n = labeled(buf + 2, sizeof(buf) - 2, s, label, info, info_len);
	if (!n)
		return vc_err("HPKE: context too long");
	return hkdf(EVP_KDF_HKDF_MODE_EXPAND_ONLY, prk, VC_HPKE_NH, NULL, 0, buf, n + 2, out, len);
}

/* DeriveKeyPair's private key, and the key pair made from it. */
static struct vc_enc_key *derive_key(const uint8_t *ikm, size_t ikm_len,
				     uint8_t sk[VC_ENC_SECRET_LEN])
{
	struct suite s;
	uint8_t prk[VC_HPKE_NH];
	int ret;

	if (ikm_len < VC_ENC_SECRET_LEN) {
		vc_err("HPKE: DeriveKeyPair needs %d bytes of input", VC_ENC_SECRET_LEN);
		return NULL;
	}
	kem_suite(&s);
	ret = labeled_extract(&s, NULL, 0, "dkp_prk", ikm, ikm_len, prk);
	if (ret == 0)
		ret = labeled_expand(&s, prk, "sk", NULL, 0, sk, VC_ENC_SECRET_LEN);
	OPENSSL_cleanse(prk, sizeof(prk));
	return ret < 0 ? NULL : vc_enc_key_from_raw(sk);
}

int vc_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, uint8_t sk[VC_ENC_SECRET_LEN],
			   uint8_t pk[VC_ENC_PUBKEY_LEN])
{
	struct vc_enc_key *k = derive_key(ikm, ikm_len, sk);

	if (!k)
		return -1;
	memcpy(pk, k->pub, VC_ENC_PUBKEY_LEN);
	vc_enc_key_free(k);
	return 0;
}

/* DH(sk, pk), refusing the all-zero output of a small-order pk (RFC 9180 §7.1.4). */
static int dh(EVP_PKEY *sk, const uint8_t pk[VC_ENC_PUBKEY_LEN], uint8_t out[32])
{
	static const uint8_t zero[32];
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, pk, 32);
	EVP_PKEY_CTX *pc = peer ? EVP_PKEY_CTX_new_from_pkey(NULL, sk, NULL) : NULL;
	size_t len = 32;
	int ok;

	ok = pc && EVP_PKEY_derive_init(pc) == 1 && EVP_PKEY_derive_set_peer(pc, peer) == 1 &&
	     EVP_PKEY_derive(pc, out, &len) == 1 && len == 32;
	EVP_PKEY_CTX_free(pc);
	EVP_PKEY_free(peer);
	if (!ok)
		return vc_err_ssl("HPKE: X25519");
	if (!CRYPTO_memcmp(out, zero, 32))
		return vc_err("HPKE: X25519 with a small-order public key");
	return 0;
}

/* ExtractAndExpand(dh, enc || pkRm) (RFC 9180 §4.1). */
static int kem_secret(const uint8_t dhv[32], const uint8_t enc[VC_HPKE_ENC_LEN],
		      const uint8_t pk_r[VC_ENC_PUBKEY_LEN], uint8_t ss[VC_HPKE_NH])
{
	uint8_t kem_context[VC_HPKE_ENC_LEN + VC_ENC_PUBKEY_LEN], prk[VC_HPKE_NH];
	struct suite s;
	int ret;

	kem_suite(&s);
	memcpy(kem_context, enc, VC_HPKE_ENC_LEN);
	memcpy(kem_context + VC_HPKE_ENC_LEN, pk_r, VC_ENC_PUBKEY_LEN);
	ret = labeled_extract(&s, NULL, 0, "eae_prk", dhv, 32, prk);
	if (ret == 0)
		ret = labeled_expand(&s, prk, "shared_secret", kem_context, sizeof(kem_context),
				     ss, VC_HPKE_NH);
	OPENSSL_cleanse(prk, sizeof(prk));
	return ret;
}

/* KeySchedule in base mode (RFC 9180 §5.1): empty psk and psk_id. */
static int key_schedule(enum vc_hpke_aead aead, const uint8_t ss[VC_HPKE_NH],
			const uint8_t *info, size_t info_len, struct vc_hpke_ctx *ctx)
{
	uint8_t ks_context[1 + 2 * VC_HPKE_NH], secret[VC_HPKE_NH];
	struct suite s;
	int ret;

	memset(ctx, 0, sizeof(*ctx));
	ctx->key_len = aead_nk(aead);
	if (!ctx->key_len)
		return vc_err("HPKE: unknown AEAD %#x", (unsigned int)aead);
	ctx->aead = aead;
	hpke_suite(&s, aead);
	ks_context[0] = MODE_BASE;
	ret = labeled_extract(&s, NULL, 0, "psk_id_hash", NULL, 0, ks_context + 1);
	if (ret == 0)
		ret = labeled_extract(&s, NULL, 0, "info_hash", info, info_len,
				      ks_context + 1 + VC_HPKE_NH);
	if (ret == 0)
		ret = labeled_extract(&s, ss, VC_HPKE_NH, "secret", NULL, 0, secret);
	if (ret == 0)
		ret = labeled_expand(&s, secret, "key", ks_context, sizeof(ks_context), ctx->key,
				     ctx->key_len);
	if (ret == 0)
		ret = labeled_expand(&s, secret, "base_nonce", ks_context, sizeof(ks_context),
				     ctx->base_nonce, VC_HPKE_NN);
	if (ret == 0)
		ret = labeled_expand(&s, secret, "exp", ks_context, sizeof(ks_context),
				     ctx->exporter_secret, VC_HPKE_NH);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (ret < 0)
		vc_hpke_ctx_clear(ctx);
	return ret;
}

int vc_hpke_setup_sender(enum vc_hpke_aead aead, const uint8_t pk_r[VC_ENC_PUBKEY_LEN],
			 const uint8_t *info, size_t info_len, const uint8_t *ikm_e,
			 size_t ikm_len, uint8_t enc[VC_HPKE_ENC_LEN], struct vc_hpke_ctx *ctx,
			 uint8_t shared_secret[VC_HPKE_NH])
{
	uint8_t sk_e[VC_ENC_SECRET_LEN], dhv[32], ss[VC_HPKE_NH];
	struct vc_enc_key *eph = NULL;
	int ret = -1;

	eph = derive_key(ikm_e, ikm_len, sk_e);
	if (!eph)
		goto out;
	memcpy(enc, eph->pub, VC_HPKE_ENC_LEN);
	if (dh(eph->pkey, pk_r, dhv) < 0 || kem_secret(dhv, enc, pk_r, ss) < 0 ||
	    key_schedule(aead, ss, info, info_len, ctx) < 0)
		goto out;
	if (shared_secret)
		memcpy(shared_secret, ss, VC_HPKE_NH);
	ret = 0;
out:
	vc_enc_key_free(eph);
	OPENSSL_cleanse(sk_e, sizeof(sk_e));
	OPENSSL_cleanse(dhv, sizeof(dhv));
	OPENSSL_cleanse(ss, sizeof(ss));
	return ret;
}

int vc_hpke_setup_recipient(enum vc_hpke_aead aead, const struct vc_enc_key *sk_r,
			    const uint8_t enc[VC_HPKE_ENC_LEN], const uint8_t *info,
			    size_t info_len, struct vc_hpke_ctx *ctx,
			    uint8_t shared_secret[VC_HPKE_NH])
{
	uint8_t dhv[32], ss[VC_HPKE_NH];
	int ret = -1;

	if (dh(sk_r->pkey, enc, dhv) == 0 && kem_secret(dhv, enc, sk_r->pub, ss) == 0 &&
	    key_schedule(aead, ss, info, info_len, ctx) == 0) {
		if (shared_secret)
			memcpy(shared_secret, ss, VC_HPKE_NH);
		ret = 0;
	}
	OPENSSL_cleanse(dhv, sizeof(dhv));
	OPENSSL_cleanse(ss, sizeof(ss));
	return ret;
}

/* One AEAD operation at the context's sequence number (RFC 9180 §5.2). */
static int ctx_aead(struct vc_hpke_ctx *ctx, int encrypt, const uint8_t *aad, size_t aad_len,
		    const uint8_t *in, size_t in_len, struct vc_buf *out)
{
	uint8_t nonce[VC_HPKE_NN], seq[8];
	EVP_CIPHER *c = NULL;
	EVP_CIPHER_CTX *cc = NULL;
	size_t body = encrypt ? in_len : in_len - VC_HPKE_TAG_LEN;
	int n = 0, fin = 0, ok, i;

	if (!encrypt && in_len < VC_HPKE_TAG_LEN)
		return vc_err("HPKE: ciphertext shorter than its tag");
	if (in_len > INT32_MAX - VC_HPKE_TAG_LEN || aad_len > INT32_MAX)
		return vc_err("HPKE: message too long");
	if (ctx->seq == UINT64_MAX)
		return vc_err("HPKE: sequence exhausted");
	memcpy(nonce, ctx->base_nonce, VC_HPKE_NN);
	vc_put_be64(seq, ctx->seq);
	for (i = 0; i < 8; i++)
		nonce[VC_HPKE_NN - 8 + i] ^= seq[i];
	if (vc_buf_reserve(out, body + (encrypt ? VC_HPKE_TAG_LEN : 0) + 1) < 0)
		return -1;
	c = EVP_CIPHER_fetch(NULL, aead_name(ctx->aead), NULL);
	cc = EVP_CIPHER_CTX_new();
	ok = c && cc && EVP_CipherInit_ex2(cc, c, ctx->key, nonce, encrypt, NULL) == 1 &&
	     (encrypt || EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_SET_TAG, VC_HPKE_TAG_LEN,
					     (void *)(in + body)) == 1) &&
	     (!aad_len || EVP_CipherUpdate(cc, NULL, &n, aad, (int)aad_len) == 1) &&
	     EVP_CipherUpdate(cc, out->data, &n, in, (int)body) == 1 &&
	     EVP_CipherFinal_ex(cc, out->data + n, &fin) == 1 &&
	     (!encrypt || EVP_CIPHER_CTX_ctrl(cc, EVP_CTRL_AEAD_GET_TAG, VC_HPKE_TAG_LEN,
					      out->data + body) == 1);
	EVP_CIPHER_CTX_free(cc);
	EVP_CIPHER_free(c);
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (!ok) {
		OPENSSL_cleanse(out->data, body);
		out->len = 0;
		if (!encrypt)
			return vc_err("HPKE: authentication failed");
		return vc_err_ssl("HPKE: %s", aead_name(ctx->aead));
	}
	out->len = body + (encrypt ? VC_HPKE_TAG_LEN : 0);
	ctx->seq++;
	return 0;
}

int vc_hpke_ctx_seal(struct vc_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
		     const uint8_t *pt, size_t pt_len, struct vc_buf *ct)
{
	return ctx_aead(ctx, 1, aad, aad_len, pt, pt_len, ct);
}

int vc_hpke_ctx_open(struct vc_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
		     const uint8_t *ct, size_t ct_len, struct vc_buf *pt)
{
	return ctx_aead(ctx, 0, aad, aad_len, ct, ct_len, pt);
}

int vc_hpke_ctx_export(const struct vc_hpke_ctx *ctx, const uint8_t *exp_ctx, size_t exp_len,
		       uint8_t *out, size_t out_len)
{
	struct suite s;

	hpke_suite(&s, ctx->aead);
	return labeled_expand(&s, ctx->exporter_secret, "sec", exp_ctx, exp_len, out, out_len);
}

void vc_hpke_ctx_clear(struct vc_hpke_ctx *ctx)
{
	OPENSSL_cleanse(ctx, sizeof(*ctx));
}

int vc_hpke_seal(enum vc_hpke_aead aead, const uint8_t pk_r[VC_ENC_PUBKEY_LEN],
		 const uint8_t *info, size_t info_len, const uint8_t *aad, size_t aad_len,
		 const uint8_t *pt, size_t pt_len, uint8_t enc[VC_HPKE_ENC_LEN],
		 struct vc_buf *ct)
{
	uint8_t ikm[VC_ENC_SECRET_LEN];
	struct vc_hpke_ctx ctx;
	int ret;

	if (RAND_priv_bytes(ikm, sizeof(ikm)) != 1)
		return vc_err_ssl("HPKE: random ephemeral key");
	ret = vc_hpke_setup_sender(aead, pk_r, info, info_len, ikm, sizeof(ikm), enc, &ctx, NULL);
	OPENSSL_cleanse(ikm, sizeof(ikm));
	if (ret == 0)
		ret = vc_hpke_ctx_seal(&ctx, aad, aad_len, pt, pt_len, ct);
	vc_hpke_ctx_clear(&ctx);
	return ret;
}

int vc_hpke_open(enum vc_hpke_aead aead, const struct vc_enc_key *sk_r,
		 const uint8_t enc[VC_HPKE_ENC_LEN], const uint8_t *info, size_t info_len,
		 const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
		 struct vc_buf *pt)
{
	struct vc_hpke_ctx ctx;
	int ret;

	ret = vc_hpke_setup_recipient(aead, sk_r, enc, info, info_len, &ctx, NULL);
	if (ret == 0)
		ret = vc_hpke_ctx_open(&ctx, aad, aad_len, ct, ct_len, pt);
	vc_hpke_ctx_clear(&ctx);
	return ret;
}
