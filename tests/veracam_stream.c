// SPDX-License-Identifier: GPL-2.0
/*
 * veracam streaming as a capture application sees it: sequence numbers
 * from 0 without gaps while the reader keeps up (and with visible gaps
 * when it does not), MONOTONIC start-of-exposure timestamps at the
 * configured frame interval, the burned-in camera tag and sequence in
 * every pixel format, and a metadata buffer matching every video buffer.
 */
#include "kselftest_harness.h"
#include "veracam_util.h"

#define VC_DQ_TIMEOUT_MS	2000

FIXTURE(stream) {
	struct vc_cam cam;
	int vfd, mfd;
	struct vc_queue vq, mq;
};

FIXTURE_SETUP(stream)
{
	struct vc_cam cams[VERACAM_MAX_CAMERAS];
	int n = vc_require_cameras(cams, VERACAM_MAX_CAMERAS, 1);

	self->vfd = -1;
	self->mfd = -1;
	if (n == -ENOENT)
		SKIP(return, "veracam is not loaded and VERACAM_KO is not set");
	ASSERT_GE(n, 1) TH_LOG("no veracam media device (load: %s)", strerror(-n));
	self->cam = cams[0];
	ASSERT_NE(0, self->cam.video[0]);
	ASSERT_NE(0, self->cam.meta[0]);
	ASSERT_NE(0, self->cam.uid[0]) TH_LOG("no unique id control on %s", self->cam.video);
	self->vfd = open(self->cam.video, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_GE(self->vfd, 0);
	self->mfd = open(self->cam.meta, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_GE(self->mfd, 0);
}

FIXTURE_TEARDOWN(stream)
{
	if (self->vq.count)
		vc_queue_release(&self->vq);
	if (self->mq.count)
		vc_queue_release(&self->mq);
	if (self->vfd >= 0)
		close(self->vfd);
	if (self->mfd >= 0)
		close(self->mfd);
}

#define VC_NEED_SETUP() do { if (self->vfd < 0) return; } while (0)

/* What one run of frames saw; each problem is counted, the first few logged. */
struct run_stats {
	uint32_t frames;
	uint32_t seq_errors;	/* sequence not previous + 1 (or not 0 first) */
	uint32_t error_flags;	/* V4L2_BUF_FLAG_ERROR */
	uint32_t ts_flag_errors;	/* not MONOTONIC + SOE */
	uint32_t ts_order_errors;	/* not strictly increasing, or in the future */
	uint32_t tag_errors;	/* burned-in tag unreadable or wrong */
	uint32_t meta_errors;	/* metadata missing or not matching */
	uint32_t size_errors;	/* bytesused wrong */
	uint64_t first_ts, last_ts;
	uint32_t nint;		/* frame-to-frame timestamp intervals */
	uint32_t interval_us[512];
};

static void note(uint32_t *counter, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(uint32_t *counter, const char *fmt, ...)
{
	va_list ap;

	if ((*counter)++ >= 5)
		return;
	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);	/* the harness ends each test with _exit() */
	va_end(ap);
}

static void check_meta(struct run_stats *st, const struct vc_cam *cam,
		       const struct v4l2_buffer *vb, const struct v4l2_buffer *mb,
		       const struct veracam_meta *m)
{
	uint64_t vts_us = vc_tv_ns(&vb->timestamp) / 1000;

	if (mb->bytesused != sizeof(*m) || m->magic != VERACAM_META_MAGIC ||
	    m->version != VERACAM_META_VERSION || m->size != sizeof(*m) || m->reserved) {
		note(&st->meta_errors, "meta seq %u: bytesused %u magic %#x version %u size %u reserved %u",
		     mb->sequence, mb->bytesused, m->magic, m->version, m->size, m->reserved);
		return;
	}
	if (m->sequence != vb->sequence || mb->sequence != vb->sequence)
		note(&st->meta_errors, "meta sequence %u/%u for video %u", m->sequence,
		     mb->sequence, vb->sequence);
	else if (m->soe_ns / 1000 != vts_us || vc_tv_ns(&mb->timestamp) / 1000 != vts_us)
		note(&st->meta_errors, "seq %u: meta soe %llu ns, video timestamp %llu us",
		     vb->sequence, (unsigned long long)m->soe_ns, (unsigned long long)vts_us);
	else if (m->eof_ns <= m->soe_ns || m->eof_ns - m->soe_ns > 1000000000ULL)
		note(&st->meta_errors, "seq %u: eof %llu not shortly after soe %llu", vb->sequence,
		     (unsigned long long)m->eof_ns, (unsigned long long)m->soe_ns);
	else if (memcmp(m->unique_id, cam->uid_bin, VERACAM_UNIQUE_ID_LEN))
		note(&st->meta_errors, "seq %u: unique_id differs from the control %s",
		     vb->sequence, cam->uid);
	else if (!!(m->flags & VERACAM_META_FL_ERROR) != !!(vb->flags & V4L2_BUF_FLAG_ERROR))
		note(&st->meta_errors, "seq %u: meta flags %#x, video flags %#x", vb->sequence,
		     m->flags, vb->flags);
}

/*
 * Streams n frames of the current format (and metadata when with_meta),
 * re-queueing at once, checking every frame; holds = sleep that long
 * after STREAMON before dequeuing (a reader that does not keep up).
 */
static void run_frames(struct __test_metadata *_metadata, FIXTURE_DATA(stream) *self,
		      uint32_t n, uint32_t nbufs, bool with_meta, bool check_tags,
		      unsigned int hold_ms, struct run_stats *st)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	uint32_t i, expect_seq = 0;
	uint64_t prev_ts = 0;
	int r;

	memset(st, 0, sizeof(*st));
	ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_G_FMT, &f));
	ASSERT_EQ(0, vc_queue_setup(&self->vq, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, nbufs));
	if (with_meta) {
		ASSERT_EQ(0, vc_queue_setup(&self->mq, self->mfd, V4L2_BUF_TYPE_META_CAPTURE,
					    nbufs));
		ASSERT_EQ(0, vc_queue_on(&self->mq));
	}
	ASSERT_EQ(0, vc_queue_on(&self->vq));
	if (hold_ms)
		vc_sleep_ms(hold_ms);

	for (i = 0; i < n; i++) {
		struct v4l2_buffer vb, mb;
		uint64_t ts, now;
		uint32_t v;

		r = vc_dequeue(&self->vq, &vb, VC_DQ_TIMEOUT_MS);
		if (r) {
			TH_LOG("video DQBUF after %u frames: %s", i, strerror(-r));
			break;
		}
		now = vc_now_ns();
		st->frames++;
		ts = vc_tv_ns(&vb.timestamp);
		if (i == 0)
			st->first_ts = ts;
		st->last_ts = ts;

		if (vb.sequence != expect_seq && !hold_ms)
			note(&st->seq_errors, "frame %u has sequence %u, expected %u", i,
			     vb.sequence, expect_seq);
		else if (hold_ms && i > 0 && vb.sequence < expect_seq)
			note(&st->seq_errors, "sequence went back to %u after %u", vb.sequence,
			     expect_seq - 1);
		expect_seq = vb.sequence + 1;
		if (vb.flags & V4L2_BUF_FLAG_ERROR)
			note(&st->error_flags, "sequence %u completed with ERROR", vb.sequence);
		if ((vb.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) != V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC ||
		    (vb.flags & V4L2_BUF_FLAG_TSTAMP_SRC_MASK) != V4L2_BUF_FLAG_TSTAMP_SRC_SOE)
			note(&st->ts_flag_errors, "sequence %u flags %#x", vb.sequence, vb.flags);
		if ((i > 0 && ts <= prev_ts) || ts > now || now - ts > 2000000000ULL)
			note(&st->ts_order_errors, "sequence %u timestamp %llu (previous %llu, now %llu)",
			     vb.sequence, (unsigned long long)ts, (unsigned long long)prev_ts,
			     (unsigned long long)now);
		if (i > 0 && ts > prev_ts && st->nint < 512)
			st->interval_us[st->nint++] = (ts - prev_ts) / 1000;
		prev_ts = ts;
		if (vb.field != V4L2_FIELD_NONE || vb.bytesused != f.fmt.pix.sizeimage)
			note(&st->size_errors, "sequence %u field %u bytesused %u (sizeimage %u)",
			     vb.sequence, vb.field, vb.bytesused, f.fmt.pix.sizeimage);

		if (check_tags && !(vb.flags & V4L2_BUF_FLAG_ERROR)) {
			const uint8_t *px = self->vq.mem[vb.index];

			if (!vc_read_tag(&f.fmt.pix, px, 0, &v) || v != vb.sequence)
				note(&st->tag_errors, "sequence %u: tag sequence row reads %u",
				     vb.sequence, v);
			else if (!vc_read_tag(&f.fmt.pix, px, 1, &v) || v != self->cam.tag)
				note(&st->tag_errors, "sequence %u: tag camera row reads %08x, want %08x",
				     vb.sequence, v, self->cam.tag);
		}

		if (with_meta) {
			r = vc_dequeue(&self->mq, &mb, VC_DQ_TIMEOUT_MS);
			while (!r && mb.sequence < vb.sequence) {
				note(&st->meta_errors, "meta %u has no video frame", mb.sequence);
				vc_requeue(&self->mq, &mb);
				r = vc_dequeue(&self->mq, &mb, VC_DQ_TIMEOUT_MS);
			}
			if (r) {
				note(&st->meta_errors, "meta DQBUF for sequence %u: %s", vb.sequence,
				     strerror(-r));
			} else {
				check_meta(st, &self->cam, &vb, &mb, self->mq.mem[mb.index]);
				ASSERT_EQ(0, vc_requeue(&self->mq, &mb));
			}
		}
		ASSERT_EQ(0, vc_requeue(&self->vq, &vb));
	}
	vc_queue_release(&self->vq);
	if (with_meta)
		vc_queue_release(&self->mq);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median frame interval in ms. A guest the host deschedules now and then
 * sees a few late timer ticks; the median still shows the configured rate.
 */
