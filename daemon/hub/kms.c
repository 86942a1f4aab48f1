// SPDX-License-Identifier: GPL-2.0
/*
 * kms - DRM/KMS output, in the manner of weston's DRM backend:
 *
 *  - open the card, take master, enable universal planes and atomic;
 *  - resolve every property id once (our connector, CRTC and primary
 *    plane, and FB_ID/CRTC_ID/ACTIVE/MODE_ID of every object, for the
 *    recovery commit);
 *  - recovery commit: disable every plane, CRTC and connector link, so
 *    nothing a previous master left (or fbcon) stays on screen;
 *  - first commit blocking with ALLOW_MODESET, then non-blocking page flips
 *    with PAGE_FLIP_EVENT, one in flight; every atomic commit is checked
 *    with TEST_ONLY first; legacy SetCrtc/PageFlip without atomic;
 *  - dumb buffers owned by the hub, zeroed on allocation, stride from the
 *    kernel, XRGB8888;
 *  - hot-unplug (connector status) and loss of master (drmIsMaster, or a
 *    commit refused with EACCES/EPERM) take the output down; it is set up
 *    again from the recovery commit when both come back;
 *  - on close: the CRTC is switched off and every hub framebuffer removed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

#include "hub_error.h"
#include "kms.h"

#define KMS_MAX_CARDS	16
#define KMS_DRAIN_MS	1000

enum {
	PLANE_FB_ID, PLANE_CRTC_ID, PLANE_SRC_X, PLANE_SRC_Y, PLANE_SRC_W,
	PLANE_SRC_H, PLANE_CRTC_X, PLANE_CRTC_Y, PLANE_CRTC_W, PLANE_CRTC_H,
	PLANE_TYPE, PLANE_NPROPS
};

static const char *const plane_prop_names[PLANE_NPROPS] = {
	"FB_ID", "CRTC_ID", "SRC_X", "SRC_Y", "SRC_W", "SRC_H",
	"CRTC_X", "CRTC_Y", "CRTC_W", "CRTC_H", "type",
};

enum { CRTC_ACTIVE, CRTC_MODE_ID, CRTC_NPROPS };
static const char *const crtc_prop_names[CRTC_NPROPS] = { "ACTIVE", "MODE_ID" };

enum { CONN_CRTC_ID, CONN_NPROPS };
static const char *const conn_prop_names[CONN_NPROPS] = { "CRTC_ID" };

struct kms_obj {
	uint32_t id;
	uint32_t prop[PLANE_NPROPS];	/* the largest of the three sets */
	uint64_t type;			/* planes: DRM_PLANE_TYPE_* */
};

struct kms_fb {
	uint32_t handle;
	uint32_t fb_id;
	uint32_t pitch;
	uint64_t size;
	uint8_t *map;
};

struct hub_kms {
	int fd;
	bool atomic;
	bool master;
	bool down;		/* nothing of ours is on screen */
	bool modeset;		/* next commit sets the mode */
	bool flip_pending;
	bool flip_done;
	uint64_t flip_ns;		/* CLOCK_MONOTONIC of the last completion (event) */

	struct kms_obj *planes, *crtcs, *conns;
	unsigned int nplanes, ncrtcs, nconns;
	struct kms_obj *plane, *crtc, *conn;	/* ours */
	unsigned int crtc_index;

	drmModeModeInfo mode;
	uint32_t mode_blob;
	struct kms_fb fb[OUTPUT_BUFFERS];
	unsigned int fb_w, fb_h;
};

/* ---- property ids, resolved once ---- */

static int resolve(int fd, struct kms_obj *o, uint32_t type,
		   const char *const *names, unsigned int n)
{
	drmModeObjectProperties *props = drmModeObjectGetProperties(fd, o->id, type);
	unsigned int i, j;

	if (!props)
		return -errno;
	for (i = 0; i < props->count_props; i++) {
		drmModePropertyRes *p = drmModeGetProperty(fd, props->props[i]);

		if (!p)
			continue;
		for (j = 0; j < n; j++) {
			if (strcmp(p->name, names[j]))
				continue;
			o->prop[j] = p->prop_id;
			if (type == DRM_MODE_OBJECT_PLANE && j == PLANE_TYPE)
				o->type = props->prop_values[i];
		}
		drmModeFreeProperty(p);
	}
	drmModeFreeObjectProperties(props);
	return 0;
}

