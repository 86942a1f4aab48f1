// SPDX-License-Identifier: GPL-2.0
/*
 * y4m - headless scanout: each commit writes the committed buffer as one
 * I420 frame (see y4m.h). The buffers live in ordinary memory, each laid
 * out as the frame it becomes ("FRAME\n", then the Y, Cb and Cr planes), so
 * a commit is one write of the buffer as it is. The compositor handles them
 * exactly like KMS buffers, so the file shows what a screen would have
 * shown, buffer reuse included.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>

#include "clock.h"
#include "colour.h"
#include "hub_error.h"
#include "y4m.h"

/* "FRAME\n" ends here in a buffer, so the planes start aligned */
#define Y4M_PLANES_AT		64
#define Y4M_FRAME_TAG		"FRAME\n"
#define Y4M_TAG_LEN		6

struct hub_y4m {
	int fd;			/* -1 while a FIFO has no reader */
	int tfd;		/* timerfd: the refresh period after a write */
	uint64_t written_ns;	/* CLOCK_MONOTONIC of the last frame's write */
	bool reset;		/* the compositor gave up: restart at check() */
	bool fifo;
	dev_t dev;		/* the FIFO's, as at start: reopened only if it is the same */
	ino_t ino;
	char *path;
	char header[160];
	size_t header_len;
	unsigned int width, height;
	uint8_t *buf[OUTPUT_BUFFERS];	/* the frame from Y4M_PLANES_AT - tag */
	size_t frame_len;		/* tag + planes */
};

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void y4m_free(struct hub_y4m *y)
{
	unsigned int i;

	if (y->fd >= 0)
		close(y->fd);
	if (y->tfd >= 0)
		close(y->tfd);
	for (i = 0; i < OUTPUT_BUFFERS; i++)
		free(y->buf[i]);
	free(y->path);
	free(y);
}

/*
 * Open the output and write the header. A FIFO is opened without waiting
 * for a reader (ENXIO when there is none), then written blocking: a slow
 * reader slows the hub, as a display would.
 */
static int y4m_start(struct hub_y4m *y)
{
	struct stat st;
	int fd, flags;

	fd = open(y->path, O_WRONLY | O_CLOEXEC |
		  (y->fifo ? O_NONBLOCK | O_NOFOLLOW : O_CREAT | O_TRUNC), 0600);
	if (fd < 0)
		return -errno;
	/* a FIFO reopened for a new reader must be the one given, not what replaced it */
	if (y->fifo && (fstat(fd, &st) || !S_ISFIFO(st.st_mode) ||
			(y->ino && (st.st_dev != y->dev || st.st_ino != y->ino)))) {
		close(fd);
		return -ESTALE;
	}
	if (y->fifo) {
		y->dev = st.st_dev;
		y->ino = st.st_ino;
	}
	flags = fcntl(fd, F_GETFL);
	if (y->fifo && (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)) {
		int e = errno;

		close(fd);
		return -e;
	}
	if (write_all(fd, (const uint8_t *)y->header, y->header_len)) {
		int e = errno;

		close(fd);
		return -e;
	}
	y->fd = fd;
	return 0;
}

