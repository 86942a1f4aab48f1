// SPDX-License-Identifier: GPL-2.0-only
/*
 * v4l2.c - capture from a V4L2 camera through libv4l2 (veracam.ko, vivid,
 * UVC, ...), chosen by its stable identity.
 *
 * Finding the camera: every video capture node is listed with what
 * identifies it (veracam's unique id: the control, else the media device's
 * serial; bus_info; the media device's serial); the --source names one of
 * them. The metadata node of
 * a veracam camera is the veracam-format META_CAPTURE node connected to
 * the video node in the media controller graph.
 *
 * Streaming: MMAP buffers. Frames reach the encoder either copied once
 * into a GstBuffer (the buffer is re-queued at once) or, when the encoder
 * imports DMABUF, as the buffer's exported dmabuf, re-queued when the
 * encoder lets go of it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <gst/allocators/gstdmabuf.h>
#include <libv4l2.h>
#include <linux/media.h>
#include <linux/v4l2-subdev.h>

#include "capture-int.h"

#define MAX_NODES 64

struct vbuf {
	void *start;
	size_t length;
	int dmabuf_fd;
};

/*
 * One subdev of the pipeline feeding the capture node: its source pad
 * towards the node and, but for the first one (the sensor), the sink pad
 * the previous one feeds.
 */
struct hop {
	char path[80];
	uint32_t src_pad;
	uint32_t sink_pad;
};

#define MAX_HOPS	4

struct v4l2 {
	int fd;
	int meta_fd;
	char path[80];
	char meta_path[80];
	struct hop hops[MAX_HOPS];	/* [0] feeds the node, the sensor last */
	size_t n_hops;
	bool io_mc;			/* formats are set on the subdev first */
	uint32_t pixelformat;
	bool emulated;			/* libv4l2 converts from the native format */
	GstVideoInfo layout;		/* the V4L2 buffer's planes */
	struct vbuf *bufs;
	unsigned n_bufs;
	struct vbuf *mbufs;
	unsigned n_mbufs;
	bool dmabuf;
	bool streaming;
	bool stopped;
	pthread_mutex_t lock;		/* QBUF from the encoder's thread, streaming */
	GstAllocator *dmabuf_alloc;
	GstBufferPool *pool;
	struct cam_metapair mp;
};

/* ------------------------------------------------------------------ */
/* Finding the camera                                                   */
/* ------------------------------------------------------------------ */

struct node {
	char path[80];
	dev_t rdev;
	struct v4l2_capability caps;
	bool has_uid;
	char uid[VERACAM_UNIQUE_ID_HEX_LEN + 1];
	int media;			/* index into medias, -1 when none */
	char meta_path[80];
	struct hop hops[MAX_HOPS];	/* the subdevs feeding the node, if any */
	size_t n_hops;
};

struct media {
	char path[80];
	struct media_device_info info;
	struct cam_graph graph;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r;
}

static int vioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = v4l2_ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r;
}

/* /dev path of a character device from sysfs (DEVNAME in its uevent). */
static bool devnode_path(unsigned major, unsigned minor, char *out, size_t len)
{
	g_autofree char *uevent = NULL;
	g_autofree char *file = g_strdup_printf("/sys/dev/char/%u:%u/uevent", major, minor);
	char *p;

	if (!g_file_get_contents(file, &uevent, NULL, NULL))
		return false;
	p = strstr(uevent, "DEVNAME=");
	if (!p)
		return false;
	p += strlen("DEVNAME=");
	p[strcspn(p, "\n")] = '\0';
	g_snprintf(out, len, "/dev/%s", p);
	return true;
}

static uint32_t node_caps(const struct v4l2_capability *c)
{
	return c->capabilities & V4L2_CAP_DEVICE_CAPS ? c->device_caps : c->capabilities;
}

static bool is_hex_id(const char *s)
{
	if (strlen(s) != VERACAM_UNIQUE_ID_HEX_LEN)
		return false;
	for (const char *p = s; *p; p++)
		if (!g_ascii_isxdigit(*p))
			return false;
	return true;
}

/* lowercase copy of a 32-hex-digit unique id */
static bool take_hex_id(const char *s, char out[VERACAM_UNIQUE_ID_HEX_LEN + 1])
{
	if (!is_hex_id(s))
		return false;
	for (int i = 0; i <= VERACAM_UNIQUE_ID_HEX_LEN; i++)
		out[i] = g_ascii_tolower(s[i]);
	return true;
}

/* The veracam unique id from the control (the media device's serial later). */
static bool read_unique_id(int fd, char out[VERACAM_UNIQUE_ID_HEX_LEN + 1])
{
	char buf[VERACAM_UNIQUE_ID_HEX_LEN + 8] = { 0 };
	struct v4l2_ext_control c = {
		.id = V4L2_CID_VERACAM_UNIQUE_ID,
		.size = sizeof(buf),
		.string = buf,
	};
	struct v4l2_ext_controls cs = {
		.which = V4L2_CTRL_WHICH_CUR_VAL,
		.count = 1,
		.controls = &c,
	};

	return xioctl(fd, VIDIOC_G_EXT_CTRLS, &cs) == 0 && take_hex_id(buf, out);
}

static bool is_veracam_meta(const char *path)
{
	struct v4l2_capability c = { 0 };
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_META_CAPTURE };
	int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = xioctl(fd, VIDIOC_QUERYCAP, &c) == 0 &&
	     (node_caps(&c) & V4L2_CAP_META_CAPTURE) &&
	     xioctl(fd, VIDIOC_G_FMT, &f) == 0 &&
	     f.fmt.meta.dataformat == V4L2_META_FMT_VERACAM;
	close(fd);
	return ok;
}

