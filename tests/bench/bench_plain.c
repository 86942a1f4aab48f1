// SPDX-License-Identifier: GPL-2.0
/*
 * bench_plain - the baseline bench_chain sets veracamd against: a plain
 * GStreamer RTP sender and receiver, no security, showing and encoding
 * exactly what the camera does.
 *
 *   bench_plain send --size WxH --fps N --bitrate BPS --port PORT
 *                    [--source pattern:RRGGBB,scene=moving] --log FILE
 *     the pattern camera's picture (cam_pattern_bin_new: same scene, name,
 *     tag and digits, same production-time stamp) ! x264enc with the
 *     camera's properties (cam_encoder_x264_settings, IDR every second) !
 *     h264parse config-interval=-1 ! rtph264pay ! udpsink 127.0.0.1:PORT,
 *     one pipeline, no appsink/appsrc hops.
 *   bench_plain recv --port PORT [--y4m PATH] --log FILE
 *     udpsrc ! rtph264depay ! h264parse ! avdec_h264 (the hub's decoder
 *     settings: slice threads, no corrupt output) ! videoconvert to BGRx
 *     (XRGB8888, what the hub composes for its display: the display work)
 *     ! appsink (newest frame wins, as in the hub); the main thread then
 *     does what the hub's y4m output does with a composed buffer: converts
 *     it back to 4:2:0 (GstVideoConverter) and writes it as a y4m frame.
 *     The CPU time of that y4m step (main thread) is logged apart, so the
 *     work without it - what a receiver with a screen does - is known too.
 *
 * Both run until SIGUSR2. SIGUSR1 opens the measuring window, SIGUSR2
 * closes it: the process then writes to FILE its CPU (getrusage, user +
 * system, all threads) and frames over the window, its peak RSS, and one
 * line per frame - the sender "c SEQ NS" for every frame (its production
 * time, CLOCK_MONOTONIC, stamped where videotestsrc pushes it, as the
 * camera stamps it), the receiver "w SEQ NS" for the frames written in the
 * window (CLOCK_MONOTONIC when the y4m write returned) - and exits 0. SEQ
 * is the frame number the sender burns into the picture as the veracam.ko
 * tag; the receiver reads it back from the decoded picture (before the
 * conversion, carried on by the frame's PTS), so frames are joined by
 * what they show, whatever was lost, dropped or reordered on the way
 * (bench_chain does the join).
 * Exit status 1 on a pipeline error, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <gst/app/gstappsink.h>

#include "camera.h"

/* Frames remembered per side: 2^16 at 30 fps = 36 min, far beyond a phase. */
#define RECORDS		65536u
#define PLAIN_TAG	0x706c6e00u	/* the camera tag the sender draws ("pln") */
#define RTP_PT		96
#define TAG_RING	16	/* decoded pictures between the decoder and the main thread */

static gchar *opt_size = "1280x720", *opt_bitrate = "2500k", *opt_log,
	     *opt_source = "pattern:3060c0,scene=moving", *opt_y4m = "/dev/null";
static gint opt_fps = 30, opt_port;

static const GOptionEntry entries[] = {
	{ "size", 0, 0, G_OPTION_ARG_STRING, &opt_size, "send: WIDTHxHEIGHT (1280x720)", "WxH" },
	{ "fps", 0, 0, G_OPTION_ARG_INT, &opt_fps, "send: frames per second (30)", "N" },
	{ "bitrate", 0, 0, G_OPTION_ARG_STRING, &opt_bitrate,
	  "send: bit/s, k or M suffix (2500k)", "BPS" },
	{ "source", 0, 0, G_OPTION_ARG_STRING, &opt_source,
	  "send: pattern source (pattern:3060c0,scene=moving)", "SOURCE" },
	{ "port", 0, 0, G_OPTION_ARG_INT, &opt_port, "UDP port on 127.0.0.1", "PORT" },
	{ "y4m", 0, 0, G_OPTION_ARG_STRING, &opt_y4m, "recv: y4m output (/dev/null)", "PATH" },
	{ "log", 0, 0, G_OPTION_ARG_STRING, &opt_log, "where the window's figures go", "FILE" },
	G_OPTION_ENTRY_NULL
};

/*
 * One frame's time by its number. The sender's are written by the
 * streaming thread and read once its pipeline has stopped; the receiver's
 * by the main thread.
 */
struct record {
	uint32_t seq;
	uint64_t ns;
};

