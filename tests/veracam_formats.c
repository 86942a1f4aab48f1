// SPDX-License-Identifier: GPL-2.0
/*
 * veracam formats, sizes, frame intervals and the identity control, as an
 * application negotiates them: ENUM_FMT / ENUM_FRAMESIZES /
 * ENUM_FRAMEINTERVALS round-trip through S_FMT and S_PARM, TRY_FMT and
 * S_FMT forgive what they cannot do, the metadata node's format, the
 * sensor subdev's pad formats and selections.
 */
#include "kselftest_harness.h"
#include "veracam_util.h"

static const struct { uint32_t w, h; } vc_sizes[] = {
	{ 320, 240 }, { 640, 480 }, { 1280, 720 }, { 1920, 1080 },
};

FIXTURE(fmt) {
	struct vc_cam cam;
	int vfd;
};

FIXTURE_SETUP(fmt)
{
	struct vc_cam cams[VERACAM_MAX_CAMERAS];
	int n = vc_require_cameras(cams, VERACAM_MAX_CAMERAS, 1);

	self->vfd = -1;
	if (n == -ENOENT)
		SKIP(return, "veracam is not loaded and VERACAM_KO is not set");
	ASSERT_GE(n, 1) TH_LOG("no veracam media device (load: %s)", strerror(-n));
	self->cam = cams[0];
	ASSERT_NE(self->cam.video[0], 0) TH_LOG("%s has no video capture node", self->cam.media);
	self->vfd = open(self->cam.video, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->vfd, 0);
}

FIXTURE_TEARDOWN(fmt)
{
	if (self->vfd >= 0)
		close(self->vfd);
}

/* The harness of linux 6.1 runs the test body after a SKIP in setup. */
#define VC_NEED_SETUP() do { if (self->vfd < 0) return; } while (0)

static bool has_format(int fd, uint32_t type, uint32_t fourcc)
{
	struct v4l2_fmtdesc d = { .type = type };

	for (d.index = 0; !vc_ioctl(fd, VIDIOC_ENUM_FMT, &d); d.index++)
		if (d.pixelformat == fourcc)
			return true;
	return false;
}

/* Whether ENUM_FRAMESIZES of fourcc offers w x h. */
static bool size_offered(int fd, uint32_t fourcc, uint32_t w, uint32_t h)
{
	struct v4l2_frmsizeenum s = { .pixel_format = fourcc };

	for (s.index = 0; !vc_ioctl(fd, VIDIOC_ENUM_FRAMESIZES, &s); s.index++) {
		if (s.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
			if (s.discrete.width == w && s.discrete.height == h)
				return true;
			continue;
		}
		return w >= s.stepwise.min_width && w <= s.stepwise.max_width &&
		       h >= s.stepwise.min_height && h <= s.stepwise.max_height &&
		       (w - s.stepwise.min_width) % s.stepwise.step_width == 0 &&
		       (h - s.stepwise.min_height) % s.stepwise.step_height == 0;
	}
	return false;
}

/* Whether ENUM_FRAMEINTERVALS of fourcc at w x h offers 1/fps. */
static bool fps_offered(int fd, uint32_t fourcc, uint32_t w, uint32_t h, uint32_t fps)
{
	struct v4l2_frmivalenum iv = { .pixel_format = fourcc, .width = w, .height = h };

	for (iv.index = 0; !vc_ioctl(fd, VIDIOC_ENUM_FRAMEINTERVALS, &iv); iv.index++) {
		if (iv.type == V4L2_FRMIVAL_TYPE_DISCRETE) {
			/* n/d == 1/fps */
			if (iv.discrete.numerator * fps == iv.discrete.denominator)
				return true;
			continue;
		}
		/* continuous/stepwise: min <= 1/fps <= max */
		return (uint64_t)iv.stepwise.min.numerator * fps <= iv.stepwise.min.denominator &&
		       (uint64_t)iv.stepwise.max.numerator * fps >= iv.stepwise.max.denominator;
	}
	return false;
}

