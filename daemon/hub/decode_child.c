// SPDX-License-Identifier: GPL-2.0
/*
 * decode_child - the decoder child: one camera's GStreamer H.264 decoder
 * in a process of its own that holds nothing (decode.h, docs/ARCHITECTURE.md
 * "The hub's decoders"). It is exec'd by decode.c with two descriptors:
 * DECPROTO_SOCK_FD, its socket to the hub, and DECPROTO_SHM_FD, the sealed
 * memfd of picture slots. It reads access units and decodes them; the
 * decoder writes each picture into a slot (its output buffers are slots:
 * slot_alloc()), and the child hands the slot to the hub with a PICTURE
 * message; the hub hands it back with RELEASE.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include "decode.h"
#include "decproto.h"

GST_DEBUG_CATEGORY_STATIC(vc_decoder_debug);	/* GST_DEBUG=vc-decoder:6 */
#define GST_CAT_DEFAULT vc_decoder_debug

/* Hardware (V4L2 stateful M2M) first, then libav. */
static const char *const decoder_names[] = { "v4l2h264dec", "avdec_h264" };

#define CHILD_NOFILE	64
#define READY_MAX	64	/* whole AUs read and not decoded yet */
#define CHILD_AS	(2ull << 30)	/* GStreamer, libav's threads, the slots */

/* AddressSanitizer and ThreadSanitizer reserve terabytes of shadow address space */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CHILD_UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CHILD_UNDER_SANITIZER 1
#endif
#endif

struct child {
	int sock;
	uint8_t *shm;
	GstElement *pipeline;
	GstPad *feed;			/* the main thread's pad into the pipeline */
	GstCaps *feed_caps;
	GstBus *bus;
	const char *decoder;
	pthread_mutex_t lock;		/* used[], given[], held[] */
	bool used[DECPROTO_SLOTS];	/* a GstMemory or a copy is in the slot */
	bool given[DECPROTO_SLOTS];	/* handed to the hub, not released yet */
	GstBuffer *held[DECPROTO_SLOTS];	/* the decoder's buffer the hub reads */
	GstAllocator *slots;		/* the decoder's pictures in the slots */
	GQueue ready;			/* whole AUs read, not decoded yet */
	uint8_t *au;			/* the AU being received */
	uint64_t au_seq;
	uint32_t au_total, au_have;
};

static void fail(int sock, const char *why)
{
	uint8_t msg[DECPROTO_HDR + DECPROTO_FAIL_MAX];

	send(sock, msg, hub_decproto_put_fail(msg, why), MSG_NOSIGNAL);
	_exit(1);
}

static bool has_property(GstElement *e, const char *name)
{
	return g_object_class_find_property(G_OBJECT_GET_CLASS(e), name);
}

static GstElement *make_decoder(const char **name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(decoder_names); i++) {
		GstElement *e = gst_element_factory_make(decoder_names[i], NULL);

		if (!e)
			continue;
		*name = decoder_names[i];
		/* never show what the decoder concealed */
		if (has_property(e, "discard-corrupted-frames"))
			g_object_set(e, "discard-corrupted-frames", TRUE, NULL);
		if (has_property(e, "output-corrupt"))
			g_object_set(e, "output-corrupt", FALSE, NULL);
		/* frame threading holds frames back; slices do not */
		if (has_property(e, "thread-type"))
			gst_util_set_object_arg(G_OBJECT(e), "thread-type", "slice");
		return e;
	}
	return NULL;
}

/*
 * The slot allocator: the decoder's output buffers are slots of the memfd,
 * so the one copy the decoder makes of each picture (libav decodes into
 * its own reference frames, avdec_h264 copies the picture out into a
 * buffer of its output pool) writes it where the hub reads it, and
 * nothing is copied after. A slot's memory lives until the pool lets go
 * of its buffer and the hub has released the picture. With every slot
 * taken it falls back to ordinary memory, and on_sample() copies that
 * picture into a free slot (so does a decoder that does not use the pool).
 */
typedef struct {
	GstAllocator parent;
	struct child *c;
} SlotAllocator;

typedef struct {
	GstAllocatorClass parent_class;
} SlotAllocatorClass;

GType slot_allocator_get_type(void);
G_DEFINE_TYPE(SlotAllocator, slot_allocator, GST_TYPE_ALLOCATOR)

