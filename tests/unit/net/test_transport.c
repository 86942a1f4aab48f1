// SPDX-License-Identifier: GPL-2.0
/*
 * Camera send <-> hub receive over real sockets on 127.0.0.1: UDP and TCP
 * round trips of 0..1 MiB units, latching through an address-translating
 * relay that changes its address, wrong tokens, fallback to TCP when UDP
 * is blocked, several hubs with some vanishing, the bounded per-hub queue
 * with its keyframe rule, stream end, and a TCP media connection handed
 * over from a shared (control) port.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>
#include <sys/socket.h>

#include "nettest.h"
#include "receive.h"
#include "send.h"

#define MAX_UNITS	512

struct side {
	struct vcn_hub *hub;
	bool paused;			/* not pumped: a hub that went silent */
	long got[MAX_UNITS];		/* unit index, -2 for an empty unit */
	size_t n;
	int bad;			/* delivered but not an intact test unit */
	bool ended, gone;
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
	struct pipe up, down;
	uint16_t port;
};

struct world {
	struct vcn_cam *cam;
	struct side s[3];
	size_t ns;
	struct relay *relay;
};

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
		r->hub_peer = from;
		r->have_hub_peer = true;
		if (!r->drop_udp)
			sendto(r->cam_udp, buf, (size_t)n, 0, (struct sockaddr *)&r->camera,
			       sizeof(r->camera));
		flen = sizeof(from);
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
	s->ended |= r == VCN_RX_END;
	s->gone |= r == VCN_RX_GONE;
}

