// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the hub unit tests.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "display.h"
#include "hubtest.h"

int hubtest_failures;

static uint8_t clip(int v)
{
	return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

void solid_picture(struct hub_picture *p, unsigned int w, unsigned int h,
		   uint32_t rgb, uint64_t capture_ns)
{
	int r = rgb >> 16 & 0xff, g = rgb >> 8 & 0xff, b = rgb & 0xff;
	size_t cw = (w + 1) / 2, ch = (h + 1) / 2;
	uint8_t *y = malloc((size_t)w * h), *u = malloc(cw * ch), *v = malloc(cw * ch);

	if (!y || !u || !v)
		abort();
	/* BT.601 limited range */
	memset(y, clip(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16), (size_t)w * h);
	memset(u, clip(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128), cw * ch);
	memset(v, clip(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128), cw * ch);
	memset(p, 0, sizeof(*p));
	p->format = HUB_PIX_I420;
	p->matrix = HUB_MATRIX_BT601;
	p->width = w;
	p->height = h;
	p->plane[0] = y;
	p->plane[1] = u;
	p->plane[2] = v;
	p->stride[0] = w;
	p->stride[1] = cw;
	p->stride[2] = cw;
	p->capture_ns = capture_ns;
	p->release = free_picture;
}

void free_picture(struct hub_picture *p)
{
	free((void *)p->plane[0]);
	free((void *)p->plane[1]);
	free((void *)p->plane[2]);
	memset(p, 0, sizeof(*p));
}

void release_picture(struct hub_picture *p)
{
	if (p->release)
		p->release(p);
	memset(p, 0, sizeof(*p));
}

void settle(struct display *d)
{
	struct pollfd pfd = { .fd = display_fd(d), .events = POLLIN };
	struct display_stats st;

	/* a completion may commit what waited for it: until none is in flight */
	for (;;) {
		display_get_stats(d, &st);
		if (st.completed >= st.commits || pfd.fd < 0 ||
		    poll(&pfd, 1, 5000) != 1)
			return;
		display_dispatch(d);
	}
}

bool y4m_load(const char *path, struct y4m_file *f)
{
	FILE *fp = fopen(path, "rb");
	char line[256];
	size_t fsize, cap = 0;

	memset(f, 0, sizeof(*f));
	if (!fp)
		return false;
	if (!fgets(line, sizeof(line), fp) ||
	    sscanf(line, "YUV4MPEG2 W%u H%u", &f->width, &f->height) != 2 ||
	    !strstr(line, " C420jpeg") || !f->width || !f->height) {
		fclose(fp);
		return false;
	}
	fsize = (size_t)f->width * f->height * 3 / 2;
	while (fgets(line, sizeof(line), fp)) {
		if (strcmp(line, "FRAME\n"))
			goto bad;
		if (f->frames == cap) {
			uint8_t *n;

			cap = cap ? cap * 2 : 8;
			n = realloc(f->data, cap * fsize);
			if (!n)
				goto bad;
			f->data = n;
		}
		if (fread(f->data + f->frames * fsize, 1, fsize, fp) != fsize)
			goto bad;
		f->frames++;
	}
	fclose(fp);
	return true;
bad:
	fclose(fp);
	y4m_unload(f);
	return false;
}

void y4m_unload(struct y4m_file *f)
{
	free(f->data);
	memset(f, 0, sizeof(*f));
}

uint32_t y4m_rgb(const struct y4m_file *f, unsigned int n, unsigned int x,
		 unsigned int y)
{
	size_t ysz = (size_t)f->width * f->height;
	const uint8_t *base = f->data + n * ysz * 3 / 2;
	size_t c = (size_t)(y / 2) * (f->width / 2) + x / 2;
	int yy = base[(size_t)y * f->width + x];
	int u = base[ysz + c] - 128, v = base[ysz + ysz / 4 + c] - 128;

	return (uint32_t)clip(yy + ((359 * v + 128) >> 8)) << 16 |
	       (uint32_t)clip(yy - ((88 * u + 183 * v + 128) >> 8)) << 8 |
	       clip(yy + ((454 * u + 128) >> 8));
}

bool colour_near(uint32_t a, uint32_t b, int tol)
{
	int i;

	for (i = 0; i < 24; i += 8)
		if (abs((int)(a >> i & 0xff) - (int)(b >> i & 0xff)) > tol)
			return false;
	return true;
}

void test_path(char *buf, size_t len, const char *name)
{
	const char *dir = getenv("TMPDIR");

	snprintf(buf, len, "%s/veracam-hub-%d-%s", dir ? dir : "/tmp",
		 (int)getpid(), name);
}

void test_cleanup(const char *path)
{
	if (!getenv("HUBTEST_KEEP"))
		unlink(path);
}
