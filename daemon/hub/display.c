// SPDX-License-Identifier: GPL-2.0
/*
 * display - compose the hub's screen from per-camera cells and hand it to
 * the output (kms.c or y4m.c), fail-closed.
 *
 * A cell is a rectangle of the screen and what it shows: nothing (black),
 * its camera's newest verified frame (the decoded picture itself, kept
 * until a newer one, the unavailable screen or its deadline replaces it)
 * or its camera's unavailable screen. Each change of a cell gives it a new
 * generation number. Composing a buffer draws, straight into that buffer,
 * every cell whose generation differs from the one that buffer last got:
 * a frame is written into it in one pass (libyuv), with the letterbox and
 * the badge; the rest of the buffer already shows the cells' current
 * content. Into an XRGB8888 buffer (KMS) the frame is converted (and
 * scaled); into an I420 buffer (y4m) it is copied or scaled as it is, and
 * converted in place only if its colorimetry is not the output's. The
 * hub's own drawings go through the same canvas in either format. The
 * cells tile the screen without gaps (in I420 on whole 2x2 blocks, so no
 * chroma sample is shared), so every pixel of a committed buffer is the
 * current content of some cell: nothing of an older frame, another camera
 * or unverified data can reach the screen.
 * One commit is in flight at a time: at most one per flip on KMS, one per
 * refresh period on y4m.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libyuv/convert.h>
#include <libyuv/convert_argb.h>
#include <libyuv/planar_functions.h>
#include <libyuv/scale.h>
#include <libyuv/scale_uv.h>

#include "canvas.h"
#include "clock.h"
#include "colour.h"
#include "display.h"
#include "font.h"
#include "hub_error.h"
#include "kms.h"
#include "screen.h"
#include "y4m.h"

#define TICK_MAX_MS		250	/* output checks (unplug, master) */
#define PENDING_MAX_NS		(DISPLAY_PENDING_MAX_MS * 1000000ull)
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
	uint64_t gen;		/* new on every change of what the cell shows */
	uint64_t shown_ns;	/* CLOCK_MONOTONIC of the last frame */
	uint64_t until_ns;	/* CLOCK_MONOTONIC: the frame's show-until (0: none) */
	struct hub_picture pic;	/* CELL_FRAME: the frame, owned; else released */
	unsigned int x, y;	/* position on screen */
	unsigned int width, height;
};

enum buf_state { BUF_FREE, BUF_PENDING, BUF_SCANOUT };

/* One tile of the events view: drawn from the display's own copy of a picture. */
struct tile {
	enum hub_display_tile kind;
	uint8_t *mem;		/* DISPLAY_TILE_THUMB: pic's planes, owned */
	struct hub_picture pic;	/* I420 over mem (release NULL) */
	char text[48];		/* _UNAVAILABLE: the reason; _GAP: which events */
};

/* The clip view: the whole screen, one picture (owned, like a cell's) or a screen. */
struct clip {
	bool showing;		/* pic holds a frame, else the screen below */
	struct hub_picture pic;
	char name[64];
	char text[48];		/* the reason on the hub's screen */
	uint64_t gen;
};

struct hub_display {
	void *out;
	const struct hub_output_ops *ops;
	struct hub_output_mode mode;
	enum buf_state buf[OUTPUT_BUFFERS];
	bool active;		/* the output can show something */
	bool dirty;		/* cells changed since the last commit */
	int pending;		/* buffer of the commit in flight, or -1 */
	uint64_t pending_ns;	/* CLOCK_MONOTONIC when it was committed */
	bool need_layout;	/* restarted at a new size, cells not cut yet */
	/*
	 * Per buffer and cell: the generation of the cell drawn there (0:
	 * none, e.g. a new buffer), and the capture time of the frame drawn
	 * (0: none).
	 */
	uint64_t buf_gen[OUTPUT_BUFFERS][VC_HUB_MAX_CAMERAS];
	uint64_t buf_capture[OUTPUT_BUFFERS][VC_HUB_MAX_CAMERAS];
	uint64_t gen_seq;	/* last generation handed out */
	unsigned int ncams;	/* cameras */
	unsigned int ncells;	/* 1 or 4 */
	unsigned int lw, lh;	/* screen size the cells were cut for */
	struct cell cell[VC_HUB_MAX_CAMERAS];
	enum hub_display_view view;
	struct tile tiles[VC_HUB_MAX_CAMERAS][DISPLAY_EVENT_TILES];
	struct clip clip;
	uint64_t buf_clip_gen[OUTPUT_BUFFERS];	/* the clip's generation drawn there */
	uint8_t *scratch;	/* 4:2:0 planes of the largest cell: the scaler's */
	unsigned int align;	/* cells and pictures on multiples of it (I420: 2) */
	uint64_t stale_ns;
	struct hub_display_stats st;
	/* the glass time on CLOCK_REALTIME: the mapping the camera signs with */
	struct clk_map clock;
};

/* ---- YCbCr 4:2:0 -> XRGB8888, scaled to fit (libyuv) ---- */

static const struct YuvConstants *yuv_constants(const struct hub_picture *p)
{
	if (p->matrix == HUB_MATRIX_BT709)
		return p->full_range ? &kYuvF709Constants : &kYuvH709Constants;
	return p->full_range ? &kYuvJPEGConstants : &kYuvI601Constants;
}

