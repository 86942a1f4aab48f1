// SPDX-License-Identifier: GPL-2.0
/*
 * storefetch.c - GET from the event store (or a cache in front of it) with
 * libcurl: bounded answers, connect and stall timeouts, the cache's
 * X-Cache-Status kept for the caller (store.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include <veracam/common.h>

#include "clock.h"
#include "store.h"

struct store_fetch {
	CURL *curl;
	char *base, *shown;		/* shown: base without credentials */
	long timeout_s;
	uint64_t deadline_ms;		/* CLOCK_MONOTONIC; 0: none */
};

struct answer {
	uint8_t *data;
	size_t len, max;
	bool too_long, too_slow;
	char cache[16];
	uint64_t start_ms, limit_ms;	/* limit_ms: the request's bound so far */
	const struct store_fetch *f;
};

static uint64_t mono_ms(void)
{
	return clk_mono_ns() / 1000000u;
}

struct store_fetch *store_fetch_new(const char *base, long timeout_s, GError **error)
{
	struct store_fetch *f;
	size_t n = strlen(base);

	if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)) {
		char shown[512];

		g_set_error(error, STORE_ERROR, STORE_ERROR_URL,
			    "store %s: not an http:// or https:// URL",
			    vc_url_redact(base, shown, sizeof(shown)));
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		g_set_error_literal(error, STORE_ERROR, STORE_ERROR_FAILED,
				    "libcurl: initialisation failed");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	while (n && base[n - 1] == '/')
		n--;
	if (f)
		f->base = strndup(base, n);
	if (f && f->base) {
		size_t cap_shown = n + 4;

		f->shown = malloc(cap_shown);
		if (f->shown)
			vc_url_redact(f->base, f->shown, cap_shown);
	}
	if (f && f->shown)
		f->curl = curl_easy_init();
	if (!f || !f->curl) {
		g_set_error_literal(error, STORE_ERROR, STORE_ERROR_FAILED, "libcurl: out of memory");
		store_fetch_free(f);
		return NULL;
	}
	f->timeout_s = timeout_s > 0 ? timeout_s : 10;
	return f;
}

void store_fetch_free(struct store_fetch *f)
{
	if (!f)
		return;
	if (f->curl)
		curl_easy_cleanup(f->curl);
	free(f->base);
	free(f->shown);
	free(f);
	curl_global_cleanup();
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *data)
{
	struct answer *a = data;
	size_t n = size * nmemb;
	uint8_t *d;

	if (n > a->max - a->len) {
		a->too_long = true;
		return 0;	/* ends the transfer */
	}
	d = realloc(a->data, a->len + n + 1);
	if (!d)
		return 0;
	memcpy(d + a->len, p, n);
	a->data = d;
	a->len += n;
	return n;
}

void store_fetch_set_deadline(struct store_fetch *f, uint64_t deadline_ms)
{
	f->deadline_ms = deadline_ms;
}

uint64_t store_fetch_now_ms(void)
{
	return mono_ms();
}

/*
 * libcurl's progress callback: the request's bound grows with the answer's
 * announced (or received) length at STORE_FLOOR_RATE, never past the
 * overall deadline; beyond it the transfer ends.
 */
static int on_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct answer *a = p;
	uint64_t size = (uint64_t)(dt > dn ? dt : dn), now = mono_ms();
	uint64_t limit = a->start_ms + (uint64_t)a->f->timeout_s * 1000u +
			 (size > a->max ? a->max : size) * 1000u / STORE_FLOOR_RATE;

	(void)ut; (void)un;
	if (a->f->deadline_ms && limit > a->f->deadline_ms)
		limit = a->f->deadline_ms;
	if (now > limit) {
		a->too_slow = true;
		return 1;
	}
	return 0;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *data)
{
	struct answer *a = data;
	size_t n = size * nmemb;
	static const char name[] = "X-Cache-Status:";

	if (n > sizeof(name) - 1 && !strncasecmp(p, name, sizeof(name) - 1)) {
		size_t i = sizeof(name) - 1, k = 0;

		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		while (i < n && k < sizeof(a->cache) - 1 && p[i] >= '!' && p[i] <= '~')
			a->cache[k++] = p[i++];
		a->cache[k] = 0;
	}
	return n;
}

long store_fetch_get(struct store_fetch *f, const char *path, size_t max, uint8_t **body,
		     size_t *len, char cache[16], GError **error)
{
	struct answer a = { .max = max, .start_ms = mono_ms(), .f = f };
	char err[CURL_ERROR_SIZE] = "", *url;
	long status = 0;
	CURLcode rc;
	size_t ulen = strlen(f->base) + 1 + strlen(path) + 1;
	/* the most this request may take: the timeout and max bytes at the floor rate */
	uint64_t total_ms = (uint64_t)f->timeout_s * 1000u + (uint64_t)max * 1000u / STORE_FLOOR_RATE;

	*body = NULL;
	*len = 0;
	cache[0] = 0;
	if (f->deadline_ms) {
		if (a.start_ms >= f->deadline_ms) {
			g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED,
				    "GET %s/%s: the deadline passed", f->shown, path);
			return -1;
		}
		if (total_ms > f->deadline_ms - a.start_ms)
			total_ms = f->deadline_ms - a.start_ms;
	}
	url = malloc(ulen);
	if (!url) {
		g_set_error_literal(error, STORE_ERROR, STORE_ERROR_FAILED, "out of memory");
		return -1;
	}
	snprintf(url, ulen, "%s/%s", f->base, path);
	curl_easy_reset(f->curl);
	curl_easy_setopt(f->curl, CURLOPT_URL, url);
	curl_easy_setopt(f->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT, f->timeout_s);
	curl_easy_setopt(f->curl, CURLOPT_TIMEOUT_MS, (long)total_ms);
	curl_easy_setopt(f->curl, CURLOPT_LOW_SPEED_LIMIT, STORE_LOW_SPEED);
	curl_easy_setopt(f->curl, CURLOPT_LOW_SPEED_TIME, f->timeout_s);
	curl_easy_setopt(f->curl, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(f->curl, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(f->curl, CURLOPT_XFERINFODATA, &a);
	curl_easy_setopt(f->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	curl_easy_setopt(f->curl, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(f->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(f->curl, CURLOPT_HEADERDATA, &a);
	rc = curl_easy_perform(f->curl);
	if (rc != CURLE_OK) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_FAILED, "GET %s/%s: %s", f->shown, path,
			    a.too_long || rc == CURLE_FILESIZE_EXCEEDED ? "answer too long" :
			    a.too_slow ? "too slow (time limit reached)" :
			    err[0] ? err : curl_easy_strerror(rc));
		free(a.data);
		free(url);
		return -1;
	}
	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
	memcpy(cache, a.cache, sizeof(a.cache));
	if (status != 200) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_HTTP, "GET %s/%s: HTTP %ld", f->shown,
			    path, status);
		free(a.data);
		free(url);
		return status;
	}
	free(url);
	*body = a.data ? a.data : calloc(1, 1);
	*len = a.len;
	return status;
}
