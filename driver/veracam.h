/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veracam - virtual CSI-2 receiver and capture DMA engine, internals
 *
 * One struct veracam per receiver instance (camera). It owns the media
 * device and the capture nodes, and binds the camera sensor its endpoint
 * points at through an async notifier. Its media graph is
 *
 *   [vc1 sensor] 0 --> 0 [veracam csi2 N] 1 --> [veracam video N]
 *                                         2 --> [veracam meta N]
 *
 * The receiver has no scaler, so the image node's size and pixel encoding
 * must match the receiver's image source, which is its sink's format,
 * which must match the sensor's; checked at stream start by link
 * validation.
 *
 * Frames are paced by an hrtimer at the sensor's frame period. Each tick
 * records the start-of-exposure time and a sequence number and queues a
 * work item on a freezable kthread worker that produces the frame the
 * sensor's configuration (format, crop, controls, read through subdev
 * operations and the sensor's controls) describes, with the frame tag and
 * metadata, and completes the buffers.
 */
#ifndef _VERACAM_H
#define _VERACAM_H

#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <media/media-device.h>
#include <media/v4l2-async.h>
#include <media/v4l2-ctrls.h>
#include <media/v4l2-dev.h>
#include <media/v4l2-device.h>
#include <media/v4l2-subdev.h>
#include <media/videobuf2-v4l2.h>

#include <media/tpg/v4l2-tpg.h>

#include <linux/veracam.h>
#include <veracam/sim-sensor.h>

struct font_desc;
struct i2c_client;

/* Image sizes the capture DMA engine handles */
#define VERACAM_MAX_WIDTH		1920U
#define VERACAM_MAX_HEIGHT		1080U
#define VERACAM_MIN_WIDTH		320U
#define VERACAM_MIN_HEIGHT		240U
#define VERACAM_DEF_WIDTH		640U
#define VERACAM_DEF_HEIGHT		480U

/* I2C address of camera N's sensor on the i2c-stub adapter: 0x10 + N */
#define VERACAM_SENSOR_ADDR		0x10

/* The sensor's configuration for one frame, read from its controls. */
struct veracam_regs {
	u32 exposure;
	u32 analogue_gain;
	u32 digital_gain;
	/* the sensor's defaults: the scene at these is drawn as it is */
	u32 exposure_def;
	u32 analogue_gain_def;
	u32 digital_gain_def;
	u32 frame_lines;
	u32 height;		/* lines read out */
	u32 line_length;	/* pixels, blanking included */
	u64 pixel_rate;
	u32 pattern;		/* enum veracam_test_pattern */
	bool hflip;
	bool vflip;
	u64 period_ns;		/* frame period */
};

/* The bound sensor's controls the frame engine reads. */
struct veracam_source {
	struct v4l2_subdev *sd;
	struct v4l2_ctrl *exposure;
	struct v4l2_ctrl *again;
	struct v4l2_ctrl *dgain;
	struct v4l2_ctrl *hflip;
	struct v4l2_ctrl *vflip;
	struct v4l2_ctrl *pattern;
	struct v4l2_ctrl *vblank;
	struct v4l2_ctrl *hblank;
	struct v4l2_ctrl *pixel_rate;
};

struct veracam;

enum {
	VERACAM_CSI2_PAD_SINK,
	VERACAM_CSI2_PAD_IMAGE,
	VERACAM_CSI2_PAD_META,
	VERACAM_CSI2_NUM_PADS
};

/* One capture video node: the image or the metadata node. */
struct veracam_node {
	struct veracam *cam;
	struct video_device vdev;
	struct media_pad pad;
	struct vb2_queue queue;
	/* Serialises the node's ioctls and vb2 queue (vdev.lock, queue.lock) */
	struct mutex lock;
	/*
	 * The node's own pipeline: the image and the metadata streams are
	 * independent (the receiver's metadata pad has no interdependency
	 * with its image pads), so either may stream alone.
	 */
	struct media_pipeline pipe;
	/* Protects @buf_list (buffers queued by userspace, not yet filled). */
	spinlock_t buf_lock;
	struct list_head buf_list;
	/* Protected by veracam.frame_lock: the frame engine fills this node. */
	bool active;
	u32 sizeimage;
	union {
		struct v4l2_pix_format pix;	/* image node */
		struct v4l2_meta_format meta;	/* metadata node */
	} fmt;
};

struct veracam_buffer {
	struct vb2_v4l2_buffer vb;
	struct list_head list;
};

/* Pixel generator of the simulated sensor (owned by the frame engine). */
struct veracam_gen {
	struct tpg_data tpg;
	const struct font_desc *font;
	unsigned int index;
	u32 tag;
	u32 colour;		/* 0xRRGGBB of the default pattern */
	u32 fourcc;
	u32 width;
	u32 height;
	u32 bytesperline;
};

/* A frame start recorded by the frame timer. */
struct veracam_tick {
	u32 sequence;
	u64 fs_ns;	/* frame start: its first line read out */
};

#define VERACAM_TICKS	8	/* frame starts the engine may lag behind */

/*
 * Control latency, as many real sensors have (their exposure and gain
 * registers are double-buffered and latched at a frame start): a frame
 * is exposed with the exposure written VERACAM_EXPOSURE_DELAY frames
 * before it and the gains written VERACAM_GAIN_DELAY frames before it.
 */
