// SPDX-License-Identifier: GPL-2.0
/*
 * veracamctl's QR codes: a pairing payload as text blocks for a terminal
 * and as a PNG for a screen or a sticker (libqrencode, libpng).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <png.h>
#include <qrencode.h>

#include "qr.h"
#include "service.h"

#define QUIET	4	/* modules of white border the QR specification asks for */

static QRcode *encode(const char *text)
{
	/* level M: readable with 15% of the modules damaged (a scuffed sticker) */
	return QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
}

static bool dark(const QRcode *q, int x, int y)
{
	if (x < 0 || y < 0 || x >= q->width || y >= q->width)
		return false;
	return q->data[y * q->width + x] & 1;
}

int qr_print(FILE *f, const char *text)
{
	QRcode *q = encode(text);
	int x, y;

	if (!q)
		return -1;
	/* two rows of modules per line of half blocks, light on dark terminals too */
	for (y = -QUIET; y < q->width + QUIET; y += 2) {
		for (x = -QUIET; x < q->width + QUIET; x++) {
			bool top = dark(q, x, y), bottom = dark(q, x, y + 1);

			fputs(top ? (bottom ? " " : "\u2584") : (bottom ? "\u2580" : "\u2588"), f);
		}
		fputc('\n', f);
	}
	QRcode_free(q);
	return 0;
}

int qr_png(const char *path, const char *text, int scale, GError **error)
{
	QRcode *q = encode(text);
	png_structp png = NULL;
	png_infop info = NULL;
	png_bytep row = NULL;
	char tmp[4200] = "";
	FILE *f = NULL;
	int size, x, y, fd = -1, ret = -1;

	if (!q) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM, "QR encoding: %s", strerror(errno));
		return -1;
	}
	size = (q->width + 2 * QUIET) * scale;
	/*
	 * A new file renamed over PATH: the directory may be a service's,
	 * writable by its user while this runs as root, and a symlink planted
	 * at PATH must be replaced, never written through.
	 */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp)) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM, "%s: path too long", path);
		goto out;
	}
	fd = mkstemp(tmp);
	if (fd < 0 || fchmod(fd, 0644) < 0 || !(f = fdopen(fd, "wb"))) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	row = malloc((size_t)size);
	if (!png || !info || !row) {
		g_set_error_literal(error, SVC_ERROR, SVC_ERROR_SYSTEM, "PNG: out of memory");
		goto out;
	}
	if (setjmp(png_jmpbuf(png))) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM, "%s: PNG write failed", path);
		goto out;
	}
	png_init_io(png, f);
	png_set_IHDR(png, info, (png_uint_32)size, (png_uint_32)size, 8, PNG_COLOR_TYPE_GRAY,
		     PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < size; y++) {
		for (x = 0; x < size; x++)
			row[x] = dark(q, x / scale - QUIET, y / scale - QUIET) ? 0 : 255;
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	ret = 0;
out:
	if (png)
		png_destroy_write_struct(&png, info ? &info : NULL);
	free(row);
	if (f && fclose(f) != 0 && ret == 0) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM, "%s: %s", path, strerror(errno));
		ret = -1;
	}
	if (fd >= 0)
		close(fd);
	if (ret == 0 && rename(tmp, path) < 0) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM, "%s: %s", path, strerror(errno));
		ret = -1;
	}
	if (ret < 0 && tmp[0])
		unlink(tmp);
	QRcode_free(q);
	return ret;
}
