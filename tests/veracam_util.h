/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the veracam kselftests: find cameras through the media
 * controller (never by /dev/videoN order), (re)load the module, stream with
 * MMAP buffers, read pixels in every format the driver offers, decode the
 * burned-in frame tag, and watch the kernel log.
 */
#ifndef VERACAM_TEST_UTIL_H
#define VERACAM_TEST_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <linux/media.h>
#include <linux/v4l2-subdev.h>
#include <linux/videodev2.h>
#include <linux/veracam.h>
#include <veracam/sim-sensor.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

#define VC_MAX_SUBDEVS	4
#define VC_MAX_BUFS	16
#define VC_PATH_LEN	64

struct vc_cam {
	int index;			/* N of bus_info "platform:veracam.N" */
	char bus_info[32];
	char model[32];
	char platdev[32];		/* platform device name, "veracam.N" */
	char media[VC_PATH_LEN];
	char video[VC_PATH_LEN];	/* video capture node */
	char meta[VC_PATH_LEN];		/* metadata capture node */
	int nsubdevs;			/* subdev nodes, the sensor first */
	char subdev[VC_MAX_SUBDEVS][VC_PATH_LEN];
	unsigned int subdev_pads[VC_MAX_SUBDEVS];
	bool has_sensor;		/* subdev[0] is a MEDIA_ENT_F_CAM_SENSOR */
	char uid[VERACAM_UNIQUE_ID_HEX_LEN + 1];	/* from the control */
	uint8_t uid_bin[VERACAM_UNIQUE_ID_LEN];
	uint32_t tag;			/* uid bytes 0..3, big-endian */
};

/* ------------------------------------------------------------------ */
/* Small utilities                                                     */
/* ------------------------------------------------------------------ */

static inline int vc_ioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do {
		r = ioctl(fd, req, arg);
	} while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

static inline uint64_t vc_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static inline void vc_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static inline uint64_t vc_tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ULL + (uint64_t)tv->tv_usec * 1000ULL;
}

/* Reads a small sysfs/text file into buf without the trailing newline. */
static inline int vc_read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static inline int vc_write_text(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int err = 0;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	if (n < 0)
		err = -errno;
	else if ((size_t)n != strlen(text))
		err = -EIO;
	close(fd);
	return err;
}

static inline int vc_hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;	/* uppercase is not the documented form */
}

