// SPDX-License-Identifier: GPL-2.0-only
/*
 * veracam - the camera sensor subdev
 *
 * A 1920x1080 sensor with a digital crop and scaler, YUV 4:2:2 and RGB
 * 8-bit outputs over CSI-2, 15 to 60 frames per second set by the vertical
 * blanking. Its registers are simulated: the frame engine reads them for
 * every frame. Like on a real sensor they lose their contents when the
 * sensor is powered down, so control values are cached while it is off
 * and written at stream start.
 */

#include <linux/clk.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/gcd.h>
#include <linux/gpio/consumer.h>
#include <linux/math64.h>
#include <linux/pm_runtime.h>
#include <linux/property.h>

#include <media/v4l2-event.h>
#include <media/v4l2-fwnode.h>

#include "veracam.h"

static const u32 veracam_mbus_codes[] = {
	MEDIA_BUS_FMT_YUYV8_1X16,
	MEDIA_BUS_FMT_RGB888_1X24,
};

static const char * const veracam_supply_names[VERACAM_NUM_SUPPLIES] = {
	"vana",		/* analogue 2.8 V */
	"vdig",		/* digital core 1.8 V */
	"vddl",		/* digital I/O 1.2 V */
};

static const char * const veracam_pattern_menu[] = {
	[VERACAM_PATTERN_CAMERA_COLOUR] = "Camera Colour",
	[VERACAM_PATTERN_COLOUR_BARS] = "Colour Bars",
	[VERACAM_PATTERN_CHECKERBOARD] = "Checkerboard",
	[VERACAM_PATTERN_BLACK] = "Black",
};

#define VERACAM_PATTERN_MAX	(ARRAY_SIZE(veracam_pattern_menu) - 1)

/* frame intervals offered by enumeration: 60, 30 and 15 frames per second */
static const u32 veracam_frame_lines[] = {
	VERACAM_FRAME_LINES_MIN,
	VERACAM_FRAME_LINES_DEF,
	VERACAM_FRAME_LINES_MAX,
};

bool veracam_sensor_code_supported(u32 code)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(veracam_mbus_codes); i++)
		if (veracam_mbus_codes[i] == code)
			return true;
	return false;
}

static void veracam_sensor_fill_fmt(struct v4l2_mbus_framefmt *fmt, u32 code,
				    u32 width, u32 height)
{
	bool rgb;

	if (!veracam_sensor_code_supported(code))
		code = veracam_mbus_codes[0];
	rgb = code == MEDIA_BUS_FMT_RGB888_1X24;

	memset(fmt, 0, sizeof(*fmt));
	fmt->code = code;
	fmt->width = clamp(ALIGN(width, 2), VERACAM_MIN_WIDTH,
			   VERACAM_NATIVE_WIDTH);
	fmt->height = clamp(ALIGN(height, 2), VERACAM_MIN_HEIGHT,
			    VERACAM_NATIVE_HEIGHT);
	fmt->field = V4L2_FIELD_NONE;
	fmt->colorspace = V4L2_COLORSPACE_SRGB;
	fmt->xfer_func = V4L2_XFER_FUNC_SRGB;
	fmt->ycbcr_enc = rgb ? V4L2_YCBCR_ENC_DEFAULT : V4L2_YCBCR_ENC_601;
	fmt->quantization = rgb ? V4L2_QUANTIZATION_FULL_RANGE :
				  V4L2_QUANTIZATION_LIM_RANGE;
}

static const struct v4l2_rect veracam_native_rect = {
	.left = 0,
	.top = 0,
	.width = VERACAM_NATIVE_WIDTH,
	.height = VERACAM_NATIVE_HEIGHT,
};

/* ------------------------------------------------------------------ */
/* Controls                                                             */
/* ------------------------------------------------------------------ */

static void veracam_regs_reset(struct veracam_regs *regs)
{
	regs->exposure = VERACAM_EXPOSURE_DEF;
	regs->analogue_gain = VERACAM_AGAIN_MIN;
	regs->digital_gain = VERACAM_DGAIN_MIN;
	regs->frame_lines = VERACAM_FRAME_LINES_DEF;
	regs->pattern = VERACAM_PATTERN_CAMERA_COLOUR;
	regs->hflip = false;
	regs->vflip = false;
}

