/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kms - DRM/KMS scanout of the hub's buffers (see output.h).
 *
 * Opens @path (NULL: the first /dev/dri/cardN with a connected
 * connector), takes master, resolves property ids once, disables every
 * plane and CRTC, allocates OUTPUT_BUFFERS zeroed XRGB8888 dumb buffers of
 * the connector's preferred mode and fills @mode. Atomic modesetting with
 * TEST_ONLY checks; the legacy SetCrtc/PageFlip path when the driver has
 * no atomic support or @legacy is set.
 */
#ifndef VERACAM_HUB_KMS_H
#define VERACAM_HUB_KMS_H

#include <stdbool.h>
#include <stddef.h>

#include "hub_error.h"
#include "output.h"

struct hub_kms;

extern const struct hub_output_ops kms_ops;

/*
 * The DRM device @path, or the first of card0..7 that has a connected
 * connector (@path NULL): its mode and buffers in @mode. NULL and
 * HUB_ERROR_FAILED (no device, DRM master taken, no connector, no access)
 * on failure.
 */
struct hub_kms *hub_kms_open(const char *path, bool legacy, struct hub_output_mode *mode,
			     GError **error);

#endif
