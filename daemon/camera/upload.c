// SPDX-License-Identifier: GPL-2.0
/*
 * upload.c - the camera's event uploader (see upload.h): one thread that
 * PUTs the spool's events, oldest first, to an HTTP object store with
 * libcurl, and takes each out of the spool once the store holds all of it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <glib.h>

#include <veracam/common.h>

#include "camera.h"
#include "clock.h"
#include "linelog.h"
#include "upload.h"

#define RESCAN_NS	5000000000ull	/* look at the spool this often even when not kicked */
/*
 * A request may take the timeout plus its body at this rate, and is cut
 * when it moves less than UPL_LOW_SPEED bytes/s for the timeout: a store
 * that trickles a few bytes a second cannot hold the one upload thread.
 */
#define UPL_FLOOR_RATE	(64u << 10)
#define UPL_LOW_SPEED	1024L

struct cam_upload {
	char *base, *shown, *spool_dir, *camera_id;	/* shown: base without credentials */
	uint64_t backoff_max_ns, timeout_ns;
	int (*done)(void *data, const char *name);
	void *data;
	pthread_t thread;
	bool started;
	CURL *curl;
	GHashTable *given_up;		/* names, the thread's own */

	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t cond;
	bool stop, kicked;
	struct cam_upload_stats st;
	struct linelog log;		/* its own lock */
};

enum { UP_OK, UP_GONE, UP_RETRY, UP_GIVE_UP };

const char *upl_state_name(enum upl_state s)
{
	switch (s) {
	case UPL_SENDING: return "sending";
	case UPL_WAITING: return "waiting";
	default: return "idle";
	}
}

static void upl_log(struct cam_upload *u, int prio, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void upl_log(struct cam_upload *u, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	linelog_vadd(&u->log, prio, fmt, ap);
	va_end(ap);
}

void cam_upload_drain_log(struct cam_upload *u, upl_log_fn fn, void *data)
{
	linelog_drain(&u->log, fn, data);
}

static void set_error(struct cam_upload *u, const char *msg)
{
	pthread_mutex_lock(&u->lock);
	g_strlcpy(u->st.last_error, msg, sizeof(u->st.last_error));
	pthread_mutex_unlock(&u->lock);
}

static bool stopping(struct cam_upload *u)
{
	bool s;

	pthread_mutex_lock(&u->lock);
	s = u->stop;
	pthread_mutex_unlock(&u->lock);
	return s;
}

/* libcurl's progress callback: a stop cuts the transfer at once. */
static int on_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)dt; (void)dn; (void)ut; (void)un;
	return stopping(p) ? 1 : 0;
}

static size_t discard(char *p, size_t size, size_t n, void *data)
{
	(void)p; (void)data;
	return size * n;
}

/*
 * One request to url (shown as shown); the HTTP status, or -1 with why
 * filled (a transport failure). The whole request is bounded: the timeout
 * plus the body at UPL_FLOOR_RATE.
 */
static long request(struct cam_upload *u, const char *url, const char *shown, FILE *body,
		    uint64_t len, curl_off_t *length, char *why, size_t cap)
{
	CURL *c = u->curl;
	struct curl_slist *hdr = NULL;
	char err[CURL_ERROR_SIZE] = "";
	long secs = (long)(u->timeout_ns / 1000000000ull), status = 0;
	uint64_t total_ms;
	CURLcode rc;

	if (secs < 1)
		secs = 1;
	total_ms = (uint64_t)secs * 1000u + (body ? len * 1000u / UPL_FLOOR_RATE : 0);

	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, secs);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)total_ms);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, UPL_LOW_SPEED);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, secs);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, u);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	if (body) {
		hdr = curl_slist_append(hdr, "Expect:");
		hdr = curl_slist_append(hdr, "Content-Type: application/octet-stream");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_READDATA, body);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	} else {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	}
	rc = curl_easy_perform(c);
	curl_slist_free_all(hdr);
	if (rc != CURLE_OK) {
		snprintf(why, cap, "%s %s: %s", body ? "PUT" : "HEAD", shown,
			 err[0] ? err : curl_easy_strerror(rc));
		return -1;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (length && curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, length) != CURLE_OK)
		*length = -1;
	snprintf(why, cap, "%s %s: HTTP %ld", body ? "PUT" : "HEAD", shown, status);
	return status;
}

static bool transient(long status)
{
	return status < 0 || status == 408 || status == 429 || status >= 500;
}