static int veracam_s_ctrl(struct v4l2_ctrl *ctrl)
{
	struct veracam_sensor *sensor =
		container_of(ctrl->handler, struct veracam_sensor, ctrls);
	const struct v4l2_mbus_framefmt *fmt = NULL;
	unsigned long flags;
	int ret;

	if (ctrl->id == V4L2_CID_VBLANK) {
		u32 exp_max;

		fmt = v4l2_subdev_get_pad_format(&sensor->sd,
						 sensor->sd.active_state, 0);
		u32 exp_def;

		exp_max = fmt->height + ctrl->val - VERACAM_EXPOSURE_MARGIN;
		exp_def = min(exp_max, VERACAM_EXPOSURE_DEF);

		ret = __v4l2_ctrl_modify_range(sensor->exposure,
					       VERACAM_EXPOSURE_MIN, exp_max, 1,
					       exp_def);
		if (ret)
			return ret;
	}

	/* Powered down: the value is cached and written at stream start. */
	if (pm_runtime_get_if_in_use(sensor->dev) <= 0)
		return 0;

	spin_lock_irqsave(&sensor->regs_lock, flags);
	switch (ctrl->id) {
	case V4L2_CID_EXPOSURE:
		sensor->regs.exposure = ctrl->val;
		break;
	case V4L2_CID_ANALOGUE_GAIN:
		sensor->regs.analogue_gain = ctrl->val;
		break;
	case V4L2_CID_DIGITAL_GAIN:
		sensor->regs.digital_gain = ctrl->val;
		break;
	case V4L2_CID_HFLIP:
		sensor->regs.hflip = ctrl->val;
		break;
	case V4L2_CID_VFLIP:
		sensor->regs.vflip = ctrl->val;
		break;
	case V4L2_CID_TEST_PATTERN:
		sensor->regs.pattern = ctrl->val;
		break;
	case V4L2_CID_VBLANK:
		sensor->regs.frame_lines = fmt->height + ctrl->val;
		break;
	default:
		/* read-only controls have no register */
		break;
	}
	spin_unlock_irqrestore(&sensor->regs_lock, flags);

	pm_runtime_put(sensor->dev);
	return 0;
}

static const struct v4l2_ctrl_ops veracam_ctrl_ops = {
	.s_ctrl = veracam_s_ctrl,
};

static const struct v4l2_ctrl_config veracam_unique_id_ctrl = {
	.id = V4L2_CID_VERACAM_UNIQUE_ID,
	.name = "Unique ID",
	.type = V4L2_CTRL_TYPE_STRING,
	.flags = V4L2_CTRL_FLAG_READ_ONLY,
	.min = VERACAM_UNIQUE_ID_HEX_LEN,
	.max = VERACAM_UNIQUE_ID_HEX_LEN,
	.step = 1,
};

