// SPDX-License-Identifier: GPL-2.0
/*
 * evview.c - the hub's events view (evview.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>

#include <glib.h>

#include <veracam/enckey.h>
#include <veracam/event.h>
#include <veracam/mp4.h>
#include <veracam/pairing.h>

#include "decode.h"
#include "events.h"
#include "evfetch.h"
#include "evview.h"
#include "hub_error.h"

#define THUMB_WAIT_NS	5000000000ull	/* a thumbnail not decoded by then: unavailable */
#define JDEC_RETRY_NS	5000000000ull	/* a JPEG child that failed: the next one after this */
#define CLIP_HOLD_NS	1000000000ull	/* the clip's end (or refusal) shown this long */
#define CLIP_SHOW_NS	2000000000ull	/* a clip picture's show-until after its AU */
#define REBUILD_NS	1000000000ull	/* the view built again at most this often */

struct thumb_job {
	unsigned int cam, tile;
	uint64_t capture_ns;
	struct vc_buf jpeg;
};

struct evview {
	struct evview_config cfg;
	struct vc_enc_key *enc;		/* NULL: the key directory has none */
	struct evfetch *fetch;
	struct svc_mailbox *fetch_report;	/* the fetcher's struct evfetch_stats */
	struct evfetch_stats synced;	/* the fetcher's counters already in the status */
	/* a change of the cache rebuilds the view at most every REBUILD_NS */
	struct svc_timer *rebuild_timer;
	bool rebuild_due;
	GHashTable *logged;		/* "KEYID/NAME reason" logged once */

	/* thumbnails: decoded one at a time by the JPEG child */
	struct hub_decode *jdec;
	GArray *jobs;			/* struct thumb_job, in order */
	guint next_job;
	bool in_flight;
	struct svc_timer *thumb_timer;	/* THUMB_WAIT_NS for the job in flight */
	uint64_t jdec_retry_ns;		/* no new JPEG child before (clk_mono_ns) */

	/* a clip playing */
	struct hub_decode *cdec;		/* made at the first play */
	struct svc_timer *clip_timer;
	bool playing, holding;
	unsigned int clip_cam;
	struct hub_event_opened ev;
	struct vc_mp4 mp4;
	struct vc_clip_check chk;
	size_t next_au;
	uint64_t interval_ns;
	struct vc_buf au;
	char clip_name[64];
};

/* Counted always, logged once per event and reason. */
static void refused(struct evview *v, unsigned int cam, const char *what, const char *name,
		    const char *reason)
{
	g_autofree char *key = g_strdup_printf("%u/%s/%s/%s", cam, what, name, reason);

	svc_reasons_add(&v->cfg.st->rejected, reason);
	if (g_hash_table_contains(v->logged, key))
		return;
	g_hash_table_add(v->logged, g_steal_pointer(&key));
	svc_log(LOG_WARNING, "events: camera %s: %s of %s refused (%s): the hub's screen shown "
		"in its place", v->cfg.names[cam], what, name, reason);
}

static void jobs_clear(struct evview *v)
{
	for (guint i = 0; i < v->jobs->len; i++)
		vc_buf_free(&g_array_index(v->jobs, struct thumb_job, i).jpeg);
	g_array_set_size(v->jobs, 0);
	v->next_job = 0;
	v->in_flight = false;
	if (v->thumb_timer)
		svc_timer_arm(v->thumb_timer, 0, 0);
}

static void on_jpeg(void *data, uint32_t events);

/* A decoder child (not waited for) whose socket @fn watches on the hub's loop. */
static struct hub_decode *spawn_watched(struct evview *v, bool jpeg, svc_fd_fn fn,
					GError **error)
{
	struct hub_decode *d = hub_decode_spawn(jpeg, error);

	if (d && svc_loop_add_fd(v->cfg.loop, hub_decode_fd(d), EPOLLIN, fn, v) < 0) {
		g_set_error_literal(error, HUB_ERROR, HUB_ERROR_FAILED, "event loop setup failed");
		hub_decode_free(d);
		d = NULL;
	}
	return d;
}

