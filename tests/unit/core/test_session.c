// SPDX-License-Identifier: GPL-2.0
/*
 * The TLS 1.3 control session between two in-process endpoints over a
 * socketpair: pinned keys accept, anything else is refused, exporter keys
 * agree on both sides and differ between sessions.
 */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <veracam/enckey.h>
#include <veracam/evfetch.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>
#include <veracam/seal.h>
#include <veracam/session.h>
#include <veracam/verify.h>

#include "fixture.h"
#include "internal.h"

#define CAM_TAG	1
#define HUB_TAG	2
#define EVIL_TAG 3

struct side {
	struct vc_session_config cfg;
	struct vc_device_key *key;
	struct vc_peer peers[2];
	int fd;
	struct vc_session *s;
	enum vc_session_cause cause;
	char err[256];
};

static void side_init(struct side *sd, enum vc_role role, uint8_t key_tag,
		      uint8_t peer_tag, enum vc_role peer_role)
{
	memset(sd, 0, sizeof(*sd));
	sd->fd = -1;
	sd->key = fx_key(key_tag);
	sd->peers[0] = fx_peer(role == VC_ROLE_HUB ? "front-door" : "living-room", peer_tag,
			       peer_role);
	sd->cfg.role = role;
	sd->cfg.key = sd->key;
	sd->cfg.peers = sd->peers;
	sd->cfg.n_peers = 1;
}

static void side_fini(struct side *sd)
{
	vc_session_free(sd->s);
	vc_key_free(sd->key);
	sd->s = NULL;
	if (sd->fd >= 0)
		close(sd->fd);
	sd->fd = -1;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* One side's whole setup on fd, bounded by the protocol's deadline. */
static void handshake(struct side *sd)
{
	sd->s = vc_session_new(&sd->cfg, sd->fd);
	if (sd->s && vc_session_run(sd->s, now_ns() + VC_HANDSHAKE_TIMEOUT_NS) == 0)
		return;
	snprintf(sd->err, sizeof(sd->err), "%s", vc_last_error());
	sd->cause = sd->s ? vc_session_cause(sd->s) : VC_SESSION_TLS;
	vc_session_free(sd->s);
	sd->s = NULL;
	/* unblock the other side when we gave up */
	shutdown(sd->fd, SHUT_RDWR);
}

static void *handshake_thread(void *arg)
{
	handshake(arg);
	return NULL;
}

/* Run both handshakes; returns 1 when both ended with a session. */
static int connect_pair(struct side *cam, struct side *hub)
{
	int sv[2];
	pthread_t t;

	if (cam->fd >= 0)
		close(cam->fd);
	if (hub->fd >= 0)
		close(hub->fd);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	cam->fd = sv[0];
	hub->fd = sv[1];
	pthread_create(&t, NULL, handshake_thread, cam);
	handshake(hub);
	pthread_join(t, NULL);
	return cam->s && hub->s;
}

static void pair_close(struct side *cam, struct side *hub)
{
	side_fini(cam);
	side_fini(hub);
}

static void pinned_keys_accept(void)
{
	struct side cam, hub;
	const struct vc_session_params *c, *h;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	fx_require(connect_pair(&cam, &hub));
	c = vc_session_params(cam.s);
	h = vc_session_params(hub.s);
	g_assert_cmpmem(c->session_id, VC_SESSION_ID_LEN, h->session_id, VC_SESSION_ID_LEN);
	g_assert_true(c->cipher == VC_CIPHER_AES128GCM && h->cipher == VC_CIPHER_AES128GCM);
	g_assert_cmpmem(&c->camera_to_hub, sizeof(c->camera_to_hub), &h->camera_to_hub,
			sizeof(c->camera_to_hub));
	g_assert_cmpmem(&c->hub_to_camera, sizeof(c->hub_to_camera), &h->hub_to_camera,
			sizeof(c->hub_to_camera));
	g_assert_true(memcmp(c->camera_to_hub.key, c->hub_to_camera.key, 16) != 0);
	g_assert_true(memcmp(c->camera_to_hub.iv, c->hub_to_camera.iv, VC_MEDIA_IV_LEN) != 0);
	g_assert_true(!strcmp(c->peer.name, "living-room") && c->peer.role == VC_ROLE_HUB);
	g_assert_true(!strcmp(h->peer.name, "front-door") && h->peer.role == VC_ROLE_CAMERA);
	/* transport keys: agreed, one per direction */
	g_assert_cmpmem(c->transport_camera_to_hub, 32, h->transport_camera_to_hub, 32);
	g_assert_cmpmem(c->transport_hub_to_camera, 32, h->transport_hub_to_camera, 32);
	g_assert_true(memcmp(c->transport_camera_to_hub, c->transport_hub_to_camera, 32) != 0);
	g_assert_true(memcmp(c->transport_camera_to_hub, c->camera_to_hub.key, 16) != 0);
	/* challenge 0: hub on CLOCK_BOOTTIME before sending, camera on MONOTONIC after reading */
	g_assert_true(h->hello_ns > 0 && h->hello_ns <= boot_ns());
	g_assert_true(c->hello_ns > 0 && c->hello_ns <= now_ns());
	pair_close(&cam, &hub);
}

static void keys_differ_across_sessions(void)
{
	struct side cam, hub;
	struct vc_session_params first;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	fx_require(connect_pair(&cam, &hub));
	first = *vc_session_params(hub.s);
	vc_session_free(cam.s);
	vc_session_free(hub.s);
	cam.s = hub.s = NULL;
	fx_require(connect_pair(&cam, &hub));
	g_assert_true(memcmp(first.session_id, vc_session_params(hub.s)->session_id,
			     VC_SESSION_ID_LEN));
	g_assert_true(memcmp(first.camera_to_hub.key, vc_session_params(hub.s)->camera_to_hub.key,
			     16));
	g_assert_true(memcmp(first.camera_to_hub.iv, vc_session_params(cam.s)->camera_to_hub.iv,
			     12));
	g_assert_true(memcmp(first.hub_to_camera.key, vc_session_params(cam.s)->hub_to_camera.key,
			     16));
	side_fini(&cam);
	side_fini(&hub);
}

static void unpinned_hub_is_refused(void)
{
	struct side cam, hub;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, EVIL_TAG, CAM_TAG, VC_ROLE_CAMERA);	/* other hub key */
	g_assert_false(connect_pair(&cam, &hub));
	g_assert_true(cam.s == NULL && hub.s == NULL);
	g_assert_nonnull(strstr(cam.err, "not paired as a hub"));
	g_assert_cmpint(cam.cause, ==, VC_SESSION_NOT_PAIRED);
	g_test_message("camera: %s\nhub: %s", cam.err, hub.err);
	side_fini(&cam);
	side_fini(&hub);
}

