/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - network pairing (docs/PROTOCOL.md, "Network
 * pairing"). The camera opens a pairing window with a fresh single-use
 * code and shows a QR payload carrying its key id, the code and its
 * address. The hub connects over TLS 1.3 with the camera's key pinned
 * from the key id, and inside that channel proves knowledge of the code
 * with a MAC keyed by a TLS exporter whose context is the code: the proof
 * is bound to this connection's handshake (both certificates, both key
 * shares) and worthless on any other. The hub's identity is the key its
 * TLS certificate proved; the camera pins it only when the proof checks.
 * Both sides then pin each other, active: the code was the confirmation.
 */
#ifndef VERACAM_PAIRNET_H
#define VERACAM_PAIRNET_H

#include <stdbool.h>
#include <stdint.h>
#include <veracam/common.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>

#define VC_PAIR2_PREFIX		"veracam-pair2:"
#define VC_PAIR_HOST_MAX	253
#define VC_PAIR2_PAYLOAD_MAX	(sizeof(VC_PAIR2_PREFIX) - 1 + 2 * VC_KEY_ID_LEN + 1 + \
				 VC_PAIR_CODE_DIGITS + 1 + VC_PAIR_HOST_MAX + 2 + 6)
#define VC_PAIR_PORT_DEFAULT	"7001"
#define VC_PAIR_TTL_DEFAULT	300	/* seconds a pairing window stays open */
#define VC_PAIR_IO_TIMEOUT_S	10	/* camera: one pairing connection, whole */
#define VC_PAIR_HUB_TIMEOUT_S	30	/* hub: its attempt, whole (it may queue) */

/* What a QR payload names: "veracam-pair2:<key id hex>:<code>:<host>:<port>". */
struct vc_pair_target {
	uint8_t key_id[VC_KEY_ID_LEN];
	char code[VC_PAIR_CODE_DIGITS + 1];
	char host[VC_PAIR_HOST_MAX + 1];	/* IPv6 without its brackets */
	char port[6];
};

int vc_pair_target_parse(const char *payload, struct vc_pair_target *t);
/* out holds VC_PAIR2_PAYLOAD_MAX + 1 bytes. */
int vc_pair_target_format(const struct vc_pair_target *t, char *out, size_t cap);

/* A camera's pairing window: one code, one attempt, until it expires. */
struct vc_pair_window {
	char code[VC_PAIR_CODE_DIGITS + 1];
	int64_t expires_ns;	/* CLOCK_MONOTONIC */
	bool used;		/* an attempt was made: right or wrong, the code is spent */
};

int vc_pair_window_open(struct vc_pair_window *w, int ttl_s);
void vc_pair_window_close(struct vc_pair_window *w);

/* The messages inside the TLS channel (parsed and formatted here). */
enum vc_pair_msg_type {
	VC_PAIR_MSG_REQUEST = 1,	/* hub -> camera */
	VC_PAIR_MSG_ANSWER = 2,		/* camera -> hub */
};

enum vc_pair_status {
	VC_PAIR_OK = 0,
	VC_PAIR_BAD_PROOF = 1,		/* wrong code, or a proof made for another channel */
	VC_PAIR_SPENT = 2,		/* the window's code was used or has expired */
	VC_PAIR_IDENTITY = 3,		/* the claimed hub key is not the one TLS proved */
	VC_PAIR_STORE = 4,		/* the camera could not pin (name taken by another key) */
};

#define VC_PAIR_MAC_LEN		32
#define VC_PAIR_MSG_MAX		(7 + VC_NAME_MAX + VC_PUBKEY_LEN + VC_PAIR_MAC_LEN)

struct vc_pair_msg {
	enum vc_pair_msg_type type;
	enum vc_pair_status status;	/* answers only; 0 in requests */
	char name[VC_NAME_MAX + 1];	/* the sender's suggested name for itself */
	uint8_t pub[VC_PUBKEY_LEN];	/* the sender's key */
	uint8_t mac[VC_PAIR_MAC_LEN];
};

/* Strict: returns the bytes used (the whole message) or -1. */
int vc_pair_msg_parse(const uint8_t *buf, size_t len, struct vc_pair_msg *m);
/* Returns the length written (at most VC_PAIR_MSG_MAX). */
size_t vc_pair_msg_format(const struct vc_pair_msg *m, uint8_t out[VC_PAIR_MSG_MAX]);

const char *vc_pair_status_text(enum vc_pair_status s);

