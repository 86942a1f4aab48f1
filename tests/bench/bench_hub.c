// SPDX-License-Identifier: GPL-2.0
/*
 * bench_hub - the hub's work per frame on real H.264 access units at
 * 640x480, 1280x720 and 1920x1080 @30, and what the frame security core
 * adds to it, in one run.
 *
 * Input per size: 3 s of videotestsrc smpte moving 8 px/frame, encoded as
 * the camera encodes (x264enc zerolatency ultrafast, no B-frames, IDR every
 * 30 frames = 1 s, SPS/PPS before each IDR) at 1, 2.5 and 5 Mbit/s. The
 * rate control spends the bit rate on this picture, so the units have the
 * sizes of a real stream of that size (printed: mean I and P bytes).
 *
 * Table 1, median ms per frame (as before): decode (hub_decode_au() until
 * hub_decode_take() has the frame), render (the decoded picture copied, or
 * scaled, into the y4m output's I420 buffer, with letterbox and badge),
 * compose (the rest of composing the output buffer), y4m (the headless
 * output's write), against one memcpy of an XRGB8888 frame of the output's
 * size; and xrgb, what a KMS output's render adds instead: libyuv's
 * I420 -> XRGB8888 of a picture of that size (the display's conversion of
 * a picture shown 1:1; tests/bench/summary.py puts it in place of render
 * for the hub's CPU without the y4m output).
 *
 * Table 2, security on the same units, one core (thread CPU time):
 *   sign+seal     the camera's cost per unit (one hub);
 *   open+verify   the hub's cost per unit, averaged over whole 1 s GOPs:
 *                 units/s per core and streams of 30 fps per core;
 *   hub CPU/frame CPU time of the process (all threads) and of its
 *                 decoder child (all its threads, their schedstat) of
 *                 decode -> display ("plain", no security: the baseline)
 *                 and open -> verify -> decode -> display ("secure") of the
 *                 same units, passes alternated, in the same run;
 *   ratio         secure / plain as measured, and (plain + open+verify) /
 *                 plain, the same figure from the precise per-unit cost;
 *   copies        raw-frame writes per shown frame from the decoder's
 *                 picture to the output buffer, from the display's own
 *                 counters: frames drawn into an output buffer plus frames
 *                 first scaled into the scaler's scratch (1: converted
 *                 straight into the buffer).
 *
 * Every figure is also printed as a "BENCH key value unit" line for
 * tests/bench/summary.py. Asserts nothing about time.
 *
 *   bench_hub [ROUNDS]   sealed copies of the 3 s clip for open+verify (10)
 */
#include <dirent.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <libyuv/convert_argb.h>

#include "decode.h"
#include "display.h"
#include "fixture.h"

#define FRAMES		90	/* 3 GOPs of 30 */
#define FRAME_NS	33333333ull
#define PASSES		2	/* of each kind, alternated */

struct au {
	GstBuffer *buf;
	GstMapInfo map;
	bool idr;
};

struct size {
	const char *name;
	unsigned int w, h, kbps;
};

static const struct size sizes[] = {
	{ "640x480", 640, 480, 1000 },
	{ "1280x720", 1280, 720, 2500 },
	{ "1920x1080", 1920, 1080, 4000 },
};

static double clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n ? v[n / 2] : 0;
}

static void bench(const char *size, const char *key, double v, const char *unit)
{
	printf("BENCH hub.%s.%s %.6g %s\n", size, key, v, unit);
}

