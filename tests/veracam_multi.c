// SPDX-License-Identifier: GPL-2.0
/*
 * Several veracam cameras at once: every frame and metadata buffer a
 * camera delivers carries its own identity (never the other camera's),
 * default ids follow the uapi, and ids written to the sensors' OTP
 * registers ("camera_ids=" in the reload helper: tests/vc1-stub) stay
 * with the camera across a reload in the other order, found by id and
 * never by /dev/videoN.
 */
#include "kselftest_harness.h"
#include "veracam_util.h"

#define VC_DQ_TIMEOUT_MS	2000
#define ID_A	"0123456789abcdef0011223344556677"
#define ID_B	"fedcba98765432108899aabbccddeeff"

FIXTURE(multi) {
	struct vc_cam cams[VERACAM_MAX_CAMERAS];
	int n;
	bool loaded;
};

FIXTURE_SETUP(multi)
{
	self->loaded = false;
	if (!vc_ko_path())
		SKIP(return, "these tests reload veracam: VERACAM_KO is not set");
	self->loaded = true;
}

FIXTURE_TEARDOWN(multi)
{
}

#define VC_NEED_SETUP() do { if (!self->loaded) return; } while (0)

/* Reloads veracam with params and finds its cameras; asserts there are want. */
static void reload(struct __test_metadata *_metadata, FIXTURE_DATA(multi) *self,
		   const char *params, int want)
{
	int r = vc_reload(params);

	ASSERT_EQ(0, r) TH_LOG("insmod veracam %s: %s", params, strerror(-r));
	self->n = vc_wait_cameras(self->cams, VERACAM_MAX_CAMERAS, want);
	ASSERT_EQ(want, self->n);
}

/* What streaming one camera showed. */
struct cam_run {
	struct vc_queue vq, mq;
	int vfd, mfd;
	struct v4l2_pix_format fmt;
	uint32_t frames, own, foreign, unreadable, meta_ok, meta_bad;
	uint32_t wrong_colour;	/* frames not in the camera's own colour */
};

/*
 * Whether the default pattern below the tag and text is this camera's
 * documented colour (VERACAM_CAMERA_COLOURS by instance index).
 */
static bool own_colour(const struct vc_cam *cam, const struct v4l2_pix_format *f,
		       const uint8_t *p)
{
	static const uint32_t colours[] = VERACAM_CAMERA_COLOURS;
	uint32_t want = colours[cam->index % ARRAY_SIZE(colours)];
	int r = want >> 16, g = (want >> 8) & 0xff, b = want & 0xff;
	uint32_t x, y, near = 0, all = 0;

	for (y = f->height / 2; y < f->height; y += 8)
		for (x = 0; x < f->width; x += 8) {
			struct vc_rgb c = vc_pixel(f, p, x, y);

			all++;
			near += abs(c.r - r) <= 48 && abs(c.g - g) <= 48 && abs(c.b - b) <= 48;
		}
	return near * 100 >= all * 95;
}

/*
 * Streams video and metadata of every camera in cams[0..n-1] at once
 * until each delivered @frames frames, decoding the camera row of each
 * frame's tag and the unique id of each metadata buffer.
 */
static void stream_all(struct __test_metadata *_metadata, const struct vc_cam *cams, int n,
		       uint32_t frames, struct cam_run *runs)
{
	struct pollfd pfd[2 * VERACAM_MAX_CAMERAS];
	uint64_t deadline = vc_now_ns() + 60ULL * 1000000000ULL;
	bool done = false;
	int i, j;

	memset(runs, 0, sizeof(*runs) * n);
	for (i = 0; i < n; i++) {
		runs[i].vfd = open(cams[i].video, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		runs[i].mfd = open(cams[i].meta, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		ASSERT_GE(runs[i].vfd, 0);
		ASSERT_GE(runs[i].mfd, 0);
		ASSERT_EQ(0, vc_set_format(&cams[i], runs[i].vfd, V4L2_PIX_FMT_YUYV, 320, 240,
					   &runs[i].fmt));
		ASSERT_EQ(0, vc_set_fps(runs[i].vfd, 30));
		ASSERT_EQ(0, vc_queue_setup(&runs[i].mq, runs[i].mfd,
					    V4L2_BUF_TYPE_META_CAPTURE, 6));
		ASSERT_EQ(0, vc_queue_setup(&runs[i].vq, runs[i].vfd,
					    V4L2_BUF_TYPE_VIDEO_CAPTURE, 6));
	}
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, vc_queue_on(&runs[i].mq));
		ASSERT_EQ(0, vc_queue_on(&runs[i].vq));
	}

	while (!done && vc_now_ns() < deadline) {
		for (i = 0; i < n; i++) {
			pfd[2 * i] = (struct pollfd){ .fd = runs[i].vfd, .events = POLLIN };
			pfd[2 * i + 1] = (struct pollfd){ .fd = runs[i].mfd, .events = POLLIN };
		}
		ASSERT_GE(poll(pfd, 2 * n, VC_DQ_TIMEOUT_MS), 1);
		for (i = 0; i < n; i++) {
			struct cam_run *r = &runs[i];
			struct v4l2_buffer b;
			uint32_t tag;

			if ((pfd[2 * i].revents & POLLIN) && !vc_dequeue(&r->vq, &b, 0)) {
				r->frames++;
				if (!vc_read_tag(&r->fmt, r->vq.mem[b.index], 1, &tag)) {
					r->unreadable++;
				} else if (tag == cams[i].tag) {
					r->own++;
				} else {
					r->foreign++;
					for (j = 0; j < n; j++)
						if (tag == cams[j].tag)
							TH_LOG("%s delivered a frame of %s (tag %08x)",
							       cams[i].video, cams[j].video, tag);
				}
				if (!own_colour(&cams[i], &r->fmt, r->vq.mem[b.index]))
					r->wrong_colour++;
				ASSERT_EQ(0, vc_requeue(&r->vq, &b));
			}
			if ((pfd[2 * i + 1].revents & POLLIN) && !vc_dequeue(&r->mq, &b, 0)) {
				const struct veracam_meta *m = r->mq.mem[b.index];

				if (m->magic == VERACAM_META_MAGIC &&
				    !memcmp(m->unique_id, cams[i].uid_bin, VERACAM_UNIQUE_ID_LEN))
					r->meta_ok++;
				else
					r->meta_bad++;
				ASSERT_EQ(0, vc_requeue(&r->mq, &b));
			}
		}
		done = true;
		for (i = 0; i < n; i++)
			done &= runs[i].frames >= frames;
	}
	for (i = 0; i < n; i++) {
		vc_queue_release(&runs[i].vq);
		vc_queue_release(&runs[i].mq);
		close(runs[i].vfd);
		close(runs[i].mfd);
		TH_LOG("%s (%s, tag %08x): %u frames, own %u, foreign %u, unreadable %u, wrong colour %u, meta ok %u bad %u",
		       cams[i].video, cams[i].bus_info, cams[i].tag, runs[i].frames, runs[i].own,
		       runs[i].foreign, runs[i].unreadable, runs[i].wrong_colour, runs[i].meta_ok,
		       runs[i].meta_bad);
	}
}