/*
 * Camera side: one pairing attempt on a connected socket fd (not closed
 * here). The hub is pinned (active) in DIR/peers under hub_name (NULL:
 * the name the hub suggests) when its proof checks. Any attempt spends
 * the window; calls may run side by side on one window (one thread per
 * connection) and exactly one gets the attempt. 0 and *hub (the pinned
 * record); -1 and vc_last_error() when this connection failed without
 * spending the window (TLS, a stranger hanging up, another had the
 * attempt); -2 and vc_last_error() when its attempt failed and spent it.
 */
int vc_pair_serve(const char *dir, const struct vc_device_key *k, const char *camera_name,
		  const char *hub_name, struct vc_pair_window *w, int fd, struct vc_peer *hub);

/* For tests of the camera's checks only: what a misbehaving hub does. */
struct vc_pair_faults {
	const uint8_t *claim_pub;	/* put this key in the request, not the TLS one */
	bool other_channel;		/* MAC under a key not of this connection */
	bool sas_reopen;		/* SAS mode: open the commitment with another nonce */
};

/*
 * Hub side: pair with the camera t names over a connected socket fd;
 * the camera is pinned (active) as camera_name in DIR/peers. hub_name
 * is the name the hub suggests for itself. 0 or -1.
 */
int vc_pair_join(const char *dir, const struct vc_device_key *k, const char *camera_name,
		 const char *hub_name, const struct vc_pair_target *t, int fd,
		 const struct vc_pair_faults *faults, struct vc_peer *camera);

/*
 * SAS mode, for two devices that both have a screen and no QR code between
 * them: the same TLS channel, neither key known beforehand; inside it
 *   hub -> camera: "VCS1" 01 C = SHA-256("veracam sas commit" || hub-pub || Nh)
 *   camera -> hub: "VCS1" 02 Nc
 *   hub -> camera: "VCS1" 03 Nh          (the camera checks it opens C)
 *   camera -> hub: "VCS1" 04 00..        (pinned)
 *   SAS = 6 digits of SHA-256("veracam sas 2" || TLS-Exporter("EXPORTER-veracam
 *         sas", "", 32) || camera-pub || hub-pub || Nh || Nc)
 * The hub is bound to Nh before it sees Nc, the camera picks Nc before it
 * sees Nh: a man in the middle cannot steer either side's SAS, one try in
 * 10^6 per attempt. Both pins are written pending; each person confirms.
 */
#define VC_SAS_NONCE_LEN	32
#define VC_SAS_MSG_LEN		(5 + VC_SAS_NONCE_LEN)

enum vc_sas_msg_type {
	VC_SAS_COMMIT = 1,
	VC_SAS_CAMERA_NONCE = 2,
	VC_SAS_OPEN = 3,
	VC_SAS_DONE = 4,	/* camera -> hub: pinned (body zero) */
};

/* Strict: exactly VC_SAS_MSG_LEN bytes of the type wanted; 0 or -1. */
int vc_sas_msg_parse(const uint8_t *buf, size_t len, enum vc_sas_msg_type want,
		     uint8_t body[VC_SAS_NONCE_LEN]);
void vc_sas_msg_format(enum vc_sas_msg_type type, const uint8_t body[VC_SAS_NONCE_LEN],
		       uint8_t out[VC_SAS_MSG_LEN]);
int vc_sas_commit(const uint8_t hub_pub[VC_PUBKEY_LEN], const uint8_t nh[VC_SAS_NONCE_LEN],
		  uint8_t c[VC_SAS_NONCE_LEN]);

/*
 * Camera / hub in SAS mode on a connected fd: the peer is pinned pending
 * under name (the hub's: NULL = the name it suggests) and *sas is what
 * this screen shows. 0 or -1. The camera's window is spent by the first
 * connection to reach its pin (calls may run side by side on one window);
 * -2 when that pin then failed.
 */
int vc_pair_serve_sas(const char *dir, const struct vc_device_key *k, const char *camera_name,
		      const char *hub_name, struct vc_pair_window *w, int fd, struct vc_peer *hub,
		      char sas[VC_SAS_LEN + 1]);
int vc_pair_join_sas(const char *dir, const struct vc_device_key *k, const char *camera_name,
		     const char *hub_name, int fd, const struct vc_pair_faults *faults,
		     struct vc_peer *camera, char sas[VC_SAS_LEN + 1]);

#endif /* VERACAM_PAIRNET_H */
