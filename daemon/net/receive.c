// SPDX-License-Identifier: GPL-2.0
/*
 * receive.c - the hub's receive step: tagged hellos out (echoing the
 * camera's path challenges), tagged RTP packets (UDP) or RFC 4571 frames
 * (TCP) in, reassembled into the sealed units the security core opens.
 * Falls back from UDP to TCP when no media arrives.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include <openssl/crypto.h>

#include "receive.h"
#include "sock.h"

#define RX_CAP			(256u << 10)	/* TCP receive buffer */
#define DGRAM_CAP		65536		/* never truncate a datagram */
#define FIRST_HELLO_PERIOD_NS	250000000LL	/* until media flows */
#define RX_BUDGET		1024		/* reads per call: a flood cannot starve the caller */
#define PROMPT_GAP_NS		100000000LL	/* challenge-prompted hellos: one per 100 ms */

struct vcn_hub {
	struct sockaddr_storage camera;
	socklen_t camera_len;
	struct vcn_offer offer;
	struct vcn_mac *c2h;		/* checks media packets and path challenges */
	struct vcn_mac *h2c;		/* tags our hellos */
	uint64_t counter;		/* of the last hello made; the next is +1 */
	uint8_t echo[VCN_NONCE_LEN];	/* newest path challenge received */
	bool prompted;
	int64_t prompt_ns;		/* last hello sent at once for a challenge */
	enum vcn_hub_transport transport;
	int64_t fallback_ns;
	int64_t hello_interval_ns;
	int ep, udp, tcp;
	enum vcn_path path;
	bool connecting;
	bool tcp_out;
	uint8_t hello[VCN_HELLO_LEN];	/* TCP hello being written */
	size_t hello_off;
	int64_t start_ns;
	int64_t next_hello_ns;
	struct vcn_reasm *reasm;
	uint8_t *rx;
	size_t rx_off, rx_len;
	uint8_t *dgram;
	struct vcn_hub_stats stats;
};

/* The next hello of this session: a fresh counter, the newest echo, tagged. */
static void make_hello(struct vcn_hub *h, enum vcn_hello_kind kind, uint8_t out[VCN_HELLO_LEN])
{
	struct vcn_hello hello = { .kind = kind, .counter = ++h->counter };

	memcpy(hello.token, h->offer.token, VCN_TOKEN_LEN);
	memcpy(hello.echo, h->echo, VCN_NONCE_LEN);
	vcn_hello_encode(&hello, h->h2c, out);
	OPENSSL_cleanse(&hello, sizeof(hello));
}

/* Bind the UDP socket to the local address the route to the camera uses. */
static int udp_open(struct vcn_hub *h)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int probe, fd;

	probe = socket(h->camera.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (probe < 0)
		return -1;
	if (connect(probe, (struct sockaddr *)&h->camera, h->camera_len) < 0 ||
	    getsockname(probe, (struct sockaddr *)&local, &len) < 0) {
		close(probe);
		return -1;
	}
	close(probe);
	vcn_addr_set_port(&local, 0);
	fd = vcn_socket(local.ss_family, SOCK_DGRAM, (struct sockaddr *)&local, len);
	if (fd < 0)
		return -1;
	vcn_sock_buffers(fd, 4 << 20, 0);
	if (vcn_epoll_add(h->ep, fd, EPOLLIN) < 0) {
		close(fd);
		return -1;
	}
	h->udp = fd;
	return 0;
}

static void udp_close(struct vcn_hub *h)
{
	if (h->udp < 0)
		return;
	vcn_epoll_del(h->ep, h->udp);
	close(h->udp);
	h->udp = -1;
}

static int tcp_open(struct vcn_hub *h)
{
	int fd = vcn_socket(h->camera.ss_family, SOCK_STREAM, NULL, 0);

	if (fd < 0)
		return -1;
	if ((connect(fd, (struct sockaddr *)&h->camera, h->camera_len) < 0 &&
	     errno != EINPROGRESS) ||
	    vcn_epoll_add(h->ep, fd, EPOLLIN | EPOLLOUT) < 0) {
		close(fd);
		return -1;
	}
	udp_close(h);		/* the camera sends on one path only */
	h->tcp = fd;
	h->tcp_out = true;
	h->connecting = true;
	make_hello(h, VCN_HELLO_TCP, h->hello);
	h->hello_off = 0;
	h->path = VCN_PATH_TCP;
	h->next_hello_ns = h->start_ns + h->hello_interval_ns;
	return 0;
}

