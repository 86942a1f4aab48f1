// SPDX-License-Identifier: GPL-2.0
/*
 * veracam sensor controls, judged by the pixels they produce: each
 * TEST_PATTERN menu entry draws what the uapi documents, HFLIP and VFLIP
 * mirror the image while the burned-in tag stays readable, flips are busy
 * while streaming, exposure and gain change the scene's pixels after the
 * sensor's control latency, and the receiver subdev signals FRAME_SYNC
 * per frame.
 */
#include <stddef.h>

#include "kselftest_harness.h"
#include "veracam_util.h"

#define VC_DQ_TIMEOUT_MS	2000
#define VC_W			320
#define VC_H			240
/* the control latency the driver documents (docs/veracam.rst) */
#define VERACAM_EXPOSURE_DELAY_FRAMES	2
#define VERACAM_GAIN_DELAY_FRAMES	1

FIXTURE(ctrl) {
	struct vc_cam cam;
	int vfd, cfd;
	struct v4l2_pix_format fmt;
	struct vc_queue q;
	uint8_t *frame[2];	/* copies of captured frames */
	struct v4l2_buffer vb[2];
};

FIXTURE_SETUP(ctrl)
{
	struct vc_cam cams[VERACAM_MAX_CAMERAS];
	int n = vc_require_cameras(cams, VERACAM_MAX_CAMERAS, 1);
	uint32_t pixfmt;

	self->frame[0] = NULL;
	self->frame[1] = NULL;
	self->vfd = -1;
	self->cfd = -1;
	if (n == -ENOENT)
		SKIP(return, "veracam is not loaded and VERACAM_KO is not set");
	ASSERT_GE(n, 1) TH_LOG("no veracam media device (load: %s)", strerror(-n));
	self->cam = cams[0];
	ASSERT_NE(0, self->cam.uid[0]);
	self->vfd = open(self->cam.video, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_GE(self->vfd, 0);
	self->cfd = vc_open_ctrl_node(&self->cam, V4L2_CID_TEST_PATTERN);
	ASSERT_GE(self->cfd, 0) TH_LOG("no TEST_PATTERN control on the sensor or video node");
	/* judge colours in RGB when the driver offers it */
	pixfmt = vc_find_rgb_format(self->vfd);
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, pixfmt ? pixfmt : V4L2_PIX_FMT_YUYV,
				   VC_W, VC_H, &self->fmt));
	ASSERT_EQ(0, vc_set_fps(self->vfd, 30));
	vc_set_ctrl(self->cfd, V4L2_CID_HFLIP, 0);
	vc_set_ctrl(self->cfd, V4L2_CID_VFLIP, 0);
}

FIXTURE_TEARDOWN(ctrl)
{
	if (self->q.count)
		vc_queue_release(&self->q);
	if (self->cfd >= 0) {
		vc_set_ctrl(self->cfd, V4L2_CID_HFLIP, 0);
		vc_set_ctrl(self->cfd, V4L2_CID_VFLIP, 0);
		vc_set_ctrl(self->cfd, V4L2_CID_TEST_PATTERN, VERACAM_PATTERN_CAMERA_COLOUR);
		close(self->cfd);
	}
	if (self->vfd >= 0)
		close(self->vfd);
	free(self->frame[0]);
	free(self->frame[1]);
}

#define VC_NEED_SETUP() do { if (self->cfd < 0) return; } while (0)

/*
 * Streams until the fourth good frame and keeps a copy of it in
 * frame[slot]: controls set before STREAMON are in effect from the first
 * frame, the later one also covers a driver that applies them at the next
 * frame. Frames the sensor could not produce in time (ERROR) are skipped.
 */
