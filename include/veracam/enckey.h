/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - a device's encryption key: one X25519 key pair,
 * separate from its Ed25519 signing key (keys.h). Hubs are sealed to with
 * it (HPKE, hpke.h): a camera wraps each event's content key for every
 * paired hub's encryption public key (docs/PROTOCOL.md §15).
 */
#ifndef VERACAM_ENCKEY_H
#define VERACAM_ENCKEY_H

#include <stdint.h>

#include <veracam/common.h>

#define VC_ENC_PUBKEY_LEN	32
#define VC_ENC_SECRET_LEN	32

struct vc_enc_key;

/* A new random key pair. */
struct vc_enc_key *vc_enc_key_generate(void);
/* A key pair from a raw X25519 private key (test vectors). */
struct vc_enc_key *vc_enc_key_from_raw(const uint8_t sk[VC_ENC_SECRET_LEN]);
void vc_enc_key_free(struct vc_enc_key *k);
const uint8_t *vc_enc_key_public(const struct vc_enc_key *k);	/* VC_ENC_PUBKEY_LEN */

#endif /* VERACAM_ENCKEY_H */