/*
 * Draw @p into the dw x dh rectangle at (dx, dy) of XRGB8888 canvas @c. A
 * picture of that very size is converted straight into the output
 * buffer; any other is first scaled (bilinear, in 4:2:0, 1.5 bytes a
 * pixel) into the display's scratch planes of the rectangle's size, then
 * converted from there. Nonzero if libyuv refused (the rectangle's
 * content is then undefined).
 */
static int put_picture_xrgb(struct hub_display *d, const struct hub_picture *p,
			    const struct hub_canvas *c, unsigned int dx, unsigned int dy,
			    unsigned int dw, unsigned int dh)
{
	uint8_t *dst = c->plane[0] + (size_t)dy * c->pitch[0] + (size_t)dx * 4;
	int dst_stride = (int)c->pitch[0], w = (int)dw, h = (int)dh;
	const uint8_t *y = p->plane[0], *u = p->plane[1], *v = p->plane[2];
	int ys = (int)p->stride[0], us = (int)p->stride[1], vs = (int)p->stride[2];
	bool nv12 = p->format == HUB_PIX_NV12;

	if (p->width != dw || p->height != dh) {
		int cw = (w + 1) / 2, ch = (h + 1) / 2, ret;
		uint8_t *sy = d->scratch, *su = sy + (size_t)w * h;

		if (nv12)
			ret = NV12Scale(y, ys, u, us, (int)p->width, (int)p->height,
					sy, w, su, 2 * cw, w, h, kFilterBilinear);
		else
			ret = I420Scale(y, ys, u, us, v, vs, (int)p->width, (int)p->height,
					sy, w, su, cw, su + (size_t)cw * ch, cw, w, h,
					kFilterBilinear);
		if (ret)
			return ret;	/* the scratch may hold another camera's picture */
		y = sy;
		ys = w;
		u = su;
		us = nv12 ? 2 * cw : cw;
		v = su + (size_t)cw * ch;
		vs = cw;
		d->st.frame_scales++;
	}
	d->st.frame_writes++;
	if (nv12)
		return NV12ToARGBMatrix(y, ys, u, us, dst, dst_stride, yuv_constants(p), w, h);
	return I420ToARGBMatrix(y, ys, u, us, v, vs, dst, dst_stride,
				yuv_constants(p), w, h);
}

/*
 * Draw @p into the dw x dh rectangle at (dx, dy) of I420 canvas @c (all
 * four even): copied, or scaled (bilinear), straight into the planes; an
 * NV12 picture's chroma is split there (when scaled, through the scratch).
 * Then, if the picture's matrix or range is not the canvas's, converted
 * in place. Nonzero if libyuv refused.
 */
static int put_picture_i420(struct hub_display *d, const struct hub_picture *p,
			    const struct hub_canvas *c, unsigned int dx, unsigned int dy,
			    unsigned int dw, unsigned int dh)
{
	uint8_t *py = c->plane[0] + (size_t)dy * c->pitch[0] + dx;
	uint8_t *pu = c->plane[1] + (size_t)dy / 2 * c->pitch[1] + dx / 2;
	uint8_t *pv = c->plane[2] + (size_t)dy / 2 * c->pitch[2] + dx / 2;
	int ys = (int)c->pitch[0], us = (int)c->pitch[1], vs = (int)c->pitch[2];
	int w = (int)dw, h = (int)dh, sw = (int)p->width, sh = (int)p->height;
	const struct hub_colorimetry pcs = { p->matrix, p->full_range };
	struct hub_colour_xform x;
	int ret = 0;

	if (p->format == HUB_PIX_I420 && p->width == dw && p->height == dh) {
		ret = I420Copy(p->plane[0], (int)p->stride[0], p->plane[1], (int)p->stride[1],
			       p->plane[2], (int)p->stride[2], py, ys, pu, us, pv, vs, w, h);
	} else if (p->format == HUB_PIX_I420) {
		ret = I420Scale(p->plane[0], (int)p->stride[0], p->plane[1], (int)p->stride[1],
				p->plane[2], (int)p->stride[2], sw, sh, py, ys, pu, us, pv, vs,
				w, h, kFilterBilinear);
	} else if (p->width == dw && p->height == dh) {
		ret = NV12ToI420(p->plane[0], (int)p->stride[0], p->plane[1], (int)p->stride[1],
				 py, ys, pu, us, pv, vs, w, h);
	} else {
		ScalePlane(p->plane[0], (int)p->stride[0], sw, sh, py, ys, w, h,
			   kFilterBilinear);
		ret = UVScale(p->plane[1], (int)p->stride[1], (sw + 1) / 2, (sh + 1) / 2,
			      d->scratch, w, w / 2, h / 2, kFilterBilinear);
		if (!ret)
			SplitUVPlane(d->scratch, w, pu, us, pv, vs, w / 2, h / 2);
		d->st.frame_scales++;
	}
	if (ret)
		return ret;
	d->st.frame_writes++;
	if (hub_colour_xform_init(&x, &pcs, &c->cs)) {
		hub_colour_xform_i420(&x, py, ys, pu, us, pv, vs, w, h);
		d->st.frame_converts++;
	}
	return 0;
}

