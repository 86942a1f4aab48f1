// SPDX-License-Identifier: GPL-2.0-only
/*
 * Encode: one AU per frame, IDRs where asked (with SPS/PPS before each),
 * the frame's capture data carried to its AU, and pictures that still tell
 * their camera colour and frame number after decoding.
 */
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include "camera.h"

#define NAL_SLICE 1
#define NAL_IDR 5
#define NAL_SPS 7
#define NAL_PPS 8

/* NAL unit types of an Annex-B access unit, in order. */
static size_t nal_types(const uint8_t *p, size_t n, uint8_t *types, size_t max)
{
	size_t count = 0;

	for (size_t i = 0; i + 3 < n && count < max; i++) {
		if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1) {
			types[count++] = p[i + 3] & 0x1f;
			i += 3;
		}
	}
	return count;
}

static bool has_type(const uint8_t *t, size_t n, uint8_t type, size_t *at)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i] == type) {
			if (at)
				*at = i;
			return true;
		}
	}
	return false;
}

/* IDR iff @idr; an IDR has SPS and PPS before its first slice. */
static void check_au_shape(const struct cam_au *au, bool idr)
{
	uint8_t t[64];
	size_t n = nal_types(au->data, au->size, t, sizeof(t)), sps = 0, pps = 0, slice = 0;

	g_assert_cmpuint(n, >, 0);
	g_assert_cmpint(au->idr, ==, idr);
	g_assert_cmpint(has_type(t, n, NAL_IDR, &slice), ==, idr);
	if (idr) {
		g_assert_true(has_type(t, n, NAL_SPS, &sps));
		g_assert_true(has_type(t, n, NAL_PPS, &pps));
		g_assert_cmpuint(sps, <, slice);
		g_assert_cmpuint(pps, <, slice);
	} else {
		g_assert_true(has_type(t, n, NAL_SLICE, NULL));
	}
}

/*
 * These tests check what the encoder makes, not how fast: on a loaded
 * machine under ASan, x264's first access unit has taken over the default
 * second (seen once at load 7), so they wait much longer for frames and units.
 */
#define TEST_WAIT_MS 30000

static struct cam_capture *pattern_source(const char *src, unsigned w, unsigned h,
					  unsigned fps)
{
	struct cam_capture_config cfg = {
		.source = src, .name = "test", .width = w, .height = h,
		.fps_n = fps, .fps_d = 1, .unpaced = true, .timeout_ms = TEST_WAIT_MS,
	};
	struct cam_capture *cap = cam_capture_open(&cfg, NULL);

	g_assert_nonnull(cap);
	return cap;
}

static struct cam_capture *pattern(uint32_t rgb, unsigned w, unsigned h, unsigned fps)
{
	g_autofree char *src = g_strdup_printf("pattern:%06x", rgb);

	return pattern_source(src, w, h, fps);
}

static struct cam_encoder *encoder(struct cam_capture *cap, unsigned idr)
{
	struct cam_encode_config cfg = { .encoder = VC_ENCODER_X264, .idr_interval = idr,
					 .bitrate_kbps = 1000, .timeout_ms = TEST_WAIT_MS };
	g_autoptr(GError) err = NULL;
	struct cam_encoder *enc = cam_encoder_new(&cfg, cam_capture_video_info(cap), &err);

	g_assert_no_error(err);
	g_assert_nonnull(enc);
	g_assert_cmpstr(cam_encoder_element(enc), ==, "x264enc");
	return enc;
}

/* Capture and encode one frame; the AU must come out at once. */
static void step(struct cam_capture *cap, struct cam_encoder *enc, struct cam_au *au)
{
	struct cam_frame f;
	struct cam_frame_info want;
	g_autoptr(GError) err = NULL;
	int r;

	g_assert_true(cam_capture_next(cap, &f, &err));
	want = f.info;
	r = cam_encode_frame(enc, &f, au, &err);
	g_assert_no_error(err);
	g_assert_cmpint(r, ==, 1);
	g_assert_null(f.buffer);
	g_assert_cmpuint(au->info.sequence, ==, want.sequence);
	g_assert_cmpuint(au->info.mono_ns, ==, want.mono_ns);
	g_assert_cmpint(au->info.wall_ns, ==, want.wall_ns);
}

static void run_interval(unsigned fps, unsigned idr_cfg, unsigned idr_every)
{
	struct cam_capture *cap = pattern(0x20b030, 320, 240, fps);
	struct cam_encoder *enc = encoder(cap, idr_cfg);

	for (unsigned i = 0; i < 2 * idr_every + 5; i++) {
		struct cam_au au;

		step(cap, enc, &au);
		check_au_shape(&au, i % idr_every == 0);
		cam_au_clear(&au);
	}
	cam_encoder_free(enc);
	cam_capture_close(cap);
}

static void test_idr_interval(void)
{
	run_interval(30, 10, 10);
}

/* Default: an IDR every second, whatever the frame rate. */
static void test_idr_default_one_second(void)
{
	run_interval(15, 0, 15);
}