static double median_ms(struct run_stats *st)
{
	if (!st->nint)
		return 0;
	qsort(st->interval_us, st->nint, sizeof(st->interval_us[0]), cmp_u32);
	return st->interval_us[st->nint / 2] / 1000.0;
}

static void log_stats(struct __test_metadata *_metadata, const char *what,
		      struct run_stats *st)
{
	double ms = st->frames > 1 ?
		    (double)(st->last_ts - st->first_ts) / 1e6 / (st->frames - 1) : 0;
	double median = median_ms(st);
	uint32_t i, late = 0;

	/* ticks 1.5 periods or more apart: the guest was not run on time */
	for (i = 0; i < st->nint; i++)
		late += st->interval_us[i] >= median * 1500;
	TH_LOG("%s: %u frames, interval mean %.3f ms median %.3f ms, %u late ticks, errors: seq %u flag-ERROR %u ts-flags %u ts-order %u tag %u meta %u size %u",
	       what, st->frames, ms, median, late, st->seq_errors, st->error_flags,
	       st->ts_flag_errors, st->ts_order_errors, st->tag_errors, st->meta_errors,
	       st->size_errors);
}

TEST_F_TIMEOUT(stream, sequence_gap_free_300_frames_at_30fps, 120)
{
	struct run_stats st;

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
	ASSERT_EQ(0, vc_set_fps(self->vfd, 30));
	run_frames(_metadata, self, 300, 8, false, false, 0, &st);
	log_stats(_metadata, "YUYV 320x240 @30", &st);
	ASSERT_EQ(300U, st.frames);
	EXPECT_EQ(0U, st.seq_errors);
	/*
	 * A frame the sensor could not produce in time is completed with
	 * ERROR and keeps its sequence number; on a loaded TCG guest a few
	 * may be, most must not.
	 */
	EXPECT_LE(st.error_flags * 10, st.frames);
	EXPECT_EQ(0U, st.size_errors);
	/* the driver's own timestamps follow the configured interval */
	EXPECT_GT(median_ms(&st), 1000.0 / 30 * 0.9);
	EXPECT_LT(median_ms(&st), 1000.0 / 30 * 1.1);
}

