/* SPDX-License-Identifier: GPL-2.0 */
/*
 * decode - one camera's H.264 decoder. The decoding runs in a child
 * process that holds nothing (decode_child.c): no key, no DRM descriptor,
 * no socket but its own to the hub, a seccomp filter, rlimits. Its main
 * thread reads every message waiting, then pushes the AUs (byte-stream,
 * one AU per buffer) in order into
 *   h264parse -> v4l2h264dec when present, else avdec_h264 -> appsink
 * (I420 / NV12) itself,
 * and returns each picture in a slot of a sealed memfd it shares with the
 * hub (decproto.h, docs/PROTOCOL.md §16). This file is the hub's side: it
 * starts the child (fork and exec of the running program with the single
 * argument DECODE_CHILD_ARG), checks everything it says, and starts a
 * fresh one when it dies or misbehaves.
 *
 * Only access units the caller hands in are decoded; the caller hands in
 * verified ones only. The newest decoded frame wins: a frame not taken
 * before the next one is decoded is dropped and counted, and when the
 * decoder falls behind by more than DECODE_BACKLOG AUs the input is cut
 * until the next IDR. Each decoded frame carries the capture time and the
 * show-until time given with its AU, so the badge shows the time of the
 * pixels it sits on and the caller can tell a picture that came out of
 * the decoder too late to be shown. They travel beside the decoder, in a
 * ring keyed by the buffer's PTS, which is the hub's own CLOCK_MONOTONIC
 * made strictly increasing: no two queued units share one, and the
 * decoder's timestamps never go back, whatever the camera's wall clock
 * (the capture time) does.
 *
 * hub_decode_au()/decode_take()/decode_reset() are called from one thread.
 *
 * Every program that calls hub_decode_new() must, first thing in main(), run
 * decode_child_main() when hub_decode_child_requested(argc, argv).
 *
 * Errors: HUB_ERROR (hub_error.h).
 */
#ifndef VERACAM_HUB_DECODE_H
#define VERACAM_HUB_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hub_error.h"
#include "picture.h"

#define DECODE_BACKLOG	8	/* AUs queued before input is cut (~0.27 s at 30 fps) */
#define DECODE_RING	64	/* AUs whose times are kept until their frame is out */

struct hub_decode;

struct hub_decode_stats {
	uint64_t pushed;		/* AUs given to the decoder */
	uint64_t decoded;		/* frames out of it */
	uint64_t taken;			/* frames handed to the caller */
	uint64_t dropped_late;		/* decoded, replaced by a newer one before taken */
	uint64_t dropped_backlog;	/* AUs not decoded because the decoder was behind */
	uint64_t dropped_wait_idr;	/* non-IDR AUs refused while waiting for an IDR */
	uint64_t dropped_behind;		/* AUs refused: the child's socket was full */
	uint64_t unmatched;		/* frames whose AU's times were no longer kept:
					 * handed over with show_until_ns 0 */
	uint64_t errors;		/* decoder errors (each followed by a reset) */
	uint64_t resets;
	uint64_t child_starts;		/* decoder children started */
	uint64_t child_crashes;		/* ... that died, lied or wedged unasked */
};

#define DECODE_CHILD_ARG	"decoder"
#define DECODE_CHILD_JPEG	"jpeg"	/* a second argument: the JPEG mode */

bool hub_decode_child_requested(int argc, char **argv);
/* The child's whole life, after exec: never returns. */
__attribute__((noreturn)) void decode_child_main(void);


/*
 * Start the sandboxed child for H.264 (jpeg false) or JPEG (below) and
 * return at once: exec and GStreamer's start take seconds on a loaded
 * host, and the hub's loop never waits for them. Units are dropped
 * (-EAGAIN) until the child has greeted; then the first IDR starts it.
 * NULL only for what fails here (memory, fork: HUB_ERROR_FAILED).
 */
struct hub_decode *hub_decode_spawn(bool jpeg, GError **error);
/*
 * 1 once the child has greeted (hub_decode_decoder() names its element), 0
 * while it is still starting, -EIO when it failed before greeting or gave
 * no greeting in 120 s (then replaced: hub_decode_last_failure() says why: its
 * own FAIL text, an exit, a signal, the silence; the next hub_decode_au()
 * starts another). Never waits.
 */
int hub_decode_started(struct hub_decode *d);
/*
 * True when a child said it cannot decode here (FAIL: no decoder element,
 * a sandbox it cannot enter) before any child of d ever greeted: an
 * installation or configuration error, not a crash. Children that crash,
 * exit or stay silent (120 s) are replaced at the next IDR instead.
 */
bool hub_decode_refused_start(const struct hub_decode *d);
/*
 * A new child in place of the one running or failed (not waited for); -EIO
 * and HUB_ERROR_FAILED if none could start.
 */
int hub_decode_restart(struct hub_decode *d, GError **error);
/* hub_decode_started(), waiting up to timeout_ms while it is 0. */
int hub_decode_wait_started(struct hub_decode *d, int timeout_ms);

/*
 * hub_decode_spawn() and wait up to 30 s for the greeting: for tools and
 * tests. HUB_ERROR_DECODER when the child did not greet (its FAIL text, its
 * exit, or the silence).
 */
struct hub_decode *hub_decode_new(GError **error);
/*
 * The same sandboxed child with a JPEG pipeline (jpegdec ! videoconvert !
 * appsink, I420, fed the same way): hub_decode_au() takes one whole JPEG as an
 * "IDR" and gives one picture back. The events view's thumbnails: the hub
 * itself never parses JPEG.
 */
struct hub_decode *hub_decode_new_jpeg(GError **error);

/*
 * Queue one verified access unit (Annex B byte stream) with the capture
 * time its record signed (CLOCK_REALTIME) and the CLOCK_MONOTONIC time
 * until which its picture may be shown. Returns 0 when queued, -EAGAIN
 * when dropped (waiting for an IDR: after creation, hub_decode_reset(), an
 * error or a backlog; or the child's socket is full: it is behind), -EIO
 * on a decoder error (the decoder was reset; a child that took nothing for
 * 2 s is wedged and replaced). It never waits for the child.
 */
int hub_decode_au(struct hub_decode *d, const void *au, size_t len,
		  uint64_t capture_ns, uint64_t show_until_ns, bool idr);

/*
 * Take the newest decoded frame: 1 and @pic filled (its owner calls
 * pic->release(pic); hub_display_show() takes it over), 0 when no new frame is
 * waiting, -EIO on a decoder error (the decoder was reset).
 */
int hub_decode_take(struct hub_decode *d, struct hub_picture *pic);

/*
 * Flush: every queued AU and every decoded frame not yet taken is
 * discarded and nothing is decoded again before the next IDR. The child
 * stops and restarts its pipeline (a FLUSH message); pictures it decoded
 * before it got there are given back unseen.
 */
void hub_decode_reset(struct hub_decode *d);


/*
 * Readable (an epoll descriptor over the child's socket) while the child
 * has something to say or has gone: call hub_decode_take().
 */
int hub_decode_fd(const struct hub_decode *d);

/* The GStreamer decoder element in use, e.g. "avdec_h264". */
const char *hub_decode_decoder(const struct hub_decode *d);
/* Why the last child was replaced: its own FAIL text, a signal, a protocol breach. */
const char *hub_decode_last_failure(const struct hub_decode *d);
void hub_decode_get_stats(struct hub_decode *d, struct hub_decode_stats *st);
void hub_decode_free(struct hub_decode *d);

/* The running child's process id, or -1 (for tests). */
int hub_decode_child_pid(const struct hub_decode *d);

#endif
