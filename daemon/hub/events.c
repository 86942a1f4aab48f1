// SPDX-License-Identifier: GPL-2.0
/*
 * events.c - a hub's sealed events: the chain check against the events
 * seen before, the objects' fetch and check, the local cache (events.h).
 * One implementation for veracamctl (events list --fetch) and veracamd's
 * hub (its fetcher and events view).
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "events.h"

static char *seen_path(const char *keys, const char *camera)
{
	return g_strdup_printf("%s/events-seen/%s", keys, camera);
}

int hub_event_seen_load(const char *keys, const char *camera, struct hub_event_seen *s)
{
	g_autofree char *path = seen_path(keys, camera), *text = NULL;
	char hex[2 * VC_HASH_LEN + 2];
	gsize len;
	int end = 0;

	memset(s, 0, sizeof(*s));
	if (!g_file_get_contents(path, &text, &len, NULL))
		return g_file_test(path, G_FILE_TEST_EXISTS) ? -1 : 0;
	if (sscanf(text, "%20" SCNu64 " %65s\n%n", &s->number, hex, &end) != 2 ||
	    (size_t)end != len || strlen(hex) != 2 * VC_HASH_LEN ||
	    vc_unhex(hex, 2 * VC_HASH_LEN, s->hash) < 0)
		return -1;
	s->have = true;
	return 0;
}

int hub_event_seen_save(const char *keys, const char *camera, uint64_t number,
			const uint8_t hash[VC_HASH_LEN])
{
	g_autofree char *dir = g_strdup_printf("%s/events-seen", keys);
	g_autofree char *path = seen_path(keys, camera), *text = NULL;
	char hex[2 * VC_HASH_LEN + 1];

	if (g_mkdir_with_parents(dir, 0700) < 0)
		return -1;
	vc_hex(hash, VC_HASH_LEN, hex);
	text = g_strdup_printf("%" PRIu64 " %s\n", number, hex);
	return g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
					NULL) ? 0 : -1;
}

enum vc_event_reject hub_event_chain_check(const struct vc_manifest *prev,
					   const uint8_t prev_hash[VC_HASH_LEN],
					   const struct hub_event_seen *seen,
					   const struct vc_manifest *m, const uint8_t h[VC_HASH_LEN])
{
	struct vc_manifest s;
	enum vc_event_reject r = VC_EV_OK;

	if (prev) {
		r = vc_manifest_follows(prev, prev_hash, m);
	} else if (seen->have && m->number > seen->number) {
		memcpy(s.key_id, m->key_id, VC_KEY_ID_LEN);
		s.number = seen->number;
		r = vc_manifest_follows(&s, seen->hash, m);
	}
	/* the event seen before must be the very same one (not a fork of the chain) */
	if ((r == VC_EV_OK || r == VC_EV_GAP) && seen->have && m->number == seen->number &&
	    !vc_equal(h, seen->hash, VC_HASH_LEN))
		r = VC_EV_CHAIN;
	return r;
}

void hub_event_objects_free(struct hub_event_objects *o)
{
	free(o->thumb);
	free(o->clip);
	memset(o, 0, sizeof(*o));
}

/* A sealed object opens with the content key (a thumbnail's bytes also the manifest's). */
static enum vc_event_reject check_object(enum vc_hpke_aead aead, const uint8_t *ck,
					 const uint8_t man_hash[VC_HASH_LEN],
					 enum vc_event_object kind, const struct vc_manifest *m,
					 const uint8_t *obj, size_t len)
{
	struct vc_buf pt = { 0 };
	enum vc_event_reject r = vc_event_object_open(aead, ck, man_hash, kind, obj, len, &pt);

	if (r == VC_EV_OK && kind == VC_OBJECT_THUMBNAIL)
		r = vc_manifest_check_thumbnail(m, pt.data, pt.len);
	if (pt.data)
		vc_wipe(pt.data, pt.cap);
	vc_buf_free(&pt);
	return r;
}

enum vc_event_reject hub_event_fetch_objects(struct store_fetch *f, const char *kid,
					     const char *base, const struct vc_manifest *m,
					     const uint8_t man_hash[VC_HASH_LEN],
					     enum vc_hpke_aead aead, const uint8_t *ck,
					     struct hub_event_objects *o, GError **error)
{
	static const struct {
		const char *ext;
		enum vc_event_object kind;
		size_t max;
	} obj[] = {
		{ "thumb", VC_OBJECT_THUMBNAIL, HUB_EVENT_THUMB_MAX },
		{ "clip", VC_OBJECT_CLIP, HUB_EVENT_CLIP_MAX },
	};
	bool thumb = m->flags & VC_MANIFEST_F_THUMBNAIL;