/* A hub joins: the very next frame is an IDR with SPS/PPS. */
static void test_force_keyframe(void)
{
	struct cam_capture *cap = pattern(0x2040e0, 320, 240, 30);
	struct cam_encoder *enc = encoder(cap, 1000);

	for (unsigned i = 0; i < 20; i++) {
		struct cam_au au;

		if (i == 7 || i == 12)
			cam_encoder_force_keyframe(enc);
		step(cap, enc, &au);
		check_au_shape(&au, i == 0 || i == 7 || i == 12);
		cam_au_clear(&au);
	}
	cam_encoder_free(enc);
	cam_capture_close(cap);
}

/* Decode AUs (all pushed, then EOS) into I420 pictures. */
static GPtrArray *decode_all(GPtrArray *aus)
{
	g_autoptr(GError) err = NULL;
	GstElement *p = gst_parse_launch(
		"appsrc name=src caps=video/x-h264,stream-format=byte-stream,alignment=au "
		"format=time ! h264parse ! avdec_h264 ! videoconvert ! "
		"video/x-raw,format=I420 ! appsink name=sink sync=false", &err);
	GstElement *src, *sink;
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gst_sample_unref);
	GstSample *s;

	g_assert_no_error(err);
	src = gst_bin_get_by_name(GST_BIN(p), "src");
	sink = gst_bin_get_by_name(GST_BIN(p), "sink");
	gst_element_set_state(p, GST_STATE_PLAYING);
	for (guint i = 0; i < aus->len; i++) {
		GstBuffer *b = gst_buffer_copy(g_ptr_array_index(aus, i));

		GST_BUFFER_PTS(b) = i * GST_SECOND / 30;
		gst_app_src_push_buffer(GST_APP_SRC(src), b);
	}
	gst_app_src_end_of_stream(GST_APP_SRC(src));
	while ((s = gst_app_sink_pull_sample(GST_APP_SINK(sink))))
		g_ptr_array_add(out, s);
	gst_element_set_state(p, GST_STATE_NULL);
	gst_object_unref(src);
	gst_object_unref(sink);
	gst_object_unref(p);
	return out;
}

/* Map a decoded picture, whose tag must read frame @seq of camera @tag. */
static void map_tagged(GstSample *s, GstVideoFrame *vf, uint32_t seq, uint32_t tag)
{
	GstVideoInfo vi;
	uint32_t got_seq, got_tag;

	g_assert_true(gst_video_info_from_caps(&vi, gst_sample_get_caps(s)));
	g_assert_true(gst_video_frame_map(vf, &vi, gst_sample_get_buffer(s), GST_MAP_READ));
	g_assert_true(cam_tag_read(vf, &got_seq, &got_tag));
	g_assert_cmpuint(got_seq, ==, seq);
	g_assert_cmphex(got_tag, ==, tag);
}

/* After H.264 at a small size the colour and the tag still read back. */
static void test_roundtrip(void)
{
	const uint32_t rgb = 0xd02020;
	struct cam_capture *cap = pattern(rgb, 320, 240, 30);
	struct cam_encoder *enc = encoder(cap, 30);
	uint32_t tag = cam_capture_identity(cap)->camera_tag;
	g_autoptr(GPtrArray) aus = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
	g_autoptr(GPtrArray) pics = NULL;

	for (unsigned i = 0; i < 40; i++) {
		struct cam_au au;

		step(cap, enc, &au);
		g_ptr_array_add(aus, gst_buffer_ref(au.buffer));
		cam_au_clear(&au);
	}
	pics = decode_all(aus);
	g_assert_cmpuint(pics->len, ==, 40);
	for (guint i = 0; i < pics->len; i++) {
		GstVideoFrame vf;
		double m[3];

		map_tagged(g_ptr_array_index(pics, i), &vf, i, tag);
		cam_frame_mean_rgb(&vf, 50, m);
		g_assert_cmpfloat_with_epsilon(m[0], 0xd0, 12);
		g_assert_cmpfloat_with_epsilon(m[1], 0x20, 12);
		g_assert_cmpfloat_with_epsilon(m[2], 0x20, 12);
		gst_video_frame_unmap(&vf);
	}
	cam_encoder_free(enc);
	cam_capture_close(cap);
}

/*
 * The moving scene at 1 Mbit/s and 640x480 fills the bit rate as a real
 * scene does (the solid colour makes ~0.1 KB P units), and its tags still
 * read back after H.264.
 */
