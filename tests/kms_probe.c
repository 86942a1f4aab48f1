// SPDX-License-Identifier: GPL-2.0
/*
 * kms_probe - drive the hub's real KMS path (for the test guest, bochs).
 *
 *   kms_probe [--device /dev/dri/cardN] [--legacy] [--shot FILE.png]
 *
 * Two cameras in the 2x2 grid: camera 0 shows a solid frame of its colour
 * (VERACAM_CAMERA_COLOURS[0]) with its verified badge, camera 1 the hub's
 * "stream unavailable" screen (not verified); cells 2 and 3 are black.
 * Then, as a KTAP list:
 *  - frames flip: every commit completes (flip events);
 *  - with --shot: the screen is saved with tests/qemu/screendump and its
 *    pixels are checked (camera colour, unavailable screen, black cells);
 *  - losing DRM master takes the output down, getting it back sets it up
 *    again (recovery commit, modeset) and frames flip again;
 *  - unplugging the connector (forced off through sysfs
 *    /sys/class/drm/cardN-CONNECTOR/status) switches the CRTC off, plugging it back
 *    in sets it up again;
 *  - after hub_display_close() no CRTC or plane scans out a hub framebuffer
 *    and the hub's framebuffers are gone.
 * Exit 0 when all pass, 1 otherwise, 4 (KSFT_SKIP) without a DRM device.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include <linux/veracam.h>
#include <veracam/sim-sensor.h>

#include "clock.h"
#include "display.h"
#include "hubtest.h"
#include "screen.h"

#define KSFT_SKIP	4
#define MAX_FBS		8

static const uint32_t cam_colour[] = VERACAM_CAMERA_COLOURS;
static int test_no, failed;

static void result(bool ok, const char *what)
{
	printf("%s %d %s\n", ok ? "ok" : "not ok", ++test_no, what);
	failed += !ok;
}

/* Glass time (show -> flip completed) of the frames pump() showed, in us. */
static uint64_t glass_us[256];
static unsigned int nglass;

/* Show @n frames of camera 0, each waited for through its flip event. */
static void pump(struct hub_display *d, unsigned int n)
{
	struct hub_display_stats st;
	struct hub_picture p;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct pollfd pfd = { .fd = hub_display_fd(d), .events = POLLIN };

		solid_picture(&p, 640, 480, cam_colour[0], 0);
		p.capture_ns = (uint64_t)clk_real_ns();
		hub_display_show(d, 0, &p);
		free_picture(&p);
		hub_display_unavailable(d, 1, HUB_NOT_VERIFIED);
		if (poll(&pfd, 1, 200) == 1)
			hub_display_dispatch(d);
		hub_display_get_stats(d, &st);
		if (st.on_screen_capture_ns[0] && nglass < 256)
			glass_us[nglass++] = st.glass_ns[0] / 1000;
		hub_display_tick(d, clk_mono_ns());
	}
	/* let the last flip land */
	while (poll(&(struct pollfd){ .fd = hub_display_fd(d), .events = POLLIN }, 1, 200) == 1)
		hub_display_dispatch(d);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Force the first connector of @device on or off through sysfs. */
static bool force_connector(const char *device, const char *state)
{
	const char *card = strrchr(device, '/');
	char pattern[128];
	glob_t g;
	bool ok = false;

	snprintf(pattern, sizeof(pattern), "/sys/class/drm/%s-*/status", card ? card + 1 : device);
	if (glob(pattern, 0, NULL, &g))
		return false;
	if (g.gl_pathc) {
		FILE *f = fopen(g.gl_pathv[0], "w");

		ok = f && fputs(state, f) >= 0;
		if (f)
			ok &= fclose(f) == 0;
	}
	globfree(&g);
	return ok;
}

/* Is any CRTC of @fd active? */
static bool crtc_active(int fd)
{
	drmModeRes *res = drmModeGetResources(fd);
	bool on = false;
	int i;

	for (i = 0; res && i < res->count_crtcs; i++) {
		drmModeCrtc *c = drmModeGetCrtc(fd, res->crtcs[i]);

		on |= c && c->mode_valid;
		drmModeFreeCrtc(c);
	}
	drmModeFreeResources(res);
	return on;
}

/* Framebuffers on any CRTC or plane of @fd. */
static unsigned int scanned_out(int fd, uint32_t *ids, unsigned int max)
{
	drmModeRes *res = drmModeGetResources(fd);
	drmModePlaneRes *pres;
	unsigned int n = 0, i;

	if (!res)
		return 0;
	for (i = 0; i < (unsigned int)res->count_crtcs && n < max; i++) {
		drmModeCrtc *c = drmModeGetCrtc(fd, res->crtcs[i]);

		if (c && c->buffer_id)
			ids[n++] = c->buffer_id;
		drmModeFreeCrtc(c);
	}
	drmModeFreeResources(res);
	drmSetClientCap(fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1);
	pres = drmModeGetPlaneResources(fd);
	for (i = 0; pres && i < pres->count_planes && n < max; i++) {
		drmModePlane *p = drmModeGetPlane(fd, pres->planes[i]);

		if (p && p->fb_id)
			ids[n++] = p->fb_id;
		drmModeFreePlane(p);
	}
	drmModeFreePlaneResources(pres);
	return n;
}