/* 32 lowercase hex digits -> 16 bytes; false when malformed. */
static inline bool vc_uid_parse(const char *hex, uint8_t out[VERACAM_UNIQUE_ID_LEN])
{
	int i;

	if (strlen(hex) != VERACAM_UNIQUE_ID_HEX_LEN)
		return false;
	for (i = 0; i < VERACAM_UNIQUE_ID_LEN; i++) {
		int hi = vc_hex_nibble(hex[2 * i]), lo = vc_hex_nibble(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static inline uint32_t vc_uid_tag(const uint8_t uid[VERACAM_UNIQUE_ID_LEN])
{
	return (uint32_t)uid[0] << 24 | (uint32_t)uid[1] << 16 |
	       (uint32_t)uid[2] << 8 | uid[3];
}

/* The documented default id of simulated instance i, as hex. */
static inline void vc_default_uid(int i, char hex[VERACAM_UNIQUE_ID_HEX_LEN + 1])
{
	snprintf(hex, VERACAM_UNIQUE_ID_HEX_LEN + 1,
		 "ca1100%02x0000000000000000000000%02x", i + 1, i + 1);
}

static inline const char *vc_fourcc(uint32_t f, char buf[8])
{
	snprintf(buf, 8, "%c%c%c%c", f & 0xff, (f >> 8) & 0xff,
		 (f >> 16) & 0xff, (f >> 24) & 0xff);
	return buf;
}

/* ------------------------------------------------------------------ */
/* Controls                                                            */
/* ------------------------------------------------------------------ */

static inline int vc_get_ctrl(int fd, uint32_t id, int32_t *val)
{
	struct v4l2_control c = { .id = id };
	int r = vc_ioctl(fd, VIDIOC_G_CTRL, &c);

	if (!r)
		*val = c.value;
	return r;
}

static inline int vc_set_ctrl(int fd, uint32_t id, int32_t val)
{
	struct v4l2_control c = { .id = id, .value = val };

	return vc_ioctl(fd, VIDIOC_S_CTRL, &c);
}

static inline int vc_get_uid_ctrl(int fd, char hex[VERACAM_UNIQUE_ID_HEX_LEN + 1])
{
	struct v4l2_ext_control c = {
		.id = V4L2_CID_VERACAM_UNIQUE_ID,
		.size = VERACAM_UNIQUE_ID_HEX_LEN + 1,
		.string = hex,
	};
	struct v4l2_ext_controls cs = {
		.which = V4L2_CTRL_WHICH_CUR_VAL,
		.count = 1,
		.controls = &c,
	};

	memset(hex, 0, VERACAM_UNIQUE_ID_HEX_LEN + 1);
	return vc_ioctl(fd, VIDIOC_G_EXT_CTRLS, &cs);
}

/* The node of a camera that owns control id: the sensor subdev, else video. */
static inline int vc_open_ctrl_node(const struct vc_cam *cam, uint32_t id)
{
	struct v4l2_queryctrl q = { .id = id };
	int fd;

	if (cam->has_sensor) {
		fd = open(cam->subdev[0], O_RDWR | O_CLOEXEC);
		if (fd >= 0 && !vc_ioctl(fd, VIDIOC_QUERYCTRL, &q))
			return fd;
		if (fd >= 0)
			close(fd);
	}
	fd = open(cam->video, O_RDWR | O_CLOEXEC);
	if (fd >= 0 && !vc_ioctl(fd, VIDIOC_QUERYCTRL, &q))
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ------------------------------------------------------------------ */
/* Finding cameras through the media controller                        */
/* ------------------------------------------------------------------ */

/* "/dev/<DEVNAME>" of a character device number, from sysfs. */
static inline bool vc_devnode(uint32_t major, uint32_t minor, char *path)
{
	char sys[96], line[256];
	FILE *f;
	bool ok = false;

	snprintf(sys, sizeof(sys), "/sys/dev/char/%u:%u/uevent", major, minor);
	f = fopen(sys, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "DEVNAME=", 8)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(path, VC_PATH_LEN, "/dev/%.58s", line + 8);
			ok = true;
		}
	}
	fclose(f);
	return ok;
}

static inline bool vc_is_veracam(const struct media_device_info *info)
{
	return !strcmp(info->driver, VERACAM_DRIVER_NAME) ||
	       !strncmp(info->bus_info, "platform:" VERACAM_DRIVER_NAME ".",
			strlen("platform:" VERACAM_DRIVER_NAME "."));
}

/* Fills cam from the media device at path; -ENODEV when it is not veracam. */
static inline int vc_probe_media(const char *path, struct vc_cam *cam)
{
	struct media_v2_topology topo = { 0 };
	struct media_device_info info = { 0 };
	struct media_v2_entity *ents = NULL;
	struct media_v2_interface *intfs = NULL;
	struct media_v2_link *links = NULL;
	struct media_v2_pad *pads = NULL;
	const char *dot;
	int fd, r = -ENODEV;
	uint32_t i, j;

	memset(cam, 0, sizeof(*cam));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (vc_ioctl(fd, MEDIA_IOC_DEVICE_INFO, &info) || !vc_is_veracam(&info))
		goto out;
	snprintf(cam->media, sizeof(cam->media), "%s", path);
	snprintf(cam->bus_info, sizeof(cam->bus_info), "%s", info.bus_info);
	snprintf(cam->model, sizeof(cam->model), "%s", info.model);
	dot = strchr(info.bus_info, ':');
	snprintf(cam->platdev, sizeof(cam->platdev), "%s", dot ? dot + 1 : info.bus_info);
	dot = strrchr(info.bus_info, '.');
	cam->index = dot ? atoi(dot + 1) : -1;

	r = vc_ioctl(fd, MEDIA_IOC_G_TOPOLOGY, &topo);
	if (r)
		goto out;
	ents = calloc(topo.num_entities + 1, sizeof(*ents));
	intfs = calloc(topo.num_interfaces + 1, sizeof(*intfs));
	links = calloc(topo.num_links + 1, sizeof(*links));
	pads = calloc(topo.num_pads + 1, sizeof(*pads));
	r = -ENOMEM;
	if (!ents || !intfs || !links || !pads)
		goto out;
	topo.ptr_entities = (uintptr_t)ents;
	topo.ptr_interfaces = (uintptr_t)intfs;
	topo.ptr_links = (uintptr_t)links;
	topo.ptr_pads = (uintptr_t)pads;
	r = vc_ioctl(fd, MEDIA_IOC_G_TOPOLOGY, &topo);
	if (r)
		goto out;

	for (i = 0; i < topo.num_links; i++) {
		struct media_v2_interface *itf = NULL;
		struct media_v2_entity *ent = NULL;
		char node[VC_PATH_LEN];

		if ((links[i].flags & MEDIA_LNK_FL_LINK_TYPE) != MEDIA_LNK_FL_INTERFACE_LINK)
			continue;
		for (j = 0; j < topo.num_interfaces; j++)
			if (intfs[j].id == links[i].source_id)
				itf = &intfs[j];
		for (j = 0; j < topo.num_entities; j++)
			if (ents[j].id == links[i].sink_id)
				ent = &ents[j];
		if (!itf || !ent || !vc_devnode(itf->devnode.major, itf->devnode.minor, node))
			continue;

		if (itf->intf_type == MEDIA_INTF_T_V4L_VIDEO) {
			struct v4l2_capability cap = { 0 };
			int vfd = open(node, O_RDWR | O_CLOEXEC);

			if (vfd < 0)
				continue;
			if (!vc_ioctl(vfd, VIDIOC_QUERYCAP, &cap)) {
				if (cap.device_caps & V4L2_CAP_VIDEO_CAPTURE)
					snprintf(cam->video, sizeof(cam->video), "%s", node);
				else if (cap.device_caps & V4L2_CAP_META_CAPTURE)
					snprintf(cam->meta, sizeof(cam->meta), "%s", node);
			}
			close(vfd);
		} else if (itf->intf_type == MEDIA_INTF_T_V4L_SUBDEV &&
			   cam->nsubdevs < VC_MAX_SUBDEVS) {
			unsigned int npads = 0, k = cam->nsubdevs;

			for (j = 0; j < topo.num_pads; j++)
				if (pads[j].entity_id == ent->id)
					npads++;
			if (ent->function == MEDIA_ENT_F_CAM_SENSOR && !cam->has_sensor) {
				/* the sensor goes first: it is configured first */
				memmove(&cam->subdev[1], &cam->subdev[0],
					sizeof(cam->subdev[0]) * k);
				memmove(&cam->subdev_pads[1], &cam->subdev_pads[0],
					sizeof(cam->subdev_pads[0]) * k);
				k = 0;
				cam->has_sensor = true;
			}
			snprintf(cam->subdev[k], sizeof(cam->subdev[k]), "%s", node);
			cam->subdev_pads[k] = npads;
			cam->nsubdevs++;
		}
	}

	if (cam->video[0]) {
		int vfd = open(cam->video, O_RDWR | O_CLOEXEC);

		if (vfd >= 0) {
			if (!vc_get_uid_ctrl(vfd, cam->uid) &&
			    vc_uid_parse(cam->uid, cam->uid_bin))
				cam->tag = vc_uid_tag(cam->uid_bin);
			close(vfd);
		}
	}
	r = 0;
out:
	free(ents);
	free(intfs);
	free(links);
	free(pads);
	close(fd);
	return r;
}

static inline int vc_cam_cmp(const void *a, const void *b)
{
	return ((const struct vc_cam *)a)->index - ((const struct vc_cam *)b)->index;
}

/* All veracam cameras, sorted by instance index. Returns how many. */
static inline int vc_find_cameras(struct vc_cam *cams, int max)
{
	DIR *d = opendir("/dev");
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)) && n < max) {
		char path[VC_PATH_LEN];

		if (strncmp(de->d_name, "media", 5))
			continue;
		snprintf(path, sizeof(path), "/dev/%.58s", de->d_name);
		if (!vc_probe_media(path, &cams[n]))
			n++;
	}
	closedir(d);
	qsort(cams, n, sizeof(*cams), vc_cam_cmp);
	return n;
}

