// SPDX-License-Identifier: GPL-2.0
/*
 * send.c - the camera's send step: per hub session a bounded queue of
 * sealed units, cut into tagged RTP packets and sent to the UDP address
 * the hub proved (authentic hello, then a path challenge echoed from
 * that address), or down the hub's TCP media connection as RFC 4571
 * frames. One UDP socket serves every hub.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "rtp.h"
#include "send.h"
#include "sock.h"

#define STAGE_MAX		(2 + VCN_TCP_PACKET_MAX)
#define HELLO_BUDGET		256	/* datagrams per process call: floods cannot starve it */
#define CHALLENGE_GAP_NS	100000000LL	/* at most one path challenge per 100 ms per hub */

struct qunit {
	uint8_t *data;
	size_t len;
	uint64_t capture_ns;
	bool keyframe;
};

struct vcn_cam_hub {
	struct vcn_cam_hub *next;
	uint8_t token[VCN_TOKEN_LEN];
	struct vcn_mac *c2h;		/* tags our packets and challenges */
	struct vcn_mac *h2c;		/* checks the hub's hellos */
	uint64_t counter;		/* of the newest hello accepted; 0: none yet */
	enum vcn_path path;
	struct sockaddr_storage addr;	/* latched (proven) UDP destination */
	socklen_t addr_len;
	/* the one outstanding path challenge: the address it went to */
	bool chal_pending;
	uint8_t chal[VCN_NONCE_LEN];
	struct sockaddr_storage chal_addr;
	socklen_t chal_addr_len;
	bool chal_ever;
	int64_t chal_sent_ns;
	int tcp_fd;
	bool tcp_out;			/* EPOLLOUT registered */
	bool tcp_blocked;
	uint8_t tcp_in[VCN_HELLO_LEN];
	size_t tcp_in_len;
	struct vcn_packetizer pk;
	struct vcn_fragmenter frag;
	bool sending;			/* frag holds the queue's head */
	struct qunit *q;
	unsigned int q_cap, q_head, q_len;
	size_t q_bytes;
	bool needs_key;
	uint8_t *stage;			/* one packet, with a TCP length prefix if any */
	size_t stage_len, stage_off;
	double tokens;
	int64_t tokens_ns;
	int64_t pace_at;		/* paced out until then; INT64_MAX if not */
	struct vcn_cam_hub_stats stats;
};

struct vcn_cam {
	struct vcn_cam_config cfg;
	int ep, udp;
	bool udp_blocked, udp_out;
	uint16_t port;
	struct vcn_cam_hub *hubs;
	struct vcn_cam_stats stats;
};

struct vcn_cam *vcn_cam_new(const struct vcn_cam_config *cfg)
{
	struct vcn_cam *cam;

	if (!cfg->bind || cfg->bind_len > sizeof(struct sockaddr_storage) ||
	    (cfg->bind->sa_family != AF_INET && cfg->bind->sa_family != AF_INET6)) {
		errno = EINVAL;
		return NULL;
	}
	cam = calloc(1, sizeof(*cam));
	if (!cam)
		return NULL;
	cam->cfg = *cfg;
	if (!cam->cfg.transports)
		cam->cfg.transports = VCN_TRANSPORT_UDP | VCN_TRANSPORT_TCP;
	if (!cam->cfg.pt)
		cam->cfg.pt = VCN_PT_DEFAULT;
	cam->cfg.pt &= 0x7f;
	if (!cam->cfg.max_au)
		cam->cfg.max_au = VCN_MAX_AU_DEFAULT;
	if (!cam->cfg.queue_units)
		cam->cfg.queue_units = 3;
	if (!cam->cfg.queue_bytes)
		cam->cfg.queue_bytes = 4u << 20;
	if (!cam->cfg.burst)
		cam->cfg.burst = 64u << 10;
	cam->cfg.bind = NULL;		/* not kept: the caller owns it */
	cam->ep = cam->udp = -1;

