// SPDX-License-Identifier: GPL-2.0-only
/*
 * veracam - the bound camera sensor, as the receiver sees it
 *
 * A real receiver gets the sensor's pixels over the CSI-2 link; this one
 * produces them from the sensor's configuration, read through the
 * sensor's subdev pad operations (format, crop) and its controls
 * (exposure, gains, flips, test pattern, blanking, pixel rate). The
 * unique id is the sensor's read-only V4L2_CID_VERACAM_UNIQUE_ID control,
 * which the sensor driver read from the device's OTP registers.
 */

#include <linux/gcd.h>
#include <linux/math64.h>
#include <linux/string.h>

#include <asm/unaligned.h>

#include <media/v4l2-ctrls.h>

#include "veracam.h"

static struct v4l2_ctrl *veracam_find_ctrl(struct veracam *cam,
					   struct v4l2_subdev *sd, u32 id,
					   bool required)
{
	struct v4l2_ctrl *ctrl = v4l2_ctrl_find(sd->ctrl_handler, id);

	if (!ctrl && required)
		dev_err(cam->dev, "sensor %s has no control %s\n", sd->name,
			v4l2_ctrl_get_name(id) ?: "(unique id)");
	return ctrl;
}

static int veracam_read_unique_id(struct veracam *cam, struct v4l2_subdev *sd)
{
	struct v4l2_ctrl *ctrl;
	int ret = 0;

	ctrl = veracam_find_ctrl(cam, sd, V4L2_CID_VERACAM_UNIQUE_ID, true);
	if (!ctrl)
		return -EINVAL;

	v4l2_ctrl_lock(ctrl);
	if (strlen(ctrl->p_cur.p_char) != VERACAM_UNIQUE_ID_HEX_LEN ||
	    hex2bin(cam->unique_id, ctrl->p_cur.p_char, VERACAM_UNIQUE_ID_LEN))
		ret = -EINVAL;
	v4l2_ctrl_unlock(ctrl);
	if (ret) {
		dev_err(cam->dev, "sensor %s: malformed unique id\n", sd->name);
		return ret;
	}

	*bin2hex(cam->unique_id_hex, cam->unique_id,
		 VERACAM_UNIQUE_ID_LEN) = '\0';
	cam->tag = get_unaligned_be32(cam->unique_id);
	return 0;
}

/* From the notifier's bound(): take the sensor's identity and controls. */
int veracam_source_bind(struct veracam *cam, struct v4l2_subdev *sd)
{
	struct veracam_source src = { .sd = sd };
	int ret;

	if (!sd->ctrl_handler) {
		dev_err(cam->dev, "sensor %s has no controls\n", sd->name);
		return -EINVAL;
	}

	src.exposure = veracam_find_ctrl(cam, sd, V4L2_CID_EXPOSURE, true);
	src.vblank = veracam_find_ctrl(cam, sd, V4L2_CID_VBLANK, true);
	src.hblank = veracam_find_ctrl(cam, sd, V4L2_CID_HBLANK, true);
	src.pixel_rate = veracam_find_ctrl(cam, sd, V4L2_CID_PIXEL_RATE, true);
	if (!src.exposure || !src.vblank || !src.hblank || !src.pixel_rate)
		return -EINVAL;
	src.again = veracam_find_ctrl(cam, sd, V4L2_CID_ANALOGUE_GAIN, false);
	src.dgain = veracam_find_ctrl(cam, sd, V4L2_CID_DIGITAL_GAIN, false);
	src.hflip = veracam_find_ctrl(cam, sd, V4L2_CID_HFLIP, false);
	src.vflip = veracam_find_ctrl(cam, sd, V4L2_CID_VFLIP, false);
	src.pattern = veracam_find_ctrl(cam, sd, V4L2_CID_TEST_PATTERN, false);

	mutex_lock(&cam->src_lock);
	ret = veracam_read_unique_id(cam, sd);
	if (!ret)
		cam->src = src;
	mutex_unlock(&cam->src_lock);
	return ret;
}

void veracam_source_unbind(struct veracam *cam)
{
	mutex_lock(&cam->src_lock);
	memset(&cam->src, 0, sizeof(cam->src));
	mutex_unlock(&cam->src_lock);
}

static int __veracam_source_get_format(struct veracam *cam,
				       struct v4l2_mbus_framefmt *fmt,
				       struct v4l2_rect *crop)
{
	struct v4l2_subdev_format sf = { .which = V4L2_SUBDEV_FORMAT_ACTIVE };
	struct v4l2_subdev_selection sel = {
		.which = V4L2_SUBDEV_FORMAT_ACTIVE,
		.target = V4L2_SEL_TGT_CROP,
	};
	struct v4l2_subdev *sd = cam->src.sd;
	int ret;