/* The camera whose unique id is hex, or -1. */
static inline int vc_find_by_uid(const struct vc_cam *cams, int n, const char *hex)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(cams[i].uid, hex))
			return i;
	return -1;
}

/* The serial of the camera's media device: its unique id, in hex. */
static inline int vc_media_serial(const struct vc_cam *cam, char *buf, size_t len)
{
	struct media_device_info info = { 0 };
	int fd = open(cam->media, O_RDWR | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -errno;
	r = vc_ioctl(fd, MEDIA_IOC_DEVICE_INFO, &info);
	close(fd);
	if (!r)
		snprintf(buf, len, "%.*s", (int)sizeof(info.serial), info.serial);
	return r;
}

/* The private sysfs attribute older drivers had: gone. */
static inline bool vc_has_sysfs_uid(const char *devnode)
{
	char path[128];
	const char *name = strrchr(devnode, '/');

	snprintf(path, sizeof(path), "/sys/class/video4linux/%s/unique_id",
		 name ? name + 1 : devnode);
	return access(path, F_OK) == 0;
}

/* ------------------------------------------------------------------ */
/* Loading the module                                                  */
/* ------------------------------------------------------------------ */

static inline const char *vc_ko_path(void)
{
	const char *ko = getenv("VERACAM_KO");

	if (ko && *ko)
		return ko;
	return access("driver/veracam.ko", R_OK) ? NULL : "driver/veracam.ko";
}

/* Unloads veracam; 0 also when it was not loaded, -errno otherwise. */
static inline int vc_unload(void)
{
	if (syscall(__NR_delete_module, VERACAM_DRIVER_NAME, O_NONBLOCK) == 0)
		return 0;
	return errno == ENOENT ? 0 : -errno;
}

/* Loads the modules veracam.ko depends on (videobuf2, v4l2-tpg...). */
static inline int vc_load_deps(const char *ko)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "deps=$(modinfo -F depends '%s' | tr , ' '); "
		 "[ -z \"$deps\" ] || modprobe -a $deps", ko);
	return system(cmd) == 0 ? 0 : -EIO;
}

