// SPDX-License-Identifier: GPL-2.0-only
/*
 * vc1 - driver for the veracam VC1 camera sensor
 *
 * A 1920x1080 sensor with a digital crop and scaler, YUV 4:2:2 and RGB
 * 8-bit outputs over a 2 or 4 lane CSI-2 link, 15 to 60 frames per second
 * set by the vertical blanking. It is controlled over I2C (8-bit register
 * addresses, 8-bit registers, multi-byte values big-endian) and identifies
 * itself by a chip id and a 128-bit unique id held in its OTP registers.
 *
 * The driver is a camera sensor subdev only: it registers with
 * v4l2_async_register_subdev_sensor() and waits for the receiver its
 * endpoint points at (a SoC's CSI-2 receiver on a board, veracam.ko's
 * virtual receiver elsewhere) to bind it. Like on any sensor the registers
 * lose their contents when it is powered down, so control values are
 * cached while it is off and written at stream start.
 */

#include <linux/clk.h>
#include <linux/delay.h>
#include <linux/device.h>
#include <linux/gpio/consumer.h>
#include <linux/i2c.h>
#include <linux/module.h>
#include <linux/pm_runtime.h>
#include <linux/property.h>
#include <linux/regmap.h>
#include <linux/regulator/consumer.h>

#include <asm/unaligned.h>

#include <media/v4l2-async.h>
#include <media/v4l2-ctrls.h>
#include <media/v4l2-event.h>
#include <media/v4l2-fwnode.h>
#include <media/v4l2-subdev.h>

#include <linux/veracam.h>

#include "veracam-uid-ctrl.h"

/* pixel array and timing (a 1080p60 CEA timing) */
#define VC1_NATIVE_WIDTH	1920U
#define VC1_NATIVE_HEIGHT	1080U
#define VC1_MIN_WIDTH		320U
#define VC1_MIN_HEIGHT		240U
#define VC1_DEF_WIDTH		640U
#define VC1_DEF_HEIGHT		480U
#define VC1_PIXEL_RATE		148500000ULL
#define VC1_LINE_LENGTH		2200U
/* frame length in lines: 60, 30 and 15 frames per second */
#define VC1_FRAME_LINES_MIN	1125U
#define VC1_FRAME_LINES_DEF	2250U
#define VC1_FRAME_LINES_MAX	4500U
#define VC1_EXPOSURE_MIN	4U
#define VC1_EXPOSURE_MARGIN	4U
#define VC1_EXPOSURE_DEF	1000U
#define VC1_AGAIN_MIN		16U	/* 1.0x in 1/16 steps */
#define VC1_AGAIN_MAX		256U
#define VC1_DGAIN_MIN		256U	/* 1.0x in 1/256 steps */
#define VC1_DGAIN_MAX		4095U
#define VC1_BITS_PER_SAMPLE	24U	/* widest bus format */

/* registers */
#define VC1_REG_CHIP_ID		0x00	/* 16 bits, read-only */
#define VC1_REG_MODE_SELECT	0x02
#define VC1_MODE_STANDBY	0x00
#define VC1_MODE_STREAMING	0x01
#define VC1_REG_UNIQUE_ID	0x10	/* 16 bytes of OTP, read-only */
#define VC1_REG_EXPOSURE	0x20	/* 16 bits, lines */
#define VC1_REG_ANALOGUE_GAIN	0x22	/* 16 bits, 1/16 steps */
#define VC1_REG_DIGITAL_GAIN	0x24	/* 16 bits, 1/256 steps */
#define VC1_REG_FRAME_LENGTH	0x26	/* 16 bits, lines */
#define VC1_REG_TEST_PATTERN	0x28
#define VC1_REG_ORIENTATION	0x29
#define VC1_ORIENTATION_HFLIP	BIT(0)
#define VC1_ORIENTATION_VFLIP	BIT(1)
#define VC1_REG_MAX		0x29

#define VC1_CHIP_ID		0x56c1

#define VC1_NUM_SUPPLIES	3

