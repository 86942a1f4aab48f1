// SPDX-License-Identifier: GPL-2.0-only
/*
 * frametag.c - the burned-in frame tag of <veracam/sim-sensor.h>.
 *
 * Two rows of 36 square cells at the top-left corner: the sequence row and
 * the camera row (white = 1, black = 0, guard cells white/black at each
 * end). veracam.ko draws them in the kernel; the pattern source draws the
 * same rows, so one reader tells frames and cameras apart for both, also
 * after an H.264 round trip.
 */
#include <string.h>

#include "camera.h"

#define LUMA_WHITE	235
#define LUMA_BLACK	16
#define LUMA_MID	126
#define CHROMA_NEUTRAL	128

static bool tag_format_ok(const GstVideoFrame *vf)
{
	switch (GST_VIDEO_FRAME_FORMAT(vf)) {
	case GST_VIDEO_FORMAT_NV12:
	case GST_VIDEO_FORMAT_I420:
	case GST_VIDEO_FORMAT_YUY2:
		return true;
	default:
		return false;
	}
}

static uint8_t *luma_at(const GstVideoFrame *vf, unsigned x, unsigned y)
{
	uint8_t *p = GST_VIDEO_FRAME_PLANE_DATA(vf, 0);
	int stride = GST_VIDEO_FRAME_PLANE_STRIDE(vf, 0);

	if (GST_VIDEO_FRAME_FORMAT(vf) == GST_VIDEO_FORMAT_YUY2)
		return p + (size_t)y * stride + 2 * x;
	return p + (size_t)y * stride + x;
}

/* Fill a rectangle with luma @y and neutral chroma; x0, w even. */
static void fill_grey(GstVideoFrame *vf, unsigned x0, unsigned y0,
		      unsigned w, unsigned h, uint8_t luma)
{
	GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT(vf);

	for (unsigned y = y0; y < y0 + h; y++) {
		uint8_t *row = luma_at(vf, x0, y);

		if (fmt == GST_VIDEO_FORMAT_YUY2) {
			for (unsigned x = 0; x < w; x++) {
				row[2 * x] = luma;
				row[2 * x + 1] = CHROMA_NEUTRAL;
			}
		} else {
			memset(row, luma, w);
		}
	}
	if (fmt == GST_VIDEO_FORMAT_YUY2)
		return;

	for (unsigned y = y0 / 2; y < (y0 + h) / 2; y++) {
		if (fmt == GST_VIDEO_FORMAT_NV12) {
			uint8_t *uv = (uint8_t *)GST_VIDEO_FRAME_PLANE_DATA(vf, 1) +
				      (size_t)y * GST_VIDEO_FRAME_PLANE_STRIDE(vf, 1);

			memset(uv + x0, CHROMA_NEUTRAL, w);
		} else {
			for (int p = 1; p <= 2; p++) {
				uint8_t *c = (uint8_t *)GST_VIDEO_FRAME_PLANE_DATA(vf, p) +
					     (size_t)y * GST_VIDEO_FRAME_PLANE_STRIDE(vf, p);

				memset(c + x0 / 2, CHROMA_NEUTRAL, w / 2);
			}
		}
	}
}

static bool cell_value(int cell, uint32_t value)
{
	if (cell == 0 || cell == VERACAM_TAG_CELLS - 1)
		return true;
	if (cell == 1 || cell == VERACAM_TAG_CELLS - 2)
		return false;
	return (value >> (31 - (cell - 2))) & 1;
}

static bool tag_fits(const GstVideoFrame *vf, unsigned c)
{
	return (unsigned)GST_VIDEO_FRAME_WIDTH(vf) >= VERACAM_TAG_CELLS * c &&
	       (unsigned)GST_VIDEO_FRAME_HEIGHT(vf) >= VERACAM_TAG_ROWS * c;
}

void cam_tag_draw(GstVideoFrame *vf, uint32_t sequence, uint32_t camera_tag)
{
	unsigned c = veracam_tag_cell_size(GST_VIDEO_FRAME_WIDTH(vf));

	if (!tag_format_ok(vf) || !tag_fits(vf, c))
		return;
	for (int row = 0; row < VERACAM_TAG_ROWS; row++) {
		uint32_t value = row == 0 ? sequence : camera_tag;

		for (int cell = 0; cell < VERACAM_TAG_CELLS; cell++)
			fill_grey(vf, cell * c, row * c, c, c,
				  cell_value(cell, value) ? LUMA_WHITE : LUMA_BLACK);
	}
}

bool cam_tag_read(const GstVideoFrame *vf, uint32_t *sequence, uint32_t *camera_tag)
{
	unsigned c = veracam_tag_cell_size(GST_VIDEO_FRAME_WIDTH(vf));
	uint32_t values[VERACAM_TAG_ROWS] = { 0 };

	if (!tag_format_ok(vf) || !tag_fits(vf, c))
		return false;
	for (int row = 0; row < VERACAM_TAG_ROWS; row++) {
		for (int cell = 0; cell < VERACAM_TAG_CELLS; cell++) {
			bool bit = *luma_at(vf, cell * c + c / 2, row * c + c / 2) > LUMA_MID;

			if (cell < 2 || cell >= VERACAM_TAG_CELLS - 2) {
				if (bit != cell_value(cell, 0))
					return false;
			} else {
				values[row] = values[row] << 1 | bit;
			}
		}
	}
	*sequence = values[0];
	*camera_tag = values[1];
	return true;
}

