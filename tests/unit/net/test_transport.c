// SPDX-License-Identifier: GPL-2.0
/*
 * Camera send <-> hub receive over real sockets on 127.0.0.1: UDP and TCP
 * round trips of 0..1 MiB units; latching through an address-translating
 * relay after a path challenge, and again when the relay's address
 * changes (NAT rebinding); wrong tokens; every attack an on-path observer
 * can make with the transport's own messages (replayed and copied hellos,
 * hellos from a third address, forged byes, forged TCP attaches, forged
 * media and challenges) refused and counted; no expiry for silence;
 * fallback to TCP when UDP is blocked; several hubs with some leaving;
 * the bounded per-hub queue with its keyframe rule; TCP media
 * connections accepted and read by the test as the daemon would (shared
 * port) and handed over with their hello.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>
#include <sys/socket.h>

#include "nettest.h"
#include "receive.h"
#include "send.h"
#include "sock.h"
#include "wire.h"

#define MAX_UNITS	512

struct side {
	struct vcn_hub *hub;
	bool paused;			/* not pumped: a hub that went silent */
	long got[MAX_UNITS];		/* unit index, -2 for an empty unit */
	size_t n;
	int bad;			/* delivered but not an intact test unit */
	bool gone;
};

/* A byte pipe for the relay's TCP splice. */
struct pipe {
	uint8_t buf[256 << 10];
	size_t len;
};

/*
 * A test relay on 127.0.0.1: hubs talk to its hub-side port; it talks to
 * the camera from its camera-side socket (address translation) and can
 * move that socket to a new port, black-hole UDP, and splice TCP.
 */
struct relay {
	int hub_udp, cam_udp, listen, tcp_hub, tcp_cam;
	struct sockaddr_in camera, hub_peer;
	bool have_hub_peer, drop_udp;
	bool hold_hellos;		/* keep hub hellos (the newest) instead of forwarding */
	uint8_t hello[VCN_HELLO_LEN];	/* the last hello forwarded, or the held one */
	bool have_hello, held;
	struct pipe up, down;
	uint16_t port;
};

/* A TCP connection the test (as the daemon) accepted and reads the first bytes of. */
struct incoming {
	int fd;
	uint8_t buf[VCN_HELLO_LEN];
	size_t len;
};

struct world {
	struct vcn_cam *cam;
	struct side s[3];
	size_t ns;
	struct relay *relay;
	int listen;			/* the daemon's TCP port (-1: none) */
	struct incoming in[4];
	size_t n_in;
	int not_media;			/* accepted connections that were not media */
};

/* Every session's transport keys in these tests (any fixed bytes do). */
static const struct vcn_keys keys = {
	.camera_to_hub = { 0xc2, 0x4b, 1, 2, 3 },
	.hub_to_camera = { 0x4b, 0x2c, 4, 5, 6 },
};
static struct vcn_mac *h2c;		/* keys.hub_to_camera: to make hellos as the hub would */
static struct vcn_mac *c2h;		/* keys.camera_to_hub */
static struct vcn_mac *wrong;		/* a key nobody uses: a forger's */