static int load_medias(struct media *medias)
{
	g_autoptr(GDir) dir = g_dir_open("/dev", 0, NULL);
	const char *name;
	int n = 0;

	while (dir && (name = g_dir_read_name(dir)) && n < MAX_NODES) {
		struct media *m = &medias[n];
		int fd;

		if (!g_str_has_prefix(name, "media") || !g_ascii_isdigit(name[5]))
			continue;
		g_snprintf(m->path, sizeof(m->path), "/dev/%s", name);
		fd = open(m->path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (xioctl(fd, MEDIA_IOC_DEVICE_INFO, &m->info) == 0 &&
		    cam_graph_load(fd, &m->graph, NULL))
			n++;
		close(fd);
	}
	return n;
}

/* The media device and its interface id that expose @rdev. */
static int media_of(struct media *medias, int n_media, dev_t rdev, uint32_t *intf)
{
	for (int i = 0; i < n_media; i++) {
		const struct cam_graph *g = &medias[i].graph;

		for (size_t k = 0; k < g->n_intfs; k++) {
			if (g->intfs[k].type == MEDIA_INTF_T_V4L_VIDEO &&
			    makedev(g->intfs[k].major, g->intfs[k].minor) == rdev) {
				*intf = g->intfs[k].id;
				return i;
			}
		}
	}
	return -1;
}

static bool intf_path(const struct cam_graph *g, uint32_t intf, char *out, size_t len)
{
	for (size_t k = 0; k < g->n_intfs; k++)
		if (g->intfs[k].id == intf)
			return devnode_path(g->intfs[k].major, g->intfs[k].minor, out, len);
	return false;
}

/*
 * The subdevs feeding the video node, from the one linked to it up to the
 * sensor (MC-centric drivers configure them).
 */
static void find_subdev(const struct media *m, uint32_t video_intf, struct node *nd)
{
	const struct cam_graph *g = &m->graph;
	uint32_t ent = cam_graph_intf_entity(g, video_intf);

	nd->n_hops = 0;
	while (ent && nd->n_hops < MAX_HOPS) {
		struct hop *h = &nd->hops[nd->n_hops];
		uint32_t src = 0, sink = 0;
		uint32_t up = cam_graph_upstream_link(g, ent, &src, &sink);
		uint32_t intf = up ? cam_graph_entity_intf(g, up, MEDIA_INTF_T_V4L_SUBDEV) : 0;

		if (!intf || !intf_path(g, intf, h->path, sizeof(h->path)))
			break;
		if (nd->n_hops)
			nd->hops[nd->n_hops - 1].sink_pad = sink;
		h->src_pad = src;
		nd->n_hops++;
		ent = up;
	}
}

/* The veracam metadata node paired with video interface @video_intf. */
static void find_meta(struct media *m, uint32_t video_intf, struct node *nd)
{
	const struct cam_graph *g = &m->graph;
	g_autofree uint32_t *metas = g_new0(uint32_t, g->n_intfs + 1);
	size_t n_meta = 0;
	bool ambiguous;
	uint32_t meta;

	for (size_t k = 0; k < g->n_intfs; k++) {
		char path[80];

		if (g->intfs[k].type == MEDIA_INTF_T_V4L_VIDEO &&
		    g->intfs[k].id != video_intf &&
		    devnode_path(g->intfs[k].major, g->intfs[k].minor, path, sizeof(path)) &&
		    is_veracam_meta(path))
			metas[n_meta++] = g->intfs[k].id;
	}
	if (!n_meta)
		return;
	meta = cam_graph_meta_for_video(g, video_intf, metas, n_meta, &ambiguous);
	if (ambiguous)
		g_warning("capture: %s: several metadata nodes linked to %s; using none",
			  m->path, nd->path);
	if (meta)
		intf_path(g, meta, nd->meta_path, sizeof(nd->meta_path));
	if (!meta && !ambiguous)
		g_warning("capture: %s: %zu veracam metadata node(s), none linked to %s",
			  m->path, n_meta, nd->path);
}

static int load_nodes(struct node *nodes, struct media *medias, int n_media)
{
	g_autoptr(GDir) dir = g_dir_open("/dev", 0, NULL);
	const char *name;
	int n = 0;

	while (dir && (name = g_dir_read_name(dir)) && n < MAX_NODES) {
		struct node *nd = &nodes[n];
		struct stat st;
		int fd;

		if (!g_str_has_prefix(name, "video") || !g_ascii_isdigit(name[5]))
			continue;
		memset(nd, 0, sizeof(*nd));
		g_snprintf(nd->path, sizeof(nd->path), "/dev/%s", name);
		if (stat(nd->path, &st) < 0 || !S_ISCHR(st.st_mode))
			continue;
		fd = open(nd->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (xioctl(fd, VIDIOC_QUERYCAP, &nd->caps) == 0 &&
		    (node_caps(&nd->caps) & V4L2_CAP_VIDEO_CAPTURE) &&
		    (node_caps(&nd->caps) & V4L2_CAP_STREAMING)) {
			nd->rdev = st.st_rdev;
			nd->has_uid = read_unique_id(fd, nd->uid);
			nd->media = -1;
			n++;
		}
		close(fd);
	}
	for (int i = 0; i < n; i++) {
		uint32_t intf = 0;

		nodes[i].media = media_of(medias, n_media, nodes[i].rdev, &intf);
		if (nodes[i].media < 0)
			continue;
		find_subdev(&medias[nodes[i].media], intf, &nodes[i]);
		/* veracam's media device serial is the same id (the standard uAPI) */
		if (!nodes[i].has_uid &&
		    !strcmp(medias[nodes[i].media].info.driver, VERACAM_DRIVER_NAME))
			nodes[i].has_uid = take_hex_id(medias[nodes[i].media].info.serial,
						       nodes[i].uid);
		if (nodes[i].has_uid)
			find_meta(&medias[nodes[i].media], intf, &nodes[i]);
	}
	return n;
}

static bool node_matches(const struct node *nd, const struct media *m,
			 const struct cam_source *src, dev_t want)
{
	switch (src->kind) {
	case CAM_SOURCE_V4L2_ID:
		return nd->has_uid && !strcmp(nd->uid, src->value);
	case CAM_SOURCE_V4L2_BUS:
		return !strcmp((const char *)nd->caps.bus_info, src->value) ||
		       (m && !strcmp(m->info.bus_info, src->value));
	case CAM_SOURCE_V4L2_SERIAL:
		return m && m->info.serial[0] && !strcmp(m->info.serial, src->value);
	case CAM_SOURCE_V4L2_PATH:
		return nd->rdev == want;
	case CAM_SOURCE_PATTERN:
		break;
	}
	return false;
}

static const char *source_text(const struct cam_source *src, char *buf, size_t len)
{
	static const char *const key[] = {
		[CAM_SOURCE_V4L2_ID] = "id", [CAM_SOURCE_V4L2_BUS] = "bus",
		[CAM_SOURCE_V4L2_SERIAL] = "serial",
	};

	if (src->kind == CAM_SOURCE_V4L2_PATH)
		g_strlcpy(buf, src->value, len);
	else
		g_snprintf(buf, len, "v4l2:%s=%s", key[src->kind], src->value);
	return buf;
}

/* One line naming every capture node and its identity. */
static char *describe_nodes(const struct node *nodes, int n, const struct media *medias)
{
	GString *s = g_string_new(NULL);

	for (int i = 0; i < n; i++) {
		const struct node *nd = &nodes[i];
		const struct media *m = nd->media >= 0 ? &medias[nd->media] : NULL;

		g_string_append_printf(s, "%s%s %s bus=%s", i ? "; " : "", nd->path,
				       (const char *)nd->caps.driver,
				       (const char *)nd->caps.bus_info);
		if (nd->has_uid)
			g_string_append_printf(s, " id=%s", nd->uid);
		if (m && m->info.serial[0])
			g_string_append_printf(s, " serial=%s", m->info.serial);
	}
	return g_string_free(s, FALSE);
}

/* Find the one capture node @src names; *minfo zeroed when it has no media device. */
static bool select_node(const struct cam_source *src, struct node *out,
			struct media_device_info *minfo, GError **error)
{
	g_autofree struct media *medias = g_new0(struct media, MAX_NODES);
	g_autofree struct node *nodes = g_new0(struct node, MAX_NODES);
	int n_media = load_medias(medias);
	int n = load_nodes(nodes, medias, n_media);
	int found = -1, count = 0;
	dev_t want = 0;
	char what[200];

	memset(minfo, 0, sizeof(*minfo));
	if (src->kind == CAM_SOURCE_V4L2_PATH) {
		struct stat st;

		if (stat(src->value, &st) < 0 || !S_ISCHR(st.st_mode)) {
			g_set_error(error, CAM_ERROR, CAM_ERROR_NOT_FOUND,
				    "source %s: not a device node", src->value);
			goto out;
		}
		want = st.st_rdev;
	}
	for (int i = 0; i < n; i++) {
		const struct media *m = nodes[i].media >= 0 ? &medias[nodes[i].media] : NULL;

		if (node_matches(&nodes[i], m, src, want)) {
			if (found < 0)
				found = i;
			count++;
		}
	}
	source_text(src, what, sizeof(what));
	if (count != 1) {
		g_autofree char *list = describe_nodes(nodes, n, medias);

		if (count)
			g_set_error(error, CAM_ERROR, CAM_ERROR_AMBIGUOUS,
				    "source %s matches %d capture nodes, name one by v4l2:id= or v4l2:bus= (%s)",
				    what, count, list);
		else
			g_set_error(error, CAM_ERROR, CAM_ERROR_NOT_FOUND,
				    "source %s: no such V4L2 capture device (found: %s)",
				    what, n ? list : "none");
		found = -1;
		goto out;
	}
	*out = nodes[found];
	if (out->media >= 0)
		*minfo = medias[out->media].info;
out:
	for (int i = 0; i < n_media; i++)
		cam_graph_clear(&medias[i].graph);
	return found >= 0;
}

/* ------------------------------------------------------------------ */
/* Format                                                               */
/* ------------------------------------------------------------------ */

static const struct {
	uint32_t fourcc;
	GstVideoFormat gst;
} formats[] = {
	/* in order of preference: what encoders take without conversion */
	{ V4L2_PIX_FMT_NV12, GST_VIDEO_FORMAT_NV12 },
	{ V4L2_PIX_FMT_YUV420, GST_VIDEO_FORMAT_I420 },
	{ V4L2_PIX_FMT_YUYV, GST_VIDEO_FORMAT_YUY2 },
};

/* Pick the best format: native ones first, then libv4l2-converted ones. */
static bool choose_format(int fd, uint32_t *fourcc, GstVideoFormat *gst, bool *emulated,
			  GError **error)
{
	bool native[G_N_ELEMENTS(formats)] = { 0 }, conv[G_N_ELEMENTS(formats)] = { 0 };
	GString *seen = g_string_new(NULL);

	for (uint32_t i = 0;; i++) {
		struct v4l2_fmtdesc d = { .index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };

		if (vioctl(fd, VIDIOC_ENUM_FMT, &d) < 0)
			break;
		g_string_append_printf(seen, "%s%.4s", i ? " " : "", (const char *)&d.pixelformat);
		for (size_t k = 0; k < G_N_ELEMENTS(formats); k++) {
			if (d.pixelformat != formats[k].fourcc)
				continue;
			if (d.flags & V4L2_FMT_FLAG_EMULATED)
				conv[k] = true;
			else
				native[k] = true;
		}
	}
	for (int pass = 0; pass < 2; pass++) {
		for (size_t k = 0; k < G_N_ELEMENTS(formats); k++) {
			if (pass == 0 ? native[k] : conv[k]) {
				*fourcc = formats[k].fourcc;
				*gst = formats[k].gst;
				*emulated = pass == 1;
				g_string_free(seen, TRUE);
				return true;
			}
		}
	}
	g_set_error(error, CAM_ERROR, CAM_ERROR_FORMAT,
		    "no NV12, YU12 or YUYV capture format (device offers: %s)", seen->str);
	g_string_free(seen, TRUE);
	return false;
}

/* The V4L2 buffer's plane layout as a GstVideoInfo (single-planar API). */
static void v4l2_layout(GstVideoInfo *vi, GstVideoFormat gst, const struct v4l2_pix_format *pf)
{
	unsigned bpl = pf->bytesperline, h = pf->height;

	gst_video_info_set_format(vi, gst, pf->width, pf->height);
	vi->stride[0] = (gint)bpl;
	vi->offset[0] = 0;
	if (gst == GST_VIDEO_FORMAT_NV12) {
		vi->stride[1] = (gint)bpl;
		vi->offset[1] = (gsize)bpl * h;
	} else if (gst == GST_VIDEO_FORMAT_I420) {
		vi->stride[1] = vi->stride[2] = (gint)(bpl / 2);
		vi->offset[1] = (gsize)bpl * h;
		vi->offset[2] = vi->offset[1] + (gsize)(bpl / 2) * ((h + 1) / 2);
	}
	vi->size = pf->sizeimage;
}

/* Does the video node capture @fourcc from media bus code @code? */
static bool node_takes(int fd, uint32_t code, uint32_t fourcc)
{
	for (uint32_t i = 0;; i++) {
		struct v4l2_fmtdesc d = {
			.index = i, .type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .mbus_code = code,
		};

		if (xioctl(fd, VIDIOC_ENUM_FMT, &d) < 0)
			return false;
		if (d.pixelformat == fourcc)
			return true;
	}
}

/* VIDIOC_SUBDEV_S_FMT of @fmt on @pad of the open subdev @sd; @fmt is updated. */
static bool subdev_s_fmt(int sd, const char *path, uint32_t pad,
			 struct v4l2_mbus_framefmt *fmt, GError **error)
{
	struct v4l2_subdev_format sf = {
		.which = V4L2_SUBDEV_FORMAT_ACTIVE, .pad = pad, .format = *fmt,
	};

	if (xioctl(sd, VIDIOC_SUBDEV_S_FMT, &sf) < 0) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_FORMAT, "%s: VIDIOC_SUBDEV_S_FMT pad %u: %s",
			    path, pad, g_strerror(errno));
		return false;
	}
	*fmt = sf.format;
	return true;
}

