// SPDX-License-Identifier: GPL-2.0
/*
 * display - compose the hub's screen from per-camera cells and hand it to
 * the output (kms.c or y4m.c), fail-closed.
 *
 * A cell is private XRGB8888 memory of exactly the cell's size. It is
 * written only by display_show() of its own camera (the frame converted
 * from YCbCr and scaled in one pass, the letterbox painted black, the
 * badge on top) or by its unavailable screen. The cells tile the screen
 * without gaps, so composing copies every pixel of the output buffer from
 * a cell: nothing that was in a buffer before survives into the next
 * commit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "canvas.h"
#include "display.h"
#include "errmsg.h"
#include "font.h"
#include "kms.h"
#include "y4m.h"

#define COLOUR_BLACK		0x00000000u
#define COLOUR_WHITE		0x00ffffffu
#define COLOUR_BADGE		0x00106a2cu
#define COLOUR_UNAVAIL_BG	0x001c1c24u
#define COLOUR_UNAVAIL_FG	0x00f0a000u

#define TICK_MAX_MS		250	/* output checks (unplug, master) */
#define BADGE_MAX		96

enum cell_state {
	CELL_EMPTY,		/* grid slot without a camera: black */
	CELL_FRAME,		/* the newest verified frame of this camera */
	CELL_UNAVAILABLE,
};

struct cell {
	enum cell_state state;
	enum hub_unavailable why;
	char name[64];
	uint64_t shown_ns;	/* CLOCK_MONOTONIC of the last frame */
	uint64_t until_ns;	/* CLOCK_MONOTONIC: the frame's show-until (0: none) */
	uint64_t capture_ns;	/* of the frame drawn in the cell, 0 if none */
	unsigned int x, y;	/* position on screen */
	struct canvas img;	/* private pixels of this cell */
	uint32_t *xmap;		/* scaler scratch, one entry per column */
};

enum buf_state { BUF_FREE, BUF_PENDING, BUF_SCANOUT };

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct display {
	void *out;
	const struct output_ops *ops;
	struct output_mode mode;
	enum buf_state buf[OUTPUT_BUFFERS];
	bool active;		/* the output can show something */
	bool dirty;		/* cells changed since the last commit */
	int pending;		/* buffer of the commit in flight, or -1 */
	/* capture time of the frame each cell of each buffer holds (0: none) */
	uint64_t buf_capture[OUTPUT_BUFFERS][DISPLAY_MAX_CAMERAS];
	unsigned int ncams;	/* cameras */
	unsigned int ncells;	/* 1 or 4 */
	unsigned int lw, lh;	/* screen size the cells were cut for */
	struct cell cell[DISPLAY_MAX_CAMERAS];
	uint64_t stale_ns;
	struct display_stats st;
};

uint64_t display_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- YCbCr 4:2:0 -> XRGB8888, scaled to fit, in one pass ---- */

struct yuv_coef {
	int y_off, y_mul;	/* 8.8 fixed point */
	int rv, gu, gv, bu;
};

static const struct yuv_coef coef_table[2][2] = {
	/* [matrix][full_range] */
	[HUB_MATRIX_BT601] = {
		{ 16, 298, 409, 100, 208, 516 },
		{ 0, 256, 359, 88, 183, 454 },
	},
	[HUB_MATRIX_BT709] = {
		{ 16, 298, 459, 55, 136, 541 },
		{ 0, 256, 403, 48, 120, 475 },
	},
};

static inline uint32_t clamp8(int v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (uint32_t)v;
}

/* Per-frame lookup tables: a pixel costs loads and adds, no multiplies. */
struct yuv_lut {
	int y[256];		/* (Y - y_off) * y_mul + rounding */
	int rv[256], gu[256], gv[256], bu[256];
};

