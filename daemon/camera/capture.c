// SPDX-License-Identifier: GPL-2.0-only
/*
 * capture.c - one capture interface over both sources (V4L2, pattern):
 * choose the source, then per frame add what is common: the wall-clock
 * capture time and the sequence gap accounting.
 */
#include <string.h>

#include "capture-int.h"

void cam_frame_clear(struct cam_frame *frame)
{
	if (frame->buffer)
		gst_buffer_unref(frame->buffer);
	memset(frame, 0, sizeof(*frame));
}

void cam_identity_finish(struct cam_identity *id)
{
	if (id->has_unique_id) {
		for (int i = 0; i < VERACAM_UNIQUE_ID_LEN; i++)
			g_snprintf(id->unique_id_hex + 2 * i, 3, "%02x", id->unique_id[i]);
		g_snprintf(id->stable, sizeof(id->stable), "id:%s", id->unique_id_hex);
		id->camera_tag = (uint32_t)id->unique_id[0] << 24 |
				 (uint32_t)id->unique_id[1] << 16 |
				 (uint32_t)id->unique_id[2] << 8 | id->unique_id[3];
	} else {
		g_snprintf(id->stable, sizeof(id->stable), "bus:%s;serial:%s",
			   id->bus_info, id->serial);
		id->camera_tag = 0;
	}
}

struct cam_capture *cam_capture_ref(struct cam_capture *cap)
{
	g_atomic_int_inc(&cap->refs);
	return cap;
}

void cam_capture_unref(struct cam_capture *cap)
{
	if (!g_atomic_int_dec_and_test(&cap->refs))
		return;
	cap->ops->free(cap);
	g_free(cap->name);
	g_free(cap);
}

struct cam_capture *cam_capture_open(const struct cam_capture_config *cfg, GError **error)
{
	struct cam_capture *cap = g_new0(struct cam_capture, 1);
	bool ok;

	cap->refs = 1;
	cap->cfg = *cfg;
	cap->name = g_strdup(cfg->name && *cfg->name ? cfg->name : "camera");
	cap->cfg.name = cap->name;
	cap->cfg.source = NULL;
	if (!cap->cfg.width || !cap->cfg.height) {
		cap->cfg.width = 1280;
		cap->cfg.height = 720;
	}
	if (!cap->cfg.fps_n || !cap->cfg.fps_d) {
		cap->cfg.fps_n = 30;
		cap->cfg.fps_d = 1;
	}
	if (!cap->cfg.buffers)
		cap->cfg.buffers = 4;
	if (!cap->cfg.meta_wait_ms)
		cap->cfg.meta_wait_ms = 5;
	if (!cap->cfg.timeout_ms)
		cap->cfg.timeout_ms = 2000;
	clk_map_init(&cap->clock, CLK_REMEASURE_NS);

	if (!cam_source_parse(cfg->source, &cap->src, error)) {
		g_free(cap->name);
		g_free(cap);
		return NULL;
	}
	if (cap->src.kind == CAM_SOURCE_PATTERN)
		ok = cam_pattern_open(cap, error);
	else
		ok = cam_v4l2_open(cap, error);
	if (!ok) {
		g_free(cap->name);
		g_free(cap);
		return NULL;
	}
	cam_identity_finish(&cap->id);
	return cap;
}

const GstVideoInfo *cam_capture_video_info(const struct cam_capture *cap)
{
	return &cap->info;
}

const struct cam_identity *cam_capture_identity(const struct cam_capture *cap)
{
	return &cap->id;
}

bool cam_capture_use_dmabuf(struct cam_capture *cap, bool encoder_imports)
{
	return cap->ops->use_dmabuf && cap->ops->use_dmabuf(cap, encoder_imports);
}

bool cam_capture_next(struct cam_capture *cap, struct cam_frame *frame, GError **error)
{
	struct cam_frame_info *fi = &frame->info;

	memset(frame, 0, sizeof(*frame));
	if (!cap->ops->next(cap, frame, error))
		return false;

	if (cap->have_seq) {
		int32_t d = (int32_t)(fi->sequence - cap->last_seq);

		fi->lost_before = d > 1 ? (uint32_t)(d - 1) : 0;
		cap->stats.lost += fi->lost_before;
	}
	cap->have_seq = true;
	cap->last_seq = fi->sequence;
	cap->stats.frames++;

	fi->wall_ns = clk_map_to_real(&cap->clock, fi->mono_ns);
	return true;
}

void cam_capture_get_stats(const struct cam_capture *cap, struct cam_capture_stats *st)
{
	*st = cap->stats;
	st->clock_measurements = cap->clock.measurements;
	st->clock_steps = cap->clock.steps;
	st->clock_clamped = cap->clock.clamped;
	st->clock_bracket_ns = cap->clock.bracket_ns;
}

void cam_capture_close(struct cam_capture *cap)
{
	if (!cap)
		return;
	cap->ops->stop(cap);
	cam_capture_unref(cap);
}
