/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veracam - the read-only unique id control (V4L2_CID_VERACAM_UNIQUE_ID),
 * as the sensor (vc1.c) and the receiver's image node (veracam-core.c)
 * both create it: 32 lowercase hex digits.
 */
#ifndef _VERACAM_UID_CTRL_H
#define _VERACAM_UID_CTRL_H

#include <media/v4l2-ctrls.h>

#include <linux/veracam.h>

static const struct v4l2_ctrl_config veracam_unique_id_ctrl = {
	.id = V4L2_CID_VERACAM_UNIQUE_ID,
	.name = "Unique ID",
	.type = V4L2_CTRL_TYPE_STRING,
	.flags = V4L2_CTRL_FLAG_READ_ONLY,
	.min = VERACAM_UNIQUE_ID_HEX_LEN,
	.max = VERACAM_UNIQUE_ID_HEX_LEN,
	.step = 1,
};

#endif /* _VERACAM_UID_CTRL_H */
