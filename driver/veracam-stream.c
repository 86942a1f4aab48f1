// SPDX-License-Identifier: GPL-2.0-only
/*
 * veracam - the frame engine
 *
 * While any capture node streams, an hrtimer fires at the sensor's frame
 * period. In hardirq context it only records the frame start (sequence
 * number, the time the frame's first line is read out) and queues the
 * frame work on a kthread worker, which reads the sensor's registers,
 * waits for the end of the frame's readout, produces the frame into the
 * oldest queued buffer of each streaming node and completes them. The
 * timing is a rolling-shutter sensor's: the first line's exposure
 * started an exposure time before the frame start (the buffers'
 * timestamp, V4L2_BUF_FLAG_TSTAMP_SRC_SOE), and the last line is read out
 * the frame's height in line times after it (the metadata's eof_ns); no
 * buffer completes before then.
 *
 *  - no buffer queued on a node: the frame is dropped for that node, its
 *    sequence number is skipped (a visible gap);
 *  - the worker fell behind by a frame or two: the frame is produced late
 *    (its timestamp is still its start of exposure, its eof_ns the end of
 *    its readout: it completes later than that);
 *  - the worker fell further behind (VERACAM_LATE_FRAMES newer frames have
 *    already started) or the buffer cannot be mapped: the frame could not
 *    be produced, the buffer completes with V4L2_BUF_FLAG_ERROR and the
 *    metadata with VERACAM_META_FL_ERROR.
 */

#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/sched.h>

#include "veracam.h"

#define VERACAM_LATE_FRAMES	3

static enum hrtimer_restart veracam_frame_timer(struct hrtimer *timer)
{
	struct veracam *cam = container_of(timer, struct veracam, timer);
	struct veracam_tick *tick;
	unsigned long flags;

	spin_lock_irqsave(&cam->tick_lock, flags);
	if (cam->tick_count == VERACAM_TICKS) {
		/* the worker is stalled: the oldest frame is lost */
		cam->tick_first = (cam->tick_first + 1) % VERACAM_TICKS;
		cam->tick_count--;
	}
	tick = &cam->ticks[(cam->tick_first + cam->tick_count) % VERACAM_TICKS];
	cam->tick_count++;
	tick->sequence = cam->sequence++;
	tick->fs_ns = ktime_get_ns();
	spin_unlock_irqrestore(&cam->tick_lock, flags);

	kthread_queue_work(cam->worker, &cam->frame_work);
	hrtimer_forward_now(timer, ns_to_ktime(READ_ONCE(cam->period_ns)));
	return HRTIMER_RESTART;
}

/* Oldest recorded frame start; @late when it is too old to produce. */
static bool veracam_next_tick(struct veracam *cam, struct veracam_tick *tick,
			      bool *late)
{
	unsigned long flags;
	bool found;

	spin_lock_irqsave(&cam->tick_lock, flags);
	found = cam->tick_count;
	if (found) {
		*tick = cam->ticks[cam->tick_first];
		cam->tick_first = (cam->tick_first + 1) % VERACAM_TICKS;
		cam->tick_count--;
		*late = cam->tick_count >= VERACAM_LATE_FRAMES;
	}
	spin_unlock_irqrestore(&cam->tick_lock, flags);
	return found;
}

static void veracam_complete(struct veracam_buffer *buf, u32 sequence,
			     u64 soe_ns, enum vb2_buffer_state state)
{
	buf->vb.vb2_buf.timestamp = soe_ns;
	buf->vb.sequence = sequence;
	buf->vb.field = V4L2_FIELD_NONE;
	vb2_buffer_done(&buf->vb.vb2_buf, state);
}

/* Sleeps until CLOCK_MONOTONIC @t_ns (the worker may be late already). */
static void veracam_wait_until(u64 t_ns)
{
	ktime_t t = ns_to_ktime(t_ns);

	if (ktime_get_ns() >= t_ns)
		return;
	set_current_state(TASK_UNINTERRUPTIBLE);
	schedule_hrtimeout(&t, HRTIMER_MODE_ABS);
}

/*
 * The registers read at this frame start are the newest written; the
 * frame is exposed with the exposure and gains written the control
 * latency before it (at the first frames of a stream: those read when it
 * started). A frame the engine lost (a gap) does not count.
 */
static void veracam_latch_controls(struct veracam *cam,
				   struct veracam_regs *regs)
{
	struct veracam_regs *w = cam->written;
	unsigned int i;

