/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The old minimal TAP harness: each RUN() is one TAP test point; CHECK()
 * records a failure and carries on; the plan comes last. Exit status 1
 * when any test point failed.
 *
 * The core's tests are GLib g_test programs now (fixture.h); the one user
 * left is tests/unit/hub/test_camfetch.c, converted with the rest of
 * tests/unit/hub. Delete this file with that conversion.
 */
#ifndef VC_TEST_HARNESS_H
#define VC_TEST_HARNESS_H

#include <stdio.h>
#include <stdlib.h>

static int harness_failed_points, harness_points, harness_current_failed;

#define CHECK(cond) do {							\
	if (!(cond)) {								\
		printf("# %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);	\
		harness_current_failed = 1;					\
	}									\
} while (0)

/* Compare two enum vc_reject values, printing both names on mismatch. */
#define CHECK_REJ(got, want) do {						\
	enum vc_reject g_ = (got), w_ = (want);					\
	if (g_ != w_) {								\
		printf("# %s:%d: got %s, want %s\n", __FILE__, __LINE__,	\
		       vc_reject_name(g_), vc_reject_name(w_));			\
		harness_current_failed = 1;					\
	}									\
} while (0)

/* Fatal inside a test: report and skip the rest of that test. */
#define REQUIRE(cond) do {							\
	if (!(cond)) {								\
		printf("# %s:%d: REQUIRE(%s) failed: %s\n", __FILE__, __LINE__,	\
		       #cond, vc_last_error());					\
		harness_current_failed = 1;					\
		return;								\
	}									\
} while (0)

#define RUN(fn) do {								\
	harness_current_failed = 0;						\
	fn();									\
	harness_points++;							\
	if (harness_current_failed)						\
		harness_failed_points++;					\
	printf("%s %d - %s\n", harness_current_failed ? "not ok" : "ok",	\
	       harness_points, #fn);						\
	fflush(stdout);								\
} while (0)

static inline int harness_done(void)
{
	printf("1..%d\n", harness_points);
	return harness_failed_points ? 1 : 0;
}

#endif /* VC_TEST_HARNESS_H */
