/* SPDX-License-Identifier: GPL-2.0 */
/*
 * picture - one decoded frame of one camera, as the decoder hands it to
 * the display: 8-bit 4:2:0 planes (I420 or NV12), the capture time the
 * verifier signed for the access unit it was decoded from, and until when
 * that unit's freshness lets it be shown.
 *
 * Whoever is handed a picture owns it until it calls release() (NULL:
 * nothing to free): the decoder's frame stays mapped, and the display
 * draws from it again for every buffer it composes while the picture is
 * the newest of its camera.
 */
#ifndef VERACAM_HUB_PICTURE_H
#define VERACAM_HUB_PICTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum hub_pixfmt {
	HUB_PIX_I420,		/* Y, U, V planes */
	HUB_PIX_NV12,		/* Y plane, interleaved UV plane */
};

enum hub_matrix {
	HUB_MATRIX_BT601,
	HUB_MATRIX_BT709,
};

struct hub_picture {
	enum hub_pixfmt format;
	enum hub_matrix matrix;
	bool full_range;		/* 0..255 instead of 16..235/240 */
	unsigned int width;
	unsigned int height;
	const uint8_t *plane[3];
	size_t stride[3];		/* bytes */
	uint64_t capture_ns;		/* signed capture time, CLOCK_REALTIME */
	uint64_t show_until_ns;		/* CLOCK_MONOTONIC: not shown from then on */
	void (*release)(struct hub_picture *pic);
	void *priv;			/* the releaser's (decode.c: the mapping) */
};

#endif
