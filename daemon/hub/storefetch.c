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

#include <curl/curl.h>

#include "store.h"

struct store_fetch {
	CURL *curl;
	char *base;
	long timeout_s;
};

struct answer {
	uint8_t *data;
	size_t len, max;
	bool too_long;
	char cache[16];
};

struct store_fetch *store_fetch_new(const char *base, long timeout_s, char *why, size_t cap)
{
	struct store_fetch *f;
	size_t n = strlen(base);

	if (strncmp(base, "http://", 7) && strncmp(base, "https://", 8)) {
		snprintf(why, cap, "store %s: not an http:// or https:// URL", base);
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(why, cap, "libcurl: initialisation failed");
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	while (n && base[n - 1] == '/')
		n--;
	if (f)
		f->base = strndup(base, n);
	if (f && f->base)
		f->curl = curl_easy_init();
	if (!f || !f->curl) {
		snprintf(why, cap, "libcurl: out of memory");
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
		     size_t *len, char cache[16], char *why, size_t cap)
{
	struct answer a = { .max = max };
	char err[CURL_ERROR_SIZE] = "", *url;
	long status = 0;
	CURLcode rc;
	size_t ulen = strlen(f->base) + 1 + strlen(path) + 1;

	*body = NULL;
	*len = 0;
	cache[0] = 0;
	url = malloc(ulen);
	if (!url) {
		snprintf(why, cap, "out of memory");
		return -1;
	}
	snprintf(url, ulen, "%s/%s", f->base, path);
	curl_easy_reset(f->curl);
	curl_easy_setopt(f->curl, CURLOPT_URL, url);
	curl_easy_setopt(f->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(f->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->curl, CURLOPT_CONNECTTIMEOUT, f->timeout_s);
	curl_easy_setopt(f->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(f->curl, CURLOPT_LOW_SPEED_TIME, f->timeout_s);
	curl_easy_setopt(f->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	curl_easy_setopt(f->curl, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(f->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(f->curl, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(f->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(f->curl, CURLOPT_HEADERDATA, &a);
	rc = curl_easy_perform(f->curl);
	if (rc != CURLE_OK) {
		snprintf(why, cap, "GET %s: %s", url, a.too_long || rc == CURLE_FILESIZE_EXCEEDED ?
			 "answer too long" : err[0] ? err : curl_easy_strerror(rc));
		free(a.data);
		free(url);
		return -1;
	}
	curl_easy_getinfo(f->curl, CURLINFO_RESPONSE_CODE, &status);
	memcpy(cache, a.cache, sizeof(a.cache));
	snprintf(why, cap, "GET %s: HTTP %ld", url, status);
	free(url);
	if (status != 200) {
		free(a.data);
		return status;
	}
	*body = a.data ? a.data : calloc(1, 1);
	*len = a.len;
	return status;
}
