// SPDX-License-Identifier: GPL-2.0-only
/*
 * encode_bench - frames per second and CPU of the camera's media steps
 * (pattern capture -> x264 encode) at 1280x720@30 by default. Not a test:
 * prints figures, the capture-only run being the baseline, and the
 * capture's own counters of raw-frame copies and dmabuf hand-overs
 * (struct cam_capture_stats). Then the motion detector's cost: paced
 * capture+encode of the pattern's moving scene without and with the
 * detector (motion.c, the daemon's defaults) alternated twice, CPU per
 * frame of each and their ratio (the goal: <= 1.05), and the detector's
 * own thread CPU per frame over the camera's. Every figure is also printed
 * as a "BENCH key value unit" line for tests/bench/summary.py.
 *
 *   encode_bench [--size 1280x720] [--fps 30] [--seconds 5] [--encoder x264]
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "camera.h"

static gchar *opt_size = "1280x720", *opt_encoder = "x264";
static enum vc_encoder encoder;	/* opt_encoder parsed */
static gint opt_fps = 30, opt_seconds = 5, opt_bitrate = 2000;

static const GOptionEntry entries[] = {
	{ "size", 0, 0, G_OPTION_ARG_STRING, &opt_size, "WIDTHxHEIGHT (1280x720)", "WxH" },
	{ "fps", 0, 0, G_OPTION_ARG_INT, &opt_fps, "frame rate (30)", "N" },
	{ "seconds", 0, 0, G_OPTION_ARG_INT, &opt_seconds, "length of each run (5)", "S" },
	{ "encoder", 0, 0, G_OPTION_ARG_STRING, &opt_encoder, "x264, v4l2 or auto", "ENC" },
	{ "bitrate", 0, 0, G_OPTION_ARG_INT, &opt_bitrate, "kbit/s (2000)", "N" },
	G_OPTION_ENTRY_NULL
};

struct result {
	uint64_t frames, bytes, idrs;
	double wall_s, cpu_s;
	double motion_s;	/* thread CPU inside cam_motion_frame */
	struct cam_motion_stats motion;
	double max_latency_ms;	/* capture time -> AU out */
	struct cam_capture_stats cap;
};

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static double thread_cpu_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool run(unsigned w, unsigned h, bool paced, bool encode, const char *source,
		bool motion, struct result *r)
{
	struct cam_capture_config ccfg = {
		.source = source, .name = "bench", .width = w, .height = h,
		.fps_n = (unsigned)opt_fps, .fps_d = 1, .unpaced = !paced,
	};
	struct cam_encode_config ecfg = { .encoder = encoder,
					  .bitrate_kbps = (unsigned)opt_bitrate };
	g_autoptr(GError) err = NULL;
	struct cam_capture *cap = cam_capture_open(&ccfg, &err);
	struct cam_encoder *enc = NULL;
	struct cam_motion *det = NULL;
	uint64_t t0, end;
	double c0;

	memset(r, 0, sizeof(*r));
	if (!cap) {
		fprintf(stderr, "encode_bench: %s\n", err->message);
		return false;
	}
	if (encode) {
		enc = cam_encoder_new(&ecfg, cam_capture_video_info(cap), &err);
		if (!enc) {
			fprintf(stderr, "encode_bench: %s\n", err->message);
			cam_capture_close(cap);
			return false;
		}
	}
	if (motion) {
		struct cam_motion_config mcfg;

		cam_motion_config_default(&mcfg);
		det = cam_motion_new(&mcfg, NULL, NULL);
	}
	t0 = clk_mono_ns();
	c0 = cpu_seconds();
	end = t0 + (uint64_t)opt_seconds * 1000000000ull;
	while (clk_mono_ns() < end) {
		struct cam_frame f;
		struct cam_au au;

		if (!cam_capture_next(cap, &f, &err))
			break;
		if (det) {
			GstVideoFrame vf;
			double m0 = thread_cpu_seconds();

			if (gst_video_frame_map(&vf, cam_capture_video_info(cap), f.buffer,
						GST_MAP_READ)) {
				cam_motion_frame(det, &vf, &f.info);
				gst_video_frame_unmap(&vf);
			}
			r->motion_s += thread_cpu_seconds() - m0;
		}
		if (!enc) {
			cam_frame_clear(&f);
			r->frames++;
			continue;
		}
		if (cam_encode_frame(enc, &f, &au, &err) < 0)
			break;
		r->frames++;
		r->bytes += au.size;
		r->idrs += au.idr;
		r->max_latency_ms = MAX(r->max_latency_ms,
					(clk_mono_ns() - au.info.mono_ns) / 1e6);
		cam_au_clear(&au);
	}
	r->wall_s = (clk_mono_ns() - t0) / 1e9;
	r->cpu_s = cpu_seconds() - c0;
	cam_capture_get_stats(cap, &r->cap);
	if (det)
		cam_motion_get_stats(det, &r->motion);
	cam_motion_free(det);
	cam_encoder_free(enc);
	cam_capture_close(cap);
	if (err) {
		fprintf(stderr, "encode_bench: %s\n", err->message);
		return false;
	}
	return true;
}

