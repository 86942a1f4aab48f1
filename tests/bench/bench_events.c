// SPDX-License-Identifier: GPL-2.0
/*
 * bench_events - recorded events at scale (issue 17, "Scale"): many
 * cameras' events in a store, and what it costs a hub to list and verify
 * one camera's newest thumbnails.
 *
 * Setup (not the measured figure, its time is printed): N cameras (device
 * keys from the key API) and one hub (device key and encryption key); per
 * camera a chain of E events made with the camera's own API
 * (vc_event_writer, vc_envelope_seal, vc_event_object_seal), each with the
 * same real JPEG thumbnail (GStreamer's jpegenc of videotestsrc's SMPTE
 * bars at the recorder's thumbnail width, 320x180) and a small clip of two
 * synthetic AUs, written as the camera's spool writes them
 * (NUMBER-EVENTID.env / .thumb / .clip) under BASE/CAMERA-KEY-ID-HEX/.
 *
 * Measured:
 *  (a) per camera, what a hub does to show its newest 50 thumbnails: list
 *      the directory, pick the newest 50 envelopes, and for each read and
 *      open it (vc_envelope_open: the manifest checks of PROTOCOL.md §15.4
 *      for the event id named by the file, and the unwrap), read and open
 *      its thumbnail object, check the thumbnail's hash against the
 *      manifest, and check that it chains to the next newer manifest
 *      (vc_manifest_follows). Wall time, median and p95 over several
 *      cameras: cold (the cameras' files dropped from the page cache with
 *      posix_fadvise first; directory entries stay cached) and warm.
 *  (b) the same per-thumbnail work from memory in a loop on one core
 *      (thread CPU time), against a baseline measured in the same run: one
 *      Ed25519 verify of the manifest + SHA-256 of the JPEG + one
 *      ChaCha20-Poly1305 open of the JPEG's size (the crypto no design
 *      that signs and encrypts thumbnails can skip); and that plus one
 *      X25519 (the HPKE unwrap's own cost).
 * Prints tables and "BENCH key value unit" lines; never asserts timings.
 *
 *   bench_events [--cameras N] [--events E] [--dir BASE] [--keep]
 *   (defaults: 100 cameras, 60 events each: 18000 objects, in a fresh
 *   directory under $TMPDIR or /tmp, removed at the end unless --keep)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <veracam/enckey.h>
#include <veracam/event.h>

#include "fixture.h"

#define SHOW		50	/* thumbnails a hub's events view lists */
#define NAME_LEN	(20 + 1 + 2 * VC_EVENT_ID_LEN)	/* NUMBER-EVENTID */
#define SAMPLE_CAMS	20	/* cameras measured, spread over the store */
#define WARM_ROUNDS	5
#define B_ROUNDS	5	/* (b): veracam and the baseline, alternated */

static const char manifest_ctx[] = "veracam1 event manifest";	/* with its 00: 24 bytes */

