/* SPDX-License-Identifier: GPL-2.0 */
/*
 * HUB_ERROR - how the hub library (decode, display, kms, y4m, decproto)
 * explains a failure to its caller: the function returns NULL, -1 (or
 * -errno) or false as its header says, and sets its last parameter, a
 * GError ** that may be NULL, to a GError in the HUB_ERROR domain. The
 * message is one line that names what failed and why, fit for the log as
 * it is ("drm: /dev/dri/card0: another process is DRM master"); the code
 * says which kind of failure it was, for a caller that acts on it.
 */
#ifndef VERACAM_HUB_ERROR_H
#define VERACAM_HUB_ERROR_H

#include <glib.h>

#define HUB_ERROR (hub_error_quark())
GQuark hub_error_quark(void);

enum hub_error_code {
	HUB_ERROR_FAILED,	/* the system said no: a device, a file, a call, memory */
	HUB_ERROR_CONFIG,	/* asked for what the hub cannot do: display spec, sizes, cameras */
	HUB_ERROR_PROTOCOL,	/* a decoder child's message broke decproto.h */
	HUB_ERROR_DECODER,	/* a decoder child did not start, or said why it could not */
};

#endif
