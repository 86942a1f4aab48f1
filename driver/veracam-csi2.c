// SPDX-License-Identifier: GPL-2.0-only
/*
 * veracam - the CSI-2 receiver subdev
 *
 * Pad 0 is the sink the sensor's source is linked to; its format is set
 * by userspace and must match the sensor's (link validation). Pad 1 is
 * the image source to the image capture node: the sink's format, as the
 * receiver does not scale or convert. Pad 2 is the metadata source to the
 * metadata capture node, one fixed-size record per frame
 * (MEDIA_BUS_FMT_METADATA_FIXED). The receiver signals FRAME_SYNC at the
 * start of every frame.
 */

#include <media/v4l2-event.h>

#include "veracam.h"

static const u32 veracam_csi2_codes[] = {
	MEDIA_BUS_FMT_YUYV8_1X16,
	MEDIA_BUS_FMT_RGB888_1X24,
};

static void veracam_csi2_fill_sink(struct v4l2_mbus_framefmt *fmt, u32 code,
				   u32 width, u32 height)
{
	unsigned int i;
	bool rgb;

	for (i = 0; i < ARRAY_SIZE(veracam_csi2_codes); i++)
		if (veracam_csi2_codes[i] == code)
			break;
	if (i == ARRAY_SIZE(veracam_csi2_codes))
		code = veracam_csi2_codes[0];
	rgb = code == MEDIA_BUS_FMT_RGB888_1X24;

	memset(fmt, 0, sizeof(*fmt));
	fmt->code = code;
	fmt->width = clamp(ALIGN(width, 2), VERACAM_MIN_WIDTH,
			   VERACAM_MAX_WIDTH);
	fmt->height = clamp(ALIGN(height, 2), VERACAM_MIN_HEIGHT,
			    VERACAM_MAX_HEIGHT);
	fmt->field = V4L2_FIELD_NONE;
	fmt->colorspace = V4L2_COLORSPACE_SRGB;
	fmt->xfer_func = V4L2_XFER_FUNC_SRGB;
	fmt->ycbcr_enc = rgb ? V4L2_YCBCR_ENC_DEFAULT : V4L2_YCBCR_ENC_601;
	fmt->quantization = rgb ? V4L2_QUANTIZATION_FULL_RANGE :
				  V4L2_QUANTIZATION_LIM_RANGE;
}

static void veracam_csi2_fill_meta(struct v4l2_mbus_framefmt *fmt)
{
	memset(fmt, 0, sizeof(*fmt));
	fmt->code = MEDIA_BUS_FMT_METADATA_FIXED;
	fmt->width = sizeof(struct veracam_meta);
	fmt->height = 1;
	fmt->field = V4L2_FIELD_NONE;
}

static int veracam_csi2_init_cfg(struct v4l2_subdev *sd,
				 struct v4l2_subdev_state *state)
{
	struct v4l2_mbus_framefmt *sink, *meta;

	sink = v4l2_subdev_get_pad_format(sd, state, VERACAM_CSI2_PAD_SINK);
	veracam_csi2_fill_sink(sink, veracam_csi2_codes[0], VERACAM_DEF_WIDTH,
			       VERACAM_DEF_HEIGHT);
	*v4l2_subdev_get_pad_format(sd, state, VERACAM_CSI2_PAD_IMAGE) = *sink;
	meta = v4l2_subdev_get_pad_format(sd, state, VERACAM_CSI2_PAD_META);
	veracam_csi2_fill_meta(meta);
	return 0;
}

static int veracam_csi2_enum_mbus_code(struct v4l2_subdev *sd,
				       struct v4l2_subdev_state *state,
				       struct v4l2_subdev_mbus_code_enum *code)
{
	const struct v4l2_mbus_framefmt *sink;

	switch (code->pad) {
	case VERACAM_CSI2_PAD_SINK:
		if (code->index >= ARRAY_SIZE(veracam_csi2_codes))
			return -EINVAL;
		code->code = veracam_csi2_codes[code->index];
		return 0;
	case VERACAM_CSI2_PAD_IMAGE:
		if (code->index)
			return -EINVAL;
		sink = v4l2_subdev_get_pad_format(sd, state,
						  VERACAM_CSI2_PAD_SINK);
		code->code = sink->code;
		return 0;
	case VERACAM_CSI2_PAD_META:
		if (code->index)
			return -EINVAL;
		code->code = MEDIA_BUS_FMT_METADATA_FIXED;
		return 0;
	}
	return -EINVAL;
}

static int veracam_csi2_enum_frame_size(struct v4l2_subdev *sd,
					struct v4l2_subdev_state *state,
					struct v4l2_subdev_frame_size_enum *fse)
{
	const struct v4l2_mbus_framefmt *fmt;

	if (fse->index)
		return -EINVAL;

	if (fse->pad == VERACAM_CSI2_PAD_SINK) {
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(veracam_csi2_codes); i++)
			if (veracam_csi2_codes[i] == fse->code)
				break;
		if (i == ARRAY_SIZE(veracam_csi2_codes))
			return -EINVAL;
		fse->min_width = VERACAM_MIN_WIDTH;
		fse->max_width = VERACAM_MAX_WIDTH;
		fse->min_height = VERACAM_MIN_HEIGHT;
		fse->max_height = VERACAM_MAX_HEIGHT;
		return 0;
	}

	/* the source pads have the one size they have */
	fmt = v4l2_subdev_get_pad_format(sd, state, fse->pad);
	if (fse->code != fmt->code)
		return -EINVAL;
	fse->min_width = fmt->width;
	fse->max_width = fmt->width;
	fse->min_height = fmt->height;
	fse->max_height = fmt->height;
	return 0;
}