TEST_F_TIMEOUT(multi, default_ids_follow_the_uapi, 60)
{
	char want[VERACAM_UNIQUE_ID_HEX_LEN + 1], sys[64];
	int i;

	VC_NEED_SETUP();
	reload(_metadata, self, "num_cameras=2", 2);
	for (i = 0; i < self->n; i++) {
		EXPECT_EQ(i, self->cams[i].index);
		vc_default_uid(self->cams[i].index, want);
		EXPECT_STREQ(want, self->cams[i].uid);
		ASSERT_EQ(0, vc_media_serial(&self->cams[i], sys, sizeof(sys)));
		EXPECT_STREQ(want, sys);
		EXPECT_EQ(0xca110000U | (i + 1), self->cams[i].tag);
	}
	EXPECT_STRNE(self->cams[0].media, self->cams[1].media);
	EXPECT_STRNE(self->cams[0].video, self->cams[1].video);
}

TEST_F_TIMEOUT(multi, two_cameras_never_deliver_each_others_frames, 120)
{
	struct cam_run runs[2];
	int i;

	VC_NEED_SETUP();
	reload(_metadata, self, "num_cameras=2", 2);
	ASSERT_NE(self->cams[0].tag, self->cams[1].tag);
	stream_all(_metadata, self->cams, 2, 90, runs);
	for (i = 0; i < 2; i++) {
		EXPECT_GE(runs[i].frames, 90U);
		EXPECT_EQ(runs[i].frames, runs[i].own);
		EXPECT_EQ(0U, runs[i].foreign);
		EXPECT_EQ(0U, runs[i].unreadable);
		EXPECT_EQ(0U, runs[i].wrong_colour);
		EXPECT_GE(runs[i].meta_ok, 80U);
		EXPECT_EQ(0U, runs[i].meta_bad);
	}
}

TEST_F_TIMEOUT(multi, stable_ids_survive_reload_in_other_order, 120)
{
	static const char *const order[2] = {
		"num_cameras=2 camera_ids=" ID_A "," ID_B,
		"num_cameras=2 camera_ids=" ID_B "," ID_A,
	};
	int index_of_a[2], k;

	VC_NEED_SETUP();
	for (k = 0; k < 2; k++) {
		struct cam_run run;
		char sys[64];
		int a, b;

		reload(_metadata, self, order[k], 2);
		a = vc_find_by_uid(self->cams, self->n, ID_A);
		b = vc_find_by_uid(self->cams, self->n, ID_B);
		ASSERT_GE(a, 0) TH_LOG("no camera with id " ID_A " after %s", order[k]);
		ASSERT_GE(b, 0) TH_LOG("no camera with id " ID_B " after %s", order[k]);
		index_of_a[k] = self->cams[a].index;
		TH_LOG("%s: id A is %s %s, id B is %s %s", order[k], self->cams[a].bus_info,
		       self->cams[a].video, self->cams[b].bus_info, self->cams[b].video);

		/* the media device's serial agrees with the control */
		ASSERT_EQ(0, vc_media_serial(&self->cams[a], sys, sizeof(sys)));
		EXPECT_STREQ(ID_A, sys);
		ASSERT_EQ(0, vc_media_serial(&self->cams[b], sys, sizeof(sys)));
		EXPECT_STREQ(ID_B, sys);

		/* the camera found by id A shows A's tag and A's id in metadata */
		EXPECT_EQ(0x01234567U, self->cams[a].tag);
		stream_all(_metadata, &self->cams[a], 1, 20, &run);
		EXPECT_EQ(run.frames, run.own);
		EXPECT_GE(run.own, 20U);
		EXPECT_EQ(0U, run.meta_bad);
		EXPECT_GE(run.meta_ok, 10U);
	}
	/* the order really changed: A moved to the other instance */
	EXPECT_NE(index_of_a[0], index_of_a[1]);
}

TEST_HARNESS_MAIN