/*
 * The JPEG child, started when a thumbnail first needs it (not at the
 * hub's start: the live view must not wait for, or fail with, a child only
 * the events view uses) and never waited for: 1 ready, 0 starting (on_jpeg()
 * goes on when it greets), -1 failed (logged; another child is started for
 * the next thumbnail, this one shows the placeholder).
 */
static int jdec_state(struct evview *v)
{
	g_autoptr(GError) error = NULL;
	int ret;

	if (!v->jdec) {
		v->jdec = spawn_watched(v, true, on_jpeg, &error);
		if (!v->jdec) {
			svc_log(LOG_WARNING, "events view: the thumbnail decoder: %s", error->message);
			return -1;
		}
	}
	ret = hub_decode_started(v->jdec);
	if (ret < 0 && clk_mono_ns() >= v->jdec_retry_ns) {
		/* another child at most every JDEC_RETRY_NS: logged then, not per tile */
		v->jdec_retry_ns = clk_mono_ns() + JDEC_RETRY_NS;
		svc_log(LOG_WARNING, "events view: the thumbnail decoder: %s",
			hub_decode_last_failure(v->jdec));
		if (hub_decode_restart(v->jdec, &error) < 0)
			svc_log(LOG_WARNING, "events view: the thumbnail decoder: %s",
				error->message);
	}
	return ret;
}

/* The next thumbnail to the JPEG child. */
static void job_next(struct evview *v)
{
	while (!v->in_flight && v->next_job < v->jobs->len) {
		struct thumb_job *j = &g_array_index(v->jobs, struct thumb_job, v->next_job);
		int state = jdec_state(v), ret = -EIO;

		if (state == 0) {	/* looked at again when it greets, or after a while */
			svc_timer_arm(v->thumb_timer, THUMB_WAIT_NS, 0);
			return;
		}
		if (state > 0)
			ret = hub_decode_au(v->jdec, j->jpeg.data, j->jpeg.len, j->capture_ns,
					    clk_mono_ns() + THUMB_WAIT_NS, true);
		if (ret == 0) {
			v->in_flight = true;
			svc_timer_arm(v->thumb_timer, THUMB_WAIT_NS, 0);
			return;
		}
		hub_display_event_tile(v->cfg.display, j->cam, j->tile, DISPLAY_TILE_UNAVAILABLE,
				       NULL, 0, "DECODE");
		svc_reasons_add(&v->cfg.st->rejected, "decode");
		v->next_job++;
	}
}

static void job_done(struct evview *v, struct hub_picture *pic)
{
	struct thumb_job *j;

	if (!v->in_flight || v->next_job >= v->jobs->len) {
		if (pic && pic->release)
			pic->release(pic);
		return;
	}
	j = &g_array_index(v->jobs, struct thumb_job, v->next_job);
	if (pic) {
		if (hub_display_event_tile(v->cfg.display, j->cam, j->tile, DISPLAY_TILE_THUMB, pic,
					   j->capture_ns, NULL) == 0)
			v->cfg.st->thumbnails_shown++;
	} else {
		hub_display_event_tile(v->cfg.display, j->cam, j->tile, DISPLAY_TILE_UNAVAILABLE,
				       NULL, 0, "DECODE");
		svc_reasons_add(&v->cfg.st->rejected, "decode");
	}
	vc_buf_free(&j->jpeg);
	v->next_job++;
	v->in_flight = false;
	svc_timer_arm(v->thumb_timer, 0, 0);
	job_next(v);
}

static void on_jpeg(void *data, uint32_t events)
{
	struct evview *v = data;
	struct hub_picture pic;
	int ret;

	(void)events;
	while ((ret = hub_decode_take(v->jdec, &pic)) == 1)
		job_done(v, &pic);
	if (ret == -EIO && v->in_flight)
		job_done(v, NULL);
	else if (!v->in_flight)
		job_next(v);	/* a child that greeted (or failed) before its first job */
}