static void print_row(const char *what, const char *key, const struct result *r,
		      double base_cpu_per_frame)
{
	double fps = r->frames / r->wall_s, cpu_pf = r->cpu_s / MAX(r->frames, 1u) * 1e3;

	printf("%-34s %8.1f %9.1f %10.2f %8.2f", what, fps, 100.0 * r->cpu_s / r->wall_s,
	       cpu_pf, base_cpu_per_frame > 0 ? cpu_pf / base_cpu_per_frame : 1.0);
	if (r->frames && r->bytes)
		printf(" %9.0f %6.1f", r->bytes * 8.0 / r->wall_s / 1000.0, r->max_latency_ms);
	printf("\n");
	printf("BENCH camera.%s.%s_fps %.6g fps\n", opt_size, key, fps);
	printf("BENCH camera.%s.%s_cpu_pct %.6g %%core\n", opt_size, key,
	       100.0 * r->cpu_s / r->wall_s);
	printf("BENCH camera.%s.%s_cpu_ms %.6g ms/frame\n", opt_size, key, cpu_pf);
}

int main(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = g_option_context_new("- camera media steps benchmark");
	g_autoptr(GError) err = NULL;
	struct result cap_only, enc_max, enc_paced, plain[2], det[2];
	static const char moving[] = "pattern:2040e0,scene=moving";
	double base, cpf_plain, cpf_det, det_ms;
	uint64_t f_plain, f_det;
	unsigned w, h;

	g_option_context_add_main_entries(ctx, entries, NULL);
	g_option_context_add_group(ctx, gst_init_get_option_group());
	if (!g_option_context_parse(ctx, &argc, &argv, &err) ||
	    sscanf(opt_size, "%ux%u", &w, &h) != 2 || opt_fps <= 0 || opt_seconds <= 0) {
		fprintf(stderr, "encode_bench: %s\n", err ? err->message : "bad --size/--fps/--seconds");
		return 2;
	}
	if (!vc_encoder_parse(opt_encoder, &encoder)) {
		fprintf(stderr, "encode_bench: --encoder \"%s\": expected " VC_ENCODER_GRAMMAR "\n",
			opt_encoder);
		return 2;
	}
	g_log_set_handler(NULL, G_LOG_LEVEL_MESSAGE, g_log_default_handler, NULL);

	if (!run(w, h, false, false, "pattern:2040e0", false, &cap_only) ||
	    !run(w, h, false, true, "pattern:2040e0", false, &enc_max) ||
	    !run(w, h, true, true, "pattern:2040e0", false, &enc_paced))
		return 1;
	/* without and with the detector, alternated: a busy host hits both alike */
	for (int i = 0; i < 2; i++)
		if (!run(w, h, true, true, moving, false, &plain[i]) ||
		    !run(w, h, true, true, moving, true, &det[i]))
			return 1;
	base = cap_only.cpu_s / MAX(cap_only.frames, 1u) * 1e3;

	printf("camera media steps, pattern source %ux%u@%d, encoder %s, %d kbit/s, %d s per run, %u cores\n",
	       w, h, opt_fps, cam_encoder_choose(encoder, NULL), opt_bitrate, opt_seconds,
	       g_get_num_processors());
	printf("%-34s %8s %9s %10s %8s %9s %6s\n", "run", "fps", "cpu%", "cpu ms/fr",
	       "x base", "kbit/s", "lat ms");
	print_row("capture only, unpaced (baseline)", "capture", &cap_only, base);
	print_row("capture+encode, unpaced (max)", "encode_max", &enc_max, base);
	print_row("capture+encode, paced (sustained)", "encode_paced", &enc_paced, base);
	printf("cpu%% is of one core; x base = CPU per frame relative to capture only; "
	       "lat = capture time to AU out, worst\n");
	/* the paced run is the daemon's: capture -> encoder at the frame rate */
	printf("capture -> encoder, paced run (capture counters): %" G_GUINT64_FORMAT
	       " frames, %" G_GUINT64_FORMAT " copied (%" G_GUINT64_FORMAT " bytes), %"
	       G_GUINT64_FORMAT " as dmabuf\n", enc_paced.cap.frames, enc_paced.cap.copies,
	       enc_paced.cap.copied_bytes, enc_paced.cap.dmabuf_frames);
	printf("BENCH camera.%s.capture_copies_per_frame %.6g copies\n", opt_size,
	       (double)enc_paced.cap.copies / MAX(enc_paced.cap.frames, 1u));
	printf("BENCH camera.%s.dmabuf_per_frame %.6g frames\n", opt_size,
	       (double)enc_paced.cap.dmabuf_frames / MAX(enc_paced.cap.frames, 1u));

	f_plain = plain[0].frames + plain[1].frames;
	f_det = det[0].frames + det[1].frames;
	cpf_plain = (plain[0].cpu_s + plain[1].cpu_s) / (double)MAX(f_plain, 1u) * 1e3;
	cpf_det = (det[0].cpu_s + det[1].cpu_s) / (double)MAX(f_det, 1u) * 1e3;
	det_ms = (det[0].motion_s + det[1].motion_s) / (double)MAX(f_det, 1u) * 1e3;
	printf("motion detector (64x36 cells, defaults), pattern moving scene, paced, "
	       "2 x %d s each, alternated:\n", opt_seconds);
	printf("  capture+encode            %8.3f ms CPU/frame (%" G_GUINT64_FORMAT " frames)\n",
	       cpf_plain, f_plain);
	printf("  capture+motion+encode     %8.3f ms CPU/frame (%" G_GUINT64_FORMAT " frames, %"
	       G_GUINT64_FORMAT " with motion, %" G_GUINT64_FORMAT " event(s))\n", cpf_det, f_det,
	       det[0].motion.moving_frames + det[1].motion.moving_frames,
	       det[0].motion.events + det[1].motion.events);
	printf("  ratio with / without     %8.3f x (goal <= 1.05)\n", cpf_det / cpf_plain);
	printf("  the detector itself       %8.3f ms thread CPU/frame = %.2f %% of the camera's "
	       "CPU/frame without it\n", det_ms, 100.0 * det_ms / cpf_plain);
	printf("BENCH camera.%s.motion_off_cpu_ms %.6g ms/frame\n", opt_size, cpf_plain);
	printf("BENCH camera.%s.motion_on_cpu_ms %.6g ms/frame\n", opt_size, cpf_det);
	printf("BENCH camera.%s.motion_ratio %.6g x\n", opt_size, cpf_det / cpf_plain);
	printf("BENCH camera.%s.motion_detector_ms %.6g ms/frame\n", opt_size, det_ms);
	printf("BENCH camera.%s.motion_ratio_own %.6g x\n", opt_size, 1 + det_ms / cpf_plain);
	return 0;
}
