// SPDX-License-Identifier: GPL-2.0
/*
 * The hub's compositor through its headless output: what is written to
 * the Y4M file is what the screen would show. Pixel checks of the
 * scale-to-fit letterbox, the badge, the unavailable screen, the 2x2 grid,
 * staleness and buffer reuse.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/veracam.h>
#include <veracam/sim-sensor.h>

#include <libyuv/scale.h>

#include "clock.h"
#include "display.h"
#include "output.h"
#include "screen.h"
#include "hubtest.h"

static const uint32_t cam_colour[] = VERACAM_CAMERA_COLOURS;

#define TOL		14
#define T0		1763712000123000000ull	/* a capture time, ns */

/*
 * The display writing to @path. Frames stay fresh for a minute unless a
 * test is about staleness (test_stale() uses the default of 1 s): a
 * loaded machine must not turn another test's cells stale.
 */
static struct hub_display *open_y4m_cfg(const char *path, unsigned int cams, unsigned int w,
					unsigned int h, uint64_t stale_ns, bool grid)
{
	static const char *const names[] = { "front-door", "garden", "garage", "hall" };
	struct hub_display_config cfg = { .cameras = cams, .width = w, .height = h,
				      .stale_ns = stale_ns, .grid = grid };
	g_autoptr(GError) error = NULL;
	char spec[512];
	struct hub_display *d;
	unsigned int i;

	snprintf(spec, sizeof(spec), "y4m:%s", path);
	cfg.output = spec;
	for (i = 0; i < cams; i++)
		cfg.names[i] = names[i];
	d = hub_display_open(&cfg, &error);
	if (!d)
		g_error("hub_display_open: %s", error->message);	/* nothing to test without it */
	return d;
}

static struct hub_display *open_y4m_stale(const char *path, unsigned int cams, unsigned int w,
					  unsigned int h, uint64_t stale_ns)
{
	return open_y4m_cfg(path, cams, w, h, stale_ns, false);
}

static struct hub_display *open_y4m(const char *path, unsigned int cams,
				    unsigned int w, unsigned int h)
{
	return open_y4m_stale(path, cams, w, h, 60000000000ull);
}

static void show_solid(struct hub_display *d, unsigned int cam, unsigned int w,
		       unsigned int h, uint32_t rgb, uint64_t t)
{
	struct hub_picture p;
	int ret;

	solid_picture(&p, w, h, rgb, t);
	ret = hub_display_show(d, cam, &p);
	g_assert_cmpint(ret, ==, 0);
	free_picture(&p);	/* nothing left: the display has it */
	settle(d);
}

static void unavailable(struct hub_display *d, unsigned int cam, enum hub_unavailable why)
{
	int ret = hub_display_unavailable(d, cam, why);

	g_assert_cmpint(ret, ==, 0);
	settle(d);
}

static unsigned int count_near(const struct y4m_file *f, unsigned int n,
			       unsigned int x0, unsigned int y0,
			       unsigned int x1, unsigned int y1, uint32_t rgb)
{
	unsigned int x, y, c = 0;

	for (y = y0; y < y1; y++)
		for (x = x0; x < x1; x++)
			c += colour_near(y4m_rgb(f, n, x, y), rgb, TOL);
	return c;
}

/* 4:3 picture on a 16:9 screen: centred, black pillars, badge on it. */
static void test_scale_to_fit(void)
{
	struct y4m_file f;
	struct hub_display *d;
	char path[256];
	unsigned int fx, n, diff = 0;

	test_path(path, sizeof(path), "fit.y4m");
	d = open_y4m(path, 1, 640, 360);
	show_solid(d, 0, 320, 240, cam_colour[0], T0);
	show_solid(d, 0, 320, 240, cam_colour[0], T0 + 1000000000ull);
	hub_display_close(d);
	CHECK(y4m_load(path, &f), "%s unreadable", path);
	CHECK(f.frames == 3, "%u frames, want 3 (unavailable + 2 shown)", f.frames);
	if (f.frames != 3)
		goto out;
	n = 1;
	/* picture 480x360 at x = 80 */
	CHECK(count_near(&f, n, 0, 0, 78, 360, SCREEN_BLACK) == 78 * 360, "left pillar not black");
	CHECK(count_near(&f, n, 562, 0, 640, 360, SCREEN_BLACK) == 78 * 360, "right pillar not black");
	CHECK(count_near(&f, n, 82, 2, 558, 330, cam_colour[0]) == 476 * 328,
	      "picture area not the camera's colour");
	/* badge: bottom-left of the picture, dark green box with white text */
	CHECK(count_near(&f, n, 82, 334, 500, 356, SCREEN_BADGE) > 1000, "no verified badge");
	CHECK(count_near(&f, n, 82, 334, 500, 356, 0xffffff) > 100, "no badge text");
	/* the capture time is drawn: one second later, other badge pixels */
	for (fx = 82; fx < 500; fx++)
		diff += y4m_rgb(&f, 1, fx, 346) != y4m_rgb(&f, 2, fx, 346);
	CHECK(diff > 0, "badge does not change with the capture time");
out:
	y4m_unload(&f);
	test_cleanup(path);
}

