// SPDX-License-Identifier: GPL-2.0
/*
 * The hub's decoder: H.264 made here with GStreamer (videotestsrc solid
 * colour -> x264enc) goes through hub_decode_au()/decode_take(), then through
 * the display to its Y4M output. Checks the colour, the capture and
 * show-until times carried per frame (also across wall-clock steps),
 * newest-frame-wins, waiting for an IDR, and that
 * hub_decode_reset() lets nothing older surface.
 */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <linux/veracam.h>
#include <veracam/sim-sensor.h>

#include "decode.h"
#include "decproto.h"
#include "display.h"
#include "hubtest.h"

static const uint32_t cam_colour[] = VERACAM_CAMERA_COLOURS;

/*
 * The show-until time each test AU is queued with, which its frame must
 * carry back: one per capture time, and far ahead of CLOCK_MONOTONIC, so
 * the display shows the frames.
 */
#define UNTIL(ts)	((ts) / 3 + (1ull << 62))

struct au {
	uint8_t *data;
	size_t len;
	bool idr;
	uint64_t ts;
};

struct stream {
	struct au *au;
	unsigned int n;
};

/* n frames of solid @rgb, an IDR every @gop frames, capture times from t0. */
static void encode(struct stream *s, uint32_t rgb, unsigned int w,
		   unsigned int h, unsigned int n, unsigned int gop, uint64_t t0)
{
	char desc[512];
	GError *gerr = NULL;
	GstElement *p;
	GstAppSink *sink;
	GstSample *smp;

	snprintf(desc, sizeof(desc),
		 "videotestsrc pattern=solid-color foreground-color=0xff%06x num-buffers=%u ! "
		 "video/x-raw,format=I420,width=%u,height=%u,framerate=30/1 ! "
		 "x264enc tune=zerolatency speed-preset=ultrafast bframes=0 key-int-max=%u ! "
		 "video/x-h264,stream-format=byte-stream,alignment=au,profile=constrained-baseline ! "
		 "appsink name=sink sync=false", rgb, n, w, h, gop);
	p = gst_parse_launch(desc, &gerr);
	if (!p || gerr)
		g_error("encoder pipeline: %s", gerr ? gerr->message : "?");
	sink = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(p), "sink"));
	gst_element_set_state(p, GST_STATE_PLAYING);
	s->au = calloc(n, sizeof(*s->au));
	s->n = 0;
	while (s->n < n && (smp = gst_app_sink_pull_sample(sink))) {
		GstBuffer *b = gst_sample_get_buffer(smp);
		struct au *a = &s->au[s->n];

		a->len = gst_buffer_get_size(b);
		a->data = malloc(a->len);
		gst_buffer_extract(b, 0, a->data, a->len);
		a->idr = !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
		a->ts = t0 + (uint64_t)s->n * 33333333u;
		s->n++;
		gst_sample_unref(smp);
	}
	CHECK(s->n == n, "encoded %u of %u frames", s->n, n);
	CHECK(s->n && s->au[0].idr, "stream does not start with an IDR");
	gst_element_set_state(p, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(p);
	g_clear_error(&gerr);
}

static void free_stream(struct stream *s)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		free(s->au[i].data);
	free(s->au);
}

static struct hub_decode *new_decoder(void)
{
	g_autoptr(GError) error = NULL;
	struct hub_decode *d = hub_decode_new(&error);

	if (!d)
		g_error("hub_decode_new: %s", error->message);	/* nothing to test without it */
	return d;
}

static bool frame_ready(struct hub_decode *d, int timeout_ms)
{
	struct pollfd pfd = { .fd = hub_decode_fd(d), .events = POLLIN };

	return poll(&pfd, 1, timeout_ms) == 1;
}

/*
 * The next picture within @timeout_ms: the descriptor is also readable for
 * what is not a picture (a new decoder child's greeting).
 */
