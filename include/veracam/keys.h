/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - device identity: one Ed25519 key per device.
 *
 * A key directory DIR holds DIR/device.key (PKCS#8 PEM, mode 0600) and,
 * once pairing starts, DIR/peers/ and DIR/pair-code (see pairing.h).
 * A loaded key is held in two forms made from the same 32-byte seed: an
 * EVP_PKEY for TLS, and libsodium's, which signs and verifies frame
 * records (vc_ed25519_sign/verify: the same signature bytes, in about
 * 0.5 / 0.6 of OpenSSL 3.0's time). The seed is wiped from memory when
 * the key is freed.
 */
#ifndef VERACAM_KEYS_H
#define VERACAM_KEYS_H

#include <stdbool.h>

#include <veracam/common.h>

#define VC_KEY_FILE		"device.key"

/* "veracam1:ed25519:" followed by 64 hex digits of the raw public key */
#define VC_IDENTITY_PREFIX	"veracam1:ed25519:"
#define VC_IDENTITY_LEN		(sizeof(VC_IDENTITY_PREFIX) - 1 + 2 * VC_PUBKEY_LEN)

struct vc_device_key;

/* Create DIR (0700) if needed and a new key in it; refuses to overwrite. */
int vc_keygen(const char *dir);

/*
 * Load DIR/device.key. Refused when it is not a regular file, is a
 * symlink, is readable or writable by group or others, or is owned by
 * another user (root excepted).
 */
struct vc_device_key *vc_key_load(const char *dir);

/* A key from a fixed 32-byte Ed25519 seed (test vectors, benchmarks). */
struct vc_device_key *vc_key_from_seed(const uint8_t seed[32]);

void vc_key_free(struct vc_device_key *k);

const uint8_t *vc_key_public(const struct vc_device_key *k);	/* VC_PUBKEY_LEN */
const uint8_t *vc_key_id(const struct vc_device_key *k);	/* VC_KEY_ID_LEN */

/* key id = first VC_KEY_ID_LEN bytes of SHA-256(raw public key) */
int vc_key_id_of(const uint8_t pub[VC_PUBKEY_LEN], uint8_t id[VC_KEY_ID_LEN]);

/* Ed25519 (RFC 8032, pure) signature of msg under the key: 0 or -1. */
int vc_ed25519_sign(const struct vc_device_key *k, const uint8_t *msg, size_t len,
		    uint8_t sig[VC_SIG_LEN]);
/*
 * True if sig is a valid signature of msg under pub. Beyond RFC 8032's
 * checks it refuses a public key or R of small order and a non-canonical
 * public key, which no honestly made key or signature has.
 */
bool vc_ed25519_verify(const uint8_t pub[VC_PUBKEY_LEN], const uint8_t *msg, size_t len,
		       const uint8_t sig[VC_SIG_LEN]);

/* Identity line: out holds VC_IDENTITY_LEN + 1 bytes. */
void vc_identity_format(const uint8_t pub[VC_PUBKEY_LEN], char *out);
/* Strict: the exact prefix and 64 hex digits, nothing else; 0 or -1. */
int vc_identity_parse(const char *line, uint8_t pub[VC_PUBKEY_LEN]);

#endif /* VERACAM_KEYS_H */
