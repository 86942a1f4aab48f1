/* SPDX-License-Identifier: GPL-2.0 */
/*
 * output - what the compositor (display.c) needs from a scanout backend:
 * kms.c drives a DRM/KMS CRTC, y4m.c writes every committed buffer to a
 * YUV4MPEG2 file.
 *
 * The backend owns OUTPUT_BUFFERS buffers of the mode's size in its pixel
 * format (ops->format): XRGB8888 for KMS, I420 in the mode's colorimetry
 * for y4m, so that a decoded picture of that colorimetry is copied (or
 * scaled) into it as it is. Buffers are black when allocated. The
 * compositor owns their state: it writes every pixel of a free buffer,
 * then commits it; one commit is in flight at a time.
 */
#ifndef VERACAM_HUB_OUTPUT_H
#define VERACAM_HUB_OUTPUT_H

#include <stdint.h>

#include "colour.h"

#define OUTPUT_BUFFERS	3

enum hub_output_format {
	OUTPUT_XRGB8888,
	OUTPUT_I420,		/* even width and height */
};

struct hub_output_buffer {
	uint8_t *map;		/* XRGB8888: the pixels; I420: the Y plane */
	uint32_t stride;	/* bytes, as the kernel (or backend) chose */
	uint8_t *cb, *cr;	/* I420: the chroma planes */
	uint32_t cstride;
};

struct hub_output_mode {
	unsigned int width;
	unsigned int height;
	struct hub_colorimetry cs;	/* I420: what the buffers' YCbCr means */
	struct hub_output_buffer buf[OUTPUT_BUFFERS];
};

enum hub_output_state {
	OUTPUT_UNCHANGED,	/* nothing happened */
	OUTPUT_LOST,		/* nothing can be shown (unplugged, no master) */
	OUTPUT_RESTARTED,	/* back; buffers and mode may have changed */
};

struct hub_output_ops {
	enum hub_output_format format;
	/*
	 * Scan out buffer @index. Returns 1 if it is on screen already,
	 * 0 if its completion will come through dispatch(), or -errno
	 * (the output is then lost until check() restarts it).
	 */
	int (*commit)(void *out, unsigned int index);
	/*
	 * Read completion events; 1 if the commit in flight completed, with
	 * *done_ns its completion time (CLOCK_MONOTONIC ns, from the kernel's
	 * event where there is one) or 0 when the backend cannot tell; the
	 * display puts it on CLOCK_REALTIME with the one mapping (clock.h).
	 */
	int (*dispatch)(void *out, uint64_t *done_ns);
	/* Poll for hot-unplug / replug and loss / return of master. */
	enum hub_output_state (*check)(void *out, struct hub_output_mode *mode);
	/*
	 * The compositor gave up on the commit in flight (no completion in
	 * time, or dispatch() failed) and counts the output as lost: the next
	 * check() must start it again from nothing (OUTPUT_RESTARTED).
	 */
	void (*reset)(void *out);
	int (*fd)(void *out);
	void (*close)(void *out);
};

#endif