static int resolve_all(struct hub_kms *k, const drmModeRes *res,
		       const drmModePlaneRes *pres)
{
	unsigned int i;
	int ret = 0;

	k->nplanes = pres->count_planes;
	k->ncrtcs = (unsigned int)res->count_crtcs;
	k->nconns = (unsigned int)res->count_connectors;
	k->planes = calloc(k->nplanes + 1, sizeof(*k->planes));
	k->crtcs = calloc(k->ncrtcs + 1, sizeof(*k->crtcs));
	k->conns = calloc(k->nconns + 1, sizeof(*k->conns));
	if (!k->planes || !k->crtcs || !k->conns)
		return -ENOMEM;
	for (i = 0; i < k->nplanes && !ret; i++) {
		k->planes[i].id = pres->planes[i];
		ret = resolve(k->fd, &k->planes[i], DRM_MODE_OBJECT_PLANE,
			      plane_prop_names, PLANE_NPROPS);
	}
	for (i = 0; i < k->ncrtcs && !ret; i++) {
		k->crtcs[i].id = res->crtcs[i];
		ret = resolve(k->fd, &k->crtcs[i], DRM_MODE_OBJECT_CRTC,
			      crtc_prop_names, CRTC_NPROPS);
	}
	for (i = 0; i < k->nconns && !ret; i++) {
		k->conns[i].id = res->connectors[i];
		ret = resolve(k->fd, &k->conns[i], DRM_MODE_OBJECT_CONNECTOR,
			      conn_prop_names, CONN_NPROPS);
	}
	return ret;
}

/* ---- choosing connector, mode, CRTC, primary plane ---- */

static bool pick_mode(const drmModeConnector *c, drmModeModeInfo *mode)
{
	int i;

	if (c->connection != DRM_MODE_CONNECTED || c->count_modes < 1)
		return false;
	*mode = c->modes[0];
	for (i = 0; i < c->count_modes; i++) {
		if (c->modes[i].type & DRM_MODE_TYPE_PREFERRED) {
			*mode = c->modes[i];
			break;
		}
	}
	return true;
}

static int pick_crtc(struct hub_kms *k, const drmModeRes *res,
		     const drmModeConnector *c)
{
	int i, j;

	for (i = 0; i < c->count_encoders; i++) {
		drmModeEncoder *e = drmModeGetEncoder(k->fd, c->encoders[i]);
		uint32_t mask;

		if (!e)
			continue;
		mask = e->possible_crtcs;
		drmModeFreeEncoder(e);
		for (j = 0; j < res->count_crtcs; j++) {
			if (mask & (1u << j)) {
				k->crtc_index = (unsigned int)j;
				k->crtc = &k->crtcs[j];
				return 0;
			}
		}
	}
	return -ENODEV;
}

static int pick_plane(struct hub_kms *k)
{
	unsigned int i;
	uint32_t f;

	for (i = 0; i < k->nplanes; i++) {
		drmModePlane *p = drmModeGetPlane(k->fd, k->planes[i].id);
		bool ok = false;

		if (!p)
			continue;
		if (k->planes[i].type == DRM_PLANE_TYPE_PRIMARY &&
		    p->possible_crtcs & (1u << k->crtc_index))
			for (f = 0; f < p->count_formats; f++)
				ok |= p->formats[f] == DRM_FORMAT_XRGB8888;
		drmModeFreePlane(p);
		if (ok) {
			k->plane = &k->planes[i];
			return 0;
		}
	}
	return -ENODEV;
}