/* The hub's own screen: border, text in the middle, per reason. */
static void test_unavailable(void)
{
	struct hub_display_stats st;
	struct y4m_file f;
	struct hub_display *d;
	char path[256];
	unsigned int x, y, red = 0, diff = 0;

	test_path(path, sizeof(path), "unavail.y4m");
	d = open_y4m(path, 1, 640, 360);
	show_solid(d, 0, 640, 360, cam_colour[0], T0);
	unavailable(d, 0, HUB_NOT_VERIFIED);
	/* the same reason again is free: no commit */
	unavailable(d, 0, HUB_NOT_VERIFIED);
	hub_display_get_stats(d, &st);
	g_assert_cmpuint(st.commits, ==, 3);
	CHECK(hub_display_show(d, 1, NULL) == -EINVAL, "camera 1 of 1 accepted");
	CHECK(hub_display_unavailable(d, 5, HUB_STALE) == -EINVAL, "camera 5 accepted");
	hub_display_close(d);

	CHECK(y4m_load(path, &f), "%s unreadable", path);
	CHECK(f.frames == 3, "%u frames, want 3", f.frames);
	if (f.frames != 3)
		goto out;
	/* frame 0: not connected; frame 2: not verified, after a red frame */
	CHECK(colour_near(y4m_rgb(&f, 0, 1, 1), SCREEN_UNAVAIL_FG, TOL), "no border");
	CHECK(colour_near(y4m_rgb(&f, 0, 20, 20), SCREEN_UNAVAIL_BG, TOL), "no background");
	CHECK(count_near(&f, 0, 0, 100, 640, 260, SCREEN_UNAVAIL_FG) > 500,
	      "no 'STREAM UNAVAILABLE' text");
	CHECK(count_near(&f, 0, 0, 100, 640, 260, 0xffffff) > 300,
	      "no camera name / reason text");
	for (y = 0; y < 360; y++)
		for (x = 0; x < 640; x++) {
			red += colour_near(y4m_rgb(&f, 2, x, y), cam_colour[0], 40);
			diff += y4m_rgb(&f, 0, x, y) != y4m_rgb(&f, 2, x, y);
		}
	CHECK(red == 0, "%u pixels of the camera's frame left on its unavailable screen", red);
	CHECK(diff > 0, "reasons 'not connected' and 'not verified' look the same");
	for (x = 0; x < 640; x++)
		for (y = 10; y < 100; y++)
			CHECK(y4m_rgb(&f, 0, x, y) == y4m_rgb(&f, 2, x, y),
			      "reason changed pixels outside the text at %u,%u", x, y);
out:
	y4m_unload(&f);
	test_cleanup(path);
}

/*
 * Four cameras of different shapes: each cell holds its own colour and
 * black only, never a neighbour's; with three, the fourth cell is black.
 */
static void test_grid(void)
{
	static const unsigned int shape[4][2] = {
		{ 320, 240 }, { 640, 360 }, { 240, 320 }, { 160, 120 },
	};
	struct y4m_file f;
	struct hub_display *d;
	char path[256];
	unsigned int c, j, x, y, last;

	test_path(path, sizeof(path), "grid.y4m");
	d = open_y4m(path, 4, 640, 480);
	for (c = 0; c < 4; c++)
		show_solid(d, c, shape[c][0], shape[c][1], cam_colour[c], T0);
	hub_display_close(d);
	CHECK(y4m_load(path, &f), "%s unreadable", path);
	CHECK(f.frames == 5, "%u frames, want 5", f.frames);
	last = f.frames - 1;
	for (c = 0; c < 4 && f.frames; c++) {
		unsigned int cx = (c & 1) * 320, cy = (c & 2) / 2 * 240;

		CHECK(colour_near(y4m_rgb(&f, last, cx + 160, cy + 120), cam_colour[c], TOL),
		      "cell %u centre is %06x, want %06x", c,
		      y4m_rgb(&f, last, cx + 160, cy + 120), cam_colour[c]);
		for (j = 0; j < 4; j++) {
			unsigned int wrong = 0;

			if (j == c)
				continue;
			for (y = cy; y < cy + 240; y++)
				for (x = cx; x < cx + 320; x++)
					wrong += colour_near(y4m_rgb(&f, last, x, y),
							     cam_colour[j], 40);
			CHECK(!wrong, "cell %u shows %u pixels of camera %u", c, wrong, j);
		}
	}
	/* camera 1 (16:9 in a 4:3 cell) is letterboxed: rows above it black */
	CHECK(count_near(&f, last, 320, 0, 640, 28, SCREEN_BLACK) == 320 * 28,
	      "letterbox of camera 1 not black");
	y4m_unload(&f);

	d = open_y4m(path, 3, 640, 480);
	for (c = 0; c < 3; c++)
		show_solid(d, c, 320, 240, cam_colour[c], T0);
	hub_display_close(d);
	CHECK(y4m_load(path, &f), "%s unreadable", path);
	CHECK(f.frames == 4 &&
	      count_near(&f, f.frames - 1, 320, 240, 640, 480, SCREEN_BLACK) == 320 * 240,
	      "the cell without a camera is not black");
	y4m_unload(&f);

	/* layout = grid with one camera: its picture in the top-left cell, the rest black */
	d = open_y4m_cfg(path, 1, 640, 480, 60000000000ull, true);
	show_solid(d, 0, 320, 240, cam_colour[0], T0);
	hub_display_close(d);
	CHECK(y4m_load(path, &f) && f.frames == 2, "one camera in a grid: want 2 frames");
	if (f.frames == 2) {
		CHECK(count_near(&f, 1, 2, 2, 318, 200, cam_colour[0]) == 316 * 198,
		      "one camera in a grid: the top-left cell is not its picture");
		CHECK(count_near(&f, 1, 320, 0, 640, 480, SCREEN_BLACK) == 320 * 480 &&
		      count_near(&f, 1, 0, 240, 320, 480, SCREEN_BLACK) == 320 * 240,
		      "one camera in a grid: the other three cells are not black");
	}
	y4m_unload(&f);

	/*
	 * Half the width odd (323): in I420 no 2x2 block may hold two cells,
	 * or one camera's chroma would colour the other's edge.
	 */
	d = open_y4m(path, 2, 646, 486);
	for (c = 0; c < 2; c++)
		show_solid(d, c, 320, 240, cam_colour[c], T0);
	hub_display_close(d);
	CHECK(y4m_load(path, &f) && f.frames == 3, "want 3 frames");
	for (y = 10; f.frames == 3 && y < 200; y++)
		for (x = 316; x < 330; x++) {
			uint32_t px = y4m_rgb(&f, 2, x, y);

			CHECK(colour_near(px, cam_colour[0], TOL) || colour_near(px, cam_colour[1], TOL) ||
			      colour_near(px, SCREEN_BLACK, TOL), "%u,%u at the cells' edge is %06x", x, y, px);
		}
	y4m_unload(&f);
	test_cleanup(path);
}

