// SPDX-License-Identifier: GPL-2.0
/*
 * veracam sensor controls, judged by the pixels they produce: each
 * TEST_PATTERN menu entry draws what the uapi documents, HFLIP and VFLIP
 * mirror the image while the burned-in tag stays readable, flips are busy
 * while streaming, and the receiver subdev signals FRAME_SYNC per frame.
 */
#include "kselftest_harness.h"
#include "veracam_util.h"

#define VC_DQ_TIMEOUT_MS	2000
#define VC_W			320
#define VC_H			240

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