static int udp_on(uint16_t port)
{
	struct sockaddr_in a = loopback(port);
	int buf = 4 << 20, fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	/* a relay has buffers; the kernel caps this at rmem_max */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static uint16_t port_of(int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	getsockname(fd, (struct sockaddr *)&a, &len);
	return ntohs(a.sin_port);
}

static int tcp_listener(uint16_t port)
{
	struct sockaddr_in a = loopback(port);
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 8) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void relay_init(struct relay *r, uint16_t camera_port, bool tcp)
{
	memset(r, 0, sizeof(*r));
	r->camera = loopback(camera_port);
	r->tcp_hub = r->tcp_cam = r->listen = -1;
	r->hub_udp = udp_on(0);
	r->port = port_of(r->hub_udp);
	r->cam_udp = udp_on(0);
	if (tcp)
		r->listen = tcp_listener(r->port);
}

static void relay_close(struct relay *r)
{
	int fds[] = { r->hub_udp, r->cam_udp, r->listen, r->tcp_hub, r->tcp_cam };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* The relay's outside address changes (NAT rebinding, relay failover). */
static void relay_rebind(struct relay *r)
{
	close(r->cam_udp);
	r->cam_udp = udp_on(0);
}

static void pipe_move(struct pipe *p, int from, int to)
{
	ssize_t n;

	if (p->len < sizeof(p->buf)) {
		n = recv(from, p->buf + p->len, sizeof(p->buf) - p->len, MSG_DONTWAIT);
		if (n > 0)
			p->len += (size_t)n;
	}
	if (p->len) {
		n = send(to, p->buf, p->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n > 0) {
			memmove(p->buf, p->buf + n, p->len - (size_t)n);
			p->len -= (size_t)n;
		}
	}
}

static void relay_pump(struct relay *r)
{
	uint8_t buf[2048];
	struct sockaddr_in from;
	socklen_t flen = sizeof(from);
	ssize_t n;

	while ((n = recvfrom(r->hub_udp, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen)) >= 0) {
		bool hello = n == VCN_HELLO_LEN && vcn_hello_magic(buf, (size_t)n);

		r->hub_peer = from;
		r->have_hub_peer = true;
		flen = sizeof(from);
		if (hello) {
			memcpy(r->hello, buf, VCN_HELLO_LEN);
			r->have_hello = true;
			r->held = r->hold_hellos;
			if (r->hold_hellos)
				continue;
		}
		if (!r->drop_udp)
			sendto(r->cam_udp, buf, (size_t)n, 0, (struct sockaddr *)&r->camera,
			       sizeof(r->camera));
	}
	while ((n = recv(r->cam_udp, buf, sizeof(buf), MSG_DONTWAIT)) >= 0)
		if (r->have_hub_peer && !r->drop_udp)
			sendto(r->hub_udp, buf, (size_t)n, 0, (struct sockaddr *)&r->hub_peer,
			       sizeof(r->hub_peer));
	if (r->listen >= 0 && r->tcp_hub < 0) {
		r->tcp_hub = accept4(r->listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (r->tcp_hub >= 0) {
			/* blocking connect: loopback completes it from the backlog */
			r->tcp_cam = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (connect(r->tcp_cam, (struct sockaddr *)&r->camera, sizeof(r->camera)) < 0)
				return;
			fcntl(r->tcp_cam, F_SETFL, O_NONBLOCK);
		}
	}
	if (r->tcp_hub >= 0) {
		pipe_move(&r->up, r->tcp_hub, r->tcp_cam);
		pipe_move(&r->down, r->tcp_cam, r->tcp_hub);
	}
}

static void drain(struct side *s)
{
	struct vcn_unit u;
	enum vcn_rx r;

	while ((r = vcn_hub_receive(s->hub, now_ns(), &u)) == VCN_RX_UNIT) {
		long idx = u.len ? unit_check(u.data, u.len) : -2;

		if (idx == -1 || s->n == MAX_UNITS)
			s->bad++;
		else
			s->got[s->n++] = idx;
	}
	s->gone |= r == VCN_RX_GONE;
}

static void incoming_close(struct world *w, size_t i)
{
	close(w->in[i].fd);
	w->in[i] = w->in[--w->n_in];
}

/*
 * The daemon's part on its shared TCP port: accept, read a connection's
 * first VCN_HELLO_LEN bytes, hand media connections to the camera with
 * their hello; anything else (TLS, in the daemon) is not the transport's.
 */
static void accept_media(struct world *w)
{
	int fd;

	while (w->listen >= 0 && w->n_in < sizeof(w->in) / sizeof(w->in[0]) &&
	       (fd = accept4(w->listen, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0)
		w->in[w->n_in++] = (struct incoming){ .fd = fd };
	for (size_t i = 0; i < w->n_in;) {
		struct incoming *c = &w->in[i];
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);

		if (n > 0)
			c->len += (size_t)n;
		if (c->len && c->buf[0] != 'V') {
			w->not_media++;
			incoming_close(w, i);
		} else if (c->len == sizeof(c->buf)) {
			vcn_cam_adopt_tcp(w->cam, c->fd, c->buf, now_ns());	/* takes fd */
			w->in[i] = w->in[--w->n_in];
		} else if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			incoming_close(w, i);
		} else {
			i++;
		}
	}
}

/* One round of the poll loop a daemon would run: wait, then process everyone. */
static void step(struct world *w, int max_ms)
{
	struct pollfd p[16];
	int n = 0, t = vcn_timeout_ms(now_ns(), vcn_cam_deadline_ns(w->cam));

	if (t < 0 || t > max_ms)
		t = max_ms;
	p[n++] = (struct pollfd){ .fd = vcn_cam_fd(w->cam), .events = POLLIN };
	if (w->listen >= 0)
		p[n++] = (struct pollfd){ .fd = w->listen, .events = POLLIN };
	for (size_t i = 0; i < w->n_in; i++)
		p[n++] = (struct pollfd){ .fd = w->in[i].fd, .events = POLLIN };
	for (size_t i = 0; i < w->ns; i++) {
		int ht;

		if (!w->s[i].hub || w->s[i].paused)
			continue;
		p[n++] = (struct pollfd){ .fd = vcn_hub_fd(w->s[i].hub), .events = POLLIN };
		ht = vcn_timeout_ms(now_ns(), vcn_hub_deadline_ns(w->s[i].hub));
		if (ht >= 0 && ht < t)
			t = ht;
	}
	if (w->relay)
		t = t > 1 ? 1 : t;	/* the relay's sockets are not in the set */
	poll(p, (nfds_t)n, t);
	accept_media(w);
	vcn_cam_process(w->cam, now_ns());
	for (size_t i = 0; i < w->ns; i++)
		if (w->s[i].hub && !w->s[i].paused)
			drain(&w->s[i]);
	if (w->relay)
		relay_pump(w->relay);
}

/* Pump until cond holds or 5 s pass (a bound on a hang, not a timing check). */
static bool run_until(struct world *w, bool (*cond)(struct world *, long), long arg)
{
	int64_t end = now_ns() + 5000000000LL;

	while (!cond(w, arg)) {
		if (now_ns() > end)
			return false;
		step(w, 20);
	}
	return true;
}

static void run_for(struct world *w, int ms)
{
	int64_t end = now_ns() + ms * 1000000LL;

	while (now_ns() < end)
		step(w, 5);
}

static bool all_got(struct world *w, long count)
{
	for (size_t i = 0; i < w->ns; i++)
		if (w->s[i].hub && !w->s[i].paused && (long)w->s[i].n < count)
			return false;
	return true;
}

static bool side0_got(struct world *w, long count)
{
	return (long)w->s[0].n >= count;
}

static struct vcn_cam_hub *cam_hub[4];

static bool cam_path_is(struct world *w, long path)
{
	(void)w;
	return vcn_cam_hub_path(cam_hub[0]) == path;
}

static bool cam_relatched(struct world *w, long n)
{
	(void)w;
	return (long)vcn_cam_hub_stats(cam_hub[0])->relatched >= n;
}

static bool relay_held(struct world *w, long unused)
{
	(void)unused;
	return w->relay->held;
}

/*
 * A camera on 127.0.0.1 (any port), and the daemon's TCP port on the same
 * number if tcp. The UDP port is the kernel's pick; another process may
 * hold its TCP twin (an outgoing connection's local port, a listener), so
 * a taken one is given back and another tried. Nothing is left on failure.
 */
static bool world_init(struct world *w, uint64_t rate, bool tcp)
{
	struct sockaddr_in a = loopback(0);
	struct vcn_cam_config c = {
		.bind = (struct sockaddr *)&a, .bind_len = sizeof(a),
		.rate = rate, .burst = 128 << 10, .queue_units = 3,
	};

	for (int tries = 0; tries < 64; tries++) {
		w->listen = -1;
		w->cam = vcn_cam_new(&c);
		if (!w->cam)
			return false;
		if (!tcp)
			return true;
		w->listen = tcp_listener(vcn_cam_port(w->cam));
		if (w->listen >= 0)
			return true;
		vcn_cam_free(w->cam);
		w->cam = NULL;
	}
	return false;
}

/* fallback_ms 0: the default (2 s) */
static struct vcn_hub *hub_to(uint16_t port, const struct vcn_offer *o,
			      enum vcn_hub_transport t, int fallback_ms)
{
	struct sockaddr_in a = loopback(port);
	struct vcn_hub_config c = {
		.camera = (struct sockaddr *)&a, .camera_len = sizeof(a), .offer = o,
		.keys = &keys, .transport = t, .fallback_ns = fallback_ms * 1000000LL,
		.hello_interval_ns = 100000000,
		.reasm_timeout_ns = 2000000000,	/* loaded CI hosts stall processes */
	};

	return vcn_hub_new(&c, now_ns());
}

static void world_free(struct world *w)
{
	for (size_t i = 0; i < w->ns; i++)
		vcn_hub_free(w->s[i].hub);
	vcn_cam_free(w->cam);
	while (w->n_in)
		incoming_close(w, 0);
	if (w->listen >= 0)
		close(w->listen);
	memset(w, 0, sizeof(*w));
}

/* Send unit idx of len bytes to camera hub h; the result of vcn_cam_send. */
static enum vcn_send send_unit(struct world *w, struct vcn_cam_hub *h, uint32_t idx,
			       size_t len, bool key)
{
	uint8_t *u = unit_make(idx, len);
	enum vcn_send r = vcn_cam_send(w->cam, h, u, len, 1700000000000000000ull + idx * 33000000ull,
				       key, now_ns());

	free(u);
	return r;
}

/* A hello as the hub (key h2c) or a forger (another key) would make it. */
static void hello_make(enum vcn_hello_kind kind, const uint8_t *token, uint64_t counter,
		       const uint8_t *echo, struct vcn_mac *key, uint8_t out[VCN_HELLO_LEN])
{
	struct vcn_hello h = { .kind = kind, .counter = counter };

	memcpy(h.token, token, VCN_TOKEN_LEN);
	if (echo)
		memcpy(h.echo, echo, VCN_NONCE_LEN);
	vcn_hello_encode(&h, key, out);
}

/* Datagrams waiting on fd; the last one's first bytes in last (if any). */
static int datagrams(int fd, uint8_t *last, size_t cap, size_t *last_len)
{
	uint8_t buf[2048];
	ssize_t n;
	int count = 0;

	while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
		count++;
		if (last) {
			*last_len = (size_t)n;
			memcpy(last, buf, (size_t)n < cap ? (size_t)n : cap);
		}
	}
	return count;
}

static void sendto_cam(int fd, const struct world *w, const void *p, size_t len)
{
	struct sockaddr_in a = loopback(vcn_cam_port(w->cam));

	sendto(fd, p, len, 0, (struct sockaddr *)&a, sizeof(a));
}

/*
 * A camera, a translating relay in front of it and one UDP hub that only
 * knows the relay; unit 0 (a keyframe) delivered through it.
 */
static bool relay_world(struct world *w, struct relay *r, struct vcn_offer *o)
{
	if (!world_init(w, 20u << 20, false))	/* paced: the relay is a 1 ms poller */
		return false;
	relay_init(r, vcn_cam_port(w->cam), false);
	w->relay = r;
	cam_hub[0] = vcn_cam_hub_add(w->cam, now_ns(), &keys, o);
	w->s[0].hub = hub_to(r->port, o, VCN_HUB_UDP, 0);
	return cam_hub[0] && w->s[0].hub && run_until(w, cam_path_is, VCN_PATH_UDP) &&
	       send_unit(w, cam_hub[0], 0, 30000, true) == VCN_SEND_QUEUED &&
	       run_until(w, side0_got, 1);
}

static const size_t sizes[] = { 0, 8, 1151, 1152, 1153, 20000, 65487, 65488, 150000, 1 << 20 };
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static void roundtrip(enum vcn_hub_transport t, enum vcn_path want)
{
	struct world w = { .ns = 1 };
	const struct vcn_cam_stats *cs;
	struct vcn_offer o;

	net_require(world_init(&w, 100u << 20, true));
	cs = vcn_cam_stats(w.cam);
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &keys, &o);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, t, 0);
	net_require(cam_hub[0] && w.s[0].hub);
	g_assert_true(vcn_cam_hub_needs_keyframe(cam_hub[0]));
	g_assert_null(vcn_cam_hub_add(w.cam, now_ns(), NULL, &o));	/* keys are required */
	g_assert_true(run_until(&w, cam_path_is, want));
	for (uint32_t i = 0; i < N_SIZES; i++) {
		g_assert_cmpint(send_unit(&w, cam_hub[0], i, sizes[i], i == 0), ==,
				VCN_SEND_QUEUED);
		g_assert_true(run_until(&w, side0_got, i + 1));
	}
	g_assert_true(w.s[0].n == N_SIZES && w.s[0].bad == 0);
	for (size_t i = 0; i < w.s[0].n; i++)
		g_assert_cmpint(w.s[0].got[i], ==, i == 0 ? -2 : (long)i);
	g_assert_cmpint(vcn_hub_path(w.s[0].hub), ==, want);
	g_assert_cmpint(vcn_hub_stats(w.s[0].hub)->fallbacks, ==, 0);
	g_assert_cmpint(vcn_cam_hub_stats(cam_hub[0])->units_sent, ==, N_SIZES);
	/* the first latch took one challenge round trip; nothing was refused */
	g_assert_true(want == VCN_PATH_TCP || (cs->challenges_sent >= 1 &&
					       vcn_hub_stats(w.s[0].hub)->challenges >= 1));
	g_assert_cmpint(vcn_cam_hub_stats(cam_hub[0])->relatched, ==, 0);
	g_assert_true(cs->hello_forged == 0 && cs->hello_replay == 0 && cs->tcp_refused == 0);
	g_assert_cmpint(vcn_hub_reasm_stats(w.s[0].hub)->discarded[VCN_PKT_FORGED], ==, 0);
	/* keepalives keep coming, each accepted once (TCP ones too) */
	run_for(&w, 250);
	g_assert_cmpint(vcn_cam_hub_stats(cam_hub[0])->hellos, >=, 2);
	g_assert_true(cs->hello_replay == 0 && vcn_cam_hub_path(cam_hub[0]) == want);
	g_assert_true(vcn_cam_idle(w.cam));
	world_free(&w);
}

