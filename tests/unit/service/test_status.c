// SPDX-License-Identifier: GPL-2.0
/*
 * Status socket round trip: the daemon side serves its counters on an
 * AF_UNIX socket (mode 0660) in a temporary directory, the client side
 * (what `veracamctl status` calls) fetches and prints them, in one test:
 * the client runs in a thread, the server in the test's loop.
 */
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "service.h"

static char *tmpdir;

struct fetch {
	const char *path;
	char *doc;
	GError *err;
	bool print;
	gint done;
};

static gpointer client(gpointer data)
{
	struct fetch *f = data;

	if (f->print) {
		size_t len = 0;
		FILE *out = open_memstream(&f->doc, &len);

		if (svc_status_print(f->path, out, &f->err))
			g_clear_pointer(&f->doc, free);
		fclose(out);
	} else {
		f->doc = svc_status_fetch(f->path, &f->err);
	}
	g_atomic_int_set(&f->done, 1);
	return NULL;
}

/* Run the client while serving; returns the document the client got. */
static char *round_trip(struct svc_status *st, const char *path, bool print)
{
	struct fetch f = { .path = path, .print = print };
	GThread *t = g_thread_new("client", client, &f);
	char *doc;

	/* serve until the client is done; the socket is non-blocking */
	while (!g_atomic_int_get(&f.done)) {
		svc_status_serve(st);
		g_usleep(1000);
	}
	g_thread_join(t);
	if (f.err)
		g_error("client: %s", f.err->message);
	doc = g_strdup(f.doc);
	if (print)
		free(f.doc);
	else
		g_free(f.doc);
	return doc;
}

static struct svc_config hub_config(const char *keys)
{
	char *args[] = { "veracamd", "hub", "--keys", (char *)keys,
			 "--camera", "porch@192.0.2.1:7000",
			 "--camera", "garden@[2001:db8::2]:7000", NULL };
	struct svc_config cfg;
	char *err;

	g_assert_cmpint(svc_config_parse(8, args, NULL, &cfg, &err), ==, SVC_CONFIG_RUN);
	return cfg;
}

static void assert_has(const char *doc, const char *needle)
{
	if (!strstr(doc, needle))
		g_error("snapshot lacks %s:\n%s", needle, doc);
}

static void test_hub_round_trip(void)
{
	struct svc_config cfg = hub_config(tmpdir);
	char *path = g_build_filename(tmpdir, "hub.sock", NULL);
	struct svc_status *st = svc_status_new(&cfg);
	struct svc_camera_stats *porch = svc_status_camera(st, 0);
	int64_t now = clk_real_ns();
	struct stat sb;
	mode_t old;
	GError *err = NULL;
	char *doc;

	/* even with a permissive umask the socket is owner + group only */
	old = umask(0);
	g_assert_cmpint(svc_status_listen(st, path, &err), ==, 0);
	g_assert_no_error(err);
	umask(old);
	g_assert_cmpint(lstat(path, &sb), ==, 0);
	g_assert_true(S_ISSOCK(sb.st_mode));
	g_assert_cmpint(sb.st_mode & 07777, ==, 0660);
	g_assert_cmpint(svc_status_fd(st), >=, 0);

	g_assert_null(svc_status_camera(st, 2));
	porch->state = "connected";
	porch->received = 100;
	porch->dropped_late = 4;
	porch->decoder_crashes = 2;
	porch->decoder_restarts = 5;
	porch->decoder_pid = 4242;
	porch->reconnects = 1;
	porch->last_verified_capture_ns = now - 250000000;
	svc_camera_shown(porch, now - 60000000, now);		/* 60 ms */
	svc_camera_shown(porch, now - 100000000, now);		/* 100 ms: estimate moves 1/8 */
	svc_camera_shown(porch, now + 5000000, now);		/* clocks disagree: no estimate */
	g_assert_cmpuint(porch->shown, ==, 3);
	g_assert_cmpuint(porch->glass_ns, ==, 65000000);
	svc_reasons_add(&porch->rejected, "signature");
	svc_reasons_add(&porch->rejected, "signature");
	svc_reasons_add(&porch->rejected, "stale");
	svc_reasons_add_n(&porch->discarded, "duplicate", 7);
	svc_reasons_add_n(&porch->discarded, "late", 0);	/* nothing new: no entry */
	svc_reasons_add_n(&porch->discarded, "duplicate", 2);
	svc_status_set_ready(st, true);

	doc = round_trip(st, path, false);
	assert_has(doc, "\"role\": \"hub\"");
	assert_has(doc, "\"ready\": true");
	assert_has(doc, "\"name\": \"porch\"");
	assert_has(doc, "\"address\": \"192.0.2.1:7000\"");
	assert_has(doc, "\"state\": \"connected\"");
	assert_has(doc, "\"received\": 100");
	assert_has(doc, "\"shown\": 3");
	assert_has(doc, "\"dropped_late\": 4");
	assert_has(doc, "\"decoder_crashes\": 2");
	assert_has(doc, "\"decoder_restarts\": 5");
	assert_has(doc, "\"decoder_pid\": 4242");
	assert_has(doc, "\"reconnects\": 1");
	assert_has(doc, "\"rejected\": { \"total\": 3, \"signature\": 2, \"stale\": 1 }");
	assert_has(doc, "\"discarded\": { \"total\": 9, \"duplicate\": 9 }");
	assert_has(doc, "\"glass_latency_ms\": 65.0");
	{
		const char *age = strstr(doc, "\"last_verified_age_ms\": ");
		long ms;

		g_assert_nonnull(age);
		ms = strtol(age + strlen("\"last_verified_age_ms\": "), NULL, 10);
		g_assert_cmpint(ms, >=, 250);		/* captured 250 ms before */
		g_assert_cmpint(ms, <, 60000);
	}
	assert_has(doc, "\"name\": \"garden\"");
	assert_has(doc, "\"address\": \"[2001:db8::2]:7000\"");
	assert_has(doc, "\"state\": \"not connected\"");
	assert_has(doc, "\"last_verified_capture\": null");
	g_free(doc);

	/* the veracamctl path: printed as received */
	porch->received = 101;
	doc = round_trip(st, path, true);
	assert_has(doc, "\"received\": 101");
	g_free(doc);

	/* a second daemon cannot take over a live socket */
	{
		struct svc_status *other = svc_status_new(&cfg);

		g_assert_cmpint(svc_status_listen(other, path, &err), ==, -1);
		g_assert_error(err, SVC_ERROR, SVC_ERROR_IN_USE);
		g_assert_nonnull(strstr(err->message, "another veracamd"));
		g_clear_error(&err);
		svc_status_free(other);
	}

	svc_status_free(st);
	g_assert_cmpint(access(path, F_OK), ==, -1);	/* removed on free */
	svc_config_clear(&cfg);
	g_free(path);
}

