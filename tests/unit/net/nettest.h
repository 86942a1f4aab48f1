/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the transport's unit tests: a check that ends the test,
 * self-describing test units, the monotonic clock and loopback addresses.
 * Header-only; each test program includes it once.
 */
#ifndef VERACAM_NETTEST_H
#define VERACAM_NETTEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

/*
 * The tests are GLib g_test programs (run with --tap) under
 * g_test_set_nonfatal_assertions(): a failed g_assert_*() marks the test
 * failed and it goes on; net_require() fails it and leaves the (void) test
 * function, for a check the rest depends on.
 */
#define net_require(cond) do {							\
	if (!(cond)) {								\
		g_test_fail_printf("%s:%d: net_require(%s) failed",		\
				   __FILE__, __LINE__, #cond);			\
		return;								\
	}									\
} while (0)

static inline int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * A test unit: 8-byte header (index, length) then bytes derived from the
 * index, so a receiver can tell whether what it got is exactly unit N.
 */
static inline uint8_t unit_byte(uint32_t index, size_t i)
{
	uint32_t x = index * 2654435761u + (uint32_t)i * 40503u;

	return (uint8_t)(x >> 13 ^ x);
}

static inline uint8_t *unit_make(uint32_t index, size_t len)
{
	uint8_t *u = malloc(len ? len : 1);

	for (size_t i = 0; i < len; i++)
		u[i] = unit_byte(index, i);
	for (size_t i = 0; i < 8 && i < len; i++)
		u[i] = (uint8_t)((i < 4 ? index : (uint32_t)len) >> (8 * (3 - i % 4)));
	return u;
}

/* The index of an intact test unit, or -1 if any byte is off. */
static inline long unit_check(const uint8_t *u, size_t len)
{
	uint32_t index, ulen;

	if (len < 8)
		return -1;
	index = (uint32_t)u[0] << 24 | (uint32_t)u[1] << 16 | (uint32_t)u[2] << 8 | u[3];
	ulen = (uint32_t)u[4] << 24 | (uint32_t)u[5] << 16 | (uint32_t)u[6] << 8 | u[7];
	if (ulen != len)
		return -1;
	for (size_t i = 8; i < len; i++)
		if (u[i] != unit_byte(index, i))
			return -1;
	return index;
}

/* 127.0.0.1:port */
static inline struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

#endif /* VERACAM_NETTEST_H */