static bool picture_valid(const struct hub_picture *p)
{
	size_t cw;

	if (!p || !p->width || !p->height || !p->plane[0] || !p->plane[1] ||
	    p->width > 16384 || p->height > 16384 ||
	    (unsigned int)p->matrix > HUB_MATRIX_BT709)
		return false;
	cw = (p->width + 1) / 2;
	/* libyuv takes int strides: a huge one would turn negative */
	for (unsigned int i = 0; i < 3; i++)
		if (p->stride[i] > 4 * 16384)
			return false;
	if (p->stride[0] < p->width)
		return false;
	if (p->format == HUB_PIX_NV12)
		return p->stride[1] >= 2 * cw;
	return p->format == HUB_PIX_I420 && p->plane[2] &&
	       p->stride[1] >= cw && p->stride[2] >= cw;
}

/* ---- cell rendering ---- */

/* A label (SCREEN_BADGE box, white text) at the bottom left of the picture at (fx, fy). */
static void draw_label(const struct hub_canvas *c, const char *text, size_t len, unsigned int fx,
		       unsigned int fy, unsigned int fw, unsigned int fh)
{
	unsigned int scale = c->width >= SCREEN_BADGE_WIDE ? 2 : 1;
	unsigned int pad = SCREEN_BADGE_PAD * scale, fit;

	if (fw <= 2 * pad || fh <= FONT_LINE * scale + 2 * pad)
		return;
	fit = (fw - 2 * pad) / (FONT_ADVANCE * scale);
	if (len > fit)
		len = fit;
	hub_canvas_fill(c, (int)(fx + pad), (int)(fy + fh - pad - FONT_LINE * scale),
			(int)(hub_font_width(len, scale) + 2 * scale),
			(int)(FONT_LINE * scale), SCREEN_BADGE);
	hub_font_draw(c, (int)(fx + pad + scale),
		      (int)(fy + fh - pad - FONT_LINE * scale + scale), text, len,
		      scale, SCREEN_WHITE);
}