/* Index of a slot with nothing in it, taken; -1 when all are used. */
static int take_slot(struct child *c)
{
	int k = -1;

	pthread_mutex_lock(&c->lock);
	for (int i = 0; i < DECPROTO_SLOTS && k < 0; i++)
		if (!c->used[i])
			k = i;
	if (k >= 0)
		c->used[k] = true;
	pthread_mutex_unlock(&c->lock);
	return k;
}

static void put_slot(struct child *c, int k)
{
	pthread_mutex_lock(&c->lock);
	c->used[k] = false;
	pthread_mutex_unlock(&c->lock);
}

static struct child *the_child;	/* one per process: the memories' owner */

static void slot_memory_freed(gpointer data)
{
	put_slot(the_child, GPOINTER_TO_INT(data) - 1);
}

static GstMemory *slot_alloc(GstAllocator *a, gsize size, GstAllocationParams *params)
{
	struct child *c = ((SlotAllocator *)a)->c;
	gsize need = size + params->prefix + params->padding;
	int k;

	if (need > DECPROTO_SLOT_SIZE || (k = take_slot(c)) < 0)
		return gst_allocator_alloc(NULL, size, params);
	return gst_memory_new_wrapped(0, c->shm + (size_t)k * DECPROTO_SLOT_SIZE,
				      DECPROTO_SLOT_SIZE, params->prefix, size,
				      GINT_TO_POINTER(k + 1), slot_memory_freed);
}

static void slot_free(GstAllocator *a, GstMemory *m)
{
	/* never called: the slots' memories are sysmem's wrapped ones */
	(void)a;
	(void)m;
}

static void slot_allocator_class_init(SlotAllocatorClass *k)
{
	GST_ALLOCATOR_CLASS(k)->alloc = slot_alloc;
	GST_ALLOCATOR_CLASS(k)->free = slot_free;
}

static void slot_allocator_init(SlotAllocator *a)
{
	GST_OBJECT_FLAG_SET(a, GST_ALLOCATOR_FLAG_CUSTOM_ALLOC);
}

/* The slot the frame's planes all lie in, or -1 (ordinary memory). */
static int frame_slot(const struct child *c, const GstVideoFrame *f)
{
	const uint8_t *end = c->shm + DECPROTO_SLOTS * DECPROTO_SLOT_SIZE;
	const uint8_t *y = GST_VIDEO_FRAME_PLANE_DATA(f, 0);
	int k;

	if (y < c->shm || y >= end)
		return -1;
	k = (int)((size_t)(y - c->shm) / DECPROTO_SLOT_SIZE);
	for (guint i = 0; i < GST_VIDEO_FRAME_N_PLANES(f); i++) {
		const uint8_t *p = GST_VIDEO_FRAME_PLANE_DATA(f, i);
		const uint8_t *base = c->shm + (size_t)k * DECPROTO_SLOT_SIZE;

		if (p < base || p >= base + DECPROTO_SLOT_SIZE)
			return -1;
	}
	return k;
}

/* Copy @rows rows of @bytes into the slot, tightly packed from @at. */
static uint32_t copy_plane(uint8_t *slot, uint32_t at, const uint8_t *src, size_t stride,
			   uint32_t bytes, uint32_t rows)
{
	for (uint32_t r = 0; r < rows; r++)
		memcpy(slot + at + (size_t)r * bytes, src + (size_t)r * stride, bytes);
	return at + bytes * rows;
}

/*
 * A decoded frame to the hub: the main thread inside gst_pad_push() with
 * avdec_h264, v4l2h264dec's capture thread with that decoder (hence the
 * lock). One the decoder wrote into a slot goes as it is (the child keeps
 * its buffer until RELEASE); any other is copied into a free slot first.
 */
