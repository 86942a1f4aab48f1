// SPDX-License-Identifier: GPL-2.0
/*
 * gate.c - the unauthenticated side of the camera's listener (gate.h).
 *
 * All on the loop thread: accept, classify by the first byte (0x16 opens
 * a TLS record, 'V' a media hello), drive the non-blocking TLS handshake
 * or read the media hello, and give up on a connection at its absolute
 * deadline. The table is small (max_pending) and scanned linearly.
 *
 * The handshake budget: everything the gate does (accepts, reads, handshake
 * steps, closes) is timed on the loop thread's CPU clock and paid from a
 * bucket refilled at hs_share of the time the thread had: real time less
 * what it spent runnable but waiting for a CPU (its schedstat run delay).
 * On a host where others keep the loop off the CPU most of the time,
 * strangers so get hs_share of what the loop does run, not all of it (a
 * share of real time was all of it: the loop ran 20 % of the time while a
 * flood was paid 25 %, and the paired hubs' media stopped). With the
 * bucket empty a
 * connection whose handshake has a step to take waits, unwatched
 * ("parked"); when the bucket refills the parked connections are stepped
 * in turn. Until the camera's first flight is made (ServerHello ...
 * Finished: the key exchange and the signature, the costly step) a
 * connection's steps wait for its address's turn, the address served
 * longest ago first, so a hub's handshake waits behind one step of each
 * stranger address, never behind the whole flood. Once it is made, the
 * connection's steps (the client's second flight, the session hellos) are
 * taken before any other's: whoever got there paid a turn for the costly
 * step, and what comes after is cheap. A partial ClientHello or a
 * HelloRetryRequest does not make the flight, so trickling bytes or
 * asking for a retry buys no priority. The loop keeps the rest of its time
 * for the paired hubs' media.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "gate.h"

#define ACCEPTS_PER_EVENT	64	/* a SYN flood cannot hold the loop */
#define BUCKETS			256	/* source addresses remembered for the rate limit */
#define ADDR_KEY_LEN		9	/* family + IPv4 address or IPv6 /64 */

enum conn_state {
	CONN_CLASSIFY,		/* nothing read yet */
	CONN_TLS,		/* TLS handshake and session hellos */
	CONN_MEDIA,		/* reading the media hello */
};

struct conn {
	struct gate *g;
	int fd;
	enum conn_state state;
	uint8_t addr[ADDR_KEY_LEN];
	int64_t deadline_ns;
	uint64_t order;			/* accept order: lower is older */
	uint32_t events;		/* watched for; 0 while parked (not in the loop) */
	bool parked;			/* has something to say, waits for the budget */
	bool later;			/* past its first flight: its steps go first */
	struct vc_session *s;
	uint8_t hello[VCN_HELLO_LEN];
	size_t hello_len;
	char peer[SVC_ADDR_STR_MAX];
};

/* What the gate remembers of a source address, beyond its connections. */
struct bucket {
	uint8_t addr[ADDR_KEY_LEN];
	bool used;
	double tokens;
	int64_t at_ns;
	uint64_t served;		/* the last handshake step any of its connections took */
};

struct gate {
	struct svc_loop *loop;
	int listen_fd;
	struct gate_config cfg;
	const struct gate_ops *ops;
	void *data;
	struct conn **conns;		/* max_pending slots, n used, unordered */
	unsigned int n;
	uint64_t next_order;
	struct bucket buckets[BUCKETS];
	struct svc_timer *timer;
	int64_t timer_at;
	/* the handshake budget (loop thread CPU ns) and the parked connections */
	int64_t budget_ns;
	int64_t budget_at;		/* monotonic time of the last refill */
	uint64_t steps;			/* handshake steps taken, for turn order */
	unsigned int parked;
	uint64_t waits;			/* connections parked, in all */
	const struct conn *turn;	/* the parked connection on_wake is stepping */
	struct svc_timer *wake;		/* armed while connections are parked */
	int schedstat_fd;		/* the loop thread's; -2 until opened, -1 if none */
	int64_t run_delay_ns;		/* its run delay at budget_at */
};

