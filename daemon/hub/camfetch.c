// SPDX-License-Identifier: GPL-2.0
/*
 * camfetch.c - the hub fetches its camera's recorded events over the
 * session and keeps the verified ones in its event cache (camfetch.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>

#include <glib.h>

#include "camfetch.h"
#include "events.h"

enum phase { PH_IDLE, PH_LISTING, PH_FETCHING };

struct camfetch {
	struct camfetch_config cfg;
	struct camfetch_stats st;
	uint8_t camera_kid[VC_KEY_ID_LEN];
	/* the chain: the newest event seen (KEYS/events-seen/NAME) */
	bool have_seen;
	uint64_t seen_number;
	uint8_t seen_hash[VC_HASH_LEN];
	uint64_t next_from;		/* the next listing's first number */
	/* the last listing */
	struct vc_evx_entry list[VC_EVX_LIST_MAX];
	size_t n_list, at;
	bool more;
	uint64_t list_at_ns;		/* when to list again; 0: at once */
	/* the event being fetched: resumes across sessions */
	bool busy;
	struct vc_evx_entry cur;
	unsigned int kind;
	uint8_t *obj[4];
	size_t got[4];
	/* this session */
	bool asked, answered;
	enum phase phase;
	/* a camera whose sessions end when asked: an older one, not asked again */
	unsigned int unanswered_ends;
	bool ever_answered, old_camera;
	uint64_t store_until_ns;	/* the camera uploads to a store: not before */
};