static int veracam_sensor_init_controls(struct veracam_sensor *sensor,
					const char *unique_id_hex)
{
	struct v4l2_ctrl_handler *hdl = &sensor->ctrls;
	const struct v4l2_ctrl_ops *ops = &veracam_ctrl_ops;
	struct v4l2_fwnode_device_properties props;
	u32 hblank = VERACAM_LINE_LENGTH - VERACAM_DEF_WIDTH;
	int ret;

	ret = v4l2_fwnode_device_parse(sensor->dev, &props);
	if (ret)
		return ret;

	v4l2_ctrl_handler_init(hdl, 14);
	hdl->lock = &sensor->lock;

	sensor->exposure = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_EXPOSURE,
					     VERACAM_EXPOSURE_MIN,
					     VERACAM_FRAME_LINES_DEF -
					     VERACAM_EXPOSURE_MARGIN,
					     1, VERACAM_EXPOSURE_DEF);
	sensor->again = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_ANALOGUE_GAIN,
					  VERACAM_AGAIN_MIN, VERACAM_AGAIN_MAX,
					  1, VERACAM_AGAIN_MIN);
	sensor->dgain = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_DIGITAL_GAIN,
					  VERACAM_DGAIN_MIN, VERACAM_DGAIN_MAX,
					  1, VERACAM_DGAIN_MIN);
	sensor->hflip = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_HFLIP, 0, 1, 1, 0);
	sensor->vflip = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_VFLIP, 0, 1, 1, 0);
	sensor->pattern =
		v4l2_ctrl_new_std_menu_items(hdl, ops, V4L2_CID_TEST_PATTERN,
					     VERACAM_PATTERN_MAX, 0,
					     VERACAM_PATTERN_CAMERA_COLOUR,
					     veracam_pattern_menu);
	sensor->vblank = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_VBLANK,
					   VERACAM_FRAME_LINES_MIN -
					   VERACAM_DEF_HEIGHT,
					   VERACAM_FRAME_LINES_MAX -
					   VERACAM_DEF_HEIGHT, 1,
					   VERACAM_FRAME_LINES_DEF -
					   VERACAM_DEF_HEIGHT);
	sensor->hblank = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_HBLANK,
					   hblank, hblank, 1, hblank);
	sensor->pixel_rate = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_PIXEL_RATE,
					       VERACAM_PIXEL_RATE,
					       VERACAM_PIXEL_RATE, 1,
					       VERACAM_PIXEL_RATE);
	sensor->link_freq = v4l2_ctrl_new_int_menu(hdl, ops, V4L2_CID_LINK_FREQ,
						   0, 0,
						   sensor->link_freq_menu);
	sensor->unique_id = v4l2_ctrl_new_custom(hdl, &veracam_unique_id_ctrl,
						 NULL);
	v4l2_ctrl_new_fwnode_properties(hdl, ops, &props);

	if (hdl->error) {
		ret = hdl->error;
		goto err_free;
	}

	sensor->hblank->flags |= V4L2_CTRL_FLAG_READ_ONLY;
	sensor->link_freq->flags |= V4L2_CTRL_FLAG_READ_ONLY;

	ret = v4l2_ctrl_s_ctrl_string(sensor->unique_id, unique_id_hex);
	if (ret)
		goto err_free;

	sensor->sd.ctrl_handler = hdl;
	return 0;

err_free:
	v4l2_ctrl_handler_free(hdl);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Subdev operations                                                    */
/* ------------------------------------------------------------------ */

static int veracam_sensor_init_cfg(struct v4l2_subdev *sd,
				   struct v4l2_subdev_state *state)
{
	veracam_sensor_fill_fmt(v4l2_subdev_get_pad_format(sd, state, 0),
				veracam_mbus_codes[0], VERACAM_DEF_WIDTH,
				VERACAM_DEF_HEIGHT);
	*v4l2_subdev_get_pad_crop(sd, state, 0) = veracam_native_rect;
	return 0;
}

static int
veracam_sensor_enum_mbus_code(struct v4l2_subdev *sd,
			      struct v4l2_subdev_state *state,
			      struct v4l2_subdev_mbus_code_enum *code)
{
	if (code->index >= ARRAY_SIZE(veracam_mbus_codes))
		return -EINVAL;

	code->code = veracam_mbus_codes[code->index];
	return 0;
}

static int
veracam_sensor_enum_frame_size(struct v4l2_subdev *sd,
			       struct v4l2_subdev_state *state,
			       struct v4l2_subdev_frame_size_enum *fse)
{
	if (fse->index || !veracam_sensor_code_supported(fse->code))
		return -EINVAL;

	fse->min_width = VERACAM_MIN_WIDTH;
	fse->max_width = VERACAM_NATIVE_WIDTH;
	fse->min_height = VERACAM_MIN_HEIGHT;
	fse->max_height = VERACAM_NATIVE_HEIGHT;
	return 0;
}

static bool veracam_size_valid(u32 width, u32 height)
{
	return width >= VERACAM_MIN_WIDTH && width <= VERACAM_NATIVE_WIDTH &&
	       height >= VERACAM_MIN_HEIGHT && height <= VERACAM_NATIVE_HEIGHT;
}

/* frame interval of a frame of @lines lines, reduced */
static void veracam_lines_to_interval(u32 lines, struct v4l2_fract *interval)
{
	u64 num = (u64)VERACAM_LINE_LENGTH * lines;
	u64 den = VERACAM_PIXEL_RATE;
	u64 div = gcd(num, den);

	interval->numerator = div64_u64(num, div);
	interval->denominator = div64_u64(den, div);
}