static void addr_key(const struct sockaddr_storage *ss, uint8_t key[ADDR_KEY_LEN])
{
	memset(key, 0, ADDR_KEY_LEN);
	key[0] = (uint8_t)ss->ss_family;
	if (ss->ss_family == AF_INET)
		memcpy(key + 1, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(key + 1, &((const struct sockaddr_in6 *)ss)->sin6_addr, 8);
}

static void addr_text(const struct sockaddr_storage *ss, char out[SVC_ADDR_STR_MAX])
{
	char host[INET6_ADDRSTRLEN] = "?";

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		snprintf(out, SVC_ADDR_STR_MAX, "%s:%u", host, ntohs(a->sin_port));
	} else {
		const struct sockaddr_in6 *a = (const void *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		snprintf(out, SVC_ADDR_STR_MAX, "[%s]:%u", host, ntohs(a->sin6_port));
	}
}

static struct bucket *bucket_of(struct gate *g, const uint8_t addr[ADDR_KEY_LEN])
{
	for (unsigned int i = 0; i < BUCKETS; i++)
		if (g->buckets[i].used && !memcmp(g->buckets[i].addr, addr, ADDR_KEY_LEN))
			return &g->buckets[i];
	return NULL;
}

/* Take one attempt from the address's bucket: false when it is empty. */
static bool rate_take(struct gate *g, const uint8_t addr[ADDR_KEY_LEN], int64_t now)
{
	struct bucket *b = NULL, *lru = &g->buckets[0];

	for (unsigned int i = 0; i < BUCKETS; i++) {
		struct bucket *c = &g->buckets[i];

		if (c->used && !memcmp(c->addr, addr, ADDR_KEY_LEN)) {
			b = c;
			break;
		}
		if (!c->used || (lru->used && c->at_ns < lru->at_ns))
			lru = c;
	}
	if (!b) {
		b = lru;
		memcpy(b->addr, addr, ADDR_KEY_LEN);
		b->used = true;
		b->tokens = g->cfg.burst;
		b->at_ns = now;
		b->served = 0;
	}
	b->tokens += (double)(now - b->at_ns) * g->cfg.rate / 1e9;
	if (b->tokens > g->cfg.burst)
		b->tokens = g->cfg.burst;
	b->at_ns = now;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

static int64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * How long the loop thread has waited runnable for a CPU, in all (the
 * second field of /proc/thread-self/schedstat); -1 where the kernel does
 * not tell (no CONFIG_SCHED_INFO): the budget is then a share of real time.
 * Opened on first use, which is on the loop thread.
 */
static int64_t run_delay_ns(struct gate *g)
{
	char buf[96];
	unsigned long long cpu, delay;
	ssize_t n;

	if (g->schedstat_fd == -2) {
		g->schedstat_fd = open("/proc/thread-self/schedstat", O_RDONLY | O_CLOEXEC);
		/* no such file: never will be; another failure (EMFILE in a flood): next time */
		if (g->schedstat_fd < 0)
			g->schedstat_fd = errno == ENOENT ? -1 : -2;
	}
	if (g->schedstat_fd < 0)
		return -1;
	n = pread(g->schedstat_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%llu %llu", &cpu, &delay) != 2)
		return -1;
	return (int64_t)delay;
}

static void budget_refill(struct gate *g, int64_t now)
{
	int64_t delay = run_delay_ns(g), had = now - g->budget_at;

	/* the time the thread had: not the time others kept it off the CPU */
	if (delay >= 0 && g->run_delay_ns >= 0 && delay >= g->run_delay_ns)
		had -= delay - g->run_delay_ns < had ? delay - g->run_delay_ns : had;
	g->budget_ns += (int64_t)((double)had * g->cfg.hs_share);
	if (g->budget_ns > g->cfg.hs_burst_ns)
		g->budget_ns = g->cfg.hs_burst_ns;
	g->budget_at = now;
	g->run_delay_ns = delay;
}

/* Pay the budget for the loop's CPU time since @t0 (a thread_cpu_ns() reading); now's reading. */
static int64_t budget_pay(struct gate *g, int64_t t0)
{
	int64_t t = thread_cpu_ns();

	g->budget_ns -= t - t0;
	return t;
}

/* Wake the parked connections when the budget is positive again (1 ms at the least). */
static void arm_wake(struct gate *g)
{
	int64_t wait = (int64_t)((double)-g->budget_ns / g->cfg.hs_share) + 1;

	svc_timer_arm(g->wake, wait > 1000000 ? (uint64_t)wait : 1000000, 0);
}

static void rearm(struct gate *g)
{
	int64_t first = INT64_MAX;	/* none: disarmed */

	for (unsigned int i = 0; i < g->n; i++)
		if (g->conns[i]->deadline_ns < first)
			first = g->conns[i]->deadline_ns;
	if (g->timer_at == first)
		return;
	g->timer_at = first;
	svc_timer_arm_at(g->timer, (uint64_t)first);
}

/* Out of the table; the fd is closed unless the caller took it (fd = -1). */
static void conn_release(struct conn *c)
{
	struct gate *g = c->g;

	for (unsigned int i = 0; i < g->n; i++) {
		if (g->conns[i] == c) {
			g->conns[i] = g->conns[--g->n];
			break;
		}
	}
	if (c->parked)
		g->parked--;
	if (c->fd >= 0) {
		svc_loop_remove_fd(g->loop, c->fd);
		close(c->fd);
	}
	vc_session_free(c->s);
	free(c);
}

static void conn_refuse(struct conn *c, const char *reason, const char *why)
{
	c->g->ops->reject(c->g->data, reason, c->peer, why);
	conn_release(c);
}

/* Hand the fd over: stop watching it here. */
static int conn_take_fd(struct conn *c)
{
	int fd = c->fd;

	svc_loop_remove_fd(c->g->loop, fd);
	c->fd = -1;
	return fd;
}

static void on_conn(void *data, uint32_t events);

static void conn_watch(struct conn *c, uint32_t events)
{
	if (c->events == events)
		return;
	if (!c->events) {
		if (svc_loop_add_fd(c->g->loop, c->fd, events, on_conn, c) == 0)
			c->events = events;
	} else if (svc_loop_mod_fd(c->g->loop, c->fd, events) == 0) {
		c->events = events;
	}
}

/* Out of the loop until the budget allows its next step (on_wake). */
static void conn_park(struct conn *c)
{
	struct gate *g = c->g;

	svc_loop_remove_fd(g->loop, c->fd);
	c->events = 0;
	c->parked = true;
	g->parked++;
	g->waits++;
	if (g->parked == 1)
		arm_wake(g);
}

static void tls_start(struct conn *c)
{
	struct gate *g = c->g;
	struct vc_session_config sc = {
		.role = VC_ROLE_CAMERA,
		.key = g->cfg.key,
		.prefer = g->cfg.prefer,
	};
	struct vc_peer *peers = NULL;
	size_t n = 0;

	/* the pairing records as they are now: an unpaired hub fails this very handshake */
	if (g->ops->peers(g->data, &peers, &n) == 0) {
		sc.peers = peers;
		sc.n_peers = n;
	}
	c->s = vc_session_new(&sc, c->fd);
	free(peers);
}

static const char *cause_reason(enum vc_session_cause cause)
{
	return cause == VC_SESSION_NOT_PAIRED ? "unpaired" :
	       cause == VC_SESSION_PENDING ? "pending" :
	       cause == VC_SESSION_CLOSED ? "closed" : "handshake";
}

static bool conn_step_tls(struct conn *c);

/* Returns true when c was released or handed over. */
static bool conn_step(struct conn *c)
{
	uint8_t first;
	ssize_t n;

	if (c->state == CONN_CLASSIFY) {
		n = recv(c->fd, &first, 1, MSG_PEEK);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return false;
		if (n <= 0) {
			conn_refuse(c, "closed", "closed before saying anything");
			return true;
		}
		if (first == 0x16) {
			c->state = CONN_TLS;
		} else if (first == 'V') {	/* "VCMH": a media hello (wire.h) */
			c->state = CONN_MEDIA;
		} else {
			conn_refuse(c, "garbage", "neither TLS nor a media hello");
			return true;
		}
	}
	if (c->state == CONN_MEDIA) {
		n = recv(c->fd, c->hello + c->hello_len, VCN_HELLO_LEN - c->hello_len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return false;
		if (n <= 0) {
			conn_refuse(c, "closed", "media connection closed within its hello");
			return true;
		}
		c->hello_len += (size_t)n;
		if (c->hello_len < VCN_HELLO_LEN)
			return false;
		c->g->ops->media(c->g->data, conn_take_fd(c), c->hello);
		conn_release(c);
		return true;
	}
	return conn_step_tls(c);
}

/* One paid step of the TLS handshake; true when c was released or handed over. */
static bool conn_step_tls(struct conn *c)
{
	struct gate *g = c->g;
	struct bucket *b;
	enum vc_io io;

	budget_refill(g, (int64_t)clk_mono_ns());
	/* with others waiting, wait too: on_wake takes the connections in order */
	if (g->budget_ns <= 0 || (g->parked && g->turn != c)) {
		if (!c->parked)
			conn_park(c);
		return false;
	}
	if (!c->s)
		tls_start(c);
	io = c->s ? vc_session_advance(c->s) : VC_IO_FAIL;
	c->later = c->s && vc_session_past_first_flight(c->s);
	b = bucket_of(g, c->addr);
	if (b)
		b->served = ++g->steps;
	switch (io) {
	case VC_IO_READ:
		conn_watch(c, EPOLLIN);
		return false;
	case VC_IO_WRITE:
		conn_watch(c, EPOLLOUT);
		return false;
	case VC_IO_DONE: {
		struct vc_session *s = c->s;

		c->s = NULL;
		c->g->ops->session(c->g->data, conn_take_fd(c), s, c->peer);
		conn_release(c);
		return true;
	}
	case VC_IO_FAIL:
		break;
	}
	conn_refuse(c, c->s ? cause_reason(vc_session_cause(c->s)) : "handshake", vc_last_error());
	return true;
}

static void on_conn(void *data, uint32_t events)
{
	struct conn *c = data;
	struct gate *g = c->g;
	int64_t t0 = thread_cpu_ns();

	(void)events;
	if (conn_step(c))
		rearm(g);
	budget_pay(g, t0);
}

/*
 * The parked connection whose turn it is: one past its first flight before
 * any other; then its address served longest ago (remembered across its
 * connections: a flood of new connections from one address does not make
 * it new), then the oldest.
 */
static struct conn *next_turn(struct gate *g)
{
	struct conn *best = NULL;
	uint64_t best_served = 0;

	for (unsigned int i = 0; i < g->n; i++) {
		struct conn *c = g->conns[i];
		const struct bucket *b;
		uint64_t served;

		if (!c->parked)
			continue;
		b = bucket_of(g, c->addr);
		served = b ? b->served : 0;
		if (!best || (c->later && !best->later) ||
		    (c->later == best->later &&
		     (served < best_served || (served == best_served && c->order < best->order)))) {
			best = c;
			best_served = served;
		}
	}
	return best;
}

/* The budget has refilled: parked connections take their steps in turn. */
static void on_wake(void *data)
{
	struct gate *g = data;
	struct conn *c;
	int64_t t0 = thread_cpu_ns();

	budget_refill(g, (int64_t)clk_mono_ns());
	while (g->budget_ns > 0 && (c = next_turn(g))) {
		c->parked = false;
		g->parked--;
		g->turn = c;
		conn_step(c);
		g->turn = NULL;
		t0 = budget_pay(g, t0);
	}
	if (g->parked)
		arm_wake(g);
	rearm(g);
}

/* The oldest connection of the address holding the most slots (ties: oldest). */
static struct conn *victim(struct gate *g, const uint8_t addr[ADDR_KEY_LEN], bool same_addr)
{
	struct conn *best = NULL;
	unsigned int best_count = 0;

	for (unsigned int i = 0; i < g->n; i++) {
		struct conn *c = g->conns[i];
		unsigned int count = 0;

		if (same_addr && memcmp(c->addr, addr, ADDR_KEY_LEN))
			continue;
		for (unsigned int j = 0; j < g->n; j++)
			count += !memcmp(g->conns[j]->addr, c->addr, ADDR_KEY_LEN);
		if (!best || count > best_count || (count == best_count && c->order < best->order)) {
			best = c;
			best_count = count;
		}
	}
	return best;
}

static unsigned int count_addr(const struct gate *g, const uint8_t addr[ADDR_KEY_LEN])
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < g->n; i++)
		n += !memcmp(g->conns[i]->addr, addr, ADDR_KEY_LEN);
	return n;
}

static void admit(struct gate *g, int fd, const struct sockaddr_storage *ss, int64_t now)
{
	struct conn *c, *v = NULL;
	const char *why = NULL;
	uint8_t key[ADDR_KEY_LEN];
	char peer[SVC_ADDR_STR_MAX];

	addr_key(ss, key);
	addr_text(ss, peer);
	if (!rate_take(g, key, now)) {
		close(fd);
		g->ops->reject(g->data, "rate", peer, "too many connection attempts from its address");
		return;
	}
	if (count_addr(g, key) >= g->cfg.per_addr) {
		v = victim(g, key, true);
		why = "a newer connection from its address took the slot";
	} else if (g->n >= g->cfg.max_pending) {
		v = victim(g, key, false);
		why = "a newer connection took the slot of the busiest address";
	}
	if (why && !v) {	/* a limit of 0: no slot to free, the newcomer goes */
		close(fd);
		g->ops->reject(g->data, "busy", peer, "no connection slot");
		return;
	}
	if (v)
		conn_refuse(v, "evicted", why);
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	*c = (struct conn){ .g = g, .fd = fd, .state = CONN_CLASSIFY, .events = EPOLLIN,
			    .deadline_ns = now + g->cfg.deadline_ns, .order = g->next_order++ };
	memcpy(c->addr, key, ADDR_KEY_LEN);
	memcpy(c->peer, peer, sizeof(peer));
	if (svc_loop_add_fd(g->loop, fd, EPOLLIN, on_conn, c) < 0) {
		close(fd);
		free(c);
		return;
	}
	g->conns[g->n++] = c;
}

static void on_accept(void *data, uint32_t events)
{
	struct gate *g = data;
	int64_t t0 = thread_cpu_ns();

	(void)events;
	for (unsigned int i = 0; i < ACCEPTS_PER_EVENT; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(g->listen_fd, (struct sockaddr *)&ss, &len,
				 SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0)
			break;
		admit(g, fd, &ss, (int64_t)clk_mono_ns());
	}
	rearm(g);
	budget_pay(g, t0);	/* strangers' accepts are paid from it too */
}

static void on_deadline(void *data)
{
	struct gate *g = data;
	int64_t now = (int64_t)clk_mono_ns(), t0 = thread_cpu_ns();

	g->timer_at = 0;
	for (unsigned int i = 0; i < g->n;) {
		struct conn *c = g->conns[i];

		if (c->deadline_ns > now) {
			i++;
			continue;
		}
		conn_refuse(c, "timeout", c->state == CONN_TLS ? "handshake not finished in time" :
			    c->state == CONN_MEDIA ? "media hello not finished in time" :
			    "sent nothing in time");
	}
	rearm(g);
	budget_pay(g, t0);
}

struct gate *gate_new(struct svc_loop *loop, int listen_fd, const struct gate_config *cfg,
		      const struct gate_ops *ops, void *data)
{
	struct gate *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->loop = loop;
	g->listen_fd = listen_fd;
	g->cfg = *cfg;
	g->ops = ops;
	g->data = data;
	if (!g->cfg.max_pending)
		g->cfg.max_pending = 64;
	if (!g->cfg.per_addr)
		g->cfg.per_addr = 16;
	if (g->cfg.rate <= 0)
		g->cfg.rate = 8;
	if (g->cfg.burst < 1)
		g->cfg.burst = 32;
	if (!g->cfg.deadline_ns)
		g->cfg.deadline_ns = VC_HANDSHAKE_TIMEOUT_NS;
	if (g->cfg.hs_share <= 0 || g->cfg.hs_share > 1)
		g->cfg.hs_share = 0.25;
	if (g->cfg.hs_burst_ns <= 0)
		g->cfg.hs_burst_ns = 50000000;
	g->budget_ns = g->cfg.hs_burst_ns;
	g->budget_at = (int64_t)clk_mono_ns();
	g->schedstat_fd = -2;
	g->run_delay_ns = -1;
	g->conns = calloc(g->cfg.max_pending, sizeof(*g->conns));
	g->timer = svc_timer_new(loop, on_deadline, g);
	g->wake = svc_timer_new(loop, on_wake, g);
	if (!g->conns || !g->timer || !g->wake ||
	    svc_loop_add_fd(loop, listen_fd, EPOLLIN, on_accept, g) < 0) {
		svc_timer_free(g->wake);
		svc_timer_free(g->timer);
		free(g->conns);
		free(g);
		return NULL;
	}
	return g;
}

void gate_free(struct gate *g)
{
	if (!g)
		return;
	svc_loop_remove_fd(g->loop, g->listen_fd);
	while (g->n)
		conn_release(g->conns[0]);
	svc_timer_free(g->wake);
	svc_timer_free(g->timer);
	if (g->schedstat_fd >= 0)
		close(g->schedstat_fd);
	free(g->conns);
	free(g);
}

unsigned int gate_pending(const struct gate *g)
{
	return g->n;
}

uint64_t gate_waits(const struct gate *g)
{
	return g->waits;
}