static void test_udp_roundtrip(void)
{
	roundtrip(VCN_HUB_AUTO, VCN_PATH_UDP);
}

static void test_tcp_roundtrip(void)
{
	roundtrip(VCN_HUB_TCP, VCN_PATH_TCP);
}

/*
 * Media reaches the hub through a translating relay (first latch after a
 * challenge to the relay's address), and again after the relay's address
 * changes (NAT rebinding): after one challenge round trip to the new one.
 */
static void test_nat_rebinding(void)
{
	struct world w = { .ns = 1 };
	struct relay r;
	struct vcn_offer o;
	uint64_t chal;

	net_require(relay_world(&w, &r, &o));
	for (uint32_t i = 1; i < 5; i++)
		g_assert_cmpint(send_unit(&w, cam_hub[0], i, 30000, false), ==, VCN_SEND_QUEUED);
	g_assert_true(run_until(&w, side0_got, 5));
	chal = vcn_cam_stats(w.cam)->challenges_sent;
	relay_rebind(&r);
	g_assert_true(run_until(&w, cam_relatched, 1));
	g_assert_cmpint(vcn_cam_stats(w.cam)->challenges_sent, >, chal);
	for (uint32_t i = 5; i < 10; i++)
		g_assert_cmpint(send_unit(&w, cam_hub[0], i, 30000, false), ==, VCN_SEND_QUEUED);
	g_assert_true(run_until(&w, side0_got, 10));
	g_assert_cmpint(w.s[0].bad, ==, 0);
	for (size_t i = 0; i < w.s[0].n; i++)
		g_assert_cmpint(w.s[0].got[i], ==, (long)i);
	g_assert_cmpint(vcn_cam_hub_stats(cam_hub[0])->relatched, ==, 1);
	g_assert_cmpint(vcn_cam_stats(w.cam)->hello_forged, ==, 0);
	world_free(&w);
	relay_close(&r);
}