static unsigned int encode(struct au *au, const struct size *sz)
{
	char desc[640];
	GstElement *p;
	GstAppSink *sink;
	GstSample *s;
	unsigned int n = 0;

	snprintf(desc, sizeof(desc),
		 "videotestsrc pattern=smpte horizontal-speed=8 num-buffers=%d ! "
		 "video/x-raw,format=I420,width=%u,height=%u,framerate=30/1 ! "
		 "x264enc tune=zerolatency speed-preset=ultrafast bframes=0 b-adapt=false "
		 "key-int-max=30 bitrate=%u ! h264parse config-interval=-1 ! "
		 "video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false",
		 FRAMES, sz->w, sz->h, sz->kbps);
	p = gst_parse_launch(desc, NULL);
	if (!p)
		return 0;
	sink = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(p), "sink"));
	gst_element_set_state(p, GST_STATE_PLAYING);
	while (n < FRAMES && (s = gst_app_sink_pull_sample(sink))) {
		au[n].buf = gst_buffer_ref(gst_sample_get_buffer(s));
		au[n].idr = !GST_BUFFER_FLAG_IS_SET(au[n].buf, GST_BUFFER_FLAG_DELTA_UNIT);
		gst_sample_unref(s);
		if (!gst_buffer_map(au[n].buf, &au[n].map, GST_MAP_READ)) {
			gst_buffer_unref(au[n].buf);
			break;
		}
		n++;
	}
	gst_element_set_state(p, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(p);
	return n;
}

/*
 * The clip sealed as one camera -> hub session: @rounds copies for the
 * throughput figure, then PASSES copies for the secure pipeline passes.
 * The session's timeline is in rounds of the clip (capture times, decoder
 * presentation times): the throughput rounds, then the pipeline passes
 * alternated plain / secure. The secure copies are sealed one after the
 * other (the verifier refuses a gap in the sequence), with the capture
 * times of their slot in the timeline.
 */
struct sealed {
	struct fx_pipe pipe;
	struct vc_buf *unit;	/* (rounds + PASSES) * n */
	unsigned int n, rounds;
	double sign_seal_us, open_verify_us;	/* per unit, thread CPU */
	unsigned int next_round;		/* in the timeline */
	unsigned int secure_used;		/* secure copies played */
};

static uint64_t capture_ns(unsigned int k)
{
	return (uint64_t)FX_NOW_NS + (uint64_t)k * FRAME_NS;
}

/* Timeline round of sealed copy @c: secure copy j plays in round rounds + 2j + 1. */
static unsigned int timeline_round(const struct sealed *s, unsigned int c)
{
	return c < s->rounds ? c : s->rounds + 2 * (c - s->rounds) + 1;
}

static int seal_all(struct sealed *s, const struct au *au, unsigned int n, unsigned int rounds)
{
	struct vc_buf signed_au = { 0 };
	struct vc_frame_info info = { 0 };
	struct vc_record_session entry = { 0 };	/* challenge 0 (the hello), delay 0 */
	struct vc_verifier *ver;
	struct vc_verified v;
	unsigned int k, total = n * (rounds + PASSES), bad = 0;
	double t0;

	memset(s, 0, sizeof(*s));
	if (fx_pipe_init(&s->pipe, 1, 1, VC_CIPHER_AES128GCM) < 0)
		return -1;
	memcpy(entry.id, s->pipe.session_id, VC_SESSION_ID_LEN);
	s->n = n;
	s->rounds = rounds;
	s->unit = calloc(total, sizeof(*s->unit));
	if (!s->unit)
		return -1;
	t0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
	for (k = 0; k < total; k++) {
		const struct au *a = &au[k % n];

		info.capture_ns = capture_ns(timeline_round(s, k / n) * n + k % n);
		if (vc_signer_sign(s->pipe.signer, &info, &entry, 1, a->map.data, a->map.size,
				   &signed_au) < 0 ||
		    vc_seal(s->pipe.sealer, signed_au.data, signed_au.len, &s->unit[k]) < 0) {
			vc_buf_free(&signed_au);
			return -1;
		}
	}
	s->sign_seal_us = (clock_ms(CLOCK_THREAD_CPUTIME_ID) - t0) * 1e3 / total;
	vc_buf_free(&signed_au);

	/*
	 * Throughput: the throughput copies through the session's verifier.
	 * The secure passes use a second verifier of the same session.
	 */
	ver = s->pipe.ver;
	total = n * rounds;
	t0 = clock_ms(CLOCK_THREAD_CPUTIME_ID);
	for (k = 0; k < total; k++)
		bad += vc_verifier_accept(ver, s->unit[k].data, s->unit[k].len, s->pipe.now,
					  &v) != VC_OK;
	s->open_verify_us = (clock_ms(CLOCK_THREAD_CPUTIME_ID) - t0) * 1e3 / total;
	s->next_round = rounds;
	if (bad) {
		fprintf(stderr, "bench_hub: %u of %u units did not verify\n", bad, total);
		return -1;
	}
	return 0;
}

