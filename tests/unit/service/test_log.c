// SPDX-License-Identifier: GPL-2.0
/*
 * Logging: the exact journal fields of an entry, the escaped stderr line,
 * the level filter, the journal/stderr choice from JOURNAL_STREAM, and that
 * key material never reaches a log line: not the device key's contents
 * through the config and status paths, not a PEM block passed by mistake.
 */
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "service.h"

#define SECRET_BODY "MC4CAQAwBQYDK2VwBCIEIFVFUkFDQU1TRUNSRVRLRVlNQVRFUklBTDEyMzQ1Ng=="
#define PEM "-----BEGIN PRIVATE KEY-----\n" SECRET_BODY "\n-----END PRIVATE KEY-----\n"

/* Run @fn with log lines captured; returns what was written. */
static char *capture(void (*fn)(void *), void *data)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	char *out;

	svc_log_set_stream(f);
	fn(data);
	fclose(f);
	svc_log_set_stream(NULL);
	out = g_strdup(buf);
	free(buf);
	return out;
}

static void test_journal_fields(void)
{
	struct svc_log_entry e;
	char **f;

	svc_log_init(VC_ROLE_CAMERA, LOG_INFO);
	svc_log_begin(&e, LOG_WARNING);
	svc_log_field(&e, "VERACAM_HUB", "%s", "kitchen");
	svc_log_field(&e, "VERACAM_FRAMES_SENT", "%u", 42u);
	svc_log_field(&e, "bad-name", "x");		/* not a journal field name */
	svc_log_field(&e, "_PID", "1");			/* trusted fields are journald's */
	svc_log_field(&e, "1ST", "x");
	svc_log_field(&e, "VERACAM_NOTE", "two\nlines");
	f = svc_log_journal_fields(&e, "hub kitchen: 42 frames");
	g_assert_cmpuint(g_strv_length(f), ==, 7);
	g_assert_cmpstr(f[0], ==, "MESSAGE=hub kitchen: 42 frames");
	g_assert_cmpstr(f[1], ==, "PRIORITY=4");
	g_assert_cmpstr(f[2], ==, "SYSLOG_IDENTIFIER=veracamd-camera");
	g_assert_cmpstr(f[3], ==, "VERACAM_HUB=kitchen");
	g_assert_cmpstr(f[4], ==, "VERACAM_FRAMES_SENT=42");
	g_assert_cmpstr(f[5], ==, "VERACAM_NOTE=two\nlines");	/* the journal keeps it binary-safe */
	g_assert_cmpstr(f[6], ==, "SVC_LOG_BAD_FIELDS=3");
	g_strfreev(f);
	svc_log_discard(&e);
	g_assert_cmpuint(e.n, ==, 0);
}

static void test_text_line(void)
{
	struct svc_log_entry e;
	char *line;

	svc_log_init(VC_ROLE_HUB, LOG_INFO);
	svc_log_begin(&e, LOG_INFO);
	svc_log_field(&e, "VERACAM_CAMERA", "%s", "porch\nveracamd-hub: forged");
	line = svc_log_text_line(&e, "camera porch:\tshown\x01");
	g_assert_cmpstr(line, ==,
		"veracamd-hub: camera porch:\\tshown\\x01 [VERACAM_CAMERA=porch\\nveracamd-hub: forged]");
	g_assert_null(strchr(line, '\n'));
	g_free(line);
	svc_log_discard(&e);
}

static void log_levels(void *data)
{
	(void)data;
	svc_log(LOG_DEBUG, "debug detail");
	svc_log(LOG_INFO, "info line");
	svc_log(LOG_ERR, "error line");
}

static void test_levels(void)
{
	char *out;

	svc_log_init(VC_ROLE_CAMERA, LOG_INFO);
	out = capture(log_levels, NULL);
	g_assert_cmpstr(out, ==, "veracamd-camera: info line\nveracamd-camera: error line\n");
	g_free(out);

	svc_log_init(VC_ROLE_CAMERA, LOG_DEBUG);
	out = capture(log_levels, NULL);
	g_assert_nonnull(strstr(out, "debug detail"));
	g_free(out);
}

static void glib_records(void *data)
{
	/* g_test_init() makes warnings fatal; a daemon's are not */
	GLogLevelFlags fatal = g_log_set_always_fatal(G_LOG_FATAL_MASK);

	(void)data;
	g_log("GStreamer", G_LOG_LEVEL_WARNING, "a GStreamer warning");
	g_message("capture: pattern %06x", 0x2040e0u);
	g_debug("glib debug detail");
	g_log_set_always_fatal(fatal);
}

/*
 * GLib's log goes through the same logger: one escaped line with the
 * ident, at the mapped priority (so --log-level applies), the domain as a
 * field; not GLib's own "** Message:" lines.
 */