/* No verified frame for 1 s: the cell turns into the stale screen. */
static void test_stale(void)
{
	struct hub_display_stats st;
	struct y4m_file f;
	struct hub_display *d;
	char path[256];
	uint64_t now, at;

	test_path(path, sizeof(path), "stale.y4m");
	d = open_y4m_stale(path, 2, 640, 480, 0);
	show_solid(d, 0, 320, 240, cam_colour[0], T0);
	show_solid(d, 1, 320, 240, cam_colour[1], T0);
	now = clk_mono_ns();
	at = hub_display_tick(d, now + 500000000ull);
	settle(d);
	CHECK(at > now + 500000000ull && at <= now + 1000000000ull,
	      "tick at 0.5 s asks for the next at %.3f s", (double)(at - now) / 1e9);
	hub_display_get_stats(d, &st);
	CHECK(st.commits == 3, "tick at 0.5 s committed (%llu)", (unsigned long long)st.commits);
	/* camera 1 stays fresh, camera 0 does not */
	show_solid(d, 1, 320, 240, cam_colour[1], T0);
	hub_display_tick(d, clk_mono_ns() + 500000000ull + 1000000ull);
	settle(d);
	hub_display_tick(d, now + DISPLAY_DEFAULT_STALE_NS);
	settle(d);
	hub_display_get_stats(d, &st);
	CHECK(st.unavailable[0] == 1 && st.unavailable[1] == 0,
	      "stale switches: %llu, %llu", (unsigned long long)st.unavailable[0],
	      (unsigned long long)st.unavailable[1]);
	/* the display's own switch, counted apart for the hub to say so */
	CHECK(st.expired[0] == 1 && st.expired[1] == 0, "expired: %llu, %llu",
	      (unsigned long long)st.expired[0], (unsigned long long)st.expired[1]);
	hub_display_unavailable(d, 0, HUB_NOT_CONNECTED);
	settle(d);
	hub_display_get_stats(d, &st);
	CHECK(st.unavailable[0] == 2 && st.expired[0] == 1,
	      "a switch the caller asked for counted as the display's own");
	hub_display_close(d);

	CHECK(y4m_load(path, &f), "%s unreadable", path);
	CHECK(f.frames == st.commits, "%u frames for %llu commits", f.frames,
	      (unsigned long long)st.commits);
	if (f.frames) {
		unsigned int last = f.frames - 1;

		CHECK(count_near(&f, last, 0, 0, 320, 240, cam_colour[0]) == 0,
		      "stale camera 0 still visible");
		CHECK(count_near(&f, last, 0, 0, 320, 240, SCREEN_UNAVAIL_FG) > 500,
		      "no unavailable screen for camera 0");
		CHECK(colour_near(y4m_rgb(&f, last, 480, 120), cam_colour[1], TOL),
		      "fresh camera 1 gone");
	}
	y4m_unload(&f);
	test_cleanup(path);
}

