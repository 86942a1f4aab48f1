// SPDX-License-Identifier: GPL-2.0-only
/*
 * encode.c - H.264 in-process with GStreamer:
 *
 *   appsrc ! [videoconvert ! capsfilter] ! v4l2h264enc|x264enc
 *          ! h264parse config-interval=-1
 *          ! video/x-h264,stream-format=byte-stream,alignment=au ! appsink
 *
 * One frame in, one access unit out: appsrc holds at most one frame,
 * appsink at most one AU (no drop: the streaming thread waits for us), and
 * cam_encode_frame pulls the AU of the frame it pushed. The frame's capture
 * information travels beside the pipeline, keyed by the PTS we assign.
 */
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include "camera.h"

#define INFO_RING 16

/* Frames an encoder may hold before its first output. */
#define LAG_X264 0
#define LAG_V4L2 4

struct cam_encoder {
	GstElement *pipeline;
	GstAppSrc *src;
	GstAppSink *sink;
	GstPad *enc_src;
	const char *element;
	GstClockTime frame_ns;
	unsigned timeout_ms;
	unsigned lag;
	uint64_t pushed, pulled;
	gint keyunit_count;
	struct {
		GstClockTime pts;
		struct cam_frame_info info;
	} ring[INFO_RING];
};

void cam_au_clear(struct cam_au *au)
{
	if (au->buffer) {
		gst_buffer_unmap(au->buffer, &au->map);
		gst_buffer_unref(au->buffer);
	}
	memset(au, 0, sizeof(*au));
}

static bool have(const char *factory)
{
	g_autoptr(GstElementFactory) f = gst_element_factory_find(factory);

	return f != NULL;
}

const char *cam_encoder_choose(enum vc_encoder want, GError **error)
{
	if (!gst_is_initialized())
		gst_init(NULL, NULL);
	if (want == VC_ENCODER_AUTO) {
		/* the v4l2 plugin registers v4l2h264enc only when an M2M encoder exists */
		if (have("v4l2h264enc"))
			return "v4l2h264enc";
		want = VC_ENCODER_X264;
	}
	if (want == VC_ENCODER_V4L2) {
		if (have("v4l2h264enc"))
			return "v4l2h264enc";
		g_set_error(error, CAM_ERROR, CAM_ERROR_ENCODER,
			    "encoder v4l2: GStreamer element not available "
			    "(no V4L2 M2M H.264 encoder on this system)");
		return NULL;
	}
	if (have("x264enc"))
		return "x264enc";
	g_set_error(error, CAM_ERROR, CAM_ERROR_ENCODER,
		    "encoder x264: GStreamer element not available (gstreamer1.0-plugins-ugly)");
	return NULL;
}

bool cam_encoder_imports_dmabuf(const char *element)
{
	return element && !strcmp(element, "v4l2h264enc");
}

static GstElement *add(GstElement *bin, const char *factory, GError **error)
{
	GstElement *e = gst_element_factory_make(factory, NULL);

	if (!e) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_ENCODER,
			    "GStreamer element %s is not installed", factory);
		return NULL;
	}
	gst_bin_add(GST_BIN(bin), e);
	return e;
}

/* Does the encoder take @in as it is? */
static bool encoder_accepts(GstElement *enc, GstCaps *in)
{
	g_autoptr(GstPad) pad = gst_element_get_static_pad(enc, "sink");
	g_autoptr(GstCaps) tmpl = gst_pad_get_pad_template_caps(pad);

	return gst_caps_can_intersect(in, tmpl);
}

static bool pipeline_error(struct cam_encoder *enc, GError **error)
{
	g_autoptr(GstBus) bus = gst_element_get_bus(enc->pipeline);
	g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
	g_autoptr(GError) err = NULL;

	if (!msg)
		return false;
	gst_message_parse_error(msg, &err, NULL);
	g_set_error(error, CAM_ERROR, CAM_ERROR_ENCODER, "encoder %s: %s",
		    enc->element, err->message);
	return true;
}

void cam_encoder_x264_settings(GstElement *x264enc, unsigned idr, unsigned kbps)
{
	gst_util_set_object_arg(G_OBJECT(x264enc), "tune", "zerolatency");
	gst_util_set_object_arg(G_OBJECT(x264enc), "speed-preset", "ultrafast");
	g_object_set(x264enc, "bframes", 0u, "key-int-max", idr, "bitrate", kbps,
		     "b-adapt", FALSE, NULL);
}

