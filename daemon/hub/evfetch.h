/* SPDX-License-Identifier: GPL-2.0 */
/*
 * evfetch - the hub's event fetcher: on its own thread (the loop never
 * waits for a store), every poll interval, each paired camera's newest
 * events from the event store (through its cache) into the hub's event
 * cache (events.h), with veracamctl events list --fetch's code and bounds:
 * each envelope opened with the hub's keys against the pinned camera,
 * each object opened with the event's content key before it is written.
 */
#ifndef VERACAM_HUB_EVFETCH_H
#define VERACAM_HUB_EVFETCH_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include <veracam/event.h>

#define EVFETCH_NEWEST		8		/* events looked at per camera and round */
#define EVFETCH_INTERVAL_NS	10000000000ull	/* between rounds */
#define EVFETCH_TIMEOUT_S	10		/* per request, as veracamctl's --timeout */
#define EVFETCH_ROUND_S		120		/* a whole round's deadline */

struct evfetch;
struct svc_loop;
struct svc_mailbox;

struct evfetch_config {
	struct svc_loop *loop;		/* the thread is a job of this loop's */
	const char *store;		/* the store's (cache's) URL */
	const char *keys;		/* the hub's key directory */
	unsigned int n_cameras;
	const char *names[8];		/* the cameras' pin names */
	/* gets a struct evfetch_stats at every change of them (newest wins) */
	struct svc_mailbox *report;
};

/* What the fetcher did, all counts since it started. */
struct evfetch_stats {
	uint64_t rounds, fetched, errors, dropped;
	uint64_t cache_changes;		/* rounds that cached, noted or dropped events */
	uint64_t rejected[VC_EV__COUNT];
	char last_error[160];
};

/* The fetcher's thread started, or NULL with error set (HUB_ERROR_FAILED). */
struct evfetch *evfetch_start(const struct evfetch_config *cfg, GError **error);
/* The next round now (after events were triggered, or a command). */
void evfetch_poke(struct evfetch *f);
/* Stops the thread (a request in flight ends within its timeout) and frees. */
void evfetch_stop(struct evfetch *f);

#endif