struct side {
	GstElement *pipeline;
	atomic_uint frames;		/* sender: into the encoder; receiver: written */
	struct record *rec;		/* RECORDS, indexed by seq % RECORDS */
	unsigned recorded;		/* highest index + 1 ever written */
	/* sender: units since the window opened, [0] P, [1] IDR */
	atomic_uint units[2];
	atomic_uint_fast64_t unit_bytes[2];
	/* main thread: the window */
	bool open;
	unsigned frames0;
	double cpu0;
	uint64_t t0_ns;
	uint64_t untagged;		/* receiver: frames whose tag did not read */
	uint64_t y4m_ns;		/* receiver: main-thread CPU of the y4m step */
	/* receiver: tags read off decoded pictures, by PTS (decoder thread -> main) */
	pthread_mutex_t tag_lock;
	struct {
		GstClockTime pts;
		int64_t seq;		/* -1: unreadable */
	} tags[TAG_RING];
	unsigned tag_next;
};

/* What the window measured, taken when it closes. */
struct figures {
	double seconds, cpu;
	unsigned frames, units[2];
	uint64_t unit_bytes[2];
	double y4m_cpu;
	long maxrss_kb;
};

static int usage_error(const char *msg)
{
	fprintf(stderr, "bench_plain: %s\n", msg);
	return 2;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static bool parse_bitrate(const char *s, unsigned *kbps)
{
	char *end;
	double v = g_ascii_strtod(s, &end);

	if (end == s || v <= 0)
		return false;
	if (*end == 'k' || *end == 'K')
		v *= 1e3, end++;
	else if (*end == 'M')
		v *= 1e6, end++;
	if (*end || v < 1000 || v > 1e9)
		return false;
	*kbps = (unsigned)(v / 1000);
	return true;
}

static void remember(struct side *s, uint32_t seq, uint64_t ns)
{
	struct record *r = &s->rec[seq % RECORDS];

	r->seq = seq;
	r->ns = ns;
	if (seq % RECORDS >= s->recorded)
		s->recorded = seq % RECORDS + 1;
}

/* Sender, streaming thread: a frame enters the encoder. */
static GstPadProbeReturn frame_in(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct side *s = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	uint64_t ns;

	(void)pad;
	if (!cam_pattern_capture_ns(buf, &ns))
		ns = clk_mono_ns();
	remember(s, (uint32_t)GST_BUFFER_OFFSET(buf), ns);
	atomic_fetch_add(&s->frames, 1);
	return GST_PAD_PROBE_OK;
}

/* Sender, streaming thread: an access unit leaves h264parse. */
static GstPadProbeReturn unit_out(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct side *s = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	int idr = !GST_BUFFER_FLAG_IS_SET(buf, GST_BUFFER_FLAG_DELTA_UNIT);

	(void)pad;
	atomic_fetch_add(&s->units[idr], 1);
	atomic_fetch_add(&s->unit_bytes[idr], gst_buffer_get_size(buf));
	return GST_PAD_PROBE_OK;
}

static GstElement *by_name(GstElement *pipeline, const char *name)
{
	GstElement *e = gst_bin_get_by_name(GST_BIN(pipeline), name);

	g_assert(e);
	return e;
}

static void probe(GstElement *e, const char *pad_name, GstPadProbeCallback fn, struct side *s)
{
	g_autoptr(GstPad) pad = gst_element_get_static_pad(e, pad_name);

	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, fn, s, NULL);
	gst_object_unref(e);
}

static GstElement *sender(struct side *s, unsigned w, unsigned h, unsigned kbps, GError **error)
{
	struct cam_source src;
	GstVideoInfo vi;
	GstElement *bin, *p;
	g_autofree char *desc = g_strdup_printf(
		"x264enc name=enc ! h264parse name=parse config-interval=-1 ! "
		"video/x-h264,stream-format=byte-stream,alignment=au ! "
		"rtph264pay pt=%d mtu=1400 ! "
		"udpsink host=127.0.0.1 port=%d buffer-size=%d sync=false async=false",
		RTP_PT, opt_port, 1 << 20);

	if (!cam_source_parse(opt_source, &src, error))
		return NULL;
	if (src.kind != CAM_SOURCE_PATTERN) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_SOURCE, "--source must be a pattern");
		return NULL;
	}
	gst_video_info_set_format(&vi, GST_VIDEO_FORMAT_NV12, w, h);
	vi.fps_n = opt_fps;
	vi.fps_d = 1;
	p = gst_parse_launch(desc, error);
	if (!p)
		return NULL;
	bin = cam_pattern_bin_new(&src, "plain", &vi, PLAIN_TAG, true, error);
	if (!bin) {
		gst_object_unref(p);
		return NULL;
	}
	gst_bin_add(GST_BIN(p), bin);
	{
		GstElement *enc = by_name(p, "enc");

		cam_encoder_x264_settings(enc, (unsigned)opt_fps, kbps);
		if (!gst_element_link(bin, enc)) {
			gst_object_unref(enc);
			gst_object_unref(p);
			g_set_error(error, CAM_ERROR, CAM_ERROR_ENCODER,
				    "x264enc does not take the pattern's NV12");
			return NULL;
		}
		probe(enc, "sink", frame_in, s);
	}
	probe(by_name(p, "parse"), "src", unit_out, s);
	return p;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Receiver, decoder thread: the decoded picture's tag, kept by its PTS. */