	if (!cam->written_valid) {
		for (i = 0; i < ARRAY_SIZE(cam->written); i++)
			w[i] = *regs;
		cam->written_valid = true;
	} else {
		memmove(&w[1], &w[0], sizeof(cam->written) - sizeof(w[0]));
		w[0] = *regs;
	}
	regs->exposure = w[VERACAM_EXPOSURE_DELAY].exposure;
	regs->analogue_gain = w[VERACAM_GAIN_DELAY].analogue_gain;
	regs->digital_gain = w[VERACAM_GAIN_DELAY].digital_gain;
}

static void veracam_produce_frame(struct veracam *cam,
				  const struct veracam_tick *tick, bool late)
{
	struct veracam_buffer *vbuf = NULL, *mbuf = NULL;
	struct veracam_meta *meta = NULL;
	struct veracam_regs regs;
	u64 soe_ns = tick->fs_ns, eof_ns = tick->fs_ns;
	bool error = late;
	u8 *vaddr;

	veracam_csi2_frame_sync(cam, tick->sequence);
	/* the sensor's configuration when this frame started */
	if (veracam_source_read(cam, &regs)) {
		error = true;
	} else {
		WRITE_ONCE(cam->period_ns, regs.period_ns);
		veracam_latch_controls(cam, &regs);
		soe_ns -= veracam_lines_ns(&regs, regs.exposure);
		eof_ns += veracam_lines_ns(&regs, regs.height);
	}
	/* the frame is in memory once its last line is read out */
	veracam_wait_until(eof_ns);

	mutex_lock(&cam->frame_lock);
	if (cam->video.active) {
		vbuf = veracam_node_next_buffer(&cam->video);
		if (!vbuf)
			dev_dbg(cam->dev,
				"frame %u: no image buffer queued, dropped\n",
				tick->sequence);
	}
	if (cam->meta.active)
		mbuf = veracam_node_next_buffer(&cam->meta);

	if (vbuf && !error) {
		vaddr = vb2_plane_vaddr(&vbuf->vb.vb2_buf, 0);
		if (vaddr)
			veracam_gen_frame(&cam->gen, vaddr, &regs,
					  tick->sequence);
		else
			error = true;
	}

	if (mbuf) {
		meta = vb2_plane_vaddr(&mbuf->vb.vb2_buf, 0);
		if (meta && error)
			memset(&regs, 0, sizeof(regs));
		if (meta)
			veracam_meta_fill(cam, meta, &regs, tick->sequence,
					  soe_ns, eof_ns, error);
		veracam_complete(mbuf, tick->sequence, soe_ns,
				 meta ? VB2_BUF_STATE_DONE :
					VB2_BUF_STATE_ERROR);
	}
	if (vbuf)
		veracam_complete(vbuf, tick->sequence, soe_ns,
				 error ? VB2_BUF_STATE_ERROR :
					 VB2_BUF_STATE_DONE);
	mutex_unlock(&cam->frame_lock);
}

static void veracam_frame_work(struct kthread_work *work)
{
	struct veracam *cam = container_of(work, struct veracam, frame_work);
	struct veracam_tick tick;
	bool late;

	while (veracam_next_tick(cam, &tick, &late))
		veracam_produce_frame(cam, &tick, late);
}

static int veracam_sensor_s_stream(struct veracam *cam, int enable)
{
	int ret = -ENODEV;

	mutex_lock(&cam->src_lock);
	if (cam->src.sd)
		ret = v4l2_subdev_call(cam->src.sd, video, s_stream, enable);
	mutex_unlock(&cam->src_lock);
	return ret;
}

static int veracam_engine_start(struct veracam *cam)
{
	struct kthread_worker *worker;
	struct veracam_regs regs;
	int ret;

	/*
	 * Freezable: across system sleep no frame is produced while the
	 * sensor is off, and none is half produced when it goes off.
	 */
	worker = kthread_create_worker(KTW_FREEZABLE, "veracam%u", cam->index);
	if (IS_ERR(worker))
		return PTR_ERR(worker);
	/*
	 * It plays the capture DMA engine: it must not wait behind userspace.
	 * At normal priority, even nice -20, frames came late and buffers
	 * were not back in time (v4l2-compliance saw sequence gaps).
	 */
	sched_set_fifo_low(worker->task);
	/* the work item belonged to the previous stream's worker */
	kthread_init_work(&cam->frame_work, veracam_frame_work);

	ret = veracam_source_read(cam, &regs);
	if (!ret)
		ret = veracam_sensor_s_stream(cam, 1);
	if (ret) {
		kthread_destroy_worker(worker);
		return ret;
	}

	cam->written_valid = false;
	spin_lock_irq(&cam->tick_lock);
	cam->sequence = 0;
	cam->tick_first = 0;
	cam->tick_count = 0;
	spin_unlock_irq(&cam->tick_lock);

	cam->worker = worker;
	cam->running = true;
	WRITE_ONCE(cam->period_ns, regs.period_ns);
	hrtimer_start(&cam->timer, ns_to_ktime(regs.period_ns),
		      HRTIMER_MODE_REL);
	return 0;
}