static GstFlowReturn on_sample(GstAppSink *sink, gpointer data)
{
	struct child *c = data;
	GstSample *s = gst_app_sink_pull_sample(sink);
	struct hub_decproto_picture p = { 0 };
	uint8_t msg[DECPROTO_HDR + DECPROTO_PICTURE_LEN];
	GstVideoFrame f;
	GstVideoInfo info;
	GstBuffer *b;
	uint32_t at = 0, cw, ch, planes;
	uint8_t *slot;
	bool in_place = false;
	int k;

	if (!s)
		return GST_FLOW_OK;
	b = gst_sample_get_buffer(s);
	if (!b || !gst_video_info_from_caps(&info, gst_sample_get_caps(s)) ||
	    GST_VIDEO_INFO_WIDTH(&info) > DECPROTO_MAX_W ||
	    GST_VIDEO_INFO_HEIGHT(&info) > DECPROTO_MAX_H ||
	    !gst_video_frame_map(&f, &info, b, GST_MAP_READ)) {
		gst_sample_unref(s);
		return GST_FLOW_ERROR;
	}
	k = frame_slot(c, &f);
	pthread_mutex_lock(&c->lock);
	if (k >= 0 && !c->given[k]) {
		c->given[k] = true;
		c->held[k] = gst_buffer_ref(b);
		in_place = true;
	}
	pthread_mutex_unlock(&c->lock);
	if (!in_place) {
		k = take_slot(c);
		if (k < 0)	/* the hub and the decoder hold every slot: late anyway */
			goto out;
		pthread_mutex_lock(&c->lock);
		c->given[k] = true;	/* (no buffer: RELEASE frees the slot) */
		pthread_mutex_unlock(&c->lock);
	}

	p.slot = (uint32_t)k;
	p.format = GST_VIDEO_INFO_FORMAT(&info) == GST_VIDEO_FORMAT_NV12 ?
		   DECPROTO_NV12 : DECPROTO_I420;
	p.matrix = info.colorimetry.matrix == GST_VIDEO_COLOR_MATRIX_BT709;
	p.full_range = info.colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
	p.width = (uint32_t)GST_VIDEO_INFO_WIDTH(&info);
	p.height = (uint32_t)GST_VIDEO_INFO_HEIGHT(&info);
	p.seq = GST_BUFFER_PTS(b);
	cw = (p.width + 1) / 2;
	ch = (p.height + 1) / 2;
	slot = c->shm + (size_t)k * DECPROTO_SLOT_SIZE;
	planes = p.format == DECPROTO_NV12 ? 2 : 3;
	for (uint32_t i = 0; i < planes; i++) {
		uint32_t bytes = i == 0 ? p.width : p.format == DECPROTO_NV12 ? 2 * cw : cw;
		uint32_t rows = i == 0 ? p.height : ch;
		const uint8_t *src = GST_VIDEO_FRAME_PLANE_DATA(&f, i);
		size_t stride = (size_t)GST_VIDEO_FRAME_PLANE_STRIDE(&f, i);

		if (in_place) {	/* (the hub checks these against the slot again) */
			p.offset[i] = (uint32_t)(src - slot);
			p.stride[i] = (uint32_t)stride;
			continue;
		}
		p.offset[i] = at;
		p.stride[i] = bytes;
		at = copy_plane(slot, at, src, stride, bytes, rows);
	}
	GST_LOG("picture %" G_GUINT64_FORMAT " in slot %d: %s", p.seq, k,
		in_place ? "written there by the decoder" : "copied");
	if (send(c->sock, msg, hub_decproto_put_picture(msg, &p), MSG_NOSIGNAL) < 0)
		_exit(0);	/* the hub is gone */
out:
	gst_video_frame_unmap(&f);
	gst_sample_unref(s);
	return GST_FLOW_OK;
}

/*
 * appsink's answer to the decoder's allocation query: a video buffer pool
 * over the slot allocator. No video meta is offered: with one, avdec_h264
 * would push its own reference frames, which GstVideoDecoder then copies
 * again (they stay mapped for libav), into ordinary memory.
 */
