// SPDX-License-Identifier: GPL-2.0-only
/*
 * veracam camera side: motion detection on the captured frames, one step
 * between capture and encode (camera.h, docs/ARCHITECTURE.md "Events on
 * the camera").
 *
 * Per frame: the luma plane is averaged down to a small grid with libyuv's
 * box filter (each cell the mean of its pixels, so a sensor's per-pixel
 * noise shrinks by the square root of the cell's pixel count), and each
 * cell is compared with a reference grid that follows the scene slowly (a
 * running mean, 1/4 of the difference per frame). The frame's mean
 * difference is taken out first, so an exposure or gain change of the
 * whole picture is no motion. A cell has changed when it differs from the
 * reference by more than the threshold; a frame has motion when at least
 * the minimum fraction of cells changed. Motion starts after
 * CAM_MOTION_START_FRAMES such frames in a row (at the first one's capture
 * time) and ends when no frame has had motion for the hold time (at the
 * last moving frame's capture time). Times are the frames' own capture
 * times, never the clock at analysis: the same frames give the same events.
 */
#include <stdlib.h>
#include <string.h>

#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>

#include "camera.h"

#define REF_SHIFT	2	/* the reference moves 1/4 of the way per frame */
#define FIX		8	/* reference in 8.8 fixed point */

struct cam_motion {
	struct cam_motion_config cfg;
	cam_motion_cb cb;
	void *cb_data;
	unsigned int cells;
	uint8_t *grid;		/* this frame, cfg.grid_w x cfg.grid_h */
	int32_t *ref;		/* the reference, << FIX */
	uint8_t *luma;		/* packed formats: the luma plane, extracted */
	size_t luma_cap;
	bool have_ref;
	unsigned int run;			/* frames with motion in a row */
	int64_t run_wall_ns;		/* the run's first frame */
	uint64_t last_mono_ns;			/* the last frame with motion */
	int64_t last_wall_ns;
	struct cam_motion_stats st;
};

static void emit(struct cam_motion *m, enum cam_motion_kind kind);

void cam_motion_config_default(struct cam_motion_config *cfg)
{
	cfg->enabled = true;
	cfg->grid_w = 64;
	cfg->grid_h = 36;
	cfg->threshold = 16;
	cfg->min_area_permille = 20;
	cfg->hold_ns = 2000000000ull;
}

struct cam_motion *cam_motion_new(const struct cam_motion_config *cfg, cam_motion_cb cb,
				  void *data)
{
	struct cam_motion *m;

	if (!cfg->grid_w || !cfg->grid_h || cfg->grid_w > 1024 || cfg->grid_h > 1024)
		return NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->cfg = *cfg;
	m->cb = cb;
	m->cb_data = data;
	m->cells = cfg->grid_w * cfg->grid_h;
	m->grid = malloc(m->cells);
	m->ref = malloc(m->cells * sizeof(*m->ref));
	if (!m->grid || !m->ref) {
		cam_motion_free(m);
		return NULL;
	}
	return m;
}

void cam_motion_free(struct cam_motion *m)
{
	if (!m)
		return;
	free(m->grid);
	free(m->ref);
	free(m->luma);
	free(m);
}

void cam_motion_reset(struct cam_motion *m)
{
	if (m->st.active) {
		/* the event ends at the last frame seen with motion */
		m->st.active = false;
		m->st.end_wall_ns = m->last_wall_ns;
		emit(m, CAM_MOTION_END);
	}
	m->have_ref = false;
	m->run = 0;
}

void cam_motion_get_stats(const struct cam_motion *m, struct cam_motion_stats *st)
{
	*st = m->st;
}