static const u32 vc1_mbus_codes[] = {
	MEDIA_BUS_FMT_YUYV8_1X16,
	MEDIA_BUS_FMT_RGB888_1X24,
};

static const char * const vc1_supply_names[VC1_NUM_SUPPLIES] = {
	"vana",		/* analogue 2.8 V */
	"vdig",		/* digital core 1.8 V */
	"vddl",		/* digital I/O 1.2 V */
};

static const char * const vc1_pattern_menu[] = {
	[VERACAM_PATTERN_CAMERA_COLOUR] = "Camera Colour",
	[VERACAM_PATTERN_COLOUR_BARS] = "Colour Bars",
	[VERACAM_PATTERN_CHECKERBOARD] = "Checkerboard",
	[VERACAM_PATTERN_BLACK] = "Black",
};

#define VC1_PATTERN_MAX	(ARRAY_SIZE(vc1_pattern_menu) - 1)

struct vc1 {
	struct v4l2_subdev sd;
	struct media_pad pad;
	struct device *dev;
	struct regmap *regmap;

	/*
	 * Protects the control handler, the subdev state (formats and crop
	 * rectangle, it is sd.state_lock) and @streaming.
	 */
	struct mutex lock;
	struct v4l2_ctrl_handler ctrls;
	struct v4l2_ctrl *exposure;
	struct v4l2_ctrl *hflip;
	struct v4l2_ctrl *vflip;
	struct v4l2_ctrl *vblank;
	struct v4l2_ctrl *hblank;
	struct v4l2_ctrl *link_freq;
	struct v4l2_ctrl *unique_id;
	bool streaming;

	u8 id[VERACAM_UNIQUE_ID_LEN];
	char id_hex[VERACAM_UNIQUE_ID_HEX_LEN + 1];

	/* board resources; optional ones are NULL when absent */
	struct clk *xclk;
	struct gpio_desc *reset;
	struct regulator_bulk_data supplies[VC1_NUM_SUPPLIES];
	unsigned int lanes;
	s64 link_freq_menu[1];
};

static inline struct vc1 *to_vc1(struct v4l2_subdev *sd)
{
	return container_of(sd, struct vc1, sd);
}

static bool vc1_code_supported(u32 code)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vc1_mbus_codes); i++)
		if (vc1_mbus_codes[i] == code)
			return true;
	return false;
}

static void vc1_fill_fmt(struct v4l2_mbus_framefmt *fmt, u32 code,
			 u32 width, u32 height)
{
	bool rgb;

	if (!vc1_code_supported(code))
		code = vc1_mbus_codes[0];
	rgb = code == MEDIA_BUS_FMT_RGB888_1X24;

	memset(fmt, 0, sizeof(*fmt));
	fmt->code = code;
	fmt->width = clamp(ALIGN(width, 2), VC1_MIN_WIDTH, VC1_NATIVE_WIDTH);
	fmt->height = clamp(ALIGN(height, 2), VC1_MIN_HEIGHT,
			    VC1_NATIVE_HEIGHT);
	fmt->field = V4L2_FIELD_NONE;
	fmt->colorspace = V4L2_COLORSPACE_SRGB;
	fmt->xfer_func = V4L2_XFER_FUNC_SRGB;
	fmt->ycbcr_enc = rgb ? V4L2_YCBCR_ENC_DEFAULT : V4L2_YCBCR_ENC_601;
	fmt->quantization = rgb ? V4L2_QUANTIZATION_FULL_RANGE :
				  V4L2_QUANTIZATION_LIM_RANGE;
}

static const struct v4l2_rect vc1_native_rect = {
	.left = 0,
	.top = 0,
	.width = VC1_NATIVE_WIDTH,
	.height = VC1_NATIVE_HEIGHT,
};

/* ------------------------------------------------------------------ */
/* Registers                                                            */
/* ------------------------------------------------------------------ */

static int vc1_write16(struct vc1 *sensor, unsigned int reg, u16 val)
{
	int ret;

	ret = regmap_write(sensor->regmap, reg, val >> 8);
	if (ret)
		return ret;
	return regmap_write(sensor->regmap, reg + 1, val & 0xff);
}