static int veracam_csi2_set_fmt(struct v4l2_subdev *sd,
				struct v4l2_subdev_state *state,
				struct v4l2_subdev_format *format)
{
	struct veracam *cam = container_of(sd, struct veracam, csi2);
	struct v4l2_mbus_framefmt *sink;

	/* the source pads follow the sink, or are fixed */
	if (format->pad != VERACAM_CSI2_PAD_SINK)
		return v4l2_subdev_get_fmt(sd, state, format);

	if (format->which == V4L2_SUBDEV_FORMAT_ACTIVE &&
	    media_pad_pipeline(&cam->csi2_pads[VERACAM_CSI2_PAD_SINK]))
		return -EBUSY;

	sink = v4l2_subdev_get_pad_format(sd, state, VERACAM_CSI2_PAD_SINK);
	veracam_csi2_fill_sink(sink, format->format.code, format->format.width,
			       format->format.height);
	format->format = *sink;
	*v4l2_subdev_get_pad_format(sd, state, VERACAM_CSI2_PAD_IMAGE) = *sink;
	return 0;
}

static int veracam_csi2_subscribe_event(struct v4l2_subdev *sd,
					struct v4l2_fh *fh,
					struct v4l2_event_subscription *sub)
{
	if (sub->type != V4L2_EVENT_FRAME_SYNC)
		return -EINVAL;
	return v4l2_event_subscribe(fh, sub, 2, NULL);
}

static const struct v4l2_subdev_core_ops veracam_csi2_core_ops = {
	.subscribe_event = veracam_csi2_subscribe_event,
	.unsubscribe_event = v4l2_event_subdev_unsubscribe,
};

static const struct v4l2_subdev_pad_ops veracam_csi2_pad_ops = {
	.init_cfg = veracam_csi2_init_cfg,
	.enum_mbus_code = veracam_csi2_enum_mbus_code,
	.enum_frame_size = veracam_csi2_enum_frame_size,
	.get_fmt = v4l2_subdev_get_fmt,
	.set_fmt = veracam_csi2_set_fmt,
};

static const struct v4l2_subdev_ops veracam_csi2_ops = {
	.core = &veracam_csi2_core_ops,
	.pad = &veracam_csi2_pad_ops,
};

/*
 * The image source carries the sink's pixels; the metadata source is the
 * receiver's own per-frame record, with no dependency on the image pads.
 * The metadata node's pipeline thus holds neither the image pads nor the
 * image node: metadata streams alone without locking the image formats.
 */
static bool veracam_csi2_has_pad_interdep(struct media_entity *entity,
					  unsigned int pad0, unsigned int pad1)
{
	return (pad0 == VERACAM_CSI2_PAD_SINK &&
		pad1 == VERACAM_CSI2_PAD_IMAGE) ||
	       (pad0 == VERACAM_CSI2_PAD_IMAGE &&
		pad1 == VERACAM_CSI2_PAD_SINK);
}

static const struct media_entity_operations veracam_csi2_entity_ops = {
	.link_validate = v4l2_subdev_link_validate,
	.has_pad_interdep = veracam_csi2_has_pad_interdep,
};

void veracam_csi2_frame_sync(struct veracam *cam, u32 sequence)
{
	struct v4l2_event ev = {
		.type = V4L2_EVENT_FRAME_SYNC,
		.u.frame_sync.frame_sequence = sequence,
	};

	if (cam->csi2.devnode)
		v4l2_event_queue(cam->csi2.devnode, &ev);
}

/* The image source's active format, for the image node's validation. */
void veracam_csi2_get_image_format(struct veracam *cam,
				   struct v4l2_mbus_framefmt *fmt)
{
	struct v4l2_subdev_state *state;

	state = v4l2_subdev_lock_and_get_active_state(&cam->csi2);
	*fmt = *v4l2_subdev_get_pad_format(&cam->csi2, state,
					   VERACAM_CSI2_PAD_IMAGE);
	v4l2_subdev_unlock_state(state);
}

int veracam_csi2_init(struct veracam *cam)
{
	struct v4l2_subdev *sd = &cam->csi2;
	int ret;

	v4l2_subdev_init(sd, &veracam_csi2_ops);
	sd->owner = THIS_MODULE;
	sd->dev = cam->dev;
	sd->flags |= V4L2_SUBDEV_FL_HAS_DEVNODE | V4L2_SUBDEV_FL_HAS_EVENTS;
	snprintf(sd->name, sizeof(sd->name), "veracam csi2 %u", cam->index);
	sd->entity.function = MEDIA_ENT_F_VID_IF_BRIDGE;
	sd->entity.ops = &veracam_csi2_entity_ops;

	cam->csi2_pads[VERACAM_CSI2_PAD_SINK].flags = MEDIA_PAD_FL_SINK |
						      MEDIA_PAD_FL_MUST_CONNECT;
	cam->csi2_pads[VERACAM_CSI2_PAD_IMAGE].flags = MEDIA_PAD_FL_SOURCE;
	cam->csi2_pads[VERACAM_CSI2_PAD_META].flags = MEDIA_PAD_FL_SOURCE;
	ret = media_entity_pads_init(&sd->entity, VERACAM_CSI2_NUM_PADS,
				     cam->csi2_pads);
	if (ret)
		return ret;

	ret = v4l2_subdev_init_finalize(sd);
	if (ret)
		media_entity_cleanup(&sd->entity);
	return ret;
}

void veracam_csi2_cleanup(struct veracam *cam)
{
	v4l2_subdev_cleanup(&cam->csi2);
	media_entity_cleanup(&cam->csi2.entity);
}
