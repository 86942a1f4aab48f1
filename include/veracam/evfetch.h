/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - fetching recorded events from the camera over
 * the authenticated session (docs/PROTOCOL.md §5.7), for hubs without an
 * event store.
 *
 * Five control messages (session.h, enum vc_ctl_type): the hub asks for
 * the camera's complete events numbered from FROM on (EVENTS_LIST) and
 * for one chunk of one object (EVENT_GET: its number, event id and kind,
 * an offset and a maximum length); the camera answers each request with
 * exactly one message: a listing (EVENTS), a chunk (EVENT_CHUNK) or an
 * error (EVENT_ERROR). At most one request is outstanding per session.
 *
 * Nothing on the wire is a file name: a request names an object by its
 * number, its 16-byte event id and its kind, and each end formats the
 * spool name NUMBER-EVENTID.{env,thumb,clip} itself (vc_evx_name), so no
 * bytes from the peer ever reach a path. The objects are served as the
 * camera sealed them (PROTOCOL.md §15.5); the hub opens them with its keys.
 *
 * Every parser here is strict (lengths, versions, reserved bytes, ranges)
 * and fuzzed (tests/fuzz/fuzz_evfetch.c).
 */
#ifndef VERACAM_EVFETCH_H
#define VERACAM_EVFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veracam/event.h>

#define VC_EVX_VERSION		1
#define VC_EVX_CHUNK_MAX	16384	/* data bytes in one chunk */
#define VC_EVX_LIST_MAX		64	/* entries in one listing */
#define VC_EVX_ENTRY_LEN	36
#define VC_EVX_LIST_REQ_LEN	12
#define VC_EVX_GET_LEN		36
#define VC_EVX_ERROR_LEN	4
#define VC_EVX_LISTING_HDR	4
#define VC_EVX_CHUNK_HDR	36
#define VC_EVX_LISTING_MAX_LEN	(VC_EVX_LISTING_HDR + VC_EVX_LIST_MAX * VC_EVX_ENTRY_LEN)
#define VC_EVX_CHUNK_MAX_LEN	(VC_EVX_CHUNK_HDR + VC_EVX_CHUNK_MAX)

/* Object sizes a hub accepts (a listing naming a larger one is refused). */
#define VC_EVX_THUMB_MAX	((4u << 20) + 64)
#define VC_EVX_CLIP_MAX		((256u << 20) + 64)

enum vc_evx_kind {
	VC_EVX_ENV = 1,		/* NUMBER-EVENTID.env: the envelope */
	VC_EVX_THUMB = 2,	/* .thumb: the sealed thumbnail */
	VC_EVX_CLIP = 3,	/* .clip: the sealed clip */
};

enum vc_evx_error {
	VC_EVX_ERR_STORE = 1,	/* the camera uploads to an event store: fetch from there */
	VC_EVX_ERR_GONE = 2,	/* not (or no longer) in the camera's spool */
};

/* One complete event of a listing (its envelope exists). */
struct vc_evx_entry {
	uint64_t number;
	uint8_t event_id[VC_EVENT_ID_LEN];
	uint32_t size[4];		/* by enum vc_evx_kind; size[VC_EVX_THUMB] 0: none */
};

/* An EVENT_GET request (hub -> camera). */
struct vc_evx_get {
	uint8_t kind;			/* enum vc_evx_kind */
	uint64_t number;
	uint8_t event_id[VC_EVENT_ID_LEN];
	uint32_t offset;
	uint32_t max;			/* 1 .. VC_EVX_CHUNK_MAX */
};

/* An EVENT_CHUNK answer (camera -> hub); data points into the parsed body. */
struct vc_evx_chunk {
	uint8_t kind;
	uint64_t number;
	uint8_t event_id[VC_EVENT_ID_LEN];
	uint32_t offset;
	uint32_t total;			/* the object's whole size */
	const uint8_t *data;
	size_t len;			/* 1 .. VC_EVX_CHUNK_MAX, offset + len <= total */
};

/* "env", "thumb", "clip" (NULL for another kind). */
const char *vc_evx_ext(unsigned int kind);
/* The spool name NUMBER-EVENTID.EXT into out (at least 64 bytes); -1 for a bad kind. */
int vc_evx_name(uint64_t number, const uint8_t id[VC_EVENT_ID_LEN], unsigned int kind,
		char out[64]);
/* A spool name in exactly that grammar (20 digits, '-', 32 lowercase hex, '.', ext). */
bool vc_evx_name_parse(const char *name, uint64_t *number, uint8_t id[VC_EVENT_ID_LEN],
		       unsigned int *kind);

/* Bodies: encoders return the length; parsers 0 or -1 (malformed, why in vc_last_error()). */
size_t vc_evx_list_encode(uint64_t from, uint8_t out[VC_EVX_LIST_REQ_LEN]);
int vc_evx_list_parse(const uint8_t *p, size_t len, uint64_t *from);
size_t vc_evx_get_encode(const struct vc_evx_get *g, uint8_t out[VC_EVX_GET_LEN]);
int vc_evx_get_parse(const uint8_t *p, size_t len, struct vc_evx_get *g);
size_t vc_evx_error_encode(enum vc_evx_error code, uint8_t out[VC_EVX_ERROR_LEN]);
int vc_evx_error_parse(const uint8_t *p, size_t len, enum vc_evx_error *code);
/* n entries (at most VC_EVX_LIST_MAX), more: the camera holds more after them. */
size_t vc_evx_listing_encode(const struct vc_evx_entry *e, size_t n, bool more,
			     uint8_t out[VC_EVX_LISTING_MAX_LEN]);
/*
 * A listing answering "from": entries numbered from on, strictly rising
 * (anything older is a rollback), sizes within the limits above (an
 * envelope 1 .. VC_ENVELOPE_MAX_LEN, a clip at least 1 byte).
 */
int vc_evx_listing_parse(const uint8_t *p, size_t len, uint64_t from,
			 struct vc_evx_entry e[VC_EVX_LIST_MAX], size_t *n, bool *more);
/* Header and data into out (VC_EVX_CHUNK_HDR + c->len bytes). */
size_t vc_evx_chunk_encode(const struct vc_evx_chunk *c, uint8_t *out);
int vc_evx_chunk_parse(const uint8_t *p, size_t len, struct vc_evx_chunk *c);
/* The chunk answers exactly this request (object, offset, at most max bytes). */
bool vc_evx_chunk_answers(const struct vc_evx_chunk *c, const struct vc_evx_get *g);

#endif /* VERACAM_EVFETCH_H */