	cam->ep = epoll_create1(EPOLL_CLOEXEC);
	if (cam->ep < 0)
		goto fail;
	cam->udp = vcn_socket(cfg->bind->sa_family, SOCK_DGRAM, cfg->bind, cfg->bind_len);
	if (cam->udp < 0 || vcn_epoll_add(cam->ep, cam->udp, EPOLLIN) < 0)
		goto fail;
	vcn_sock_buffers(cam->udp, 1 << 20, 1 << 20);
	cam->port = vcn_sock_port(cam->udp);
	return cam;
fail:
	vcn_cam_free(cam);
	return NULL;
}

int vcn_cam_fd(const struct vcn_cam *cam)
{
	return cam->ep;
}

uint16_t vcn_cam_port(const struct vcn_cam *cam)
{
	return cam->port;
}

const struct vcn_cam_stats *vcn_cam_stats(const struct vcn_cam *cam)
{
	return &cam->stats;
}

const struct vcn_cam_hub_stats *vcn_cam_hub_stats(const struct vcn_cam_hub *hub)
{
	return &hub->stats;
}

enum vcn_path vcn_cam_hub_path(const struct vcn_cam_hub *hub)
{
	return hub->path;
}

bool vcn_cam_hub_needs_keyframe(const struct vcn_cam_hub *hub)
{
	return hub->needs_key;
}

static bool active(const struct vcn_cam_hub *h)
{
	return h->path == VCN_PATH_UDP || h->path == VCN_PATH_TCP;
}

static void q_pop_head(struct vcn_cam_hub *h)
{
	struct qunit *u = &h->q[h->q_head];

	h->q_bytes -= u->len;
	free(u->data);
	u->data = NULL;
	h->q_head = (h->q_head + 1) % h->q_cap;
	h->q_len--;
}

/* Drop the newest queued unit; never the head while it is being sent. */
static bool q_drop_tail(struct vcn_cam_hub *h)
{
	struct qunit *u;

	if (!h->q_len || (h->q_len == 1 && h->sending))
		return false;
	u = &h->q[(h->q_head + h->q_len - 1) % h->q_cap];
	h->q_bytes -= u->len;
	free(u->data);
	u->data = NULL;
	h->q_len--;
	return true;
}

static void reset_output(struct vcn_cam_hub *h)
{
	while (h->q_len)
		q_pop_head(h);
	h->sending = false;
	h->stage_len = h->stage_off = 0;
	h->pace_at = INT64_MAX;
}

static void close_tcp(struct vcn_cam *cam, struct vcn_cam_hub *h)
{
	if (h->tcp_fd < 0)
		return;
	vcn_epoll_del(cam->ep, h->tcp_fd);
	close(h->tcp_fd);
	h->tcp_fd = -1;
	h->tcp_out = h->tcp_blocked = false;
	h->tcp_in_len = 0;
}

/* The hub said bye or its TCP path broke: free what it held, keep the handle. */
static void hub_gone(struct vcn_cam *cam, struct vcn_cam_hub *h)
{
	if (h->path == VCN_PATH_GONE)
		return;
	reset_output(h);
	close_tcp(cam, h);
	h->path = VCN_PATH_GONE;
	cam->stats.hubs_gone++;
}

static void hub_destroy(struct vcn_cam *cam, struct vcn_cam_hub *h)
{
	reset_output(h);
	close_tcp(cam, h);
	vcn_mac_free(h->c2h);
	vcn_mac_free(h->h2c);
	free(h->q);
	free(h->stage);
	OPENSSL_cleanse(h, sizeof(*h));	/* token, challenge */
	free(h);
}

void vcn_cam_free(struct vcn_cam *cam)
{
	if (!cam)
		return;
	while (cam->hubs) {
		struct vcn_cam_hub *h = cam->hubs;

		cam->hubs = h->next;
		hub_destroy(cam, h);
	}
	if (cam->udp >= 0)
		close(cam->udp);
	if (cam->ep >= 0)
		close(cam->ep);
	free(cam);
}

