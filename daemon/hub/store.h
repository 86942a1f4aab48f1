/* SPDX-License-Identifier: GPL-2.0 */
/*
 * store.h - the hub's side of the event store: list a camera's events and
 * fetch their objects over HTTP (libcurl), usually through a cache.
 *
 * Layout (written by the camera's uploader, daemon/camera/upload.c):
 * BASE/KEYID/NUMBER-EVENTID.thumb, .clip and .env, KEYID the camera's
 * device key id and NUMBER-EVENTID its spool name (20 decimal digits, 32
 * lowercase hex), the envelope stored last. A listing is nginx's JSON
 * autoindex of BASE/KEYID/. Nothing the store or a cache says is trusted:
 * the listing is parsed strictly and bounded (store_list_parse, fuzzed by
 * tests/fuzz/fuzz_storelist.c), every answer's size is capped, and each
 * envelope is opened with the hub's keys (vc_envelope_open), which binds
 * it to the pinned camera, to this hub and to the event id in its name.
 */
#ifndef VERACAM_HUB_STORE_H
#define VERACAM_HUB_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/*
 * STORE_ERROR - how the store library (storelist.c, storefetch.c, events.c;
 * linked by veracamctl, which has no hub library, hence its own domain)
 * explains a failure: NULL, -1, a status other than 200 or a reason other
 * than VC_EV_OK as each function says, and its last parameter, a GError **
 * that may be NULL, set to a one-line message fit for the log as it is
 * ("GET https://store/KID/: HTTP 404"). The code says which kind it was.
 */
#define STORE_ERROR (store_error_quark())
GQuark store_error_quark(void);

enum store_error_code {
	STORE_ERROR_FAILED,	/* the system said no: memory, a file, libcurl, a timeout */
	STORE_ERROR_URL,	/* the store's base is not an http:// or https:// URL */
	STORE_ERROR_HTTP,	/* the store answered, with a status other than 200 */
	STORE_ERROR_LISTING,	/* a listing store_list_parse refuses */
	STORE_ERROR_REFUSED,	/* an event or object refused by its checks (the reason returned) */
};

#define STORE_LIST_MAX_BYTES	(8u << 20)	/* a listing longer is refused */
#define STORE_LIST_MAX_ENTRIES	65536
#define STORE_NAME_MAX		255
#define STORE_EVENT_NAME_LEN	(20 + 1 + 32)	/* NUMBER-EVENTID */

struct store_entry {
	char name[STORE_NAME_MAX + 1];
	bool is_file;			/* "type": "file" */
	int64_t size;			/* "size", -1 when absent */
};

/*
 * nginx's JSON autoindex: an array of objects whose members are strings,
 * numbers, true, false or null ("name" a string without NUL, at most
 * STORE_NAME_MAX bytes; "type" and "size" read when present). Anything
 * else, or more than STORE_LIST_MAX_ENTRIES, refuses the whole listing.
 * 0 and a malloc'ed array (free()), or -1 (STORE_ERROR_LISTING).
 */
int store_list_parse(const char *p, size_t len, struct store_entry **out, size_t *n,
		     GError **error);

/*
 * NAME is NUMBER-EVENTID.env (an event's envelope): its number and event
 * id (16 bytes). Anything else false.
 */
bool store_envelope_name(const char *name, uint64_t *number, uint8_t event_id[16]);

/* ---- fetching (libcurl) ---- */

struct store_fetch;

/*
 * Each GET is bounded: connecting within the timeout, cut when it moves
 * less than STORE_LOW_SPEED bytes/s for the timeout, and done within the
 * timeout plus its answer's length at STORE_FLOOR_RATE (and before the
 * deadline, when one is set): a store or cache that trickles cannot hold
 * the hub.
 */
#define STORE_LOW_SPEED		1024L
#define STORE_FLOOR_RATE	(64u << 10)

/*
 * BASE is http:// or https://; timeout as above. Errors show BASE without
 * its credentials (vc_url_redact).
 */
struct store_fetch *store_fetch_new(const char *base, long timeout_s, GError **error);
void store_fetch_free(struct store_fetch *f);
/* No GET goes on past deadline_ms (store_fetch_now_ms's clock; 0: none). */
void store_fetch_set_deadline(struct store_fetch *f, uint64_t deadline_ms);
uint64_t store_fetch_now_ms(void);
/*
 * GET BASE/PATH into *body (malloc'ed, *len bytes; free()), at most max
 * bytes (a longer answer is refused). The HTTP status (200 on success;
 * *body only then), another status with error set (STORE_ERROR_HTTP, the
 * message "GET URL: HTTP STATUS"), or -1 with error set (STORE_ERROR_FAILED).
 * cache gets the answer's X-Cache-Status ("" without one).
 */
long store_fetch_get(struct store_fetch *f, const char *path, size_t max, uint8_t **body,
		     size_t *len, char cache[16], GError **error);

#endif /* VERACAM_HUB_STORE_H */