static void on_thumb_timeout(void *data)
{
	struct evview *v = data;

	if (v->in_flight) {
		if (v->jdec)
			hub_decode_reset(v->jdec);
		job_done(v, NULL);
	} else {
		job_next(v);	/* a child still starting: replaced when silent too long */
	}
}

static const char *upper_reason(enum vc_event_reject r, char *buf, size_t cap)
{
	const char *s = r == VC_EV__COUNT ? "not-cached" : vc_event_reject_name(r);
	size_t i;

	for (i = 0; s[i] && i + 1 < cap; i++)
		buf[i] = (char)g_ascii_toupper(s[i]);
	buf[i] = 0;
	return buf;
}

/*
 * The refusals noted in dir that the view shows, newest first, one per
 * number (the signed one when there are several): every one whose number
 * the camera signed, and the others only below the newest signed number
 * known (cached, newest, or a signed refusal), so a store cannot push the
 * camera's events out of the view with names it gave far ahead.
 */
static size_t shown_refusals(const char *dir, const char *newest, struct hub_event_refusal *out,
			     size_t max)
{
	struct hub_event_refusal all[HUB_EVENT_REFUSALS_MAX];
	size_t n = hub_event_cache_refusals(dir, all, G_N_ELEMENTS(all)), k = 0;
	uint64_t top = 0;
	bool have = false;
	uint8_t id[VC_EVENT_ID_LEN];

	if (newest && store_envelope_name(newest, &top, id))
		have = true;
	for (size_t i = 0; i < n; i++)
		if (all[i].signed_number && (!have || all[i].number > top)) {
			top = all[i].number;
			have = true;
		}
	for (size_t i = 0; i < n; i++) {
		if (!all[i].signed_number && !(have && all[i].number < top))
			continue;
		if (k && out[k - 1].number == all[i].number) {	/* one tile a number */
			if (all[i].signed_number && !out[k - 1].signed_number)
				out[k - 1] = all[i];
			continue;
		}
		if (k < max)
			out[k++] = all[i];
	}
	return k;
}

/* A camera's column of tiles as it is drawn, newest first. */
struct column {
	unsigned int cam, tile;		/* the next tile */
	bool have_top;
	uint64_t top;			/* the number of the last tile placed */
	uint64_t unsigned_since;	/* refusals of the store's numbers drawn since */
};

/*
 * A gap tile when numbers are missing between the last tile placed and the
 * next one's number n, more of them than the refusals of numbers only the
 * store's names gave drawn in between: the camera's chain goes on from
 * there, so they were recorded and are not here (counted in the status'
 * gaps). False when the column is full.
 */
static bool gap_tile(struct evview *v, struct column *c, uint64_t n)
{
	char text[48];

	if (c->have_top && n + 1 + c->unsigned_since < c->top && c->tile < DISPLAY_EVENT_TILES) {
		snprintf(text, sizeof(text), "%" PRIu64 "..%" PRIu64, n + 1, c->top - 1);
		hub_display_event_tile(v->cfg.display, c->cam, c->tile++, DISPLAY_TILE_GAP, NULL, 0,
				       text);
		v->cfg.st->gaps++;
	}
	return c->tile < DISPLAY_EVENT_TILES;
}

/* Number n's tile after the gap before it; false when the column is full. */
static bool place(struct evview *v, struct column *c, uint64_t n)
{
	if (!gap_tile(v, c, n))
		return false;
	c->top = n;
	c->have_top = true;
	c->unsigned_since = 0;
	return true;
}

/*
 * A refused event's unavailable tile (the reason in capitals), in its
 * place. Only a number the camera signed bounds a gap; one only the store's
 * name gives stands for one missing number of the gap it is in (as many as
 * there are of them, not which); below every event shown no gap is drawn
 * (the hub's own cache bound drops old events, their refusals' notes stay).
 */