static GstPadProbeReturn on_sink_query(GstPad *pad, GstPadProbeInfo *info, gpointer data)
{
	GstQuery *q = GST_PAD_PROBE_INFO_QUERY(info);
	struct child *c = data;
	GstAllocationParams params;
	GstBufferPool *pool;
	GstStructure *config;
	GstVideoInfo vi;
	GstCaps *caps;

	(void)pad;
	if (GST_QUERY_TYPE(q) != GST_QUERY_ALLOCATION)
		return GST_PAD_PROBE_OK;
	gst_query_parse_allocation(q, &caps, NULL);
	if (!caps || !gst_video_info_from_caps(&vi, caps))
		return GST_PAD_PROBE_HANDLED;
	/* unbounded (avdec_h264 replaces a pool that cannot grow): see slot_alloc() */
	gst_allocation_params_init(&params);
	pool = gst_video_buffer_pool_new();
	config = gst_buffer_pool_get_config(pool);
	gst_buffer_pool_config_set_params(config, caps, (guint)GST_VIDEO_INFO_SIZE(&vi), 0, 0);
	gst_buffer_pool_config_set_allocator(config, c->slots, &params);
	if (gst_buffer_pool_set_config(pool, config)) {
		gst_query_add_allocation_param(q, c->slots, &params);
		gst_query_add_allocation_pool(q, pool, (guint)GST_VIDEO_INFO_SIZE(&vi), 0, 0);
	}
	gst_object_unref(pool);
	return GST_PAD_PROBE_HANDLED;
}

/*
 * JPEG mode (hub_decode_new_jpeg: the events view's thumbnails): image/jpeg,
 * one picture per buffer, into jpegdec ! videoconvert ! appsink, the same
 * sandbox and slots as the H.264 pipeline.
 */
static bool jpeg_mode;

/*
 * The stream's opening events down the feed pad: at the start and again
 * after each FLUSH (the pipeline's pads forgot them going to NULL).
 */
static bool feed_start(struct child *c)
{
	GstSegment seg;

	gst_segment_init(&seg, GST_FORMAT_TIME);
	return gst_pad_push_event(c->feed, gst_event_new_stream_start("veracam-decode")) &&
	       gst_pad_push_event(c->feed, gst_event_new_caps(c->feed_caps)) &&
	       gst_pad_push_event(c->feed, gst_event_new_segment(&seg));
}

/*
 * The pipeline, fed by the child's main thread through a pad of its own
 * (no appsrc, whose streaming thread was a second wake-up per frame):
 * it reads every message waiting on its socket, then parses and decodes
 * the next unit and (avdec_h264) hands its picture to the hub in
 * on_sample() inside gst_pad_push(), so a frame wakes the child once
 * (libav's slice threads help with the decoding itself).
 * appsink does not wait for a preroll (async off): nothing here is timed
 * by a clock.
 */
static void build(struct child *c)
{
	GstAppSinkCallbacks cb = { .new_sample = on_sample };
	GstElement *parse, *dec, *sink;
	GstCaps *caps;
	GstPad *pad;
	char why[160];

	c->pipeline = gst_pipeline_new("veracam-decode");
	if (jpeg_mode) {
		dec = gst_element_factory_make("jpegdec", NULL);
		parse = gst_element_factory_make("videoconvert", NULL);
		c->decoder = "jpegdec";
	} else {
		parse = gst_element_factory_make("h264parse", NULL);
		dec = make_decoder(&c->decoder);
	}
	sink = gst_element_factory_make("appsink", NULL);
	if (!c->pipeline || !parse || !dec || !sink) {
		snprintf(why, sizeof(why), "GStreamer elements missing (%s%s%s)",
			 parse ? "" : jpeg_mode ? "videoconvert " : "h264parse ",
			 dec ? "" : jpeg_mode ? "jpegdec " : "avdec_h264 ", sink ? "" : "appsink");
		fail(c->sock, why);
	}
	gst_bin_add_many(GST_BIN(c->pipeline), parse, dec, sink, NULL);
	if (jpeg_mode ? !gst_element_link_many(dec, parse, sink, NULL) :
			!gst_element_link_many(parse, dec, sink, NULL)) {
		snprintf(why, sizeof(why), "cannot link the %s pipeline", c->decoder);
		fail(c->sock, why);
	}
	c->feed = gst_pad_new("feed", GST_PAD_SRC);
	pad = gst_element_get_static_pad(jpeg_mode ? dec : parse, "sink");
	if (!c->feed || !pad || gst_pad_link(c->feed, pad) != GST_PAD_LINK_OK) {
		snprintf(why, sizeof(why), "cannot feed the %s pipeline", c->decoder);
		fail(c->sock, why);
	}
	gst_object_unref(pad);
	c->feed_caps = gst_caps_from_string(jpeg_mode ? "image/jpeg, parsed=false" :
					    "video/x-h264, stream-format=byte-stream, alignment=au");
	caps = gst_caps_from_string(jpeg_mode ? "video/x-raw, format=I420" :
				    "video/x-raw, format={ I420, NV12 }");
	g_object_set(sink, "caps", caps, "sync", FALSE, "async", FALSE, "max-buffers", 1u,
		     "drop", TRUE, "enable-last-sample", FALSE, NULL);
	gst_caps_unref(caps);
	gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, c, NULL);
	pad = gst_element_get_static_pad(sink, "sink");
	gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, on_sink_query, c, NULL);
	gst_object_unref(pad);
	c->bus = gst_element_get_bus(c->pipeline);
	if (gst_element_set_state(c->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE ||
	    !gst_pad_set_active(c->feed, TRUE) || !feed_start(c))
		fail(c->sock, "decoder pipeline does not start");
}

