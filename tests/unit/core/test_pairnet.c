// SPDX-License-Identifier: GPL-2.0
/*
 * Network pairing (docs/PROTOCOL.md, "Network pairing"): a camera's
 * pairing window and a hub over a socket pair, and the attacks on it - a
 * substituted hub identity, a proof lifted from another channel, a wrong,
 * spent or expired code, a device that is not the QR's camera.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <veracam/pairnet.h>

#include "fixture.h"

static char base[400];
static int case_no;

struct side {
	char dir[512];
	struct vc_device_key *key;
};

struct serve_args {
	struct side *cam;
	struct vc_pair_window *w;
	int fd, ret;
	char err[256];
	struct vc_peer hub;
};

static void *serve_thread(void *arg)
{
	struct serve_args *a = arg;

	a->ret = vc_pair_serve(a->cam->dir, a->cam->key, "porch", NULL, a->w, a->fd, &a->hub);
	snprintf(a->err, sizeof(a->err), "%s", a->ret < 0 ? vc_last_error() : "");
	shutdown(a->fd, SHUT_RDWR);
	return NULL;
}

static void side_new(struct side *s, const char *role, uint8_t tag)
{
	snprintf(s->dir, sizeof(s->dir), "%s/%d-%s", base, case_no, role);
	s->key = fx_key(tag);
	mkdir(s->dir, 0700);
}

/* One attempt: the hub (key hub) pairs with cam's window w through target t. */
static int attempt(struct side *cam, struct side *hub, struct vc_pair_window *w,
		   const struct vc_pair_target *t, const struct vc_pair_faults *faults,
		   struct serve_args *sa, char *hub_err, size_t cap)
{
	int sv[2], ret;
	pthread_t th;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -2;
	memset(sa, 0, sizeof(*sa));
	sa->cam = cam;
	sa->w = w;
	sa->fd = sv[0];
	pthread_create(&th, NULL, serve_thread, sa);
	ret = vc_pair_join(hub->dir, hub->key, "porch", "hub1", t, sv[1], faults, NULL);
	snprintf(hub_err, cap, "%s", ret < 0 ? vc_last_error() : "");
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[0]);
	close(sv[1]);
	return ret;
}

static void target_of(struct side *cam, const struct vc_pair_window *w, struct vc_pair_target *t)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->key_id, vc_key_id(cam->key), VC_KEY_ID_LEN);
	memcpy(t->code, w->code, sizeof(t->code));
	strcpy(t->host, "127.0.0.1");
	strcpy(t->port, "7001");
}

static void setup(struct side *cam, struct side *hub, struct vc_pair_window *w,
		  struct vc_pair_target *t)
{
	case_no++;
	side_new(cam, "cam", 1);
	side_new(hub, "hub", 2);
	vc_pair_window_open(w, 60);
	target_of(cam, w, t);
}

static void teardown(struct side *cam, struct side *hub)
{
	vc_key_free(cam->key);
	vc_key_free(hub->key);
}

static void pairs_both_ways(void)
{
	struct side cam, hub;
	struct vc_pair_window w;
	struct vc_pair_target t;
	struct serve_args sa;
	struct vc_peer p;
	char err[256];

	setup(&cam, &hub, &w, &t);
	g_assert_cmpint(attempt(&cam, &hub, &w, &t, NULL, &sa, err, sizeof(err)), ==, 0);
	g_assert_cmpint(sa.ret, ==, 0);
	g_test_message("hub: %s camera: %s", err, sa.err);
	/* each side pinned the other's real key, under the right role */
	fx_require(vc_peer_load(cam.dir, "hub1", &p) == 0);
	g_assert_true(p.role == VC_ROLE_HUB &&
		      !memcmp(p.pub, vc_key_public(hub.key), VC_PUBKEY_LEN));
	fx_require(vc_peer_load(hub.dir, "porch", &p) == 0);
	g_assert_true(p.role == VC_ROLE_CAMERA &&
		      !memcmp(p.pub, vc_key_public(cam.key), VC_PUBKEY_LEN));
	g_assert_true(w.used);
	teardown(&cam, &hub);
}