/*
 * A pending pin (made, not confirmed) of the right key: no session, cause
 * pending; the same key also pinned active under another name is enough.
 */
static void pending_peer_is_refused(void)
{
	struct side cam, hub;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	cam.peers[0].pending = true;
	g_assert_false(connect_pair(&cam, &hub));
	g_assert_true(cam.s == NULL && hub.s == NULL);
	g_assert_cmpint(cam.cause, ==, VC_SESSION_PENDING);
	g_assert_nonnull(strstr(cam.err, "not confirmed"));
	g_test_message("camera: %s", cam.err);
	side_fini(&cam);
	side_fini(&hub);
	/* ... and the hub's side: a pending camera pin */
	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	hub.peers[0].pending = true;
	g_assert_false(connect_pair(&cam, &hub));
	g_assert_cmpint(hub.cause, ==, VC_SESSION_PENDING);
	side_fini(&cam);
	side_fini(&hub);
	/* pending as one name, active as another: the active pin counts */
	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	cam.peers[1] = cam.peers[0];
	cam.peers[0].pending = true;
	cam.cfg.n_peers = 2;
	g_assert_true(connect_pair(&cam, &hub));
	pair_close(&cam, &hub);
}

static void wrong_camera_is_refused(void)
{
	struct side cam, hub;

	side_init(&cam, VC_ROLE_CAMERA, EVIL_TAG, HUB_TAG, VC_ROLE_HUB);	/* impostor camera */
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	g_assert_false(connect_pair(&cam, &hub));
	g_assert_true(cam.s == NULL && hub.s == NULL);
	g_assert_nonnull(strstr(hub.err, "not paired as a camera"));
	g_assert_cmpint(hub.cause, ==, VC_SESSION_NOT_PAIRED);
	side_fini(&cam);
	side_fini(&hub);
}

/* A key pinned for one role does not authenticate the other role. */
static void role_confusion_is_refused(void)
{
	struct side cam, hub;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_CAMERA);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	g_assert_false(connect_pair(&cam, &hub));
	side_fini(&cam);
	side_fini(&hub);
}

/* After untrust, the peer list no longer holds the key: the next session fails. */
static void unpaired_peer_is_refused(void)
{
	struct side cam, hub;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	cam.cfg.n_peers = 0;
	g_assert_false(connect_pair(&cam, &hub));
	side_fini(&cam);
	side_fini(&hub);
}

