// SPDX-License-Identifier: GPL-2.0
/*
 * recorder.c - the camera's event recorder (recorder.h): the pre-roll
 * ring and clip decisions (rec_core), and the recorder thread whose sink
 * signs each AU of a clip with its event record, muxes the clip into a
 * fragmented MP4, makes the JPEG thumbnail, signs the manifest through
 * the key holder's chain and seals the event for the paired hubs into the
 * bounded spool.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/stat.h>

#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>

#include <veracam/holder.h>
#include <veracam/record.h>

#include "linelog.h"
#include "recorder.h"

/* ------------------------------------------------------------------ */
/* AUs                                                                  */
/* ------------------------------------------------------------------ */

struct rec_au *rec_au_new(const uint8_t *data, size_t size, bool idr, uint64_t mono_ns)
{
	struct rec_au *au = g_new0(struct rec_au, 1);

	au->data = g_memdup2(data, size);
	au->size = size;
	au->idr = idr;
	au->mono_ns = mono_ns;
	return au;
}

void rec_au_free(struct rec_au *au)
{
	if (!au)
		return;
	g_free(au->data);
	g_free(au);
}

const char *rec_end_name(enum rec_end why)
{
	static const char *const names[REC_END__COUNT] = {
		[REC_END_POST_ROLL] = "post-roll",
		[REC_END_MAX_LENGTH] = "max-length",
		[REC_END_GAP] = "gap",
		[REC_END_STOP] = "stop",
	};

	return (unsigned int)why < REC_END__COUNT ? names[why] : "?";
}

/* ------------------------------------------------------------------ */
/* The decision core: ring and clips                                    */
/* ------------------------------------------------------------------ */

enum core_state { IDLE, WAITING, RECORDING };

struct rec_core {
	struct rec_core_config cfg;
	const struct rec_sink_ops *ops;
	void *data;
	struct rec_au *head, *tail;	/* the ring: head is always an IDR */
	size_t n, bytes;
	enum core_state state;
	enum vc_event_trigger trigger;
	unsigned int holds;		/* triggers not yet released (motion, manual) */
	bool held;			/* holds > 0 */
	bool released;			/* let go at release_ns (newest AU then) */
	bool cont;			/* WAITING to continue a clip cut at max length */
	uint64_t release_ns, clip_start_ns, newest_ns;
	struct rec_core_stats st;
};

struct rec_core *rec_core_new(const struct rec_core_config *cfg, const struct rec_sink_ops *ops,
			      void *data)
{
	struct rec_core *c = g_new0(struct rec_core, 1);

	c->cfg = *cfg;
	if (!c->cfg.ring_max_bytes)
		c->cfg.ring_max_bytes = REC_RING_MAX_BYTES;
	c->ops = ops;
	c->data = data;
	return c;
}

static void ring_pop(struct rec_core *c)
{
	struct rec_au *au = c->head;

	c->head = au->next;
	if (!c->head)
		c->tail = NULL;
	c->n--;
	c->bytes -= au->size;
	rec_au_free(au);
}

static void ring_clear(struct rec_core *c)
{
	while (c->head)
		ring_pop(c);
}

/*
 * Keep the newest AUs back to the last IDR at least pre-roll before the
 * newest one (all of them while no IDR is that old), within the byte bound
 * (whole GOPs dropped from the front); an AU with no IDR before it is of
 * no use to a clip and is not kept.
 */
static void ring_push(struct rec_core *c, struct rec_au *au)
{
	uint64_t ws = au->mono_ns > c->cfg.pre_roll_ns ? au->mono_ns - c->cfg.pre_roll_ns : 0;
	struct rec_au *keep = NULL;

	if (!c->head && !au->idr) {
		rec_au_free(au);
		return;
	}
	au->next = NULL;
	if (c->tail)
		c->tail->next = au;
	else
		c->head = au;
	c->tail = au;
	c->n++;
	c->bytes += au->size;
	for (struct rec_au *p = c->head; p; p = p->next)
		if (p->idr && p->mono_ns <= ws)
			keep = p;
	while (keep && c->head != keep)
		ring_pop(c);
	while (c->head && c->bytes > c->cfg.ring_max_bytes) {
		ring_pop(c);
		while (c->head && !c->head->idr)
			ring_pop(c);
	}
}

static void end_clip(struct rec_core *c, enum rec_end why)
{
	c->ops->end(c->data, why);
	c->st.ended[why]++;
	c->state = IDLE;
}

/* The post-roll after the release ran out (at the newest AU)? */
static bool post_roll_over(const struct rec_core *c)
{
	return !c->held && c->released && c->newest_ns >= c->release_ns + c->cfg.post_roll_ns;
}

/*
 * WAITING: begin the clip from the ring when it has an IDR: its head (the
 * last IDR at least pre-roll back) for a new event, its last IDR for the
 * continuation of a clip cut at the maximum length; every AU from there
 * on goes into the clip.
 */
static void try_start(struct rec_core *c)
{
	struct rec_au *start = c->head;

	if (c->cont)
		for (struct rec_au *p = c->head; p; p = p->next)
			if (p->idr)
				start = p;
	if (!start) {
		if (post_roll_over(c)) {
			c->st.missed++;
			c->state = IDLE;
		}
		return;
	}
	c->state = RECORDING;
	c->cont = false;
	c->clip_start_ns = start->mono_ns;
	c->st.clips++;
	c->ops->begin(c->data, c->trigger, start);
	for (struct rec_au *p = start; p; p = p->next)
		c->ops->frame(c->data, p);
	if (post_roll_over(c))
		end_clip(c, REC_END_POST_ROLL);
}

