/* SPDX-License-Identifier: GPL-2.0 */
/*
 * canvas - a pixel rectangle the hub draws into: XRGB8888 (a KMS buffer)
 * or 8-bit I420 (a y4m frame) in a given colorimetry.
 *
 * The hub composes every picture it shows on its own memory: a canvas
 * is a view of width x height pixels. An I420 canvas starts at even
 * coordinates of its planes; a fill covers its pixels' luma exactly and
 * the chroma of every 2x2 block it touches (the last fill of a block sets
 * its colour). Nothing here allocates.
 */
#ifndef VERACAM_HUB_CANVAS_H
#define VERACAM_HUB_CANVAS_H

#include <stddef.h>
#include <stdint.h>

#include "colour.h"

enum hub_canvas_format {
	CANVAS_XRGB8888,
	CANVAS_I420,
};

struct hub_canvas {
	enum hub_canvas_format format;
	uint8_t *plane[3];	/* XRGB8888: [0]; I420: Y, Cb, Cr */
	size_t pitch[3];	/* bytes from one row to the next */
	struct hub_colorimetry cs;	/* I420 */
	unsigned int width;
	unsigned int height;
};

/* Fill the rectangle (x, y, w, h), clipped to the canvas, with colour
 * (0xRRGGBB). */
void hub_canvas_fill(const struct hub_canvas *c, int x, int y, int w, int h,
		     uint32_t colour);

#endif
