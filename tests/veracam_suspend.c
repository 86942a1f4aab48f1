// SPDX-License-Identifier: GPL-2.0
/*
 * System suspend and resume while streaming (pm_test=devices: every
 * device's suspend and resume callbacks run, the machine stays up). The
 * stream goes on after resume with the sensor set up as before: exposure
 * and gains (from the metadata), the frame interval (from the timestamps)
 * and the test pattern (from the pixels), and the controls still report
 * those values.
 *
 * The test guest's root and out directory are virtio-9p shares, which do
 * not survive a system suspend (virtio-9p has no restore operation: the
 * device is reset and its requests hang). So this test only runs in a
 * guest of its own (tests/tools/check's guest stage starts one with
 * VERACAM_SUSPEND_GUEST=1): it locks itself in memory first, reports on
 * the console, and powers the guest off when done, its exit status in the
 * kernel log ("veracam-guest-rc: N", which tests/qemu/run reads).
 * Anywhere else it skips and says so.
 */
#include <sys/reboot.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "veracam_util.h"

#define VC_DQ_TIMEOUT_MS	3000
#define VC_W			320
#define VC_H			240
#define VC_FPS			15
#define VC_EXPOSURE		600	/* lines; the default is 1000 */
#define VC_AGAIN		64	/* 4.0x; the default is 1.0x */
#define VC_DGAIN		512	/* 2.0x; the default is 1.0x */
#define VC_FRAMES		8	/* frames judged after resume */

static bool own_guest(void)
{
	const char *v = getenv("VERACAM_SUSPEND_GUEST");

	return v && !strcmp(v, "1");
}

FIXTURE(susp) {
	struct vc_cam cam;
	int vfd, mfd, cfd;
	int pm_test_fd, state_fd;
	struct v4l2_pix_format fmt;
	struct vc_queue q, mq;
};

FIXTURE_SETUP(susp)
{
	struct vc_cam cams[VERACAM_MAX_CAMERAS];
	char states[64] = "";
	int n;

	self->vfd = -1;
	self->mfd = -1;
	self->cfd = -1;
	self->pm_test_fd = -1;
	self->state_fd = -1;
	memset(&self->q, 0, sizeof(self->q));
	memset(&self->mq, 0, sizeof(self->mq));
	if (!own_guest())
		SKIP(return, "system suspend resets the guest's 9p root: runs in a guest of its own (VERACAM_SUSPEND_GUEST=1, tests/tools/check guest stage)");
	if (vc_read_text("/sys/power/state", states, sizeof(states)) ||
	    !strstr(states, "freeze"))
		SKIP(return, "no suspend-to-idle (/sys/power/state: \"%s\")", states);
	self->pm_test_fd = open("/sys/power/pm_test", O_WRONLY | O_CLOEXEC);
	if (self->pm_test_fd < 0)
		SKIP(return, "no /sys/power/pm_test (a kernel without CONFIG_PM_DEBUG)");
	self->state_fd = open("/sys/power/state", O_WRONLY | O_CLOEXEC);
	ASSERT_GE(self->state_fd, 0);
	/* main() locked its own pages; a lock is not inherited */
	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE));

	n = vc_require_cameras(cams, VERACAM_MAX_CAMERAS, 1);
	ASSERT_GE(n, 1) TH_LOG("no veracam media device (load: %s)", strerror(-n));
	self->cam = cams[0];
	ASSERT_NE(0, self->cam.meta[0]);
	self->vfd = open(self->cam.video, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_GE(self->vfd, 0);
	self->mfd = open(self->cam.meta, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_GE(self->mfd, 0);
	self->cfd = vc_open_ctrl_node(&self->cam, V4L2_CID_EXPOSURE);
	ASSERT_GE(self->cfd, 0);
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, VC_W, VC_H,
				   &self->fmt));
	ASSERT_EQ(0, vc_set_fps(self->vfd, VC_FPS));
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_EXPOSURE, VC_EXPOSURE));
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_ANALOGUE_GAIN, VC_AGAIN));
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_DIGITAL_GAIN, VC_DGAIN));
	ASSERT_EQ(0, vc_set_ctrl(self->cfd, V4L2_CID_TEST_PATTERN, VERACAM_PATTERN_BLACK));
}