struct vcn_cam_hub *vcn_cam_hub_add(struct vcn_cam *cam, int64_t now_ns,
				    const struct vcn_keys *keys, struct vcn_offer *offer)
{
	struct vcn_cam_hub *h;

	if (!keys) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->tcp_fd = -1;
	h->q_cap = cam->cfg.queue_units;
	h->q = calloc(h->q_cap, sizeof(*h->q));
	h->stage = malloc(STAGE_MAX);
	h->c2h = vcn_mac_new(keys->camera_to_hub);
	h->h2c = vcn_mac_new(keys->hub_to_camera);
	if (!h->q || !h->stage || !h->c2h || !h->h2c ||
	    RAND_bytes(h->token, sizeof(h->token)) != 1 ||
	    vcn_packetizer_init(&h->pk, cam->cfg.pt, VCN_UDP_STRIDE, h->c2h) < 0) {
		hub_destroy(cam, h);
		return NULL;
	}
	h->path = VCN_PATH_NONE;
	h->needs_key = true;		/* the hub's verifier starts at an IDR */
	h->tokens = (double)cam->cfg.burst;
	h->tokens_ns = now_ns;
	h->pace_at = INT64_MAX;
	h->next = cam->hubs;
	cam->hubs = h;

	memcpy(offer->token, h->token, VCN_TOKEN_LEN);
	offer->ssrc = h->pk.ssrc;
	offer->port = cam->port;
	offer->pt = cam->cfg.pt;
	offer->transports = cam->cfg.transports;
	return h;
}

void vcn_cam_hub_remove(struct vcn_cam *cam, struct vcn_cam_hub *hub)
{
	for (struct vcn_cam_hub **pp = &cam->hubs; *pp; pp = &(*pp)->next) {
		if (*pp == hub) {
			*pp = hub->next;
			hub_destroy(cam, hub);
			return;
		}
	}
}

/* Constant-time per comparison; every hub is compared. */
static struct vcn_cam_hub *find_hub(struct vcn_cam *cam, const uint8_t token[VCN_TOKEN_LEN])
{
	struct vcn_cam_hub *found = NULL;

	for (struct vcn_cam_hub *h = cam->hubs; h; h = h->next)
		if (vcn_token_equal(h->token, token) && !found)
			found = h;
	return found;
}

static void set_out(struct vcn_cam *cam, int fd, bool *registered, bool want)
{
	if (*registered == want)
		return;
	if (vcn_epoll_mod(cam->ep, fd, EPOLLIN | (want ? EPOLLOUT : 0)) == 0)
		*registered = want;
}

/* Put the next packet of this hub's output in h->stage; false if nothing is left. */
static bool stage_next(struct vcn_cam_hub *h)
{
	size_t off = h->path == VCN_PATH_TCP ? 2 : 0;
	size_t n;

	for (;;) {
		if (h->sending) {
			n = vcn_fragmenter_next(&h->pk, &h->frag, h->stage + off);
			if (n)
				break;
			h->stats.units_sent++;
			h->stats.bytes_sent += h->q[h->q_head].len;
			h->sending = false;
			q_pop_head(h);
		} else if (h->q_len) {
			struct qunit *u = &h->q[h->q_head];

			vcn_fragmenter_start(&h->pk, &h->frag, u->data, u->len, u->capture_ns,
					     u->keyframe ? VCN_FLAG_KEYFRAME : 0);
			h->sending = true;
		} else {
			return false;
		}
	}
	if (off)
		vcn_put_be16(h->stage, (uint16_t)n);
	h->stage_len = n + off;
	h->stage_off = 0;
	return true;
}

/* 1: the staged packet is gone (sent, or lost to a UDP error); 0: would block; -1: hub gone. */
static int transmit(struct vcn_cam *cam, struct vcn_cam_hub *h)
{
	ssize_t n;

	if (h->path == VCN_PATH_UDP) {
		n = sendto(cam->udp, h->stage, h->stage_len, MSG_DONTWAIT,
			   (struct sockaddr *)&h->addr, h->addr_len);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
			cam->udp_blocked = true;
			return 0;
		}
		if (n < 0)
			h->stats.send_errors++;	/* e.g. ICMP unreachable: lost like on the wire */
		else
			h->stats.packets_sent++;
		return 1;
	}
	while (h->stage_off < h->stage_len) {
		n = send(h->tcp_fd, h->stage + h->stage_off, h->stage_len - h->stage_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			h->tcp_blocked = true;
			return 0;
		}
		if (n <= 0) {
			h->stats.send_errors++;
			hub_gone(cam, h);
			return -1;
		}
		h->stage_off += (size_t)n;
	}
	h->stats.packets_sent++;
	return 1;
}