/*
 * MC-centric node (V4L2_CAP_IO_MC): the pipeline feeding it must output
 * the bus format and size the node captures, else STREAMON fails link
 * validation. Set it from the sensor down (each subdev's source pad, then
 * the next one's sink pad), and take the size the last subdev settles on.
 */
static bool set_subdev_format(struct cam_capture *cap, struct v4l2 *v,
			      unsigned *w, unsigned *h, GError **error)
{
	const struct hop *sensor = &v->hops[v->n_hops - 1];
	struct v4l2_mbus_framefmt fmt = { .field = V4L2_FIELD_NONE };
	bool ok = false;
	int sd = open(sensor->path, O_RDWR | O_CLOEXEC);

	if (sd < 0) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "%s: %s", sensor->path,
			    g_strerror(errno));
		return false;
	}
	for (uint32_t i = 0; !ok; i++) {
		struct v4l2_subdev_mbus_code_enum ce = {
			.pad = sensor->src_pad, .index = i, .which = V4L2_SUBDEV_FORMAT_ACTIVE,
		};

		if (xioctl(sd, VIDIOC_SUBDEV_ENUM_MBUS_CODE, &ce) < 0)
			break;
		if (node_takes(v->fd, ce.code, v->pixelformat)) {
			fmt.code = ce.code;
			ok = true;
		}
	}
	close(sd);
	if (!ok) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_FORMAT,
			    "%s: no bus format gives %.4s on %s", sensor->path,
			    (const char *)&v->pixelformat, v->path);
		return false;
	}
	fmt.width = cap->cfg.width;
	fmt.height = cap->cfg.height;
	for (size_t i = v->n_hops; i-- > 0;) {
		const struct hop *hp = &v->hops[i];

		sd = open(hp->path, O_RDWR | O_CLOEXEC);
		if (sd < 0) {
			g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "%s: %s", hp->path,
				    g_strerror(errno));
			return false;
		}
		ok = (i == v->n_hops - 1 || subdev_s_fmt(sd, hp->path, hp->sink_pad, &fmt, error)) &&
		     subdev_s_fmt(sd, hp->path, hp->src_pad, &fmt, error);
		close(sd);
		if (!ok)
			return false;
	}
	*w = fmt.width;
	*h = fmt.height;
	return true;
}