/* Nothing pinned on either side after a refused attempt. */
static void check_nothing_pinned(struct side *cam, struct side *hub)
{
	struct vc_peer p;

	g_assert_cmpint(vc_peer_load(cam->dir, "hub1", &p), <, 0);
	g_assert_cmpint(vc_peer_load(hub->dir, "porch", &p), <, 0);
}

static void code_is_single_use(void)
{
	struct side cam, hub, hub2;
	struct vc_pair_window w;
	struct vc_pair_target t;
	struct serve_args sa;
	struct vc_peer p;
	char err[256];

	setup(&cam, &hub, &w, &t);
	fx_require(attempt(&cam, &hub, &w, &t, NULL, &sa, err, sizeof(err)) == 0);
	/* the same code again, from another hub that saw the QR: refused */
	side_new(&hub2, "hub2", 3);
	fx_require(vc_peer_untrust(cam.dir, "hub1") == 0);
	g_assert_cmpint(attempt(&cam, &hub2, &w, &t, NULL, &sa, err, sizeof(err)), <, 0);
	/* -1: this connection did not have the attempt (the first one did) */
	g_assert_true(sa.ret == -1 && strstr(err, "already used or has expired"));
	g_test_message("replay: hub: %s / camera: %s", err, sa.err);
	g_assert_cmpint(vc_peer_load(cam.dir, "hub1", &p), <, 0);
	g_assert_cmpint(vc_peer_load(hub2.dir, "porch", &p), <, 0);
	vc_key_free(hub2.key);
	teardown(&cam, &hub);
}

/*
 * One refused attempt: the window aged by age_s (0 = fresh), the hub
 * misbehaving as f says; the hub's error names want, nothing is pinned.
 */
static void expect_refused(int64_t age_s, const struct vc_pair_faults *f, const char *want)
{
	struct side cam, hub;
	struct vc_pair_window w;
	struct vc_pair_target t;
	struct serve_args sa;
	char err[256];

	setup(&cam, &hub, &w, &t);
	w.expires_ns -= age_s * 1000000000;
	g_assert_cmpint(attempt(&cam, &hub, &w, &t, f, &sa, err, sizeof(err)), <, 0);
	g_assert_nonnull(strstr(err, want));
	g_test_message("hub: %s", err);
	check_nothing_pinned(&cam, &hub);
	g_assert_true(w.used);
	teardown(&cam, &hub);
}

static void expired_code_refused(void)
{
	expect_refused(61, NULL, "already used or has expired");	/* the TTL (60 s) passed */
}

static void wrong_code_spends_the_window(void)
{
	struct side cam, hub;
	struct vc_pair_window w;
	struct vc_pair_target t;
	struct serve_args sa;
	char err[256];

	setup(&cam, &hub, &w, &t);
	t.code[0] = t.code[0] == '9' ? '0' : (char)(t.code[0] + 1);
	g_assert_cmpint(attempt(&cam, &hub, &w, &t, NULL, &sa, err, sizeof(err)), <, 0);
	g_assert_nonnull(strstr(err, "wrong pairing code"));
	g_assert_cmpint(sa.ret, ==, -2);	/* this attempt spent the window (pair-mode ends) */
	check_nothing_pinned(&cam, &hub);
	/* one guess per window: now the right code is refused too */
	target_of(&cam, &w, &t);
	g_assert_cmpint(attempt(&cam, &hub, &w, &t, NULL, &sa, err, sizeof(err)), <, 0);
	g_assert_nonnull(strstr(err, "already used"));
	check_nothing_pinned(&cam, &hub);
	teardown(&cam, &hub);
}

/*
 * A hub that knows the code (it saw the QR) claims another device's key
 * in the request, e.g. to get a key it does not hold pinned: the camera
 * pins only the key TLS proved, and refuses the mismatch.
 */
