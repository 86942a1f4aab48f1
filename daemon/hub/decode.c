// SPDX-License-Identifier: GPL-2.0
/*
 * decode - H.264 access units in, newest decoded frame out (decode.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "decode.h"
#include "errmsg.h"

/* Hardware (V4L2 stateful M2M) first, then libav. */
static const char *const decoder_names[] = { "v4l2h264dec", "avdec_h264" };

struct decode {
	GstElement *pipeline;
	GstAppSrc *src;
	GstBus *bus;
	const char *decoder;
	bool wait_idr;
	int efd;
	GMutex lock;		/* slot, stats.decoded/dropped_late, efd */
	GstSample *slot;	/* newest decoded frame, not yet taken */
	struct decode_stats st;
	/* the caller's thread only: each queued AU's times, by PTS */
	struct {
		uint64_t pts, capture_ns, show_until_ns;
	} ring[DECODE_RING];
	unsigned int ring_next;
	uint64_t last_pts;
};

struct mapped {
	GstSample *sample;
	GstVideoFrame frame;
};

/* Streaming thread: keep only the newest frame. */
static GstFlowReturn on_sample(GstAppSink *sink, gpointer data)
{
	struct decode *d = data;
	GstSample *s = gst_app_sink_pull_sample(sink);
	uint64_t one = 1;

	if (!s)
		return GST_FLOW_OK;
	g_mutex_lock(&d->lock);
	if (d->slot) {
		gst_sample_unref(d->slot);
		d->st.dropped_late++;
	}
	d->slot = s;
	d->st.decoded++;
	if (write(d->efd, &one, sizeof(one)) != sizeof(one))
		d->st.errors++;	/* cannot happen below 2^64 - 1 writes */
	g_mutex_unlock(&d->lock);
	return GST_FLOW_OK;
}

static void drain_efd(struct decode *d)
{
	uint64_t n;

	if (read(d->efd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		d->st.errors++;
}

static bool has_property(GstElement *e, const char *name)
{
	return g_object_class_find_property(G_OBJECT_GET_CLASS(e), name);
}

static GstElement *make_decoder(const char **name)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(decoder_names); i++) {
		GstElement *e = gst_element_factory_make(decoder_names[i], NULL);

		if (!e)
			continue;
		*name = decoder_names[i];
		/* never show what the decoder concealed */
		if (has_property(e, "discard-corrupted-frames"))
			g_object_set(e, "discard-corrupted-frames", TRUE, NULL);
		if (has_property(e, "output-corrupt"))
			g_object_set(e, "output-corrupt", FALSE, NULL);
		/* frame threading holds frames back; slices do not */
		if (has_property(e, "thread-type"))
			gst_util_set_object_arg(G_OBJECT(e), "thread-type", "slice");
		return e;
	}
	return NULL;
}

static int build(struct decode *d, char *err, size_t errlen)
{
	GstAppSinkCallbacks cb = { .new_sample = on_sample };
	GstElement *src, *parse, *dec, *sink;
	GstCaps *caps;

	d->pipeline = gst_pipeline_new("veracam-decode");
	src = gst_element_factory_make("appsrc", NULL);
	parse = gst_element_factory_make("h264parse", NULL);
	dec = make_decoder(&d->decoder);
	sink = gst_element_factory_make("appsink", NULL);
	if (!d->pipeline || !src || !parse || !dec || !sink) {
		errmsg(err, errlen, "GStreamer elements missing (%s%s%s%s)",
			src ? "" : "appsrc ", parse ? "" : "h264parse ",
			dec ? "" : "avdec_h264 ", sink ? "" : "appsink");
		if (src)
			gst_object_unref(src);
		if (parse)
			gst_object_unref(parse);
		if (dec)
			gst_object_unref(dec);
		if (sink)
			gst_object_unref(sink);
		return -ENOENT;
	}
	gst_bin_add_many(GST_BIN(d->pipeline), src, parse, dec, sink, NULL);
	if (!gst_element_link_many(src, parse, dec, sink, NULL)) {
		errmsg(err, errlen, "cannot link appsrc ! h264parse ! %s ! appsink",
			d->decoder);
		return -EINVAL;
	}

	d->src = GST_APP_SRC(src);
	caps = gst_caps_from_string("video/x-h264, stream-format=byte-stream, alignment=au");
	g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME,
		     "is-live", TRUE, "block", FALSE, NULL);
	gst_caps_unref(caps);

	caps = gst_caps_from_string("video/x-raw, format={ I420, NV12 }");
	g_object_set(sink, "caps", caps, "sync", FALSE, "max-buffers", 1u,
		     "drop", TRUE, "enable-last-sample", FALSE, NULL);
	gst_caps_unref(caps);
	gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, d, NULL);

	d->bus = gst_element_get_bus(d->pipeline);
	if (gst_element_set_state(d->pipeline, GST_STATE_PLAYING) ==
	    GST_STATE_CHANGE_FAILURE) {
		errmsg(err, errlen, "decoder pipeline does not start");
		return -EIO;
	}
	return 0;
}