static void cipher_negotiation(void)
{
	struct side cam, hub;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	cam.cfg.prefer = VC_CIPHER_CHACHA20POLY1305;
	fx_require(connect_pair(&cam, &hub));
	g_assert_cmpint(vc_session_params(hub.s)->cipher, ==, VC_CIPHER_CHACHA20POLY1305);
	g_assert_cmpmem(vc_session_params(hub.s)->camera_to_hub.key, 32,
			vc_session_params(cam.s)->camera_to_hub.key, 32);
	vc_session_free(cam.s);
	vc_session_free(hub.s);
	cam.s = hub.s = NULL;
	hub.cfg.ciphers = VC_CIPHER_MASK(VC_CIPHER_AES128GCM);
	fx_require(connect_pair(&cam, &hub));
	g_assert_cmpint(vc_session_params(cam.s)->cipher, ==, VC_CIPHER_AES128GCM);
	vc_session_free(cam.s);
	vc_session_free(hub.s);
	cam.s = hub.s = NULL;
	cam.cfg.ciphers = VC_CIPHER_MASK(VC_CIPHER_CHACHA20POLY1305);
	g_assert_false(connect_pair(&cam, &hub));
	g_assert_nonnull(strstr(cam.err, "no media cipher in common"));
	g_assert_cmpint(cam.cause, ==, VC_SESSION_PROTOCOL);
	side_fini(&cam);
	side_fini(&hub);
}

/* The session's outputs drive the media path: camera signs and seals, hub verifies. */
static void session_keys_carry_media(void)
{
	struct side cam, hub;
	const struct vc_session_params *c, *h;
	struct vc_verifier_config vcfg;
	struct vc_verifier *ver;
	struct vc_signer *signer;
	struct vc_sealer *sealer;
	struct vc_buf au = { 0 }, signed_au = { 0 }, unit = { 0 };
	struct vc_verified out;
	struct vc_frame_info info = { 0 };
	struct vc_record_session entry = { .challenge = 0, .delay_ns = 0 };
	struct timespec ts;
	int i;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	fx_require(connect_pair(&cam, &hub));
	c = vc_session_params(cam.s);
	h = vc_session_params(hub.s);
	vc_verifier_config_from_session(&vcfg, h);
	ver = vc_verifier_new(&vcfg);
	signer = vc_signer_new(cam.key);
	sealer = vc_sealer_new(&c->camera_to_hub, c->session_id);
	fx_require(ver && signer && sealer);
	fx_require(vc_signer_set_source(signer, "id:00112233445566778899aabbccddeeff") == 0);
	for (i = 0; i < 5; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		info.capture_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		fx_au(&au, i == 0, 4000, (uint32_t)i);
		memcpy(entry.id, c->session_id, VC_SESSION_ID_LEN);
		fx_require(vc_signer_sign(signer, &info, &entry, 1, au.data, au.len,
					  &signed_au) == 0);
		fx_require(vc_seal(sealer, signed_au.data, signed_au.len, &unit) == 0);
		fx_assert_reject(vc_verifier_accept(ver, unit.data, unit.len, boot_ns(), &out),
				 VC_OK);
	}
	/* the hub-to-camera key does not open camera-to-hub units */
	{
		struct vc_opener *wrong = vc_opener_new(&c->hub_to_camera, c->session_id);
		struct vc_buf plain = { 0 };
		uint64_t seq;

		fx_require(wrong);
		fx_assert_reject(vc_open(wrong, unit.data, unit.len, &plain, &seq), VC_REJ_DECRYPT);
		vc_opener_free(wrong);
		vc_buf_free(&plain);
	}
	vc_verifier_free(ver);
	vc_signer_free(signer);
	vc_sealer_free(sealer);
	vc_buf_free(&au);
	vc_buf_free(&signed_au);
	vc_buf_free(&unit);
	side_fini(&cam);
	side_fini(&hub);
}