static int pick_output(struct hub_kms *k)
{
	drmModeRes *res = drmModeGetResources(k->fd);
	drmModePlaneRes *pres = drmModeGetPlaneResources(k->fd);
	unsigned int i;
	int ret = -ENODEV;

	if (!res || !pres) {
		ret = -errno;
		goto out;
	}
	ret = resolve_all(k, res, pres);
	for (i = 0; !ret && i < k->nconns; i++) {
		drmModeConnector *c = drmModeGetConnector(k->fd, k->conns[i].id);
		bool ok = c && pick_mode(c, &k->mode) && !pick_crtc(k, res, c);

		drmModeFreeConnector(c);
		if (ok) {
			k->conn = &k->conns[i];
			ret = k->atomic ? pick_plane(k) : 0;
			goto out;
		}
	}
	if (!ret)
		ret = -ENODEV;
out:
	drmModeFreePlaneResources(pres);
	drmModeFreeResources(res);
	return ret;
}

/* ---- buffers ---- */

static void free_fbs(struct hub_kms *k)
{
	unsigned int i;

	for (i = 0; i < OUTPUT_BUFFERS; i++) {
		struct kms_fb *fb = &k->fb[i];

		if (fb->map)
			munmap(fb->map, fb->size);
		if (fb->fb_id)
			drmModeRmFB(k->fd, fb->fb_id);
		if (fb->handle)
			drmModeDestroyDumbBuffer(k->fd, fb->handle);
		memset(fb, 0, sizeof(*fb));
	}
	k->fb_w = 0;
	k->fb_h = 0;
}

static int alloc_fbs(struct hub_kms *k, struct hub_output_mode *mode)
{
	unsigned int w = k->mode.hdisplay, h = k->mode.vdisplay, i;
	int ret;

	if (k->fb_w != w || k->fb_h != h) {
		free_fbs(k);
		for (i = 0; i < OUTPUT_BUFFERS; i++) {
			struct kms_fb *fb = &k->fb[i];
			uint32_t handles[4] = { 0 }, pitches[4] = { 0 }, offsets[4] = { 0 };
			uint64_t off;
			void *map;

			ret = drmModeCreateDumbBuffer(k->fd, w, h, 32, 0, &fb->handle,
						      &fb->pitch, &fb->size);
			if (ret)
				return ret;
			/* the compositor addresses rows of whole pixels */
			if (fb->pitch % 4 || fb->pitch < w * 4)
				return -EINVAL;
			handles[0] = fb->handle;
			pitches[0] = fb->pitch;
			if (drmModeAddFB2(k->fd, w, h, DRM_FORMAT_XRGB8888, handles,
					  pitches, offsets, &fb->fb_id, 0))
				return -errno;
			ret = drmModeMapDumbBuffer(k->fd, fb->handle, &off);
			if (ret)
				return ret;
			map = mmap(NULL, fb->size, PROT_READ | PROT_WRITE,
				   MAP_SHARED, k->fd, (off_t)off);
			if (map == MAP_FAILED)
				return -errno;
			fb->map = map;
			memset(fb->map, 0, fb->size);
		}
		k->fb_w = w;
		k->fb_h = h;
	}
	mode->width = w;
	mode->height = h;
	for (i = 0; i < OUTPUT_BUFFERS; i++) {
		mode->buf[i].map = k->fb[i].map;
		mode->buf[i].stride = k->fb[i].pitch;
	}
	return 0;
}

/* ---- commits ---- */

static int atomic_commit(struct hub_kms *k, drmModeAtomicReq *req, uint32_t flags)
{
	int ret = drmModeAtomicCommit(k->fd, req,
				      DRM_MODE_ATOMIC_TEST_ONLY |
				      (flags & DRM_MODE_ATOMIC_ALLOW_MODESET), k);

	if (!ret)
		ret = drmModeAtomicCommit(k->fd, req, flags, k);
	drmModeAtomicFree(req);
	return ret ? -errno : 0;
}

