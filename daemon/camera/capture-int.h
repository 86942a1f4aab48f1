/* SPDX-License-Identifier: GPL-2.0-only */
/* capture-int.h - what capture.c shares with its two sources. */
#ifndef VERACAM_CAPTURE_INT_H
#define VERACAM_CAPTURE_INT_H

#include "camera.h"

struct cam_capture;

struct cam_capture_ops {
	/*
	 * Fill frame->buffer and, in frame->info, mono_ns, ts_source,
	 * sequence and the sensor fields.
	 */
	bool (*next)(struct cam_capture *cap, struct cam_frame *frame, GError **error);
	/* Choose the hand-over path (NULL: always copy); see cam_capture_use_dmabuf. */
	bool (*use_dmabuf)(struct cam_capture *cap, bool encoder_imports);
	/* Stop streaming (buffers handed out may still be alive). */
	void (*stop)(struct cam_capture *cap);
	/* Free the source's state: the last reference is gone. */
	void (*free)(struct cam_capture *cap);
};

struct cam_capture {
	gint refs;
	struct cam_capture_config cfg;
	char *name;
	struct cam_source src;
	struct cam_identity id;
	GstVideoInfo info;
	struct clk_map clock;
	struct cam_capture_stats stats;
	bool have_seq;
	uint32_t last_seq;
	const struct cam_capture_ops *ops;
	void *priv;
};

bool cam_pattern_open(struct cam_capture *cap, GError **error);
bool cam_v4l2_open(struct cam_capture *cap, GError **error);

/* Fill id->stable and id->camera_tag from the other fields. */
void cam_identity_finish(struct cam_identity *id);

struct cam_capture *cam_capture_ref(struct cam_capture *cap);
void cam_capture_unref(struct cam_capture *cap);

#endif /* VERACAM_CAPTURE_INT_H */
