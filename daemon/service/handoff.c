// SPDX-License-Identifier: GPL-2.0
/*
 * handoff.c - the one way work crosses between a role's loop thread and
 * the threads it starts (service.h): a job runs on a named thread of its
 * own and reports to the loop when it returns; a mailbox carries the
 * newest item from a producer thread to the loop, replacing (and counting)
 * one the loop had not taken yet.
 *
 * Both wake the loop through an eventfd watched on it. Locks are pthread
 * mutexes (ThreadSanitizer sees them); pthread_join() orders everything a
 * job did before its done callback.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "service.h"

struct svc_job {
	struct svc_loop *loop;
	pthread_t thread;
	int efd;			/* written once, when run() returned */
	char name[16];			/* the kernel's limit, with the NUL */
	svc_job_fn run;
	svc_job_fn done;
	void *data;
};

struct svc_mailbox {
	struct svc_loop *loop;
	int efd;			/* written by every post */
	svc_mailbox_fn fn;
	void (*clear)(void *item);
	void *data;
	size_t size;
	pthread_mutex_t lock;		/* full, item, posted, replaced */
	bool full;
	uint64_t posted, replaced;
	unsigned char item[];
};

/* ------------------------------------------------------------------ */
/* Jobs                                                                 */
/* ------------------------------------------------------------------ */

static void *job_main(void *arg)
{
	struct svc_job *j = arg;

	pthread_setname_np(pthread_self(), j->name);
	j->run(j->data);
	eventfd_write(j->efd, 1);
	return NULL;
}

/* Joined, unwatched, freed: the job's thread and fd are gone. */
static void job_reap(struct svc_job *j)
{
	pthread_join(j->thread, NULL);
	svc_loop_remove_fd(j->loop, j->efd);
	close(j->efd);
	g_free(j);
}

static void on_job_done(void *arg, uint32_t events)
{
	struct svc_job *j = arg;
	svc_job_fn done = j->done;
	void *data = j->data;

	(void)events;
	job_reap(j);
	if (done)
		done(data);
}

struct svc_job *svc_job_start(struct svc_loop *l, const char *name, svc_job_fn run,
			      svc_job_fn done, void *data)
{
	struct svc_job *j = g_new0(struct svc_job, 1);
	int err;

	*j = (struct svc_job){ .loop = l, .run = run, .done = done, .data = data };
	g_strlcpy(j->name, name, sizeof(j->name));
	j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (j->efd < 0)
		goto fail;
	if (svc_loop_add_fd(l, j->efd, EPOLLIN, on_job_done, j) < 0)
		goto fail_fd;
	err = pthread_create(&j->thread, NULL, job_main, j);
	if (err) {
		svc_loop_remove_fd(l, j->efd);
		errno = err;
		goto fail_fd;
	}
	return j;
fail_fd:
	err = errno;
	close(j->efd);
	errno = err;
fail:
	g_free(j);
	return NULL;
}

void svc_job_join(struct svc_job *j)
{
	if (j)
		job_reap(j);
}

/* ------------------------------------------------------------------ */
/* Mailboxes                                                            */
/* ------------------------------------------------------------------ */

static void on_mail(void *arg, uint32_t events)
{
	struct svc_mailbox *m = arg;
	eventfd_t n;

	(void)events;
	eventfd_read(m->efd, &n);
	m->fn(m->data);
}

struct svc_mailbox *svc_mailbox_new(struct svc_loop *l, size_t size,
				    void (*clear)(void *item),
				    svc_mailbox_fn fn, void *data)
{
	struct svc_mailbox *m = g_malloc0(sizeof(*m) + size);

	m->loop = l;
	m->size = size;
	m->clear = clear;
	m->fn = fn;
	m->data = data;
	pthread_mutex_init(&m->lock, NULL);
	m->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (m->efd < 0 || svc_loop_add_fd(l, m->efd, EPOLLIN, on_mail, m) < 0) {
		int err = errno;

		if (m->efd >= 0)
			close(m->efd);
		pthread_mutex_destroy(&m->lock);
		g_free(m);
		errno = err;
		return NULL;
	}
	return m;
}

void svc_mailbox_post(struct svc_mailbox *m, const void *item)
{
	pthread_mutex_lock(&m->lock);
	if (m->full) {
		if (m->clear)
			m->clear(m->item);
		m->replaced++;
	}
	memcpy(m->item, item, m->size);
	m->full = true;
	m->posted++;
	pthread_mutex_unlock(&m->lock);
	eventfd_write(m->efd, 1);
}

bool svc_mailbox_take(struct svc_mailbox *m, void *item)
{
	bool full;

	pthread_mutex_lock(&m->lock);
	full = m->full;
	if (full) {
		memcpy(item, m->item, m->size);
		memset(m->item, 0, m->size);
		m->full = false;
	}
	pthread_mutex_unlock(&m->lock);
	return full;
}

uint64_t svc_mailbox_replaced(struct svc_mailbox *m)
{
	uint64_t n;

	pthread_mutex_lock(&m->lock);
	n = m->replaced;
	pthread_mutex_unlock(&m->lock);
	return n;
}

void svc_mailbox_free(struct svc_mailbox *m)
{
	if (!m)
		return;
	svc_loop_remove_fd(m->loop, m->efd);
	close(m->efd);
	if (m->full && m->clear)
		m->clear(m->item);
	pthread_mutex_destroy(&m->lock);
	g_free(m);
}