static uint32_t min_sizeimage(const struct v4l2_pix_format *p)
{
	return p->pixelformat == V4L2_PIX_FMT_NV12 ? p->bytesperline * p->height * 3 / 2 :
						      p->bytesperline * p->height;
}

static uint32_t bytes_per_pixel(uint32_t fourcc)
{
	int r, g, b, bpp;

	if (vc_rgb_layout(fourcc, &r, &g, &b, &bpp))
		return bpp;
	return fourcc == V4L2_PIX_FMT_NV12 ? 1 : 2;
}

TEST_F(fmt, querycap_names_the_camera)
{
	struct v4l2_capability cap = { 0 };

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_QUERYCAP, &cap));
	EXPECT_STREQ(VERACAM_DRIVER_NAME, (char *)cap.driver);
	EXPECT_STREQ(self->cam.bus_info, (char *)cap.bus_info);
	EXPECT_TRUE(!!(cap.device_caps & V4L2_CAP_VIDEO_CAPTURE));
	EXPECT_TRUE(!!(cap.device_caps & V4L2_CAP_STREAMING));
	EXPECT_EQ(0, strncmp(self->cam.bus_info, "platform:veracam.", 17))
		TH_LOG("bus_info %s", self->cam.bus_info);
	EXPECT_NE(0, self->cam.model[0]);
	EXPECT_NE(0, self->cam.meta[0]) TH_LOG("no metadata capture node in %s", self->cam.media);
	EXPECT_TRUE(self->cam.has_sensor) TH_LOG("no camera sensor subdev node in %s",
						 self->cam.media);
}

TEST_F(fmt, required_formats_and_size_range)
{
	struct v4l2_fmtdesc d = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	char cc[8];

	VC_NEED_SETUP();
	EXPECT_TRUE(has_format(self->vfd, d.type, V4L2_PIX_FMT_YUYV));
	EXPECT_TRUE(has_format(self->vfd, d.type, V4L2_PIX_FMT_NV12));
	EXPECT_NE(0U, vc_find_rgb_format(self->vfd)) TH_LOG("no RGB format");

	for (d.index = 0; !vc_ioctl(self->vfd, VIDIOC_ENUM_FMT, &d); d.index++) {
		struct v4l2_frmsizeenum s = { .pixel_format = d.pixelformat };
		uint32_t minw = UINT32_MAX, minh = UINT32_MAX, maxw = 0, maxh = 0;

		for (s.index = 0; !vc_ioctl(self->vfd, VIDIOC_ENUM_FRAMESIZES, &s); s.index++) {
			if (s.type == V4L2_FRMSIZE_TYPE_DISCRETE) {
				if (s.discrete.width * s.discrete.height < minw * minh) {
					minw = s.discrete.width;
					minh = s.discrete.height;
				}
				if (s.discrete.width * s.discrete.height > maxw * maxh) {
					maxw = s.discrete.width;
					maxh = s.discrete.height;
				}
			} else {
				minw = s.stepwise.min_width;
				minh = s.stepwise.min_height;
				maxw = s.stepwise.max_width;
				maxh = s.stepwise.max_height;
				break;
			}
		}
		TH_LOG("%s: %ux%u .. %ux%u", vc_fourcc(d.pixelformat, cc), minw, minh, maxw, maxh);
		EXPECT_EQ(320U, minw);
		EXPECT_EQ(240U, minh);
		EXPECT_EQ(1920U, maxw);
		EXPECT_EQ(1080U, maxh);
	}
	EXPECT_GE(d.index, 3U);
}