/*
 * Frame rate is set by the vertical blanking, as on most sensors. The
 * subdev has no frame interval ioctls; these helpers give the capture node
 * G/S_PARM and ENUM_FRAMEINTERVALS in terms of it.
 */
int veracam_sensor_enum_frame_interval(unsigned int index, u32 code,
				       u32 width, u32 height,
				       struct v4l2_fract *interval)
{
	if (index >= ARRAY_SIZE(veracam_frame_lines) ||
	    !veracam_sensor_code_supported(code) ||
	    !veracam_size_valid(width, height))
		return -EINVAL;

	veracam_lines_to_interval(veracam_frame_lines[index], interval);
	return 0;
}

/*
 * The active output size changed: keep the line length and, as far as
 * possible, the frame length, i.e. the frame rate.
 */
static int veracam_sensor_update_blanking(struct veracam_sensor *sensor,
					  const struct v4l2_mbus_framefmt *fmt,
					  u32 frame_lines)
{
	u32 hblank = VERACAM_LINE_LENGTH - fmt->width;
	int ret;

	ret = __v4l2_ctrl_modify_range(sensor->hblank, hblank, hblank, 1,
				       hblank);
	if (ret)
		return ret;

	ret = __v4l2_ctrl_modify_range(sensor->vblank,
				       VERACAM_FRAME_LINES_MIN - fmt->height,
				       VERACAM_FRAME_LINES_MAX - fmt->height, 1,
				       VERACAM_FRAME_LINES_DEF - fmt->height);
	if (ret)
		return ret;

	frame_lines = clamp(frame_lines, VERACAM_FRAME_LINES_MIN,
			    VERACAM_FRAME_LINES_MAX);
	return __v4l2_ctrl_s_ctrl(sensor->vblank, frame_lines - fmt->height);
}

/* The scaler only scales down: the output fits in the crop rectangle. */
static int veracam_sensor_set_fmt(struct v4l2_subdev *sd,
				  struct v4l2_subdev_state *state,
				  struct v4l2_subdev_format *format)
{
	struct veracam_sensor *sensor = to_veracam_sensor(sd);
	const struct v4l2_rect *crop;
	struct v4l2_mbus_framefmt *fmt;
	u32 frame_lines;

	if (format->which == V4L2_SUBDEV_FORMAT_ACTIVE && sensor->streaming)
		return -EBUSY;

	fmt = v4l2_subdev_get_pad_format(sd, state, format->pad);
	crop = v4l2_subdev_get_pad_crop(sd, state, format->pad);
	frame_lines = fmt->height + sensor->vblank->val;

	veracam_sensor_fill_fmt(&format->format, format->format.code,
				min(format->format.width, crop->width),
				min(format->format.height, crop->height));
	*fmt = format->format;

	if (format->which == V4L2_SUBDEV_FORMAT_TRY)
		return 0;

	return veracam_sensor_update_blanking(sensor, fmt, frame_lines);
}

static int veracam_sensor_get_selection(struct v4l2_subdev *sd,
					struct v4l2_subdev_state *state,
					struct v4l2_subdev_selection *sel)
{
	switch (sel->target) {
	case V4L2_SEL_TGT_CROP:
		sel->r = *v4l2_subdev_get_pad_crop(sd, state, sel->pad);
		return 0;
	case V4L2_SEL_TGT_CROP_DEFAULT:
	case V4L2_SEL_TGT_CROP_BOUNDS:
	case V4L2_SEL_TGT_NATIVE_SIZE:
		sel->r = veracam_native_rect;
		return 0;
	default:
		return -EINVAL;
	}
}

static int veracam_sensor_set_selection(struct v4l2_subdev *sd,
					struct v4l2_subdev_state *state,
					struct v4l2_subdev_selection *sel)
{
	struct veracam_sensor *sensor = to_veracam_sensor(sd);
	struct v4l2_mbus_framefmt *fmt;
	struct v4l2_rect *crop;
	u32 frame_lines;

