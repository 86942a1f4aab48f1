// SPDX-License-Identifier: GPL-2.0-only
/*
 * pattern.c - the camera for hosts without one: GStreamer videotestsrc in
 * a solid colour, the camera name written by textoverlay, and, drawn here
 * per frame, the frame tag (sequence + camera tag, the veracam.ko layout)
 * and the capture time in digits. Everything else stays the solid camera
 * colour, so frames can be classified by colour after H.264.
 *
 * scene=moving puts SMPTE bars scrolling by PATTERN_SCROLL_PX a frame, with
 * their patch of noise, behind the same numbers: x264 then makes units of
 * the size a real scene gives at the configured bit rate (the solid colour
 * gives ~1 KB), which is what benchmarks want. The picture (source, text,
 * probes) is a bin of its own, cam_pattern_bin_new(), so that a benchmark's
 * plain GStreamer pipeline can show exactly the camera's frames.
 *
 * Capture time: CLOCK_MONOTONIC when videotestsrc pushes the frame
 * (a probe on its source pad), carried in a GstReferenceTimestampMeta.
 * It is what the camera signs as the frame's capture time, and the digits
 * show it too (centiseconds, modulo 1000 s): whoever shares the camera's
 * CLOCK_MONOTONIC can read a shown frame's age off the screen (the
 * adversarial suite's freshness oracle). The tag is drawn in the streaming
 * thread (a probe where the frame leaves the picture bin), where the frame
 * is still writable, so no copy is made; the frame number rides in
 * GST_BUFFER_OFFSET.
 */
#include <string.h>

#include <gst/app/gstappsink.h>

#include "capture-int.h"

#define PATTERN_FORMAT GST_VIDEO_FORMAT_NV12
/* The capture time's digits: centiseconds of CLOCK_MONOTONIC, modulo 1000 s. */
#define PATTERN_CLOCK_UNIT_NS	10000000ull
#define PATTERN_CLOCK_WRAP	100000u
#define PATTERN_CLOCK_DIGITS	5	/* always drawn with all five (and the check digit) */
/* scene=moving: the bars' speed, pixels per frame (bench_hub's clip scrolls as much) */
#define PATTERN_SCROLL_PX	8
#define PICTURE_KEY		"veracam-pattern-picture"

static GstStaticCaps mono_reference = GST_STATIC_CAPS("timestamp/x-veracam-monotonic");

/* The probes' state, owned by the picture bin. */
struct picture {
	GstVideoInfo info;
	uint32_t camera_tag;
	uint32_t produced;	/* streaming thread only */
	gint copies;		/* frames that were not writable in the probe */
};

struct pattern {
	GstElement *pipeline;
	GstAppSink *sink;
	struct picture *pic;	/* the bin's, alive as long as the pipeline */
};

bool cam_pattern_capture_ns(GstBuffer *buf, uint64_t *mono_ns)
{
	g_autoptr(GstCaps) ref = gst_static_caps_get(&mono_reference);
	GstReferenceTimestampMeta *ts = gst_buffer_get_reference_timestamp_meta(buf, ref);

	if (ts)
		*mono_ns = ts->timestamp;
	return ts != NULL;
}

static GstPadProbeReturn stamp_production(GstPad *pad, GstPadProbeInfo *info,
					  gpointer data)
{
	g_autoptr(GstCaps) ref = gst_static_caps_get(&mono_reference);
	GstBuffer *buf = gst_buffer_make_writable(GST_PAD_PROBE_INFO_BUFFER(info));

	(void)pad;
	(void)data;
	gst_buffer_add_reference_timestamp_meta(buf, ref, clk_mono_ns(),
						GST_CLOCK_TIME_NONE);
	GST_PAD_PROBE_INFO_DATA(info) = buf;
	return GST_PAD_PROBE_OK;
}

static GstPadProbeReturn draw_tag(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct picture *p = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	unsigned c = veracam_tag_cell_size((unsigned)p->info.width);
	GstVideoFrame vf;
	uint64_t mono_ns;

	(void)pad;
	if (!gst_buffer_is_writable(buf))
		g_atomic_int_inc(&p->copies);
	buf = gst_buffer_make_writable(buf);
	GST_BUFFER_OFFSET(buf) = p->produced;
	if (!cam_pattern_capture_ns(buf, &mono_ns))
		mono_ns = clk_mono_ns();
	if (gst_video_frame_map(&vf, &p->info, buf, GST_MAP_WRITE)) {
		cam_tag_draw(&vf, p->produced, p->camera_tag);
		cam_tag_draw_number(&vf, 0, VERACAM_TAG_ROWS * c, c / 2,
				    (uint32_t)(mono_ns / PATTERN_CLOCK_UNIT_NS % PATTERN_CLOCK_WRAP),
				    PATTERN_CLOCK_DIGITS);
		gst_video_frame_unmap(&vf);
	}
	p->produced++;
	GST_PAD_PROBE_INFO_DATA(info) = buf;
	return GST_PAD_PROBE_OK;
}

