// SPDX-License-Identifier: GPL-2.0
/*
 * pump.c - the camera role's media thread (role.h): capture -> timestamp
 * -> motion -> encode, each AU with its counters to the loop through a
 * newest-wins mailbox; the device reopened with backoff when it fails.
 */
#include "role.h"

/* ------------------------------------------------------------------ */
/* Media thread: capture -> timestamp -> encode                          */
/* ------------------------------------------------------------------ */

void pump_au_clear(void *item)
{
	cam_au_clear(&((struct media_au *)item)->au);
}

static void media_state(struct camera_role *cr, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void media_state(struct camera_role *cr, const char *fmt, ...)
{
	struct media_state st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st.text, sizeof(st.text), fmt, ap);
	va_end(ap);
	svc_mailbox_post(cr->state_box, &st);
}

static bool media_stopping(struct camera_role *cr)
{
	bool stop;

	pthread_mutex_lock(&cr->lock);
	stop = cr->stop;
	pthread_mutex_unlock(&cr->lock);
	return stop;
}

/*
 * The motion detector's events (media thread): kept for the loop thread,
 * which logs them; the status shows the counters and the last event.
 */
void pump_on_motion(void *data, const struct cam_motion_event *ev)
{
	struct camera_role *cr = data;

	if (cr->recorder && ev->kind == CAM_MOTION_START)
		cam_recorder_trigger(cr->recorder, VC_TRIGGER_MOTION);
	else if (cr->recorder)
		cam_recorder_release(cr->recorder);
	pthread_mutex_lock(&cr->lock);
	if (cr->n_motion_log < G_N_ELEMENTS(cr->motion_log))
		cr->motion_log[cr->n_motion_log++] = *ev;
	else
		cr->motion_log_lost++;
	pthread_mutex_unlock(&cr->lock);
}

/*
 * One captured frame through the detector (the step between capture and
 * encode); the recorder sees it too (it copies one when an event has just
 * started: the thumbnail).
 */
static void media_motion(struct camera_role *cr, struct cam_capture *cap,
			 const struct cam_frame *frame)
{
	GstVideoFrame vf;

	if (!cr->motion && !cr->recorder)
		return;
	if (gst_video_frame_map(&vf, cam_capture_video_info(cap), frame->buffer, GST_MAP_READ)) {
		if (cr->motion)
			cam_motion_frame(cr->motion, &vf, &frame->info);
		if (cr->recorder)
			cam_recorder_frame(cr->recorder, &vf);
		gst_video_frame_unmap(&vf);
	}
}

/* Stream until the device fails (the error is returned) or we stop (NULL). */
static GError *media_stream(struct camera_role *cr, struct cam_capture *cap,
			    struct cam_encoder *enc, uint64_t *captured)
{
	const char *stable = cam_capture_identity(cap)->stable;
	struct cam_capture_stats cs;
	GError *err = NULL;

	for (;;) {
		struct cam_frame frame = { 0 };
		struct media_au m = { 0 };
		bool idr;
		int n;

		if (!cam_capture_next(cap, &frame, &err))
			return err;
		cam_capture_get_stats(cap, &cs);
		media_motion(cr, cap, &frame);
		++*captured;
		pthread_mutex_lock(&cr->lock);
		idr = cr->want_idr;
		cr->want_idr = false;
		if (cr->stop) {
			pthread_mutex_unlock(&cr->lock);
			cam_frame_clear(&frame);
			return NULL;
		}
		pthread_mutex_unlock(&cr->lock);
		if (idr)
			cam_encoder_force_keyframe(enc);
		n = cam_encode_frame(enc, &frame, &m.au, &err);
		cam_frame_clear(&frame);
		if (n < 0)
			return err;
		if (!n)
			continue;
		if (cr->recorder)	/* a copy: the live AU goes on as before */
			cam_recorder_au(cr->recorder, &m.au, stable);
		g_strlcpy(m.source, stable, sizeof(m.source));
		g_strlcpy(m.encoder, cam_encoder_element(enc), sizeof(m.encoder));
		m.captured = *captured;
		m.gaps = cs.lost;
		if (cr->motion)
			cam_motion_get_stats(cr->motion, &m.motion);
		svc_mailbox_post(cr->media_box, &m);
	}
}

void pump_run(void *arg)
{
	struct camera_role *cr = arg;
	const struct svc_camera_config *c = cr->cfg;
	struct cam_capture_config capcfg = {
		.source = c->source,
		.name = c->name,
		.width = c->width,
		.height = c->height,
		.fps_n = c->fps,
		.fps_d = 1,
	};
	struct cam_encode_config enccfg = {
		.encoder = c->encoder,
		.bitrate_kbps = c->bitrate / 1000,
		.idr_interval = (unsigned int)(c->idr_interval_ns * c->fps / 1000000000ull),
	};
	unsigned int retry_ms = RETRY_MIN_MS;
	uint64_t captured = 0;

	if (!enccfg.idr_interval)
		enccfg.idr_interval = 1;
	while (!media_stopping(cr)) {
		GError *err = NULL;
		struct cam_capture *cap = cam_capture_open(&capcfg, &err);
		struct cam_encoder *enc = NULL;
		const char *element = NULL;
		struct timespec until;

		if (cap)
			element = cam_encoder_choose(enccfg.encoder, &err);
		if (element) {
			enccfg.dmabuf_input = cam_capture_use_dmabuf(cap,
					cam_encoder_imports_dmabuf(element));
			enc = cam_encoder_new(&enccfg, cam_capture_video_info(cap), &err);
		}
		if (enc && cr->motion)
			cam_motion_reset(cr->motion);	/* another device, or the same reopened */
		if (enc && cr->recorder)
			cam_recorder_restart(cr->recorder);	/* no clip across the break */
		if (enc) {
			const struct cam_identity *id = cam_capture_identity(cap);

			media_state(cr, "capturing %s (%s, bus %s), encoder %s, %s path",
				    id->stable, id->card, id->bus_info, cam_encoder_element(enc),
				    enccfg.dmabuf_input ? "dmabuf zero-copy" : "copy");
			retry_ms = RETRY_MIN_MS;
			err = media_stream(cr, cap, enc, &captured);
		}
		cam_encoder_free(enc);
		if (cap)
			cam_capture_close(cap);
		if (!err)
			break;
		media_state(cr, "camera unavailable: %s; retrying in %u ms", err->message,
			    retry_ms);
		g_error_free(err);

		until = clk_mono_after((uint64_t)retry_ms * 1000000u);
		pthread_mutex_lock(&cr->lock);
		while (!cr->stop && pthread_cond_timedwait(&cr->cond, &cr->lock, &until) == 0)
			;
		pthread_mutex_unlock(&cr->lock);
		retry_ms = MIN(retry_ms * 2, RETRY_MAX_MS);
	}
}

/* The media job ends only when teardown stops it: anything else is a bug. */
void pump_ended(void *arg)
{
	struct camera_role *cr = arg;

	cr->media = NULL;
	svc_log(LOG_ERR, "media thread ended while the camera was running");
	svc_loop_quit(cr->s->loop, EXIT_FAILURE);
}

void pump_request_idr(struct camera_role *cr)
{
	pthread_mutex_lock(&cr->lock);
	cr->want_idr = true;
	pthread_mutex_unlock(&cr->lock);
}