	memset(o, 0, sizeof(*o));
	for (size_t i = thumb ? 0 : 1; i < G_N_ELEMENTS(obj); i++) {
		g_autofree char *path = g_strdup_printf("%s/%s.%s", kid, base, obj[i].ext);
		char *cache = i ? o->clip_cache : o->thumb_cache;
		enum vc_event_reject r;
		uint8_t *body;
		size_t len;
		long status = store_fetch_get(f, path, obj[i].max, &body, &len, cache, error);

		if (status != 200) {
			hub_event_objects_free(o);
			return VC_EV__COUNT;
		}
		r = check_object(aead, ck, man_hash, obj[i].kind, m, body, len);
		if (r != VC_EV_OK) {
			free(body);
			hub_event_objects_free(o);
			g_set_error(error, STORE_ERROR, STORE_ERROR_REFUSED, "%s refused (%s)", obj[i].ext,
				    vc_event_reject_name(r));
			return r;
		}
		if (i) {
			o->clip = body;
			o->clip_len = len;
		} else {
			o->thumb = body;
			o->thumb_len = len;
		}
	}
	return VC_EV_OK;
}

static int name_desc(const void *a, const void *b)
{
	return -strcmp(*(char *const *)a, *(char *const *)b);
}

static int put_file(const char *dir, const char *name, const char *ext, const uint8_t *p,
		    size_t len, GError **error)
{
	g_autofree char *dst = ext ? g_strdup_printf("%s/%s.%s", dir, name, ext)
				   : g_strdup_printf("%s/%s", dir, name);

	if (!g_file_set_contents_full(dst, (const char *)p, (gssize)len,
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600, NULL)) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: not written", dst);
		return -1;
	}
	return 0;
}

int hub_event_cache_put(const char *dir, const char *name, const uint8_t *env, size_t env_len,
			const struct hub_event_objects *o, GError **error)
{
	char base[STORE_EVENT_NAME_LEN + 1];
	uint64_t number;
	uint8_t id[VC_EVENT_ID_LEN];

	if (!store_envelope_name(name, &number, id)) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: not an envelope's name", name);
		return -1;
	}
	snprintf(base, sizeof(base), "%.*s", STORE_EVENT_NAME_LEN, name);
	if (g_mkdir_with_parents(dir, 0700) < 0) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "%s: %s", dir, g_strerror(errno));
		return -1;
	}
	if ((o->thumb && put_file(dir, base, "thumb", o->thumb, o->thumb_len, error) < 0) ||
	    put_file(dir, base, "clip", o->clip, o->clip_len, error) < 0 ||
	    put_file(dir, name, NULL, env, env_len, error) < 0)
		return -1;
	{
		g_autofree char *mark = g_strdup_printf("%s/%s.refused", dir, base);

		g_unlink(mark);	/* refused once, cached now */
	}
	return 0;
}

/* "NNNNNNNNNNNNNNNNNNNN-<32 hex>.refused": its number. */
static bool refusal_name(const char *e, uint64_t *number)
{
	char env[STORE_EVENT_NAME_LEN + 8];
	uint8_t id[VC_EVENT_ID_LEN];

	if (strlen(e) != STORE_EVENT_NAME_LEN + 8 || strcmp(e + STORE_EVENT_NAME_LEN, ".refused"))
		return false;
	snprintf(env, sizeof(env), "%.*s.env", STORE_EVENT_NAME_LEN, e);
	return store_envelope_name(env, number, id);
}

/* Every refusal file name in dir, newest first (g_ptr_array_unref). */
static GPtrArray *refusal_names(const char *dir)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *e;
	uint64_t number;

	while (d && (e = g_dir_read_name(d)))
		if (refusal_name(e, &number))
			g_ptr_array_add(names, g_strdup(e));
	if (d)
		g_dir_close(d);
	if (names->len > 1)
		qsort(names->pdata, names->len, sizeof(char *), name_desc);
	return names;
}