static bool vc1_writeable_reg(struct device *dev, unsigned int reg)
{
	return reg == VC1_REG_MODE_SELECT || reg >= VC1_REG_EXPOSURE;
}

static const struct regmap_config vc1_regmap_config = {
	.reg_bits = 8,
	.val_bits = 8,
	.max_register = VC1_REG_MAX,
	.writeable_reg = vc1_writeable_reg,
	.cache_type = REGCACHE_NONE,
};

/* ------------------------------------------------------------------ */
/* Controls                                                             */
/* ------------------------------------------------------------------ */

static int vc1_s_ctrl(struct v4l2_ctrl *ctrl)
{
	struct vc1 *sensor = container_of(ctrl->handler, struct vc1, ctrls);
	const struct v4l2_mbus_framefmt *fmt;
	int ret = 0;

	fmt = v4l2_subdev_get_pad_format(&sensor->sd, sensor->sd.active_state,
					 0);
	if (ctrl->id == V4L2_CID_VBLANK) {
		u32 exp_max = fmt->height + ctrl->val - VC1_EXPOSURE_MARGIN;

		ret = __v4l2_ctrl_modify_range(sensor->exposure,
					       VC1_EXPOSURE_MIN, exp_max, 1,
					       min(exp_max, VC1_EXPOSURE_DEF));
		if (ret)
			return ret;
	}

	/* Powered down: the value is cached and written at stream start. */
	if (pm_runtime_get_if_in_use(sensor->dev) <= 0)
		return 0;

	switch (ctrl->id) {
	case V4L2_CID_EXPOSURE:
		ret = vc1_write16(sensor, VC1_REG_EXPOSURE, ctrl->val);
		break;
	case V4L2_CID_ANALOGUE_GAIN:
		ret = vc1_write16(sensor, VC1_REG_ANALOGUE_GAIN, ctrl->val);
		break;
	case V4L2_CID_DIGITAL_GAIN:
		ret = vc1_write16(sensor, VC1_REG_DIGITAL_GAIN, ctrl->val);
		break;
	case V4L2_CID_HFLIP:
	case V4L2_CID_VFLIP:
		ret = regmap_write(sensor->regmap, VC1_REG_ORIENTATION,
				   (sensor->hflip->val ?
				    VC1_ORIENTATION_HFLIP : 0) |
				   (sensor->vflip->val ?
				    VC1_ORIENTATION_VFLIP : 0));
		break;
	case V4L2_CID_TEST_PATTERN:
		ret = regmap_write(sensor->regmap, VC1_REG_TEST_PATTERN,
				   ctrl->val);
		break;
	case V4L2_CID_VBLANK:
		ret = vc1_write16(sensor, VC1_REG_FRAME_LENGTH,
				  fmt->height + ctrl->val);
		break;
	default:
		/* read-only controls have no register */
		break;
	}

	pm_runtime_put(sensor->dev);
	return ret;
}

static const struct v4l2_ctrl_ops vc1_ctrl_ops = {
	.s_ctrl = vc1_s_ctrl,
};

