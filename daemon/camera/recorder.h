/* SPDX-License-Identifier: GPL-2.0 */
/*
 * recorder.h - the camera's event recorder: a tap on the encoder's output.
 *
 *   media thread:  capture -> motion -> encode -> (live mailbox)
 *                                          \-> cam_recorder_au(): a copy of each AU
 *   recorder thread: pre-roll ring -> clip (event records signed through the
 *                    key holder) -> fragmented MP4 + JPEG thumbnail -> manifest
 *                    (the holder's chain) -> sealed for the paired hubs -> spool
 *
 * The live path is not changed: the media thread hands the recorder a copy
 * of every AU (and, when an event has just started, one raw frame for the
 * thumbnail) through a bounded queue, never waits for it, and the recorder
 * signs its clip's AUs with event records (docs/PROTOCOL.md §15.2), not the
 * live ones. When the queue is full the AU is dropped and counted, the ring
 * starts again at the next IDR and a clip being recorded ends there
 * ("gap"), so no clip ever has a hole; so does a device reopened.
 *
 * Two layers: rec_core (below) decides which AUs make which clip, with no
 * I/O, threads or clocks (its times are the AUs' capture times), so a test
 * drives it with a synthetic AU stream; cam_recorder runs it on its own
 * thread with the sink that writes events into the spool.
 *
 * The spool (a directory under the camera's state directory) holds, per
 * event, NUMBER-EVENTID.clip and .thumb (the sealed objects, §15.5) and
 * NUMBER-EVENTID.env (the envelope with the signed manifest), the envelope
 * written last: an event without its envelope is incomplete and removed at
 * start. It is bounded in bytes: the oldest events are dropped (counted
 * and logged) only when a new one would not fit.
 *
 * Time base: CLOCK_MONOTONIC ns (the AUs' mono_ns) for every decision;
 * wall-clock times are only signed (display).
 */
#ifndef VERACAM_CAMERA_RECORDER_H
#define VERACAM_CAMERA_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veracam/event.h>
#include <veracam/keys.h>

#include "camera.h"

#define REC_PRE_ROLL_NS		3000000000ull
#define REC_POST_ROLL_NS	5000000000ull
#define REC_MAX_LENGTH_NS	60000000000ull
#define REC_RING_MAX_BYTES	(32u << 20)	/* pre-roll ring, whatever the IDR interval */
#define REC_QUEUE_MAX		256		/* AUs waiting for the recorder thread */
#define REC_SPOOL_MAX_BYTES	(256ull << 20)
#define REC_THUMB_WIDTH		320

/* One encoded AU as the recorder keeps it (its own copy). */
struct rec_au {
	struct rec_au *next;		/* ring / queue link */
	uint8_t *data;			/* Annex-B, as the encoder made it */
	size_t size;
	bool idr;
	uint64_t mono_ns;		/* capture time, CLOCK_MONOTONIC */
	int64_t wall_ns;		/* signed, display only */
	uint32_t sensor_seq;
	bool has_sensor_seq;
	char source[200];		/* stable identity of the capture device */
};

struct rec_au *rec_au_new(const uint8_t *data, size_t size, bool idr, uint64_t mono_ns);
void rec_au_free(struct rec_au *au);

/* Why a clip ended. */
enum rec_end {
	REC_END_POST_ROLL,	/* the post-roll after the trigger's release ran out */
	REC_END_MAX_LENGTH,	/* the clip reached the maximum length (a held trigger continues) */
	REC_END_GAP,		/* the stream broke (AUs lost before the recorder, device reopened) */
	REC_END_STOP,		/* the recorder stops (SIGTERM) */
	REC_END__COUNT
};

const char *rec_end_name(enum rec_end why);

/* Where a clip's AUs go (all called from the thread that drives the core). */
struct rec_sink_ops {
	void (*begin)(void *data, enum vc_event_trigger trigger, const struct rec_au *first);
	void (*frame)(void *data, const struct rec_au *au);
	void (*end)(void *data, enum rec_end why);
};

struct rec_core_config {
	uint64_t pre_roll_ns;	/* reach back at least this far, to an IDR */
	uint64_t post_roll_ns;	/* keep recording this long after the release */
	uint64_t max_len_ns;	/* no clip longer (first to last AU's capture time) */
	size_t ring_max_bytes;
};

struct rec_core_stats {
	uint64_t aus;			/* offered */
	uint64_t triggers;		/* trigger() calls */
	uint64_t clips;			/* begun */
	uint64_t ended[REC_END__COUNT];
	uint64_t missed;		/* triggers that never got an IDR before their post-roll ended */
	size_t ring_aus, ring_bytes;
	bool recording;
};

