/* SPDX-License-Identifier: GPL-2.0 */
/*
 * events - a hub's sealed events: fetched from a store and checked
 * (veracamctl events list --fetch and the hub's own fetcher call the same
 * code), kept in a local cache, and opened again from there before
 * anything of them is shown.
 *
 * The cache (written by hub_event_cache_put only, whatever fills it: the
 * store fetcher here, a fetch from the camera over the session):
 *
 *   KEYDIR/event-cache/                0700
 *     KEYID/                           0700, the camera's key id (32 hex)
 *       NUMBER-EVENTID.thumb           0600, sealed, as the camera made it
 *       NUMBER-EVENTID.clip            0600, sealed
 *       NUMBER-EVENTID.env             0600, the envelope, written last
 *
 * NUMBER-EVENTID is the camera's spool name (20 decimal digits, 32 hex).
 * Each file is written atomically (a temporary file renamed over it), and
 * only after its object opened with the event's content key (the
 * thumbnail's bytes hashing to the manifest's); the envelope last, so an
 * envelope means a complete event. Nothing in the cache is trusted when
 * read back: hub_event_cache_open opens the envelope and the objects again
 * with the hub's keys and the pinned camera before anything is shown. The
 * cache's total size is bounded (hub_event_cache_trim): the oldest events
 * (by envelope time) are dropped beyond it.
 */
#ifndef VERACAM_HUB_EVENTS_H
#define VERACAM_HUB_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veracam/common.h>
#include <veracam/enckey.h>
#include <veracam/event.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>

#include "store.h"

/*
 * What a fetch may hold in memory: a thumbnail (at most 4 MiB of JPEG) and
 * a clip (at most the camera's default spool bound), each with its object
 * header and tag; an envelope. A longer answer is refused before it is read.
 */
#define HUB_EVENT_THUMB_MAX	((4u << 20) + 64)
#define HUB_EVENT_CLIP_MAX	((256u << 20) + 64)
#define HUB_EVENT_ENV_MAX	(64u << 10)

#define HUB_EVENT_CACHE_DIR	"event-cache"

/* The newest event seen of a camera: KEYS/events-seen/NAME, "NUMBER HASH". */
struct hub_event_seen {
	bool have;
	uint64_t number;
	uint8_t hash[VC_HASH_LEN];
};

/* 0 (also when there is none yet) or -1 (unreadable, malformed). */
int hub_event_seen_load(const char *keys, const char *camera, struct hub_event_seen *s);
/* Atomically, 0600 in a 0700 directory; 0 or -1. */
int hub_event_seen_save(const char *keys, const char *camera, uint64_t number,
			const uint8_t hash[VC_HASH_LEN]);

/*
 * Does m (hashing to h) follow the chain: prev (the event before it in
 * this listing, NULL: none), else the newest one seen before (when m is
 * not older)? VC_EV_OK (also for an older event with nothing before it),
 * _GAP (events missing: m itself verified), _REPLAY or _CHAIN.
 */
enum vc_event_reject hub_event_chain_check(const struct vc_manifest *prev,
					   const uint8_t prev_hash[VC_HASH_LEN],
					   const struct hub_event_seen *seen,
					   const struct vc_manifest *m, const uint8_t h[VC_HASH_LEN]);

/* An event's sealed objects as stored, each checked to open; free with _free. */
struct hub_event_objects {
	uint8_t *thumb, *clip;
	size_t thumb_len, clip_len;
	char thumb_cache[16], clip_cache[16];	/* the answers' X-Cache-Status */
};

void hub_event_objects_free(struct hub_event_objects *o);

/*
 * GET KID/BASE.thumb (when the manifest has one) and KID/BASE.clip, each
 * opened with the content key (the thumbnail's bytes also the manifest's).
 * VC_EV_OK with o filled, the reason an object was refused
 * (STORE_ERROR_REFUSED), or VC_EV__COUNT when one could not be fetched
 * (store_fetch_get's error); error set but for VC_EV_OK.
 */
enum vc_event_reject hub_event_fetch_objects(struct store_fetch *f, const char *kid,
					     const char *base, const struct vc_manifest *m,
					     const uint8_t man_hash[VC_HASH_LEN],
					     enum vc_hpke_aead aead, const uint8_t *ck,
					     struct hub_event_objects *o, GError **error);

