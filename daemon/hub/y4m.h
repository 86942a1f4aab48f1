/* SPDX-License-Identifier: GPL-2.0 */
/*
 * y4m - headless output: every committed buffer becomes one frame of a
 * YUV4MPEG2 file, exactly the pixels KMS would have scanned out.
 *
 * Format: "YUV4MPEG2 W<w> H<h> F30:1 Ip A1:1 C420mpeg2 XYSCSS=420MPEG2
 * XCOLORRANGE=LIMITED XCOLORMATRIX=BT601|BT709": 8-bit I420, limited range
 * (Y 16..235), chroma sited as H.264 sites it by default. The matrix is
 * what players assume for untagged video: BT.709 above 576 lines, BT.601
 * up to it (XCOLORMATRIX, veracam's own tag, says which; readers that do
 * not know it ignore it). That is what a camera's H.264 decodes to at
 * that size, so its picture is copied (or scaled) into the frame as it
 * is; the compositor converts one of another colorimetry. Y4M carries no
 * timestamps; F30:1 is nominal, one frame is one commit.
 *
 * Like a display's refresh, a commit completes (dispatch() through the
 * fd, a timerfd) one refresh period (Y4M_REFRESH_HZ) after it was
 * written, so a busy grid writes at most that many frames a second. The
 * completion time reported is the time of the write: that is the glass.
 */
#ifndef VERACAM_HUB_Y4M_H
#define VERACAM_HUB_Y4M_H

#include <stddef.h>

#include "hub_error.h"
#include "output.h"

#define Y4M_REFRESH_HZ	60

struct hub_y4m;

extern const struct hub_output_ops y4m_ops;

/*
 * @width and @height must be even (else HUB_ERROR_CONFIG). The file is created 0600. A FIFO must
 * have a reader already (else an error says so, rather than the open
 * hanging); when its reader goes away the output is lost (check()), and
 * is back, with a new header, as soon as a new reader opens the FIFO.
 */
struct hub_y4m *hub_y4m_open(const char *path, unsigned int width,
			     unsigned int height, struct hub_output_mode *mode,
			     GError **error);

#endif