static void sealed_free(struct sealed *s)
{
	for (unsigned int k = 0; s->unit && k < s->n * (s->rounds + PASSES); k++)
		vc_buf_free(&s->unit[k]);
	free(s->unit);
	fx_pipe_fini(&s->pipe);
}

struct steps {
	double dec[FRAMES], ren[FRAMES], com[FRAMES], y4m[FRAMES];
	unsigned int shown;
};

/* The decoder child's CPU so far (ms): every thread's schedstat. */
static double child_cpu_ms(const struct hub_decode *dd)
{
	char path[64], line[128];
	unsigned long long ns, sum = 0;
	struct dirent *e;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", hub_decode_child_pid(dd));
	dir = opendir(path);
	while (dir && (e = readdir(dir))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(line, sizeof(line), "%s/%.16s/schedstat", path, e->d_name);
		f = fopen(line, "r");
		if (f && fscanf(f, "%llu", &ns) == 1)
			sum += ns;
		if (f)
			fclose(f);
	}
	if (dir)
		closedir(dir);
	return sum / 1e6;
}

/*
 * One pass over the clip, as the next round of the session's timeline
 * (capture times and presentation times keep increasing): plain (the
 * encoder's units straight to the decoder) or secure (that round's sealed
 * units through @ver, the verified unit to the decoder). Returns the CPU
 * ms of the process and its decoder child, or < 0.
 */
static double play(struct hub_decode *dd, struct hub_display *disp, const struct au *au,
		   unsigned int n,
		   struct sealed *s, bool secure, struct vc_verifier *ver, struct steps *st)
{
	unsigned int i, base = s->next_round * n;
	const struct vc_buf *unit = secure ? &s->unit[(s->rounds + s->secure_used) * n] : NULL;
	double cpu0 = clock_ms(CLOCK_PROCESS_CPUTIME_ID) + child_cpu_ms(dd), t;

	st->shown = 0;
	for (i = 0; i < n; i++) {
		struct pollfd pfd = { .fd = hub_decode_fd(dd), .events = POLLIN };
		struct hub_display_stats s0, s1;
		struct hub_picture pic = { 0 };
		const uint8_t *data = au[i].map.data;
		size_t len = au[i].map.size;
		uint64_t cap = capture_ns(base + i);
		bool idr = au[i].idr;

		t = clock_ms(CLOCK_MONOTONIC);
		if (secure) {
			const struct vc_buf *u = &unit[i];
			struct vc_verified v;

			enum vc_reject why = vc_verifier_accept(ver, u->data, u->len, s->pipe.now,
								&v);

			if (why != VC_OK) {
				fprintf(stderr, "bench_hub: unit %u rejected: %s\n", base + i,
					vc_reject_name(why));
				return -1;
			}
			data = v.au;
			len = v.au_len;
			cap = v.capture_ns;
			idr = v.idr;
		}
		hub_decode_au(dd, data, len, cap, UINT64_MAX, idr);
		if (poll(&pfd, 1, 2000) != 1 || hub_decode_take(dd, &pic) != 1)
			continue;
		st->dec[st->shown] = clock_ms(CLOCK_MONOTONIC) - t;
		/* the output's refresh, as a live stream's frame would find it passed */
		for (hub_display_get_stats(disp, &s0); s0.completed < s0.commits;
		     hub_display_get_stats(disp, &s0))
			if (poll(&(struct pollfd){ .fd = hub_display_fd(disp), .events = POLLIN },
				 1, 1000) != 1 || hub_display_dispatch(disp) < 0)
				break;
		hub_display_show(disp, 0, &pic);
		hub_display_get_stats(disp, &s1);
		st->ren[st->shown] = (s1.render_ns - s0.render_ns) / 1e6;
		st->com[st->shown] = (s1.compose_ns - s0.compose_ns) / 1e6;
		st->y4m[st->shown] = (s1.commit_ns - s0.commit_ns) / 1e6;
		st->shown++;
	}
	s->next_round++;
	s->secure_used += secure;
	return clock_ms(CLOCK_PROCESS_CPUTIME_ID) + child_cpu_ms(dd) - cpu0;
}