/* CapInh, CapPrm and CapEff all zero in /proc/self/status (capget filtered too). */
static bool no_caps_in_proc(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int zero = 0;

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if ((sscanf(line, "CapInh: %llx", &v) == 1 || sscanf(line, "CapPrm: %llx", &v) == 1 ||
		     sscanf(line, "CapEff: %llx", &v) == 1) && v == 0)
			zero++;
	}
	fclose(f);
	return zero == 3;
}

/*
 * No capability at all, even when the hub runs as root (by hand). Under
 * the unit, which gives none and filters capset() out (@privileged), there
 * is nothing to drop: a refused capset() is fine when capget() shows none.
 */
static bool drop_caps(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3] = { { 0 } };
	struct __user_cap_data_struct have[_LINUX_CAPABILITY_U32S_3] = { { 0 } };

	if (syscall(SYS_capset, &h, none) == 0)
		return true;
	h.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capget, &h, have) < 0)
		return no_caps_in_proc();
	for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++)
		if (have[i].effective || have[i].permitted || have[i].inheritable)
			return false;
	return true;
}

static bool limits(void)
{
	struct rlimit core = { 0, 0 }, nofile = { CHILD_NOFILE, CHILD_NOFILE };
	bool ok = setrlimit(RLIMIT_CORE, &core) == 0 && setrlimit(RLIMIT_NOFILE, &nofile) == 0;
#ifndef CHILD_UNDER_SANITIZER
	struct rlimit as = { CHILD_AS, CHILD_AS };

	ok = setrlimit(RLIMIT_AS, &as) == 0 && ok;
#endif
	return ok;
}

#if defined(__x86_64__)
#define CHILD_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define CHILD_ARCH	AUDIT_ARCH_AARCH64
#endif

#ifdef CHILD_ARCH
/*
 * What decoding needs once the pipeline is built: memory, threads, time,
 * its own two descriptors. Refused with EPERM: everything else (opening a
 * file, a socket, exec, ptrace, ...), so a library's optional call fails
 * softly; killed at once: the calls that could only be an attack.
 */
static const int child_allowed[] = {
	SYS_read, SYS_write, SYS_readv, SYS_writev, SYS_pread64,
	SYS_recvfrom, SYS_sendto, SYS_recvmsg, SYS_sendmsg, SYS_close,
	SYS_mmap, SYS_munmap, SYS_mremap, SYS_mprotect, SYS_madvise, SYS_brk,
	SYS_futex, SYS_clone, SYS_set_robust_list, SYS_rseq,
	SYS_exit, SYS_exit_group, SYS_restart_syscall,
	SYS_rt_sigaction, SYS_rt_sigprocmask, SYS_rt_sigreturn, SYS_sigaltstack,
	SYS_tgkill, SYS_getpid, SYS_gettid, SYS_getppid,
	SYS_ppoll, SYS_epoll_pwait, SYS_eventfd2, SYS_pipe2, SYS_fcntl,
	/*
	 * GstPoll's wake-up pair (a streaming thread's clock wait makes
	 * one, seen on a loaded host): two connected AF_UNIX ends inside
	 * this process, no way out of it. socket() stays killed.
	 */
	SYS_socketpair,
	SYS_fstat, SYS_newfstatat, SYS_lseek, SYS_ioctl,
	SYS_clock_gettime, SYS_clock_nanosleep, SYS_nanosleep, SYS_gettimeofday,
	SYS_sched_yield, SYS_sched_getaffinity, SYS_getrandom, SYS_membarrier,
	SYS_prctl, SYS_getrusage, SYS_getuid, SYS_geteuid, SYS_getgid, SYS_getegid,
#ifdef SYS_poll
	SYS_poll, SYS_epoll_wait,
#endif
#ifdef SYS_clone3
	SYS_clone3,
#endif
};

