// SPDX-License-Identifier: GPL-2.0
/*
 * bench_net - cost of the media transport per access unit.
 *
 * 1. In memory, thread CPU time: packetize (tags included), and
 *    packetize + reassemble (tags checked), for 150 KiB and 20 KiB units
 *    at the UDP (1152-byte) and TCP (65487-byte) fragment sizes, against
 *    two memcpy()s of the same bytes (the copies the path cannot avoid:
 *    into packets, into the unit); and the part of it that is the MAC:
 *    tagging and checking every packet of the unit.
 * 2. The MAC per message (HMAC-SHA256/128) for a hello, a UDP packet and
 *    a TCP frame, two ways: re-initialising one pre-keyed EVP_MAC_CTX
 *    (what mac.c does) and duplicating a pre-keyed context per message.
 * 3. Camera -> hub through the kernel on 127.0.0.1, one process, lock-step
 *    (send one unit, receive it), UDP and TCP: wall time and process CPU
 *    per unit.
 * Prints tables, and every figure as a "BENCH key value unit" line for
 * tests/bench/summary.py; never asserts timings.
 *
 *   bench_net [ITERATIONS-SCALE]   (default 1.0)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "mac.h"
#include "receive.h"
#include "rtp.h"
#include "send.h"

static const struct vcn_keys keys = { .camera_to_hub = { 1 }, .hub_to_camera = { 2 } };

static double clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int64_t mono_ns(void)
{
	return (int64_t)(clock_us(CLOCK_MONOTONIC) * 1e3);
}

static volatile uint8_t sink;

static double bench_memcpy(const uint8_t *au, size_t len, int n)
{
	uint8_t *a = malloc(len), *b = malloc(len);
	double t0 = clock_us(CLOCK_THREAD_CPUTIME_ID);

	for (int i = 0; i < n; i++) {
		memcpy(a, au, len);
		a[0] ^= (uint8_t)i;
		memcpy(b, a, len);
		sink ^= b[len / 2];
	}
	t0 = (clock_us(CLOCK_THREAD_CPUTIME_ID) - t0) / n;
	free(a);
	free(b);
	return t0;
}

/* Returns µs per unit; with reassemble, every unit must come out whole. */
static double bench_path(const uint8_t *au, size_t len, uint16_t stride, int n,
			 bool reassemble, int *lost)
{
	struct vcn_mac *mac = vcn_mac_new(keys.camera_to_hub);
	struct vcn_packetizer pk;
	struct vcn_fragmenter f;
	struct vcn_reasm *r;
	struct vcn_reasm_config c = { .mac = mac };
	uint8_t *pkt = malloc(VCN_TCP_PACKET_MAX);
	struct vcn_unit u;
	size_t plen;
	double t0;

	vcn_packetizer_init(&pk, VCN_PT_DEFAULT, stride, mac);
	c.ssrc = pk.ssrc;
	c.pt = pk.pt;
	r = vcn_reasm_new(&c);
	*lost = 0;
	t0 = clock_us(CLOCK_THREAD_CPUTIME_ID);
	for (int i = 0; i < n; i++) {
		bool got = false;

		vcn_fragmenter_start(&pk, &f, au, len, (uint64_t)i * 33333333u, i == 0);
		while ((plen = vcn_fragmenter_next(&pk, &f, pkt))) {
			if (!reassemble) {
				sink ^= pkt[plen - 1];
				continue;
			}
			vcn_reasm_push(r, pkt, plen, 0);
			while (vcn_reasm_pop(r, 0, &u))
				got = u.len == len;
		}
		*lost += reassemble && !got;
	}
	t0 = (clock_us(CLOCK_THREAD_CPUTIME_ID) - t0) / n;
	vcn_reasm_free(r);
	vcn_mac_free(mac);
	free(pkt);
	return t0;
}

/* The MAC share of a unit: tag, then check, every packet of it (µs per unit). */
static double bench_unit_mac(size_t len, uint16_t stride, int n)
{
	struct vcn_mac *mac = vcn_mac_new(keys.camera_to_hub);
	uint8_t *pkt = calloc(1, VCN_TCP_PACKET_MAX);
	uint8_t tag[VCN_TAG_LEN];
	double t0 = clock_us(CLOCK_THREAD_CPUTIME_ID);

	for (int i = 0; i < n; i++) {
		for (size_t off = 0; off < len || (off == 0 && len == 0); off += stride) {
			size_t body = VCN_PACKET_HEADERS + (len - off < stride ? len - off : stride);

			pkt[0] = (uint8_t)i;
			vcn_mac_tag(mac, pkt, body, tag);
			sink ^= vcn_mac_check(mac, pkt, body, tag);
			if (!len)
				break;
		}
	}
	t0 = (clock_us(CLOCK_THREAD_CPUTIME_ID) - t0) / n;
	vcn_mac_free(mac);
	free(pkt);
	return t0;
}

/*
 * One message's tag, two ways: re-initialising one keyed context (dup =
 * false, mac.c's way), or duplicating a keyed template per message.
 * µs per message.
 */
