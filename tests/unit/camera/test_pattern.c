// SPDX-License-Identifier: GPL-2.0-only
/* The pattern source: colour, burned-in numbers, capture times, identity. */
#include <string.h>

#include "camera.h"

static struct cam_capture *open_pattern(const char *source, const char *name,
					unsigned w, unsigned h, bool unpaced)
{
	struct cam_capture_config cfg = {
		.source = source, .name = name, .width = w, .height = h,
		.fps_n = 30, .fps_d = 1, .unpaced = unpaced,
	};
	g_autoptr(GError) err = NULL;
	struct cam_capture *cap = cam_capture_open(&cfg, &err);

	g_assert_no_error(err);
	g_assert_nonnull(cap);
	return cap;
}

static void check_frames(unsigned w, unsigned h, uint32_t rgb, bool unpaced)
{
	g_autofree char *src = g_strdup_printf("pattern:%06x", rgb);
	int64_t opened = clk_real_ns();
	struct cam_capture *cap = open_pattern(src, "porch", w, h, unpaced);
	const struct cam_identity *id = cam_capture_identity(cap);
	const GstVideoInfo *vi = cam_capture_video_info(cap);
	uint64_t last_mono = 0;
	struct cam_capture_stats st;

	g_assert_cmpint(vi->width, ==, (int)w);
	g_assert_cmpint(vi->height, ==, (int)h);
	for (uint32_t i = 0; i < 12; i++) {
		struct cam_frame f;
		g_autoptr(GError) err = NULL;
		GstVideoFrame vf;
		uint32_t seq, tag;
		double mean[3];
		int64_t real, offset;

		g_assert_true(cam_capture_next(cap, &f, &err));
		g_assert_no_error(err);
		real = clk_real_ns();
		offset = real - (int64_t)clk_mono_ns();
		g_assert_cmpuint(f.info.sequence, ==, i);
		g_assert_cmpuint(f.info.lost_before, ==, 0);
		g_assert_cmpint(f.info.ts_source, ==, CAM_TS_PRODUCED);
		g_assert_cmpuint(f.info.mono_ns, >, last_mono);
		last_mono = f.info.mono_ns;
		/* the wall time is the monotonic one moved by REALTIME - MONOTONIC */
		g_assert_cmpint(ABS(f.info.wall_ns - (int64_t)f.info.mono_ns - offset), <, 3000000);
		/* and lies between the opening of the source and now */
		g_assert_cmpint(f.info.wall_ns, <=, real + 3000000);
		g_assert_cmpint(f.info.wall_ns, >=, opened - 3000000);

		g_assert_true(gst_video_frame_map(&vf, vi, f.buffer, GST_MAP_READ));
		g_assert_true(cam_tag_read(&vf, &seq, &tag));
		g_assert_cmpuint(seq, ==, i);
		g_assert_cmphex(tag, ==, id->camera_tag);
		cam_frame_mean_rgb(&vf, 50, mean);
		g_assert_cmpfloat_with_epsilon(mean[0], (rgb >> 16) & 0xff, 6);
		g_assert_cmpfloat_with_epsilon(mean[1], (rgb >> 8) & 0xff, 6);
		g_assert_cmpfloat_with_epsilon(mean[2], rgb & 0xff, 6);
		gst_video_frame_unmap(&vf);
		cam_frame_clear(&f);
	}
	cam_capture_get_stats(cap, &st);
	g_assert_cmpuint(st.frames, ==, 12);
	g_assert_cmpuint(st.lost, ==, 0);
	cam_capture_close(cap);
}

static void test_small_paced(void)
{
	check_frames(320, 240, 0xd02020, false);
}

static void test_hd_unpaced(void)
{
	check_frames(1280, 720, 0x2040e0, true);
}

/* Sum of |a - b| over the luma rows of the middle third (below the tag and
 * digits, above the name). */