static void grab(struct __test_metadata *_metadata, FIXTURE_DATA(ctrl) *self, int slot)
{
	struct v4l2_buffer b;
	int i, good = 0;

	free(self->frame[slot]);
	self->frame[slot] = malloc(self->fmt.sizeimage);
	ASSERT_NE(NULL, self->frame[slot]);
	ASSERT_EQ(0, vc_queue_setup(&self->q, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&self->q));
	for (i = 0; i < 30 && good < 4; i++) {
		ASSERT_EQ(0, vc_dequeue(&self->q, &b, VC_DQ_TIMEOUT_MS));
		if (!(b.flags & V4L2_BUF_FLAG_ERROR) && ++good == 4) {
			memcpy(self->frame[slot], self->q.mem[b.index], self->fmt.sizeimage);
			self->vb[slot] = b;
		}
		ASSERT_EQ(0, vc_requeue(&self->q, &b));
	}
	vc_queue_release(&self->q);
	ASSERT_EQ(4, good) TH_LOG("%d of %d frames completed with ERROR", i - good, i);
}

/* The burned-in tag of frame[slot] reads its sequence and this camera. */
static void expect_tag(struct __test_metadata *_metadata, FIXTURE_DATA(ctrl) *self, int slot)
{
	uint32_t v = 0;

	EXPECT_TRUE(vc_read_tag(&self->fmt, self->frame[slot], 0, &v));
	EXPECT_EQ(self->vb[slot].sequence, v);
	EXPECT_TRUE(vc_read_tag(&self->fmt, self->frame[slot], 1, &v));
	EXPECT_EQ(self->cam.tag, v);
}

/* Share of grid samples in rows y0..y1 where f(x, y) and g(mx(x), my(y)) agree. */
static double agreement(const FIXTURE_DATA(ctrl) *self, const uint8_t *f, const uint8_t *g,
			uint32_t y0, uint32_t y1, bool mirror_x, bool mirror_y)
{
	uint32_t w = self->fmt.width, h = self->fmt.height;
	uint32_t x, y, same = 0, all = 0;

	for (y = y0; y < y1; y += 3)
		for (x = 0; x < w; x += 3) {
			int a = vc_luma(&self->fmt, f, x, y);
			int b = vc_luma(&self->fmt, g, mirror_x ? w - 1 - x : x,
					mirror_y ? h - 1 - y : y);

			all++;
			if (abs(a - b) <= 24)
				same++;
		}
	return (double)same / all;
}

/* Below the tag rows and the text line everything is pattern. */
#define VC_PATTERN_Y0	(VC_H / 2)