struct decode *decode_new(char *err, size_t errlen)
{
	GError *gerr = NULL;
	struct decode *d;

	if (!gst_init_check(NULL, NULL, &gerr)) {
		errmsg(err, errlen, "GStreamer: %s", gerr ? gerr->message : "init failed");
		g_clear_error(&gerr);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		errmsg(err, errlen, "out of memory");
		return NULL;
	}
	g_mutex_init(&d->lock);
	d->wait_idr = true;
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->efd < 0) {
		errmsg(err, errlen, "eventfd: %s", strerror(errno));
		decode_free(d);
		return NULL;
	}
	if (build(d, err, errlen)) {
		decode_free(d);
		return NULL;
	}
	return d;
}

/*
 * Stop the pipeline (appsrc drops its queue, the decoder its state, the
 * streaming thread is joined), drop the waiting frame, start again.
 */
void decode_reset(struct decode *d)
{
	gst_element_set_state(d->pipeline, GST_STATE_NULL);
	gst_bus_set_flushing(d->bus, TRUE);
	gst_bus_set_flushing(d->bus, FALSE);
	g_mutex_lock(&d->lock);
	if (d->slot) {
		gst_sample_unref(d->slot);
		d->slot = NULL;
	}
	drain_efd(d);
	g_mutex_unlock(&d->lock);
	d->wait_idr = true;
	d->st.resets++;
	gst_element_set_state(d->pipeline, GST_STATE_PLAYING);
}

/* A decoder error resets it: fail closed, resume at the next IDR. */
static int check_bus(struct decode *d)
{
	GstMessage *m = gst_bus_pop_filtered(d->bus, GST_MESSAGE_ERROR);

	if (!m)
		return 0;
	gst_message_unref(m);
	d->st.errors++;
	decode_reset(d);
	return -EIO;
}

/* A PTS of the hub's CLOCK_MONOTONIC, later than every one before it. */
static uint64_t next_pts(struct decode *d)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	d->last_pts = now > d->last_pts ? now : d->last_pts + 1;
	return d->last_pts;
}

int decode_au(struct decode *d, const void *au, size_t len,
	      uint64_t capture_ns, uint64_t show_until_ns, bool idr)
{
	unsigned int slot;
	GstBuffer *buf;
	guint64 queued;

	if (check_bus(d))
		return -EIO;
	if (!len)
		return -EINVAL;
	queued = gst_app_src_get_current_level_buffers(d->src);
	if (queued >= DECODE_BACKLOG) {
		if (!idr) {
			d->st.dropped_backlog++;
			d->wait_idr = true;
			return -EAGAIN;
		}
		/* an IDR starts afresh: drop what is queued, decode this */
		d->st.dropped_backlog += queued;
		decode_reset(d);
	}
	if (d->wait_idr && !idr) {
		d->st.dropped_wait_idr++;
		return -EAGAIN;
	}
	d->wait_idr = false;

	buf = gst_buffer_new_memdup(au, len);
	slot = d->ring_next++ % DECODE_RING;
	d->ring[slot].pts = next_pts(d);
	d->ring[slot].capture_ns = capture_ns;
	d->ring[slot].show_until_ns = show_until_ns;
	GST_BUFFER_PTS(buf) = d->ring[slot].pts;
	if (!idr)
		GST_BUFFER_FLAG_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);
	if (gst_app_src_push_buffer(d->src, buf) != GST_FLOW_OK) {
		d->st.errors++;
		decode_reset(d);
		return -EIO;
	}
	d->st.pushed++;
	return 0;
}

