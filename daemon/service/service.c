// SPDX-License-Identifier: GPL-2.0
/*
 * service.c - the service frame put together, in the order it has to be:
 * configuration, logging, the loop (signals blocked before any thread),
 * the status socket on the loop, the watchdog settings; and at the end
 * STOPPING=1, the final counters, the socket removed.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "service.h"

static void on_status(void *data, uint32_t events)
{
	(void)events;
	svc_status_serve(data);
}

static void on_status_log(void *data)
{
	svc_status_log(data);
}

static int start_failed(struct svc_service *s, GError *err)
{
	svc_log(LOG_ERR, "%s", err->message);
	g_error_free(err);
	svc_service_finish(s);
	return 1;
}

int svc_service_init(struct svc_service *s, int argc, char **argv,
		     const struct svc_config_checks *checks)
{
	enum svc_config_result r;
	char *text = NULL;
	GError *err = NULL;

	memset(s, 0, sizeof(*s));
	r = svc_config_parse(argc, argv, checks, &s->cfg, &text);
	if (r != SVC_CONFIG_RUN)
		return svc_config_report(r, text, stdout, stderr);

	svc_log_init(s->cfg.role, s->cfg.log_level);
	s->loop = svc_loop_new(&err);
	if (!s->loop)
		return start_failed(s, err);

	s->status = svc_status_new(&s->cfg);
	if (s->cfg.status_socket) {
		g_autofree char *dir = g_path_get_dirname(s->cfg.status_socket);

		/* by hand, $XDG_RUNTIME_DIR/veracam/ROLE is ours to make (nothing else is) */
		if (s->cfg.status_dir_make && g_mkdir_with_parents(dir, 0700) < 0)
			return start_failed(s, g_error_new(SVC_ERROR, SVC_ERROR_SYSTEM,
							   "status socket directory %s: %s", dir,
							   g_strerror(errno)));
		if (svc_status_listen(s->status, s->cfg.status_socket, &err))
			return start_failed(s, err);
		if (svc_loop_add_fd(s->loop, svc_status_fd(s->status), EPOLLIN,
				    on_status, s->status))
			return start_failed(s, g_error_new_literal(SVC_ERROR, SVC_ERROR_SYSTEM,
								   "status socket: cannot watch it"));
	}
	s->status_log = svc_timer_new(s->loop, on_status_log, s->status);
	if (!s->status_log)
		return start_failed(s, g_error_new_literal(SVC_ERROR, SVC_ERROR_SYSTEM,
							   "status log timer: cannot create it"));
	svc_timer_arm(s->status_log, SVC_STATUS_LOG_INTERVAL_NS, SVC_STATUS_LOG_INTERVAL_NS);

	svc_notify_init(&s->notify);
	svc_config_log(&s->cfg);
	if (s->notify.watchdog_us)
		svc_log(LOG_INFO, "watchdog: %llu ms, fed while frames flow",
			(unsigned long long)s->notify.watchdog_us / 1000);
	return -1;
}

int svc_service_run(struct svc_service *s)
{
	int rc = svc_loop_run(s->loop);
	int sig = svc_loop_signal(s->loop);

	svc_notify_stopping(&s->notify);
	svc_status_set_ready(s->status, false);
	svc_log(LOG_INFO, "stopping (%s)", sig ? strsignal(sig) : "requested");
	return rc;
}

void svc_service_finish(struct svc_service *s)
{
	if (s->status)
		svc_status_log(s->status);
	svc_timer_free(s->status_log);
	if (s->loop && s->status && svc_status_fd(s->status) >= 0)
		svc_loop_remove_fd(s->loop, svc_status_fd(s->status));
	svc_status_free(s->status);
	svc_loop_free(s->loop);
	svc_config_clear(&s->cfg);
	memset(s, 0, sizeof(*s));
}