struct vcn_hub *vcn_hub_new(const struct vcn_hub_config *cfg, int64_t now_ns)
{
	struct vcn_reasm_config rc = {
		.ssrc = cfg->offer->ssrc,
		.pt = cfg->offer->pt,
		.max_au = cfg->max_au,
		.max_inflight = cfg->max_inflight,
		.timeout_ns = cfg->reasm_timeout_ns,
	};
	uint8_t allow = cfg->offer->transports;
	struct vcn_hub *h;
	bool tcp;

	if (!cfg->keys || cfg->camera_len > sizeof(h->camera) ||
	    (cfg->camera->sa_family != AF_INET && cfg->camera->sa_family != AF_INET6) ||
	    (cfg->transport == VCN_HUB_UDP && !(allow & VCN_TRANSPORT_UDP)) ||
	    (cfg->transport == VCN_HUB_TCP && !(allow & VCN_TRANSPORT_TCP))) {
		errno = EINVAL;
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	memcpy(&h->camera, cfg->camera, cfg->camera_len);
	h->camera_len = cfg->camera_len;
	h->offer = *cfg->offer;
	h->transport = cfg->transport;
	h->fallback_ns = cfg->fallback_ns > 0 ? cfg->fallback_ns : 2000000000LL;
	h->hello_interval_ns = cfg->hello_interval_ns > 0 ? cfg->hello_interval_ns : 1000000000LL;
	h->udp = h->tcp = -1;
	h->path = VCN_PATH_NONE;
	h->start_ns = h->next_hello_ns = now_ns;
	h->ep = epoll_create1(EPOLL_CLOEXEC);
	h->c2h = vcn_mac_new(cfg->keys->camera_to_hub);
	h->h2c = vcn_mac_new(cfg->keys->hub_to_camera);
	rc.mac = h->c2h;
	h->reasm = h->c2h ? vcn_reasm_new(&rc) : NULL;
	h->rx = malloc(RX_CAP);
	h->dgram = malloc(DGRAM_CAP);
	if (h->ep < 0 || !h->h2c || !h->reasm || !h->rx || !h->dgram)
		goto fail;
	tcp = cfg->transport == VCN_HUB_TCP || !(allow & VCN_TRANSPORT_UDP);
	if (tcp ? tcp_open(h) : udp_open(h))
		goto fail;
	return h;
fail:
	vcn_hub_free(h);
	return NULL;
}

void vcn_hub_free(struct vcn_hub *h)
{
	uint8_t bye[VCN_HELLO_LEN] = { 0 };

	if (!h)
		return;
	if (h->h2c)
		make_hello(h, VCN_HELLO_BYE, bye);
	if (h->udp >= 0 && h->h2c) {
		sendto(h->udp, bye, sizeof(bye), MSG_DONTWAIT,
		       (struct sockaddr *)&h->camera, h->camera_len);
	}
	if (h->udp >= 0)
		close(h->udp);
	if (h->tcp >= 0) {
		/* only if no hello is half written: a bye must not corrupt the framing */
		if (!h->connecting && h->hello_off == VCN_HELLO_LEN)
			send(h->tcp, bye, sizeof(bye), MSG_DONTWAIT | MSG_NOSIGNAL);
		close(h->tcp);
	}
	if (h->ep >= 0)
		close(h->ep);
	OPENSSL_cleanse(bye, sizeof(bye));
	vcn_reasm_free(h->reasm);
	vcn_mac_free(h->c2h);
	vcn_mac_free(h->h2c);
	free(h->rx);
	free(h->dgram);
	OPENSSL_cleanse(h, sizeof(*h));	/* token, echo, the hello being written */
	free(h);
}

int vcn_hub_fd(const struct vcn_hub *h)
{
	return h->ep;
}

enum vcn_path vcn_hub_path(const struct vcn_hub *h)
{
	return h->path;
}

const struct vcn_hub_stats *vcn_hub_stats(const struct vcn_hub *h)
{
	return &h->stats;
}

const struct vcn_reasm_stats *vcn_hub_reasm_stats(const struct vcn_hub *h)
{
	return vcn_reasm_stats(h->reasm);
}

static bool fallback_pending(const struct vcn_hub *h)
{
	return h->path == VCN_PATH_NONE && h->transport == VCN_HUB_AUTO &&
	       (h->offer.transports & VCN_TRANSPORT_TCP);
}

int64_t vcn_hub_deadline_ns(const struct vcn_hub *h)
{
	int64_t d = vcn_reasm_deadline(h->reasm);

	if (h->path == VCN_PATH_GONE)
		return INT64_MAX;
	if (!h->connecting && h->next_hello_ns < d)
		d = h->next_hello_ns;
	if (fallback_pending(h) && h->start_ns + h->fallback_ns < d)
		d = h->start_ns + h->fallback_ns;
	return d;
}

/* Finish connecting and write the pending TCP hello; -1 if the connection failed. */
static int tcp_write(struct vcn_hub *h)
{
	ssize_t n;

	if (h->connecting) {
		int err = 0;
		socklen_t len = sizeof(err);

		if (getsockopt(h->tcp, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
			return -1;
		h->connecting = false;
	}
	while (h->hello_off < VCN_HELLO_LEN) {
		n = send(h->tcp, h->hello + h->hello_off, VCN_HELLO_LEN - h->hello_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* the rest when the socket takes it (a relay may never read) */
			if (!h->tcp_out && vcn_epoll_mod(h->ep, h->tcp, EPOLLIN | EPOLLOUT) == 0)
				h->tcp_out = true;
			return 0;	/* also while the connect is still in progress */
		}
		if (n <= 0)
			return -1;
		h->hello_off += (size_t)n;
	}
	if (h->tcp_out && vcn_epoll_mod(h->ep, h->tcp, EPOLLIN) == 0)
		h->tcp_out = false;
	h->stats.hellos_sent++;
	return 0;
}

static void udp_hello(struct vcn_hub *h, int64_t now_ns)
{
	uint8_t hello[VCN_HELLO_LEN];

	make_hello(h, VCN_HELLO_UDP, hello);
	if (sendto(h->udp, hello, sizeof(hello), MSG_DONTWAIT,
		   (struct sockaddr *)&h->camera, h->camera_len) == (ssize_t)sizeof(hello))
		h->stats.hellos_sent++;
	OPENSSL_cleanse(hello, sizeof(hello));
	h->next_hello_ns = now_ns + (h->path == VCN_PATH_NONE &&
				     h->hello_interval_ns > FIRST_HELLO_PERIOD_NS ?
				     FIRST_HELLO_PERIOD_NS : h->hello_interval_ns);
}

static void timers(struct vcn_hub *h, int64_t now_ns)
{
	if (fallback_pending(h) && now_ns - h->start_ns >= h->fallback_ns) {
		h->stats.fallbacks++;
		if (tcp_open(h) < 0)
			h->path = VCN_PATH_GONE;
		h->next_hello_ns = now_ns + h->hello_interval_ns;
		return;
	}
	if (now_ns < h->next_hello_ns)
		return;
	if (h->udp >= 0) {
		udp_hello(h, now_ns);
	} else if (h->tcp >= 0 && !h->connecting) {
		/* TCP keepalive: a new hello (counter) each time, unless the last
		 * one is still being written (EPOLLOUT finishes it): then none */
		if (h->hello_off == VCN_HELLO_LEN) {
			make_hello(h, VCN_HELLO_TCP, h->hello);
			h->hello_off = 0;
		}
		h->next_hello_ns = now_ns + h->hello_interval_ns;
	}
}

/*
 * A path challenge: the camera will send media to where our hellos come
 * from once one echoes it. Echo it in a hello at once, or, if one went
 * out for a challenge less than PROMPT_GAP_NS ago (replays cost nothing
 * to send), at the end of that gap.
 */
static void challenge(struct vcn_hub *h, const uint8_t *p, size_t len, int64_t now_ns)
{
	uint8_t nonce[VCN_NONCE_LEN];

	if (vcn_challenge_parse(p, len, h->offer.ssrc, h->c2h, nonce) < 0) {
		h->stats.challenges_forged++;
		return;
	}
	h->stats.challenges++;
	memcpy(h->echo, nonce, VCN_NONCE_LEN);
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (!h->prompted || now_ns - h->prompt_ns >= PROMPT_GAP_NS) {
		h->prompted = true;
		h->prompt_ns = now_ns;
		udp_hello(h, now_ns);
	} else if (h->prompt_ns + PROMPT_GAP_NS < h->next_hello_ns) {
		h->next_hello_ns = h->prompt_ns + PROMPT_GAP_NS;
	}
}

/* Feed one packet to the reassembler. */
static void feed(struct vcn_hub *h, const uint8_t *p, size_t len, int64_t now_ns)
{
	if (vcn_reasm_push(h->reasm, p, len, now_ns) == VCN_PKT_FRAGMENT &&
	    h->path == VCN_PATH_NONE)
		h->path = VCN_PATH_UDP;		/* the camera's media gets through: no fallback */
}

/* Next RFC 4571 frame from the TCP stream, reading as needed. */
static enum vcn_rx tcp_next(struct vcn_hub *h, int64_t now_ns, bool *progress)
{
	const uint8_t *p;
	size_t flen, used;
	ssize_t n;

	*progress = false;
	used = vcn_frame_next(h->rx + h->rx_off, h->rx_len, &p, &flen);
	if (used) {
		h->rx_off += used;
		h->rx_len -= used;
		h->stats.tcp_frames++;
		*progress = true;
		feed(h, p, flen, now_ns);
		return VCN_RX_NONE;
	}
	if (h->rx_off) {
		memmove(h->rx, h->rx + h->rx_off, h->rx_len);
		h->rx_off = 0;
	}
	n = recv(h->tcp, h->rx + h->rx_len, RX_CAP - h->rx_len, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return VCN_RX_NONE;
	if (n <= 0) {
		h->path = VCN_PATH_GONE;
		return VCN_RX_GONE;
	}
	h->rx_len += (size_t)n;
	*progress = true;
	return VCN_RX_NONE;
}

static enum vcn_rx udp_next(struct vcn_hub *h, int64_t now_ns, bool *progress)
{
	ssize_t n = recv(h->udp, h->dgram, DGRAM_CAP, MSG_DONTWAIT);

	*progress = n >= 0 || errno == EINTR;
	if (n < 0)
		return VCN_RX_NONE;
	h->stats.udp_packets++;
	if (vcn_challenge_magic(h->dgram, (size_t)n))
		challenge(h, h->dgram, (size_t)n, now_ns);	/* RTP starts with 0x80, never 'V' */
	else
		feed(h, h->dgram, (size_t)n, now_ns);
	return VCN_RX_NONE;
}

enum vcn_rx vcn_hub_receive(struct vcn_hub *h, int64_t now_ns, struct vcn_unit *out)
{
	bool progress = true;
	int budget = RX_BUDGET;
	enum vcn_rx r;

	if (h->path == VCN_PATH_GONE)
		return VCN_RX_GONE;
	timers(h, now_ns);
	if (h->path == VCN_PATH_GONE ||
	    (h->tcp >= 0 && (h->connecting || h->hello_off < VCN_HELLO_LEN) && tcp_write(h) < 0)) {
		h->path = VCN_PATH_GONE;
		return VCN_RX_GONE;
	}
	while (progress && budget--) {
		if (vcn_reasm_pop(h->reasm, now_ns, out))
			return VCN_RX_UNIT;
		if (h->tcp >= 0 && !h->connecting)
			r = tcp_next(h, now_ns, &progress);
		else if (h->udp >= 0)
			r = udp_next(h, now_ns, &progress);
		else
			break;
		if (r != VCN_RX_NONE)
			return r;
	}
	return VCN_RX_NONE;
}