/* Load a PNG as BGRx with GStreamer; returns pixels (g_free) or NULL. */
static uint32_t *load_png(const char *path, unsigned int *w, unsigned int *h)
{
	char desc[512];
	GstElement *p;
	GstSample *s;
	uint32_t *px = NULL;

	snprintf(desc, sizeof(desc),
		 "filesrc location=\"%s\" ! pngdec ! videoconvert ! "
		 "video/x-raw,format=BGRx ! appsink name=sink", path);
	p = gst_parse_launch(desc, NULL);
	if (!p)
		return NULL;
	gst_element_set_state(p, GST_STATE_PLAYING);
	{
		GstElement *sink = gst_bin_get_by_name(GST_BIN(p), "sink");

		s = gst_app_sink_pull_sample(GST_APP_SINK(sink));
		gst_object_unref(sink);
	}
	if (s) {
		GstStructure *st = gst_caps_get_structure(gst_sample_get_caps(s), 0);
		GstBuffer *b = gst_sample_get_buffer(s);
		int iw = 0, ih = 0;

		gst_structure_get_int(st, "width", &iw);
		gst_structure_get_int(st, "height", &ih);
		*w = (unsigned int)iw;
		*h = (unsigned int)ih;
		if (gst_buffer_get_size(b) >= (size_t)iw * ih * 4) {
			px = g_malloc((size_t)iw * ih * 4);
			gst_buffer_extract(b, 0, px, (size_t)iw * ih * 4);
		}
		gst_sample_unref(s);
	}
	gst_element_set_state(p, GST_STATE_NULL);
	gst_object_unref(p);
	return px;
}

static unsigned int count_in(const uint32_t *px, unsigned int stride,
			     unsigned int x0, unsigned int y0, unsigned int x1,
			     unsigned int y1, uint32_t rgb, int tol)
{
	unsigned int x, y, n = 0;

	for (y = y0; y < y1; y++)
		for (x = x0; x < x1; x++)
			n += colour_near(px[(size_t)y * stride + x] & 0xffffff, rgb, tol);
	return n;
}

static void check_screen(const char *png, unsigned int mw, unsigned int mh)
{
	unsigned int w = 0, h = 0, cw, ch;
	uint32_t *px = load_png(png, &w, &h);
	char what[160];

	snprintf(what, sizeof(what), "screendump %s is %ux%u (mode %ux%u)", png, w, h, mw, mh);
	result(px && w == mw && h == mh, what);
	if (!px || w != mw || h != mh) {
		g_free(px);
		return;
	}
	cw = w / 2;
	ch = h / 2;
	/* camera 0: 4:3 frame fills its cell (the mode may not be 4:3: inner part) */
	result(count_in(px, w, cw / 4, ch / 4, cw * 3 / 4, ch * 3 / 4, cam_colour[0], 8) ==
	       (cw / 2) * (ch / 2), "camera 0's cell shows camera 0's colour");
	result(count_in(px, w, 0, ch - ch / 8, cw / 2, ch, SCREEN_BADGE, 8) > 200,
	       "camera 0's cell carries the verified badge");
	result(count_in(px, w, w - cw, 0, w, ch, cam_colour[0], 40) == 0 &&
	       count_in(px, w, w - cw + 2, 2, w - 2, ch - 2, SCREEN_UNAVAIL_BG, 8) > cw * ch / 2 &&
	       count_in(px, w, w - cw, ch / 3, w, ch * 2 / 3, SCREEN_UNAVAIL_FG, 8) > 200,
	       "camera 1's cell is the unavailable screen, nothing of camera 0");
	result(count_in(px, w, 0, ch, w, h, 0, 0) == w * (h - ch),
	       "cells without a camera are black");
	g_free(px);
}