/*
 * A frame past its show-until never reaches a composed buffer: camera 0's
 * frame may be shown for 500 ms; a frame of camera 1 600 ms later commits
 * a buffer with camera 0 as "stale" (no tick in between: the timer that
 * would have said so may come late on a loaded hub).
 */
static void test_show_until(void)
{
	struct hub_display_stats st;
	struct hub_picture p;
	struct y4m_file f;
	struct hub_display *d;
	char path[256];

	test_path(path, sizeof(path), "until.y4m");
	d = open_y4m(path, 2, 640, 480);
	solid_picture(&p, 320, 240, cam_colour[0], T0);
	p.show_until_ns = clk_mono_ns() + 500000000ull;
	CHECK(hub_display_show(d, 0, &p) == 0, "hub_display_show");
	settle(d);
	nanosleep(&(struct timespec){ .tv_nsec = 600000000 }, NULL);
	show_solid(d, 1, 320, 240, cam_colour[1], T0);
	hub_display_get_stats(d, &st);
	CHECK(st.expired[0] == 1, "show-until passed: expired %llu",
	      (unsigned long long)st.expired[0]);
	hub_display_close(d);
	CHECK(y4m_load(path, &f) && f.frames == 3, "want 3 frames");
	if (f.frames == 3) {
		CHECK(colour_near(y4m_rgb(&f, 1, 160, 120), cam_colour[0], TOL),
		      "camera 0 not shown while it could be");
		CHECK(count_near(&f, 2, 0, 0, 320, 240, cam_colour[0]) == 0,
		      "camera 0 composed after its show-until");
		CHECK(count_near(&f, 2, 0, 0, 320, 240, SCREEN_UNAVAIL_FG) > 500,
		      "no stale screen for camera 0");
		CHECK(colour_near(y4m_rgb(&f, 2, 480, 120), cam_colour[1], TOL),
		      "camera 1 missing");
	}
	y4m_unload(&f);
	test_cleanup(path);
}

/*
 * Buffers are reused: after full-screen red frames, a narrower green one
 * must have black pillars, not red left over in the buffer.
 */
static void test_buffer_reuse(void)
{
	struct y4m_file f;
	struct hub_display *d;
	char path[256];
	unsigned int i, n;

	test_path(path, sizeof(path), "reuse.y4m");
	d = open_y4m(path, 1, 640, 360);
	for (i = 0; i < 4; i++)
		show_solid(d, 0, 640, 360, cam_colour[0], T0);
	for (i = 0; i < 4; i++)
		show_solid(d, 0, 320, 360, cam_colour[1], T0);
	hub_display_close(d);
	CHECK(y4m_load(path, &f), "%s unreadable", path);
	CHECK(f.frames == 9, "%u frames, want 9", f.frames);
	for (n = 5; n < f.frames; n++) {
		CHECK(count_near(&f, n, 0, 0, 640, 360, cam_colour[0]) == 0,
		      "frame %u: red from an earlier frame", n);
		CHECK(count_near(&f, n, 0, 0, 158, 360, SCREEN_BLACK) == 158 * 360 &&
		      count_near(&f, n, 482, 0, 640, 360, SCREEN_BLACK) == 158 * 360,
		      "frame %u: pillars not black", n);
	}
	y4m_unload(&f);
	test_cleanup(path);
}

/* The capture time on screen and the glass latency follow the flips. */
static void test_glass(void)
{
	struct hub_display_stats st;
	struct timespec ts;
	struct hub_display *d;
	char path[256];
	uint64_t cap;

	test_path(path, sizeof(path), "glass.y4m");
	d = open_y4m(path, 2, 320, 240);
	clock_gettime(CLOCK_REALTIME, &ts);
	cap = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - 50000000ull;
	show_solid(d, 1, 160, 120, cam_colour[1], cap);
	hub_display_get_stats(d, &st);
	CHECK(st.on_screen_capture_ns[1] == cap && st.on_screen_capture_ns[0] == 0,
	      "capture times on screen: %llu %llu",
	      (unsigned long long)st.on_screen_capture_ns[0],
	      (unsigned long long)st.on_screen_capture_ns[1]);
	CHECK(st.glass_ns[1] >= 50000000ull && st.glass_ns[1] < 1050000000ull,
	      "glass latency %llu ns for a frame captured 50 ms ago",
	      (unsigned long long)st.glass_ns[1]);
	unavailable(d, 1, HUB_NOT_VERIFIED);
	hub_display_get_stats(d, &st);
	CHECK(st.on_screen_capture_ns[1] == 0, "unavailable screen reports a frame on screen");
	hub_display_close(d);
	test_cleanup(path);
}

/* A 320x240 NV12 picture over @y and @uv (not owned), luma stride 400. */
static void nv12_picture(struct hub_picture *p, const uint8_t *y, const uint8_t *uv,
			 size_t uv_stride)
{
	memset(p, 0, sizeof(*p));
	p->format = HUB_PIX_NV12;
	p->width = 320;
	p->height = 240;
	p->plane[0] = y;
	p->plane[1] = uv;
	p->stride[0] = 400;
	p->stride[1] = uv_stride;
}