/* "PREFIX NAME HH:MM:SS[.mmm]" of capture_ns (UTC) at the bottom left of the picture. */
static void draw_badge(const char *prefix, const char *name, const struct hub_canvas *c,
		       uint64_t capture_ns, bool with_ms, unsigned int fx, unsigned int fy,
		       unsigned int fw, unsigned int fh)
{
	time_t secs = (time_t)(capture_ns / 1000000000ull);
	unsigned int ms = (unsigned int)(capture_ns % 1000000000ull / 1000000u);
	char text[BADGE_MAX], frac[8] = "";
	struct tm tm;
	int n;

	if (!gmtime_r(&secs, &tm))
		memset(&tm, 0, sizeof(tm));
	if (with_ms)
		snprintf(frac, sizeof(frac), ".%03u", ms);
	n = snprintf(text, sizeof(text), "%s%s%s %02d:%02d:%02d%s", prefix, *prefix ? " " : "",
		     name, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	draw_label(c, text, n < 0 ? 0 : (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1,
		   fx, fy, fw, fh);
}

/*
 * @p fitted into canvas @c, centred, the rest black; its placement in
 * *fx.. Nonzero if the picture could not be drawn: the canvas is then black.
 */
static int render_picture(struct hub_display *d, const struct hub_picture *p,
			  const struct hub_canvas *c, unsigned int *fx, unsigned int *fy,
			  unsigned int *fw, unsigned int *fh)
{
	unsigned int cw = c->width, ch = c->height, dw, dh, dx, dy, a = d->align;
	int ret;

	/* largest rectangle of the picture's aspect ratio inside the cell */
	if ((uint64_t)p->width * ch >= (uint64_t)cw * p->height) {
		dw = cw;
		dh = (unsigned int)((uint64_t)cw * p->height / p->width);
	} else {
		dh = ch;
		dw = (unsigned int)((uint64_t)ch * p->width / p->height);
	}
	/* on the output's grid (I420: whole 2x2 blocks), a block at least */
	dw = dw / a * a;
	dh = dh / a * a;
	if (!dw)
		dw = a;
	if (!dh)
		dh = a;
	dx = (cw - dw) / 2 / a * a;
	dy = (ch - dh) / 2 / a * a;

	/* letterbox / pillarbox: only the parts the picture does not cover */
	hub_canvas_fill(c, 0, 0, (int)cw, (int)dy, SCREEN_BLACK);
	hub_canvas_fill(c, 0, (int)(dy + dh), (int)cw, (int)(ch - dy - dh), SCREEN_BLACK);
	hub_canvas_fill(c, 0, (int)dy, (int)dx, (int)dh, SCREEN_BLACK);
	hub_canvas_fill(c, (int)(dx + dw), (int)dy, (int)(cw - dx - dw), (int)dh, SCREEN_BLACK);
	ret = c->format == CANVAS_I420 ? put_picture_i420(d, p, c, dx, dy, dw, dh) :
					 put_picture_xrgb(d, p, c, dx, dy, dw, dh);
	if (ret) {
		hub_canvas_fill(c, 0, 0, (int)cw, (int)ch, SCREEN_BLACK);
		return -EIO;
	}
	*fx = dx;
	*fy = dy;
	*fw = dw;
	*fh = dh;
	return 0;
}

/* Nonzero if the picture could not be drawn: the cell is then black. */
static int render_frame(struct hub_display *d, const struct cell *cl,
			const struct hub_canvas *c)
{
	unsigned int dx, dy, dw, dh;

	if (render_picture(d, &cl->pic, c, &dx, &dy, &dw, &dh))
		return -EIO;
	draw_badge("VERIFIED", cl->name, c, cl->pic.capture_ns, true, dx, dy, dw, dh);
	return 0;
}

static const char *const reason_text[] = {
	[HUB_NOT_CONNECTED] = "NOT CONNECTED",
	[HUB_NOT_VERIFIED] = "NOT VERIFIED",
	[HUB_STALE] = "STALE",
};

static void draw_centred(const struct hub_canvas *c, int y, const char *s,
			 unsigned int scale, uint32_t colour)
{
	size_t len = strlen(s), fit = c->width / (FONT_ADVANCE * scale);

	if (len > fit)
		len = fit;
	hub_font_draw(c, ((int)c->width - (int)hub_font_width(len, scale)) / 2, y, s,
		      len, scale, colour);
}

/* The hub's own screen: a border, a first line in amber, two in white. */
static void render_screen(const struct hub_canvas *c, const char *first, const char *second,
			  const char *third)
{
	unsigned int scale = c->width / (FONT_ADVANCE * SCREEN_UNAVAIL_CHARS);
	unsigned int border = c->width >= SCREEN_UNAVAIL_WIDE ? SCREEN_UNAVAIL_BORDER_WIDE :
							       SCREEN_UNAVAIL_BORDER;
	int y;

	if (scale < 1)
		scale = 1;
	while (scale > 1 && SCREEN_UNAVAIL_LINES * FONT_LINE * scale + 2 * border > c->height)
		scale--;
	hub_canvas_fill(c, 0, 0, (int)c->width, (int)c->height, SCREEN_UNAVAIL_FG);
	hub_canvas_fill(c, (int)border, (int)border, (int)(c->width - 2 * border),
			(int)(c->height - 2 * border), SCREEN_UNAVAIL_BG);
	y = ((int)c->height - SCREEN_UNAVAIL_LINES * FONT_LINE * (int)scale) / 2;
	draw_centred(c, y, first, scale, SCREEN_UNAVAIL_FG);
	draw_centred(c, y + 3 * FONT_LINE * (int)scale / 2, second, scale, SCREEN_WHITE);
	draw_centred(c, y + 3 * FONT_LINE * (int)scale, third, scale, SCREEN_WHITE);
}

static void render_unavailable(const struct cell *cl, const struct hub_canvas *c)
{
	char why[32];

	snprintf(why, sizeof(why), "(%s)", reason_text[cl->why]);
	render_screen(c, "STREAM UNAVAILABLE", cl->name, why);
}

/* ---- cells: what each shows ---- */

static void release_picture(struct cell *cl)
{
	if (cl->pic.release)
		cl->pic.release(&cl->pic);
	memset(&cl->pic, 0, sizeof(cl->pic));
}

/* The cell shows something else: every buffer must draw it again. */
static void changed(struct hub_display *d, struct cell *cl)
{
	cl->gen = ++d->gen_seq;
	d->dirty = true;
}

static void set_unavailable(struct hub_display *d, struct cell *cl,
			    enum hub_unavailable why)
{
	release_picture(cl);
	cl->state = CELL_UNAVAILABLE;
	cl->why = why;
	changed(d, cl);
}

/* No buffer holds any cell's content (new, or not known to be kept). */
static void forget_buffers(struct hub_display *d)
{
	memset(d->buf_gen, 0, sizeof(d->buf_gen));
	memset(d->buf_clip_gen, 0, sizeof(d->buf_clip_gen));
}

/*
 * Cut the screen into cells that cover it exactly: the whole screen for
 * one camera (unless the config asks for a grid), otherwise 2x2 (the
 * right column and bottom row take the odd
 * pixel, or block); the scaler's scratch fits the largest. Every cell is drawn
 * afresh in every buffer.
 */
static int layout(struct hub_display *d)
{
	unsigned int w = d->mode.width, h = d->mode.height, i, a = d->align;
	/* I420: cells on whole 2x2 blocks, so no chroma sample is shared */
	unsigned int lw = d->ncells == 1 ? w : w / 2 / a * a;
	unsigned int th = d->ncells == 1 ? h : h / 2 / a * a;
	size_t cw = w, ch = h;	/* the clip view's picture fills the screen */
	uint8_t *scratch;

	if (w < 2 * a || h < 2 * a)
		return -EINVAL;		/* a 2x2 grid needs cells of a pixel (block) at least */
	scratch = malloc(cw * ch + 2 * ((cw + 1) / 2) * ((ch + 1) / 2));
	if (!scratch)
		return -ENOMEM;
	free(d->scratch);
	d->scratch = scratch;
	d->lw = w;
	d->lh = h;
	for (i = 0; i < d->ncells; i++) {
		struct cell *cl = &d->cell[i];
		bool right = i & 1, bottom = i & 2;

		cl->x = right ? lw : 0;
		cl->y = bottom ? th : 0;
		cl->width = right ? w - lw : lw;
		cl->height = bottom ? h - th : th;
		changed(d, cl);
	}
	forget_buffers(d);
	return 0;
}

/* ---- composition ---- */

/* Cell @cl's rectangle of buffer @b, as a canvas. */
static struct hub_canvas cell_canvas(const struct hub_display *d, const struct hub_output_buffer *b,
				     const struct cell *cl)
{
	struct hub_canvas c = { .width = cl->width, .height = cl->height };

	if (d->ops->format == OUTPUT_XRGB8888) {
		c.format = CANVAS_XRGB8888;
		c.plane[0] = b->map + (size_t)cl->y * b->stride + (size_t)cl->x * 4;
		c.pitch[0] = b->stride;
		return c;
	}
	c.format = CANVAS_I420;
	c.cs = d->mode.cs;
	c.plane[0] = b->map + (size_t)cl->y * b->stride + cl->x;
	c.plane[1] = b->cb + (size_t)cl->y / 2 * b->cstride + cl->x / 2;
	c.plane[2] = b->cr + (size_t)cl->y / 2 * b->cstride + cl->x / 2;
	c.pitch[0] = b->stride;
	c.pitch[1] = b->cstride;
	c.pitch[2] = b->cstride;
	return c;
}

/* The (x, y, w, h) part of canvas @c (I420: all even). */
static struct hub_canvas sub_canvas(const struct hub_canvas *c, unsigned int x, unsigned int y,
				    unsigned int w, unsigned int h)
{
	struct hub_canvas s = *c;

	s.width = w;
	s.height = h;
	if (c->format == CANVAS_XRGB8888) {
		s.plane[0] += (size_t)y * c->pitch[0] + (size_t)x * 4;
		return s;
	}
	s.plane[0] += (size_t)y * c->pitch[0] + x;
	s.plane[1] += (size_t)y / 2 * c->pitch[1] + x / 2;
	s.plane[2] += (size_t)y / 2 * c->pitch[2] + x / 2;
	return s;
}

static void render_tile(struct hub_display *d, const struct cell *cl, const struct tile *t,
			const struct hub_canvas *c)
{
	unsigned int dx, dy, dw, dh;
	char why[64];

	switch (t->kind) {
	case DISPLAY_TILE_EMPTY:
		hub_canvas_fill(c, 0, 0, (int)c->width, (int)c->height, SCREEN_BLACK);
		break;
	case DISPLAY_TILE_THUMB:
		if (!render_picture(d, &t->pic, c, &dx, &dy, &dw, &dh))
			draw_badge("", cl->name, c, t->pic.capture_ns, false, dx, dy, dw, dh);
		break;
	case DISPLAY_TILE_UNAVAILABLE:
		snprintf(why, sizeof(why), "(%s)", t->text);
		render_screen(c, "EVENT UNAVAILABLE", cl->name, why);
		break;
	case DISPLAY_TILE_GAP:
		render_screen(c, "EVENTS MISSING", cl->name, t->text);
		break;
	}
}

/*
 * The events view: each camera's cell cut 2x2 into its tiles (newest top
 * left, then right, then the bottom row), each drawn completely; or the
 * clip view: the whole screen.
 */
static void compose_events(struct hub_display *d, unsigned int index)
{
	const struct hub_output_buffer *b = &d->mode.buf[index];
	unsigned int i, a = d->align;

	memset(d->buf_capture[index], 0, sizeof(d->buf_capture[index]));
	if (d->view == DISPLAY_VIEW_CLIP) {
		struct cell whole = { .width = d->mode.width, .height = d->mode.height };
		struct hub_canvas c = cell_canvas(d, b, &whole);
		unsigned int dx, dy, dw, dh;

		if (d->buf_clip_gen[index] == d->clip.gen)
			return;
		d->buf_clip_gen[index] = d->clip.gen;
		if (!d->clip.showing)
			render_screen(&c, "EVENT UNAVAILABLE", d->clip.name, d->clip.text);
		else if (!render_picture(d, &d->clip.pic, &c, &dx, &dy, &dw, &dh))
			draw_badge("EVENT", d->clip.name, &c, d->clip.pic.capture_ns, true, dx, dy,
				   dw, dh);
		else
			d->buf_clip_gen[index] = 0;
		return;
	}
	for (i = 0; i < d->ncells; i++) {
		struct cell *cl = &d->cell[i];
		struct hub_canvas c = cell_canvas(d, b, cl);
		unsigned int lw = cl->width / 2 / a * a, th = cl->height / 2 / a * a;

		if (d->buf_gen[index][i] == cl->gen)
			continue;
		d->buf_gen[index][i] = cl->gen;
		if (i >= d->ncams || lw < a || th < a) {
			hub_canvas_fill(&c, 0, 0, (int)c.width, (int)c.height, SCREEN_BLACK);
			continue;
		}
		for (unsigned int k = 0; k < DISPLAY_EVENT_TILES; k++) {
			bool right = k & 1, bottom = k & 2;
			struct hub_canvas tc = sub_canvas(&c, right ? lw : 0, bottom ? th : 0,
							  right ? cl->width - lw : lw,
							  bottom ? cl->height - th : th);

			render_tile(d, cl, &d->tiles[i][k], &tc);
		}
	}
}

/*
 * Bring buffer @index up to date: every cell drawn there since it last
 * changed is kept, every other cell is drawn completely.
 */
static void compose(struct hub_display *d, unsigned int index)
{
	const struct hub_output_buffer *b = &d->mode.buf[index];
	unsigned int i;

	if (d->view != DISPLAY_VIEW_LIVE) {
		compose_events(d, index);
		return;
	}
	for (i = 0; i < d->ncells; i++) {
		struct cell *cl = &d->cell[i];
		struct hub_canvas c = cell_canvas(d, b, cl);
		uint64_t t;

		d->buf_capture[index][i] = cl->state == CELL_FRAME ? cl->pic.capture_ns : 0;
		if (d->buf_gen[index][i] == cl->gen)
			continue;
		d->buf_gen[index][i] = cl->gen;
		switch (cl->state) {
		case CELL_EMPTY:
			hub_canvas_fill(&c, 0, 0, (int)c.width, (int)c.height, SCREEN_BLACK);
			break;
		case CELL_UNAVAILABLE:
			render_unavailable(cl, &c);
			break;
		case CELL_FRAME:
			t = clk_mono_ns();
			if (render_frame(d, cl, &c)) {
				d->buf_gen[index][i] = 0;	/* black: draw it again next time */
				d->buf_capture[index][i] = 0;
			}
			d->st.render_ns += clk_mono_ns() - t;
			break;
		}
	}
}

static void output_lost(struct hub_display *d)
{
	unsigned int i;

	d->active = false;
	d->pending = -1;
	d->dirty = true;
	for (i = 0; i < OUTPUT_BUFFERS; i++)
		d->buf[i] = BUF_FREE;
	forget_buffers(d);
	d->st.output_lost++;
}

/*
 * Buffer @index reached the screen at @done_ns (CLOCK_MONOTONIC; 0: now);
 * the one it replaced is free again.
 */
static void on_screen(struct hub_display *d, unsigned int index, uint64_t done_ns)
{
	int64_t real = clk_map_to_real(&d->clock, done_ns ? done_ns : clk_mono_ns());
	uint64_t now = real > 0 ? (uint64_t)real : 0;
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

/*
 * A frame leaves its cell for the stale screen when its show-until has
 * passed, or when no newer one came for stale_ns; before any buffer is
 * composed, so a commit caused by another cell (or one late timer) cannot
 * carry it to the glass. Returns the ns until the next such deadline
 * (UINT64_MAX: none).
 */
static uint64_t expire_cells(struct hub_display *d, uint64_t now)
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
			set_unavailable(d, cl, HUB_STALE);
			d->st.unavailable[i]++;
			d->st.expired[i]++;
		} else if (due - now < next) {
			next = due - now;
		}
	}
	return next;
}