void rec_core_au(struct rec_core *c, struct rec_au *au)
{
	c->st.aus++;
	c->newest_ns = au->mono_ns;
	if (c->state == RECORDING && au->mono_ns - c->clip_start_ns > c->cfg.max_len_ns) {
		end_clip(c, REC_END_MAX_LENGTH);
		if (c->held || !post_roll_over(c)) {
			c->state = WAITING;
			c->cont = true;
		}
	}
	if (c->state == RECORDING)
		c->ops->frame(c->data, au);
	ring_push(c, au);	/* au may be gone from here on */
	if (c->state == WAITING)
		try_start(c);
	else if (c->state == RECORDING && post_roll_over(c))
		end_clip(c, REC_END_POST_ROLL);
}

void rec_core_trigger(struct rec_core *c, enum vc_event_trigger trigger)
{
	c->st.triggers++;
	c->holds++;
	c->held = true;
	c->released = false;
	if (c->state != IDLE)
		return;
	c->trigger = trigger;
	c->state = WAITING;
	c->cont = false;
	try_start(c);
}

void rec_core_release(struct rec_core *c)
{
	if (!c->holds || --c->holds)
		return;		/* another trigger still holds the event */
	c->held = false;
	c->released = true;
	c->release_ns = c->newest_ns;
	if (c->state == RECORDING && post_roll_over(c))
		end_clip(c, REC_END_POST_ROLL);
}

void rec_core_gap(struct rec_core *c)
{
	ring_clear(c);
	if (c->state != RECORDING)
		return;
	end_clip(c, REC_END_GAP);
	if (c->held || !post_roll_over(c)) {
		c->state = WAITING;	/* the next IDR starts the rest of the event */
		c->cont = true;
	}
}

void rec_core_get_stats(const struct rec_core *c, struct rec_core_stats *st)
{
	*st = c->st;
	st->ring_aus = c->n;
	st->ring_bytes = c->bytes;
	st->recording = c->state == RECORDING;
}

void rec_core_free(struct rec_core *c)
{
	if (!c)
		return;
	if (c->state == RECORDING)
		end_clip(c, REC_END_STOP);
	ring_clear(c);
	g_free(c);
}

/* ------------------------------------------------------------------ */
/* Annex-B -> MP4 samples                                               */
/* ------------------------------------------------------------------ */

/*
 * Each NAL unit of an Annex-B AU (PROTOCOL.md §7.3: from after its start
 * code to the next one, trailing zeros removed) as a 4-byte length and its
 * bytes: the MP4 sample ("avc3": parameter sets stay in the stream), whose
 * NAL units are byte for byte those the AU hash covers. The SPS and PPS
 * seen are noted for the track's codec data.
 */
static void annexb_to_avc(const uint8_t *p, size_t len, GByteArray *out, GBytes **sps,
			  GBytes **pps)
{
	size_t i = 0, start = SIZE_MAX;

	g_byte_array_set_size(out, 0);
	for (;;) {
		bool sc = i + 3 <= len && p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1;

		if (sc || i >= len) {
			if (start != SIZE_MAX) {
				size_t end = i;
				uint8_t be[4];

				while (end > start && p[end - 1] == 0)
					end--;
				if (end > start) {
					uint32_t n = (uint32_t)(end - start);
					uint8_t type = p[start] & 0x1f;

					be[0] = (uint8_t)(n >> 24);
					be[1] = (uint8_t)(n >> 16);
					be[2] = (uint8_t)(n >> 8);
					be[3] = (uint8_t)n;
					g_byte_array_append(out, be, 4);
					g_byte_array_append(out, p + start, n);
					if (type == 7 && sps && !*sps)
						*sps = g_bytes_new(p + start, n);
					if (type == 8 && pps && !*pps)
						*pps = g_bytes_new(p + start, n);
				}
			}
			if (i >= len)
				break;
			i += 3;
			start = i;
			continue;
		}
		i++;
	}
}

/* avcC (ISO/IEC 14496-15) for one SPS and one PPS. */
static GstBuffer *avcc_new(GBytes *sps, GBytes *pps)
{
	gsize ns, np;
	const uint8_t *s = g_bytes_get_data(sps, &ns), *q = g_bytes_get_data(pps, &np);
	GByteArray *a = g_byte_array_new();
	uint8_t hdr[8] = { 1, ns > 3 ? s[1] : 66, ns > 3 ? s[2] : 0, ns > 3 ? s[3] : 30,
			   0xff, 0xe1, (uint8_t)(ns >> 8), (uint8_t)ns };
	uint8_t mid[3] = { 1, (uint8_t)(np >> 8), (uint8_t)np };
	GstBuffer *b;

	g_byte_array_append(a, hdr, sizeof(hdr));
	g_byte_array_append(a, s, (guint)ns);
	g_byte_array_append(a, mid, sizeof(mid));
	g_byte_array_append(a, q, (guint)np);
	b = gst_buffer_new_memdup(a->data, a->len);
	g_byte_array_unref(a);
	return b;
}

/* ------------------------------------------------------------------ */
/* The recorder thread and its spool sink                               */
/* ------------------------------------------------------------------ */


enum item_kind { IT_AU, IT_TRIGGER, IT_RELEASE, IT_THUMB, IT_GAP, IT_STOP };

struct item {
	enum item_kind kind;
	struct rec_au *au;
	enum vc_event_trigger trigger;
	GstBuffer *thumb;
	GstVideoInfo info;
};