static double bench_mac_way(size_t len, int n, bool dup)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *tmpl = EVP_MAC_CTX_new(hmac);
	uint8_t *msg = calloc(1, len), out[32];
	size_t olen;
	double t0;

	EVP_MAC_init(tmpl, keys.camera_to_hub, VCN_KEY_LEN, params);
	t0 = clock_us(CLOCK_THREAD_CPUTIME_ID);
	for (int i = 0; i < n; i++) {
		EVP_MAC_CTX *c = dup ? EVP_MAC_CTX_dup(tmpl) : tmpl;

		msg[0] = (uint8_t)i;
		if (!dup)
			EVP_MAC_init(c, NULL, 0, NULL);
		EVP_MAC_update(c, msg, len);
		EVP_MAC_final(c, out, &olen, sizeof(out));
		sink ^= out[0];
		if (dup)
			EVP_MAC_CTX_free(c);
	}
	t0 = (clock_us(CLOCK_THREAD_CPUTIME_ID) - t0) / n;
	EVP_MAC_CTX_free(tmpl);
	EVP_MAC_free(hmac);
	free(msg);
	return t0;
}

struct e2e {
	double wall_us, cpu_us;
	int lost;
};

/* The daemon's part for TCP media: accept, read the 64-byte hello, hand it over. */
static void accept_media(struct vcn_cam *cam, int listener, int *fd, uint8_t *hello,
			 size_t *have)
{
	ssize_t n;

	if (*fd < 0)
		*fd = accept(listener, NULL, NULL);
	if (*fd < 0)
		return;
	n = recv(*fd, hello + *have, VCN_HELLO_LEN - *have, MSG_DONTWAIT);
	if (n > 0)
		*have += (size_t)n;
	if (*have == VCN_HELLO_LEN) {
		vcn_cam_adopt_tcp(cam, *fd, hello, mono_ns());
		*fd = -1;
		*have = 0;
	} else if (n == 0 || (n < 0 && errno != EAGAIN)) {
		close(*fd);
		*fd = -1;
		*have = 0;
	}
}

