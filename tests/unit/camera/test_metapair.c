// SPDX-License-Identifier: GPL-2.0-only
/* Pairing metadata records with video frames, from synthetic buffers. */
#include <string.h>

#include "camera.h"

static const uint8_t cam_a[VERACAM_UNIQUE_ID_LEN] = { 0xca, 0x11, 0x00, 0x01, [15] = 1 };
static const uint8_t cam_b[VERACAM_UNIQUE_ID_LEN] = { 0xca, 0x11, 0x00, 0x02, [15] = 2 };

static uint64_t ts_of(uint32_t seq)
{
	return 1000000000ull + seq * 33333333ull;
}

static struct veracam_meta record(uint32_t seq, const uint8_t *id)
{
	struct veracam_meta m = {
		.magic = VERACAM_META_MAGIC,
		.version = VERACAM_META_VERSION,
		.size = sizeof(m),
		.sequence = seq,
		.soe_ns = ts_of(seq),
		.eof_ns = ts_of(seq) + 20000000,
		.exposure = 1000 + seq,
	};

	memcpy(m.unique_id, id, VERACAM_UNIQUE_ID_LEN);
	return m;
}

static void push(struct cam_metapair *mp, uint32_t seq)
{
	struct veracam_meta m = record(seq, cam_a);

	cam_metapair_push(mp, &m, sizeof(m));
}

static void test_in_order(void)
{
	struct cam_metapair mp;
	struct veracam_meta out;

	cam_metapair_init(&mp, cam_a);
	for (uint32_t s = 0; s < 20; s++) {
		push(&mp, s);
		/* the video buffer's timestamp only has microseconds */
		g_assert_cmpint(cam_metapair_take(&mp, s, ts_of(s) / 1000 * 1000, &out), ==,
				CAM_PAIR_FOUND);
		g_assert_cmpuint(out.soe_ns, ==, ts_of(s));
		g_assert_cmpuint(out.sequence, ==, s);
		g_assert_cmpuint(out.exposure, ==, 1000 + s);
	}
	g_assert_cmpuint(mp.paired, ==, 20);
	g_assert_cmpuint(mp.missing + mp.meta_lost + mp.invalid + mp.mismatched, ==, 0);
}

/* The record is dequeued after its frame: wait, then pair. */
static void test_record_late(void)
{
	struct cam_metapair mp;
	struct veracam_meta out;

	cam_metapair_init(&mp, cam_a);
	g_assert_cmpint(cam_metapair_take(&mp, 0, ts_of(0), &out), ==, CAM_PAIR_WAIT);
	push(&mp, 0);
	g_assert_cmpint(cam_metapair_take(&mp, 0, ts_of(0), &out), ==, CAM_PAIR_FOUND);
	/* an old record alone does not satisfy the next frame: still waiting */
	g_assert_cmpint(cam_metapair_take(&mp, 1, ts_of(1), &out), ==, CAM_PAIR_WAIT);
	cam_metapair_give_up(&mp);
	g_assert_cmpuint(mp.missing, ==, 1);
}

/* Records run ahead of frames (video frames lost): skipped records are dropped. */
static void test_video_lost(void)
{
	struct cam_metapair mp;
	struct veracam_meta out;

	cam_metapair_init(&mp, cam_a);
	for (uint32_t s = 0; s < 5; s++)
		push(&mp, s);
	g_assert_cmpint(cam_metapair_take(&mp, 3, ts_of(3), &out), ==, CAM_PAIR_FOUND);
	g_assert_cmpuint(out.sequence, ==, 3);
	g_assert_cmpint(cam_metapair_take(&mp, 4, ts_of(4), &out), ==, CAM_PAIR_FOUND);
	g_assert_cmpuint(mp.n, ==, 0);
}

/* A record that never came: the frame gets none, the gap is counted. */
static void test_record_lost(void)
{
	struct cam_metapair mp;
	struct veracam_meta out;

	cam_metapair_init(&mp, cam_a);
	push(&mp, 0);
	g_assert_cmpint(cam_metapair_take(&mp, 0, ts_of(0), &out), ==, CAM_PAIR_FOUND);
	push(&mp, 3);	/* 1 and 2 dropped by the driver */
	g_assert_cmpuint(mp.meta_lost, ==, 2);
	g_assert_cmpint(cam_metapair_take(&mp, 1, ts_of(1), &out), ==, CAM_PAIR_MISSING);
	g_assert_cmpint(cam_metapair_take(&mp, 2, ts_of(2), &out), ==, CAM_PAIR_MISSING);
	g_assert_cmpint(cam_metapair_take(&mp, 3, ts_of(3), &out), ==, CAM_PAIR_FOUND);
	g_assert_cmpuint(mp.missing, ==, 2);
}

