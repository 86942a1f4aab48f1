// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers of the hub unit tests.
 */
#include <math.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "display.h"
#include "hubtest.h"

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

void settle(struct hub_display *d)
{
	struct pollfd pfd = { .fd = hub_display_fd(d), .events = POLLIN };
	struct hub_display_stats st;

	/* a completion may commit what waited for it: until none is in flight */
	for (;;) {
		hub_display_get_stats(d, &st);
		if (st.completed >= st.commits || pfd.fd < 0 ||
		    poll(&pfd, 1, 5000) != 1)
			return;
		hub_display_dispatch(d);
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
	    !strstr(line, " C420") || !f->width || !f->height) {
		fclose(fp);
		return false;
	}
	/* old files: C420jpeg was full range; now the range is always said */
	f->full_range = strstr(line, " XCOLORRANGE=FULL") ||
			(strstr(line, " C420jpeg") && !strstr(line, " XCOLORRANGE="));
	f->bt709 = strstr(line, " XCOLORMATRIX=BT709");
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

uint8_t y4m_sample(const struct y4m_file *f, unsigned int n, unsigned int k,
		   unsigned int x, unsigned int y)
{
	size_t ysz = (size_t)f->width * f->height;
	const uint8_t *base = f->data + n * ysz * 3 / 2;

	if (!k)
		return base[(size_t)y * f->width + x];
	return base[ysz + (k == 2 ? ysz / 4 : 0) + (size_t)y * (f->width / 2) + x];
}

/* Written apart from daemon/hub/colour.c, so a mistake there shows. */
uint32_t y4m_rgb(const struct y4m_file *f, unsigned int n, unsigned int x,
		 unsigned int y)
{
	double kr = f->bt709 ? 0.2126 : 0.299, kb = f->bt709 ? 0.0722 : 0.114;
	double ys = f->full_range ? 255 : 219, cs = f->full_range ? 255 : 224;
	double l = (y4m_sample(f, n, 0, x, y) - (f->full_range ? 0 : 16)) / ys;
	double pb = (y4m_sample(f, n, 1, x / 2, y / 2) - 128) / cs;
	double pr = (y4m_sample(f, n, 2, x / 2, y / 2) - 128) / cs;
	double r = l + 2 * (1 - kr) * pr, b = l + 2 * (1 - kb) * pb;
	double g = (l - kr * r - kb * b) / (1 - kr - kb);

	return (uint32_t)clip((int)lround(r * 255)) << 16 |
	       (uint32_t)clip((int)lround(g * 255)) << 8 | clip((int)lround(b * 255));
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
