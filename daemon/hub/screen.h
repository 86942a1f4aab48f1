/* SPDX-License-Identifier: GPL-2.0 */
/*
 * screen - what the hub's screen looks like: its palette and the
 * geometry of the cells, the badge and the "stream unavailable" screen.
 * display.c draws with these values and nothing else.
 *
 * The tests' screen oracle (tests/lib/hubscreen.py) reads this file to
 * know what an own picture, an unavailable screen and a foreign picture
 * look like, so it is kept machine-readable: only object-like
 * "#define SCREEN_... VALUE" lines, each VALUE an integer literal or
 * +, -, *, / and parentheses over literals and SCREEN_ names defined
 * above it. Colours are 0x00RRGGBB.
 */
#ifndef VERACAM_HUB_SCREEN_H
#define VERACAM_HUB_SCREEN_H

/* ---- palette ---- */
#define SCREEN_BLACK			0x00000000u
#define SCREEN_WHITE			0x00ffffffu
#define SCREEN_BADGE			0x00106a2cu	/* "VERIFIED ..." box */
#define SCREEN_UNAVAIL_BG		0x001c1c24u	/* dark field */
#define SCREEN_UNAVAIL_FG		0x00f0a000u	/* amber border, first line */

/* ---- cells ---- */
/*
 * (display.c's layout() and render_frame(); rules, no values.) One camera
 * fills the screen; two to four are cut into a 2x2 grid, camera i in the
 * right column if i & 1, the bottom row if i & 2; the left column and top
 * row are half the screen rounded down to the output's alignment (2 for
 * I420, else 1), the right column and bottom row take the rest. A picture
 * is scaled to the largest rectangle of its aspect ratio inside its cell,
 * on the alignment, and centred (offsets rounded down to the alignment);
 * the rest of the cell is SCREEN_BLACK.
 */

/* ---- the badge: bottom left of the picture ---- */
#define SCREEN_BADGE_WIDE		640	/* cells this wide: scale 2 */
#define SCREEN_BADGE_PAD		3	/* from the picture's edges, x scale */

/*
 * ---- the unavailable screen ----
 * A SCREEN_UNAVAIL_FG border, SCREEN_UNAVAIL_BORDER pixels wide
 * (SCREEN_UNAVAIL_BORDER_WIDE in a cell SCREEN_UNAVAIL_WIDE or more wide),
 * around a SCREEN_UNAVAIL_BG field. Centred in it, SCREEN_UNAVAIL_LINES
 * text lines high: "STREAM UNAVAILABLE" in SCREEN_UNAVAIL_FG, then the
 * camera's name and the reason in white, at the font scale that puts
 * about SCREEN_UNAVAIL_CHARS characters across the cell (1 at least;
 * smaller while the lines and the border do not fit its height).
 */
#define SCREEN_UNAVAIL_WIDE		320
#define SCREEN_UNAVAIL_BORDER		2
#define SCREEN_UNAVAIL_BORDER_WIDE	4
#define SCREEN_UNAVAIL_CHARS		24
#define SCREEN_UNAVAIL_LINES		4

#endif
