/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veracam - simulated camera sensor and capture pipeline, driver internals
 *
 * One struct veracam per camera. Its media graph is
 *
 *   [veracam sensor N] pad 0 --+--> [veracam video N]  (image capture)
 *                              +--> [veracam meta N]   (per-frame metadata)
 *
 * The sensor's single CSI-2 source carries both the image and the embedded
 * metadata lines; the capture side (the two video nodes) has no scaler, so
 * the image node's size and pixel encoding must match the sensor's active
 * format, checked at stream start by link validation.
 *
 * Frames are paced by an hrtimer at the sensor's frame period. Each tick
 * records the start-of-exposure time and a sequence number and queues a
 * work item on a freezable kthread worker that produces the frame
 * (pixels, frame tag, metadata) and completes the buffers. Across system
 * sleep the timer stops and the stream resumes with the sensor's
 * registers restored from its controls.
 */
#ifndef _VERACAM_H
#define _VERACAM_H

#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/regulator/consumer.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <media/media-device.h>
#include <media/v4l2-ctrls.h>
#include <media/v4l2-dev.h>
#include <media/v4l2-device.h>
#include <media/v4l2-subdev.h>
#include <media/videobuf2-v4l2.h>

#if IS_ENABLED(CONFIG_VIDEO_V4L2_TPG)
#include <media/tpg/v4l2-tpg.h>
#endif

#include <linux/veracam.h>
#include <veracam/sim-sensor.h>

struct clk;
struct font_desc;
struct gpio_desc;

/* Pixel array and timing of the simulated sensor (a 1080p60 CEA timing). */
#define VERACAM_NATIVE_WIDTH		1920U
#define VERACAM_NATIVE_HEIGHT		1080U
#define VERACAM_MIN_WIDTH		320U
#define VERACAM_MIN_HEIGHT		240U
#define VERACAM_DEF_WIDTH		640U
#define VERACAM_DEF_HEIGHT		480U
#define VERACAM_PIXEL_RATE		148500000ULL
#define VERACAM_LINE_LENGTH		2200U
/* frame length in lines: 60, 30 and 15 frames per second */
#define VERACAM_FRAME_LINES_MIN		1125U
#define VERACAM_FRAME_LINES_DEF		2250U
#define VERACAM_FRAME_LINES_MAX		4500U
#define VERACAM_EXPOSURE_MIN		4U
#define VERACAM_EXPOSURE_MARGIN		4U
#define VERACAM_EXPOSURE_DEF		1000U
#define VERACAM_AGAIN_MIN		16U	/* 1.0x in 1/16 steps */
#define VERACAM_AGAIN_MAX		256U
#define VERACAM_DGAIN_MIN		256U	/* 1.0x in 1/256 steps */
#define VERACAM_DGAIN_MAX		4095U
#define VERACAM_BITS_PER_SAMPLE		24U	/* widest bus format */
#define VERACAM_NUM_SUPPLIES		3

/* sensor registers, as the frame engine sees them */
struct veracam_regs {
	u32 exposure;
	u32 analogue_gain;
	u32 digital_gain;
	u32 frame_lines;
	u32 pattern;		/* enum veracam_test_pattern */
	bool hflip;
	bool vflip;
};

struct veracam_sensor {
	struct v4l2_subdev sd;
	struct media_pad pad;
	struct device *dev;	/* the platform device; probe to remove */

	/*
	 * Protects the control handler, the subdev states (formats and
	 * crop rectangles, it is sd.state_lock) and @streaming.
	 */
	struct mutex lock;
	struct v4l2_ctrl_handler ctrls;
	struct v4l2_ctrl *exposure;
	struct v4l2_ctrl *again;
	struct v4l2_ctrl *dgain;
	struct v4l2_ctrl *hflip;
	struct v4l2_ctrl *vflip;
	struct v4l2_ctrl *pattern;
	struct v4l2_ctrl *vblank;
	struct v4l2_ctrl *hblank;
	struct v4l2_ctrl *pixel_rate;
	struct v4l2_ctrl *link_freq;
	struct v4l2_ctrl *unique_id;
	bool streaming;

	/* Protects @regs; taken from hardirq (the frame timer). */
	spinlock_t regs_lock;
	struct veracam_regs regs;

