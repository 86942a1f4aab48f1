// SPDX-License-Identifier: GPL-2.0
/* linelog.c - a worker thread's log lines for the loop thread (linelog.h). */
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "linelog.h"

void linelog_init(struct linelog *l, const char *what)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->lock, NULL);
	l->what = what;
}

void linelog_destroy(struct linelog *l)
{
	pthread_mutex_destroy(&l->lock);
}

void linelog_vadd(struct linelog *l, int prio, const char *fmt, va_list ap)
{
	pthread_mutex_lock(&l->lock);
	if (l->n < LINELOG_LINES) {
		vsnprintf(l->line[l->n], sizeof(l->line[0]), fmt, ap);
		l->prio[l->n++] = prio;
	} else {
		l->lost++;
	}
	pthread_mutex_unlock(&l->lock);
}

void linelog_drain(struct linelog *l, linelog_fn fn, void *data)
{
	char lines[LINELOG_LINES][LINELOG_LEN];
	int prio[LINELOG_LINES];
	unsigned int n, lost;

	pthread_mutex_lock(&l->lock);
	n = l->n;
	memcpy(lines, l->line, sizeof(lines[0]) * n);
	memcpy(prio, l->prio, sizeof(prio[0]) * n);
	lost = l->lost;
	l->n = l->lost = 0;
	pthread_mutex_unlock(&l->lock);
	for (unsigned int i = 0; i < n; i++)
		fn(data, prio[i], lines[i]);
	if (lost) {
		char m[128];

		snprintf(m, sizeof(m), "%s: %u log line(s) lost (the status has the counts)",
			 l->what, lost);
		fn(data, LOG_WARNING, m);
	}
}
