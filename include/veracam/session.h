/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - the control session: TLS 1.3, both sides
 * authenticated by the Ed25519 keys pinned at pairing (self-signed
 * certificates whose key must equal a pinned key; no CA is consulted),
 * then one veracam hello each way giving the session id, the media
 * cipher, the send time of the hub's hello (challenge 0 of the verifier)
 * and one media key per direction from the TLS exporter.
 *
 * The hub is the TLS client and the camera the TLS server. The handshake
 * is blocking on a connected stream socket; set SO_RCVTIMEO/SO_SNDTIMEO
 * on it to bound the time a silent peer can hold it.
 */
#ifndef VERACAM_SESSION_H
#define VERACAM_SESSION_H

#include <openssl/types.h>
#include <veracam/common.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>

enum vc_cipher {
	VC_CIPHER_AES128GCM = 1,
	VC_CIPHER_CHACHA20POLY1305 = 2,
};
#define VC_CIPHER_MASK(c)	(1u << (c))

#define VC_MEDIA_KEY_MAX	32
#define VC_MEDIA_IV_LEN		12

struct vc_media_key {
	enum vc_cipher cipher;
	uint8_t key[VC_MEDIA_KEY_MAX];	/* 16 bytes used for AES-128-GCM */
	uint8_t iv[VC_MEDIA_IV_LEN];
};

/* What a finished handshake established. */
struct vc_session_params {
	uint8_t session_id[VC_SESSION_ID_LEN];
	enum vc_cipher cipher;
	struct vc_media_key camera_to_hub;
	struct vc_media_key hub_to_camera;
	int64_t hello_ns;		/* hub side: CLOCK_MONOTONIC just before the hub's
					 * hello (challenge 0) was written; 0 on camera */
	struct vc_peer peer;		/* the pinned peer that proved its key */
};

struct vc_session_config {
	enum vc_role role;			/* this device's role */
	const struct vc_device_key *key;
	const struct vc_peer *peers;		/* pinned peers of the other role */
	size_t n_peers;
	unsigned int ciphers;			/* VC_CIPHER_MASK()s allowed; 0 = both */
	enum vc_cipher prefer;			/* camera's choice; 0 = AES-128-GCM */
};

struct vc_session;

const char *vc_cipher_name(enum vc_cipher c);
int vc_cipher_parse(const char *s, enum vc_cipher *c);

/* Handshake on fd (not closed by the library). NULL + vc_last_error(). */
struct vc_session *vc_session_handshake(const struct vc_session_config *cfg, int fd);
const struct vc_session_params *vc_session_params(const struct vc_session *s);
/* The TLS connection, for the daemon's own control messages. */
SSL *vc_session_ssl(struct vc_session *s);
/* Sends close_notify (best effort) and frees; wipes the media keys. */
void vc_session_free(struct vc_session *s);

/* Session id from the two hello nonces (exposed for test vectors). */
int vc_session_id_derive(const uint8_t hub_nonce[32], const uint8_t camera_nonce[32],
			 uint8_t id[VC_SESSION_ID_LEN]);

#endif /* VERACAM_SESSION_H */