TEST_F_TIMEOUT(stream, timestamps_monotonic_start_of_exposure, 60)
{
	static const uint32_t fps[] = { 15, 60 };
	struct run_stats st;
	int i;

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
	for (i = 0; i < 2; i++) {
		double want = 1000.0 / fps[i];

		ASSERT_EQ(0, vc_set_fps(self->vfd, fps[i]));
		run_frames(_metadata, self, 45, 6, false, false, 0, &st);
		log_stats(_metadata, fps[i] == 15 ? "@15" : "@60", &st);
		ASSERT_EQ(45U, st.frames);
		EXPECT_EQ(0U, st.ts_flag_errors);
		EXPECT_EQ(0U, st.ts_order_errors);
		EXPECT_EQ(0U, st.seq_errors);
		EXPECT_GT(median_ms(&st), want * 0.9);
		EXPECT_LT(median_ms(&st), want * 1.1);
	}
	ASSERT_EQ(0, vc_set_fps(self->vfd, 30));
}

TEST_F_TIMEOUT(stream, slow_reader_sees_sequence_gaps, 60)
{
	struct v4l2_buffer vb;
	uint32_t last = 0, gaps = 0, i;

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
	ASSERT_EQ(0, vc_set_fps(self->vfd, 30));
	ASSERT_EQ(0, vc_queue_setup(&self->vq, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 3));
	ASSERT_EQ(0, vc_queue_on(&self->vq));
	for (i = 0; i < 12; i++) {
		/* every 4th frame, stall for ~12 frame times with all buffers full */
		if (i % 4 == 0)
			vc_sleep_ms(400);
		ASSERT_EQ(0, vc_dequeue(&self->vq, &vb, VC_DQ_TIMEOUT_MS));
		if (i > 0) {
			EXPECT_GT(vb.sequence, last);
			if (vb.sequence > last + 1)
				gaps++;
		}
		last = vb.sequence;
		ASSERT_EQ(0, vc_requeue(&self->vq, &vb));
	}
	vc_queue_release(&self->vq);
	TH_LOG("12 frames, last sequence %u, %u gaps", last, gaps);
	EXPECT_GE(gaps, 2U);
	EXPECT_GT(last, 20U);
}