struct rec_core;

struct rec_core *rec_core_new(const struct rec_core_config *cfg, const struct rec_sink_ops *ops,
			      void *data);
void rec_core_free(struct rec_core *c);	/* ends a clip in progress (REC_END_STOP) */
/* One AU, in encoder order; the core owns it from here. */
void rec_core_au(struct rec_core *c, struct rec_au *au);
/*
 * An event starts (or, while one records, is held on): the clip reaches
 * back from the newest AU by the pre-roll, to an IDR. Each trigger holds
 * the event until its rec_core_release() (a manual trigger is a trigger
 * and its release at once: it never lets go of motion still going on).
 */
void rec_core_trigger(struct rec_core *c, enum vc_event_trigger trigger);
/* A trigger is let go; when none holds it, the clip ends post-roll after the newest AU. */
void rec_core_release(struct rec_core *c);
/* The stream broke before the core: the ring empties, a clip ends (REC_END_GAP). */
void rec_core_gap(struct rec_core *c);
void rec_core_get_stats(const struct rec_core *c, struct rec_core_stats *st);

/* ---- the threaded recorder with its spool sink ---- */

/* The paired hubs an event is sealed for; returns how many (0..max). */
typedef size_t (*rec_recipients_fn)(void *data, struct vc_event_recipient *to, size_t max);

struct cam_recorder_config {
	struct rec_core_config core;
	const char *spool_dir;		/* made (0700) when missing */
	uint64_t spool_max_bytes;
	unsigned int queue_max;		/* 0: REC_QUEUE_MAX */
	unsigned int fps;		/* the last AU's duration in the MP4 */
	enum vc_hpke_aead aead;
};

struct cam_recorder_stats {
	struct rec_core_stats core;
	uint64_t queue_dropped;		/* AUs the recorder thread was too late for */
	uint64_t written;		/* events in the spool, complete */
	uint64_t failed;		/* events that could not be written (logged) */
	uint64_t no_recipient;		/* events not recorded: no paired hub's encryption key */
	uint64_t spool_dropped;		/* old events dropped for the spool's bound */
	uint64_t spool_events, spool_bytes;	/* now in the spool */
	uint64_t last_number;		/* the last event written: its number, */
	uint32_t last_frames;		/* its AUs, */
	uint64_t last_clip_bytes;	/* its MP4's size */
	bool have_last;
};

/* One line for the log (priority LOG_*), handed over by cam_recorder_drain_log(). */
typedef void (*rec_log_fn)(void *data, int priority, const char *msg);

struct cam_recorder;

/*
 * The key is borrowed (a remote key signs through its holder; a local key,
 * in tests, keeps the chain in memory). recipients runs on the recorder
 * thread. NULL + error on failure.
 */
struct cam_recorder *cam_recorder_new(const struct cam_recorder_config *cfg,
				      struct vc_device_key *key, rec_recipients_fn recipients,
				      void *data, GError **error);
/*
 * Stop the thread; a clip in progress is finished and written (its log
 * lines are still there for cam_recorder_drain_log). Nothing may be fed
 * after it. Idempotent.
 */
void cam_recorder_stop(struct cam_recorder *r);
/* Stops it if needed, then frees it. */
void cam_recorder_free(struct cam_recorder *r);

/* Media thread: a copy of the AU (never blocks; counted when dropped). */
void cam_recorder_au(struct cam_recorder *r, const struct cam_au *au, const char *source);
/* Media thread: the captured frame; copied only when an event waits for its thumbnail. */
void cam_recorder_frame(struct cam_recorder *r, const GstVideoFrame *vf);
/* Any thread: an event starts / its trigger is let go (motion start and end). */
void cam_recorder_trigger(struct cam_recorder *r, enum vc_event_trigger trigger);
void cam_recorder_release(struct cam_recorder *r);
/* Media thread: the stream starts again (the device reopened): a clip ends, the ring empties. */
void cam_recorder_restart(struct cam_recorder *r);
void cam_recorder_get_stats(struct cam_recorder *r, struct cam_recorder_stats *st);
/*
 * The recorder thread's log lines since the last call, to fn on the
 * caller's thread (the loop's: one log path); lines lost to a full buffer
 * are reported as a count.
 */
void cam_recorder_drain_log(struct cam_recorder *r, rec_log_fn fn, void *data);

#endif /* VERACAM_CAMERA_RECORDER_H */