FIXTURE_TEARDOWN(susp)
{
	if (self->q.count)
		vc_queue_release(&self->q);
	if (self->mq.count)
		vc_queue_release(&self->mq);
	if (self->pm_test_fd >= 0) {
		pwrite(self->pm_test_fd, "none", 4, 0);
		close(self->pm_test_fd);
	}
	if (self->state_fd >= 0)
		close(self->state_fd);
	if (self->cfd >= 0)
		close(self->cfd);
	if (self->mfd >= 0)
		close(self->mfd);
	if (self->vfd >= 0)
		close(self->vfd);
}

struct seen {
	uint32_t frames, metas;
	uint32_t first_seq, last_seq;
	uint64_t first_ns, last_ns;
	uint32_t errors, not_black, bad_meta;
};

/* Share of the pattern area (below the tag and text) that is black. */
static bool pattern_is_black(const struct v4l2_pix_format *f, const uint8_t *p)
{
	uint32_t x, y, all = 0, dark = 0;

	for (y = f->height / 2; y < f->height; y += 4)
		for (x = 0; x < f->width; x += 4) {
			all++;
			dark += vc_luma(f, p, x, y) < 24;
		}
	return dark == all;
}

/*
 * Dequeues video and metadata until VC_FRAMES video frames started at or
 * after since_ns; older frames are requeued unjudged.
 */
static void judge(struct __test_metadata *_metadata, FIXTURE_DATA(susp) *self,
		  uint64_t since_ns, struct seen *s)
{
	struct v4l2_buffer b, mb;
	const struct veracam_meta *m;
	int guard;

	memset(s, 0, sizeof(*s));
	for (guard = 0; s->frames < VC_FRAMES && guard < 200; guard++) {
		uint64_t ts;

		ASSERT_EQ(0, vc_dequeue(&self->q, &b, VC_DQ_TIMEOUT_MS))
			TH_LOG("no video frame within %d ms (%u judged)", VC_DQ_TIMEOUT_MS,
			       s->frames);
		ts = vc_tv_ns(&b.timestamp);
		if (ts >= since_ns) {
			if (!s->frames) {
				s->first_seq = b.sequence;
				s->first_ns = ts;
			}
			s->frames++;
			s->last_seq = b.sequence;
			s->last_ns = ts;
			if (b.flags & V4L2_BUF_FLAG_ERROR)
				s->errors++;
			else if (!pattern_is_black(&self->fmt, self->q.mem[b.index]))
				s->not_black++;
		}
		ASSERT_EQ(0, vc_requeue(&self->q, &b));

		while (!vc_dequeue(&self->mq, &mb, 0)) {
			m = self->mq.mem[mb.index];
			if (m->soe_ns >= since_ns) {
				s->metas++;
				if (m->exposure != VC_EXPOSURE ||
				    m->analogue_gain != VC_AGAIN ||
				    m->digital_gain != VC_DGAIN) {
					if (!s->bad_meta)
						TH_LOG("seq %u: metadata exposure %u again %u dgain %u",
						       m->sequence, m->exposure, m->analogue_gain,
						       m->digital_gain);
					s->bad_meta++;
				}
			}
			ASSERT_EQ(0, vc_requeue(&self->mq, &mb));
		}
	}
	ASSERT_EQ(VC_FRAMES, s->frames);
}

