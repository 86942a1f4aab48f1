/* SPDX-License-Identifier: GPL-2.0 */
/*
 * canvas - an XRGB8888 pixel rectangle the hub draws into.
 *
 * The hub composes every picture it shows on its own memory: a canvas
 * is a view of width x height pixels, stride pixels apart from one row to
 * the next. Nothing here allocates.
 */
#ifndef VERACAM_HUB_CANVAS_H
#define VERACAM_HUB_CANVAS_H

#include <stddef.h>
#include <stdint.h>

struct canvas {
	uint32_t *px;
	size_t stride;		/* in pixels */
	unsigned int width;
	unsigned int height;
};

/* Fill the rectangle (x, y, w, h), clipped to the canvas, with colour. */
void canvas_fill(const struct canvas *c, int x, int y, int w, int h,
		 uint32_t colour);

#endif