/* One object of an event: already there with its length, or PUT. */
static int upload_object(struct cam_upload *u, const char *name, const char *ext, bool optional,
			 char *why, size_t cap)
{
	char *path = g_strdup_printf("%s/%s.%s", u->spool_dir, name, ext);
	char *url = g_strdup_printf("%s/%s/%s.%s", u->base, u->camera_id, name, ext);
	char *shown = g_strdup_printf("%s/%s/%s.%s", u->shown, u->camera_id, name, ext);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	curl_off_t have = -1;
	FILE *f = NULL;
	long status;
	int rc;

	if (fd < 0 || fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		/* no thumbnail is allowed; anything else was dropped meanwhile */
		rc = optional && fd < 0 && errno == ENOENT ? UP_OK : UP_GONE;
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		goto out;
	}
	status = request(u, url, shown, NULL, 0, &have, why, cap);
	if (status < 0) {
		rc = UP_RETRY;
		goto out;
	}
	if (status == 200 && have == (curl_off_t)sb.st_size) {
		pthread_mutex_lock(&u->lock);
		u->st.skipped++;
		pthread_mutex_unlock(&u->lock);
		rc = UP_OK;
		goto out;
	}
	f = fdopen(fd, "rb");
	if (!f) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		rc = UP_GONE;
		goto out;
	}
	fd = -1;
	status = request(u, url, shown, f, (uint64_t)sb.st_size, NULL, why, cap);
	if (status >= 200 && status < 300) {
		pthread_mutex_lock(&u->lock);
		u->st.objects++;
		u->st.bytes += (uint64_t)sb.st_size;
		pthread_mutex_unlock(&u->lock);
		rc = UP_OK;
	} else {
		rc = transient(status) ? UP_RETRY : UP_GIVE_UP;
	}
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	g_free(path);
	g_free(url);
	g_free(shown);
	return rc;
}

/* The objects first, the envelope last: an envelope in the store means a complete event. */
static int upload_event(struct cam_upload *u, const char *name, char *why, size_t cap)
{
	static const struct { const char *ext; bool optional; } obj[] = {
		{ "thumb", true }, { "clip", false }, { "env", false },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(obj); i++) {
		int rc = upload_object(u, name, obj[i].ext, obj[i].optional, why, cap);

		if (rc != UP_OK)
			return rc;
	}
	return UP_OK;
}

static bool spool_name(const char *n, size_t len)
{
	if (len != 20 + 1 + 32)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (i == 20 ? n[i] != '-' : i < 20 ? !g_ascii_isdigit(n[i]) :
		    !g_ascii_isxdigit(n[i]) || g_ascii_isupper(n[i]))
			return false;
	}
	return true;
}

static gint name_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The complete events waiting, oldest first (names; g_ptr_array of char *). */
static GPtrArray *scan(struct cam_upload *u)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	uint64_t bytes = 0;
	DIR *d = opendir(u->spool_dir);
	struct dirent *e;

	if (!d)
		return names;
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		char *name;
		struct stat sb;

		if (len < 5 || strcmp(e->d_name + len - 4, ".env") || !spool_name(e->d_name, len - 4))
			continue;
		name = g_strndup(e->d_name, len - 4);
		if (g_hash_table_contains(u->given_up, name)) {
			g_free(name);
			continue;
		}
		for (int i = 0; i < 3; i++) {
			static const char *const ext[] = { "env", "thumb", "clip" };
			char f[80];

			snprintf(f, sizeof(f), "%s.%s", name, ext[i]);
			if (!fstatat(dirfd(d), f, &sb, AT_SYMLINK_NOFOLLOW))
				bytes += (uint64_t)sb.st_size;
		}
		g_ptr_array_add(names, name);
	}
	closedir(d);
	g_ptr_array_sort(names, name_cmp);
	pthread_mutex_lock(&u->lock);
	u->st.queue_events = names->len;
	u->st.queue_bytes = bytes;
	pthread_mutex_unlock(&u->lock);
	return names;
}

static void set_state(struct cam_upload *u, enum upl_state s)
{
	pthread_mutex_lock(&u->lock);
	u->st.state = s;
	pthread_mutex_unlock(&u->lock);
}

/* Wait ns, or until a stop (or a kick, when kick_ends). */
static void wait_for(struct cam_upload *u, uint64_t ns, bool kick_ends)
{
	struct timespec until;

	until = clk_mono_after(ns);
	pthread_mutex_lock(&u->lock);
	while (!u->stop && !(kick_ends && u->kicked))
		if (pthread_cond_timedwait(&u->cond, &u->lock, &until) == ETIMEDOUT)
			break;
	if (kick_ends)
		u->kicked = false;
	pthread_mutex_unlock(&u->lock);
}