/* A hello with a wrong token moves nothing; neither does a TCP connection with one. */
static void test_wrong_token(void)
{
	struct world w = { .ns = 1 };
	struct vcn_offer o;
	uint8_t hello[VCN_HELLO_LEN], buf[2048], bad_token[VCN_TOKEN_LEN];
	struct sockaddr_in cam_addr;
	uint64_t before, first;
	int rogue, rogue_tcp;

	net_require(world_init(&w, 0, true));
	cam_addr = loopback(vcn_cam_port(w.cam));
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &keys, &o);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, VCN_HUB_UDP, 0);
	net_require(cam_hub[0] && w.s[0].hub);
	g_assert_true(run_until(&w, cam_path_is, VCN_PATH_UDP));

	rogue = udp_on(0);
	memcpy(bad_token, o.token, VCN_TOKEN_LEN);
	bad_token[VCN_TOKEN_LEN - 1] ^= 0x01;	/* one bit off at either end */
	hello_make(VCN_HELLO_UDP, bad_token, 1000, NULL, h2c, hello);
	sendto_cam(rogue, &w, hello, sizeof(hello));
	bad_token[VCN_TOKEN_LEN - 1] ^= 0x01;
	bad_token[0] ^= 0x80;
	hello_make(VCN_HELLO_UDP, bad_token, 1001, NULL, h2c, hello);
	sendto_cam(rogue, &w, hello, sizeof(hello));
	sendto_cam(rogue, &w, "VCMH", 4);
	rogue_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	net_require(connect(rogue_tcp, (struct sockaddr *)&cam_addr, sizeof(cam_addr)) == 0);
	hello_make(VCN_HELLO_TCP, bad_token, 1002, NULL, h2c, hello);
	net_require(send(rogue_tcp, hello, sizeof(hello), 0) == (ssize_t)sizeof(hello));
	run_for(&w, 50);
	for (uint32_t i = 0; i < 3; i++)
		g_assert_cmpint(send_unit(&w, cam_hub[0], i, 5000, i == 0), ==, VCN_SEND_QUEUED);
	g_assert_true(run_until(&w, side0_got, 3));
	run_for(&w, 50);
	g_assert_cmpint(vcn_cam_stats(w.cam)->hello_bad_token, ==, 2);
	g_assert_cmpint(vcn_cam_stats(w.cam)->hello_malformed, ==, 1);
	g_assert_cmpint(vcn_cam_stats(w.cam)->tcp_refused, ==, 1);
	g_assert_cmpint(vcn_cam_hub_stats(cam_hub[0])->relatched, ==, 0);
	g_assert_true(recv(rogue, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN);
	g_assert_cmpint(recv(rogue_tcp, buf, sizeof(buf), 0), ==, 0);	/* closed, nothing sent */
	g_assert_cmpint(vcn_cam_hub_path(cam_hub[0]), ==, VCN_PATH_UDP);
	/* a flood is read in bounded rounds, so the daemon's loop keeps turning */
	before = vcn_cam_stats(w.cam)->hello_malformed;
	for (int i = 0; i < 300; i++)
		sendto_cam(rogue, &w, "junk", 4);
	vcn_cam_process(w.cam, now_ns());
	first = vcn_cam_stats(w.cam)->hello_malformed - before;
	vcn_cam_process(w.cam, now_ns());
	g_assert_true(first > 0 && first <= 256);
	g_assert_cmpint(vcn_cam_stats(w.cam)->hello_malformed - before, >, first);
	close(rogue);
	close(rogue_tcp);
	world_free(&w);
}

/*
 * A relay (or anyone who saw it) replays a hello the camera already
 * took, from the latched address and from a third one: counted as
 * replays, nothing moves, no challenge goes anywhere, the third address
 * receives nothing. Forged media and forged path challenges sent to the
 * hub's socket from the third address are counted and change nothing.
 */
static void test_replayed_hello(void)
{
	struct world w = { .ns = 1 };
	const struct vcn_cam_stats *cs;
	struct vcn_packetizer forger;
	struct vcn_fragmenter f;
	uint8_t rec[VCN_HELLO_LEN], pkt[VCN_UDP_PACKET_MAX], chal[VCN_CHALLENGE_LEN];
	uint8_t nonce[VCN_NONCE_LEN] = { 1 }, *fake = unit_make(77, 3000);
	struct relay r;
	struct vcn_offer o;
	uint64_t replay0, chal0, forged = 0;
	size_t n;
	int x;

	net_require(relay_world(&w, &r, &o));
	cs = vcn_cam_stats(w.cam);
	run_for(&w, 20);		/* the camera has taken the last hello the relay saw */
	net_require(r.have_hello);
	memcpy(rec, r.hello, sizeof(rec));
	x = udp_on(0);
	replay0 = cs->hello_replay;
	chal0 = cs->challenges_sent;
	for (int i = 0; i < 5; i++) {
		sendto_cam(r.cam_udp, &w, rec, sizeof(rec));	/* the latched address */
		sendto_cam(x, &w, rec, sizeof(rec));		/* a third one */
	}
	/* the observer also forges media (far-ahead keyframes) and challenges to the hub */
	net_require(vcn_packetizer_init(&forger, o.pt, VCN_UDP_STRIDE, wrong) == 0);
	forger.ssrc = o.ssrc;
	for (int i = 0; i < 8; i++) {
		forger.au_num += 1000000;
		vcn_fragmenter_start(&forger, &f, fake, 3000, 0, VCN_FLAG_KEYFRAME);
		while ((n = vcn_fragmenter_next(&forger, &f, pkt))) {
			sendto(x, pkt, n, 0, (struct sockaddr *)&r.hub_peer, sizeof(r.hub_peer));
			forged++;
		}
	}
	vcn_challenge_encode(nonce, o.ssrc, wrong, chal);
	sendto(x, chal, sizeof(chal), 0, (struct sockaddr *)&r.hub_peer, sizeof(r.hub_peer));
	vcn_challenge_encode(nonce, o.ssrc ^ 1, c2h, chal);	/* the right key, another session */
	sendto(x, chal, sizeof(chal), 0, (struct sockaddr *)&r.hub_peer, sizeof(r.hub_peer));
	for (uint32_t i = 1; i < 6; i++)
		g_assert_cmpint(send_unit(&w, cam_hub[0], i, 20000, false), ==, VCN_SEND_QUEUED);
	g_assert_true(run_until(&w, side0_got, 6));
	run_for(&w, 50);
	g_assert_cmpint(cs->hello_replay - replay0, >=, 10);	/* the relay's own replays may add */
	g_assert_cmpint(cs->challenges_sent, ==, chal0);
	g_assert_cmpint(cs->hello_forged, ==, 0);
	g_assert_cmpint(vcn_cam_hub_stats(cam_hub[0])->relatched, ==, 0);
	g_assert_cmpint(vcn_cam_hub_path(cam_hub[0]), ==, VCN_PATH_UDP);
	g_assert_cmpint(datagrams(x, NULL, 0, NULL), ==, 0);
	g_assert_cmpint(vcn_hub_reasm_stats(w.s[0].hub)->discarded[VCN_PKT_FORGED], ==, forged);
	g_assert_cmpint(vcn_hub_reasm_stats(w.s[0].hub)->incomplete, ==, 0);
	g_assert_cmpint(vcn_hub_stats(w.s[0].hub)->challenges_forged, ==, 2);
	g_assert_true(w.s[0].n == 6 && w.s[0].bad == 0);
	for (size_t i = 0; i < w.s[0].n; i++)
		g_assert_cmpint(w.s[0].got[i], ==, (long)i);
	close(x);
	free(fake);
	world_free(&w);
	relay_close(&r);
}