/*
 * The unique ids are the sensors' OTP registers: "camera_ids=A,B" in
 * params is written to the VC1s on i2c-stub (tests/vc1-stub) and taken
 * out of params; without it the default ids are written back if others
 * were written before. Returns 0 or
 * -EIO; *rest receives the other parameters.
 */
/* tests/vc1-stub: the registers hold other ids than the defaults */
#define VC_CUSTOM_IDS	"/run/veracam-custom-ids"

static inline int vc_program_sensors(const char *params, char *rest,
				     size_t size)
{
	char cmd[512], ids[320] = "";
	const char *p = params ? params : "";
	size_t n = 0;

	while (*p) {
		const char *end = p + strcspn(p, " ");

		if (!strncmp(p, "camera_ids=", 11))
			snprintf(ids, sizeof(ids), "%.*s", (int)(end - p - 11),
				 p + 11);
		else if (n + (size_t)(end - p) + 2 < size)
			n += (size_t)snprintf(rest + n, size - n, "%s%.*s",
					      n ? " " : "", (int)(end - p), p);
		p = end + strspn(end, " ");
	}
	rest[n] = '\0';
	/* the registers keep what was written last: rewrite only changes */
	if (!*ids && access(VC_CUSTOM_IDS, F_OK))
		return 0;
	/*
	 * vc1-stub beside the program (TEST_PROGS_EXTENDED, where kselftest
	 * installs it), or $VC1_STUB: the guest bench names tests/vc1-stub,
	 * its programs being built apart (build/ktests).
	 */
	snprintf(cmd, sizeof(cmd), "\"${VC1_STUB:-./vc1-stub}\" '%s'", ids);
	return system(cmd) == 0 ? 0 : -EIO;
}

/* insmod $VERACAM_KO params: 0 or -errno (-ENOENT without a module file). */
static inline int vc_load(const char *params)
{
	const char *ko = vc_ko_path();
	char rest[256];
	int fd, r;

	if (!ko)
		return -ENOENT;
	if (vc_program_sensors(params, rest, sizeof(rest)))
		return -EIO;
	params = rest;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = syscall(__NR_finit_module, fd, params ? params : "", 0);
	if (r && errno == ENOENT) {
		/* unknown symbol: its dependencies are not loaded yet */
		vc_load_deps(ko);
		r = syscall(__NR_finit_module, fd, params ? params : "", 0);
	}
	r = r ? -errno : 0;
	close(fd);
	return r;
}

