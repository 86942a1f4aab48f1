// SPDX-License-Identifier: GPL-2.0-only
/*
 * veracam - pixel generator of the simulated sensor
 *
 * The test patterns come from the kernel's test pattern generator (v4l2-tpg,
 * which the Kconfig selects), which also applies the flips and the crop and
 * scale. The default pattern, standing for the scene, is a solid field of
 * the camera's own colour, lit by the exposure and gains.
 *
 * Drawn last, so that flips never touch them, are the frame tag of
 * include/uapi/linux/veracam.h (two rows of cells: sequence and camera
 * tag) and a text line for people.
 */

#include <linux/font.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/string.h>

#include "veracam.h"

#define VERACAM_WHITE	0xffffffU
#define VERACAM_BLACK	0x000000U

static const u32 veracam_camera_colours[] = VERACAM_CAMERA_COLOURS;
#define VERACAM_NUM_COLOURS	ARRAY_SIZE(veracam_camera_colours)

/* BT.601 limited range, as sim-sensor.h specifies for the frame tag */
static void veracam_rgb_to_ycbcr(u32 rgb, u8 *y, u8 *cb, u8 *cr)
{
	int r = (rgb >> 16) & 0xff;
	int g = (rgb >> 8) & 0xff;
	int b = rgb & 0xff;

	*y = 16 + (66 * r + 129 * g + 25 * b + 128) / 256;
	/* offset by 128.5 * 256 to divide non-negative values only */
	*cb = (-38 * r - 74 * g + 112 * b + 32896) / 256;
	*cr = (112 * r - 94 * g - 18 * b + 32896) / 256;
}

/* Fill @w pixels of one line at @p with a colour. */
static void veracam_fill_line(u32 fourcc, u8 *p, u32 w, u32 rgb)
{
	u8 r = rgb >> 16, g = rgb >> 8, b = rgb;
	u8 luma, cb, cr;
	u32 col;

	veracam_rgb_to_ycbcr(rgb, &luma, &cb, &cr);
	switch (fourcc) {
	case V4L2_PIX_FMT_YUYV:
		for (col = 0; col < w; col += 2, p += 4) {
			p[0] = luma;
			p[1] = cb;
			p[2] = luma;
			p[3] = cr;
		}
		break;
	case V4L2_PIX_FMT_NV12:
		/* the chroma line: CbCr pairs */
		for (col = 0; col < w; col += 2, p += 2) {
			p[0] = cb;
			p[1] = cr;
		}
		break;
	case V4L2_PIX_FMT_RGB24:
		for (col = 0; col < w; col++, p += 3) {
			p[0] = r;
			p[1] = g;
			p[2] = b;
		}
		break;
	case V4L2_PIX_FMT_XBGR32:
		for (col = 0; col < w; col++, p += 4) {
			p[0] = b;
			p[1] = g;
			p[2] = r;
			p[3] = 0;
		}
		break;
	}
}

/*
 * Fill a rectangle: its first line, then copies of it. x and the width
 * are rounded to even for 4:2:x formats.
 */
static void veracam_fill_rect(const struct veracam_gen *gen, u8 *vaddr,
			      u32 x, u32 y, u32 w, u32 h, u32 rgb)
{
	u32 bpl = gen->bytesperline;
	u32 row, last, offset, len;
	u8 luma, cb, cr;

	x = ALIGN_DOWN(x, 2);
	if (x >= gen->width || y >= gen->height || !h)
		return;
	w = min(ALIGN(w, 2), gen->width - x);
	h = min(h, gen->height - y);
	last = y + h;

	switch (gen->fourcc) {
	case V4L2_PIX_FMT_NV12:
		veracam_rgb_to_ycbcr(rgb, &luma, &cb, &cr);
		for (row = y; row < last; row++)
			memset(vaddr + row * bpl + x, luma, w);
		/* then the chroma plane, at half the height */
		vaddr += bpl * gen->height;
		y /= 2;
		last = (last + 1) / 2;
		offset = x;
		len = w;
		break;
	case V4L2_PIX_FMT_YUYV:
		offset = x * 2;
		len = w * 2;
		break;
	case V4L2_PIX_FMT_RGB24:
		offset = x * 3;
		len = w * 3;
		break;
	default:
		offset = x * 4;
		len = w * 4;
		break;
	}

	veracam_fill_line(gen->fourcc, vaddr + y * bpl + offset, w, rgb);
	for (row = y + 1; row < last; row++)
		memcpy(vaddr + row * bpl + offset, vaddr + y * bpl + offset,
		       len);
}

