// SPDX-License-Identifier: GPL-2.0
/*
 * eventserve.c - the camera's answers to event requests from its spool
 * (eventserve.h, docs/PROTOCOL.md §5.7).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <veracam/evfetch.h>

#include "camera.h"
#include "eventserve.h"

/* events looked at per listing: a spool larger than this is listed in turns */
#define SCAN_MAX	65536

struct cam_eventserve {
	int dirfd;		/* the spool; -1: none */
	bool store;
};

struct cam_eventserve *cam_eventserve_new(const char *spool_dir, bool store)
{
	struct cam_eventserve *es = calloc(1, sizeof(*es));

	if (!es)
		return NULL;
	es->store = store;
	es->dirfd = spool_dir ? open(spool_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
			      : -1;
	return es;
}

void cam_eventserve_free(struct cam_eventserve *es)
{
	if (!es)
		return;
	if (es->dirfd >= 0)
		close(es->dirfd);
	free(es);
}

/* A regular file of the spool (never a link): its size, or -1. */
static int64_t spool_size(const struct cam_eventserve *es, const char *name)
{
	struct stat st;

	if (fstatat(es->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return -1;
	return st.st_size;
}

static int by_number(const void *a, const void *b)
{
	uint64_t x = ((const struct vc_evx_entry *)a)->number;
	uint64_t y = ((const struct vc_evx_entry *)b)->number;

	return x < y ? -1 : x > y;
}

/* The entry's objects (found in the spool, within what a hub accepts)? */
static bool entry_sizes(const struct cam_eventserve *es, struct vc_evx_entry *e)
{
	static const uint64_t max[4] = { 0, VC_ENVELOPE_MAX_LEN, VC_EVX_THUMB_MAX,
					 VC_EVX_CLIP_MAX };
	char name[64];

	for (unsigned int k = VC_EVX_ENV; k <= VC_EVX_CLIP; k++) {
		int64_t n;

		vc_evx_name(e->number, e->event_id, k, name);
		n = spool_size(es, name);
		if (n < 0 && k == VC_EVX_THUMB)
			n = 0;	/* an event without a thumbnail */
		if (n < 0 || (uint64_t)n > max[k] || (n == 0 && k != VC_EVX_THUMB))
			return false;
		e->size[k] = (uint32_t)n;
	}
	return true;
}

static int answer_list(struct cam_eventserve *es, struct vc_session *s, uint64_t from,
		       struct cam_eventserve_stats *st)
{
	uint8_t body[VC_EVX_LISTING_MAX_LEN];
	struct vc_evx_entry *all = NULL, out[VC_EVX_LIST_MAX];
	size_t n_all = 0, cap = 0, n = 0, i;
	DIR *d = NULL;
	struct dirent *de;
	int fd = es->dirfd >= 0 ? openat(es->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	int r;

	if (fd >= 0 && !(d = fdopendir(fd)))
		close(fd);
	while (d && (de = readdir(d)) && n_all < SCAN_MAX) {
		struct vc_evx_entry e = { 0 };
		unsigned int kind;

		if (!vc_evx_name_parse(de->d_name, &e.number, e.event_id, &kind) ||
		    kind != VC_EVX_ENV || e.number < from)
			continue;
		if (n_all == cap) {
			struct vc_evx_entry *p = realloc(all, (cap ? 2 * cap : 64) * sizeof(*all));

			if (!p)
				break;
			all = p;
			cap = cap ? 2 * cap : 64;
		}
		all[n_all++] = e;
	}
	if (d)
		closedir(d);
	if (n_all)
		qsort(all, n_all, sizeof(*all), by_number);
	for (i = 0; i < n_all && n < VC_EVX_LIST_MAX; i++) {
		/* two envelopes of one number cannot both be the chain's: list the first */
		if (n && all[i].number == out[n - 1].number)
			continue;
		if (entry_sizes(es, &all[i]))
			out[n++] = all[i];
	}
	r = vc_session_send(s, VC_CTL_EVENTS, body,
			    vc_evx_listing_encode(out, n, i < n_all, body));
	free(all);
	if (!r)
		st->lists++;
	return r;
}

static int answer_error(struct vc_session *s, enum vc_evx_error code)
{
	uint8_t body[VC_EVX_ERROR_LEN];

	return vc_session_send(s, VC_CTL_EVENT_ERROR, body, vc_evx_error_encode(code, body));
}

static int answer_get(struct cam_eventserve *es, struct vc_session *s, const struct vc_evx_get *g,
		      struct cam_eventserve_stats *st, GError **error)
{
	uint8_t body[VC_EVX_CHUNK_MAX_LEN], data[VC_EVX_CHUNK_MAX];
	struct vc_evx_chunk c = { .kind = g->kind, .number = g->number, .offset = g->offset,
				  .data = data };
	char name[64], env[64];
	struct stat sb;
	int fd = -1, r;
	size_t want;

	vc_evx_name(g->number, g->event_id, g->kind, name);
	vc_evx_name(g->number, g->event_id, VC_EVX_ENV, env);
	/* only complete events, only regular files of the spool itself */
	if (es->dirfd >= 0 && spool_size(es, env) > 0)
		fd = openat(es->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || sb.st_size <= 0 ||
	    (uint64_t)sb.st_size > VC_EVX_CLIP_MAX) {
		if (fd >= 0)
			close(fd);
		st->gone++;
		return answer_error(s, VC_EVX_ERR_GONE);
	}
	if (g->offset >= (uint64_t)sb.st_size) {
		close(fd);
		g_set_error(error, CAM_ERROR, CAM_ERROR_FAILED,
			    "asked for %s from byte %" PRIu32 ", past its end (%jd bytes)", name,
			    g->offset, (intmax_t)sb.st_size);
		return -1;
	}
	c.total = (uint32_t)sb.st_size;
	want = c.total - g->offset < g->max ? c.total - g->offset : g->max;
	while (c.len < want) {
		ssize_t got = pread(fd, data + c.len, want - c.len, (off_t)(g->offset + c.len));

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		c.len += (size_t)got;
	}
	close(fd);
	if (c.len < want) {	/* truncated under us: not the object listed */
		st->gone++;
		return answer_error(s, VC_EVX_ERR_GONE);
	}
	memcpy(c.event_id, g->event_id, VC_EVENT_ID_LEN);
	r = vc_session_send(s, VC_CTL_EVENT_CHUNK, body, vc_evx_chunk_encode(&c, body));
	if (!r) {
		st->chunks++;
		st->bytes += c.len;
		if (g->offset + c.len == c.total)
			st->objects++;
	}
	if (r < 0)
		g_set_error_literal(error, CAM_ERROR, CAM_ERROR_FAILED, "control channel failed");
	return r;
}

int cam_eventserve_answer(struct cam_eventserve *es, struct vc_session *s,
			  const struct vc_ctl *m, struct cam_eventserve_stats *st,
			  GError **error)
{
	struct vc_evx_get g;
	uint64_t from;
	int r;

	if (es->store) {
		st->store++;
		r = answer_error(s, VC_EVX_ERR_STORE);
	} else if (m->type == VC_CTL_EVENTS_LIST && vc_evx_list_parse(m->body, m->len, &from) == 0) {
		r = answer_list(es, s, from, st);
	} else if (m->type == VC_CTL_EVENT_GET && vc_evx_get_parse(m->body, m->len, &g) == 0) {
		return answer_get(es, s, &g, st, error);
	} else {
		g_set_error_literal(error, CAM_ERROR, CAM_ERROR_FAILED, "not an event request");
		return -1;
	}
	if (r < 0)
		g_set_error_literal(error, CAM_ERROR, CAM_ERROR_FAILED, "control channel failed");
	return r;
}