static void add(drmModeAtomicReq *req, const struct kms_obj *o,
		unsigned int prop, uint64_t value)
{
	if (o->prop[prop])
		drmModeAtomicAddProperty(req, o->id, o->prop[prop], value);
}

/* Switch off everything, or only our CRTC, connector and plane. */
static int disable(struct hub_kms *k, bool everything)
{
	unsigned int i;

	if (k->atomic) {
		drmModeAtomicReq *req = drmModeAtomicAlloc();

		if (!req)
			return -ENOMEM;
		for (i = 0; i < k->nplanes; i++) {
			if (!everything && &k->planes[i] != k->plane)
				continue;
			add(req, &k->planes[i], PLANE_FB_ID, 0);
			add(req, &k->planes[i], PLANE_CRTC_ID, 0);
		}
		for (i = 0; i < k->ncrtcs; i++) {
			if (!everything && &k->crtcs[i] != k->crtc)
				continue;
			add(req, &k->crtcs[i], CRTC_ACTIVE, 0);
			add(req, &k->crtcs[i], CRTC_MODE_ID, 0);
		}
		for (i = 0; i < k->nconns; i++) {
			if (!everything && &k->conns[i] != k->conn)
				continue;
			add(req, &k->conns[i], CONN_CRTC_ID, 0);
		}
		return atomic_commit(k, req, DRM_MODE_ATOMIC_ALLOW_MODESET);
	}
	/* legacy: planes other than primaries, then CRTCs (and their primaries) */
	for (i = 0; everything && i < k->nplanes; i++)
		if (k->planes[i].type != DRM_PLANE_TYPE_PRIMARY)
			drmModeSetPlane(k->fd, k->planes[i].id, 0, 0, 0, 0, 0, 0, 0,
					0, 0, 0, 0);
	for (i = 0; i < k->ncrtcs; i++) {
		if (!everything && &k->crtcs[i] != k->crtc)
			continue;
		if (drmModeSetCrtc(k->fd, k->crtcs[i].id, 0, 0, 0, NULL, 0, NULL))
			return -errno;
	}
	return 0;
}

static int commit_atomic(struct hub_kms *k, const struct kms_fb *fb)
{
	drmModeAtomicReq *req = drmModeAtomicAlloc();
	uint32_t flags;

	if (!req)
		return -ENOMEM;
	if (k->modeset) {
		if (!k->mode_blob &&
		    drmModeCreatePropertyBlob(k->fd, &k->mode, sizeof(k->mode),
					      &k->mode_blob)) {
			drmModeAtomicFree(req);
			return -errno;
		}
		add(req, k->conn, CONN_CRTC_ID, k->crtc->id);
		add(req, k->crtc, CRTC_MODE_ID, k->mode_blob);
		add(req, k->crtc, CRTC_ACTIVE, 1);
		flags = DRM_MODE_ATOMIC_ALLOW_MODESET;	/* blocking */
	} else {
		flags = DRM_MODE_ATOMIC_NONBLOCK | DRM_MODE_PAGE_FLIP_EVENT;
	}
	add(req, k->plane, PLANE_FB_ID, fb->fb_id);
	add(req, k->plane, PLANE_CRTC_ID, k->crtc->id);
	add(req, k->plane, PLANE_SRC_X, 0);
	add(req, k->plane, PLANE_SRC_Y, 0);
	add(req, k->plane, PLANE_SRC_W, (uint64_t)k->fb_w << 16);
	add(req, k->plane, PLANE_SRC_H, (uint64_t)k->fb_h << 16);
	add(req, k->plane, PLANE_CRTC_X, 0);
	add(req, k->plane, PLANE_CRTC_Y, 0);
	add(req, k->plane, PLANE_CRTC_W, k->fb_w);
	add(req, k->plane, PLANE_CRTC_H, k->fb_h);
	return atomic_commit(k, req, flags);
}