static int vc1_init_controls(struct vc1 *sensor)
{
	struct v4l2_ctrl_handler *hdl = &sensor->ctrls;
	const struct v4l2_ctrl_ops *ops = &vc1_ctrl_ops;
	struct v4l2_fwnode_device_properties props;
	u32 hblank = VC1_LINE_LENGTH - VC1_DEF_WIDTH;
	int ret;

	ret = v4l2_fwnode_device_parse(sensor->dev, &props);
	if (ret)
		return ret;

	v4l2_ctrl_handler_init(hdl, 14);
	hdl->lock = &sensor->lock;

	sensor->exposure = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_EXPOSURE,
					     VC1_EXPOSURE_MIN,
					     VC1_FRAME_LINES_DEF -
					     VC1_EXPOSURE_MARGIN,
					     1, VC1_EXPOSURE_DEF);
	v4l2_ctrl_new_std(hdl, ops, V4L2_CID_ANALOGUE_GAIN, VC1_AGAIN_MIN,
			  VC1_AGAIN_MAX, 1, VC1_AGAIN_MIN);
	v4l2_ctrl_new_std(hdl, ops, V4L2_CID_DIGITAL_GAIN, VC1_DGAIN_MIN,
			  VC1_DGAIN_MAX, 1, VC1_DGAIN_MIN);
	sensor->hflip = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_HFLIP, 0, 1, 1, 0);
	sensor->vflip = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_VFLIP, 0, 1, 1, 0);
	v4l2_ctrl_new_std_menu_items(hdl, ops, V4L2_CID_TEST_PATTERN,
				     VC1_PATTERN_MAX, 0,
				     VERACAM_PATTERN_CAMERA_COLOUR,
				     vc1_pattern_menu);
	sensor->vblank = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_VBLANK,
					   VC1_FRAME_LINES_MIN - VC1_DEF_HEIGHT,
					   VC1_FRAME_LINES_MAX - VC1_DEF_HEIGHT,
					   1, VC1_FRAME_LINES_DEF -
					   VC1_DEF_HEIGHT);
	sensor->hblank = v4l2_ctrl_new_std(hdl, ops, V4L2_CID_HBLANK,
					   hblank, hblank, 1, hblank);
	v4l2_ctrl_new_std(hdl, ops, V4L2_CID_PIXEL_RATE, VC1_PIXEL_RATE,
			  VC1_PIXEL_RATE, 1, VC1_PIXEL_RATE);
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

	ret = v4l2_ctrl_s_ctrl_string(sensor->unique_id, sensor->id_hex);
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

static int vc1_init_cfg(struct v4l2_subdev *sd,
			struct v4l2_subdev_state *state)
{
	vc1_fill_fmt(v4l2_subdev_get_pad_format(sd, state, 0),
		     vc1_mbus_codes[0], VC1_DEF_WIDTH, VC1_DEF_HEIGHT);
	*v4l2_subdev_get_pad_crop(sd, state, 0) = vc1_native_rect;
	return 0;
}

static int vc1_enum_mbus_code(struct v4l2_subdev *sd,
			      struct v4l2_subdev_state *state,
			      struct v4l2_subdev_mbus_code_enum *code)
{
	if (code->index >= ARRAY_SIZE(vc1_mbus_codes))
		return -EINVAL;

	code->code = vc1_mbus_codes[code->index];
	return 0;
}

static int vc1_enum_frame_size(struct v4l2_subdev *sd,
			       struct v4l2_subdev_state *state,
			       struct v4l2_subdev_frame_size_enum *fse)
{
	if (fse->index || !vc1_code_supported(fse->code))
		return -EINVAL;

	fse->min_width = VC1_MIN_WIDTH;
	fse->max_width = VC1_NATIVE_WIDTH;
	fse->min_height = VC1_MIN_HEIGHT;
	fse->max_height = VC1_NATIVE_HEIGHT;
	return 0;
}

/*
 * The active output size changed: keep the line length and, as far as
 * possible, the frame length, i.e. the frame rate.
 */
static int vc1_update_blanking(struct vc1 *sensor,
			       const struct v4l2_mbus_framefmt *fmt,
			       u32 frame_lines)
{
	u32 hblank = VC1_LINE_LENGTH - fmt->width;
	int ret;

	ret = __v4l2_ctrl_modify_range(sensor->hblank, hblank, hblank, 1,
				       hblank);
	if (ret)
		return ret;

	ret = __v4l2_ctrl_modify_range(sensor->vblank,
				       VC1_FRAME_LINES_MIN - fmt->height,
				       VC1_FRAME_LINES_MAX - fmt->height, 1,
				       VC1_FRAME_LINES_DEF - fmt->height);
	if (ret)
		return ret;

	frame_lines = clamp(frame_lines, VC1_FRAME_LINES_MIN,
			    VC1_FRAME_LINES_MAX);
	return __v4l2_ctrl_s_ctrl(sensor->vblank, frame_lines - fmt->height);
}

