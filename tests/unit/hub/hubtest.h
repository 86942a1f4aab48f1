/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the hub unit tests: checks, synthetic pictures, and a reader
 * for the Y4M files the headless display writes.
 */
#ifndef VERACAM_HUBTEST_H
#define VERACAM_HUBTEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "picture.h"

/*
 * The hub tests are GLib test programs (g_test, TAP with --tap); main()
 * calls g_test_set_nonfatal_assertions(), so a failed check fails its test
 * case and the case goes on. CHECK() is such a check with a message of its
 * own, for what no g_assert_cmp*() says as well: the first failure of a
 * case is its "not ok" line's reason, each one after it a TAP comment.
 * REQUIRE() is the same, then leaves the test function (nothing after it
 * can be checked).
 */
#define CHECK(cond, ...) do {						\
	if (!(cond))							\
		hubtest_fail(__FILE__, __LINE__, "CHECK", #cond,	\
			     __VA_ARGS__);				\
} while (0)

#define REQUIRE(cond, ...) do {						\
	if (!(cond)) {							\
		hubtest_fail(__FILE__, __LINE__, "REQUIRE", #cond,	\
			     __VA_ARGS__);				\
		return;							\
	}								\
} while (0)

G_GNUC_PRINTF(5, 6)
static inline void hubtest_fail(const char *file, int line, const char *what,
				const char *cond, const char *fmt, ...)
{
	g_autofree char *msg = NULL;
	va_list ap;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (g_test_failed())
		g_test_message("%s:%d: %s(%s) failed: %s", file, line, what, cond, msg);
	else
		g_test_fail_printf("%s:%d: %s(%s) failed: %s", file, line, what, cond, msg);
}

/*
 * A solid-colour I420 picture (limited-range BT.601), planes malloc'ed;
 * its release is free_picture() (hub_display_show() takes it over and clears
 * the caller's copy, so a free_picture() after it frees nothing).
 */
void solid_picture(struct hub_picture *p, unsigned int w, unsigned int h,
		   uint32_t rgb, uint64_t capture_ns);
void free_picture(struct hub_picture *p);
/* Done with a picture not handed to hub_display_show() (one cleared is fine). */
void release_picture(struct hub_picture *p);

struct y4m_file {
	unsigned int width, height;
	bool full_range;	/* XCOLORRANGE=FULL, or C420jpeg without it */
	bool bt709;		/* XCOLORMATRIX=BT709 */
	unsigned int frames;
	uint8_t *data;		/* frames * width * height * 3 / 2 */
};

struct hub_display;
/*
 * Let the output's refresh pass: completions are dispatched, and what
 * waited for them committed, until nothing is in flight. After it, the
 * next change is committed at once (one commit per refresh period).
 */
void settle(struct hub_display *d);

/*
 * Read a 4:2:0 file written by y4m.c, with its colorimetry from the
 * header; false on any format error.
 */
bool y4m_load(const char *path, struct y4m_file *f);
void y4m_unload(struct y4m_file *f);
/* Pixel (x, y) of frame n, back to 0xRRGGBB (the file's colorimetry). */
uint32_t y4m_rgb(const struct y4m_file *f, unsigned int n, unsigned int x,
		 unsigned int y);

/* Plane @k (0 Y, 1 Cb, 2 Cr) of frame n at its own (x, y). */
uint8_t y4m_sample(const struct y4m_file *f, unsigned int n, unsigned int k,
		   unsigned int x, unsigned int y);

/* Each of R, G, B within tol. */
bool colour_near(uint32_t a, uint32_t b, int tol);

/* A fresh path under $TMPDIR (or /tmp) for a test file. */
void test_path(char *buf, size_t len, const char *name);

/* Remove a test file, unless HUBTEST_KEEP is set (to look at it). */
void test_cleanup(const char *path);

#endif