static int commit_legacy(struct hub_kms *k, const struct kms_fb *fb)
{
	if (k->modeset)
		return drmModeSetCrtc(k->fd, k->crtc->id, fb->fb_id, 0, 0,
				      &k->conn->id, 1, &k->mode) ? -errno : 0;
	return drmModePageFlip(k->fd, k->crtc->id, fb->fb_id,
			       DRM_MODE_PAGE_FLIP_EVENT, k) ? -errno : 0;
}

static int kms_commit(void *out, unsigned int index)
{
	struct hub_kms *k = out;
	bool modeset = k->modeset;
	int ret;

	if (k->down || k->flip_pending)
		return -EAGAIN;
	ret = k->atomic ? commit_atomic(k, &k->fb[index]) :
			  commit_legacy(k, &k->fb[index]);
	if (ret) {
		if (ret == -EACCES || ret == -EPERM)
			k->master = false;
		k->down = true;
		return ret;
	}
	if (modeset) {
		k->modeset = false;
		return 1;	/* blocking: on screen now */
	}
	k->flip_pending = true;
	return 0;
}

static void flip_handler(int fd, unsigned int seq, unsigned int sec,
			 unsigned int usec, void *data)
{
	struct hub_kms *k = data;

	(void)fd;
	(void)seq;
	/* DRM event times are CLOCK_MONOTONIC (DRM_CAP_TIMESTAMP_MONOTONIC) */
	k->flip_ns = (uint64_t)sec * 1000000000u + (uint64_t)usec * 1000u;
	k->flip_pending = false;
	k->flip_done = true;
}

static int read_events(struct hub_kms *k, int timeout_ms)
{
	drmEventContext ev = {
		.version = 2, .page_flip_handler = flip_handler,
	};
	struct pollfd pfd = { .fd = k->fd, .events = POLLIN };

	if (poll(&pfd, 1, timeout_ms) <= 0 || !(pfd.revents & POLLIN))
		return 0;
	return drmHandleEvent(k->fd, &ev) ? -errno : 0;
}

static int kms_dispatch(void *out, uint64_t *done_ns)
{
	struct hub_kms *k = out;
	int ret = read_events(k, 0);

	if (ret < 0)
		return ret;
	if (!k->flip_done)
		return 0;
	k->flip_done = false;
	*done_ns = k->flip_ns;
	return 1;
}

/* A flip still queued when the output changes must land first. */
static void drain_flip(struct hub_kms *k)
{
	if (k->flip_pending)
		read_events(k, KMS_DRAIN_MS);
	k->flip_pending = false;
	k->flip_done = false;
}

/* ---- unplug / master ---- */

static bool connected(struct hub_kms *k, drmModeModeInfo *mode)
{
	drmModeConnector *c = drmModeGetConnectorCurrent(k->fd, k->conn->id);
	bool ok = c && pick_mode(c, mode);

	drmModeFreeConnector(c);
	return ok;
}

static enum hub_output_state kms_check(void *out, struct hub_output_mode *mode)
{
	struct hub_kms *k = out;
	drmModeModeInfo m;

	if (k->master && !drmIsMaster(k->fd)) {
		k->master = false;	/* e.g. a VT switch handed it on */
		if (!k->down) {
			k->down = true;
			return OUTPUT_LOST;
		}
	}
	if (!k->master) {
		if (drmSetMaster(k->fd))
			return k->down ? OUTPUT_UNCHANGED : OUTPUT_LOST;
		k->master = true;
	}
	if (!connected(k, &m)) {
		if (k->down)
			return OUTPUT_UNCHANGED;
		drain_flip(k);
		disable(k, false);
		k->down = true;
		return OUTPUT_LOST;
	}
	if (!k->down)
		return OUTPUT_UNCHANGED;

	/* back: start from nothing, as at open */
	drain_flip(k);
	if (memcmp(&m, &k->mode, sizeof(m))) {
		if (k->mode_blob)
			drmModeDestroyPropertyBlob(k->fd, k->mode_blob);
		k->mode_blob = 0;
		k->mode = m;
	}
	if (disable(k, true) || alloc_fbs(k, mode))
		return OUTPUT_UNCHANGED;	/* try again at the next check */
	k->modeset = true;
	k->down = false;
	return OUTPUT_RESTARTED;
}