static double memcpy_ms(unsigned int w, unsigned int h, unsigned int n)
{
	size_t bytes = (size_t)w * h * 4;
	uint8_t *a = malloc(bytes), *b = malloc(bytes);
	double t_cpy[FRAMES], t;
	unsigned int i;

	if (!a || !b) {
		free(a);
		free(b);
		return 0;
	}
	memset(a, 0x5a, bytes);
	memset(b, 0xa5, bytes);
	for (i = 0; i < n; i++) {
		t = clock_ms(CLOCK_MONOTONIC);
		memcpy(i & 1 ? a : b, i & 1 ? b : a, bytes);
		__asm__ volatile("" : : "r"(a), "r"(b) : "memory");
		t_cpy[i] = clock_ms(CLOCK_MONOTONIC) - t;
	}
	free(a);
	free(b);
	return median(t_cpy, n);
}

/* libyuv's I420 -> XRGB8888 (BT.709 limited) of a w x h picture, median ms. */
static double xrgb_ms(unsigned int w, unsigned int h, unsigned int n)
{
	size_t ysz = (size_t)w * h, csz = (size_t)(w / 2) * (h / 2);
	uint8_t *src = malloc(ysz + 2 * csz), *dst = malloc(ysz * 4);
	double t_cnv[FRAMES], t;
	unsigned int i;

	if (!src || !dst) {
		free(src);
		free(dst);
		return 0;
	}
	for (i = 0; i < ysz + 2 * csz; i++)
		src[i] = (uint8_t)(16 + i * 7 % 220);
	for (i = 0; i < n; i++) {
		t = clock_ms(CLOCK_MONOTONIC);
		I420ToARGBMatrix(src, (int)w, src + ysz, (int)w / 2, src + ysz + csz, (int)w / 2,
				 dst, (int)w * 4, &kYuvH709Constants, (int)w, (int)h);
		__asm__ volatile("" : : "r"(dst) : "memory");
		t_cnv[i] = clock_ms(CLOCK_MONOTONIC) - t;
	}
	free(src);
	free(dst);
	return median(t_cnv, n);
}

struct result {
	unsigned int n, shown;
	double i_bytes, p_bytes, kbps;
	double dec, ren, com, y4m, cpy, xrgb;
	double plain_ms, secure_ms, copies;
	uint64_t converts;	/* pictures converted in place (colorimetry) */
	struct sealed s;
};

static bool run(const struct size *sz, unsigned int cams, unsigned int rounds,
		struct result *r)
{
	struct hub_display_config cfg = { .output = "y4m:/dev/null", .cameras = cams,
				      .names = { "bench", "b", "c", "d" },
				      .width = sz->w, .height = sz->h };
	struct au au[FRAMES];
	struct steps *st = calloc(1, sizeof(*st));
	struct hub_display_stats d0, d1;
	struct vc_verifier *ver = NULL;
	struct hub_display *disp = NULL;
	struct hub_decode *dd = NULL;
	unsigned int i, n_i = 0, shown = 0;
	double plain = 0, secure = 0, ms;
	char err[256] = "out of memory";
	GError *error = NULL;
	bool ok = false;

	memset(r, 0, sizeof(*r));
	r->n = encode(au, sz);
	if (!st || !r->n)
		goto out;
	for (i = 0; i < r->n; i++) {
		if (au[i].idr) {
			r->i_bytes += au[i].map.size;
			n_i++;
		} else {
			r->p_bytes += au[i].map.size;
		}
	}
	r->kbps = (r->i_bytes + r->p_bytes) * 8 * 30 / r->n / 1000;
	r->i_bytes /= n_i ? n_i : 1;
	r->p_bytes /= r->n > n_i ? r->n - n_i : 1;