static void expect_setup(struct __test_metadata *_metadata, const struct seen *s,
			 const char *when)
{
	double interval_ms = 0;

	if (s->last_seq > s->first_seq)
		interval_ms = (double)(s->last_ns - s->first_ns) / 1e6 /
			      (s->last_seq - s->first_seq);
	TH_LOG("%s: %u frames (seq %u..%u), frame interval %.2f ms, %u ERROR, %u not black, %u of %u metadata off",
	       when, s->frames, s->first_seq, s->last_seq, interval_ms, s->errors,
	       s->not_black, s->bad_meta, s->metas);
	EXPECT_EQ(0U, s->errors);
	EXPECT_EQ(0U, s->not_black);
	EXPECT_GT(s->metas, 0U);
	EXPECT_EQ(0U, s->bad_meta);
	/* 1/15 s; the default, 1/30 s, would be 33.3 ms */
	EXPECT_GT(interval_ms, 1000.0 / VC_FPS * 0.9);
	EXPECT_LT(interval_ms, 1000.0 / VC_FPS * 1.1);
}

TEST_F_TIMEOUT(susp, streaming_survives_suspend_with_sensor_setup, 120)
{
	struct v4l2_streamparm parm = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct seen s;
	uint64_t t0, t1;
	int32_t v;

	if (self->cfd < 0)
		return;	/* skipped in the setup */
	ASSERT_EQ(0, vc_queue_setup(&self->mq, self->mfd, V4L2_BUF_TYPE_META_CAPTURE, 8));
	ASSERT_EQ(0, vc_queue_on(&self->mq));
	ASSERT_EQ(0, vc_queue_setup(&self->q, self->vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE, 4));
	ASSERT_EQ(0, vc_queue_on(&self->q));

	/* the same checks pass before the suspend */
	judge(_metadata, self, 0, &s);
	expect_setup(_metadata, &s, "before suspend");

	ASSERT_EQ(7, pwrite(self->pm_test_fd, "devices", 7, 0));
	t0 = vc_now_ns();
	EXPECT_EQ(6, pwrite(self->state_fd, "freeze", 6, 0))
		TH_LOG("freeze: %s", strerror(errno));
	t1 = vc_now_ns();
	pwrite(self->pm_test_fd, "none", 4, 0);
	TH_LOG("suspend (pm_test=devices) and resume took %.1f s", (t1 - t0) / 1e9);

	judge(_metadata, self, t1, &s);
	expect_setup(_metadata, &s, "after resume");

	ASSERT_EQ(0, vc_get_ctrl(self->cfd, V4L2_CID_EXPOSURE, &v));
	EXPECT_EQ(VC_EXPOSURE, v);
	ASSERT_EQ(0, vc_get_ctrl(self->cfd, V4L2_CID_ANALOGUE_GAIN, &v));
	EXPECT_EQ(VC_AGAIN, v);
	ASSERT_EQ(0, vc_get_ctrl(self->cfd, V4L2_CID_DIGITAL_GAIN, &v));
	EXPECT_EQ(VC_DGAIN, v);
	ASSERT_EQ(0, vc_get_ctrl(self->cfd, V4L2_CID_TEST_PATTERN, &v));
	EXPECT_EQ(VERACAM_PATTERN_BLACK, v);
	ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_G_PARM, &parm));
	EXPECT_EQ(1U, parm.parm.capture.timeperframe.numerator);
	EXPECT_EQ((uint32_t)VC_FPS, parm.parm.capture.timeperframe.denominator);
}

/* TEST_HARNESS_MAIN's constructor; main() is ours (see the top) */
static void __attribute__((constructor)) __constructor_order_last(void)
{
	if (!__constructor_order)
		__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD;
}

int main(int argc, char **argv)
{
	char line[48];
	int kmsg, status, rc;
	pid_t pid;

	if (!own_guest())
		return test_harness_run(argc, argv);

	/*
	 * The harness exits when done, so it runs in a child; nothing of
	 * either process may need the 9p root after resume.
	 */
	kmsg = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (mlockall(MCL_CURRENT | MCL_FUTURE))
		perror("mlockall");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return KSFT_FAIL;
	if (!pid)
		return test_harness_run(argc, argv);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : KSFT_FAIL;

	/* the guest's 9p shares are gone: report on the console, power off */
	snprintf(line, sizeof(line), "<2>veracam-guest-rc: %d\n", rc);
	if (kmsg < 0 || write(kmsg, line, strlen(line)) < 0)
		return rc;
	reboot(RB_POWER_OFF);
	return rc;
}
