// SPDX-License-Identifier: GPL-2.0
/*
 * bench_hub - cost per frame of the hub's media steps at 720p and 1080p:
 *   decode   decode_au() until decode_take() has the frame (GStreamer,
 *            the decoder decode.c picks);
 *   render   YCbCr -> XRGB8888 conversion with scale-to-fit into the
 *            camera's cell, letterbox and badge (display_stats.render_ns);
 *   compose  cells -> output buffer (display_stats.compose_ns);
 *   total    decode + render + compose: what the hub pays per frame before
 *            the commit (KMS commits are an ioctl; the y4m output used here
 *            converts to I420 and writes, shown apart as "y4m").
 * Baseline in the same run: memcpy of one XRGB8888 output frame.
 *
 * Input: videotestsrc smpte moving 8 px/frame, x264enc zerolatency
 * ultrafast, IDR every 30 frames. Figures are medians over the frames (the
 * machine is shared). Prints a table; asserts nothing.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include "decode.h"
#include "display.h"

#define FRAMES	90

struct au {
	GstBuffer *buf;
	bool idr;
};

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
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

static unsigned int encode(struct au *au, unsigned int w, unsigned int h,
			   unsigned int kbps)
{
	char desc[512];
	GstElement *p;
	GstAppSink *sink;
	GstSample *s;
	unsigned int n = 0;

	snprintf(desc, sizeof(desc),
		 "videotestsrc pattern=smpte horizontal-speed=8 num-buffers=%d ! "
		 "video/x-raw,format=I420,width=%u,height=%u,framerate=30/1 ! "
		 "x264enc tune=zerolatency speed-preset=ultrafast bframes=0 key-int-max=30 bitrate=%u ! "
		 "video/x-h264,stream-format=byte-stream,alignment=au ! appsink name=sink sync=false",
		 FRAMES, w, h, kbps);
	p = gst_parse_launch(desc, NULL);
	if (!p)
		return 0;
	sink = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(p), "sink"));
	gst_element_set_state(p, GST_STATE_PLAYING);
	while (n < FRAMES && (s = gst_app_sink_pull_sample(sink))) {
		au[n].buf = gst_buffer_ref(gst_sample_get_buffer(s));
		au[n].idr = !GST_BUFFER_FLAG_IS_SET(au[n].buf, GST_BUFFER_FLAG_DELTA_UNIT);
		gst_sample_unref(s);
		n++;
	}
	gst_element_set_state(p, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(p);
	return n;
}

static void run(const char *label, unsigned int w, unsigned int h,
		unsigned int kbps, unsigned int cams)
{
	struct display_config cfg = { .output = "y4m:/dev/null", .cameras = cams,
				      .names = { "bench", "b", "c", "d" },
				      .width = w, .height = h };
	double t_dec[FRAMES], t_ren[FRAMES], t_com[FRAMES], t_y4m[FRAMES], t_cpy[FRAMES];
	double dec, ren, com, y4m, cpy;
	struct display_stats s0, s1;
	struct au au[FRAMES];
	struct hub_picture pic;
	struct display *disp;
	struct decode *dd;
	unsigned int n, i, shown = 0;
	uint8_t *a, *b;
	char err[256];
	double t;

	n = encode(au, w, h, kbps);
	dd = decode_new(err, sizeof(err));
	disp = display_open(&cfg, err, sizeof(err));
	if (!n || !dd || !disp) {
		printf("%-7s setup failed: %s\n", label, err);
		return;
	}
	for (i = 0; i < n; i++) {
		struct pollfd pfd = { .fd = decode_fd(dd), .events = POLLIN };
		GstMapInfo m;

		gst_buffer_map(au[i].buf, &m, GST_MAP_READ);
		t = now_ms();
		decode_au(dd, m.data, m.size, (uint64_t)i * 33333333u, au[i].idr);
		gst_buffer_unmap(au[i].buf, &m);
		if (poll(&pfd, 1, 2000) != 1 || decode_take(dd, &pic) != 1)
			continue;
		t_dec[shown] = now_ms() - t;
		display_get_stats(disp, &s0);
		display_show(disp, 0, &pic);
		display_get_stats(disp, &s1);
		t_ren[shown] = (s1.render_ns - s0.render_ns) / 1e6;
		t_com[shown] = (s1.compose_ns - s0.compose_ns) / 1e6;
		t_y4m[shown] = (s1.commit_ns - s0.commit_ns) / 1e6;
		decode_release(&pic);
		shown++;
	}
	a = malloc((size_t)w * h * 4);
	b = malloc((size_t)w * h * 4);
	memset(a, 0x5a, (size_t)w * h * 4);
	memset(b, 0xa5, (size_t)w * h * 4);
	for (i = 0; i < n; i++) {
		t = now_ms();
		memcpy(i & 1 ? a : b, i & 1 ? b : a, (size_t)w * h * 4);
		__asm__ volatile("" : : "r"(a), "r"(b) : "memory");
		t_cpy[i] = now_ms() - t;
	}
	free(a);
	free(b);
	dec = median(t_dec, shown);
	ren = median(t_ren, shown);
	com = median(t_com, shown);
	y4m = median(t_y4m, shown);
	cpy = median(t_cpy, n);
	printf("%-6s %4u %6.2f %7.2f %8.2f %6.2f %6.2fx  %6.2f %6.2f %4u/%u\n",
	       label, cams, dec, ren, com, dec + ren + com, (dec + ren + com) / cpy,
	       cpy, y4m, shown, n);
	display_close(disp);
	decode_free(dd);
	for (i = 0; i < n; i++)
		gst_buffer_unref(au[i].buf);
}

int main(void)
{
	gst_init(NULL, NULL);
	printf("hub media steps, median ms per frame, decoder from decode.c\n");
	printf("%-6s %4s %6s %7s %8s %6s %7s  %6s %6s %s\n", "size", "cams", "decode",
	       "render", "compose", "total", "/memcpy", "memcpy", "y4m", "frames");
	run("720p", 1280, 720, 2500, 1);
	run("1080p", 1920, 1080, 5000, 1);
	run("1080p", 1920, 1080, 5000, 4);
	printf("4 cams: the 1080p camera drawn into its quarter cell of a 1080p grid;\n"
	       "/memcpy: total in units of one memcpy of the XRGB8888 output frame.\n");
	gst_deinit();
	return 0;
}
