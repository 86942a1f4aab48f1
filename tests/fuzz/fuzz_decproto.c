// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the hub's parser of its decoder child's messages
 * (hub_decproto_parse_child, daemon/hub/decproto.c). Whatever it accepts is a
 * message of one known type whose encoding gives back the input, and a
 * picture's every plane lies inside its slot of the shared memory.
 */
#include <stdlib.h>
#include <string.h>

#include "decproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void plane_inside(uint32_t slot, uint32_t offset, uint32_t stride, uint64_t row_bytes,
			 uint64_t rows)
{
	uint64_t end = (uint64_t)offset + (uint64_t)stride * (rows - 1) + row_bytes;

	if (slot >= DECPROTO_SLOTS || stride < row_bytes || end > DECPROTO_SLOT_SIZE)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t again[DECPROTO_HDR + DECPROTO_PICTURE_LEN];
	struct hub_decproto_msg m;
	g_autoptr(GError) error = NULL;
	uint64_t cw, ch;

	if (hub_decproto_parse_child(data, size, &m, &error) < 0) {
		/* a refusal always says why */
		if (!g_error_matches(error, HUB_ERROR, HUB_ERROR_PROTOCOL) || !error->message[0])
			abort();
		return 0;
	}
	if (error)
		abort();	/* taken, yet an error set */
	switch (m.type) {
	case DECPROTO_HELLO:
	case DECPROTO_FAIL:
		if (size < DECPROTO_HDR)
			abort();
		return 0;
	case DECPROTO_PICTURE:
		if (hub_decproto_put_picture(again, &m.pic) != size || memcmp(again, data, size))
			abort();
		cw = (m.pic.width + 1) / 2;
		ch = (m.pic.height + 1) / 2;
		plane_inside(m.pic.slot, m.pic.offset[0], m.pic.stride[0], m.pic.width,
			     m.pic.height);
		if (m.pic.format == DECPROTO_NV12) {
			plane_inside(m.pic.slot, m.pic.offset[1], m.pic.stride[1], 2 * cw, ch);
		} else {
			plane_inside(m.pic.slot, m.pic.offset[1], m.pic.stride[1], cw, ch);
			plane_inside(m.pic.slot, m.pic.offset[2], m.pic.stride[2], cw, ch);
		}
		return 0;
	default:
		abort();	/* accepted, yet no type the hub knows */
	}
}