static void refill(const struct vcn_cam *cam, struct vcn_cam_hub *h, int64_t now_ns)
{
	int64_t dt = now_ns - h->tokens_ns;

	h->tokens_ns = now_ns;
	if (dt <= 0)
		return;
	h->tokens += (double)dt * (double)cam->cfg.rate / 1e9;
	if (h->tokens > (double)cam->cfg.burst)
		h->tokens = (double)cam->cfg.burst;
}

/* Send what this hub's path and pacing allow now. */
static void flush(struct vcn_cam *cam, struct vcn_cam_hub *h, int64_t now_ns)
{
	h->pace_at = INT64_MAX;
	if (!active(h))
		return;
	if (cam->cfg.rate)
		refill(cam, h, now_ns);
	for (;;) {
		if (h->path == VCN_PATH_UDP ? cam->udp_blocked : h->tcp_blocked)
			break;
		if (!h->stage_len && !stage_next(h))
			break;
		if (cam->cfg.rate) {
			double need = (double)(h->stage_len < cam->cfg.burst ?
					       h->stage_len : cam->cfg.burst);

			if (h->tokens < need) {
				h->pace_at = now_ns + (int64_t)((need - h->tokens) * 1e9 /
								(double)cam->cfg.rate) + 1;
				break;
			}
		}
		if (transmit(cam, h) <= 0)
			break;
		if (cam->cfg.rate)
			h->tokens -= (double)h->stage_len;
		h->stage_len = h->stage_off = 0;
	}
	if (h->tcp_fd >= 0 && active(h))
		set_out(cam, h->tcp_fd, &h->tcp_out, h->tcp_blocked);
}

/* An empty queue takes any unit up to max_au. */
static bool fits(const struct vcn_cam *cam, const struct vcn_cam_hub *h, size_t len)
{
	return !h->q_len || (h->q_len < h->q_cap && h->q_bytes + len <= cam->cfg.queue_bytes);
}

enum vcn_send vcn_cam_send(struct vcn_cam *cam, struct vcn_cam_hub *hub,
			   const uint8_t *unit, size_t len, uint64_t capture_ns,
			   bool keyframe, int64_t now_ns)
{
	struct qunit *u;

	if (!active(hub)) {
		hub->stats.dropped_no_path++;
		return VCN_SEND_NO_PATH;
	}
	if (hub->needs_key && !keyframe) {
		hub->stats.dropped_await_keyframe++;
		return VCN_SEND_AWAIT_KEYFRAME;
	}
	if (len > cam->cfg.max_au)
		goto full;
	/* A keyframe supersedes the units queued before it that have not started. */
	while (keyframe && !fits(cam, hub, len) && q_drop_tail(hub))
		hub->stats.dropped_queue_full++;
	if (!fits(cam, hub, len))
		goto full;
	u = &hub->q[(hub->q_head + hub->q_len) % hub->q_cap];
	u->data = malloc(len ? len : 1);
	if (!u->data)
		goto full;
	memcpy(u->data, unit, len);
	u->len = len;
	u->capture_ns = capture_ns;
	u->keyframe = keyframe;
	hub->q_len++;
	hub->q_bytes += len;
	if (keyframe)
		hub->needs_key = false;
	flush(cam, hub, now_ns);
	set_out(cam, cam->udp, &cam->udp_out, cam->udp_blocked);
	return VCN_SEND_QUEUED;
full:
	hub->stats.dropped_queue_full++;
	hub->needs_key = true;
	return VCN_SEND_QUEUE_FULL;
}

bool vcn_cam_idle(const struct vcn_cam *cam)
{
	for (const struct vcn_cam_hub *h = cam->hubs; h; h = h->next)
		if (active(h) && (h->q_len || h->stage_len))
			return false;
	return true;
}

/*
 * A hello that names hub h (token): act on it only if its tag is right
 * under h's hub-to-camera key and its counter is above every counter
 * accepted before, so a copy (from anywhere) is worth nothing once the
 * original or another copy was taken.
 */
static bool hello_accept(struct vcn_cam *cam, struct vcn_cam_hub *h, const uint8_t *raw,
			 const struct vcn_hello *hello)
{
	if (!vcn_hello_authentic(h->h2c, raw)) {
		cam->stats.hello_forged++;
		return false;
	}
	if (hello->counter <= h->counter) {
		cam->stats.hello_replay++;
		return false;
	}
	h->counter = hello->counter;
	h->stats.hellos++;
	return true;
}