/* Commit the cells if something changed and nothing is in flight. */
static int flush(struct hub_display *d)
{
	uint64_t t, t2, r;
	unsigned int i;
	int ret;

	if (!d->active || d->pending >= 0)
		return 0;
	expire_cells(d, clk_mono_ns());
	if (!d->dirty)
		return 0;
	for (i = 0; i < OUTPUT_BUFFERS && d->buf[i] != BUF_FREE; i++)
		;
	if (i == OUTPUT_BUFFERS)
		return -EBUSY;	/* cannot happen: one scanout, one pending */
	t = clk_mono_ns();
	r = d->st.render_ns;
	compose(d, i);
	d->dirty = false;
	t2 = clk_mono_ns();
	d->st.compose_ns += t2 - t - (d->st.render_ns - r);
	ret = d->ops->commit(d->out, i);
	d->st.commit_ns += clk_mono_ns() - t2;
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
		d->pending_ns = clk_mono_ns();
	}
	return 0;
}

/*
 * The commit in flight will not complete (its event lost, dispatch()
 * failed): what is on screen may be a frame past its show-until, so the
 * output is taken down and started again at the next check.
 */
static void give_up(struct hub_display *d)
{
	d->st.commits_given_up++;
	output_lost(d);
	d->ops->reset(d->out);
}

