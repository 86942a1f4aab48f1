// SPDX-License-Identifier: GPL-2.0
/*
 * The hub's fetch of a camera's events over the session (daemon/hub/camfetch.c),
 * driven with forged answers (the session's own checks are in
 * core/test_session.c): a good event reaches the cache byte for byte, a
 * transfer cut between sessions resumes at its offsets, and what must
 * never be kept is not: a thumbnail whose bytes are not the manifest's, a
 * clip whose bytes do not open, an envelope listed under another number,
 * an object longer than its listing - each counted by its reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include <veracam/event.h>
#include <veracam/keys.h>

#include "camfetch.h"
#include "fixture.h"
#include "hubtest.h"

static struct vc_device_key *cam, *hub;
static struct vc_enc_key *enc;
static char dir[256];

/* One sealed event: objects by enum vc_evx_kind, as the camera's spool holds them. */
struct ev {
	uint64_t number;
	uint8_t id[VC_EVENT_ID_LEN];
	uint8_t hash[VC_HASH_LEN];	/* its manifest's */
	struct vc_buf obj[4];
};

static int append(struct vc_buf *b, const uint8_t *p, size_t len)
{
	if (vc_buf_reserve(b, b->len + len) < 0)
		return -1;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	return 0;
}

static const uint8_t jpeg[] = "not really a JPEG, hashed all the same";

/*
 * Event number (chained to prev's hash when number > 0), sealed for the hub;
 * bad_thumb: the thumbnail object sealed from other bytes than the manifest's.
 */
static int make_event(struct ev *e, uint64_t number, const uint8_t *prev, bool bad_thumb)
{
	struct vc_frame_info info = { .capture_ns = FX_NOW_NS };
	uint8_t man[VC_MANIFEST_MAX_LEN], ids[1][VC_KEY_ID_LEN];
	struct vc_event_writer *w = vc_event_writer_new(cam, "id:camfetch", number, prev);
	struct vc_event_recipient to;
	struct vc_event_sealer *sealer = NULL;
	struct vc_buf au = { 0 }, signed_au = { 0 }, clip = { 0 };
	int len = -1;

	memset(e, 0, sizeof(*e));
	if (!w)
		return -1;
	for (uint32_t i = 0; i < 3; i++) {
		fx_au(&au, i == 0, 8000, i + 1);
		info.capture_ns = FX_NOW_NS + i * 40000000ull;
		if (vc_event_writer_add(w, &info, au.data, au.len, &signed_au) < 0 ||
		    append(&clip, signed_au.data, signed_au.len) < 0)
			goto out;
	}
	memcpy(ids[0], vc_key_id(hub), VC_KEY_ID_LEN);
	len = vc_event_writer_finish(w, VC_TRIGGER_MANUAL, jpeg, sizeof(jpeg), ids, 1, man);
	memcpy(to.key_id, vc_key_id(hub), VC_KEY_ID_LEN);
	memcpy(to.enc_pub, vc_enc_key_public(enc), 32);
	e->number = number;
	memcpy(e->id, vc_event_writer_id(w), VC_EVENT_ID_LEN);
	if (len < 0 || vc_event_hash(man, (size_t)len, e->hash) < 0 ||
	    vc_envelope_seal(VC_HPKE_CHACHA20POLY1305, man, (size_t)len, &to, 1, &sealer,
			     &e->obj[VC_EVX_ENV]) < 0 ||
	    vc_event_object_seal(sealer, VC_OBJECT_THUMBNAIL, bad_thumb ? clip.data : jpeg,
				 bad_thumb ? 100 : sizeof(jpeg), &e->obj[VC_EVX_THUMB]) < 0 ||
	    vc_event_object_seal(sealer, VC_OBJECT_CLIP, clip.data, clip.len,
				 &e->obj[VC_EVX_CLIP]) < 0)
		len = -1;
out:
	vc_event_sealer_free(sealer);
	vc_event_writer_free(w);
	vc_buf_free(&au);
	vc_buf_free(&signed_au);
	vc_buf_free(&clip);
	return len < 0 ? -1 : 0;
}