static bool set_format(struct cam_capture *cap, struct v4l2 *v, GError **error)
{
	struct v4l2_format f = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	struct v4l2_streamparm parm = { .type = V4L2_BUF_TYPE_VIDEO_CAPTURE };
	GstVideoFormat gst;

	unsigned w = cap->cfg.width, h = cap->cfg.height;

	if (!choose_format(v->fd, &v->pixelformat, &gst, &v->emulated, error))
		return false;
	if (v->io_mc && v->n_hops && !v->emulated &&
	    !set_subdev_format(cap, v, &w, &h, error))
		return false;
	f.fmt.pix.width = w;
	f.fmt.pix.height = h;
	f.fmt.pix.pixelformat = v->pixelformat;
	f.fmt.pix.field = V4L2_FIELD_NONE;
	if (vioctl(v->fd, VIDIOC_S_FMT, &f) < 0 || f.fmt.pix.pixelformat != v->pixelformat) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_FORMAT, "%s: VIDIOC_S_FMT %.4s %ux%u: %s",
			    v->path, (const char *)&v->pixelformat, cap->cfg.width,
			    cap->cfg.height, g_strerror(errno));
		return false;
	}
	if (f.fmt.pix.width != cap->cfg.width || f.fmt.pix.height != cap->cfg.height)
		g_message("capture: %s: %ux%u asked, device gives %ux%u", v->path,
			  cap->cfg.width, cap->cfg.height, f.fmt.pix.width, f.fmt.pix.height);

	parm.parm.capture.timeperframe.numerator = cap->cfg.fps_d;
	parm.parm.capture.timeperframe.denominator = cap->cfg.fps_n;
	vioctl(v->fd, VIDIOC_S_PARM, &parm);
	if (vioctl(v->fd, VIDIOC_G_PARM, &parm) < 0 ||
	    !parm.parm.capture.timeperframe.numerator ||
	    !parm.parm.capture.timeperframe.denominator) {
		parm.parm.capture.timeperframe.numerator = cap->cfg.fps_d;
		parm.parm.capture.timeperframe.denominator = cap->cfg.fps_n;
	}
	if ((uint64_t)parm.parm.capture.timeperframe.denominator * cap->cfg.fps_d !=
	    (uint64_t)parm.parm.capture.timeperframe.numerator * cap->cfg.fps_n)
		g_message("capture: %s: %u/%u fps asked, device gives %u/%u", v->path,
			  cap->cfg.fps_n, cap->cfg.fps_d,
			  parm.parm.capture.timeperframe.denominator,
			  parm.parm.capture.timeperframe.numerator);

	v4l2_layout(&v->layout, gst, &f.fmt.pix);
	gst_video_info_set_format(&cap->info, gst, f.fmt.pix.width, f.fmt.pix.height);
	cap->info.fps_n = (gint)parm.parm.capture.timeperframe.denominator;
	cap->info.fps_d = (gint)parm.parm.capture.timeperframe.numerator;
	v->layout.fps_n = cap->info.fps_n;
	v->layout.fps_d = cap->info.fps_d;
	return true;
}

