// SPDX-License-Identifier: GPL-2.0
/*
 * bench_net - cost of the media transport per access unit.
 *
 * 1. In memory, thread CPU time: packetize, and packetize + reassemble,
 *    for 150 KiB and 20 KiB units at the UDP (1168-byte) and TCP
 *    (65503-byte) fragment sizes, against two memcpy()s of the same bytes
 *    (the copies the path cannot avoid: into packets, into the unit).
 * 2. Camera -> hub through the kernel on 127.0.0.1, one process, lock-step
 *    (send one unit, receive it), UDP and TCP: wall time and process CPU
 *    per unit.
 * Prints tables, and every figure as a "BENCH key value unit" line for
 * tests/bench/summary.py; never asserts timings.
 *
 *   bench_net [ITERATIONS-SCALE]   (default 1.0)
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "receive.h"
#include "rtp.h"
#include "send.h"

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
	struct vcn_packetizer pk;
	struct vcn_fragmenter f;
	struct vcn_reasm *r;
	struct vcn_reasm_config c = { 0 };
	uint8_t *pkt = malloc(VCN_TCP_PACKET_MAX);
	struct vcn_unit u;
	size_t plen;
	double t0;

	vcn_packetizer_init(&pk, VCN_PT_DEFAULT, stride);
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
	free(pkt);
	return t0;
}

struct e2e {
	double wall_us, cpu_us;
	int lost;
};

/* Lock-step camera -> hub over loopback; false if the setup failed. */
static bool bench_loopback(const uint8_t *au, size_t len, enum vcn_hub_transport t, int n,
			   struct e2e *out)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct vcn_cam_config cc = { .bind = (struct sockaddr *)&a, .bind_len = sizeof(a),
				     .listen_tcp = true };
	struct vcn_hub_config hc = { .camera = (struct sockaddr *)&a, .camera_len = sizeof(a),
				     .transport = t };
	struct vcn_cam *cam = vcn_cam_new(&cc);
	struct vcn_cam_hub *ch;
	struct vcn_hub *hub;
	struct vcn_offer o;
	struct vcn_unit u;
	double w0, c0;

	if (!cam)
		return false;
	ch = vcn_cam_hub_add(cam, mono_ns(), &o);
	a.sin_port = htons(vcn_cam_port(cam));
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
	printf("media transport, in memory (thread CPU per unit; baseline: 2 x memcpy of the unit)\n");
	printf("%-6s %-5s %9s %11s %11s %11s %9s %6s %5s\n", "unit", "frag", "memcpy2", "packetize",
	       "pkt+reasm", "MB/s", "packets", "ratio", "lost");
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

			printf("%4zuKiB %-5s %7.2fus %9.2fus %9.2fus %11.0f %9zu %5.2fx %5d\n",
			       sizes[s] / 1024, strides[k].name, base, pkt, full,
			       sizes[s] / full, (sizes[s] + strides[k].stride - 1) / strides[k].stride,
			       full / base, lost);
			printf("BENCH net.%zuKiB.%s.pkt_reasm_us %.6g us/unit\n", sizes[s] / 1024,
			       strides[k].name, full);
		}
		free(au);
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
