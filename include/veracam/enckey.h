/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - a device's encryption key: one X25519 key pair,
 * separate from its Ed25519 signing key (keys.h). Hubs are sealed to with
 * it (HPKE, hpke.h): a camera wraps each event's content key for every
 * paired hub's encryption public key (docs/PROTOCOL.md §15).
 */
#ifndef VERACAM_ENCKEY_H
#define VERACAM_ENCKEY_H

#include <stdbool.h>
#include <stdint.h>

#include <veracam/common.h>
#include <veracam/keys.h>

#define VC_ENC_PUBKEY_LEN	32
#define VC_ENC_SECRET_LEN	32

/*
 * DIR/enc.key: PKCS#8 PEM, mode 0600, next to DIR/device.key and loaded
 * with the same checks. `veracamctl keygen DIR` makes both; a directory
 * made before encryption keys existed gets one from `veracamctl
 * enc-keygen DIR`. No daemon creates it: a missing enc.key is an error
 * naming that command.
 */
#define VC_ENC_KEY_FILE		"enc.key"

/* "veracam1:x25519:" and the 64 hex digits of the raw X25519 public key */
#define VC_ENC_IDENTITY_PREFIX	"veracam1:x25519:"
#define VC_ENC_IDENTITY_LEN	(sizeof(VC_ENC_IDENTITY_PREFIX) - 1 + 2 * VC_ENC_PUBKEY_LEN)

/* The binding signature's message prefix, with its NUL (docs/PROTOCOL.md §3.1). */
#define VC_ENC_BINDING_CONTEXT	"veracam1 enc key"

struct vc_enc_key;

/* A new random key pair. */
struct vc_enc_key *vc_enc_key_generate(void);
/* A key pair from a raw X25519 private key (test vectors). */
struct vc_enc_key *vc_enc_key_from_raw(const uint8_t sk[VC_ENC_SECRET_LEN]);
void vc_enc_key_free(struct vc_enc_key *k);
const uint8_t *vc_enc_key_public(const struct vc_enc_key *k);	/* VC_ENC_PUBKEY_LEN */

/* Create DIR (0700) if needed and DIR/enc.key in it; refuses to overwrite. */
int vc_enc_keygen(const char *dir);
/* Load DIR/enc.key (the checks of vc_key_load(); an X25519 key only). */
struct vc_enc_key *vc_enc_key_load(const char *dir);

/* Printable public key: out holds VC_ENC_IDENTITY_LEN + 1 bytes. */
void vc_enc_identity_format(const uint8_t pub[VC_ENC_PUBKEY_LEN], char *out);
/* Strict: the exact prefix and 64 hex digits; 0 or -1. */
int vc_enc_identity_parse(const char *line, uint8_t pub[VC_ENC_PUBKEY_LEN]);

/*
 * The device key vouches for an encryption key: Ed25519 over
 * "veracam1 enc key" 00 || device public key || encryption public key.
 * This is what a hub sends with its encryption key over the authenticated
 * session, and what the camera keeps with the hub's pin (issue 17); a
 * camera's key holder does not sign it (a camera is never sealed to).
 */
int vc_enc_binding_sign(const struct vc_device_key *k, const uint8_t enc_pub[VC_ENC_PUBKEY_LEN],
			uint8_t sig[VC_SIG_LEN]);
bool vc_enc_binding_verify(const uint8_t dev_pub[VC_PUBKEY_LEN],
			   const uint8_t enc_pub[VC_ENC_PUBKEY_LEN], const uint8_t sig[VC_SIG_LEN]);

/*
 * A camera keeps each hub's vouched-for encryption key with its pin, in
 * DIR/hub-enc/NAME (NAME: the hub's pin in DIR/peers), one line:
 * "veracam1:x25519:HEX SIGNATURE-HEX\n" (docs/PROTOCOL.md §15.1), mode 0600.
 * Written by `veracamctl enc-pin` (by hand) or by the camera daemon when
 * the hub sends it over the session (VC_CTL_ENC_KEY, session.h).
 */
#define VC_HUB_ENC_DIR		"hub-enc"
#define VC_HUB_ENC_LINE_LEN	(VC_ENC_IDENTITY_LEN + 1 + 2 * VC_SIG_LEN)

/* The file's line, with its newline and NUL: out holds VC_HUB_ENC_LINE_LEN + 2 bytes. */
void vc_hub_enc_format(const uint8_t enc_pub[VC_ENC_PUBKEY_LEN], const uint8_t sig[VC_SIG_LEN],
		       char *out);
/* Strict: the encryption key line, one space or tab, 128 hex digits; trailing space ignored. */
int vc_hub_enc_parse(const char *text, uint8_t enc_pub[VC_ENC_PUBKEY_LEN],
		     uint8_t sig[VC_SIG_LEN]);
/*
 * Keep hub NAME's encryption key in DIR/hub-enc/NAME, only if the binding
 * verifies under dev_pub (its pinned device key): written atomically
 * (temporary file, fsync, rename), not written when the file already holds
 * this very line. 1 written, 0 unchanged, -1 (vc_last_error()).
 */
int vc_hub_enc_store(const char *dir, const char *name, const uint8_t dev_pub[VC_PUBKEY_LEN],
		     const uint8_t enc_pub[VC_ENC_PUBKEY_LEN], const uint8_t sig[VC_SIG_LEN]);
/*
 * Hub NAME's kept encryption key, only if its binding verifies under
 * dev_pub. 0 or -1 (none, unreadable, malformed, or not vouched for).
 */
int vc_hub_enc_load(const char *dir, const char *name, const uint8_t dev_pub[VC_PUBKEY_LEN],
		    uint8_t enc_pub[VC_ENC_PUBKEY_LEN]);

#endif /* VERACAM_ENCKEY_H */