/* The output is (back) on: every buffer free and drawn afresh. */
static void start_output(struct hub_display *d)
{
	unsigned int i;

	for (i = 0; i < OUTPUT_BUFFERS; i++)
		d->buf[i] = BUF_FREE;
	forget_buffers(d);
	d->pending = -1;
	d->active = true;
	d->dirty = true;
}

bool hub_display_output_valid(const char *spec)
{
	return !strcmp(spec, "drm") || (!strncmp(spec, "drm:", 4) && spec[4] == '/') ||
	       (!strncmp(spec, "y4m:", 4) && spec[4]);
}

struct hub_display *hub_display_open(const struct hub_display_config *cfg, GError **error)
{
	const char *spec = cfg->output ? cfg->output : "drm";
	struct hub_display *d;
	unsigned int i;
	int ret;

	if (cfg->cameras < 1 || cfg->cameras > VC_HUB_MAX_CAMERAS) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_CONFIG, "%u cameras: the hub shows 1 to %d",
			    cfg->cameras, VC_HUB_MAX_CAMERAS);
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		g_set_error_literal(error, HUB_ERROR, HUB_ERROR_FAILED, "out of memory");
		return NULL;
	}
	d->ncams = cfg->cameras;
	clk_map_init(&d->clock, 0);
	d->ncells = cfg->cameras == 1 && !cfg->grid ? 1 : 4;
	d->stale_ns = cfg->stale_ns ? cfg->stale_ns : DISPLAY_DEFAULT_STALE_NS;
	for (i = 0; i < d->ncells; i++) {
		struct cell *cl = &d->cell[i];

		if (i >= d->ncams) {
			cl->state = CELL_EMPTY;
			continue;
		}
		snprintf(cl->name, sizeof(cl->name), "%s",
			 cfg->names[i] ? cfg->names[i] : "");
		cl->state = CELL_UNAVAILABLE;
		cl->why = HUB_NOT_CONNECTED;
	}

	if (!hub_display_output_valid(spec)) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_CONFIG,
			    "unknown display '%s' (drm, drm:/dev/dri/cardN or y4m:PATH)", spec);
	} else if (!strncmp(spec, "drm", 3)) {
		d->ops = &kms_ops;
		d->out = hub_kms_open(spec[3] ? spec + 4 : NULL, cfg->kms_legacy,
				      &d->mode, error);
	} else {
		d->ops = &y4m_ops;
		d->out = hub_y4m_open(spec + 4,
				      cfg->width ? cfg->width : DISPLAY_Y4M_DEFAULT_WIDTH,
				      cfg->height ? cfg->height : DISPLAY_Y4M_DEFAULT_HEIGHT,
				      &d->mode, error);
	}
	if (!d->out) {
		free(d);
		return NULL;
	}
	d->align = d->ops->format == OUTPUT_I420 ? 2 : 1;
	ret = layout(d);
	if (ret) {
		if (ret == -EINVAL)
			g_set_error(error, HUB_ERROR, HUB_ERROR_CONFIG, "screen %ux%u: too small",
				    d->mode.width, d->mode.height);
		else
			g_set_error_literal(error, HUB_ERROR, HUB_ERROR_FAILED, "out of memory");
		hub_display_close(d);
		return NULL;
	}
	start_output(d);
	ret = flush(d);
	if (ret < 0) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED, "first commit failed: %s",
			    strerror(-ret));
		hub_display_close(d);
		return NULL;
	}
	return d;
}

