/* SPDX-License-Identifier: GPL-2.0 */
/*
 * camfetch.h - a hub without an event store fetches its camera's recorded
 * events over the authenticated session (docs/PROTOCOL.md §5.7): it lists
 * the events newer than the newest it holds, fetches each one's objects
 * chunk by chunk (one request at a time), opens them with its keys exactly
 * as `veracamctl events list --fetch` does with a store (vc_envelope_open
 * with the event id asked for, the manifest's number the listing's, the
 * chain against KEYS/events-seen/NAME (hub_event_seen_load) with
 * vc_manifest_follows, the
 * thumbnail's hash and both objects' AEAD under the content key) and only
 * then writes the sealed objects, as the camera sealed them, into the
 * hub's event cache (hub_event_cache_put and _trim, events.h: the one
 * writer, whatever the source). A session that ends mid-transfer
 * leaves the partial objects in memory; the next session goes on from the
 * same offsets. Nothing is written for a partial or refused event.
 *
 * The driver (daemon/hub/role.c) asks camfetch_next() for a request when
 * the session has none outstanding, and hands each answer the session
 * gave (already checked against the request by the core) to
 * camfetch_answer(). Runs on one thread.
 */
#ifndef VERACAM_HUB_CAMFETCH_H
#define VERACAM_HUB_CAMFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veracam/enckey.h>
#include <veracam/event.h>
#include <veracam/evfetch.h>
#include <veracam/session.h>

#define CAMFETCH_POLL_NS	2000000000ull	/* listing again when idle */
#define CAMFETCH_STORE_NS	60000000000ull	/* asking again a camera with a store */
/* sessions ended with a request unanswered by a camera that never answered */
#define CAMFETCH_OLD_CAMERA	2

struct camfetch_config {
	const char *keys_dir;		/* KEYS: event-cache/ and events-seen/ */
	const char *camera;		/* its pin's name (events-seen/NAME) */
	uint8_t camera_pub[VC_PUBKEY_LEN];	/* the pinned camera */
	uint8_t hub_key_id[VC_KEY_ID_LEN];
	const struct vc_enc_key *enc;	/* the hub's encryption key (borrowed) */
	uint64_t cache_max_bytes;	/* 0: HUB_EVENT_CACHE_MAX */
	/* log lines (priority as syslog's) */
	void (*log)(void *data, int priority, const char *msg);
	void *data;
};

struct camfetch_stats {
	uint64_t events, objects, bytes, gaps, gap_events, gone;
	uint64_t cache_dropped;		/* events the cache's bound removed */
	uint64_t refused[VC_EV__COUNT];
	bool have_newest;
	uint64_t newest;
};

struct camfetch;

struct camfetch *camfetch_new(const struct camfetch_config *cfg);
void camfetch_free(struct camfetch *f);
/* A new session is up (resets the per-session state, keeps the transfer). */
void camfetch_session_start(struct camfetch *f);
/* The session ended; unanswered: a request of it was never answered. */
void camfetch_session_end(struct camfetch *f, bool unanswered);
/*
 * The next request at now_ns (CLOCK_MONOTONIC): true with *type and body
 * (*len bytes, at most VC_EVX_GET_LEN) to send, false when there is
 * nothing to ask now.
 */
bool camfetch_next(struct camfetch *f, uint64_t now_ns, enum vc_ctl_type *type,
		   uint8_t body[VC_EVX_GET_LEN], size_t *len);
/*
 * An answer (VC_CTL_EVENTS, _EVENT_CHUNK or _EVENT_ERROR). 0; -1 when the
 * camera broke the protocol in a way only camfetch sees (an object's size
 * other than its listing's): the caller ends the session (protocol).
 */
int camfetch_answer(struct camfetch *f, const struct vc_ctl *m, uint64_t now_ns);
/* "idle", "listing", "fetching", "store", "old-camera". */
const char *camfetch_state(const struct camfetch *f);
const struct camfetch_stats *camfetch_stats(const struct camfetch *f);

#endif /* VERACAM_HUB_CAMFETCH_H */
