/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - the control session: TLS 1.3, both sides
 * authenticated by the Ed25519 keys pinned at pairing (self-signed
 * certificates whose key must equal a pinned key; no CA is consulted),
 * then one veracam hello each way giving the session id and the media
 * cipher, one media key per direction and one transport MAC key per
 * direction from the TLS exporter; then small framed control messages
 * (docs/PROTOCOL.md §5), among them the event fetch of a hub without an
 * event store (§5.7, evfetch.h): one request at a time, answers checked
 * against their request here.
 *
 * The hub is the TLS client and the camera the TLS server. Everything is
 * non-blocking and driven by the caller's loop: vc_session_advance() on
 * every readiness event until it says VC_IO_DONE, under an absolute
 * deadline the caller owns (VC_HANDSHAKE_TIMEOUT_NS from accept/connect;
 * a peer that trickles bytes cannot stretch it). vc_session_run() is the
 * same with poll() for a thread that may block.
 *
 * Freshness: the hub's hello is challenge 0; the hub then sends numbered
 * challenges (vc_session_send_challenge(), about every
 * VC_CHALLENGE_INTERVAL_NS) and the camera binds the newest one it has
 * received into each frame record. The camera's liveness rule is the
 * same messages: a hub whose challenges stop for VC_CHALLENGE_TIMEOUT_NS
 * is gone, whatever else still arrives.
 */
#ifndef VERACAM_SESSION_H
#define VERACAM_SESSION_H

#include <stdbool.h>
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
#define VC_TRANSPORT_KEY_LEN	32

/* Whole handshake (TCP accept/connect to the end of the hellos), absolute. */
#define VC_HANDSHAKE_TIMEOUT_NS		5000000000LL
/* The hub's challenge period, and the camera's liveness limit. */
#define VC_CHALLENGE_INTERVAL_NS	100000000LL
#define VC_CHALLENGE_TIMEOUT_NS		4000000000LL

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
	/* the media transport's packet/hello MAC keys (docs/TRANSPORT.md) */
	uint8_t transport_camera_to_hub[VC_TRANSPORT_KEY_LEN];
	uint8_t transport_hub_to_camera[VC_TRANSPORT_KEY_LEN];
	/*
	 * Challenge 0: on the hub the CLOCK_BOOTTIME ns just before its hello
	 * was queued (the hub's freshness clock: it keeps counting through a
	 * suspend); on the camera the CLOCK_MONOTONIC ns just after the hub's
	 * hello was read (the clock of V4L2 capture timestamps).
	 */
	int64_t hello_ns;
	struct vc_peer peer;		/* the pinned peer that proved its key */
};

struct vc_session_config {
	enum vc_role role;			/* this device's role */
	const struct vc_device_key *key;
	const struct vc_peer *peers;		/* pinned peers of the other role (copied) */
	size_t n_peers;
	unsigned int ciphers;			/* VC_CIPHER_MASK()s allowed; 0 = both */
	enum vc_cipher prefer;			/* camera's choice; 0 = AES-128-GCM */
};

/* Why a session could not be set up, or why it ended. */
enum vc_session_cause {
	VC_SESSION_OK = 0,
	VC_SESSION_NOT_PAIRED,	/* the peer proved a key we do not pin */
	VC_SESSION_TIMEOUT,	/* the caller's deadline passed (vc_session_run) */
	VC_SESSION_CLOSED,	/* the peer closed the connection */
	VC_SESSION_PROTOCOL,	/* a hello or control message broke the protocol */
	VC_SESSION_TLS,		/* TLS or socket failure */
	VC_SESSION_PENDING,	/* the peer proved a key pinned but not confirmed yet */
};

/* Result of one step of non-blocking work. */
enum vc_io {
	VC_IO_DONE = 0,		/* finished (handshake established / output flushed) */
	VC_IO_READ,		/* call again when the fd is readable */
	VC_IO_WRITE,		/* call again when the fd is writable */
	VC_IO_FAIL,		/* vc_session_cause() and vc_last_error() say why */
};

/* Control messages after the hellos: type (1) | length (1) | body. */
enum vc_ctl_type {
	VC_CTL_OFFER = 1,	/* camera -> hub: the media offer (docs/TRANSPORT.md) */
	VC_CTL_CHALLENGE = 2,	/* hub -> camera: BE64 challenge number, rising */
	VC_CTL_REFUSED = 3,	/* camera -> hub, instead of an offer: one byte, why */
	VC_CTL_ENC_KEY = 4,	/* hub -> camera, at most once: its encryption key */
	/* fetching recorded events (evfetch.h, docs/PROTOCOL.md §5.7) */
	VC_CTL_EVENTS_LIST = 5,	/* hub -> camera: list complete events from a number on */
	VC_CTL_EVENT_GET = 6,	/* hub -> camera: one chunk of one object */
	VC_CTL_EVENT_ERROR = 7,	/* camera -> hub: the answer when there is nothing to give */
	/* long messages (type >= 0x80): type (1) | length (2, big-endian) | body */
	VC_CTL_EVENTS = 0x81,	/* camera -> hub: the listing */
	VC_CTL_EVENT_CHUNK = 0x82,	/* camera -> hub: the chunk */
};
#define VC_CTL_LONG		0x80