struct cam_encoder *cam_encoder_new(const struct cam_encode_config *cfg,
				  const GstVideoInfo *in, GError **error)
{
	struct cam_encoder *enc = g_new0(struct cam_encoder, 1);
	GstElement *src, *h264, *parse, *outfilter, *sink, *first;
	g_autoptr(GstCaps) in_caps = gst_video_info_to_caps(in);
	g_autoptr(GstCaps) out_caps = NULL;
	unsigned fps = in->fps_d ? (unsigned)((in->fps_n + in->fps_d / 2) / in->fps_d) : 30;
	unsigned idr = cfg->idr_interval ? cfg->idr_interval : MAX(fps, 1u);
	unsigned kbps = cfg->bitrate_kbps ? cfg->bitrate_kbps : 2000;
	bool convert = false;

	enc->timeout_ms = cfg->timeout_ms ? cfg->timeout_ms : 1000;
	enc->frame_ns = in->fps_n ? gst_util_uint64_scale(GST_SECOND, in->fps_d, in->fps_n)
				  : GST_SECOND / 30;
	enc->element = cam_encoder_choose(cfg->encoder, error);
	if (!enc->element) {
		g_free(enc);
		return NULL;
	}
	enc->pipeline = gst_pipeline_new("encode");

	if (!(src = add(enc->pipeline, "appsrc", error)) ||
	    !(h264 = add(enc->pipeline, enc->element, error)) ||
	    !(parse = add(enc->pipeline, "h264parse", error)) ||
	    !(outfilter = add(enc->pipeline, "capsfilter", error)) ||
	    !(sink = add(enc->pipeline, "appsink", error)))
		goto fail;

	g_object_set(src, "caps", in_caps, "format", GST_FORMAT_TIME,
		     "is-live", FALSE, "do-timestamp", FALSE, "block", TRUE,
		     "max-buffers", (guint64)1, "max-bytes", (guint64)0, NULL);

	if (!strcmp(enc->element, "x264enc")) {
		enc->lag = LAG_X264;
		cam_encoder_x264_settings(h264, idr, kbps);
	} else {
		g_autofree char *ctrls = g_strdup_printf(
			"controls,video_gop_size=%u,h264_i_frame_period=%u,"
			"video_bitrate=%u,video_b_frames=0", idr, idr, kbps * 1000);
		g_autoptr(GstStructure) s = gst_structure_from_string(ctrls, NULL);

		enc->lag = LAG_V4L2;
		g_object_set(h264, "extra-controls", s, NULL);
		if (cfg->dmabuf_input)
			gst_util_set_object_arg(G_OBJECT(h264), "output-io-mode", "dmabuf-import");
	}
	g_object_set(parse, "config-interval", -1, NULL);
	out_caps = gst_caps_from_string("video/x-h264,stream-format=byte-stream,alignment=au");
	g_object_set(outfilter, "caps", out_caps, NULL);
	g_object_set(sink, "max-buffers", 1u, "drop", FALSE, "sync", FALSE,
		     "enable-last-sample", FALSE, NULL);

	first = h264;
	if (!encoder_accepts(h264, in_caps)) {
		GstElement *conv, *filter;
		g_autoptr(GstCaps) i420 = gst_caps_copy(in_caps);

		if (!(conv = add(enc->pipeline, "videoconvert", error)) ||
		    !(filter = add(enc->pipeline, "capsfilter", error)))
			goto fail;
		gst_caps_set_simple(i420, "format", G_TYPE_STRING, "I420", NULL);
		g_object_set(filter, "caps", i420, NULL);
		if (!gst_element_link_many(conv, filter, h264, NULL))
			goto nolink;
		first = conv;
		convert = true;
	}
	if (!gst_element_link(src, first) ||
	    !gst_element_link_many(h264, parse, outfilter, sink, NULL))
		goto nolink;

	enc->src = GST_APP_SRC(gst_object_ref(src));
	enc->sink = GST_APP_SINK(gst_object_ref(sink));
	enc->enc_src = gst_element_get_static_pad(h264, "src");
	if (gst_element_set_state(enc->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		if (!pipeline_error(enc, error))
			g_set_error(error, CAM_ERROR, CAM_ERROR_ENCODER,
				    "encoder %s: pipeline does not start", enc->element);
		cam_encoder_free(enc);
		return NULL;
	}
	g_message("encode: %s %dx%d@%d/%d %s%s, %u kbit/s, IDR every %u frames, input %s",
		  enc->element, in->width, in->height, in->fps_n, in->fps_d,
		  gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(in)),
		  convert ? " -> videoconvert I420 (1 copy per frame)" : " (taken as is)",
		  kbps, idr, cfg->dmabuf_input ? "dmabuf (zero-copy)" : "system memory");
	return enc;

nolink:
	g_set_error(error, CAM_ERROR, CAM_ERROR_ENCODER,
		    "encoder %s cannot take %s %dx%d@%d/%d", enc->element,
		    gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(in)),
		    in->width, in->height, in->fps_n, in->fps_d);