TEST_F(fmt, every_size_round_trips_through_s_fmt)
{
	struct v4l2_fmtdesc d = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	char cc[8];
	size_t i;

	VC_NEED_SETUP();
	for (d.index = 0; !vc_ioctl(self->vfd, VIDIOC_ENUM_FMT, &d); d.index++) {
		for (i = 0; i < ARRAY_SIZE(vc_sizes); i++) {
			struct v4l2_format g = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
			struct v4l2_pix_format p;
			uint32_t w = vc_sizes[i].w, h = vc_sizes[i].h;

			EXPECT_TRUE(size_offered(self->vfd, d.pixelformat, w, h))
				TH_LOG("%s %ux%u not enumerated", vc_fourcc(d.pixelformat, cc), w, h);
			ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, d.pixelformat, w, h, &p));
			EXPECT_EQ(d.pixelformat, p.pixelformat);
			EXPECT_EQ(w, p.width);
			EXPECT_EQ(h, p.height);
			EXPECT_EQ((uint32_t)V4L2_FIELD_NONE, p.field);
			EXPECT_GE(p.bytesperline, w * bytes_per_pixel(d.pixelformat));
			EXPECT_GE(p.sizeimage, min_sizeimage(&p));
			EXPECT_NE((uint32_t)V4L2_COLORSPACE_DEFAULT, p.colorspace);

			ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_G_FMT, &g));
			EXPECT_EQ(0, memcmp(&g.fmt.pix, &p, sizeof(p)))
				TH_LOG("G_FMT differs from what S_FMT returned for %s %ux%u",
				       vc_fourcc(d.pixelformat, cc), w, h);
		}
	}
}

TEST_F(fmt, frame_intervals_15_30_60)
{
	struct v4l2_fmtdesc d = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	static const uint32_t fps[] = { 15, 30, 60 };
	char cc[8];
	size_t i, k;

	VC_NEED_SETUP();
	for (d.index = 0; !vc_ioctl(self->vfd, VIDIOC_ENUM_FMT, &d); d.index++)
		for (i = 0; i < ARRAY_SIZE(vc_sizes); i++)
			for (k = 0; k < 3; k++)
				EXPECT_TRUE(fps_offered(self->vfd, d.pixelformat, vc_sizes[i].w,
							vc_sizes[i].h, fps[k]))
					TH_LOG("%s %ux%u lacks 1/%u", vc_fourcc(d.pixelformat, cc),
					       vc_sizes[i].w, vc_sizes[i].h, fps[k]);
}

TEST_F(fmt, try_fmt_and_s_fmt_forgive)
{
	static const struct { uint32_t fourcc, w, h, field; } asks[] = {
		{ v4l2_fourcc('Z', 'Z', 'Z', 'Z'), 640, 480, V4L2_FIELD_NONE },
		{ V4L2_PIX_FMT_YUYV, 333, 217, V4L2_FIELD_NONE },
		{ V4L2_PIX_FMT_NV12, 0, 0, V4L2_FIELD_ANY },
		{ V4L2_PIX_FMT_YUYV, 100000, 100000, V4L2_FIELD_INTERLACED },
		{ V4L2_PIX_FMT_NV12, 1921, 1081, V4L2_FIELD_NONE },
	};
	struct v4l2_format before = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_format after = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	char cc[8];
	size_t i;

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
	ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_G_FMT, &before));

	for (i = 0; i < ARRAY_SIZE(asks); i++) {
		unsigned long req[2] = { VIDIOC_TRY_FMT, VIDIOC_S_FMT };
		int k;

		for (k = 0; k < 2; k++) {
			struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

			f.fmt.pix.pixelformat = asks[i].fourcc;
			f.fmt.pix.width = asks[i].w;
			f.fmt.pix.height = asks[i].h;
			f.fmt.pix.field = asks[i].field;
			ASSERT_EQ(0, vc_ioctl(self->vfd, req[k], &f))
				TH_LOG("%s refused %s %ux%u", k ? "S_FMT" : "TRY_FMT",
				       vc_fourcc(asks[i].fourcc, cc), asks[i].w, asks[i].h);
			EXPECT_TRUE(has_format(self->vfd, f.type, f.fmt.pix.pixelformat));
			EXPECT_TRUE(size_offered(self->vfd, f.fmt.pix.pixelformat,
						 f.fmt.pix.width, f.fmt.pix.height))
				TH_LOG("%s gave %ux%u for %ux%u", k ? "S_FMT" : "TRY_FMT",
				       f.fmt.pix.width, f.fmt.pix.height, asks[i].w, asks[i].h);
			EXPECT_EQ((uint32_t)V4L2_FIELD_NONE, f.fmt.pix.field);
			EXPECT_GE(f.fmt.pix.sizeimage, min_sizeimage(&f.fmt.pix));
			if (asks[i].fourcc != v4l2_fourcc('Z', 'Z', 'Z', 'Z'))
				EXPECT_EQ(asks[i].fourcc, f.fmt.pix.pixelformat);
			if (k == 0) {
				/* TRY_FMT leaves the active format alone */
				ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_G_FMT, &after));
				EXPECT_EQ(0, memcmp(&before.fmt.pix, &after.fmt.pix,
						    sizeof(before.fmt.pix)));
			}
		}
		ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_S_FMT, &before));
	}
}