static double now_us(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int die(const char *what)
{
	fprintf(stderr, "bench_events: %s: %s\n", what, vc_last_error());
	exit(1);
}

/* ---- the thumbnail: one real JPEG, made once ---- */

static uint8_t *make_jpeg(size_t *len)
{
	GError *err = NULL;
	GstElement *pipe, *sink;
	GstSample *s = NULL;
	GstMapInfo map;
	uint8_t *out = NULL;

	gst_init(NULL, NULL);
	pipe = gst_parse_launch("videotestsrc pattern=smpte num-buffers=1 ! "
				"video/x-raw,width=320,height=180 ! jpegenc ! "
				"appsink name=sink sync=false", &err);
	if (!pipe) {
		fprintf(stderr, "bench_events: jpeg: %s\n", err->message);
		exit(1);
	}
	sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
	if (gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE)
		s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND);
	if (s && gst_buffer_map(gst_sample_get_buffer(s), &map, GST_MAP_READ)) {
		out = malloc(map.size);
		if (out)
			memcpy(out, map.data, map.size);
		*len = map.size;
		gst_buffer_unmap(gst_sample_get_buffer(s), &map);
	}
	if (s)
		gst_sample_unref(s);
	gst_element_set_state(pipe, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(pipe);
	gst_deinit();	/* GStreamer is needed only for this one picture */
	if (!out) {
		fprintf(stderr, "bench_events: jpegenc gave no picture\n");
		exit(1);
	}
	return out;
}

/* ---- files ---- */

static void write_file(const char *dir, const char *name, const struct vc_buf *b)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
		fprintf(stderr, "bench_events: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* A whole file into b (replacing it); 0 or -1. */
static int read_file(const char *dir, const char *name, struct vc_buf *b)
{
	char path[PATH_MAX];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || vc_buf_reserve(b, (size_t)st.st_size) < 0) {
		close(fd);
		return -1;
	}
	n = read(fd, b->data, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size)
		return -1;
	b->len = (size_t)n;
	return 0;
}

/* ---- the store ---- */

struct camera {
	struct vc_device_key *key;
	char dir[PATH_MAX];
};

static struct vc_device_key *hub;
static struct vc_enc_key *hub_enc;
static uint8_t *jpeg;
static size_t jpeg_len;

static void append(struct vc_buf *to, const struct vc_buf *b)
{
	if (vc_buf_reserve(to, to->len + b->len) < 0)
		die("clip");
	memcpy(to->data + to->len, b->data, b->len);
	to->len += b->len;
}

/* A fresh device key (what veracamctl keygen makes, in memory). */
static struct vc_device_key *new_key(void)
{
	struct vc_device_key *k;
	uint8_t seed[32];

	randombytes_buf(seed, sizeof(seed));
	k = vc_key_from_seed(seed);
	sodium_memzero(seed, sizeof(seed));
	if (!k)
		die("device key");
	return k;
}

/* Camera c's chain of n_events events, sealed for the hub, into its directory. */
static void make_camera(struct camera *c, const char *base, int idx, int n_events)
{
	struct vc_event_recipient to;
	struct vc_frame_info info = { 0 };
	struct vc_buf au = { 0 }, signed_au = { 0 }, clip = { 0 }, env = { 0 }, thumb = { 0 },
		      clip_obj = { 0 };
	uint8_t man[VC_MANIFEST_MAX_LEN], prev[VC_HASH_LEN], ids[1][VC_KEY_ID_LEN];
	char hex[2 * VC_EVENT_ID_LEN + 1], source[32], name[NAME_LEN + 8];
	int e, i, len;

	c->key = new_key();
	vc_hex(vc_key_id(c->key), VC_KEY_ID_LEN, hex);
	snprintf(c->dir, sizeof(c->dir), "%s/%s", base, hex);
	if (mkdir(c->dir, 0700) < 0) {
		fprintf(stderr, "bench_events: %s: %s\n", c->dir, strerror(errno));
		exit(1);
	}
	snprintf(source, sizeof(source), "id:bench-camera-%03d", idx);
	memcpy(to.key_id, vc_key_id(hub), VC_KEY_ID_LEN);
	memcpy(ids[0], vc_key_id(hub), VC_KEY_ID_LEN);
	memcpy(to.enc_pub, vc_enc_key_public(hub_enc), VC_ENC_PUBKEY_LEN);
	for (e = 0; e < n_events; e++) {
		struct vc_event_writer *w = vc_event_writer_new(c->key, source, (uint64_t)e,
								e ? prev : NULL);
		struct vc_event_sealer *sealer = NULL;

		if (!w)
			die("event writer");
		clip.len = 0;
		for (i = 0; i < 2; i++) {	/* an IDR and a P-frame, about 1.5 KB each */
			fx_au(&au, i == 0, 1500, (uint32_t)(idx * 1000 + e * 2 + i));
			info.capture_ns = FX_NOW_NS + (uint64_t)e * 60000000000ULL +
					  (uint64_t)i * 33333333ULL;
			if (vc_event_writer_add(w, &info, au.data, au.len, &signed_au) < 0)
				die("event writer add");
			append(&clip, &signed_au);
		}
		len = vc_event_writer_finish(w, VC_TRIGGER_MOTION, jpeg, jpeg_len,
					     ids, 1, man);
		if (len < 0 || vc_event_hash(man, (size_t)len, prev) < 0)
			die("manifest");
		if (vc_envelope_seal(VC_HPKE_CHACHA20POLY1305, man, (size_t)len, &to, 1, &sealer,
				     &env) < 0 ||
		    vc_event_object_seal(sealer, VC_OBJECT_THUMBNAIL, jpeg, jpeg_len, &thumb) < 0 ||
		    vc_event_object_seal(sealer, VC_OBJECT_CLIP, clip.data, clip.len, &clip_obj) < 0)
			die("seal");
		vc_hex(vc_event_writer_id(w), VC_EVENT_ID_LEN, hex);
		snprintf(name, sizeof(name), "%020d-%s.clip", e, hex);
		write_file(c->dir, name, &clip_obj);
		snprintf(name, sizeof(name), "%020d-%s.thumb", e, hex);
		write_file(c->dir, name, &thumb);
		snprintf(name, sizeof(name), "%020d-%s.env", e, hex);
		write_file(c->dir, name, &env);
		vc_event_sealer_free(sealer);
		vc_event_writer_free(w);
	}
	vc_buf_free(&au);
	vc_buf_free(&signed_au);
	vc_buf_free(&clip);
	vc_buf_free(&env);
	vc_buf_free(&thumb);
	vc_buf_free(&clip_obj);
}

/* Write back and drop a camera's files from the page cache (for a cold pass). */
static void drop_cached(const struct camera *c)
{
	struct dirent *d;
	DIR *dir = opendir(c->dir);
	int fd;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		fd = openat(dirfd(dir), d->d_name, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
		close(fd);
	}
	closedir(dir);
}

/* ---- the hub's side ---- */

/* One thumbnail's verification; the hub's state for the chain check. */
struct shown {
	struct vc_manifest m;
	uint8_t hash[VC_HASH_LEN];
};

/*
 * What a hub does per thumbnail, from the envelope's and the thumbnail
 * object's bytes: open the envelope for the event the store named, open
 * the thumbnail, check its hash, and check that it chains to the newer
 * manifest (NULL for the newest). VC_EV_OK or the reason.
 */
static enum vc_event_reject verify_thumb(const uint8_t *env, size_t env_len, const uint8_t *obj,
					 size_t obj_len, const uint8_t *camera_pub,
					 const uint8_t *event_id, const struct shown *newer,
					 struct shown *out, struct vc_buf *pt)
{
	uint8_t man[VC_MANIFEST_MAX_LEN], ck[VC_CONTENT_KEY_LEN];
	enum vc_hpke_aead aead;
	enum vc_event_reject r;
	size_t man_len;

	r = vc_envelope_open(env, env_len, camera_pub, event_id, vc_key_id(hub), hub_enc, &out->m,
			     man, &man_len, &aead, ck);
	if (r == VC_EV_OK && vc_event_hash(man, man_len, out->hash) < 0)
		r = VC_EV_MALFORMED;
	if (r == VC_EV_OK)
		r = vc_event_object_open(aead, ck, out->hash, VC_OBJECT_THUMBNAIL, obj, obj_len, pt);
	sodium_memzero(ck, sizeof(ck));
	if (r == VC_EV_OK)
		r = vc_manifest_check_thumbnail(&out->m, pt->data, pt->len);
	if (r == VC_EV_OK && newer)
		r = vc_manifest_follows(&out->m, out->hash, &newer->m);
	return r;
}

static int newest_first(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);	/* numbers are zero-padded */
}