static void build_lut(struct yuv_lut *t, const struct yuv_coef *k)
{
	int i;

	for (i = 0; i < 256; i++) {
		t->y[i] = (i - k->y_off) * k->y_mul + 128;
		t->rv[i] = k->rv * (i - 128);
		t->gu[i] = -k->gu * (i - 128);
		t->gv[i] = -k->gv * (i - 128);
		t->bu[i] = k->bu * (i - 128);
	}
}

/* One output pixel: luma term plus the chroma terms of its sample. */
static inline uint32_t xrgb(int c, int cr, int cg, int cb)
{
	return clamp8((c + cr) >> 8) << 16 | clamp8((c + cg) >> 8) << 8 |
	       clamp8((c + cb) >> 8);
}

/*
 * Nearest-neighbour scale of @p into the dw x dh rectangle at (dx, dy).
 * Neighbouring output pixels mostly share a chroma sample: its terms are
 * looked up once per sample.
 */
static void convert_scaled(const struct hub_picture *p, struct cell *cl,
			   unsigned int dx, unsigned int dy,
			   unsigned int dw, unsigned int dh)
{
	bool nv12 = p->format == HUB_PIX_NV12;
	struct yuv_lut t;
	unsigned int i, j;

	build_lut(&t, &coef_table[p->matrix][p->full_range]);
	for (i = 0; i < dw; i++)
		cl->xmap[i] = (uint32_t)(((2ull * i + 1) * p->width) / (2ull * dw));
	for (j = 0; j < dh; j++) {
		unsigned int sy = (unsigned int)(((2ull * j + 1) * p->height) / (2ull * dh));
		const uint8_t *yr = p->plane[0] + (size_t)sy * p->stride[0];
		const uint8_t *ur = p->plane[1] + (size_t)(sy / 2) * p->stride[1];
		const uint8_t *vr = nv12 ? ur + 1 :
				    p->plane[2] + (size_t)(sy / 2) * p->stride[2];
		unsigned int step = nv12 ? 2 : 1;
		uint32_t *o = cl->img.px + (size_t)(dy + j) * cl->img.stride + dx;
		uint32_t last = UINT32_MAX;
		int cr = 0, cg = 0, cb = 0;

		for (i = 0; i < dw; i++) {
			uint32_t sx = cl->xmap[i], cx = sx / 2 * step;

			if (cx != last) {
				uint8_t u = ur[cx], v = vr[cx];

				cr = t.rv[v];
				cg = t.gu[u] + t.gv[v];
				cb = t.bu[u];
				last = cx;
			}
			o[i] = xrgb(t.y[yr[sx]], cr, cg, cb);
		}
	}
}

static bool picture_valid(const struct hub_picture *p)
{
	size_t cw;

	if (!p || !p->width || !p->height || !p->plane[0] || !p->plane[1] ||
	    p->width > 16384 || p->height > 16384 ||
	    (unsigned int)p->matrix > HUB_MATRIX_BT709)
		return false;
	cw = (p->width + 1) / 2;
	if (p->stride[0] < p->width)
		return false;
	if (p->format == HUB_PIX_NV12)
		return p->stride[1] >= 2 * cw;
	return p->format == HUB_PIX_I420 && p->plane[2] &&
	       p->stride[1] >= cw && p->stride[2] >= cw;
}

/* ---- cell rendering ---- */