/* ------------------------------------------------------------------ */
/* Buffers and streaming                                                */
/* ------------------------------------------------------------------ */

static bool map_buffers(int fd, enum v4l2_buf_type type, unsigned want,
			struct vbuf **out, unsigned *n_out, GError **error)
{
	struct v4l2_requestbuffers rb = {
		.count = want, .type = type, .memory = V4L2_MEMORY_MMAP,
	};

	if (vioctl(fd, VIDIOC_REQBUFS, &rb) < 0 || rb.count == 0) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "VIDIOC_REQBUFS: %s",
			    rb.count ? g_strerror(errno) : "no buffers");
		return false;
	}
	*out = g_new0(struct vbuf, rb.count);
	*n_out = rb.count;
	for (unsigned i = 0; i < rb.count; i++)
		(*out)[i].dmabuf_fd = -1;
	for (unsigned i = 0; i < rb.count; i++) {
		struct v4l2_buffer b = { .index = i, .type = type, .memory = V4L2_MEMORY_MMAP };

		if (vioctl(fd, VIDIOC_QUERYBUF, &b) < 0)
			goto fail;
		(*out)[i].length = b.length;
		(*out)[i].start = v4l2_mmap(NULL, b.length, PROT_READ | PROT_WRITE,
					    MAP_SHARED, fd, b.m.offset);
		if ((*out)[i].start == MAP_FAILED) {
			(*out)[i].start = NULL;
			goto fail;
		}
	}
	return true;
fail:
	g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "mapping buffers: %s", g_strerror(errno));
	return false;
}

static void unmap_buffers(int fd, enum v4l2_buf_type type, struct vbuf *bufs, unsigned n)
{
	struct v4l2_requestbuffers rb = { .type = type, .memory = V4L2_MEMORY_MMAP };

	for (unsigned i = 0; i < n; i++) {
		if (bufs[i].dmabuf_fd >= 0)
			close(bufs[i].dmabuf_fd);
		if (bufs[i].start)
			v4l2_munmap(bufs[i].start, bufs[i].length);
	}
	g_free(bufs);
	if (n)
		vioctl(fd, VIDIOC_REQBUFS, &rb);
}

static bool queue(int fd, enum v4l2_buf_type type, unsigned index)
{
	struct v4l2_buffer b = { .index = index, .type = type, .memory = V4L2_MEMORY_MMAP };

	return vioctl(fd, VIDIOC_QBUF, &b) == 0;
}