static void test_moving_scene_units(void)
{
	struct cam_capture *cap = pattern_source("pattern:3060c0,scene=moving", 640, 480, 30);
	struct cam_encoder *enc = encoder(cap, 30);
	uint32_t tag = cam_capture_identity(cap)->camera_tag;
	g_autoptr(GPtrArray) aus = g_ptr_array_new_with_free_func((GDestroyNotify)gst_buffer_unref);
	g_autoptr(GPtrArray) pics = NULL;
	size_t p_bytes = 0, p_units = 0, i_bytes = 0;

	for (unsigned i = 0; i < 40; i++) {
		struct cam_au au;

		step(cap, enc, &au);
		if (au.idr) {
			i_bytes = MAX(i_bytes, au.size);
		} else {
			p_bytes += au.size;
			p_units++;
		}
		g_ptr_array_add(aus, gst_buffer_ref(au.buffer));
		cam_au_clear(&au);
	}
	g_test_message("moving scene 640x480 at 1 Mbit/s: IDR up to %zu B, P mean %zu B",
		       i_bytes, p_bytes / p_units);
	g_assert_cmpuint(p_bytes / p_units, >=, 2000);
	g_assert_cmpuint(i_bytes, >, p_bytes / p_units);
	pics = decode_all(aus);
	g_assert_cmpuint(pics->len, ==, 40);
	for (guint i = 0; i < pics->len; i++) {
		GstVideoFrame vf;

		map_tagged(g_ptr_array_index(pics, i), &vf, i, tag);
		gst_video_frame_unmap(&vf);
	}
	cam_encoder_free(enc);
	cam_capture_close(cap);
}

/* YUYV (UVC's usual format) goes through videoconvert and still encodes. */
static void test_yuyv_input(void)
{
	struct cam_encode_config cfg = { .encoder = VC_ENCODER_X264, .idr_interval = 5,
					 .timeout_ms = TEST_WAIT_MS };
	GstVideoInfo vi;
	struct cam_encoder *enc;

	gst_video_info_set_format(&vi, GST_VIDEO_FORMAT_YUY2, 320, 240);
	vi.fps_n = 30;
	vi.fps_d = 1;
	enc = cam_encoder_new(&cfg, &vi, NULL);
	g_assert_nonnull(enc);
	for (uint32_t i = 0; i < 6; i++) {
		struct cam_frame f = { .buffer = gst_buffer_new_allocate(NULL, vi.size, NULL) };
		struct cam_au au;
		GstVideoFrame vf;

		f.info.sequence = 100 + i;
		g_assert_true(gst_video_frame_map(&vf, &vi, f.buffer, GST_MAP_WRITE));
		memset(GST_VIDEO_FRAME_PLANE_DATA(&vf, 0), 0x80, vi.size);
		cam_tag_draw(&vf, i, 0xca110001);
		gst_video_frame_unmap(&vf);
		g_assert_cmpint(cam_encode_frame(enc, &f, &au, NULL), ==, 1);
		g_assert_cmpuint(au.info.sequence, ==, 100 + i);
		check_au_shape(&au, i % 5 == 0);
		cam_au_clear(&au);
	}
	cam_encoder_free(enc);
}

static void test_choose(void)
{
	const char *auto_el = cam_encoder_choose(VC_ENCODER_AUTO, NULL);

	g_assert_cmpstr(cam_encoder_choose(VC_ENCODER_X264, NULL), ==, "x264enc");
	g_assert_true(!g_strcmp0(auto_el, "x264enc") || !g_strcmp0(auto_el, "v4l2h264enc"));
	g_assert_false(cam_encoder_imports_dmabuf("x264enc"));
	g_assert_true(cam_encoder_imports_dmabuf("v4l2h264enc"));
}

/* The one grammar the config and the tools read: exact names, nothing else. */
static void test_encoder_names(void)
{
	static const char *const bad[] = { "", "h265", "X264", "x264 ", "autox", "v4l", NULL };
	enum vc_encoder e = VC_ENCODER_V4L2;

	g_assert_true(vc_encoder_parse("auto", &e));
	g_assert_cmpint(e, ==, VC_ENCODER_AUTO);
	g_assert_true(vc_encoder_parse("x264", &e));
	g_assert_cmpint(e, ==, VC_ENCODER_X264);
	g_assert_true(vc_encoder_parse("v4l2", &e));
	g_assert_cmpint(e, ==, VC_ENCODER_V4L2);
	for (int i = VC_ENCODER_AUTO; i <= VC_ENCODER_V4L2; i++) {
		g_assert_true(vc_encoder_parse(vc_encoder_name((enum vc_encoder)i), &e));
		g_assert_cmpint(e, ==, i);
	}
	for (unsigned int i = 0; i < G_N_ELEMENTS(bad); i++) {
		e = VC_ENCODER_V4L2;
		g_assert_false(vc_encoder_parse(bad[i], &e));
		g_assert_cmpint(e, ==, VC_ENCODER_V4L2);	/* untouched */
	}
	g_assert_cmpstr(VC_ENCODER_GRAMMAR, ==, "auto|x264|v4l2");
}

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/camera/encode/choose", test_choose);
	g_test_add_func("/camera/encode/encoder-names", test_encoder_names);
	g_test_add_func("/camera/encode/idr-interval", test_idr_interval);
	g_test_add_func("/camera/encode/idr-default-one-second", test_idr_default_one_second);
	g_test_add_func("/camera/encode/force-keyframe", test_force_keyframe);
	g_test_add_func("/camera/encode/roundtrip-colour-and-tag", test_roundtrip);
	g_test_add_func("/camera/encode/yuyv-input", test_yuyv_input);
	g_test_add_func("/camera/encode/moving-scene-units", test_moving_scene_units);
	return g_test_run();
}
