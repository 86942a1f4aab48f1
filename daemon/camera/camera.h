/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veracam camera side, media steps: capture -> timestamp -> motion -> encode.
 *
 * The camera role of veracamd runs, per frame:
 *
 *	cam_capture_next(cap, &frame)           pixels + capture time + sequence
 *	cam_motion_frame(motion, &vf, &info)    motion events (start/end) to a callback
 *	cam_encode_frame(enc, &frame, &au)      one H.264 access unit (Annex-B)
 *	... sign / seal / send (security core, transport) ...
 *	cam_au_clear(&au)
 *
 * Files, one step each: source.c (parse --source), media.c (media
 * controller graph), metapair.c (metadata <-> video pairing), v4l2.c (libv4l2 capture), pattern.c (GStreamer
 * test source), frametag.c (burned-in tag cells), capture.c (the common
 * capture interface), motion.c (motion detector), encode.c (GStreamer
 * H.264 encoder). The capture time's MONOTONIC -> REALTIME mapping is
 * daemon/util/clock.c's, the same one the hub dates the glass with.
 *
 * Errors are GErrors in the CAM_ERROR domain whose message is one line that
 * names what was wrong.
 */
#ifndef VERACAM_CAMERA_H
#define VERACAM_CAMERA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <linux/veracam.h>
#include <veracam/encoder.h>
#include <veracam/sim-sensor.h>

#include "clock.h"	/* clk_mono_ns, clk_map: the capture time's clock */

G_BEGIN_DECLS

#define CAM_ERROR (cam_error_quark())
GQuark cam_error_quark(void);

enum cam_error_code {
	CAM_ERROR_SOURCE,	/* malformed --source string */
	CAM_ERROR_NOT_FOUND,	/* no device has the requested identity */
	CAM_ERROR_AMBIGUOUS,	/* more than one device matches */
	CAM_ERROR_DEVICE,	/* device error (open, ioctl, stream) */
	CAM_ERROR_FORMAT,	/* no usable pixel format / size */
	CAM_ERROR_GONE,		/* device went away while streaming */
	CAM_ERROR_ENCODER,	/* GStreamer pipeline error */
	CAM_ERROR_TIMEOUT,	/* no frame / access unit within the deadline */
	CAM_ERROR_FAILED,	/* anything else: the system, a URL, a hub's request (role side) */
};

/* ------------------------------------------------------------------ */
/* Source strings (source.c)                                            */
/* ------------------------------------------------------------------ */

enum cam_source_kind {
	CAM_SOURCE_V4L2_ID,	/* v4l2:id=<32 hex>      veracam unique id */
	CAM_SOURCE_V4L2_BUS,	/* v4l2:bus=<bus_info>   media/V4L2 bus_info */
	CAM_SOURCE_V4L2_SERIAL,	/* v4l2:serial=<serial>  media device serial */
	CAM_SOURCE_V4L2_PATH,	/* /dev/videoN (convenience) */
	CAM_SOURCE_PATTERN,	/* pattern:RRGGBB[,scene=solid|moving] */
};

/* What the pattern source shows behind its burned-in numbers. */
enum cam_pattern_scene {
	CAM_SCENE_SOLID,	/* the colour alone: frames tell cameras apart by it */
	CAM_SCENE_MOVING,	/* scrolling bars with a noise patch: real-sized units */
};

#define CAM_SOURCE_VALUE_MAX 128

struct cam_source {
	enum cam_source_kind kind;
	char value[CAM_SOURCE_VALUE_MAX];	/* id (lowercase), bus, serial, path */
	uint32_t rgb;				/* pattern colour 0xRRGGBB */
	enum cam_pattern_scene scene;		/* pattern: what it shows */
};

/* Parse @str; on failure sets CAM_ERROR_SOURCE with a one-line message. */
bool cam_source_parse(const char *str, struct cam_source *out, GError **error);

/* ------------------------------------------------------------------ */
/* Frames                                                               */
/* ------------------------------------------------------------------ */