static bool take_within(struct hub_decode *d, struct hub_picture *pic, int timeout_ms)
{
	struct timespec t0, t;
	int left = timeout_ms;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (left >= 0 && frame_ready(d, left)) {
		if (hub_decode_take(d, pic) == 1)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - (int)((t.tv_sec - t0.tv_sec) * 1000 +
					  (t.tv_nsec - t0.tv_nsec) / 1000000);
	}
	return false;
}

static void wait_decoded(struct hub_decode *d, uint64_t count)
{
	struct hub_decode_stats st;
	int i;

	for (i = 0; i < 500; i++) {
		hub_decode_get_stats(d, &st);
		if (st.decoded >= count)
			return;
		nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
	}
	CHECK(0, "decoded %llu of %llu frames", (unsigned long long)st.decoded,
	      (unsigned long long)count);
}

/* Centre pixel of a decoded picture as 0xRRGGBB (its own matrix/range). */
static uint32_t centre_rgb(const struct hub_picture *p)
{
	unsigned int x = p->width / 2, y = p->height / 2;
	int yy = p->plane[0][y * p->stride[0] + x], u, v, c;
	int yoff = p->full_range ? 0 : 16, ym = p->full_range ? 256 : 298;
	int rv = 409, gu = 100, gv = 208, bu = 516;

	if (p->format == HUB_PIX_NV12) {
		u = p->plane[1][(y / 2) * p->stride[1] + x / 2 * 2];
		v = p->plane[1][(y / 2) * p->stride[1] + x / 2 * 2 + 1];
	} else {
		u = p->plane[1][(y / 2) * p->stride[1] + x / 2];
		v = p->plane[2][(y / 2) * p->stride[2] + x / 2];
	}
	if (p->matrix == HUB_MATRIX_BT709) {
		rv = 459;
		gu = 55;
		gv = 136;
		bu = 541;
	}
	c = (yy - yoff) * ym;
	u -= 128;
	v -= 128;
#define C8(e) ((uint32_t)((e) < 0 ? 0 : (e) > 255 ? 255 : (e)))
	return C8((c + rv * v) >> 8) << 16 | C8((c - gu * u - gv * v) >> 8) << 8 |
	       C8((c + bu * u) >> 8);
#undef C8
}

/* One AU in, its frame out, with its colour and capture time; on screen. */
static void test_decode_colour(void)
{
	struct hub_display_config cfg = { .cameras = 1, .names = { "porch" },
				      .width = 320, .height = 240 };
	struct hub_picture pic = { 0 };
	struct hub_decode_stats st;
	struct stream s;
	struct y4m_file f;
	struct hub_display *disp;
	struct hub_decode *d;
	char path[256], spec[300];
	g_autoptr(GError) error = NULL;
	unsigned int i;

	encode(&s, cam_colour[0], 320, 240, 12, 30, 1763712000000000000ull);
	test_path(path, sizeof(path), "decode.y4m");
	snprintf(spec, sizeof(spec), "y4m:%s", path);
	cfg.output = spec;
	disp = hub_display_open(&cfg, &error);
	g_assert_no_error(error);
	d = new_decoder();
	printf("# decoder: %s\n", hub_decode_decoder(d));
	for (i = 0; i < s.n && disp; i++) {
		int ret = hub_decode_au(d, s.au[i].data, s.au[i].len, s.au[i].ts,
					UNTIL(s.au[i].ts), s.au[i].idr);

		CHECK(ret == 0, "AU %u: %d", i, ret);
		CHECK(frame_ready(d, 5000), "AU %u: no frame within 5 s", i);
		if (hub_decode_take(d, &pic) != 1) {
			CHECK(0, "AU %u: nothing to take", i);
			continue;
		}
		CHECK(pic.width == 320 && pic.height == 240, "size %ux%u", pic.width, pic.height);
		CHECK(pic.capture_ns == s.au[i].ts && pic.show_until_ns == UNTIL(s.au[i].ts),
		      "frame %u carries the times of another AU", i);
		CHECK(colour_near(centre_rgb(&pic), cam_colour[0], 12),
		      "frame %u is %06x, want %06x", i, centre_rgb(&pic), cam_colour[0]);
		CHECK(hub_display_show(disp, 0, &pic) == 0, "hub_display_show");
		settle(disp);
	}
	hub_decode_get_stats(d, &st);
	CHECK(st.pushed == s.n && st.taken == s.n && st.dropped_late == 0,
	      "pushed %llu taken %llu dropped %llu", (unsigned long long)st.pushed,
	      (unsigned long long)st.taken, (unsigned long long)st.dropped_late);
	hub_decode_free(d);
	hub_display_close(disp);

	CHECK(y4m_load(path, &f) && f.frames == s.n + 1, "want %u frames", s.n + 1);
	if (f.frames)
		CHECK(colour_near(y4m_rgb(&f, f.frames - 1, 160, 100), cam_colour[0], 16),
		      "screen shows %06x", y4m_rgb(&f, f.frames - 1, 160, 100));
	y4m_unload(&f);
	test_cleanup(path);
	free_stream(&s);
}