/* One round of the poll loop a daemon would run: wait, then process everyone. */
static void step(struct world *w, int max_ms)
{
	struct pollfd p[8];
	int n = 0, t = vcn_cam_timeout_ms(w->cam, now_ns());

	if (t < 0 || t > max_ms)
		t = max_ms;
	p[n++] = (struct pollfd){ .fd = vcn_cam_fd(w->cam), .events = POLLIN };
	for (size_t i = 0; i < w->ns; i++) {
		int ht;

		if (!w->s[i].hub || w->s[i].paused)
			continue;
		p[n++] = (struct pollfd){ .fd = vcn_hub_fd(w->s[i].hub), .events = POLLIN };
		ht = vcn_hub_timeout_ms(w->s[i].hub, now_ns());
		if (ht >= 0 && ht < t)
			t = ht;
	}
	if (w->relay)
		t = t > 1 ? 1 : t;	/* the relay's sockets are not in the set */
	poll(p, (nfds_t)n, t);
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

static bool side_ended(struct world *w, long i)
{
	return w->s[i].ended;
}

static struct vcn_cam *camera(uint16_t port, bool listen_tcp, uint64_t rate, int hub_timeout_ms)
{
	struct sockaddr_in a = loopback(port);
	struct vcn_cam_config c = {
		.bind = (struct sockaddr *)&a, .bind_len = sizeof(a),
		.listen_tcp = listen_tcp, .rate = rate, .burst = 128 << 10,
		.hub_timeout_ns = hub_timeout_ms * 1000000LL, .queue_units = 3,
	};

	return vcn_cam_new(&c);
}

/* fallback_ms 0: the default (2 s) */
static struct vcn_hub *hub_to(uint16_t port, const struct vcn_offer *o,
			      enum vcn_hub_transport t, int fallback_ms)
{
	struct sockaddr_in a = loopback(port);
	struct vcn_hub_config c = {
		.camera = (struct sockaddr *)&a, .camera_len = sizeof(a), .offer = o,
		.transport = t, .fallback_ns = fallback_ms * 1000000LL,
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

static const size_t sizes[] = { 0, 8, 1167, 1168, 1169, 20000, 65503, 65504, 150000, 1 << 20 };
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static void roundtrip(enum vcn_hub_transport t, enum vcn_path want)
{
	struct world w = { .ns = 1 };
	struct vcn_offer o;

	w.cam = camera(0, true, 100u << 20, 5000);
	ASSERT(w.cam);
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &o);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, t, 0);
	ASSERT(cam_hub[0] && w.s[0].hub);
	EXPECT(vcn_cam_hub_needs_keyframe(cam_hub[0]));
	EXPECT(run_until(&w, cam_path_is, want));
	for (uint32_t i = 0; i < N_SIZES; i++) {
		EXPECT(send_unit(&w, cam_hub[0], i, sizes[i], i == 0) == VCN_SEND_QUEUED);
		EXPECT(run_until(&w, side0_got, i + 1));
	}
	EXPECT(w.s[0].n == N_SIZES && w.s[0].bad == 0);
	for (size_t i = 0; i < w.s[0].n; i++)
		EXPECT(w.s[0].got[i] == (i == 0 ? -2 : (long)i));
	EXPECT(vcn_hub_path(w.s[0].hub) == want);
	EXPECT(vcn_hub_stats(w.s[0].hub)->fallbacks == 0);
	EXPECT(vcn_cam_hub_stats(cam_hub[0])->units_sent == N_SIZES);
	/* stream end after the units */
	vcn_cam_hub_end(w.cam, cam_hub[0], now_ns());
	EXPECT(run_until(&w, side_ended, 0));
	EXPECT(vcn_cam_hub_path(cam_hub[0]) == VCN_PATH_ENDED);
	EXPECT(vcn_hub_path(w.s[0].hub) == VCN_PATH_ENDED);
	EXPECT(vcn_cam_idle(w.cam));
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

/* Media follows the token through a translating relay, also when its address moves. */
static void test_relay_latching(void)
{
	struct world w = { .ns = 1 };
	struct relay r;
	struct vcn_offer o;

	w.cam = camera(0, false, 20u << 20, 5000);	/* paced: the relay is a 1 ms poller */
	ASSERT(w.cam);
	relay_init(&r, vcn_cam_port(w.cam), false);
	w.relay = &r;
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &o);
	w.s[0].hub = hub_to(r.port, &o, VCN_HUB_UDP, 0);	/* the hub only knows the relay */
	ASSERT(cam_hub[0] && w.s[0].hub);
	EXPECT(run_until(&w, cam_path_is, VCN_PATH_UDP));
	for (uint32_t i = 0; i < 5; i++)
		EXPECT(send_unit(&w, cam_hub[0], i, 30000, i == 0) == VCN_SEND_QUEUED);
	EXPECT(run_until(&w, side0_got, 5));
	relay_rebind(&r);
	EXPECT(run_until(&w, cam_relatched, 1));
	for (uint32_t i = 5; i < 10; i++)
		EXPECT(send_unit(&w, cam_hub[0], i, 30000, false) == VCN_SEND_QUEUED);
	EXPECT(run_until(&w, side0_got, 10));
	EXPECT(w.s[0].bad == 0);
	for (size_t i = 0; i < w.s[0].n; i++)
		EXPECT(w.s[0].got[i] == (long)i);
	EXPECT(vcn_cam_hub_stats(cam_hub[0])->relatched == 1);
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

	w.cam = camera(0, true, 0, 5000);
	ASSERT(w.cam);
	cam_addr = loopback(vcn_cam_port(w.cam));
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &o);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, VCN_HUB_UDP, 0);
	ASSERT(cam_hub[0] && w.s[0].hub);
	EXPECT(run_until(&w, cam_path_is, VCN_PATH_UDP));

	rogue = udp_on(0);
	memcpy(bad_token, o.token, VCN_TOKEN_LEN);
	bad_token[VCN_TOKEN_LEN - 1] ^= 0x01;	/* one bit off at either end */
	vcn_hello_encode(VCN_HELLO_UDP, bad_token, hello);
	sendto(rogue, hello, sizeof(hello), 0, (struct sockaddr *)&cam_addr, sizeof(cam_addr));
	bad_token[VCN_TOKEN_LEN - 1] ^= 0x01;
	bad_token[0] ^= 0x80;
	vcn_hello_encode(VCN_HELLO_UDP, bad_token, hello);
	sendto(rogue, hello, sizeof(hello), 0, (struct sockaddr *)&cam_addr, sizeof(cam_addr));
	sendto(rogue, "VCMH", 4, 0, (struct sockaddr *)&cam_addr, sizeof(cam_addr));
	rogue_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT(connect(rogue_tcp, (struct sockaddr *)&cam_addr, sizeof(cam_addr)) == 0);
	vcn_hello_encode(VCN_HELLO_TCP, bad_token, hello);
	ASSERT(send(rogue_tcp, hello, sizeof(hello), 0) == (ssize_t)sizeof(hello));
	run_for(&w, 50);
	for (uint32_t i = 0; i < 3; i++)
		EXPECT(send_unit(&w, cam_hub[0], i, 5000, i == 0) == VCN_SEND_QUEUED);
	EXPECT(run_until(&w, side0_got, 3));
	run_for(&w, 50);
	EXPECT(vcn_cam_stats(w.cam)->hello_bad_token == 2);
	EXPECT(vcn_cam_stats(w.cam)->hello_malformed == 1);
	EXPECT(vcn_cam_stats(w.cam)->tcp_refused == 1);
	EXPECT(vcn_cam_hub_stats(cam_hub[0])->relatched == 0);
	EXPECT(recv(rogue, buf, sizeof(buf), MSG_DONTWAIT) < 0 && errno == EAGAIN);
	EXPECT(recv(rogue_tcp, buf, sizeof(buf), 0) == 0);	/* closed, nothing sent */
	EXPECT(vcn_cam_hub_path(cam_hub[0]) == VCN_PATH_UDP);
	/* a flood is read in bounded rounds, so the daemon's loop keeps turning */
	before = vcn_cam_stats(w.cam)->hello_malformed;
	for (int i = 0; i < 300; i++)
		sendto(rogue, "junk", 4, 0, (struct sockaddr *)&cam_addr, sizeof(cam_addr));
	vcn_cam_process(w.cam, now_ns());
	first = vcn_cam_stats(w.cam)->hello_malformed - before;
	vcn_cam_process(w.cam, now_ns());
	EXPECT(first > 0 && first <= 256);
	EXPECT(vcn_cam_stats(w.cam)->hello_malformed - before > first);
	close(rogue);
	close(rogue_tcp);
	world_free(&w);
}