/* Stride and format handling: NV12 and a padded stride. */
static void test_nv12(void)
{
	struct hub_display_stats st;
	struct hub_picture p;
	struct y4m_file f;
	struct hub_display *d;
	char path[256];
	uint8_t *y, *uv;
	size_t i;

	y = malloc(400 * 240);
	uv = malloc(400 * 120);
	memset(y, 81, 400 * 240);		/* limited BT.601 red: 81, 90, 240 */
	for (i = 0; i < 400 * 120; i += 2) {
		uv[i] = 90;
		uv[i + 1] = 240;
	}
	test_path(path, sizeof(path), "nv12.y4m");
	d = open_y4m(path, 1, 320, 240);
	nv12_picture(&p, y, uv, 400);
	CHECK(hub_display_show(d, 0, &p) == 0, "NV12 refused");
	settle(d);
	nv12_picture(&p, y, uv, 100);
	CHECK(hub_display_show(d, 0, &p) == -EINVAL, "short UV stride accepted");
	hub_display_close(d);
	CHECK(y4m_load(path, &f) && f.frames == 2, "want 2 frames");
	if (f.frames == 2)
		CHECK(colour_near(y4m_rgb(&f, 1, 160, 100), 0xff0000, TOL),
		      "NV12 red shows as %06x", y4m_rgb(&f, 1, 160, 100));
	y4m_unload(&f);
	/* scaled into a larger I420 output: luma scaled there, chroma split from a scratch */
	d = open_y4m(path, 1, 640, 480);
	nv12_picture(&p, y, uv, 400);
	CHECK(hub_display_show(d, 0, &p) == 0, "NV12 refused");
	settle(d);
	hub_display_get_stats(d, &st);
	CHECK(st.frame_writes == 1 && st.frame_scales == 1, "NV12 scaled: %llu writes, %llu scales",
	      (unsigned long long)st.frame_writes, (unsigned long long)st.frame_scales);
	hub_display_close(d);
	CHECK(y4m_load(path, &f) && f.frames == 2, "want 2 frames");
	if (f.frames == 2)
		CHECK(count_near(&f, 1, 0, 0, 640, 440, 0xff0000) == 640 * 440,
		      "NV12 scaled: red shows as %06x", y4m_rgb(&f, 1, 320, 200));
	y4m_unload(&f);
	test_cleanup(path);
	free(y);
	free(uv);
}

/*
 * Only what changed is drawn: in a grid of four, once every buffer holds
 * all four cells, each new frame of one camera costs one frame write (its
 * own cell, converted straight into the buffer). Every frame written shows
 * that camera's newest picture (three colours in turn, so a buffer that
 * skipped a redraw would show one from two frames before) and the other
 * cameras unchanged.
 */
static void test_damage(void)
{
	static const uint32_t turn[3] = { 0xd02020, 0x20b030, 0xd0c020 };
	struct hub_display_stats s0, s1;
	struct y4m_file f;
	struct hub_display *d;
	char path[256];
	unsigned int c, i, first;

	test_path(path, sizeof(path), "damage.y4m");
	d = open_y4m(path, 4, 640, 480);
	for (c = 0; c < 4; c++)
		show_solid(d, c, 320, 240, cam_colour[c], T0);
	for (i = 0; i < OUTPUT_BUFFERS; i++)	/* every buffer catches up */
		show_solid(d, 2, 320, 240, turn[2], T0);
	hub_display_get_stats(d, &s0);
	for (i = 0; i < 6; i++)
		show_solid(d, 2, 320, 240, turn[i % 3], T0);
	hub_display_get_stats(d, &s1);
	CHECK(s1.commits - s0.commits == 6, "%llu commits for 6 frames",
	      (unsigned long long)(s1.commits - s0.commits));
	CHECK(s1.frame_writes - s0.frame_writes == 6 && s1.frame_scales == s0.frame_scales,
	      "6 frames of one camera cost %llu frame writes and %llu scales, want 6 and 0",
	      (unsigned long long)(s1.frame_writes - s0.frame_writes),
	      (unsigned long long)(s1.frame_scales - s0.frame_scales));
	hub_display_close(d);
	CHECK(y4m_load(path, &f) && f.frames >= 6, "%s: want 6 frames or more", path);
	first = f.frames >= 6 ? f.frames - 6 : 0;
	for (i = 0; f.frames >= 6 && i < 6; i++) {
		for (c = 0; c < 4; c++) {
			unsigned int cx = (c & 1) * 320, cy = (c & 2) / 2 * 240;
			uint32_t want = c == 2 ? turn[i % 3] : cam_colour[c];
			unsigned int n = count_near(&f, first + i, cx, cy, cx + 320, cy + 200, want);

			CHECK(n == 320 * 200, "frame %u, cell %u: %u of 64000 pixels %06x, "
			      "%06x at the centre", i, c, n, want,
			      y4m_rgb(&f, first + i, cx + 160, cy + 100));
		}
	}
	y4m_unload(&f);
	test_cleanup(path);
}