	if (sel->target != V4L2_SEL_TGT_CROP)
		return -EINVAL;
	if (sel->which == V4L2_SUBDEV_FORMAT_ACTIVE && sensor->streaming)
		return -EBUSY;

	/* even sizes and offsets, at least the smallest output size */
	sel->r.width = clamp(ALIGN(sel->r.width, 2), VERACAM_MIN_WIDTH,
			     VERACAM_NATIVE_WIDTH);
	sel->r.height = clamp(ALIGN(sel->r.height, 2), VERACAM_MIN_HEIGHT,
			      VERACAM_NATIVE_HEIGHT);
	sel->r.left = clamp_t(s32, ALIGN_DOWN(sel->r.left, 2), 0,
			      VERACAM_NATIVE_WIDTH - sel->r.width);
	sel->r.top = clamp_t(s32, ALIGN_DOWN(sel->r.top, 2), 0,
			     VERACAM_NATIVE_HEIGHT - sel->r.height);

	crop = v4l2_subdev_get_pad_crop(sd, state, sel->pad);
	*crop = sel->r;

	/* a smaller crop shrinks the output to fit */
	fmt = v4l2_subdev_get_pad_format(sd, state, sel->pad);
	if (fmt->width <= crop->width && fmt->height <= crop->height)
		return 0;

	frame_lines = fmt->height + sensor->vblank->val;
	veracam_sensor_fill_fmt(fmt, fmt->code, min(fmt->width, crop->width),
				min(fmt->height, crop->height));
	if (sel->which == V4L2_SUBDEV_FORMAT_TRY)
		return 0;

	return veracam_sensor_update_blanking(sensor, fmt, frame_lines);
}

void veracam_sensor_g_frame_interval(struct veracam_sensor *sensor,
				     struct v4l2_fract *interval)
{
	struct v4l2_subdev_state *state;
	const struct v4l2_mbus_framefmt *fmt;

	state = v4l2_subdev_lock_and_get_active_state(&sensor->sd);
	fmt = v4l2_subdev_get_pad_format(&sensor->sd, state, 0);
	veracam_lines_to_interval(fmt->height + sensor->vblank->val, interval);
	v4l2_subdev_unlock_state(state);
}

/*
 * Any interval is accepted and rounded to whole lines between 60 and 15
 * frames per second; 0/0 selects 30.
 */
int veracam_sensor_s_frame_interval(struct veracam_sensor *sensor,
				    struct v4l2_fract *interval)
{
	struct v4l2_subdev_state *state;
	const struct v4l2_mbus_framefmt *fmt;
	u64 lines = VERACAM_FRAME_LINES_DEF;
	u64 num = interval->numerator, den = interval->denominator;
	int ret;

	if (num && den)
		lines = div64_u64(num * VERACAM_PIXEL_RATE +
				  den * VERACAM_LINE_LENGTH / 2,
				  den * VERACAM_LINE_LENGTH);
	lines = clamp_t(u64, lines, VERACAM_FRAME_LINES_MIN,
			VERACAM_FRAME_LINES_MAX);

	state = v4l2_subdev_lock_and_get_active_state(&sensor->sd);
	fmt = v4l2_subdev_get_pad_format(&sensor->sd, state, 0);
	ret = __v4l2_ctrl_s_ctrl(sensor->vblank, (u32)lines - fmt->height);
	veracam_lines_to_interval(fmt->height + sensor->vblank->val, interval);
	v4l2_subdev_unlock_state(state);
	return ret;
}

static int veracam_sensor_s_stream(struct v4l2_subdev *sd, int enable)
{
	struct veracam_sensor *sensor = to_veracam_sensor(sd);
	struct v4l2_subdev_state *state;
	int ret = 0;

	if (enable) {
		ret = pm_runtime_resume_and_get(sensor->dev);
		if (ret)
			return ret;
	}

	state = v4l2_subdev_lock_and_get_active_state(sd);
	if (enable) {
		/* registers lost their values while the sensor was off */
		ret = __v4l2_ctrl_handler_setup(&sensor->ctrls);
		if (ret)
			goto unlock;
	}
	sensor->streaming = enable;
	__v4l2_ctrl_grab(sensor->hflip, enable);
	__v4l2_ctrl_grab(sensor->vflip, enable);
unlock:
	v4l2_subdev_unlock_state(state);

	if (!enable || ret)
		pm_runtime_put(sensor->dev);
	return ret;
}