static void garbage_instead_of_tls_fails_cleanly(void)
{
	struct side cam;
	int sv[2];

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	fx_require(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	fx_require(write(sv[1], "GET / HTTP/1.0\r\n\r\n", 18) == 18);
	shutdown(sv[1], SHUT_WR);
	cam.s = vc_session_new(&cam.cfg, sv[0]);
	fx_require(cam.s);
	g_assert_cmpint(vc_session_run(cam.s, now_ns() + VC_HANDSHAKE_TIMEOUT_NS), <, 0);
	g_assert_true(vc_session_cause(cam.s) == VC_SESSION_TLS ||
		      vc_session_cause(cam.s) == VC_SESSION_CLOSED);
	close(sv[0]);
	close(sv[1]);
	side_fini(&cam);
}

/* Challenges flow hub -> camera, rising; the camera keeps the newest and when it came. */
static void challenges_reach_the_camera(void)
{
	struct side cam, hub;
	struct vc_ctl m;
	uint64_t n;
	int64_t at, t;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	fx_require(connect_pair(&cam, &hub));
	vc_session_challenge(cam.s, &n, &at);
	g_assert_true(n == 0 && at == vc_session_params(cam.s)->hello_ns);
	g_assert_cmpint(vc_session_send_challenge(hub.s, 1), ==, 0);
	g_assert_cmpint(vc_session_send_challenge(hub.s, 2), ==, 0);
	g_assert_cmpint(vc_session_send_challenge(hub.s, 7), ==, 0);	/* numbers may skip */
	t = now_ns();
	g_assert_cmpint(vc_session_recv(cam.s, &m), ==, 0);	/* taken, nothing returned */
	vc_session_challenge(cam.s, &n, &at);
	g_assert_true(n == 7 && at >= t && at <= now_ns());	/* read time: after the bytes came */
	/* a number that does not rise breaks the protocol: the session ends */
	g_assert_cmpint(vc_session_send_challenge(hub.s, 7), ==, 0);
	g_assert_cmpint(vc_session_recv(cam.s, &m), ==, -1);
	g_assert_cmpint(vc_session_cause(cam.s), ==, VC_SESSION_PROTOCOL);
	pair_close(&cam, &hub);
}

/* The offer travels camera -> hub; the hub reads it even when it came with the hello. */
static void offer_reaches_the_hub(void)
{
	struct side cam, hub;
	uint8_t offer[32];
	struct vc_ctl m;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	fx_require(connect_pair(&cam, &hub));
	for (int i = 0; i < 32; i++)
		offer[i] = (uint8_t)(0xa0 + i);
	g_assert_cmpint(vc_session_send(cam.s, VC_CTL_OFFER, offer, sizeof(offer)), ==, 0);
	g_assert_cmpint(vc_session_recv(hub.s, &m), ==, 1);
	g_assert_true(m.type == VC_CTL_OFFER && m.len == 32 && !memcmp(m.body, offer, 32));
	g_assert_cmpint(vc_session_recv(hub.s, &m), ==, 0);
	/* a hub may not send an offer, a camera may not send challenges */
	g_assert_cmpint(vc_session_send(hub.s, VC_CTL_OFFER, offer, sizeof(offer)), ==, 0);
	g_assert_cmpint(vc_session_recv(cam.s, &m), ==, -1);
	g_assert_cmpint(vc_session_cause(cam.s), ==, VC_SESSION_PROTOCOL);
	pair_close(&cam, &hub);
}

/* The hub's encryption key and binding (VC_CTL_ENC_KEY's body), signed by signer. */
static void enc_key_msg(const struct vc_device_key *signer, uint8_t msg[VC_CTL_ENC_KEY_LEN])
{
	struct vc_enc_key *e = vc_enc_key_generate();

	fx_require(e);
	memcpy(msg, vc_enc_key_public(e), VC_ENC_PUBKEY_LEN);
	fx_require(vc_enc_binding_sign(signer, vc_enc_key_public(e), msg + VC_ENC_PUBKEY_LEN) == 0);
	vc_enc_key_free(e);
}

/* End both sessions, keep the sides' keys and pins for the next connect_pair(). */
static void sessions_end(struct side *cam, struct side *hub)
{
	vc_session_free(cam->s);
	vc_session_free(hub->s);
	cam->s = NULL;
	hub->s = NULL;
}

/*
 * In a new session, @from sends an encryption key message of @len bytes
 * and @to ends the session for it (protocol), saying @why.
 */
static bool enc_key_refused(struct side *cam, struct side *hub, struct side *from,
			    const uint8_t *msg, size_t len, const char *why)
{
	struct side *to = from == hub ? cam : hub;
	struct vc_ctl m;

	sessions_end(cam, hub);
	return connect_pair(cam, hub) &&
	       vc_session_send(from->s, VC_CTL_ENC_KEY, msg, len) == 0 &&
	       vc_session_recv(to->s, &m) == -1 &&
	       vc_session_cause(to->s) == VC_SESSION_PROTOCOL &&
	       strstr(vc_last_error(), why) != NULL;
}

/*
 * The hub's encryption key (PROTOCOL.md §5.4, type 4): the camera takes it
 * once, only with a binding by the key that proved itself in this session.
 */
static void enc_key_reaches_the_camera(void)
{
	uint8_t msg[VC_CTL_ENC_KEY_LEN];
	struct vc_device_key *evil = fx_key(EVIL_TAG);
	struct side cam, hub;
	struct vc_ctl m;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	fx_require(connect_pair(&cam, &hub));
	enc_key_msg(hub.key, msg);
	g_assert_cmpint(vc_session_send(hub.s, VC_CTL_ENC_KEY, msg, sizeof(msg)), ==, 0);
	g_assert_cmpint(vc_session_send_challenge(hub.s, 1), ==, 0);
	g_assert_cmpint(vc_session_recv(cam.s, &m), ==, 1);
	g_assert_true(m.type == VC_CTL_ENC_KEY && m.len == VC_CTL_ENC_KEY_LEN &&
		      !memcmp(m.body, msg, 96));
	g_assert_cmpint(vc_session_recv(cam.s, &m), ==, 0);	/* the challenge after it is taken */
	/* a second one in the same session, even the same bytes, ends it */
	g_assert_cmpint(vc_session_send(hub.s, VC_CTL_ENC_KEY, msg, sizeof(msg)), ==, 0);
	g_assert_cmpint(vc_session_recv(cam.s, &m), ==, -1);
	g_assert_cmpint(vc_session_cause(cam.s), ==, VC_SESSION_PROTOCOL);
	g_assert_nonnull(strstr(vc_last_error(), "second encryption key"));

	/* another length */
	g_assert_true(enc_key_refused(&cam, &hub, &hub, msg, sizeof(msg) - 1,
				      "unexpected message type 4"));
	/* the hub's own binding with one bit of the key flipped */
	msg[5] ^= 0x10;
	g_assert_true(enc_key_refused(&cam, &hub, &hub, msg, sizeof(msg),
				      "not signed by its pinned"));
	/* signed by another key (one the camera may even know) */
	enc_key_msg(evil, msg);
	g_assert_true(enc_key_refused(&cam, &hub, &hub, msg, sizeof(msg),
				      "not signed by its pinned"));
	/* the wrong direction: a camera may not send one, a hub does not take it */
	enc_key_msg(cam.key, msg);
	g_assert_true(enc_key_refused(&cam, &hub, &cam, msg, sizeof(msg),
				      "unexpected message type 4"));
	pair_close(&cam, &hub);
	vc_key_free(evil);
}

/* A closed peer ends the session with the cause "closed". */
static void peer_close_is_seen(void)
{
	struct side cam, hub;
	struct vc_ctl m;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	fx_require(connect_pair(&cam, &hub));
	g_assert_cmpint(vc_session_recv(cam.s, &m), ==, 0);	/* idle: nothing, still up */
	vc_session_free(hub.s);		/* close_notify */
	hub.s = NULL;
	g_assert_cmpint(vc_session_recv(cam.s, &m), ==, -1);
	g_assert_cmpint(vc_session_cause(cam.s), ==, VC_SESSION_CLOSED);
	pair_close(&cam, &hub);
}

struct trickle {
	int fd;
	const uint8_t *bytes;
	size_t len;
	int gap_ms;
};

static void *trickle_main(void *arg)
{
	struct trickle *tr = arg;

	for (size_t i = 0; i < tr->len; i++) {
		if (write(tr->fd, tr->bytes + i, 1) != 1)
			break;
		poll(NULL, 0, tr->gap_ms);
	}
	return NULL;
}

/*
 * A stranger that sends a real ClientHello one byte every 20 ms (every
 * read succeeds; nothing ever times out per read) holds the camera's
 * handshake no longer than the caller's absolute deadline.
 */
/* A genuine ClientHello in @buf (*n bytes), as a hub's first flight on its socketpair hv. */
static void client_hello(struct side *hub, int hv[2], uint8_t *buf, size_t cap, ssize_t *n)
{
	*n = -1;
	fx_require(socketpair(AF_UNIX, SOCK_STREAM, 0, hv) == 0);
	hub->s = vc_session_new(&hub->cfg, hv[0]);
	fx_require(hub->s);
	g_assert_cmpint(vc_session_advance(hub->s), ==, VC_IO_READ);
	*n = read(hv[1], buf, cap);
}

/* Both socketpairs and both sides of a test made with client_hello(). */
static void close_both(int sv[2], int hv[2], struct side *cam, struct side *hub)
{
	close(sv[0]);
	close(sv[1]);
	close(hv[0]);
	close(hv[1]);
	side_fini(cam);
	side_fini(hub);
}

static void trickling_peer_meets_the_deadline(void)
{
	struct side cam, hub;
	uint8_t hello[4096];
	struct trickle tr;
	pthread_t t;
	int sv[2], hv[2];
	ssize_t n;
	int64_t t0, took;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	client_hello(&hub, hv, hello, sizeof(hello), &n);
	fx_require(n > 100);
	fx_require(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	tr = (struct trickle){ .fd = sv[1], .bytes = hello, .len = (size_t)n, .gap_ms = 20 };
	pthread_create(&t, NULL, trickle_main, &tr);
	cam.s = vc_session_new(&cam.cfg, sv[0]);
	fx_require(cam.s);
	t0 = now_ns();
	g_assert_cmpint(vc_session_run(cam.s, t0 + 300000000), ==, -1);
	took = now_ns() - t0;
	g_assert_cmpint(vc_session_cause(cam.s), ==, VC_SESSION_TIMEOUT);
	g_test_message("trickled %zd-byte ClientHello: refused after %.0f ms (deadline 300 ms)",
	       n, (double)took / 1e6);
	g_assert_true(took >= 300000000 && took < 300000000 + 2000000000LL);
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(t, NULL);
	close_both(sv, hv, &cam, &hub);
}

/*
 * The camera's first flight (ServerHello ... Finished: key exchange and
 * signature) is what the gate gives priority after: a partial ClientHello
 * does not make it, the whole one does, before the hub has answered.
 */
static void first_flight_is_seen(void)
{
	struct side cam, hub;
	uint8_t hello[4096], flight[8192];
	int sv[2], hv[2];
	ssize_t n;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	client_hello(&hub, hv, hello, sizeof(hello), &n);
	fx_require(n > 100);
	fx_require(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	cam.s = vc_session_new(&cam.cfg, sv[0]);
	fx_require(cam.s);
	fx_require(write(sv[1], hello, 5) == 5);
	g_assert_cmpint(vc_session_advance(cam.s), ==, VC_IO_READ);
	g_assert_false(vc_session_past_first_flight(cam.s));
	fx_require(write(sv[1], hello + 5, (size_t)n - 5) == n - 5);
	g_assert_cmpint(vc_session_advance(cam.s), ==, VC_IO_READ);
	g_assert_true(vc_session_past_first_flight(cam.s));
	g_assert_cmpint(read(sv[1], flight, sizeof(flight)), >, 200);	/* the flight itself */
	close_both(sv, hv, &cam, &hub);
}

/* ---- event fetch (PROTOCOL.md §5.7) ---- */

static const uint8_t ev_id[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };

static size_t listing_of(uint64_t number, uint8_t *b)
{
	struct vc_evx_entry e = { .number = number, .size = { 0, 600, 0, 200 } };

	memcpy(e.event_id, ev_id, 16);
	return vc_evx_listing_encode(&e, 1, false, b);
}

static size_t get_of(uint32_t offset, uint32_t max, uint8_t *b)
{
	struct vc_evx_get g = { .kind = VC_EVX_CLIP, .number = 0, .offset = offset, .max = max };

	memcpy(g.event_id, ev_id, 16);
	return vc_evx_get_encode(&g, b);
}

static size_t chunk_of(uint32_t offset, size_t len, uint8_t kind, uint8_t *b)
{
	static uint8_t data[VC_EVX_CHUNK_MAX];
	struct vc_evx_chunk c = { .kind = kind, .number = 0, .offset = offset, .total = 200 + 16384,
				  .data = data, .len = len };

	memcpy(c.event_id, ev_id, 16);
	return vc_evx_chunk_encode(&c, b);
}

/* A list, a listing; a get, its chunk (16 KiB): one request at a time each way. */
static void events_fetch_in_turn(void)
{
	uint8_t b[VC_EVX_CHUNK_MAX_LEN];
	struct side cam, hub;
	struct vc_ctl m;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	fx_require(connect_pair(&cam, &hub));
	g_assert_true(vc_session_event_idle(hub.s));
	g_assert_cmpint(vc_session_send(hub.s, VC_CTL_EVENTS_LIST, b, vc_evx_list_encode(0, b)), ==,
			0);
	g_assert_false(vc_session_event_idle(hub.s));
	/* the hub's own library refuses a second request before the answer */
	g_assert_cmpint(vc_session_send(hub.s, VC_CTL_EVENTS_LIST, b, vc_evx_list_encode(0, b)), ==,
			-1);
	/* the camera may not answer what nobody asked, nor a hub request */
	g_assert_cmpint(vc_session_send(cam.s, VC_CTL_EVENTS, b, listing_of(0, b)), ==, -1);
	g_assert_cmpint(vc_session_send(cam.s, VC_CTL_EVENTS_LIST, b, vc_evx_list_encode(0, b)), ==,
			-1);
	g_assert_true(vc_session_recv(cam.s, &m) == 1 && m.type == VC_CTL_EVENTS_LIST);
	g_assert_cmpint(vc_session_send(cam.s, VC_CTL_EVENTS, b, listing_of(0, b)), ==, 0);
	g_assert_true(vc_session_recv(hub.s, &m) == 1 && m.type == VC_CTL_EVENTS && m.len == 40);
	g_assert_true(vc_session_event_idle(hub.s));
	g_assert_cmpint(vc_session_send(hub.s, VC_CTL_EVENT_GET, b, get_of(200, 16384, b)), ==, 0);
	g_assert_true(vc_session_recv(cam.s, &m) == 1 && m.type == VC_CTL_EVENT_GET);
	g_assert_cmpint(vc_session_send(cam.s, VC_CTL_EVENT_CHUNK, b, chunk_of(200, 16384, 3, b)),
			==, 0);
	g_assert_true(vc_session_recv(hub.s, &m) == 1 && m.type == VC_CTL_EVENT_CHUNK &&
		      m.len == VC_EVX_CHUNK_MAX_LEN);
	/* and an error answers a request too */
	g_assert_cmpint(vc_session_send(hub.s, VC_CTL_EVENT_GET, b, get_of(0, 1, b)), ==, 0);
	g_assert_cmpint(vc_session_recv(cam.s, &m), ==, 1);
	g_assert_cmpint(vc_session_send(cam.s, VC_CTL_EVENT_ERROR, b,
					vc_evx_error_encode(VC_EVX_ERR_GONE, b)), ==, 0);
	g_assert_true(vc_session_recv(hub.s, &m) == 1 && m.type == VC_CTL_EVENT_ERROR);
	g_assert_true(vc_session_recv(cam.s, &m) == 0 && vc_session_recv(hub.s, &m) == 0);
	pair_close(&cam, &hub);
}

/*
 * A new session in which @from sends (unchecked: a broken or hostile
 * peer) first @pre (a request the other side answers properly, when
 * @pre_len) then the message, and the other side ends the session
 * (protocol) saying @why.
 */
static bool ev_refused(struct side *cam, struct side *hub, struct side *from, unsigned int pre,
		       const uint8_t *pre_body, size_t pre_len, unsigned int type,
		       const uint8_t *body, size_t len, const char *why)
{
	struct side *to = from == hub ? cam : hub;
	struct vc_ctl m;

	sessions_end(cam, hub);
	if (!connect_pair(cam, hub))
		return false;
	if (pre_len && vc_session_send(hub->s, pre, pre_body, pre_len) != 0)
		return false;
	if (pre_len && vc_session_recv(cam->s, &m) != 1)
		return false;
	if (vc_session_send_unchecked(from->s, type, body, len) != 0)
		return false;
	if (vc_session_recv(to->s, &m) != -1 || vc_session_cause(to->s) != VC_SESSION_PROTOCOL) {
		g_test_message("not refused (%s)", why);
		return false;
	}
	if (!strstr(vc_last_error(), why)) {
		g_test_message("refused for: %s", vc_last_error());
		return false;
	}
	return true;
}

/* What a hub may not ask of a camera: each ends the session (protocol). */
static void events_hub_attacks(void)
{
	uint8_t b[VC_EVX_CHUNK_MAX_LEN], req[VC_EVX_GET_LEN];
	struct side cam, hub;
	size_t len;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	fx_require(connect_pair(&cam, &hub));
	/* too fast: a second request before the first one's answer */
	len = vc_evx_list_encode(0, req);
	g_assert_true(ev_refused(&cam, &hub, &hub, VC_CTL_EVENTS_LIST, req, len, VC_CTL_EVENTS_LIST,
				 req, len, "before the answer"));
	/* an object kind outside NUMBER-EVENTID.{env,thumb,clip} (no names on the wire) */
	len = get_of(0, 100, b);
	b[1] = 4;
	g_assert_true(ev_refused(&cam, &hub, &hub, 0, NULL, 0, VC_CTL_EVENT_GET, b, len,
				 "malformed"));
	/* more than one chunk asked at once */
	len = get_of(0, VC_EVX_CHUNK_MAX + 1, b);
	g_assert_true(ev_refused(&cam, &hub, &hub, 0, NULL, 0, VC_CTL_EVENT_GET, b, len,
				 "not in 1.."));
	/* a request of another length, an answer from the hub */
	g_assert_true(ev_refused(&cam, &hub, &hub, 0, NULL, 0, VC_CTL_EVENTS_LIST, req, 11,
				 "malformed"));
	len = listing_of(0, b);
	g_assert_true(ev_refused(&cam, &hub, &hub, 0, NULL, 0, VC_CTL_EVENTS, b, len, "unasked"));
	pair_close(&cam, &hub);
}

/* What a camera may not answer: each ends the hub's session (protocol). */
static void events_camera_attacks(void)
{
	uint8_t b[VC_EVX_CHUNK_MAX_LEN], req[VC_EVX_GET_LEN], lst[VC_EVX_LIST_REQ_LEN];
	struct side cam, hub;
	size_t rlen, llen, len;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	fx_require(connect_pair(&cam, &hub));
	rlen = get_of(200, 100, req);
	llen = vc_evx_list_encode(5, lst);
	/* an answer nobody asked for */
	len = listing_of(5, b);
	g_assert_true(ev_refused(&cam, &hub, &cam, 0, NULL, 0, VC_CTL_EVENTS, b, len, "unasked"));
	/* a listing that rolls back: event 4 when events from 5 on were asked for */
	len = listing_of(4, b);
	g_assert_true(ev_refused(&cam, &hub, &cam, VC_CTL_EVENTS_LIST, lst, llen, VC_CTL_EVENTS, b,
				 len, "rollback"));
	/* a chunk longer than asked (100 bytes asked, 101 sent) */
	len = chunk_of(200, 101, 3, b);
	g_assert_true(ev_refused(&cam, &hub, &cam, VC_CTL_EVENT_GET, req, rlen, VC_CTL_EVENT_CHUNK,
				 b, len, "not the bytes asked for"));
	/* a chunk of another object, or from another offset */
	len = chunk_of(200, 100, 2, b);
	g_assert_true(ev_refused(&cam, &hub, &cam, VC_CTL_EVENT_GET, req, rlen, VC_CTL_EVENT_CHUNK,
				 b, len, "not the bytes asked for"));
	len = chunk_of(0, 100, 3, b);
	g_assert_true(ev_refused(&cam, &hub, &cam, VC_CTL_EVENT_GET, req, rlen, VC_CTL_EVENT_CHUNK,
				 b, len, "not the bytes asked for"));
	/* a listing where a chunk was asked for */
	len = listing_of(5, b);
	g_assert_true(ev_refused(&cam, &hub, &cam, VC_CTL_EVENT_GET, req, rlen, VC_CTL_EVENTS, b,
				 len, "unasked"));
	/* an empty chunk (nothing to move the transfer on) */
	g_assert_true(ev_refused(&cam, &hub, &cam, VC_CTL_EVENT_GET, req, rlen, VC_CTL_EVENT_CHUNK,
				 b, VC_EVX_CHUNK_HDR, "malformed"));
	pair_close(&cam, &hub);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	signal(SIGPIPE, SIG_IGN);
	g_test_add_func("/core/session/pinned-keys-accept", pinned_keys_accept);
	g_test_add_func("/core/session/keys-differ-across-sessions", keys_differ_across_sessions);
	g_test_add_func("/core/session/unpinned-hub-is-refused", unpinned_hub_is_refused);
	g_test_add_func("/core/session/pending-peer-is-refused", pending_peer_is_refused);
	g_test_add_func("/core/session/wrong-camera-is-refused", wrong_camera_is_refused);
	g_test_add_func("/core/session/role-confusion-is-refused", role_confusion_is_refused);
	g_test_add_func("/core/session/unpaired-peer-is-refused", unpaired_peer_is_refused);
	g_test_add_func("/core/session/cipher-negotiation", cipher_negotiation);
	g_test_add_func("/core/session/session-keys-carry-media", session_keys_carry_media);
	g_test_add_func("/core/session/garbage-instead-of-tls-fails-cleanly",
			garbage_instead_of_tls_fails_cleanly);
	g_test_add_func("/core/session/challenges-reach-the-camera", challenges_reach_the_camera);
	g_test_add_func("/core/session/offer-reaches-the-hub", offer_reaches_the_hub);
	g_test_add_func("/core/session/enc-key-reaches-the-camera", enc_key_reaches_the_camera);
	g_test_add_func("/core/session/peer-close-is-seen", peer_close_is_seen);
	g_test_add_func("/core/session/trickling-peer-meets-the-deadline",
			trickling_peer_meets_the_deadline);
	g_test_add_func("/core/session/first-flight-is-seen", first_flight_is_seen);
	g_test_add_func("/core/session/events-fetch-in-turn", events_fetch_in_turn);
	g_test_add_func("/core/session/events-hub-attacks", events_hub_attacks);
	g_test_add_func("/core/session/events-camera-attacks", events_camera_attacks);
	return g_test_run();
}