static GstPadProbeReturn read_tag(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	struct side *s = data;
	GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER(info);
	g_autoptr(GstCaps) caps = gst_pad_get_current_caps(pad);
	GstVideoInfo vi;
	GstVideoFrame vf;
	uint32_t seq, tag;
	int64_t got = -1;

	if (caps && gst_video_info_from_caps(&vi, caps) &&
	    gst_video_frame_map(&vf, &vi, buf, GST_MAP_READ)) {
		if (cam_tag_read(&vf, &seq, &tag) && tag == PLAIN_TAG)
			got = seq;
		gst_video_frame_unmap(&vf);
	}
	pthread_mutex_lock(&s->tag_lock);
	s->tags[s->tag_next % TAG_RING].pts = GST_BUFFER_PTS(buf);
	s->tags[s->tag_next % TAG_RING].seq = got;
	s->tag_next++;
	pthread_mutex_unlock(&s->tag_lock);
	return GST_PAD_PROBE_OK;
}

/* Main thread: the tag of the picture with this PTS; -1 if none. */
static int64_t tag_of(struct side *s, GstClockTime pts)
{
	int64_t seq = -1;

	pthread_mutex_lock(&s->tag_lock);
	for (unsigned i = 0; i < TAG_RING; i++)
		if (s->tags[i].pts == pts)
			seq = s->tags[i].seq;
	pthread_mutex_unlock(&s->tag_lock);
	return seq;
}

static GstElement *receiver(struct side *s, GError **error)
{
	g_autofree char *desc = g_strdup_printf(
		"udpsrc port=%d buffer-size=%d address=127.0.0.1 "
		"caps=\"application/x-rtp,media=video,clock-rate=90000,"
		"encoding-name=H264,payload=%d\" ! rtph264depay ! h264parse ! "
		"avdec_h264 name=dec output-corrupt=false ! videoconvert ! "
		"appsink name=sink caps=video/x-raw,format=BGRx sync=false "
		"max-buffers=1 drop=true enable-last-sample=false",
		opt_port, 4 << 20, RTP_PT);
	GstElement *p = gst_parse_launch(desc, error);
	GstElement *dec;

	if (!p)
		return NULL;
	/* as the hub: frame threads hold frames back, slice threads do not */
	dec = by_name(p, "dec");
	gst_util_set_object_arg(G_OBJECT(dec), "thread-type", "slice");
	pthread_mutex_init(&s->tag_lock, NULL);
	for (unsigned i = 0; i < TAG_RING; i++)
		s->tags[i].pts = GST_CLOCK_TIME_NONE;
	probe(dec, "src", read_tag, s);
	return p;
}

/* The y4m output: a 4:2:0 frame converted back from the display's BGRx. */
struct hub_y4m {
	int fd;
	GstVideoConverter *conv;	/* NULL until the first frame */
	GstVideoInfo out;
	GstBuffer *frame;		/* I420, packed as y4m wants */
};

