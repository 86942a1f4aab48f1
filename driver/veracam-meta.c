// SPDX-License-Identifier: GPL-2.0-only
/*
 * veracam - the metadata capture node
 *
 * The sensor sends its embedded data lines with every frame; this node
 * stores them as one struct veracam_meta (include/uapi/linux/veracam.h,
 * docs/metafmt-veracam.rst) per frame, with the frame's sequence number
 * and timestamp.
 */

#include <linux/string.h>

#include <media/v4l2-ioctl.h>

#include "veracam.h"

void veracam_meta_fill(struct veracam *cam, struct veracam_meta *meta,
		       const struct veracam_regs *regs, u32 sequence,
		       u64 soe_ns, u64 eof_ns, bool error)
{
	u32 flags = 0;

	static_assert(sizeof(*meta) == 64);

	if (error)
		flags |= VERACAM_META_FL_ERROR;
	if (regs->hflip)
		flags |= VERACAM_META_FL_HFLIP;
	if (regs->vflip)
		flags |= VERACAM_META_FL_VFLIP;

	/* little-endian on every CPU (docs/metafmt-veracam.rst) */
	memset(meta, 0, sizeof(*meta));
	meta->magic = cpu_to_le32(VERACAM_META_MAGIC);
	meta->version = cpu_to_le16(VERACAM_META_VERSION);
	meta->size = cpu_to_le16(sizeof(*meta));
	meta->sequence = cpu_to_le32(sequence);
	meta->flags = cpu_to_le32(flags);
	meta->soe_ns = cpu_to_le64(soe_ns);
	meta->eof_ns = cpu_to_le64(eof_ns);
	meta->exposure = cpu_to_le32(regs->exposure);
	meta->analogue_gain = cpu_to_le32(regs->analogue_gain);
	meta->digital_gain = cpu_to_le32(regs->digital_gain);
	memcpy(meta->unique_id, cam->unique_id, sizeof(meta->unique_id));
}

static int veracam_meta_enum_fmt(struct file *file, void *priv,
				 struct v4l2_fmtdesc *f)
{
	if (f->index ||
	    (f->mbus_code && f->mbus_code != MEDIA_BUS_FMT_METADATA_FIXED))
		return -EINVAL;

	f->pixelformat = V4L2_META_FMT_VERACAM;
	strscpy(f->description, "Veracam frame metadata",
		sizeof(f->description));
	return 0;
}

/* One fixed format: G, S and TRY all return it. */
static int veracam_meta_fmt(struct file *file, void *priv,
			    struct v4l2_format *f)
{
	struct veracam_node *node = video_drvdata(file);

	f->fmt.meta = node->fmt.meta;
	return 0;
}

static const struct v4l2_ioctl_ops veracam_meta_ioctl_ops = {
	.vidioc_querycap = veracam_node_querycap,
	.vidioc_enum_fmt_meta_cap = veracam_meta_enum_fmt,
	.vidioc_g_fmt_meta_cap = veracam_meta_fmt,
	.vidioc_s_fmt_meta_cap = veracam_meta_fmt,
	.vidioc_try_fmt_meta_cap = veracam_meta_fmt,

	.vidioc_reqbufs = vb2_ioctl_reqbufs,
	.vidioc_create_bufs = vb2_ioctl_create_bufs,
	.vidioc_prepare_buf = vb2_ioctl_prepare_buf,
	.vidioc_querybuf = vb2_ioctl_querybuf,
	.vidioc_qbuf = vb2_ioctl_qbuf,
	.vidioc_dqbuf = vb2_ioctl_dqbuf,
	.vidioc_expbuf = vb2_ioctl_expbuf,
	.vidioc_streamon = vb2_ioctl_streamon,
	.vidioc_streamoff = vb2_ioctl_streamoff,
};

int veracam_meta_register(struct veracam *cam)
{
	struct veracam_node *node = &cam->meta;
	char name[32];

	node->fmt.meta.dataformat = V4L2_META_FMT_VERACAM;
	node->fmt.meta.buffersize = sizeof(struct veracam_meta);
	node->sizeimage = sizeof(struct veracam_meta);

	snprintf(name, sizeof(name), "veracam meta %u", cam->index);
	return veracam_node_register(node, cam, name, V4L2_CAP_META_CAPTURE,
				     &veracam_meta_ioctl_ops, NULL);
}