/*
 * The cache writer (also called by other sources of sealed events): an
 * event's objects (already checked to open with its content key) and its
 * envelope into DIR (made 0700) as NAME's .thumb (when thumb), .clip, then
 * NAME (NUMBER-EVENTID.env) last; each 0600, atomically. 0, or -1 with
 * error set (STORE_ERROR_FAILED).
 */
int hub_event_cache_put(const char *dir, const char *name, const uint8_t *env, size_t env_len,
			const struct hub_event_objects *o, GError **error);

/*
 * The same with every check first, for a source whose objects are not
 * checked yet (a fetch from the camera over the session): the envelope
 * opened against the pinned camera cam for this hub (the event id and
 * number of NAME), the thumbnail (when the manifest has one) and the clip
 * opened with its content key, then written into KEYS/event-cache/KEYID.
 * VC_EV_OK, the reason it is refused (STORE_ERROR_REFUSED), or VC_EV__COUNT
 * when not written (STORE_ERROR_FAILED); error set but for VC_EV_OK.
 */
enum vc_event_reject hub_event_cache_add(const char *keys, const struct vc_peer *cam,
					 const uint8_t hub_key_id[VC_KEY_ID_LEN],
					 const struct vc_enc_key *enc, const char *name,
					 const uint8_t *env, size_t env_len,
					 const struct hub_event_objects *o, GError **error);

/*
 * A refused event's place: DIR/NUMBER-EVENTID.refused, holding the reason's
 * name (and " signed" when the number is the camera's: its envelope opened,
 * or it came over the camera's own session), written (0600) by the fetchers
 * when the event of envelope name NAME is refused, so that the events view
 * shows the hub's own "unavailable" tile with the reason in its place;
 * removed when that name is cached after all (hub_event_cache_put). At most
 * HUB_EVENT_REFUSALS_MAX a camera: the unsigned ones dropped first (highest
 * number first), then the oldest signed. The hub's own note:
 * it never makes anything shown but the hub's screen. 0, or -1.
 */
#define HUB_EVENT_REFUSALS_MAX	64
int hub_event_cache_refuse(const char *dir, const char *name, enum vc_event_reject r,
			   bool signed_number);

struct hub_event_refusal {
	uint64_t number;
	bool signed_number;	/* else the number is only the store's name */
	char reason[24];	/* a vc_event_reject_name() */
};

/* The refusals noted in DIR, newest first, at most max: how many. */
size_t hub_event_cache_refusals(const char *dir, struct hub_event_refusal *out, size_t max);

/* KEYS/event-cache/KEYID (g_free). */
char *hub_event_cache_dir(const char *keys, const uint8_t key_id[VC_KEY_ID_LEN]);

/*
 * The envelope names in a camera's cache directory, newest first (by the
 * number in the name), at most max; a NULL-terminated g_strv (g_strfreev).
 */
char **hub_event_cache_list(const char *dir, unsigned int max);

/* An event read back from the cache and opened again. */
struct hub_event_opened {
	struct vc_manifest m;
	uint8_t man[VC_MANIFEST_MAX_LEN];
	size_t man_len;
	uint8_t man_hash[VC_HASH_LEN];
	struct vc_buf jpeg;		/* the thumbnail (want_thumb) */
	struct vc_buf mp4;		/* the clip (want_clip) */
};

void hub_event_opened_free(struct hub_event_opened *e);

/*
 * Open DIR/NAME (an envelope name) against the pinned camera, with the
 * event id and number of its name, for this hub; with want_thumb its
 * thumbnail (checked against the manifest), with want_clip its clip (its
 * frames not checked here: vc_clip_check_au per AU). VC_EV_OK, or why it
 * is refused; VC_EV__COUNT when a file is missing or unreadable.
 */
enum vc_event_reject hub_event_cache_open(const char *dir, const char *name,
					  const uint8_t camera_pub[VC_PUBKEY_LEN],
					  const uint8_t hub_key_id[VC_KEY_ID_LEN],
					  const struct vc_enc_key *enc, bool want_thumb,
					  bool want_clip, struct hub_event_opened *e);

/*
 * Keep KEYS/event-cache at most max_bytes: whole events dropped, oldest
 * envelope first (their objects first, the envelope last). The number of
 * events dropped.
 */
#define HUB_EVENT_CACHE_MAX	(512ull << 20)	/* the cache's bound, bytes (all cameras) */
unsigned int hub_event_cache_trim(const char *keys, uint64_t max_bytes);

#endif /* VERACAM_HUB_EVENTS_H */