	if (cams == 1 && seal_all(&r->s, au, r->n, rounds) < 0) {
		snprintf(err, sizeof(err), "sealing failed: %s", vc_last_error());
		goto out;
	}
	if (cams == 1) {
		struct vc_verifier_config vcfg = {
			.camera_pub = vc_key_public(r->s.pipe.cam),
			.session_id = r->s.pipe.session_id,
			.key = &r->s.pipe.key,
			.challenge0_ns = FX_HELLO_NS,
		};

		ver = vc_verifier_new(&vcfg);
		if (!ver) {
			snprintf(err, sizeof(err), "verifier: %s", vc_last_error());
			goto out;
		}
	}
	dd = hub_decode_new(&error);
	disp = dd ? hub_display_open(&cfg, &error) : NULL;
	if (!disp) {
		snprintf(err, sizeof(err), "%s", error->message);
		g_error_free(error);
		goto out;
	}

	hub_display_get_stats(disp, &d0);
	for (i = 0; i < (cams == 1 ? PASSES : 1); i++) {
		ms = play(dd, disp, au, r->n, &r->s, false, NULL, st);
		if (i == 0) {
			r->dec = median(st->dec, st->shown);
			r->ren = median(st->ren, st->shown);
			r->com = median(st->com, st->shown);
			r->y4m = median(st->y4m, st->shown);
			r->shown = st->shown;
		}
		plain += ms;
		shown += st->shown;
		if (cams != 1)
			break;
		ms = play(dd, disp, au, r->n, &r->s, true, ver, st);
		if (ms < 0) {
			snprintf(err, sizeof(err), "a sealed unit did not verify");
			goto out;
		}
		secure += ms;
		shown += st->shown;
	}
	hub_display_get_stats(disp, &d1);
	r->plain_ms = plain / PASSES / r->n;
	r->secure_ms = secure / PASSES / r->n;
	r->copies = (double)(d1.frame_writes - d0.frame_writes +
			     d1.frame_scales - d0.frame_scales) / (shown ? shown : 1);
	r->cpy = memcpy_ms(sz->w, sz->h, r->n);
	r->xrgb = xrgb_ms(sz->w, sz->h, r->n);
	r->converts = d1.frame_converts - d0.frame_converts;
	ok = true;
out:
	if (!ok) {
		printf("%-9s %4u setup failed: %s\n", sz->name, cams, err);
		if (cams == 1)
			sealed_free(&r->s);
	}
	if (ver)
		vc_verifier_free(ver);
	hub_display_close(disp);
	hub_decode_free(dd);
	for (i = 0; i < r->n; i++) {
		gst_buffer_unmap(au[i].buf, &au[i].map);
		gst_buffer_unref(au[i].buf);
	}
	free(st);
	return ok;
}