/* UDP black-holed by the relay: the hub asks for TCP by connecting, media flows. */
static void test_tcp_fallback(void)
{
	struct world w = { .ns = 1 };
	struct relay r;
	struct vcn_offer o;

	w.cam = camera(0, true, 0, 5000);
	ASSERT(w.cam);
	relay_init(&r, vcn_cam_port(w.cam), true);
	ASSERT(r.listen >= 0);
	r.drop_udp = true;
	w.relay = &r;
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &o);
	w.s[0].hub = hub_to(r.port, &o, VCN_HUB_AUTO, 300);
	ASSERT(cam_hub[0] && w.s[0].hub);
	EXPECT(vcn_cam_hub_path(cam_hub[0]) == VCN_PATH_NONE);
	EXPECT(send_unit(&w, cam_hub[0], 99, 1000, true) == VCN_SEND_NO_PATH);
	EXPECT(run_until(&w, cam_path_is, VCN_PATH_TCP));
	EXPECT(vcn_hub_stats(w.s[0].hub)->fallbacks == 1);
	EXPECT(vcn_hub_path(w.s[0].hub) == VCN_PATH_TCP);
	for (uint32_t i = 0; i < 4; i++)
		EXPECT(send_unit(&w, cam_hub[0], i, 100000, i == 0) == VCN_SEND_QUEUED);
	EXPECT(run_until(&w, side0_got, 4));
	EXPECT(w.s[0].bad == 0 && w.s[0].got[0] == 0 && w.s[0].got[3] == 3);
	EXPECT(vcn_cam_hub_stats(cam_hub[0])->dropped_no_path == 1);
	world_free(&w);
	relay_close(&r);
}

static bool cam_path3_is(struct world *w, long path)
{
	(void)w;
	return vcn_cam_hub_path(cam_hub[3]) == path;
}

