/* SPDX-License-Identifier: GPL-2.0 */
/*
 * evview - the hub's events view (issue 17), on the service loop's thread:
 * the commands of the status socket ("events show", "events live",
 * "events play CAMERA NUMBER"), the thumbnails and clips read back from
 * the hub's event cache (events.h) and verified again before anything of
 * them is decoded, and, with an event store, the fetcher (evfetch.h) that
 * fills the cache.
 *
 * Thumbnail: the envelope opened with the hub's keys against the camera
 * pinned under the cell's name (its event id and number those of the
 * file's name), the thumbnail opened with the content key and hashed as
 * the manifest says, then decoded by the sandboxed JPEG child
 * (hub_decode_new_jpeg) and copied into its tile. Clip: the same envelope
 * checks, the clip opened, then each AU in order checked
 * (vc_clip_check_au: this event's record, signed, in sequence, chained,
 * the AU's hash) before it goes to an H.264 decoder child; the first that
 * fails stops the clip on the hub's screen. Whatever fails is shown as the
 * hub's "EVENT UNAVAILABLE" with the reason, counted in the status'
 * events.rejected and logged once.
 */
#ifndef VERACAM_HUB_EVVIEW_H
#define VERACAM_HUB_EVVIEW_H

#include <stdint.h>

#include <glib.h>

#include "display.h"
#include "service.h"

struct evview;

struct evview_config {
	struct svc_loop *loop;
	struct hub_display *display;
	struct svc_hub_events_stats *st;
	const char *keys;			/* the hub's key directory */
	const uint8_t *hub_key_id;		/* borrowed, VC_KEY_ID_LEN */
	unsigned int n_cameras;
	const char *names[VC_HUB_MAX_CAMERAS];
	const char *store;			/* event-store URL, NULL: no fetcher */
};

/* The view (and its fetcher when a store is set), or NULL with error set (HUB_ERROR). */
struct evview *evview_new(const struct evview_config *cfg, GError **error);
/* A status socket request: its answer (g_free), NULL if it is not an "events" one. */
char *evview_command(struct evview *v, const char *request);
/*
 * The event cache changed under another writer (the fetch over a session,
 * camfetch.h): the view, when it is showing, is built again from it, as
 * after a round of the store's fetcher, at most once a second.
 */
void evview_cache_changed(struct evview *v);
void evview_free(struct evview *v);

#endif
