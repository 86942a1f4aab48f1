/* SPDX-License-Identifier: GPL-2.0 */
/*
 * clock.h - the daemons' one clock module (a leaf: libc only).
 *
 * Every "now" the camera, the hub and the service frame read comes from
 * here, and so does the one CLOCK_MONOTONIC -> CLOCK_REALTIME mapping: the
 * camera signs a frame's capture time through it, and the hub dates the
 * moment a frame reached the glass through it, so that the latency the hub
 * reports compares two readings of the same mapping.
 */
#ifndef VERACAM_CLOCK_H
#define VERACAM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

uint64_t clk_mono_ns(void);	/* CLOCK_MONOTONIC */
int64_t clk_real_ns(void);	/* CLOCK_REALTIME */
int64_t clk_boot_ns(void);	/* CLOCK_BOOTTIME (counts suspend) */
/*
 * CLOCK_BOOTTIME - CLOCK_MONOTONIC (grows by the time suspended), from a
 * pair of readings close enough that a preemption cannot look like a
 * suspend; false when none came in a few tries.
 */
bool clk_boot_minus_mono(int64_t *diff);

/*
 * CLOCK_MONOTONIC @ns from now, as the absolute deadline a worker thread
 * waits to: pthread_cond_timedwait() on a condition created with
 * pthread_condattr_setclock(CLOCK_MONOTONIC), or clock_nanosleep() with
 * TIMER_ABSTIME. (The loop's timers take ns: svc_timer_arm_at().)
 */
struct timespec clk_mono_after(uint64_t ns);

/*
 * MONOTONIC -> REALTIME. The offset is measured as the narrowest of
 * CLK_BRACKETS [MONOTONIC, REALTIME, MONOTONIC] brackets (the REALTIME read
 * is taken to lie at the bracket's middle, error <= half its width) and
 * re-measured when older than @interval_ns, so NTP slewing is followed.
 * Mapped times never go backwards for increasing input, except across a
 * REALTIME step larger than CLK_STEP_NS (counted in @steps); smaller
 * backward moves of the offset are absorbed (counted in @clamped).
 */
#define CLK_REMEASURE_NS	1000000000ull
#define CLK_STEP_NS		100000000ll
#define CLK_BRACKETS		5

struct clk_map {
	uint64_t interval_ns;
	int64_t offset_ns;		/* REALTIME - MONOTONIC */
	uint64_t bracket_ns;		/* width of the chosen bracket */
	uint64_t measured_at_ns;	/* MONOTONIC time of the measurement */
	uint64_t measurements;
	uint64_t steps;
	uint64_t clamped;
	uint64_t last_mono_ns;
	int64_t last_real_ns;
	bool valid;
};

/* @interval_ns 0: CLK_REMEASURE_NS */
void clk_map_init(struct clk_map *m, uint64_t interval_ns);
/* Measure now (normally called by clk_map_to_real when due). */
void clk_map_measure(struct clk_map *m);
/* Apply a measured offset (used by measure; exposed for tests). */
void clk_map_apply(struct clk_map *m, int64_t offset_ns, uint64_t bracket_ns,
		   uint64_t now_mono_ns);
/* @mono_ns (CLOCK_MONOTONIC) on CLOCK_REALTIME. */
int64_t clk_map_to_real(struct clk_map *m, uint64_t mono_ns);

#endif
