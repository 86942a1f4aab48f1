// SPDX-License-Identifier: GPL-2.0
/*
 * The thread hand-off (handoff.c): a job runs on its named thread and its
 * done callback on the loop thread, after everything it wrote; a joined
 * job never reports; a mailbox gives the loop the newest item, counts the
 * ones it replaced, and releases every item exactly once, taken or not.
 * The TSan build runs this too: a missing happens-before edge is a report.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "service.h"

struct job_state {
	struct svc_loop *loop;
	struct svc_job *job;
	pthread_t loop_thread;
	char name[16];
	uint64_t result;		/* plain: ordered by the join */
	bool ran_on_loop, done, done_on_loop;
	int gate[2];			/* run() waits for a byte (or EOF) */
};

static void job_run(void *data)
{
	struct job_state *s = data;
	char c;

	pthread_getname_np(pthread_self(), s->name, sizeof(s->name));
	s->ran_on_loop = pthread_equal(pthread_self(), s->loop_thread);
	if (s->gate[0] >= 0)
		(void)!read(s->gate[0], &c, 1);
	for (uint64_t i = 1; i <= 1000; i++)
		s->result += i;
}

static void job_done(void *data)
{
	struct job_state *s = data;

	s->done = true;
	s->done_on_loop = pthread_equal(pthread_self(), s->loop_thread);
	s->job = NULL;
	svc_loop_quit(s->loop, 0);
}

static void test_job_reports_on_the_loop(void)
{
	struct job_state s = { .gate = { -1, -1 } };
	GError *err = NULL;

	s.loop = svc_loop_new(&err);
	g_assert_no_error(err);
	g_assert_nonnull(s.loop);
	s.loop_thread = pthread_self();
	s.job = svc_job_start(s.loop, "vc-test-job", job_run, job_done, &s);
	g_assert_nonnull(s.job);
	g_assert_cmpint(svc_loop_run(s.loop), ==, 0);
	g_assert_true(s.done);
	g_assert_null(s.job);
	g_assert_cmpstr(s.name, ==, "vc-test-job");
	g_assert_false(s.ran_on_loop);
	g_assert_true(s.done_on_loop);
	g_assert_cmpuint(s.result, ==, 500500);
	svc_loop_free(s.loop);
}

/* Teardown joins a job that is still running: it finishes, done is not called. */
static void test_job_join_without_done(void)
{
	struct job_state s;
	GError *err = NULL;

	memset(&s, 0, sizeof(s));
	g_assert_cmpint(pipe(s.gate), ==, 0);
	s.loop = svc_loop_new(&err);
	g_assert_no_error(err);
	g_assert_nonnull(s.loop);
	s.loop_thread = pthread_self();
	s.job = svc_job_start(s.loop, "vc-test-join", job_run, job_done, &s);
	g_assert_nonnull(s.job);
	close(s.gate[1]);		/* run() reads EOF and returns */
	svc_job_join(s.job);
	g_assert_false(s.done);
	g_assert_cmpuint(s.result, ==, 500500);
	close(s.gate[0]);
	svc_loop_free(s.loop);
}

#define POSTS	2000

struct item {
	uint64_t seq;
	uint64_t *owned;		/* g_malloc'd, holds seq: cleared or taken */
};

struct mail_state {
	struct svc_loop *loop;
	struct svc_mailbox *box;
	uint64_t taken, last, out_of_order;
	atomic_uint_fast64_t cleared;
};

static struct mail_state *clear_state;

static void item_clear(void *p)
{
	struct item *it = p;

	g_assert_cmpuint(*it->owned, ==, it->seq);
	g_free(it->owned);
	it->owned = NULL;
	atomic_fetch_add(&clear_state->cleared, 1);
}

static void on_mail(void *data)
{
	struct mail_state *s = data;
	struct item it;

	while (svc_mailbox_take(s->box, &it)) {
		g_assert_cmpuint(*it.owned, ==, it.seq);
		if (it.seq <= s->last)
			s->out_of_order++;
		s->last = it.seq;
		s->taken++;
		g_free(it.owned);
	}
	if (s->last == POSTS)
		svc_loop_quit(s->loop, 0);
}

static void producer(void *data)
{
	struct mail_state *s = data;

	for (uint64_t i = 1; i <= POSTS; i++) {
		struct item it = { .seq = i, .owned = g_new(uint64_t, 1) };

		*it.owned = i;
		svc_mailbox_post(s->box, &it);
		if (i % 64 == 0)
			usleep(100);	/* let the loop take some */
	}
}

/* A loop and a mailbox of struct item on it. */
static void mail_setup(struct mail_state *s)
{
	GError *err = NULL;

	clear_state = s;
	s->loop = svc_loop_new(&err);
	g_assert_no_error(err);
	g_assert_nonnull(s->loop);
	s->box = svc_mailbox_new(s->loop, sizeof(struct item), item_clear, on_mail, s);
	g_assert_nonnull(s->box);
}

static void test_mailbox_newest_wins(void)
{
	struct mail_state s = { 0 };
	struct svc_job *job;

	mail_setup(&s);
	job = svc_job_start(s.loop, "vc-test-post", producer, NULL, &s);
	g_assert_nonnull(job);
	g_assert_cmpint(svc_loop_run(s.loop), ==, 0);
	svc_job_join(job);	/* returned already: its last post was taken */
	g_assert_cmpuint(s.last, ==, POSTS);
	g_assert_cmpuint(s.out_of_order, ==, 0);
	g_assert_cmpuint(s.taken + svc_mailbox_replaced(s.box), ==, POSTS);
	g_assert_cmpuint(atomic_load(&s.cleared), ==, svc_mailbox_replaced(s.box));
	g_test_message("%" PRIu64 " taken, %" PRIu64 " replaced", s.taken,
		       svc_mailbox_replaced(s.box));
	svc_mailbox_free(s.box);
	svc_loop_free(s.loop);
}

/* An item nobody took is released with the box. */
static void test_mailbox_free_clears(void)
{
	struct mail_state s = { 0 };
	struct item it = { .seq = 7, .owned = g_new(uint64_t, 1) };

	mail_setup(&s);
	*it.owned = 7;
	svc_mailbox_post(s.box, &it);
	svc_mailbox_free(s.box);
	g_assert_cmpuint(atomic_load(&s.cleared), ==, 1);
	svc_loop_free(s.loop);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/handoff/job-reports-on-the-loop", test_job_reports_on_the_loop);
	g_test_add_func("/handoff/job-join-without-done", test_job_join_without_done);
	g_test_add_func("/handoff/mailbox-newest-wins", test_mailbox_newest_wins);
	g_test_add_func("/handoff/mailbox-free-clears", test_mailbox_free_clears);
	return g_test_run();
}