/*
 * Reflection: an observer copies a fresh hello (the relay holds the
 * original back) and sends it from a third address first. The camera
 * sends that address one path challenge and nothing else; the copy
 * cannot echo the challenge (that needs the hub's key), so media stays
 * on the proven address; the original, arriving second, is a replay.
 */
static void test_copied_hello_third_address(void)
{
	struct world w = { .ns = 1 };
	const struct vcn_cam_stats *cs;
	uint8_t copy[VCN_HELLO_LEN], got[64];
	struct relay r;
	struct vcn_offer o;
	uint64_t chal0, replay0;
	size_t got_len = 0;
	int x, seen;

	net_require(relay_world(&w, &r, &o));
	cs = vcn_cam_stats(w.cam);

	x = udp_on(0);
	r.hold_hellos = true;
	r.held = false;
	g_assert_true(run_until(&w, relay_held, 0));
	memcpy(copy, r.hello, sizeof(copy));
	chal0 = cs->challenges_sent;
	replay0 = cs->hello_replay;
	for (int i = 0; i < 20; i++)		/* the same copy, many times: one challenge */
		sendto_cam(x, &w, copy, sizeof(copy));
	run_for(&w, 30);
	seen = datagrams(x, got, sizeof(got), &got_len);
	g_assert_true(seen == 1 && got_len == VCN_CHALLENGE_LEN && !memcmp(got, "VCMP", 4));
	g_assert_cmpint(cs->challenges_sent, ==, chal0 + 1);
	g_assert_cmpint(cs->hello_replay, ==, replay0 + 19);
	/* the observer knows the challenge now, but cannot tag a hello echoing it */
	memcpy(copy + 32, got + 8, VCN_NONCE_LEN);
	vcn_put_be64(copy + 24, vcn_get_be64(copy + 24) + 1000);
	sendto_cam(x, &w, copy, sizeof(copy));
	hello_make(VCN_HELLO_UDP, o.token, 1u << 30, got + 8, wrong, copy);
	sendto_cam(x, &w, copy, sizeof(copy));
	/* the original, late: a replay */
	sendto_cam(r.cam_udp, &w, r.hello, sizeof(r.hello));
	r.hold_hellos = false;
	for (uint32_t i = 1; i < 6; i++)
		g_assert_cmpint(send_unit(&w, cam_hub[0], i, 20000, false), ==, VCN_SEND_QUEUED);
	g_assert_true(run_until(&w, side0_got, 6));
	run_for(&w, 300);
	g_assert_cmpint(cs->hello_forged, ==, 2);
	g_assert_cmpint(cs->hello_replay, >=, replay0 + 20);
	g_assert_cmpint(vcn_cam_hub_stats(cam_hub[0])->relatched, ==, 0);
	g_assert_cmpint(datagrams(x, NULL, 0, NULL), ==, 0);	/* no media, ever */
	g_assert_true(w.s[0].n == 6 && w.s[0].bad == 0);
	close(x);
	world_free(&w);
	relay_close(&r);
}

/*
 * A bye without the hub's key (or replaying an old counter) is ignored;
 * the hub's own bye ends the path. A hub that just goes silent is not
 * ended by the transport at all (liveness is the control channel's).
 */
static void test_bye_forged_genuine_and_silence(void)
{
	struct world w = { .ns = 1 };
	const struct vcn_cam_stats *cs;
	uint8_t bye[VCN_HELLO_LEN];
	struct vcn_offer o;
	int x;

	net_require(world_init(&w, 0, false));
	cs = vcn_cam_stats(w.cam);
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &keys, &o);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, VCN_HUB_UDP, 0);
	net_require(cam_hub[0] && w.s[0].hub);
	g_assert_true(run_until(&w, cam_path_is, VCN_PATH_UDP));
	x = udp_on(0);
	hello_make(VCN_HELLO_BYE, o.token, 1ull << 40, NULL, wrong, bye);
	sendto_cam(x, &w, bye, sizeof(bye));
	hello_make(VCN_HELLO_BYE, o.token, 1, NULL, h2c, bye);	/* the hub's key, counter used */
	sendto_cam(x, &w, bye, sizeof(bye));
	run_for(&w, 50);
	g_assert_true(cs->hello_forged == 1 && cs->hello_replay == 1);
	g_assert_true(vcn_cam_hub_path(cam_hub[0]) == VCN_PATH_UDP && cs->hubs_gone == 0);

	/* silent for 1.5 s (version 1 dropped a hub after 5 s, or 1 s configured) */
	w.s[0].paused = true;
	run_for(&w, 1500);
	g_assert_true(vcn_cam_hub_path(cam_hub[0]) == VCN_PATH_UDP && cs->hubs_gone == 0);
	g_assert_cmpint(send_unit(&w, cam_hub[0], 0, 20000, true), ==, VCN_SEND_QUEUED);
	w.s[0].paused = false;
	g_assert_true(run_until(&w, side0_got, 1));
	g_assert_true(w.s[0].bad == 0 && w.s[0].got[0] == 0);

	vcn_hub_free(w.s[0].hub);		/* says bye */
	w.s[0].hub = NULL;
	g_assert_true(run_until(&w, cam_path_is, VCN_PATH_GONE));
	g_assert_cmpint(cs->hubs_gone, ==, 1);
	g_assert_cmpint(send_unit(&w, cam_hub[0], 1, 100, true), ==, VCN_SEND_NO_PATH);
	close(x);
	world_free(&w);
}