static void ev_free(struct ev *e)
{
	for (int k = 0; k < 4; k++)
		vc_buf_free(&e->obj[k]);
}

static struct camfetch *fetch_new(void)
{
	struct camfetch_config fc = { .keys_dir = dir, .camera = "porch", .enc = enc };

	memcpy(fc.camera_pub, vc_key_public(cam), VC_PUBKEY_LEN);
	memcpy(fc.hub_key_id, vc_key_id(hub), VC_KEY_ID_LEN);
	return camfetch_new(&fc);
}

static struct vc_ctl msg;

static void listing(struct camfetch *f, struct ev *const *evs, size_t n)
{
	struct vc_evx_entry e[VC_EVX_LIST_MAX] = { 0 };

	for (size_t i = 0; i < n; i++) {
		e[i].number = evs[i]->number;
		memcpy(e[i].event_id, evs[i]->id, VC_EVENT_ID_LEN);
		for (int k = 1; k < 4; k++)
			e[i].size[k] = (uint32_t)evs[i]->obj[k].len;
	}
	msg.type = VC_CTL_EVENTS;
	msg.len = vc_evx_listing_encode(e, n, false, msg.body);
	g_assert_cmpint(camfetch_answer(f, &msg, 1), ==, 0);
}

/*
 * Answer the fetch's requests for evs' objects, chunk by chunk, until it
 * asks for a listing (done) or stop_after chunks were answered (0: no
 * limit); extra: the object's total grows by one (longer than listed).
 * The last camfetch_answer() result.
 */
static int serve(struct camfetch *f, struct ev *const *evs, size_t n, unsigned int stop_after,
		 bool extra)
{
	uint8_t body[VC_EVX_GET_LEN];
	enum vc_ctl_type type;
	size_t len;
	unsigned int chunks = 0;
	int r = 0;

	while (camfetch_next(f, 2, &type, body, &len) && type == VC_CTL_EVENT_GET) {
		struct vc_evx_get g;
		struct vc_evx_chunk c;
		const struct ev *e = NULL;

		if (vc_evx_get_parse(body, len, &g) < 0)
			return -2;
		for (size_t i = 0; i < n; i++)
			if (evs[i]->number == g.number)
				e = evs[i];
		if (!e)
			return -2;
		c = (struct vc_evx_chunk){ .kind = g.kind, .number = g.number, .offset = g.offset,
					   .total = (uint32_t)e->obj[g.kind].len + extra,
					   .data = e->obj[g.kind].data + g.offset };
		memcpy(c.event_id, g.event_id, VC_EVENT_ID_LEN);
		c.len = e->obj[g.kind].len - g.offset < g.max ? e->obj[g.kind].len - g.offset : g.max;
		msg.type = VC_CTL_EVENT_CHUNK;
		msg.len = vc_evx_chunk_encode(&c, msg.body);
		r = camfetch_answer(f, &msg, 2);
		if (r < 0 || (stop_after && ++chunks == stop_after))
			break;
	}
	return r;
}

static char *cache_path(const struct ev *e, unsigned int kind)
{
	char kid[2 * VC_KEY_ID_LEN + 1], name[64];

	vc_hex(vc_key_id(cam), VC_KEY_ID_LEN, kid);
	vc_evx_name(e->number, e->id, kind, name);
	return g_strdup_printf("%s/event-cache/%s/%s", dir, kid, name);
}

/* The cache holds e's objects byte for byte, 0600 (or none of them). */
static bool cached(const struct ev *e, bool want)
{
	bool ok = true;

	for (unsigned int k = VC_EVX_ENV; k <= VC_EVX_CLIP; k++) {
		g_autofree char *p = cache_path(e, k);
		g_autofree char *data = NULL;
		gsize len;
		struct stat st;

		if (!want) {
			ok = ok && stat(p, &st) < 0;
			continue;
		}
		ok = ok && g_file_get_contents(p, &data, &len, NULL) && len == e->obj[k].len &&
		     !memcmp(data, e->obj[k].data, len) && stat(p, &st) == 0 &&
		     (st.st_mode & 0777) == 0600;
	}
	return ok;
}

