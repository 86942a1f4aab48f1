/* SPDX-License-Identifier: GPL-2.0 */
/*
 * colour - the hub's few YCbCr colour conversions that libyuv does not
 * have: one colour (the hub's own drawings) from RGB into a given
 * colorimetry, and a 4:2:0 picture from one colorimetry into another, in
 * place (a camera's picture in an output of another matrix or range).
 */
#ifndef VERACAM_HUB_COLOUR_H
#define VERACAM_HUB_COLOUR_H

#include <stdbool.h>
#include <stdint.h>

#include "picture.h"

struct hub_colorimetry {
	enum hub_matrix matrix;
	bool full_range;
};

/* 0xRRGGBB as 8-bit Y, Cb, Cr of @cs (rounded, clamped). */
void hub_colour_ycc(const struct hub_colorimetry *cs, uint32_t rgb, uint8_t ycc[3]);

/*
 * From @from to @to, per sample in fixed point: luma from the luma and its
 * 2x2 block's chroma, chroma from the chroma (the two matrices share R, G
 * and B, so nothing else enters).
 */
struct hub_colour_xform {
	int32_t y, y_cb, y_cr, y_off;		/* Y' = y Y + y_cb Cb + y_cr Cr + y_off */
	int32_t cb_cb, cb_cr, cr_cb, cr_cr;	/* Cb', Cr' from Cb - 128, Cr - 128 */
};

/* False if @from and @to are the same: nothing to convert. */
bool hub_colour_xform_init(struct hub_colour_xform *x, const struct hub_colorimetry *from,
			   const struct hub_colorimetry *to);

/* Convert the w x h I420 rectangle (w, h even) at the three planes in place. */
void hub_colour_xform_i420(const struct hub_colour_xform *x, uint8_t *py, int ys,
			   uint8_t *pu, int us, uint8_t *pv, int vs, int w, int h);

#endif