/* The scaler only scales down: the output fits in the crop rectangle. */
static int vc1_set_fmt(struct v4l2_subdev *sd,
		       struct v4l2_subdev_state *state,
		       struct v4l2_subdev_format *format)
{
	struct vc1 *sensor = to_vc1(sd);
	const struct v4l2_rect *crop;
	struct v4l2_mbus_framefmt *fmt;
	u32 frame_lines;

	if (format->which == V4L2_SUBDEV_FORMAT_ACTIVE && sensor->streaming)
		return -EBUSY;

	fmt = v4l2_subdev_get_pad_format(sd, state, format->pad);
	crop = v4l2_subdev_get_pad_crop(sd, state, format->pad);
	frame_lines = fmt->height + sensor->vblank->val;

	vc1_fill_fmt(&format->format, format->format.code,
		     min(format->format.width, crop->width),
		     min(format->format.height, crop->height));
	*fmt = format->format;

	if (format->which == V4L2_SUBDEV_FORMAT_TRY)
		return 0;

	return vc1_update_blanking(sensor, fmt, frame_lines);
}

static int vc1_get_selection(struct v4l2_subdev *sd,
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
		sel->r = vc1_native_rect;
		return 0;
	default:
		return -EINVAL;
	}
}

static int vc1_set_selection(struct v4l2_subdev *sd,
			     struct v4l2_subdev_state *state,
			     struct v4l2_subdev_selection *sel)
{
	struct vc1 *sensor = to_vc1(sd);
	struct v4l2_mbus_framefmt *fmt;
	struct v4l2_rect *crop;
	u32 frame_lines;

	if (sel->target != V4L2_SEL_TGT_CROP)
		return -EINVAL;
	if (sel->which == V4L2_SUBDEV_FORMAT_ACTIVE && sensor->streaming)
		return -EBUSY;

	/* even sizes and offsets, at least the smallest output size */
	sel->r.width = clamp(ALIGN(sel->r.width, 2), VC1_MIN_WIDTH,
			     VC1_NATIVE_WIDTH);
	sel->r.height = clamp(ALIGN(sel->r.height, 2), VC1_MIN_HEIGHT,
			      VC1_NATIVE_HEIGHT);
	sel->r.left = clamp_t(s32, ALIGN_DOWN(sel->r.left, 2), 0,
			      VC1_NATIVE_WIDTH - sel->r.width);
	sel->r.top = clamp_t(s32, ALIGN_DOWN(sel->r.top, 2), 0,
			     VC1_NATIVE_HEIGHT - sel->r.height);

	crop = v4l2_subdev_get_pad_crop(sd, state, sel->pad);
	*crop = sel->r;

	/* a smaller crop shrinks the output to fit */
	fmt = v4l2_subdev_get_pad_format(sd, state, sel->pad);
	if (fmt->width <= crop->width && fmt->height <= crop->height)
		return 0;

	frame_lines = fmt->height + sensor->vblank->val;
	vc1_fill_fmt(fmt, fmt->code, min(fmt->width, crop->width),
		     min(fmt->height, crop->height));
	if (sel->which == V4L2_SUBDEV_FORMAT_TRY)
		return 0;

	return vc1_update_blanking(sensor, fmt, frame_lines);
}

/* With the state locked: write every register and start the frames. */
static int vc1_start(struct vc1 *sensor)
{
	int ret;

	ret = __v4l2_ctrl_handler_setup(&sensor->ctrls);
	if (ret)
		return ret;
	return regmap_write(sensor->regmap, VC1_REG_MODE_SELECT,
			    VC1_MODE_STREAMING);
}

static void vc1_stop(struct vc1 *sensor)
{
	int ret;

	ret = regmap_write(sensor->regmap, VC1_REG_MODE_SELECT,
			   VC1_MODE_STANDBY);
	if (ret)
		dev_err(sensor->dev, "failed to stop streaming: %d\n", ret);
}

