// SPDX-License-Identifier: GPL-2.0
/*
 * The TLS 1.3 control session between two in-process endpoints over a
 * socketpair: pinned keys accept, anything else is refused, exporter keys
 * agree on both sides and differ between sessions.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <veracam/keys.h>
#include <veracam/pairing.h>
#include <veracam/seal.h>
#include <veracam/session.h>
#include <veracam/verify.h>

#include "fixture.h"
#include "harness.h"

#define CAM_TAG	1
#define HUB_TAG	2
#define EVIL_TAG 3

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct side {
	struct vc_session_config cfg;
	struct vc_device_key *key;
	struct vc_peer peers[2];
	int fd;
	struct vc_session *s;
	char err[256];
};

static void side_init(struct side *sd, enum vc_role role, uint8_t key_tag,
		      uint8_t peer_tag, enum vc_role peer_role)
{
	memset(sd, 0, sizeof(*sd));
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
}

static void *handshake_thread(void *arg)
{
	struct side *sd = arg;

	sd->s = vc_session_handshake(&sd->cfg, sd->fd);
	if (!sd->s)
		snprintf(sd->err, sizeof(sd->err), "%s", vc_last_error());
	/* unblock the other side when we gave up */
	shutdown(sd->fd, SHUT_RDWR);
	return NULL;
}

/* Run both handshakes; returns 1 when both ended with a session. */
static int connect_pair(struct side *cam, struct side *hub)
{
	int sv[2];
	pthread_t t;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	cam->fd = sv[0];
	hub->fd = sv[1];
	pthread_create(&t, NULL, handshake_thread, cam);
	hub->s = vc_session_handshake(&hub->cfg, hub->fd);
	if (!hub->s) {
		snprintf(hub->err, sizeof(hub->err), "%s", vc_last_error());
		shutdown(hub->fd, SHUT_RDWR);
	}
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	return cam->s && hub->s;
}

static void pinned_keys_accept(void)
{
	struct side cam, hub;
	const struct vc_session_params *c, *h;

	int64_t t0 = mono_ns();

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	REQUIRE(connect_pair(&cam, &hub));
	c = vc_session_params(cam.s);
	h = vc_session_params(hub.s);
	CHECK(!memcmp(c->session_id, h->session_id, VC_SESSION_ID_LEN));
	CHECK(c->cipher == VC_CIPHER_AES128GCM && h->cipher == VC_CIPHER_AES128GCM);
	CHECK(!memcmp(&c->camera_to_hub, &h->camera_to_hub, sizeof(c->camera_to_hub)));
	CHECK(!memcmp(&c->hub_to_camera, &h->hub_to_camera, sizeof(c->hub_to_camera)));
	CHECK(memcmp(c->camera_to_hub.key, c->hub_to_camera.key, 16) != 0);
	CHECK(memcmp(c->camera_to_hub.iv, c->hub_to_camera.iv, VC_MEDIA_IV_LEN) != 0);
	CHECK(!strcmp(c->peer.name, "living-room") && c->peer.role == VC_ROLE_HUB);
	CHECK(!strcmp(h->peer.name, "front-door") && h->peer.role == VC_ROLE_CAMERA);
	/* the hub's hello went out after the handshake began, on CLOCK_MONOTONIC */
	CHECK(h->hello_ns > t0 && h->hello_ns <= mono_ns());
	CHECK(c->hello_ns == 0);
	CHECK(SSL_version(vc_session_ssl(hub.s)) == TLS1_3_VERSION);
	side_fini(&cam);
	side_fini(&hub);
}

static void keys_differ_across_sessions(void)
{
	struct side cam, hub;
	struct vc_session_params first;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	REQUIRE(connect_pair(&cam, &hub));
	first = *vc_session_params(hub.s);
	vc_session_free(cam.s);
	vc_session_free(hub.s);
	cam.s = hub.s = NULL;
	REQUIRE(connect_pair(&cam, &hub));
	CHECK(memcmp(first.session_id, vc_session_params(hub.s)->session_id, VC_SESSION_ID_LEN));
	CHECK(memcmp(first.camera_to_hub.key, vc_session_params(hub.s)->camera_to_hub.key, 16));
	CHECK(memcmp(first.camera_to_hub.iv, vc_session_params(cam.s)->camera_to_hub.iv, 12));
	CHECK(memcmp(first.hub_to_camera.key, vc_session_params(cam.s)->hub_to_camera.key, 16));
	side_fini(&cam);
	side_fini(&hub);
}

static void unpinned_hub_is_refused(void)
{
	struct side cam, hub;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, EVIL_TAG, CAM_TAG, VC_ROLE_CAMERA);	/* other hub key */
	CHECK(!connect_pair(&cam, &hub));
	CHECK(cam.s == NULL && hub.s == NULL);
	CHECK(strstr(cam.err, "not paired as a hub") != NULL);
	printf("# camera: %s\n# hub: %s\n", cam.err, hub.err);
	side_fini(&cam);
	side_fini(&hub);
}

