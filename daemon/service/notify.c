// SPDX-License-Identifier: GPL-2.0
/*
 * notify.c - the service manager's view of veracamd (Type=notify):
 * READY=1 once the role works (camera: first frame signed; hub: display
 * up), RELOADING=1 around SIGHUP, STOPPING=1, STATUS= lines, and the
 * watchdog.
 *
 * The watchdog is fed from svc_notify_progress() only, never from a timer:
 * a daemon whose frames stopped flowing stops pinging even though its
 * loop still runs, and systemd restarts it.
 */
#include <stdarg.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "service.h"

void svc_notify_init(struct svc_notify *n)
{
	uint64_t usec = 0;

	*n = (struct svc_notify){ 0 };
	if (sd_watchdog_enabled(0, &usec) > 0)
		n->watchdog_us = usec;
}

static void send_state(const char *state)
{
	/* Without NOTIFY_SOCKET, sd_notify() does nothing and returns 0. */
	if (sd_notify(0, state) < 0)
		svc_log(LOG_DEBUG, "sd_notify failed");
}

static char *status_line(const char *text)
{
	char *s = g_strdup_printf("STATUS=%s", text);

	g_strdelimit(s, "\r\n", ' ');
	return s;
}

void svc_notify_ready(struct svc_notify *n, const char *status)
{
	char *st = status_line(status);
	char *msg = g_strdup_printf("READY=1\n%s", st);

	send_state(msg);
	n->ready = true;
	g_free(msg);
	g_free(st);
}

void svc_notify_reloading(struct svc_notify *n)
{
	n->ready = false;
	send_state("RELOADING=1\nSTATUS=reloading pairings");
}

void svc_notify_stopping(struct svc_notify *n)
{
	n->ready = false;
	send_state("STOPPING=1\nSTATUS=stopping");
}

void svc_notify_status(struct svc_notify *n, const char *fmt, ...)
{
	va_list ap;
	char *text, *st;

	(void)n;
	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	st = status_line(text);
	send_state(st);
	g_free(st);
	g_free(text);
}

bool svc_notify_progress(struct svc_notify *n, uint64_t now_us)
{
	if (!n->watchdog_us)
		return false;
	if (n->pinged && now_us - n->last_ping_us < n->watchdog_us / 2)
		return false;
	send_state("WATCHDOG=1");
	n->pinged = true;
	n->last_ping_us = now_us;
	n->pings++;
	return true;
}