/* Waits until at least n cameras are registered; returns how many there are. */
static inline int vc_wait_cameras(struct vc_cam *cams, int max, int n)
{
	int i, found = 0;

	for (i = 0; i < 50; i++) {
		found = vc_find_cameras(cams, max);
		if (found >= n)
			break;
		vc_sleep_ms(100);
	}
	return found;
}

/* rmmod veracam (retrying while the last users go away) and insmod it again. */
static inline int vc_reload(const char *params)
{
	int i, r = -EBUSY;

	for (i = 0; i < 50 && r; i++) {
		r = vc_unload();
		if (r == -EBUSY || r == -EAGAIN)
			vc_sleep_ms(100);
		else if (r)
			return r;
	}
	return r ? r : vc_load(params);
}

/*
 * Makes sure at least n cameras exist: loads veracam with num_cameras=n
 * when there are fewer. Returns the number found (or -errno of the load).
 */
static inline int vc_require_cameras(struct vc_cam *cams, int max, int n)
{
	char params[32];
	int found = vc_find_cameras(cams, max);
	int r;

	if (found >= n)
		return found;
	snprintf(params, sizeof(params), "num_cameras=%d", n);
	r = vc_reload(params);
	if (r)
		return r;
	return vc_wait_cameras(cams, max, n);
}

/* ------------------------------------------------------------------ */
/* Formats and the pipeline                                            */
/* ------------------------------------------------------------------ */

static inline bool vc_is_rgb(uint32_t f)
{
	switch (f) {
	case V4L2_PIX_FMT_RGB24: case V4L2_PIX_FMT_BGR24:
	case V4L2_PIX_FMT_RGB565:
	case V4L2_PIX_FMT_XBGR32: case V4L2_PIX_FMT_ABGR32:
	case V4L2_PIX_FMT_XRGB32: case V4L2_PIX_FMT_ARGB32:
	case V4L2_PIX_FMT_RGBX32: case V4L2_PIX_FMT_RGBA32:
	case V4L2_PIX_FMT_BGRX32: case V4L2_PIX_FMT_BGRA32:
		return true;
	}
	return false;
}

/* Every format the tests can read pixels of. */
static inline bool vc_can_decode(uint32_t f)
{
	return f == V4L2_PIX_FMT_YUYV || f == V4L2_PIX_FMT_NV12 || vc_is_rgb(f);
}

/* The first RGB format the capture node enumerates, or 0. */
static inline uint32_t vc_find_rgb_format(int fd)
{
	struct v4l2_fmtdesc d = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

	for (d.index = 0; !vc_ioctl(fd, VIDIOC_ENUM_FMT, &d); d.index++)
		if (vc_is_rgb(d.pixelformat))
			return d.pixelformat;
	return 0;
}

/*
 * Sets the same size on every pad of every subdev of the camera, sensor
 * first, with the media bus code that the capture node accepts for pixfmt
 * (V4L2_CAP_IO_MC: ENUM_FMT filtered by mbus_code). On a driver whose
 * video node configures the pipeline itself these calls change nothing.
 */
static inline void vc_configure_subdevs(const struct vc_cam *cam, int vfd,
					uint32_t pixfmt, uint32_t w, uint32_t h)
{
	struct v4l2_subdev_format sf = {
		.which = V4L2_SUBDEV_FORMAT_ACTIVE,
		.pad = 0,
	};
	uint32_t code = 0;
	int i;
	unsigned int p;

	if (!cam->nsubdevs)
		return;
	for (i = 0; i < cam->nsubdevs && !code; i++) {
		struct v4l2_subdev_mbus_code_enum mc = {
			.which = V4L2_SUBDEV_FORMAT_ACTIVE,
		};
		int sfd = open(cam->subdev[i], O_RDWR | O_CLOEXEC);

		if (sfd < 0)
			continue;
		for (mc.index = 0; !code && !vc_ioctl(sfd, VIDIOC_SUBDEV_ENUM_MBUS_CODE, &mc);
		     mc.index++) {
			struct v4l2_fmtdesc d = {
				.type = V4L2_BUF_TYPE_VIDEO_CAPTURE,
				.mbus_code = mc.code,
			};

			for (d.index = 0; !vc_ioctl(vfd, VIDIOC_ENUM_FMT, &d); d.index++)
				if (d.pixelformat == pixfmt) {
					code = mc.code;
					break;
				}
		}
		close(sfd);
	}

	for (i = 0; i < cam->nsubdevs; i++) {
		int sfd = open(cam->subdev[i], O_RDWR | O_CLOEXEC);

		if (sfd < 0)
			continue;
		for (p = 0; p < cam->subdev_pads[i]; p++) {
			sf.pad = p;
			if (vc_ioctl(sfd, VIDIOC_SUBDEV_G_FMT, &sf))
				continue;
			if (code)
				sf.format.code = code;
			sf.format.width = w;
			sf.format.height = h;
			vc_ioctl(sfd, VIDIOC_SUBDEV_S_FMT, &sf);
		}
		close(sfd);
	}
}

