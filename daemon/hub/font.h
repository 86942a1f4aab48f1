/* SPDX-License-Identifier: GPL-2.0 */
/*
 * font - the hub's own 5x7 bitmap font for its badge and its
 * "stream unavailable" screen.
 *
 * Upper-case letters, digits and a little punctuation; lower case is drawn
 * as upper case, anything else as '?'. A glyph cell is FONT_ADVANCE x
 * FONT_LINE pixels at scale 1 (one blank column and one blank row).
 */
#ifndef VERACAM_HUB_FONT_H
#define VERACAM_HUB_FONT_H

#include "canvas.h"

#define FONT_W		5
#define FONT_H		7
#define FONT_ADVANCE	(FONT_W + 1)
#define FONT_LINE	(FONT_H + 2)

/* Width in pixels of the first len characters of s at scale. */
unsigned int hub_font_width(size_t len, unsigned int scale);

/* Draw at most len characters of s with its top-left corner at (x, y),
 * clipped to the canvas. */
void hub_font_draw(const struct hub_canvas *c, int x, int y, const char *s,
		   size_t len, unsigned int scale, uint32_t colour);

#endif