	lockdep_assert_held(&cam->src_lock);
	if (!sd)
		return -ENODEV;

	ret = v4l2_subdev_call_state_active(sd, pad, get_fmt, &sf);
	if (ret)
		return ret;
	if (fmt)
		*fmt = sf.format;

	if (!crop)
		return 0;
	ret = v4l2_subdev_call_state_active(sd, pad, get_selection, &sel);
	if (ret == -ENOIOCTLCMD || ret == -EINVAL) {
		/* no crop: the whole output */
		sel.r.left = 0;
		sel.r.top = 0;
		sel.r.width = sf.format.width;
		sel.r.height = sf.format.height;
		ret = 0;
	}
	*crop = sel.r;
	return ret;
}

int veracam_source_get_format(struct veracam *cam,
			      struct v4l2_mbus_framefmt *fmt,
			      struct v4l2_rect *crop)
{
	int ret;

	mutex_lock(&cam->src_lock);
	ret = __veracam_source_get_format(cam, fmt, crop);
	mutex_unlock(&cam->src_lock);
	return ret;
}

static s32 veracam_ctrl_or(struct v4l2_ctrl *ctrl, s32 def)
{
	return ctrl ? v4l2_ctrl_g_ctrl(ctrl) : def;
}

/* frame period of @lines lines of @width pixels */
static u64 veracam_period_ns(struct veracam *cam, u32 width, u32 lines)
{
	u64 rate = v4l2_ctrl_g_ctrl_int64(cam->src.pixel_rate);
	u64 line = width + v4l2_ctrl_g_ctrl(cam->src.hblank);

	if (!rate)
		return NSEC_PER_SEC / 30;
	return div64_u64(line * lines * NSEC_PER_SEC, rate);
}

/* The time @lines lines take at the sensor's line length and pixel rate. */
u64 veracam_lines_ns(const struct veracam_regs *regs, u32 lines)
{
	if (!regs->pixel_rate)
		return 0;
	return div64_u64((u64)lines * regs->line_length * NSEC_PER_SEC,
			 regs->pixel_rate);
}

/* The sensor's configuration for the next frame. */
int veracam_source_read(struct veracam *cam, struct veracam_regs *regs)
{
	struct v4l2_mbus_framefmt fmt;
	int ret;

	mutex_lock(&cam->src_lock);
	ret = __veracam_source_get_format(cam, &fmt, NULL);
	if (ret)
		goto unlock;

	regs->exposure = v4l2_ctrl_g_ctrl(cam->src.exposure);
	regs->analogue_gain = veracam_ctrl_or(cam->src.again, 1);
	regs->digital_gain = veracam_ctrl_or(cam->src.dgain, 1);
	regs->exposure_def = max_t(s64, cam->src.exposure->default_value, 1);
	regs->analogue_gain_def = cam->src.again ?
		max_t(s64, cam->src.again->default_value, 1) : 1;
	regs->digital_gain_def = cam->src.dgain ?
		max_t(s64, cam->src.dgain->default_value, 1) : 1;
	regs->hflip = veracam_ctrl_or(cam->src.hflip, 0);
	regs->vflip = veracam_ctrl_or(cam->src.vflip, 0);
	regs->pattern = veracam_ctrl_or(cam->src.pattern,
					VERACAM_PATTERN_CAMERA_COLOUR);
	regs->frame_lines = fmt.height + v4l2_ctrl_g_ctrl(cam->src.vblank);
	regs->height = fmt.height;
	regs->line_length = fmt.width + v4l2_ctrl_g_ctrl(cam->src.hblank);
	regs->pixel_rate = v4l2_ctrl_g_ctrl_int64(cam->src.pixel_rate);
	regs->period_ns = veracam_period_ns(cam, fmt.width, regs->frame_lines);
unlock:
	mutex_unlock(&cam->src_lock);
	return ret;
}

int veracam_source_enum_frame_size(struct veracam *cam,
				   struct v4l2_subdev_frame_size_enum *fse)
{
	int ret = -ENODEV;

	mutex_lock(&cam->src_lock);
	if (cam->src.sd)
		ret = v4l2_subdev_call_state_active(cam->src.sd, pad,
						    enum_frame_size, fse);
	mutex_unlock(&cam->src_lock);
	return ret;
}

