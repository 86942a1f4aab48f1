// SPDX-License-Identifier: GPL-2.0
/*
 * The main loop: fd callbacks (including one removing itself), periodic
 * and one-shot timers, SIGHUP -> reload hook, SIGTERM -> clean return with
 * status 0, and svc_loop_quit().
 */
#include <signal.h>
#include <unistd.h>

#include "service.h"

struct state {
	struct svc_loop *loop;
	int pipe[2];
	unsigned int reads, ticks, reloads, oneshots;
	struct svc_timer *tick, *once;
};

static void on_readable(void *data, uint32_t events)
{
	struct state *s = data;
	char c;

	g_assert_true(events & EPOLLIN);
	g_assert_cmpint(read(s->pipe[0], &c, 1), ==, 1);
	s->reads++;
	/* removing the watch from its own callback is safe */
	svc_loop_remove_fd(s->loop, s->pipe[0]);
}

static void on_once(void *data)
{
	struct state *s = data;

	s->oneshots++;
}

static void on_tick(void *data)
{
	struct state *s = data;

	s->ticks++;
	if (s->ticks == 3) {
		g_assert_cmpint(write(s->pipe[1], "x", 1), ==, 1);
		g_assert_cmpint(write(s->pipe[1], "y", 1), ==, 1);
	}
	if (s->ticks == 5)
		raise(SIGHUP);		/* blocked: delivered through the signalfd */
	if (s->ticks == 8)
		raise(SIGTERM);
}

static void on_reload(void *data)
{
	struct state *s = data;

	s->reloads++;
}

static void test_run(void)
{
	struct state s = { 0 };
	GError *err = NULL;

	s.loop = svc_loop_new(&err);
	g_assert_no_error(err);
	g_assert_nonnull(s.loop);
	g_assert_cmpint(pipe(s.pipe), ==, 0);
	g_assert_cmpint(svc_loop_add_fd(s.loop, s.pipe[0], EPOLLIN, on_readable, &s), ==, 0);
	/* one watch per fd */
	g_assert_cmpint(svc_loop_add_fd(s.loop, s.pipe[0], EPOLLIN, on_readable, &s), <, 0);
	svc_loop_on_reload(s.loop, on_reload, &s);

	s.tick = svc_timer_new(s.loop, on_tick, &s);
	s.once = svc_timer_new(s.loop, on_once, &s);
	g_assert_nonnull(s.tick);
	svc_timer_arm(s.tick, 0, 5000000);		/* now, then every 5 ms */
	svc_timer_arm(s.once, 12000000, 0);		/* once, after 12 ms */

	g_assert_cmpint(svc_loop_run(s.loop), ==, 0);
	g_assert_cmpint(svc_loop_signal(s.loop), ==, SIGTERM);
	g_assert_cmpuint(s.ticks, ==, 8);
	g_assert_cmpuint(s.reloads, ==, 1);
	g_assert_cmpuint(s.oneshots, ==, 1);
	g_assert_cmpuint(s.reads, ==, 1);		/* removed after the first byte */

	svc_timer_free(s.tick);
	svc_timer_free(s.once);
	close(s.pipe[0]);
	close(s.pipe[1]);
	svc_loop_free(s.loop);
}

static void quit_now(void *data)
{
	svc_loop_quit(data, 3);
}

static void test_quit(void)
{
	GError *err = NULL;
	struct svc_loop *l = svc_loop_new(&err);
	struct svc_timer *t;
	sigset_t mask;

	g_assert_no_error(err);
	t = svc_timer_new(l, quit_now, l);

	svc_timer_arm(t, 1000000, 0);
	g_assert_cmpint(svc_loop_run(l), ==, 3);
	g_assert_cmpint(svc_loop_signal(l), ==, 0);
	svc_timer_free(t);
	svc_loop_free(l);

	/* the signal mask is restored */
	pthread_sigmask(SIG_BLOCK, NULL, &mask);
	g_assert_false(sigismember(&mask, SIGTERM));
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/loop/run", test_run);
	g_test_add_func("/loop/quit", test_quit);
	return g_test_run();
}