static int veracam_sensor_subscribe_event(struct v4l2_subdev *sd,
					  struct v4l2_fh *fh,
					  struct v4l2_event_subscription *sub)
{
	switch (sub->type) {
	case V4L2_EVENT_FRAME_SYNC:
		return v4l2_event_subscribe(fh, sub, 2, NULL);
	default:
		return v4l2_ctrl_subdev_subscribe_event(sd, fh, sub);
	}
}

static const struct v4l2_subdev_core_ops veracam_sensor_core_ops = {
	.log_status = v4l2_ctrl_subdev_log_status,
	.subscribe_event = veracam_sensor_subscribe_event,
	.unsubscribe_event = v4l2_event_subdev_unsubscribe,
};

static const struct v4l2_subdev_video_ops veracam_sensor_video_ops = {
	.s_stream = veracam_sensor_s_stream,
};

static const struct v4l2_subdev_pad_ops veracam_sensor_pad_ops = {
	.init_cfg = veracam_sensor_init_cfg,
	.enum_mbus_code = veracam_sensor_enum_mbus_code,
	.enum_frame_size = veracam_sensor_enum_frame_size,
	.get_fmt = v4l2_subdev_get_fmt,
	.set_fmt = veracam_sensor_set_fmt,
	.get_selection = veracam_sensor_get_selection,
	.set_selection = veracam_sensor_set_selection,
};

static const struct v4l2_subdev_ops veracam_sensor_ops = {
	.core = &veracam_sensor_core_ops,
	.video = &veracam_sensor_video_ops,
	.pad = &veracam_sensor_pad_ops,
};

/* ------------------------------------------------------------------ */
/* For the frame engine and the capture nodes                           */
/* ------------------------------------------------------------------ */

int veracam_sensor_get_format(struct veracam_sensor *sensor,
			      struct v4l2_mbus_framefmt *fmt,
			      struct v4l2_rect *crop)
{
	struct v4l2_subdev_state *state;

	state = v4l2_subdev_lock_and_get_active_state(&sensor->sd);
	if (fmt)
		*fmt = *v4l2_subdev_get_pad_format(&sensor->sd, state, 0);
	if (crop)
		*crop = *v4l2_subdev_get_pad_crop(&sensor->sd, state, 0);
	v4l2_subdev_unlock_state(state);
	return 0;
}

void veracam_sensor_read_regs(struct veracam_sensor *sensor,
			      struct veracam_regs *regs)
{
	unsigned long flags;

	spin_lock_irqsave(&sensor->regs_lock, flags);
	*regs = sensor->regs;
	spin_unlock_irqrestore(&sensor->regs_lock, flags);
}

/* frame length register; called from the frame timer (hardirq) */
u32 veracam_sensor_frame_lines(struct veracam_sensor *sensor)
{
	unsigned long flags;
	u32 lines;

	spin_lock_irqsave(&sensor->regs_lock, flags);
	lines = sensor->regs.frame_lines;
	spin_unlock_irqrestore(&sensor->regs_lock, flags);
	return lines;
}

void veracam_sensor_frame_sync(struct veracam_sensor *sensor, u32 sequence)
{
	struct v4l2_event ev = {
		.type = V4L2_EVENT_FRAME_SYNC,
		.u.frame_sync.frame_sequence = sequence,
	};

	if (sensor->sd.devnode)
		v4l2_event_queue(sensor->sd.devnode, &ev);
}

/* ------------------------------------------------------------------ */
/* Power and board resources                                            */
/* ------------------------------------------------------------------ */