/* S_FMT on the capture node plus the pipeline; fmt gets what was set. */
static inline int vc_set_format(const struct vc_cam *cam, int vfd, uint32_t pixfmt,
				uint32_t w, uint32_t h, struct v4l2_pix_format *fmt)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	int r;

	f.fmt.pix.pixelformat = pixfmt;
	f.fmt.pix.width = w;
	f.fmt.pix.height = h;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	r = vc_ioctl(vfd, VIDIOC_S_FMT, &f);
	if (r)
		return r;
	vc_configure_subdevs(cam, vfd, f.fmt.pix.pixelformat, f.fmt.pix.width,
			     f.fmt.pix.height);
	if (fmt)
		*fmt = f.fmt.pix;
	return 0;
}

static inline int vc_set_fps(int vfd, uint32_t fps)
{
	struct v4l2_streamparm p = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

	p.parm.capture.timeperframe.numerator = 1;
	p.parm.capture.timeperframe.denominator = fps;
	return vc_ioctl(vfd, VIDIOC_S_PARM, &p);
}

/* ------------------------------------------------------------------ */
/* Streaming (MMAP)                                                    */
/* ------------------------------------------------------------------ */

struct vc_queue {
	int fd;
	uint32_t type;
	uint32_t count;
	void *mem[VC_MAX_BUFS];
	size_t len[VC_MAX_BUFS];
	bool streaming;
};

static inline void vc_queue_release(struct vc_queue *q)
{
	struct v4l2_requestbuffers rb = { .type = q->type, .memory = V4L2_MEMORY_MMAP };
	uint32_t i;

	if (q->streaming)
		vc_ioctl(q->fd, VIDIOC_STREAMOFF, &q->type);
	q->streaming = false;
	for (i = 0; i < q->count; i++)
		if (q->mem[i] && q->mem[i] != MAP_FAILED)
			munmap(q->mem[i], q->len[i]);
	memset(q->mem, 0, sizeof(q->mem));
	if (q->count)
		vc_ioctl(q->fd, VIDIOC_REQBUFS, &rb);
	q->count = 0;
}

/* REQBUFS, mmap and queue count buffers on fd; the caller does STREAMON. */
static inline int vc_queue_setup(struct vc_queue *q, int fd, uint32_t type, uint32_t count)
{
	struct v4l2_requestbuffers rb = {
		.count = count, .type = type, .memory = V4L2_MEMORY_MMAP,
	};
	uint32_t i;
	int r;

	memset(q, 0, sizeof(*q));
	q->fd = fd;
	q->type = type;
	r = vc_ioctl(fd, VIDIOC_REQBUFS, &rb);
	if (r)
		return r;
	if (rb.count == 0 || rb.count > VC_MAX_BUFS)
		return -ENOMEM;
	q->count = rb.count;
	for (i = 0; i < q->count; i++) {
		struct v4l2_buffer b = { .index = i, .type = type, .memory = V4L2_MEMORY_MMAP };

		r = vc_ioctl(fd, VIDIOC_QUERYBUF, &b);
		if (r)
			goto fail;
		q->len[i] = b.length;
		q->mem[i] = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED,
				 fd, b.m.offset);
		if (q->mem[i] == MAP_FAILED) {
			r = -errno;
			goto fail;
		}
		r = vc_ioctl(fd, VIDIOC_QBUF, &b);
		if (r)
			goto fail;
	}
	return 0;
