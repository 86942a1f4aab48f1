// SPDX-License-Identifier: GPL-2.0
/*
 * font - the hub's own 5x7 bitmap font and canvas helpers.
 *
 * The glyphs were drawn for veracam, one string per row ('#' = ink),
 * so the shapes stay readable and reviewable in the source.
 */
#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "font.h"

struct glyph {
	char c;
	char rows[FONT_H][FONT_W + 1];
};

static const struct glyph glyphs[] = {
	{ ' ', { "     ", "     ", "     ", "     ", "     ", "     ", "     " } },
	{ 'A', { " ### ", "#   #", "#   #", "#####", "#   #", "#   #", "#   #" } },
	{ 'B', { "#### ", "#   #", "#   #", "#### ", "#   #", "#   #", "#### " } },
	{ 'C', { " ####", "#    ", "#    ", "#    ", "#    ", "#    ", " ####" } },
	{ 'D', { "#### ", "#   #", "#   #", "#   #", "#   #", "#   #", "#### " } },
	{ 'E', { "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#####" } },
	{ 'F', { "#####", "#    ", "#    ", "#### ", "#    ", "#    ", "#    " } },
	{ 'G', { " ####", "#    ", "#    ", "#  ##", "#   #", "#   #", " ####" } },
	{ 'H', { "#   #", "#   #", "#   #", "#####", "#   #", "#   #", "#   #" } },
	{ 'I', { "#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "#####" } },
	{ 'J', { "  ###", "   # ", "   # ", "   # ", "   # ", "#  # ", " ##  " } },
	{ 'K', { "#   #", "#  # ", "# #  ", "##   ", "# #  ", "#  # ", "#   #" } },
	{ 'L', { "#    ", "#    ", "#    ", "#    ", "#    ", "#    ", "#####" } },
	{ 'M', { "#   #", "## ##", "# # #", "# # #", "#   #", "#   #", "#   #" } },
	{ 'N', { "#   #", "##  #", "##  #", "# # #", "#  ##", "#  ##", "#   #" } },
	{ 'O', { " ### ", "#   #", "#   #", "#   #", "#   #", "#   #", " ### " } },
	{ 'P', { "#### ", "#   #", "#   #", "#### ", "#    ", "#    ", "#    " } },
	{ 'Q', { " ### ", "#   #", "#   #", "#   #", "# # #", "#  # ", " ## #" } },
	{ 'R', { "#### ", "#   #", "#   #", "#### ", "# #  ", "#  # ", "#   #" } },
	{ 'S', { " ####", "#    ", "#    ", " ### ", "    #", "    #", "#### " } },
	{ 'T', { "#####", "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "  #  " } },
	{ 'U', { "#   #", "#   #", "#   #", "#   #", "#   #", "#   #", " ### " } },
	{ 'V', { "#   #", "#   #", "#   #", "#   #", " # # ", " # # ", "  #  " } },
	{ 'W', { "#   #", "#   #", "#   #", "# # #", "# # #", "## ##", "#   #" } },
	{ 'X', { "#   #", "#   #", " # # ", "  #  ", " # # ", "#   #", "#   #" } },
	{ 'Y', { "#   #", "#   #", " # # ", "  #  ", "  #  ", "  #  ", "  #  " } },
	{ 'Z', { "#####", "    #", "   # ", "  #  ", " #   ", "#    ", "#####" } },
	{ '0', { " ### ", "#   #", "#  ##", "# # #", "##  #", "#   #", " ### " } },
	{ '1', { "  #  ", " ##  ", "# #  ", "  #  ", "  #  ", "  #  ", "#####" } },
	{ '2', { " ### ", "#   #", "    #", "   # ", "  #  ", " #   ", "#####" } },
	{ '3', { "#####", "   # ", "  #  ", "   # ", "    #", "#   #", " ### " } },
	{ '4', { "   # ", "  ## ", " # # ", "#  # ", "#####", "   # ", "   # " } },
	{ '5', { "#####", "#    ", "#### ", "    #", "    #", "#   #", " ### " } },
	{ '6', { "  ## ", " #   ", "#    ", "#### ", "#   #", "#   #", " ### " } },
	{ '7', { "#####", "    #", "   # ", "  #  ", " #   ", " #   ", " #   " } },
	{ '8', { " ### ", "#   #", "#   #", " ### ", "#   #", "#   #", " ### " } },
	{ '9', { " ### ", "#   #", "#   #", " ####", "    #", "   # ", " ##  " } },
	{ '-', { "     ", "     ", "     ", " ### ", "     ", "     ", "     " } },
	{ '_', { "     ", "     ", "     ", "     ", "     ", "     ", "#####" } },
	{ '.', { "     ", "     ", "     ", "     ", "     ", "     ", "  #  " } },
	{ ',', { "     ", "     ", "     ", "     ", "     ", "  #  ", " #   " } },
	{ ':', { "     ", "     ", "  #  ", "     ", "     ", "  #  ", "     " } },
	{ '/', { "    #", "    #", "   # ", "  #  ", " #   ", "#    ", "#    " } },
	{ '(', { "   # ", "  #  ", " #   ", " #   ", " #   ", "  #  ", "   # " } },
	{ ')', { " #   ", "  #  ", "   # ", "   # ", "   # ", "  #  ", " #   " } },
	{ '+', { "     ", "  #  ", "  #  ", "#####", "  #  ", "  #  ", "     " } },
	{ '!', { "  #  ", "  #  ", "  #  ", "  #  ", "  #  ", "     ", "  #  " } },
	{ '?', { " ### ", "#   #", "    #", "   # ", "  #  ", "     ", "  #  " } },
};

static const struct glyph *font_glyph(char ch)
{
	char up = (char)toupper((unsigned char)ch);
	size_t i;

	for (i = 0; i < sizeof(glyphs) / sizeof(glyphs[0]); i++)
		if (glyphs[i].c == up)
			return &glyphs[i];
	/* the last glyph is '?' */
	return &glyphs[sizeof(glyphs) / sizeof(glyphs[0]) - 1];
}

static void fill_rows(uint8_t *p, size_t pitch, size_t x0, size_t x1, size_t y0,
		      size_t y1, uint8_t v)
{
	for (size_t j = y0; j < y1; j++)
		memset(p + j * pitch + x0, v, x1 - x0);
}

void hub_canvas_fill(const struct hub_canvas *c, int x, int y, int w, int h,
		     uint32_t colour)
{
	/* the last colour converted (hub_font_draw fills pixel by pixel) */
	static _Thread_local struct { struct hub_colorimetry cs; uint32_t rgb; uint8_t ycc[3];
				      bool valid; } last;
	long x0 = x < 0 ? 0 : x, y0 = y < 0 ? 0 : y;
	long x1 = (long)x + w, y1 = (long)y + h;

	if (x1 > (long)c->width)
		x1 = c->width;
	if (y1 > (long)c->height)
		y1 = c->height;
	if (x0 >= x1 || y0 >= y1)
		return;
	if (c->format == CANVAS_XRGB8888) {
		for (long j = y0; j < y1; j++) {
			uint32_t *row = (uint32_t *)(c->plane[0] + (size_t)j * c->pitch[0]);

			for (long i = x0; i < x1; i++)
				row[i] = colour;
		}
		return;
	}
	if (!last.valid || last.rgb != colour || last.cs.matrix != c->cs.matrix ||
	    last.cs.full_range != c->cs.full_range) {
		hub_colour_ycc(&c->cs, colour, last.ycc);
		last.cs = c->cs;
		last.rgb = colour;
		last.valid = true;
	}
	fill_rows(c->plane[0], c->pitch[0], (size_t)x0, (size_t)x1, (size_t)y0,
		  (size_t)y1, last.ycc[0]);
	/* every 2x2 block the rectangle touches */
	for (int k = 1; k < 3; k++)
		fill_rows(c->plane[k], c->pitch[k], (size_t)x0 / 2, (size_t)(x1 + 1) / 2,
			  (size_t)y0 / 2, (size_t)(y1 + 1) / 2, last.ycc[k]);
}

unsigned int hub_font_width(size_t len, unsigned int scale)
{
	return len ? (unsigned int)(len * FONT_ADVANCE - 1) * scale : 0;
}

void hub_font_draw(const struct hub_canvas *c, int x, int y, const char *s,
		   size_t len, unsigned int scale, uint32_t colour)
{
	size_t n;
	int r, k;

	for (n = 0; n < len && s[n]; n++) {
		const struct glyph *g = font_glyph(s[n]);
		int gx = x + (int)(n * FONT_ADVANCE * scale);

		for (r = 0; r < FONT_H; r++)
			for (k = 0; k < FONT_W; k++)
				if (g->rows[r][k] == '#')
					hub_canvas_fill(c, gx + k * (int)scale,
							y + r * (int)scale,
							(int)scale, (int)scale,
							colour);
	}
}
