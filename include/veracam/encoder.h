/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam - the H.264 encoder a camera is told to use, one grammar for
 * everything that reads it: the service config (encoder=, --encoder) parses
 * a name into enum vc_encoder, the camera role passes the enum on, and the
 * camera library (cam_encode_config.encoder, cam_encoder_choose) maps it to
 * a GStreamer element; the test tools parse their option with
 * vc_encoder_parse(). Header only and plain C: it brings neither GLib nor
 * GStreamer to the service frame or the core.
 */
#ifndef VERACAM_ENCODER_H
#define VERACAM_ENCODER_H

#include <stdbool.h>
#include <string.h>

enum vc_encoder {
	VC_ENCODER_AUTO,	/* a V4L2 M2M H.264 encoder when there is one, else x264 */
	VC_ENCODER_X264,	/* x264enc (software) */
	VC_ENCODER_V4L2,	/* v4l2h264enc (the SoC's M2M encoder) */
};

/* What a user types, for help text: the names in their order. */
#define VC_ENCODER_GRAMMAR	"auto|x264|v4l2"

/* The names, indexed by enum vc_encoder, then NULL (the config's table form). */
static const char *const vc_encoder_names[] = { "auto", "x264", "v4l2", NULL };

static inline const char *vc_encoder_name(enum vc_encoder e)
{
	return vc_encoder_names[e];
}

/* @s is exactly one of the names (case matters): true with *out set; else false. */
static inline bool vc_encoder_parse(const char *s, enum vc_encoder *out)
{
	for (unsigned int i = 0; s && vc_encoder_names[i]; i++) {
		if (!strcmp(s, vc_encoder_names[i])) {
			*out = (enum vc_encoder)i;
			return true;
		}
	}
	return false;
}

#endif /* VERACAM_ENCODER_H */