TEST_F_TIMEOUT(stream, metadata_matches_every_video_frame, 90)
{
	struct run_stats st;

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
	ASSERT_EQ(0, vc_set_fps(self->vfd, 30));
	run_frames(_metadata, self, 150, 8, true, false, 0, &st);
	log_stats(_metadata, "video+meta", &st);
	ASSERT_EQ(150U, st.frames);
	EXPECT_EQ(0U, st.meta_errors);
	EXPECT_EQ(0U, st.seq_errors);
}

/*
 * The timing of a rolling-shutter sensor: a frame's timestamp (its start
 * of exposure) is one exposure time before its first line is read out,
 * and its end of frame (the metadata's eof_ns) the frame's height in line
 * times after that: eof - soe = (exposure + height) line times, the line
 * time being (width + HBLANK) / PIXEL_RATE. No buffer is dequeued before
 * its frame's readout ended. Checked at two exposures.
 */
TEST_F_TIMEOUT(stream, timestamps_model_exposure_and_readout, 90)
{
	struct v4l2_ext_control pr = { .id = V4L2_CID_PIXEL_RATE };
	struct v4l2_ext_controls cs = {
		.which = V4L2_CTRL_WHICH_CUR_VAL, .count = 1, .controls = &pr,
	};
	int32_t exposure = 0, hblank = 0, exposure0 = 0;
	int cfd, k, i, early = 0, off = 0;

	VC_NEED_SETUP();
	cfd = vc_open_ctrl_node(&self->cam, V4L2_CID_EXPOSURE);
	ASSERT_GE(cfd, 0) TH_LOG("no EXPOSURE control");
	ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_EXPOSURE, &exposure0));
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
	ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_HBLANK, &hblank));
	ASSERT_EQ(0, vc_ioctl(cfd, VIDIOC_G_EXT_CTRLS, &cs));
	ASSERT_GT(pr.value64, 0);
	for (k = 0; k < 2; k++) {
		uint64_t line_len = 320 + (uint64_t)hblank;

		ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_EXPOSURE, &exposure));
		ASSERT_EQ(0, vc_set_ctrl(cfd, V4L2_CID_EXPOSURE, k ? exposure * 2 : exposure));
		ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_EXPOSURE, &exposure));
		ASSERT_EQ(0, vc_queue_setup(&self->mq, self->mfd, V4L2_BUF_TYPE_META_CAPTURE, 4));
		ASSERT_EQ(0, vc_queue_on(&self->mq));
		ASSERT_EQ(0, vc_queue_setup(&self->vq, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
		ASSERT_EQ(0, vc_queue_on(&self->vq));
		for (i = 0; i < 10; i++) {
			struct v4l2_buffer vb, mb;
			const struct veracam_meta *m;
			uint64_t now, want, got;

			ASSERT_EQ(0, vc_dequeue(&self->mq, &mb, VC_DQ_TIMEOUT_MS));
			now = vc_now_ns();
			m = self->mq.mem[mb.index];
			/* the driver computes each part with its own rounding */
			want = (uint64_t)m->exposure * line_len * 1000000000ULL / pr.value64 +
			       240ULL * line_len * 1000000000ULL / pr.value64;
			got = m->eof_ns - m->soe_ns;
			if (!(m->flags & VERACAM_META_FL_ERROR) &&
			    (m->exposure != (uint32_t)exposure || got < want - 2 || got > want + 2)) {
				off++;
				TH_LOG("frame %u: exposure %u lines: eof - soe %llu ns, want %llu",
				       m->sequence, m->exposure, (unsigned long long)got,
				       (unsigned long long)want);
			}
			if (now < m->eof_ns) {
				early++;
				TH_LOG("frame %u dequeued %llu ns before the end of its readout",
				       m->sequence, (unsigned long long)(m->eof_ns - now));
			}
			if (!vc_dequeue(&self->vq, &vb, VC_DQ_TIMEOUT_MS))
				ASSERT_EQ(0, vc_requeue(&self->vq, &vb));
			ASSERT_EQ(0, vc_requeue(&self->mq, &mb));
		}
		TH_LOG("exposure %d lines, line %llu px at %lld px/s: eof - soe = %.3f ms",
		       exposure, (unsigned long long)line_len, (long long)pr.value64,
		       (double)((uint64_t)exposure + 240) * line_len * 1e3 / pr.value64);
		vc_queue_release(&self->vq);
		vc_queue_release(&self->mq);
	}
	vc_set_ctrl(cfd, V4L2_CID_EXPOSURE, exposure0);
	EXPECT_EQ(0, off);
	EXPECT_EQ(0, early);
	close(cfd);
}