enum cam_ts_source {
	CAM_TS_SOE,		/* device: MONOTONIC, start of exposure */
	CAM_TS_EOF,		/* device: MONOTONIC, end of frame */
	CAM_TS_DEQUEUE,		/* device gave no monotonic stamp: taken at DQBUF */
	CAM_TS_PRODUCED,		/* pattern source: MONOTONIC at frame production */
};

/* Everything about a frame except its pixels; carried through to the AU. */
struct cam_frame_info {
	uint64_t mono_ns;	/* capture time, CLOCK_MONOTONIC */
	int64_t wall_ns;	/* the same instant on CLOCK_REALTIME */
	enum cam_ts_source ts_source;
	uint32_t sequence;	/* video buffer sequence (pattern: frame count) */
	uint32_t lost_before;	/* frames missing between the previous frame and this */
	bool has_sensor;	/* metadata node delivered this frame's record */
	uint32_t sensor_sequence;
	uint32_t sensor_flags;	/* VERACAM_META_FL_* */
	uint64_t sensor_eof_ns;
	uint32_t exposure, analogue_gain, digital_gain;
};

struct cam_frame {
	GstBuffer *buffer;	/* pixels laid out as cam_capture_video_info() */
	struct cam_frame_info info;
};

void cam_frame_clear(struct cam_frame *frame);

/* ------------------------------------------------------------------ */
/* Burned-in tag (frametag.c): the layout of <veracam/sim-sensor.h>     */
/* ------------------------------------------------------------------ */

/* Draw the sequence row and camera row into a YUV frame (NV12/I420/YUYV). */
void cam_tag_draw(GstVideoFrame *vf, uint32_t sequence, uint32_t camera_tag);
/* Draw @value in decimal, zero-padded to @width digits (at most 10), and a
 * check digit that makes the digit sum a multiple of 10, white on black,
 * font pixels of @scale (even). */
void cam_tag_draw_number(GstVideoFrame *vf, unsigned x, unsigned y,
			unsigned scale, uint32_t value, unsigned width);
/* Read them back; false when the guard cells are not where they belong. */
bool cam_tag_read(const GstVideoFrame *vf, uint32_t *sequence, uint32_t *camera_tag);
/* Mean R, G, B (0..255) of a centred box of @frac_pct percent of each side. */
void cam_frame_mean_rgb(const GstVideoFrame *vf, unsigned frac_pct, double rgb[3]);

/* ------------------------------------------------------------------ */
/* Media graph (media.c)                                                */
/* ------------------------------------------------------------------ */

struct cam_graph_entity { uint32_t id; uint32_t function; };
struct cam_graph_intf { uint32_t id; uint32_t type; uint32_t major, minor; };
struct cam_graph_pad { uint32_t id; uint32_t entity_id; uint32_t flags; uint32_t index; };
struct cam_graph_link { uint32_t id; uint32_t source_id, sink_id; uint32_t flags; };

struct cam_graph {
	struct cam_graph_entity *entities; size_t n_entities;
	struct cam_graph_intf *intfs; size_t n_intfs;
	struct cam_graph_pad *pads; size_t n_pads;
	struct cam_graph_link *links; size_t n_links;
};

/* The entity an interface is linked to (0 when none). */
uint32_t cam_graph_intf_entity(const struct cam_graph *g, uint32_t intf_id);
/*
 * Of @meta_intfs (interfaces known to be veracam metadata capture nodes),
 * the one whose entity is connected by data links to the entity of
 * @video_intf. Returns 0 when none is, and sets *ambiguous when several are.
 */
uint32_t cam_graph_meta_for_video(const struct cam_graph *g, uint32_t video_intf,
				 const uint32_t *meta_intfs, size_t n_meta,
				 bool *ambiguous);
/*
 * The entity feeding @entity through a data link into one of its sink
 * pads (0 when none); *pad_index is the index of the feeding source pad.
 */
