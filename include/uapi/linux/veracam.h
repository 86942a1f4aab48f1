/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * veracam - userspace API of the veracam camera drivers (vc1.ko, the
 * sensor, and veracam.ko, the virtual receiver).
 *
 * The ABI only: the unique id's size, the private control, the test
 * pattern menu and the metadata format. The simulated sensor's drawing
 * conventions (colours, burned-in frame tag) are not ABI and live in the
 * repository's include/veracam/sim-sensor.h.
 */
#ifndef _UAPI_LINUX_VERACAM_H
#define _UAPI_LINUX_VERACAM_H

#include <linux/types.h>
#include <linux/v4l2-controls.h>

/* ------------------------------------------------------------------ */
/* Stable identity                                                      */
/* ------------------------------------------------------------------ */

/*
 * Every camera has a 128-bit unique id, which the VC1 sensor driver reads
 * from the sensor's OTP registers. It is shown as 32 lowercase hex digits
 * (VERACAM_UNIQUE_ID_HEX_LEN) in:
 *   - the serial of the camera's media device (MEDIA_IOC_DEVICE_INFO,
 *     struct media_device_info.serial),
 *   - the read-only string control V4L2_CID_VERACAM_UNIQUE_ID on the
 *     sensor subdev and the video capture node,
 *   - every metadata buffer (struct veracam_meta.unique_id, binary).
 *
 * The ids the test bench programs into the sensors of camera instance i
 * (0-based) on i2c-stub by default (tests/vc1-stub):
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
	VERACAM_PATTERN_CAMERA_COLOUR = 0,	/* solid per-camera colour */
	VERACAM_PATTERN_COLOUR_BARS = 1,	/* 100% colour bars */
	VERACAM_PATTERN_CHECKERBOARD = 2,	/* black/white checkerboard */
	VERACAM_PATTERN_BLACK = 3,		/* black field */
};

/* ------------------------------------------------------------------ */
/* Metadata capture node                                                */
/* ------------------------------------------------------------------ */

/*
 * The metadata capture node (V4L2_BUF_TYPE_META_CAPTURE) delivers one
 * struct veracam_meta per frame, in buffers of format
 * V4L2_META_FMT_VERACAM with buffersize sizeof(struct veracam_meta).
 * docs/metafmt-veracam.rst documents the format: a fixed-size record (64
 * bytes in version 1), every field little-endian; later versions only
 * append fields, raising version and size.
 * The metadata buffer of a frame has the same v4l2_buffer.sequence and
 * timestamp as the frame's video buffer. If no metadata buffer is queued
 * when a frame completes, that frame's metadata is dropped (visible as a
 * sequence gap on the metadata node).
 */
/* v4l2_fourcc('V', 'C', 'A', 'M'), spelled out: no <linux/videodev2.h> */
#define V4L2_META_FMT_VERACAM \
	((__u32)'V' | ((__u32)'C' << 8) | ((__u32)'A' << 16) | \
	 ((__u32)'M' << 24))
/* the bytes "VMCD" in memory, read as a little-endian __le32 */
#define VERACAM_META_MAGIC		0x44434d56
#define VERACAM_META_VERSION		1

/* the frame's video buffer completed with V4L2_BUF_FLAG_ERROR */
#define VERACAM_META_FL_ERROR		(1U << 0)
#define VERACAM_META_FL_HFLIP		(1U << 1)
#define VERACAM_META_FL_VFLIP		(1U << 2)

struct veracam_meta {
	__le32 magic;		/* VERACAM_META_MAGIC */
	__le16 version;		/* VERACAM_META_VERSION */
	__le16 size;		/* of the record: 64 in version 1 */
	__le32 sequence;	/* frame sequence, == video buffer's */
	__le32 flags;		/* VERACAM_META_FL_* */
	__le64 soe_ns;		/* start of exposure, CLOCK_MONOTONIC ns */
	__le64 eof_ns;		/* end of frame readout, CLOCK_MONOTONIC ns */
	__le32 exposure;	/* V4L2_CID_EXPOSURE in effect, lines */
	__le32 analogue_gain;	/* V4L2_CID_ANALOGUE_GAIN in effect */
	__le32 digital_gain;	/* V4L2_CID_DIGITAL_GAIN in effect */
	__le32 reserved;	/* zero */
	__u8 unique_id[VERACAM_UNIQUE_ID_LEN];
};

#endif /* _UAPI_LINUX_VERACAM_H */