int hub_display_show(struct hub_display *d, unsigned int cam, struct hub_picture *frame)
{
	struct cell *cl;

	if (cam >= d->ncams || !picture_valid(frame)) {
		if (frame && frame->release)
			frame->release(frame);
		if (frame)
			memset(frame, 0, sizeof(*frame));
		return -EINVAL;
	}
	cl = &d->cell[cam];
	release_picture(cl);
	cl->pic = *frame;
	memset(frame, 0, sizeof(*frame));	/* the cell's now */
	cl->state = CELL_FRAME;
	cl->until_ns = cl->pic.show_until_ns;
	cl->shown_ns = clk_mono_ns();
	d->st.shown[cam]++;
	if (d->view != DISPLAY_VIEW_LIVE)
		return 0;	/* kept (and expired) for the live view's return */
	changed(d, cl);
	return flush(d);
}

int hub_display_unavailable(struct hub_display *d, unsigned int cam,
			    enum hub_unavailable why)
{
	struct cell *cl;

	if (cam >= d->ncams || (unsigned int)why > HUB_STALE)
		return -EINVAL;
	cl = &d->cell[cam];
	if (cl->state == CELL_UNAVAILABLE && cl->why == why)
		return 0;
	set_unavailable(d, cl, why);
	d->st.unavailable[cam]++;
	return flush(d);
}

uint64_t hub_display_tick(struct hub_display *d, uint64_t now_ns)
{
	uint64_t next = (uint64_t)TICK_MAX_MS * 1000000u, due;

	due = expire_cells(d, now_ns);
	if (due < next)
		next = due;
	if (d->pending >= 0 && now_ns - d->pending_ns >= PENDING_MAX_NS)
		give_up(d);

	switch (d->ops->check(d->out, &d->mode)) {
	case OUTPUT_LOST:
		output_lost(d);
		break;
	case OUTPUT_RESTARTED:
		/* same size (master back, same monitor): the cells stay valid */
		d->need_layout = d->mode.width != d->lw || d->mode.height != d->lh;
		if (!d->need_layout)
			start_output(d);
		d->st.output_restarted++;
		break;
	case OUTPUT_UNCHANGED:
		break;
	}
	/* cut again (retried at every tick if memory ran out), then show */
	if (d->need_layout && !layout(d)) {
		d->need_layout = false;
		start_output(d);
	}
	flush(d);
	return now_ns + next;
}

int hub_display_fd(const struct hub_display *d)
{
	return d->ops->fd(d->out);
}

int hub_display_dispatch(struct hub_display *d)
{
	uint64_t done_ns = 0;
	int ret = d->ops->dispatch(d->out, &done_ns);

	if (ret < 0 && d->pending >= 0)
		give_up(d);
	if (ret <= 0 || d->pending < 0)
		return ret;
	on_screen(d, (unsigned int)d->pending, done_ns);
	d->pending = -1;
	return flush(d);
}

void hub_display_get_stats(const struct hub_display *d, struct hub_display_stats *st)
{
	*st = d->st;
}

void hub_display_get_size(const struct hub_display *d, unsigned int *w,
			  unsigned int *h)
{
	*w = d->mode.width;
	*h = d->mode.height;
}