static uint64_t middle_luma_change(const GstVideoInfo *vi, GstBuffer *a, GstBuffer *b)
{
	GstVideoFrame fa, fb;
	uint64_t sum = 0;
	unsigned h = (unsigned)vi->height, w = (unsigned)vi->width;

	g_assert_true(gst_video_frame_map(&fa, vi, a, GST_MAP_READ));
	g_assert_true(gst_video_frame_map(&fb, vi, b, GST_MAP_READ));
	for (unsigned y = h / 3; y < 2 * h / 3; y++) {
		const uint8_t *ra = (const uint8_t *)GST_VIDEO_FRAME_PLANE_DATA(&fa, 0) +
				    (size_t)y * (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(&fa, 0);
		const uint8_t *rb = (const uint8_t *)GST_VIDEO_FRAME_PLANE_DATA(&fb, 0) +
				    (size_t)y * (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(&fb, 0);

		for (unsigned x = 0; x < w; x++)
			sum += (uint64_t)ABS((int)ra[x] - (int)rb[x]);
	}
	gst_video_frame_unmap(&fa);
	gst_video_frame_unmap(&fb);
	return sum;
}

/*
 * scene=moving: the middle of the picture changes from frame to frame (a
 * mean of at least one luma level a pixel: the bars' edges move), the solid
 * scene's never; the tag reads back on both, and neither copies a frame.
 */
static void check_scene(const char *source, bool moving)
{
	struct cam_capture *cap = open_pattern(source, "porch", 640, 480, true);
	const GstVideoInfo *vi = cam_capture_video_info(cap);
	uint32_t tag = cam_capture_identity(cap)->camera_tag;
	uint64_t pixels = 640 * (2 * 480 / 3 - 480 / 3);
	struct cam_capture_stats st;
	GstBuffer *last = NULL;

	for (uint32_t i = 0; i < 8; i++) {
		struct cam_frame f;
		GstVideoFrame vf;
		uint32_t seq, ctag;

		g_assert_true(cam_capture_next(cap, &f, NULL));
		g_assert_true(gst_video_frame_map(&vf, vi, f.buffer, GST_MAP_READ));
		g_assert_true(cam_tag_read(&vf, &seq, &ctag));
		g_assert_cmpuint(seq, ==, i);
		g_assert_cmphex(ctag, ==, tag);
		gst_video_frame_unmap(&vf);
		if (last) {
			uint64_t change = middle_luma_change(vi, last, f.buffer);

			if (moving)
				g_assert_cmpuint(change, >=, pixels);
			else
				g_assert_cmpuint(change, ==, 0);
			gst_buffer_unref(last);
		}
		last = gst_buffer_ref(f.buffer);
		cam_frame_clear(&f);
	}
	gst_buffer_unref(last);
	cam_capture_get_stats(cap, &st);
	g_assert_cmpuint(st.copies, ==, 0);
	cam_capture_close(cap);
}

static void test_moving_scene(void)
{
	check_scene("pattern:3060c0,scene=moving", true);
}

static void test_solid_scene_is_still(void)
{
	check_scene("pattern:3060c0", false);
}

/* The pattern camera's identity follows its name, nothing else. */
static void test_identity(void)
{
	struct cam_capture *a = open_pattern("pattern:20b030", "kitchen", 320, 240, true);
	struct cam_capture *b = open_pattern("pattern:d02020", "kitchen", 320, 240, true);
	struct cam_capture *c = open_pattern("pattern:20b030", "garden", 320, 240, true);
	const struct cam_identity *ia = cam_capture_identity(a);

	g_assert_true(ia->has_unique_id);
	g_assert_cmpuint(strlen(ia->unique_id_hex), ==, VERACAM_UNIQUE_ID_HEX_LEN);
	g_assert_true(g_str_has_prefix(ia->stable, "id:"));
	g_assert_cmpstr(ia->stable, ==, cam_capture_identity(b)->stable);
	g_assert_cmpstr(ia->stable, !=, cam_capture_identity(c)->stable);
	g_assert_cmphex(ia->camera_tag, !=, cam_capture_identity(c)->camera_tag);
	cam_capture_close(a);
	cam_capture_close(b);
	cam_capture_close(c);
}

/* A frame may outlive its capture. */
static void test_frame_outlives_capture(void)
{
	struct cam_capture *cap = open_pattern("pattern:808080", "hall", 320, 240, true);
	struct cam_frame f;

	g_assert_true(cam_capture_next(cap, &f, NULL));
	cam_capture_close(cap);
	g_assert_cmpuint(gst_buffer_get_size(f.buffer), >=, 320 * 240 * 3 / 2);
	cam_frame_clear(&f);
}

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/camera/pattern/320x240-paced", test_small_paced);
	g_test_add_func("/camera/pattern/1280x720-unpaced", test_hd_unpaced);
	g_test_add_func("/camera/pattern/moving-scene", test_moving_scene);
	g_test_add_func("/camera/pattern/solid-scene-is-still", test_solid_scene_is_still);
	g_test_add_func("/camera/pattern/identity", test_identity);
	g_test_add_func("/camera/pattern/frame-outlives-capture", test_frame_outlives_capture);
	return g_test_run();
}