static bool start_streaming(struct cam_capture *cap, struct v4l2 *v, GError **error)
{
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE, mtype = V4L2_BUF_TYPE_META_CAPTURE;

	if (v->meta_fd >= 0) {
		for (unsigned i = 0; i < v->n_mbufs; i++)
			queue(v->meta_fd, V4L2_BUF_TYPE_META_CAPTURE, i);
		if (vioctl(v->meta_fd, VIDIOC_STREAMON, &mtype) < 0) {
			g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "%s: VIDIOC_STREAMON: %s",
				    v->meta_path, g_strerror(errno));
			return false;
		}
	}
	for (unsigned i = 0; i < v->n_bufs; i++)
		queue(v->fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, i);
	if (vioctl(v->fd, VIDIOC_STREAMON, &type) < 0) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "%s: VIDIOC_STREAMON: %s",
			    v->path, g_strerror(errno));
		return false;
	}
	v->streaming = true;
	g_message("capture: %s streaming %.4s %dx%d@%d/%d, %u buffers, %s%s",
		  v->path, (const char *)&v->pixelformat, cap->info.width, cap->info.height,
		  cap->info.fps_n, cap->info.fps_d, v->n_bufs,
		  v->dmabuf ? "DMABUF export to the encoder (zero-copy)" :
			      "copy path (1 copy per frame into the encoder's buffer)",
		  v->emulated ? ", converted by libv4l2" : "");
	return true;
}

static bool gone(int err)
{
	return err == ENODEV || err == ENXIO;
}

static void set_io_error(struct cam_capture *cap, struct v4l2 *v, const char *what,
			 GError **error)
{
	int err = errno;

	g_set_error(error, CAM_ERROR, gone(err) ? CAM_ERROR_GONE : CAM_ERROR_DEVICE,
		    "%s (%s): %s: %s", v->path, cap->id.stable, what, g_strerror(err));
}

/* Take every record the metadata node has ready. */
static void drain_meta(struct v4l2 *v)
{
	for (;;) {
		struct v4l2_buffer b = {
			.type = V4L2_BUF_TYPE_META_CAPTURE, .memory = V4L2_MEMORY_MMAP,
		};

		if (vioctl(v->meta_fd, VIDIOC_DQBUF, &b) < 0)
			return;
		if (b.index < v->n_mbufs && !(b.flags & V4L2_BUF_FLAG_ERROR))
			cam_metapair_push(&v->mp, v->mbufs[b.index].start,
					 MIN(b.bytesused, v->mbufs[b.index].length));
		queue(v->meta_fd, V4L2_BUF_TYPE_META_CAPTURE, b.index);
	}
}

static void attach_meta(struct cam_capture *cap, struct v4l2 *v, struct cam_frame_info *fi,
			uint64_t ts_ns)
{
	struct veracam_meta m;
	enum cam_pair_result r;

	drain_meta(v);
	r = cam_metapair_take(&v->mp, fi->sequence, ts_ns, &m);
	if (r == CAM_PAIR_WAIT) {
		struct pollfd p = { .fd = v->meta_fd, .events = POLLIN };

		if (poll(&p, 1, (int)cap->cfg.meta_wait_ms) > 0)
			drain_meta(v);
		r = cam_metapair_take(&v->mp, fi->sequence, ts_ns, &m);
		if (r == CAM_PAIR_WAIT)
			cam_metapair_give_up(&v->mp);
	}
	if (r == CAM_PAIR_FOUND) {
		fi->mono_ns = m.soe_ns;	/* the same instant, to the ns */
		fi->has_sensor = true;
		fi->sensor_sequence = m.sequence;
		fi->sensor_flags = m.flags;
		fi->sensor_eof_ns = m.eof_ns;
		fi->exposure = m.exposure;
		fi->analogue_gain = m.analogue_gain;
		fi->digital_gain = m.digital_gain;
	}
	cap->stats.meta_paired = v->mp.paired;
	cap->stats.meta_missing = v->mp.missing;
	cap->stats.meta_lost = v->mp.meta_lost;
	cap->stats.meta_invalid = v->mp.invalid;
	cap->stats.meta_mismatched = v->mp.mismatched;
}

/* Copy path: the frame into a pooled GstBuffer; the V4L2 buffer goes back at once. */
static GstBuffer *copy_frame(struct cam_capture *cap, struct v4l2 *v, unsigned index,
			     size_t used, GError **error)
{
	GstBuffer *dst = NULL;
	g_autoptr(GstBuffer) src = gst_buffer_new_wrapped_full(GST_MEMORY_FLAG_READONLY,
		v->bufs[index].start, v->bufs[index].length, 0,
		MIN(MAX(used, v->layout.size), v->bufs[index].length), NULL, NULL);
	GstVideoFrame sf, df;
	bool ok = false;

	if (gst_buffer_pool_acquire_buffer(v->pool, &dst, NULL) != GST_FLOW_OK) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "capture: buffer pool inactive");
		return NULL;
	}
	if (gst_video_frame_map(&sf, &v->layout, src, GST_MAP_READ)) {
		if (gst_video_frame_map(&df, &cap->info, dst, GST_MAP_WRITE)) {
			ok = gst_video_frame_copy(&df, &sf);
			gst_video_frame_unmap(&df);
		}
		gst_video_frame_unmap(&sf);
	}
	if (!ok) {
		gst_buffer_unref(dst);
		g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE,
			    "%s: short frame (%zu bytes)", v->path, used);
		return NULL;
	}
	cap->stats.copies++;
	cap->stats.copied_bytes += cap->info.size;
	return dst;
}

struct lent {
	struct cam_capture *cap;
	unsigned index;
};

static GQuark lent_quark(void)
{
	return g_quark_from_static_string("veracam-v4l2-lent");
}

/* The encoder let go of a dmabuf frame: give the buffer back to the device. */
static void lent_return(gpointer data)
{
	struct lent *l = data;
	struct v4l2 *v = l->cap->priv;

	pthread_mutex_lock(&v->lock);
	if (v->streaming)
		queue(v->fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, l->index);
	pthread_mutex_unlock(&v->lock);
	cam_capture_unref(l->cap);
	g_free(l);
}