static size_t total(const struct ev *e)
{
	return e->obj[1].len + e->obj[2].len + e->obj[3].len;
}

/* Events 0 and 1 reach the cache; the second transfer is cut and resumed. */
static void fetch_and_resume(void)
{
	struct ev e0, e1;
	struct ev *both[2] = { &e0, &e1 };
	struct camfetch *f = fetch_new();
	const struct camfetch_stats *st;
	uint8_t body[VC_EVX_GET_LEN];
	enum vc_ctl_type type;
	size_t len;

	REQUIRE(f, "camfetch_new");
	REQUIRE(make_event(&e0, 0, NULL, false) == 0, "event 0 not made");
	REQUIRE(make_event(&e1, 1, e0.hash, false) == 0, "event 1 not made");
	REQUIRE(e1.obj[VC_EVX_CLIP].len > VC_EVX_CHUNK_MAX, "a clip of %zu bytes",
		e1.obj[VC_EVX_CLIP].len);	/* more than one chunk */
	camfetch_session_start(f);
	g_assert_true(camfetch_next(f, 1, &type, body, &len) && type == VC_CTL_EVENTS_LIST);
	listing(f, both, 2);
	/* event 0 whole, then event 1's envelope, thumbnail and first clip chunk */
	g_assert_cmpint(serve(f, both, 2, 3 + 3, false), ==, 0);
	g_assert_true(cached(&e0, true) && cached(&e1, false));
	g_assert_cmpstr(camfetch_state(f), ==, "fetching");
	/* the session ends mid-clip; the next one goes on from the offsets */
	camfetch_session_end(f, true);
	camfetch_session_start(f);
	g_assert_cmpint(serve(f, both, 2, 0, false), ==, 0);
	g_assert_true(cached(&e0, true) && cached(&e1, true));
	st = camfetch_stats(f);
	g_assert_true(st->events == 2 && st->bytes == total(&e0) + total(&e1) && st->newest == 1);
	for (int r = 0; r < VC_EV__COUNT; r++)
		g_assert_cmpuint(st->refused[r], ==, 0);
	camfetch_free(f);
	/* a new fetch (a restarted hub) lists from event 2 on: events-seen */
	f = fetch_new();
	g_assert_true(camfetch_next(f, 1, &type, body, &len) && type == VC_CTL_EVENTS_LIST &&
		      body[11] == 2);
	camfetch_free(f);
	ev_free(&e0);
	ev_free(&e1);
}

/* Nothing is kept of an event that does not open: counted by reason. */
static void refusals(void)
{
	struct ev e2, e3, e4, e5, prev;
	struct ev *one[1];
	struct camfetch *f;
	const struct camfetch_stats *st;
	g_autofree char *seen = g_strdup_printf("%s/events-seen/porch", dir);
	g_autofree char *text = NULL;

	/* the chain goes on from event 1 (fetch_and_resume): events 2.. follow it */
	REQUIRE(g_file_get_contents(seen, &text, NULL, NULL), "%s unreadable", seen);
	REQUIRE(strchr(text, ' ') && vc_unhex(strchr(text, ' ') + 1, 64, prev.hash) == 0,
		"%s: no hash in '%s'", seen, text);
	f = fetch_new();
	REQUIRE(f, "camfetch_new");
	camfetch_session_start(f);
	st = camfetch_stats(f);

	/* a thumbnail that opens but is not the manifest's bytes */
	REQUIRE(make_event(&e2, 2, prev.hash, true) == 0, "event 2 not made");
	one[0] = &e2;
	listing(f, one, 1);
	g_assert_cmpint(serve(f, one, 1, 0, false), ==, 0);
	g_assert_true(cached(&e2, false) && st->refused[VC_EV_THUMBNAIL] == 1 && st->events == 0);

	/* a clip with one byte flipped: does not open (the thumbnail before it did) */
	REQUIRE(make_event(&e3, 3, e2.hash, false) == 0, "event 3 not made");
	e3.obj[VC_EVX_CLIP].data[100] ^= 1;
	one[0] = &e3;
	listing(f, one, 1);
	g_assert_cmpint(serve(f, one, 1, 0, false), ==, 0);
	g_assert_true(cached(&e3, false) && st->refused[VC_EV_DECRYPT] == 1 && st->events == 0);

	/* an envelope listed under another number than its manifest's */
	REQUIRE(make_event(&e4, 4, e3.hash, false) == 0, "event 4 not made");
	e4.number = 5;
	one[0] = &e4;
	listing(f, one, 1);
	g_assert_cmpint(serve(f, one, 1, 0, false), ==, 0);
	e4.number = 4;
	g_assert_true(cached(&e4, false) && st->refused[VC_EV_EVENT] == 1);
	e4.number = 5;
	g_assert_true(cached(&e4, false));

	/* an object longer than the listing said: the session must end */
	REQUIRE(make_event(&e5, 6, e4.hash, false) == 0, "event 6 not made");
	one[0] = &e5;
	listing(f, one, 1);
	g_assert_cmpint(serve(f, one, 1, 0, true), ==, -1);
	g_assert_true(cached(&e5, false) && st->events == 0);
	camfetch_free(f);
	ev_free(&e2);
	ev_free(&e3);
	ev_free(&e4);
	ev_free(&e5);
}

