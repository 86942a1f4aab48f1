/* SPDX-License-Identifier: GPL-2.0 */
/*
 * linelog.h - log lines from a worker thread (the recorder's, the
 * uploader's) handed to the loop thread, which writes them to the journal:
 * one log path. A bounded buffer under its own lock; lines beyond it are
 * counted and reported as one line when drained.
 */
#ifndef VERACAM_CAMERA_LINELOG_H
#define VERACAM_CAMERA_LINELOG_H

#include <pthread.h>
#include <stdarg.h>

#define LINELOG_LINES	16
#define LINELOG_LEN	256

struct linelog {
	pthread_mutex_t lock;
	char line[LINELOG_LINES][LINELOG_LEN];
	int prio[LINELOG_LINES];
	unsigned int n, lost;
	const char *what;		/* names the source in the "lost" line */
};

typedef void (*linelog_fn)(void *data, int priority, const char *msg);

void linelog_init(struct linelog *l, const char *what);
void linelog_destroy(struct linelog *l);
/* Any thread: one line (priority LOG_*). */
void linelog_vadd(struct linelog *l, int prio, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
/* The lines since the last call to fn, on the caller's thread. */
void linelog_drain(struct linelog *l, linelog_fn fn, void *data);

#endif /* VERACAM_CAMERA_LINELOG_H */