static int get_tpf(int fd, struct v4l2_fract *tpf, uint32_t *cap)
{
	struct v4l2_streamparm p = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	int r = vc_ioctl(fd, VIDIOC_G_PARM, &p);

	*tpf = p.parm.capture.timeperframe;
	if (cap)
		*cap = p.parm.capture.capability;
	return r;
}

TEST_F(fmt, s_parm_sets_and_reports_the_interval)
{
	static const uint32_t fps[] = { 15, 60, 30 };
	struct v4l2_streamparm p = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_fract tpf;
	uint32_t cap = 0;
	size_t i;

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 640, 480, NULL));
	ASSERT_EQ(0, get_tpf(self->vfd, &tpf, &cap));
	EXPECT_TRUE(!!(cap & V4L2_CAP_TIMEPERFRAME));

	for (i = 0; i < 3; i++) {
		p.parm.capture.timeperframe.numerator = 1;
		p.parm.capture.timeperframe.denominator = fps[i];
		ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_S_PARM, &p));
		EXPECT_EQ(fps[i], p.parm.capture.timeperframe.denominator /
				  p.parm.capture.timeperframe.numerator);
		ASSERT_EQ(0, get_tpf(self->vfd, &tpf, NULL));
		EXPECT_EQ(p.parm.capture.timeperframe.numerator * tpf.denominator,
			  p.parm.capture.timeperframe.denominator * tpf.numerator);
	}

	/* 1000 fps is not offered: the nearest offered rate, not an error */
	p.parm.capture.timeperframe.numerator = 1;
	p.parm.capture.timeperframe.denominator = 1000;
	ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_S_PARM, &p));
	ASSERT_NE(0U, p.parm.capture.timeperframe.numerator);
	EXPECT_TRUE(fps_offered(self->vfd, V4L2_PIX_FMT_YUYV, 640, 480,
				p.parm.capture.timeperframe.denominator /
				p.parm.capture.timeperframe.numerator));
	EXPECT_EQ(60U, p.parm.capture.timeperframe.denominator /
		      p.parm.capture.timeperframe.numerator);

	/*
	 * Rates between the offered ones are not set as asked: the nearest
	 * offered interval is (1/24 s is nearest 1/30, 1/12 s nearest 1/15).
	 * Other rates are the sensor's VBLANK control's business.
	 */
	{
		static const uint32_t asked[] = { 24, 12, 50 }, got[] = { 30, 15, 60 };

		for (i = 0; i < 3; i++) {
			p.parm.capture.timeperframe.numerator = 1;
			p.parm.capture.timeperframe.denominator = asked[i];
			ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_S_PARM, &p));
			ASSERT_NE(0U, p.parm.capture.timeperframe.numerator);
			EXPECT_TRUE(fps_offered(self->vfd, V4L2_PIX_FMT_YUYV, 640, 480,
						p.parm.capture.timeperframe.denominator /
						p.parm.capture.timeperframe.numerator))
				TH_LOG("S_PARM 1/%u set %u/%u, not an enumerated interval",
				       asked[i], p.parm.capture.timeperframe.numerator,
				       p.parm.capture.timeperframe.denominator);
			EXPECT_EQ(0U, p.parm.capture.timeperframe.denominator %
				      p.parm.capture.timeperframe.numerator);
			EXPECT_EQ(got[i], p.parm.capture.timeperframe.denominator /
					  p.parm.capture.timeperframe.numerator);
		}
	}

	/* a zero interval asks for the default, never a division by zero */
	p.parm.capture.timeperframe.numerator = 0;
	p.parm.capture.timeperframe.denominator = 0;
	ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_S_PARM, &p));
	EXPECT_NE(0U, p.parm.capture.timeperframe.numerator);
	EXPECT_NE(0U, p.parm.capture.timeperframe.denominator);
	ASSERT_EQ(0, vc_set_fps(self->vfd, 30));
}

