// SPDX-License-Identifier: GPL-2.0
/*
 * relay.c - a hostile relay between veracam hubs and cameras, for the
 * adversarial suite (docs/ADVERSARIAL.md).
 *
 * It plays the untrusted middle of the product brief (P7): a cloud
 * forwarder that hubs reach instead of their cameras. Each *link* is one
 * hub's route to one camera: a front address on 127.0.0.0/8 where the hub
 * connects (TCP: the TLS control channel and TCP media; UDP: hellos and
 * media), and the camera behind it. The relay forwards both transports
 * like an address-translating relay (one upstream UDP socket per hub
 * address, so the camera latches media back to the relay), and on command
 * it attacks them:
 *
 *   misroute   new connections and flows of a link go to another camera
 *   swap       each new connection/flow goes to a random camera, or each
 *              link's media is replaced by a random camera's live stream
 *   substitute a link's media is replaced by another camera's live units,
 *              rewritten into the link's stream (SSRC, PT, unit numbers)
 *   splice     units of another camera's live stream injected into a link
 *              (whole units, rewritten: the core must say other-session),
 *              or fragments of them under the link's own fragment headers
 *              (mixed content: the core's AEAD must say decrypt)
 *   replay     units recorded earlier on the link served again instead of
 *              the live ones: as recorded, rewritten into the current
 *              stream, or with the current session id written over the
 *              recorded one
 *   network    drop, duplicate, reorder, delay + jitter, corrupt, truncate,
 *              bandwidth limit with a bounded queue, control corruption
 *   outage     every connection dropped at once; listeners closed
 *              (refuse) or not served (blackhole) until restore
 *   hold       the first control bytes after the TLS handshake, in one
 *              direction, held for seconds and trickled a byte at a time
 *              (no read times out), once per connection
 *   zombie     the hub's closes swallowed: the camera side of its TCP
 *              connections stays open, its UDP byes are dropped and its
 *              last keepalive hello is replayed to the camera
 *   inject     an on-path observer sending from a third address: copies of
 *              the hub's hellos to the camera, forged stream ends, far-ahead
 *              fragments and keyframe units to the hub
 *   stall      the camera side of a link's TCP media is no longer read
 *
 * Every decision comes from a per-link generator seeded from --seed and
 * the link's name, so a run's decisions depend only on the seed and on
 * the packets that arrive. Addresses outside 127.0.0.0/8 are refused.
 *
 * Commands arrive on stdin, one per line; each gets one JSON line on
 * stdout (see usage()). The relay stops on "quit", on stdin EOF and after
 * --max-runtime seconds, whatever happens.
 *
 * The wire formats it understands are the ones docs/TRANSPORT.md
 * specifies (RTP + veracam fragment header, RFC 4571 framing, hellos)
 * and the sealed unit header of docs/PROTOCOL.md §8. It is written from
 * those documents, not from the product's code.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CAMERAS	16
#define MAX_LINKS	64
#define MAX_CONNS	512
#define FLOWS_PER_LINK	16
#define FLOW_IDLE_NS	(15ull * 1000000000ull)
#define RTP_LEN		12
#define FRAG_LEN	20
#define PKT_OVERHEAD	(RTP_LEN + FRAG_LEN)
/*
 * Fragment header version 1 carries the bytes only; version 2 (transport
 * version 2) appends a 16-byte MAC the relay cannot compute, so whatever
 * the relay cuts or alters itself is a forgery to the hub. The relay
 * speaks the version of the live stream it learned from.
 */
#define TAG_LEN(ver)	((ver) >= 2 ? 16u : 0u)
#define UDP_STRIDE(ver)	((ver) >= 2 ? 1152u : 1168u)
#define TCP_STRIDE(ver)	((ver) >= 2 ? 65487u : 65503u)
#define TCP_STRIDE_MAX	65503
#define UNIT_MAX	(2u << 20)
#define UNIT_HDR	32
#define SID_OFF		4
#define SID_LEN		16
#define HELLO_LEN	24
#define PENDING_MAX	16384
#define PENDING_BYTES	(64u << 20)
#define QUEUE_MEDIA_MAX	(1u << 20)	/* TCP media backlog before frames drop */
#define QUEUE_CTL_MAX	(4u << 20)	/* TCP control backlog before the pair closes */
#define RECORD_UNITS	1200
#define RECORD_BYTES	(32u << 20)
#define AHEAD		(1u << 20)	/* injected unit numbers stay this far ahead */
#define NS		1000000000ull
#define MS		1000000ull
#define HELLO_COPY_MAX	256		/* a copied hello (v1: 24 bytes, v2: 64) */
#define TEMPLATE_MAX	2048		/* a copied UDP media packet */
#define STALL_RCVBUF	4096		/* receive buffer of a stalled media connection */
#define STALL_MSS	536		/* and its segment size */
#define STALL_BURST	2048		/* bytes a slow reader may read at once */
#define ZOMBIE_HOLDBACK	(250 * MS)	/* hub->camera TCP bytes wait this long in zombie mode */

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */
/* ------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool newer(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b) > 0;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "relay: out of memory\n");
		exit(1);
	}
	return p;
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Parse "A.B.C.D:PORT" on 127.0.0.0/8 only. */
static bool parse_addr(const char *s, struct sockaddr_in *out)
{
	char host[32];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;

	if (!colon || (size_t)(colon - s) >= sizeof(host))
		return false;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	port = strtoul(colon + 1, &end, 10);
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	if (*end || !port || port > 65535 || inet_pton(AF_INET, host, &out->sin_addr) != 1)
		return false;
	out->sin_port = htons((uint16_t)port);
	return (ntohl(out->sin_addr.s_addr) >> 24) == 127;
}