/*
 * Four hubs: one stays, one goes silent (TCP, no FIN), one says bye, and
 * one (a bare TCP media connection) just closes.
 */
static void test_hubs_vanish(void)
{
	struct world w = { .ns = 3 };
	struct vcn_offer o[4];
	uint8_t hello[VCN_HELLO_LEN];
	struct sockaddr_in a;
	int bare;
	static const enum vcn_hub_transport t[3] = { VCN_HUB_UDP, VCN_HUB_TCP, VCN_HUB_UDP };
	uint32_t sent = 0;

	w.cam = camera(0, true, 0, 1000);
	ASSERT(w.cam);
	for (int i = 0; i < 3; i++) {
		cam_hub[i] = vcn_cam_hub_add(w.cam, now_ns(), &o[i]);
		w.s[i].hub = hub_to(vcn_cam_port(w.cam), &o[i], t[i], 0);
		ASSERT(cam_hub[i] && w.s[i].hub);
	}
	EXPECT(memcmp(o[0].token, o[1].token, VCN_TOKEN_LEN) && o[0].ssrc != o[1].ssrc);
	cam_hub[3] = vcn_cam_hub_add(w.cam, now_ns(), &o[3]);
	ASSERT(cam_hub[3]);
	a = loopback(vcn_cam_port(w.cam));
	bare = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT(connect(bare, (struct sockaddr *)&a, sizeof(a)) == 0);
	vcn_hello_encode(VCN_HELLO_TCP, o[3].token, hello);
	ASSERT(send(bare, hello, sizeof(hello), 0) == (ssize_t)sizeof(hello));
	EXPECT(run_until(&w, cam_path3_is, VCN_PATH_TCP));
	close(bare);
	EXPECT(run_until(&w, cam_path3_is, VCN_PATH_GONE));
	EXPECT(vcn_cam_stats(w.cam)->hubs_expired == 1);
	vcn_cam_hub_remove(w.cam, cam_hub[3]);
	run_for(&w, 100);
	for (int i = 0; i < 3; i++)
		EXPECT(vcn_cam_hub_path(cam_hub[i]) == (t[i] == VCN_HUB_TCP ? VCN_PATH_TCP : VCN_PATH_UDP));
	for (; sent < 3; sent++)
		for (int i = 0; i < 3; i++)
			EXPECT(send_unit(&w, cam_hub[i], sent, 20000, sent == 0) == VCN_SEND_QUEUED);
	EXPECT(run_until(&w, all_got, 3));

	w.s[1].paused = true;		/* silent: no keepalives, socket left open */
	vcn_hub_free(w.s[2].hub);	/* leaves with a bye */
	w.s[2].hub = NULL;
	/* the camera keeps sending to everyone for longer than the hub timeout */
	for (int64_t end = now_ns() + 1500000000LL; now_ns() < end; sent++) {
		for (int i = 0; i < 3; i++)
			send_unit(&w, cam_hub[i], sent, 20000, false);
		run_for(&w, 20);
	}
	EXPECT(run_until(&w, side0_got, sent));
	EXPECT(w.s[0].n == sent && w.s[0].bad == 0);
	for (size_t i = 0; i < w.s[0].n; i++)
		EXPECT(w.s[0].got[i] == (long)i);
	EXPECT(vcn_cam_hub_path(cam_hub[0]) == VCN_PATH_UDP);
	EXPECT(vcn_cam_hub_path(cam_hub[1]) == VCN_PATH_GONE);
	EXPECT(vcn_cam_hub_path(cam_hub[2]) == VCN_PATH_GONE);
	EXPECT(vcn_cam_stats(w.cam)->hubs_expired == 3);
	EXPECT(send_unit(&w, cam_hub[1], sent, 100, true) == VCN_SEND_NO_PATH);
	vcn_cam_hub_remove(w.cam, cam_hub[1]);
	vcn_cam_hub_remove(w.cam, cam_hub[2]);
	EXPECT(send_unit(&w, cam_hub[0], sent, 100, false) == VCN_SEND_QUEUED);
	EXPECT(run_until(&w, side0_got, sent + 1));
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

	w.cam = camera(0, true, 0, 60000);
	ASSERT(w.cam);
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &o);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, VCN_HUB_TCP, 0);
	ASSERT(cam_hub[0] && w.s[0].hub);
	EXPECT(run_until(&w, cam_path_is, VCN_PATH_TCP));
	for (uint32_t i = 0; i < 400; i++) {
		key[i] = i % 25 == 0;
		if (!key[i])
			EXPECT(vcn_cam_hub_needs_keyframe(cam_hub[0]) == saw_full);
		res[i] = send_unit(&w, cam_hub[0], i, 150000, key[i]);
		if (res[i] == VCN_SEND_QUEUE_FULL) {
			full++;
			saw_full = true;
			EXPECT(vcn_cam_hub_needs_keyframe(cam_hub[0]));
		}
		if (res[i] == VCN_SEND_QUEUED) {
			queued++;
			if (key[i])
				saw_full = false;
		}
		EXPECT(res[i] != VCN_SEND_AWAIT_KEYFRAME || !key[i]);
	}
	EXPECT(vcn_cam_hub_stats(cam_hub[0])->dropped_queue_full > 0);
	EXPECT(vcn_cam_hub_stats(cam_hub[0])->dropped_await_keyframe > 0);
	/*
	 * now the hub reads: the queued units arrive, intact, in order, except
	 * those a later keyframe superseded while they waited in the queue
	 */
	superseded = vcn_cam_hub_stats(cam_hub[0])->dropped_queue_full - full;
	EXPECT(run_until(&w, side0_got, queued - superseded));
	run_for(&w, 50);
	EXPECT(vcn_cam_idle(w.cam));
	EXPECT(w.s[0].n == queued - superseded && w.s[0].bad == 0);
	for (size_t i = 0, prev = 0; i < w.s[0].n; i++) {
		long idx = w.s[0].got[i];

		EXPECT(idx >= 0 && idx < 400 && res[idx] == VCN_SEND_QUEUED);
		if (i && (size_t)idx != prev + 1)
			EXPECT(key[idx]);	/* after a gap: a keyframe */
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
	struct vcn_reasm_config rc = { 0 };
	struct vcn_reasm *r;
	struct vcn_offer o;
	struct vcn_unit u;
	uint8_t hello[VCN_HELLO_LEN], *buf = malloc(1 << 20);
	size_t have = 0, used, plen;
	const uint8_t *pkt;
	struct sockaddr_in a;
	bool got = false;
	int tcp;

	w.cam = camera(0, true, 0, 5000);
	ASSERT(w.cam && buf);
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &o);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, VCN_HUB_UDP, 0);
	ASSERT(cam_hub[0] && w.s[0].hub);
	EXPECT(run_until(&w, cam_path_is, VCN_PATH_UDP));
	EXPECT(send_unit(&w, cam_hub[0], 0, 9000, true) == VCN_SEND_QUEUED);
	EXPECT(run_until(&w, side0_got, 1));
	EXPECT(!vcn_cam_hub_needs_keyframe(cam_hub[0]));

	a = loopback(vcn_cam_port(w.cam));
	tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT(connect(tcp, (struct sockaddr *)&a, sizeof(a)) == 0);
	vcn_hello_encode(VCN_HELLO_TCP, o.token, hello);
	ASSERT(send(tcp, hello, sizeof(hello), 0) == (ssize_t)sizeof(hello));
	EXPECT(run_until(&w, cam_path_is, VCN_PATH_TCP));
	EXPECT(vcn_cam_hub_needs_keyframe(cam_hub[0]));
	EXPECT(send_unit(&w, cam_hub[0], 1, 9000, false) == VCN_SEND_AWAIT_KEYFRAME);
	EXPECT(send_unit(&w, cam_hub[0], 2, 200000, true) == VCN_SEND_QUEUED);

	rc.ssrc = o.ssrc;
	rc.pt = o.pt;
	r = vcn_reasm_new(&rc);
	for (int i = 0; i < 500 && !got; i++) {
		ssize_t n;

		step(&w, 5);
		n = recv(tcp, buf + have, (1 << 20) - have, MSG_DONTWAIT);
		if (n > 0)
			have += (size_t)n;
		while ((used = vcn_frame_next(buf, have, &pkt, &plen))) {
			EXPECT(vcn_reasm_push(r, pkt, plen, now_ns()) == VCN_PKT_FRAGMENT);
			memmove(buf, buf + used, have - used);
			have -= used;
		}
		while (vcn_reasm_pop(r, now_ns(), &u))
			got = unit_check(u.data, u.len) == 2;
	}
	EXPECT(got);
	EXPECT(w.s[0].n == 1);		/* nothing more on the old UDP path */
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

	w.cam = camera(0, false, 0, 5000);
	ASSERT(w.cam);
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &o);
	w.s[0].hub = hub_to(vcn_cam_port(w.cam), &o, VCN_HUB_TCP, 0);
	ASSERT(cam_hub[0] && w.s[0].hub);
	EXPECT(run_until(&w, side0_gone, 0));
	EXPECT(vcn_hub_path(w.s[0].hub) == VCN_PATH_GONE);
	world_free(&w);
}