uint32_t cam_graph_upstream(const struct cam_graph *g, uint32_t entity,
			    uint32_t *pad_index);
/* The same, with the index of @entity's sink pad of that link in *sink_index. */
uint32_t cam_graph_upstream_link(const struct cam_graph *g, uint32_t entity,
				 uint32_t *pad_index, uint32_t *sink_index);
/* The interface of @type (MEDIA_INTF_T_*) linked to @entity, 0 when none. */
uint32_t cam_graph_entity_intf(const struct cam_graph *g, uint32_t entity, uint32_t type);
/* Read the topology of an open media device fd. */
bool cam_graph_load(int media_fd, struct cam_graph *g, GError **error);
void cam_graph_clear(struct cam_graph *g);

/* ------------------------------------------------------------------ */
/* Metadata <-> video pairing (metapair.c)                              */
/* ------------------------------------------------------------------ */

#define CAM_METAPAIR_DEPTH 8

struct cam_metapair {
	struct veracam_meta pending[CAM_METAPAIR_DEPTH];
	size_t n;
	uint8_t unique_id[VERACAM_UNIQUE_ID_LEN];
	bool have_meta_seq;
	uint32_t last_meta_seq;
	/* counters */
	uint64_t paired;
	uint64_t missing;	/* video frame whose record never came */
	uint64_t meta_lost;	/* sequence gaps on the metadata node */
	uint64_t invalid;	/* bad magic/version/size */
	uint64_t mismatched;	/* same sequence, other timestamp or camera */
	uint64_t overflow;	/* records discarded because too many were pending */
};

enum cam_pair_result {
	CAM_PAIR_FOUND,		/* *out is this frame's record */
	CAM_PAIR_WAIT,		/* the record may still come: poll the meta node */
	CAM_PAIR_MISSING,	/* it will not come (counted) */
};

void cam_metapair_init(struct cam_metapair *mp, const uint8_t unique_id[VERACAM_UNIQUE_ID_LEN]);
/* Offer one dequeued metadata buffer (@len bytes). */
void cam_metapair_push(struct cam_metapair *mp, const void *data, size_t len);
/*
 * Find the record of the video frame (@sequence, @timestamp_ns); the
 * timestamps must agree to the microsecond (v4l2_buffer carries µs).
 */
enum cam_pair_result cam_metapair_take(struct cam_metapair *mp, uint32_t sequence,
				     uint64_t timestamp_ns, struct veracam_meta *out);
/* Give up waiting for @sequence (counted as missing). */
void cam_metapair_give_up(struct cam_metapair *mp);

/* ------------------------------------------------------------------ */
/* Capture (capture.c, v4l2.c, pattern.c)                               */
/* ------------------------------------------------------------------ */

enum cam_io_mode {
	CAM_IO_AUTO,	/* DMABUF when the encoder imports it, else copy */
	CAM_IO_COPY,	/* mmap + one copy per frame into a GstBuffer */
	CAM_IO_DMABUF,	/* VIDIOC_EXPBUF, buffers handed over as dmabuf memory */
};

struct cam_capture_config {
	const char *source;	/* see cam_source_parse */
	const char *name;	/* camera name: pattern text, logs */
	unsigned width, height;	/* default 1280x720 */
	unsigned fps_n, fps_d;	/* default 30/1 */
	unsigned buffers;	/* V4L2 buffers, default 4 */
	unsigned meta_wait_ms;	/* how long a frame waits for its record, default 5 */
	unsigned timeout_ms;	/* no frame within this: CAM_ERROR_TIMEOUT, default 2000 */
	bool unpaced;		/* pattern: as fast as consumed (benchmarks) */
	enum cam_io_mode io;
};