static bool same_addr(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
	return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

/* splitmix64 seeds, xorshift64* draws: cheap and reproducible. */
struct rng {
	uint64_t s;
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, const char *name)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (const char *p = name; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	h ^= seed;
	r->s = splitmix(&h) | 1;
}

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* Uniform in [0, 1). */
static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static bool chance(struct rng *r, double p)
{
	return p > 0 && (p >= 1 || rng_unit(r) < p);
}

static uint64_t rng_below(struct rng *r, uint64_t n)
{
	return n ? rng_next(r) % n : 0;
}

/* ------------------------------------------------------------------ */
/* State                                                                */
/* ------------------------------------------------------------------ */

enum htype { H_LISTEN, H_FRONT_UDP, H_FLOW, H_DOWN, H_UP, H_STDIN, H_THIRD };

struct handler {
	enum htype type;
	void *ptr;
};

/* A whole sealed unit as the relay saw it on a live stream. */
struct unit {
	uint8_t *data;
	uint32_t len;
	uint8_t flags;
	uint32_t ts;
	uint32_t num;
	uint32_t ssrc;
	uint8_t pt;
	uint64_t at_ns;		/* when it completed */
};

struct camera {
	char name[64];
	struct sockaddr_in addr;
	struct unit latest;	/* newest complete unit of any of its sessions */
	bool have_latest;
	uint64_t units_seen;
};

struct faults {
	double drop, dup, reorder, corrupt, truncate;
	double splice_pkt, splice_au, ctl_corrupt;
	double renumber;	/* a genuine packet's unit number moved AHEAD forward */
	bool splice_collide;	/* injected number = next genuine one */
	int splice_from;	/* camera index, -1 none */
	uint64_t delay_ns, jitter_ns, reorder_ns, queue_ns;
	uint64_t rate_bps;	/* 0 = unlimited */
	bool both_ways;		/* UDP hub->camera packets suffer too */
	bool ctl_undelayed;	/* delay_ctl=0: delay and jitter spare the control stream */
	uint64_t hold_ns;	/* hold the first post-handshake control bytes this long */
	uint64_t trickle_ns;	/* one held byte let through per this interval */
	bool hold_to_hub;	/* the camera->hub direction, else hub->camera */
	bool zombie;		/* swallow the hub's closes, replay its hellos */
	uint64_t zombie_ns;	/* replay period */
	uint64_t inject_ns;	/* an injection from the third address per this period */
	bool stall;		/* TCP media from the camera read slowly, or not at all */
	uint64_t stall_bps;	/* bytes per second read then */
};

struct link_stats {
	uint64_t conns, conns_misrouted, flows, flows_misrouted;
	uint64_t pkts_down, pkts_up, bytes_down, units_seen;
	uint64_t dropped, duplicated, reordered, corrupted, truncated, delayed;
	uint64_t bw_dropped, queue_dropped, ctl_corrupted, renumbered;
	uint64_t spliced_au, spliced_pkt, spliced_pkt_units, substituted, replayed, withheld;
	uint64_t killed, flows_expired;
	uint64_t units_key;		/* units flagged keyframe seen from the camera */
	uint64_t holds, held_bytes;
	uint64_t zombies, hello_replays, byes_swallowed, swallowed_bytes;
	uint64_t inj_hello, inj_end, inj_ahead, inj_key, third_media, third_other;
	uint64_t stalled;
};

enum replay_mode { REPLAY_OFF, REPLAY_RAW, REPLAY_REWRITE, REPLAY_RESESSION };

struct flow;
struct conn;

/* Per-link reassembly of the live downstream, to learn and to record. */
struct tracker {
	bool active;
	uint32_t ssrc, num, total, stride, ts, nfrags, have;
	uint8_t flags, pt;
	uint8_t *buf;
	uint8_t *bitmap;
};

struct link {
	char id[32];
	int cam;		/* the camera this link belongs to */
	int route;		/* camera for new connections/flows, -1 = own */
	int subst;		/* camera whose live units replace the media, -1 = none */
	struct sockaddr_in front;
	int listen_fd, udp_fd;
	struct handler hl, hu;
	struct faults f;
	struct rng rng;
	struct link_stats st;
	struct flow *flows;
	/* learned from the live stream of the current session */
	bool have_ssrc, have_sid;
	uint32_t ssrc, max_num;
	uint8_t pt;
	uint8_t frag_version;	/* of the live stream: 1 or 2 */
	uint8_t sid[SID_LEN];
	uint16_t inj_seq;
	uint32_t inj_count;
	uint32_t last_spliced_num;
	bool spliced_this_num;
	struct tracker trk;
	/* where injected packets go: the newest media path */
	struct conn *media_conn;
	struct flow *media_flow;
	/* bandwidth: when the link's downstream is free again */
	uint64_t down_free_ns, up_free_ns;
	/* recording and replay */
	bool recording;
	struct unit rec[RECORD_UNITS];
	unsigned int rec_n;
	size_t rec_bytes;
	enum replay_mode replay;
	unsigned int replay_pos;
	uint64_t replay_next_ns;
	/* TCP reorder: one frame held back */
	uint8_t *held;
	size_t held_len;
	/* hold: hub->camera TLS records of a handshake, learned on a clean connection */
	uint32_t hs_records;
	/* inject: the newest genuine UDP media packet and hub hello, the third address */
	uint8_t tmpl[TEMPLATE_MAX];
	size_t tmpl_len;
	uint8_t hello[HELLO_COPY_MAX];
	size_t hello_len;
	int third_fd;
	struct handler ht;
	uint64_t inject_next_ns;
	unsigned int inject_turn;
};

struct flow {
	struct flow *next;
	bool dead;		/* closed; freed after the current event batch */
	struct link *link;
	struct sockaddr_in hub;
	int fd;
	int cam;
	uint64_t last_ns;
	struct handler h;
	/* zombie: the hub's newest keepalive hello, replayed */
	uint8_t hello[HELLO_COPY_MAX];
	size_t hello_len;
	uint64_t replay_ns;
};

struct chunk {
	struct chunk *next;
	uint64_t due;
	size_t len, off;
	uint8_t data[];
};

struct queue {
	struct chunk *head, *tail;
	size_t bytes;
	uint64_t last_due;
};

enum conn_kind { K_UNKNOWN, K_CONTROL, K_MEDIA };

/* Where TLS records begin in one direction of a control connection. */
struct tls_scan {
	uint32_t records;	/* records begun */
	uint32_t left;		/* bytes of the current record's body still to come */
	uint8_t hdr[5];
	uint8_t have;		/* bytes of the next record's header seen */
};

enum hold_state { HOLD_IDLE, HOLD_ON, HOLD_DONE };

/* The hold of one direction of a control connection (once per connection). */
struct hold {
	enum hold_state state;
	uint64_t until;		/* the rest is let through then */
	uint64_t next;		/* the next trickled byte is due then */
};

enum { TO_CAMERA, TO_HUB };

struct conn {
	struct conn *next;
	bool dead;		/* closed; freed after the current event batch */
	struct link *link;
	int down_fd, up_fd;
	int cam;
	enum conn_kind kind;
	bool connecting;
	bool down_eof, up_eof;		/* read side saw EOF */
	bool down_shut, up_shut;	/* write side shut */
	uint32_t down_ev, up_ev;
	struct queue to_up, to_down;
	uint8_t *rbuf;			/* camera->hub framing (media) */
	size_t rlen;
	struct handler hd, hup;
	/* control: TLS records per direction (TO_CAMERA, TO_HUB), holds */
	struct tls_scan scan[2];
	bool hub_past_hello;		/* the hub sent more than its ClientHello */
	bool camera_post;		/* the camera sent bytes after the handshake */
	struct hold hold[2];
	bool zombie;			/* the hub side is gone; the camera side kept open */
	double read_budget;		/* stall: bytes it may read from the camera now */
	uint64_t budget_ns;		/* when the budget was last topped up */
};

struct pending {
	uint64_t due, seq;
	struct link *link;
	struct flow *flow;		/* to the camera through this flow */
	struct sockaddr_in to;		/* to the hub from the link's front socket */
	bool dead;
	size_t len;
	uint8_t data[];
};

static struct {
	int ep;
	uint64_t seed;
	struct camera cams[MAX_CAMERAS];
	unsigned int n_cams;
	struct link links[MAX_LINKS];
	unsigned int n_links;
	struct conn *conns;
	unsigned int n_conns;
	struct conn *dead_conns;
	struct flow *dead_flows;
	struct pending **heap;
	size_t heap_n, heap_bytes;
	uint64_t heap_seq;
	uint64_t heap_dropped;
	enum { OUT_NONE, OUT_REFUSE, OUT_BLACKHOLE } outage;
	enum { SWAP_OFF, SWAP_ROUTE, SWAP_MEDIA, SWAP_BOTH } swap;
	uint64_t outages, outage_started_ns, outage_ns_total, blackholed_dgrams;
	struct handler hin;
	char inbuf[4096];
	size_t inlen;
	bool quit;
	uint8_t dgram[65536];
} R;

/* ------------------------------------------------------------------ */
/* Epoll                                                                */
/* ------------------------------------------------------------------ */

static void ep_add(int fd, uint32_t ev, struct handler *h)
{
	struct epoll_event e = { .events = ev, .data.ptr = h };

	if (epoll_ctl(R.ep, EPOLL_CTL_ADD, fd, &e) < 0) {
		perror("relay: epoll_ctl");
		exit(1);
	}
}

static void ep_mod(int fd, uint32_t ev, struct handler *h)
{
	struct epoll_event e = { .events = ev, .data.ptr = h };

	epoll_ctl(R.ep, EPOLL_CTL_MOD, fd, &e);
}

static void ep_del(int fd)
{
	epoll_ctl(R.ep, EPOLL_CTL_DEL, fd, NULL);
}

static void close_fd(int *fd)
{
	if (*fd < 0)
		return;
	ep_del(*fd);
	close(*fd);
	*fd = -1;
}

/* ------------------------------------------------------------------ */
/* Scheduled datagrams (a binary heap on due time, FIFO among equals)   */
/* ------------------------------------------------------------------ */

static bool heap_less(const struct pending *a, const struct pending *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_swap(size_t i, size_t j)
{
	struct pending *t = R.heap[i];

	R.heap[i] = R.heap[j];
	R.heap[j] = t;
}

static void heap_push(struct pending *p)
{
	size_t i = R.heap_n++;

	R.heap[i] = p;
	R.heap_bytes += p->len;
	while (i && heap_less(R.heap[i], R.heap[(i - 1) / 2])) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct pending *heap_pop(void)
{
	struct pending *top = R.heap[0];
	size_t i = 0;

	R.heap[0] = R.heap[--R.heap_n];
	R.heap_bytes -= top->len;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < R.heap_n && heap_less(R.heap[l], R.heap[m]))
			m = l;
		if (r < R.heap_n && heap_less(R.heap[r], R.heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(i, m);
		i = m;
	}
	return top;
}

static void heap_clear(void)
{
	while (R.heap_n)
		free(heap_pop());
}

/* A datagram to send at @due: to the hub (flow == NULL) or the camera. */
static void schedule_dgram(struct link *l, struct flow *fl, const struct sockaddr_in *to,
			   const uint8_t *data, size_t len, uint64_t due)
{
	struct pending *p;

	if (R.heap_n >= PENDING_MAX || R.heap_bytes + len > PENDING_BYTES) {
		R.heap_dropped++;
		return;
	}
	p = xcalloc(1, sizeof(*p) + len);
	p->due = due;
	p->seq = R.heap_seq++;
	p->link = l;
	p->flow = fl;
	if (to)
		p->to = *to;
	p->len = len;
	memcpy(p->data, data, len);
	heap_push(p);
}

static void heap_forget_flow(struct flow *fl)
{
	for (size_t i = 0; i < R.heap_n; i++)
		if (R.heap[i]->flow == fl)
			R.heap[i]->dead = true;
}

static void heap_run(uint64_t now)
{
	while (R.heap_n && R.heap[0]->due <= now) {
		struct pending *p = heap_pop();

		if (!p->dead) {
			if (p->flow)
				send(p->flow->fd, p->data, p->len, MSG_DONTWAIT);
			else if (p->link->udp_fd >= 0)
				sendto(p->link->udp_fd, p->data, p->len, MSG_DONTWAIT,
				       (struct sockaddr *)&p->to, sizeof(p->to));
		}
		free(p);
	}
}

/* ------------------------------------------------------------------ */
/* TCP byte queues                                                      */
/* ------------------------------------------------------------------ */

static void queue_put(struct queue *q, const uint8_t *data, size_t len, uint64_t due)
{
	struct chunk *c;

	if (!len)
		return;
	if (due < q->last_due)
		due = q->last_due;	/* a byte stream keeps its order */
	q->last_due = due;
	c = xcalloc(1, sizeof(*c) + len);
	c->due = due;
	c->len = len;
	memcpy(c->data, data, len);
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->bytes += len;
}

static void queue_clear(struct queue *q)
{
	while (q->head) {
		struct chunk *c = q->head;

		q->head = c->next;
		free(c);
	}
	q->tail = NULL;
	q->bytes = 0;
}

/* Write what is due; -1 on a write error, else 0 (EAGAIN included). */
static int queue_flush(struct queue *q, int fd, uint64_t now, bool *blocked)
{
	*blocked = false;
	while (q->head && q->head->due <= now) {
		struct chunk *c = q->head;
		ssize_t n = send(fd, c->data + c->off, c->len - c->off, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				*blocked = true;
				return 0;
			}
			if (errno == EINTR)
				continue;
			return -1;
		}
		c->off += (size_t)n;
		q->bytes -= (size_t)n;
		if (c->off < c->len)
			continue;
		q->head = c->next;
		if (!q->head)
			q->tail = NULL;
		free(c);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Links, routes                                                        */
/* ------------------------------------------------------------------ */

static int find_camera(const char *name)
{
	for (unsigned int i = 0; i < R.n_cams; i++)
		if (!strcmp(R.cams[i].name, name))
			return (int)i;
	return -1;
}

/* The camera a new connection or flow of @l goes to. */
static int pick_camera(struct link *l)
{
	if (R.swap == SWAP_ROUTE || R.swap == SWAP_BOTH)
		return (int)rng_below(&l->rng, R.n_cams);
	return l->route >= 0 ? l->route : l->cam;
}

/* Due time of a packet of @len bytes on @l in one direction. */
static bool due_time(struct link *l, uint64_t now, size_t len, bool down, bool may_drop,
		     uint64_t *due)
{
	const struct faults *f = &l->f;
	uint64_t *free_at = down ? &l->down_free_ns : &l->up_free_ns;
	uint64_t t = now + f->delay_ns;

	if (f->jitter_ns)
		t += rng_below(&l->rng, f->jitter_ns + 1);
	if (f->delay_ns || f->jitter_ns)
		l->st.delayed++;
	if (f->rate_bps) {
		uint64_t start = *free_at > t ? *free_at : t;
		uint64_t busy = (uint64_t)len * 8 * NS / f->rate_bps;

		if (may_drop && start - t > (f->queue_ns ? f->queue_ns : NS / 2)) {
			l->st.bw_dropped++;
			return false;
		}
		*free_at = start + busy;
		t = start + busy;
	}
	*due = t;
	return true;
}

/* ------------------------------------------------------------------ */
/* Emitting media packets to the hub                                    */
/* ------------------------------------------------------------------ */

static void conn_want(struct conn *c);

static void emit_tcp_frame(struct conn *c, const uint8_t *pkt, size_t len, uint64_t due)
{
	uint8_t hdr[2];

	if (len > 65535 || c->down_shut)
		return;
	if (c->to_down.bytes > QUEUE_MEDIA_MAX) {
		c->link->st.queue_dropped++;
		return;
	}
	put16(hdr, (uint16_t)len);
	/* one chunk per frame so that frames never interleave */
	{
		uint8_t *f = xcalloc(1, len + 2);

		memcpy(f, hdr, 2);
		memcpy(f + 2, pkt, len);
		queue_put(&c->to_down, f, len + 2, due);
		free(f);
	}
	conn_want(c);
}

/* The network faults on one downstream packet, then out on @conn or @fl. */
static void send_down(struct link *l, struct conn *conn, struct flow *fl,
		      const uint8_t *pkt, size_t len, uint64_t now, bool faults)
{
	struct faults *f = &l->f;
	uint8_t buf[65536];
	unsigned int copies = 1;
	uint64_t due;

	if (len > sizeof(buf))
		return;
	memcpy(buf, pkt, len);
	if (faults) {
		if (chance(&l->rng, f->drop)) {
			l->st.dropped++;
			return;
		}
		if (chance(&l->rng, f->corrupt) && len) {
			size_t at = rng_below(&l->rng, len);

			buf[at] ^= (uint8_t)(1u << rng_below(&l->rng, 8));
			l->st.corrupted++;
		}
		if (len >= PKT_OVERHEAD && buf[0] == 0x80 && buf[13] == 1 &&
		    chance(&l->rng, f->renumber)) {
			put32(buf + 16, be32(buf + 16) + AHEAD);
			l->st.renumbered++;
		}
		if (chance(&l->rng, f->truncate) && len > 1) {
			len = 1 + rng_below(&l->rng, len - 1);
			l->st.truncated++;
		}
		if (chance(&l->rng, f->dup)) {
			copies = 2;
			l->st.duplicated++;
		}
	}
	if (!due_time(l, now, len, true, true, &due))
		return;
	if (faults && chance(&l->rng, f->reorder)) {
		l->st.reordered++;
		if (conn) {
			/* hold this frame back, send it after the next one */
			if (!l->held) {
				l->held = xcalloc(1, len);
				memcpy(l->held, buf, len);
				l->held_len = len;
				return;
			}
		} else {
			due += f->reorder_ns ? f->reorder_ns : 20000000ull;
		}
	}
	for (unsigned int i = 0; i < copies; i++) {
		if (conn)
			emit_tcp_frame(conn, buf, len, due);
		else if (fl)
			schedule_dgram(l, NULL, &fl->hub, buf, len, due);
	}
	if (conn && l->held) {
		emit_tcp_frame(conn, l->held, l->held_len, due);
		free(l->held);
		l->held = NULL;
	}
}

/* ------------------------------------------------------------------ */
/* Injection: a unit cut into the link's current stream                 */
/* ------------------------------------------------------------------ */

static bool link_path(struct link *l, struct conn **c, struct flow **fl)
{
	*c = l->media_conn;
	*fl = l->media_conn ? NULL : l->media_flow;
	return *c || *fl;
}

/*
 * Cut @data into packets with the link's current SSRC and PT (or @ssrc/@pt
 * when @raw), unit number @num, and send them down the current path.
 */
static unsigned int inject_unit(struct link *l, const uint8_t *data, uint32_t len, uint8_t flags,
				uint32_t ts, uint32_t num, bool raw, uint32_t ssrc, uint8_t pt,
				uint64_t now)
{
	struct conn *c;
	struct flow *fl;
	uint32_t stride, off = 0;
	uint8_t pkt[PKT_OVERHEAD + TCP_STRIDE_MAX + 16];
	uint8_t ver = l->frag_version ? l->frag_version : 1;
	unsigned int n = 0;

	if (!link_path(l, &c, &fl) || !len)
		return 0;
	if (!raw) {
		if (!l->have_ssrc)
			return 0;
		ssrc = l->ssrc;
		pt = l->pt;
	}
	stride = c ? TCP_STRIDE(ver) : UDP_STRIDE(ver);
	while (off < len) {
		uint32_t n_bytes = len - off < stride ? len - off : stride;
		bool last = off + n_bytes == len;

		pkt[0] = 0x80;
		pkt[1] = (uint8_t)((last ? 0x80 : 0) | (pt & 0x7f));
		put16(pkt + 2, l->inj_seq++);
		put32(pkt + 4, ts);
		put32(pkt + 8, ssrc);
		pkt[12] = ver;
		pkt[13] = 1;
		pkt[14] = flags & 1;
		pkt[15] = 0;
		put32(pkt + 16, num);
		put32(pkt + 20, len);
		put32(pkt + 24, off);
		put16(pkt + 28, (uint16_t)stride);
		put16(pkt + 30, 0);
		memcpy(pkt + PKT_OVERHEAD, data + off, n_bytes);
		memset(pkt + PKT_OVERHEAD + n_bytes, 0, TAG_LEN(ver));	/* no key: a wrong tag */
		send_down(l, c, fl, pkt, PKT_OVERHEAD + n_bytes + TAG_LEN(ver), now, false);
		off += n_bytes;
		n++;
	}
	return n;
}

/* The number an injected unit gets in the link's stream. */
static uint32_t inject_number(struct link *l, bool collide)
{
	if (collide)
		return l->max_num + 1;
	return l->max_num + AHEAD + l->inj_count++;
}

/* ------------------------------------------------------------------ */
/* Learning from the live downstream                                    */
/* ------------------------------------------------------------------ */

static void unit_copy(struct unit *dst, const uint8_t *data, uint32_t len)
{
	free(dst->data);
	dst->data = xcalloc(1, len ? len : 1);
	memcpy(dst->data, data, len);
	dst->len = len;
}

static void record_unit(struct link *l, const struct tracker *t, uint64_t now)
{
	struct unit *u;

	if (l->rec_n >= RECORD_UNITS || l->rec_bytes + t->total > RECORD_BYTES)
		return;
	u = &l->rec[l->rec_n++];
	memset(u, 0, sizeof(*u));
	unit_copy(u, t->buf, t->total);
	u->flags = t->flags;
	u->ts = t->ts;
	u->num = t->num;
	u->ssrc = t->ssrc;
	u->pt = t->pt;
	u->at_ns = now;
	l->rec_bytes += t->total;
}

static void unit_complete(struct link *l, int cam, uint64_t now)
{
	struct tracker *t = &l->trk;
	struct camera *c = cam >= 0 ? &R.cams[cam] : NULL;

	l->st.units_seen++;
	if (t->flags & 1)
		l->st.units_key++;
	if (t->total >= UNIT_HDR && t->ssrc == l->ssrc) {
		memcpy(l->sid, t->buf + SID_OFF, SID_LEN);
		l->have_sid = true;
	}
	if (c) {
		unit_copy(&c->latest, t->buf, t->total);
		c->latest.flags = t->flags;
		c->latest.ts = t->ts;
		c->latest.num = t->num;
		c->latest.ssrc = t->ssrc;
		c->latest.pt = t->pt;
		c->latest.at_ns = now;
		c->have_latest = true;
		c->units_seen++;
	}
	if (l->recording)
		record_unit(l, t, now);
	/* every link whose media is replaced by this camera's gets the unit */
	for (unsigned int i = 0; c && i < R.n_links; i++) {
		struct link *m = &R.links[i];

		if (m->subst != cam || m == l)
			continue;
		if (inject_unit(m, t->buf, t->total, t->flags, t->ts, inject_number(m, false),
				false, 0, 0, now))
			m->st.substituted++;
	}
}

/* Track one live packet (before any fault): SSRC, numbers, whole units. */
static void learn(struct link *l, int cam, const uint8_t *p, size_t len, uint64_t now)
{
	struct tracker *t = &l->trk;
	uint32_t ssrc, num, total, off, stride, idx, n;

	if (len < PKT_OVERHEAD || p[0] != 0x80 || (p[12] != 1 && p[12] != 2) || p[13] != 1 ||
	    len < PKT_OVERHEAD + TAG_LEN(p[12]))
		return;
	l->frag_version = p[12];
	ssrc = be32(p + 8);
	num = be32(p + 16);
	total = be32(p + 20);
	off = be32(p + 24);
	stride = be16(p + 28);
	n = (uint32_t)(len - PKT_OVERHEAD - TAG_LEN(p[12]));
	if (!l->have_ssrc || ssrc != l->ssrc) {
		l->have_ssrc = true;
		l->have_sid = false;
		l->ssrc = ssrc;
		l->max_num = num;
		l->inj_count = 0;
		t->active = false;
	} else if (newer(num, l->max_num)) {
		l->max_num = num;
	}
	l->pt = p[1] & 0x7f;
	if (!total || total > UNIT_MAX || stride < 64 || off % stride || off >= total ||
	    n != (total - off < stride ? total - off : stride))
		return;
	if (!t->active || t->num != num || t->total != total || t->stride != stride) {
		if (!t->buf)
			t->buf = xcalloc(1, UNIT_MAX);
		if (!t->bitmap)
			t->bitmap = xcalloc(1, UNIT_MAX / 64 / 8 + 1);
		t->active = true;
		t->ssrc = ssrc;
		t->num = num;
		t->total = total;
		t->stride = stride;
		t->ts = be32(p + 4);
		t->flags = p[14];
		t->pt = p[1] & 0x7f;
		t->nfrags = (total - 1) / stride + 1;
		t->have = 0;
		memset(t->bitmap, 0, t->nfrags / 8 + 1);
	}
	idx = off / stride;
	if (t->bitmap[idx / 8] & (1u << (idx % 8)))
		return;
	t->bitmap[idx / 8] |= (uint8_t)(1u << (idx % 8));
	memcpy(t->buf + off, p + PKT_OVERHEAD, n);
	if (++t->have == t->nfrags) {
		t->active = false;
		unit_complete(l, cam, now);
	}
}

/* ------------------------------------------------------------------ */
/* The downstream media pipeline                                        */
/* ------------------------------------------------------------------ */

/* A fragment of the splice camera's newest unit under this packet's headers. */
static void splice_fragment(struct link *l, const uint8_t *p, size_t len,
			    struct conn *conn, struct flow *fl, uint64_t now)
{
	const struct camera *src = &R.cams[l->f.splice_from];
	uint8_t buf[65536];
	uint32_t off = be32(p + 24), num = be32(p + 16);
	size_t tag = TAG_LEN(p[12]), n;

	if (!src->have_latest || !src->latest.len || len > sizeof(buf) || len < PKT_OVERHEAD + tag)
		return;
	n = len - PKT_OVERHEAD - tag;
	/* headers and (version 2) the genuine tag kept: it no longer matches */
	memcpy(buf, p, len);
	for (size_t i = 0; i < n; i++) {
		uint32_t at = off + (uint32_t)i;

		/* the genuine sealed-unit header stays: only the AEAD can tell */
		buf[PKT_OVERHEAD + i] = at < UNIT_HDR ? p[PKT_OVERHEAD + i] :
					src->latest.data[at % src->latest.len];
	}
	if (!memcmp(buf, p, len))
		return;
	send_down(l, conn, fl, buf, len, now, false);
	l->st.spliced_pkt++;
	if (!l->spliced_this_num || l->last_spliced_num != num) {
		l->spliced_this_num = true;
		l->last_spliced_num = num;
		l->st.spliced_pkt_units++;
	}
}

static void splice_unit(struct link *l, uint64_t now)
{
	const struct camera *src = &R.cams[l->f.splice_from];

	if (!src->have_latest || !l->have_ssrc)
		return;
	if (inject_unit(l, src->latest.data, src->latest.len, src->latest.flags, src->latest.ts,
			inject_number(l, l->f.splice_collide), false, 0, 0, now))
		l->st.spliced_au++;
}

/* One packet from a camera for the hub behind @l (on @conn or @fl). */
static void media_down(struct link *l, int cam, struct conn *conn, struct flow *fl,
		       const uint8_t *p, size_t len, uint64_t now)
{
	bool media = len >= PKT_OVERHEAD && p[0] == 0x80 && p[13] == 1;

	l->st.pkts_down++;
	l->st.bytes_down += len;
	learn(l, cam, p, len, now);
	if (conn)
		l->media_conn = conn;
	else if (media && len <= sizeof(l->tmpl))
		memcpy(l->tmpl, p, l->tmpl_len = len);	/* what inject forges from */
	if (l->subst >= 0 || l->replay != REPLAY_OFF) {
		if (media) {
			l->st.withheld++;
			return;
		}
	}
	if (media && l->f.splice_from >= 0 && chance(&l->rng, l->f.splice_pkt))
		splice_fragment(l, p, len, conn, fl, now);
	send_down(l, conn, fl, p, len, now, true);
	if (media && l->f.splice_from >= 0 && chance(&l->rng, l->f.splice_au))
		splice_unit(l, now);
}

/* ------------------------------------------------------------------ */
/* Replay                                                               */
/* ------------------------------------------------------------------ */

static void replay_run(struct link *l, uint64_t now)
{
	while (l->replay != REPLAY_OFF && l->rec_n && l->replay_next_ns <= now) {
		struct unit *u = &l->rec[l->replay_pos];
		struct unit *next = &l->rec[(l->replay_pos + 1) % l->rec_n];
		uint8_t *copy = NULL;
		const uint8_t *data = u->data;
		uint64_t gap;

		if (l->replay == REPLAY_RESESSION && l->have_sid && u->len >= UNIT_HDR) {
			copy = xcalloc(1, u->len);
			memcpy(copy, u->data, u->len);
			memcpy(copy + SID_OFF, l->sid, SID_LEN);
			data = copy;
		}
		if (inject_unit(l, data, u->len, u->flags, u->ts,
				l->replay == REPLAY_RAW ? u->num : inject_number(l, false),
				l->replay == REPLAY_RAW, u->ssrc, u->pt, now))
			l->st.replayed++;
		free(copy);
		gap = next->at_ns > u->at_ns ? next->at_ns - u->at_ns : NS / 20;
		if (gap > NS)
			gap = NS;
		l->replay_pos = (l->replay_pos + 1) % l->rec_n;
		l->replay_next_ns += gap;
		if (l->replay_next_ns < now)
			l->replay_next_ns = now;	/* never burst to catch up */
	}
}

static void record_clear(struct link *l)
{
	for (unsigned int i = 0; i < l->rec_n; i++)
		free(l->rec[i].data);
	memset(l->rec, 0, sizeof(l->rec));
	l->rec_n = 0;
	l->rec_bytes = 0;
}

/* ------------------------------------------------------------------ */
/* Inject: an on-path observer sending from a third address             */
/* ------------------------------------------------------------------ */

enum forgery { FORGE_END, FORGE_AHEAD, FORGE_KEYFRAME };

/*
 * A forgery made from a copy of a genuine media packet @tmpl: the only code
 * of the inject attack that knows the fragment header (docs/TRANSPORT.md
 * §4: kind at 13, flags at 14, unit number at 16, L at 20, O at 24, stride
 * at 28). Fragment header version 2 appends a 16-byte tag to every packet,
 * which the relay cannot compute: the genuine packet's tag is kept, wrong
 * for the altered bytes. @next is the camera's next unit number.
 */
static size_t forge(enum forgery kind, const uint8_t *tmpl, size_t len, uint32_t next,
		    uint8_t *out)
{
	size_t tag = tmpl[12] >= 2 ? 16 : 0;

	if (len < PKT_OVERHEAD + tag)
		return 0;
	memcpy(out, tmpl, len);
	switch (kind) {
	case FORGE_END:		/* version 1's stream end: M, kind 2, no bytes */
		out[1] |= 0x80;
		out[13] = 2;
		out[14] = 0;
		put32(out + 16, next);
		memset(out + 20, 0, PKT_OVERHEAD - 20);
		memcpy(out + PKT_OVERHEAD, tmpl + len - tag, tag);
		return PKT_OVERHEAD + tag;
	case FORGE_AHEAD:	/* the same fragment, its unit far ahead */
		put32(out + 16, next + AHEAD);
		return len;
	case FORGE_KEYFRAME:	/* a whole one-fragment unit, keyframe, the next number */
		out[1] |= 0x80;
		out[14] |= 1;
		put32(out + 16, next);
		put32(out + 20, (uint32_t)(len - PKT_OVERHEAD - tag));
		put32(out + 24, 0);
		return len;
	}
	return 0;
}

/* The link's socket on its third address 127.0.4.(link index + 1); false if none. */
static bool third_open(struct link *l)
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	if (l->third_fd >= 0)
		return true;
	a.sin_addr.s_addr = htonl(0x7f000400u | (uint32_t)(l - R.links + 1));
	l->third_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->third_fd < 0)
		return false;
	if (bind(l->third_fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		close(l->third_fd);
		l->third_fd = -1;
		return false;
	}
	l->ht = (struct handler){ H_THIRD, l };
	ep_add(l->third_fd, EPOLLIN, &l->ht);
	return true;
}

/* What reaches the third address: media (RTP) must never. */
static void on_third(struct link *l)
{
	for (int i = 0; i < 256; i++) {
		ssize_t n = recv(l->third_fd, R.dgram, sizeof(R.dgram), MSG_DONTWAIT);

		if (n < 0)
			return;
		if (n >= PKT_OVERHEAD && R.dgram[0] == 0x80)
			l->st.third_media++;
		else
			l->st.third_other++;
	}
}

/*
 * One injection, the kinds in turn: the hub's newest hello copied to the
 * camera (to re-point the session's media here), then a forged stream end,
 * a far-ahead fragment and a keyframe unit to the hub's UDP address.
 */
static void inject_one(struct link *l)
{
	struct flow *fl = l->media_conn ? NULL : l->media_flow;
	unsigned int turn = l->inject_turn++ % 4;
	uint8_t pkt[TEMPLATE_MAX];
	enum forgery kind;
	size_t len;

	if (!third_open(l))
		return;
	if (turn == 0) {
		if (l->hello_len &&
		    sendto(l->third_fd, l->hello, l->hello_len, MSG_DONTWAIT,
			   (struct sockaddr *)&R.cams[l->cam].addr, sizeof(R.cams[l->cam].addr)) > 0)
			l->st.inj_hello++;
		return;
	}
	if (!fl || !l->tmpl_len || !l->have_ssrc)
		return;
	kind = (enum forgery)(turn - 1);
	len = forge(kind, l->tmpl, l->tmpl_len, l->max_num + 1, pkt);
	if (!len || sendto(l->third_fd, pkt, len, MSG_DONTWAIT, (struct sockaddr *)&fl->hub,
			   sizeof(fl->hub)) < 0)
		return;
	if (kind == FORGE_END)
		l->st.inj_end++;
	else if (kind == FORGE_AHEAD)
		l->st.inj_ahead++;
	else
		l->st.inj_key++;
}

/* ------------------------------------------------------------------ */
/* UDP                                                                  */
/* ------------------------------------------------------------------ */

static void flow_close(struct flow *fl, bool expired)
{
	struct link *l = fl->link;
	struct flow **pp;

	for (pp = &l->flows; *pp; pp = &(*pp)->next)
		if (*pp == fl) {
			*pp = fl->next;
			break;
		}
	if (l->media_flow == fl)
		l->media_flow = NULL;
	if (expired)
		l->st.flows_expired++;
	heap_forget_flow(fl);
	close_fd(&fl->fd);
	fl->dead = true;
	fl->next = R.dead_flows;
	R.dead_flows = fl;
}

static struct flow *flow_get(struct link *l, const struct sockaddr_in *from, uint64_t now)
{
	struct flow *fl, *oldest = NULL;
	unsigned int n = 0;
	struct sockaddr_in bind_to = l->front;
	int cam;

	for (fl = l->flows; fl; fl = fl->next) {
		if (same_addr(&fl->hub, from))
			return fl;
		if (!oldest || fl->last_ns < oldest->last_ns)
			oldest = fl;
		n++;
	}
	if (n >= FLOWS_PER_LINK)
		flow_close(oldest, true);
	cam = pick_camera(l);
	fl = xcalloc(1, sizeof(*fl));
	fl->link = l;
	fl->hub = *from;
	fl->cam = cam;
	fl->last_ns = now;
	fl->h = (struct handler){ H_FLOW, fl };
	fl->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	bind_to.sin_port = 0;
	if (fl->fd < 0 || bind(fl->fd, (struct sockaddr *)&bind_to, sizeof(bind_to)) < 0 ||
	    connect(fl->fd, (struct sockaddr *)&R.cams[cam].addr, sizeof(R.cams[cam].addr)) < 0) {
		if (fl->fd >= 0)
			close(fl->fd);
		free(fl);
		return NULL;
	}
	ep_add(fl->fd, EPOLLIN, &fl->h);
	fl->next = l->flows;
	l->flows = fl;
	l->st.flows++;
	if (cam != l->cam)
		l->st.flows_misrouted++;
	return fl;
}

/* Datagrams from hubs on a link's front socket. */
static void on_front_udp(struct link *l, uint64_t now)
{
	for (int i = 0; i < 256; i++) {
		struct sockaddr_in from;
		socklen_t fl_len = sizeof(from);
		ssize_t n = recvfrom(l->udp_fd, R.dgram, sizeof(R.dgram), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl_len);
		struct flow *fl;
		uint64_t due;
		size_t len;

		if (n < 0)
			return;
		if (R.outage == OUT_BLACKHOLE) {
			R.blackholed_dgrams++;
			continue;
		}
		fl = flow_get(l, &from, now);
		if (!fl)
			continue;
		fl->last_ns = now;
		l->st.pkts_up++;
		len = (size_t)n;
		/* hellos say where the hub listens: injected media follows them */
		if (n >= 6 && !memcmp(R.dgram, "VCMH", 4)) {
			l->media_flow = fl;
			if (R.dgram[5] == 3 && l->f.zombie) {
				l->st.byes_swallowed++;	/* the camera never hears it */
				continue;
			}
			if (R.dgram[5] == 1 && len <= HELLO_COPY_MAX) {
				memcpy(fl->hello, R.dgram, fl->hello_len = len);
				memcpy(l->hello, R.dgram, l->hello_len = len);
			}
		}
		if (l->f.both_ways) {
			if (chance(&l->rng, l->f.drop)) {
				l->st.dropped++;
				continue;
			}
			if (chance(&l->rng, l->f.corrupt) && len) {
				R.dgram[rng_below(&l->rng, len)] ^= 0x10;
				l->st.corrupted++;
			}
		}
		if (due_time(l, now, len, false, true, &due))
			schedule_dgram(l, fl, NULL, R.dgram, len, due);
	}
}

/* Datagrams from a camera for the hub of this flow. */
static void on_flow(struct flow *fl, uint64_t now)
{
	for (int i = 0; i < 1024; i++) {
		ssize_t n = recv(fl->fd, R.dgram, sizeof(R.dgram), MSG_DONTWAIT);

		if (n < 0)
			return;
		fl->last_ns = now;
		if (!fl->link->media_conn)
			fl->link->media_flow = fl;
		media_down(fl->link, fl->cam, NULL, fl, R.dgram, (size_t)n, now);
	}
}

/* ------------------------------------------------------------------ */
/* TCP                                                                  */
/* ------------------------------------------------------------------ */

static void conn_close(struct conn *c)
{
	struct conn **pp;

	for (pp = &R.conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	R.n_conns--;
	if (c->link->media_conn == c) {
		c->link->media_conn = NULL;
		free(c->link->held);
		c->link->held = NULL;
	}
	close_fd(&c->down_fd);
	close_fd(&c->up_fd);
	queue_clear(&c->to_up);
	queue_clear(&c->to_down);
	free(c->rbuf);
	c->rbuf = NULL;
	c->dead = true;
	c->next = R.dead_conns;
	R.dead_conns = c;
}

static void free_dead(void)
{
	while (R.dead_conns) {
		struct conn *c = R.dead_conns;

		R.dead_conns = c->next;
		free(c);
	}
	while (R.dead_flows) {
		struct flow *fl = R.dead_flows;

		R.dead_flows = fl->next;
		free(fl);
	}
}

/* Close with a reset (what a relay that dies or drops everyone does). */
static void conn_kill(struct conn *c)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	if (c->down_fd >= 0)
		setsockopt(c->down_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	if (c->up_fd >= 0)
		setsockopt(c->up_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	c->link->st.killed++;
	conn_close(c);
}

/* A media connection whose camera side the relay does not read now (stall). */
static bool conn_stalled(const struct conn *c)
{
	return c->kind == K_MEDIA && c->link->f.stall && !c->zombie && c->read_budget < 1;
}

/* The slow reader's budget grows by stall_bps per second, up to STALL_BURST. */
static void conn_budget(struct conn *c, uint64_t now)
{
	const struct faults *f = &c->link->f;

	if (c->budget_ns && now > c->budget_ns)
		c->read_budget += (double)f->stall_bps * (double)(now - c->budget_ns) / (double)NS;
	if (c->read_budget > STALL_BURST)
		c->read_budget = STALL_BURST;
	c->budget_ns = now;
}

/*
 * Zombie mode: the hub side of @c closed or failed; keep the camera side
 * open (its bytes are read and dropped) instead of passing the close on.
 * The hub's bytes of its last ZOMBIE_HOLDBACK are dropped too: a TLS
 * close_notify (encrypted, like any record) or a bye comes just before the
 * close. false if @c is not to be kept.
 */
static bool conn_zombify(struct conn *c)
{
	struct link *l = c->link;

	if (!l->f.zombie || c->zombie || c->up_fd < 0 || c->connecting)
		return false;
	close_fd(&c->down_fd);
	queue_clear(&c->to_down);
	l->st.swallowed_bytes += c->to_up.bytes;
	queue_clear(&c->to_up);
	c->down_eof = true;
	c->zombie = true;
	if (l->media_conn == c) {
		l->media_conn = NULL;
		free(l->held);
		l->held = NULL;
	}
	l->st.zombies++;
	return true;
}

/* Epoll interest of both sockets from the conn's state. */
static void conn_want(struct conn *c)
{
	uint64_t now = now_ns();
	uint32_t dev = c->down_eof ? 0 : EPOLLIN;
	uint32_t uev = c->up_eof || conn_stalled(c) ? 0 : EPOLLIN;

	if (c->connecting) {
		uev = EPOLLOUT;
		dev = 0;
	} else if (c->up_fd < 0) {
		uev = 0;	/* not connected upstream yet: wait for the hub's first bytes */
	}
	/* EPOLLOUT only while something due is waiting (set by flush on EAGAIN) */
	if (c->to_down.head && c->to_down.head->due <= now)
		dev |= EPOLLOUT;
	if (!c->connecting && c->to_up.head && c->to_up.head->due <= now)
		uev |= EPOLLOUT;
	if (dev != c->down_ev && c->down_fd >= 0) {
		ep_mod(c->down_fd, dev, &c->hd);
		c->down_ev = dev;
	}
	if (c->up_fd >= 0 && uev != c->up_ev) {
		ep_mod(c->up_fd, uev, &c->hup);
		c->up_ev = uev;
	}
}

/* Flush both queues; close or shut down as the peers finish. */
static void conn_flush(struct conn *c, uint64_t now)
{
	bool blocked;

	if (c->up_fd >= 0 && !c->connecting && queue_flush(&c->to_up, c->up_fd, now, &blocked)) {
		conn_close(c);
		return;
	}
	if (c->down_fd >= 0 && queue_flush(&c->to_down, c->down_fd, now, &blocked) &&
	    !conn_zombify(c)) {
		conn_close(c);
		return;
	}
	if (c->down_eof && !c->zombie)
		conn_zombify(c);
	if (c->zombie) {
		if (c->up_eof && !c->to_up.head)
			conn_close(c);	/* the camera closed it at last */
		else
			conn_want(c);
		return;
	}
	if (c->down_eof && !c->to_up.head && c->up_fd >= 0 && !c->connecting && !c->up_shut) {
		shutdown(c->up_fd, SHUT_WR);
		c->up_shut = true;
	}
	if (c->up_eof && !c->to_down.head && !c->down_shut) {
		shutdown(c->down_fd, SHUT_WR);
		c->down_shut = true;
	}
	if ((c->down_eof && c->up_eof) || (c->down_eof && c->up_fd < 0)) {
		if (!c->to_up.head && !c->to_down.head) {
			conn_close(c);
			return;
		}
	}
	conn_want(c);
}

static void conn_connect(struct conn *c, uint64_t now)
{
	struct link *l = c->link;
	const struct sockaddr_in *to;

	c->cam = pick_camera(l);
	to = &R.cams[c->cam].addr;
	if (c->cam != l->cam)
		l->st.conns_misrouted++;
	c->up_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (c->up_fd < 0) {
		conn_close(c);
		return;
	}
	setsockopt(c->up_fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	if (c->kind == K_MEDIA && l->f.stall) {
		c->read_budget = 0;
		c->budget_ns = now;
		/*
		 * A small window and segment size before connect(): the camera's
		 * kernel sizes its send buffer from them, so its sends block after
		 * tens of kilobytes (seconds of stream), not megabytes.
		 */
		setsockopt(c->up_fd, SOL_SOCKET, SO_RCVBUF, &(int){ STALL_RCVBUF }, sizeof(int));
		setsockopt(c->up_fd, IPPROTO_TCP, TCP_MAXSEG, &(int){ STALL_MSS }, sizeof(int));
		l->st.stalled++;
	}
	if (connect(c->up_fd, (const struct sockaddr *)to, sizeof(*to)) < 0 && errno != EINPROGRESS) {
		conn_close(c);
		return;
	}
	c->connecting = true;
	c->up_ev = EPOLLOUT;
	ep_add(c->up_fd, EPOLLOUT, &c->hup);
	if (c->kind == K_MEDIA) {
		c->rbuf = xcalloc(1, 2 + 65535);
		l->media_conn = c;
	}
	conn_flush(c, now);
}

static void on_listen(struct link *l, uint64_t now)
{
	for (int i = 0; i < 64; i++) {
		int fd = accept4(l->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0)
			return;
		if (R.n_conns >= MAX_CONNS) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
		c = xcalloc(1, sizeof(*c));
		c->link = l;
		c->down_fd = fd;
		c->up_fd = -1;
		c->hd = (struct handler){ H_DOWN, c };
		c->hup = (struct handler){ H_UP, c };
		c->down_ev = EPOLLIN;
		ep_add(fd, EPOLLIN, &c->hd);
		c->next = R.conns;
		R.conns = c;
		R.n_conns++;
		l->st.conns++;
		(void)now;
	}
}

/* recv without blocking: the bytes read; 0 for nothing now or EOF (*eof set); -1 on error. */
static ssize_t recv_some(int fd, uint8_t *buf, size_t len, bool *eof)
{
	ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);

	if (n == 0)
		*eof = true;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return 0;
	return n;
}

/*
 * Count the TLS records that begin in @p[0..n) (the 5-byte record header:
 * type, version, length); the offset where record number @mark (1-based)
 * begins if it begins here, else -1.
 */
static long tls_scan(struct tls_scan *s, const uint8_t *p, size_t n, uint32_t mark)
{
	long at = -1;
	size_t i = 0;

	while (i < n) {
		if (s->left) {
			size_t k = n - i < s->left ? n - i : s->left;

			s->left -= (uint32_t)k;
			i += k;
			continue;
		}
		if (!s->have && ++s->records == mark)
			at = (long)i;
		s->hdr[s->have++] = p[i++];
		if (s->have == sizeof(s->hdr)) {
			s->left = be16(s->hdr + 3);
			s->have = 0;
		}
	}
	return at;
}

/*
 * Control bytes read from one side: where in them the hold of their
 * direction begins (@n: nowhere). A hold covers what follows the TLS
 * handshake. Towards the hub that is every byte the camera sends once the
 * hub has sent more than its ClientHello (the camera's whole handshake
 * flight came before). Towards the camera it is the hub's first record after
 * its handshake records, whose number the link learns from connections it
 * does not hold: the camera's first bytes after the handshake answer the
 * hub's first message, so the hub's records before that one are the
 * handshake. Until learned, the hold starts after the ClientHello.
 */
static size_t ctl_observe(struct conn *c, bool to_hub, const uint8_t *buf, size_t n)
{
	struct link *l = c->link;
	const struct faults *f = &l->f;
	bool want = f->hold_ns && f->hold_to_hub == to_hub && c->hold[to_hub].state == HOLD_IDLE;
	uint32_t mark = l->hs_records ? l->hs_records + 1 : 2;
	uint32_t before = c->scan[to_hub].records;
	long at = tls_scan(&c->scan[to_hub], buf, n, to_hub ? 0 : mark);

	if (!to_hub) {
		c->hub_past_hello = c->scan[TO_CAMERA].records >= 2;
		if (!want || (before < mark && at < 0))
			return n;
		return before >= mark ? 0 : (size_t)at;
	}
	if (!c->hub_past_hello)
		return n;
	if (!c->camera_post) {
		c->camera_post = true;
		if (c->hold[TO_CAMERA].state == HOLD_IDLE)
			l->hs_records = c->scan[TO_CAMERA].records - 1;
	}
	return want ? 0 : n;
}

/* Held bytes: one let through per trickle interval, the rest when the hold ends. */
static void queue_held(struct conn *c, struct queue *q, struct hold *h, const uint8_t *p,
		       size_t n, uint64_t now)
{
	const struct faults *f = &c->link->f;
	size_t i = 0;

	if (h->state == HOLD_IDLE) {
		h->state = HOLD_ON;
		h->until = now + f->hold_ns;
		h->next = now;
		c->link->st.holds++;
	}
	c->link->st.held_bytes += n;
	for (; i < n; i++) {
		uint64_t due = h->next > now ? h->next : now;

		if (due >= h->until)
			break;
		queue_put(q, p + i, 1, due);
		h->next = due + (f->trickle_ns ? f->trickle_ns : NS);
	}
	queue_put(q, p + i, n - i, h->until);
}

/*
 * Stream bytes to the other side, in order, delayed like the link's packets;
 * control records may be corrupted or held. false if the pair had to close
 * (backlog).
 */
static bool pass_bytes(struct conn *c, bool down, uint8_t *buf, size_t n, uint64_t now)
{
	struct link *l = c->link;
	struct queue *q = down ? &c->to_down : &c->to_up;
	struct hold *h = &c->hold[down ? TO_HUB : TO_CAMERA];
	size_t split = n;
	uint64_t due = now;

	if (c->kind == K_CONTROL && chance(&l->rng, l->f.ctl_corrupt)) {
		buf[rng_below(&l->rng, n)] ^= 0x01;
		l->st.ctl_corrupted++;
	}
	if (q->bytes > QUEUE_CTL_MAX) {
		conn_close(c);
		return false;
	}
	if (c->kind == K_CONTROL) {
		split = ctl_observe(c, down, buf, n);
		if (h->state == HOLD_ON && now >= h->until)
			h->state = HOLD_DONE;
		if (h->state == HOLD_ON)
			split = 0;
	}
	if (c->kind != K_CONTROL || !l->f.ctl_undelayed)
		due_time(l, now, n, down, false, &due);
	if (!down && l->f.zombie && due < now + ZOMBIE_HOLDBACK)
		due = now + ZOMBIE_HOLDBACK;	/* what comes right before a close is dropped */
	queue_put(q, buf, split, due);
	if (split < n)
		queue_held(c, q, h, buf + split, n - split, now);
	return true;
}

/* Bytes from the hub: classify the connection first, then forward. */
static void on_down(struct conn *c, uint32_t ev, uint64_t now)
{
	uint8_t buf[16384];

	if (c->down_fd < 0)
		return;		/* a zombie: this event was for the closed hub side */
	if ((ev & EPOLLOUT) || (ev & (EPOLLERR | EPOLLHUP))) {
		conn_flush(c, now);
		if (c->dead || c->down_fd < 0 || (ev & EPOLLERR))
			return;
	}
	if (!(ev & (EPOLLIN | EPOLLHUP)) || c->down_eof)
		return;
	for (int i = 0; i < 16; i++) {
		ssize_t n = recv_some(c->down_fd, buf, sizeof(buf), &c->down_eof);

		if (n < 0) {
			if (!conn_zombify(c))
				conn_close(c);
			else
				conn_flush(c, now);
			return;
		}
		if (n == 0)
			break;
		if (c->kind == K_UNKNOWN) {
			c->kind = buf[0] == 'V' ? K_MEDIA : K_CONTROL;
			if (c->kind == K_CONTROL)
				ctl_observe(c, false, buf, (size_t)n);
			queue_put(&c->to_up, buf, (size_t)n, now);
			conn_connect(c, now);
			return;	/* c may be gone; the rest comes on the next event */
		}
		if (!pass_bytes(c, false, buf, (size_t)n, now))
			return;
	}
	conn_flush(c, now);
}

/* Bytes from the camera: control passes as a stream, media frame by frame. */
static void on_up(struct conn *c, uint32_t ev, uint64_t now)
{
	struct link *l = c->link;
	uint8_t buf[16384];

	if (c->connecting) {
		int err = 0;
		socklen_t el = sizeof(err);

		if (!(ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		getsockopt(c->up_fd, SOL_SOCKET, SO_ERROR, &err, &el);
		if (err) {
			conn_close(c);	/* the hub sees its connection close */
			return;
		}
		c->connecting = false;
		conn_flush(c, now);
		return;
	}
	if (ev & EPOLLOUT) {
		conn_flush(c, now);
		if (c->dead || !(ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
			return;
	}
	if (conn_stalled(c))
		return;		/* its bytes wait in the kernel, the camera's send blocks */
	if (c->zombie) {
		/* nobody to pass them to: read and drop, until the camera closes */
		for (int i = 0; i < 16 && !c->up_eof; i++) {
			ssize_t n = recv_some(c->up_fd, buf, sizeof(buf), &c->up_eof);

			if (n < 0) {
				conn_close(c);
				return;
			}
			if (n == 0)
				break;
		}
		conn_flush(c, now);
		return;
	}
	for (int i = 0; i < 16 && !c->up_eof; i++) {
		size_t room = c->kind == K_MEDIA ? 2 + 65535 - c->rlen : sizeof(buf);
		uint8_t *dst = c->kind == K_MEDIA ? c->rbuf + c->rlen : buf;
		bool slow = c->kind == K_MEDIA && l->f.stall;
		ssize_t n;

		if (slow && c->read_budget < 1)
			break;
		if (slow && (double)room > c->read_budget)
			room = (size_t)c->read_budget;
		n = recv_some(c->up_fd, dst, room, &c->up_eof);
		if (n < 0) {
			conn_close(c);
			return;
		}
		if (n == 0)
			break;
		if (slow)
			c->read_budget -= (double)n;
		if (c->kind == K_MEDIA) {
			size_t at = 0;

			c->rlen += (size_t)n;
			while (c->rlen - at >= 2) {
				size_t plen = be16(c->rbuf + at);

				if (c->rlen - at < 2 + plen)
					break;
				media_down(l, c->cam, c, NULL, c->rbuf + at + 2, plen, now);
				at += 2 + plen;
			}
			memmove(c->rbuf, c->rbuf + at, c->rlen - at);
			c->rlen -= at;
		} else if (!pass_bytes(c, true, buf, (size_t)n, now)) {
			return;
		}
	}
	conn_flush(c, now);
}

/* ------------------------------------------------------------------ */
/* Listeners and outages                                                */
/* ------------------------------------------------------------------ */

static int open_listeners(struct link *l)
{
	int one = 1;

	l->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	l->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (l->listen_fd < 0 || l->udp_fd < 0)
		return -1;
	setsockopt(l->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(l->udp_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(l->listen_fd, (struct sockaddr *)&l->front, sizeof(l->front)) < 0 ||
	    listen(l->listen_fd, 64) < 0 ||
	    bind(l->udp_fd, (struct sockaddr *)&l->front, sizeof(l->front)) < 0)
		return -1;
	l->hl = (struct handler){ H_LISTEN, l };
	l->hu = (struct handler){ H_FRONT_UDP, l };
	ep_add(l->listen_fd, EPOLLIN, &l->hl);
	ep_add(l->udp_fd, EPOLLIN, &l->hu);
	return 0;
}

static void close_listeners(struct link *l)
{
	close_fd(&l->listen_fd);
	close_fd(&l->udp_fd);
}

static void kick_link(struct link *l)
{
	struct conn *c = R.conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->link == l)
			conn_kill(c);
	}
	while (l->flows)
		flow_close(l->flows, false);
	free(l->held);
	l->held = NULL;
	l->have_ssrc = l->have_sid = false;
	l->trk.active = false;
}

static void outage_begin(bool refuse)
{
	uint64_t now = now_ns();

	R.outages++;
	R.outage_started_ns = now;
	R.outage = refuse ? OUT_REFUSE : OUT_BLACKHOLE;
	heap_clear();
	for (unsigned int i = 0; i < R.n_links; i++) {
		struct link *l = &R.links[i];

		kick_link(l);
		if (refuse)
			close_listeners(l);
		else
			ep_mod(l->listen_fd, 0, &l->hl);	/* queued, not served */
	}
}

static int outage_end(void)
{
	uint64_t now = now_ns();

	for (unsigned int i = 0; i < R.n_links; i++) {
		struct link *l = &R.links[i];

		if (R.outage == OUT_REFUSE) {
			if (open_listeners(l) < 0)
				return -1;
		} else if (R.outage == OUT_BLACKHOLE) {
			ep_mod(l->listen_fd, EPOLLIN, &l->hl);
		}
	}
	if (R.outage != OUT_NONE)
		R.outage_ns_total += now - R.outage_started_ns;
	R.outage = OUT_NONE;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */
/* ------------------------------------------------------------------ */

static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void stats_json(void)
{
	printf("{\"ok\":true,\"t_ms\":%" PRIu64 ",\"outages\":%" PRIu64
	       ",\"outage_ms\":%" PRIu64 ",\"heap_dropped\":%" PRIu64 ",\"blackholed\":%" PRIu64
	       ",\"conns\":%u,\"cameras\":{",
	       now_ns() / 1000000, R.outages, R.outage_ns_total / 1000000, R.heap_dropped,
	       R.blackholed_dgrams, R.n_conns);
	for (unsigned int i = 0; i < R.n_cams; i++)
		printf("%s\"%s\":{\"units_seen\":%" PRIu64 "}", i ? "," : "", R.cams[i].name,
		       R.cams[i].units_seen);
	printf("},\"links\":{");
	for (unsigned int i = 0; i < R.n_links; i++) {
		const struct link *l = &R.links[i];
		const struct link_stats *s = &l->st;

		printf("%s\"%s\":{\"camera\":\"%s\",\"conns\":%" PRIu64 ",\"conns_misrouted\":%" PRIu64
		       ",\"flows\":%" PRIu64 ",\"flows_misrouted\":%" PRIu64 ",\"flows_expired\":%" PRIu64
		       ",\"pkts_down\":%" PRIu64 ",\"pkts_up\":%" PRIu64 ",\"bytes_down\":%" PRIu64
		       ",\"units_seen\":%" PRIu64 ",\"dropped\":%" PRIu64 ",\"duplicated\":%" PRIu64
		       ",\"reordered\":%" PRIu64 ",\"corrupted\":%" PRIu64 ",\"truncated\":%" PRIu64
		       ",\"delayed\":%" PRIu64 ",\"bw_dropped\":%" PRIu64 ",\"queue_dropped\":%" PRIu64
		       ",\"ctl_corrupted\":%" PRIu64 ",\"renumbered\":%" PRIu64 ",\"spliced_au\":%" PRIu64
		       ",\"spliced_pkt\":%" PRIu64 ",\"spliced_pkt_units\":%" PRIu64
		       ",\"substituted\":%" PRIu64 ",\"replayed\":%" PRIu64 ",\"withheld\":%" PRIu64
		       ",\"killed\":%" PRIu64 ",\"recorded\":%u",
		       i ? "," : "", l->id, R.cams[l->cam].name, s->conns, s->conns_misrouted,
		       s->flows, s->flows_misrouted, s->flows_expired, s->pkts_down, s->pkts_up,
		       s->bytes_down, s->units_seen, s->dropped, s->duplicated, s->reordered,
		       s->corrupted, s->truncated, s->delayed, s->bw_dropped, s->queue_dropped,
		       s->ctl_corrupted, s->renumbered, s->spliced_au, s->spliced_pkt, s->spliced_pkt_units,
		       s->substituted, s->replayed, s->withheld, s->killed, l->rec_n);
		printf(",\"units_key\":%" PRIu64 ",\"hs_records\":%u,\"holds\":%" PRIu64
		       ",\"held_bytes\":%" PRIu64 ",\"zombies\":%" PRIu64 ",\"hello_replays\":%" PRIu64
		       ",\"byes_swallowed\":%" PRIu64 ",\"swallowed_bytes\":%" PRIu64 ",\"inj_hello\":%" PRIu64 ",\"inj_end\":%" PRIu64
		       ",\"inj_ahead\":%" PRIu64 ",\"inj_key\":%" PRIu64 ",\"third_media\":%" PRIu64
		       ",\"third_other\":%" PRIu64 ",\"stalled\":%" PRIu64 "}",
		       s->units_key, l->hs_records, s->holds, s->held_bytes, s->zombies,
		       s->hello_replays, s->byes_swallowed, s->swallowed_bytes, s->inj_hello, s->inj_end, s->inj_ahead,
		       s->inj_key, s->third_media, s->third_other, s->stalled);
	}
	printf("}}\n");
	fflush(stdout);
}

/* "0.01", "1/1000", "0" */
static bool parse_prob(const char *v, double *out)
{
	char *end;
	double a = strtod(v, &end);

	if (*end == '/') {
		double b = strtod(end + 1, &end);

		if (b <= 0)
			return false;
		a /= b;
	}
	if (*end || a < 0 || a > 1)
		return false;
	*out = a;
	return true;
}

static bool parse_u64(const char *v, uint64_t *out)
{
	char *end;
	unsigned long long x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || end == v)
		return false;
	*out = x;
	return true;
}

static const char *set_fault(struct faults *f, const char *kv)
{
	static const struct {
		const char *key;
		size_t off;
	} probs[] = {
		{ "drop", offsetof(struct faults, drop) },
		{ "dup", offsetof(struct faults, dup) },
		{ "reorder", offsetof(struct faults, reorder) },
		{ "corrupt", offsetof(struct faults, corrupt) },
		{ "truncate", offsetof(struct faults, truncate) },
		{ "splice_pkt", offsetof(struct faults, splice_pkt) },
		{ "splice_au", offsetof(struct faults, splice_au) },
		{ "ctl_corrupt", offsetof(struct faults, ctl_corrupt) },
		{ "renumber", offsetof(struct faults, renumber) },
	};
	static const struct {
		const char *key;
		size_t off;
		uint64_t mult;
	} nums[] = {
		{ "delay_ms", offsetof(struct faults, delay_ns), 1000000 },
		{ "jitter_ms", offsetof(struct faults, jitter_ns), 1000000 },
		{ "reorder_ms", offsetof(struct faults, reorder_ns), 1000000 },
		{ "queue_ms", offsetof(struct faults, queue_ns), 1000000 },
		{ "rate_kbps", offsetof(struct faults, rate_bps), 1000 },
		{ "hold_ms", offsetof(struct faults, hold_ns), 1000000 },
		{ "hold_trickle_ms", offsetof(struct faults, trickle_ns), 1000000 },
		{ "zombie_ms", offsetof(struct faults, zombie_ns), 1000000 },
		{ "inject_ms", offsetof(struct faults, inject_ns), 1000000 },
		{ "stall_bps", offsetof(struct faults, stall_bps), 1 },
	};
	/* keys with two values: the one that clears the flag, the one that sets it */
	static const struct {
		const char *key, *no, *yes;
		size_t off;
	} choices[] = {
		{ "splice_mode", "ahead", "collide", offsetof(struct faults, splice_collide) },
		{ "dir", "down", "both", offsetof(struct faults, both_ways) },
		{ "delay_ctl", "1", "0", offsetof(struct faults, ctl_undelayed) },
		{ "hold_dir", "to_camera", "to_hub", offsetof(struct faults, hold_to_hub) },
		{ "zombie", "0", "1", offsetof(struct faults, zombie) },
		{ "stall", "0", "1", offsetof(struct faults, stall) },
	};
	static char why[80];
	const char *eq = strchr(kv, '=');
	size_t klen;
	uint64_t u;

	if (!eq)
		return "expected key=value";
	klen = (size_t)(eq - kv);
	for (size_t i = 0; i < sizeof(probs) / sizeof(probs[0]); i++)
		if (strlen(probs[i].key) == klen && !strncmp(kv, probs[i].key, klen))
			return parse_prob(eq + 1, (double *)((char *)f + probs[i].off)) ?
			       NULL : "bad probability";
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++)
		if (strlen(nums[i].key) == klen && !strncmp(kv, nums[i].key, klen)) {
			if (!parse_u64(eq + 1, &u) || u > 3600000000ull)
				return "bad number";
			*(uint64_t *)((char *)f + nums[i].off) = u * nums[i].mult;
			return NULL;
		}
	for (size_t i = 0; i < sizeof(choices) / sizeof(choices[0]); i++) {
		bool *flag = (bool *)((char *)f + choices[i].off);

		if (strlen(choices[i].key) != klen || strncmp(kv, choices[i].key, klen))
			continue;
		if (strcmp(eq + 1, choices[i].no) && strcmp(eq + 1, choices[i].yes)) {
			snprintf(why, sizeof(why), "%s is %s or %s", choices[i].key, choices[i].no,
				 choices[i].yes);
			return why;
		}
		*flag = !strcmp(eq + 1, choices[i].yes);
		return NULL;
	}
	if (klen == 11 && !strncmp(kv, "splice_from", klen)) {
		f->splice_from = find_camera(eq + 1);
		return f->splice_from < 0 ? "unknown camera" : NULL;
	}
	return "unknown key";
}

static void faults_reset(struct faults *f)
{
	memset(f, 0, sizeof(*f));
	f->splice_from = -1;
}

/*
 * After a link's faults changed: zombies end with zombie mode (the camera
 * sees their close now), and stalled media connections are read again when
 * the stall ends (and no longer when it starts).
 */
static void link_apply(struct link *l)
{
	struct conn *c = R.conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->link != l)
			continue;
		if (c->zombie && !l->f.zombie)
			conn_kill(c);
		else
			conn_want(c);
	}
}

/* Links named by @sel ("all" or an id) into @out; count or -1. */
static int select_links(const char *sel, struct link **out)
{
	int n = 0;

	for (unsigned int i = 0; i < R.n_links; i++)
		if (!strcmp(sel, "all") || !strcmp(sel, R.links[i].id))
			out[n++] = &R.links[i];
	return n ? n : -1;
}

/*
 * The commands on stdin, as a table: each handler gets the words after the
 * command's name (and, for a command on links, the links its first word
 * names) and returns NULL, or the error the reply carries. A line of the
 * wrong shape is answered with the command's usage; usage() prints the
 * same table.
 */
struct cmd_args {
	char **argv;		/* the words after the command (and its links) */
	int argc;
	struct link **sel;	/* the links named, for a command on links */
	int n;
};

static const char *cmd_quit(struct cmd_args *a)
{
	(void)a;
	R.quit = true;
	return NULL;
}

static const char *cmd_outage(struct cmd_args *a)
{
	bool refuse = !strcmp(a->argv[0], "refuse");

	if (!refuse && strcmp(a->argv[0], "blackhole"))
		return "outage refuse|blackhole";
	if (R.outage != OUT_NONE)
		return "already in an outage";
	outage_begin(refuse);
	return NULL;
}

static const char *cmd_restore(struct cmd_args *a)
{
	static char why[96];

	(void)a;
	if (outage_end() == 0)
		return NULL;
	snprintf(why, sizeof(why), "cannot reopen listeners: %s", strerror(errno));
	return why;
}

static const char *cmd_swap(struct cmd_args *a)
{
	const char *how = a->argv[0];

	if (!strcmp(how, "off")) {
		R.swap = SWAP_OFF;
		for (unsigned int i = 0; i < R.n_links; i++)
			R.links[i].subst = -1;
	} else if (!strcmp(how, "route")) {
		R.swap = SWAP_ROUTE;
	} else if ((!strcmp(how, "media") || !strcmp(how, "both")) && R.n_cams > 1) {
		R.swap = !strcmp(how, "media") ? SWAP_MEDIA : SWAP_BOTH;
		/* each link's media from a random camera other than its own */
		for (unsigned int i = 0; i < R.n_links; i++) {
			struct link *l = &R.links[i];
			int c = (int)rng_below(&l->rng, R.n_cams - 1);

			l->subst = c >= l->cam ? c + 1 : c;
		}
	} else {
		return "swap route|media|both|off (media and both need two cameras)";
	}
	return NULL;
}

static const char *cmd_fault(struct cmd_args *a)
{
	static char why[160];

	for (int i = 0; i < a->argc; i++)
		for (int j = 0; j < a->n; j++) {
			const char *bad = set_fault(&a->sel[j]->f, a->argv[i]);

			if (bad) {
				snprintf(why, sizeof(why), "%.64s: %s", a->argv[i], bad);
				return why;
			}
		}
	for (int j = 0; j < a->n; j++)
		link_apply(a->sel[j]);
	return NULL;
}

static const char *cmd_clear(struct cmd_args *a)
{
	for (int j = 0; j < a->n; j++) {
		faults_reset(&a->sel[j]->f);
		a->sel[j]->route = -1;
		a->sel[j]->subst = -1;
		a->sel[j]->replay = REPLAY_OFF;
		link_apply(a->sel[j]);
	}
	return NULL;
}

/* route: a camera or "own"; subst: a camera or "off" (both -1) */
static const char *set_camera(struct cmd_args *a, const char *none, bool route)
{
	int c = strcmp(a->argv[0], none) ? find_camera(a->argv[0]) : -1;

	if (c < 0 && strcmp(a->argv[0], none))
		return "unknown camera";
	for (int j = 0; j < a->n; j++)
		*(route ? &a->sel[j]->route : &a->sel[j]->subst) = c;
	return NULL;
}

static const char *cmd_route(struct cmd_args *a)
{
	return set_camera(a, "own", true);
}

static const char *cmd_subst(struct cmd_args *a)
{
	return set_camera(a, "off", false);
}

static const char *cmd_record(struct cmd_args *a)
{
	bool on = !strcmp(a->argv[0], "on");

	if (!on && strcmp(a->argv[0], "off"))
		return "record LINK|all on|off";
	for (int j = 0; j < a->n; j++) {
		if (on)
			record_clear(a->sel[j]);
		a->sel[j]->recording = on;
	}
	return NULL;
}

static const char *cmd_replay(struct cmd_args *a)
{
	static const char *const modes[] = {
		[REPLAY_OFF] = "off", [REPLAY_RAW] = "raw", [REPLAY_REWRITE] = "rewrite",
		[REPLAY_RESESSION] = "resession",
	};
	uint64_t now = now_ns();
	unsigned int m = 0;

	while (m < sizeof(modes) / sizeof(modes[0]) && strcmp(a->argv[0], modes[m]))
		m++;
	if (m == sizeof(modes) / sizeof(modes[0]))
		return "replay LINK|all raw|rewrite|resession|off";
	for (int j = 0; j < a->n; j++) {
		a->sel[j]->recording = false;
		a->sel[j]->replay = (enum replay_mode)m;
		a->sel[j]->replay_pos = 0;
		a->sel[j]->replay_next_ns = now;
	}
	return NULL;
}

static const char *cmd_kick(struct cmd_args *a)
{
	for (int j = 0; j < a->n; j++)
		kick_link(a->sel[j]);
	return NULL;
}

static const struct relay_cmd {
	const char *name;
	bool links;		/* the first word names links: LINK or all */
	int min, max;		/* words after the name (and the links) */
	const char *(*run)(struct cmd_args *a);
	const char *usage;
} cmds[] = {
	{ "fault", true, 1, 30, cmd_fault, "fault LINK|all key=value ..." },
	{ "clear", true, 0, 0, cmd_clear, "clear LINK|all" },
	{ "route", true, 1, 1, cmd_route, "route LINK|all CAMERA|own" },
	{ "subst", true, 1, 1, cmd_subst, "subst LINK|all CAMERA|off" },
	{ "record", true, 1, 1, cmd_record, "record LINK|all on|off" },
	{ "replay", true, 1, 1, cmd_replay, "replay LINK|all raw|rewrite|resession|off" },
	{ "kick", true, 0, 0, cmd_kick, "kick LINK|all" },
	{ "swap", false, 1, 1, cmd_swap, "swap route|media|both|off" },
	{ "outage", false, 1, 1, cmd_outage, "outage refuse|blackhole" },
	{ "restore", false, 0, 0, cmd_restore, "restore" },
	{ "stats", false, 0, 0, NULL, "stats" },
	{ "quit", false, 0, 0, cmd_quit, "quit" },
};

static void command(char *line)
{
	char *argv[32];
	int argc = 0;
	struct link *sel[MAX_LINKS];
	const struct relay_cmd *c = NULL;
	struct cmd_args a = { .sel = sel };
	const char *why;

	for (char *tok = strtok(line, " \t\r"); tok && argc < 32; tok = strtok(NULL, " \t\r"))
		argv[argc++] = tok;
	if (!argc)
		return;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]) && !c; i++)
		if (!strcmp(argv[0], cmds[i].name))
			c = &cmds[i];
	if (!c) {
		reply("{\"ok\":false,\"error\":\"unknown command\"}");
		return;
	}
	a.argv = argv + 1 + c->links;
	a.argc = argc - 1 - c->links;
	if (a.argc < c->min || a.argc > c->max) {
		reply("{\"ok\":false,\"error\":\"usage: %s\"}", c->usage);
		return;
	}
	if (c->links && (a.n = select_links(argv[1], sel)) < 0) {
		reply("{\"ok\":false,\"error\":\"unknown link\"}");
		return;
	}
	if (!c->run) {		/* stats: the reply is the statistics */
		stats_json();
		return;
	}
	why = c->run(&a);
	if (why)
		reply("{\"ok\":false,\"error\":\"%s\"}", why);
	else
		reply("{\"ok\":true}");
}

static void on_stdin(void)
{
	ssize_t n = read(STDIN_FILENO, R.inbuf + R.inlen, sizeof(R.inbuf) - 1 - R.inlen);
	char *nl;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		R.quit = true;	/* the orchestrator is gone */
		return;
	}
	R.inlen += (size_t)n;
	R.inbuf[R.inlen] = 0;
	while ((nl = strchr(R.inbuf, '\n'))) {
		size_t used = (size_t)(nl - R.inbuf) + 1;

		*nl = 0;
		command(R.inbuf);
		memmove(R.inbuf, R.inbuf + used, R.inlen - used + 1);
		R.inlen -= used;
	}
	if (R.inlen == sizeof(R.inbuf) - 1)
		R.inlen = 0;	/* an overlong line is dropped */
}

/* ------------------------------------------------------------------ */
/* Main loop                                                            */
/* ------------------------------------------------------------------ */

static int next_timeout_ms(uint64_t now)
{
	uint64_t next = now + 100000000ull;	/* housekeeping at least every 100 ms */

	if (R.heap_n && R.heap[0]->due < next)
		next = R.heap[0]->due;
	for (struct conn *c = R.conns; c; c = c->next) {
		if (c->to_down.head && c->to_down.head->due < next)
			next = c->to_down.head->due;
		if (c->to_up.head && c->to_up.head->due < next)
			next = c->to_up.head->due;
	}
	for (unsigned int i = 0; i < R.n_links; i++) {
		if (R.links[i].replay != REPLAY_OFF && R.links[i].replay_next_ns < next)
			next = R.links[i].replay_next_ns;
		if (R.links[i].f.inject_ns && R.links[i].inject_next_ns < next)
			next = R.links[i].inject_next_ns;
	}
	return next <= now ? 0 : (int)((next - now + 999999) / 1000000);
}

static void housekeeping(uint64_t now)
{
	struct conn *c = R.conns, *next;

	heap_run(now);
	for (; c; c = next) {
		next = c->next;
		if (c->kind == K_MEDIA && c->link->f.stall && c->up_fd >= 0 && !c->connecting) {
			conn_budget(c, now);
			conn_want(c);		/* read again when the budget allows */
		}
		if ((c->to_down.head && c->to_down.head->due <= now) ||
		    (c->to_up.head && c->to_up.head->due <= now))
			conn_flush(c, now);
	}
	for (unsigned int i = 0; i < R.n_links; i++) {
		struct link *l = &R.links[i];
		struct flow *fl = l->flows, *fn;

		replay_run(l, now);
		for (; fl; fl = fn) {
			fn = fl->next;
			if (l->f.zombie && fl->hello_len) {
				/* a dead hub's keepalive, replayed: the flow never idles */
				if (now >= fl->replay_ns) {
					send(fl->fd, fl->hello, fl->hello_len, MSG_DONTWAIT);
					fl->replay_ns = now + (l->f.zombie_ns ? l->f.zombie_ns : NS / 2);
					l->st.hello_replays++;
				}
				continue;
			}
			if (now - fl->last_ns > FLOW_IDLE_NS)
				flow_close(fl, true);
		}
		if (l->f.inject_ns && now >= l->inject_next_ns) {
			inject_one(l);
			l->inject_next_ns = now + l->f.inject_ns;
		}
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: relay --seed N [--max-runtime SEC] --camera NAME=127.a.b.c:PORT ...\n"
		"             --link ID=127.a.b.c:PORT,CAMERA ...\n"
		"commands on stdin (one JSON reply line each):\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(stderr, "  %s\n", cmds[i].usage);
	fprintf(stderr,
		"fault keys: drop dup reorder corrupt truncate splice_pkt splice_au ctl_corrupt\n"
		"  renumber (probability: 0.01 or 1/100), splice_from=CAMERA,\n"
		"  splice_mode=ahead|collide, delay_ms jitter_ms reorder_ms queue_ms rate_kbps,\n"
		"  dir=down|both, delay_ctl=0|1 (delay the control stream too), hold_ms,\n"
		"  hold_dir=to_hub|to_camera, hold_trickle_ms, zombie=0|1, zombie_ms, inject_ms,\n"
		"  stall=0|1, stall_bps (stalled TCP media: bytes/s read from the camera)\n");
}

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

int main(int argc, char **argv)
{
	uint64_t max_runtime = 3600, start;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	R.ep = epoll_create1(EPOLL_CLOEXEC);
	R.heap = xcalloc(PENDING_MAX, sizeof(*R.heap));
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v) {
			usage();
			return 2;
		}
		if (!strcmp(argv[i], "--seed")) {
			if (!parse_u64(v, &R.seed))
				goto bad;
		} else if (!strcmp(argv[i], "--max-runtime")) {
			if (!parse_u64(v, &max_runtime) || !max_runtime)
				goto bad;
		} else if (!strcmp(argv[i], "--camera")) {
			const char *eq = strchr(v, '=');
			struct camera *c = &R.cams[R.n_cams];

			if (!eq || R.n_cams >= MAX_CAMERAS || (size_t)(eq - v) >= sizeof(c->name) ||
			    eq == v || !parse_addr(eq + 1, &c->addr))
				goto bad;
			memcpy(c->name, v, (size_t)(eq - v));
			R.n_cams++;
		} else if (!strcmp(argv[i], "--link")) {
			const char *eq = strchr(v, '='), *comma = strrchr(v, ',');
			struct link *l = &R.links[R.n_links];
			char addr[64];

			if (!eq || !comma || comma < eq || R.n_links >= MAX_LINKS ||
			    (size_t)(eq - v) >= sizeof(l->id) || eq == v ||
			    (size_t)(comma - eq - 1) >= sizeof(addr))
				goto bad;
			memcpy(l->id, v, (size_t)(eq - v));
			memcpy(addr, eq + 1, (size_t)(comma - eq - 1));
			addr[comma - eq - 1] = 0;
			l->cam = find_camera(comma + 1);
			if (l->cam < 0 || !parse_addr(addr, &l->front))
				goto bad;
			R.n_links++;
		} else {
			goto bad;
		}
		i++;
		continue;
bad:
		fprintf(stderr, "relay: bad argument %s %s (addresses must be on 127.0.0.0/8)\n",
			argv[i], v);
		usage();
		return 2;
	}
	if (!R.n_cams || !R.n_links) {
		usage();
		return 2;
	}
	for (unsigned int i = 0; i < R.n_links; i++) {
		struct link *l = &R.links[i];

		l->route = l->subst = -1;
		l->third_fd = -1;
		faults_reset(&l->f);
		rng_seed(&l->rng, R.seed, l->id);
		if (open_listeners(l) < 0) {
			fprintf(stderr, "relay: link %s: %s\n", l->id, strerror(errno));
			return 1;
		}
	}
	set_nonblock(STDIN_FILENO);
	R.hin = (struct handler){ H_STDIN, NULL };
	ep_add(STDIN_FILENO, EPOLLIN, &R.hin);
	reply("{\"ok\":true,\"ready\":true,\"links\":%u,\"cameras\":%u}", R.n_links, R.n_cams);

	start = now_ns();
	while (!R.quit && !stop_signal) {
		struct epoll_event ev[64];
		uint64_t now = now_ns();
		int n = epoll_wait(R.ep, ev, 64, next_timeout_ms(now));

		now = now_ns();
		if (now - start > max_runtime * NS) {
			fprintf(stderr, "relay: --max-runtime reached, stopping\n");
			break;
		}
		for (int i = 0; i < n; i++) {
			struct handler *h = ev[i].data.ptr;

			if (((h->type == H_DOWN || h->type == H_UP) &&
			     ((struct conn *)h->ptr)->dead) ||
			    (h->type == H_FLOW && ((struct flow *)h->ptr)->dead))
				continue;
			switch (h->type) {
			case H_LISTEN:
				on_listen(h->ptr, now);
				break;
			case H_FRONT_UDP:
				on_front_udp(h->ptr, now);
				break;
			case H_FLOW:
				on_flow(h->ptr, now);
				break;
			case H_DOWN:
				on_down(h->ptr, ev[i].events, now);
				break;
			case H_UP:
				on_up(h->ptr, ev[i].events, now);
				break;
			case H_STDIN:
				on_stdin();
				break;
			case H_THIRD:
				on_third(h->ptr);
				break;
			}
		}
		housekeeping(now_ns());
		free_dead();
	}
	while (R.conns)
		conn_close(R.conns);
	for (unsigned int i = 0; i < R.n_links; i++) {
		struct link *l = &R.links[i];

		while (l->flows)
			flow_close(l->flows, false);
		close_listeners(l);
		close_fd(&l->third_fd);
		record_clear(l);
		free(l->trk.buf);
		free(l->trk.bitmap);
		free(l->held);
	}
	for (unsigned int i = 0; i < R.n_cams; i++)
		free(R.cams[i].latest.data);
	heap_clear();
	free_dead();
	free(R.heap);
	close(R.ep);
	return 0;
}