TEST_F_TIMEOUT(ctrl, test_pattern_menu_draws_documented_pixels, 90)
{
	static const uint32_t colours[] = VERACAM_CAMERA_COLOURS;
	struct v4l2_querymenu m = { .id = V4L2_CID_TEST_PATTERN };
	uint32_t x, y, all = 0, dark = 0, bright = 0, near = 0, edges = 0;
	uint32_t want = colours[self->cam.index % 8];
	struct vc_rgb want_c = { want >> 16, (want >> 8) & 0xff, want & 0xff };

	VC_NEED_SETUP();
	for (m.index = 0; m.index <= VERACAM_PATTERN_BLACK; m.index++) {
		EXPECT_EQ(0, vc_ioctl(self->cfd, VIDIOC_QUERYMENU, &m))
			TH_LOG("menu entry %u missing", m.index);
		EXPECT_NE(0, m.name[0]);
	}

	/* camera colour: the whole pattern area is this camera's colour */
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_TEST_PATTERN, VERACAM_PATTERN_CAMERA_COLOUR));
	grab(_metadata, self, 0);
	expect_tag(_metadata, self, 0);
	for (y = VC_PATTERN_Y0; y < VC_H; y += 4)
		for (x = 0; x < VC_W; x += 4) {
			struct vc_rgb c = vc_pixel(&self->fmt, self->frame[0], x, y);

			all++;
			if (abs(c.r - want_c.r) <= 40 && abs(c.g - want_c.g) <= 40 &&
			    abs(c.b - want_c.b) <= 40)
				near++;
		}
	TH_LOG("camera colour %06x: %u of %u samples match", want, near, all);
	EXPECT_GE(near * 100, all * 95);

	/* colour bars: several distinct vertical bars across a row */
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_TEST_PATTERN, VERACAM_PATTERN_COLOUR_BARS));
	grab(_metadata, self, 1);
	expect_tag(_metadata, self, 1);
	for (x = 1; x < VC_W; x++)
		if (abs(vc_luma(&self->fmt, self->frame[1], x, VC_H * 3 / 4) -
			vc_luma(&self->fmt, self->frame[1], x - 1, VC_H * 3 / 4)) > 12)
			edges++;
	TH_LOG("colour bars: %u luma edges across row %u", edges, VC_H * 3 / 4);
	EXPECT_GE(edges, 5U);
	EXPECT_LT(agreement(self, self->frame[0], self->frame[1], VC_PATTERN_Y0, VC_H,
			    false, false), 0.5);

	/* checkerboard: black and white in about equal shares */
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_TEST_PATTERN, VERACAM_PATTERN_CHECKERBOARD));
	grab(_metadata, self, 0);
	expect_tag(_metadata, self, 0);
	all = 0;
	for (y = VC_PATTERN_Y0; y < VC_H; y += 3)
		for (x = 0; x < VC_W; x += 3) {
			int l = vc_luma(&self->fmt, self->frame[0], x, y);

			all++;
			dark += l < 64;
			bright += l > 192;
		}
	TH_LOG("checkerboard: %u dark, %u bright of %u", dark, bright, all);
	EXPECT_GE(dark * 100, all * 30);
	EXPECT_GE(bright * 100, all * 30);
	EXPECT_GE((dark + bright) * 100, all * 90);

	/* black */
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_TEST_PATTERN, VERACAM_PATTERN_BLACK));
	grab(_metadata, self, 0);
	expect_tag(_metadata, self, 0);
	all = 0;
	dark = 0;
	for (y = VC_PATTERN_Y0; y < VC_H; y += 2)
		for (x = 0; x < VC_W; x += 2) {
			all++;
			dark += vc_luma(&self->fmt, self->frame[0], x, y) < 24;
		}
	EXPECT_EQ(all, dark);
}

TEST_F_TIMEOUT(ctrl, hflip_mirrors_image_tag_stays_readable, 60)
{
	double self_mirror, flipped;

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_TEST_PATTERN, VERACAM_PATTERN_COLOUR_BARS));
	grab(_metadata, self, 0);
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_HFLIP, 1));
	grab(_metadata, self, 1);
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_HFLIP, 0));

	/* the bars are not left-right symmetric, so mirroring is visible */
	self_mirror = agreement(self, self->frame[0], self->frame[0], VC_PATTERN_Y0, VC_H,
				true, false);
	flipped = agreement(self, self->frame[1], self->frame[0], VC_PATTERN_Y0, VC_H,
			    true, false);
	TH_LOG("bars vs own mirror %.3f, HFLIP frame vs mirrored frame %.3f", self_mirror, flipped);
	ASSERT_LT(self_mirror, 0.9);
	EXPECT_GE(flipped, 0.97);
	expect_tag(_metadata, self, 1);
}

/*
 * A scaled checkerboard aliases differently when mirrored, so VFLIP is
 * judged at the sensor's crop size, where the output is not scaled.
 */