static int veracam_sensor_power_on(struct device *dev)
{
	struct veracam *cam = dev_get_drvdata(dev);
	struct veracam_sensor *sensor = &cam->sensor;
	unsigned long flags;
	int ret;

	ret = regulator_bulk_enable(VERACAM_NUM_SUPPLIES, sensor->supplies);
	if (ret) {
		dev_err(dev, "failed to enable supplies: %d\n", ret);
		return ret;
	}

	ret = clk_prepare_enable(sensor->xclk);
	if (ret) {
		dev_err(dev, "failed to enable clock: %d\n", ret);
		goto err_supplies;
	}

	gpiod_set_value_cansleep(sensor->reset, 0);
	if (sensor->reset)
		usleep_range(1000, 2000);

	/* out of reset, the registers hold their power-on defaults */
	spin_lock_irqsave(&sensor->regs_lock, flags);
	veracam_regs_reset(&sensor->regs);
	spin_unlock_irqrestore(&sensor->regs_lock, flags);
	return 0;

err_supplies:
	regulator_bulk_disable(VERACAM_NUM_SUPPLIES, sensor->supplies);
	return ret;
}

static int veracam_sensor_power_off(struct device *dev)
{
	struct veracam *cam = dev_get_drvdata(dev);
	struct veracam_sensor *sensor = &cam->sensor;

	gpiod_set_value_cansleep(sensor->reset, 1);
	clk_disable_unprepare(sensor->xclk);
	regulator_bulk_disable(VERACAM_NUM_SUPPLIES, sensor->supplies);
	return 0;
}

/*
 * System sleep while streaming: stop the frames, power the sensor off; on
 * resume power it on, write the registers from the controls (power-on
 * reset cleared them) and restart the frames, as imx219 does. Userspace
 * sees a sequence gap and otherwise the same stream.
 */
static int veracam_sensor_suspend(struct device *dev)
{
	struct veracam *cam = dev_get_drvdata(dev);

	veracam_stream_suspend(cam);
	return pm_runtime_force_suspend(dev);
}

static int veracam_sensor_resume(struct device *dev)
{
	struct veracam *cam = dev_get_drvdata(dev);
	struct veracam_sensor *sensor = &cam->sensor;
	int ret;

	ret = pm_runtime_force_resume(dev);
	if (ret)
		return ret;

	mutex_lock(&sensor->lock);
	if (sensor->streaming)
		ret = __v4l2_ctrl_handler_setup(&sensor->ctrls);
	mutex_unlock(&sensor->lock);
	if (ret) {
		dev_err(dev, "failed to restore the sensor's registers: %d\n",
			ret);
		return ret;
	}

	veracam_stream_resume(cam);
	return 0;
}

const struct dev_pm_ops veracam_sensor_pm_ops = {
	SYSTEM_SLEEP_PM_OPS(veracam_sensor_suspend, veracam_sensor_resume)
	RUNTIME_PM_OPS(veracam_sensor_power_off, veracam_sensor_power_on, NULL)
};

/* The sensor starts powered off; it is powered while it streams. */
void veracam_sensor_pm_enable(struct veracam_sensor *sensor)
{
	pm_runtime_enable(sensor->dev);
}

void veracam_sensor_pm_disable(struct veracam_sensor *sensor)
{
	pm_runtime_disable(sensor->dev);
	if (!pm_runtime_status_suspended(sensor->dev))
		veracam_sensor_power_off(sensor->dev);
	pm_runtime_set_suspended(sensor->dev);
}

/*
 * The CSI-2 endpoint: 2 or 4 data lanes, and a link frequency that
 * carries the widest format at the pixel rate. Without a firmware node
 * (the module's own platform devices) the sensor uses 2 lanes.
 */