/* DMABUF path: the exported buffer itself, with the V4L2 plane layout. */
static GstBuffer *lend_frame(struct cam_capture *cap, struct v4l2 *v, unsigned index)
{
	GstMemory *mem = gst_dmabuf_allocator_alloc_with_flags(v->dmabuf_alloc,
		v->bufs[index].dmabuf_fd, v->bufs[index].length, GST_FD_MEMORY_FLAG_DONT_CLOSE);
	GstBuffer *buf = gst_buffer_new();
	struct lent *l = g_new0(struct lent, 1);

	l->cap = cam_capture_ref(cap);
	l->index = index;
	gst_mini_object_set_qdata(GST_MINI_OBJECT_CAST(mem), lent_quark(), l, lent_return);
	gst_buffer_append_memory(buf, mem);
	gst_buffer_add_video_meta_full(buf, GST_VIDEO_FRAME_FLAG_NONE,
				       GST_VIDEO_INFO_FORMAT(&v->layout),
				       (guint)v->layout.width, (guint)v->layout.height,
				       GST_VIDEO_INFO_N_PLANES(&v->layout),
				       v->layout.offset, v->layout.stride);
	cap->stats.dmabuf_frames++;
	return buf;
}

static bool v4l2_next(struct cam_capture *cap, struct cam_frame *frame, GError **error)
{
	struct v4l2 *v = cap->priv;
	struct cam_frame_info *fi = &frame->info;
	struct v4l2_buffer b;
	uint64_t ts_ns;

	if (!v->streaming && !start_streaming(cap, v, error))
		return false;

	for (;;) {
		struct pollfd p = { .fd = v->fd, .events = POLLIN };
		int r = poll(&p, 1, (int)cap->cfg.timeout_ms);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			set_io_error(cap, v, "poll", error);
			return false;
		}
		if (r == 0) {
			g_set_error(error, CAM_ERROR, CAM_ERROR_TIMEOUT,
				    "%s (%s): no frame within %u ms", v->path,
				    cap->id.stable, cap->cfg.timeout_ms);
			return false;
		}
		memset(&b, 0, sizeof(b));
		b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
		b.memory = V4L2_MEMORY_MMAP;
		pthread_mutex_lock(&v->lock);
		r = vioctl(v->fd, VIDIOC_DQBUF, &b);
		pthread_mutex_unlock(&v->lock);
		if (r < 0 && errno == EAGAIN)
			continue;
		if (r < 0) {
			set_io_error(cap, v, "VIDIOC_DQBUF", error);
			return false;
		}
		if (b.index >= v->n_bufs)
			continue;
		if (!(b.flags & V4L2_BUF_FLAG_ERROR))
			break;
		/* a frame the device could not produce: skipped, counted */
		cap->stats.errors++;
		pthread_mutex_lock(&v->lock);
		queue(v->fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, b.index);
		pthread_mutex_unlock(&v->lock);
	}

	ts_ns = (uint64_t)b.timestamp.tv_sec * 1000000000ull +
		(uint64_t)b.timestamp.tv_usec * 1000ull;
	fi->sequence = b.sequence;
	if ((b.flags & V4L2_BUF_FLAG_TIMESTAMP_MASK) == V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC) {
		fi->mono_ns = ts_ns;
		fi->ts_source = (b.flags & V4L2_BUF_FLAG_TSTAMP_SRC_MASK) ==
				V4L2_BUF_FLAG_TSTAMP_SRC_SOE ? CAM_TS_SOE : CAM_TS_EOF;
	} else {
		fi->mono_ns = clk_mono_ns();
		fi->ts_source = CAM_TS_DEQUEUE;
	}
	if (v->meta_fd >= 0)
		attach_meta(cap, v, fi, ts_ns);

	if (v->dmabuf) {
		frame->buffer = lend_frame(cap, v, b.index);
		return true;
	}
	frame->buffer = copy_frame(cap, v, b.index, b.bytesused, error);
	pthread_mutex_lock(&v->lock);
	queue(v->fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, b.index);
	pthread_mutex_unlock(&v->lock);
	return frame->buffer != NULL;
}

static bool v4l2_use_dmabuf(struct cam_capture *cap, bool encoder_imports)
{
	struct v4l2 *v = cap->priv;
	bool want = cap->cfg.io == CAM_IO_DMABUF ||
		    (cap->cfg.io == CAM_IO_AUTO && encoder_imports);

	if (v->streaming)
		return v->dmabuf;
	v->dmabuf = false;
	if (!want) {
		g_message("capture: %s: copy path (%s)", v->path,
			  cap->cfg.io == CAM_IO_COPY ? "asked for" :
			  "the encoder cannot import DMABUF");
		return false;
	}
	if (v->emulated) {
		g_message("capture: %s: copy path (libv4l2 converts the format, nothing to export)",
			  v->path);
		return false;
	}
	for (unsigned i = 0; i < v->n_bufs; i++) {
		struct v4l2_exportbuffer e = {
			.type = V4L2_BUF_TYPE_VIDEO_CAPTURE, .index = i,
			.flags = O_RDONLY | O_CLOEXEC,
		};

		if (vioctl(v->fd, VIDIOC_EXPBUF, &e) < 0) {
			g_message("capture: %s: copy path (VIDIOC_EXPBUF: %s)", v->path,
				  g_strerror(errno));
			for (unsigned k = 0; k < i; k++) {
				close(v->bufs[k].dmabuf_fd);
				v->bufs[k].dmabuf_fd = -1;
			}
			return false;
		}
		v->bufs[i].dmabuf_fd = e.fd;
	}
	v->dmabuf_alloc = gst_dmabuf_allocator_new();
	v->dmabuf = true;
	g_message("capture: %s: DMABUF path, %u buffers exported", v->path, v->n_bufs);
	return true;
}

