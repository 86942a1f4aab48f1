// SPDX-License-Identifier: GPL-2.0
/*
 * evfetch.c - the hub's event fetcher thread (evfetch.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include <veracam/enckey.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>

#include "clock.h"
#include "events.h"
#include "evfetch.h"
#include "hub_error.h"
#include "service.h"

struct evfetch {
	struct evfetch_config cfg;
	char *store, *keys;
	char *names[8];
	struct svc_job *job;
	pthread_mutex_t lock;		/* stop, poke */
	pthread_cond_t cond;		/* stop, poke: the wait between rounds */
	bool stop, poke;
	GHashTable *refused;		/* the thread's: envelope names refused, not fetched again */
	unsigned int noted;		/* the thread's: refusals noted in the cache this round */
	struct evfetch_stats st;	/* the thread's; a copy goes to cfg.report */
};

/* The counters changed: their copy to the loop. */
static void report(struct evfetch *f)
{
	svc_mailbox_post(f->cfg.report, &f->st);
}

static void fail_note(struct evfetch *f, const char *why)
{
	f->st.errors++;
	g_strlcpy(f->st.last_error, why, sizeof(f->st.last_error));	/* cut if longer */
	report(f);
}

static void reject_note(struct evfetch *f, enum vc_event_reject r)
{
	f->st.rejected[r]++;
	report(f);
}

/*
 * One envelope NAME of camera cam into the cache: 1 cached, 0 refused (its
 * place noted), -1 not fetched (the store failed: tried again next round). Checked
 * against the newest event seen of that camera (KEYS/events-seen/NAME, as
 * veracamctl events list and the fetch over the session do), which a newer
 * event cached moves on.
 */
static int fetch_one(struct evfetch *f, struct store_fetch *sf, const struct vc_peer *cam,
		     const uint8_t *hub_id, const struct vc_enc_key *enc, const char *kid,
		     const char *dir, const char *name, struct hub_event_seen *seen)
{
	uint8_t id[VC_EVENT_ID_LEN], man[VC_MANIFEST_MAX_LEN], ck[VC_CONTENT_KEY_LEN];
	uint8_t h[VC_HASH_LEN], *env = NULL;
	char path[2 * VC_KEY_ID_LEN + STORE_NAME_MAX + 2], cache[16];
	char base[STORE_EVENT_NAME_LEN + 1];
	g_autoptr(GError) err = NULL;
	struct hub_event_objects o;
	struct vc_manifest m;
	enum vc_hpke_aead aead;
	enum vc_event_reject r;
	uint64_t number;
	size_t len, man_len;
	bool signed_number;
	long status;

	if (!store_envelope_name(name, &number, id))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", kid, name);
	status = store_fetch_get(sf, path, HUB_EVENT_ENV_MAX, &env, &len, cache, &err);
	if (status != 200) {
		fail_note(f, err->message);
		return -1;
	}
	r = vc_envelope_open(env, len, cam->pub, id, hub_id, enc, &m, man, &man_len, &aead, ck);
	if (r == VC_EV_OK && m.number != number)
		r = VC_EV_EVENT;	/* renamed in the store */
	signed_number = r == VC_EV_OK;	/* the camera signed this number */
	if (r == VC_EV_OK && vc_event_hash(man, man_len, h) < 0)
		r = VC_EV_MALFORMED;
	if (r == VC_EV_OK) {
		enum vc_event_reject c = hub_event_chain_check(NULL, NULL, seen, &m, h);

		if (c != VC_EV_OK && c != VC_EV_GAP)	/* events missing: a gap, shown */
			r = c;
	}
	snprintf(base, sizeof(base), "%.*s", STORE_EVENT_NAME_LEN, name);
	if (r == VC_EV_OK)
		r = hub_event_fetch_objects(sf, kid, base, &m, h, aead, ck, &o, &err);
	vc_wipe(ck, sizeof(ck));
	if (r == VC_EV__COUNT) {
		fail_note(f, err->message);
	} else if (r != VC_EV_OK) {
		/* counted and logged once: the same bytes are refused again */
		reject_note(f, r);
		g_hash_table_add(f->refused, g_strdup_printf("%s/%s", kid, name));
		svc_log(LOG_WARNING, "events: camera %s: event %s refused (%s), not cached",
			cam->name, name, vc_event_reject_name(r));
		if (hub_event_cache_refuse(dir, name, r, signed_number) < 0)	/* its place */
			svc_log(LOG_ERR, "events: camera %s: %s: the refusal not noted", cam->name,
				dir);
		else
			f->noted++;
	} else if (hub_event_cache_put(dir, name, env, len, &o, &err) < 0) {
		fail_note(f, err->message);
		r = VC_EV__COUNT;
	} else if (!seen->have || m.number > seen->number) {
		if (hub_event_seen_save(f->keys, cam->name, m.number, h) < 0)
			svc_log(LOG_ERR, "events: camera %s: %s/events-seen/%s: not written",
				cam->name, f->keys, cam->name);
		seen->have = true;
		seen->number = m.number;
		memcpy(seen->hash, h, VC_HASH_LEN);
	}
	if (r == VC_EV_OK)
		hub_event_objects_free(&o);
	free(env);
	return r == VC_EV_OK ? 1 : r == VC_EV__COUNT ? -1 : 0;
}