/*
 * The camera's wall clock steps back 2 h mid-stream, then forward 30 s
 * (NTP, settimeofday), with three units in the decoder at a time: every
 * frame taken carries its own capture and show-until times.
 */
static void test_wall_clock_steps(void)
{
	const uint64_t t0 = 1763712000000000000ull, hours2 = 7200000000000ull;
	struct hub_picture pic = { 0 };
	struct hub_decode_stats st;
	struct stream s;
	struct hub_decode *d = new_decoder();
	unsigned int i, right = 0;

	encode(&s, cam_colour[3], 320, 240, 18, 30, t0);
	for (i = 6; i < 12; i++)
		s.au[i].ts -= hours2;
	for (i = 12; i < 18; i++)
		s.au[i].ts += 30000000000ull;
	/* three AUs in the decoder at a time, across each step; the newest comes out */
	for (i = 0; i < s.n; i++) {
		CHECK(hub_decode_au(d, s.au[i].data, s.au[i].len, s.au[i].ts, UNTIL(s.au[i].ts),
				    s.au[i].idr) == 0, "AU %u refused", i);
		if (i % 3 != 2)
			continue;
		wait_decoded(d, i + 1);
		if (hub_decode_take(d, &pic) != 1) {
			CHECK(0, "AU %u: no frame", i);
			continue;
		}
		right += pic.capture_ns == s.au[i].ts && pic.show_until_ns == UNTIL(s.au[i].ts);
		pic.release(&pic);
	}
	hub_decode_get_stats(d, &st);
	CHECK(right == s.n / 3 && st.unmatched == 0, "%u of %u frames with their own times, "
	      "%llu unmatched", right, s.n / 3, (unsigned long long)st.unmatched);
	hub_decode_free(d);
	free_stream(&s);
}

/* Frames not taken in time are replaced by newer ones, and counted. */
static void test_newest_wins(void)
{
	struct hub_picture pic = { 0 };
	struct hub_decode_stats st;
	struct stream s;
	struct hub_decode *d = new_decoder();
	unsigned int i;

	encode(&s, cam_colour[1], 320, 240, 10, 30, 1000000000ull);
	for (i = 0; i < s.n; i++) {
		hub_decode_au(d, s.au[i].data, s.au[i].len, s.au[i].ts, UNTIL(s.au[i].ts),
			      s.au[i].idr);
		wait_decoded(d, i + 1);
	}
	CHECK(hub_decode_take(d, &pic) == 1, "no frame");
	CHECK(pic.capture_ns == s.au[s.n - 1].ts && pic.show_until_ns == UNTIL(s.au[s.n - 1].ts),
	      "not the newest frame");
	release_picture(&pic);
	CHECK(hub_decode_take(d, &pic) == 0, "an older frame surfaced");
	hub_decode_get_stats(d, &st);
	CHECK(st.dropped_late == s.n - 1, "dropped_late %llu, want %u",
	      (unsigned long long)st.dropped_late, s.n - 1);
	hub_decode_free(d);
	free_stream(&s);
}