/* The frame's luma, averaged down to the grid. false: a format we do not read. */
static bool downscale(struct cam_motion *m, const GstVideoFrame *vf)
{
	int w = (int)GST_VIDEO_FRAME_WIDTH(vf), h = (int)GST_VIDEO_FRAME_HEIGHT(vf);
	const uint8_t *y = GST_VIDEO_FRAME_PLANE_DATA(vf, 0);
	int stride = GST_VIDEO_FRAME_PLANE_STRIDE(vf, 0);

	switch (GST_VIDEO_FRAME_FORMAT(vf)) {
	case GST_VIDEO_FORMAT_NV12:
	case GST_VIDEO_FORMAT_NV21:
	case GST_VIDEO_FORMAT_I420:
	case GST_VIDEO_FORMAT_YV12:
	case GST_VIDEO_FORMAT_GRAY8:
		break;
	case GST_VIDEO_FORMAT_YUY2:
	case GST_VIDEO_FORMAT_UYVY: {
		size_t need = (size_t)w * (size_t)h;

		if (need > m->luma_cap) {
			uint8_t *p = realloc(m->luma, need);

			if (!p)
				return false;
			m->luma = p;
			m->luma_cap = need;
		}
		if (GST_VIDEO_FRAME_FORMAT(vf) == GST_VIDEO_FORMAT_YUY2)
			YUY2ToY(y, stride, m->luma, w, w, h);
		else
			UYVYToY(y, stride, m->luma, w, w, h);
		y = m->luma;
		stride = w;
		break;
	}
	default:
		return false;
	}
	ScalePlane(y, stride, w, h, m->grid, (int)m->cfg.grid_w, (int)m->cfg.grid_w,
		   (int)m->cfg.grid_h, kFilterBox);
	return true;
}

/* Cells differing from the reference by more than the threshold; the reference follows. */
static unsigned int changed_cells(struct cam_motion *m)
{
	int64_t sum = 0;
	int32_t mean, thr = (int32_t)m->cfg.threshold << FIX;
	unsigned int i, changed = 0;

	for (i = 0; i < m->cells; i++)
		sum += ((int32_t)m->grid[i] << FIX) - m->ref[i];
	mean = (int32_t)(sum / (int64_t)m->cells);
	for (i = 0; i < m->cells; i++) {
		int32_t d = ((int32_t)m->grid[i] << FIX) - m->ref[i];

		changed += abs(d - mean) > thr;
		m->ref[i] += d / (1 << REF_SHIFT);
	}
	return changed;
}

static void emit(struct cam_motion *m, enum cam_motion_kind kind)
{
	struct cam_motion_event ev = {
		.kind = kind,
		.start_wall_ns = m->st.start_wall_ns,
		.end_wall_ns = kind == CAM_MOTION_END ? m->last_wall_ns : 0,
		.number = m->st.events,
	};

	if (m->cb)
		m->cb(m->cb_data, &ev);
}

void cam_motion_frame(struct cam_motion *m, const GstVideoFrame *vf,
		      const struct cam_frame_info *info)
{
	unsigned int changed;
	bool moving;

	m->st.frames++;
	if (!m->cfg.enabled)
		return;
	if (!downscale(m, vf)) {
		m->st.unreadable++;
		return;
	}
	m->st.analysed++;
	if (!m->have_ref) {
		for (unsigned int i = 0; i < m->cells; i++)
			m->ref[i] = (int32_t)m->grid[i] << FIX;
		m->have_ref = true;
		return;
	}
	changed = changed_cells(m);
	m->st.last_changed_permille = changed * 1000u / m->cells;
	moving = m->st.last_changed_permille >= m->cfg.min_area_permille;
	if (moving) {
		m->st.moving_frames++;
		if (!m->run++)
			m->run_wall_ns = info->wall_ns;
		m->last_mono_ns = info->mono_ns;
		m->last_wall_ns = info->wall_ns;
	} else {
		m->run = 0;
	}
	if (!m->st.active && m->run >= CAM_MOTION_START_FRAMES) {
		m->st.active = true;
		m->st.events++;
		m->st.start_wall_ns = m->run_wall_ns;
		m->st.end_wall_ns = 0;
		emit(m, CAM_MOTION_START);
	} else if (m->st.active && !moving && info->mono_ns >= m->last_mono_ns &&
		   info->mono_ns - m->last_mono_ns >= m->cfg.hold_ns) {
		m->st.active = false;
		m->st.end_wall_ns = m->last_wall_ns;
		emit(m, CAM_MOTION_END);
	}
}
