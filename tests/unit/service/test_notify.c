// SPDX-License-Identifier: GPL-2.0
/*
 * sd_notify as systemd sees it: the test binds the NOTIFY_SOCKET datagram
 * socket itself and reads what veracamd would send. The watchdog is fed
 * only while progress is reported, at most every WATCHDOG_USEC/2, with a
 * fake clock so the test takes no time.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "service.h"

static char *tmpdir, *sock_path;
static int sock = -1;

static void setup_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	tmpdir = g_dir_make_tmp("svc-notify-XXXXXX", NULL);
	sock_path = g_build_filename(tmpdir, "notify", NULL);
	g_strlcpy(sa.sun_path, sock_path, sizeof(sa.sun_path));
	sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	g_assert_cmpint(sock, >=, 0);
	g_assert_cmpint(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_setenv("NOTIFY_SOCKET", sock_path, TRUE);
}

/* The next datagram, or NULL if none is waiting. */
static char *next_message(void)
{
	char buf[4096];
	ssize_t n = recv(sock, buf, sizeof(buf) - 1, 0);

	if (n < 0) {
		g_assert_cmpint(errno, ==, EAGAIN);
		return NULL;
	}
	buf[n] = '\0';
	return g_strdup(buf);
}

static unsigned int drain_pings(void)
{
	unsigned int pings = 0;
	char *m;

	while ((m = next_message())) {
		g_assert_cmpstr(m, ==, "WATCHDOG=1");
		pings++;
		g_free(m);
	}
	return pings;
}

static void test_states(void)
{
	struct svc_notify n;
	char *m;

	g_unsetenv("WATCHDOG_USEC");
	svc_notify_init(&n);
	g_assert_cmpuint(n.watchdog_us, ==, 0);

	svc_notify_ready(&n, "streaming to 2 hubs\nforged=1");
	m = next_message();
	/* a newline in the status text cannot add a field */
	g_assert_cmpstr(m, ==, "READY=1\nSTATUS=streaming to 2 hubs forged=1");
	g_assert_true(n.ready);
	g_free(m);

	svc_notify_status(&n, "%u frames, %s", 42u, "ok");
	m = next_message();
	g_assert_cmpstr(m, ==, "STATUS=42 frames, ok");
	g_free(m);

	svc_notify_reloading(&n);
	m = next_message();
	g_assert_true(g_str_has_prefix(m, "RELOADING=1\n"));
	g_assert_false(n.ready);
	g_free(m);

	svc_notify_stopping(&n);
	m = next_message();
	g_assert_true(g_str_has_prefix(m, "STOPPING=1\n"));
	g_free(m);

	/* without a watchdog, progress sends nothing */
	for (uint64_t t = 0; t < 5000000; t += 33333)
		g_assert_false(svc_notify_progress(&n, t));
	g_assert_null(next_message());
}

static void test_watchdog(void)
{
	const uint64_t wd = 1000000;	/* WatchdogSec=1s */
	struct svc_notify n;
	uint64_t t, last = 0;
	unsigned int pings = 0;

	g_setenv("WATCHDOG_USEC", "1000000", TRUE);
	g_unsetenv("WATCHDOG_PID");
	svc_notify_init(&n);
	g_assert_cmpuint(n.watchdog_us, ==, wd);

	/* 30 fps for 3 s: a ping at once, then never closer than wd/2 and
	 * never further apart than wd/2 plus one frame */
	for (t = 1000000; t < 4000000; t += 33333) {
		if (svc_notify_progress(&n, t)) {
			if (pings)
				g_assert_cmpuint(t - last, >=, wd / 2);
			if (pings)
				g_assert_cmpuint(t - last, <, wd / 2 + 33333);
			last = t;
			pings++;
		}
	}
	g_assert_cmpuint(pings, ==, 6);
	g_assert_cmpuint(drain_pings(), ==, 6);
	g_assert_cmpuint(n.pings, ==, 6);

	/* frames stop for 10 s: no progress, no ping (the loop still runs
	 * but nothing else in the service frame feeds the watchdog) */
	g_assert_cmpuint(drain_pings(), ==, 0);

	/* frames resume: the first one pings at once */
	t = 14000000;
	g_assert_true(svc_notify_progress(&n, t));
	g_assert_false(svc_notify_progress(&n, t + 100000));
	g_assert_cmpuint(drain_pings(), ==, 1);

	/* a watchdog meant for another process is not ours to feed */
	g_setenv("WATCHDOG_PID", "1", TRUE);
	svc_notify_init(&n);
	g_assert_cmpuint(n.watchdog_us, ==, 0);
	g_assert_false(svc_notify_progress(&n, 20000000));
	g_assert_cmpuint(drain_pings(), ==, 0);
	g_unsetenv("WATCHDOG_PID");
	g_unsetenv("WATCHDOG_USEC");
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	setup_socket();
	g_test_add_func("/notify/states", test_states);
	g_test_add_func("/notify/watchdog-only-on-progress", test_watchdog);
	rc = g_test_run();
	close(sock);
	g_remove(sock_path);
	g_rmdir(tmpdir);
	g_free(sock_path);
	g_free(tmpdir);
	return rc;
}