/* The hub's TCP connection presented an authentic hello: media goes there from now on. */
static void attach_tcp(struct vcn_cam *cam, struct vcn_cam_hub *h, int fd)
{
	if (h->sending) {
		/* the unit cut short on the old path is lost; so is its successor's reference */
		h->stats.dropped_path_change++;
		h->sending = false;
		q_pop_head(h);
	}
	if (h->path != VCN_PATH_NONE)
		h->needs_key = true;	/* what went before may be lost with the old path */
	h->stage_len = h->stage_off = 0;
	close_tcp(cam, h);
	h->tcp_fd = fd;
	h->path = VCN_PATH_TCP;
	h->pk.stride = VCN_TCP_STRIDE;
}

int vcn_cam_adopt_tcp(struct vcn_cam *cam, int fd, const uint8_t raw[VCN_HELLO_LEN],
		      int64_t now_ns)
{
	struct vcn_cam_hub *h = NULL;
	struct vcn_hello hello;
	int fl;

	(void)now_ns;
	if ((cam->cfg.transports & VCN_TRANSPORT_TCP) &&
	    vcn_hello_parse(raw, VCN_HELLO_LEN, &hello) == VCN_HELLO_TCP)
		h = find_hub(cam, hello.token);
	if (h && !(h->path == VCN_PATH_NONE || active(h)))
		h = NULL;	/* gone: nothing to attach to */
	if (h && !hello_accept(cam, h, raw, &hello))
		h = NULL;
	OPENSSL_cleanse(&hello, sizeof(hello));
	fl = h ? fcntl(fd, F_GETFL) : -1;
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    vcn_epoll_add(cam->ep, fd, EPOLLIN) < 0) {
		close(fd);
		cam->stats.tcp_refused++;
		errno = EACCES;
		return -1;
	}
	attach_tcp(cam, h, fd);
	return 0;
}

/*
 * An authentic, fresh UDP hello from an address media does not go to:
 * return routability. Media moves there only when the hello echoes the
 * challenge sent to exactly that address; otherwise challenge it (one
 * outstanding per hub, a new address replaces it, at most one every
 * CHALLENGE_GAP_NS) and keep sending to the proven address meanwhile.
 */
static void check_path(struct vcn_cam *cam, struct vcn_cam_hub *h, const struct vcn_hello *hello,
		       const struct sockaddr_storage *from, socklen_t from_len, int64_t now_ns)
{
	uint8_t msg[VCN_CHALLENGE_LEN];
	bool same = h->chal_pending &&
		    vcn_addr_equal(&h->chal_addr, h->chal_addr_len, from, from_len);

	if (same && CRYPTO_memcmp(hello->echo, h->chal, VCN_NONCE_LEN) == 0) {
		if (h->path == VCN_PATH_UDP)
			h->stats.relatched++;
		memcpy(&h->addr, from, from_len);
		h->addr_len = from_len;
		h->path = VCN_PATH_UDP;
		h->chal_pending = false;
		OPENSSL_cleanse(h->chal, sizeof(h->chal));
		return;
	}
	if (h->chal_ever && now_ns - h->chal_sent_ns < CHALLENGE_GAP_NS)
		return;
	if (!same) {
		/* the same address is asked the same question until it answers */
		if (RAND_bytes(h->chal, sizeof(h->chal)) != 1)
			return;
		memcpy(&h->chal_addr, from, from_len);
		h->chal_addr_len = from_len;
		h->chal_pending = true;
	}
	h->chal_ever = true;
	h->chal_sent_ns = now_ns;
	vcn_challenge_encode(h->chal, h->pk.ssrc, h->c2h, msg);
	if (sendto(cam->udp, msg, sizeof(msg), MSG_DONTWAIT, (const struct sockaddr *)from,
		   from_len) == (ssize_t)sizeof(msg))
		cam->stats.challenges_sent++;
}