static void veracam_engine_stop(struct veracam *cam)
{
	if (!cam->running)
		return;
	hrtimer_cancel(&cam->timer);
	/* produces the frames already started, then ends the thread */
	kthread_destroy_worker(cam->worker);
	cam->worker = NULL;
	cam->running = false;
	veracam_sensor_s_stream(cam, 0);
}

/* From a node's start_streaming: join the pipeline and the engine. */
int veracam_stream_start(struct veracam_node *node)
{
	struct veracam *cam = node->cam;
	struct v4l2_rect crop;
	int ret;

	ret = video_device_pipeline_start(&node->vdev, &node->pipe);
	if (ret)
		return ret;

	mutex_lock(&cam->stream_lock);
	if (!cam->stream_users) {
		ret = veracam_engine_start(cam);
		if (ret) {
			mutex_unlock(&cam->stream_lock);
			video_device_pipeline_stop(&node->vdev);
			return ret;
		}
	}
	cam->stream_users++;
	mutex_unlock(&cam->stream_lock);

	mutex_lock(&cam->frame_lock);
	if (node == &cam->video &&
	    !veracam_source_get_format(cam, NULL, &crop))
		veracam_gen_configure(&cam->gen, &node->fmt.pix, &crop);
	node->active = true;
	mutex_unlock(&cam->frame_lock);
	return 0;
}

/*
 * From a node's stop_streaming: once frame_lock is released no frame is
 * being produced into the node's buffers, and no later one will be.
 */
void veracam_stream_stop(struct veracam_node *node)
{
	struct veracam *cam = node->cam;

	mutex_lock(&cam->frame_lock);
	node->active = false;
	mutex_unlock(&cam->frame_lock);

	mutex_lock(&cam->stream_lock);
	if (!--cam->stream_users)
		veracam_engine_stop(cam);
	mutex_unlock(&cam->stream_lock);

	video_device_pipeline_stop(&node->vdev);
}

/*
 * System sleep, before the sensor is powered off: the frame worker is
 * already frozen. The frame timer stops; frames that started before and
 * were not produced yet are dropped (a sequence gap), as a receiver loses
 * the frames in flight when the sensor stops.
 */
void veracam_stream_suspend(struct veracam *cam)
{
	mutex_lock(&cam->stream_lock);
	if (cam->running) {
		hrtimer_cancel(&cam->timer);
		spin_lock_irq(&cam->tick_lock);
		cam->tick_first = 0;
		cam->tick_count = 0;
		spin_unlock_irq(&cam->tick_lock);
	}
	mutex_unlock(&cam->stream_lock);
}

/* System resume, once the sensor's registers are restored. */
void veracam_stream_resume(struct veracam *cam)
{
	mutex_lock(&cam->stream_lock);
	if (cam->running)
		hrtimer_start(&cam->timer,
			      ns_to_ktime(READ_ONCE(cam->period_ns)),
			      HRTIMER_MODE_REL);
	mutex_unlock(&cam->stream_lock);
}

/*
 * The sensor is going away: stop the engine, and put each streaming node's
 * queue in the error state, so that a reader blocked in DQBUF or poll()
 * learns at once that no frame will come (EIO, EPOLLERR) instead of
 * waiting forever. STREAMOFF clears the error; the node streams again once
 * a sensor is bound.
 */
void veracam_stream_unbind(struct veracam *cam)
{
	mutex_lock(&cam->stream_lock);
	veracam_engine_stop(cam);
	mutex_unlock(&cam->stream_lock);

	mutex_lock(&cam->frame_lock);
	if (cam->video.active)
		vb2_queue_error(&cam->video.queue);
	if (cam->meta.active)
		vb2_queue_error(&cam->meta.queue);
	mutex_unlock(&cam->frame_lock);
}

void veracam_stream_init(struct veracam *cam)
{
	mutex_init(&cam->stream_lock);
	mutex_init(&cam->src_lock);
	mutex_init(&cam->frame_lock);
	spin_lock_init(&cam->tick_lock);
	hrtimer_init(&cam->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	cam->timer.function = veracam_frame_timer;
}
