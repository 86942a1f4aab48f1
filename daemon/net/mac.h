/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam media transport - the message authentication code every
 * transport message carries: HMAC-SHA256 truncated to its first 16
 * bytes, under one of the session's two transport keys (exported by the
 * core from the TLS session; one key per direction).
 *
 * A struct vcn_mac is one pre-keyed HMAC context: keyed once, then
 * re-initialised from the kept key state per message (cheaper than
 * duplicating a context per message; bench_net measures both). Not for
 * use from two threads at once.
 */
#ifndef VERACAM_NET_MAC_H
#define VERACAM_NET_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VCN_KEY_LEN	32
#define VCN_TAG_LEN	16

/* A session's transport keys (raw bytes, as the core exports them). */
struct vcn_keys {
	uint8_t camera_to_hub[VCN_KEY_LEN];	/* MACs media packets and path challenges */
	uint8_t hub_to_camera[VCN_KEY_LEN];	/* MACs hellos */
};

struct vcn_mac;

/* A context keyed with key (not kept by the caller's side); NULL on failure. */
struct vcn_mac *vcn_mac_new(const uint8_t key[VCN_KEY_LEN]);
/* Frees the context; OpenSSL wipes its key state. NULL is fine. */
void vcn_mac_free(struct vcn_mac *m);
/*
 * tag = first 16 bytes of HMAC-SHA256(key, msg). 0, or -1 if OpenSSL
 * failed (the tag is then all zeros, which no receiver accepts unless
 * the HMAC really is zero there: a lost message, never a forged one).
 */
int vcn_mac_tag(struct vcn_mac *m, const uint8_t *msg, size_t len, uint8_t tag[VCN_TAG_LEN]);
/* Whether tag is msg's tag under this key (constant-time compare). */
bool vcn_mac_check(struct vcn_mac *m, const uint8_t *msg, size_t len,
		   const uint8_t tag[VCN_TAG_LEN]);

#endif /* VERACAM_NET_MAC_H */