TEST_F_TIMEOUT(ctrl, vflip_mirrors_image_tag_stays_readable, 180)
{
	struct v4l2_subdev_selection crop = {
		.which = V4L2_SUBDEV_FORMAT_ACTIVE, .target = V4L2_SEL_TGT_CROP,
	};
	double self_mirror, flipped;
	uint32_t h;
	int sfd;

	VC_NEED_SETUP();
	ASSERT_TRUE(self->cam.has_sensor);
	sfd = open(self->cam.subdev[0], O_RDWR | O_CLOEXEC);
	ASSERT_GE(sfd, 0);
	ASSERT_EQ(0, vc_ioctl(sfd, VIDIOC_SUBDEV_G_SELECTION, &crop));
	close(sfd);
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, crop.r.width,
				   crop.r.height, &self->fmt));
	ASSERT_EQ(crop.r.width, self->fmt.width);
	ASSERT_EQ(crop.r.height, self->fmt.height);
	ASSERT_EQ(0, vc_set_fps(self->vfd, 15));
	h = self->fmt.height;

	/* rows H/4..3H/4 mirror onto themselves and hold no tag or text */
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_TEST_PATTERN, VERACAM_PATTERN_CHECKERBOARD));
	grab(_metadata, self, 0);
	self_mirror = agreement(self, self->frame[0], self->frame[0], h / 4, h * 3 / 4,
				false, true);
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_VFLIP, 1));
	grab(_metadata, self, 1);
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_VFLIP, 0));
	flipped = agreement(self, self->frame[1], self->frame[0], h / 4, h * 3 / 4,
			    false, true);
	TH_LOG("checkerboard %ux%u vs own mirror %.3f, VFLIP frame vs mirrored frame %.3f",
	       self->fmt.width, h, self_mirror, flipped);
	/* an even number of squares: the mirror swaps black and white */
	if (self_mirror >= 0.9)
		SKIP(return, "the checkerboard is top-bottom symmetric at %ux%u",
		     self->fmt.width, h);
	EXPECT_GE(flipped, 0.97);
	expect_tag(_metadata, self, 1);
}

TEST_F_TIMEOUT(ctrl, flips_are_busy_while_streaming, 60)
{
	struct v4l2_query_ext_ctrl q = { .id = V4L2_CID_HFLIP };
	struct v4l2_buffer b;
	int32_t v = -1;

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_queue_setup(&self->q, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&self->q));
	ASSERT_EQ(0, vc_dequeue(&self->q, &b, VC_DQ_TIMEOUT_MS));
	ASSERT_EQ(0, vc_requeue(&self->q, &b));

	EXPECT_EQ(-EBUSY, vc_set_ctrl(self->cfd, V4L2_CID_HFLIP, 1));
	EXPECT_EQ(-EBUSY, vc_set_ctrl(self->cfd, V4L2_CID_VFLIP, 1));
	ASSERT_EQ(0, vc_ioctl(self->cfd, VIDIOC_QUERY_EXT_CTRL, &q));
	EXPECT_TRUE(!!(q.flags & V4L2_CTRL_FLAG_GRABBED));
	ASSERT_EQ(0, vc_get_ctrl(self->cfd, V4L2_CID_HFLIP, &v));
	EXPECT_EQ(0, v);
	/* a control that is not grabbed still works while streaming */
	EXPECT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_TEST_PATTERN, VERACAM_PATTERN_COLOUR_BARS));
	ASSERT_EQ(0, vc_dequeue(&self->q, &b, VC_DQ_TIMEOUT_MS));
	ASSERT_EQ(0, vc_requeue(&self->q, &b));
	vc_queue_release(&self->q);

	ASSERT_EQ(0, vc_ioctl(self->cfd, VIDIOC_QUERY_EXT_CTRL, &q));
	EXPECT_FALSE(!!(q.flags & V4L2_CTRL_FLAG_GRABBED));
	EXPECT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_HFLIP, 1));
	EXPECT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_HFLIP, 0));
}

TEST_F_TIMEOUT(ctrl, flips_reported_in_metadata, 60)
{
	struct vc_queue mq;
	struct v4l2_buffer b, mb;
	const struct veracam_meta *m;
	int mfd, i;

	VC_NEED_SETUP();
	ASSERT_NE(0, self->cam.meta[0]);
	mfd = open(self->cam.meta, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_GE(mfd, 0);
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_HFLIP, 1));
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_VFLIP, 1));
	ASSERT_EQ(0, vc_queue_setup(&mq, mfd, V4L2_BUF_TYPE_META_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&mq));
	ASSERT_EQ(0, vc_queue_setup(&self->q, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&self->q));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, vc_dequeue(&self->q, &b, VC_DQ_TIMEOUT_MS));
		ASSERT_EQ(0, vc_dequeue(&mq, &mb, VC_DQ_TIMEOUT_MS));
		m = mq.mem[mb.index];
		EXPECT_EQ(b.sequence, m->sequence);
		EXPECT_EQ(VERACAM_META_FL_HFLIP | VERACAM_META_FL_VFLIP,
			  m->flags & (VERACAM_META_FL_HFLIP | VERACAM_META_FL_VFLIP));
		ASSERT_EQ(0, vc_requeue(&self->q, &b));
		ASSERT_EQ(0, vc_requeue(&mq, &mb));
	}
	vc_queue_release(&self->q);
	vc_queue_release(&mq);
	close(mfd);
}