/*
 * The decoder writes each picture into a slot itself (the child's slot
 * pool, decode_child.c): at a width whose rows GStreamer pads (170: Y rows
 * of 172 bytes, U and V of 88) the hub gets those strides, where a picture
 * the child copied into its slot is packed (170, 85). Three pictures at a
 * time are held, the rest released, across more pictures than there are
 * slots, and each has its own frame's colour and time.
 */
/*
 * Threads of the decoder child that run without its seccomp filter (a
 * thread made before the filter went in keeps running unfiltered unless
 * the filter is synchronised to every thread); *threads counts them all.
 */
/* ThreadSanitizer's runtime starts a thread of its own before main() */
#if defined(__SANITIZE_THREAD__)
#define RUNTIME_THREADS	1u
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define RUNTIME_THREADS	1u
#endif
#endif
#ifndef RUNTIME_THREADS
#define RUNTIME_THREADS	0u
#endif

static unsigned int unfiltered_threads(int pid, unsigned int *threads)
{
	char path[64], line[128];
	unsigned int bad = 0;
	struct dirent *e;
	DIR *dir;

	*threads = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	while (dir && (e = readdir(dir))) {
		char status[sizeof(path) + sizeof(e->d_name) + 16];
		bool filtered = false;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(status, sizeof(status), "%s/%s/status", path, e->d_name);
		f = fopen(status, "r");
		if (!f)
			continue;	/* a thread that ended meanwhile */
		while (fgets(line, sizeof(line), f))
			filtered |= !strcmp(line, "Seccomp:\t2\n");
		fclose(f);
		(*threads)++;
		bad += !filtered;
	}
	if (dir)
		closedir(dir);
	return bad;
}

static void test_decoded_in_slot(void)
{
	struct hub_picture held[3] = { { 0 } };
	struct stream s;
	struct hub_decode *d = new_decoder();
	unsigned int i, in_place = 0;

	if (strcmp(hub_decode_decoder(d), "avdec_h264")) {
		printf("# decoder %s: pictures in the slots not checked\n", hub_decode_decoder(d));
		hub_decode_free(d);
		return;
	}
	encode(&s, cam_colour[2], 170, 96, 3 * DECPROTO_SLOTS, 30, 5000000000ull);
	for (i = 0; i < s.n; i++) {
		struct hub_picture *pic = &held[i % 3];

		release_picture(pic);
		CHECK(hub_decode_au(d, s.au[i].data, s.au[i].len, s.au[i].ts, UNTIL(s.au[i].ts),
				    s.au[i].idr) == 0, "AU %u refused", i);
		if (!take_within(d, pic, 5000)) {
			CHECK(0, "AU %u: no picture within 5 s", i);
			continue;
		}
		in_place += pic->stride[0] == 172 && pic->stride[1] == 88 && pic->stride[2] == 88;
		CHECK(pic->width == 170 && pic->height == 96 && pic->capture_ns == s.au[i].ts,
		      "picture %u: %ux%u, time of another AU", i, pic->width, pic->height);
		CHECK(colour_near(centre_rgb(pic), cam_colour[2], 12), "picture %u is %06x",
		      i, centre_rgb(pic));
	}
	CHECK(in_place == s.n, "%u of %u pictures written into their slot by the decoder "
	      "(strides 172/88/88), the others copied", in_place, s.n);
	/* every thread it decodes with, those made before its filter too */
	{
		unsigned int threads, bad = unfiltered_threads(hub_decode_child_pid(d), &threads);

		CHECK(threads >= 1 && bad <= RUNTIME_THREADS, "decoder child %d: %u of its %u "
		      "threads run without its seccomp filter (%u the sanitizer's)",
		      hub_decode_child_pid(d), bad, threads, RUNTIME_THREADS);
	}
	for (i = 0; i < 3; i++)
		release_picture(&held[i]);
	hub_decode_free(d);
	free_stream(&s);
}