static int veracam_sensor_parse_endpoint(struct veracam_sensor *sensor)
{
	struct v4l2_fwnode_endpoint ep = { .bus_type = V4L2_MBUS_CSI2_DPHY };
	struct device *dev = sensor->dev;
	struct fwnode_handle *endpoint;
	unsigned int i;
	int ret;

	sensor->lanes = 2;
	endpoint = fwnode_graph_get_next_endpoint(dev_fwnode(dev), NULL);
	if (!endpoint) {
		if (dev_fwnode(dev))
			return dev_err_probe(dev, -EINVAL,
					     "endpoint node not found\n");
		goto out;
	}

	ret = v4l2_fwnode_endpoint_alloc_parse(endpoint, &ep);
	fwnode_handle_put(endpoint);
	if (ret)
		return dev_err_probe(dev, ret, "failed to parse endpoint\n");

	sensor->lanes = ep.bus.mipi_csi2.num_data_lanes;
	if (sensor->lanes != 2 && sensor->lanes != 4) {
		ret = dev_err_probe(dev, -EINVAL, "%u data lanes unsupported\n",
				    sensor->lanes);
		goto out_free;
	}

	ret = -EINVAL;
	for (i = 0; i < ep.nr_of_link_frequencies; i++)
		if (ep.link_frequencies[i] == VERACAM_PIXEL_RATE *
		    VERACAM_BITS_PER_SAMPLE / (2 * sensor->lanes))
			ret = 0;
	if (ret)
		dev_err_probe(dev, ret, "link-frequencies lack %llu Hz\n",
			      VERACAM_PIXEL_RATE * VERACAM_BITS_PER_SAMPLE /
			      (2 * sensor->lanes));
out_free:
	v4l2_fwnode_endpoint_free(&ep);
	if (ret)
		return ret;
out:
	sensor->link_freq_menu[0] = VERACAM_PIXEL_RATE *
				    VERACAM_BITS_PER_SAMPLE /
				    (2 * sensor->lanes);
	return 0;
}

static int veracam_sensor_get_resources(struct veracam_sensor *sensor)
{
	struct device *dev = sensor->dev;
	unsigned int i;
	int ret;

	for (i = 0; i < VERACAM_NUM_SUPPLIES; i++)
		sensor->supplies[i].supply = veracam_supply_names[i];
	ret = devm_regulator_bulk_get(dev, VERACAM_NUM_SUPPLIES,
				      sensor->supplies);
	if (ret)
		return dev_err_probe(dev, ret, "failed to get supplies\n");

	sensor->xclk = devm_clk_get_optional(dev, NULL);
	if (IS_ERR(sensor->xclk))
		return dev_err_probe(dev, PTR_ERR(sensor->xclk),
				     "failed to get clock\n");

	sensor->reset = devm_gpiod_get_optional(dev, "reset", GPIOD_OUT_HIGH);
	if (IS_ERR(sensor->reset))
		return dev_err_probe(dev, PTR_ERR(sensor->reset),
				     "failed to get reset gpio\n");

	return veracam_sensor_parse_endpoint(sensor);
}

int veracam_sensor_init(struct veracam_sensor *sensor, struct device *dev,
			const char *unique_id_hex, unsigned int index)
{
	struct v4l2_subdev *sd = &sensor->sd;
	int ret;

	sensor->dev = dev;
	mutex_init(&sensor->lock);
	spin_lock_init(&sensor->regs_lock);
	veracam_regs_reset(&sensor->regs);

	ret = veracam_sensor_get_resources(sensor);
	if (ret)
		goto err_mutex;

	v4l2_subdev_init(sd, &veracam_sensor_ops);
	sd->owner = THIS_MODULE;
	sd->dev = dev;
	sd->flags |= V4L2_SUBDEV_FL_HAS_DEVNODE | V4L2_SUBDEV_FL_HAS_EVENTS;
	snprintf(sd->name, sizeof(sd->name), "veracam sensor %u", index);

	ret = veracam_sensor_init_controls(sensor, unique_id_hex);
	if (ret)
		goto err_mutex;

	sensor->pad.flags = MEDIA_PAD_FL_SOURCE;
	sd->entity.function = MEDIA_ENT_F_CAM_SENSOR;
	ret = media_entity_pads_init(&sd->entity, 1, &sensor->pad);
	if (ret)
		goto err_ctrls;

	sd->state_lock = &sensor->lock;
	ret = v4l2_subdev_init_finalize(sd);
	if (ret)
		goto err_entity;

	return 0;

err_entity:
	media_entity_cleanup(&sd->entity);
err_ctrls:
	v4l2_ctrl_handler_free(&sensor->ctrls);
err_mutex:
	mutex_destroy(&sensor->lock);
	return ret;
}

void veracam_sensor_cleanup(struct veracam_sensor *sensor)
{
	v4l2_subdev_cleanup(&sensor->sd);
	media_entity_cleanup(&sensor->sd.entity);
	v4l2_ctrl_handler_free(&sensor->ctrls);
	mutex_destroy(&sensor->lock);
}