static const int child_killed[] = {
	SYS_execve, SYS_execveat, SYS_ptrace, SYS_socket,
	SYS_connect, SYS_bind, SYS_listen, SYS_process_vm_readv, SYS_process_vm_writev,
	SYS_open_by_handle_at, SYS_kill,
};

#define N_ALLOWED	G_N_ELEMENTS(child_allowed)
#define N_KILLED	G_N_ELEMENTS(child_killed)

static void jump_ret(struct sock_filter *f, unsigned int *n, int nr, uint32_t ret)
{
	f[(*n)++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1);
	f[(*n)++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, ret);
}

static bool filter(void)
{
	struct sock_filter f[6 + 2 * (N_ALLOWED + N_KILLED)];
	struct sock_fprog prog = { .filter = f };
	unsigned int n = 0;

	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CHILD_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
	for (size_t i = 0; i < N_KILLED; i++)
		jump_ret(f, &n, child_killed[i], SECCOMP_RET_KILL_PROCESS);
	for (size_t i = 0; i < N_ALLOWED; i++)
		jump_ret(f, &n, child_allowed[i], SECCOMP_RET_ALLOW);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	prog.len = (unsigned short)n;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0;
}
#else
static bool filter(void)
{
	return false;	/* no filter for this architecture: the hub refuses us */
}
#endif

/* One message from the hub. A malformed one ends the child: the hub lies. */
static void on_message(struct child *c, const uint8_t *buf, size_t len)
{
	const uint8_t *b;
	size_t blen;
	uint8_t type;

	if (hub_decproto_hdr(buf, len, &type, &b, &blen) < 0)
		_exit(2);
	if (type == DECPROTO_RELEASE && blen == DECPROTO_RELEASE_LEN) {
		uint32_t k = hub_decproto_get32(b);
		GstBuffer *held;

		if (k >= DECPROTO_SLOTS)
			_exit(2);
		pthread_mutex_lock(&c->lock);
		if (!c->given[k]) {	/* not the hub's to release */
			pthread_mutex_unlock(&c->lock);
			return;
		}
		c->given[k] = false;
		held = c->held[k];
		c->held[k] = NULL;
		if (!held)	/* a copy: free again */
			c->used[k] = false;
		pthread_mutex_unlock(&c->lock);
		if (held)	/* back to the decoder's pool (and the slot free if the pool is gone) */
			gst_buffer_unref(held);
		return;
	}
	if (type == DECPROTO_FLUSH && blen == 0) {
		/* the decoder's state dropped (libav's context closed) */
		gst_element_set_state(c->pipeline, GST_STATE_NULL);
		gst_bus_set_flushing(c->bus, TRUE);
		gst_bus_set_flushing(c->bus, FALSE);
		g_free(c->au);
		c->au = NULL;
		g_queue_clear_full(&c->ready, (GDestroyNotify)gst_buffer_unref);
		if (gst_element_set_state(c->pipeline, GST_STATE_PLAYING) ==
		    GST_STATE_CHANGE_FAILURE || !feed_start(c))
			_exit(3);
		return;
	}
	if (type != DECPROTO_AU || blen <= DECPROTO_AU_FIXED)
		_exit(2);
	uint64_t seq = hub_decproto_get64(b);
	uint32_t total = hub_decproto_get32(b + 8), off = hub_decproto_get32(b + 12);
	size_t chunk = blen - DECPROTO_AU_FIXED;

	if (off == 0) {
		if (!total || total > DECPROTO_AU_MAX)
			_exit(2);
		g_free(c->au);
		c->au = g_malloc(total);
		c->au_seq = seq;
		c->au_total = total;
		c->au_have = 0;
	} else if (!c->au || seq != c->au_seq || off != c->au_have || total != c->au_total) {
		_exit(2);
	}
	if (chunk > c->au_total - c->au_have)
		_exit(2);
	memcpy(c->au + c->au_have, b + DECPROTO_AU_FIXED, chunk);
	c->au_have += (uint32_t)chunk;
	if (c->au_have == c->au_total) {
		GstBuffer *buf2 = gst_buffer_new_wrapped(c->au, c->au_total);

		c->au = NULL;
		GST_BUFFER_PTS(buf2) = seq;
		/*
		 * The hub keeps at most 8 units without a picture here, but a
		 * FLUSH lost to a full socket lets 8 more come; more than
		 * READY_MAX (that, again and again) and the child gives up:
		 * replaced at the next IDR, fail closed.
		 */
		if (c->ready.length >= READY_MAX)
			_exit(3);
		g_queue_push_tail(&c->ready, buf2);
	}
}