/* One refusal file read back: what the hub wrote, else false. */
static bool read_refusal(const char *dir, const char *e, struct hub_event_refusal *out)
{
	g_autofree char *p = g_build_filename(dir, e, NULL);
	g_autofree char *text = NULL;
	gsize len = 0;
	size_t k;

	if (!refusal_name(e, &out->number) || !g_file_get_contents(p, &text, &len, NULL) ||
	    strlen(text) != len)
		return false;
	/* a reason (lower-case letters, '-'), maybe " signed", '\n' */
	k = strspn(text, "abcdefghijklmnopqrstuvwxyz-");
	if (!k || k >= sizeof(out->reason))
		return false;
	if (!strcmp(text + k, "\n"))
		out->signed_number = false;
	else if (!strcmp(text + k, " signed\n"))
		out->signed_number = true;
	else
		return false;
	memcpy(out->reason, text, k);
	out->reason[k] = 0;
	return true;
}

int hub_event_cache_refuse(const char *dir, const char *name, enum vc_event_reject r,
			   bool signed_number)
{
	char reason[40], base[STORE_EVENT_NAME_LEN + 1];
	uint64_t number;
	uint8_t id[VC_EVENT_ID_LEN];
	GPtrArray *names;
	guint left;

	if (!store_envelope_name(name, &number, id) || g_mkdir_with_parents(dir, 0700) < 0)
		return -1;
	snprintf(reason, sizeof(reason), "%s%s\n", vc_event_reject_name(r),
		 signed_number ? " signed" : "");
	snprintf(base, sizeof(base), "%.*s", STORE_EVENT_NAME_LEN, name);
	if (put_file(dir, base, "refused", (const uint8_t *)reason, strlen(reason), NULL) < 0)
		return -1;
	/*
	 * The bound: the names only the store gave go first, the highest
	 * numbers first (a store naming events far ahead); then the oldest
	 * of those the camera signed.
	 */
	names = refusal_names(dir);
	left = names->len;
	for (guint pass = 0; pass < 2 && left > HUB_EVENT_REFUSALS_MAX; pass++) {
		for (guint k = 0; k < names->len && left > HUB_EVENT_REFUSALS_MAX; k++) {
			guint i = pass ? names->len - 1 - k : k;
			const char *e = g_ptr_array_index(names, i);
			struct hub_event_refusal x;
			g_autofree char *p = NULL;

			if (!e || (read_refusal(dir, e, &x) && x.signed_number != (pass == 1)))
				continue;
			p = g_build_filename(dir, e, NULL);
			g_unlink(p);
			g_free(g_ptr_array_index(names, i));
			g_ptr_array_index(names, i) = NULL;
			left--;
		}
	}
	g_ptr_array_unref(names);
	return 0;
}

size_t hub_event_cache_refusals(const char *dir, struct hub_event_refusal *out, size_t max)
{
	GPtrArray *names = refusal_names(dir);
	size_t n = 0;

	for (guint i = 0; i < names->len && n < max; i++)
		if (read_refusal(dir, g_ptr_array_index(names, i), &out[n]))
			n++;
	g_ptr_array_unref(names);
	return n;
}

enum vc_event_reject hub_event_cache_add(const char *keys, const struct vc_peer *cam,
					 const uint8_t hub_key_id[VC_KEY_ID_LEN],
					 const struct vc_enc_key *enc, const char *name,
					 const uint8_t *env, size_t env_len,
					 const struct hub_event_objects *o, GError **error)
{
	uint8_t id[VC_EVENT_ID_LEN], man[VC_MANIFEST_MAX_LEN], ck[VC_CONTENT_KEY_LEN];
	uint8_t h[VC_HASH_LEN];
	g_autofree char *dir = NULL;
	struct vc_manifest m;
	enum vc_hpke_aead aead;
	enum vc_event_reject r;
	uint64_t number;
	size_t man_len;

	if (!store_envelope_name(name, &number, id)) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_REFUSED, "%s: not an envelope's name",
			    name);
		return VC_EV_MALFORMED;
	}
	r = vc_envelope_open(env, env_len, cam->pub, id, hub_key_id, enc, &m, man, &man_len,
			     &aead, ck);
	if (r == VC_EV_OK && m.number != number)
		r = VC_EV_EVENT;
	if (r == VC_EV_OK && vc_event_hash(man, man_len, h) < 0)
		r = VC_EV_MALFORMED;
	if (r == VC_EV_OK && (m.flags & VC_MANIFEST_F_THUMBNAIL))
		r = o->thumb ? check_object(aead, ck, h, VC_OBJECT_THUMBNAIL, &m, o->thumb,
					    o->thumb_len) : VC_EV_THUMBNAIL;
	if (r == VC_EV_OK)
		r = check_object(aead, ck, h, VC_OBJECT_CLIP, &m, o->clip, o->clip_len);
	vc_wipe(ck, sizeof(ck));
	if (r != VC_EV_OK) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_REFUSED, "%s refused (%s)", name,
			    vc_event_reject_name(r));
		return r;
	}
	dir = hub_event_cache_dir(keys, cam->key_id);
	return hub_event_cache_put(dir, name, env, env_len, o, error) < 0 ? VC_EV__COUNT
									  : VC_EV_OK;
}