/* The times its AU was queued with, newest first; false if no longer kept. */
static bool ring_find(const struct decode *d, uint64_t pts, struct hub_picture *pic)
{
	for (unsigned int k = 1; k <= DECODE_RING && k <= d->ring_next; k++) {
		unsigned int i = (d->ring_next - k) % DECODE_RING;

		if (d->ring[i].pts == pts) {
			pic->capture_ns = d->ring[i].capture_ns;
			pic->show_until_ns = d->ring[i].show_until_ns;
			return true;
		}
	}
	return false;
}

static void decode_release(struct hub_picture *pic)
{
	struct mapped *m = pic->priv;

	if (!m)
		return;
	gst_video_frame_unmap(&m->frame);
	gst_sample_unref(m->sample);
	free(m);
	memset(pic, 0, sizeof(*pic));
}

int decode_take(struct decode *d, struct hub_picture *pic)
{
	struct mapped *m;
	GstVideoInfo info;
	GstSample *s;
	GstBuffer *b;

	if (check_bus(d))
		return -EIO;
	g_mutex_lock(&d->lock);
	s = d->slot;
	d->slot = NULL;
	drain_efd(d);
	g_mutex_unlock(&d->lock);
	if (!s)
		return 0;

	m = calloc(1, sizeof(*m));
	b = gst_sample_get_buffer(s);
	if (!m || !b || !gst_video_info_from_caps(&info, gst_sample_get_caps(s)) ||
	    !gst_video_frame_map(&m->frame, &info, b, GST_MAP_READ)) {
		free(m);
		gst_sample_unref(s);
		d->st.errors++;
		return -EIO;
	}
	m->sample = s;
	memset(pic, 0, sizeof(*pic));
	pic->format = GST_VIDEO_INFO_FORMAT(&info) == GST_VIDEO_FORMAT_NV12 ?
		      HUB_PIX_NV12 : HUB_PIX_I420;
	pic->matrix = info.colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_BT709 ?
		      HUB_MATRIX_BT709 : HUB_MATRIX_BT601;
	pic->full_range = info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
	pic->width = (unsigned int)GST_VIDEO_INFO_WIDTH(&info);
	pic->height = (unsigned int)GST_VIDEO_INFO_HEIGHT(&info);
	for (unsigned int i = 0; i < GST_VIDEO_FRAME_N_PLANES(&m->frame) && i < 3; i++) {
		pic->plane[i] = GST_VIDEO_FRAME_PLANE_DATA(&m->frame, i);
		pic->stride[i] = (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(&m->frame, i);
	}
	pic->priv = m;
	pic->release = decode_release;
	if (!ring_find(d, GST_BUFFER_PTS(b), pic))
		d->st.unmatched++;
	d->st.taken++;
	return 1;
}

int decode_fd(const struct decode *d)
{
	return d->efd;
}

const char *decode_decoder(const struct decode *d)
{
	return d->decoder;
}

void decode_get_stats(struct decode *d, struct decode_stats *st)
{
	g_mutex_lock(&d->lock);
	*st = d->st;
	g_mutex_unlock(&d->lock);
}

void decode_free(struct decode *d)
{
	if (!d)
		return;
	if (d->pipeline) {
		gst_element_set_state(d->pipeline, GST_STATE_NULL);
		gst_object_unref(d->pipeline);
	}
	if (d->bus)
		gst_object_unref(d->bus);
	if (d->slot)
		gst_sample_unref(d->slot);
	if (d->efd >= 0)
		close(d->efd);
	g_mutex_clear(&d->lock);
	free(d);
}
