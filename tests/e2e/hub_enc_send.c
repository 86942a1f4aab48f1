// SPDX-License-Identifier: GPL-2.0
/*
 * hub_enc_send - a paired hub that misbehaves on the control channel, for
 * daemon-events: it proves its pinned key to the camera like a real hub,
 * takes the offer, then sends its encryption key message (PROTOCOL.md
 * §5.4, type 4) in a way the camera must refuse, and waits for the camera
 * to end the session.
 *
 * usage: hub_enc_send HUBKEYS CAMERA-NAME HOST PORT forged|twice|pipeline|past-end|bad-kind
 *   forged  the hub's own enc.key, its binding signed by another key
 *   twice   the genuine message, sent twice in the session
 * and for daemon-camfetch, the event fetch (PROTOCOL.md §5.7), after one
 * proper listing of the camera's events (it must hold at least one):
 *   pipeline  three list requests at once, without waiting for answers
 *   past-end  the first event's clip asked for from its last byte + 1
 *   bad-kind  an object of kind 4 (no such object) asked for
 *
 * Exit 0 when the camera ended the session within 5 s of the message, 1
 * when it did not, 2 on a setup error.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <netinet/tcp.h>

#include <veracam/enckey.h>
#include <veracam/evfetch.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>
#include <veracam/session.h>

#include "internal.h"	/* vc_session_send_unchecked: a hub that breaks the rules */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Read until the session ends (-1) or the deadline: 1 when it ended. */
static int wait_end(struct vc_session *s, int fd, int64_t deadline, struct vc_ctl *m)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ns();
		int r = vc_session_recv(s, m);

		if (r < 0)
			return 1;
		if (r > 0)
			continue;	/* the offer */
		if (left <= 0)
			return 0;
		poll(&pfd, 1, (int)(left / 1000000 + 1));
	}
}

/* The camera closed the connection (we read nothing more): 1, or 0 at the deadline. */
static int wait_close(int fd, int64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLRDHUP };
		int64_t left = deadline - now_ns();

		if (left <= 0)
			return 0;
		if (poll(&pfd, 1, (int)(left / 1000000 + 1)) > 0 &&
		    (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			return 1;
	}
}

/* One proper listing: its first entry. 0 or -1. */
static int first_event(struct vc_session *s, int fd, struct vc_evx_entry *first)
{
	struct vc_evx_entry e[VC_EVX_LIST_MAX];
	uint8_t b[VC_EVX_LIST_REQ_LEN];
	int64_t deadline = now_ns() + 5000000000LL;
	static struct vc_ctl m;
	size_t n;
	bool more;

	if (vc_session_send(s, VC_CTL_EVENTS_LIST, b, vc_evx_list_encode(0, b)) != 0)
		return -1;
	while (now_ns() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = vc_session_recv(s, &m);

		if (r < 0)
			return -1;
		if (r > 0 && m.type == VC_CTL_EVENTS) {
			if (vc_evx_listing_parse(m.body, m.len, 0, e, &n, &more) < 0 || !n)
				return -1;
			*first = e[0];
			return 0;
		}
		if (r == 0)
			poll(&pfd, 1, 100);
	}
	return -1;
}

/* The event-fetch attacks: 1 when the camera closed the session after them. */
static int event_attack(struct vc_session *s, int fd, const char *mode)
{
	struct vc_evx_entry e;
	struct vc_evx_get g = { .kind = VC_EVX_CLIP, .max = 100 };
	uint8_t b[VC_EVX_GET_LEN];
	int one = 1, zero = 0;
	size_t len;

	if (vc_session_send_challenge(s, 1) != 0 || first_event(s, fd, &e) < 0) {
		fprintf(stderr, "hub_enc_send: no listing with an event: %s\n", vc_last_error());
		return -1;
	}
	g.number = e.number;
	memcpy(g.event_id, e.event_id, VC_EVENT_ID_LEN);
	if (!strcmp(mode, "pipeline")) {
		/* in one segment: the camera reads all three before it can answer twice */
		len = vc_evx_list_encode(0, b);
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &one, sizeof(one));
		for (int i = 0; i < 3; i++)
			if (vc_session_send_unchecked(s, VC_CTL_EVENTS_LIST, b, len) != 0)
				return -1;
		setsockopt(fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof(zero));
	} else if (!strcmp(mode, "past-end")) {
		g.offset = e.size[VC_EVX_CLIP];
		if (vc_session_send(s, VC_CTL_EVENT_GET, b, vc_evx_get_encode(&g, b)) != 0)
			return -1;
	} else {
		len = vc_evx_get_encode(&g, b);
		b[1] = 4;
		if (vc_session_send_unchecked(s, VC_CTL_EVENT_GET, b, len) != 0)
			return -1;
	}
	while (vc_session_flush(s) == VC_IO_WRITE)
		poll(NULL, 0, 10);
	/* within 3 s: before the camera's liveness limit (4 s without a challenge) */
	return wait_close(fd, now_ns() + 3000000000LL);
}