char *hub_event_cache_dir(const char *keys, const uint8_t key_id[VC_KEY_ID_LEN])
{
	char kid[2 * VC_KEY_ID_LEN + 1];

	vc_hex(key_id, VC_KEY_ID_LEN, kid);
	return g_strdup_printf("%s/" HUB_EVENT_CACHE_DIR "/%s", keys, kid);
}

char **hub_event_cache_list(const char *dir, unsigned int max)
{
	GPtrArray *names = g_ptr_array_new();
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *e;

	while (d && (e = g_dir_read_name(d))) {
		uint64_t number;
		uint8_t id[VC_EVENT_ID_LEN];

		if (store_envelope_name(e, &number, id))
			g_ptr_array_add(names, g_strdup(e));
	}
	if (d)
		g_dir_close(d);
	/* 20-digit numbers: the name's order is the events' */
	if (names->len > 1)	/* (pdata is NULL while empty) */
		qsort(names->pdata, names->len, sizeof(char *), name_desc);
	while (names->len > max)
		g_free(g_ptr_array_remove_index(names, names->len - 1));
	g_ptr_array_add(names, NULL);
	return (char **)g_ptr_array_free(names, FALSE);
}

void hub_event_opened_free(struct hub_event_opened *e)
{
	if (e->jpeg.data)
		vc_wipe(e->jpeg.data, e->jpeg.cap);
	if (e->mp4.data)
		vc_wipe(e->mp4.data, e->mp4.cap);
	vc_buf_free(&e->jpeg);
	vc_buf_free(&e->mp4);
}