TEST_F_TIMEOUT(stream, metadata_reports_controls_in_effect, 60)
{
	struct v4l2_buffer vb, mb;
	int32_t exposure = 0, again = 0, dgain = 0;
	const struct veracam_meta *m;
	int cfd, i;

	VC_NEED_SETUP();
	cfd = vc_open_ctrl_node(&self->cam, V4L2_CID_EXPOSURE);
	ASSERT_GE(cfd, 0) TH_LOG("no EXPOSURE control");
	ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_EXPOSURE, &exposure));
	ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_ANALOGUE_GAIN, &again));
	ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_DIGITAL_GAIN, &dgain));
	/* set while the sensor is powered off: cached, applied at stream start */
	ASSERT_EQ(0, vc_set_ctrl(cfd, V4L2_CID_EXPOSURE, exposure > 8 ? exposure - 4 : exposure + 4));
	ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_EXPOSURE, &exposure));
	ASSERT_EQ(0, vc_set_ctrl(cfd, V4L2_CID_DIGITAL_GAIN, dgain + 1));
	ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_DIGITAL_GAIN, &dgain));

	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
	ASSERT_EQ(0, vc_queue_setup(&self->mq, self->mfd, V4L2_BUF_TYPE_META_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&self->mq));
	ASSERT_EQ(0, vc_queue_setup(&self->vq, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&self->vq));
	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, vc_dequeue(&self->vq, &vb, VC_DQ_TIMEOUT_MS));
		ASSERT_EQ(0, vc_dequeue(&self->mq, &mb, VC_DQ_TIMEOUT_MS));
		m = self->mq.mem[mb.index];
		EXPECT_EQ((uint32_t)exposure, m->exposure);
		EXPECT_EQ((uint32_t)again, m->analogue_gain);
		EXPECT_EQ((uint32_t)dgain, m->digital_gain);
		ASSERT_EQ(0, vc_requeue(&self->vq, &vb));
		ASSERT_EQ(0, vc_requeue(&self->mq, &mb));
	}

	/* a new exposure and gain while streaming show up in later frames */
	ASSERT_EQ(0, vc_set_ctrl(cfd, V4L2_CID_EXPOSURE, exposure > 4 ? exposure - 2 : exposure + 2));
	ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_EXPOSURE, &exposure));
	ASSERT_EQ(0, vc_set_ctrl(cfd, V4L2_CID_ANALOGUE_GAIN, again + 1));
	ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_ANALOGUE_GAIN, &again));
	for (i = 0; i < 12; i++) {
		ASSERT_EQ(0, vc_dequeue(&self->vq, &vb, VC_DQ_TIMEOUT_MS));
		ASSERT_EQ(0, vc_dequeue(&self->mq, &mb, VC_DQ_TIMEOUT_MS));
		m = self->mq.mem[mb.index];
		ASSERT_EQ(0, vc_requeue(&self->vq, &vb));
		ASSERT_EQ(0, vc_requeue(&self->mq, &mb));
	}
	m = self->mq.mem[mb.index];
	EXPECT_EQ((uint32_t)exposure, m->exposure);
	EXPECT_EQ((uint32_t)again, m->analogue_gain);
	close(cfd);
}