/*
 * A camera from before the event fetch ends the session at the first
 * request: after two such ends with no answer ever, it is not asked again;
 * one that answered once is always asked again. A camera with a store is
 * asked again only after CAMFETCH_STORE_NS.
 */
static void old_camera_and_store(void)
{
	struct camfetch *f = fetch_new();
	uint8_t body[VC_EVX_GET_LEN];
	enum vc_ctl_type type;
	size_t len;

	REQUIRE(f, "camfetch_new");
	for (int i = 0; i < 2; i++) {
		camfetch_session_start(f);
		g_assert_true(camfetch_next(f, 1, &type, body, &len));
		g_assert_cmpstr(camfetch_state(f), !=, "old-camera");
		camfetch_session_end(f, true);
	}
	g_assert_cmpstr(camfetch_state(f), ==, "old-camera");
	camfetch_session_start(f);
	g_assert_false(camfetch_next(f, 1, &type, body, &len));
	camfetch_free(f);

	f = fetch_new();
	REQUIRE(f, "camfetch_new");
	camfetch_session_start(f);
	g_assert_true(camfetch_next(f, 1, &type, body, &len));
	msg.type = VC_CTL_EVENT_ERROR;
	msg.len = vc_evx_error_encode(VC_EVX_ERR_STORE, msg.body);
	g_assert_cmpint(camfetch_answer(f, &msg, 1), ==, 0);
	g_assert_cmpstr(camfetch_state(f), ==, "store");
	g_assert_false(camfetch_next(f, 2, &type, body, &len));
	for (int i = 0; i < 3; i++) {	/* it answered: not an old camera, whatever happens */
		camfetch_session_end(f, true);
		camfetch_session_start(f);
	}
	g_assert_true(camfetch_next(f, 2 + CAMFETCH_STORE_NS, &type, body, &len) &&
		      type == VC_CTL_EVENTS_LIST);
	camfetch_free(f);
}

/* In this order: each test goes on from the events-seen chain the one before left. */
int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	cam = fx_key(1);
	hub = fx_key(2);
	enc = vc_enc_key_generate();
	if (!cam || !hub || !enc || fx_tmpdir(dir, sizeof(dir)) < 0)
		g_error("keys or a temporary directory");
	g_test_add_func("/hub/camfetch/fetch-and-resume", fetch_and_resume);
	g_test_add_func("/hub/camfetch/refusals", refusals);
	g_test_add_func("/hub/camfetch/old-camera-and-store", old_camera_and_store);
	ret = g_test_run();
	fx_rmtree(dir);
	vc_key_free(cam);
	vc_key_free(hub);
	vc_enc_key_free(enc);
	return ret;
}