static GstElement *make(const char *factory, GError **error)
{
	GstElement *e = gst_element_factory_make(factory, NULL);

	if (!e)
		g_set_error(error, CAM_ERROR, CAM_ERROR_ENCODER,
			    "GStreamer element %s is not installed", factory);
	return e;
}

static bool bus_error(GstElement *pipeline, GError **error)
{
	g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
	g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
	g_autoptr(GError) err = NULL;

	if (!msg)
		return false;
	gst_message_parse_error(msg, &err, NULL);
	g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "pattern source: %s", err->message);
	return true;
}

static bool pattern_next(struct cam_capture *cap, struct cam_frame *frame, GError **error)
{
	struct pattern *p = cap->priv;
	GstSample *sample;
	GstBuffer *buf;

	sample = gst_app_sink_try_pull_sample(p->sink,
					      (GstClockTime)cap->cfg.timeout_ms * GST_MSECOND);
	if (!sample) {
		if (!bus_error(p->pipeline, error))
			g_set_error(error, CAM_ERROR, CAM_ERROR_TIMEOUT,
				    "pattern source: no frame within %u ms", cap->cfg.timeout_ms);
		return false;
	}
	buf = gst_buffer_ref(gst_sample_get_buffer(sample));
	gst_sample_unref(sample);

	if (!cam_pattern_capture_ns(buf, &frame->info.mono_ns))
		frame->info.mono_ns = clk_mono_ns();
	frame->info.ts_source = CAM_TS_PRODUCED;
	frame->info.sequence = (uint32_t)GST_BUFFER_OFFSET(buf);
	frame->buffer = buf;
	cap->stats.copies = (uint64_t)g_atomic_int_get(&p->pic->copies);
	cap->stats.copied_bytes = cap->stats.copies * cap->info.size;
	return true;
}

static void pattern_stop(struct cam_capture *cap)
{
	struct pattern *p = cap->priv;

	gst_element_set_state(p->pipeline, GST_STATE_NULL);
}

static void pattern_free(struct cam_capture *cap)
{
	struct pattern *p = cap->priv;

	gst_element_set_state(p->pipeline, GST_STATE_NULL);
	gst_object_unref(p->sink);
	gst_object_unref(p->pipeline);
	g_free(p);
}

static const struct cam_capture_ops pattern_ops = {
	.next = pattern_next,
	.stop = pattern_stop,
	.free = pattern_free,
};

/* The pattern camera's id: SHA-256("veracam-pattern:" name), 16 bytes. */
static void pattern_identity(struct cam_capture *cap)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	uint8_t digest[32];
	gsize len = sizeof(digest);
	struct cam_identity *id = &cap->id;

	g_checksum_update(sum, (const guchar *)"veracam-pattern:", 16);
	g_checksum_update(sum, (const guchar *)cap->name, (gssize)strlen(cap->name));
	g_checksum_get_digest(sum, digest, &len);
	id->has_unique_id = true;
	memcpy(id->unique_id, digest, VERACAM_UNIQUE_ID_LEN);
	g_strlcpy(id->driver, "pattern", sizeof(id->driver));
	g_strlcpy(id->card, cap->name, sizeof(id->card));
	g_snprintf(id->bus_info, sizeof(id->bus_info), "pattern:%06x", cap->src.rgb);
	cam_identity_finish(id);
}

static void set_scene(GstElement *src, const struct cam_source *source)
{
	if (source->scene == CAM_SCENE_MOVING) {
		gst_util_set_object_arg(G_OBJECT(src), "pattern", "smpte");
		g_object_set(src, "horizontal-speed", PATTERN_SCROLL_PX, NULL);
	} else {
		gst_util_set_object_arg(G_OBJECT(src), "pattern", "solid-color");
		g_object_set(src, "foreground-color", 0xff000000u | source->rgb, NULL);
	}
}