/* runtime PM status of the sensor's device (the I2C client) */
static void runtime_status(const struct vc_cam *cam, char *buf, size_t len)
{
	const char *node = strrchr(cam->subdev[0], '/');
	char path[160];

	snprintf(path, sizeof(path), "/sys/class/video4linux/%s/device/power/runtime_status",
		 node ? node + 1 : cam->subdev[0]);
	if (vc_read_text(path, buf, len))
		snprintf(buf, len, "unreadable");
}

/* The sensor is powered (runtime PM active) only while it streams. */
TEST_F_TIMEOUT(stream, sensor_powered_only_while_streaming, 60)
{
	struct v4l2_buffer vb;
	char st[32];
	int i;

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
	for (i = 0; i < 50; i++) {
		runtime_status(&self->cam, st, sizeof(st));
		if (!strcmp(st, "suspended"))
			break;
		vc_sleep_ms(100);
	}
	EXPECT_STREQ("suspended", st);
	ASSERT_EQ(0, vc_queue_setup(&self->vq, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&self->vq));
	ASSERT_EQ(0, vc_dequeue(&self->vq, &vb, VC_DQ_TIMEOUT_MS));
	runtime_status(&self->cam, st, sizeof(st));
	EXPECT_STREQ("active", st);
	vc_queue_release(&self->vq);
	/* powered down again once streaming stopped (allowing an autosuspend delay) */
	for (i = 0; i < 50; i++) {
		runtime_status(&self->cam, st, sizeof(st));
		if (!strcmp(st, "suspended"))
			break;
		vc_sleep_ms(100);
	}
	TH_LOG("suspended %d ms after STREAMOFF", i * 100);
	EXPECT_STREQ("suspended", st);
}

