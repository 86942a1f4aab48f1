// SPDX-License-Identifier: GPL-2.0-only
/*
 * timestamp.c - map a frame's CLOCK_MONOTONIC capture time to wall-clock.
 *
 * V4L2 stamps frames on CLOCK_MONOTONIC (start of exposure); what gets
 * signed is a CLOCK_REALTIME instant a hub can compare with its own clock.
 * The offset REALTIME - MONOTONIC is measured as the narrowest of a few
 * brackets [mono_a, real, mono_b] (the REALTIME read is taken to lie at
 * the bracket's middle, error <= half its width) and re-measured
 * regularly, so NTP slewing is followed.
 */
#include <time.h>

#include "camera.h"

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

uint64_t cam_now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts_ns(&ts);
}

int64_t cam_now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts_ns(&ts);
}

void cam_clockmap_init(struct cam_clockmap *cm, uint64_t interval_ns)
{
	*cm = (struct cam_clockmap){
		.interval_ns = interval_ns ? interval_ns : CAM_CLOCK_REMEASURE_NS,
	};
}

void cam_clockmap_apply(struct cam_clockmap *cm, int64_t offset_ns,
		       uint64_t bracket_ns, uint64_t now_mono_ns)
{
	if (cm->valid) {
		int64_t delta = offset_ns - cm->offset_ns;

		if (delta > CAM_CLOCK_STEP_NS || delta < -CAM_CLOCK_STEP_NS)
			cm->steps++;
	}
	cm->offset_ns = offset_ns;
	cm->bracket_ns = bracket_ns;
	cm->measured_at_ns = now_mono_ns;
	cm->measurements++;
	cm->valid = true;
}

void cam_clockmap_measure(struct cam_clockmap *cm)
{
	uint64_t best_width = UINT64_MAX, best_b = 0;
	int64_t best_offset = 0;

	for (int i = 0; i < CAM_CLOCK_BRACKETS; i++) {
		struct timespec a, r, b;
		uint64_t width;

		clock_gettime(CLOCK_MONOTONIC, &a);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &b);
		width = ts_ns(&b) - ts_ns(&a);
		if (width < best_width) {
			best_width = width;
			best_b = ts_ns(&b);
			best_offset = (int64_t)ts_ns(&r) -
				      (int64_t)(ts_ns(&a) + width / 2);
		}
	}
	cam_clockmap_apply(cm, best_offset, best_width, best_b);
}

int64_t cam_clockmap_to_wall(struct cam_clockmap *cm, uint64_t mono_ns)
{
	int64_t wall;

	if (!cm->valid || cam_now_mono_ns() - cm->measured_at_ns >= cm->interval_ns)
		cam_clockmap_measure(cm);

	wall = (int64_t)mono_ns + cm->offset_ns;
	/*
	 * A re-measured offset a little below the previous one would make a
	 * later frame look earlier: hold such frames 1 ns after the previous
	 * one. A REALTIME step (beyond CAM_CLOCK_STEP_NS) is taken as it is.
	 */
	if (cm->last_mono_ns && mono_ns > cm->last_mono_ns &&
	    wall <= cm->last_wall_ns && cm->last_wall_ns - wall < CAM_CLOCK_STEP_NS) {
		wall = cm->last_wall_ns + 1;
		cm->clamped++;
	}
	if (mono_ns >= cm->last_mono_ns) {
		cm->last_mono_ns = mono_ns;
		cm->last_wall_ns = wall;
	}
	return wall;
}
