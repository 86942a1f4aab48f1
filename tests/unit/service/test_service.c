// SPDX-License-Identifier: GPL-2.0
/*
 * The frame put together, as veracamd's main() uses it: init from argv,
 * the status socket answering while the loop runs, SIGTERM -> the loop
 * returns 0 and systemd is told STOPPING=1, finish removes the socket.
 * Also the exit statuses of the paths that never reach the loop.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "service.h"

static char *tmpdir;
static int notify_sock = -1;

static void bind_notify_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *path = g_build_filename(tmpdir, "notify", NULL);

	g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
	notify_sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	g_assert_cmpint(bind(notify_sock, (struct sockaddr *)&sa, sizeof(sa)), ==, 0);
	g_setenv("NOTIFY_SOCKET", path, TRUE);
	g_free(path);
}

/* All datagrams received so far, joined by '|'. */
static char *notifications(void)
{
	GString *all = g_string_new(NULL);
	char buf[4096];
	ssize_t n;

	while ((n = recv(notify_sock, buf, sizeof(buf) - 1, 0)) > 0) {
		buf[n] = '\0';
		if (all->len)
			g_string_append_c(all, '|');
		g_string_append(all, buf);
	}
	g_assert_cmpint(errno, ==, EAGAIN);
	return g_string_free(all, FALSE);
}

struct client {
	const char *path;
	char *doc;
	GError *err;
};

/* What `veracamctl status` does while the daemon runs, then SIGTERM. */
static gpointer client(gpointer data)
{
	struct client *c = data;

	c->doc = svc_status_fetch(c->path, &c->err);
	kill(getpid(), SIGTERM);
	return NULL;
}

static void test_lifecycle(void)
{
	char *sock = g_build_filename(tmpdir, "status.sock", NULL);
	char *args[] = { "veracamd", "hub", "--keys", tmpdir, "--camera", "porch@127.0.0.1:7000",
			 "--status-socket", sock, "--log-level", "err", NULL };
	struct client c = { .path = sock };
	struct svc_service s;
	GThread *t;
	char *sent;

	g_setenv("WATCHDOG_USEC", "2000000", TRUE);
	g_assert_cmpint(svc_service_init(&s, 10, args, NULL), ==, -1);
	g_assert_cmpuint(s.notify.watchdog_us, ==, 2000000);
	g_assert_nonnull(s.loop);
	g_assert_cmpint(access(sock, F_OK), ==, 0);

	svc_notify_ready(&s.notify, "showing 1 camera");
	svc_status_set_ready(s.status, true);
	svc_status_camera(s.status, 0)->received = 7;

	t = g_thread_new("veracamctl", client, &c);
	g_assert_cmpint(svc_service_run(&s), ==, 0);
	g_thread_join(t);
	g_assert_cmpint(svc_loop_signal(s.loop), ==, SIGTERM);

	if (!c.doc)
		g_error("status: %s", c.err->message);
	g_assert_nonnull(strstr(c.doc, "\"ready\": true"));
	g_assert_nonnull(strstr(c.doc, "\"received\": 7"));
	g_free(c.doc);

	sent = notifications();
	g_assert_cmpstr(sent, ==, "READY=1\nSTATUS=showing 1 camera|STOPPING=1\nSTATUS=stopping");
	g_free(sent);

	svc_service_finish(&s);
	g_assert_cmpint(access(sock, F_OK), ==, -1);
	g_unsetenv("WATCHDOG_USEC");
	g_free(sock);
}

static void test_exit_statuses(void)
{
	char *bad[] = { "veracamd", "camera", "--keys", tmpdir, "--source", "pattern:ff0000",
			"--fps", "0", NULL };
	char *nodir[] = { "veracamd", "camera", "--keys", tmpdir, "--source", "pattern:ff0000",
			  "--status-socket", "/nonexistent/dir/status.sock", "--log-level", "err",
			  NULL };
	struct svc_service s;

	g_assert_cmpint(svc_service_init(&s, 8, bad, NULL), ==, SVC_EXIT_USAGE);
	/* a valid configuration that cannot start: status 1, nothing left behind */
	g_assert_cmpint(svc_service_init(&s, 10, nodir, NULL), ==, 1);
	g_assert_null(s.loop);
	g_assert_null(s.status);
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("svc-service-XXXXXX", NULL);
	bind_notify_socket();
	g_test_add_func("/service/lifecycle", test_lifecycle);
	g_test_add_func("/service/exit-statuses", test_exit_statuses);
	rc = g_test_run();
	close(notify_sock);
	{
		char *path = g_build_filename(tmpdir, "notify", NULL);

		g_remove(path);
		g_free(path);
	}
	g_rmdir(tmpdir);
	g_free(tmpdir);
	return rc;
}