	/* board resources; optional ones are NULL when absent */
	struct clk *xclk;
	struct gpio_desc *reset;
	struct regulator_bulk_data supplies[VERACAM_NUM_SUPPLIES];
	unsigned int lanes;
	s64 link_freq_menu[1];
};

struct veracam;

/* One capture video node: the image or the metadata node. */
struct veracam_node {
	struct veracam *cam;
	struct video_device vdev;
	struct media_pad pad;
	struct vb2_queue queue;
	/* Serialises the node's ioctls and vb2 queue (vdev.lock, queue.lock) */
	struct mutex lock;
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
	/* image node only: the sensor controls, inherited */
	struct v4l2_ctrl_handler ctrls;
};

struct veracam_buffer {
	struct vb2_v4l2_buffer vb;
	struct list_head list;
};

/* Pixel generator of the simulated sensor (owned by the frame engine). */
struct veracam_gen {
#if IS_ENABLED(CONFIG_VIDEO_V4L2_TPG)
	struct tpg_data tpg;
#endif
	const struct font_desc *font;
	unsigned int index;
	u32 tag;
	u32 colour;		/* 0xRRGGBB of the default pattern */
	u32 fourcc;
	u32 width;
	u32 height;
	u32 bytesperline;
	u32 pattern;		/* pattern the TPG is set up for */
};

/* A frame start recorded by the frame timer. */
struct veracam_tick {
	u32 sequence;
	u64 soe_ns;
};

#define VERACAM_TICKS	8	/* frame starts the engine may lag behind */

struct veracam {
	struct device *dev;	/* the platform device; probe to remove */
	unsigned int index;
	u8 unique_id[VERACAM_UNIQUE_ID_LEN];
	char unique_id_hex[VERACAM_UNIQUE_ID_HEX_LEN + 1];
	u32 tag;

	struct v4l2_device v4l2_dev;
	struct media_device mdev;
	struct media_pipeline pipe;
	struct veracam_sensor sensor;
	struct veracam_node video;
	struct veracam_node meta;

	/* Protects @stream_users and starting and stopping the engine. */
	struct mutex stream_lock;
	unsigned int stream_users;

	/*
	 * Held while a frame is produced: protects the nodes' @active flags
	 * and @gen.
	 */
	struct mutex frame_lock;
	struct veracam_gen gen;

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

static inline struct veracam_sensor *to_veracam_sensor(struct v4l2_subdev *sd)
{
	return container_of(sd, struct veracam_sensor, sd);
}

static inline struct veracam *sensor_to_veracam(struct veracam_sensor *sensor)
{
	return container_of(sensor, struct veracam, sensor);
}

/* veracam-sensor.c */
int veracam_sensor_init(struct veracam_sensor *sensor, struct device *dev,
			const char *unique_id_hex, unsigned int index);
void veracam_sensor_cleanup(struct veracam_sensor *sensor);
int veracam_sensor_get_format(struct veracam_sensor *sensor,
			      struct v4l2_mbus_framefmt *fmt,
			      struct v4l2_rect *crop);
void veracam_sensor_read_regs(struct veracam_sensor *sensor,
			      struct veracam_regs *regs);
u32 veracam_sensor_frame_lines(struct veracam_sensor *sensor);
void veracam_sensor_frame_sync(struct veracam_sensor *sensor, u32 sequence);
bool veracam_sensor_code_supported(u32 code);
int veracam_sensor_enum_frame_interval(unsigned int index, u32 code,
				       u32 width, u32 height,
				       struct v4l2_fract *interval);
void veracam_sensor_g_frame_interval(struct veracam_sensor *sensor,
				     struct v4l2_fract *interval);
int veracam_sensor_s_frame_interval(struct veracam_sensor *sensor,
				    struct v4l2_fract *interval);
void veracam_sensor_pm_enable(struct veracam_sensor *sensor);
void veracam_sensor_pm_disable(struct veracam_sensor *sensor);
extern const struct dev_pm_ops veracam_sensor_pm_ops;

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

/* veracam-gen.c */
int veracam_gen_init(struct veracam_gen *gen, unsigned int index, u32 tag);
void veracam_gen_free(struct veracam_gen *gen);
void veracam_gen_configure(struct veracam_gen *gen,
			   const struct v4l2_pix_format *pix,
			   const struct v4l2_rect *crop);
void veracam_gen_frame(struct veracam_gen *gen, u8 *vaddr,
		       const struct veracam_regs *regs, u32 sequence);

#endif /* _VERACAM_H */