TEST_F(fmt, metadata_node_format)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_META_CAPTURE };
	struct v4l2_capability cap = { 0 };
	int mfd;

	VC_NEED_SETUP();
	ASSERT_NE(0, self->cam.meta[0]);
	mfd = open(self->cam.meta, O_RDWR | O_CLOEXEC);
	ASSERT_GE(mfd, 0);
	ASSERT_EQ(0, vc_ioctl(mfd, VIDIOC_QUERYCAP, &cap));
	EXPECT_TRUE(!!(cap.device_caps & V4L2_CAP_META_CAPTURE));
	EXPECT_TRUE(!!(cap.device_caps & V4L2_CAP_STREAMING));
	EXPECT_FALSE(!!(cap.device_caps & V4L2_CAP_VIDEO_CAPTURE));
	EXPECT_TRUE(has_format(mfd, f.type, V4L2_META_FMT_VERACAM));
	ASSERT_EQ(0, vc_ioctl(mfd, VIDIOC_G_FMT, &f));
	EXPECT_EQ(V4L2_META_FMT_VERACAM, f.fmt.meta.dataformat);
	EXPECT_EQ(sizeof(struct veracam_meta), f.fmt.meta.buffersize);

	/* another data format is corrected, not accepted */
	f.fmt.meta.dataformat = v4l2_fourcc('Z', 'Z', 'Z', 'Z');
	f.fmt.meta.buffersize = 1;
	ASSERT_EQ(0, vc_ioctl(mfd, VIDIOC_TRY_FMT, &f));
	EXPECT_EQ(V4L2_META_FMT_VERACAM, f.fmt.meta.dataformat);
	EXPECT_EQ(sizeof(struct veracam_meta), f.fmt.meta.buffersize);
	close(mfd);
}