/* One event of the spool: NUMBER-ID, its files' bytes. */
struct spooled {
	char name[64];
	uint64_t bytes;
};

/* The event being recorded. */
struct event {
	bool active, skip, failed;
	char why[256];
	struct vc_event_writer *w;
	enum vc_event_trigger trigger;
	uint64_t number;
	uint64_t first_mono_ns, last_mono_ns;
	uint32_t frames;
	GstElement *pipe, *src;
	char mp4_path[4096];
	struct vc_buf signed_au;
	GByteArray *sample;
};

struct cam_recorder {
	struct cam_recorder_config cfg;
	char *spool_dir;
	struct vc_device_key *key;
	rec_recipients_fn recipients;
	void *data;
	struct rec_core *core;
	pthread_t thread;

	pthread_mutex_t lock;		/* everything below */
	pthread_cond_t cond;
	GQueue queue;			/* struct item */
	unsigned int queued_aus;
	bool gap_pending, want_thumb;
	unsigned int width, height;
	struct cam_recorder_stats st;

	/*
	 * The spool's events (struct spooled, oldest first) and their files:
	 * the recorder thread adds and drops, the uploader removes what the
	 * store holds (cam_recorder_spool_done). Taken before lock.
	 */
	pthread_mutex_t spool_lock;
	GArray *spool;
	struct linelog log;		/* the recorder thread's lines, for the loop */

	/* the recorder thread's own */
	struct event ev;
	GstBuffer *thumb;
	GstVideoInfo thumb_info;
	bool chain_set;			/* a local key's chain (tests) */
	uint64_t chain_number;
	uint8_t chain_hash[VC_HASH_LEN];
};