static void v4l2_stop(struct cam_capture *cap)
{
	struct v4l2 *v = cap->priv;
	int type = V4L2_BUF_TYPE_VIDEO_CAPTURE, mtype = V4L2_BUF_TYPE_META_CAPTURE;

	pthread_mutex_lock(&v->lock);
	if (v->streaming) {
		vioctl(v->fd, VIDIOC_STREAMOFF, &type);
		if (v->meta_fd >= 0)
			vioctl(v->meta_fd, VIDIOC_STREAMOFF, &mtype);
		v->streaming = false;
	}
	pthread_mutex_unlock(&v->lock);
}

static void v4l2_free(struct cam_capture *cap)
{
	struct v4l2 *v = cap->priv;

	v4l2_stop(cap);
	if (v->pool) {
		gst_buffer_pool_set_active(v->pool, FALSE);
		gst_object_unref(v->pool);
	}
	if (v->dmabuf_alloc)
		gst_object_unref(v->dmabuf_alloc);
	if (v->meta_fd >= 0) {
		unmap_buffers(v->meta_fd, V4L2_BUF_TYPE_META_CAPTURE, v->mbufs, v->n_mbufs);
		v4l2_close(v->meta_fd);
	}
	if (v->fd >= 0) {
		unmap_buffers(v->fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, v->bufs, v->n_bufs);
		v4l2_close(v->fd);
	}
	pthread_mutex_destroy(&v->lock);
	g_free(v);
}

static const struct cam_capture_ops v4l2_ops = {
	.next = v4l2_next,
	.use_dmabuf = v4l2_use_dmabuf,
	.stop = v4l2_stop,
	.free = v4l2_free,
};

static void fill_identity(struct cam_identity *id, const struct node *nd,
			  const struct media_device_info *mi)
{
	g_strlcpy(id->driver, (const char *)nd->caps.driver, sizeof(id->driver));
	g_strlcpy(id->card, (const char *)nd->caps.card, sizeof(id->card));
	g_strlcpy(id->bus_info, (const char *)nd->caps.bus_info, sizeof(id->bus_info));
	g_strlcpy(id->serial, mi->serial, sizeof(id->serial));
	g_strlcpy(id->model, mi->model, sizeof(id->model));
	id->has_unique_id = nd->has_uid;
	for (int i = 0; nd->has_uid && i < VERACAM_UNIQUE_ID_LEN; i++)
		id->unique_id[i] = (uint8_t)(g_ascii_xdigit_value(nd->uid[2 * i]) << 4 |
					     g_ascii_xdigit_value(nd->uid[2 * i + 1]));
	cam_identity_finish(id);
}

bool cam_v4l2_open(struct cam_capture *cap, GError **error)
{
	struct v4l2 *v = g_new0(struct v4l2, 1);
	struct media_device_info mi;
	struct node nd;
	GstStructure *pc;
	g_autoptr(GstCaps) caps = NULL;

	if (!gst_is_initialized())
		gst_init(NULL, NULL);
	v->fd = v->meta_fd = -1;
	pthread_mutex_init(&v->lock, NULL);
	cap->priv = v;
	cap->ops = &v4l2_ops;

	if (!select_node(&cap->src, &nd, &mi, error))
		goto fail;
	fill_identity(&cap->id, &nd, &mi);
	g_strlcpy(v->path, nd.path, sizeof(v->path));
	g_strlcpy(v->meta_path, nd.meta_path, sizeof(v->meta_path));
	memcpy(v->hops, nd.hops, sizeof(v->hops));
	v->n_hops = nd.n_hops;
	v->io_mc = node_caps(&nd.caps) & V4L2_CAP_IO_MC;

	v->fd = v4l2_open(v->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (v->fd < 0) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "%s: %s", v->path, g_strerror(errno));
		goto fail;
	}
	if (!set_format(cap, v, error) ||
	    !map_buffers(v->fd, V4L2_BUF_TYPE_VIDEO_CAPTURE, cap->cfg.buffers,
			 &v->bufs, &v->n_bufs, error))
		goto fail;

	if (v->meta_path[0]) {
		v->meta_fd = v4l2_open(v->meta_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (v->meta_fd < 0 ||
		    !map_buffers(v->meta_fd, V4L2_BUF_TYPE_META_CAPTURE, v->n_bufs + 2,
				 &v->mbufs, &v->n_mbufs, error)) {
			g_prefix_error(error, "%s: ", v->meta_path);
			if (v->meta_fd < 0)
				g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "%s: %s",
					    v->meta_path, g_strerror(errno));
			goto fail;
		}
		cam_metapair_init(&v->mp, cap->id.unique_id);
	}

	v->pool = gst_buffer_pool_new();
	caps = gst_video_info_to_caps(&cap->info);
	pc = gst_buffer_pool_get_config(v->pool);
	gst_buffer_pool_config_set_params(pc, caps, (guint)cap->info.size, 2, 0);
	if (!gst_buffer_pool_set_config(v->pool, pc) ||
	    !gst_buffer_pool_set_active(v->pool, TRUE)) {
		g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "capture: buffer pool setup failed");
		goto fail;
	}

	g_message("capture: %s is %s (%s, bus %s%s%s), metadata %s", cap->src.value,
		  v->path, cap->id.driver, cap->id.bus_info,
		  cap->id.has_unique_id ? ", id " : "",
		  cap->id.has_unique_id ? cap->id.unique_id_hex : "",
		  v->meta_fd >= 0 ? v->meta_path : "none");
	return true;

fail:
	v4l2_free(cap);
	cap->priv = NULL;
	return false;
}