fail:
	gst_object_unref(enc->pipeline);
	g_free(enc);
	return NULL;
}

const char *cam_encoder_element(const struct cam_encoder *enc)
{
	return enc->element;
}

int cam_encode_frame(struct cam_encoder *enc, struct cam_frame *frame,
		    struct cam_au *au, GError **error)
{
	GstBuffer *buf = frame->buffer;
	GstClockTime pts = enc->pushed * enc->frame_ns;
	GstSample *sample;
	GstBuffer *out;
	GstClockTime running;
	unsigned slot = enc->pushed % INFO_RING;

	memset(au, 0, sizeof(*au));
	frame->buffer = NULL;
	buf = gst_buffer_make_writable(buf);
	GST_BUFFER_PTS(buf) = pts;
	GST_BUFFER_DTS(buf) = GST_CLOCK_TIME_NONE;
	GST_BUFFER_DURATION(buf) = enc->frame_ns;
	enc->ring[slot].pts = pts;
	enc->ring[slot].info = frame->info;

	if (gst_app_src_push_buffer(enc->src, buf) != GST_FLOW_OK) {
		if (!pipeline_error(enc, error))
			g_set_error(error, CAM_ERROR, CAM_ERROR_ENCODER,
				    "encoder %s: not accepting frames", enc->element);
		return -1;
	}
	enc->pushed++;

	sample = gst_app_sink_try_pull_sample(enc->sink,
		enc->pushed - enc->pulled > enc->lag ?
		(GstClockTime)enc->timeout_ms * GST_MSECOND : 0);
	if (!sample) {
		if (pipeline_error(enc, error))
			return -1;
		if (enc->pushed - enc->pulled > enc->lag) {
			g_set_error(error, CAM_ERROR, CAM_ERROR_TIMEOUT,
				    "encoder %s: no access unit within %u ms",
				    enc->element, enc->timeout_ms);
			return -1;
		}
		return 0;
	}
	enc->pulled++;

	out = gst_buffer_ref(gst_sample_get_buffer(sample));
	/* encoders may shift PTS (x264enc by 1000 h); running time is preserved */
	running = gst_segment_to_running_time(gst_sample_get_segment(sample),
					      GST_FORMAT_TIME, GST_BUFFER_PTS(out));
	gst_sample_unref(sample);
	if (!gst_buffer_map(out, &au->map, GST_MAP_READ)) {
		gst_buffer_unref(out);
		g_set_error(error, CAM_ERROR, CAM_ERROR_ENCODER, "encoder %s: cannot map AU",
			    enc->element);
		return -1;
	}
	au->buffer = out;
	au->data = au->map.data;
	au->size = au->map.size;
	au->idr = !GST_BUFFER_FLAG_IS_SET(out, GST_BUFFER_FLAG_DELTA_UNIT);
	for (unsigned i = 0; i < INFO_RING; i++) {
		if (enc->ring[i].pts == running) {
			au->info = enc->ring[i].info;
			return 1;
		}
	}
	cam_au_clear(au);
	g_set_error(error, CAM_ERROR, CAM_ERROR_ENCODER,
		    "encoder %s: access unit of no pending frame (running time %" GST_TIME_FORMAT ")",
		    enc->element, GST_TIME_ARGS(running));
	return -1;
}

void cam_encoder_force_keyframe(struct cam_encoder *enc)
{
	GstEvent *ev = gst_video_event_new_upstream_force_key_unit(
		GST_CLOCK_TIME_NONE, TRUE, (guint)g_atomic_int_add(&enc->keyunit_count, 1) + 1);

	gst_pad_send_event(enc->enc_src, ev);
}

void cam_encoder_free(struct cam_encoder *enc)
{
	if (!enc)
		return;
	gst_element_set_state(enc->pipeline, GST_STATE_NULL);
	gst_object_unref(enc->enc_src);
	gst_object_unref(enc->src);
	gst_object_unref(enc->sink);
	gst_object_unref(enc->pipeline);
	g_free(enc);
}
