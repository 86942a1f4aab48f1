// SPDX-License-Identifier: GPL-2.0
/*
 * veracam lifetime: 100 load/unload cycles (rmmod refused while a file is
 * open, allowed once it is closed, also after closing while streaming) and
 * 20 unbind/rebind cycles of the platform device with idle and streaming
 * file handles open, 100 reloads of both modules in alternating order
 * (vc1 first, veracam first) with the sensor unbound from vc1 while the
 * capture and metadata nodes stream, then no oops/WARN/BUG in the kernel
 * log.
 */
#include "kselftest_harness.h"
#include "veracam_util.h"

#define VC_DQ_TIMEOUT_MS	2000
#define VC_DRIVER_SYSFS		"/sys/bus/platform/drivers/" VERACAM_DRIVER_NAME

FIXTURE(life) {
	int kmsg;
	bool loaded;
};

FIXTURE_SETUP(life)
{
	self->kmsg = -1;
	self->loaded = false;
	if (!vc_ko_path())
		SKIP(return, "these tests reload veracam: VERACAM_KO is not set");
	self->kmsg = vc_kmsg_open();
	ASSERT_GE(self->kmsg, 0) TH_LOG("/dev/kmsg: %s", strerror(errno));
	self->loaded = true;
}

FIXTURE_TEARDOWN(life)
{
	struct vc_cam cams[VERACAM_MAX_CAMERAS];

	if (self->kmsg >= 0)
		close(self->kmsg);
	/* leave one camera behind for the tests that follow */
	if (self->loaded && vc_find_cameras(cams, VERACAM_MAX_CAMERAS) < 1)
		vc_reload("num_cameras=1");
}

#define VC_NEED_SETUP() do { if (!self->loaded) return; } while (0)

/* A /proc/meminfo figure in kB, or -1. */
static long meminfo_kb(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = atol(line + strlen(key) + 1);
	fclose(f);
	return v;
}

/*
 * vb2-vmalloc buffers and module images live in vmalloc space: what a
 * cycle leaks there adds up over many cycles. Slab is logged for people.
 */
#define VC_VMALLOC_LEAK_KB	4096

/* Unload, retrying briefly while the last file references go away. */
static int unload_settled(void)
{
	int i, r = -EAGAIN;

	for (i = 0; i < 20 && (r == -EAGAIN || r == -EBUSY); i++) {
		r = vc_unload();
		if (r)
			vc_sleep_ms(50);
	}
	return r;
}

/* Starts streaming fd with 4 buffers and takes two frames. */
static int start_streaming(struct vc_queue *q, int fd, uint32_t type)
{
	struct v4l2_buffer b;
	int r, i;

	r = vc_queue_setup(q, fd, type, 4);
	if (!r)
		r = vc_queue_on(q);
	for (i = 0; !r && i < 2; i++) {
		r = vc_dequeue(q, &b, VC_DQ_TIMEOUT_MS);
		if (!r)
			r = vc_requeue(q, &b);
	}
	return r;
}

/* Drops the queue's mappings without any ioctl (the fd may be dead). */
static void unmap_all(struct vc_queue *q)
{
	uint32_t i;

	for (i = 0; i < q->count; i++)
		if (q->mem[i] && q->mem[i] != MAP_FAILED)
			munmap(q->mem[i], q->len[i]);
	q->count = 0;
}