/*
 * A white square of @size pixels on the black text box: the chroma of
 * the box is already neutral, so only luma is written for YUV formats.
 */
static void veracam_put_white(const struct veracam_gen *gen, u8 *vaddr,
			      u32 x, u32 y, u32 size)
{
	u32 bpl = gen->bytesperline;
	u32 row, col;
	u8 *p;

	for (row = y; row < y + size && row < gen->height; row++) {
		for (col = x; col < x + size && col < gen->width; col++) {
			p = vaddr + row * bpl;
			switch (gen->fourcc) {
			case V4L2_PIX_FMT_YUYV:
				p[col * 2] = 235;
				break;
			case V4L2_PIX_FMT_NV12:
				p[col] = 235;
				break;
			case V4L2_PIX_FMT_RGB24:
				memset(p + col * 3, 0xff, 3);
				break;
			case V4L2_PIX_FMT_XBGR32:
				memset(p + col * 4, 0xff, 3);
				break;
			}
		}
	}
}

static void veracam_draw_tag_row(const struct veracam_gen *gen, u8 *vaddr,
				 u32 row, u32 value, u32 cell)
{
	unsigned int i;
	bool white;

	for (i = 0; i < VERACAM_TAG_CELLS; i++) {
		if (i == 0 || i == VERACAM_TAG_CELLS - 1)
			white = true;
		else if (i == 1 || i == VERACAM_TAG_CELLS - 2)
			white = false;
		else
			white = value & BIT(31 - (i - 2));
		veracam_fill_rect(gen, vaddr, i * cell, row * cell, cell, cell,
				  white ? VERACAM_WHITE : VERACAM_BLACK);
	}
}

/* "veracam <index> <tag> #<sequence>" in white on a black box */
static void veracam_draw_text(const struct veracam_gen *gen, u8 *vaddr,
			      u32 y, u32 cell, u32 sequence)
{
	const struct font_desc *font = gen->font;
	u32 scale = max(1U, cell / 16);
	unsigned int len, n, row, col;
	const u8 *glyph;
	char text[40];

	if (!font)
		return;

	len = scnprintf(text, sizeof(text), "veracam %u %08x #%u",
			gen->index, gen->tag, sequence);
	len = min(len, gen->width / (font->width * scale) - 2);

	veracam_fill_rect(gen, vaddr, 0, y, (len + 2) * font->width * scale,
			  ALIGN((font->height + 2) * scale, 2), VERACAM_BLACK);

	for (n = 0; n < len; n++) {
		u32 x0 = (n + 1) * font->width;

		glyph = (const u8 *)font->data + (u8)text[n] * font->height;
		for (row = 0; row < font->height; row++)
			for (col = 0; col < font->width; col++)
				if (glyph[row] & (0x80 >> col))
					veracam_put_white(gen, vaddr,
							  (x0 + col) * scale,
							  y + (row + 1) * scale,
							  scale);
	}
}

static const enum tpg_pattern veracam_tpg_patterns[] = {
	[VERACAM_PATTERN_COLOUR_BARS] = TPG_PAT_100_COLORBAR,
	[VERACAM_PATTERN_CHECKERBOARD] = TPG_PAT_CHECKERS_16X16,
	[VERACAM_PATTERN_BLACK] = TPG_PAT_BLACK,
};