fail:
	vc_queue_release(q);
	return r;
}

static inline int vc_queue_on(struct vc_queue *q)
{
	int r = vc_ioctl(q->fd, VIDIOC_STREAMON, &q->type);

	q->streaming = !r;
	return r;
}

/* Waits up to timeout_ms for a buffer and dequeues it into b. */
static inline int vc_dequeue(struct vc_queue *q, struct v4l2_buffer *b, int timeout_ms)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
	int r;

	memset(b, 0, sizeof(*b));
	b->type = q->type;
	b->memory = V4L2_MEMORY_MMAP;
	r = vc_ioctl(q->fd, VIDIOC_DQBUF, b);
	if (r != -EAGAIN)
		return r;
	r = poll(&pfd, 1, timeout_ms);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	if (pfd.revents & (POLLERR | POLLNVAL | POLLHUP))
		return -EPIPE;
	memset(b, 0, sizeof(*b));
	b->type = q->type;
	b->memory = V4L2_MEMORY_MMAP;
	return vc_ioctl(q->fd, VIDIOC_DQBUF, b);
}

static inline int vc_requeue(struct vc_queue *q, const struct v4l2_buffer *done)
{
	struct v4l2_buffer b = {
		.index = done->index, .type = q->type, .memory = V4L2_MEMORY_MMAP,
	};

	return vc_ioctl(q->fd, VIDIOC_QBUF, &b);
}

/* ------------------------------------------------------------------ */
/* Pixels                                                              */
/* ------------------------------------------------------------------ */

struct vc_rgb {
	int r, g, b;
};

static inline int vc_clamp8(double v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (int)(v + 0.5);
}

static inline struct vc_rgb vc_yuv_to_rgb(const struct v4l2_pix_format *f,
					  int y, int u, int v)
{
	bool bt709 = f->ycbcr_enc == V4L2_YCBCR_ENC_709 ||
		     (f->ycbcr_enc == V4L2_YCBCR_ENC_DEFAULT &&
		      f->colorspace == V4L2_COLORSPACE_REC709);
	double yy = 1.164 * (y - 16), cb = u - 128, cr = v - 128;
	struct vc_rgb c;

	if (bt709) {
		c.r = vc_clamp8(yy + 1.793 * cr);
		c.g = vc_clamp8(yy - 0.213 * cb - 0.533 * cr);
		c.b = vc_clamp8(yy + 2.112 * cb);
	} else {
		c.r = vc_clamp8(yy + 1.596 * cr);
		c.g = vc_clamp8(yy - 0.392 * cb - 0.813 * cr);
		c.b = vc_clamp8(yy + 2.017 * cb);
	}
	return c;
}

