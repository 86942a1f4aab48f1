// SPDX-License-Identifier: GPL-2.0-only
/*
 * capture_probe - capture (and optionally encode) N frames from a source
 * and print, per frame, what the camera role would sign: sequence, sensor
 * record, capture times, and the decoded burned-in tag.
 *
 *   capture_probe --source v4l2:id=ca110001000000000000000000000001 \
 *                 --frames 30 --size 320x240 --expect-tags --expect-meta
 *
 * Exit status: 0 all checks held, 1 a check failed, 2 bad usage or the
 * source could not be opened (one line on stderr).
 */
#include <stdio.h>
#include <string.h>

#include "camera.h"

static const char *ts_name(enum cam_ts_source s)
{
	switch (s) {
	case CAM_TS_SOE: return "soe";
	case CAM_TS_EOF: return "eof";
	case CAM_TS_DEQUEUE: return "dequeue";
	case CAM_TS_PRODUCED: return "produced";
	}
	return "?";
}

static gchar *opt_source, *opt_name, *opt_size = "320x240", *opt_io = "auto",
	     *opt_encode = "none", *opt_expect_id;
static gint opt_frames = 30, opt_fps = 30;
static gboolean opt_expect_tags, opt_expect_meta;

static const GOptionEntry entries[] = {
	{ "source", 's', 0, G_OPTION_ARG_STRING, &opt_source, "camera (see --source forms)", "SOURCE" },
	{ "name", 'n', 0, G_OPTION_ARG_STRING, &opt_name, "camera name (pattern source)", "NAME" },
	{ "frames", 'f', 0, G_OPTION_ARG_INT, &opt_frames, "frames to capture (30)", "N" },
	{ "size", 0, 0, G_OPTION_ARG_STRING, &opt_size, "WIDTHxHEIGHT (320x240)", "WxH" },
	{ "fps", 0, 0, G_OPTION_ARG_INT, &opt_fps, "frames per second (30)", "N" },
	{ "io", 0, 0, G_OPTION_ARG_STRING, &opt_io, "auto, copy or dmabuf", "MODE" },
	{ "encode", 'e', 0, G_OPTION_ARG_STRING, &opt_encode, "none, auto, x264 or v4l2", "ENC" },
	{ "expect-tags", 0, 0, G_OPTION_ARG_NONE, &opt_expect_tags,
	  "fail unless every frame's tag reads back its sequence and camera", NULL },
	{ "expect-meta", 0, 0, G_OPTION_ARG_NONE, &opt_expect_meta,
	  "fail unless every frame has its sensor record", NULL },
	{ "expect-id", 0, 0, G_OPTION_ARG_STRING, &opt_expect_id,
	  "fail unless the camera's stable identity is id:HEX", "HEX" },
	G_OPTION_ENTRY_NULL
};

static int usage_error(const char *msg)
{
	fprintf(stderr, "capture_probe: %s\n", msg);
	return 2;
}

/* Check and print one frame; false when an expectation fails. */
static bool probe_frame(struct cam_capture *cap, struct cam_frame *f)
{
	const struct cam_identity *id = cam_capture_identity(cap);
	const struct cam_frame_info *fi = &f->info;
	GstVideoFrame vf;
	uint32_t tseq = 0, tcam = 0;
	bool tag = false, ok = true;
	double rgb[3] = { 0 };

	if (gst_video_frame_map(&vf, cam_capture_video_info(cap), f->buffer, GST_MAP_READ)) {
		tag = cam_tag_read(&vf, &tseq, &tcam);
		cam_frame_mean_rgb(&vf, 50, rgb);
		gst_video_frame_unmap(&vf);
	}
	printf("frame seq=%u lost_before=%u ts=%s mono_ns=%" G_GUINT64_FORMAT
	       " wall_ns=%" G_GINT64_FORMAT, fi->sequence, fi->lost_before,
	       ts_name(fi->ts_source), fi->mono_ns, fi->wall_ns);
	if (fi->has_sensor)
		printf(" sensor_seq=%u exposure=%u again=%u dgain=%u flags=%#x",
		       fi->sensor_sequence, fi->exposure, fi->analogue_gain,
		       fi->digital_gain, fi->sensor_flags);
	else
		printf(" sensor_seq=-");
	if (tag)
		printf(" tag_seq=%u tag_camera=%08x", tseq, tcam);
	else
		printf(" tag=-");
	printf(" rgb=%.0f,%.0f,%.0f\n", rgb[0], rgb[1], rgb[2]);

	if (opt_expect_tags && (!tag || tseq != fi->sequence || tcam != id->camera_tag)) {
		printf("# frame %u: tag %s (want seq %u camera %08x)\n", fi->sequence,
		       tag ? "does not match" : "unreadable", fi->sequence, id->camera_tag);
		ok = false;
	}
	if (opt_expect_meta && (!fi->has_sensor || fi->sensor_sequence != fi->sequence)) {
		printf("# frame %u: no matching sensor record\n", fi->sequence);
		ok = false;
	}
	return ok;
}