void hub_display_close(struct hub_display *d)
{
	if (!d)
		return;
	d->ops->close(d->out);
	for (unsigned int i = 0; i < VC_HUB_MAX_CAMERAS; i++) {
		release_picture(&d->cell[i]);
		for (unsigned int k = 0; k < DISPLAY_EVENT_TILES; k++)
			free(d->tiles[i][k].mem);
	}
	if (d->clip.pic.release)
		d->clip.pic.release(&d->clip.pic);
	free(d->scratch);
	free(d);
}

/* ---- the events view (issue 17) ---- */

/* Everything on screen is drawn again (a new view). */
static void all_changed(struct hub_display *d)
{
	for (unsigned int i = 0; i < d->ncells; i++)
		changed(d, &d->cell[i]);
	d->clip.gen = ++d->gen_seq;
	forget_buffers(d);
	d->dirty = true;
}

int hub_display_set_view(struct hub_display *d, enum hub_display_view view)
{
	if ((unsigned int)view > DISPLAY_VIEW_CLIP)
		return -EINVAL;
	d->view = view;
	if (view != DISPLAY_VIEW_CLIP)
		hub_display_clip_unavailable(d, "",
					     "");	/* (the clip's picture given back) */
	all_changed(d);
	return flush(d);
}

enum hub_display_view hub_display_get_view(const struct hub_display *d)
{
	return d->view;
}

/* @p copied into t's own I420 memory; 0 or -ENOMEM. */
static int tile_copy(struct tile *t, const struct hub_picture *p)
{
	size_t w = p->width, h = p->height, cw = (w + 1) / 2, ch = (h + 1) / 2;
	uint8_t *mem = malloc(w * h + 2 * cw * ch);
	int ret;

	if (!mem)
		return -ENOMEM;
	if (p->format == HUB_PIX_NV12)
		ret = NV12ToI420(p->plane[0], (int)p->stride[0], p->plane[1], (int)p->stride[1],
				 mem, (int)w, mem + w * h, (int)cw, mem + w * h + cw * ch, (int)cw,
				 (int)w, (int)h);
	else
		ret = I420Copy(p->plane[0], (int)p->stride[0], p->plane[1], (int)p->stride[1],
			       p->plane[2], (int)p->stride[2], mem, (int)w, mem + w * h, (int)cw,
			       mem + w * h + cw * ch, (int)cw, (int)w, (int)h);
	if (ret) {
		free(mem);
		return -EIO;
	}
	free(t->mem);
	t->mem = mem;
	t->pic = *p;
	t->pic.format = HUB_PIX_I420;
	t->pic.plane[0] = mem;
	t->pic.plane[1] = mem + w * h;
	t->pic.plane[2] = mem + w * h + cw * ch;
	t->pic.stride[0] = w;
	t->pic.stride[1] = cw;
	t->pic.stride[2] = cw;
	t->pic.release = NULL;
	t->pic.priv = NULL;
	return 0;
}

int hub_display_event_tile(struct hub_display *d, unsigned int cam, unsigned int tile,
			   enum hub_display_tile kind, struct hub_picture *pic, uint64_t capture_ns,
			   const char *text)
{
	struct tile *t;
	int ret = 0;

	if (cam >= d->ncams || tile >= DISPLAY_EVENT_TILES ||
	    (kind == DISPLAY_TILE_THUMB && !picture_valid(pic)))
		ret = -EINVAL;
	if (!ret) {
		t = &d->tiles[cam][tile];
		if (kind == DISPLAY_TILE_THUMB) {
			ret = tile_copy(t, pic);
			t->pic.capture_ns = capture_ns;
		} else {
			free(t->mem);
			memset(t, 0, sizeof(*t));
		}
		if (!ret) {
			t->kind = kind;
			snprintf(t->text, sizeof(t->text), "%s", text ? text : "");
			changed(d, &d->cell[cam]);
		}
	}
	if (pic && pic->release)
		pic->release(pic);
	if (pic)
		memset(pic, 0, sizeof(*pic));
	return ret ? ret : d->view == DISPLAY_VIEW_EVENTS ? flush(d) : 0;
}

int hub_display_clip_show(struct hub_display *d, const char *name, struct hub_picture *frame)
{
	if (!picture_valid(frame)) {
		if (frame && frame->release)
			frame->release(frame);
		if (frame)
			memset(frame, 0, sizeof(*frame));
		return -EINVAL;
	}
	if (d->clip.pic.release)
		d->clip.pic.release(&d->clip.pic);
	d->clip.pic = *frame;
	memset(frame, 0, sizeof(*frame));
	d->clip.showing = true;
	snprintf(d->clip.name, sizeof(d->clip.name), "%s", name);
	d->clip.gen = ++d->gen_seq;
	d->dirty = true;
	return d->view == DISPLAY_VIEW_CLIP ? flush(d) : 0;
}

int hub_display_clip_unavailable(struct hub_display *d, const char *name, const char *why)
{
	if (d->clip.pic.release)
		d->clip.pic.release(&d->clip.pic);
	memset(&d->clip.pic, 0, sizeof(d->clip.pic));
	d->clip.showing = false;
	snprintf(d->clip.name, sizeof(d->clip.name), "%s", name);
	snprintf(d->clip.text, sizeof(d->clip.text), "(%s)", why);
	d->clip.gen = ++d->gen_seq;
	d->dirty = true;
	return d->view == DISPLAY_VIEW_CLIP ? flush(d) : 0;
}