/* The newest `show` envelope names of a camera's directory (sorted newest first); the count. */
static int list_newest(const char *dirpath, char (*names)[NAME_LEN + 1], int show)
{
	static char **all;
	static size_t cap;
	size_t n = 0, i, l;
	struct dirent *d;
	DIR *dir = opendir(dirpath);

	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		l = strlen(d->d_name);
		if (l != NAME_LEN + 4 || strcmp(d->d_name + NAME_LEN, ".env") != 0)
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			all = realloc(all, cap * sizeof(*all));
			if (!all)
				exit(1);
		}
		all[n++] = strndup(d->d_name, NAME_LEN);
	}
	closedir(dir);
	qsort(all, n, sizeof(*all), newest_first);
	for (i = 0; i < n; i++) {
		if ((int)i < show)
			memcpy(names[i], all[i], NAME_LEN + 1);
		free(all[i]);
	}
	return (int)(n < (size_t)show ? n : (size_t)show);
}

struct pass {
	double wall_us, cpu_us, list_us;
	int shown;
};

/* (a): list a camera's directory and verify its newest thumbnails, as a hub would. */
static void list_and_verify(const struct camera *c, struct pass *p)
{
	static char names[SHOW][NAME_LEN + 1];
	struct vc_buf env = { 0 }, obj = { 0 }, pt = { 0 };
	struct shown shown[SHOW];
	uint8_t id[VC_EVENT_ID_LEN];
	char file[NAME_LEN + 8];
	double w0 = now_us(CLOCK_MONOTONIC), c0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	enum vc_event_reject r;
	int i, n = list_newest(c->dir, names, SHOW);

	p->list_us = now_us(CLOCK_MONOTONIC) - w0;
	if (n < 0)
		die("list");
	for (i = 0; i < n; i++) {
		snprintf(file, sizeof(file), "%.*s.env", NAME_LEN, names[i]);
		if (read_file(c->dir, file, &env) < 0)
			die(file);
		snprintf(file, sizeof(file), "%.*s.thumb", NAME_LEN, names[i]);
		if (read_file(c->dir, file, &obj) < 0)
			die(file);
		if (vc_unhex(names[i] + 21, 2 * VC_EVENT_ID_LEN, id) < 0)
			die("event id");
		r = verify_thumb(env.data, env.len, obj.data, obj.len, vc_key_public(c->key), id,
				 i ? &shown[i - 1] : NULL, &shown[i], &pt);
		if (r != VC_EV_OK) {
			fprintf(stderr, "bench_events: %s/%s: %s\n", c->dir, names[i],
				vc_event_reject_name(r));
			exit(1);
		}
	}
	p->wall_us = now_us(CLOCK_MONOTONIC) - w0;
	p->cpu_us = now_us(CLOCK_THREAD_CPUTIME_ID) - c0;
	p->shown = n;
	vc_buf_free(&env);
	vc_buf_free(&obj);
	vc_buf_free(&pt);
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (nearest rank) of n values (sorted in place). */
static double quantile(double *v, int n, double q)
{
	int k;

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	k = (int)(q * n + 0.999999) - 1;
	return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

struct summary {
	double wall_p50, wall_p95, cpu_p50, list_p50;
};

static struct summary summarize(struct pass *p, int n)
{
	double *w = calloc((size_t)n, sizeof(*w)), *c = calloc((size_t)n, sizeof(*c)),
	       *l = calloc((size_t)n, sizeof(*l));
	struct summary s;
	int i;

	if (!w || !c || !l)
		exit(1);
	for (i = 0; i < n; i++) {
		w[i] = p[i].wall_us;
		c[i] = p[i].cpu_us;
		l[i] = p[i].list_us;
	}
	s.wall_p50 = quantile(w, n, 0.5);
	s.wall_p95 = quantile(w, n, 0.95);
	s.cpu_p50 = quantile(c, n, 0.5);
	s.list_p50 = quantile(l, n, 0.5);
	free(w);
	free(c);
	free(l);
	return s;
}

/* ---- (b): per-thumbnail cost on one core, and its baseline ---- */

struct loaded {
	struct vc_buf env[SHOW], obj[SHOW];
	uint8_t id[SHOW][VC_EVENT_ID_LEN];
	int n;
};

static void load_camera(const struct camera *c, struct loaded *L)
{
	static char names[SHOW][NAME_LEN + 1];
	char file[NAME_LEN + 8];
	int i;

	memset(L, 0, sizeof(*L));
	L->n = list_newest(c->dir, names, SHOW);
	for (i = 0; i < L->n; i++) {
		snprintf(file, sizeof(file), "%.*s.env", NAME_LEN, names[i]);
		if (read_file(c->dir, file, &L->env[i]) < 0)
			die(file);
		snprintf(file, sizeof(file), "%.*s.thumb", NAME_LEN, names[i]);
		if (read_file(c->dir, file, &L->obj[i]) < 0)
			die(file);
		vc_unhex(names[i] + 21, 2 * VC_EVENT_ID_LEN, L->id[i]);
	}
}

/* µs of thread CPU per thumbnail, over `iters` thumbnails. */
static double per_thumb_us(const struct camera *c, const struct loaded *L, int iters)
{
	struct shown shown[2];
	struct vc_buf pt = { 0 };
	double t0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	int k, i;

	for (k = 0; k < iters; k++) {
		i = k % L->n;
		if (verify_thumb(L->env[i].data, L->env[i].len, L->obj[i].data, L->obj[i].len,
				 vc_key_public(c->key), L->id[i], i ? &shown[(k - 1) & 1] : NULL,
				 &shown[k & 1], &pt) != VC_EV_OK)
			die("verify loop");
	}
	vc_buf_free(&pt);
	return (now_us(CLOCK_THREAD_CPUTIME_ID) - t0) / iters;
}

/* The same work step by step (thread CPU µs per thumbnail): where the time goes. */
struct steps {
	double env_open, obj_open, thumb_hash, follows;
};

static struct steps measure_steps(const struct camera *c, const struct loaded *L, int iters)
{
	static uint8_t man[SHOW][VC_MANIFEST_MAX_LEN], ck[SHOW][VC_CONTENT_KEY_LEN];
	static size_t man_len[SHOW];
	struct shown sh[SHOW];
	struct vc_buf pt = { 0 };
	enum vc_hpke_aead aead = VC_HPKE_CHACHA20POLY1305;
	struct steps st;
	double t0;
	int k, i, ok = 1;

	t0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	for (k = 0; k < iters; k++) {
		i = k % L->n;
		ok &= vc_envelope_open(L->env[i].data, L->env[i].len, vc_key_public(c->key),
				       L->id[i], vc_key_id(hub), hub_enc, &sh[i].m, man[i],
				       &man_len[i], &aead, ck[i]) == VC_EV_OK;
	}
	st.env_open = (now_us(CLOCK_THREAD_CPUTIME_ID) - t0) / iters;
	t0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	for (k = 0; k < iters; k++) {
		i = k % L->n;
		ok &= vc_event_hash(man[i], man_len[i], sh[i].hash) == 0 &&
		      vc_event_object_open(aead, ck[i], sh[i].hash, VC_OBJECT_THUMBNAIL,
					   L->obj[i].data, L->obj[i].len, &pt) == VC_EV_OK;
	}
	st.obj_open = (now_us(CLOCK_THREAD_CPUTIME_ID) - t0) / iters;
	ok &= pt.len == jpeg_len;
	t0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	for (k = 0; k < iters; k++)
		ok &= vc_manifest_check_thumbnail(&sh[k % L->n].m, pt.data, pt.len) == VC_EV_OK;
	st.thumb_hash = (now_us(CLOCK_THREAD_CPUTIME_ID) - t0) / iters;
	t0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	for (k = 0; k < iters; k++) {
		i = 1 + k % (L->n - 1);
		ok &= vc_manifest_follows(&sh[i].m, sh[i].hash, &sh[i - 1].m) == VC_EV_OK;
	}
	st.follows = (now_us(CLOCK_THREAD_CPUTIME_ID) - t0) / iters;
	sodium_memzero(ck, sizeof(ck));
	vc_buf_free(&pt);
	if (!ok)
		die("steps");
	return st;
}

struct baseline {
	double ed25519, sha256, aead, x25519;
};

/*
 * The crypto nothing can skip per thumbnail, on the same bytes: Ed25519
 * verify of a manifest's signed message (libsodium, as vc_ed25519_verify),
 * SHA-256 of the JPEG and a ChaCha20-Poly1305 open of its size (OpenSSL,
 * as the core's AEAD); and one X25519 (the HPKE unwrap's DH).
 */
static struct baseline measure_baseline(const struct camera *c, const struct loaded *L,
					int iters)
{
	uint8_t msg[sizeof(manifest_ctx) + VC_MANIFEST_MAX_LEN], md[32], key[32], nonce[12],
		tag[16], aad[8] = { 1 }, xs[32], xp[32], xo[32];
	size_t man_len = (size_t)(L->env[0].data[4] << 8 | L->env[0].data[5]), mlen;
	const uint8_t *man = L->env[0].data + VC_ENVELOPE_HDR_LEN;
	uint8_t *ct = malloc(jpeg_len), *pt = malloc(jpeg_len);
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	struct baseline b;
	double t0;
	int k, out_len, ok = 1;

	if (!ct || !pt || !ctx || man_len > VC_MANIFEST_MAX_LEN)
		exit(1);
	mlen = sizeof(manifest_ctx) + man_len - VC_SIG_LEN;
	memcpy(msg, manifest_ctx, sizeof(manifest_ctx));
	memcpy(msg + sizeof(manifest_ctx), man, man_len - VC_SIG_LEN);
	t0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	for (k = 0; k < iters; k++)
		ok &= crypto_sign_verify_detached(man + man_len - VC_SIG_LEN, msg, mlen,
						  vc_key_public(c->key)) == 0;
	b.ed25519 = (now_us(CLOCK_THREAD_CPUTIME_ID) - t0) / iters;

	t0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	for (k = 0; k < iters; k++)
		EVP_Digest(jpeg, jpeg_len, md, NULL, EVP_sha256(), NULL);
	b.sha256 = (now_us(CLOCK_THREAD_CPUTIME_ID) - t0) / iters;

	randombytes_buf(key, sizeof(key));
	randombytes_buf(nonce, sizeof(nonce));
	EVP_EncryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, nonce);
	EVP_EncryptUpdate(ctx, NULL, &out_len, aad, sizeof(aad));
	EVP_EncryptUpdate(ctx, ct, &out_len, jpeg, (int)jpeg_len);
	EVP_EncryptFinal_ex(ctx, ct + out_len, &out_len);
	EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, sizeof(tag), tag);
	t0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	for (k = 0; k < iters; k++) {
		ok &= EVP_DecryptInit_ex(ctx, EVP_chacha20_poly1305(), NULL, key, nonce) == 1 &&
		      EVP_DecryptUpdate(ctx, NULL, &out_len, aad, sizeof(aad)) == 1 &&
		      EVP_DecryptUpdate(ctx, pt, &out_len, ct, (int)jpeg_len) == 1 &&
		      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, sizeof(tag), tag) == 1 &&
		      EVP_DecryptFinal_ex(ctx, pt + out_len, &out_len) == 1;
	}
	b.aead = (now_us(CLOCK_THREAD_CPUTIME_ID) - t0) / iters;
	ok &= memcmp(pt, jpeg, jpeg_len) == 0;

	randombytes_buf(xs, sizeof(xs));
	crypto_scalarmult_base(xp, xs);
	t0 = now_us(CLOCK_THREAD_CPUTIME_ID);
	for (k = 0; k < iters; k++)
		ok &= crypto_scalarmult(xo, xs, xp) == 0;
	b.x25519 = (now_us(CLOCK_THREAD_CPUTIME_ID) - t0) / iters;
	if (!ok) {
		fprintf(stderr, "bench_events: baseline crypto failed\n");
		exit(1);
	}
	EVP_CIPHER_CTX_free(ctx);
	free(ct);
	free(pt);
	return b;
}