/*
 * The body of VC_CTL_ENC_KEY: the hub's X25519 encryption public key (32)
 * and its device key's binding signature of it (64, enckey.h,
 * docs/PROTOCOL.md §3.1). The camera's vc_session_recv() returns it only
 * after the binding verified under the session's pinned hub key; a bad
 * one, one of another length or a second one ends the session (protocol).
 */
#define VC_CTL_ENC_KEY_LEN	96

/* The body of VC_CTL_REFUSED: the camera closes the session after it. */
enum vc_refused {
	VC_REFUSED_BUSY = 1,	/* max-hubs other hubs' sessions are running */
};
#define VC_CTL_BODY_MAX	255
/* a long message's body: at most a chunk's header and 16 KiB (evfetch.h) */
#define VC_CTL_LONG_MAX	(36 + 16384)

struct vc_ctl {
	enum vc_ctl_type type;
	size_t len;
	uint8_t body[VC_CTL_LONG_MAX];
};

struct vc_session;

const char *vc_cipher_name(enum vc_cipher c);
const char *vc_session_cause_name(enum vc_session_cause c);

/*
 * A session on a connected stream socket fd (made non-blocking here; not
 * closed by the library). NULL + vc_last_error() only when out of memory.
 */
struct vc_session *vc_session_new(const struct vc_session_config *cfg, int fd);
/* Handshake and hellos: VC_IO_DONE once the session is established. */
enum vc_io vc_session_advance(struct vc_session *s);
/*
 * vc_session_advance() with poll() until done, failed or @deadline_ns
 * (CLOCK_MONOTONIC). 0 or -1.
 */
int vc_session_run(struct vc_session *s, int64_t deadline_ns);
enum vc_session_cause vc_session_cause(const struct vc_session *s);
/*
 * Our first flight is made: this side's TLS Finished is written (for the
 * camera: ServerHello ... Finished, the key exchange and the signature),
 * or the handshake is done. Not after a partial ClientHello or a
 * HelloRetryRequest.
 */
bool vc_session_past_first_flight(const struct vc_session *s);
/* Valid once established. */
const struct vc_session_params *vc_session_params(const struct vc_session *s);

/*
 * Queue one control message and write what the socket takes. 0 (sent or
 * queued), -1 when the session failed, or 1 when the queue has no room
 * (a peer that does not read: nothing was queued).
 *
 * Event fetch (PROTOCOL.md §5.7): a hub sends VC_CTL_EVENTS_LIST or
 * VC_CTL_EVENT_GET only when vc_session_event_idle() (one request at a
 * time; -1 otherwise); a camera answers each request it was given with
 * exactly one VC_CTL_EVENTS, VC_CTL_EVENT_CHUNK or VC_CTL_EVENT_ERROR (-1
 * with nothing to answer). The session checks the answers a hub reads
 * against its request (vc_evx_listing_parse, vc_evx_chunk_answers) and
 * ends a camera's session for a second request before the answer to the
 * last one left (cause protocol).
 */
int vc_session_send(struct vc_session *s, enum vc_ctl_type type, const void *body,
		    size_t len);
int vc_session_send_challenge(struct vc_session *s, uint64_t number);
/* Write queued output: VC_IO_DONE, VC_IO_WRITE (more to write) or VC_IO_FAIL. */
enum vc_io vc_session_flush(struct vc_session *s);
/*
 * Read what has arrived. Challenges are taken here (camera side: the
 * newest, and the CLOCK_MONOTONIC time just after it was read); other
 * messages are returned one at a time (camera side: VC_CTL_ENC_KEY, its
 * binding already verified under the hub's pinned key). 1 = *m is a message, 0 = nothing
 * more now, -1 = the session ended (closed by the peer or broken;
 * vc_session_cause()).
 */
int vc_session_recv(struct vc_session *s, struct vc_ctl *m);
/*
 * Camera side: the newest challenge number received (0 = the hub's
 * hello) and the CLOCK_MONOTONIC ns it was read at.
 */
void vc_session_challenge(const struct vc_session *s, uint64_t *number, int64_t *read_ns);
/* Hub side: no event request waits for its answer. */
bool vc_session_event_idle(const struct vc_session *s);

/* Sends close_notify (best effort) and frees; wipes the keys. */
void vc_session_free(struct vc_session *s);

/* Session id from the two hello nonces (exposed for test vectors). */
int vc_session_id_derive(const uint8_t hub_nonce[32], const uint8_t camera_nonce[32],
			 uint8_t id[VC_SESSION_ID_LEN]);

#endif /* VERACAM_SESSION_H */