struct hub_y4m *hub_y4m_open(const char *path, unsigned int width,
			     unsigned int height, struct hub_output_mode *mode,
			     GError **error)
{
	struct hub_y4m *y;
	struct stat st;
	unsigned int i;
	uint8_t black[3];
	size_t ysz;
	int n, ret;

	if (!width || !height || (width | height) & 1 || width > 16384 ||
	    height > 16384) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_CONFIG,
			    "y4m: size %ux%u must be even and non-zero", width, height);
		return NULL;
	}
	y = calloc(1, sizeof(*y));
	if (!y) {
		g_set_error_literal(error, HUB_ERROR, HUB_ERROR_FAILED, "y4m: out of memory");
		return NULL;
	}
	y->width = width;
	y->height = height;
	ysz = (size_t)width * height;
	y->frame_len = Y4M_TAG_LEN + ysz * 3 / 2;
	y->path = strdup(path);
	y->fd = -1;
	y->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (y->tfd < 0) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED, "y4m: timerfd: %s",
			    strerror(errno));
		y4m_free(y);
		return NULL;
	}
	/* the usual convention for untagged video: BT.709 above SD, else BT.601 */
	mode->cs.matrix = height > 576 ? HUB_MATRIX_BT709 : HUB_MATRIX_BT601;
	mode->cs.full_range = false;
	hub_colour_ycc(&mode->cs, 0x000000, black);
	for (i = 0; i < OUTPUT_BUFFERS; i++) {
		uint8_t *b = malloc(Y4M_PLANES_AT + ysz * 3 / 2);

		y->buf[i] = b;
		if (!b)
			break;
		memcpy(b + Y4M_PLANES_AT - Y4M_TAG_LEN, Y4M_FRAME_TAG, Y4M_TAG_LEN);
		mode->buf[i] = (struct hub_output_buffer){
			.map = b + Y4M_PLANES_AT,
			.stride = width,
			.cb = b + Y4M_PLANES_AT + ysz,
			.cr = b + Y4M_PLANES_AT + ysz + ysz / 4,
			.cstride = width / 2,
		};
		memset(mode->buf[i].map, black[0], ysz);
		memset(mode->buf[i].cb, black[1], ysz / 4);
		memset(mode->buf[i].cr, black[2], ysz / 4);
	}
	if (i < OUTPUT_BUFFERS || !y->path) {
		g_set_error_literal(error, HUB_ERROR, HUB_ERROR_FAILED, "y4m: out of memory");
		y4m_free(y);
		return NULL;
	}
	mode->width = width;
	mode->height = height;
	n = snprintf(y->header, sizeof(y->header),
		     "YUV4MPEG2 W%u H%u F30:1 Ip A1:1 C420mpeg2 XYSCSS=420MPEG2 "
		     "XCOLORRANGE=LIMITED XCOLORMATRIX=%s\n", width, height,
		     mode->cs.matrix == HUB_MATRIX_BT709 ? "BT709" : "BT601");
	y->header_len = (size_t)n;
	y->fifo = stat(path, &st) == 0 && S_ISFIFO(st.st_mode);
	ret = y4m_start(y);
	if (ret == -ENXIO && y->fifo) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED,
			    "y4m: %s is a FIFO with no reader: start its reader first", path);
		y4m_free(y);
		return NULL;
	}
	if (ret) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED, "y4m: %s: %s", path,
			    strerror(-ret));
		y4m_free(y);
		return NULL;
	}
	return y;
}

static int y4m_commit(void *out, unsigned int index)
{
	struct hub_y4m *y = out;

	int ret;

	if (y->fd < 0)
		return -EPIPE;
	ret = write_all(y->fd, y->buf[index] + Y4M_PLANES_AT - Y4M_TAG_LEN, y->frame_len);
	if (ret == -EPIPE && y->fifo) {		/* its reader went: check() waits for the next */
		close(y->fd);
		y->fd = -1;
	}
	if (ret < 0)
		return ret;
	y->written_ns = clk_mono_ns();
	/* the refresh: the next frame no sooner than a period from now */
	if (timerfd_settime(y->tfd, 0, &(struct itimerspec){
				.it_value.tv_nsec = 1000000000 / Y4M_REFRESH_HZ }, NULL))
		return 1;	/* written: complete now, unpaced */
	return 0;
}

static int y4m_dispatch(void *out, uint64_t *done_ns)
{
	struct hub_y4m *y = out;
	uint64_t n;

	if (read(y->tfd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return errno == EAGAIN ? 0 : -errno;
	*done_ns = y->written_ns;
	return 1;
}

/*
 * A FIFO's reader going away is seen here too (the write end polls
 * POLLERR), not only at the next commit, which may be a while; a new
 * reader brings the output back.
 */
static enum hub_output_state y4m_check(void *out, struct hub_output_mode *mode)
{
	struct hub_y4m *y = out;
	struct pollfd pfd;

	(void)mode;
	if (y->reset && y->fd >= 0) {
		y->reset = false;
		return OUTPUT_RESTARTED;
	}
	if (!y->fifo)
		return OUTPUT_UNCHANGED;
	if (y->fd < 0) {
		if (y4m_start(y))
			return OUTPUT_UNCHANGED;
		y->reset = false;
		return OUTPUT_RESTARTED;
	}
	pfd = (struct pollfd){ .fd = y->fd, .events = POLLOUT };
	if (poll(&pfd, 1, 0) == 1 && pfd.revents & POLLERR) {
		close(y->fd);
		y->fd = -1;
		return OUTPUT_LOST;
	}
	return OUTPUT_UNCHANGED;
}

static void y4m_reset(void *out)
{
	((struct hub_y4m *)out)->reset = true;
}

static int y4m_fd(void *out)
{
	return ((struct hub_y4m *)out)->tfd;
}

static void y4m_close(void *out)
{
	y4m_free(out);
}

const struct hub_output_ops y4m_ops = {
	.format = OUTPUT_I420,
	.commit = y4m_commit,
	.dispatch = y4m_dispatch,
	.check = y4m_check,
	.reset = y4m_reset,
	.fd = y4m_fd, .close = y4m_close,
};