/* Records that are not veracam records of this stream are never attached. */
static void test_invalid(void)
{
	struct cam_metapair mp;
	struct veracam_meta m, out;

	cam_metapair_init(&mp, cam_a);
	m = record(0, cam_a);
	cam_metapair_push(&mp, &m, sizeof(m) - 1);		/* short */
	m.magic ^= 1;
	cam_metapair_push(&mp, &m, sizeof(m));			/* bad magic */
	m = record(0, cam_a);
	m.version = 2;
	cam_metapair_push(&mp, &m, sizeof(m));			/* other version */
	m = record(0, cam_a);
	m.size = sizeof(m) + 8;
	cam_metapair_push(&mp, &m, sizeof(m));			/* other layout */
	g_assert_cmpuint(mp.invalid, ==, 4);
	g_assert_cmpint(cam_metapair_take(&mp, 0, ts_of(0), &out), ==, CAM_PAIR_WAIT);

	push(&mp, 5);
	push(&mp, 5);						/* repeated */
	push(&mp, 4);						/* backwards */
	g_assert_cmpuint(mp.invalid, ==, 6);
	g_assert_cmpint(cam_metapair_take(&mp, 5, ts_of(5), &out), ==, CAM_PAIR_FOUND);
}

/* Same sequence but another timestamp or another camera: refused, counted. */
static void test_mismatch(void)
{
	struct cam_metapair mp;
	struct veracam_meta m, out;

	cam_metapair_init(&mp, cam_a);
	m = record(0, cam_b);
	cam_metapair_push(&mp, &m, sizeof(m));
	g_assert_cmpint(cam_metapair_take(&mp, 0, ts_of(0), &out), ==, CAM_PAIR_MISSING);
	m = record(1, cam_a);
	m.soe_ns += 1000;
	cam_metapair_push(&mp, &m, sizeof(m));
	g_assert_cmpint(cam_metapair_take(&mp, 1, ts_of(1), &out), ==, CAM_PAIR_MISSING);
	g_assert_cmpuint(mp.mismatched, ==, 2);
	g_assert_cmpuint(mp.paired, ==, 0);
}

/* Records with no frame to take them are bounded. */
static void test_overflow(void)
{
	struct cam_metapair mp;
	struct veracam_meta out;

	cam_metapair_init(&mp, cam_a);
	for (uint32_t s = 0; s < CAM_METAPAIR_DEPTH + 3; s++)
		push(&mp, s);
	g_assert_cmpuint(mp.n, ==, CAM_METAPAIR_DEPTH);
	g_assert_cmpuint(mp.overflow, ==, 3);
	g_assert_cmpint(cam_metapair_take(&mp, 0, ts_of(0), &out), ==, CAM_PAIR_MISSING);
	g_assert_cmpint(cam_metapair_take(&mp, 3, ts_of(3), &out), ==, CAM_PAIR_FOUND);
}

/* The 32-bit sequence wraps without a false gap. */
static void test_wrap(void)
{
	struct cam_metapair mp;
	struct veracam_meta out;

	cam_metapair_init(&mp, cam_a);
	push(&mp, UINT32_MAX);
	push(&mp, 0);
	g_assert_cmpuint(mp.meta_lost, ==, 0);
	g_assert_cmpint(cam_metapair_take(&mp, UINT32_MAX, ts_of(UINT32_MAX), &out), ==,
			CAM_PAIR_FOUND);
	g_assert_cmpint(cam_metapair_take(&mp, 0, ts_of(0), &out), ==, CAM_PAIR_FOUND);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/camera/metapair/in-order", test_in_order);
	g_test_add_func("/camera/metapair/record-late", test_record_late);
	g_test_add_func("/camera/metapair/video-lost", test_video_lost);
	g_test_add_func("/camera/metapair/record-lost", test_record_lost);
	g_test_add_func("/camera/metapair/invalid", test_invalid);
	g_test_add_func("/camera/metapair/mismatch", test_mismatch);
	g_test_add_func("/camera/metapair/overflow", test_overflow);
	g_test_add_func("/camera/metapair/wrap", test_wrap);
	return g_test_run();
}
