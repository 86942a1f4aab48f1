/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veracam - conventions of the simulated sensor that are not kernel ABI:
 * the driver's name, the camera limit, the per-camera colours of the
 * default test pattern and the geometry of the burned-in frame tag.
 * Shared by the driver (driver/veracam-gen.c), veracamd and the tests; the
 * kernel ABI is <linux/veracam.h>.
 */
#ifndef _VERACAM_SIM_SENSOR_H
#define _VERACAM_SIM_SENSOR_H

#include <linux/types.h>

/* Media device driver name, and bus_info "platform:veracam.N". */
#define VERACAM_DRIVER_NAME		"veracam"
#define VERACAM_MAX_CAMERAS		8

/*
 * Per-camera colour of the default pattern (VERACAM_PATTERN_CAMERA_COLOUR),
 * by instance index (0-based), as 0xRRGGBB. Index 8 and up wrap around.
 */
#define VERACAM_CAMERA_COLOURS \
	{ 0xd02020, 0x20b030, 0x2040e0, 0xd0c020, \
	  0x20c0c0, 0xc030c0, 0xe08020, 0x8040c0 }

/*
 * Every frame of the simulated sensor, whatever the test pattern, carries
 * two rows of square cells at its top-left corner:
 *
 *   cell size C = max(8, (width / 40) rounded down to even) pixels
 *   row 0 (lines 0 .. C-1):   the sequence number
 *   row 1 (lines C .. 2C-1):  the camera tag
 *
 * Each row is 36 cells: cell 0 white, cell 1 black, cells 2..33 the 32
 * bits of the value, most significant first (white = 1, black = 0),
 * cell 34 black, cell 35 white. The value of the sequence row is the
 * frame's V4L2 sequence number; the value of the camera row is the camera
 * tag: bytes 0..3 of the unique id, big-endian. White is full-scale
 * (RGB 255,255,255 / Y 235), black is RGB 0,0,0 / Y 16; a reader samples
 * the centre of each cell and thresholds luma at mid-grey.
 *
 * Below the rows, a text line (the kernel VGA 8x16 font) reads
 * "veracam <index> <tag as 8 hex> #<sequence>" for people.
 * With HFLIP/VFLIP the image is flipped but the tag and text are drawn
 * after flipping, so they stay readable.
 */
#define VERACAM_TAG_CELLS		36
#define VERACAM_TAG_ROWS		2
#define VERACAM_TAG_MIN_CELL		8

static inline __u32 veracam_tag_cell_size(__u32 width)
{
	__u32 c = (width / 40) & ~1U;

	return c < VERACAM_TAG_MIN_CELL ? VERACAM_TAG_MIN_CELL : c;
}

#endif /* _VERACAM_SIM_SENSOR_H */