TEST_F_TIMEOUT(life, load_unload_100_times, 1200)
{
	struct vc_cam cams[VERACAM_MAX_CAMERAS];
	uint32_t refused = 0, streamed = 0;
	int i, n, r, bad;

	long vm0, slab0, vm1, slab1;

	VC_NEED_SETUP();
	ASSERT_EQ(0, unload_settled());
	vm0 = meminfo_kb("VmallocUsed");
	slab0 = meminfo_kb("Slab");
	for (i = 0; i < 100; i++) {
		int want = 1 + i % 2, mfd, vfd;
		char params[32];

		snprintf(params, sizeof(params), "num_cameras=%d", want);
		r = vc_load(params);
		ASSERT_EQ(0, r) TH_LOG("cycle %d: insmod %s: %s", i, params, strerror(-r));
		n = vc_wait_cameras(cams, VERACAM_MAX_CAMERAS, want);
		ASSERT_EQ(want, n) TH_LOG("cycle %d", i);

		mfd = open(cams[n - 1].media, O_RDWR | O_CLOEXEC);
		vfd = open(cams[n - 1].video, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		ASSERT_GE(mfd, 0);
		ASSERT_GE(vfd, 0);

		/* the module cannot go while a file is open */
		r = vc_unload();
		EXPECT_TRUE(r == -EAGAIN || r == -EBUSY)
			TH_LOG("cycle %d: rmmod with open files returned %d", i, r);
		refused += r == -EAGAIN || r == -EBUSY;

		if (i % 10 == 9) {
			struct vc_queue q;

			ASSERT_EQ(0, vc_set_format(&cams[n - 1], vfd, V4L2_PIX_FMT_YUYV, 320, 240,
						   NULL));
			ASSERT_EQ(0, start_streaming(&q, vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE));
			/* closed while streaming: release must stop the stream */
			unmap_all(&q);
			streamed++;
		}
		close(vfd);
		close(mfd);
		r = unload_settled();
		ASSERT_EQ(0, r) TH_LOG("cycle %d: rmmod: %s", i, strerror(-r));
		EXPECT_EQ(0, vc_find_cameras(cams, VERACAM_MAX_CAMERAS));
	}
	vm1 = meminfo_kb("VmallocUsed");
	slab1 = meminfo_kb("Slab");
	bad = vc_kmsg_bad(self->kmsg);
	TH_LOG("100 load/unload cycles, %u rmmod refused while open, %u closed while streaming, %d kernel log problems",
	       refused, streamed, bad);
	TH_LOG("unloaded before and after: VmallocUsed %ld -> %ld kB, Slab %ld -> %ld kB",
	       vm0, vm1, slab0, slab1);
	EXPECT_EQ(0, bad);
	EXPECT_LT(vm1 - vm0, VC_VMALLOC_LEAK_KB);
	ASSERT_EQ(0, vc_load("num_cameras=1"));
}

TEST_F_TIMEOUT(life, unbind_rebind_20_times_with_open_and_streaming_files, 900)
{
	struct vc_cam cams[VERACAM_MAX_CAMERAS], cam;
	char uid[VERACAM_UNIQUE_ID_HEX_LEN + 1];
	uint32_t dead_dq = 0;
	long vm0, slab0;
	int i, r, bad;

	VC_NEED_SETUP();
	ASSERT_EQ(0, vc_reload("num_cameras=1"));
	ASSERT_EQ(1, vc_wait_cameras(cams, VERACAM_MAX_CAMERAS, 1));
	cam = cams[0];
	vm0 = meminfo_kb("VmallocUsed");
	slab0 = meminfo_kb("Slab");
	snprintf(uid, sizeof(uid), "%s", cam.uid);
	ASSERT_NE(0, uid[0]);

	for (i = 0; i < 20; i++) {
		struct v4l2_capability cap;
		struct media_device_info info;
		struct vc_queue vq, mq;
		struct v4l2_buffer b;
		int mdfd, sdfd, idle, vfd, mfd, k;
		volatile uint8_t touch;

		mdfd = open(cam.media, O_RDWR | O_CLOEXEC);
		sdfd = cam.has_sensor ? open(cam.subdev[0], O_RDWR | O_CLOEXEC) : -1;
		idle = open(cam.video, O_RDWR | O_CLOEXEC);
		vfd = open(cam.video, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		mfd = open(cam.meta, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		ASSERT_GE(mdfd, 0);
		ASSERT_GE(idle, 0);
		ASSERT_GE(vfd, 0);
		ASSERT_GE(mfd, 0);
		ASSERT_EQ(0, vc_set_format(&cam, vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
		ASSERT_EQ(0, vc_queue_setup(&mq, mfd, V4L2_BUF_TYPE_META_CAPTURE, 4));
		ASSERT_EQ(0, vc_queue_on(&mq));
		ASSERT_EQ(0, start_streaming(&vq, vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE));

		r = vc_write_text(VC_DRIVER_SYSFS "/unbind", cam.platdev);
		ASSERT_EQ(0, r) TH_LOG("cycle %d: unbind %s: %s", i, cam.platdev, strerror(-r));

		/* the streaming handle ends with an error, it does not hang */
		for (k = 0; k < 2 * (int)vq.count + 2; k++) {
			r = vc_dequeue(&vq, &b, VC_DQ_TIMEOUT_MS);
			if (r)
				break;
		}
		EXPECT_NE(-ETIMEDOUT, r) TH_LOG("cycle %d: DQBUF after unbind hangs", i);
		dead_dq += r && r != -ETIMEDOUT;
		/* the idle handle and the others say the device is gone */
		EXPECT_EQ(-ENODEV, vc_ioctl(idle, VIDIOC_QUERYCAP, &cap));
		EXPECT_NE(0, vc_ioctl(mdfd, MEDIA_IOC_DEVICE_INFO, &info));
		if (sdfd >= 0) {
			struct v4l2_subdev_format sf = { .which = V4L2_SUBDEV_FORMAT_ACTIVE };

			EXPECT_NE(0, vc_ioctl(sdfd, VIDIOC_SUBDEV_G_FMT, &sf));
		}
		/* mapped buffers stay readable until unmapped */
		touch = ((uint8_t *)vq.mem[0])[0];
		(void)touch;

		/* STREAMOFF on a dead handle must not crash either */
		vc_ioctl(vfd, VIDIOC_STREAMOFF, &vq.type);
		unmap_all(&vq);
		unmap_all(&mq);
		close(vfd);
		close(mfd);
		close(idle);
		if (sdfd >= 0)
			close(sdfd);
		close(mdfd);

		r = vc_write_text(VC_DRIVER_SYSFS "/bind", cam.platdev);
		ASSERT_EQ(0, r) TH_LOG("cycle %d: bind %s: %s", i, cam.platdev, strerror(-r));
		ASSERT_EQ(1, vc_wait_cameras(cams, VERACAM_MAX_CAMERAS, 1));
		cam = cams[0];
		/* the same camera came back, and it streams */
		EXPECT_STREQ(uid, cam.uid);
		vfd = open(cam.video, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		ASSERT_GE(vfd, 0);
		ASSERT_EQ(0, vc_set_format(&cam, vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
		ASSERT_EQ(0, start_streaming(&vq, vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE))
			TH_LOG("cycle %d: no frames after rebind", i);
		vc_queue_release(&vq);
		close(vfd);
	}
	bad = vc_kmsg_bad(self->kmsg);
	TH_LOG("20 unbind/rebind cycles, %u streaming handles ended with an error, %d kernel log problems",
	       dead_dq, bad);
	TH_LOG("bound, idle, before and after: VmallocUsed %ld -> %ld kB, Slab %ld -> %ld kB",
	       vm0, meminfo_kb("VmallocUsed"), slab0, meminfo_kb("Slab"));
	EXPECT_LT(meminfo_kb("VmallocUsed") - vm0, VC_VMALLOC_LEAK_KB);
	EXPECT_EQ(20U, dead_dq);
	EXPECT_EQ(0, bad);

	/* and the module still unloads cleanly afterwards */
	ASSERT_EQ(0, unload_settled());
	ASSERT_EQ(0, vc_load("num_cameras=1"));
	EXPECT_EQ(0, vc_kmsg_bad(self->kmsg));
}

#define VC1_DRIVER_SYSFS	"/sys/bus/i2c/drivers/vc1"

/* finit_module of $VC1_KO (default driver/vc1.ko): 0 or -errno */
static int vc1_load(void)
{
	const char *ko = getenv("VC1_KO");
	int fd, r;

	fd = open(ko && *ko ? ko : "driver/vc1.ko", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(__NR_finit_module, fd, "", 0) ? -errno : 0;
	close(fd);
	return r;
}

/* delete_module NAME, retried while its last users go away */
static int module_unload(const char *name)
{
	int i, r = -EAGAIN;

	for (i = 0; i < 40 && (r == -EAGAIN || r == -EBUSY); i++) {
		r = syscall(__NR_delete_module, name, O_NONBLOCK) ? -errno : 0;
		if (r == -ENOENT)
			r = 0;
		if (r)
			vc_sleep_ms(50);
	}
	return r;
}

/* camera 0's sensor, "B-0010", as bound to vc1; false when unbound */
static bool vc1_device(char *name, size_t len)
{
	DIR *d = opendir(VC1_DRIVER_SYSFS);
	struct dirent *e;
	bool found = false;

	if (!d)
		return false;
	while (!found && (e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (n > 5 && !strcmp(e->d_name + n - 5, "-0010")) {
			snprintf(name, len, "%s", e->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

/*
 * The sensor driver and the receiver in both load orders (vc1 then
 * veracam, veracam then vc1: the async notifier binds either way), and in
 * each cycle the sensor unbound from vc1 while the capture and metadata
 * nodes stream with their files open, then bound again; no oops/WARN.
 */
#define VC_ORDER_CYCLES	100

TEST_F_TIMEOUT(life, sensor_unbind_while_streaming_both_load_orders, 1200)
{
	struct vc_cam cams[VERACAM_MAX_CAMERAS], cam;
	uint32_t dq_error = 0, dq_timeout = 0;
	char dev[32];
	int i, r, bad;

	VC_NEED_SETUP();
	for (i = 0; i < VC_ORDER_CYCLES; i++) {
		bool sensor_first = !(i % 2);
		struct vc_queue vq, mq;
		struct v4l2_buffer b;
		int vfd, mfd;

		ASSERT_EQ(0, unload_settled());
		ASSERT_EQ(0, module_unload("vc1")) TH_LOG("cycle %d: rmmod vc1", i);
		if (sensor_first) {
			ASSERT_EQ(0, vc1_load()) TH_LOG("cycle %d: insmod vc1", i);
			ASSERT_EQ(0, vc_load("num_cameras=1"));
		} else {
			ASSERT_EQ(0, vc_load("num_cameras=1"));
			ASSERT_EQ(0, vc1_load()) TH_LOG("cycle %d: insmod vc1", i);
		}
		ASSERT_EQ(1, vc_wait_cameras(cams, VERACAM_MAX_CAMERAS, 1))
			TH_LOG("cycle %d (%s first): no camera", i, sensor_first ? "vc1" : "veracam");
		cam = cams[0];
		ASSERT_TRUE(cam.has_sensor);
		ASSERT_TRUE(vc1_device(dev, sizeof(dev)));

		vfd = open(cam.video, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		mfd = open(cam.meta, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		ASSERT_GE(vfd, 0);
		ASSERT_GE(mfd, 0);
		ASSERT_EQ(0, vc_set_format(&cam, vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
		ASSERT_EQ(0, start_streaming(&mq, mfd, V4L2_BUF_TYPE_META_CAPTURE));
		ASSERT_EQ(0, start_streaming(&vq, vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE));

		/* the sensor leaves while both nodes stream */
		r = vc_write_text(VC1_DRIVER_SYSFS "/unbind", dev);
		ASSERT_EQ(0, r) TH_LOG("cycle %d: unbind %s: %s", i, dev, strerror(-r));
		EXPECT_FALSE(vc1_device(dev, sizeof(dev)));
		/*
		 * no frame comes any more, and nothing hangs: both queues
		 * report the error at once (frames already produced first)
		 */
		do {
			r = vc_dequeue(&vq, &b, 500);
		} while (!r);
		EXPECT_EQ(-EIO, r) TH_LOG("cycle %d: image DQBUF after the sensor's unbind: %s",
					  i, strerror(-r));
		dq_error += r == -EIO;
		dq_timeout += r == -ETIMEDOUT;
		do {
			r = vc_dequeue(&mq, &b, 500);
		} while (!r);
		EXPECT_EQ(-EIO, r) TH_LOG("cycle %d: metadata DQBUF after the sensor's unbind: %s",
					  i, strerror(-r));
		EXPECT_EQ(0, vc_ioctl(vfd, VIDIOC_STREAMOFF, &vq.type));
		vq.streaming = false;
		vc_queue_release(&vq);
		vc_queue_release(&mq);

		/* bound again, with the files still open: it streams again */
		r = vc_write_text(VC1_DRIVER_SYSFS "/bind", dev);
		ASSERT_EQ(0, r) TH_LOG("cycle %d: bind %s: %s", i, dev, strerror(-r));
		ASSERT_EQ(1, vc_wait_cameras(cams, VERACAM_MAX_CAMERAS, 1));
		cam = cams[0];
		ASSERT_TRUE(cam.has_sensor) TH_LOG("cycle %d: the sensor is not back", i);
		ASSERT_EQ(0, vc_set_format(&cam, vfd, V4L2_PIX_FMT_YUYV, 320, 240, NULL));
		EXPECT_EQ(0, start_streaming(&vq, vfd, V4L2_BUF_TYPE_VIDEO_CAPTURE))
			TH_LOG("cycle %d: no frames after the sensor is bound again", i);
		vc_queue_release(&vq);
		close(vfd);
		close(mfd);
	}
	bad = vc_kmsg_bad(self->kmsg);
	TH_LOG("%d cycles (half vc1 first, half veracam first): after the sensor's unbind DQBUF failed with EIO %u times, timed out %u times; %d kernel log problems",
	       VC_ORDER_CYCLES, dq_error, dq_timeout, bad);
	EXPECT_EQ(0, bad);
}

TEST_HARNESS_MAIN
