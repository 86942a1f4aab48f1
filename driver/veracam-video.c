// SPDX-License-Identifier: GPL-2.0-only
/*
 * veracam - the image capture node
 *
 * The capture side stores the sensor's YUV 4:2:2 bus data as YUYV or as
 * NV12 (dropping the chroma of odd lines) and its RGB bus data as RGB24 or
 * XBGR32 (B, G, R, X in memory: DRM's XRGB8888, ready for scanout). It does
 * not scale: width and height must equal the sensor's.
 */

#include <media/v4l2-common.h>
#include <media/v4l2-event.h>
#include <media/v4l2-ioctl.h>

#include "veracam.h"

struct veracam_format {
	u32 fourcc;
	u32 code;	/* media bus code the sensor must output */
};

static const struct veracam_format veracam_formats[] = {
	{ V4L2_PIX_FMT_YUYV, MEDIA_BUS_FMT_YUYV8_1X16 },
	{ V4L2_PIX_FMT_NV12, MEDIA_BUS_FMT_YUYV8_1X16 },
	{ V4L2_PIX_FMT_RGB24, MEDIA_BUS_FMT_RGB888_1X24 },
	{ V4L2_PIX_FMT_XBGR32, MEDIA_BUS_FMT_RGB888_1X24 },
};

static const struct veracam_format *veracam_find_format(u32 fourcc)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(veracam_formats); i++)
		if (veracam_formats[i].fourcc == fourcc)
			return &veracam_formats[i];
	return NULL;
}

static void veracam_video_try(struct v4l2_pix_format *pix)
{
	const struct veracam_format *format;
	bool rgb;

	format = veracam_find_format(pix->pixelformat) ?: &veracam_formats[0];
	rgb = format->code == MEDIA_BUS_FMT_RGB888_1X24;

	v4l2_fill_pixfmt(pix, format->fourcc,
			 clamp(ALIGN(pix->width, 2), VERACAM_MIN_WIDTH,
			       VERACAM_MAX_WIDTH),
			 clamp(ALIGN(pix->height, 2), VERACAM_MIN_HEIGHT,
			       VERACAM_MAX_HEIGHT));
	pix->field = V4L2_FIELD_NONE;
	pix->flags = 0;
	pix->colorspace = V4L2_COLORSPACE_SRGB;
	pix->xfer_func = V4L2_XFER_FUNC_SRGB;
	pix->ycbcr_enc = rgb ? V4L2_YCBCR_ENC_DEFAULT : V4L2_YCBCR_ENC_601;
	pix->quantization = rgb ? V4L2_QUANTIZATION_FULL_RANGE :
				  V4L2_QUANTIZATION_LIM_RANGE;
}

bool veracam_video_matches(const struct v4l2_pix_format *pix,
			   const struct v4l2_mbus_framefmt *fmt)
{
	const struct veracam_format *format =
		veracam_find_format(pix->pixelformat);

	return format && format->code == fmt->code &&
	       pix->width == fmt->width && pix->height == fmt->height;
}

static int veracam_video_enum_fmt(struct file *file, void *priv,
				  struct v4l2_fmtdesc *f)
{
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(veracam_formats); i++) {
		if (f->mbus_code && f->mbus_code != veracam_formats[i].code)
			continue;
		if (n++ == f->index) {
			f->pixelformat = veracam_formats[i].fourcc;
			return 0;
		}
	}
	return -EINVAL;
}

static int veracam_video_g_fmt(struct file *file, void *priv,
			       struct v4l2_format *f)
{
	struct veracam_node *node = video_drvdata(file);

	f->fmt.pix = node->fmt.pix;
	return 0;
}

static int veracam_video_try_fmt(struct file *file, void *priv,
				 struct v4l2_format *f)
{
	veracam_video_try(&f->fmt.pix);
	return 0;
}

static int veracam_video_s_fmt(struct file *file, void *priv,
			       struct v4l2_format *f)
{
	struct veracam_node *node = video_drvdata(file);

	/* the pipeline was validated against the current format */
	if (vb2_is_busy(&node->queue) || video_device_pipeline(&node->vdev))
		return -EBUSY;

	veracam_video_try(&f->fmt.pix);
	node->fmt.pix = f->fmt.pix;
	node->sizeimage = f->fmt.pix.sizeimage;
	return 0;
}

/* Sizes and frame intervals are the sensor's. */
static int veracam_video_enum_framesizes(struct file *file, void *priv,
					 struct v4l2_frmsizeenum *fsize)
{
	struct veracam_node *node = video_drvdata(file);
	const struct veracam_format *format;
	struct v4l2_subdev_frame_size_enum fse = {
		.which = V4L2_SUBDEV_FORMAT_ACTIVE,
	};
	int ret;

	format = veracam_find_format(fsize->pixel_format);
	if (!format || fsize->index)
		return -EINVAL;

	fse.code = format->code;
	ret = veracam_source_enum_frame_size(node->cam, &fse);
	if (ret)
		return ret;

	fsize->type = V4L2_FRMSIZE_TYPE_STEPWISE;
	fsize->stepwise.min_width = fse.min_width;
	fsize->stepwise.max_width = fse.max_width;
	fsize->stepwise.step_width = 2;
	fsize->stepwise.min_height = fse.min_height;
	fsize->stepwise.max_height = fse.max_height;
	fsize->stepwise.step_height = 2;
	return 0;
}