static int setup_fail(const char *what)
{
	fprintf(stderr, "hub_enc_send: %s: %s\n", what, vc_last_error());
	return 2;
}

int main(int argc, char **argv)
{
	uint8_t msg[VC_CTL_ENC_KEY_LEN], seed[32];
	struct vc_device_key *key, *other;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct vc_session_config sc = { .role = VC_ROLE_HUB, .n_peers = 1 };
	struct vc_session *s;
	struct vc_enc_key *e;
	struct vc_peer peer;
	struct vc_ctl m;
	bool twice;
	int fd, ended;

	if (argc != 6 || (strcmp(argv[5], "forged") && strcmp(argv[5], "twice") &&
			  strcmp(argv[5], "pipeline") && strcmp(argv[5], "past-end") &&
			  strcmp(argv[5], "bad-kind"))) {
		fprintf(stderr, "usage: hub_enc_send HUBKEYS CAMERA HOST PORT "
			"forged|twice|pipeline|past-end|bad-kind\n");
		return 2;
	}
	twice = !strcmp(argv[5], "twice");
	signal(SIGPIPE, SIG_IGN);	/* the camera may close before our last bytes */
	key = vc_key_load(argv[1]);
	e = key ? vc_enc_key_load(argv[1]) : NULL;
	if (!e || vc_peer_load(argv[1], argv[2], &peer) < 0)
		return setup_fail(argv[1]);
	memset(seed, 0x5a, sizeof(seed));
	other = vc_key_from_seed(seed);		/* a key that is not the hub's */
	memcpy(msg, vc_enc_key_public(e), VC_ENC_PUBKEY_LEN);
	if (!other || vc_enc_binding_sign(twice ? key : other, vc_enc_key_public(e),
					  msg + VC_ENC_PUBKEY_LEN) < 0)
		return setup_fail("binding");
	sc.key = key;
	sc.peers = &peer;
	sa.sin_port = htons((uint16_t)atoi(argv[4]));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || inet_pton(AF_INET, argv[3], &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("hub_enc_send: connect");
		return 2;
	}
	s = vc_session_new(&sc, fd);
	if (!s || vc_session_run(s, now_ns() + VC_HANDSHAKE_TIMEOUT_NS) < 0)
		return setup_fail("session");
	/* the offer first, as a hub takes it; then the message */
	if (wait_end(s, fd, now_ns() + 200000000, &m))
		return setup_fail("the camera ended the session before the message");
	if (strcmp(argv[5], "forged") && strcmp(argv[5], "twice")) {
		ended = event_attack(s, fd, argv[5]);
		if (ended < 0)
			return 2;
	} else {
		if (vc_session_send(s, VC_CTL_ENC_KEY, msg, sizeof(msg)) != 0 ||
		    vc_session_send_challenge(s, 1) != 0 ||
		    (twice && vc_session_send(s, VC_CTL_ENC_KEY, msg, sizeof(msg)) != 0))
			return setup_fail("send");
		while (vc_session_flush(s) == VC_IO_WRITE)
			poll(NULL, 0, 10);
		ended = wait_end(s, fd, now_ns() + 5000000000LL, &m);
	}
	printf("%s: the camera %s the session\n", argv[5], ended ? "ended" : "did not end");
	vc_session_free(s);
	close(fd);
	vc_enc_key_free(e);
	vc_key_free(other);
	vc_key_free(key);
	return ended ? 0 : 1;
}
