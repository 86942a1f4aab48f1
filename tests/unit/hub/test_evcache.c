// SPDX-License-Identifier: GPL-2.0
/*
 * The hub's event cache (daemon/hub/events.c): the writer's layout and
 * modes, the listing's order, the bound (oldest events dropped whole, the
 * envelope first), and a file in the cache that is not an event's. What
 * the files hold is checked where they are read (daemon-eventsview).
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <utime.h>

#include "events.h"

#define ID "0123456789abcdef0123456789abcdef"

static char *name_of(unsigned int number)
{
	return g_strdup_printf("%020u-" ID ".env", number);
}

static int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (int)(st.st_mode & 07777);
}

static void put(const char *dir, unsigned int number, size_t clip, time_t mtime)
{
	g_autofree char *name = name_of(number), *env = g_build_filename(dir, name, NULL);
	uint8_t *bytes = g_malloc0(clip);
	struct hub_event_objects o = { .thumb = (uint8_t *)"jpeg", .thumb_len = 4,
				       .clip = bytes, .clip_len = clip };
	struct utimbuf t = { mtime, mtime };
	g_autoptr(GError) err = NULL;

	g_assert_cmpint(hub_event_cache_put(dir, name, (const uint8_t *)"env", 3, &o, &err), ==, 0);
	g_assert_no_error(err);
	g_assert_cmpint(utime(env, &t), ==, 0);
	g_free(bytes);
}

static void test_put_list(void)
{
	g_autofree char *keys = g_dir_make_tmp("evcache-XXXXXX", NULL);
	uint8_t kid[VC_KEY_ID_LEN] = { 0xab };
	g_autofree char *dir = hub_event_cache_dir(keys, kid);
	g_autofree char *clip = NULL, *env = NULL;
	g_auto(GStrv) names = NULL;
	struct hub_event_objects o = { 0 };
	g_autoptr(GError) err = NULL;

	g_assert_true(g_str_has_suffix(dir, "/event-cache/ab000000000000000000000000000000"));
	for (unsigned int i = 0; i < 6; i++)	/* 0 3 6 2 5 1, out of order */
		put(dir, i * 3 % 7, 10, 1000 + i);
	g_assert_cmpint(mode_of(dir), ==, 0700);
	clip = g_strdup_printf("%s/%020u-" ID ".clip", dir, 3);
	env = g_strdup_printf("%s/%020u-" ID ".env", dir, 3);
	g_assert_cmpint(mode_of(clip), ==, 0600);
	g_assert_cmpint(mode_of(env), ==, 0600);
	/* newest (largest number) first, at most max; other files ignored */
	{
		g_autofree char *junk = g_build_filename(dir, "junk.env", NULL);

		g_assert_true(g_file_set_contents(junk, "x", 1, NULL));
	}
	names = hub_event_cache_list(dir, 4);
	g_assert_cmpuint(g_strv_length(names), ==, 4);
	g_assert_true(g_str_has_prefix(names[0], "00000000000000000006-"));
	g_assert_true(g_str_has_prefix(names[1], "00000000000000000005-"));
	g_assert_true(g_str_has_prefix(names[2], "00000000000000000003-"));	/* 4: none */
	g_assert_true(g_str_has_prefix(names[3], "00000000000000000002-"));
	/* not an envelope's name: nothing written */
	o.clip = (uint8_t *)"c";
	o.clip_len = 1;
	g_assert_cmpint(hub_event_cache_put(dir, "../x.env", (const uint8_t *)"e", 1, &o, &err),
			<, 0);
	g_assert_error(err, STORE_ERROR, STORE_ERROR_FAILED);
	g_assert_cmpstr(err->message, ==, "../x.env: not an envelope's name");
}