static int tcp_to(uint16_t port)
{
	struct sockaddr_in a = loopback(port);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool tcp_closed(struct world *w, long fd)
{
	uint8_t b[256];

	(void)w;
	return recv((int)fd, b, sizeof(b), MSG_DONTWAIT) == 0;
}

/*
 * TCP attach: a forger's hello (wrong key) and a replay of the hub's
 * accepted attach hello on a second connection are refused; the genuine
 * one attaches; a keepalive with a wrong tag on it ends the TCP path.
 */
static void test_tcp_attach_forged_replayed(void)
{
	struct world w = { .ns = 0 };
	const struct vcn_cam_stats *cs;
	uint8_t hello[VCN_HELLO_LEN], good[VCN_HELLO_LEN];
	struct vcn_offer o;
	int forged, genuine, replayed;

	net_require(world_init(&w, 0, true));
	cs = vcn_cam_stats(w.cam);
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &keys, &o);
	net_require(cam_hub[0]);
	forged = tcp_to(vcn_cam_port(w.cam));
	net_require(forged >= 0);
	hello_make(VCN_HELLO_TCP, o.token, 5, NULL, wrong, hello);
	net_require(send(forged, hello, sizeof(hello), 0) == (ssize_t)sizeof(hello));
	g_assert_true(run_until(&w, tcp_closed, forged));
	g_assert_true(cs->tcp_refused == 1 && cs->hello_forged == 1);
	g_assert_cmpint(vcn_cam_hub_path(cam_hub[0]), ==, VCN_PATH_NONE);

	genuine = tcp_to(vcn_cam_port(w.cam));
	net_require(genuine >= 0);
	hello_make(VCN_HELLO_TCP, o.token, 5, NULL, h2c, good);
	net_require(send(genuine, good, sizeof(good), 0) == (ssize_t)sizeof(good));
	g_assert_true(run_until(&w, cam_path_is, VCN_PATH_TCP));
	replayed = tcp_to(vcn_cam_port(w.cam));
	net_require(replayed >= 0);
	net_require(send(replayed, good, sizeof(good), 0) == (ssize_t)sizeof(good));
	g_assert_true(run_until(&w, tcp_closed, replayed));
	g_assert_true(cs->tcp_refused == 2 && cs->hello_replay == 1);
	g_assert_cmpint(vcn_cam_hub_path(cam_hub[0]), ==, VCN_PATH_TCP);
	g_assert_false(tcp_closed(&w, genuine));	/* the attached connection stays */

	/* a keepalive on it: a right one is taken, a forged one ends the path */
	hello_make(VCN_HELLO_TCP, o.token, 6, NULL, h2c, hello);
	net_require(send(genuine, hello, sizeof(hello), 0) == (ssize_t)sizeof(hello));
	run_for(&w, 30);
	g_assert_cmpint(vcn_cam_hub_path(cam_hub[0]), ==, VCN_PATH_TCP);
	g_assert_cmpint(vcn_cam_hub_stats(cam_hub[0])->hellos, ==, 2);
	hello_make(VCN_HELLO_TCP, o.token, 7, NULL, wrong, hello);
	net_require(send(genuine, hello, sizeof(hello), 0) == (ssize_t)sizeof(hello));
	g_assert_true(run_until(&w, cam_path_is, VCN_PATH_GONE));
	g_assert_true(cs->hello_forged == 2 && cs->hubs_gone == 1);
	close(forged);
	close(genuine);
	close(replayed);
	world_free(&w);
}

/* UDP black-holed by the relay: the hub asks for TCP by connecting, media flows. */
static void test_tcp_fallback(void)
{
	struct world w = { .ns = 1 };
	struct relay r;
	struct vcn_offer o;

	net_require(world_init(&w, 0, true));
	relay_init(&r, vcn_cam_port(w.cam), true);
	net_require(r.listen >= 0);
	r.drop_udp = true;
	w.relay = &r;
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &keys, &o);
	w.s[0].hub = hub_to(r.port, &o, VCN_HUB_AUTO, 300);
	net_require(cam_hub[0] && w.s[0].hub);
	g_assert_cmpint(vcn_cam_hub_path(cam_hub[0]), ==, VCN_PATH_NONE);
	g_assert_cmpint(send_unit(&w, cam_hub[0], 99, 1000, true), ==, VCN_SEND_NO_PATH);
	g_assert_true(run_until(&w, cam_path_is, VCN_PATH_TCP));
	g_assert_cmpint(vcn_hub_stats(w.s[0].hub)->fallbacks, ==, 1);
	g_assert_cmpint(vcn_hub_path(w.s[0].hub), ==, VCN_PATH_TCP);
	for (uint32_t i = 0; i < 4; i++)
		g_assert_cmpint(send_unit(&w, cam_hub[0], i, 100000, i == 0), ==, VCN_SEND_QUEUED);
	g_assert_true(run_until(&w, side0_got, 4));
	g_assert_true(w.s[0].bad == 0 && w.s[0].got[0] == 0 && w.s[0].got[3] == 3);
	g_assert_cmpint(vcn_cam_hub_stats(cam_hub[0])->dropped_no_path, ==, 1);
	world_free(&w);
	relay_close(&r);
}

static bool cam_path3_is(struct world *w, long path)
{
	(void)w;
	return vcn_cam_hub_path(cam_hub[3]) == path;
}

/*
 * Four hubs: one stays, one goes silent (TCP, no FIN: not ended), one
 * says bye, and one (a bare TCP media connection) just closes.
 */
static void test_hubs_leave(void)
{
	struct world w = { .ns = 3 };
	struct vcn_offer o[4];
	uint8_t hello[VCN_HELLO_LEN];
	int bare;
	static const enum vcn_hub_transport t[3] = { VCN_HUB_UDP, VCN_HUB_TCP, VCN_HUB_UDP };
	uint32_t sent = 0;

	net_require(world_init(&w, 0, true));
	for (int i = 0; i < 3; i++) {
		cam_hub[i] = vcn_cam_hub_add(w.cam, now_ns(), &keys, &o[i]);
		w.s[i].hub = hub_to(vcn_cam_port(w.cam), &o[i], t[i], 0);
		net_require(cam_hub[i] && w.s[i].hub);
	}
	g_assert_true(memcmp(o[0].token, o[1].token, VCN_TOKEN_LEN) && o[0].ssrc != o[1].ssrc);
	cam_hub[3] = vcn_cam_hub_add(w.cam, now_ns(), &keys, &o[3]);
	net_require(cam_hub[3]);
	bare = tcp_to(vcn_cam_port(w.cam));
	net_require(bare >= 0);
	hello_make(VCN_HELLO_TCP, o[3].token, 1, NULL, h2c, hello);
	net_require(send(bare, hello, sizeof(hello), 0) == (ssize_t)sizeof(hello));
	g_assert_true(run_until(&w, cam_path3_is, VCN_PATH_TCP));
	close(bare);
	g_assert_true(run_until(&w, cam_path3_is, VCN_PATH_GONE));
	g_assert_cmpint(vcn_cam_stats(w.cam)->hubs_gone, ==, 1);
	vcn_cam_hub_remove(w.cam, cam_hub[3]);
	run_for(&w, 300);
	for (int i = 0; i < 3; i++)
		g_assert_cmpint(vcn_cam_hub_path(cam_hub[i]), ==,
				t[i] == VCN_HUB_TCP ? VCN_PATH_TCP : VCN_PATH_UDP);
	for (; sent < 3; sent++)
		for (int i = 0; i < 3; i++)
			g_assert_cmpint(send_unit(&w, cam_hub[i], sent, 20000, sent == 0), ==,
					VCN_SEND_QUEUED);
	g_assert_true(run_until(&w, all_got, 3));

	w.s[1].paused = true;		/* silent: no keepalives, socket left open */
	vcn_hub_free(w.s[2].hub);	/* leaves with a bye */
	w.s[2].hub = NULL;
	/* the camera keeps sending to everyone for 1.5 s */
	for (int64_t end = now_ns() + 1500000000LL; now_ns() < end; sent++) {
		for (int i = 0; i < 3; i++)
			send_unit(&w, cam_hub[i], sent, 20000, false);
		run_for(&w, 20);
	}
	g_assert_true(run_until(&w, side0_got, sent));
	g_assert_true(w.s[0].n == sent && w.s[0].bad == 0);
	for (size_t i = 0; i < w.s[0].n; i++)
		g_assert_cmpint(w.s[0].got[i], ==, (long)i);
	g_assert_cmpint(vcn_cam_hub_path(cam_hub[0]), ==, VCN_PATH_UDP);
	g_assert_cmpint(vcn_cam_hub_path(cam_hub[1]), ==, VCN_PATH_TCP);	/* silent, still there */
	g_assert_cmpint(vcn_cam_hub_path(cam_hub[2]), ==, VCN_PATH_GONE);
	g_assert_cmpint(vcn_cam_stats(w.cam)->hubs_gone, ==, 2);
	g_assert_cmpint(send_unit(&w, cam_hub[2], sent, 100, true), ==, VCN_SEND_NO_PATH);
	vcn_cam_hub_remove(w.cam, cam_hub[1]);
	vcn_cam_hub_remove(w.cam, cam_hub[2]);
	g_assert_cmpint(send_unit(&w, cam_hub[0], sent, 100, false), ==, VCN_SEND_QUEUED);
	g_assert_true(run_until(&w, side0_got, sent + 1));
	close(bare);
	world_free(&w);
}