/* Link validation: the capture node's format must match the sensor's. */
TEST_F_TIMEOUT(stream, mismatched_pipeline_refuses_to_stream, 60)
{
	struct v4l2_subdev_format sf = { .which = V4L2_SUBDEV_FORMAT_ACTIVE, .pad = 0 };
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_buffer vb;
	int sfd;

	VC_NEED_SETUP();
	ASSERT_TRUE(self->cam.has_sensor);
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 640, 480, NULL));
	sfd = open(self->cam.subdev[0], O_RDWR | O_CLOEXEC);
	ASSERT_GE(sfd, 0);
	ASSERT_EQ(0, vc_ioctl(sfd, VIDIOC_SUBDEV_G_FMT, &sf));
	sf.format.width = 320;
	sf.format.height = 240;
	ASSERT_EQ(0, vc_ioctl(sfd, VIDIOC_SUBDEV_S_FMT, &sf));
	close(sfd);
	ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_G_FMT, &f));
	ASSERT_EQ(640U, f.fmt.pix.width);

	ASSERT_EQ(0, vc_queue_setup(&self->vq, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
	EXPECT_EQ(-EPIPE, vc_queue_on(&self->vq));
	vc_queue_release(&self->vq);

	/* matched again, it streams */
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 640, 480, NULL));
	ASSERT_EQ(0, vc_queue_setup(&self->vq, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&self->vq));
	ASSERT_EQ(0, vc_dequeue(&self->vq, &vb, VC_DQ_TIMEOUT_MS));
	vc_queue_release(&self->vq);
}

/*
 * Metadata is a stream of its own: the metadata node streams with the
 * image node stopped, and while it does the image node's format and the
 * receiver's image pads can still be set (they are not in the metadata
 * pipeline). The image node then joins, validated on its own, and leaves
 * again; the metadata stream goes on throughout.
 */
static void meta_frames(struct __test_metadata *_metadata, FIXTURE_DATA(stream) *self,
			int n, uint32_t *last)
{
	struct v4l2_buffer mb;
	int i;

	for (i = 0; i < n; i++) {
		const struct veracam_meta *m;

		ASSERT_EQ(0, vc_dequeue(&self->mq, &mb, VC_DQ_TIMEOUT_MS));
		EXPECT_FALSE(mb.flags & V4L2_BUF_FLAG_ERROR);
		m = self->mq.mem[mb.index];
		EXPECT_EQ(VERACAM_META_MAGIC, m->magic);
		EXPECT_EQ(mb.sequence, m->sequence);
		EXPECT_EQ(0, memcmp(m->unique_id, self->cam.uid_bin, VERACAM_UNIQUE_ID_LEN));
		if (*last != UINT32_MAX)
			EXPECT_GT(mb.sequence, *last);
		*last = mb.sequence;
		ASSERT_EQ(0, vc_requeue(&self->mq, &mb));
	}
}