TEST_F(fmt, sensor_pad_formats_and_selections)
{
	struct v4l2_subdev_mbus_code_enum mc = { .which = V4L2_SUBDEV_FORMAT_ACTIVE };
	struct v4l2_subdev_frame_size_enum fs = { .which = V4L2_SUBDEV_FORMAT_ACTIVE };
	struct v4l2_subdev_format active = { .which = V4L2_SUBDEV_FORMAT_ACTIVE };
	struct v4l2_subdev_format a2 = { .which = V4L2_SUBDEV_FORMAT_ACTIVE };
	struct v4l2_subdev_format t = { .which = V4L2_SUBDEV_FORMAT_TRY };
	struct v4l2_subdev_selection bounds = {
		.which = V4L2_SUBDEV_FORMAT_ACTIVE, .target = V4L2_SEL_TGT_CROP_BOUNDS,
	};
	struct v4l2_subdev_selection native = {
		.which = V4L2_SUBDEV_FORMAT_ACTIVE, .target = V4L2_SEL_TGT_NATIVE_SIZE,
	};
	struct v4l2_subdev_selection crop = {
		.which = V4L2_SUBDEV_FORMAT_ACTIVE, .target = V4L2_SEL_TGT_CROP,
	};
	uint32_t maxw = 0, maxh = 0, minw = UINT32_MAX, minh = UINT32_MAX;
	int sfd;

	VC_NEED_SETUP();
	ASSERT_TRUE(self->cam.has_sensor);
	sfd = open(self->cam.subdev[0], O_RDWR | O_CLOEXEC);
	ASSERT_GE(sfd, 0);

	ASSERT_EQ(0, vc_ioctl(sfd, VIDIOC_SUBDEV_ENUM_MBUS_CODE, &mc));
	fs.code = mc.code;
	for (fs.index = 0; !vc_ioctl(sfd, VIDIOC_SUBDEV_ENUM_FRAME_SIZE, &fs); fs.index++) {
		if (fs.max_width > maxw || fs.max_height > maxh) {
			maxw = fs.max_width;
			maxh = fs.max_height;
		}
		if (fs.min_width < minw || fs.min_height < minh) {
			minw = fs.min_width;
			minh = fs.min_height;
		}
	}
	EXPECT_EQ(1920U, maxw);
	EXPECT_EQ(1080U, maxh);
	EXPECT_EQ(320U, minw);
	EXPECT_EQ(240U, minh);

	/* TRY is per file handle: it must not touch the ACTIVE format */
	ASSERT_EQ(0, vc_ioctl(sfd, VIDIOC_SUBDEV_G_FMT, &active));
	t.format = active.format;
	t.format.width = active.format.width == 640 ? 1280 : 640;
	t.format.height = active.format.width == 640 ? 720 : 480;
	ASSERT_EQ(0, vc_ioctl(sfd, VIDIOC_SUBDEV_S_FMT, &t));
	EXPECT_EQ(active.format.width == 640 ? 1280U : 640U, t.format.width);
	ASSERT_EQ(0, vc_ioctl(sfd, VIDIOC_SUBDEV_G_FMT, &a2));
	EXPECT_EQ(active.format.width, a2.format.width);
	EXPECT_EQ(active.format.height, a2.format.height);

	/* an impossible size is clamped into the enumerated range */
	t.format.width = 5;
	t.format.height = 99999;
	ASSERT_EQ(0, vc_ioctl(sfd, VIDIOC_SUBDEV_S_FMT, &t));
	EXPECT_GE(t.format.width, 320U);
	EXPECT_LE(t.format.height, 1080U);

	ASSERT_EQ(0, vc_ioctl(sfd, VIDIOC_SUBDEV_G_SELECTION, &native));
	ASSERT_EQ(0, vc_ioctl(sfd, VIDIOC_SUBDEV_G_SELECTION, &bounds));
	ASSERT_EQ(0, vc_ioctl(sfd, VIDIOC_SUBDEV_G_SELECTION, &crop));
	EXPECT_GE(native.r.width, 1920U);
	EXPECT_GE(native.r.height, 1080U);
	EXPECT_LE(bounds.r.left + bounds.r.width, native.r.left + native.r.width);
	EXPECT_LE(bounds.r.top + bounds.r.height, native.r.top + native.r.height);
	EXPECT_GE(crop.r.left, bounds.r.left);
	EXPECT_GE(crop.r.top, bounds.r.top);
	EXPECT_LE(crop.r.left + crop.r.width, bounds.r.left + bounds.r.width);
	EXPECT_LE(crop.r.top + crop.r.height, bounds.r.top + bounds.r.height);

	close(sfd);
}

/*
 * The sensor sets its frame rate the upstream way, by blanking: a slower
 * rate chosen with S_PARM on the capture node is a longer VBLANK, and the
 * timing controls a sensor driver must have are there.
 */