int main(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("- probe a veracam capture source");
	g_autoptr(GError) err = NULL;
	struct cam_capture_config ccfg = { 0 };
	struct cam_encode_config ecfg = { 0 };
	struct cam_capture *cap;
	struct cam_encoder *enc = NULL;
	struct cam_capture_stats st;
	const struct cam_identity *id;
	unsigned w, h;
	bool encode;
	int failures = 0;
	uint64_t au_bytes = 0, idrs = 0, aus = 0;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_add_group(ctx, gst_init_get_option_group());
	if (!g_option_context_parse(ctx, &argc, &argv, &err))
		return usage_error(err->message);
	if (!opt_source)
		return usage_error("--source is required");
	if (sscanf(opt_size, "%ux%u", &w, &h) != 2 || !w || !h)
		return usage_error("--size must be WIDTHxHEIGHT");
	if (opt_frames <= 0 || opt_fps <= 0)
		return usage_error("--frames and --fps must be positive");
	ccfg = (struct cam_capture_config){
		.source = opt_source, .name = opt_name, .width = w, .height = h,
		.fps_n = (unsigned)opt_fps, .fps_d = 1,
		.io = !strcmp(opt_io, "copy") ? CAM_IO_COPY :
		      !strcmp(opt_io, "dmabuf") ? CAM_IO_DMABUF : CAM_IO_AUTO,
	};
	if (strcmp(opt_io, "auto") && strcmp(opt_io, "copy") && strcmp(opt_io, "dmabuf"))
		return usage_error("--io must be auto, copy or dmabuf");
	encode = strcmp(opt_encode, "none") != 0;
	if (encode && !vc_encoder_parse(opt_encode, &ecfg.encoder))
		return usage_error("--encode must be none|" VC_ENCODER_GRAMMAR);

	cap = cam_capture_open(&ccfg, &err);
	if (!cap)
		return usage_error(err->message);
	id = cam_capture_identity(cap);
	printf("identity stable=%s driver=%s card=\"%s\" bus_info=%s serial=%s model=\"%s\" camera_tag=%08x\n",
	       id->stable, id->driver, id->card, id->bus_info, id->serial[0] ? id->serial : "-",
	       id->model, id->camera_tag);
	if (opt_expect_id && strcmp(id->unique_id_hex, opt_expect_id)) {
		printf("# identity is %s, expected id:%s\n", id->stable, opt_expect_id);
		failures++;
	}

	if (encode) {
		const char *el = cam_encoder_choose(ecfg.encoder, &err);

		if (!el) {
			cam_capture_close(cap);
			return usage_error(err->message);
		}
		ecfg.dmabuf_input = cam_capture_use_dmabuf(cap, cam_encoder_imports_dmabuf(el));
		enc = cam_encoder_new(&ecfg, cam_capture_video_info(cap), &err);
		if (!enc) {
			cam_capture_close(cap);
			return usage_error(err->message);
		}
	} else {
		cam_capture_use_dmabuf(cap, false);
	}

	for (int i = 0; i < opt_frames; i++) {
		struct cam_frame f;
		struct cam_au au;
		int r;

		if (!cam_capture_next(cap, &f, &err)) {
			printf("# capture: %s%s\n",
			       g_error_matches(err, CAM_ERROR, CAM_ERROR_GONE) ? "device gone: " : "",
			       err->message);
			failures++;
			break;
		}
		if (!probe_frame(cap, &f))
			failures++;
		if (!enc) {
			cam_frame_clear(&f);
			continue;
		}
		r = cam_encode_frame(enc, &f, &au, &err);
		if (r < 0) {
			printf("# encode: %s\n", err->message);
			failures++;
			break;
		}
		if (r == 1) {
			printf("au seq=%u bytes=%zu idr=%d\n", au.info.sequence, au.size, au.idr);
			aus++;
			idrs += au.idr;
			au_bytes += au.size;
			cam_au_clear(&au);
		}
	}

	cam_capture_get_stats(cap, &st);
	printf("stats frames=%" G_GUINT64_FORMAT " lost=%" G_GUINT64_FORMAT
	       " errors=%" G_GUINT64_FORMAT " copies=%" G_GUINT64_FORMAT
	       " copied_bytes=%" G_GUINT64_FORMAT " dmabuf_frames=%" G_GUINT64_FORMAT
	       " meta_paired=%" G_GUINT64_FORMAT " meta_missing=%" G_GUINT64_FORMAT
	       " meta_lost=%" G_GUINT64_FORMAT " meta_invalid=%" G_GUINT64_FORMAT
	       " meta_mismatched=%" G_GUINT64_FORMAT " clock_measurements=%" G_GUINT64_FORMAT
	       " clock_steps=%" G_GUINT64_FORMAT " clock_bracket_ns=%" G_GUINT64_FORMAT "\n",
	       st.frames, st.lost, st.errors, st.copies, st.copied_bytes, st.dmabuf_frames,
	       st.meta_paired, st.meta_missing, st.meta_lost, st.meta_invalid,
	       st.meta_mismatched, st.clock_measurements, st.clock_steps, st.clock_bracket_ns);
	if (enc)
		printf("encode element=%s aus=%" G_GUINT64_FORMAT " idr=%" G_GUINT64_FORMAT
		       " bytes=%" G_GUINT64_FORMAT "\n", cam_encoder_element(enc), aus, idrs, au_bytes);
	cam_encoder_free(enc);
	cam_capture_close(cap);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