static void kms_reset(void *out)
{
	struct hub_kms *k = out;

	k->down = true;		/* check(): drain, disable, modeset again */
}

static int kms_fd(void *out)
{
	return ((struct hub_kms *)out)->fd;
}

static void kms_free(struct hub_kms *k)
{
	free_fbs(k);
	if (k->mode_blob)
		drmModeDestroyPropertyBlob(k->fd, k->mode_blob);
	if (k->master)
		drmDropMaster(k->fd);
	if (k->fd >= 0)
		close(k->fd);
	free(k->planes);
	free(k->crtcs);
	free(k->conns);
	free(k);
}

static void kms_close(void *out)
{
	struct hub_kms *k = out;

	drain_flip(k);
	/* nothing of the hub may stay on the CRTC once it is gone */
	if (k->master && k->crtc)
		disable(k, false);
	kms_free(k);
}

const struct hub_output_ops kms_ops = {
	.format = OUTPUT_XRGB8888,
	.commit = kms_commit,
	.dispatch = kms_dispatch,
	.check = kms_check,
	.reset = kms_reset,
	.fd = kms_fd, .close = kms_close,
};

static int open_card(struct hub_kms *k, const char *path, bool legacy)
{
	uint64_t dumb = 0;
	int ret;

	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0)
		return -errno;
	if (drmSetMaster(k->fd) && !drmIsMaster(k->fd))
		return -EBUSY;
	k->master = true;
	if (drmGetCap(k->fd, DRM_CAP_DUMB_BUFFER, &dumb) || !dumb)
		return -EOPNOTSUPP;
	if (drmSetClientCap(k->fd, DRM_CLIENT_CAP_UNIVERSAL_PLANES, 1))
		return -EOPNOTSUPP;
	k->atomic = !legacy && !drmSetClientCap(k->fd, DRM_CLIENT_CAP_ATOMIC, 1);
	ret = pick_output(k);
	return ret;
}

struct hub_kms *hub_kms_open(const char *path, bool legacy, struct hub_output_mode *mode,
			     GError **error)
{
	char name[32];
	struct hub_kms *k = NULL;
	int i, ret = -ENODEV, cards = 0;

	for (i = 0; i < KMS_MAX_CARDS; i++) {
		if (path) {
			snprintf(name, sizeof(name), "%s", path);
		} else {
			snprintf(name, sizeof(name), DRM_DIR_NAME "/card%d", i);
			if (access(name, F_OK))
				continue;
		}
		cards++;
		k = calloc(1, sizeof(*k));
		if (!k) {
			ret = -ENOMEM;
			break;
		}
		k->fd = -1;
		ret = open_card(k, name, legacy);
		if (!ret)
			break;
		kms_free(k);
		k = NULL;
		if (path)
			break;
	}
	if (!k && !path && !cards) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED,
			    "drm: no DRM device (" DRM_DIR_NAME "/card0..%d do not exist): "
			    "no display driver is loaded; a hub without a screen takes "
			    "--display y4m:PATH", KMS_MAX_CARDS - 1);
		return NULL;
	}
	if (!k) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED, "drm: %s: %s",
			    path ? path : DRM_DIR_NAME "/card*",
			    ret == -EBUSY ? "another process is DRM master" :
			    ret == -ENODEV ? "no connected connector" :
			    ret == -EACCES ? "permission denied (the hub's user needs the video "
					     "group, or the unit's DeviceAllow)" : strerror(-ret));
		return NULL;
	}
	ret = disable(k, true);		/* recovery commit */
	if (!ret)
		ret = alloc_fbs(k, mode);
	if (ret) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED, "drm: %s: %s", name,
			    strerror(-ret));
		kms_free(k);
		return NULL;
	}
	k->modeset = true;
	return k;
}