static void veracam_gen_pattern(struct veracam_gen *gen, u8 *vaddr,
				const struct veracam_regs *regs)
{
	struct tpg_data *tpg = &gen->tpg;
	unsigned int p;

	tpg_s_pattern(tpg, veracam_tpg_patterns[regs->pattern]);
	tpg_s_hflip(tpg, regs->hflip);
	tpg_s_vflip(tpg, regs->vflip);

	/* the planes of a multi-planar format follow each other */
	for (p = 0; p < tpg_g_planes(tpg); p++) {
		tpg_fill_plane_buffer(tpg, 0, p, vaddr);
		vaddr += tpg_g_bytesperline(tpg, p) * gen->height /
			 tpg->vdownsampling[p];
	}
}

/*
 * The scene (the camera's colour) as the sensor sees it: brighter or
 * darker in proportion to exposure x analogue gain x digital gain against
 * the sensor's defaults, each channel clipped at full scale; exactly the
 * camera's colour at the defaults. The test patterns are injected after
 * the sensor's analogue chain, as a real sensor's are: they do not change.
 */
static u32 veracam_scene_colour(u32 rgb, const struct veracam_regs *regs)
{
	u64 num = (u64)regs->exposure * regs->analogue_gain *
		  regs->digital_gain;
	u64 den = (u64)regs->exposure_def * regs->analogue_gain_def *
		  regs->digital_gain_def;
	u32 out = 0;
	int shift;

	if (num == den || !den)
		return rgb;
	for (shift = 16; shift >= 0; shift -= 8) {
		u64 c = div64_u64(((rgb >> shift) & 0xff) * num, den);

		out |= (u32)min_t(u64, c, 0xff) << shift;
	}
	return out;
}

void veracam_gen_frame(struct veracam_gen *gen, u8 *vaddr,
		       const struct veracam_regs *regs, u32 sequence)
{
	u32 cell = veracam_tag_cell_size(gen->width);

	if (regs->pattern == VERACAM_PATTERN_CAMERA_COLOUR)
		veracam_fill_rect(gen, vaddr, 0, 0, gen->width, gen->height,
				  veracam_scene_colour(gen->colour, regs));
	else
		veracam_gen_pattern(gen, vaddr, regs);

	veracam_draw_tag_row(gen, vaddr, 0, sequence, cell);
	veracam_draw_tag_row(gen, vaddr, 1, gen->tag, cell);
	veracam_draw_text(gen, vaddr, 2 * cell, cell, sequence);
}

void veracam_gen_configure(struct veracam_gen *gen,
			   const struct v4l2_pix_format *pix,
			   const struct v4l2_rect *crop)
{
	struct v4l2_rect compose = {
		.width = pix->width,
		.height = pix->height,
	};
	struct tpg_data *tpg = &gen->tpg;

	tpg_reset_source(tpg, VERACAM_MAX_WIDTH, VERACAM_MAX_HEIGHT,
			 V4L2_FIELD_NONE);
	tpg_s_fourcc(tpg, pix->pixelformat);
	tpg_s_colorspace(tpg, pix->colorspace);
	tpg_s_xfer_func(tpg, pix->xfer_func);
	tpg_s_ycbcr_enc(tpg, pix->ycbcr_enc);
	tpg_s_quantization(tpg, pix->quantization);
	tpg_s_buf_height(tpg, pix->height);
	tpg_s_bytesperline(tpg, 0, pix->bytesperline);
	tpg_s_crop_compose(tpg, crop, &compose);
	gen->fourcc = pix->pixelformat;
	gen->width = pix->width;
	gen->height = pix->height;
	gen->bytesperline = pix->bytesperline;
}

int veracam_gen_init(struct veracam_gen *gen, unsigned int index, u32 tag)
{
	gen->index = index;
	gen->tag = tag;
	gen->colour = veracam_camera_colours[index % VERACAM_NUM_COLOURS];
	gen->font = IS_ENABLED(CONFIG_FONT_SUPPORT) ? find_font("VGA8x16") :
						       NULL;
	tpg_init(&gen->tpg, VERACAM_MAX_WIDTH, VERACAM_MAX_HEIGHT);
	return tpg_alloc(&gen->tpg, VERACAM_MAX_WIDTH);
}

void veracam_gen_free(struct veracam_gen *gen)
{
	tpg_free(&gen->tpg);
}