/*
 * A commit whose completion never comes (a lost flip event) is given up
 * within half a second: the output is started again and the screen shows
 * the cells as they are, not what was on it.
 */
static void test_given_up(void)
{
	struct hub_display_stats st;
	struct hub_picture p;
	struct y4m_file f;
	struct hub_display *d;
	char path[256];

	test_path(path, sizeof(path), "givenup.y4m");
	d = open_y4m(path, 1, 320, 240);
	settle(d);
	solid_picture(&p, 320, 240, cam_colour[0], T0);
	CHECK(hub_display_show(d, 0, &p) == 0, "hub_display_show");
	/* no dispatch: the completion is lost; a tick comes 0.6 s later */
	hub_display_tick(d, clk_mono_ns() + 600000000ull);
	hub_display_get_stats(d, &st);
	CHECK(st.commits_given_up == 1 && st.output_lost == 1 && st.output_restarted == 1,
	      "given up %llu, lost %llu, restarted %llu: want 1 each",
	      (unsigned long long)st.commits_given_up, (unsigned long long)st.output_lost,
	      (unsigned long long)st.output_restarted);
	CHECK(st.commits == 3, "%llu commits, want 3 (open, frame, after the restart)",
	      (unsigned long long)st.commits);
	hub_display_close(d);
	CHECK(y4m_load(path, &f) && f.frames == 3, "want 3 frames");
	if (f.frames == 3)
		CHECK(count_near(&f, 2, 0, 0, 320, 200, cam_colour[0]) == 320 * 200,
		      "after the restart the frame is not drawn whole");
	y4m_unload(&f);
	test_cleanup(path);
}

/* Frames shown faster than the refresh are coalesced: the newest wins. */
static void test_refresh(void)
{
	struct hub_display_stats s0, s1;
	struct hub_picture p;
	struct y4m_file f;
	struct hub_display *d;
	char path[256];
	unsigned int i;

	test_path(path, sizeof(path), "refresh.y4m");
	d = open_y4m(path, 1, 320, 240);
	settle(d);
	hub_display_get_stats(d, &s0);
	for (i = 0; i < 10; i++) {
		solid_picture(&p, 320, 240, cam_colour[i % 4], T0 + i);
		CHECK(hub_display_show(d, 0, &p) == 0, "hub_display_show");
	}
	hub_display_get_stats(d, &s1);
	CHECK(s1.commits - s0.commits == 1, "%llu commits for 10 frames in one refresh period",
	      (unsigned long long)(s1.commits - s0.commits));
	settle(d);
	hub_display_get_stats(d, &s1);
	CHECK(s1.commits - s0.commits == 2 && s1.on_screen_capture_ns[0] == T0 + 9,
	      "%llu commits, on screen %llu: want 2, the newest frame",
	      (unsigned long long)(s1.commits - s0.commits),
	      (unsigned long long)(s1.on_screen_capture_ns[0] - T0));
	hub_display_close(d);
	CHECK(y4m_load(path, &f) && f.frames == 3, "want 3 frames");
	if (f.frames == 3)
		CHECK(colour_near(y4m_rgb(&f, 2, 160, 100), cam_colour[9 % 4], TOL),
		      "the last frame written is not the newest shown");
	y4m_unload(&f);
	test_cleanup(path);
}

/*
 * A w x h I420 picture of the given colorimetry with a texture (a gradient
 * with noise in each plane, inside the legal range), planes malloc'ed, for
 * checks sample by sample.
 */
static void textured_picture(struct hub_picture *p, unsigned int w, unsigned int h,
			     enum hub_matrix m, bool full, uint64_t t)
{
	unsigned int x, y, k, seed = 12345;

	solid_picture(p, w, h, 0, t);
	p->matrix = m;
	p->full_range = full;
	for (k = 0; k < 3; k++) {
		unsigned int pw = k ? (w + 1) / 2 : w, ph = k ? (h + 1) / 2 : h;
		uint8_t *pl = (uint8_t *)p->plane[k];

		for (y = 0; y < ph; y++)
			for (x = 0; x < pw; x++) {
				seed = seed * 1103515245u + 12345u;
				pl[y * pw + x] = (uint8_t)(32 + (x * 3 + y * 2) % 160 +
							   (seed >> 16) % 24);
			}
	}
}

/* Samples of plane k of @p and frame n of @f (at x0, y0) that differ, over w x h. */
static unsigned int plane_diff(const struct y4m_file *f, unsigned int n,
			       const struct hub_picture *p, unsigned int k,
			       unsigned int x0, unsigned int y0, unsigned int w, unsigned int h)
{
	unsigned int x, y, diff = 0;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			diff += y4m_sample(f, n, k, x0 + x, y0 + y) !=
				p->plane[k][y * p->stride[k] + x];
	return diff;
}

/*
 * The y4m frame is written from the decoded picture: a picture of the
 * output's colorimetry (BT.601 limited up to 576 lines, BT.709 limited
 * above) and the cell's size is in the frame sample for sample (its rows
 * above the badge), at one frame write per frame, no scale, no
 * conversion; a picture scaled into a grid cell is libyuv's bilinear
 * scale of it, still one write.
 */