/* Lock-step camera -> hub over loopback; false if the setup failed. */
static bool bench_loopback(const uint8_t *au, size_t len, enum vcn_hub_transport t, int n,
			   struct e2e *out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct vcn_cam_config cc = { .bind = (struct sockaddr *)&a, .bind_len = sizeof(a) };
	struct vcn_hub_config hc = { .camera = (struct sockaddr *)&a, .camera_len = sizeof(a),
				     .keys = &keys, .transport = t };
	struct vcn_cam *cam = vcn_cam_new(&cc);
	struct vcn_cam_hub *ch;
	struct vcn_hub *hub;
	struct vcn_offer o;
	struct vcn_unit u;
	uint8_t hello[VCN_HELLO_LEN];
	size_t have = 0;
	int listener = -1, fd = -1;
	double w0, c0;

	if (!cam)
		return false;
	ch = vcn_cam_hub_add(cam, mono_ns(), &keys, &o);
	a.sin_port = htons(vcn_cam_port(cam));
	if (t == VCN_HUB_TCP) {
		listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (listener < 0 || bind(listener, (struct sockaddr *)&a, sizeof(a)) < 0 ||
		    listen(listener, 4) < 0) {
			vcn_cam_free(cam);
			return false;
		}
	}
	hc.offer = &o;
	hub = ch ? vcn_hub_new(&hc, mono_ns()) : NULL;
	if (!hub) {
		vcn_cam_free(cam);
		return false;
	}
	for (int64_t end = mono_ns() + 2000000000LL;
	     vcn_cam_hub_path(ch) == VCN_PATH_NONE && mono_ns() < end;) {
		vcn_hub_receive(hub, mono_ns(), &u);
		poll(&(struct pollfd){ .fd = vcn_cam_fd(cam), .events = POLLIN }, 1, 5);
		if (listener >= 0)
			accept_media(cam, listener, &fd, hello, &have);
		vcn_cam_process(cam, mono_ns());
	}
	out->lost = 0;
	w0 = clock_us(CLOCK_MONOTONIC);
	c0 = clock_us(CLOCK_PROCESS_CPUTIME_ID);
	for (int i = 0; i < n; i++) {
		int64_t end = mono_ns() + 200000000LL;
		bool got = false;

		vcn_cam_send(cam, ch, au, len, (uint64_t)i * 33333333u, true, mono_ns());
		while (!got && mono_ns() < end) {
			struct pollfd p[2] = {
				{ .fd = vcn_cam_fd(cam), .events = POLLIN },
				{ .fd = vcn_hub_fd(hub), .events = POLLIN },
			};

			poll(p, 2, 5);
			vcn_cam_process(cam, mono_ns());
			while (vcn_hub_receive(hub, mono_ns(), &u) == VCN_RX_UNIT)
				got = u.len == len;
		}
		out->lost += !got;
	}
	out->wall_us = (clock_us(CLOCK_MONOTONIC) - w0) / n;
	out->cpu_us = (clock_us(CLOCK_PROCESS_CPUTIME_ID) - c0) / n;
	vcn_hub_free(hub);
	vcn_cam_free(cam);
	if (fd >= 0)
		close(fd);
	if (listener >= 0)
		close(listener);
	return true;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 150 * 1024, 20 * 1024 };
	static const struct { const char *name; uint16_t stride; } strides[] = {
		{ "udp", VCN_UDP_STRIDE }, { "tcp", VCN_TCP_STRIDE },
	};
	double scale = argc > 1 ? atof(argv[1]) : 1.0;

	if (scale <= 0)
		scale = 1.0;
	printf("media transport, in memory (thread CPU per unit; baseline: 2 x memcpy of the unit;\n"
	       "mac: tag + check of every packet, part of pkt+reasm)\n");
	printf("%-6s %-5s %9s %11s %11s %11s %11s %9s %6s %5s\n", "unit", "frag", "memcpy2",
	       "packetize", "pkt+reasm", "mac", "MB/s", "packets", "ratio", "lost");
	for (size_t s = 0; s < 2; s++) {
		uint8_t *au = malloc(sizes[s]);
		int n = (int)(scale * (s == 0 ? 2000 : 10000));

		for (size_t i = 0; i < sizes[s]; i++)
			au[i] = (uint8_t)(i * 131 + 7);
		for (size_t k = 0; k < 2; k++) {
			double base = bench_memcpy(au, sizes[s], n);
			int lost;
			double pkt = bench_path(au, sizes[s], strides[k].stride, n, false, &lost);
			double full = bench_path(au, sizes[s], strides[k].stride, n, true, &lost);
			double mac = bench_unit_mac(sizes[s], strides[k].stride, n);

			printf("%4zuKiB %-5s %7.2fus %9.2fus %9.2fus %9.2fus %11.0f %9zu %5.2fx %5d\n",
			       sizes[s] / 1024, strides[k].name, base, pkt, full, mac,
			       sizes[s] / full, (sizes[s] + strides[k].stride - 1) / strides[k].stride,
			       full / base, lost);
			printf("BENCH net.%zuKiB.%s.pkt_reasm_us %.6g us/unit\n", sizes[s] / 1024,
			       strides[k].name, full);
			printf("BENCH net.%zuKiB.%s.mac_us %.6g us/unit\n", sizes[s] / 1024,
			       strides[k].name, mac);
		}
		free(au);
	}

	printf("\nHMAC-SHA256/128 per message (thread CPU): one keyed context re-initialised"
	       " (used) vs duplicated\n");
	printf("%-24s %10s %10s\n", "message", "re-init", "dup");
	{
		static const struct { const char *name; size_t len; } msgs[] = {
			{ "hello (48 B signed)", VCN_HELLO_SIGNED },
			{ "UDP packet (1184 B)", VCN_UDP_PACKET_MAX - VCN_TAG_LEN },
			{ "TCP frame (65519 B)", VCN_TCP_PACKET_MAX - VCN_TAG_LEN },
		};

		for (size_t m = 0; m < sizeof(msgs) / sizeof(msgs[0]); m++) {
			int n = (int)(scale * (msgs[m].len > 10000 ? 2000 : 50000));
			double re = bench_mac_way(msgs[m].len, n, false);
			double du = bench_mac_way(msgs[m].len, n, true);

			printf("%-24s %8.3fus %8.3fus\n", msgs[m].name, re, du);
			printf("BENCH net.mac.%zuB.reinit_us %.6g us/msg\n", msgs[m].len, re);
			printf("BENCH net.mac.%zuB.dup_us %.6g us/msg\n", msgs[m].len, du);
		}
	}

	printf("\ncamera -> hub over 127.0.0.1, lock-step, one process (wall and CPU per unit)\n");
	printf("%-6s %-5s %10s %10s %11s %6s\n", "unit", "path", "wall", "cpu", "MB/s(wall)", "lost");
	for (size_t s = 0; s < 2; s++) {
		uint8_t *au = malloc(sizes[s]);
		int n = (int)(scale * (s == 0 ? 300 : 1000));

		for (size_t i = 0; i < sizes[s]; i++)
			au[i] = (uint8_t)(i * 131 + 7);
		for (int t = VCN_HUB_UDP; t <= VCN_HUB_TCP; t++) {
			struct e2e e;

			if (!bench_loopback(au, sizes[s], (enum vcn_hub_transport)t, n, &e)) {
				printf("%4zuKiB %-5s setup failed\n", sizes[s] / 1024,
				       t == VCN_HUB_UDP ? "udp" : "tcp");
				continue;
			}
			printf("%4zuKiB %-5s %8.1fus %8.1fus %11.0f %6d\n", sizes[s] / 1024,
			       t == VCN_HUB_UDP ? "udp" : "tcp", e.wall_us, e.cpu_us,
			       sizes[s] / e.wall_us, e.lost);
			printf("BENCH net.%zuKiB.%s.loopback_cpu_us %.6g us/unit\n",
			       sizes[s] / 1024, t == VCN_HUB_UDP ? "udp" : "tcp", e.cpu_us);
		}
		free(au);
	}
	return 0;
}
