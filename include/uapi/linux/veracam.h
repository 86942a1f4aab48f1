/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * veracam - userspace API of the veracam camera driver (veracam.ko).
 *
 * Shared by the driver, its tests and veracamd. Everything a program needs
 * to find a veracam camera by its stable identity, read its per-frame
 * metadata and decode the tag the simulated sensor burns into each frame.
 */
#ifndef _UAPI_LINUX_VERACAM_H
#define _UAPI_LINUX_VERACAM_H

#include <linux/types.h>
#include <linux/videodev2.h>

/* Media device model prefix and bus_info ("platform:veracam.N"). */
#define VERACAM_DRIVER_NAME		"veracam"
#define VERACAM_MAX_CAMERAS		8

/* ------------------------------------------------------------------ */
/* Stable identity                                                      */
/* ------------------------------------------------------------------ */

/*
 * Every camera has a 128-bit unique id (the sensor's OTP id on hardware;
 * the module parameter camera_ids= or a deterministic default on the
 * simulated sensor). It is shown as 32 lowercase hex digits
 * (VERACAM_UNIQUE_ID_HEX_LEN) in:
 *   - the read-only string control V4L2_CID_VERACAM_UNIQUE_ID on the
 *     sensor subdev and the video capture node,
 *   - the sysfs attribute "unique_id" of each video device,
 *   - every metadata buffer (struct veracam_meta.unique_id, binary).
 *
 * Default id of simulated camera instance i (0-based), when camera_ids=
 * does not name one:
 *   bytes 0..3  = 0xca 0x11 0x00 (i + 1)
 *   bytes 4..14 = 0x00
 *   byte  15    = (i + 1)
 */
#define VERACAM_UNIQUE_ID_LEN		16
#define VERACAM_UNIQUE_ID_HEX_LEN	32

/* ------------------------------------------------------------------ */
/* Controls                                                             */
/* ------------------------------------------------------------------ */

#define V4L2_CID_USER_VERACAM_BASE	(V4L2_CID_USER_BASE + 0x1f00)
/* read-only string, 32 lowercase hex digits */
#define V4L2_CID_VERACAM_UNIQUE_ID	(V4L2_CID_USER_VERACAM_BASE + 0)

/* V4L2_CID_TEST_PATTERN menu of the sensor subdev */
enum veracam_test_pattern {
	VERACAM_PATTERN_CAMERA_COLOUR = 0,	/* solid per-camera colour (default) */
	VERACAM_PATTERN_COLOUR_BARS = 1,	/* 100% colour bars */
	VERACAM_PATTERN_CHECKERBOARD = 2,	/* black/white checkerboard */
	VERACAM_PATTERN_BLACK = 3,		/* black field */
};

/*
 * Per-camera colour of the default pattern, by instance index (0-based),
 * as 0xRRGGBB. Index 8 and up wrap around.
 */
#define VERACAM_CAMERA_COLOURS \
	{ 0xd02020, 0x20b030, 0x2040e0, 0xd0c020, \
	  0x20c0c0, 0xc030c0, 0xe08020, 0x8040c0 }

/* ------------------------------------------------------------------ */
/* Burned-in frame tag (simulated sensor)                               */
/* ------------------------------------------------------------------ */

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

/* ------------------------------------------------------------------ */
/* Metadata capture node                                                */
/* ------------------------------------------------------------------ */

/*
 * The metadata capture node (V4L2_BUF_TYPE_META_CAPTURE) delivers one
 * struct veracam_meta per frame, in buffers of format
 * V4L2_META_FMT_VERACAM with buffersize sizeof(struct veracam_meta).
 * The metadata buffer of a frame has the same v4l2_buffer.sequence and
 * timestamp as the frame's video buffer. If no metadata buffer is queued
 * when a frame completes, that frame's metadata is dropped (visible as a
 * sequence gap on the metadata node).
 */
#define V4L2_META_FMT_VERACAM		v4l2_fourcc('V', 'C', 'A', 'M')
#define VERACAM_META_MAGIC		0x44434d56	/* "VMCD" little-endian */
#define VERACAM_META_VERSION		1

/* the frame's video buffer completed with V4L2_BUF_FLAG_ERROR */
#define VERACAM_META_FL_ERROR		(1U << 0)
#define VERACAM_META_FL_HFLIP		(1U << 1)
#define VERACAM_META_FL_VFLIP		(1U << 2)

struct veracam_meta {
	__u32 magic;		/* VERACAM_META_MAGIC */
	__u16 version;		/* VERACAM_META_VERSION */
	__u16 size;		/* sizeof(struct veracam_meta) */
	__u32 sequence;		/* frame sequence, == video buffer's */
	__u32 flags;		/* VERACAM_META_FL_* */
	__u64 soe_ns;		/* start of exposure, CLOCK_MONOTONIC ns (== video timestamp) */
	__u64 eof_ns;		/* end of frame readout, CLOCK_MONOTONIC ns */
	__u32 exposure;		/* V4L2_CID_EXPOSURE in effect, lines */
	__u32 analogue_gain;	/* V4L2_CID_ANALOGUE_GAIN in effect */
	__u32 digital_gain;	/* V4L2_CID_DIGITAL_GAIN in effect */
	__u32 reserved;		/* zero */
	__u8 unique_id[VERACAM_UNIQUE_ID_LEN];
};

#endif /* _UAPI_LINUX_VERACAM_H */