static void say(struct camfetch *f, int prio, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void say(struct camfetch *f, int prio, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (f->cfg.log)
		f->cfg.log(f->cfg.data, prio, msg);
}

static void seen_load(struct camfetch *f)
{
	struct hub_event_seen seen;
	int r = hub_event_seen_load(f->cfg.keys_dir, f->cfg.camera, &seen);

	f->have_seen = r == 0 && seen.have;
	if (f->have_seen) {
		f->seen_number = seen.number;
		memcpy(f->seen_hash, seen.hash, VC_HASH_LEN);
		f->next_from = f->seen_number + 1;
		f->st.have_newest = true;
		f->st.newest = f->seen_number;
	} else if (r < 0) {
		say(f, LOG_WARNING, "%s/events-seen/%s: unreadable; events are fetched from the "
		    "oldest the camera holds", f->cfg.keys_dir, f->cfg.camera);
	}
}

/* ---- the fetch ---- */

struct camfetch *camfetch_new(const struct camfetch_config *cfg)
{
	struct camfetch *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->cfg = *cfg;
	if (!f->cfg.cache_max_bytes)
		f->cfg.cache_max_bytes = HUB_EVENT_CACHE_MAX;
	vc_key_id_of(cfg->camera_pub, f->camera_kid);
	seen_load(f);
	return f;
}

static void drop_current(struct camfetch *f)
{
	for (unsigned int k = 0; k < 4; k++) {
		if (f->obj[k])
			vc_wipe(f->obj[k], f->cur.size[k]);
		free(f->obj[k]);
		f->obj[k] = NULL;
		f->got[k] = 0;
	}
	if (f->busy && f->cur.number + 1 > f->next_from)
		f->next_from = f->cur.number + 1;
	f->busy = false;
}

void camfetch_free(struct camfetch *f)
{
	if (!f)
		return;
	drop_current(f);
	free(f);
}

void camfetch_session_start(struct camfetch *f)
{
	f->asked = f->answered = false;
	f->phase = PH_IDLE;
	f->list_at_ns = 0;	/* list at once: the camera may have recorded while we were away */
}

void camfetch_session_end(struct camfetch *f, bool unanswered)
{
	/*
	 * A camera from before §5.7 ends the session at the first event
	 * request (an unknown type): after CAMFETCH_OLD_CAMERA such ends, and
	 * never an answer, it is not asked again (its video matters more).
	 */
	if (unanswered && !f->ever_answered && !f->answered &&
	    ++f->unanswered_ends >= CAMFETCH_OLD_CAMERA && !f->old_camera) {
		f->old_camera = true;
		say(f, LOG_WARNING, "camera %s ends the session when asked for its events "
		    "(a veracamd from before event fetch?): not asking again until restart",
		    f->cfg.camera);
	}
	f->phase = PH_IDLE;
}

bool camfetch_next(struct camfetch *f, uint64_t now_ns, enum vc_ctl_type *type,
		   uint8_t body[VC_EVX_GET_LEN], size_t *len)
{
	if (f->old_camera || (f->store_until_ns && now_ns < f->store_until_ns))
		return false;
	if (!f->busy && f->at < f->n_list) {
		f->cur = f->list[f->at++];
		f->busy = true;
		f->kind = VC_EVX_ENV;
		for (unsigned int k = VC_EVX_ENV; k <= VC_EVX_CLIP; k++) {
			f->obj[k] = f->cur.size[k] ? malloc(f->cur.size[k]) : NULL;
			if (f->cur.size[k] && !f->obj[k]) {
				say(f, LOG_ERR, "camera %s: event %" PRIu64 ": out of memory",
				    f->cfg.camera, f->cur.number);
				drop_current(f);
				return false;
			}
		}
	}
	if (f->busy) {
		struct vc_evx_get g = { .kind = (uint8_t)f->kind, .number = f->cur.number,
					.offset = (uint32_t)f->got[f->kind] };
		size_t left = f->cur.size[f->kind] - f->got[f->kind];

		memcpy(g.event_id, f->cur.event_id, VC_EVENT_ID_LEN);
		g.max = left < VC_EVX_CHUNK_MAX ? (uint32_t)left : VC_EVX_CHUNK_MAX;
		*type = VC_CTL_EVENT_GET;
		*len = vc_evx_get_encode(&g, body);
		f->phase = PH_FETCHING;
		f->asked = true;
		return true;
	}
	if (!f->more && f->list_at_ns && now_ns < f->list_at_ns)
		return false;
	*type = VC_CTL_EVENTS_LIST;
	*len = vc_evx_list_encode(f->next_from, body);
	f->phase = PH_LISTING;
	f->asked = true;
	return true;
}

static void refuse(struct camfetch *f, enum vc_event_reject r, const char *what)
{
	g_autofree char *dir = hub_event_cache_dir(f->cfg.keys_dir, f->camera_kid);
	char name[64];

	f->st.refused[r]++;
	say(f, LOG_WARNING, "camera %s: event %" PRIu64 ": %s refused (%s), not kept",
	    f->cfg.camera, f->cur.number, what, vc_event_reject_name(r));
	vc_evx_name(f->cur.number, f->cur.event_id, VC_EVX_ENV, name);
	/* the number is the camera's own, over its authenticated session */
	if (hub_event_cache_refuse(dir, name, r, true) < 0)	/* its place in the view */
		say(f, LOG_ERR, "camera %s: %s: the refusal not noted", f->cfg.camera, dir);
	drop_current(f);
}

/* The chain against the newest event seen (veracamctl's chain_check, in order). */
static enum vc_event_reject chain(struct camfetch *f, const struct vc_manifest *m,
				  const uint8_t h[VC_HASH_LEN])
{
	struct vc_manifest seen;
	enum vc_event_reject r;

	if (!f->have_seen)
		return VC_EV_OK;
	if (m->number <= f->seen_number)
		return VC_EV_REPLAY;
	memset(&seen, 0, sizeof(seen));
	memcpy(seen.key_id, m->key_id, VC_KEY_ID_LEN);
	seen.number = f->seen_number;
	r = vc_manifest_follows(&seen, f->seen_hash, m);
	(void)h;
	return r;
}

/* The whole event is here: open everything, then keep it. */
static void event_complete(struct camfetch *f)
{
	static const struct {
		unsigned int kind;
		enum vc_event_object obj;
		const char *what;
	} objs[] = { { VC_EVX_THUMB, VC_OBJECT_THUMBNAIL, "thumbnail" },
		     { VC_EVX_CLIP, VC_OBJECT_CLIP, "clip" } };
	uint8_t man[VC_MANIFEST_MAX_LEN], ck[VC_CONTENT_KEY_LEN], h[VC_HASH_LEN];
	struct hub_event_objects o = { 0 };
	g_autofree char *dir = NULL;
	char name[64];
	size_t man_len;
	struct vc_manifest m;
	enum vc_hpke_aead aead;
	enum vc_event_reject r;
	g_autoptr(GError) err = NULL;

	r = vc_envelope_open(f->obj[VC_EVX_ENV], f->cur.size[VC_EVX_ENV], f->cfg.camera_pub,
			     f->cur.event_id, f->cfg.hub_key_id, f->cfg.enc, &m, man, &man_len,
			     &aead, ck);
	if (r == VC_EV_OK && m.number != f->cur.number)
		r = VC_EV_EVENT;	/* listed under another number */
	if (r == VC_EV_OK && vc_event_hash(man, man_len, h) < 0)
		r = VC_EV_MALFORMED;
	if (r == VC_EV_OK && !(m.flags & VC_MANIFEST_F_THUMBNAIL) != !f->cur.size[VC_EVX_THUMB])
		r = VC_EV_THUMBNAIL;	/* a thumbnail the manifest does not have, or none */
	if (r == VC_EV_OK)
		r = chain(f, &m, h);
	if (r == VC_EV_GAP) {
		uint64_t from = f->seen_number + 1;

		f->st.gaps++;
		f->st.gap_events += m.number - from;
		say(f, LOG_NOTICE, "camera %s: events %" PRIu64 "..%" PRIu64 " missing (not in its "
		    "spool any more)", f->cfg.camera, from, m.number - 1);
		r = VC_EV_OK;
	}
	if (r != VC_EV_OK) {
		vc_wipe(ck, sizeof(ck));
		refuse(f, r, "envelope");
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(objs); i++) {
		unsigned int k = objs[i].kind;
		struct vc_buf pt = { 0 };

		if (!f->cur.size[k])
			continue;
		r = vc_event_object_open(aead, ck, h, objs[i].obj, f->obj[k], f->cur.size[k], &pt);
		if (r == VC_EV_OK && k == VC_EVX_THUMB)
			r = vc_manifest_check_thumbnail(&m, pt.data, pt.len);
		if (pt.data)
			vc_wipe(pt.data, pt.cap);
		vc_buf_free(&pt);
		if (r != VC_EV_OK) {
			vc_wipe(ck, sizeof(ck));
			refuse(f, r, objs[i].what);
			return;
		}
	}
	vc_wipe(ck, sizeof(ck));
	o.thumb = f->obj[VC_EVX_THUMB];
	o.thumb_len = f->cur.size[VC_EVX_THUMB];
	o.clip = f->obj[VC_EVX_CLIP];
	o.clip_len = f->cur.size[VC_EVX_CLIP];
	dir = hub_event_cache_dir(f->cfg.keys_dir, f->camera_kid);
	vc_evx_name(f->cur.number, f->cur.event_id, VC_EVX_ENV, name);
	if (hub_event_cache_put(dir, name, f->obj[VC_EVX_ENV], f->cur.size[VC_EVX_ENV], &o,
				&err) < 0) {
		say(f, LOG_ERR, "camera %s: event %" PRIu64 ": %s", f->cfg.camera, f->cur.number,
		    err->message);
		drop_current(f);	/* not asked again: a full disk would loop */
		return;
	}
	f->st.cache_dropped += hub_event_cache_trim(f->cfg.keys_dir, f->cfg.cache_max_bytes);
	if (hub_event_seen_save(f->cfg.keys_dir, f->cfg.camera, m.number, h) < 0)
		say(f, LOG_ERR, "camera %s: %s/events-seen/%s: not written", f->cfg.camera,
		    f->cfg.keys_dir, f->cfg.camera);
	f->have_seen = true;
	f->seen_number = m.number;
	memcpy(f->seen_hash, h, VC_HASH_LEN);
	f->st.events++;
	f->st.objects += 1 + (o.thumb_len != 0) + 1;
	f->st.have_newest = true;
	f->st.newest = m.number;
	say(f, LOG_INFO, "camera %s: event %" PRIu64 " fetched and verified (%zu + %zu + %zu "
	    "bytes)", f->cfg.camera, m.number, (size_t)f->cur.size[VC_EVX_ENV], o.thumb_len,
	    o.clip_len);
	drop_current(f);
}

static unsigned int next_kind(const struct camfetch *f, unsigned int k)
{
	for (k++; k <= VC_EVX_CLIP; k++)
		if (f->cur.size[k])
			return k;
	return 0;
}

int camfetch_answer(struct camfetch *f, const struct vc_ctl *m, uint64_t now_ns)
{
	struct vc_evx_chunk c;
	enum vc_evx_error code;
	bool more;

	f->answered = f->ever_answered = true;
	f->unanswered_ends = 0;
	f->asked = false;
	f->phase = PH_IDLE;
	switch (m->type) {
	case VC_CTL_EVENTS:
		if (vc_evx_listing_parse(m->body, m->len, f->next_from, f->list, &f->n_list, &more))
			return -1;
		f->at = 0;
		f->more = more;
		f->store_until_ns = 0;	/* it serves again (its store was removed) */
		if (!f->n_list)
			f->list_at_ns = now_ns + CAMFETCH_POLL_NS;
		else if (!more)
			f->list_at_ns = now_ns + CAMFETCH_POLL_NS;
		return 0;
	case VC_CTL_EVENT_CHUNK:
		if (!f->busy || vc_evx_chunk_parse(m->body, m->len, &c))
			return -1;
		/* the session checked it answers our request; its size must be the listing's */
		if (c.kind != f->kind || c.total != f->cur.size[f->kind] ||
		    c.offset != f->got[f->kind]) {
			say(f, LOG_WARNING, "camera %s: event %" PRIu64 ": %s is %" PRIu32
			    " bytes, listed as %" PRIu32, f->cfg.camera, f->cur.number,
			    vc_evx_ext(c.kind), c.total, f->cur.size[f->kind]);
			drop_current(f);
			return -1;
		}
		memcpy(f->obj[f->kind] + c.offset, c.data, c.len);
		f->got[f->kind] += c.len;
		f->st.bytes += c.len;
		if (f->got[f->kind] < f->cur.size[f->kind])
			return 0;
		f->kind = next_kind(f, f->kind);
		if (!f->kind)
			event_complete(f);
		return 0;
	case VC_CTL_EVENT_ERROR:
		if (vc_evx_error_parse(m->body, m->len, &code))
			return -1;
		if (code == VC_EVX_ERR_STORE) {
			if (!f->store_until_ns)
				say(f, LOG_INFO, "camera %s uploads its events to an event store: "
				    "fetch them from there (veracamctl events list --store)",
				    f->cfg.camera);
			f->store_until_ns = now_ns + CAMFETCH_STORE_NS;
			return 0;
		}
		if (f->busy) {
			f->st.gone++;
			say(f, LOG_NOTICE, "camera %s: event %" PRIu64 " left its spool before it "
			    "was fetched", f->cfg.camera, f->cur.number);
			drop_current(f);
		}
		return 0;
	default:
		return -1;
	}
}

const char *camfetch_state(const struct camfetch *f)
{
	if (f->old_camera)
		return "old-camera";
	if (f->store_until_ns)
		return "store";
	return f->busy ? "fetching" : f->phase == PH_LISTING ? "listing" : "idle";
}

const struct camfetch_stats *camfetch_stats(const struct camfetch *f)
{
	return &f->st;
}