/* DIR/BASE.EXT's bytes, at most max; NULL when missing, unreadable or longer. */
static uint8_t *read_object(const char *dir, const char *base, const char *ext, size_t max,
			    size_t *len)
{
	g_autofree char *path = ext ? g_strdup_printf("%s/%s.%s", dir, base, ext)
				    : g_strdup_printf("%s/%s", dir, base);
	GStatBuf st;
	gchar *text;
	gsize n;

	if (g_stat(path, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max)
		return NULL;
	if (!g_file_get_contents(path, &text, &n, NULL))
		return NULL;
	if (n > max) {
		g_free(text);
		return NULL;
	}
	*len = n;
	return (uint8_t *)text;
}

enum vc_event_reject hub_event_cache_open(const char *dir, const char *name,
					  const uint8_t camera_pub[VC_PUBKEY_LEN],
					  const uint8_t hub_key_id[VC_KEY_ID_LEN],
					  const struct vc_enc_key *enc, bool want_thumb,
					  bool want_clip, struct hub_event_opened *e)
{
	char base[STORE_EVENT_NAME_LEN + 1];
	uint8_t id[VC_EVENT_ID_LEN], ck[VC_CONTENT_KEY_LEN];
	g_autofree uint8_t *env = NULL, *obj = NULL;
	enum vc_event_reject r;
	enum vc_hpke_aead aead;
	uint64_t number;
	size_t len = 0, olen = 0;

	memset(e, 0, sizeof(*e));
	if (!store_envelope_name(name, &number, id))
		return VC_EV_MALFORMED;
	snprintf(base, sizeof(base), "%.*s", STORE_EVENT_NAME_LEN, name);
	env = read_object(dir, name, NULL, HUB_EVENT_ENV_MAX, &len);
	if (!env)
		return VC_EV__COUNT;
	r = vc_envelope_open(env, len, camera_pub, id, hub_key_id, enc, &e->m, e->man,
			     &e->man_len, &aead, ck);
	if (r == VC_EV_OK && e->m.number != number)
		r = VC_EV_EVENT;	/* renamed */
	if (r == VC_EV_OK && vc_event_hash(e->man, e->man_len, e->man_hash) < 0)
		r = VC_EV_MALFORMED;
	if (r == VC_EV_OK && want_thumb) {
		if (!(e->m.flags & VC_MANIFEST_F_THUMBNAIL))
			r = VC_EV_THUMBNAIL;
		else if (!(obj = read_object(dir, base, "thumb", HUB_EVENT_THUMB_MAX, &olen)))
			r = VC_EV__COUNT;
		else
			r = vc_event_object_open(aead, ck, e->man_hash, VC_OBJECT_THUMBNAIL, obj,
						 olen, &e->jpeg);
		if (r == VC_EV_OK)
			r = vc_manifest_check_thumbnail(&e->m, e->jpeg.data, e->jpeg.len);
		g_clear_pointer(&obj, g_free);
	}
	if (r == VC_EV_OK && want_clip) {
		if (!(obj = read_object(dir, base, "clip", HUB_EVENT_CLIP_MAX, &olen)))
			r = VC_EV__COUNT;
		else
			r = vc_event_object_open(aead, ck, e->man_hash, VC_OBJECT_CLIP, obj, olen,
						 &e->mp4);
	}
	vc_wipe(ck, sizeof(ck));
	if (r != VC_EV_OK)
		hub_event_opened_free(e);
	return r;
}

struct cached {
	char *dir, *base;
	int64_t mtime;
	uint64_t bytes;
};

static int older_first(const void *a, const void *b)
{
	const struct cached *x = a, *y = b;

	return x->mtime < y->mtime ? -1 : x->mtime > y->mtime ? 1 : strcmp(x->base, y->base);
}

static uint64_t file_size(const char *path)
{
	GStatBuf st;

	return g_stat(path, &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
}

unsigned int hub_event_cache_trim(const char *keys, uint64_t max_bytes)
{
	static const char *const ext[] = { "thumb", "clip" };
	g_autofree char *root = g_strdup_printf("%s/" HUB_EVENT_CACHE_DIR, keys);
	GArray *all = g_array_new(FALSE, TRUE, sizeof(struct cached));
	GDir *cams = g_dir_open(root, 0, NULL);
	const char *c, *e;
	uint64_t total = 0;
	unsigned int dropped = 0;

	while (cams && (c = g_dir_read_name(cams))) {
		g_autofree char *dir = g_build_filename(root, c, NULL);
		GDir *d = g_dir_open(dir, 0, NULL);

		while (d && (e = g_dir_read_name(d))) {
			uint64_t number;
			uint8_t id[VC_EVENT_ID_LEN];
			struct cached x = { 0 };
			g_autofree char *env = g_build_filename(dir, e, NULL);
			GStatBuf st;

			if (!store_envelope_name(e, &number, id) || g_stat(env, &st) < 0)
				continue;
			x.dir = g_strdup(dir);
			x.base = g_strndup(e, STORE_EVENT_NAME_LEN);
			x.mtime = (int64_t)st.st_mtime;
			x.bytes = (uint64_t)st.st_size;
			for (size_t i = 0; i < G_N_ELEMENTS(ext); i++) {
				g_autofree char *p = g_strdup_printf("%s/%s.%s", dir, x.base,
								     ext[i]);

				x.bytes += file_size(p);
			}
			total += x.bytes;
			g_array_append_val(all, x);
		}
		if (d)
			g_dir_close(d);
	}
	if (cams)
		g_dir_close(cams);
	g_array_sort(all, older_first);
	for (guint i = 0; i < all->len; i++) {
		struct cached *x = &g_array_index(all, struct cached, i);

		if (total > max_bytes) {
			/* the envelope first: one without its objects is never left */
			g_autofree char *env = g_strdup_printf("%s/%s.env", x->dir, x->base);

			g_unlink(env);
			for (size_t k = 0; k < G_N_ELEMENTS(ext); k++) {
				g_autofree char *p = g_strdup_printf("%s/%s.%s", x->dir, x->base,
								     ext[k]);

				g_unlink(p);
			}
			total -= x->bytes;
			dropped++;
		}
		g_free(x->dir);
		g_free(x->base);
	}
	g_array_free(all, TRUE);
	return dropped;
}
