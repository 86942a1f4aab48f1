// SPDX-License-Identifier: GPL-2.0
/*
 * The event store's listing parser (daemon/hub/storelist.c): nginx's JSON
 * autoindex as nginx writes it, escapes, and what a hostile store or cache
 * might send instead (each refused whole); envelope names.
 */
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static int parse(const char *s, struct store_entry **e, size_t *n)
{
	g_autoptr(GError) err = NULL;
	int rc = store_list_parse(s, strlen(s), e, n, &err);

	if (rc < 0) {
		g_assert_error(err, STORE_ERROR, STORE_ERROR_LISTING);
		g_assert_true(g_str_has_prefix(err->message, "listing: "));
		g_assert_true(!*e && !*n);
	} else {
		g_assert_no_error(err);
	}
	return rc;
}

static void test_nginx(void)
{
	const char *s = "[\n"
		"{ \"name\":\"00000000000000000001-0f161d242b323940474e555c636a7178.env\", "
		"\"type\":\"file\", \"mtime\":\"Sun, 06 Dec 2026 04:26:15 GMT\", \"size\":376 },\n"
		"{ \"name\":\"sub\", \"type\":\"directory\", \"mtime\":\"Sun, 06 Dec 2026 04:26:15 GMT\" }\n"
		"]";
	struct store_entry *e;
	size_t n;
	uint64_t num;
	uint8_t id[16];

	g_assert_cmpint(parse(s, &e, &n), ==, 0);
	g_assert_cmpuint(n, ==, 2);
	g_assert_true(e[0].is_file);
	g_assert_cmpint(e[0].size, ==, 376);
	g_assert_true(store_envelope_name(e[0].name, &num, id));
	g_assert_cmpuint(num, ==, 1);
	g_assert_cmpuint(id[0], ==, 0x0f);
	g_assert_cmpuint(id[15], ==, 0x78);
	g_assert_false(e[1].is_file);
	g_assert_cmpint(e[1].size, ==, -1);
	g_assert_cmpstr(e[1].name, ==, "sub");
	free(e);
	g_assert_cmpint(parse(" [ ] ", &e, &n), ==, 0);
	g_assert_cmpuint(n, ==, 0);
	g_assert_cmpint(parse("[{\"name\":\"a\\u00e9\\/\\\"\",\"size\":1.5,\"x\":null}]", &e, &n), ==, 0);
	g_assert_cmpstr(e[0].name, ==, "a\xc3\xa9/\"");
	g_assert_cmpint(e[0].size, ==, -1);
	free(e);
}

static void test_refused(void)
{
	static const char *const bad[] = {
		"", "{}", "[", "[{}]", "[{\"name\":1}]", "[{\"name\":\"a\"}", "[{\"name\":\"a\"}] x",
		"[{\"name\":\"a\",}]", "[{\"name\":\"a\"},]", "[{\"name\":\"a\\u0000\"}]",
		"[{\"name\":\"a\\ud800\"}]", "[{\"name\":\"a\\q\"}]", "[{\"name\":\"a\",\"x\":[1]}]",
		"[{\"name\":\"a\",\"x\":{}}]", "[{\"name\":\"a\",\"name\":\"b\"}]",
		"[{\"name\":\"a\",\"size\":01}]", "[{\"name\":\"a\",\"size\":-}]",
		"[{\"name\":\"a\tb\"}]", "[{\"name\":\"a\",\"x\":tru}]", "[[]]",
	};
	struct store_entry *e;
	size_t n;
	GString *g;

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		if (parse(bad[i], &e, &n) == 0)
			g_error("accepted: %s", bad[i]);
	}
	/* a name longer than the bound */
	g = g_string_new("[{\"name\":\"");
	for (int i = 0; i <= STORE_NAME_MAX; i++)
		g_string_append_c(g, 'a');
	g_string_append(g, "\"}]");
	g_assert_cmpint(parse(g->str, &e, &n), <, 0);
	g_string_free(g, TRUE);
	/* more entries than the bound */
	g = g_string_new("[");
	for (int i = 0; i <= STORE_LIST_MAX_ENTRIES; i++)
		g_string_append(g, i ? ",{\"name\":\"a\"}" : "{\"name\":\"a\"}");
	g_string_append(g, "]");
	g_assert_cmpint(parse(g->str, &e, &n), <, 0);
	g_string_free(g, TRUE);
}

static void test_names(void)
{
	uint64_t num;
	uint8_t id[16];

	g_assert_true(store_envelope_name("18446744073709551615-00000000000000000000000000000000.env",
					  &num, id));
	g_assert_cmpuint(num, ==, UINT64_MAX);
	g_assert_false(store_envelope_name("18446744073709551616-00000000000000000000000000000000.env",
					   &num, id));
	g_assert_false(store_envelope_name("00000000000000000001-0F161D242B323940474E555C636A7178.env",
					   &num, id));
	g_assert_false(store_envelope_name("00000000000000000001-0f161d242b323940474e555c636a7178.clip",
					   &num, id));
	g_assert_false(store_envelope_name("0000000000000000001-0f161d242b323940474e555c636a7178.env",
					   &num, id));
	g_assert_false(store_envelope_name("../0000000000000001-0f161d242b323940474e555c636a7178.env",
					   &num, id));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/storelist/nginx", test_nginx);
	g_test_add_func("/storelist/refused", test_refused);
	g_test_add_func("/storelist/names", test_names);
	return g_test_run();
}