static int name_desc(const void *a, const void *b)
{
	return -strcmp(((const struct store_entry *)a)->name, ((const struct store_entry *)b)->name);
}

/*
 * A listing whose newest event (newest; none: no listing or no event in
 * it) is older than the newest this hub saw: the store or its cache serves
 * an old index (a rollback). Refused as a replay, counted and logged once
 * per camera and listing; nothing is fetched from it. True if so.
 */
static bool rolled_back(struct evfetch *f, const char *camera, const char *kid,
			const struct hub_event_seen *seen, bool any, uint64_t newest)
{
	g_autofree char *key = NULL;

	if (!seen->have || (any && newest >= seen->number))
		return false;
	key = any ? g_strdup_printf("rollback %s %" PRIu64, kid, newest)
		  : g_strdup_printf("rollback %s none", kid);
	if (g_hash_table_contains(f->refused, key))
		return true;
	g_hash_table_add(f->refused, g_steal_pointer(&key));
	reject_note(f, VC_EV_REPLAY);
	if (any)
		svc_log(LOG_WARNING, "events: camera %s: the store lists events up to %" PRIu64
			", but event %" PRIu64 " was seen before: a rollback, refused (replay)",
			camera, newest, seen->number);
	else
		svc_log(LOG_WARNING, "events: camera %s: the store lists no events, but event %"
			PRIu64 " was seen before: a rollback, refused (replay)", camera,
			seen->number);
	return true;
}

/* One camera's newest events not cached yet; how many were cached. */
static unsigned int fetch_camera(struct evfetch *f, struct store_fetch *sf, const char *camera,
				 const uint8_t *hub_id, const struct vc_enc_key *enc)
{
	char kid[2 * VC_KEY_ID_LEN + 1], path[2 * VC_KEY_ID_LEN + 2], cache[16];
	g_autofree char *dir = NULL;
	g_autoptr(GError) err = NULL;
	struct store_entry *e = NULL;
	struct hub_event_seen seen;
	struct vc_peer cam;
	uint8_t *list = NULL;
	size_t len, n = 0;
	unsigned int got = 0, looked = 0, n_todo = 0;
	size_t todo[EVFETCH_NEWEST];
	bool any = false;
	uint64_t newest = 0;
	long status;

	if (vc_peer_load(f->keys, camera, &cam) < 0 || cam.role != VC_ROLE_CAMERA || cam.pending)
		return 0;	/* not (or no longer) a confirmed camera: nothing fetched */
	vc_hex(cam.key_id, VC_KEY_ID_LEN, kid);
	if (hub_event_seen_load(f->keys, camera, &seen) < 0) {
		fail_note(f, "events-seen: unreadable or malformed");
		return 0;	/* fail closed: the chain cannot be checked */
	}
	dir = hub_event_cache_dir(f->keys, cam.key_id);
	snprintf(path, sizeof(path), "%s/", kid);
	status = store_fetch_get(sf, path, STORE_LIST_MAX_BYTES, &list, &len, cache, &err);
	if (status == 404) {	/* no events yet, or a listing withheld */
		rolled_back(f, camera, kid, &seen, false, 0);
		return 0;
	}
	if (status != 200) {
		fail_note(f, err->message);
		return 0;
	}
	if (store_list_parse((const char *)list, len, &e, &n, &err) < 0) {
		fail_note(f, err->message);
		free(list);
		return 0;
	}
	if (n > 1)
		qsort(e, n, sizeof(*e), name_desc);	/* newest first */
	for (size_t i = 0; i < n && !any; i++) {
		uint8_t id[VC_EVENT_ID_LEN];

		any = e[i].is_file && store_envelope_name(e[i].name, &newest, id);
	}
	if (rolled_back(f, camera, kid, &seen, any, newest))
		n = 0;		/* nothing fetched from an old index */
	/* of the EVFETCH_NEWEST newest listed, those not cached nor refused yet ... */
	for (size_t i = 0; i < n && looked < EVFETCH_NEWEST; i++) {
		uint64_t num;
		uint8_t id[VC_EVENT_ID_LEN];
		g_autofree char *have = NULL;

		if (!e[i].is_file || !store_envelope_name(e[i].name, &num, id))
			continue;
		looked++;
		have = g_strdup_printf("%s/%s", dir, e[i].name);
		if (g_file_test(have, G_FILE_TEST_EXISTS))
			continue;
		g_free(have);
		have = g_strdup_printf("%s/%s", kid, e[i].name);
		if (!g_hash_table_contains(f->refused, have))
			todo[n_todo++] = i;
	}
	/*
	 * ... fetched oldest first, the camera's round ended by the first the
	 * store failed to give: an event is cached only once every older one
	 * of the round is cached or its refusal noted, so the view, which may
	 * look at the cache at any moment, never sees a gap below a new event
	 * that is only not fetched yet
	 */
	while (n_todo) {
		int one = fetch_one(f, sf, &cam, hub_id, enc, kid, dir, e[todo[--n_todo]].name,
				    &seen);

		if (one < 0)
			break;
		got += (unsigned int)one;
	}
	free(e);
	free(list);
	return got;
}