/* The daemon accepts on its control port and hands a media hello to the camera. */
static void test_adopt_shared_port(void)
{
	struct world w = { .ns = 1 };
	struct vcn_offer o;
	uint8_t peek[4];
	int listener, fd, tls;
	struct sockaddr_in a;

	listener = tcp_listener(0);
	ASSERT(listener >= 0);
	w.cam = camera(port_of(listener), false, 0, 5000);	/* UDP on the same port number */
	ASSERT(w.cam);
	a = loopback(port_of(listener));
	cam_hub[0] = vcn_cam_hub_add(w.cam, now_ns(), &o);
	w.s[0].hub = hub_to(port_of(listener), &o, VCN_HUB_TCP, 0);
	ASSERT(cam_hub[0] && w.s[0].hub);
	tls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT(connect(tls, (struct sockaddr *)&a, sizeof(a)) == 0);
	ASSERT(send(tls, "\x16\x03\x01\x00\x10", 5, 0) == 5);
	for (int accepted = 0, tries = 0; accepted < 2 && tries < 1000; tries++) {
		step(&w, 5);
		fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		accepted++;
		/* what the daemon does: look at the first bytes without taking them */
		for (int i = 0; i < 1000 && recv(fd, peek, 4, MSG_PEEK) != 4; i++)
			step(&w, 5);
		if (vcn_hello_magic(peek, sizeof(peek))) {
			EXPECT(vcn_cam_adopt_tcp(w.cam, fd, now_ns()) == 0);
		} else {
			EXPECT(peek[0] == 0x16);	/* the control connection stays the daemon's */
			close(fd);
		}
	}
	EXPECT(run_until(&w, cam_path_is, VCN_PATH_TCP));
	EXPECT(send_unit(&w, cam_hub[0], 0, 70000, true) == VCN_SEND_QUEUED);
	EXPECT(run_until(&w, side0_got, 1));
	EXPECT(w.s[0].got[0] == 0 && w.s[0].bad == 0);
	close(tls);
	close(listener);
	world_free(&w);
}

int main(void)
{
	static const struct nettest tests[] = {
		{ "udp_roundtrip_0_to_1MiB_and_end", test_udp_roundtrip },
		{ "tcp_roundtrip_0_to_1MiB_and_end", test_tcp_roundtrip },
		{ "relay_latching_address_change", test_relay_latching },
		{ "wrong_token_dropped", test_wrong_token },
		{ "tcp_fallback_udp_blocked", test_tcp_fallback },
		{ "hubs_vanish_others_unaffected", test_hubs_vanish },
		{ "bounded_queue_needs_keyframe", test_bounded_queue_keyframe },
		{ "udp_to_tcp_switch", test_udp_to_tcp_switch },
		{ "tcp_unreachable_gone", test_tcp_unreachable_gone },
		{ "adopt_from_shared_port", test_adopt_shared_port },
	};

	return nettest_run(tests, sizeof(tests) / sizeof(tests[0]));
}