static void test_y4m_copy(void)
{
	static const struct { unsigned int w, h, cams; enum hub_matrix m; } out[] = {
		{ 320, 240, 1, HUB_MATRIX_BT601 }, { 1280, 720, 1, HUB_MATRIX_BT709 },
		{ 1280, 720, 4, HUB_MATRIX_BT709 },
	};
	struct hub_display_stats s0, s1;
	struct hub_picture p, ref;
	struct y4m_file f;
	struct hub_display *d;
	char path[256];
	unsigned int i, k;

	for (i = 0; i < sizeof(out) / sizeof(out[0]); i++) {
		unsigned int cw = out[i].cams == 1 ? out[i].w : out[i].w / 2;
		unsigned int ch = out[i].cams == 1 ? out[i].h : out[i].h / 2;
		/* rows clear of the badge (bottom left) */
		unsigned int rows = ch - (out[i].w >= 640 ? 2 * 14 : 14);

		test_path(path, sizeof(path), "copy.y4m");
		d = open_y4m(path, out[i].cams, out[i].w, out[i].h);
		/* 1:1 full screen; in the grid, a 1280x720 camera in a 640x360 cell */
		textured_picture(&p, out[i].w, out[i].h, out[i].m, false, T0);
		textured_picture(&ref, cw, ch, out[i].m, false, T0);
		if (cw != out[i].w)
			CHECK(I420Scale(p.plane[0], (int)p.stride[0], p.plane[1], (int)p.stride[1],
					p.plane[2], (int)p.stride[2], (int)out[i].w, (int)out[i].h,
					(uint8_t *)ref.plane[0], (int)cw, (uint8_t *)ref.plane[1],
					(int)cw / 2, (uint8_t *)ref.plane[2], (int)cw / 2,
					(int)cw, (int)ch, kFilterBilinear) == 0, "I420Scale");
		else
			for (k = 0; k < 3; k++)
				memcpy((uint8_t *)ref.plane[k], p.plane[k],
				       k ? cw * ch / 4 : cw * ch);
		settle(d);
		hub_display_get_stats(d, &s0);
		CHECK(hub_display_show(d, 0, &p) == 0, "hub_display_show");
		settle(d);
		hub_display_get_stats(d, &s1);
		CHECK(s1.frame_writes - s0.frame_writes == 1 && s1.frame_scales == s0.frame_scales &&
		      s1.frame_converts == s0.frame_converts,
		      "%ux%u: one frame cost %llu writes, %llu scales, %llu conversions; want 1, 0, 0",
		      out[i].w, out[i].h,
		      (unsigned long long)(s1.frame_writes - s0.frame_writes),
		      (unsigned long long)(s1.frame_scales - s0.frame_scales),
		      (unsigned long long)(s1.frame_converts - s0.frame_converts));
		hub_display_close(d);
		CHECK(y4m_load(path, &f) && f.frames == 2, "%ux%u: want 2 frames", out[i].w,
		      out[i].h);
		if (f.frames == 2) {
			CHECK(!f.full_range && f.bt709 == (out[i].m == HUB_MATRIX_BT709),
			      "%ux%u: header says full range %d, BT.709 %d", out[i].w, out[i].h,
			      f.full_range, f.bt709);
			for (k = 0; k < 3; k++) {
				unsigned int n = plane_diff(&f, 1, &ref, k, 0, 0,
							    k ? cw / 2 : cw, k ? rows / 2 : rows);

				CHECK(n == 0, "%ux%u, %u cameras: %u samples of plane %u differ "
				      "from the decoded picture", out[i].w, out[i].h,
				      out[i].cams, n, k);
			}
		}
		y4m_unload(&f);
		free_picture(&ref);
		test_cleanup(path);
	}
}

/*
 * A picture whose matrix or range is not the output's is converted in
 * place (counted), to the same colours: BT.601 limited and full range on
 * a BT.709 output, BT.709 on a BT.601 one.
 */