/*
 * After hub_decode_reset() nothing decoded or queued before it comes out, and
 * nothing is decoded before the next IDR.
 */
static void test_reset(void)
{
	struct hub_picture pic = { 0 };
	struct hub_decode_stats st;
	struct stream red, green;
	struct hub_decode *d = new_decoder();
	unsigned int i, got = 0;

	encode(&red, cam_colour[0], 320, 240, 10, 30, 1000000000ull);
	encode(&green, cam_colour[1], 320, 240, 10, 5, 9000000000ull);

	/* a fresh decoder waits for an IDR */
	CHECK(hub_decode_au(d, red.au[1].data, red.au[1].len, red.au[1].ts, UNTIL(red.au[1].ts),
			    false) == -EAGAIN,
	      "P-frame decoded before any IDR");
	for (i = 0; i < 5; i++)
		hub_decode_au(d, red.au[i].data, red.au[i].len, red.au[i].ts, UNTIL(red.au[i].ts),
			      red.au[i].idr);
	CHECK(frame_ready(d, 5000), "no red frame");
	for (; i < red.n; i++)
		hub_decode_au(d, red.au[i].data, red.au[i].len, red.au[i].ts, UNTIL(red.au[i].ts),
			      red.au[i].idr);
	hub_decode_reset(d);	/* red frames waiting and in flight */
	CHECK(hub_decode_take(d, &pic) == 0, "a frame from before the reset surfaced");
	CHECK(!take_within(d, &pic, 300), "decoder still produces frames after reset");
	CHECK(hub_decode_au(d, green.au[1].data, green.au[1].len, green.au[1].ts,
			    UNTIL(green.au[1].ts), false) == -EAGAIN,
	      "P-frame decoded after reset, before an IDR");

	for (i = 0; i < green.n; i++) {
		hub_decode_au(d, green.au[i].data, green.au[i].len, green.au[i].ts,
			      UNTIL(green.au[i].ts), green.au[i].idr);
		if (!take_within(d, &pic, 5000))
			continue;
		got++;
		CHECK(pic.capture_ns >= green.au[0].ts, "red frame after reset");
		CHECK(colour_near(centre_rgb(&pic), cam_colour[1], 12),
		      "frame after reset is %06x", centre_rgb(&pic));
		release_picture(&pic);
	}
	CHECK(got == green.n, "%u of %u green frames", got, green.n);
	hub_decode_get_stats(d, &st);
	CHECK(st.resets == 1 && st.dropped_wait_idr == 2, "resets %llu wait_idr %llu",
	      (unsigned long long)st.resets, (unsigned long long)st.dropped_wait_idr);
	hub_decode_free(d);
	free_stream(&red);
	free_stream(&green);
}

/*
 * A burst bigger than the decoder's backlog: whatever is cut is counted,
 * frames come out in order, and after a cut only an IDR resumes decoding.
 */
static void test_burst(void)
{
	struct hub_picture pic = { 0 };
	struct hub_decode_stats st;
	struct stream s;
	struct hub_decode *d = new_decoder();
	uint64_t last = 0;
	unsigned int i, refused = 0;

	encode(&s, cam_colour[2], 640, 360, 4 * DECODE_BACKLOG, 2 * DECODE_BACKLOG,
	       5000000000ull);
	for (i = 0; i < s.n; i++) {
		int ret = hub_decode_au(d, s.au[i].data, s.au[i].len, s.au[i].ts,
					UNTIL(s.au[i].ts), s.au[i].idr);

		CHECK(ret == 0 || ret == -EAGAIN, "AU %u: %d", i, ret);
		refused += ret == -EAGAIN;
		hub_decode_get_stats(d, &st);
		/* an IDR goes in unless the child's socket is full right now */
		if (ret == -EAGAIN && s.au[i].idr)
			CHECK(st.dropped_behind > 0, "IDR %u refused", i);
		if (hub_decode_take(d, &pic) == 1) {
			CHECK(pic.capture_ns > last, "frames out of order");
			last = pic.capture_ns;
			release_picture(&pic);
		}
	}
	hub_decode_get_stats(d, &st);
	CHECK(st.pushed + refused == s.n, "pushed %llu + refused %u != %u",
	      (unsigned long long)st.pushed, refused, s.n);
	CHECK(st.dropped_backlog + st.dropped_wait_idr + st.dropped_behind >= refused,
	      "refusals not counted");
	printf("# burst of %u AUs: %llu decoded, %u refused (backlog %llu)\n", s.n,
	       (unsigned long long)st.pushed, refused,
	       (unsigned long long)st.dropped_backlog);
	hub_decode_free(d);
	free_stream(&s);
}