/* The identity that gets signed: stable, never a device number. */
struct cam_identity {
	bool has_unique_id;
	uint8_t unique_id[VERACAM_UNIQUE_ID_LEN];
	char unique_id_hex[VERACAM_UNIQUE_ID_HEX_LEN + 1];
	char driver[32];
	char card[64];
	char bus_info[64];
	char serial[64];
	char model[64];
	/* "id:<hex>" or "bus:<bus_info>;serial:<serial>" */
	char stable[200];
	uint32_t camera_tag;	/* bytes 0..3 of the unique id, big-endian */
};

struct cam_capture_stats {
	uint64_t frames;
	uint64_t lost;		/* sum of sequence gaps on the video node */
	uint64_t errors;	/* buffers completed with V4L2_BUF_FLAG_ERROR (skipped) */
	uint64_t copies;	/* frame copies made by capture */
	uint64_t copied_bytes;
	uint64_t dmabuf_frames;	/* frames handed over as dmabuf, zero-copy */
	uint64_t meta_paired, meta_missing, meta_lost, meta_invalid, meta_mismatched;
	uint64_t clock_measurements, clock_steps, clock_clamped;
	uint64_t clock_bracket_ns;
};

struct cam_capture;

struct cam_capture *cam_capture_open(const struct cam_capture_config *cfg, GError **error);
const GstVideoInfo *cam_capture_video_info(const struct cam_capture *cap);
const struct cam_identity *cam_capture_identity(const struct cam_capture *cap);
/*
 * Before the first frame: tell capture whether the encoder imports DMABUF.
 * Returns true when frames will be handed over as dmabuf memory (then set
 * cam_encode_config.dmabuf_input), false for the copy path.
 */
bool cam_capture_use_dmabuf(struct cam_capture *cap, bool encoder_imports);
/* Blocks for the next frame. false + error on failure (CAM_ERROR_GONE: unplugged). */
bool cam_capture_next(struct cam_capture *cap, struct cam_frame *frame, GError **error);
void cam_capture_get_stats(const struct cam_capture *cap, struct cam_capture_stats *st);
/* Buffers handed out may outlive the capture; it is freed with the last one. */
void cam_capture_close(struct cam_capture *cap);

/*
 * The pattern source's picture as a bin with one "src" pad, for pipelines
 * other than the camera's (make bench's plain GStreamer baseline shows
 * exactly the camera's frames with it): videotestsrc showing @source's
 * colour or scene (live: paced at @info's rate) ! @info's caps !
 * textoverlay @name; each frame stamped with its CLOCK_MONOTONIC
 * production time (cam_pattern_capture_ns), numbered from 0 in
 * GST_BUFFER_OFFSET, with the tag (sequence, @camera_tag) and time digits
 * drawn. Floating, like any new element; NULL + error if it cannot link.
 */
GstElement *cam_pattern_bin_new(const struct cam_source *source, const char *name,
				const GstVideoInfo *info, uint32_t camera_tag,
				bool live, GError **error);
/* A pattern frame's production time (CLOCK_MONOTONIC); false if it has none. */
bool cam_pattern_capture_ns(GstBuffer *buf, uint64_t *mono_ns);

/* ------------------------------------------------------------------ */
/* Motion (motion.c): between capture and encode                        */
/* ------------------------------------------------------------------ */

#define CAM_MOTION_START_FRAMES	2	/* frames with motion in a row before it starts */

struct cam_motion_config {
	bool enabled;
	unsigned grid_w, grid_h;	/* cells the luma is averaged down to, default 64x36 */
	unsigned threshold;		/* luma levels a cell must change by, default 16 */
	unsigned min_area_permille;	/* changed cells for a frame with motion, default 20 */
	uint64_t hold_ns;		/* motion ends this long after the last, default 2 s */
};

enum cam_motion_kind { CAM_MOTION_START, CAM_MOTION_END };

/* An event's start or end, with the capture times of its frames (CLOCK_REALTIME). */
struct cam_motion_event {
	enum cam_motion_kind kind;
	int64_t start_wall_ns;		/* the first frame with motion */
	int64_t end_wall_ns;		/* END: the last frame with motion */
	uint64_t number;		/* 1 for the first event since start */
};

