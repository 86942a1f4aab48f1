/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the transport's unit tests: a TAP runner over a table of
 * test functions, self-describing test units, the monotonic clock and
 * loopback addresses. Header-only; each test program includes it once.
 */
#ifndef VERACAM_NETTEST_H
#define VERACAM_NETTEST_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct nettest {
	const char *name;
	void (*fn)(void);
};

static bool nettest_failed;

static inline void nettest_expect(bool ok, const char *what, const char *file, int line)
{
	if (ok)
		return;
	printf("# %s:%d: expected %s\n", file, line, what);
	nettest_failed = true;
}

/* Record a failure and go on. */
#define EXPECT(c)	nettest_expect((c), #c, __FILE__, __LINE__)
/* Record a failure and leave the test function. */
#define ASSERT(c)	do { if (!(c)) { EXPECT(c); return; } } while (0)

static inline int nettest_run(const struct nettest *t, size_t n)
{
	int failures = 0;

	printf("TAP version 13\n1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		nettest_failed = false;
		t[i].fn();
		printf("%sok %zu - %s\n", nettest_failed ? "not " : "", i + 1, t[i].name);
		fflush(stdout);
		failures += nettest_failed;
	}
	return failures ? 1 : 0;
}

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