static void wrong_camera_is_refused(void)
{
	struct side cam, hub;

	side_init(&cam, VC_ROLE_CAMERA, EVIL_TAG, HUB_TAG, VC_ROLE_HUB);	/* impostor camera */
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	CHECK(!connect_pair(&cam, &hub));
	CHECK(cam.s == NULL && hub.s == NULL);
	CHECK(strstr(hub.err, "not paired as a camera") != NULL);
	side_fini(&cam);
	side_fini(&hub);
}

/* A key pinned for one role does not authenticate the other role. */
static void role_confusion_is_refused(void)
{
	struct side cam, hub;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_CAMERA);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	CHECK(!connect_pair(&cam, &hub));
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
	CHECK(!connect_pair(&cam, &hub));
	side_fini(&cam);
	side_fini(&hub);
}

static void cipher_negotiation(void)
{
	struct side cam, hub;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	cam.cfg.prefer = VC_CIPHER_CHACHA20POLY1305;
	REQUIRE(connect_pair(&cam, &hub));
	CHECK(vc_session_params(hub.s)->cipher == VC_CIPHER_CHACHA20POLY1305);
	CHECK(!memcmp(vc_session_params(hub.s)->camera_to_hub.key,
		      vc_session_params(cam.s)->camera_to_hub.key, 32));
	vc_session_free(cam.s);
	vc_session_free(hub.s);
	cam.s = hub.s = NULL;
	hub.cfg.ciphers = VC_CIPHER_MASK(VC_CIPHER_AES128GCM);
	REQUIRE(connect_pair(&cam, &hub));
	CHECK(vc_session_params(cam.s)->cipher == VC_CIPHER_AES128GCM);
	vc_session_free(cam.s);
	vc_session_free(hub.s);
	cam.s = hub.s = NULL;
	cam.cfg.ciphers = VC_CIPHER_MASK(VC_CIPHER_CHACHA20POLY1305);
	CHECK(!connect_pair(&cam, &hub));
	CHECK(strstr(cam.err, "no media cipher in common") != NULL);
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
	struct vc_record_session entry = { 0 };
	struct timespec ts;
	int i;

	side_init(&cam, VC_ROLE_CAMERA, CAM_TAG, HUB_TAG, VC_ROLE_HUB);
	side_init(&hub, VC_ROLE_HUB, HUB_TAG, CAM_TAG, VC_ROLE_CAMERA);
	REQUIRE(connect_pair(&cam, &hub));
	c = vc_session_params(cam.s);
	h = vc_session_params(hub.s);
	vc_verifier_config_from_session(&vcfg, h);
	ver = vc_verifier_new(&vcfg);
	signer = vc_signer_new(cam.key);
	sealer = vc_sealer_new(&c->camera_to_hub, c->session_id);
	REQUIRE(ver && signer && sealer);
	REQUIRE(vc_signer_set_source(signer, "id:00112233445566778899aabbccddeeff") == 0);
	memcpy(entry.id, c->session_id, VC_SESSION_ID_LEN);	/* challenge 0: the hello */
	for (i = 0; i < 5; i++) {
		clock_gettime(CLOCK_REALTIME, &ts);
		info.capture_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		fx_au(&au, i == 0, 4000, (uint32_t)i);
		REQUIRE(vc_signer_sign(signer, &info, &entry, 1, au.data, au.len, &signed_au) == 0);
		REQUIRE(vc_seal(sealer, signed_au.data, signed_au.len, &unit) == 0);
		CHECK_REJ(vc_verifier_accept(ver, unit.data, unit.len, mono_ns(), &out), VC_OK);
	}
	/* the hub-to-camera key does not open camera-to-hub units */
	{
		struct vc_opener *wrong = vc_opener_new(&c->hub_to_camera, c->session_id);
		struct vc_buf plain = { 0 };
		uint64_t seq;

		REQUIRE(wrong);
		CHECK_REJ(vc_open(wrong, unit.data, unit.len, &plain, &seq), VC_REJ_DECRYPT);
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
	REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	REQUIRE(write(sv[1], "GET / HTTP/1.0\r\n\r\n", 18) == 18);
	shutdown(sv[1], SHUT_WR);
	cam.s = vc_session_handshake(&cam.cfg, sv[0]);
	CHECK(cam.s == NULL);
	close(sv[0]);
	close(sv[1]);
	side_fini(&cam);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(pinned_keys_accept);
	RUN(keys_differ_across_sessions);
	RUN(unpinned_hub_is_refused);
	RUN(wrong_camera_is_refused);
	RUN(role_confusion_is_refused);
	RUN(unpaired_peer_is_refused);
	RUN(cipher_negotiation);
	RUN(session_keys_carry_media);
	RUN(garbage_instead_of_tls_fails_cleanly);
	return harness_done();
}