/* One frame of the exposure test: what the metadata says, what the pixels show. */
struct vc_lit {
	uint32_t seq;
	uint64_t soe_ns, eof_ns;
	uint32_t exposure, again, dgain;
	struct vc_rgb px;
};

/* c * (e g d) / (e0 g0 d0), clipped: the scene at these settings */
static int vc_lit_channel(int c, const struct vc_lit *l, uint64_t den)
{
	uint64_t v = (uint64_t)c * l->exposure * l->again * l->dgain / den;

	return v > 255 ? 255 : (int)v;
}

/*
 * Dequeues image and metadata frames until @n pairs of one sequence are
 * in @out (from @at), each with the scene's colour read away from the tag.
 */
static int vc_lit_frames(FIXTURE_DATA(ctrl) *self, struct vc_queue *mq, struct vc_lit *out, int at, int n)
{
	struct v4l2_buffer b, mb;
	int tries = 0;

	while (n > 0 && tries++ < 200) {
		const struct veracam_meta *m;

		if (vc_dequeue(&self->q, &b, VC_DQ_TIMEOUT_MS) ||
		    vc_dequeue(mq, &mb, VC_DQ_TIMEOUT_MS))
			return -1;
		/* the two nodes drop independently: catch up to one sequence */
		while (mb.sequence < b.sequence) {
			if (vc_requeue(mq, &mb) || vc_dequeue(mq, &mb, VC_DQ_TIMEOUT_MS))
				return -1;
		}
		while (b.sequence < mb.sequence) {
			if (vc_requeue(&self->q, &b) || vc_dequeue(&self->q, &b, VC_DQ_TIMEOUT_MS))
				return -1;
		}
		m = mq->mem[mb.index];
		if (!(b.flags & V4L2_BUF_FLAG_ERROR) && !(m->flags & VERACAM_META_FL_ERROR)) {
			struct vc_lit *l = &out[at++];

			l->seq = b.sequence;
			l->soe_ns = m->soe_ns;
			l->eof_ns = m->eof_ns;
			l->exposure = m->exposure;
			l->again = m->analogue_gain;
			l->dgain = m->digital_gain;
			l->px = vc_pixel(&self->fmt, self->q.mem[b.index], VC_W / 2, VC_H * 3 / 4);
			n--;
		}
		if (vc_requeue(&self->q, &b) || vc_requeue(mq, &mb))
			return -1;
	}
	return n ? -1 : at;
}

/*
 * Checks one control change of the exposure test: @field is the value in
 * each frame's metadata, @want the new value, @delay the documented
 * latency. Which frame first read the new register is bracketed by the
 * timestamps around the write: a frame whose readout ended before it
 * read the old value, one whose exposure started after it the new one
 * (the frame engine reads the sensor after a frame starts and before it
 * ends). The new value must first be in effect exactly @delay frames
 * after a frame in that bracket, never earlier, never later.
 */
static void vc_expect_latency(struct __test_metadata *_metadata, const struct vc_lit *l,
			      int from, int to, size_t field, uint32_t want, int delay,
			      uint64_t t_before, uint64_t t_after, const char *what)
{
	int i, first = -1, lo = -1, hi = -1;

	for (i = from; i < to; i++) {
		uint32_t v = *(const uint32_t *)((const char *)&l[i] + field);

		if (first < 0 && v == want)
			first = i;
		if (lo < 0 && l[i].eof_ns > t_before)
			lo = (int)l[i].seq;
		if (hi < 0 && l[i].soe_ns > t_after)
			hi = (int)l[i].seq;
	}
	ASSERT_GE(first, 0) TH_LOG("%s %u never in effect", what, want);
	ASSERT_GE(lo, 0);
	ASSERT_GE(hi, 0);
	TH_LOG("%s %u: first in effect at frame %u; the register was first read by a frame in %d..%d; latency %d",
	       what, want, l[first].seq, lo, hi, delay);
	EXPECT_GE((int)l[first].seq - delay, lo);
	EXPECT_LE((int)l[first].seq - delay, hi);
	/* the frames in between are the contiguous ones (no gap hides it) */
	if (first > from)
		EXPECT_EQ(l[first - 1].seq + 1, l[first].seq);
}

