// SPDX-License-Identifier: GPL-2.0-only
/*
 * The motion detector (motion.c) on real-looking frames: a textured
 * static scene with a sensor's per-pixel noise and an exposure step never
 * starts an event; an object moving across it starts one at the capture
 * time of its first moving frame, a pause shorter than the hold time does
 * not split it, and it ends (at the last moving frame's capture time) only
 * after the hold time without motion; the pattern source's moving scene
 * starts one. The frames carry synthetic capture times 1/30 s apart:
 * nothing here depends on how fast the test runs.
 */
#include <string.h>

#include "camera.h"

#define W	640
#define H	360
#define T0	1795219200000000000LL
#define FRAME_NS 33333333ull

static GstVideoInfo info;

struct seen {
	unsigned starts, ends;
	struct cam_motion_event ev[8];
	unsigned n;
};

static void on_event(void *data, const struct cam_motion_event *ev)
{
	struct seen *s = data;

	if (ev->kind == CAM_MOTION_START)
		s->starts++;
	else
		s->ends++;
	if (s->n < G_N_ELEMENTS(s->ev))
		s->ev[s->n++] = *ev;
}

/* A small deterministic generator (xorshift32) for the sensor noise. */
static uint32_t rng = 2463534242u;

static int noise(void)
{
	int sum = 0;

	/* the sum of four uniform values: roughly normal, sigma about 4.6 levels */
	for (int i = 0; i < 4; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 17;
		rng ^= rng << 5;
		sum += (int)(rng & 15);
	}
	return sum - 30;
}

static uint8_t clamp(int v)
{
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/*
 * Frame i of a scene: a textured background (gradients, stripes, a dark
 * block) plus fresh noise, brightened by `gain` levels, with a bright
 * 96x128 object (a person in the picture: 5 % of it) at (ox, oy) when
 * ox >= 0.
 */
static GstBuffer *scene(int ox, int oy, int gain)
{
	GstBuffer *b = gst_buffer_new_allocate(NULL, GST_VIDEO_INFO_SIZE(&info), NULL);
	GstVideoFrame vf;

	g_assert_true(gst_video_frame_map(&vf, &info, b, GST_MAP_WRITE));
	for (int y = 0; y < H; y++) {
		uint8_t *row = (uint8_t *)GST_VIDEO_FRAME_PLANE_DATA(&vf, 0) +
			       y * GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0);

		for (int x = 0; x < W; x++) {
			int v = 40 + x * 120 / W + ((x / 24 + y / 40) % 2) * 30;

			if (x > 400 && x < 520 && y > 60 && y < 200)
				v = 25;
			if (ox >= 0 && x >= ox && x < ox + 96 && y >= oy && y < oy + 128)
				v = 220;
			row[x] = clamp(v + gain + noise());
		}
	}
	for (int y = 0; y < H / 2; y++)
		memset((uint8_t *)GST_VIDEO_FRAME_PLANE_DATA(&vf, 1) +
		       y * GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 1), 128, W);
	gst_video_frame_unmap(&vf);
	return b;
}

static void feed(struct cam_motion *m, unsigned i, GstBuffer *b)
{
	struct cam_frame_info fi = { .mono_ns = 1000000000ull + i * FRAME_NS,
				     .wall_ns = T0 + (int64_t)(i * FRAME_NS) };
	GstVideoFrame vf;

	g_assert_true(gst_video_frame_map(&vf, &info, b, GST_MAP_READ));
	cam_motion_frame(m, &vf, &fi);
	gst_video_frame_unmap(&vf);
	gst_buffer_unref(b);
}

static struct cam_motion *detector(struct seen *s)
{
	struct cam_motion_config cfg;
	struct cam_motion *m;

	cam_motion_config_default(&cfg);
	m = cam_motion_new(&cfg, on_event, s);
	g_assert_nonnull(m);
	return m;
}

/* Noise, and an exposure step of 30 levels, for 10 s: nothing starts. */
static void test_static_noise(void)
{
	struct seen s = { 0 };
	struct cam_motion *m = detector(&s);
	struct cam_motion_stats st;

	for (unsigned i = 0; i < 300; i++)
		feed(m, i, scene(-1, 0, i < 150 ? 0 : 30));
	cam_motion_get_stats(m, &st);
	g_test_message("static: %" G_GUINT64_FORMAT " analysed, %" G_GUINT64_FORMAT
		       " with motion, last %u permille changed", st.analysed, st.moving_frames,
		       st.last_changed_permille);
	g_assert_cmpuint(st.analysed, ==, 300);
	g_assert_cmpuint(s.starts, ==, 0);
	g_assert_cmpuint(st.events, ==, 0);
	g_assert_false(st.active);
	g_assert_cmpuint(st.moving_frames, ==, 0);
	cam_motion_free(m);
}

/*
 * The object moves 8 pixels a frame from frame 30 to 59, stands still
 * (visible) from 60 to 89 (1 s, under the 2 s hold), moves again from 90
 * to 119, then stands still: one event, starting as soon as the changed
 * cells reach the minimum area (within the first 5 moving frames: 8 pixels
 * of a 96-pixel-wide object are under it at first) at that frame's
 * capture time, ending the hold time after the last change. It then
 * leaves the picture at frame 300: a second event, from that frame.
 */