int main(int argc, char **argv)
{
	struct hub_display_config cfg = { .cameras = 2, .names = { "probe-red", "probe-door" } };
	const char *device = "/dev/dri/card0", *shot = NULL;
	struct hub_display_stats st;
	struct hub_display *d;
	uint32_t ours[MAX_FBS], after[MAX_FBS];
	unsigned int nours, nafter, i, j, w, h;
	char spec[300], cmd[600];
	g_autoptr(GError) error = NULL;
	bool clean;
	int fd, opt;

	for (opt = 1; opt < argc; opt++) {
		if (!strcmp(argv[opt], "--legacy"))
			cfg.kms_legacy = true;
		else if (!strcmp(argv[opt], "--device") && opt + 1 < argc)
			device = argv[++opt];
		else if (!strcmp(argv[opt], "--shot") && opt + 1 < argc)
			shot = argv[++opt];
		else {
			fprintf(stderr, "usage: %s [--device DEV] [--legacy] [--shot FILE.png]\n",
				argv[0]);
			return 2;
		}
	}
	printf("TAP version 13\n");
	if (access(device, F_OK)) {
		printf("1..0 # SKIP %s: no DRM device\n", device);
		return KSFT_SKIP;
	}
	gst_init(NULL, NULL);
	snprintf(spec, sizeof(spec), "drm:%s", device);
	cfg.output = spec;
	d = hub_display_open(&cfg, &error);
	if (!d) {
		printf("1..1\nnot ok 1 hub_display_open: %s\n", error->message);
		return 1;
	}
	hub_display_get_size(d, &w, &h);
	printf("# %s %ux%u, %s\n", device, w, h, cfg.kms_legacy ? "legacy" : "atomic if offered");

	pump(d, 30);
	hub_display_get_stats(d, &st);
	printf("# commits %llu completed %llu errors %llu\n",
	       (unsigned long long)st.commits, (unsigned long long)st.completed,
	       (unsigned long long)st.commit_errors);
	result(st.commits >= 2 && st.completed == st.commits && !st.commit_errors,
	       "every commit completes through its flip event");
	qsort(glass_us, nglass, sizeof(glass_us[0]), cmp_u64);
	if (nglass)
		printf("# show -> flip completed, 640x480 frame into a %ux%u grid: "
		       "median %llu us, max %llu us (%u frames)\n", w, h,
		       (unsigned long long)glass_us[nglass / 2],
		       (unsigned long long)glass_us[nglass - 1], nglass);
	if (shot) {
		snprintf(cmd, sizeof(cmd), "tests/qemu/screendump '%s'", shot);
		result(system(cmd) == 0, "tests/qemu/screendump");
		check_screen(shot, w, h);
	}

	/* master: lose it (as on a VT switch), get it back */
	drmDropMaster(hub_display_fd(d));
	hub_display_tick(d, clk_mono_ns());
	pump(d, 3);
	hub_display_get_stats(d, &st);
	result(st.output_lost == 1, "losing master takes the output down");
	pump(d, 10);
	hub_display_get_stats(d, &st);
	printf("# lost %llu restarted %llu commits %llu completed %llu\n",
	       (unsigned long long)st.output_lost, (unsigned long long)st.output_restarted,
	       (unsigned long long)st.commits, (unsigned long long)st.completed);
	result(st.output_restarted == 1 && st.completed == st.commits,
	       "master back: output set up again, frames flip");

	/* hot-unplug and replug */
	if (force_connector(device, "off")) {
		hub_display_tick(d, clk_mono_ns());
		pump(d, 3);
		hub_display_get_stats(d, &st);
		result(st.output_lost == 2 && !crtc_active(hub_display_fd(d)),
		       "connector unplugged: output down, CRTC off");
		force_connector(device, "detect");
		pump(d, 10);
		hub_display_get_stats(d, &st);
		printf("# lost %llu restarted %llu commits %llu completed %llu\n",
		       (unsigned long long)st.output_lost,
		       (unsigned long long)st.output_restarted,
		       (unsigned long long)st.commits, (unsigned long long)st.completed);
		result(st.output_restarted == 2 && st.completed == st.commits &&
		       crtc_active(hub_display_fd(d)),
		       "connector back: output set up again, frames flip");
	} else {
		printf("ok %d # SKIP connector status not writable in sysfs\n", ++test_no);
	}

	nours = scanned_out(hub_display_fd(d), ours, MAX_FBS);
	hub_display_close(d);

	fd = open(device, O_RDWR | O_CLOEXEC);
	nafter = fd >= 0 ? scanned_out(fd, after, MAX_FBS) : 0;
	clean = nours > 0;
	for (i = 0; i < nours; i++) {
		drmModeFB *fb = fd >= 0 ? drmModeGetFB(fd, ours[i]) : NULL;

		clean &= !fb;
		drmModeFreeFB(fb);
		for (j = 0; j < nafter; j++)
			clean &= after[j] != ours[i];
	}
	printf("# hub fbs on screen before close: %u (first %u); fbs on screen after: %u (first %u)\n",
	       nours, nours ? ours[0] : 0, nafter, nafter ? after[0] : 0);
	result(clean, "after exit no CRTC or plane shows a hub framebuffer, all removed");
	if (fd >= 0)
		close(fd);
	printf("1..%d\n", test_no);
	gst_deinit();
	return failed ? 1 : 0;
}
