/* SPDX-License-Identifier: GPL-2.0 */
/*
 * upload.h - the camera's event uploader: the spool to an HTTP object store.
 *
 *   recorder thread: event sealed -> spool (NUMBER-EVENTID.env/.thumb/.clip)
 *   uploader thread: spool, oldest first -> PUT BASE/KEYID/NUMBER-EVENTID.thumb,
 *                    .clip, then .env -> cam_recorder_spool_done()
 *
 * Its own thread (libcurl's easy interface blocks), so neither the media
 * thread nor the loop ever waits for the store. The objects go first and
 * the envelope last, so an envelope in the store means a complete event.
 * An event leaves the spool only when the store answered 2xx for each of
 * its objects; until then it stays on disk, where a restarted daemon finds
 * it again, and the spool's bound (the recorder's) keeps applying: the
 * oldest events are dropped when a new one would not fit.
 *
 * Failures: a connection refused or reset, a timeout (connect, or less
 * than 1 byte/s for the stall timeout), 5xx, 408 and 429 are retried after
 * a backoff that doubles from 250 ms up to the cap. Any other status
 * (4xx: the store refuses this request as it stands) gives the event up
 * for this run: counted and logged; it stays in the spool (tried again
 * after a restart, dropped by the bound otherwise) and the next goes on.
 * An object the store already holds with the same length (HEAD) is not
 * sent again: an upload cut by an outage or a restart resumes at the first
 * object missing.
 */
#ifndef VERACAM_CAMERA_UPLOAD_H
#define VERACAM_CAMERA_UPLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#define UPL_BACKOFF_MIN_NS	250000000ull
#define UPL_BACKOFF_MAX_NS	30000000000ull
#define UPL_TIMEOUT_NS		10000000000ull

struct cam_upload_config {
	const char *base_url;		/* http://host:port/path (no trailing slash needed) */
	const char *spool_dir;
	const char *camera_id;		/* 32 hex: the camera's device key id */
	uint64_t backoff_max_ns;	/* 0: UPL_BACKOFF_MAX_NS */
	uint64_t timeout_ns;		/* connect, and a stall (< 1 byte/s); 0: UPL_TIMEOUT_NS */
	/* uploader thread: the store holds the event; 0 or -errno (gone meanwhile) */
	int (*done)(void *data, const char *name);
	void *data;
};

enum upl_state { UPL_IDLE, UPL_SENDING, UPL_WAITING };

struct cam_upload_stats {
	enum upl_state state;
	uint64_t uploaded;		/* events complete in the store, out of the spool */
	uint64_t objects, bytes;	/* objects PUT (2xx), their bytes */
	uint64_t skipped;		/* objects already in the store (HEAD), not sent again */
	uint64_t failed;		/* events given up for this run (a 4xx) */
	uint64_t retries;		/* attempts that failed and were retried after a backoff */
	uint64_t queue_events, queue_bytes;	/* complete events waiting (the last scan) */
	char last_error[160];		/* "" = none since the last success */
};

typedef void (*upl_log_fn)(void *data, int priority, const char *msg);

struct cam_upload;

/* NULL with error set (CAM_ERROR_FAILED) on failure. */
struct cam_upload *cam_upload_new(const struct cam_upload_config *cfg, GError **error);
/* Any thread: something new in the spool. */
void cam_upload_kick(struct cam_upload *u);
void cam_upload_get_stats(struct cam_upload *u, struct cam_upload_stats *st);
/* Log lines since the last call, to fn on the caller's thread. */
void cam_upload_drain_log(struct cam_upload *u, upl_log_fn fn, void *data);
/* Stops the thread (an upload in progress is cut) and frees. */
void cam_upload_free(struct cam_upload *u);
const char *upl_state_name(enum upl_state s);

#endif /* VERACAM_CAMERA_UPLOAD_H */