static void test_trim(void)
{
	g_autofree char *keys = g_dir_make_tmp("evcache-XXXXXX", NULL);
	uint8_t a[VC_KEY_ID_LEN] = { 1 }, b[VC_KEY_ID_LEN] = { 2 };
	g_autofree char *da = hub_event_cache_dir(keys, a), *db = hub_event_cache_dir(keys, b);
	g_auto(GStrv) la = NULL, lb = NULL;

	/* 1000 bytes of clip (+ 4 + 3) each; across cameras, oldest by time */
	put(da, 0, 1000, 100);
	put(db, 0, 1000, 200);
	put(da, 1, 1000, 300);
	put(db, 1, 1000, 400);
	g_assert_cmpuint(hub_event_cache_trim(keys, 4 * 1007), ==, 0);
	g_assert_cmpuint(hub_event_cache_trim(keys, 2 * 1007 + 500), ==, 2);
	la = hub_event_cache_list(da, 10);
	lb = hub_event_cache_list(db, 10);
	g_assert_cmpuint(g_strv_length(la), ==, 1);
	g_assert_cmpuint(g_strv_length(lb), ==, 1);
	g_assert_true(g_str_has_prefix(la[0], "00000000000000000001-"));
	g_assert_true(g_str_has_prefix(lb[0], "00000000000000000001-"));
	{	/* dropped whole: no object of event 0 left */
		g_autofree char *c = g_strdup_printf("%s/%020u-" ID ".clip", da, 0);
		g_autofree char *t = g_strdup_printf("%s/%020u-" ID ".thumb", db, 0);

		g_assert_false(g_file_test(c, G_FILE_TEST_EXISTS));
		g_assert_false(g_file_test(t, G_FILE_TEST_EXISTS));
	}
	g_assert_cmpuint(hub_event_cache_trim(keys, 0), ==, 2);
}

/*
 * Refusal notes: written 0600 with the reason, read back newest first;
 * removed when the event is cached; at most HUB_EVENT_REFUSALS_MAX, the
 * names only a store gave (far ahead) dropped before any the camera signed.
 */
static void test_refusals(void)
{
	g_autofree char *keys = g_dir_make_tmp("evcache-XXXXXX", NULL);
	uint8_t a[VC_KEY_ID_LEN] = { 3 };
	g_autofree char *dir = hub_event_cache_dir(keys, a);
	struct hub_event_refusal out[2 * HUB_EVENT_REFUSALS_MAX];
	size_t n, signed_n = 0;

	for (unsigned int i = 1; i <= 10; i++) {
		g_autofree char *name = name_of(i);

		g_assert_cmpint(hub_event_cache_refuse(dir, name, VC_EV_DECRYPT, true), ==, 0);
	}
	{
		g_autofree char *p = g_strdup_printf("%s/%020u-" ID ".refused", dir, 10);
		g_autofree char *text = NULL;

		g_assert_cmpint(mode_of(p), ==, 0600);
		g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
		g_assert_cmpstr(text, ==, "decrypt signed\n");
	}
	/* a store naming 100 events far ahead: refused, unsigned */
	for (unsigned int i = 0; i < 100; i++) {
		g_autofree char *name = g_strdup_printf("%020llu-" ID ".env",
							 1000000000000000000ull + i);

		g_assert_cmpint(hub_event_cache_refuse(dir, name, VC_EV_CAMERA, false), ==, 0);
	}
	n = hub_event_cache_refusals(dir, out, G_N_ELEMENTS(out));
	g_assert_cmpuint(n, ==, HUB_EVENT_REFUSALS_MAX);
	for (size_t i = 0; i < n; i++) {
		if (i)
			g_assert_cmpuint(out[i].number, <, out[i - 1].number);
		if (out[i].signed_number) {
			signed_n++;
			g_assert_cmpstr(out[i].reason, ==, "decrypt");
		}
	}
	g_assert_cmpuint(signed_n, ==, 10);	/* the camera's kept, the store's dropped */
	/* cached after all: its note goes */
	put(dir, 10, 10, 100);
	n = hub_event_cache_refusals(dir, out, G_N_ELEMENTS(out));
	g_assert_cmpuint(n, ==, HUB_EVENT_REFUSALS_MAX - 1);
	g_assert_cmpuint(out[n - 1].number, ==, 1);
	g_assert_cmpuint(out[HUB_EVENT_REFUSALS_MAX - 10].number, ==, 9);
	/* a file that is not the hub's note is not read as one */
	{
		g_autofree char *p = g_strdup_printf("%s/%020u-" ID ".refused", dir, 5);

		g_assert_true(g_file_set_contents(p, "decrypt signed\nmore", -1, NULL));
		n = hub_event_cache_refusals(dir, out, G_N_ELEMENTS(out));
		g_assert_cmpuint(n, ==, HUB_EVENT_REFUSALS_MAX - 2);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/evcache/put-list", test_put_list);
	g_test_add_func("/evcache/trim", test_trim);
	g_test_add_func("/evcache/refusals", test_refusals);
	return g_test_run();
}