/* AU @i of @s into @d; what hub_decode_au() said. */
static int feed(struct hub_decode *d, const struct stream *s, unsigned int i)
{
	return hub_decode_au(d, s->au[i].data, s->au[i].len, s->au[i].ts, UNTIL(s->au[i].ts),
			     s->au[i].idr);
}

/*
 * A child that is starved of CPU (here: stopped) is behind, not failed:
 * the hub never waits for it (its loop serves every camera), drops what
 * does not fit and neither kills nor replaces it; once it runs again it
 * decodes from the next IDR. Stopped for longer than the wedge limit (2 s
 * taking nothing), it is replaced, counted once.
 */
static void test_starved_child(void)
{
	struct hub_picture pic = { 0 };
	struct hub_decode_stats st;
	struct timespec t0, t;
	struct stream s;
	struct hub_decode *d = new_decoder();
	unsigned int i, eio = 0, again = 0;
	int pid = hub_decode_child_pid(d);
	double waited;

	encode(&s, cam_colour[1], 640, 360, 90, 15, 7000000000ull);
	kill(pid, SIGSTOP);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 45; i++) {	/* 1.5 s of video at once: far more than fits */
		int ret = feed(d, &s, i);

		eio += ret == -EIO;
		again += ret == -EAGAIN;
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	waited = (double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9;
	hub_decode_get_stats(d, &st);
	CHECK(eio == 0 && st.child_crashes == 0 && hub_decode_child_pid(d) == pid,
	      "a stopped child was called failed at once: %u -EIO, %llu crashes", eio,
	      (unsigned long long)st.child_crashes);
	CHECK(again > 0 && st.dropped_behind + st.dropped_backlog > 0,
	      "nothing refused while the child was stopped (%u -EAGAIN)", again);
	printf("# stopped child: 45 AUs fed in %.3f s, %u refused (%llu backlog, %llu socket "
	       "full), no restart\n", waited, again, (unsigned long long)st.dropped_backlog,
	       (unsigned long long)st.dropped_behind);
	kill(pid, SIGCONT);
	for (; i < 90; i++) {
		feed(d, &s, i);
		if (take_within(d, &pic, 30)) {
			release_picture(&pic);
			break;
		}
	}
	CHECK(i < 90, "no picture after the child ran again");
	hub_decode_get_stats(d, &st);
	CHECK(st.child_crashes == 0 && hub_decode_child_pid(d) == pid, "the child was replaced");

	/* stopped for good: fed for 3 s at 30 fps, it is replaced once */
	kill(pid, SIGSTOP);
	eio = 0;
	for (i = 0; i < 90; i++) {
		eio += feed(d, &s, i) == -EIO;
		nanosleep(&(struct timespec){ .tv_nsec = 33333333 }, NULL);
	}
	hub_decode_get_stats(d, &st);
	CHECK(eio == 1 && st.child_crashes == 1 && hub_decode_child_pid(d) != pid,
	      "a child taking nothing for 3 s: %u -EIO, %llu crashes, pid %d (was %d)", eio,
	      (unsigned long long)st.child_crashes, hub_decode_child_pid(d), pid);
	kill(pid, SIGKILL);
	hub_decode_free(d);
	free_stream(&s);
}

/*
 * Two cameras, two decoders, AUs interleaved, shown in a 2x2 grid: in every
 * frame written, each cell holds its own camera's colour (or the
 * unavailable screen / black), never the other's.
 */
static void test_two_cameras(void)
{
	struct hub_display_config cfg = { .cameras = 2, .names = { "red", "blue" },
				      .width = 640, .height = 480 };
	struct stream s[2];
	struct hub_decode *d[2];
	struct y4m_file f;
	struct hub_display *disp;
	char path[256], spec[300];
	g_autoptr(GError) error = NULL;
	unsigned int i, c, n, x, y, shown = 0;

	encode(&s[0], cam_colour[0], 320, 240, 10, 30, 1000000000ull);
	encode(&s[1], cam_colour[2], 640, 360, 10, 30, 2000000000ull);
	test_path(path, sizeof(path), "two.y4m");
	snprintf(spec, sizeof(spec), "y4m:%s", path);
	cfg.output = spec;
	disp = hub_display_open(&cfg, &error);
	g_assert_no_error(error);
	if (!disp)
		return;
	d[0] = new_decoder();
	d[1] = new_decoder();
	for (i = 0; i < 10; i++) {
		for (c = 0; c < 2; c++) {
			struct hub_picture pic = { 0 };

			hub_decode_au(d[c], s[c].au[i].data, s[c].au[i].len, s[c].au[i].ts,
				      UNTIL(s[c].au[i].ts), s[c].au[i].idr);
			if (frame_ready(d[c], 5000) && hub_decode_take(d[c], &pic) == 1) {
				shown += hub_display_show(disp, c, &pic) == 0;
				settle(disp);
			}
		}
	}
	hub_display_close(disp);
	hub_decode_free(d[0]);
	hub_decode_free(d[1]);
	CHECK(shown == 20, "%u of 20 frames shown", shown);

	CHECK(y4m_load(path, &f) && f.frames == 21, "want 21 frames");
	for (n = 0; n < f.frames; n++) {
		unsigned int wrong[2] = { 0, 0 };

		for (y = 0; y < 240; y++)
			for (x = 0; x < 640; x++) {
				uint32_t px = y4m_rgb(&f, n, x, y);

				if (x < 320)
					wrong[0] += colour_near(px, cam_colour[2], 40);
				else
					wrong[1] += colour_near(px, cam_colour[0], 40);
			}
		CHECK(!wrong[0] && !wrong[1], "frame %u: %u blue pixels in red's cell, "
		      "%u red pixels in blue's", n, wrong[0], wrong[1]);
	}
	if (f.frames == 21) {
		CHECK(colour_near(y4m_rgb(&f, 20, 160, 100), cam_colour[0], 16), "red cell");
		CHECK(colour_near(y4m_rgb(&f, 20, 480, 120), cam_colour[2], 16), "blue cell");
	}
	y4m_unload(&f);
	test_cleanup(path);
	free_stream(&s[0]);
	free_stream(&s[1]);
}

int main(int argc, char **argv)
{
	GError *gerr = NULL;
	int ret;

	if (hub_decode_child_requested(argc, argv))
		decode_child_main();
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();

	if (!gst_init_check(NULL, NULL, &gerr)) {
		printf("1..0 # SKIP GStreamer: %s\n", gerr ? gerr->message : "?");
		g_clear_error(&gerr);
		return 0;
	}
	g_test_add_func("/hub/decode/decode-colour", test_decode_colour);
	g_test_add_func("/hub/decode/wall-clock-steps", test_wall_clock_steps);
	g_test_add_func("/hub/decode/newest-wins", test_newest_wins);
	g_test_add_func("/hub/decode/decoded-in-slot", test_decoded_in_slot);
	g_test_add_func("/hub/decode/reset", test_reset);
	g_test_add_func("/hub/decode/burst", test_burst);
	g_test_add_func("/hub/decode/starved-child", test_starved_child);
	g_test_add_func("/hub/decode/two-cameras", test_two_cameras);
	ret = g_test_run();
	gst_deinit();
	return ret;
}