/* ---- main ---- */

static double load1(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

int main(int argc, char **argv)
{
	int n_cams = 100, n_events = 60, keep = 0, i, r, n_sample, iters;
	char base[PATH_MAX] = "";
	struct camera *cams;
	struct pass *cold, *warm;
	struct summary sc, sw;
	struct loaded L;
	struct baseline b;
	struct steps st;
	struct statfs sfs;
	double t0, gen_s, thumb_us, base_us, load0 = load1();
	double thumb[B_ROUNDS], ed[B_ROUNDS], sha[B_ROUNDS], aead[B_ROUNDS], xdh[B_ROUNDS],
	       ratio[B_ROUNDS];
	long objects;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--cameras") && i + 1 < argc)
			n_cams = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--events") && i + 1 < argc)
			n_events = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			snprintf(base, sizeof(base), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--keep"))
			keep = 1;
		else {
			fprintf(stderr, "usage: bench_events [--cameras N] [--events E] "
				"[--dir BASE] [--keep]\n");
			return 2;
		}
	}
	if (n_cams < 1 || n_events < 2 || sodium_init() < 0)
		return 2;
	if (base[0]) {
		if (mkdir(base, 0700) < 0) {
			fprintf(stderr, "bench_events: %s: %s (give a new directory)\n", base,
				strerror(errno));
			return 1;
		}
	} else if (fx_tmpdir(base, sizeof(base)) < 0) {
		fprintf(stderr, "bench_events: no temporary directory\n");
		return 1;
	}
	cams = calloc((size_t)n_cams, sizeof(*cams));
	if (!cams)
		return 1;
	jpeg = make_jpeg(&jpeg_len);
	hub = new_key();
	hub_enc = vc_enc_key_generate();
	if (!hub || !hub_enc)
		die("hub keys");

	t0 = now_us(CLOCK_MONOTONIC);
	for (i = 0; i < n_cams; i++)
		make_camera(&cams[i], base, i, n_events);
	gen_s = (now_us(CLOCK_MONOTONIC) - t0) / 1e6;
	objects = 3L * n_cams * n_events;
	printf("veracam events at scale: %d cameras x %d events x 3 objects (.env, .thumb, "
	       ".clip) = %ld objects in %s (%s)\n", n_cams, n_events, objects, base,
	       statfs(base, &sfs) < 0 ? "?" : sfs.f_type == 0xEF53 ? "ext4" :
	       sfs.f_type == 0x01021994 ? "tmpfs" : "not ext4 or tmpfs");
	printf("thumbnail: a %zu-byte JPEG (jpegenc, SMPTE bars, 320x180); clip: 2 AUs; one "
	       "hub, ChaCha20-Poly1305; generated in %.1f s (not measured)\n", jpeg_len, gen_s);

	/* (a) a sample of cameras spread over the store, cold then warm */
	n_sample = n_cams < SAMPLE_CAMS ? n_cams : SAMPLE_CAMS;
	cold = calloc((size_t)n_sample, sizeof(*cold));
	warm = calloc((size_t)n_sample * WARM_ROUNDS, sizeof(*warm));
	if (!cold || !warm)
		return 1;
	for (i = 0; i < n_sample; i++)
		drop_cached(&cams[i * n_cams / n_sample]);
	for (i = 0; i < n_sample; i++)
		list_and_verify(&cams[i * n_cams / n_sample], &cold[i]);
	for (r = 0; r < WARM_ROUNDS; r++)
		for (i = 0; i < n_sample; i++)
			list_and_verify(&cams[i * n_cams / n_sample], &warm[r * n_sample + i]);
	sc = summarize(cold, n_sample);
	sw = summarize(warm, n_sample * WARM_ROUNDS);
	printf("\n(a) hub: list one camera's directory (%d envelopes), verify its newest %d "
	       "thumbnails (open envelope, open thumbnail, hash, chain); %d cameras\n",
	       n_events, cold[0].shown, n_sample);
	printf("%-34s %10s %10s %12s %12s\n", "", "wall p50", "wall p95", "CPU p50", "list p50");
	printf("%-34s %10s %10s %12s %12s\n", "", "ms", "ms", "ms", "ms");
	printf("%-34s %10.2f %10.2f %12.2f %12.3f\n", "cold (files not in page cache)",
	       sc.wall_p50 / 1e3, sc.wall_p95 / 1e3, sc.cpu_p50 / 1e3, sc.list_p50 / 1e3);
	printf("%-34s %10.2f %10.2f %12.2f %12.3f\n", "warm", sw.wall_p50 / 1e3,
	       sw.wall_p95 / 1e3, sw.cpu_p50 / 1e3, sw.list_p50 / 1e3);

	/* (b) per thumbnail on one core, and the baseline, alternated */
	load_camera(&cams[0], &L);
	iters = 4 * L.n;
	per_thumb_us(&cams[0], &L, L.n);	/* warm-up */
	for (r = 0; r < B_ROUNDS; r++) {
		double t = per_thumb_us(&cams[0], &L, iters);
		struct baseline x = measure_baseline(&cams[0], &L, iters);

		thumb[r] = t;
		ed[r] = x.ed25519;
		sha[r] = x.sha256;
		aead[r] = x.aead;
		xdh[r] = x.x25519;
		ratio[r] = t / (x.ed25519 + x.sha256 + x.aead);
	}
	thumb_us = quantile(thumb, B_ROUNDS, 0.5);
	b.ed25519 = quantile(ed, B_ROUNDS, 0.5);
	b.sha256 = quantile(sha, B_ROUNDS, 0.5);
	b.aead = quantile(aead, B_ROUNDS, 0.5);
	b.x25519 = quantile(xdh, B_ROUNDS, 0.5);
	base_us = b.ed25519 + b.sha256 + b.aead;
	printf("\n(b) one thumbnail's verification on one core (thread CPU, from memory; medians "
	       "of %d alternated rounds of %d)\n", B_ROUNDS, iters);
	printf("  veracam (envelope open + thumbnail open + hash + chain): %8.1f us = %6.0f/s\n",
	       thumb_us, 1e6 / thumb_us);
	printf("  baseline: Ed25519 verify %.1f + SHA-256 %.1f + ChaCha20-Poly1305 open %.1f "
	       "(%zu B) = %.1f us = %.0f/s\n", b.ed25519, b.sha256, b.aead, jpeg_len, base_us,
	       1e6 / base_us);
	printf("  veracam / baseline: %.2fx (rounds %.2f .. %.2f); / (baseline + one X25519, "
	       "%.1f us): %.2fx\n", thumb_us / base_us, quantile(ratio, B_ROUNDS, 0),
	       quantile(ratio, B_ROUNDS, 1), b.x25519, thumb_us / (base_us + b.x25519));
	st = measure_steps(&cams[0], &L, iters);
	printf("  its steps: vc_envelope_open %.1f (Ed25519 + HPKE unwrap), manifest hash + "
	       "vc_event_object_open %.1f, thumbnail hash check %.1f, vc_manifest_follows %.2f us\n",
	       st.env_open, st.obj_open, st.thumb_hash, st.follows);
	printf("load average %.2f -> %.2f (a shared machine gives longer tails)\n", load0, load1());

	printf("BENCH events.objects %ld objects\n", objects);
	printf("BENCH events.generate_s %.4g s\n", gen_s);
	printf("BENCH events.list50_cold_p50_ms %.4g ms\n", sc.wall_p50 / 1e3);
	printf("BENCH events.list50_cold_p95_ms %.4g ms\n", sc.wall_p95 / 1e3);
	printf("BENCH events.list50_warm_p50_ms %.4g ms\n", sw.wall_p50 / 1e3);
	printf("BENCH events.list50_warm_p95_ms %.4g ms\n", sw.wall_p95 / 1e3);
	printf("BENCH events.thumb_verify_us %.4g us/thumbnail\n", thumb_us);
	printf("BENCH events.thumbs_per_s_core %.4g thumbnails/s\n", 1e6 / thumb_us);
	printf("BENCH events.thumb_baseline_us %.4g us/thumbnail\n", base_us);
	printf("BENCH events.thumb_vs_baseline %.4g x\n", thumb_us / base_us);
	printf("BENCH events.thumb_vs_baseline_x25519 %.4g x\n", thumb_us / (base_us + b.x25519));

	for (i = 0; i < L.n; i++) {
		vc_buf_free(&L.env[i]);
		vc_buf_free(&L.obj[i]);
	}
	for (i = 0; i < n_cams; i++)
		vc_key_free(cams[i].key);
	if (!keep)
		fx_rmtree(base);
	vc_key_free(hub);
	vc_enc_key_free(hub_enc);
	free(jpeg);
	free(cams);
	free(cold);
	free(warm);
	return 0;
}