void cam_frame_mean_rgb(const GstVideoFrame *vf, unsigned frac_pct, double rgb[3])
{
	unsigned w = GST_VIDEO_FRAME_WIDTH(vf), h = GST_VIDEO_FRAME_HEIGHT(vf);
	unsigned bw = w * frac_pct / 100 & ~1u, bh = h * frac_pct / 100 & ~1u;
	unsigned x0 = (w - bw) / 2 & ~1u, y0 = (h - bh) / 2 & ~1u;
	GstVideoFormat fmt = GST_VIDEO_FRAME_FORMAT(vf);
	double sy = 0, su = 0, sv = 0, kr, kb, yo, ys, cs;
	uint64_t n = 0;

	rgb[0] = rgb[1] = rgb[2] = 0;
	if (!tag_format_ok(vf) || !bw || !bh)
		return;
	for (unsigned y = y0; y < y0 + bh; y += 2) {
		for (unsigned x = x0; x < x0 + bw; x += 2) {
			const uint8_t *l = luma_at(vf, x, y);
			unsigned u, v;

			if (fmt == GST_VIDEO_FORMAT_YUY2) {
				u = l[1];
				v = l[3];
			} else if (fmt == GST_VIDEO_FORMAT_NV12) {
				const uint8_t *uv = (const uint8_t *)GST_VIDEO_FRAME_PLANE_DATA(vf, 1) +
						    (size_t)(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE(vf, 1) + x;
				u = uv[0];
				v = uv[1];
			} else {
				u = ((const uint8_t *)GST_VIDEO_FRAME_PLANE_DATA(vf, 1))
					[(size_t)(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE(vf, 1) + x / 2];
				v = ((const uint8_t *)GST_VIDEO_FRAME_PLANE_DATA(vf, 2))
					[(size_t)(y / 2) * GST_VIDEO_FRAME_PLANE_STRIDE(vf, 2) + x / 2];
			}
			sy += l[0];
			su += u;
			sv += v;
			n++;
		}
	}
	sy /= n;
	su /= n;
	sv /= n;

	if (!gst_video_color_matrix_get_Kr_Kb(vf->info.colorimetry.matrix, &kr, &kb)) {
		kr = 0.299;
		kb = 0.114;
	}
	if (vf->info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255) {
		yo = 0;
		ys = 1;
		cs = 1;
	} else {
		yo = 16;
		ys = 255.0 / 219.0;
		cs = 255.0 / 224.0;
	}
	{
		double Y = (sy - yo) * ys, U = (su - 128) * cs, V = (sv - 128) * cs;
		double kg = 1 - kr - kb;

		rgb[0] = Y + 2 * (1 - kr) * V;
		rgb[2] = Y + 2 * (1 - kb) * U;
		rgb[1] = (Y - kr * rgb[0] - kb * rgb[2]) / kg;
	}
	for (int i = 0; i < 3; i++)
		rgb[i] = CLAMP(rgb[i], 0.0, 255.0);
}

/* 3x5 digits: five rows of 3 bits, top row in bits 14..12, MSB = left. */
static const uint16_t digit_font[10] = {
	0x7b6f, 0x2c97, 0x73e7, 0x73cf, 0x5bc9,
	0x79cf, 0x79ef, 0x7249, 0x7bef, 0x7bcf,
};

void cam_tag_draw_number(GstVideoFrame *vf, unsigned x, unsigned y,
			unsigned scale, uint32_t value, unsigned width)
{
	char digits[13];
	int n = g_snprintf(digits, sizeof(digits) - 1, "%0*u", (int)MIN(width, 10u), value);
	unsigned w, h, sum = 0;

	/*
	 * A check digit after the number makes the digit sum a multiple of
	 * ten: a reader that gets one digit wrong (5 and 6 differ in one
	 * block of the 3x5 font) finds the sum off and rejects the reading.
	 */
	for (int i = 0; i < n; i++)
		sum += (unsigned)(digits[i] - '0');
	digits[n++] = (char)('0' + (10 - sum % 10) % 10);
	digits[n] = '\0';

	scale &= ~1u;
	w = (unsigned)n * 4 * scale + scale;
	h = 7 * scale;
	x &= ~1u;
	y &= ~1u;
	if (!tag_format_ok(vf) || !scale ||
	    x + w > (unsigned)GST_VIDEO_FRAME_WIDTH(vf) || y + h > (unsigned)GST_VIDEO_FRAME_HEIGHT(vf))
		return;
	fill_grey(vf, x, y, w, h, LUMA_BLACK);
	for (int i = 0; i < n; i++) {
		unsigned glyph = digit_font[digits[i] - '0'];

		for (unsigned row = 0; row < 5; row++)
			for (unsigned col = 0; col < 3; col++)
				if (glyph >> (14 - 3 * row - col) & 1)
					fill_grey(vf, x + scale + (unsigned)i * 4 * scale + col * scale,
						  y + scale + row * scale, scale, scale, LUMA_WHITE);
	}
}