/*
 * EXPOSURE and ANALOGUE_GAIN on the sensor change the scene's pixels in
 * proportion (the camera colour pattern; test patterns are injected after
 * the analogue chain and do not change), with the sensor's control
 * latency: exposure 2 frames, gain 1 frame after the frame that read the
 * register. The metadata reports the values each frame was exposed
 * with, and every frame's pixels match them.
 */
TEST_F_TIMEOUT(ctrl, exposure_and_gain_change_pixels_after_their_latency, 180)
{
	struct v4l2_query_ext_ctrl qe = { .id = V4L2_CID_EXPOSURE };
	struct v4l2_query_ext_ctrl qg = { .id = V4L2_CID_ANALOGUE_GAIN };
	static const uint32_t colours[] = VERACAM_CAMERA_COLOURS;
	struct vc_lit lit[64];
	struct vc_queue mq;
	uint64_t t0, t1, t2, t3, den;
	uint32_t e0, g0, d0, colour;
	int mfd, n, i, bad = 0;
	int32_t dg;

	VC_NEED_SETUP();
	ASSERT_NE(0, self->cam.meta[0]);
	ASSERT_EQ(0, vc_ioctl(self->cfd, VIDIOC_QUERY_EXT_CTRL, &qe));
	ASSERT_EQ(0, vc_ioctl(self->cfd, VIDIOC_QUERY_EXT_CTRL, &qg));
	e0 = (uint32_t)qe.default_value;
	g0 = (uint32_t)qg.default_value;
	ASSERT_EQ(0, vc_get_ctrl(self->cfd, V4L2_CID_DIGITAL_GAIN, &dg));
	d0 = (uint32_t)dg;
	ASSERT_GE(qg.maximum, 3 * (int64_t)g0);
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_TEST_PATTERN, VERACAM_PATTERN_CAMERA_COLOUR));
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_EXPOSURE, (int32_t)e0));
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_ANALOGUE_GAIN, (int32_t)g0));
	den = (uint64_t)e0 * g0 * d0;
	colour = colours[self->cam.index % ARRAY_SIZE(colours)];

	mfd = open(self->cam.meta, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_GE(mfd, 0);
	ASSERT_EQ(0, vc_queue_setup(&mq, mfd, V4L2_BUF_TYPE_META_CAPTURE, 8));
	ASSERT_EQ(0, vc_queue_on(&mq));
	ASSERT_EQ(0, vc_queue_setup(&self->q, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 8));
	ASSERT_EQ(0, vc_queue_on(&self->q));

	n = vc_lit_frames(self, &mq, lit, 0, 4);
	ASSERT_EQ(4, n);
	t0 = vc_now_ns();
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_EXPOSURE, (int32_t)(e0 / 2)));
	t1 = vc_now_ns();
	n = vc_lit_frames(self, &mq, lit, n, 8);
	ASSERT_EQ(12, n);
	t2 = vc_now_ns();
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_ANALOGUE_GAIN, (int32_t)(3 * g0)));
	t3 = vc_now_ns();
	n = vc_lit_frames(self, &mq, lit, n, 8);
	ASSERT_EQ(20, n);
	vc_queue_release(&self->q);
	vc_queue_release(&mq);
	close(mfd);

	/* every frame's pixels are the scene at the values it reports */
	for (i = 0; i < n; i++) {
		int r = vc_lit_channel((colour >> 16) & 0xff, &lit[i], den);
		int g = vc_lit_channel((colour >> 8) & 0xff, &lit[i], den);
		int b = vc_lit_channel(colour & 0xff, &lit[i], den);

		if (abs(lit[i].px.r - r) > 2 || abs(lit[i].px.g - g) > 2 ||
		    abs(lit[i].px.b - b) > 2) {
			bad++;
			TH_LOG("frame %u: exposure %u gain %u: rgb %d,%d,%d, expected %d,%d,%d",
			       lit[i].seq, lit[i].exposure, lit[i].again,
			       lit[i].px.r, lit[i].px.g, lit[i].px.b, r, g, b);
		}
	}
	EXPECT_EQ(0, bad);
	/* the changes are visible: half the light, then 1.5 times it */
	EXPECT_EQ(e0, lit[0].exposure);
	EXPECT_EQ(e0 / 2, lit[11].exposure);
	EXPECT_EQ(3 * g0, lit[19].again);
	EXPECT_LT(lit[11].px.r + lit[11].px.g + lit[11].px.b,
		  (lit[0].px.r + lit[0].px.g + lit[0].px.b) * 6 / 10);
	EXPECT_GT(lit[19].px.r + lit[19].px.g + lit[19].px.b,
		  (lit[11].px.r + lit[11].px.g + lit[11].px.b) * 14 / 10);

	vc_expect_latency(_metadata, lit, 4, 12, offsetof(struct vc_lit, exposure), e0 / 2,
			  VERACAM_EXPOSURE_DELAY_FRAMES, t0, t1, "exposure");
	vc_expect_latency(_metadata, lit, 12, 20, offsetof(struct vc_lit, again), 3 * g0,
			  VERACAM_GAIN_DELAY_FRAMES, t2, t3, "analogue gain");
	vc_set_ctrl(self->cfd, V4L2_CID_EXPOSURE, (int32_t)e0);
	vc_set_ctrl(self->cfd, V4L2_CID_ANALOGUE_GAIN, (int32_t)g0);
}