/* Byte offsets of R, G, B and bytes per pixel of the 24/32-bit RGB formats. */
static inline bool vc_rgb_layout(uint32_t f, int *ro, int *go, int *bo, int *bpp)
{
	static const struct {
		uint32_t f;
		int r, g, b, bpp;
	} t[] = {
		{ V4L2_PIX_FMT_RGB24, 0, 1, 2, 3 }, { V4L2_PIX_FMT_BGR24, 2, 1, 0, 3 },
		{ V4L2_PIX_FMT_XBGR32, 2, 1, 0, 4 }, { V4L2_PIX_FMT_ABGR32, 2, 1, 0, 4 },
		{ V4L2_PIX_FMT_XRGB32, 1, 2, 3, 4 }, { V4L2_PIX_FMT_ARGB32, 1, 2, 3, 4 },
		{ V4L2_PIX_FMT_RGBX32, 0, 1, 2, 4 }, { V4L2_PIX_FMT_RGBA32, 0, 1, 2, 4 },
		{ V4L2_PIX_FMT_BGRX32, 3, 2, 1, 4 }, { V4L2_PIX_FMT_BGRA32, 3, 2, 1, 4 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(t); i++)
		if (t[i].f == f) {
			*ro = t[i].r;
			*go = t[i].g;
			*bo = t[i].b;
			*bpp = t[i].bpp;
			return true;
		}
	return false;
}

/* Colour of pixel (x, y) of a frame in format f, as full-range RGB. */
static inline struct vc_rgb vc_pixel(const struct v4l2_pix_format *f,
				     const uint8_t *p, uint32_t x, uint32_t y)
{
	const uint8_t *row = p + (size_t)y * f->bytesperline;
	struct vc_rgb c = { 0, 0, 0 };
	int ro, go, bo, bpp;

	switch (f->pixelformat) {
	case V4L2_PIX_FMT_YUYV: {
		const uint8_t *pair = row + (x & ~1U) * 2;

		return vc_yuv_to_rgb(f, row[x * 2], pair[1], pair[3]);
	}
	case V4L2_PIX_FMT_NV12: {
		const uint8_t *uv = p + (size_t)f->bytesperline * f->height +
				    (size_t)(y / 2) * f->bytesperline + (x & ~1U);

		return vc_yuv_to_rgb(f, row[x], uv[0], uv[1]);
	}
	case V4L2_PIX_FMT_RGB565: {
		uint16_t v = row[x * 2] | row[x * 2 + 1] << 8;

		c.r = ((v >> 11) & 0x1f) * 255 / 31;
		c.g = ((v >> 5) & 0x3f) * 255 / 63;
		c.b = (v & 0x1f) * 255 / 31;
		return c;
	}
	}
	if (vc_rgb_layout(f->pixelformat, &ro, &go, &bo, &bpp)) {
		c.r = row[x * bpp + ro];
		c.g = row[x * bpp + go];
		c.b = row[x * bpp + bo];
	}
	return c;
}

/* Full-range luma 0..255 of pixel (x, y). */
static inline int vc_luma(const struct v4l2_pix_format *f, const uint8_t *p,
			  uint32_t x, uint32_t y)
{
	struct vc_rgb c;

	if (f->pixelformat == V4L2_PIX_FMT_YUYV || f->pixelformat == V4L2_PIX_FMT_NV12) {
		int yv = f->pixelformat == V4L2_PIX_FMT_YUYV ?
			 p[(size_t)y * f->bytesperline + x * 2] :
			 p[(size_t)y * f->bytesperline + x];

		return vc_clamp8((yv - 16) * 255.0 / 219.0);
	}
	c = vc_pixel(f, p, x, y);
	return (c.r * 77 + c.g * 150 + c.b * 29) >> 8;
}

/*
 * Decodes row (0: sequence, 1: camera tag) of the burned-in frame tag.
 * False when the start/end markers are not where the uapi puts them.
 */
static inline bool vc_read_tag(const struct v4l2_pix_format *f, const uint8_t *p,
			       unsigned int row, uint32_t *value)
{
	uint32_t c = veracam_tag_cell_size(f->width), v = 0, k;
	bool bits[VERACAM_TAG_CELLS];

	if (VERACAM_TAG_CELLS * c > f->width || VERACAM_TAG_ROWS * c > f->height)
		return false;
	for (k = 0; k < VERACAM_TAG_CELLS; k++)
		bits[k] = vc_luma(f, p, k * c + c / 2, row * c + c / 2) >= 128;
	if (!bits[0] || bits[1] || bits[34] || !bits[35])
		return false;
	for (k = 2; k < 34; k++)
		v = v << 1 | bits[k];
	*value = v;
	return true;
}

/* ------------------------------------------------------------------ */
/* Kernel log                                                          */
/* ------------------------------------------------------------------ */

/* Opens /dev/kmsg positioned after the last record: later reads see new ones. */
static inline int vc_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * Counts the oops/WARN/BUG-class records logged since vc_kmsg_open(),
 * printing each as a KTAP diagnostic.
 */
static inline int vc_kmsg_bad(int fd)
{
	static const char *const bad[] = {
		"Oops", "WARNING:", "BUG:", "kernel BUG", "general protection",
		"UBSAN:", "refcount_t:", "list_add corruption", "list_del corruption",
		"use-after-free", "double free",
	};
	char rec[2048];
	int count = 0;

	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		size_t i;

		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on with the next */
		if (n <= 0)
			break;
		rec[n] = '\0';
		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			if (strstr(rec, bad[i])) {
				const char *msg = strchr(rec, ';');

				printf("# kernel: %s", msg ? msg + 1 : rec);
				fflush(stdout);
				count++;
				break;
			}
		}
	}
	return count;
}

#endif /* VERACAM_TEST_UTIL_H */