static void test_moving_object(void)
{
	struct seen s = { 0 };
	struct cam_motion *m = detector(&s);
	struct cam_motion_stats st;
	int x = 20, y = 120;
	unsigned end_frame = 0;

	for (unsigned i = 0; i < 400; i++) {
		if ((i >= 30 && i < 60) || (i >= 90 && i < 120))
			x += 8;
		feed(m, i, scene(i < 300 ? x : -1, y, 0));
		if (s.ends == 1 && !end_frame)
			end_frame = i;
		if (i == 100) {
			/* still the first event through the pause */
			g_assert_cmpuint(s.starts, ==, 1);
			g_assert_cmpuint(s.ends, ==, 0);
		}
	}
	cam_motion_get_stats(m, &st);
	g_test_message("moving: %" G_GUINT64_FORMAT " frames with motion; event 1 from frame %"
		       G_GINT64_FORMAT " to %" G_GINT64_FORMAT ", ended at frame %u",
		       st.moving_frames, (gint64)((s.ev[0].start_wall_ns - T0) / (int64_t)FRAME_NS),
		       (gint64)((s.ev[1].end_wall_ns - T0) / (int64_t)FRAME_NS), end_frame);
	g_assert_cmpuint(s.n, ==, 4);
	g_assert_cmpint(s.ev[0].kind, ==, CAM_MOTION_START);
	g_assert_cmpint(s.ev[0].start_wall_ns, >=, T0 + (int64_t)(30 * FRAME_NS));
	g_assert_cmpint(s.ev[0].start_wall_ns, <=, T0 + (int64_t)(34 * FRAME_NS));
	g_assert_cmpint((s.ev[0].start_wall_ns - T0) % (int64_t)FRAME_NS, ==, 0);
	g_assert_cmpuint(s.ev[0].number, ==, 1);
	g_assert_cmpint(s.ev[1].kind, ==, CAM_MOTION_END);
	g_assert_cmpint(s.ev[1].start_wall_ns, ==, s.ev[0].start_wall_ns);
	/* the last moving frame: at the end of the second move, or a few after as the
	 * reference settles */
	g_assert_cmpint(s.ev[1].end_wall_ns, >=, T0 + (int64_t)(119 * FRAME_NS));
	g_assert_cmpint(s.ev[1].end_wall_ns, <=, T0 + (int64_t)(135 * FRAME_NS));
	/* the first frame at least the hold time (2 s: 61 frames of 1/30 s) after it */
	g_assert_cmpuint(end_frame, ==, (s.ev[1].end_wall_ns - T0) / FRAME_NS +
					(2000000000ull + FRAME_NS - 1) / FRAME_NS);
	g_assert_cmpint(s.ev[2].kind, ==, CAM_MOTION_START);
	g_assert_cmpint(s.ev[2].start_wall_ns, ==, T0 + (int64_t)(300 * FRAME_NS));
	g_assert_cmpuint(s.ev[2].number, ==, 2);
	g_assert_cmpint(s.ev[3].kind, ==, CAM_MOTION_END);
	g_assert_cmpuint(st.events, ==, 2);
	g_assert_false(st.active);
	cam_motion_free(m);
}

/* Disabled: frames are counted, nothing is analysed. */
static void test_disabled(void)
{
	struct cam_motion_config cfg;
	struct seen s = { 0 };
	struct cam_motion_stats st;
	struct cam_motion *m;

	cam_motion_config_default(&cfg);
	cfg.enabled = false;
	m = cam_motion_new(&cfg, on_event, &s);
	for (unsigned i = 0; i < 40; i++)
		feed(m, i, scene(i * 8, 100, 0));
	cam_motion_get_stats(m, &st);
	g_assert_cmpuint(st.frames, ==, 40);
	g_assert_cmpuint(st.analysed, ==, 0);
	g_assert_cmpuint(s.starts, ==, 0);
	cam_motion_free(m);
}

/*
 * The pattern source: its solid scene (only the burned-in numbers change)
 * starts nothing; its moving scene (scrolling bars) starts an event.
 */
static void pattern_run(const char *source, struct seen *s, struct cam_motion_stats *st)
{
	struct cam_capture_config cfg = {
		.source = source, .name = "porch", .width = 640, .height = 360,
		.fps_n = 30, .fps_d = 1, .unpaced = true,
	};
	g_autoptr(GError) err = NULL;
	struct cam_capture *cap = cam_capture_open(&cfg, &err);
	struct cam_motion *m = detector(s);

	g_assert_no_error(err);
	g_assert_nonnull(cap);
	for (unsigned i = 0; i < 60; i++) {
		struct cam_frame f;
		GstVideoFrame vf;

		g_assert_true(cam_capture_next(cap, &f, &err));
		g_assert_true(gst_video_frame_map(&vf, cam_capture_video_info(cap), f.buffer,
						  GST_MAP_READ));
		cam_motion_frame(m, &vf, &f.info);
		gst_video_frame_unmap(&vf);
		cam_frame_clear(&f);
	}
	cam_motion_get_stats(m, st);
	g_test_message("%s: %" G_GUINT64_FORMAT " with motion, last %u permille changed",
		       source, st->moving_frames, st->last_changed_permille);
	cam_motion_free(m);
	cam_capture_close(cap);
}

static void test_pattern_scenes(void)
{
	struct seen solid = { 0 }, moving = { 0 };
	struct cam_motion_stats st;

	pattern_run("pattern:2040e0", &solid, &st);
	g_assert_cmpuint(st.analysed, ==, 60);
	g_assert_cmpuint(solid.starts, ==, 0);
	pattern_run("pattern:2040e0,scene=moving", &moving, &st);
	g_assert_cmpuint(moving.starts, ==, 1);
	g_assert_true(st.active);
}

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	g_test_init(&argc, &argv, NULL);
	gst_video_info_set_format(&info, GST_VIDEO_FORMAT_NV12, W, H);
	g_test_add_func("/motion/static-noise", test_static_noise);
	g_test_add_func("/motion/moving-object", test_moving_object);
	g_test_add_func("/motion/disabled", test_disabled);
	g_test_add_func("/motion/pattern-scenes", test_pattern_scenes);
	return g_test_run();
}
