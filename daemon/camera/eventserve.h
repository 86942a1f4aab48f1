/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eventserve.h - the camera answers its hubs' event requests from its
 * spool (docs/PROTOCOL.md §5.7) when no event store is configured.
 *
 * The spool is opened once as a directory; every object is opened
 * relative to it with O_NOFOLLOW, by a name the camera formats itself from
 * the request's number, event id and kind (vc_evx_name): nothing outside
 * the spool directory is ever read. Only complete events (their .env
 * exists) are listed or served, as sealed: the objects are sealed for the
 * paired hubs already. One chunk of at most VC_EVX_CHUNK_MAX bytes per
 * request, so a transfer never holds the control channel for long.
 *
 * With an event store configured the store is the source: every request
 * gets VC_EVX_ERR_STORE (the uploader removes what it stored from the
 * spool, so the spool is only the upload queue then).
 */
#ifndef VERACAM_CAMERA_EVENTSERVE_H
#define VERACAM_CAMERA_EVENTSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include <veracam/session.h>

struct cam_eventserve_stats {
	uint64_t lists;		/* listings sent */
	uint64_t chunks;	/* chunks sent */
	uint64_t objects;	/* objects sent to their last byte */
	uint64_t bytes;		/* object bytes sent */
	uint64_t gone;		/* requests for objects not in the spool */
	uint64_t store;		/* requests refused: an event store is configured */
};

struct cam_eventserve;

/* spool_dir NULL (no recorder): empty listings. NULL only when out of memory. */
struct cam_eventserve *cam_eventserve_new(const char *spool_dir, bool store);
void cam_eventserve_free(struct cam_eventserve *es);
/*
 * Answer m (VC_CTL_EVENTS_LIST or VC_CTL_EVENT_GET, as the session gave
 * it) on s. 0; 1 when the session's queue had no room; -1 with error set
 * (CAM_ERROR_FAILED) when the hub broke the protocol (an offset at or past
 * the object's end) or the session failed.
 */
int cam_eventserve_answer(struct cam_eventserve *es, struct vc_session *s,
			  const struct vc_ctl *m, struct cam_eventserve_stats *st,
			  GError **error);

#endif /* VERACAM_CAMERA_EVENTSERVE_H */
