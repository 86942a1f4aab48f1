// SPDX-License-Identifier: GPL-2.0-only
/*
 * veracam - what the image and metadata capture nodes share: the vb2
 * queue, the buffer list the frame engine takes buffers from, the file
 * operations and registration.
 */

#include <media/v4l2-ioctl.h>
#include <media/videobuf2-vmalloc.h>

#include "veracam.h"

#define VERACAM_MIN_BUFFERS	4

static int veracam_queue_setup(struct vb2_queue *q, unsigned int *num_buffers,
			       unsigned int *num_planes, unsigned int sizes[],
			       struct device *alloc_devs[])
{
	struct veracam_node *node = vb2_get_drv_priv(q);

	if (*num_planes)
		return sizes[0] < node->sizeimage ? -EINVAL : 0;

	/* one being filled, one with userspace, the rest queued */
	if (q->num_buffers + *num_buffers < VERACAM_MIN_BUFFERS)
		*num_buffers = VERACAM_MIN_BUFFERS - q->num_buffers;
	*num_planes = 1;
	sizes[0] = node->sizeimage;
	return 0;
}

static int veracam_buf_prepare(struct vb2_buffer *vb)
{
	struct veracam_node *node = vb2_get_drv_priv(vb->vb2_queue);

	if (vb2_plane_size(vb, 0) < node->sizeimage)
		return -EINVAL;

	vb2_set_plane_payload(vb, 0, node->sizeimage);
	return 0;
}

static void veracam_buf_queue(struct vb2_buffer *vb)
{
	struct veracam_node *node = vb2_get_drv_priv(vb->vb2_queue);
	struct vb2_v4l2_buffer *vbuf = to_vb2_v4l2_buffer(vb);
	struct veracam_buffer *buf = container_of(vbuf, struct veracam_buffer,
						  vb);

	spin_lock(&node->buf_lock);
	list_add_tail(&buf->list, &node->buf_list);
	spin_unlock(&node->buf_lock);
}

/* Take the oldest queued buffer, or NULL when userspace has none queued. */
struct veracam_buffer *veracam_node_next_buffer(struct veracam_node *node)
{
	struct veracam_buffer *buf;

	spin_lock(&node->buf_lock);
	buf = list_first_entry_or_null(&node->buf_list, struct veracam_buffer,
				       list);
	if (buf)
		list_del(&buf->list);
	spin_unlock(&node->buf_lock);
	return buf;
}

static void veracam_return_buffers(struct veracam_node *node,
				   enum vb2_buffer_state state)
{
	struct veracam_buffer *buf, *tmp;
	LIST_HEAD(list);

	spin_lock(&node->buf_lock);
	list_splice_init(&node->buf_list, &list);
	spin_unlock(&node->buf_lock);

	list_for_each_entry_safe(buf, tmp, &list, list) {
		list_del(&buf->list);
		vb2_buffer_done(&buf->vb.vb2_buf, state);
	}
}

static int veracam_start_streaming(struct vb2_queue *q, unsigned int count)
{
	struct veracam_node *node = vb2_get_drv_priv(q);
	int ret;

	ret = veracam_stream_start(node);
	if (ret)
		veracam_return_buffers(node, VB2_BUF_STATE_QUEUED);
	return ret;
}

static void veracam_stop_streaming(struct vb2_queue *q)
{
	struct veracam_node *node = vb2_get_drv_priv(q);

	veracam_stream_stop(node);
	veracam_return_buffers(node, VB2_BUF_STATE_ERROR);
}

static const struct vb2_ops veracam_vb2_ops = {
	.queue_setup = veracam_queue_setup,
	.buf_prepare = veracam_buf_prepare,
	.buf_queue = veracam_buf_queue,
	.start_streaming = veracam_start_streaming,
	.stop_streaming = veracam_stop_streaming,
	.wait_prepare = vb2_ops_wait_prepare,
	.wait_finish = vb2_ops_wait_finish,
};

static const struct v4l2_file_operations veracam_node_fops = {
	.owner = THIS_MODULE,
	.open = v4l2_fh_open,
	.release = vb2_fop_release,
	.poll = vb2_fop_poll,
	.mmap = vb2_fop_mmap,
	.unlocked_ioctl = video_ioctl2,
};

int veracam_node_querycap(struct file *file, void *priv,
			  struct v4l2_capability *cap)
{
	struct veracam_node *node = video_drvdata(file);

	strscpy(cap->driver, VERACAM_DRIVER_NAME, sizeof(cap->driver));
	strscpy(cap->card, node->vdev.name, sizeof(cap->card));
	strscpy(cap->bus_info, node->cam->mdev.bus_info, sizeof(cap->bus_info));
	return 0;
}

/*
 * Set up and register a node. Whether it fails or not, the node's memory
 * is released by veracam_node_cleanup() from the v4l2_device release.
 */
int veracam_node_register(struct veracam_node *node, struct veracam *cam,
			  const char *name, u32 caps,
			  const struct v4l2_ioctl_ops *ioctl_ops,
			  const struct media_entity_operations *entity_ops)
{
	struct video_device *vdev = &node->vdev;
	struct vb2_queue *q = &node->queue;
	int ret;

	node->cam = cam;
	mutex_init(&node->lock);
	spin_lock_init(&node->buf_lock);
	INIT_LIST_HEAD(&node->buf_list);

	q->type = caps & V4L2_CAP_META_CAPTURE ? V4L2_BUF_TYPE_META_CAPTURE :
						 V4L2_BUF_TYPE_VIDEO_CAPTURE;
	q->io_modes = VB2_MMAP | VB2_USERPTR | VB2_DMABUF;
	q->drv_priv = node;
	q->buf_struct_size = sizeof(struct veracam_buffer);
	q->ops = &veracam_vb2_ops;
	q->mem_ops = &vb2_vmalloc_memops;
	q->timestamp_flags = V4L2_BUF_FLAG_TIMESTAMP_MONOTONIC |
			     V4L2_BUF_FLAG_TSTAMP_SRC_SOE;
	q->min_buffers_needed = 1;
	q->lock = &node->lock;
	q->dev = cam->dev;
	ret = vb2_queue_init(q);
	if (ret)
		return ret;

	node->pad.flags = MEDIA_PAD_FL_SINK | MEDIA_PAD_FL_MUST_CONNECT;
	vdev->entity.ops = entity_ops;
	ret = media_entity_pads_init(&vdev->entity, 1, &node->pad);
	if (ret)
		return ret;

	strscpy(vdev->name, name, sizeof(vdev->name));
	vdev->v4l2_dev = &cam->v4l2_dev;
	vdev->fops = &veracam_node_fops;
	vdev->ioctl_ops = ioctl_ops;
	vdev->release = video_device_release_empty;
	vdev->lock = &node->lock;
	vdev->queue = q;
	vdev->vfl_dir = VFL_DIR_RX;
	vdev->device_caps = caps | V4L2_CAP_STREAMING | V4L2_CAP_IO_MC;
	video_set_drvdata(vdev, node);

	return video_register_device(vdev, VFL_TYPE_VIDEO, -1);
}

/* Stops streaming if needed; open file handles keep the memory alive. */
void veracam_node_unregister(struct veracam_node *node)
{
	vb2_video_unregister_device(&node->vdev);
}

/* From the v4l2_device release, once no file handle is left. */
void veracam_node_cleanup(struct veracam_node *node)
{
	media_entity_cleanup(&node->vdev.entity);
	mutex_destroy(&node->lock);
}