/*
 * A TCP hub that does not read: whole units are dropped at the bounded
 * queue, the hub then needs a keyframe, and what it finally receives is
 * intact with every gap followed by a keyframe.
 */
static void test_bounded_queue_keyframe(void)
{
	struct world w = { .ns = 1 };
	struct vcn_offer o;
	enum vcn_send res[400];
	bool key[400], saw_full = false;
	uint32_t queued = 0, full = 0, superseded;

	net_require(world_init(&w, 0, true));
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &keys, &o);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, VCN_HUB_TCP, 0);
	net_require(cam_hub[0] && w.s[0].hub);
	g_assert_true(run_until(&w, cam_path_is, VCN_PATH_TCP));
	for (uint32_t i = 0; i < 400; i++) {
		key[i] = i % 25 == 0;
		if (!key[i])
			g_assert_cmpint(vcn_cam_hub_needs_keyframe(cam_hub[0]), ==, saw_full);
		res[i] = send_unit(&w, cam_hub[0], i, 150000, key[i]);
		if (res[i] == VCN_SEND_QUEUE_FULL) {
			full++;
			saw_full = true;
			g_assert_true(vcn_cam_hub_needs_keyframe(cam_hub[0]));
		}
		if (res[i] == VCN_SEND_QUEUED) {
			queued++;
			if (key[i])
				saw_full = false;
		}
		g_assert_true(res[i] != VCN_SEND_AWAIT_KEYFRAME || !key[i]);
	}
	g_assert_cmpint(vcn_cam_hub_stats(cam_hub[0])->dropped_queue_full, >, 0);
	g_assert_cmpint(vcn_cam_hub_stats(cam_hub[0])->dropped_await_keyframe, >, 0);
	/*
	 * now the hub reads: the queued units arrive, intact, in order, except
	 * those a later keyframe superseded while they waited in the queue
	 */
	superseded = vcn_cam_hub_stats(cam_hub[0])->dropped_queue_full - full;
	g_assert_true(run_until(&w, side0_got, queued - superseded));
	run_for(&w, 50);
	g_assert_true(vcn_cam_idle(w.cam));
	g_assert_true(w.s[0].n == queued - superseded && w.s[0].bad == 0);
	for (size_t i = 0, prev = 0; i < w.s[0].n; i++) {
		long idx = w.s[0].got[i];

		g_assert_true(idx >= 0 && idx < 400 && res[idx] == VCN_SEND_QUEUED);
		if (i && (size_t)idx != prev + 1)
			g_assert_true(key[idx]);	/* after a gap: a keyframe */
		prev = (size_t)idx;
	}
	world_free(&w);
}

/*
 * A session on UDP whose hub then attaches a TCP media connection: media
 * moves to TCP, the session needs a keyframe, and the RFC 4571 frames on
 * the new connection reassemble into the exact unit.
 */
static void test_udp_to_tcp_switch(void)
{
	struct world w = { .ns = 1 };
	struct vcn_reasm_config rc = { .mac = c2h };
	struct vcn_reasm *r;
	struct vcn_offer o;
	struct vcn_unit u;
	uint8_t hello[VCN_HELLO_LEN], *buf = malloc(1 << 20);
	size_t have = 0, used, plen;
	const uint8_t *pkt;
	bool got = false;
	int tcp;

	net_require(world_init(&w, 0, true) && buf);
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &keys, &o);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, VCN_HUB_UDP, 0);
	net_require(cam_hub[0] && w.s[0].hub);
	g_assert_true(run_until(&w, cam_path_is, VCN_PATH_UDP));
	g_assert_cmpint(send_unit(&w, cam_hub[0], 0, 9000, true), ==, VCN_SEND_QUEUED);
	g_assert_true(run_until(&w, side0_got, 1));
	g_assert_false(vcn_cam_hub_needs_keyframe(cam_hub[0]));

	tcp = tcp_to(vcn_cam_port(w.cam));
	net_require(tcp >= 0);
	hello_make(VCN_HELLO_TCP, o.token, 1ull << 40, NULL, h2c, hello);
	net_require(send(tcp, hello, sizeof(hello), 0) == (ssize_t)sizeof(hello));
	g_assert_true(run_until(&w, cam_path_is, VCN_PATH_TCP));
	g_assert_true(vcn_cam_hub_needs_keyframe(cam_hub[0]));
	g_assert_cmpint(send_unit(&w, cam_hub[0], 1, 9000, false), ==, VCN_SEND_AWAIT_KEYFRAME);
	g_assert_cmpint(send_unit(&w, cam_hub[0], 2, 200000, true), ==, VCN_SEND_QUEUED);

	rc.ssrc = o.ssrc;
	rc.pt = o.pt;
	r = vcn_reasm_new(&rc);
	net_require(r);
	for (int i = 0; i < 500 && !got; i++) {
		ssize_t n;

		step(&w, 5);
		n = recv(tcp, buf + have, (1 << 20) - have, MSG_DONTWAIT);
		if (n > 0)
			have += (size_t)n;
		while ((used = vcn_frame_next(buf, have, &pkt, &plen))) {
			g_assert_cmpint(vcn_reasm_push(r, pkt, plen, now_ns()), ==,
					VCN_PKT_FRAGMENT);
			memmove(buf, buf + used, have - used);
			have -= used;
		}
		while (vcn_reasm_pop(r, now_ns(), &u))
			got = unit_check(u.data, u.len) == 2;
	}
	g_assert_true(got);
	g_assert_cmpint(w.s[0].n, ==, 1);		/* nothing more on the old UDP path */
	vcn_reasm_free(r);
	close(tcp);
	free(buf);
	world_free(&w);
}