static int vc1_s_stream(struct v4l2_subdev *sd, int enable)
{
	struct vc1 *sensor = to_vc1(sd);
	struct v4l2_subdev_state *state;
	int ret = 0;

	state = v4l2_subdev_lock_and_get_active_state(sd);
	if (sensor->streaming == !!enable)
		goto unlock;

	if (enable) {
		ret = pm_runtime_resume_and_get(sensor->dev);
		if (ret)
			goto unlock;
		ret = vc1_start(sensor);
		if (ret) {
			pm_runtime_put(sensor->dev);
			goto unlock;
		}
	} else {
		vc1_stop(sensor);
		pm_runtime_put(sensor->dev);
	}
	sensor->streaming = enable;
	__v4l2_ctrl_grab(sensor->hflip, enable);
	__v4l2_ctrl_grab(sensor->vflip, enable);
unlock:
	v4l2_subdev_unlock_state(state);
	return ret;
}

static const struct v4l2_subdev_core_ops vc1_core_ops = {
	.log_status = v4l2_ctrl_subdev_log_status,
	.subscribe_event = v4l2_ctrl_subdev_subscribe_event,
	.unsubscribe_event = v4l2_event_subdev_unsubscribe,
};

static const struct v4l2_subdev_video_ops vc1_video_ops = {
	.s_stream = vc1_s_stream,
};

static const struct v4l2_subdev_pad_ops vc1_pad_ops = {
	.init_cfg = vc1_init_cfg,
	.enum_mbus_code = vc1_enum_mbus_code,
	.enum_frame_size = vc1_enum_frame_size,
	.get_fmt = v4l2_subdev_get_fmt,
	.set_fmt = vc1_set_fmt,
	.get_selection = vc1_get_selection,
	.set_selection = vc1_set_selection,
};

static const struct v4l2_subdev_ops vc1_subdev_ops = {
	.core = &vc1_core_ops,
	.video = &vc1_video_ops,
	.pad = &vc1_pad_ops,
};

static const struct media_entity_operations vc1_entity_ops = {
	.link_validate = v4l2_subdev_link_validate,
};

/* ------------------------------------------------------------------ */
/* Power and board resources                                            */
/* ------------------------------------------------------------------ */

static int vc1_power_on(struct device *dev)
{
	struct v4l2_subdev *sd = dev_get_drvdata(dev);
	struct vc1 *sensor = to_vc1(sd);
	int ret;

	ret = regulator_bulk_enable(VC1_NUM_SUPPLIES, sensor->supplies);
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
	return 0;

err_supplies:
	regulator_bulk_disable(VC1_NUM_SUPPLIES, sensor->supplies);
	return ret;
}

static int vc1_power_off(struct device *dev)
{
	struct v4l2_subdev *sd = dev_get_drvdata(dev);
	struct vc1 *sensor = to_vc1(sd);

	gpiod_set_value_cansleep(sensor->reset, 1);
	clk_disable_unprepare(sensor->xclk);
	regulator_bulk_disable(VC1_NUM_SUPPLIES, sensor->supplies);
	return 0;
}

/*
 * System sleep while streaming: stop the sensor and power it off; on
 * resume power it on, write the registers from the controls (they were
 * lost) and start it again, as imx219 does.
 */
static int vc1_suspend(struct device *dev)
{
	struct v4l2_subdev *sd = dev_get_drvdata(dev);
	struct vc1 *sensor = to_vc1(sd);

	mutex_lock(&sensor->lock);
	if (sensor->streaming)
		vc1_stop(sensor);
	mutex_unlock(&sensor->lock);
	return pm_runtime_force_suspend(dev);
}

static int vc1_resume(struct device *dev)
{
	struct v4l2_subdev *sd = dev_get_drvdata(dev);
	struct vc1 *sensor = to_vc1(sd);
	int ret;

	ret = pm_runtime_force_resume(dev);
	if (ret)
		return ret;

	mutex_lock(&sensor->lock);
	if (sensor->streaming)
		ret = vc1_start(sensor);
	mutex_unlock(&sensor->lock);
	if (ret)
		dev_err(dev, "failed to restart streaming: %d\n", ret);
	return ret;
}