static void substituted_hub_identity_refused(void)
{
	struct vc_device_key *other = fx_key(9);
	struct vc_pair_faults f = { .claim_pub = vc_key_public(other) };

	expect_refused(0, &f, "not the key the TLS channel proved");
	vc_key_free(other);
}

/*
 * A proof made with the right code but under another connection's
 * exporter (what a relay that splices two TLS connections can offer) does
 * not check on this one.
 */
static void proof_from_another_channel_refused(void)
{
	struct vc_pair_faults f = { .other_channel = true };

	expect_refused(0, &f, "wrong pairing code");
}

/* A device at the QR's address that is not the QR's camera never sees the code. */
static void impostor_camera_refused(void)
{
	struct side cam, hub, impostor;
	struct vc_pair_window w;
	struct vc_pair_target t;
	struct serve_args sa;
	char err[256];

	setup(&cam, &hub, &w, &t);
	side_new(&impostor, "impostor", 7);
	g_assert_cmpint(attempt(&impostor, &hub, &w, &t, NULL, &sa, err, sizeof(err)), <, 0);
	g_assert_nonnull(strstr(err, "not the camera of this QR code"));
	/* the impostor got no request: the window was never touched */
	g_assert_false(w.used);
	check_nothing_pinned(&impostor, &hub);
	vc_key_free(impostor.key);
	teardown(&cam, &hub);
}

struct sas_args {
	struct side *cam;
	int fd, ret;
	char sas[VC_SAS_LEN + 1];
	struct vc_peer hub;
};

static void *serve_sas_thread(void *arg)
{
	struct sas_args *a = arg;

	struct vc_pair_window w;

	if (vc_pair_window_open(&w, 60) < 0) {
		a->ret = -1;
		shutdown(a->fd, SHUT_RDWR);
		return NULL;
	}
	a->ret = vc_pair_serve_sas(a->cam->dir, a->cam->key, "porch", NULL, &w, a->fd, &a->hub,
				   a->sas);
	if (a->ret < 0)
		g_test_message("camera: %s", vc_last_error());
	vc_pair_window_close(&w);
	shutdown(a->fd, SHUT_RDWR);
	return NULL;
}

