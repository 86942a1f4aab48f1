/* SPDX-License-Identifier: GPL-2.0 */
/*
 * output - what the compositor (display.c) needs from a scanout backend:
 * kms.c drives a DRM/KMS CRTC, y4m.c writes every committed buffer to a
 * YUV4MPEG2 file.
 *
 * The backend owns OUTPUT_BUFFERS XRGB8888 buffers of the mode's size,
 * zeroed when allocated. The compositor owns their state: it writes every
 * pixel of a free buffer, then commits it; one commit is in flight at a
 * time.
 */
#ifndef VERACAM_HUB_OUTPUT_H
#define VERACAM_HUB_OUTPUT_H

#include <stdint.h>

#define OUTPUT_BUFFERS	3

struct output_buffer {
	uint8_t *map;
	uint32_t stride;	/* bytes, as the kernel (or backend) chose */
};

struct output_mode {
	unsigned int width;
	unsigned int height;
	struct output_buffer buf[OUTPUT_BUFFERS];
};

enum output_state {
	OUTPUT_UNCHANGED,	/* nothing happened */
	OUTPUT_LOST,		/* nothing can be shown (unplugged, no master) */
	OUTPUT_RESTARTED,	/* back; buffers and mode may have changed */
};

struct output_ops {
	/*
	 * Scan out buffer @index. Returns 1 if it is on screen already,
	 * 0 if its completion will come through dispatch(), or -errno
	 * (the output is then lost until check() restarts it).
	 */
	int (*commit)(void *out, unsigned int index);
	/*
	 * Read completion events; 1 if the commit in flight completed, with
	 * *done_ns its completion time (CLOCK_REALTIME ns, from the kernel's
	 * event where there is one) or 0 when the backend cannot tell.
	 */
	int (*dispatch)(void *out, uint64_t *done_ns);
	/* Poll for hot-unplug / replug and loss / return of master. */
	enum output_state (*check)(void *out, struct output_mode *mode);
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