TEST_F(fmt, frame_rate_is_sensor_blanking)
{
	static const uint32_t ids[] = {
		V4L2_CID_VBLANK, V4L2_CID_HBLANK, V4L2_CID_PIXEL_RATE, V4L2_CID_LINK_FREQ,
		V4L2_CID_EXPOSURE, V4L2_CID_ANALOGUE_GAIN, V4L2_CID_DIGITAL_GAIN,
	};
	int32_t vblank15 = 0, vblank60 = 0;
	size_t i;
	int cfd;

	VC_NEED_SETUP();
	for (i = 0; i < ARRAY_SIZE(ids); i++) {
		struct v4l2_queryctrl q = { .id = ids[i] };

		cfd = vc_open_ctrl_node(&self->cam, ids[i]);
		EXPECT_GE(cfd, 0) TH_LOG("no control %#x on the sensor", ids[i]);
		if (cfd >= 0) {
			EXPECT_EQ(0, vc_ioctl(cfd, VIDIOC_QUERYCTRL, &q));
			close(cfd);
		}
	}

	cfd = vc_open_ctrl_node(&self->cam, V4L2_CID_VBLANK);
	ASSERT_GE(cfd, 0);
	ASSERT_EQ(0, vc_set_format(&self->cam, self->vfd, V4L2_PIX_FMT_YUYV, 640, 480, NULL));
	ASSERT_EQ(0, vc_set_fps(self->vfd, 15));
	ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_VBLANK, &vblank15));
	ASSERT_EQ(0, vc_set_fps(self->vfd, 60));
	ASSERT_EQ(0, vc_get_ctrl(cfd, V4L2_CID_VBLANK, &vblank60));
	TH_LOG("VBLANK %d lines at 15 fps, %d at 60 fps", vblank15, vblank60);
	EXPECT_GT(vblank15, vblank60);
	ASSERT_EQ(0, vc_set_fps(self->vfd, 30));
	close(cfd);
}

TEST_F(fmt, unique_id_control_is_read_only_and_matches_media_serial)
{
	struct v4l2_query_ext_ctrl q = { .id = V4L2_CID_VERACAM_UNIQUE_ID };
	char hex[VERACAM_UNIQUE_ID_HEX_LEN + 1], sys[64];
	uint8_t bin[VERACAM_UNIQUE_ID_LEN];
	struct v4l2_ext_control c = {
		.id = V4L2_CID_VERACAM_UNIQUE_ID,
		.size = sizeof(hex),
		.string = hex,
	};
	struct v4l2_ext_controls cs = {
		.which = V4L2_CTRL_WHICH_CUR_VAL, .count = 1, .controls = &c,
	};
	int sfd;

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_ioctl(self->vfd, VIDIOC_QUERY_EXT_CTRL, &q));
	EXPECT_EQ((uint32_t)V4L2_CTRL_TYPE_STRING, q.type);
	EXPECT_TRUE(!!(q.flags & V4L2_CTRL_FLAG_READ_ONLY));
	EXPECT_EQ(VERACAM_UNIQUE_ID_HEX_LEN, q.maximum);

	ASSERT_EQ(0, vc_get_uid_ctrl(self->vfd, hex));
	EXPECT_TRUE(vc_uid_parse(hex, bin)) TH_LOG("unique id \"%s\"", hex);
	ASSERT_EQ(0, vc_media_serial(&self->cam, sys, sizeof(sys)));
	EXPECT_STREQ(hex, sys);
	/* standard uAPI only: no private sysfs attribute */
	EXPECT_FALSE(vc_has_sysfs_uid(self->cam.video));

	/* the sensor subdev reports the same id */
	if (self->cam.has_sensor) {
		char shex[VERACAM_UNIQUE_ID_HEX_LEN + 1];

		sfd = open(self->cam.subdev[0], O_RDWR | O_CLOEXEC);
		ASSERT_GE(sfd, 0);
		ASSERT_EQ(0, vc_get_uid_ctrl(sfd, shex));
		EXPECT_STREQ(hex, shex);
		close(sfd);
	}

	/* identity cannot be rewritten from userspace */
	memcpy(hex, "00000000000000000000000000000000", sizeof(hex));
	EXPECT_EQ(-EACCES, vc_ioctl(self->vfd, VIDIOC_S_EXT_CTRLS, &cs));
	ASSERT_EQ(0, vc_get_uid_ctrl(self->vfd, hex));
	EXPECT_STREQ(sys, hex);
}

TEST_HARNESS_MAIN