static const struct dev_pm_ops vc1_pm_ops = {
	SYSTEM_SLEEP_PM_OPS(vc1_suspend, vc1_resume)
	RUNTIME_PM_OPS(vc1_power_off, vc1_power_on, NULL)
};

/*
 * The CSI-2 endpoint: 2 or 4 data lanes, and a link frequency that
 * carries the widest format at the pixel rate.
 */
static int vc1_parse_endpoint(struct vc1 *sensor)
{
	struct v4l2_fwnode_endpoint ep = { .bus_type = V4L2_MBUS_CSI2_DPHY };
	struct device *dev = sensor->dev;
	struct fwnode_handle *endpoint;
	u64 freq;
	unsigned int i;
	int ret;

	endpoint = fwnode_graph_get_next_endpoint(dev_fwnode(dev), NULL);
	if (!endpoint)
		return dev_err_probe(dev, -EINVAL, "endpoint node not found\n");

	ret = v4l2_fwnode_endpoint_alloc_parse(endpoint, &ep);
	fwnode_handle_put(endpoint);
	if (ret)
		return dev_err_probe(dev, ret, "failed to parse endpoint\n");

	sensor->lanes = ep.bus.mipi_csi2.num_data_lanes;
	if (sensor->lanes != 2 && sensor->lanes != 4) {
		ret = dev_err_probe(dev, -EINVAL, "%u data lanes unsupported\n",
				    sensor->lanes);
		goto out;
	}

	freq = VC1_PIXEL_RATE * VC1_BITS_PER_SAMPLE / (2 * sensor->lanes);
	ret = -EINVAL;
	for (i = 0; i < ep.nr_of_link_frequencies; i++)
		if (ep.link_frequencies[i] == freq)
			ret = 0;
	if (ret)
		dev_err_probe(dev, ret, "link-frequencies lack %llu Hz\n",
			      freq);
	sensor->link_freq_menu[0] = freq;
out:
	v4l2_fwnode_endpoint_free(&ep);
	return ret;
}

static int vc1_get_resources(struct vc1 *sensor)
{
	struct device *dev = sensor->dev;
	unsigned int i;
	int ret;

	for (i = 0; i < VC1_NUM_SUPPLIES; i++)
		sensor->supplies[i].supply = vc1_supply_names[i];
	ret = devm_regulator_bulk_get(dev, VC1_NUM_SUPPLIES, sensor->supplies);
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

	return vc1_parse_endpoint(sensor);
}

/* Powered: check the chip id and read the unique id from the OTP. */
static int vc1_identify(struct vc1 *sensor)
{
	u8 chip_id[2];
	int ret;

	ret = regmap_bulk_read(sensor->regmap, VC1_REG_CHIP_ID, chip_id,
			       sizeof(chip_id));
	if (ret)
		return dev_err_probe(sensor->dev, ret,
				     "failed to read the chip id\n");

	if (get_unaligned_be16(chip_id) != VC1_CHIP_ID)
		return dev_err_probe(sensor->dev, -ENODEV,
				     "chip id 0x%04x, expected 0x%04x\n",
				     get_unaligned_be16(chip_id), VC1_CHIP_ID);

	ret = regmap_bulk_read(sensor->regmap, VC1_REG_UNIQUE_ID, sensor->id,
			       sizeof(sensor->id));
	if (ret)
		return dev_err_probe(sensor->dev, ret,
				     "failed to read the unique id\n");

	*bin2hex(sensor->id_hex, sensor->id, sizeof(sensor->id)) = '\0';
	return 0;
}