static void draw_badge(struct cell *cl, const struct hub_picture *p,
		       unsigned int fx, unsigned int fy, unsigned int fw,
		       unsigned int fh)
{
	unsigned int scale = cl->img.width >= 640 ? 2 : 1;
	unsigned int pad = 3 * scale, fit;
	time_t secs = (time_t)(p->capture_ns / 1000000000ull);
	unsigned int ms = (unsigned int)(p->capture_ns % 1000000000ull / 1000000u);
	char text[BADGE_MAX];
	struct tm tm;
	size_t len;
	int n;

	if (!gmtime_r(&secs, &tm))
		memset(&tm, 0, sizeof(tm));
	n = snprintf(text, sizeof(text), "VERIFIED %s %02d:%02d:%02d.%03u",
		     cl->name, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	len = n < 0 ? 0 : (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
	if (fw <= 2 * pad || fh <= FONT_LINE * scale + 2 * pad)
		return;
	fit = (fw - 2 * pad) / (FONT_ADVANCE * scale);
	if (len > fit)
		len = fit;
	canvas_fill(&cl->img, (int)(fx + pad), (int)(fy + fh - pad - FONT_LINE * scale),
		    (int)(font_width(len, scale) + 2 * scale),
		    (int)(FONT_LINE * scale), COLOUR_BADGE);
	font_draw(&cl->img, (int)(fx + pad + scale),
		  (int)(fy + fh - pad - FONT_LINE * scale + scale), text, len,
		  scale, COLOUR_WHITE);
}

static void render_frame(struct cell *cl, const struct hub_picture *p)
{
	unsigned int cw = cl->img.width, ch = cl->img.height, dw, dh, dx, dy;

	/* largest rectangle of the picture's aspect ratio inside the cell */
	if ((uint64_t)p->width * ch >= (uint64_t)cw * p->height) {
		dw = cw;
		dh = (unsigned int)((uint64_t)cw * p->height / p->width);
	} else {
		dh = ch;
		dw = (unsigned int)((uint64_t)ch * p->width / p->height);
	}
	if (!dw)
		dw = 1;
	if (!dh)
		dh = 1;
	dx = (cw - dw) / 2;
	dy = (ch - dh) / 2;

	/* letterbox / pillarbox: only the parts the picture does not cover */
	canvas_fill(&cl->img, 0, 0, (int)cw, (int)dy, COLOUR_BLACK);
	canvas_fill(&cl->img, 0, (int)(dy + dh), (int)cw, (int)(ch - dy - dh), COLOUR_BLACK);
	canvas_fill(&cl->img, 0, (int)dy, (int)dx, (int)dh, COLOUR_BLACK);
	canvas_fill(&cl->img, (int)(dx + dw), (int)dy, (int)(cw - dx - dw), (int)dh, COLOUR_BLACK);
	convert_scaled(p, cl, dx, dy, dw, dh);
	draw_badge(cl, p, dx, dy, dw, dh);
}

static const char *const reason_text[] = {
	[HUB_NOT_CONNECTED] = "NOT CONNECTED",
	[HUB_NOT_VERIFIED] = "NOT VERIFIED",
	[HUB_STALE] = "STALE",
};

static void draw_centred(const struct canvas *c, int y, const char *s,
			 unsigned int scale, uint32_t colour)
{
	size_t len = strlen(s), fit = c->width / (FONT_ADVANCE * scale);

	if (len > fit)
		len = fit;
	font_draw(c, ((int)c->width - (int)font_width(len, scale)) / 2, y, s,
		  len, scale, colour);
}

static void render_unavailable(struct cell *cl)
{
	const struct canvas *c = &cl->img;
	unsigned int scale = c->width / (FONT_ADVANCE * 24);	/* ~24 chars wide */
	unsigned int border = c->width >= 320 ? 4 : 2;
	char why[32];
	int y;

	if (scale < 1)
		scale = 1;
	while (scale > 1 && 4 * FONT_LINE * scale + 2 * border > c->height)
		scale--;
	canvas_fill(c, 0, 0, (int)c->width, (int)c->height, COLOUR_UNAVAIL_FG);
	canvas_fill(c, (int)border, (int)border, (int)(c->width - 2 * border),
		    (int)(c->height - 2 * border), COLOUR_UNAVAIL_BG);
	snprintf(why, sizeof(why), "(%s)", reason_text[cl->why]);
	y = ((int)c->height - 4 * FONT_LINE * (int)scale) / 2;
	draw_centred(c, y, "STREAM UNAVAILABLE", scale, COLOUR_UNAVAIL_FG);
	draw_centred(c, y + 3 * FONT_LINE * (int)scale / 2, cl->name, scale, COLOUR_WHITE);
	draw_centred(c, y + 3 * FONT_LINE * (int)scale, why, scale, COLOUR_WHITE);
}

/* ---- layout and composition ---- */

static void free_cells(struct display *d)
{
	unsigned int i;

	for (i = 0; i < DISPLAY_MAX_CAMERAS; i++) {
		free(d->cell[i].img.px);
		free(d->cell[i].xmap);
		d->cell[i].img.px = NULL;
		d->cell[i].xmap = NULL;
	}
}

/*
 * Cut the screen into cells that cover it exactly: the whole screen for
 * one camera, otherwise 2x2 (the right column and bottom row take the odd
 * pixel). Every cell starts black; cameras start unavailable.
 */
static int layout(struct display *d)
{
	unsigned int w = d->mode.width, h = d->mode.height, i;
	unsigned int lw = d->ncells == 1 ? w : w / 2;
	unsigned int th = d->ncells == 1 ? h : h / 2;

	free_cells(d);
	d->lw = w;
	d->lh = h;
	for (i = 0; i < d->ncells; i++) {
		struct cell *cl = &d->cell[i];
		bool right = i & 1, bottom = i & 2;

		cl->x = right ? lw : 0;
		cl->y = bottom ? th : 0;
		cl->img.width = right ? w - lw : lw;
		cl->img.height = bottom ? h - th : th;
		cl->img.stride = cl->img.width;
		cl->img.px = calloc((size_t)cl->img.width * cl->img.height,
				    sizeof(uint32_t));
		cl->xmap = calloc(cl->img.width, sizeof(uint32_t));
		if (!cl->img.px || !cl->xmap)
			return -ENOMEM;
	}
	return 0;
}

static void compose(struct display *d, unsigned int index)
{
	const struct output_buffer *b = &d->mode.buf[index];
	unsigned int i, r;

	for (i = 0; i < d->ncells; i++) {
		const struct cell *cl = &d->cell[i];

		if (i < DISPLAY_MAX_CAMERAS)
			d->buf_capture[index][i] = cl->state == CELL_FRAME ? cl->capture_ns : 0;
		for (r = 0; r < cl->img.height; r++)
			memcpy(b->map + (size_t)(cl->y + r) * b->stride +
			       (size_t)cl->x * 4,
			       cl->img.px + (size_t)r * cl->img.stride,
			       (size_t)cl->img.width * 4);
	}
}

static void output_lost(struct display *d)
{
	unsigned int i;

	d->active = false;
	d->pending = -1;
	d->dirty = true;
	for (i = 0; i < OUTPUT_BUFFERS; i++)
		d->buf[i] = BUF_FREE;
	d->st.output_lost++;
}

/*
 * Buffer @index reached the screen at @done_ns (CLOCK_REALTIME; 0: now);
 * the one it replaced is free again.
 */
static void on_screen(struct display *d, unsigned int index, uint64_t done_ns)
{
	uint64_t now = done_ns ? done_ns : realtime_ns();
	unsigned int i;

	for (i = 0; i < OUTPUT_BUFFERS; i++)
		if (d->buf[i] == BUF_SCANOUT)
			d->buf[i] = BUF_FREE;
	d->buf[index] = BUF_SCANOUT;
	d->st.completed++;
	for (i = 0; i < d->ncams; i++) {
		uint64_t cap = d->buf_capture[index][i];

		d->st.on_screen_capture_ns[i] = cap;
		if (cap)
			d->st.glass_ns[i] = now > cap ? now - cap : 0;
	}
}

static void set_unavailable(struct cell *cl, enum hub_unavailable why);

/*
 * A frame leaves its cell for the stale screen when its show-until has
 * passed, or when no newer one came for stale_ns; before any buffer is
 * composed, so a commit caused by another cell (or one late timer) cannot
 * carry it to the glass. Returns the ns until the next such deadline
 * (UINT64_MAX: none).
 */
static uint64_t expire_cells(struct display *d, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (unsigned int i = 0; i < d->ncams; i++) {
		struct cell *cl = &d->cell[i];
		uint64_t due = cl->shown_ns + d->stale_ns;

		if (cl->state != CELL_FRAME)
			continue;
		if (cl->until_ns && cl->until_ns < due)
			due = cl->until_ns;
		if (now >= due) {
			set_unavailable(cl, HUB_STALE);
			d->st.unavailable[i]++;
			d->dirty = true;
		} else if (due - now < next) {
			next = due - now;
		}
	}
	return next;
}

/* Commit the cells if something changed and nothing is in flight. */
static int flush(struct display *d)
{
	uint64_t t, t2;
	unsigned int i;
	int ret;

	if (!d->active || d->pending >= 0)
		return 0;
	expire_cells(d, display_now_ns());
	if (!d->dirty)
		return 0;
	for (i = 0; i < OUTPUT_BUFFERS && d->buf[i] != BUF_FREE; i++)
		;
	if (i == OUTPUT_BUFFERS)
		return -EBUSY;	/* cannot happen: one scanout, one pending */
	t = display_now_ns();
	compose(d, i);
	d->dirty = false;
	t2 = display_now_ns();
	d->st.compose_ns += t2 - t;
	ret = d->ops->commit(d->out, i);
	d->st.commit_ns += display_now_ns() - t2;
	if (ret < 0) {
		d->st.commit_errors++;
		output_lost(d);
		return ret;
	}
	d->st.commits++;
	if (ret > 0) {
		on_screen(d, i, 0);
	} else {
		d->buf[i] = BUF_PENDING;
		d->pending = (int)i;
	}
	return 0;
}

static void set_unavailable(struct cell *cl, enum hub_unavailable why)
{
	cl->state = CELL_UNAVAILABLE;
	cl->why = why;
	render_unavailable(cl);
}

static void start_output(struct display *d)
{
	unsigned int i;

	for (i = 0; i < d->ncells; i++) {
		struct cell *cl = &d->cell[i];

		if (i >= d->ncams)
			cl->state = CELL_EMPTY;	/* black from calloc */
		else if (cl->state == CELL_UNAVAILABLE)
			render_unavailable(cl);
		/* a CELL_FRAME cell keeps its frame, or after a new
		 * layout is black until its next one */
	}
	for (i = 0; i < OUTPUT_BUFFERS; i++)
		d->buf[i] = BUF_FREE;
	d->pending = -1;
	d->active = true;
	d->dirty = true;
}

struct display *display_open(const struct display_config *cfg,
			     char *err, size_t errlen)
{
	const char *spec = cfg->output ? cfg->output : "drm";
	struct display *d;
	unsigned int i;
	int ret;

	if (cfg->cameras < 1 || cfg->cameras > DISPLAY_MAX_CAMERAS) {
		errmsg(err, errlen, "%u cameras: the hub shows 1 to %d",
			cfg->cameras, DISPLAY_MAX_CAMERAS);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		errmsg(err, errlen, "out of memory");
		return NULL;
	}
	d->ncams = cfg->cameras;
	d->ncells = cfg->cameras == 1 ? 1 : 4;
	d->stale_ns = cfg->stale_ns ? cfg->stale_ns : DISPLAY_DEFAULT_STALE_NS;
	for (i = 0; i < d->ncams; i++) {
		snprintf(d->cell[i].name, sizeof(d->cell[i].name), "%s",
			 cfg->names[i] ? cfg->names[i] : "");
		d->cell[i].state = CELL_UNAVAILABLE;
		d->cell[i].why = HUB_NOT_CONNECTED;
	}

	if (!strcmp(spec, "drm") || !strncmp(spec, "drm:", 4)) {
		d->ops = &kms_ops;
		d->out = kms_open(spec[3] ? spec + 4 : NULL, cfg->kms_legacy,
				  &d->mode, err, errlen);
	} else if (!strncmp(spec, "y4m:", 4) && spec[4]) {
		d->ops = &y4m_ops;
		d->out = y4m_open(spec + 4,
				  cfg->width ? cfg->width : DISPLAY_Y4M_DEFAULT_WIDTH,
				  cfg->height ? cfg->height : DISPLAY_Y4M_DEFAULT_HEIGHT,
				  &d->mode, err, errlen);
	} else {
		errmsg(err, errlen, "unknown display '%s' (drm[:DEVICE] or y4m:PATH)",
			spec);
	}
	if (!d->out) {
		free(d);
		return NULL;
	}
	if (layout(d)) {
		errmsg(err, errlen, "out of memory");
		display_close(d);
		return NULL;
	}
	start_output(d);
	ret = flush(d);
	if (ret < 0) {
		errmsg(err, errlen, "first commit failed: %s", strerror(-ret));
		display_close(d);
		return NULL;
	}
	return d;
}

int display_show(struct display *d, unsigned int cam,
		 const struct hub_picture *frame)
{
	struct cell *cl;
	uint64_t t;

	if (cam >= d->ncams || !picture_valid(frame))
		return -EINVAL;
	cl = &d->cell[cam];
	t = display_now_ns();
	render_frame(cl, frame);
	cl->state = CELL_FRAME;
	cl->capture_ns = frame->capture_ns;
	cl->until_ns = frame->show_until_ns;
	cl->shown_ns = display_now_ns();
	d->st.render_ns += cl->shown_ns - t;
	d->st.shown[cam]++;
	d->dirty = true;
	return flush(d);
}

int display_unavailable(struct display *d, unsigned int cam,
			enum hub_unavailable why)
{
	struct cell *cl;

	if (cam >= d->ncams || (unsigned int)why > HUB_STALE)
		return -EINVAL;
	cl = &d->cell[cam];
	if (cl->state == CELL_UNAVAILABLE && cl->why == why)
		return 0;
	set_unavailable(cl, why);
	d->st.unavailable[cam]++;
	d->dirty = true;
	return flush(d);
}

int display_tick(struct display *d, uint64_t now_ns)
{
	uint64_t next = (uint64_t)TICK_MAX_MS * 1000000u, due;

	due = expire_cells(d, now_ns);
	if (due < next)
		next = due;

	switch (d->ops->check(d->out, &d->mode)) {
	case OUTPUT_LOST:
		output_lost(d);
		break;
	case OUTPUT_RESTARTED:
		/* same size (master back, same monitor): the cells stay valid */
		if ((d->mode.width != d->lw || d->mode.height != d->lh) && layout(d))
			return -ENOMEM;
		start_output(d);
		d->st.output_restarted++;
		break;
	case OUTPUT_UNCHANGED:
		break;
	}
	flush(d);
	return (int)((next + 999999u) / 1000000u);
}

int display_fd(const struct display *d)
{
	return d->ops->fd(d->out);
}

int display_dispatch(struct display *d)
{
	uint64_t done_ns = 0;
	int ret = d->ops->dispatch(d->out, &done_ns);

	if (ret <= 0 || d->pending < 0)
		return ret;
	on_screen(d, (unsigned int)d->pending, done_ns);
	d->pending = -1;
	return flush(d);
}

void display_get_stats(const struct display *d, struct display_stats *st)
{
	*st = d->st;
}

void display_get_size(const struct display *d, unsigned int *w,
		      unsigned int *h)
{
	*w = d->mode.width;
	*h = d->mode.height;
}

void display_close(struct display *d)
{
	if (!d)
		return;
	d->ops->close(d->out);
	free_cells(d);
	free(d);
}