static void test_y4m_convert(void)
{
	static const struct { unsigned int w, h; enum hub_matrix m; bool full; } c[] = {
		{ 1280, 720, HUB_MATRIX_BT601, false }, { 1280, 720, HUB_MATRIX_BT601, true },
		{ 320, 240, HUB_MATRIX_BT709, false },
	};
	struct hub_display_stats st;
	struct hub_picture p;
	struct y4m_file f;
	struct hub_display *d;
	char path[256];
	unsigned int i, j;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct y4m_file src = { .width = c[i].w, .height = c[i].h, .frames = 1,
					.full_range = c[i].full,
					.bt709 = c[i].m == HUB_MATRIX_BT709 };
		unsigned int bad = 0, x, y;

		test_path(path, sizeof(path), "conv.y4m");
		d = open_y4m(path, 1, c[i].w, c[i].h);
		textured_picture(&p, c[i].w, c[i].h, c[i].m, c[i].full, T0);
		/* the source's colours, read as a file of its own colorimetry */
		src.data = malloc((size_t)c[i].w * c[i].h * 3 / 2);
		for (j = 0; j < 3; j++)
			memcpy(src.data + (j ? (size_t)c[i].w * c[i].h * (j + 3) / 4 : 0),
			       p.plane[j], (size_t)c[i].w * c[i].h / (j ? 4 : 1));
		CHECK(hub_display_show(d, 0, &p) == 0, "hub_display_show");
		settle(d);
		hub_display_get_stats(d, &st);
		CHECK(st.frame_converts == 1 && st.frame_writes == 1,
		      "%u: %llu conversions, %llu writes; want 1, 1", i,
		      (unsigned long long)st.frame_converts, (unsigned long long)st.frame_writes);
		hub_display_close(d);
		CHECK(y4m_load(path, &f) && f.frames == 2, "want 2 frames");
		for (y = 0; f.frames == 2 && y < c[i].h - 40; y += 3)
			for (x = 0; x < c[i].w; x += 3)
				bad += !colour_near(y4m_rgb(&f, 1, x, y), y4m_rgb(&src, 0, x, y), 3);
		CHECK(bad == 0, "%u: %u pixels not the picture's colour after conversion", i, bad);
		y4m_unload(&f);
		free(src.data);
		test_cleanup(path);
	}
}

static unsigned int released;

static void count_release(struct hub_picture *p)
{
	released++;
	free_picture(p);
}

/*
 * The display keeps the picture it shows and gives it back exactly once:
 * when a newer one replaces it, when the cell turns unavailable (nothing
 * of it is kept to be drawn again), on a refused picture, and on close.
 */
static void test_release(void)
{
	struct hub_picture p;
	struct hub_display *d;
	char path[256];

	test_path(path, sizeof(path), "release.y4m");
	d = open_y4m(path, 2, 320, 240);
	solid_picture(&p, 160, 120, cam_colour[0], T0);
	p.release = count_release;
	hub_display_show(d, 0, &p);
	CHECK(released == 0 && !p.release, "shown picture released (%u) or not taken", released);
	solid_picture(&p, 160, 120, cam_colour[0], T0);
	p.release = count_release;
	hub_display_show(d, 0, &p);
	CHECK(released == 1, "replaced picture: %u releases, want 1", released);
	hub_display_unavailable(d, 0, HUB_NOT_VERIFIED);
	CHECK(released == 2, "unavailable cell: %u releases, want 2", released);
	solid_picture(&p, 160, 120, cam_colour[1], T0);
	p.release = count_release;
	p.stride[0] = 1;
	CHECK(hub_display_show(d, 1, &p) == -EINVAL && released == 3,
	      "refused picture: %u releases, want 3", released);
	solid_picture(&p, 160, 120, cam_colour[1], T0);
	p.release = count_release;
	hub_display_show(d, 1, &p);
	hub_display_close(d);
	CHECK(released == 4, "close: %u releases, want 4", released);
	test_cleanup(path);
}

/* The output grammar, as the configuration check and hub_display_open() read it. */
static void test_output_grammar(void)
{
	static const char *const good[] = { "drm", "drm:/dev/dri/card1", "y4m:/tmp/x.y4m",
					    "y4m:out.y4m" };
	static const char *const bad[] = { "", "vga", "drm:", "drm:card0", "y4m:", "DRM" };
	struct hub_display_config cfg = { .cameras = 1, .names = { "porch" } };
	g_autoptr(GError) error = NULL;
	unsigned int i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(hub_display_output_valid(good[i]), "'%s' refused", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!hub_display_output_valid(bad[i]), "'%s' accepted", bad[i]);
	cfg.output = "drm:card0";
	g_assert_null(hub_display_open(&cfg, &error));
	g_assert_error(error, HUB_ERROR, HUB_ERROR_CONFIG);
	CHECK(error && strstr(error->message, "unknown display 'drm:card0'"),
	      "hub_display_open(drm:card0): '%s'", error ? error->message : "");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	g_test_add_func("/hub/display/output-grammar", test_output_grammar);
	g_test_add_func("/hub/display/scale-to-fit", test_scale_to_fit);
	g_test_add_func("/hub/display/unavailable", test_unavailable);
	g_test_add_func("/hub/display/grid", test_grid);
	g_test_add_func("/hub/display/stale", test_stale);
	g_test_add_func("/hub/display/show-until", test_show_until);
	g_test_add_func("/hub/display/buffer-reuse", test_buffer_reuse);
	g_test_add_func("/hub/display/nv12", test_nv12);
	g_test_add_func("/hub/display/glass", test_glass);
	g_test_add_func("/hub/display/damage", test_damage);
	g_test_add_func("/hub/display/given-up", test_given_up);
	g_test_add_func("/hub/display/refresh", test_refresh);
	g_test_add_func("/hub/display/release", test_release);
	g_test_add_func("/hub/display/y4m-copy", test_y4m_copy);
	g_test_add_func("/hub/display/y4m-convert", test_y4m_convert);
	return g_test_run();
}