static void test_camera_round_trip(void)
{
	char *args[] = { "veracamd", "camera", "--keys", tmpdir, "--source", "pattern:ff0000",
			 "--name", "porch", NULL };
	char *path = g_build_filename(tmpdir, "camera.sock", NULL);
	struct svc_camera_role_stats *role;
	struct svc_hub_session *a, *b;
	struct svc_config cfg;
	struct svc_status *st;
	GError *err = NULL;
	char *text, *doc;
	int stale;

	g_assert_cmpint(svc_config_parse(8, args, NULL, &cfg, &text), ==, SVC_CONFIG_RUN);
	st = svc_status_new(&cfg);

	/* a socket file left by a crashed daemon is replaced */
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
		stale = socket(AF_UNIX, SOCK_STREAM, 0);
		g_assert_cmpint(bind(stale, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
		close(stale);
	}
	g_assert_cmpint(svc_status_listen(st, path, &err), ==, 0);
	g_assert_no_error(err);

	role = svc_status_camera_role(st);
	role->frames_captured = 300;
	role->capture_gaps = 2;
	role->frames_signed = 298;
	svc_reasons_add(&role->rejected_peers, "unpaired");
	a = svc_status_session_begin(st, "kitchen", "192.0.2.7:40000", "udp");
	b = svc_status_session_begin(st, "bedroom", "[2001:db8::9]:40001", "tcp");
	a->frames_sent = 298;
	a->bytes_sent = 1234567;
	b->frames_sent = 10;
	b->drops = 3;

	doc = round_trip(st, path, false);
	assert_has(doc, "\"role\": \"camera\"");
	assert_has(doc, "\"name\": \"porch\"");
	assert_has(doc, "\"ready\": false");
	assert_has(doc, "\"frames_captured\": 300");
	assert_has(doc, "\"capture_gaps\": 2");
	assert_has(doc, "\"rejected_peers\": { \"total\": 1, \"unpaired\": 1 }");
	assert_has(doc, "\"name\": \"kitchen\"");
	assert_has(doc, "\"bytes_sent\": 1234567");
	assert_has(doc, "\"name\": \"bedroom\"");
	assert_has(doc, "\"transport\": \"tcp\"");
	assert_has(doc, "\"drops\": 3");
	g_free(doc);

	/* a hub that leaves is gone from the snapshot, the other stays */
	svc_status_session_end(st, b);
	doc = round_trip(st, path, false);
	g_assert_null(strstr(doc, "bedroom"));
	assert_has(doc, "\"name\": \"kitchen\"");
	g_free(doc);

	svc_status_free(st);
	svc_config_clear(&cfg);
	g_free(path);
}

static void test_client_errors(void)
{
	char *path = g_build_filename(tmpdir, "absent.sock", NULL);
	GError *err = NULL;
	char *out = NULL;
	size_t len;
	FILE *f = open_memstream(&out, &len);

	g_assert_cmpint(svc_status_print(path, f, &err), ==, -1);
	fclose(f);
	g_assert_cmpuint(len, ==, 0);
	g_assert_error(err, SVC_ERROR, SVC_ERROR_NO_DAEMON);
	g_assert_nonnull(strstr(err->message, "is veracamd running?"));
	g_error_free(err);
	free(out);
	g_free(path);
}

static void test_reasons_bounded(void)
{
	struct svc_reasons r = { 0 };

	for (unsigned int i = 0; i < 100; i++) {
		char *name = g_strdup_printf("reason-%u", i);

		svc_reasons_add(&r, name);
		g_free(name);
	}
	g_assert_cmpuint(r.total, ==, 100);
	g_assert_cmpuint(r.n, ==, SVC_REASONS_MAX);
	g_assert_cmpstr(r.name[SVC_REASONS_MAX - 1], ==, "other");
	g_assert_cmpuint(r.count[SVC_REASONS_MAX - 1], ==, 100 - (SVC_REASONS_MAX - 1));
	for (unsigned int i = 0; i < r.n; i++)
		g_free(r.name[i]);
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("svc-status-XXXXXX", NULL);
	g_test_add_func("/status/hub-round-trip", test_hub_round_trip);
	g_test_add_func("/status/camera-round-trip", test_camera_round_trip);
	g_test_add_func("/status/client-errors", test_client_errors);
	g_test_add_func("/status/reasons-bounded", test_reasons_bounded);
	rc = g_test_run();
	g_rmdir(tmpdir);
	g_free(tmpdir);
	return rc;
}