/*
 * The receiver subdev (the one after the sensor: a sensor does not know
 * when its frames arrive) signals FRAME_SYNC at every frame start.
 */
TEST_F_TIMEOUT(ctrl, receiver_signals_frame_sync, 60)
{
	struct v4l2_event_subscription sub = { .type = V4L2_EVENT_FRAME_SYNC };
	struct v4l2_event ev;
	struct v4l2_buffer b;
	uint32_t got = 0, last = 0;
	int sfd = -1, i;

	VC_NEED_SETUP();
	ASSERT_TRUE(self->cam.has_sensor);
	ASSERT_GE(self->cam.nsubdevs, 2) TH_LOG("no receiver subdev");
	for (i = 1; i < self->cam.nsubdevs && sfd < 0; i++) {
		sfd = open(self->cam.subdev[i], O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (sfd >= 0 && vc_ioctl(sfd, VIDIOC_SUBSCRIBE_EVENT, &sub)) {
			close(sfd);
			sfd = -1;
		}
	}
	ASSERT_GE(sfd, 0) TH_LOG("no subdev after the sensor signals FRAME_SYNC");
	ASSERT_EQ(0, vc_queue_setup(&self->q, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&self->q));
	for (i = 0; i < 6; i++) {
		struct pollfd p = { .fd = sfd, .events = POLLPRI };

		ASSERT_EQ(0, vc_dequeue(&self->q, &b, VC_DQ_TIMEOUT_MS));
		ASSERT_EQ(0, vc_requeue(&self->q, &b));
		while (poll(&p, 1, 0) == 1 && !vc_ioctl(sfd, VIDIOC_DQEVENT, &ev)) {
			EXPECT_EQ((uint32_t)V4L2_EVENT_FRAME_SYNC, ev.type);
			if (got)
				EXPECT_GT(ev.u.frame_sync.frame_sequence, last);
			last = ev.u.frame_sync.frame_sequence;
			got++;
		}
	}
	vc_queue_release(&self->q);
	TH_LOG("%u FRAME_SYNC events for 6 frames, last frame_sequence %u", got, last);
	EXPECT_GE(got, 5U);
	close(sfd);
}

TEST_HARNESS_MAIN