static void round_once(struct evfetch *f)
{
	struct vc_device_key *hub = vc_key_load(f->keys);
	struct vc_enc_key *enc = vc_enc_key_load(f->keys);
	struct store_fetch *sf;
	g_autoptr(GError) err = NULL;
	unsigned int got = 0, dropped;

	if (!hub || !enc) {
		fail_note(f, "no device or encryption key in the key directory");
		goto out;
	}
	sf = store_fetch_new(f->store, EVFETCH_TIMEOUT_S, &err);
	if (!sf) {
		fail_note(f, err->message);
		goto out;
	}
	store_fetch_set_deadline(sf, store_fetch_now_ms() + EVFETCH_ROUND_S * 1000u);
	f->noted = 0;
	for (unsigned int i = 0; i < f->cfg.n_cameras; i++)
		got += fetch_camera(f, sf, f->names[i], vc_key_id(hub), enc);
	store_fetch_free(sf);
	dropped = hub_event_cache_trim(f->keys, HUB_EVENT_CACHE_MAX);
	f->st.fetched += got;
	f->st.dropped += dropped;
	f->st.cache_changes += got || dropped || f->noted;
out:
	f->st.rounds++;
	report(f);
	vc_enc_key_free(enc);
	vc_key_free(hub);
}

static void fetch_run(void *arg)
{
	struct evfetch *f = arg;

	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		struct timespec at;

		f->poke = false;
		pthread_mutex_unlock(&f->lock);
		round_once(f);
		pthread_mutex_lock(&f->lock);
		at = clk_mono_after(EVFETCH_INTERVAL_NS);
		while (!f->stop && !f->poke &&
		       pthread_cond_timedwait(&f->cond, &f->lock, &at) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&f->lock);
}

/* The thread ends only when evfetch_stop() stops it. */
static void fetch_ended(void *arg)
{
	struct evfetch *f = arg;

	f->job = NULL;
}

struct evfetch *evfetch_start(const struct evfetch_config *cfg, GError **error)
{
	struct evfetch *f = calloc(1, sizeof(*f));
	pthread_condattr_t ca;

	if (!f || cfg->n_cameras > G_N_ELEMENTS(f->names)) {
		g_set_error_literal(error, HUB_ERROR, HUB_ERROR_FAILED, "out of memory");
		free(f);
		return NULL;
	}
	f->cfg = *cfg;
	f->refused = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	f->store = g_strdup(cfg->store);
	f->keys = g_strdup(cfg->keys);
	for (unsigned int i = 0; i < cfg->n_cameras; i++)
		f->names[i] = g_strdup(cfg->names[i]);
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->cond, &ca);
	pthread_condattr_destroy(&ca);
	f->job = svc_job_start(cfg->loop, "vc-evfetch", fetch_run, fetch_ended, f);
	if (!f->job) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED, "cannot start its thread: %s",
			    strerror(errno));
		evfetch_stop(f);
		return NULL;
	}
	return f;
}

void evfetch_poke(struct evfetch *f)
{
	pthread_mutex_lock(&f->lock);
	f->poke = true;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

void evfetch_stop(struct evfetch *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->lock);
	f->stop = true;
	pthread_cond_signal(&f->cond);
	pthread_mutex_unlock(&f->lock);
	svc_job_join(f->job);
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	for (unsigned int i = 0; i < G_N_ELEMENTS(f->names); i++)
		g_free(f->names[i]);
	g_hash_table_destroy(f->refused);
	g_free(f->store);
	g_free(f->keys);
	free(f);
}