static bool side0_gone(struct world *w, long unused)
{
	(void)unused;
	return w->s[0].gone;
}

/* Nobody listens for TCP media: the hub reports the session gone, it does not hang. */
static void test_tcp_unreachable_gone(void)
{
	struct world w = { .ns = 1 };
	struct vcn_offer o;

	net_require(world_init(&w, 0, false));
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &keys, &o);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, VCN_HUB_TCP, 0);
	net_require(cam_hub[0] && w.s[0].hub);
	g_assert_true(run_until(&w, side0_gone, 0));
	g_assert_cmpint(vcn_hub_path(w.s[0].hub), ==, VCN_PATH_GONE);
	world_free(&w);
}

/*
 * A relay that forwards media to the hub but never reads what the hub
 * sends: the hub's keepalive hellos fill the TCP connection. A hello half
 * written waits for the socket (EPOLLOUT), and the hub's next deadline
 * stays ahead of now: a loop that sleeps until it must not spin.
 */
static void test_tcp_hellos_unread_no_spin(void)
{
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), cfd = -1, small = 4096;
	struct sockaddr_in a = loopback(0);
	socklen_t alen = sizeof(a);
	struct vcn_offer o;
	struct vcn_hub *h;
	struct vcn_unit u;
	uint64_t sent = 0;
	int64_t end;
	int still = 0, past = 0;

	net_require(lfd >= 0);
	setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	net_require(bind(lfd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(lfd, 1) == 0 &&
		    getsockname(lfd, (struct sockaddr *)&a, &alen) == 0);
	memset(&o, 0, sizeof(o));
	o.transports = VCN_TRANSPORT_TCP;
	o.ssrc = 0x5eed;
	{
		struct vcn_hub_config c = {
			.camera = (struct sockaddr *)&a, .camera_len = sizeof(a), .offer = &o,
			.keys = &keys, .transport = VCN_HUB_TCP,
			.hello_interval_ns = 10000,	/* 10 us: fills the socket fast */
			.reasm_timeout_ns = 2000000000,
		};

		h = vcn_hub_new(&c, now_ns());
	}
	net_require(h);
	cfd = accept(lfd, NULL, NULL);	/* and never read */
	net_require(cfd >= 0);
	/* keepalives until the socket takes no more (hellos_sent stops) */
	end = now_ns() + 10000000000LL;
	while (still < 2000 && now_ns() < end) {
		if (vcn_hub_receive(h, now_ns(), &u) == VCN_RX_GONE)
			break;
		still = vcn_hub_stats(h)->hellos_sent == sent ? still + 1 : 0;
		sent = vcn_hub_stats(h)->hellos_sent;
	}
	g_assert_cmpint(still, >=, 2000);
	/* now the next deadline is ahead, each time */
	for (int i = 0; i < 100; i++) {
		int64_t now = now_ns();

		vcn_hub_receive(h, now, &u);
		past += vcn_hub_deadline_ns(h) <= now;
		usleep(20);
	}
	g_test_message("%llu hellos sent before the socket filled; deadline not ahead %d/100",
	       (unsigned long long)sent, past);
	g_assert_cmpint(past, ==, 0);
	vcn_hub_free(h);
	close(cfd);
	close(lfd);
}

/*
 * One TCP port for control and media, as the daemon runs it: a TLS
 * connection stays the daemon's, the hub's media connection is handed to
 * the camera with the hello the daemon read.
 */
static void test_adopt_shared_port(void)
{
	struct world w = { .ns = 1 };
	struct vcn_offer o;
	int tls;

	net_require(world_init(&w, 0, true));
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &keys, &o);
	tls = tcp_to(vcn_cam_port(w.cam));
	net_require(tls >= 0);
	net_require(send(tls, "\x16\x03\x01\x00\x10", 5, 0) == 5);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, VCN_HUB_TCP, 0);
	net_require(cam_hub[0] && w.s[0].hub);
	g_assert_true(run_until(&w, cam_path_is, VCN_PATH_TCP));
	g_assert_cmpint(send_unit(&w, cam_hub[0], 0, 70000, true), ==, VCN_SEND_QUEUED);
	g_assert_true(run_until(&w, side0_got, 1));
	g_assert_true(w.s[0].got[0] == 0 && w.s[0].bad == 0);
	g_assert_true(w.not_media == 1 && vcn_cam_stats(w.cam)->tcp_refused == 0);
	close(tls);
	world_free(&w);
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	signal(SIGPIPE, SIG_IGN);	/* a refused connection must fail a test, not end the run */
	h2c = vcn_mac_new(keys.hub_to_camera);
	c2h = vcn_mac_new(keys.camera_to_hub);
	wrong = vcn_mac_new((const uint8_t[VCN_KEY_LEN]){ 0x77 });
	if (!h2c || !c2h || !wrong)
		return 1;
	g_test_add_func("/net/transport/udp-roundtrip-0-to-1MiB", test_udp_roundtrip);
	g_test_add_func("/net/transport/tcp-roundtrip-0-to-1MiB", test_tcp_roundtrip);
	g_test_add_func("/net/transport/nat-rebinding-relatch-after-challenge", test_nat_rebinding);
	g_test_add_func("/net/transport/wrong-token-dropped", test_wrong_token);
	g_test_add_func("/net/transport/replayed-hello-nothing-moves", test_replayed_hello);
	g_test_add_func("/net/transport/copied-hello-third-address-no-reflection",
			test_copied_hello_third_address);
	g_test_add_func("/net/transport/bye-forged-ignored-genuine-ends-silence-kept",
			test_bye_forged_genuine_and_silence);
	g_test_add_func("/net/transport/tcp-attach-forged-replayed-refused",
			test_tcp_attach_forged_replayed);
	g_test_add_func("/net/transport/tcp-fallback-udp-blocked", test_tcp_fallback);
	g_test_add_func("/net/transport/hubs-leave-others-unaffected", test_hubs_leave);
	g_test_add_func("/net/transport/bounded-queue-needs-keyframe", test_bounded_queue_keyframe);
	g_test_add_func("/net/transport/udp-to-tcp-switch", test_udp_to_tcp_switch);
	g_test_add_func("/net/transport/tcp-unreachable-gone", test_tcp_unreachable_gone);
	g_test_add_func("/net/transport/tcp-hellos-unread-no-spin", test_tcp_hellos_unread_no_spin);
	g_test_add_func("/net/transport/adopt-from-shared-port", test_adopt_shared_port);
	rc = g_test_run();
	vcn_mac_free(h2c);
	vcn_mac_free(c2h);
	vcn_mac_free(wrong);
	return rc;
}
