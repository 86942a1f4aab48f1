/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - HPKE (RFC 9180), base mode only, for one suite
 * family: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, and AES-128-GCM or
 * ChaCha20-Poly1305. Built from OpenSSL 3.0 EVP primitives (X25519
 * derive, the HKDF KDF in extract-only and expand-only modes, EVP AEAD);
 * checked against the RFC's appendix A.1 and A.2 test vectors
 * (tests/vectors/hpke-rfc9180.txt).
 *
 * Single-shot use only: one setup, one message (sequence 0). What veracam
 * seals this way is small (an event's content key, docs/PROTOCOL.md §15),
 * so the sender never keeps a context.
 */
#ifndef VERACAM_HPKE_H
#define VERACAM_HPKE_H

#include <stddef.h>
#include <stdint.h>

#include <veracam/common.h>
#include <veracam/enckey.h>

#define VC_HPKE_ENC_LEN		32	/* enc: the sender's ephemeral X25519 public key */
#define VC_HPKE_TAG_LEN		16

/* RFC 9180 §7.3 AEAD ids */
enum vc_hpke_aead {
	VC_HPKE_AES128GCM = 0x0001,
	VC_HPKE_CHACHA20POLY1305 = 0x0003,
};

/*
 * Seal pt for the holder of pk_r: a fresh ephemeral key (enc) and
 * ct = pt encrypted and authenticated with aad (pt_len + VC_HPKE_TAG_LEN
 * bytes, replacing the contents of ct). info binds the setup to its use.
 * 0 or -1.
 */
int vc_hpke_seal(enum vc_hpke_aead aead, const uint8_t pk_r[VC_ENC_PUBKEY_LEN],
		 const uint8_t *info, size_t info_len, const uint8_t *aad, size_t aad_len,
		 const uint8_t *pt, size_t pt_len, uint8_t enc[VC_HPKE_ENC_LEN],
		 struct vc_buf *ct);

/*
 * Open what vc_hpke_seal made for sk_r with the same info and aad: the
 * plaintext replaces the contents of pt. -1 (nothing in pt) for a wrong
 * key, info, aad, enc or a changed ciphertext.
 */
int vc_hpke_open(enum vc_hpke_aead aead, const struct vc_enc_key *sk_r,
		 const uint8_t enc[VC_HPKE_ENC_LEN], const uint8_t *info, size_t info_len,
		 const uint8_t *aad, size_t aad_len, const uint8_t *ct, size_t ct_len,
		 struct vc_buf *pt);

#endif /* VERACAM_HPKE_H */
