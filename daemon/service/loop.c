// SPDX-License-Identifier: GPL-2.0
/*
 * loop.c - the role's main loop: epoll over the role's fds, one timerfd
 * per timer and a signalfd for SIGTERM/SIGINT (stop) and SIGHUP (reload).
 *
 * Watches are freed only after the epoll batch that might still refer to
 * them has been dispatched, so any callback may remove any watch.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "service.h"

#define MAX_EVENTS	16

struct watch {
	int fd;
	svc_fd_fn fn;
	void *data;
	bool dead;
};

struct svc_timer {
	struct svc_loop *loop;
	int fd;
	svc_timer_fn fn;
	void *data;
};

struct svc_loop {
	int epfd;
	int sigfd;
	sigset_t old_mask;
	GPtrArray *watches;		/* struct watch *, live */
	GPtrArray *graveyard;		/* removed during dispatch */
	svc_reload_fn reload;
	void *reload_data;
	bool running;
	int status;
	int signal;
};

static void on_signal(void *data, uint32_t events);

struct svc_loop *svc_loop_new(GError **error)
{
	struct svc_loop *l = g_new0(struct svc_loop, 1);
	sigset_t mask;

	l->epfd = -1;
	l->sigfd = -1;
	l->watches = g_ptr_array_new_with_free_func(g_free);
	l->graveyard = g_ptr_array_new_with_free_func(g_free);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &mask, &l->old_mask)) {
		g_set_error_literal(error, SVC_ERROR, SVC_ERROR_SYSTEM, "cannot block signals");
		g_ptr_array_free(l->watches, TRUE);
		g_ptr_array_free(l->graveyard, TRUE);
		g_free(l);
		return NULL;
	}
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (l->epfd < 0 || l->sigfd < 0 ||
	    svc_loop_add_fd(l, l->sigfd, EPOLLIN, on_signal, l)) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM, "main loop: %s", g_strerror(errno));
		svc_loop_free(l);
		return NULL;
	}
	return l;
}

void svc_loop_free(struct svc_loop *l)
{
	if (!l)
		return;
	if (l->sigfd >= 0)
		close(l->sigfd);
	if (l->epfd >= 0)
		close(l->epfd);
	g_ptr_array_free(l->watches, TRUE);
	g_ptr_array_free(l->graveyard, TRUE);
	pthread_sigmask(SIG_SETMASK, &l->old_mask, NULL);
	g_free(l);
}

int svc_loop_add_fd(struct svc_loop *l, int fd, uint32_t events,
		    svc_fd_fn fn, void *data)
{
	struct watch *w = g_new0(struct watch, 1);
	struct epoll_event ev = { .events = events, .data.ptr = w };

	*w = (struct watch){ .fd = fd, .fn = fn, .data = data };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int e = errno;

		g_free(w);
		return -e;
	}
	g_ptr_array_add(l->watches, w);
	return 0;
}

int svc_loop_mod_fd(struct svc_loop *l, int fd, uint32_t events)
{
	for (guint i = 0; i < l->watches->len; i++) {
		struct watch *w = l->watches->pdata[i];
		struct epoll_event ev = { .events = events, .data.ptr = w };

		if (w->fd != fd)
			continue;
		return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
	}
	return -ENOENT;
}

void svc_loop_remove_fd(struct svc_loop *l, int fd)
{
	for (guint i = 0; i < l->watches->len; i++) {
		struct watch *w = l->watches->pdata[i];

		if (w->fd != fd)
			continue;
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
		w->dead = true;
		g_ptr_array_add(l->graveyard, g_ptr_array_steal_index(l->watches, i));
		return;
	}
}

static void on_timer(void *data, uint32_t events)
{
	struct svc_timer *t = data;
	uint64_t expirations;

	(void)events;
	if (read(t->fd, &expirations, sizeof(expirations)) == sizeof(expirations))
		t->fn(t->data);
}

struct svc_timer *svc_timer_new(struct svc_loop *l, svc_timer_fn fn, void *data)
{
	struct svc_timer *t = g_new0(struct svc_timer, 1);

	*t = (struct svc_timer){ .loop = l, .fn = fn, .data = data };
	t->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (t->fd < 0 || svc_loop_add_fd(l, t->fd, EPOLLIN, on_timer, t)) {
		if (t->fd >= 0)
			close(t->fd);
		g_free(t);
		return NULL;
	}
	return t;
}

static struct timespec ns_to_ts(uint64_t ns)
{
	return (struct timespec){ (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
}

void svc_timer_arm(struct svc_timer *t, uint64_t first_ns, uint64_t interval_ns)
{
	struct itimerspec its = {
		.it_value = ns_to_ts(first_ns),
		.it_interval = ns_to_ts(interval_ns),
	};

	/* 0 would disarm: "now" is the smallest delay that still fires */
	if (!first_ns && interval_ns)
		its.it_value.tv_nsec = 1;
	timerfd_settime(t->fd, 0, &its, NULL);
}

void svc_timer_arm_at(struct svc_timer *t, uint64_t at_ns)
{
	struct itimerspec its = { 0 };

	if (at_ns < (uint64_t)INT64_MAX)	/* else disarmed (all zero) */
		its.it_value = ns_to_ts(at_ns ? at_ns : 1);	/* 0 would disarm */
	timerfd_settime(t->fd, TFD_TIMER_ABSTIME, &its, NULL);
}

void svc_timer_free(struct svc_timer *t)
{
	if (!t)
		return;
	svc_loop_remove_fd(t->loop, t->fd);
	close(t->fd);
	g_free(t);
}

void svc_loop_on_reload(struct svc_loop *l, svc_reload_fn fn, void *data)
{
	l->reload = fn;
	l->reload_data = data;
}

static void on_signal(void *data, uint32_t events)
{
	struct svc_loop *l = data;
	struct signalfd_siginfo si;

	(void)events;
	while (read(l->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			svc_log(LOG_INFO, "SIGHUP: reloading");
			if (l->reload)
				l->reload(l->reload_data);
		} else {
			l->signal = (int)si.ssi_signo;
			svc_loop_quit(l, 0);
		}
	}
}

void svc_loop_quit(struct svc_loop *l, int status)
{
	l->running = false;
	l->status = status;
}

int svc_loop_signal(const struct svc_loop *l)
{
	return l->signal;
}

int svc_loop_run(struct svc_loop *l)
{
	struct epoll_event ev[MAX_EVENTS];

	l->running = true;
	l->status = 0;
	while (l->running) {
		int n = epoll_wait(l->epfd, ev, MAX_EVENTS, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			svc_log(LOG_ERR, "epoll_wait: %s", g_strerror(errno));
			return 1;
		}
		for (int i = 0; i < n && l->running; i++) {
			struct watch *w = ev[i].data.ptr;

			if (!w->dead)
				w->fn(w->data, ev[i].events);
		}
		g_ptr_array_set_size(l->graveyard, 0);
	}
	return l->status;
}