static int sas_attempt(struct side *cam, struct side *hub, const struct vc_pair_faults *f,
		       struct sas_args *sa, char hub_sas[VC_SAS_LEN + 1])
{
	int sv[2], ret;
	pthread_t th;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return -2;
	memset(sa, 0, sizeof(*sa));
	sa->cam = cam;
	sa->fd = sv[0];
	pthread_create(&th, NULL, serve_sas_thread, sa);
	ret = vc_pair_join_sas(hub->dir, hub->key, "porch", "hub1", sv[1], f, NULL, hub_sas);
	if (ret < 0)
		g_test_message("hub: %s", vc_last_error());
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[0]);
	close(sv[1]);
	return ret;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * A stranger on the unauthenticated listener that never finishes its
 * handshake: it starts a TLS record and then sends one byte every 300 ms,
 * each well inside any per-read timeout. The camera serves one connection
 * at a time, so for as long as this one lasts no hub can pair. The camera
 * must hang up VC_PAIR_IO_TIMEOUT_S after accept, and nothing is pinned.
 * (Before: a dribbler held the listener for as long as it liked, past the
 * window's end.)
 */
static void slow_stranger_cannot_hold_the_listener(void)
{
	static const uint8_t head[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 };
	struct side cam, hub;
	struct vc_pair_window w;
	struct vc_pair_target t;
	struct serve_args sa;
	int64_t t0, took;
	pthread_t th;
	size_t i;
	int sv[2];

	setup(&cam, &hub, &w, &t);
	fx_require(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	memset(&sa, 0, sizeof(sa));
	sa.cam = &cam;
	sa.w = &w;
	sa.fd = sv[0];
	t0 = mono_ms();
	pthread_create(&th, NULL, serve_thread, &sa);
	/* give up dribbling well after VC_PAIR_IO_TIMEOUT_S */
	for (i = 0; mono_ms() - t0 < (VC_PAIR_IO_TIMEOUT_S + 5) * 1000; i++) {
		uint8_t b = i < sizeof(head) ? head[i] : 0;

		if (send(sv[1], &b, 1, MSG_NOSIGNAL) != 1)
			break;	/* the camera hung up */
		usleep(300000);
	}
	took = mono_ms() - t0;
	shutdown(sv[1], SHUT_RDWR);
	pthread_join(th, NULL);
	close(sv[0]);
	close(sv[1]);
	g_test_message("camera hung up on the dribbler after %lld ms: %s", (long long)took, sa.err);
	g_assert_cmpint(sa.ret, <, 0);
	g_assert_cmpint(took, <, (VC_PAIR_IO_TIMEOUT_S + 2) * 1000);
	check_nothing_pinned(&cam, &hub);
	teardown(&cam, &hub);
}

/* Both screens show the same SAS; both pins are pending until a person confirms. */
static void sas_mode_pins_pending(void)
{
	struct side cam, hub;
	struct sas_args sa;
	char sas[VC_SAS_LEN + 1];
	struct vc_peer p;

	case_no++;
	side_new(&cam, "cam", 1);
	side_new(&hub, "hub", 2);
	g_assert_true(sas_attempt(&cam, &hub, NULL, &sa, sas) == 0 && sa.ret == 0);
	g_assert_true(strlen(sas) == VC_SAS_LEN && !strcmp(sas, sa.sas));
	g_test_message("SAS on both screens: %s", sas);
	fx_require(vc_peer_load(hub.dir, "porch", &p) == 0);
	g_assert_true(p.pending && !memcmp(p.pub, vc_key_public(cam.key), VC_PUBKEY_LEN));
	g_assert_cmpint(strncmp(sa.hub.name, "hub-", 4), ==, 0);
	fx_require(vc_peer_load(cam.dir, sa.hub.name, &p) == 0);
	g_assert_true(p.pending && !memcmp(p.pub, vc_key_public(hub.key), VC_PUBKEY_LEN));
	teardown(&cam, &hub);
}

/*
 * The commitment is checked. Why it matters: a man in the middle runs two
 * TLS connections and needs the SAS of one (camera <-> him) to equal the
 * SAS of the other (him <-> hub); 6 digits, so with free choice of one
 * nonce after seeing the other side's he would grind ~10^6 nonces (well
 * under a second). The commitment takes that choice away: the hub's side
 * is fixed (C) before the camera's nonce exists and the camera's nonce
 * is fixed before the hub's is revealed, so on each connection the SAS is
 * a value neither party of it controls alone, and the two match by chance
 * with probability 10^-6 per attempt - each attempt visible to the people
 * comparing. A hub that opens its commitment with another nonce than the
 * committed one (exactly what grinding needs) is refused and nothing is
 * pinned on the camera.
 */
static void sas_commitment_checked(void)
{
	struct vc_pair_faults f = { .sas_reopen = true };
	struct side cam, hub;
	struct sas_args sa;
	char sas[VC_SAS_LEN + 1];
	struct vc_peer *v;
	size_t n;

	case_no++;
	side_new(&cam, "cam", 1);
	side_new(&hub, "hub", 2);
	g_assert_cmpint(sas_attempt(&cam, &hub, &f, &sa, sas), <, 0);
	g_assert_cmpint(sa.ret, <, 0);
	fx_require(vc_peer_list(cam.dir, &v, &n) == 0);
	g_assert_cmpint(n, ==, 0);
	free(v);
	g_assert_cmpint(vc_peer_load(hub.dir, "porch", &sa.hub), <, 0);
	teardown(&cam, &hub);
}

static void sas_messages_strict(void)
{
	uint8_t body[VC_SAS_NONCE_LEN] = { 1 }, out[VC_SAS_NONCE_LEN], buf[VC_SAS_MSG_LEN];

	vc_sas_msg_format(VC_SAS_OPEN, body, buf);
	g_assert_true(vc_sas_msg_parse(buf, sizeof(buf), VC_SAS_OPEN, out) == 0 && out[0] == 1);
	g_assert_cmpint(vc_sas_msg_parse(buf, sizeof(buf), VC_SAS_COMMIT, out), <, 0);
	g_assert_cmpint(vc_sas_msg_parse(buf, sizeof(buf) - 1, VC_SAS_OPEN, out), <, 0);
	buf[0] = 'X';
	g_assert_cmpint(vc_sas_msg_parse(buf, sizeof(buf), VC_SAS_OPEN, out), <, 0);
}

static void payload_round_trip_and_strictness(void)
{
	static const char *bad[] = {
		"",
		"veracam-pair2:",
		"veracam-pair1:00112233445566778899aabbccddeeff:12345678",
		"veracam-pair2:00112233445566778899aabbccddeeff:12345678",
		"veracam-pair2:00112233445566778899aabbccddeeff:12345678:host",
		"veracam-pair2:00112233445566778899aabbccddeeff:1234567:host:7001",
		"veracam-pair2:00112233445566778899aabbccddeefg:12345678:host:7001",
		"veracam-pair2:00112233445566778899aabbccddeeff:12345678:host:0",
		"veracam-pair2:00112233445566778899aabbccddeeff:12345678:host:65536",
		"veracam-pair2:00112233445566778899aabbccddeeff:12345678:host:07001",
		"veracam-pair2:00112233445566778899aabbccddeeff:12345678:::1:7001",
		"veracam-pair2:00112233445566778899aabbccddeeff:12345678:a b:7001",
		"veracam-pair2:00112233445566778899aabbccddeeff:12345678::7001",
	};
	static const char *good[] = {
		"veracam-pair2:00112233445566778899aabbccddeeff:12345678:192.0.2.7:7001",
		"veracam-pair2:00112233445566778899aabbccddeeff:00000000:[2001:db8::7]:65535",
		"veracam-pair2:00112233445566778899aabbccddeeff:99999999:cam-1.local:1",
	};
	char out[VC_PAIR2_PAYLOAD_MAX + 1];
	struct vc_pair_target t;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		g_assert_cmpint(vc_pair_target_parse(bad[i], &t), <, 0);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		g_assert_cmpint(vc_pair_target_parse(good[i], &t), ==, 0);
		g_assert_true(vc_pair_target_format(&t, out, sizeof(out)) > 0 &&
			      !strcmp(out, good[i]));
	}
	g_assert_true(vc_pair_target_parse(good[1], &t) == 0 && !strcmp(t.host, "2001:db8::7"));
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	/* a peer that hangs up mid-write is an error return, not a signal */
	signal(SIGPIPE, SIG_IGN);
	if (fx_tmpdir(base, sizeof(base)) < 0)
		return 1;
	g_test_add_func("/core/pairnet/pairs-both-ways", pairs_both_ways);
	g_test_add_func("/core/pairnet/code-is-single-use", code_is_single_use);
	g_test_add_func("/core/pairnet/expired-code-refused", expired_code_refused);
	g_test_add_func("/core/pairnet/wrong-code-spends-the-window", wrong_code_spends_the_window);
	g_test_add_func("/core/pairnet/substituted-hub-identity-refused",
			substituted_hub_identity_refused);
	g_test_add_func("/core/pairnet/proof-from-another-channel-refused",
			proof_from_another_channel_refused);
	g_test_add_func("/core/pairnet/impostor-camera-refused", impostor_camera_refused);
	g_test_add_func("/core/pairnet/payload-round-trip-and-strictness",
			payload_round_trip_and_strictness);
	g_test_add_func("/core/pairnet/sas-mode-pins-pending", sas_mode_pins_pending);
	g_test_add_func("/core/pairnet/sas-commitment-checked", sas_commitment_checked);
	g_test_add_func("/core/pairnet/sas-messages-strict", sas_messages_strict);
	g_test_add_func("/core/pairnet/slow-stranger-cannot-hold-the-listener",
			slow_stranger_cannot_hold_the_listener);
	rc = g_test_run();
	fx_rmtree(base);
	return rc;
}