typedef void (*cam_motion_cb)(void *data, const struct cam_motion_event *ev);

struct cam_motion_stats {
	uint64_t frames;		/* offered */
	uint64_t analysed;		/* of them, read (enabled, a format it reads) */
	uint64_t unreadable;		/* of them, in a format it does not read */
	uint64_t moving_frames;		/* with at least the minimum area changed */
	uint64_t events;		/* starts */
	unsigned last_changed_permille;	/* the last analysed frame's changed cells */
	bool active;			/* between a start and its end */
	int64_t start_wall_ns, end_wall_ns;	/* the last event's (end 0 while active) */
};

struct cam_motion;

void cam_motion_config_default(struct cam_motion_config *cfg);
/* NULL when the grid is empty or over 1024 cells a side, or out of memory. */
struct cam_motion *cam_motion_new(const struct cam_motion_config *cfg, cam_motion_cb cb,
				  void *data);
/* One captured frame (NV12, NV21, I420, YV12, GRAY8, YUY2, UYVY); cb runs from here. */
void cam_motion_frame(struct cam_motion *m, const GstVideoFrame *vf,
		      const struct cam_frame_info *info);
/* A new scene (the device reopened): no reference; an event in progress ends. */
void cam_motion_reset(struct cam_motion *m);
void cam_motion_get_stats(const struct cam_motion *m, struct cam_motion_stats *st);
void cam_motion_free(struct cam_motion *m);

/* ------------------------------------------------------------------ */
/* Encode (encode.c)                                                    */
/* ------------------------------------------------------------------ */

struct cam_encode_config {
	enum vc_encoder encoder;	/* VC_ENCODER_AUTO (0, the default), _X264, _V4L2 */
	bool dmabuf_input;	/* frames arrive as dmabuf (cam_capture_use_dmabuf) */
	unsigned bitrate_kbps;	/* default 2000 */
	unsigned idr_interval;	/* frames between IDRs; 0 = one second */
	unsigned timeout_ms;	/* wait for an AU, default 1000 */
};

struct cam_au {
	GstBuffer *buffer;
	GstMapInfo map;
	const uint8_t *data;	/* Annex-B, SPS+PPS before every IDR */
	size_t size;
	bool idr;
	struct cam_frame_info info;	/* of the frame this AU encodes */
};

void cam_au_clear(struct cam_au *au);

struct cam_encoder;

/*
 * The GStreamer element @want stands for here: v4l2h264enc for V4L2, and
 * for AUTO when a V4L2 M2M H.264 encoder exists; else x264enc. NULL +
 * CAM_ERROR_ENCODER when the wanted one is not installed.
 */
const char *cam_encoder_choose(enum vc_encoder want, GError **error);
/* Whether that element takes dmabuf frames without a copy. */
bool cam_encoder_imports_dmabuf(const char *element);
/*
 * What the camera sets on an x264enc (zerolatency, ultrafast, no B-frames,
 * an IDR every @idr frames, @kbps kbit/s): also for make bench's plain
 * GStreamer baseline, which must encode exactly as the camera does.
 */
void cam_encoder_x264_settings(GstElement *x264enc, unsigned idr, unsigned kbps);

struct cam_encoder *cam_encoder_new(const struct cam_encode_config *cfg,
				  const GstVideoInfo *in, GError **error);
const char *cam_encoder_element(const struct cam_encoder *enc);
/*
 * Encode one frame (its buffer reference is taken). Returns 1 with *au
 * filled, 0 when the encoder holds the frame without output yet, -1 with
 * error set.
 */
int cam_encode_frame(struct cam_encoder *enc, struct cam_frame *frame,
		    struct cam_au *au, GError **error);
/* The next frame becomes an IDR (with SPS/PPS): a new hub joined. */
void cam_encoder_force_keyframe(struct cam_encoder *enc);
void cam_encoder_free(struct cam_encoder *enc);

G_END_DECLS

#endif /* VERACAM_CAMERA_H */