static int veracam_video_enum_frameintervals(struct file *file, void *priv,
					     struct v4l2_frmivalenum *fival)
{
	struct veracam_node *node = video_drvdata(file);
	struct v4l2_subdev_frame_size_enum fse = {
		.which = V4L2_SUBDEV_FORMAT_ACTIVE,
	};
	const struct veracam_format *format;
	int ret;

	format = veracam_find_format(fival->pixel_format);
	if (!format || fival->width % 2 || fival->height % 2)
		return -EINVAL;

	fse.code = format->code;
	ret = veracam_source_enum_frame_size(node->cam, &fse);
	if (ret)
		return ret;
	if (fival->width < fse.min_width || fival->width > fse.max_width ||
	    fival->height < fse.min_height || fival->height > fse.max_height)
		return -EINVAL;

	fival->type = V4L2_FRMIVAL_TYPE_DISCRETE;
	return veracam_source_enum_frame_interval(node->cam, fival->index,
						  &fival->discrete);
}

static int veracam_video_g_parm(struct file *file, void *priv,
				struct v4l2_streamparm *a)
{
	struct veracam_node *node = video_drvdata(file);
	struct v4l2_captureparm *cp = &a->parm.capture;

	if (a->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
		return -EINVAL;

	memset(cp, 0, sizeof(*cp));
	cp->capability = V4L2_CAP_TIMEPERFRAME;
	return veracam_source_g_frame_interval(node->cam, &cp->timeperframe);
}

static int veracam_video_s_parm(struct file *file, void *priv,
				struct v4l2_streamparm *a)
{
	struct veracam_node *node = video_drvdata(file);
	struct v4l2_captureparm *cp = &a->parm.capture;
	int ret;

	if (a->type != V4L2_BUF_TYPE_VIDEO_CAPTURE)
		return -EINVAL;

	ret = veracam_source_s_frame_interval(node->cam, &cp->timeperframe);
	if (ret)
		return ret;

	cp->capability = V4L2_CAP_TIMEPERFRAME;
	cp->capturemode = 0;
	cp->extendedmode = 0;
	cp->readbuffers = 0;
	memset(cp->reserved, 0, sizeof(cp->reserved));
	return 0;
}

static const struct v4l2_ioctl_ops veracam_video_ioctl_ops = {
	.vidioc_querycap = veracam_node_querycap,
	.vidioc_enum_fmt_vid_cap = veracam_video_enum_fmt,
	.vidioc_g_fmt_vid_cap = veracam_video_g_fmt,
	.vidioc_s_fmt_vid_cap = veracam_video_s_fmt,
	.vidioc_try_fmt_vid_cap = veracam_video_try_fmt,
	.vidioc_enum_framesizes = veracam_video_enum_framesizes,
	.vidioc_enum_frameintervals = veracam_video_enum_frameintervals,
	.vidioc_g_parm = veracam_video_g_parm,
	.vidioc_s_parm = veracam_video_s_parm,

	.vidioc_reqbufs = vb2_ioctl_reqbufs,
	.vidioc_create_bufs = vb2_ioctl_create_bufs,
	.vidioc_prepare_buf = vb2_ioctl_prepare_buf,
	.vidioc_querybuf = vb2_ioctl_querybuf,
	.vidioc_qbuf = vb2_ioctl_qbuf,
	.vidioc_dqbuf = vb2_ioctl_dqbuf,
	.vidioc_expbuf = vb2_ioctl_expbuf,
	.vidioc_streamon = vb2_ioctl_streamon,
	.vidioc_streamoff = vb2_ioctl_streamoff,

	.vidioc_log_status = v4l2_ctrl_log_status,
	.vidioc_subscribe_event = v4l2_ctrl_subscribe_event,
	.vidioc_unsubscribe_event = v4l2_event_unsubscribe,
};

/* The receiver's image source format must be what this node captures. */
static int veracam_video_link_validate(struct media_link *link)
{
	struct video_device *vdev =
		media_entity_to_video_device(link->sink->entity);
	struct veracam_node *node = video_get_drvdata(vdev);
	struct v4l2_mbus_framefmt fmt;

	veracam_csi2_get_image_format(node->cam, &fmt);
	if (!veracam_video_matches(&node->fmt.pix, &fmt)) {
		dev_dbg(node->cam->dev,
			"receiver outputs %ux%u code 0x%04x, node wants %ux%u %p4cc\n",
			fmt.width, fmt.height, fmt.code, node->fmt.pix.width,
			node->fmt.pix.height, &node->fmt.pix.pixelformat);
		return -EPIPE;
	}
	return 0;
}

static const struct media_entity_operations veracam_video_entity_ops = {
	.link_validate = veracam_video_link_validate,
};

int veracam_video_register(struct veracam *cam)
{
	struct veracam_node *node = &cam->video;
	char name[32];

	node->fmt.pix.pixelformat = V4L2_PIX_FMT_YUYV;
	node->fmt.pix.width = VERACAM_DEF_WIDTH;
	node->fmt.pix.height = VERACAM_DEF_HEIGHT;
	veracam_video_try(&node->fmt.pix);
	node->sizeimage = node->fmt.pix.sizeimage;

	/*
	 * The sensor's controls are on its subdev node only; this node has
	 * the camera's unique id (veracam_register_unique_id()).
	 */
	node->vdev.ctrl_handler = &cam->ctrls;

	snprintf(name, sizeof(name), "veracam video %u", cam->index);
	return veracam_node_register(node, cam, name, V4L2_CAP_VIDEO_CAPTURE,
				     &veracam_video_ioctl_ops,
				     &veracam_video_entity_ops);
}