static void udp_hello(struct vcn_cam *cam, const uint8_t *buf, ssize_t n,
		      const struct sockaddr_storage *from, socklen_t from_len, int64_t now_ns)
{
	struct vcn_hello hello;
	struct vcn_cam_hub *h;
	int kind;

	kind = n == VCN_HELLO_LEN ? vcn_hello_parse(buf, (size_t)n, &hello) : 0;
	if (kind != VCN_HELLO_UDP && kind != VCN_HELLO_BYE) {
		cam->stats.hello_malformed++;
		return;
	}
	h = find_hub(cam, hello.token);
	if (!h)
		cam->stats.hello_bad_token++;
	else if (!hello_accept(cam, h, buf, &hello))
		;	/* counted: forged or replayed */
	else if (kind == VCN_HELLO_BYE)
		hub_gone(cam, h);
	else if (!(cam->cfg.transports & VCN_TRANSPORT_UDP))
		cam->stats.hello_malformed++;
	else if (h->path == VCN_PATH_NONE ||
		 (h->path == VCN_PATH_UDP &&
		  !vcn_addr_equal(&h->addr, h->addr_len, from, from_len)))
		check_path(cam, h, &hello, from, from_len, now_ns);
	/* else from the proven address, or on TCP or gone: nothing more */
	OPENSSL_cleanse(&hello, sizeof(hello));
}

static void read_udp(struct vcn_cam *cam, int64_t now_ns)
{
	uint8_t buf[VCN_HELLO_LEN + 1];
	struct sockaddr_storage from;
	socklen_t from_len;
	ssize_t n;

	for (int budget = HELLO_BUDGET; budget > 0; budget--) {
		from_len = sizeof(from);
		n = recvfrom(cam->udp, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
			     (struct sockaddr *)&from, &from_len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;		/* EAGAIN, or a queued ICMP error: nothing to do */
		}
		udp_hello(cam, buf, n > (ssize_t)sizeof(buf) ? -1 : n, &from, from_len, now_ns);
	}
}

/* One 64-byte hello on a hub's TCP media connection: a keepalive, or the end of it. */
static void tcp_hello(struct vcn_cam *cam, struct vcn_cam_hub *h)
{
	struct vcn_hello hello;
	int kind = vcn_hello_parse(h->tcp_in, sizeof(h->tcp_in), &hello);

	if (!kind || !vcn_token_equal(hello.token, h->token)) {
		cam->stats.hello_malformed++;
		hub_gone(cam, h);
	} else if (!hello_accept(cam, h, h->tcp_in, &hello) || kind != VCN_HELLO_TCP) {
		if (kind == VCN_HELLO_UDP)
			cam->stats.hello_malformed++;
		hub_gone(cam, h);	/* a bye, or a bad hello: this path is done */
	}
	OPENSSL_cleanse(&hello, sizeof(hello));
}

/* Keepalives and byes on a hub's TCP media connection; EOF means gone. */
static void read_hub_tcp(struct vcn_cam *cam, struct vcn_cam_hub *h)
{
	ssize_t n;

	while (h->tcp_fd >= 0) {
		n = recv(h->tcp_fd, h->tcp_in + h->tcp_in_len, sizeof(h->tcp_in) - h->tcp_in_len,
			 MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0) {
			hub_gone(cam, h);
			return;
		}
		h->tcp_in_len += (size_t)n;
		if (h->tcp_in_len < sizeof(h->tcp_in))
			continue;
		h->tcp_in_len = 0;
		tcp_hello(cam, h);
	}
}

int vcn_cam_process(struct vcn_cam *cam, int64_t now_ns)
{
	read_udp(cam, now_ns);
	cam->udp_blocked = false;
	for (struct vcn_cam_hub *h = cam->hubs; h; h = h->next) {
		if (h->tcp_fd >= 0 && h->path == VCN_PATH_TCP)
			read_hub_tcp(cam, h);
		h->tcp_blocked = false;
		flush(cam, h, now_ns);
	}
	set_out(cam, cam->udp, &cam->udp_out, cam->udp_blocked);
	return 0;
}

int64_t vcn_cam_deadline_ns(const struct vcn_cam *cam)
{
	int64_t d = INT64_MAX;

	for (const struct vcn_cam_hub *h = cam->hubs; h; h = h->next)
		if (h->pace_at < d)
			d = h->pace_at;
	return d;
}