TEST_F_TIMEOUT(stream, metadata_streams_alone_image_formats_stay_free, 60)
{
	struct v4l2_subdev_format sf = {
		.which = V4L2_SUBDEV_FORMAT_ACTIVE, .pad = 0,
	};
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	uint32_t last = UINT32_MAX;
	struct v4l2_buffer vb;
	int cfd, i;

	VC_NEED_SETUP();
	ASSERT_TRUE(self->cam.has_sensor);
	ASSERT_GE(self->cam.nsubdevs, 2);
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 640, 480, NULL));

	ASSERT_EQ(0, vc_queue_setup(&self->mq, self->mfd, V4L2_BUF_TYPE_META_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&self->mq)) TH_LOG("metadata alone does not stream");
	meta_frames(_metadata, self, 5, &last);

	/* the image side is free while metadata streams */
	ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_G_FMT, &f));
	f.fmt.pix.width = 320;
	f.fmt.pix.height = 240;
	EXPECT_EQ(0, vc_ioctl(self->vfd, VIDIOC_S_FMT, &f))
		TH_LOG("S_FMT on the image node refused while only metadata streams");
	cfd = open(self->cam.subdev[1], O_RDWR | O_CLOEXEC);
	ASSERT_GE(cfd, 0);
	ASSERT_EQ(0, vc_ioctl(cfd, VIDIOC_SUBDEV_G_FMT, &sf));
	sf.format.width = 320;
	sf.format.height = 240;
	EXPECT_EQ(0, vc_ioctl(cfd, VIDIOC_SUBDEV_S_FMT, &sf))
		TH_LOG("the receiver's sink format refused while only metadata streams");
	meta_frames(_metadata, self, 2, &last);

	/* the sensor still sends 640x480: the image node's own pipeline fails */
	ASSERT_EQ(0, vc_queue_setup(&self->vq, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
	EXPECT_EQ(-EPIPE, vc_queue_on(&self->vq));
	vc_queue_release(&self->vq);

	/* matched again, the image node joins and leaves; metadata goes on */
	sf.format.width = 640;
	sf.format.height = 480;
	ASSERT_EQ(0, vc_ioctl(cfd, VIDIOC_SUBDEV_S_FMT, &sf));
	close(cfd);
	f.fmt.pix.width = 640;
	f.fmt.pix.height = 480;
	ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_S_FMT, &f));
	ASSERT_EQ(0, vc_queue_setup(&self->vq, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&self->vq));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, vc_dequeue(&self->vq, &vb, VC_DQ_TIMEOUT_MS));
		EXPECT_GT(vb.sequence, last);
		ASSERT_EQ(0, vc_requeue(&self->vq, &vb));
		meta_frames(_metadata, self, 1, &last);
	}
	vc_queue_release(&self->vq);
	meta_frames(_metadata, self, 3, &last);
	vc_queue_release(&self->mq);
}

/* Tag and sequence decode in each format the driver offers. */
TEST_F_TIMEOUT(stream, burned_in_tag_in_every_format, 120)
{
	static const struct { uint32_t w, h; } sizes[] = { { 320, 240 }, { 640, 480 } };
	uint32_t fmts[3] = { V4L2_PIX_FMT_YUYV, V4L2_PIX_FMT_NV12, 0 };
	struct run_stats st;
	char cc[8];
	int i, s;

	VC_NEED_SETUP();
	fmts[2] = vc_find_rgb_format(self->vfd);
	ASSERT_NE(0U, fmts[2]) TH_LOG("no RGB format to decode");
	ASSERT_EQ(0, vc_set_fps(self->vfd, 30));
	for (i = 0; i < 3; i++) {
		for (s = 0; s < 2; s++) {
			struct v4l2_pix_format p;

			ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, fmts[i], sizes[s].w,
						   sizes[s].h, &p));
			ASSERT_EQ(fmts[i], p.pixelformat);
			run_frames(_metadata, self, 20, 4, false, true, 0, &st);
			TH_LOG("%s %ux%u: %u frames, %u tag errors", vc_fourcc(fmts[i], cc),
			       p.width, p.height, st.frames, st.tag_errors);
			EXPECT_EQ(20U, st.frames);
			EXPECT_EQ(0U, st.tag_errors);
			EXPECT_EQ(0U, st.size_errors);
		}
	}
}

TEST_HARNESS_MAIN