static void test_glib_routed(void)
{
	char *out;

	svc_log_init(VC_ROLE_CAMERA, LOG_INFO);
	out = capture(glib_records, NULL);
	g_assert_cmpstr(out, ==,
		"veracamd-camera: a GStreamer warning [GLIB_DOMAIN=GStreamer]\n"
		"veracamd-camera: capture: pattern 2040e0\n");
	g_free(out);

	svc_log_init(VC_ROLE_CAMERA, LOG_WARNING);
	out = capture(glib_records, NULL);
	g_assert_cmpstr(out, ==, "veracamd-camera: a GStreamer warning [GLIB_DOMAIN=GStreamer]\n");
	g_free(out);

	g_assert_cmpint(svc_log_glib_priority(G_LOG_LEVEL_CRITICAL), ==, LOG_ERR);
	g_assert_cmpint(svc_log_glib_priority(G_LOG_LEVEL_MESSAGE), ==, LOG_NOTICE);
	g_assert_cmpint(svc_log_glib_priority(G_LOG_LEVEL_DEBUG), ==, LOG_DEBUG);
}

static void test_target(void)
{
	struct stat st;
	char *js;

	g_assert_cmpint(fstat(STDERR_FILENO, &st), ==, 0);
	js = g_strdup_printf("%llu:%llu", (unsigned long long)st.st_dev,
			     (unsigned long long)st.st_ino);
	g_setenv("JOURNAL_STREAM", js, TRUE);
	svc_log_init(VC_ROLE_CAMERA, LOG_INFO);
	g_assert_cmpint(svc_log_target(), ==, SVC_LOG_JOURNAL);
	g_free(js);

	/* inherited from a parent whose stderr was the journal: not ours */
	js = g_strdup_printf("%llu:%llu", (unsigned long long)st.st_dev,
			     (unsigned long long)st.st_ino + 1);
	g_setenv("JOURNAL_STREAM", js, TRUE);
	svc_log_init(VC_ROLE_CAMERA, LOG_INFO);
	g_assert_cmpint(svc_log_target(), ==, SVC_LOG_STDERR);
	g_free(js);

	g_unsetenv("JOURNAL_STREAM");
	svc_log_init(VC_ROLE_CAMERA, LOG_INFO);
	g_assert_cmpint(svc_log_target(), ==, SVC_LOG_STDERR);
}

struct startup {
	const char *keys;
};

/* What a role logs at start and in its periodic status entries. */
static void log_startup(void *data)
{
	struct startup *s = data;
	char *args[] = { "veracamd", "hub", "--keys", (char *)s->keys,
			 "--camera", "porch@192.0.2.1:7000", "--log-level", "debug", NULL };
	struct svc_config cfg;
	struct svc_status *st;
	char *err, *key_text;

	g_assert_cmpint(svc_config_parse(8, args, NULL, &cfg, &err), ==, SVC_CONFIG_RUN);
	svc_config_log(&cfg);
	st = svc_status_new(&cfg);
	svc_reasons_add(&svc_status_camera(st, 0)->rejected, "signature");
	svc_status_log(st);
	svc_status_free(st);
	svc_config_clear(&cfg);

	/* a careless caller logging the key file's contents */
	key_text = g_build_filename(s->keys, "device.key", NULL);
	g_assert_true(g_file_get_contents(key_text, &err, NULL, NULL));
	svc_log(LOG_ERR, "cannot use key: %s", err);
	{
		struct svc_log_entry e;

		svc_log_begin(&e, LOG_ERR);
		svc_log_field(&e, "VERACAM_KEY", "%s", err);
		svc_log_end(&e, "bad key");
	}
	g_free(err);
	g_free(key_text);
}

static void test_no_key_material(void)
{
	char *dir = g_dir_make_tmp("svc-log-XXXXXX", NULL);
	char *key = g_build_filename(dir, "device.key", NULL);
	struct startup s = { dir };
	char *out;

	g_assert_true(g_file_set_contents(key, PEM, -1, NULL));
	g_assert_cmpint(g_chmod(key, 0600), ==, 0);
	svc_log_init(VC_ROLE_HUB, LOG_DEBUG);
	out = capture(log_startup, &s);

	/* the key directory is named, its contents never appear */
	g_assert_nonnull(strstr(out, dir));
	g_assert_nonnull(strstr(out, "VERACAM_REJECTED_SIGNATURE=1"));
	g_assert_null(strstr(out, SECRET_BODY));
	g_assert_null(strstr(out, "BEGIN PRIVATE KEY"));
	g_assert_nonnull(strstr(out, "veracamd-hub: [redacted]"));
	g_assert_nonnull(strstr(out, "VERACAM_KEY=[redacted]"));

	g_free(out);
	g_remove(key);
	g_rmdir(dir);
	g_free(key);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/log/journal-fields", test_journal_fields);
	g_test_add_func("/log/text-line", test_text_line);
	g_test_add_func("/log/levels", test_levels);
	g_test_add_func("/log/glib-routed", test_glib_routed);
	g_test_add_func("/log/target", test_target);
	g_test_add_func("/log/no-key-material", test_no_key_material);
	return g_test_run();
}