#define VERACAM_EXPOSURE_DELAY	2
#define VERACAM_GAIN_DELAY	1

struct veracam {
	struct device *dev;	/* the platform device; probe to remove */
	unsigned int index;
	u8 unique_id[VERACAM_UNIQUE_ID_LEN];
	char unique_id_hex[VERACAM_UNIQUE_ID_HEX_LEN + 1];
	u32 tag;

	struct v4l2_device v4l2_dev;
	struct media_device mdev;
	/* the image node's: the unique id */
	struct v4l2_ctrl_handler ctrls;
	struct v4l2_ctrl *unique_id_ctrl;
	struct v4l2_async_notifier notifier;
	struct v4l2_subdev csi2;
	struct media_pad csi2_pads[VERACAM_CSI2_NUM_PADS];
	struct i2c_client *client;	/* the sensor, on i2c-stub */
	bool registered;		/* nodes and media device */

	/*
	 * Protects @src: the sensor is bound (src.sd set) and unbound by
	 * the async notifier.
	 */
	struct mutex src_lock;
	struct veracam_source src;
	struct veracam_node video;
	struct veracam_node meta;

	/*
	 * Protects @stream_users, @running and starting and stopping the
	 * engine. Taken before @src_lock.
	 */
	struct mutex stream_lock;
	unsigned int stream_users;
	bool running;
	u64 period_ns;		/* read by the frame timer */

	/*
	 * Held while a frame is produced: protects the nodes' @active flags
	 * and @gen.
	 */
	struct mutex frame_lock;
	struct veracam_gen gen;

	/*
	 * The sensor's registers as read at the last frames, newest first:
	 * only the frame worker uses them (reset before the timer starts).
	 */
	struct veracam_regs written[VERACAM_EXPOSURE_DELAY + 1];
	bool written_valid;

	/* Protects @ticks, @tick_first, @tick_count and @sequence. */
	spinlock_t tick_lock;
	struct veracam_tick ticks[VERACAM_TICKS];
	unsigned int tick_first;
	unsigned int tick_count;
	u32 sequence;

	struct hrtimer timer;
	struct kthread_worker *worker;
	struct kthread_work frame_work;
};

/* veracam-source.c: the bound sensor, as the receiver sees it */
int veracam_source_bind(struct veracam *cam, struct v4l2_subdev *sd);
void veracam_source_unbind(struct veracam *cam);
int veracam_source_get_format(struct veracam *cam,
			      struct v4l2_mbus_framefmt *fmt,
			      struct v4l2_rect *crop);
int veracam_source_read(struct veracam *cam, struct veracam_regs *regs);
u64 veracam_lines_ns(const struct veracam_regs *regs, u32 lines);
int veracam_source_enum_frame_size(struct veracam *cam,
				   struct v4l2_subdev_frame_size_enum *fse);
int veracam_source_enum_frame_interval(struct veracam *cam,
				       unsigned int index,
				       struct v4l2_fract *interval);
int veracam_source_g_frame_interval(struct veracam *cam,
				    struct v4l2_fract *interval);
int veracam_source_s_frame_interval(struct veracam *cam,
				    struct v4l2_fract *interval);

/* veracam-csi2.c: the receiver subdev */
int veracam_csi2_init(struct veracam *cam);
void veracam_csi2_cleanup(struct veracam *cam);
void veracam_csi2_frame_sync(struct veracam *cam, u32 sequence);
void veracam_csi2_get_image_format(struct veracam *cam,
				   struct v4l2_mbus_framefmt *fmt);

/* veracam-node.c: what the image and metadata nodes share */
int veracam_node_register(struct veracam_node *node, struct veracam *cam,
			  const char *name, u32 caps,
			  const struct v4l2_ioctl_ops *ioctl_ops,
			  const struct media_entity_operations *entity_ops);
void veracam_node_unregister(struct veracam_node *node);
void veracam_node_cleanup(struct veracam_node *node);
struct veracam_buffer *veracam_node_next_buffer(struct veracam_node *node);
int veracam_node_querycap(struct file *file, void *priv,
			  struct v4l2_capability *cap);

/* veracam-video.c */
int veracam_video_register(struct veracam *cam);
bool veracam_video_matches(const struct v4l2_pix_format *pix,
			   const struct v4l2_mbus_framefmt *fmt);

/* veracam-meta.c */
int veracam_meta_register(struct veracam *cam);
void veracam_meta_fill(struct veracam *cam, struct veracam_meta *meta,
		       const struct veracam_regs *regs, u32 sequence,
		       u64 soe_ns, u64 eof_ns, bool error);

/* veracam-stream.c */
void veracam_stream_init(struct veracam *cam);
int veracam_stream_start(struct veracam_node *node);
void veracam_stream_stop(struct veracam_node *node);
void veracam_stream_suspend(struct veracam *cam);
void veracam_stream_resume(struct veracam *cam);
void veracam_stream_unbind(struct veracam *cam);

/* veracam-gen.c */
int veracam_gen_init(struct veracam_gen *gen, unsigned int index, u32 tag);
void veracam_gen_free(struct veracam_gen *gen);
void veracam_gen_configure(struct veracam_gen *gen,
			   const struct v4l2_pix_format *pix,
			   const struct v4l2_rect *crop);
void veracam_gen_frame(struct veracam_gen *gen, u8 *vaddr,
		       const struct veracam_regs *regs, u32 sequence);

#endif /* _VERACAM_H */
