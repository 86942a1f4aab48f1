// SPDX-License-Identifier: GPL-2.0-only
/* MONOTONIC -> REALTIME mapping of capture times. */
#include "camera.h"

#define MS 1000000ll

/* A frame stamped now maps to within a few ms of CLOCK_REALTIME now. */
static void test_close_to_realtime(void)
{
	struct clk_map cm;

	clk_map_init(&cm, 0);
	for (int i = 0; i < 200; i++) {
		int64_t before = clk_real_ns();
		uint64_t mono = clk_mono_ns();
		int64_t after = clk_real_ns();
		int64_t wall = clk_map_to_real(&cm, mono);

		/* the instant lies between two REALTIME reads around it */
		g_assert_cmpint(wall, >=, before - MS);
		g_assert_cmpint(wall, <=, after + MS);
	}
	g_assert_cmpuint(cm.measurements, >=, 1);
	/* the narrowest bracket of a few clock reads is far below a ms */
	g_assert_cmpuint(cm.bracket_ns, <, (uint64_t)MS);
}

/* The offset is measured again once it is older than the interval. */
static void test_remeasured(void)
{
	struct clk_map cm;
	uint64_t before;

	clk_map_init(&cm, 60000 * MS);
	clk_map_to_real(&cm, clk_mono_ns());
	before = cm.measurements;
	clk_map_to_real(&cm, clk_mono_ns());
	g_assert_cmpuint(cm.measurements, ==, before);
	/* the last measurement is now older than the interval */
	cm.measured_at_ns -= 60001 * MS;
	clk_map_to_real(&cm, clk_mono_ns());
	g_assert_cmpuint(cm.measurements, ==, before + 1);
}

/* Increasing capture times map to increasing wall times, re-measuring each time. */
static void test_monotonic_with_remeasure(void)
{
	struct clk_map cm;
	int64_t last = 0;

	clk_map_init(&cm, 1);	/* re-measure on every call */
	for (int i = 0; i < 2000; i++) {
		int64_t wall = clk_map_to_real(&cm, clk_mono_ns());

		g_assert_cmpint(wall, >, last);
		last = wall;
	}
	g_assert_cmpuint(cm.measurements, >=, 2000);
}

/* A slightly smaller offset must not make a later frame look earlier. */
static void test_small_backward_absorbed(void)
{
	struct clk_map cm;
	uint64_t mono = 1000 * MS;
	int64_t w1, w2;

	clk_map_init(&cm, UINT64_MAX / 2);
	clk_map_apply(&cm, 5000 * MS, 100, clk_mono_ns());
	w1 = clk_map_to_real(&cm, mono);
	g_assert_cmpint(w1, ==, 6000 * MS);
	clk_map_apply(&cm, 5000 * MS - 50000, 100, clk_mono_ns());
	w2 = clk_map_to_real(&cm, mono + 10000);
	g_assert_cmpint(w2, >, w1);
	g_assert_cmpuint(cm.clamped, ==, 1);
	g_assert_cmpuint(cm.steps, ==, 0);
	/* once past the correction, times follow the new offset exactly */
	g_assert_cmpint(clk_map_to_real(&cm, mono + 33 * MS), ==,
			(int64_t)(mono + 33 * MS) + 5000 * MS - 50000);
}

/* A REALTIME step is followed (and counted), not hidden. */
static void test_step_counted(void)
{
	struct clk_map cm;
	uint64_t mono = 1000 * MS;

	clk_map_init(&cm, UINT64_MAX / 2);
	clk_map_apply(&cm, 5000 * MS, 100, clk_mono_ns());
	clk_map_to_real(&cm, mono);
	clk_map_apply(&cm, 2000 * MS, 100, clk_mono_ns());
	g_assert_cmpuint(cm.steps, ==, 1);
	g_assert_cmpint(clk_map_to_real(&cm, mono + 33 * MS), ==,
			(int64_t)(mono + 33 * MS) + 2000 * MS);
	g_assert_cmpuint(cm.clamped, ==, 0);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/camera/timestamp/close-to-realtime", test_close_to_realtime);
	g_test_add_func("/camera/timestamp/remeasured", test_remeasured);
	g_test_add_func("/camera/timestamp/monotonic", test_monotonic_with_remeasure);
	g_test_add_func("/camera/timestamp/small-backward-absorbed", test_small_backward_absorbed);
	g_test_add_func("/camera/timestamp/step-counted", test_step_counted);
	return g_test_run();
}