static void rec_log(struct cam_recorder *r, int prio, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static void rec_log(struct cam_recorder *r, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	linelog_vadd(&r->log, prio, fmt, ap);
	va_end(ap);
}

void cam_recorder_drain_log(struct cam_recorder *r, rec_log_fn fn, void *data)
{
	linelog_drain(&r->log, fn, data);
}

static void stats_update(struct cam_recorder *r, void (*fn)(struct cam_recorder_stats *st,
							     void *arg), void *arg)
{
	pthread_mutex_lock(&r->lock);
	fn(&r->st, arg);
	pthread_mutex_unlock(&r->lock);
}

static void count_failed(struct cam_recorder_stats *st, void *arg)
{
	(void)arg;
	st->failed++;
}

static void count_no_recipient(struct cam_recorder_stats *st, void *arg)
{
	(void)arg;
	st->no_recipient++;
}

static void ev_fail(struct cam_recorder *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void ev_fail(struct cam_recorder *r, const char *fmt, ...)
{
	va_list ap;

	if (r->ev.failed)
		return;
	r->ev.failed = true;
	va_start(ap, fmt);
	vsnprintf(r->ev.why, sizeof(r->ev.why), fmt, ap);
	va_end(ap);
}

/* ---- the MP4 ---- */

static GstElement *mp4_open(struct cam_recorder *r, GBytes *sps, GBytes *pps, GError **err)
{
	struct event *ev = &r->ev;
	GstElement *pipe = gst_parse_launch("appsrc name=src format=time ! mux.video_0 "
					    "mp4mux name=mux fragment-duration=1000 ! "
					    "filesink name=sink", err);
	GstElement *src, *sink;
	GstBuffer *cd;
	GstCaps *caps;
	unsigned int w, h;

	if (!pipe)
		return NULL;
	pthread_mutex_lock(&r->lock);
	w = r->width;
	h = r->height;
	pthread_mutex_unlock(&r->lock);
	src = gst_bin_get_by_name(GST_BIN(pipe), "src");
	sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
	cd = avcc_new(sps, pps);
	caps = gst_caps_new_simple("video/x-h264", "stream-format", G_TYPE_STRING, "avc3",
				   "alignment", G_TYPE_STRING, "au",
				   "width", G_TYPE_INT, (int)(w ? w : 1280),
				   "height", G_TYPE_INT, (int)(h ? h : 720),
				   "framerate", GST_TYPE_FRACTION, (int)r->cfg.fps, 1,
				   "codec_data", GST_TYPE_BUFFER, cd, NULL);
	g_object_set(src, "caps", caps, "max-bytes", (guint64)0, NULL);
	g_object_set(sink, "location", ev->mp4_path, NULL);
	gst_caps_unref(caps);
	gst_buffer_unref(cd);
	gst_object_unref(sink);
	if (gst_element_set_state(pipe, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
		g_set_error(err, CAM_ERROR, CAM_ERROR_ENCODER, "mp4mux pipeline did not start");
		gst_object_unref(src);
		gst_object_unref(pipe);
		return NULL;
	}
	ev->src = src;
	return pipe;
}

/* EOS and wait for the muxer to finish the file; 0 or -1. */
static int mp4_close(struct event *ev, char *why, size_t cap)
{
	GstBus *bus = gst_element_get_bus(ev->pipe);
	GstMessage *m;
	int rc = -1;

	gst_app_src_end_of_stream(GST_APP_SRC(ev->src));
	m = gst_bus_timed_pop_filtered(bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
	if (m && GST_MESSAGE_TYPE(m) == GST_MESSAGE_EOS) {
		rc = 0;
	} else if (m) {
		GError *e = NULL;

		gst_message_parse_error(m, &e, NULL);
		snprintf(why, cap, "mp4: %s", e->message);
		g_error_free(e);
	} else {
		snprintf(why, cap, "mp4: the muxer did not finish within 10 s");
	}
	if (m)
		gst_message_unref(m);
	gst_object_unref(bus);
	gst_element_set_state(ev->pipe, GST_STATE_NULL);
	gst_object_unref(ev->src);
	gst_object_unref(ev->pipe);
	ev->src = ev->pipe = NULL;
	return rc;
}

/* ---- the thumbnail ---- */

/* The raw frame as a JPEG of REC_THUMB_WIDTH pixels wide; 0 or -1 (why set). */
static int jpeg_encode(GstBuffer *raw, const GstVideoInfo *info, GBytes **out, char *why,
		       size_t cap)
{
	GError *err = NULL;
	GstElement *pipe = gst_parse_launch("appsrc name=src format=time ! videoconvert ! "
					    "videoscale ! capsfilter name=size ! jpegenc ! "
					    "appsink name=sink sync=false", &err);
	GstElement *src, *size, *sink;
	GstSample *s = NULL;
	GstCaps *caps;
	int w = REC_THUMB_WIDTH, h;

	if (!pipe) {
		snprintf(why, cap, "thumbnail: %s", err->message);
		g_error_free(err);
		return -1;
	}
	h = (int)((uint64_t)w * (uint64_t)GST_VIDEO_INFO_HEIGHT(info) /
		  (uint64_t)MAX(GST_VIDEO_INFO_WIDTH(info), 1)) & ~1;
	src = gst_bin_get_by_name(GST_BIN(pipe), "src");
	size = gst_bin_get_by_name(GST_BIN(pipe), "size");
	sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
	caps = gst_video_info_to_caps(info);
	g_object_set(src, "caps", caps, NULL);
	gst_caps_unref(caps);
	caps = gst_caps_new_simple("video/x-raw", "width", G_TYPE_INT, w, "height", G_TYPE_INT,
				   MAX(h, 2), "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
	g_object_set(size, "caps", caps, NULL);
	gst_caps_unref(caps);
	if (gst_element_set_state(pipe, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE) {
		gst_app_src_push_buffer(GST_APP_SRC(src), gst_buffer_ref(raw));
		gst_app_src_end_of_stream(GST_APP_SRC(src));
		s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND);
	}
	if (s) {
		GstMapInfo map;
		GstBuffer *b = gst_sample_get_buffer(s);

		if (b && gst_buffer_map(b, &map, GST_MAP_READ)) {
			*out = g_bytes_new(map.data, map.size);
			gst_buffer_unmap(b, &map);
		}
		gst_sample_unref(s);
	}
	gst_element_set_state(pipe, GST_STATE_NULL);
	gst_object_unref(src);
	gst_object_unref(size);
	gst_object_unref(sink);
	gst_object_unref(pipe);
	if (!*out) {
		snprintf(why, cap, "thumbnail: jpegenc gave no picture");
		return -1;
	}
	return 0;
}

/* ---- the spool ---- */

/* Write name in the spool atomically (temporary name, fsync, rename). */
static int spool_write(struct cam_recorder *r, const char *name, const uint8_t *p, size_t len,
		       char *why, size_t cap)
{
	char *tmp = g_strdup_printf("%s/.%s.tmp", r->spool_dir, name);
	char *dst = g_strdup_printf("%s/%s", r->spool_dir, name);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	size_t off = 0;
	int rc = -1;

	while (fd >= 0 && off < len) {
		ssize_t n = write(fd, p + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (fd >= 0 && off == len && fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		if (rename(tmp, dst) == 0)
			rc = 0;
	}
	if (rc < 0) {
		snprintf(why, cap, "spool %s: %s", dst, strerror(errno ? errno : EIO));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
	g_free(tmp);
	g_free(dst);
	return rc;
}

static const char *const spool_ext[] = { "env", "thumb", "clip" };

static void spool_remove(struct cam_recorder *r, const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(spool_ext); i++) {
		char *p = g_strdup_printf("%s/%s.%s", r->spool_dir, name, spool_ext[i]);

		unlink(p);
		g_free(p);
	}
}

static void spool_totals(struct cam_recorder *r)
{
	uint64_t bytes = 0;

	for (guint i = 0; i < r->spool->len; i++)
		bytes += g_array_index(r->spool, struct spooled, i).bytes;
	pthread_mutex_lock(&r->lock);
	r->st.spool_events = r->spool->len;
	r->st.spool_bytes = bytes;
	pthread_mutex_unlock(&r->lock);
}

static gint spooled_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(((const struct spooled *)a)->name, ((const struct spooled *)b)->name);
}

/*
 * At start: the complete events (an envelope) in name order, which is
 * event number order; temporary files and the objects of an event whose
 * envelope was never written are removed.
 */
static int spool_scan(struct cam_recorder *r, GError **err)
{
	DIR *d;
	struct dirent *e;
	GHashTable *sizes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTable *complete = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	GHashTableIter it;
	gpointer k, v;

	if (g_mkdir_with_parents(r->spool_dir, 0700) < 0 || !(d = opendir(r->spool_dir))) {
		g_set_error(err, CAM_ERROR, CAM_ERROR_DEVICE, "event spool %s: %s", r->spool_dir,
			    strerror(errno));
		g_hash_table_destroy(sizes);
		g_hash_table_destroy(complete);
		return -1;
	}
	while ((e = readdir(d))) {
		const char *dot = strrchr(e->d_name, '.');
		struct stat sb;
		char *base;

		if (e->d_name[0] == '.') {
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				unlinkat(dirfd(d), e->d_name, 0);	/* an unfinished write */
			continue;
		}
		if (!dot || fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(sb.st_mode) || (size_t)(dot - e->d_name) >= sizeof(((struct spooled *)0)->name))
			continue;
		base = g_strndup(e->d_name, (gsize)(dot - e->d_name));
		if (!strcmp(dot + 1, "env"))
			g_hash_table_add(complete, g_strdup(base));
		g_hash_table_insert(sizes, base, GSIZE_TO_POINTER(
			GPOINTER_TO_SIZE(g_hash_table_lookup(sizes, base)) + (gsize)sb.st_size));
	}
	closedir(d);
	g_hash_table_iter_init(&it, sizes);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		struct spooled s = { .bytes = GPOINTER_TO_SIZE(v) };

		if (!g_hash_table_contains(complete, k)) {
			spool_remove(r, k);
			continue;
		}
		g_strlcpy(s.name, k, sizeof(s.name));
		g_array_append_val(r->spool, s);
	}
	g_array_sort(r->spool, spooled_cmp);
	g_hash_table_destroy(sizes);
	g_hash_table_destroy(complete);
	spool_totals(r);
	return 0;
}

/* Make room for bytes more: the oldest events go first (counted, logged). */
static bool spool_make_room(struct cam_recorder *r, uint64_t bytes)
{
	uint64_t total = 0;

	if (bytes > r->cfg.spool_max_bytes)
		return false;
	pthread_mutex_lock(&r->spool_lock);
	for (guint i = 0; i < r->spool->len; i++)
		total += g_array_index(r->spool, struct spooled, i).bytes;
	while (r->spool->len && total + bytes > r->cfg.spool_max_bytes) {
		struct spooled old = g_array_index(r->spool, struct spooled, 0);

		spool_remove(r, old.name);
		g_array_remove_index(r->spool, 0);
		total -= old.bytes;
		pthread_mutex_lock(&r->lock);
		r->st.spool_dropped++;
		pthread_mutex_unlock(&r->lock);
		rec_log(r, LOG_WARNING, "event spool full (%" PRIu64 " bytes at most): dropped "
			"the oldest event %s (%" PRIu64 " bytes)", r->cfg.spool_max_bytes,
			old.name, old.bytes);
	}
	pthread_mutex_unlock(&r->spool_lock);
	return true;
}

/* ---- the sink ---- */

static void sink_begin(void *data, enum vc_event_trigger trigger, const struct rec_au *first)
{
	struct cam_recorder *r = data;
	struct event *ev = &r->ev;
	struct vc_event_recipient to[VC_MANIFEST_MAX_RECIPIENTS];
	struct vc_event_head head = { 0 };
	char hex[2 * VC_EVENT_ID_LEN + 1];

	memset(ev, 0, sizeof(*ev));
	ev->active = true;
	ev->trigger = trigger;
	ev->first_mono_ns = first->mono_ns;
	if (!r->thumb) {	/* a clip that continues an event: its own thumbnail */
		pthread_mutex_lock(&r->lock);
		r->want_thumb = true;
		pthread_mutex_unlock(&r->lock);
	}
	if (!r->recipients || !r->recipients(r->data, to, G_N_ELEMENTS(to))) {
		ev->skip = true;
		stats_update(r, count_no_recipient, NULL);
		rec_log(r, LOG_WARNING, "event not recorded: no paired hub's encryption key to "
			"seal it for");
		return;
	}
	if (vc_key_is_remote(r->key)) {
		if (vc_holder_event_head(r->key, &head) < 0) {
			ev_fail(r, "event chain head: %s", vc_last_error());
			return;
		}
	} else {
		head.set = r->chain_set;
		head.number = r->chain_number;
		memcpy(head.hash, r->chain_hash, VC_HASH_LEN);
	}
	ev->number = head.set ? head.number + 1 : 0;
	ev->w = vc_event_writer_new(r->key, first->source, ev->number,
				    head.set ? head.hash : NULL);
	if (!ev->w) {
		ev_fail(r, "event writer: %s", vc_last_error());
		return;
	}
	ev->sample = g_byte_array_new();
	vc_hex(vc_event_writer_id(ev->w), VC_EVENT_ID_LEN, hex);
	snprintf(ev->mp4_path, sizeof(ev->mp4_path), "%s/.rec-%s.mp4", r->spool_dir, hex);
}

static void sink_frame(void *data, const struct rec_au *au)
{
	struct cam_recorder *r = data;
	struct event *ev = &r->ev;
	struct vc_frame_info fi = {
		.capture_ns = au->wall_ns > 0 ? (uint64_t)au->wall_ns : 0,
		.sensor_seq = au->sensor_seq,
		.has_sensor_seq = au->has_sensor_seq,
	};
	GBytes *sps = NULL, *pps = NULL;
	GstBuffer *b;

	if (!ev->active || ev->skip || ev->failed)
		return;
	if (vc_event_writer_add(ev->w, &fi, au->data, au->size, &ev->signed_au) < 0) {
		ev_fail(r, "frame %u: %s", ev->frames, vc_last_error());
		return;
	}
	annexb_to_avc(ev->signed_au.data, ev->signed_au.len, ev->sample,
		      ev->pipe ? NULL : &sps, ev->pipe ? NULL : &pps);
	if (!ev->pipe) {
		GError *err = NULL;

		if (!sps || !pps)
			ev_fail(r, "the clip's first AU has no SPS and PPS");
		else if (!(ev->pipe = mp4_open(r, sps, pps, &err)))
			ev_fail(r, "mp4: %s", err ? err->message : "cannot set up");
		g_clear_error(&err);
		if (sps)
			g_bytes_unref(sps);
		if (pps)
			g_bytes_unref(pps);
		if (!ev->pipe)
			return;
	}
	b = gst_buffer_new_memdup(ev->sample->data, ev->sample->len);
	GST_BUFFER_PTS(b) = GST_BUFFER_DTS(b) = au->mono_ns - ev->first_mono_ns;
	GST_BUFFER_DURATION(b) = GST_SECOND / MAX(r->cfg.fps, 1u);
	if (!au->idr)
		GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
	if (gst_app_src_push_buffer(GST_APP_SRC(ev->src), b) != GST_FLOW_OK)
		ev_fail(r, "mp4: the muxer refused frame %u", ev->frames);
	ev->frames++;
	ev->last_mono_ns = au->mono_ns;
}

static GBytes *read_file(const char *path, char *why, size_t cap)
{
	gchar *p = NULL;
	gsize n = 0;
	GError *err = NULL;

	if (!g_file_get_contents(path, &p, &n, &err)) {
		snprintf(why, cap, "%s", err->message);
		g_error_free(err);
		return NULL;
	}
	return g_bytes_new_take(p, n);
}

struct written {
	uint64_t number;
	uint32_t frames;
	uint64_t clip_bytes;
};

static void count_written(struct cam_recorder_stats *st, void *arg)
{
	const struct written *w = arg;

	st->written++;
	st->have_last = true;
	st->last_number = w->number;
	st->last_frames = w->frames;
	st->last_clip_bytes = w->clip_bytes;
}

/*
 * The clip is complete: its MP4 and thumbnail, the signed manifest (the
 * holder refuses one that does not follow its chain head), the envelope
 * and the two sealed objects into the spool, envelope last.
 */
static int event_seal(struct cam_recorder *r, GBytes *mp4, GBytes *jpeg, enum rec_end why_end)
{
	struct event *ev = &r->ev;
	struct vc_event_recipient to[VC_MANIFEST_MAX_RECIPIENTS];
	uint8_t ids[VC_MANIFEST_MAX_RECIPIENTS][VC_KEY_ID_LEN];
	uint8_t man[VC_MANIFEST_MAX_LEN];
	struct vc_event_sealer *sealer = NULL;
	struct vc_buf env = { 0 }, thumb = { 0 }, clip = { 0 };
	char hex[2 * VC_EVENT_ID_LEN + 1], base[64], name[80];
	size_t n = r->recipients(r->data, to, G_N_ELEMENTS(to)), jl = 0;
	const uint8_t *jp = jpeg ? g_bytes_get_data(jpeg, &jl) : NULL;
	gsize cl;
	const uint8_t *cp = g_bytes_get_data(mp4, &cl);
	int len, rc = -1;
	struct written wr;

	if (!n) {
		ev_fail(r, "no paired hub's encryption key to seal it for");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(ids[i], to[i].key_id, VC_KEY_ID_LEN);
	len = vc_event_writer_finish(ev->w, ev->trigger, jp, jl, (const uint8_t (*)[VC_KEY_ID_LEN])ids,
				     n, man);
	if (len < 0) {
		ev_fail(r, "manifest: %s", vc_last_error());
		return -1;
	}
	if (!vc_key_is_remote(r->key)) {
		r->chain_set = true;
		r->chain_number = ev->number;
		vc_event_hash(man, (size_t)len, r->chain_hash);
	}
	if (vc_envelope_seal(r->cfg.aead, man, (size_t)len, to, n, &sealer, &env) < 0 ||
	    (jp && vc_event_object_seal(sealer, VC_OBJECT_THUMBNAIL, jp, jl, &thumb) < 0) ||
	    vc_event_object_seal(sealer, VC_OBJECT_CLIP, cp, cl, &clip) < 0) {
		ev_fail(r, "seal: %s", vc_last_error());
		goto out;
	}
	vc_hex(vc_event_writer_id(ev->w), VC_EVENT_ID_LEN, hex);
	snprintf(base, sizeof(base), "%020" PRIu64 "-%.32s", ev->number, hex);
	if (!spool_make_room(r, env.len + thumb.len + clip.len)) {
		ev_fail(r, "%zu bytes: larger than the whole spool (%" PRIu64 " bytes)",
			env.len + thumb.len + clip.len, r->cfg.spool_max_bytes);
		goto out;
	}
	snprintf(name, sizeof(name), "%s.clip", base);
	if (spool_write(r, name, clip.data, clip.len, ev->why, sizeof(ev->why)) < 0)
		goto failed;
	snprintf(name, sizeof(name), "%s.thumb", base);
	if (thumb.len && spool_write(r, name, thumb.data, thumb.len, ev->why, sizeof(ev->why)) < 0)
		goto failed;
	snprintf(name, sizeof(name), "%s.env", base);
	if (spool_write(r, name, env.data, env.len, ev->why, sizeof(ev->why)) < 0)
		goto failed;
	{
		struct spooled s = { .bytes = env.len + thumb.len + clip.len };

		g_strlcpy(s.name, base, sizeof(s.name));
		pthread_mutex_lock(&r->spool_lock);
		g_array_append_val(r->spool, s);
		spool_totals(r);
		pthread_mutex_unlock(&r->spool_lock);
	}
	if (r->cfg.spooled)
		r->cfg.spooled(r->cfg.spooled_data);
	wr = (struct written){ ev->number, ev->frames, cl };
	stats_update(r, count_written, &wr);
	rec_log(r, LOG_INFO, "event %" PRIu64 " (%s) recorded: %u frames, %.1f s, clip %zu bytes, "
		"thumbnail %zu bytes, sealed for %zu hub%s, ended by %s", ev->number, base,
		ev->frames, (double)(ev->last_mono_ns - ev->first_mono_ns) / 1e9, (size_t)cl, jl, n, n == 1 ? "" : "s", rec_end_name(why_end));
	rc = 0;
	goto out;
failed:
	ev->failed = true;
	spool_remove(r, base);
out:
	vc_event_sealer_free(sealer);
	vc_buf_free(&env);
	vc_buf_free(&thumb);
	vc_buf_free(&clip);
	return rc;
}

static void sink_end(void *data, enum rec_end why)
{
	struct cam_recorder *r = data;
	struct event *ev = &r->ev;
	GBytes *mp4 = NULL, *jpeg = NULL;
	char jwhy[160] = "";

	if (!ev->active)
		return;
	if (ev->pipe && mp4_close(ev, ev->why, sizeof(ev->why)) < 0)
		ev->failed = true;
	if (!ev->skip && !ev->failed && ev->frames && ev->mp4_path[0])
		mp4 = read_file(ev->mp4_path, ev->why, sizeof(ev->why));
	if (ev->mp4_path[0])
		unlink(ev->mp4_path);
	if (!ev->skip && !ev->failed && !mp4)
		ev_fail(r, "mp4: %s", ev->why[0] ? ev->why : "no frame");
	if (mp4 && r->thumb && jpeg_encode(r->thumb, &r->thumb_info, &jpeg, jwhy, sizeof(jwhy)) < 0)
		rec_log(r, LOG_WARNING, "event %" PRIu64 ": %s; recorded without one", ev->number,
			jwhy);
	if (mp4)
		event_seal(r, mp4, jpeg, why);
	if (ev->failed) {
		stats_update(r, count_failed, NULL);
		rec_log(r, LOG_ERR, "event %" PRIu64 " not recorded: %s", ev->number, ev->why);
	}
	if (mp4)
		g_bytes_unref(mp4);
	if (jpeg)
		g_bytes_unref(jpeg);
	if (r->thumb)
		gst_buffer_unref(r->thumb);
	r->thumb = NULL;
	vc_event_writer_free(ev->w);
	vc_buf_free(&ev->signed_au);
	if (ev->sample)
		g_byte_array_unref(ev->sample);
	memset(ev, 0, sizeof(*ev));
}

static const struct rec_sink_ops spool_sink = {
	.begin = sink_begin,
	.frame = sink_frame,
	.end = sink_end,
};

/* ---- the thread ---- */

static void item_free(struct item *it)
{
	rec_au_free(it->au);
	if (it->thumb)
		gst_buffer_unref(it->thumb);
	g_free(it);
}

static void *recorder_main(void *arg)
{
	struct cam_recorder *r = arg;

	for (;;) {
		struct item *it;
		struct rec_core_stats cs;

		pthread_mutex_lock(&r->lock);
		while (!(it = g_queue_pop_head(&r->queue)))
			pthread_cond_wait(&r->cond, &r->lock);
		if (it->kind == IT_AU)
			r->queued_aus--;
		pthread_mutex_unlock(&r->lock);
		switch (it->kind) {
		case IT_AU:
			rec_core_au(r->core, it->au);
			it->au = NULL;
			break;
		case IT_TRIGGER:
			rec_core_get_stats(r->core, &cs);
			if (!cs.recording && r->thumb) {	/* an older trigger's */
				gst_buffer_unref(r->thumb);
				r->thumb = NULL;
			}
			rec_core_trigger(r->core, it->trigger);
			break;
		case IT_RELEASE:
			rec_core_release(r->core);
			break;
		case IT_GAP:
			rec_core_gap(r->core);
			break;
		case IT_THUMB:
			if (!r->thumb) {
				r->thumb = it->thumb;
				r->thumb_info = it->info;
				it->thumb = NULL;
			}
			break;
		case IT_STOP:
			item_free(it);
			return NULL;
		}
		item_free(it);
		rec_core_get_stats(r->core, &cs);
		pthread_mutex_lock(&r->lock);
		r->st.core = cs;
		pthread_mutex_unlock(&r->lock);
	}
}

static void enqueue(struct cam_recorder *r, struct item *it)
{
	g_queue_push_tail(&r->queue, it);
	pthread_cond_signal(&r->cond);
}

static struct item *item_new(enum item_kind kind)
{
	struct item *it = g_new0(struct item, 1);

	it->kind = kind;
	return it;
}

void cam_recorder_au(struct cam_recorder *r, const struct cam_au *au, const char *source)
{
	struct item *it;

	pthread_mutex_lock(&r->lock);
	if (r->queued_aus >= r->cfg.queue_max) {
		r->st.queue_dropped++;
		r->gap_pending = true;
		pthread_mutex_unlock(&r->lock);
		return;
	}
	if (r->gap_pending) {
		enqueue(r, item_new(IT_GAP));
		r->gap_pending = false;
	}
	pthread_mutex_unlock(&r->lock);
	it = item_new(IT_AU);
	it->au = rec_au_new(au->data, au->size, au->idr, au->info.mono_ns);
	it->au->wall_ns = au->info.wall_ns;
	it->au->has_sensor_seq = au->info.has_sensor;
	it->au->sensor_seq = au->info.sensor_sequence;
	g_strlcpy(it->au->source, source, sizeof(it->au->source));
	pthread_mutex_lock(&r->lock);
	r->queued_aus++;
	enqueue(r, it);
	pthread_mutex_unlock(&r->lock);
}

void cam_recorder_frame(struct cam_recorder *r, const GstVideoFrame *vf)
{
	struct item *it;
	bool want;

	pthread_mutex_lock(&r->lock);
	r->width = GST_VIDEO_INFO_WIDTH(&vf->info);
	r->height = GST_VIDEO_INFO_HEIGHT(&vf->info);
	want = r->want_thumb;
	r->want_thumb = false;
	pthread_mutex_unlock(&r->lock);
	if (!want)
		return;
	it = item_new(IT_THUMB);
	it->info = vf->info;
	it->thumb = gst_buffer_copy_deep(vf->buffer);
	pthread_mutex_lock(&r->lock);
	enqueue(r, it);
	pthread_mutex_unlock(&r->lock);
}

void cam_recorder_trigger(struct cam_recorder *r, enum vc_event_trigger trigger)
{
	struct item *it = item_new(IT_TRIGGER);

	it->trigger = trigger;
	pthread_mutex_lock(&r->lock);
	r->want_thumb = true;
	enqueue(r, it);
	pthread_mutex_unlock(&r->lock);
}

void cam_recorder_release(struct cam_recorder *r)
{
	pthread_mutex_lock(&r->lock);
	enqueue(r, item_new(IT_RELEASE));
	pthread_mutex_unlock(&r->lock);
}

void cam_recorder_restart(struct cam_recorder *r)
{
	pthread_mutex_lock(&r->lock);
	enqueue(r, item_new(IT_GAP));
	r->gap_pending = false;
	pthread_mutex_unlock(&r->lock);
}

void cam_recorder_get_stats(struct cam_recorder *r, struct cam_recorder_stats *st)
{
	pthread_mutex_lock(&r->lock);
	*st = r->st;
	pthread_mutex_unlock(&r->lock);
}

struct cam_recorder *cam_recorder_new(const struct cam_recorder_config *cfg,
				      struct vc_device_key *key, rec_recipients_fn recipients,
				      void *data, GError **error)
{
	struct cam_recorder *r = g_new0(struct cam_recorder, 1);

	r->cfg = *cfg;
	if (!r->cfg.queue_max)
		r->cfg.queue_max = REC_QUEUE_MAX;
	if (!r->cfg.spool_max_bytes)
		r->cfg.spool_max_bytes = REC_SPOOL_MAX_BYTES;
	if (!r->cfg.fps)
		r->cfg.fps = 30;
	if (!r->cfg.aead)
		r->cfg.aead = VC_HPKE_CHACHA20POLY1305;
	r->spool_dir = g_strdup(cfg->spool_dir);
	r->cfg.spool_dir = r->spool_dir;
	r->key = key;
	r->recipients = recipients;
	r->data = data;
	r->spool = g_array_new(FALSE, TRUE, sizeof(struct spooled));
	pthread_mutex_init(&r->lock, NULL);
	pthread_mutex_init(&r->spool_lock, NULL);
	linelog_init(&r->log, "events");
	pthread_cond_init(&r->cond, NULL);
	g_queue_init(&r->queue);
	r->core = rec_core_new(&r->cfg.core, &spool_sink, r);
	if (spool_scan(r, error) < 0 || pthread_create(&r->thread, NULL, recorder_main, r)) {
		if (error && !*error)
			g_set_error(error, CAM_ERROR, CAM_ERROR_DEVICE, "recorder thread: %s",
				    strerror(errno));
		rec_core_free(r->core);
		r->core = NULL;		/* no thread to stop: free() releases the rest */
		cam_recorder_free(r);
		return NULL;
	}
	pthread_setname_np(r->thread, "vc-rec");
	return r;
}

void cam_recorder_stop(struct cam_recorder *r)
{
	struct item *it;

	if (!r || !r->core)
		return;
	pthread_mutex_lock(&r->lock);
	enqueue(r, item_new(IT_STOP));
	pthread_mutex_unlock(&r->lock);
	pthread_join(r->thread, NULL);
	rec_core_free(r->core);	/* a clip in progress is written */
	r->core = NULL;
	pthread_mutex_lock(&r->lock);
	while ((it = g_queue_pop_head(&r->queue)))
		item_free(it);
	pthread_mutex_unlock(&r->lock);
}

void cam_recorder_free(struct cam_recorder *r)
{
	if (!r)
		return;
	cam_recorder_stop(r);
	if (r->thumb)
		gst_buffer_unref(r->thumb);
	g_array_unref(r->spool);
	pthread_mutex_destroy(&r->lock);
	pthread_mutex_destroy(&r->spool_lock);
	linelog_destroy(&r->log);
	pthread_cond_destroy(&r->cond);
	g_free(r->spool_dir);
	g_free(r);
}

int cam_recorder_spool_done(struct cam_recorder *r, const char *name)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&r->spool_lock);
	for (guint i = 0; i < r->spool->len; i++) {
		if (strcmp(g_array_index(r->spool, struct spooled, i).name, name))
			continue;
		spool_remove(r, name);
		g_array_remove_index(r->spool, i);
		spool_totals(r);
		rc = 0;
		break;
	}
	pthread_mutex_unlock(&r->spool_lock);
	return rc;
}