/* frame interval of @lines lines at the active format, reduced */
static void veracam_lines_to_interval(struct veracam *cam, u32 width,
				      u32 lines, struct v4l2_fract *interval)
{
	u64 num = (u64)(width + v4l2_ctrl_g_ctrl(cam->src.hblank)) * lines;
	u64 den = v4l2_ctrl_g_ctrl_int64(cam->src.pixel_rate);
	u64 div = gcd(num, den) ?: 1;

	interval->numerator = div64_u64(num, div);
	interval->denominator = div64_u64(den, div);
}

/*
 * The capture node's frame intervals: the frames of the shortest, default
 * and longest vertical blanking the sensor's VBLANK control allows.
 */
#define VERACAM_OFFERED_INTERVALS	3

static void veracam_offered_vblanks(struct veracam *cam, s64 *offered)
{
	struct v4l2_ctrl *vblank = cam->src.vblank;

	v4l2_ctrl_lock(vblank);
	offered[0] = vblank->minimum;
	offered[1] = vblank->default_value;
	offered[2] = vblank->maximum;
	v4l2_ctrl_unlock(vblank);
}

/*
 * Frame rate is set by the sensor's vertical blanking. The capture node
 * offers three intervals: the shortest, default and longest frame the
 * VBLANK control allows at the active format.
 */
int veracam_source_enum_frame_interval(struct veracam *cam,
				       unsigned int index,
				       struct v4l2_fract *interval)
{
	struct v4l2_mbus_framefmt fmt;
	s64 offered[VERACAM_OFFERED_INTERVALS];
	int ret;

	if (index >= VERACAM_OFFERED_INTERVALS)
		return -EINVAL;

	mutex_lock(&cam->src_lock);
	ret = __veracam_source_get_format(cam, &fmt, NULL);
	if (ret)
		goto unlock;

	veracam_offered_vblanks(cam, offered);
	veracam_lines_to_interval(cam, fmt.width, fmt.height + offered[index],
				  interval);
unlock:
	mutex_unlock(&cam->src_lock);
	return ret;
}

int veracam_source_g_frame_interval(struct veracam *cam,
				    struct v4l2_fract *interval)
{
	struct v4l2_mbus_framefmt fmt;
	int ret;

	mutex_lock(&cam->src_lock);
	ret = __veracam_source_get_format(cam, &fmt, NULL);
	if (!ret)
		veracam_lines_to_interval(cam, fmt.width, fmt.height +
					  v4l2_ctrl_g_ctrl(cam->src.vblank),
					  interval);
	mutex_unlock(&cam->src_lock);
	return ret;
}

/*
 * An interval is rounded to the nearest of those the capture node
 * enumerates (the VBLANK control's minimum, default and maximum at the
 * active format), so S_PARM never sets a rate ENUM_FRAMEINTERVALS does
 * not list; 0/0 selects the default. Other rates are set through the
 * sensor's VBLANK control, the MC-centric way.
 */
int veracam_source_s_frame_interval(struct veracam *cam,
				    struct v4l2_fract *interval)
{
	u64 num = interval->numerator, den = interval->denominator;
	struct v4l2_mbus_framefmt fmt;
	struct v4l2_ctrl *vblank;
	s64 offered[VERACAM_OFFERED_INTERVALS], blank, best;
	u64 rate, line;
	unsigned int i;
	int ret;

	mutex_lock(&cam->src_lock);
	ret = __veracam_source_get_format(cam, &fmt, NULL);
	if (ret)
		goto unlock;

	vblank = cam->src.vblank;
	veracam_offered_vblanks(cam, offered);
	best = offered[1];
	rate = v4l2_ctrl_g_ctrl_int64(cam->src.pixel_rate);
	line = fmt.width + v4l2_ctrl_g_ctrl(cam->src.hblank);
	if (num && den && rate) {
		/* the asked frame length in lines, less the active lines */
		blank = (s64)div64_u64(num * rate + den * line / 2,
				       den * line) - fmt.height;
		best = offered[0];
		for (i = 1; i < ARRAY_SIZE(offered); i++)
			if (abs(offered[i] - blank) < abs(best - blank))
				best = offered[i];
	}
	ret = v4l2_ctrl_s_ctrl(vblank, best);
	if (!ret)
		veracam_lines_to_interval(cam, fmt.width, fmt.height +
					  v4l2_ctrl_g_ctrl(vblank), interval);
unlock:
	mutex_unlock(&cam->src_lock);
	return ret;
}