static int vc1_probe(struct i2c_client *client)
{
	struct device *dev = &client->dev;
	struct v4l2_subdev *sd;
	struct vc1 *sensor;
	int ret;

	sensor = devm_kzalloc(dev, sizeof(*sensor), GFP_KERNEL);
	if (!sensor)
		return -ENOMEM;
	sensor->dev = dev;
	sd = &sensor->sd;
	v4l2_i2c_subdev_init(sd, client, &vc1_subdev_ops);

	sensor->regmap = devm_regmap_init_i2c(client, &vc1_regmap_config);
	if (IS_ERR(sensor->regmap))
		return dev_err_probe(dev, PTR_ERR(sensor->regmap),
				     "failed to set up register access\n");

	ret = vc1_get_resources(sensor);
	if (ret)
		return ret;

	ret = vc1_power_on(dev);
	if (ret)
		return ret;

	ret = vc1_identify(sensor);
	if (ret)
		goto err_power;

	mutex_init(&sensor->lock);
	ret = vc1_init_controls(sensor);
	if (ret)
		goto err_mutex;

	sd->flags |= V4L2_SUBDEV_FL_HAS_DEVNODE | V4L2_SUBDEV_FL_HAS_EVENTS;
	sd->entity.function = MEDIA_ENT_F_CAM_SENSOR;
	sd->entity.ops = &vc1_entity_ops;
	sensor->pad.flags = MEDIA_PAD_FL_SOURCE;
	ret = media_entity_pads_init(&sd->entity, 1, &sensor->pad);
	if (ret)
		goto err_ctrls;

	sd->state_lock = &sensor->lock;
	ret = v4l2_subdev_init_finalize(sd);
	if (ret)
		goto err_entity;

	/* powered now; runtime PM powers it off once probe is done */
	pm_runtime_set_active(dev);
	pm_runtime_enable(dev);
	pm_runtime_idle(dev);

	ret = v4l2_async_register_subdev_sensor(sd);
	if (ret) {
		dev_err_probe(dev, ret, "failed to register the subdev\n");
		goto err_pm;
	}

	dev_info(dev, "vc1: unique id %s, %u lanes\n", sensor->id_hex,
		 sensor->lanes);
	return 0;

err_pm:
	pm_runtime_disable(dev);
	if (!pm_runtime_status_suspended(dev))
		vc1_power_off(dev);
	pm_runtime_set_suspended(dev);
	v4l2_subdev_cleanup(sd);
	media_entity_cleanup(&sd->entity);
	v4l2_ctrl_handler_free(&sensor->ctrls);
	mutex_destroy(&sensor->lock);
	return ret;

err_entity:
	media_entity_cleanup(&sd->entity);
err_ctrls:
	v4l2_ctrl_handler_free(&sensor->ctrls);
err_mutex:
	mutex_destroy(&sensor->lock);
err_power:
	/* runtime PM is not enabled yet: the sensor is still powered */
	vc1_power_off(dev);
	return ret;
}

static void vc1_remove(struct i2c_client *client)
{
	struct v4l2_subdev *sd = i2c_get_clientdata(client);
	struct vc1 *sensor = to_vc1(sd);

	v4l2_async_unregister_subdev(sd);
	v4l2_subdev_cleanup(sd);
	media_entity_cleanup(&sd->entity);
	v4l2_ctrl_handler_free(&sensor->ctrls);

	pm_runtime_disable(&client->dev);
	if (!pm_runtime_status_suspended(&client->dev))
		vc1_power_off(&client->dev);
	pm_runtime_set_suspended(&client->dev);
	mutex_destroy(&sensor->lock);
}

static const struct of_device_id vc1_of_match[] = {
	{ .compatible = "veracam,vc1" },
	{ /* sentinel */ }
};
MODULE_DEVICE_TABLE(of, vc1_of_match);

static const struct i2c_device_id vc1_i2c_ids[] = {
	{ "vc1" },
	{ /* sentinel */ }
};
MODULE_DEVICE_TABLE(i2c, vc1_i2c_ids);

static struct i2c_driver vc1_i2c_driver = {
	.probe_new = vc1_probe,
	.remove = vc1_remove,
	.id_table = vc1_i2c_ids,
	.driver = {
		.name = "vc1",
		.of_match_table = vc1_of_match,
		.pm = pm_ptr(&vc1_pm_ops),
	},
};
module_i2c_driver(vc1_i2c_driver);

MODULE_DESCRIPTION("veracam VC1 camera sensor driver");
MODULE_AUTHOR("The veracam authors");
MODULE_LICENSE("GPL");