static void refusal_tile(struct evview *v, struct column *c, const struct hub_event_refusal *x,
			 bool below_all)
{
	char up[32];
	size_t i;

	if (x->signed_number && !below_all) {
		if (!place(v, c, x->number))
			return;
	} else if (c->tile >= DISPLAY_EVENT_TILES) {
		return;
	} else if (!x->signed_number) {
		c->unsigned_since++;
	}
	for (i = 0; x->reason[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)g_ascii_toupper(x->reason[i]);
	up[i] = 0;
	hub_display_event_tile(v->cfg.display, c->cam, c->tile++, DISPLAY_TILE_UNAVAILABLE, NULL, 0,
			       up);
}

/*
 * Camera cam's tiles from its cache, newest first: the newest events, each
 * opened again (never trusting the files; a newer one shown must follow
 * from it: vc_manifest_follows), an unavailable tile in the place of each
 * event the fetchers refused (hub_event_cache_refuse), a gap tile wherever
 * numbers are missing between two tiles of cached events or of refusals
 * the camera signed (refusal_tile), thumbnails queued for the decoder.
 */
static void build_camera(struct evview *v, unsigned int cam)
{
	const char *name = v->cfg.names[cam];
	g_autofree char *dir = NULL;
	g_auto(GStrv) names = NULL;
	struct hub_event_refusal refusals[DISPLAY_EVENT_TILES * 4];
	struct column col = { .cam = cam };
	struct vc_manifest newer;
	bool have_newer = false;
	size_t n_ref, ri = 0;
	struct vc_peer peer;
	char up[32];

	for (unsigned int k = 0; k < DISPLAY_EVENT_TILES; k++)
		hub_display_event_tile(v->cfg.display, cam, k, DISPLAY_TILE_EMPTY, NULL, 0, NULL);
	if (vc_peer_load(v->cfg.keys, name, &peer) < 0 || peer.role != VC_ROLE_CAMERA ||
	    peer.pending || !v->enc)
		return;
	dir = hub_event_cache_dir(v->cfg.keys, peer.key_id);
	names = hub_event_cache_list(dir, DISPLAY_EVENT_TILES);
	n_ref = shown_refusals(dir, names[0], refusals, G_N_ELEMENTS(refusals));
	for (unsigned int i = 0; names[i] && col.tile < DISPLAY_EVENT_TILES; i++) {
		struct hub_event_opened e;
		uint64_t number;
		uint8_t id[VC_EVENT_ID_LEN];
		enum vc_event_reject r;

		/*
		 * the refused events newer than this one (and older than the one
		 * before it: those were drawn then), in their places
		 */
		if (!store_envelope_name(names[i], &number, id))
			continue;
		for (; ri < n_ref && refusals[ri].number >= number; ri++)
			if (refusals[ri].number != number)	/* another name of this number */
				refusal_tile(v, &col, &refusals[ri], false);
		r = hub_event_cache_open(dir, names[i], peer.pub, v->cfg.hub_key_id, v->enc, true,
					 false, &e);
		if (r == VC_EV_OK && have_newer) {
			enum vc_event_reject f = vc_manifest_follows(&e.m, e.man_hash, &newer);

			if (f != VC_EV_OK && f != VC_EV_GAP) {
				r = f;	/* the newer one does not link to it */
				hub_event_opened_free(&e);
			}
		}
		if (!place(v, &col, number)) {	/* the name's number: the manifest's when opened */
			if (r == VC_EV_OK)
				hub_event_opened_free(&e);
			break;
		}
		if (r != VC_EV_OK) {
			refused(v, cam, "thumbnail", names[i],
				r == VC_EV__COUNT ? "not-cached" : vc_event_reject_name(r));
			hub_display_event_tile(v->cfg.display, cam, col.tile++,
					       DISPLAY_TILE_UNAVAILABLE,
					       NULL, 0, upper_reason(r, up, sizeof(up)));
			continue;
		}
		{
			struct thumb_job j = { .cam = cam, .tile = col.tile++,
					       .capture_ns = e.m.start_ns, .jpeg = e.jpeg };

			memset(&e.jpeg, 0, sizeof(e.jpeg));	/* the job's now */
			g_array_append_val(v->jobs, j);
		}
		newer = e.m;
		have_newer = true;
		hub_event_opened_free(&e);
	}
	/* refused events older than every one shown */
	for (; ri < n_ref; ri++)
		refusal_tile(v, &col, &refusals[ri], true);
}

static void refresh(struct evview *v)
{
	if (v->in_flight)
		hub_decode_reset(v->jdec);	/* its picture is of the old tiles */
	jobs_clear(v);
	for (unsigned int i = 0; i < v->cfg.n_cameras; i++)
		build_camera(v, i);
	job_next(v);
}

/*
 * The fetcher's newest counters (v->fetch_report) into the status, its
 * refusals by reason as the view's; a round that changed the cache
 * changes the view.
 */
static void on_fetch_report(void *data)
{
	struct evview *v = data;
	struct svc_hub_events_stats *st = v->cfg.st;
	struct evfetch_stats now;
	bool changed;

	if (!svc_mailbox_take(v->fetch_report, &now))
		return;
	changed = now.cache_changes != v->synced.cache_changes;
	st->fetch_rounds = now.rounds;
	st->fetched = now.fetched;
	st->fetch_errors = now.errors;
	st->cache_dropped += now.dropped - v->synced.dropped;	/* camfetch adds too */
	g_strlcpy(st->last_error, now.last_error, sizeof(st->last_error));
	for (int r = 0; r < VC_EV__COUNT; r++)
		svc_reasons_add_n(&st->rejected, vc_event_reject_name((enum vc_event_reject)r),
				  now.rejected[r] - v->synced.rejected[r]);
	v->synced = now;
	if (changed)
		evview_cache_changed(v);
}

/*
 * The cache changed: the view, when it is showing, built again at most
 * every REBUILD_NS (a fetcher can change it many times a second: a camera
 * listing events it then fails to give), so the thumbnails of one build
 * are decoded before the next.
 */
void evview_cache_changed(struct evview *v)
{
	if (!v->rebuild_due) {
		v->rebuild_due = true;
		svc_timer_arm(v->rebuild_timer, REBUILD_NS, 0);
	}
}

static void on_rebuild(void *data)
{
	struct evview *v = data;

	v->rebuild_due = false;
	if (hub_display_get_view(v->cfg.display) == DISPLAY_VIEW_EVENTS && !v->playing)
		refresh(v);
}

/* ---- a clip ---- */

static void clip_close(struct evview *v)
{
	v->playing = false;
	v->holding = false;
	if (v->clip_timer)
		svc_timer_arm(v->clip_timer, 0, 0);
	vc_mp4_free(&v->mp4);
	memset(&v->mp4, 0, sizeof(v->mp4));
	hub_event_opened_free(&v->ev);
	vc_buf_free(&v->au);
	if (v->cdec)
		hub_decode_reset(v->cdec);
}

/* The clip stops on the hub's screen with why; the events view after CLIP_HOLD_NS. */
static void clip_refused(struct evview *v, const char *reason)
{
	char up[32];
	size_t i;

	refused(v, v->clip_cam, "clip", v->clip_name, reason);
	for (i = 0; reason[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)g_ascii_toupper(reason[i]);
	up[i] = 0;
	clip_close(v);
	hub_display_clip_unavailable(v->cfg.display, v->cfg.names[v->clip_cam], up);
	v->holding = true;
	svc_timer_arm(v->clip_timer, CLIP_HOLD_NS, 0);
}

static void on_clip_tick(void *data)
{
	struct evview *v = data;
	const struct vc_mp4_sample *s;
	struct vc_event_record rec;
	enum vc_event_reject r;
	uint64_t wait;
	size_t i;

	if (v->holding) {	/* the end (or the refusal) was shown: back to the events view */
		clip_close(v);
		v->cfg.st->view = "events";
		hub_display_set_view(v->cfg.display, DISPLAY_VIEW_EVENTS);
		refresh(v);
		return;
	}
	if (!v->playing)
		return;
	if (v->next_au == 0) {	/* the clip's child, started without waiting */
		g_autoptr(GError) error = NULL;
		int ret = hub_decode_started(v->cdec);

		if (ret == 0) {	/* on_clip_decoded() ticks when it greets; or look again */
			svc_timer_arm(v->clip_timer, 1000000000u, 0);
			return;
		}
		if (ret < 0) {
			svc_log(LOG_WARNING, "events view: the clip decoder: %s",
				hub_decode_last_failure(v->cdec));
			if (hub_decode_restart(v->cdec, &error) < 0)
				svc_log(LOG_WARNING, "events view: the clip decoder: %s",
					error->message);
			clip_refused(v, "decode");
			return;
		}
	}
	if (v->next_au >= v->mp4.n_samples) {
		r = vc_clip_check_end(&v->chk);
		if (r != VC_EV_OK) {
			clip_refused(v, vc_event_reject_name(r));
			return;
		}
		v->holding = true;
		svc_timer_arm(v->clip_timer, CLIP_HOLD_NS, 0);
		return;
	}
	i = v->next_au++;
	s = &v->mp4.samples[i];
	if (vc_mp4_sample_annexb(v->ev.mp4.data + s->off, s->len, &v->au) < 0) {
		clip_refused(v, "malformed");
		return;
	}
	/*
	 * Verified before it is decoded: this event's record, signed, next,
	 * chained, the AU's hash; and the container plays it when it was
	 * captured (export.c's checks, PROTOCOL.md §15.4).
	 */
	r = vc_clip_check_au(&v->chk, v->au.data, v->au.len, &rec);
	if (r == VC_EV_OK)
		r = vc_clip_check_time(&v->chk, &rec, vc_mp4_sample_ns(&v->mp4, i),
				       vc_mp4_tick_ns(&v->mp4));
	if (r != VC_EV_OK) {
		clip_refused(v, vc_event_reject_name(r));
		return;
	}
	v->cfg.st->clip_frames++;
	hub_decode_au(v->cdec, v->au.data, v->au.len, rec.capture_ns, clk_mono_ns() + CLIP_SHOW_NS,
		      rec.flags & VC_EVREC_F_IDR);
	/* the next at its time in the clip (checked in turn), within 10 ms..1 s */
	wait = v->interval_ns;
	if (i + 1 < v->mp4.n_samples) {
		uint64_t at = vc_mp4_sample_ns(&v->mp4, i), next = vc_mp4_sample_ns(&v->mp4, i + 1);

		wait = next > at ? next - at : 0;
		wait = wait < 10000000u ? 10000000u : wait > 1000000000u ? 1000000000u : wait;
	}
	svc_timer_arm(v->clip_timer, wait, 0);
}

static void on_clip_decoded(void *data, uint32_t events)
{
	struct evview *v = data;
	struct hub_picture pic;

	(void)events;
	if (v->playing && v->next_au == 0)	/* its child greeted (or failed): start */
		svc_timer_arm(v->clip_timer, 1, 0);
	while (hub_decode_take(v->cdec, &pic) == 1) {
		if (!v->playing || clk_mono_ns() >= pic.show_until_ns) {
			pic.release(&pic);
			continue;
		}
		if (hub_display_clip_show(v->cfg.display, v->cfg.names[v->clip_cam], &pic) == 0)
			v->cfg.st->clip_frames_shown++;
	}
}

static char *play(struct evview *v, const char *camera, const char *number)
{
	char prefix[32], *end;
	g_autoptr(GError) error = NULL;
	g_autofree char *dir = NULL;
	g_auto(GStrv) names = NULL;
	const char *name = NULL;
	struct vc_peer peer;
	enum vc_event_reject r;
	unsigned int cam;
	uint64_t n;

	for (cam = 0; cam < v->cfg.n_cameras && strcmp(v->cfg.names[cam], camera); cam++)
		;
	if (cam == v->cfg.n_cameras)
		return g_strdup_printf("error no camera %s on this hub\n", camera);
	errno = 0;
	n = strtoull(number, &end, 10);
	if (!*number || *end || errno || number[0] == '-')
		return g_strdup_printf("error %s: not an event number\n", number);
	if (vc_peer_load(v->cfg.keys, camera, &peer) < 0 || peer.role != VC_ROLE_CAMERA ||
	    peer.pending)
		return g_strdup_printf("error camera %s is not a confirmed camera\n", camera);
	if (!v->enc)
		return g_strdup("error this hub has no encryption key (veracamctl enc-keygen)\n");
	dir = hub_event_cache_dir(v->cfg.keys, peer.key_id);
	names = hub_event_cache_list(dir, UINT32_MAX);
	snprintf(prefix, sizeof(prefix), "%020" PRIu64 "-", n);
	for (unsigned int i = 0; names[i] && !name; i++)
		if (g_str_has_prefix(names[i], prefix))
			name = names[i];
	if (!name)
		return g_strdup_printf("error camera %s: no event %" PRIu64 " in the hub's cache\n",
				       camera, n);
	if (!v->cdec) {
		v->cdec = spawn_watched(v, false, on_clip_decoded, &error);
		if (!v->cdec)
			return g_strdup_printf("error clip decoder: %s\n", error->message);
	} else if (hub_decode_started(v->cdec) < 0 && hub_decode_restart(v->cdec, &error) < 0) {
		/* the last one failed */
		return g_strdup_printf("error clip decoder: %s\n", error->message);
	}
	clip_close(v);
	jobs_clear(v);
	v->clip_cam = cam;
	snprintf(v->clip_name, sizeof(v->clip_name), "%s", name);
	v->cfg.st->view = "clip";
	hub_display_set_view(v->cfg.display, DISPLAY_VIEW_CLIP);
	r = hub_event_cache_open(dir, name, peer.pub, v->cfg.hub_key_id, v->enc, false, true,
				 &v->ev);
	if (r == VC_EV_OK && vc_mp4_parse(v->ev.mp4.data, v->ev.mp4.len, &v->mp4) < 0)
		r = VC_EV_MALFORMED;
	if (r == VC_EV_OK && (!v->mp4.n_samples || v->mp4.truncated))
		r = VC_EV_TRUNCATED;
	if (r != VC_EV_OK) {
		const char *reason = r == VC_EV__COUNT ? "not-cached" : vc_event_reject_name(r);

		clip_refused(v, reason);
		return g_strdup_printf("error camera %s: event %" PRIu64 " refused (%s)\n", camera,
				       n, reason);
	}
	vc_clip_check_init(&v->chk, &v->ev.m, peer.pub);
	v->interval_ns = v->ev.m.n_frames > 1 ?
			 (v->ev.m.end_ns - v->ev.m.start_ns) / (v->ev.m.n_frames - 1) : 0;
	if (v->interval_ns < 10000000u || v->interval_ns > 1000000000u)
		v->interval_ns = 33333333u;
	v->next_au = 0;
	v->playing = true;
	v->cfg.st->clips_played++;
	hub_display_clip_unavailable(v->cfg.display, camera, "STARTING");
	svc_timer_arm(v->clip_timer, 1, 0);
	return g_strdup_printf("ok playing event %" PRIu64 " of %s (%u frames)\n", n, camera,
			       v->ev.m.n_frames);
}

char *evview_command(struct evview *v, const char *request)
{
	g_auto(GStrv) w = NULL;

	if (!g_str_has_prefix(request, "events ") && strcmp(request, "events"))
		return NULL;
	w = g_strsplit(request, " ", 0);
	if (g_strv_length(w) == 2 && !strcmp(w[1], "show")) {
		clip_close(v);
		v->cfg.st->view = "events";
		hub_display_set_view(v->cfg.display, DISPLAY_VIEW_EVENTS);
		refresh(v);
		if (v->fetch)
			evfetch_poke(v->fetch);
		svc_log(LOG_INFO, "events: the events view (requested on the status socket)");
		return g_strdup("ok events view\n");
	}
	if (g_strv_length(w) == 2 && !strcmp(w[1], "live")) {
		clip_close(v);
		jobs_clear(v);
		v->cfg.st->view = "live";
		hub_display_set_view(v->cfg.display, DISPLAY_VIEW_LIVE);
		svc_log(LOG_INFO, "events: the live view (requested on the status socket)");
		return g_strdup("ok live view\n");
	}
	if (g_strv_length(w) == 4 && !strcmp(w[1], "play"))
		return play(v, w[2], w[3]);
	return g_strdup("error events show | events live | events play CAMERA NUMBER\n");
}

struct evview *evview_new(const struct evview_config *cfg, GError **error)
{
	struct evview *v = calloc(1, sizeof(*v));

	if (!v) {
		g_set_error_literal(error, HUB_ERROR, HUB_ERROR_FAILED, "out of memory");
		return NULL;
	}
	v->cfg = *cfg;
	v->logged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	v->jobs = g_array_new(FALSE, TRUE, sizeof(struct thumb_job));
	v->enc = vc_enc_key_load(cfg->keys);
	cfg->st->view = "live";
	cfg->st->store = cfg->store != NULL;
	v->thumb_timer = svc_timer_new(cfg->loop, on_thumb_timeout, v);
	v->clip_timer = svc_timer_new(cfg->loop, on_clip_tick, v);
	v->rebuild_timer = svc_timer_new(cfg->loop, on_rebuild, v);
	if (!v->thumb_timer || !v->clip_timer || !v->rebuild_timer) {
		g_set_error_literal(error, HUB_ERROR, HUB_ERROR_FAILED, "timers: out of memory");
		goto fail;
	}
	if (cfg->store) {
		struct evfetch_config fc = {
			.loop = cfg->loop, .store = cfg->store, .keys = cfg->keys,
			.n_cameras = cfg->n_cameras,
		};

		v->fetch_report = svc_mailbox_new(cfg->loop, sizeof(struct evfetch_stats), NULL,
						  on_fetch_report, v);
		if (!v->fetch_report) {
			g_set_error_literal(error, HUB_ERROR, HUB_ERROR_FAILED,
					    "event loop setup failed");
			goto fail;
		}
		fc.report = v->fetch_report;
		for (unsigned int i = 0; i < cfg->n_cameras; i++)
			fc.names[i] = cfg->names[i];
		v->fetch = evfetch_start(&fc, error);
		if (!v->fetch)
			goto fail;
	}
	return v;
fail:
	evview_free(v);
	return NULL;
}

void evview_free(struct evview *v)
{
	if (!v)
		return;
	evfetch_stop(v->fetch);
	clip_close(v);
	if (v->jobs)
		jobs_clear(v);
	if (v->jdec) {
		svc_loop_remove_fd(v->cfg.loop, hub_decode_fd(v->jdec));
		hub_decode_free(v->jdec);
	}
	if (v->cdec) {
		svc_loop_remove_fd(v->cfg.loop, hub_decode_fd(v->cdec));
		hub_decode_free(v->cdec);
	}
	svc_mailbox_free(v->fetch_report);	/* after the fetcher: it posts to it */
	svc_timer_free(v->thumb_timer);
	svc_timer_free(v->clip_timer);
	svc_timer_free(v->rebuild_timer);
	if (v->jobs)
		g_array_free(v->jobs, TRUE);
	g_hash_table_destroy(v->logged);
	vc_enc_key_free(v->enc);
	free(v);
}