int main(int argc, char **argv)
{
	unsigned int rounds = argc > 1 ? (unsigned int)atoi(argv[1]) : 10, i;
	struct result r[G_N_ELEMENTS(sizes)], grid;

	if (hub_decode_child_requested(argc, argv))
		decode_child_main();
	bool ok[G_N_ELEMENTS(sizes)];

	if (rounds < 1)
		rounds = 1;
	gst_init(NULL, NULL);
	for (i = 0; i < G_N_ELEMENTS(sizes); i++)
		ok[i] = run(&sizes[i], 1, rounds, &r[i]);

	printf("hub media steps, median ms per frame, decoder from decode.c\n");
	printf("%-9s %4s %6s %7s %8s %6s %7s  %6s %6s %6s %s\n", "size", "cams", "decode",
	       "render", "compose", "total", "/memcpy", "memcpy", "y4m", "xrgb", "frames");
	for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
		const struct result *x = &r[i];
		double total = x->dec + x->ren + x->com;

		if (!ok[i])
			continue;
		printf("%-9s %4u %6.2f %7.2f %8.2f %6.2f %6.2fx  %6.2f %6.2f %6.2f %4u/%u\n",
		       sizes[i].name, 1, x->dec, x->ren, x->com, total, total / x->cpy,
		       x->cpy, x->y4m, x->xrgb, x->shown, x->n);
		bench(sizes[i].name, "render_ms", x->ren, "ms/frame");
		bench(sizes[i].name, "compose_ms", x->com, "ms/frame");
		bench(sizes[i].name, "y4m_ms", x->y4m, "ms/frame");
		bench(sizes[i].name, "xrgb_ms", x->xrgb, "ms/frame");
		bench(sizes[i].name, "colour_converts", (double)x->converts, "frames");
	}
	if (run(&sizes[2], 4, rounds, &grid))
		printf("%-9s %4u %6.2f %7.2f %8.2f %6.2f %6.2fx  %6.2f %6.2f %6s %4u/%u\n",
		       sizes[2].name, 4, grid.dec, grid.ren, grid.com,
		       grid.dec + grid.ren + grid.com,
		       (grid.dec + grid.ren + grid.com) / grid.cpy, grid.cpy, grid.y4m, "",
		       grid.shown, grid.n);
	printf("4 cams: the 1080p camera drawn into its quarter cell of a 1080p grid;\n"
	       "/memcpy: total in units of one memcpy of the XRGB8888 output frame;\n"
	       "y4m: the output's write of its I420 buffer; xrgb: libyuv I420 -> XRGB8888 of a\n"
	       "frame of that size (what a KMS output's render does instead of the I420 copy).\n\n");

	printf("hub security cost on the same units (x264 as the camera, IDR every 1 s, aes-128-gcm)\n");
	printf("%-9s %6s %7s %6s %10s %11s %9s %8s %7s %7s %6s %6s %6s\n", "size", "kbit/s",
	       "I bytes", "P b.", "sign+seal", "open+verify", "AU/s", "streams", "plain",
	       "secure", "ratio", "ratio", "copies");
	printf("%-9s %6s %7s %6s %10s %11s %9s %8s %7s %7s %6s %6s %6s\n", "", "", "mean",
	       "mean", "us/AU", "us/AU", "per core", "per core", "ms/fr", "ms/fr", "meas.",
	       "+o+v", "/frame");
	for (i = 0; i < G_N_ELEMENTS(sizes); i++) {
		const struct result *x = &r[i];
		const char *n = sizes[i].name;
		double aus = 1e6 / x->s.open_verify_us;
		double calc = (x->plain_ms + x->s.open_verify_us / 1e3) / x->plain_ms;

		if (!ok[i])
			continue;
		printf("%-9s %6.0f %7.0f %6.0f %10.1f %11.1f %9.0f %8.0f %7.2f %7.2f %6.3f %6.3f %6.2f\n",
		       n, x->kbps, x->i_bytes, x->p_bytes, x->s.sign_seal_us,
		       x->s.open_verify_us, aus, aus / 30, x->plain_ms, x->secure_ms,
		       x->secure_ms / x->plain_ms, calc, x->copies);
		bench(n, "stream_kbps", x->kbps, "kbit/s");
		bench(n, "i_bytes", x->i_bytes, "B");
		bench(n, "p_bytes", x->p_bytes, "B");
		bench(n, "sign_seal_us", x->s.sign_seal_us, "us/AU");
		bench(n, "open_verify_us", x->s.open_verify_us, "us/AU");
		bench(n, "verify_aus_per_core", aus, "AU/s");
		bench(n, "streams_per_core", aus / 30, "streams");
		bench(n, "plain_cpu_ms", x->plain_ms, "ms/frame");
		bench(n, "secure_cpu_ms", x->secure_ms, "ms/frame");
		bench(n, "ratio_measured", x->secure_ms / x->plain_ms, "x");
		bench(n, "ratio_calc", calc, "x");
		bench(n, "copies_per_frame", x->copies, "copies");
	}
	printf("open+verify: %u sealed copies of each 3 s clip (%u units) through one verifier;\n"
	       "plain = decode -> display, secure = open -> verify -> decode -> display, process CPU\n"
	       "(decoder threads included), %d passes of each alternated; ratio meas. = secure /\n"
	       "plain, ratio +o+v = (plain + open+verify) / plain; copies = raw-frame writes from the\n"
	       "decoded picture to the output buffer per frame shown (display counters: the picture\n"
	       "copied into the y4m output's I420 buffer, + 1 if first scaled into a scratch).\n",
	       rounds, rounds * FRAMES, PASSES);
	for (i = 0; i < G_N_ELEMENTS(sizes); i++)
		if (ok[i])
			sealed_free(&r[i].s);
	gst_deinit();
	for (i = 0; i < G_N_ELEMENTS(sizes); i++)
		if (!ok[i])
			return 1;
	return 0;
}