static void *upload_main(void *arg)
{
	struct cam_upload *u = arg;
	uint64_t backoff = UPL_BACKOFF_MIN_NS;
	bool failing = false;
	char why[400];

	while (!stopping(u)) {
		GPtrArray *names = scan(u);
		const char *name;
		int rc;

		if (!names->len) {
			g_ptr_array_unref(names);
			set_state(u, UPL_IDLE);
			wait_for(u, RESCAN_NS, true);
			continue;
		}
		name = g_ptr_array_index(names, 0);
		set_state(u, UPL_SENDING);
		rc = upload_event(u, name, why, sizeof(why));
		if (stopping(u)) {
			g_ptr_array_unref(names);
			break;
		}
		switch (rc) {
		case UP_OK:
			if (u->done(u->data, name) == 0) {
				pthread_mutex_lock(&u->lock);
				u->st.uploaded++;
				u->st.last_error[0] = 0;
				pthread_mutex_unlock(&u->lock);
				upl_log(u, LOG_INFO, "event %s stored", name);
			}
			if (failing)
				upl_log(u, LOG_NOTICE, "event store reachable again");
			failing = false;
			backoff = UPL_BACKOFF_MIN_NS;
			break;
		case UP_GONE:	/* dropped for the spool's bound while it was sent */
			break;
		case UP_GIVE_UP:
			g_hash_table_add(u->given_up, g_strdup(name));
			set_error(u, why);
			pthread_mutex_lock(&u->lock);
			u->st.failed++;
			pthread_mutex_unlock(&u->lock);
			upl_log(u, LOG_ERR, "event %s not uploaded: %s (it stays in the spool until a "
				"restart tries again or the bound drops it)", name, why);
			break;
		default:
			set_error(u, why);
			pthread_mutex_lock(&u->lock);
			u->st.retries++;
			u->st.state = UPL_WAITING;
			pthread_mutex_unlock(&u->lock);
			if (!failing)
				upl_log(u, LOG_WARNING, "event store: %s; retrying (backoff up to "
					"%" PRIu64 " ms)", why, u->backoff_max_ns / 1000000);
			failing = true;
			wait_for(u, backoff, false);
			backoff = backoff * 2 > u->backoff_max_ns ? u->backoff_max_ns : backoff * 2;
			break;
		}
		g_ptr_array_unref(names);
	}
	return NULL;
}

struct cam_upload *cam_upload_new(const struct cam_upload_config *cfg, GError **error)
{
	struct cam_upload *u;
	pthread_condattr_t ca;
	size_t n = strlen(cfg->base_url);
	char shown[512];

	vc_url_redact(cfg->base_url, shown, sizeof(shown));
	if (strncmp(cfg->base_url, "http://", 7) && strncmp(cfg->base_url, "https://", 8)) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_FAILED,
			    "event store %s: not an http:// or https:// URL", shown);
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		g_set_error_literal(error, CAM_ERROR, CAM_ERROR_FAILED,
				    "libcurl: initialisation failed");
		return NULL;
	}
	u = g_new0(struct cam_upload, 1);
	while (n && cfg->base_url[n - 1] == '/')
		n--;
	u->base = g_strndup(cfg->base_url, n);
	u->shown = g_strdup(vc_url_redact(u->base, shown, sizeof(shown)));
	u->spool_dir = g_strdup(cfg->spool_dir);
	u->camera_id = g_strdup(cfg->camera_id);
	u->backoff_max_ns = cfg->backoff_max_ns ? cfg->backoff_max_ns : UPL_BACKOFF_MAX_NS;
	if (u->backoff_max_ns < UPL_BACKOFF_MIN_NS)
		u->backoff_max_ns = UPL_BACKOFF_MIN_NS;
	u->timeout_ns = cfg->timeout_ns ? cfg->timeout_ns : UPL_TIMEOUT_NS;
	u->done = cfg->done;
	u->data = cfg->data;
	u->given_up = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	u->curl = curl_easy_init();
	pthread_mutex_init(&u->lock, NULL);
	linelog_init(&u->log, "event store");
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&u->cond, &ca);
	pthread_condattr_destroy(&ca);
	if (!u->curl || pthread_create(&u->thread, NULL, upload_main, u)) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_FAILED, "event store: %s",
			    u->curl ? "thread" : "libcurl handle");
		cam_upload_free(u);
		return NULL;
	}
	u->started = true;
	pthread_setname_np(u->thread, "vc-upload");
	return u;
}

void cam_upload_kick(struct cam_upload *u)
{
	pthread_mutex_lock(&u->lock);
	u->kicked = true;
	pthread_cond_signal(&u->cond);
	pthread_mutex_unlock(&u->lock);
}

void cam_upload_get_stats(struct cam_upload *u, struct cam_upload_stats *st)
{
	pthread_mutex_lock(&u->lock);
	*st = u->st;
	pthread_mutex_unlock(&u->lock);
}

void cam_upload_free(struct cam_upload *u)
{
	if (!u)
		return;
	if (u->started) {
		pthread_mutex_lock(&u->lock);
		u->stop = true;
		pthread_cond_signal(&u->cond);
		pthread_mutex_unlock(&u->lock);
		pthread_join(u->thread, NULL);
	}
	if (u->curl)
		curl_easy_cleanup(u->curl);
	g_hash_table_destroy(u->given_up);
	pthread_mutex_destroy(&u->lock);
	linelog_destroy(&u->log);
	pthread_cond_destroy(&u->cond);
	g_free(u->base);
	g_free(u->shown);
	g_free(u->spool_dir);
	g_free(u->camera_id);
	g_free(u);
	curl_global_cleanup();
}
