/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - HPKE's inner steps (hpke.c), for the library and
 * its tests only: the RFC 9180 test vectors fix the ephemeral key
 * (DeriveKeyPair(ikmE)) and check the key schedule's outputs and later
 * sequence numbers, which the public single-shot API never exposes.
 */
#ifndef VERACAM_CORE_HPKE_INTERNAL_H
#define VERACAM_CORE_HPKE_INTERNAL_H

#include <stdint.h>

#include <veracam/hpke.h>

#define VC_HPKE_NK_MAX	32
#define VC_HPKE_NN	12
#define VC_HPKE_NH	32

/* A base-mode encryption context (RFC 9180 §5.2). */
struct vc_hpke_ctx {
	enum vc_hpke_aead aead;
	size_t key_len;
	uint8_t key[VC_HPKE_NK_MAX];
	uint8_t base_nonce[VC_HPKE_NN];
	uint8_t exporter_secret[VC_HPKE_NH];
	uint64_t seq;
};

/* RFC 9180 §7.1.3 DeriveKeyPair for X25519: sk and pk from ikm (>= 32 bytes). */
int vc_hpke_derive_keypair(const uint8_t *ikm, size_t ikm_len, uint8_t sk[VC_ENC_SECRET_LEN],
			   uint8_t pk[VC_ENC_PUBKEY_LEN]);

/*
 * SetupBaseS with the ephemeral key DeriveKeyPair(ikm_e): vc_hpke_seal()
 * calls it with 32 fresh random bytes, the tests with the vectors' ikmE.
 * shared_secret (may be NULL) receives the KEM's output.
 */
int vc_hpke_setup_sender(enum vc_hpke_aead aead, const uint8_t pk_r[VC_ENC_PUBKEY_LEN],
			 const uint8_t *info, size_t info_len, const uint8_t *ikm_e,
			 size_t ikm_len, uint8_t enc[VC_HPKE_ENC_LEN], struct vc_hpke_ctx *ctx,
			 uint8_t shared_secret[VC_HPKE_NH]);
/* SetupBaseR. */
int vc_hpke_setup_recipient(enum vc_hpke_aead aead, const struct vc_enc_key *sk_r,
			    const uint8_t enc[VC_HPKE_ENC_LEN], const uint8_t *info,
			    size_t info_len, struct vc_hpke_ctx *ctx,
			    uint8_t shared_secret[VC_HPKE_NH]);

/* ContextS.Seal / ContextR.Open at ctx->seq, which then advances. */
int vc_hpke_ctx_seal(struct vc_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
		     const uint8_t *pt, size_t pt_len, struct vc_buf *ct);
int vc_hpke_ctx_open(struct vc_hpke_ctx *ctx, const uint8_t *aad, size_t aad_len,
		     const uint8_t *ct, size_t ct_len, struct vc_buf *pt);
/* Context.Export (RFC 9180 §5.3). */
int vc_hpke_ctx_export(const struct vc_hpke_ctx *ctx, const uint8_t *exp_ctx, size_t exp_len,
		       uint8_t *out, size_t out_len);
/* HKDF-SHA256 (extract then expand, RFC 5869), no labels; 0 or -1. */
int vc_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
		   const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/* Wipe a context's secrets. */
void vc_hpke_ctx_clear(struct vc_hpke_ctx *ctx);

#endif /* VERACAM_CORE_HPKE_INTERNAL_H */