static int write_all(int fd, struct iovec *iov, int n)
{
	while (n > 0) {
		ssize_t r = writev(fd, iov, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		while (n > 0 && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	return 0;
}

/* First frame: the converter, the frame buffer and the stream header. */
static int y4m_start(struct hub_y4m *y, const GstVideoInfo *in)
{
	char hdr[96];
	struct iovec iov = { hdr, 0 };

	if (in->width % 8)
		return -ENOTSUP;	/* I420 rows would be padded */
	gst_video_info_set_format(&y->out, GST_VIDEO_FORMAT_I420, (guint)in->width,
				  (guint)in->height);
	y->out.fps_n = in->fps_n;
	y->out.fps_d = in->fps_d;
	y->conv = gst_video_converter_new((GstVideoInfo *)in, &y->out, NULL);
	if (!y->conv)
		return -EINVAL;
	y->frame = gst_buffer_new_allocate(NULL, y->out.size, NULL);
	iov.iov_len = (size_t)snprintf(hdr, sizeof(hdr), "YUV4MPEG2 W%d H%d F%d:%d Ip A1:1 C420jpeg\n",
				       in->width, in->height, opt_fps, 1);
	return write_all(y->fd, &iov, 1);
}

/* Convert back to 4:2:0 and write one frame, as the hub's y4m output does. */
static int y4m_write(struct hub_y4m *y, const GstVideoFrame *in)
{
	static char frame_hdr[] = "FRAME\n";
	GstVideoFrame out;
	struct iovec iov[2];
	int ret;

	if (!gst_video_frame_map(&out, &y->out, y->frame, GST_MAP_READWRITE))
		return -ENOMEM;
	gst_video_converter_frame(y->conv, in, &out);
	iov[0] = (struct iovec){ frame_hdr, 6 };
	iov[1] = (struct iovec){ GST_VIDEO_FRAME_PLANE_DATA(&out, 0), y->out.size };
	ret = write_all(y->fd, iov, 2);
	gst_video_frame_unmap(&out);
	return ret;
}

/* Receiver, main thread: one displayed (BGRx) frame to the y4m output. */
static int show(struct side *s, GstSample *sample, struct hub_y4m *y)
{
	GstBuffer *buf = gst_sample_get_buffer(sample);
	int64_t seq = tag_of(s, GST_BUFFER_PTS(buf));
	GstVideoInfo vi;
	GstVideoFrame vf;
	uint64_t t0;
	int ret;

	if (!gst_video_info_from_caps(&vi, gst_sample_get_caps(sample)))
		return -EINVAL;
	if (!y->conv && (ret = y4m_start(y, &vi)) < 0)
		return ret;
	if (!gst_video_frame_map(&vf, &vi, buf, GST_MAP_READ))
		return -EINVAL;
	t0 = thread_cpu_ns();
	ret = y4m_write(y, &vf);
	gst_video_frame_unmap(&vf);
	if (ret < 0)
		return ret;
	if (s->open) {
		s->y4m_ns += thread_cpu_ns() - t0;
		if (seq >= 0)
			remember(s, (uint32_t)seq, clk_mono_ns());
		else
			s->untagged++;
	}
	atomic_fetch_add(&s->frames, 1);
	return 0;
}

static bool bus_error(GstElement *pipeline)
{
	g_autoptr(GstBus) bus = gst_element_get_bus(pipeline);
	g_autoptr(GstMessage) msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
	g_autoptr(GError) err = NULL;

	if (!msg)
		return false;
	gst_message_parse_error(msg, &err, NULL);
	fprintf(stderr, "bench_plain: %s: %s\n", GST_OBJECT_NAME(msg->src), err->message);
	return true;
}

static void window_open(struct side *s)
{
	s->open = true;
	s->frames0 = atomic_load(&s->frames);
	s->cpu0 = cpu_seconds();
	s->t0_ns = clk_mono_ns();
	s->y4m_ns = 0;
	s->untagged = 0;
	for (int i = 0; i < 2; i++) {
		atomic_store(&s->units[i], 0);
		atomic_store(&s->unit_bytes[i], 0);
	}
}

static void window_close(const struct side *s, struct figures *fig)
{
	struct rusage ru;

	fig->cpu = cpu_seconds() - s->cpu0;
	fig->seconds = (double)(clk_mono_ns() - s->t0_ns) / 1e9;
	fig->frames = atomic_load(&s->frames) - s->frames0;
	for (int i = 0; i < 2; i++) {
		fig->units[i] = atomic_load(&s->units[i]);
		fig->unit_bytes[i] = atomic_load(&s->unit_bytes[i]);
	}
	fig->y4m_cpu = (double)s->y4m_ns / 1e9;
	getrusage(RUSAGE_SELF, &ru);
	fig->maxrss_kb = ru.ru_maxrss;
}

/* The window's figures, then every frame remembered (the pipeline has stopped). */
static int write_log(const struct side *s, const struct figures *fig, bool send)
{
	FILE *f = fopen(opt_log, "w");

	if (!f) {
		fprintf(stderr, "bench_plain: %s: %s\n", opt_log, strerror(errno));
		return 1;
	}
	if (!s->open)
		fprintf(f, "# no window was opened (SIGUSR1)\n");
	fprintf(f, "window_s %.6f\nframes %u\ncpu_s %.6f\nmaxrss_kb %ld\n",
		fig->seconds, fig->frames, fig->cpu, fig->maxrss_kb);
	if (send)
		fprintf(f, "idr_units %u\nidr_bytes %" PRIu64 "\np_units %u\np_bytes %" PRIu64 "\n",
			fig->units[1], fig->unit_bytes[1], fig->units[0], fig->unit_bytes[0]);
	else
		fprintf(f, "untagged %" PRIu64 "\ny4m_cpu_s %.6f\n", s->untagged, fig->y4m_cpu);
	for (unsigned i = 0; i < s->recorded; i++)
		if (s->rec[i].ns)
			fprintf(f, "%c %u %" PRIu64 "\n", send ? 'c' : 'w', s->rec[i].seq,
				s->rec[i].ns);
	return fclose(f) ? 1 : 0;
}

/* Wait up to @ms for SIGUSR1/SIGUSR2/SIGTERM/SIGINT (blocked in every thread). */
static int next_signal(const sigset_t *set, long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	return sigtimedwait(set, NULL, &ts);
}

/*
 * Until SIGUSR2: the receiver shows frames; both open the window on
 * SIGUSR1, and on SIGUSR2 close it, stop the pipeline and write the log.
 */
static int run(struct side *s, bool send, const sigset_t *set)
{
	g_autoptr(GstElement) sink = send ? NULL : by_name(s->pipeline, "sink");
	struct hub_y4m y = { .fd = -1 };
	struct figures fig;
	int ret = 1;

	if (!send && (y.fd = open(opt_y4m, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
		fprintf(stderr, "bench_plain: %s: %s\n", opt_y4m, strerror(errno));
		goto out;
	}
	for (;;) {
		int sig;

		if (send) {
			sig = next_signal(set, 100);
		} else {
			GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink),
									 20 * GST_MSECOND);

			if (sample) {
				int r = show(s, sample, &y);

				gst_sample_unref(sample);
				if (r < 0) {
					fprintf(stderr, "bench_plain: y4m: %s\n", strerror(-r));
					goto out;
				}
			}
			sig = next_signal(set, 0);
		}
		if (bus_error(s->pipeline))
			goto out;
		if (sig == SIGUSR1)
			window_open(s);
		else if (sig == SIGUSR2)
			break;
		else if (sig == SIGTERM || sig == SIGINT)
			goto out;
	}
	window_close(s, &fig);
	gst_element_set_state(s->pipeline, GST_STATE_NULL);
	ret = write_log(s, &fig, send);
out:
	if (y.fd >= 0)
		close(y.fd);
	if (y.conv)
		gst_video_converter_free(y.conv);
	if (y.frame)
		gst_buffer_unref(y.frame);
	return ret;
}

int main(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("send|recv - plain RTP baseline");
	g_autoptr(GError) err = NULL;
	struct side s = { 0 };
	sigset_t set;
	bool send;
	unsigned w, h, kbps;
	int ret;

	/* before any thread: the signals are taken by sigtimedwait only */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_add_group(ctx, gst_init_get_option_group());
	if (!g_option_context_parse(ctx, &argc, &argv, &err))
		return usage_error(err->message);
	if (argc != 2 || (strcmp(argv[1], "send") && strcmp(argv[1], "recv")))
		return usage_error("say send or recv (see --help)");
	send = !strcmp(argv[1], "send");
	if (!opt_log || opt_port <= 0 || opt_port > 65535)
		return usage_error("--log and --port are required");
	if (sscanf(opt_size, "%ux%u", &w, &h) != 2 || w < 16 || h < 16 || (w | h) & 1)
		return usage_error("--size must be WIDTHxHEIGHT, even, at least 16x16");
	if (opt_fps <= 0 || opt_fps > 120)
		return usage_error("--fps must be 1..120");
	if (!parse_bitrate(opt_bitrate, &kbps))
		return usage_error("--bitrate must be bit/s, e.g. 2500k or 4M");

	s.rec = g_new0(struct record, RECORDS);
	s.pipeline = send ? sender(&s, w, h, kbps, &err) : receiver(&s, &err);
	if (!s.pipeline) {
		fprintf(stderr, "bench_plain: %s\n", err ? err->message : "no pipeline");
		g_free(s.rec);
		return 1;
	}
	if (gst_element_set_state(s.pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		if (!bus_error(s.pipeline))
			fprintf(stderr, "bench_plain: %s pipeline does not start\n", argv[1]);
		ret = 1;
	} else {
		ret = run(&s, send, &set);
	}
	gst_element_set_state(s.pipeline, GST_STATE_NULL);
	gst_object_unref(s.pipeline);
	g_free(s.rec);
	return ret;
}
