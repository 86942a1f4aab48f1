// SPDX-License-Identifier: GPL-2.0-only
/*
 * clock.c - the clocks the daemons read, and the MONOTONIC -> REALTIME
 * mapping (clock.h).
 */
#include <time.h>

#include "clock.h"

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts_ns(&ts);
}

uint64_t clk_mono_ns(void)
{
	return read_clock(CLOCK_MONOTONIC);
}

int64_t clk_real_ns(void)
{
	return (int64_t)read_clock(CLOCK_REALTIME);
}

int64_t clk_boot_ns(void)
{
	return (int64_t)read_clock(CLOCK_BOOTTIME);
}

struct timespec clk_mono_after(uint64_t ns)
{
	uint64_t at = clk_mono_ns() + ns;

	return (struct timespec){
		.tv_sec = (time_t)(at / 1000000000ull),
		.tv_nsec = (long)(at % 1000000000ull),
	};
}

void clk_map_init(struct clk_map *m, uint64_t interval_ns)
{
	*m = (struct clk_map){
		.interval_ns = interval_ns ? interval_ns : CLK_REMEASURE_NS,
	};
}

void clk_map_apply(struct clk_map *m, int64_t offset_ns, uint64_t bracket_ns,
		   uint64_t now_mono_ns)
{
	if (m->valid) {
		int64_t delta = offset_ns - m->offset_ns;

		if (delta > CLK_STEP_NS || delta < -CLK_STEP_NS)
			m->steps++;
	}
	m->offset_ns = offset_ns;
	m->bracket_ns = bracket_ns;
	m->measured_at_ns = now_mono_ns;
	m->measurements++;
	m->valid = true;
}

void clk_map_measure(struct clk_map *m)
{
	uint64_t best_width = UINT64_MAX, best_b = 0;
	int64_t best_offset = 0;

	for (int i = 0; i < CLK_BRACKETS; i++) {
		struct timespec a, r, b;
		uint64_t width;

		clock_gettime(CLOCK_MONOTONIC, &a);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &b);
		width = ts_ns(&b) - ts_ns(&a);
		if (width < best_width) {
			best_width = width;
			best_b = ts_ns(&b);
			best_offset = (int64_t)ts_ns(&r) - (int64_t)(ts_ns(&a) + width / 2);
		}
	}
	clk_map_apply(m, best_offset, best_width, best_b);
}

int64_t clk_map_to_real(struct clk_map *m, uint64_t mono_ns)
{
	int64_t real;

	if (!m->valid || clk_mono_ns() - m->measured_at_ns >= m->interval_ns)
		clk_map_measure(m);

	real = (int64_t)mono_ns + m->offset_ns;
	/*
	 * A re-measured offset a little below the previous one would make a
	 * later instant look earlier: hold such instants 1 ns after the
	 * previous one. A REALTIME step (beyond CLK_STEP_NS) is taken as it is.
	 */
	if (m->last_mono_ns && mono_ns > m->last_mono_ns &&
	    real <= m->last_real_ns && m->last_real_ns - real < CLK_STEP_NS) {
		real = m->last_real_ns + 1;
		m->clamped++;
	}
	if (mono_ns >= m->last_mono_ns) {
		m->last_mono_ns = mono_ns;
		m->last_real_ns = real;
	}
	return real;
}

/*
 * CLOCK_BOOTTIME - CLOCK_MONOTONIC, read between two monotonic readings no
 * more than 100 us apart (a preemption between the reads must not look
 * like a suspend); false when no such pair came in a few tries.
 */
bool clk_boot_minus_mono(int64_t *diff)
{
	for (int i = 0; i < 4; i++) {
		int64_t m1 = (int64_t)clk_mono_ns();
		int64_t b = clk_boot_ns();
		int64_t m2 = (int64_t)clk_mono_ns();

		if (m2 - m1 <= 100000) {
			*diff = b - m2;
			return true;
		}
	}
	return false;
}
