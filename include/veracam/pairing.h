/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - pairing: the peers a device trusts, pinned by
 * public key, one record file per peer in DIR/peers/NAME, plus the
 * pairing code and the short authentication string people compare.
 */
#ifndef VERACAM_PAIRING_H
#define VERACAM_PAIRING_H

#include <stdbool.h>
#include <stdint.h>
#include <veracam/common.h>
#include <veracam/keys.h>

#define VC_NAME_MAX		64	/* [A-Za-z0-9_.-], not starting with '.' or '-' */
#define VC_PEER_RECORD_MAX	512	/* bytes; longer files are refused */
#define VC_PAIR_CODE_DIGITS	8
#define VC_PAIR_CODE_FILE	"pair-code"
#define VC_PAIR_PREFIX		"veracam-pair1:"
/* "veracam-pair1:" + 32 hex key id + ":" + 8 digits */
#define VC_PAIR_PAYLOAD_LEN	(sizeof(VC_PAIR_PREFIX) - 1 + 2 * VC_KEY_ID_LEN + 1 + VC_PAIR_CODE_DIGITS)
#define VC_SAS_LEN		7	/* "123 456" */

enum vc_role {
	VC_ROLE_CAMERA = 1,
	VC_ROLE_HUB = 2,
};

struct vc_peer {
	char name[VC_NAME_MAX + 1];
	enum vc_role role;
	uint8_t pub[VC_PUBKEY_LEN];
	uint8_t key_id[VC_KEY_ID_LEN];	/* derived from pub */
	int64_t created;		/* Unix seconds */
	/*
	 * Pinned but not confirmed: no session with this peer until
	 * vc_peer_confirm() (record version 2, "state pending").
	 */
	bool pending;
};

const char *vc_role_name(enum vc_role role);
int vc_role_parse(const char *s, enum vc_role *role);
bool vc_name_valid(const char *name);

/* Strict parser of one record file's bytes (see docs/PROTOCOL.md). */
int vc_peer_parse(const char *text, size_t len, struct vc_peer *out);
/* Canonical text; returns its length, or -1 if cap is too small. */
int vc_peer_format(const struct vc_peer *p, char *out, size_t cap);

/*
 * Pin a peer: write DIR/peers/NAME atomically (temp file, fsync, rename,
 * fsync directory). Re-trusting the same key and role is a no-op; a
 * different key or role under an existing name is refused (untrust first).
 */
int vc_peer_trust(const char *dir, const struct vc_peer *p);
/* Make a pending pin active (rewrites it atomically); 0 if it already is. */
int vc_peer_confirm(const char *dir, const char *name);
/* Remove DIR/peers/NAME (and fsync the directory); -1 if absent. */
int vc_peer_untrust(const char *dir, const char *name);
int vc_peer_load(const char *dir, const char *name, struct vc_peer *out);
/*
 * All peers, sorted by name; *out is malloc'd. Any malformed record fails
 * the whole call: a broken trust store is never half-used.
 */
int vc_peer_list(const char *dir, struct vc_peer **out, size_t *n);
/*
 * The usable peers, sorted by name; a file that is not a usable record
 * (not a peer name, not a regular file, another user's or writable by
 * others, malformed, a version this build does not know) is left out and
 * named to skip(). -1 only when the directory cannot be read.
 */
int vc_peer_list_skipping(const char *dir, struct vc_peer **out, size_t *n,
			  void (*skip)(void *ctx, const char *name, const char *why), void *ctx);

/*
 * A fresh random pairing code, saved to DIR/pair-code (0600, atomic) and
 * returned as the QR / text payload "veracam-pair1:<key id hex>:<digits>"
 * (out holds VC_PAIR_PAYLOAD_LEN + 1).
 */
int vc_pair_code_new(const char *dir, const struct vc_device_key *k, char *out);
/* Eight uniform random digits. */
int vc_pair_code_random(char code[VC_PAIR_CODE_DIGITS + 1]);
int vc_pair_code_load(const char *dir, char code[VC_PAIR_CODE_DIGITS + 1]);
/* Parse a payload; key_id may be NULL. */
int vc_pair_payload_parse(const char *payload, uint8_t key_id[VC_KEY_ID_LEN],
			  char code[VC_PAIR_CODE_DIGITS + 1]);

/*
 * Short authentication string both screens show: six decimal digits from
 * SHA-256("veracam1 sas" || camera pub || hub pub || code), "ddd ddd".
 */
int vc_sas(const uint8_t camera_pub[VC_PUBKEY_LEN],
	   const uint8_t hub_pub[VC_PUBKEY_LEN],
	   const char *code, char out[VC_SAS_LEN + 1]);

#endif /* VERACAM_PAIRING_H */
