// SPDX-License-Identifier: GPL-2.0
/*
 * colour - RGB <-> YCbCr for BT.601 / BT.709, limited or full range, in
 * double for what is computed once (a colour, a conversion's
 * coefficients), in 16.16 fixed point per sample.
 */
#include <math.h>

#include "colour.h"

#define FIX		16
#define FIX_ONE		(1 << FIX)

struct coeffs {
	double kr, kb;		/* luma weights of R and B */
	double y0, ys, cs;	/* luma offset and scale, chroma scale (code values) */
};

static struct coeffs coeffs(const struct hub_colorimetry *c)
{
	struct coeffs k;

	if (c->matrix == HUB_MATRIX_BT709) {
		k.kr = 0.2126;
		k.kb = 0.0722;
	} else {
		k.kr = 0.299;
		k.kb = 0.114;
	}
	k.y0 = c->full_range ? 0 : 16;
	k.ys = c->full_range ? 255 : 219;
	k.cs = c->full_range ? 255 : 224;
	return k;
}

/* Code values -> R, G, B in 0..1 (not clamped). */
static void ycc_to_rgb(const struct hub_colorimetry *c, const double ycc[3], double rgb[3])
{
	struct coeffs k = coeffs(c);
	double y = (ycc[0] - k.y0) / k.ys;
	double pb = (ycc[1] - 128) / k.cs, pr = (ycc[2] - 128) / k.cs;

	rgb[0] = y + 2 * (1 - k.kr) * pr;
	rgb[2] = y + 2 * (1 - k.kb) * pb;
	rgb[1] = (y - k.kr * rgb[0] - k.kb * rgb[2]) / (1 - k.kr - k.kb);
}

/* R, G, B in 0..1 -> code values (not rounded or clamped). */
static void rgb_to_ycc(const struct hub_colorimetry *c, const double rgb[3], double ycc[3])
{
	struct coeffs k = coeffs(c);
	double y = k.kr * rgb[0] + (1 - k.kr - k.kb) * rgb[1] + k.kb * rgb[2];

	ycc[0] = k.y0 + k.ys * y;
	ycc[1] = 128 + k.cs * (rgb[2] - y) / (2 * (1 - k.kb));
	ycc[2] = 128 + k.cs * (rgb[0] - y) / (2 * (1 - k.kr));
}

static uint8_t clamp8(long v)
{
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

void hub_colour_ycc(const struct hub_colorimetry *cs, uint32_t rgb, uint8_t ycc[3])
{
	double in[3] = { (rgb >> 16 & 0xff) / 255.0, (rgb >> 8 & 0xff) / 255.0,
			 (rgb & 0xff) / 255.0 }, out[3];

	rgb_to_ycc(cs, in, out);
	for (int i = 0; i < 3; i++)
		ycc[i] = clamp8(lround(out[i]));
}

static long fix(double v)
{
	return lround(v * FIX_ONE);
}

bool hub_colour_xform_init(struct hub_colour_xform *x, const struct hub_colorimetry *from,
			   const struct hub_colorimetry *to)
{
	/* the conversion is affine: its value at (0, 128, 128) and its slopes */
	static const double at[4][3] = {
		{ 0, 128, 128 }, { 100, 128, 128 }, { 0, 228, 128 }, { 0, 128, 228 },
	};
	double f[4][3], rgb[3];

	if (from->matrix == to->matrix && from->full_range == to->full_range)
		return false;
	for (int i = 0; i < 4; i++) {
		ycc_to_rgb(from, at[i], rgb);
		rgb_to_ycc(to, rgb, f[i]);
	}
	/* luma from Y and the chroma; chroma from the chroma only (128 stays 128) */
	x->y = (int32_t)fix((f[1][0] - f[0][0]) / 100);
	x->y_cb = (int32_t)fix((f[2][0] - f[0][0]) / 100);
	x->y_cr = (int32_t)fix((f[3][0] - f[0][0]) / 100);
	x->y_off = (int32_t)fix(f[0][0]) + FIX_ONE / 2;
	x->cb_cb = (int32_t)fix((f[2][1] - f[0][1]) / 100);
	x->cb_cr = (int32_t)fix((f[3][1] - f[0][1]) / 100);
	x->cr_cb = (int32_t)fix((f[2][2] - f[0][2]) / 100);
	x->cr_cr = (int32_t)fix((f[3][2] - f[0][2]) / 100);
	return true;
}

static uint8_t fixed_to8(int32_t v)
{
	return v < 0 ? 0 : v >= 256 * FIX_ONE ? 255 : (uint8_t)(v >> FIX);
}

void hub_colour_xform_i420(const struct hub_colour_xform *x, uint8_t *py, int ys,
			   uint8_t *pu, int us, uint8_t *pv, int vs, int w, int h)
{
	const int32_t c_off = 128 * FIX_ONE + FIX_ONE / 2;

	for (int j = 0; j < h / 2; j++) {
		uint8_t *y0 = py + (size_t)2 * j * ys, *y1 = y0 + ys;
		uint8_t *u = pu + (size_t)j * us, *v = pv + (size_t)j * vs;

		for (int i = 0; i < w / 2; i++) {
			int32_t cb = u[i] - 128, cr = v[i] - 128;
			int32_t d = x->y_cb * cb + x->y_cr * cr + x->y_off;

			y0[2 * i] = fixed_to8(x->y * y0[2 * i] + d);
			y0[2 * i + 1] = fixed_to8(x->y * y0[2 * i + 1] + d);
			y1[2 * i] = fixed_to8(x->y * y1[2 * i] + d);
			y1[2 * i + 1] = fixed_to8(x->y * y1[2 * i + 1] + d);
			u[i] = fixed_to8(x->cb_cb * cb + x->cb_cr * cr + c_off);
			v[i] = fixed_to8(x->cr_cb * cb + x->cr_cr * cr + c_off);
		}
	}
}