static void add_probe(GstElement *e, const char *pad_name, GstPadProbeCallback fn,
		      gpointer data)
{
	g_autoptr(GstPad) pad = gst_element_get_static_pad(e, pad_name);

	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, fn, data, NULL);
}

GstElement *cam_pattern_bin_new(const struct cam_source *source, const char *name,
				const GstVideoInfo *info, uint32_t camera_tag,
				bool live, GError **error)
{
	struct picture *p = g_new0(struct picture, 1);
	GstElement *bin = gst_bin_new("pattern-picture");
	GstElement *src = NULL, *filter = NULL, *text = NULL;
	g_autoptr(GstCaps) caps = gst_video_info_to_caps(info);
	g_autoptr(GstPad) out = NULL;

	p->info = *info;
	p->camera_tag = camera_tag;
	g_object_set_data_full(G_OBJECT(bin), PICTURE_KEY, p, g_free);
	if (!(src = make("videotestsrc", error)) || !(filter = make("capsfilter", error)) ||
	    !(text = make("textoverlay", error)))
		goto fail;
	set_scene(src, source);
	g_object_set(src, "is-live", live, NULL);
	g_object_set(filter, "caps", caps, NULL);
	gst_util_set_object_arg(G_OBJECT(text), "valignment", "bottom");
	gst_util_set_object_arg(G_OBJECT(text), "halignment", "left");
	g_object_set(text, "text", name, "font-desc", "Sans 10",
		     "shaded-background", TRUE, NULL);
	gst_bin_add_many(GST_BIN(bin), src, filter, text, NULL);
	if (!gst_element_link_many(src, filter, text, NULL)) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_FORMAT,
			    "pattern source: cannot make %dx%d@%d/%d %s", info->width,
			    info->height, info->fps_n, info->fps_d,
			    gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(info)));
		gst_object_unref(bin);
		return NULL;
	}
	add_probe(src, "src", stamp_production, NULL);
	add_probe(text, "src", draw_tag, p);
	out = gst_element_get_static_pad(text, "src");
	gst_element_add_pad(bin, gst_ghost_pad_new("src", out));
	return bin;

fail:
	/* elements not yet in the bin are floating */
	if (src)
		gst_object_unref(src);
	if (filter)
		gst_object_unref(filter);
	gst_object_unref(bin);
	return NULL;
}

bool cam_pattern_open(struct cam_capture *cap, GError **error)
{
	struct pattern *p = g_new0(struct pattern, 1);
	GstElement *bin, *sink;

	pattern_identity(cap);
	gst_video_info_set_format(&cap->info, PATTERN_FORMAT, cap->cfg.width, cap->cfg.height);
	cap->info.fps_n = (gint)cap->cfg.fps_n;
	cap->info.fps_d = (gint)cap->cfg.fps_d;

	bin = cam_pattern_bin_new(&cap->src, cap->name, &cap->info, cap->id.camera_tag,
				  !cap->cfg.unpaced, error);
	if (!bin || !(sink = make("appsink", error))) {
		if (bin)
			gst_object_unref(bin);
		g_free(p);
		return false;
	}
	p->pic = g_object_get_data(G_OBJECT(bin), PICTURE_KEY);
	g_object_set(sink, "max-buffers", 1, "drop", FALSE, "sync", FALSE,
		     "enable-last-sample", FALSE, NULL);
	p->pipeline = gst_pipeline_new("pattern");
	gst_bin_add_many(GST_BIN(p->pipeline), bin, sink, NULL);
	p->sink = GST_APP_SINK(gst_object_ref(sink));
	cap->priv = p;
	cap->ops = &pattern_ops;
	if (!gst_element_link(bin, sink)) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_FORMAT,
			    "pattern source: cannot hand its frames to an appsink");
		pattern_free(cap);
		return false;
	}
	if (gst_element_set_state(p->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		if (!bus_error(p->pipeline, error))
			g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE,
				    "pattern source: pipeline does not start");
		pattern_free(cap);
		return false;
	}
	g_message("capture: pattern %06x%s \"%s\" %ux%u@%u/%u NV12, id %s",
		  cap->src.rgb, cap->src.scene == CAM_SCENE_MOVING ? " moving" : "",
		  cap->name, cap->cfg.width, cap->cfg.height,
		  cap->cfg.fps_n, cap->cfg.fps_d, cap->id.stable);
	return true;
}