void decode_child_main(void)
{
	static uint8_t buf[DECPROTO_MSG_MAX + 1];
	uint8_t hello[DECPROTO_HDR + DECPROTO_HELLO_LEN];
	struct child c = { .sock = DECPROTO_SOCK_FD };
	uint32_t flags = 0;
	GError *gerr = NULL;

	prctl(PR_SET_NAME, "vc-decoder", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() == 1)
		_exit(0);	/* the hub died before we asked */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(c.sock, "decoder child: prctl refused");
	if (!drop_caps())
		fail(c.sock, "decoder child: cannot drop its capabilities");
	if (limits())
		flags |= DECPROTO_F_RLIMITS;
	c.shm = mmap(NULL, DECPROTO_SLOTS * DECPROTO_SLOT_SIZE, PROT_READ | PROT_WRITE,
		     MAP_SHARED, DECPROTO_SHM_FD, 0);
	if (c.shm == MAP_FAILED)
		fail(c.sock, "decoder child: cannot map the picture slots");
	close(DECPROTO_SHM_FD);
	pthread_mutex_init(&c.lock, NULL);
	the_child = &c;
	if (!gst_init_check(NULL, NULL, &gerr)) {
		char why[DECPROTO_FAIL_MAX];

		snprintf(why, sizeof(why), "GStreamer: %s", gerr ? gerr->message : "init failed");
		fail(c.sock, why);
	}
	GST_DEBUG_CATEGORY_INIT(vc_decoder_debug, "vc-decoder", 0, "veracam decoder child");
	c.slots = gst_object_ref_sink(g_object_new(slot_allocator_get_type(), NULL));
	((SlotAllocator *)c.slots)->c = &c;
	build(&c);
	if (!filter())
		fail(c.sock, "decoder child: cannot install its seccomp filter");
	flags |= DECPROTO_F_SECCOMP;
	if (send(c.sock, hello, hub_decproto_put_hello(hello, flags, c.decoder), MSG_NOSIGNAL) < 0)
		_exit(0);

	/*
	 * Every message waiting is read before the next unit is decoded, so a
	 * FLUSH drops the units behind it undecoded and a RELEASE frees its
	 * slot first; a unit is decoded, and its picture handed over, inside
	 * gst_pad_push().
	 */
	for (;;) {
		struct pollfd pfd = { .fd = c.sock, .events = POLLIN };
		GstMessage *m = gst_bus_pop_filtered(c.bus, GST_MESSAGE_ERROR);
		ssize_t n;
		int r;

		if (m)
			_exit(3);	/* a decoder error: the hub starts a fresh child */
		r = poll(&pfd, 1, c.ready.length ? 0 : 100);
		if (r == 0 && c.ready.length) {
			if (gst_pad_push(c.feed, g_queue_pop_head(&c.ready)) != GST_FLOW_OK)
				_exit(3);
			continue;
		}
		if (r <= 0)
			continue;
		n = recv(c.sock, buf, sizeof(buf), MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);	/* the hub closed: done */
		if ((size_t)n > DECPROTO_MSG_MAX)
			_exit(2);
		on_message(&c, buf, (size_t)n);
	}
}

bool hub_decode_child_requested(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], DECODE_CHILD_ARG) &&
	    !strcmp(argv[2], DECODE_CHILD_JPEG)) {
		jpeg_mode = true;
		return true;
	}
	return argc == 2 && !strcmp(argv[1], DECODE_CHILD_ARG);
}
