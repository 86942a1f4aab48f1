// SPDX-License-Identifier: GPL-2.0
/*
 * The camera's event recorder (daemon/camera/recorder.c).
 *
 * The decision core on a synthetic AU stream (10 AUs a second, an IDR
 * every second, capture times made up, nothing depends on how fast the
 * test runs): the pre-roll reaches back to an IDR at least pre-roll
 * before the trigger, the post-roll after the release and the maximum
 * length are honoured, a trigger with no IDR in the ring waits for one,
 * lost AUs end a clip before the hole.
 *
 * The recorder whole, on real x264 AUs of a picture with a moving block:
 * the event it writes into the spool opens for each paired hub (and only
 * with its key), the clip is an MP4 that GStreamer's discoverer (the
 * library behind gst-discoverer-1.0) reads as H.264 video and whose
 * every AU, demuxed by qtdemux, carries an event record that verifies
 * against the manifest (vc_clip_check_au) with nothing missing at the end;
 * the MP4 is fragmented (ftyp, moov, then moof + mdat); the thumbnail is
 * a JPEG the manifest binds. A spool bound drops the
 * oldest events and counts them.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>


#include <veracam/event.h>

#include "eventcheck.h"
#include "recorder.h"

#define MS		1000000ull
#define AU_NS		(100 * MS)	/* 10 AUs a second */

/* ------------------------------------------------------------------ */
/* The core                                                             */
/* ------------------------------------------------------------------ */

struct clip {
	uint64_t first_ns, last_ns;
	unsigned int frames;
	bool first_idr;
	enum vc_event_trigger trigger;
	enum rec_end why;
	bool ended;
};

struct seen {
	struct clip clips[48];
	unsigned int n;
};

static void t_begin(void *data, enum vc_event_trigger trigger, const struct rec_au *first)
{
	struct seen *s = data;
	struct clip *c = &s->clips[s->n++];

	g_assert_cmpuint(s->n, <=, G_N_ELEMENTS(s->clips));
	memset(c, 0, sizeof(*c));
	c->trigger = trigger;
	c->first_ns = first->mono_ns;
	c->first_idr = first->idr;
}

static void t_frame(void *data, const struct rec_au *au)
{
	struct seen *s = data;
	struct clip *c = &s->clips[s->n - 1];

	g_assert_false(c->ended);
	if (c->frames)
		g_assert_cmpuint(au->mono_ns, ==, c->last_ns + AU_NS);	/* no hole, no repeat */
	else
		g_assert_cmpuint(au->mono_ns, ==, c->first_ns);
	c->last_ns = au->mono_ns;
	c->frames++;
}

static void t_end(void *data, enum rec_end why)
{
	struct seen *s = data;

	s->clips[s->n - 1].ended = true;
	s->clips[s->n - 1].why = why;
}

static const struct rec_sink_ops test_sink = { t_begin, t_frame, t_end };

static const struct rec_core_config core_cfg = {
	.pre_roll_ns = 3000 * MS,
	.post_roll_ns = 5000 * MS,
	.max_len_ns = 20000 * MS,
};

/* AU number i: at i * 100 ms, an IDR every idr AUs. */
static void feed(struct rec_core *c, unsigned int from, unsigned int to, unsigned int idr)
{
	for (unsigned int i = from; i < to; i++) {
		uint8_t b[64];

		memset(b, (int)i, sizeof(b));
		rec_core_au(c, rec_au_new(b, sizeof(b), i % idr == 0, 1000 * MS + i * AU_NS));
	}
}

static uint64_t at(unsigned int i)
{
	return 1000 * MS + i * AU_NS;
}

static void test_pre_and_post_roll(void)
{
	struct seen s = { 0 };
	struct rec_core *c = rec_core_new(&core_cfg, &test_sink, &s);
	struct rec_core_stats st;

	feed(c, 0, 50, 10);		/* AUs 0..49: the newest at 4.9 s */
	rec_core_trigger(c, VC_TRIGGER_MOTION);
	/* the last IDR at least 3 s before AU 49 is AU 10 (3.9 s before) */
	g_assert_cmpuint(s.n, ==, 1);
	g_assert_true(s.clips[0].first_idr);
	g_assert_cmpuint(s.clips[0].first_ns, ==, at(10));
	g_assert_cmpuint(s.clips[0].frames, ==, 40);
	feed(c, 50, 70, 10);
	rec_core_release(c);		/* at AU 69: the post-roll runs to AU 119 */
	feed(c, 70, 119, 10);
	g_assert_false(s.clips[0].ended);
	feed(c, 119, 140, 10);
	g_assert_true(s.clips[0].ended);
	g_assert_cmpint(s.clips[0].why, ==, REC_END_POST_ROLL);
	g_assert_cmpuint(s.clips[0].last_ns, ==, at(119));
	g_assert_cmpuint(s.clips[0].frames, ==, 110);
	rec_core_get_stats(c, &st);
	g_assert_cmpuint(st.clips, ==, 1);
	g_assert_false(st.recording);
	/* the ring: back to the last IDR at least 3 s before the newest AU (139 -> 100) */
	g_assert_cmpuint(st.ring_aus, ==, 40);
	rec_core_free(c);
	g_assert_cmpuint(s.n, ==, 1);
}

static void test_short_ring_and_waiting(void)
{
	struct seen s = { 0 };
	struct rec_core *c = rec_core_new(&core_cfg, &test_sink, &s);

	/* only 1.5 s recorded, IDRs at 0 and 1 s: the clip reaches back to AU 0 */
	feed(c, 0, 15, 10);
	rec_core_trigger(c, VC_TRIGGER_MANUAL);
	g_assert_cmpuint(s.clips[0].first_ns, ==, at(0));
	g_assert_cmpint(s.clips[0].trigger, ==, VC_TRIGGER_MANUAL);
	rec_core_release(c);
	feed(c, 15, 80, 10);
	g_assert_true(s.clips[0].ended);
	g_assert_cmpuint(s.clips[0].last_ns, ==, at(64));	/* release at 14 + 5 s */
	rec_core_free(c);

	/* the stream starts with P frames: nothing is kept until an IDR */
	memset(&s, 0, sizeof(s));
	c = rec_core_new(&core_cfg, &test_sink, &s);
	for (unsigned int i = 1; i < 8; i++) {
		uint8_t b[8] = { 0 };

		rec_core_au(c, rec_au_new(b, sizeof(b), false, at(i)));
	}
	rec_core_trigger(c, VC_TRIGGER_MOTION);
	g_assert_cmpuint(s.n, ==, 0);		/* waiting for an IDR */
	feed(c, 10, 12, 10);
	g_assert_cmpuint(s.n, ==, 1);
	g_assert_true(s.clips[0].first_idr);
	g_assert_cmpuint(s.clips[0].first_ns, ==, at(10));
	rec_core_free(c);
	g_assert_cmpint(s.clips[0].why, ==, REC_END_STOP);
}

static void test_max_length(void)
{
	struct seen s = { 0 };
	struct rec_core *c = rec_core_new(&core_cfg, &test_sink, &s);

	feed(c, 0, 40, 10);
	rec_core_trigger(c, VC_TRIGGER_MOTION);	/* held: never released */
	feed(c, 40, 500, 10);
	g_assert_cmpuint(s.n, >=, 2);
	for (unsigned int i = 0; i + 1 < s.n; i++) {
		g_assert_true(s.clips[i].ended);
		g_assert_cmpint(s.clips[i].why, ==, REC_END_MAX_LENGTH);
		g_assert_cmpuint(s.clips[i].last_ns - s.clips[i].first_ns, <=, 20000 * MS);
		g_assert_true(s.clips[i + 1].first_idr);
		/* the next clip starts at an IDR no later than where this one stopped */
		g_assert_cmpuint(s.clips[i + 1].first_ns, <=, s.clips[i].last_ns + AU_NS);
		g_assert_cmpuint(s.clips[i + 1].first_ns + 1000 * MS, >, s.clips[i].last_ns);
	}
	/* a manual trigger meanwhile (trigger and release) does not let go of the motion */
	rec_core_trigger(c, VC_TRIGGER_MANUAL);
	rec_core_release(c);
	feed(c, 500, 600, 10);
	g_assert_false(s.clips[s.n - 1].ended);
	rec_core_release(c);		/* the motion ends at AU 599 */
	feed(c, 600, 700, 10);
	g_assert_true(s.clips[s.n - 1].ended);
	g_assert_cmpint(s.clips[s.n - 1].why, ==, REC_END_POST_ROLL);
	g_assert_cmpuint(s.clips[s.n - 1].last_ns, ==, at(649));
	rec_core_free(c);
}

static void test_gap_ends_clip(void)
{
	struct seen s = { 0 };
	struct rec_core *c = rec_core_new(&core_cfg, &test_sink, &s);

	feed(c, 0, 40, 10);
	rec_core_trigger(c, VC_TRIGGER_MOTION);
	feed(c, 40, 45, 10);
	rec_core_gap(c);		/* AUs 45..54 lost before the recorder */
	g_assert_true(s.clips[0].ended);
	g_assert_cmpint(s.clips[0].why, ==, REC_END_GAP);
	g_assert_cmpuint(s.clips[0].last_ns, ==, at(44));
	feed(c, 55, 65, 10);		/* the rest of the event from the next IDR (60) */
	g_assert_cmpuint(s.n, ==, 2);
	g_assert_cmpuint(s.clips[1].first_ns, ==, at(60));
	rec_core_free(c);
}

static void test_ring_byte_bound(void)
{
	struct rec_core_config cfg = core_cfg;
	struct seen s = { 0 };
	struct rec_core *c;
	struct rec_core_stats st;

	cfg.ring_max_bytes = 64 * 20;	/* two GOPs of 64-byte AUs: fewer than pre-roll asks */
	c = rec_core_new(&cfg, &test_sink, &s);
	feed(c, 0, 45, 10);
	rec_core_get_stats(c, &st);
	g_assert_cmpuint(st.ring_bytes, <=, cfg.ring_max_bytes);
	g_assert_cmpuint(st.ring_aus, ==, 15);	/* from the IDR at 30 */
	rec_core_trigger(c, VC_TRIGGER_MOTION);
	g_assert_true(s.clips[0].first_idr);
	g_assert_cmpuint(s.clips[0].first_ns, ==, at(30));
	rec_core_free(c);
}

/* ------------------------------------------------------------------ */
/* The recorder, its MP4 and the spool                                  */
/* ------------------------------------------------------------------ */

#define W	320
#define H	240

struct hubs {
	struct vc_device_key *dev[2];
	struct vc_enc_key *enc[2];
	size_t n;
};

static size_t recipients(void *data, struct vc_event_recipient *to, size_t max)
{
	struct hubs *h = data;

	for (size_t i = 0; i < h->n && i < max; i++) {
		memcpy(to[i].key_id, vc_key_id(h->dev[i]), VC_KEY_ID_LEN);
		memcpy(to[i].enc_pub, vc_enc_key_public(h->enc[i]), VC_ENC_PUBKEY_LEN);
	}
	return MIN(h->n, max);
}

struct stream {
	struct cam_encoder *enc;
	GstVideoInfo vi;
	unsigned int i;
};

static void stream_init(struct stream *st)
{
	struct cam_encode_config cfg = { .encoder = VC_ENCODER_X264, .idr_interval = 10,
					 .bitrate_kbps = 400, .timeout_ms = 20000 };

	gst_video_info_set_format(&st->vi, GST_VIDEO_FORMAT_I420, W, H);
	st->vi.fps_n = 10;
	st->vi.fps_d = 1;
	st->enc = cam_encoder_new(&cfg, &st->vi, NULL);
	g_assert_nonnull(st->enc);
	st->i = 0;
}

/* n frames of a grey picture with a block moving 8 px a frame. */
static void stream_feed(struct stream *st, struct cam_recorder *r, unsigned int n)
{
	for (unsigned int k = 0; k < n; k++, st->i++) {
		struct cam_frame f = { .buffer = gst_buffer_new_allocate(NULL, st->vi.size, NULL) };
		struct cam_au au;
		GstVideoFrame vf;
		uint8_t *y;

		f.info.mono_ns = 5000 * MS + st->i * AU_NS;
		f.info.wall_ns = 1795219200000000000LL + (int64_t)(st->i * AU_NS);
		f.info.sequence = st->i;
		g_assert_true(gst_video_frame_map(&vf, &st->vi, f.buffer, GST_MAP_WRITE));
		memset(GST_VIDEO_FRAME_PLANE_DATA(&vf, 0), 0x60, st->vi.size);
		y = GST_VIDEO_FRAME_PLANE_DATA(&vf, 0);
		for (unsigned int row = 80; row < 140; row++)
			memset(y + row * (unsigned int)GST_VIDEO_FRAME_PLANE_STRIDE(&vf, 0) +
			       (st->i * 8) % (W - 60), 0xe0, 60);
		cam_recorder_frame(r, &vf);
		gst_video_frame_unmap(&vf);
		g_assert_cmpint(cam_encode_frame(st->enc, &f, &au, NULL), ==, 1);
		cam_recorder_au(r, &au, "id:00112233445566778899aabbccddeeff");
		cam_au_clear(&au);
	}
}

static struct cam_recorder *recorder(const char *dir, uint64_t spool_max,
				     struct vc_device_key *cam, struct hubs *h)
{
	struct cam_recorder_config cfg = {
		.core = { .pre_roll_ns = 1000 * MS, .post_roll_ns = 1000 * MS,
			  .max_len_ns = 10000 * MS },
		.spool_dir = dir,
		.spool_max_bytes = spool_max,
		.queue_max = 100000,	/* the test outruns the thread: nothing dropped */
		.fps = 10,
	};
	GError *err = NULL;
	struct cam_recorder *r = cam_recorder_new(&cfg, cam, recipients, h, &err);

	g_assert_no_error(err);
	g_assert_nonnull(r);
	return r;
}

/* One event: 2 s before, 1 s of motion, then 2 s (the post-roll is 1 s). */
static void one_event(struct stream *st, struct cam_recorder *r)
{
	stream_feed(st, r, 20);
	cam_recorder_trigger(r, VC_TRIGGER_MOTION);
	stream_feed(st, r, 10);
	cam_recorder_release(r);
	stream_feed(st, r, 20);
}

static void rm_rf(const char *dir)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	g_assert_cmpint(system(cmd), ==, 0);
	g_free(cmd);
}

static void print_line(void *data, int prio, const char *msg)
{
	(void)data;
	g_test_message("recorder (%d): %s", prio, msg);
}

/* Finish what it records, show its log, free it. */
static void done(struct cam_recorder *r)
{
	cam_recorder_stop(r);
	cam_recorder_drain_log(r, print_line, NULL);
	cam_recorder_free(r);
}

static void test_event_in_spool(void)
{
	g_autofree char *dir = g_dir_make_tmp("recorder-XXXXXX", NULL);
	g_autofree char *mp4 = g_build_filename(dir, "export.mp4", NULL);
	uint8_t seed[32] = { 7 };
	struct vc_device_key *cam = vc_key_from_seed(seed);
	struct hubs h = { .n = 2 };
	struct stream st;
	struct cam_recorder *r;
	struct cam_recorder_stats rs;
	GPtrArray *ev;
	GBytes *env, *thumb, *clip;
	struct vc_manifest m;
	uint8_t man[VC_MANIFEST_MAX_LEN], mh[VC_HASH_LEN], ck[VC_CONTENT_KEY_LEN];
	size_t man_len;
	enum vc_hpke_aead aead;
	struct vc_buf jpeg = { 0 }, plain = { 0 };
	gsize el, tl, cl;
	const uint8_t *ep, *tp, *cp;
	char name[128];

	for (int i = 0; i < 2; i++) {
		seed[0] = (uint8_t)(20 + i);
		h.dev[i] = vc_key_from_seed(seed);
		h.enc[i] = vc_enc_key_generate();
	}
	stream_init(&st);
	r = recorder(dir, 0, cam, &h);
	one_event(&st, r);
	done(r);	/* waits for the thread: the event is written */

	ev = ev_spool_names(dir);
	g_assert_cmpuint(ev->len, ==, 1);
	g_assert_true(g_str_has_prefix(ev->pdata[0], "00000000000000000000-"));
	snprintf(name, sizeof(name), "%s.env", (char *)ev->pdata[0]);
	env = ev_slurp(dir, name);
	snprintf(name, sizeof(name), "%s.thumb", (char *)ev->pdata[0]);
	thumb = ev_slurp(dir, name);
	snprintf(name, sizeof(name), "%s.clip", (char *)ev->pdata[0]);
	clip = ev_slurp(dir, name);
	ep = g_bytes_get_data(env, &el);
	tp = g_bytes_get_data(thumb, &tl);
	cp = g_bytes_get_data(clip, &cl);

	/* each hub opens it with its own key, and not with the other's */
	for (int i = 0; i < 2; i++)
		g_assert_cmpint(vc_envelope_open(ep, el, vc_key_public(cam), NULL,
						 vc_key_id(h.dev[i]), h.enc[i], &m, man, &man_len,
						 &aead, ck), ==, VC_EV_OK);
	g_assert_cmpint(vc_envelope_open(ep, el, vc_key_public(cam), NULL, vc_key_id(h.dev[0]),
					 h.enc[1], &m, man, &man_len, &aead, ck), ==,
			VC_EV_DECRYPT);
	g_assert_cmpint(vc_envelope_open(ep, el, vc_key_public(cam), NULL, vc_key_id(h.dev[1]),
					 h.enc[1], &m, man, &man_len, &aead, ck), ==, VC_EV_OK);
	g_assert_cmpuint(m.number, ==, 0);
	g_assert_cmpint(m.trigger, ==, VC_TRIGGER_MOTION);
	g_assert_cmpuint(m.n_recipients, ==, 2);
	g_assert_true(m.flags & VC_MANIFEST_F_THUMBNAIL);
	/*
	 * Trigger after AU 19 (pre-roll 1 s: back to the IDR at 0.9 s or
	 * before, i.e. AU 0), release after AU 29, post-roll to AU 39.
	 */
	g_assert_cmpuint(m.n_frames, ==, 40);
	g_assert_cmpuint(m.end_ns - m.start_ns, ==, 39 * AU_NS);
	vc_event_hash(man, man_len, mh);

	g_assert_cmpint(vc_event_object_open(aead, ck, mh, VC_OBJECT_THUMBNAIL, tp, tl, &jpeg), ==,
			VC_EV_OK);
	g_assert_cmpint(vc_manifest_check_thumbnail(&m, jpeg.data, jpeg.len), ==, VC_EV_OK);
	g_assert_cmpuint(jpeg.len, >, 2);
	g_assert_cmphex(jpeg.data[0], ==, 0xff);
	g_assert_cmphex(jpeg.data[1], ==, 0xd8);
	/* a thumbnail served as the clip does not open */
	g_assert_cmpint(vc_event_object_open(aead, ck, mh, VC_OBJECT_CLIP, tp, tl, &plain), ==,
			VC_EV_DECRYPT);
	g_assert_cmpint(vc_event_object_open(aead, ck, mh, VC_OBJECT_CLIP, cp, cl, &plain), ==,
			VC_EV_OK);
	g_assert_true(g_file_set_contents(mp4, (const char *)plain.data, (gssize)plain.len, NULL));

	/* GStreamer's discoverer (what gst-discoverer-1.0 runs) reads it as H.264 video */
	ev_check_discoverer(mp4, W, H, 40 * AU_NS);
	/* fragments of 1 s: 4 s of clip */
	g_assert_cmpuint(ev_check_fragmented(mp4), >=, 3);

	g_assert_cmpuint(ev_check_mp4(mp4, &m, vc_key_public(cam)), ==, 40);

	r = recorder(dir, 0, cam, &h);	/* reopened: the event is found, nothing else */
	cam_recorder_get_stats(r, &rs);
	g_assert_cmpuint(rs.spool_events, ==, 1);
	g_assert_cmpuint(rs.spool_bytes, ==, el + tl + cl);
	done(r);

	g_bytes_unref(env);
	g_bytes_unref(thumb);
	g_bytes_unref(clip);
	vc_buf_free(&jpeg);
	vc_buf_free(&plain);
	g_ptr_array_unref(ev);
	cam_encoder_free(st.enc);
	unlink(mp4);
	for (int i = 0; i < 2; i++) {
		vc_key_free(h.dev[i]);
		vc_enc_key_free(h.enc[i]);
	}
	vc_key_free(cam);
	rm_rf(dir);
}

static void test_spool_bound_and_no_recipient(void)
{
	g_autofree char *a = g_dir_make_tmp("recorder-XXXXXX", NULL);
	g_autofree char *b = g_dir_make_tmp("recorder-XXXXXX", NULL);
	uint8_t seed[32] = { 9 };
	struct vc_device_key *cam = vc_key_from_seed(seed);
	struct hubs h = { .n = 1 }, none = { .n = 0 };
	struct stream st;
	struct cam_recorder *r;
	struct cam_recorder_stats rs;
	uint64_t one, bound;
	GPtrArray *ev;

	seed[0] = 30;
	h.dev[0] = vc_key_from_seed(seed);
	h.enc[0] = vc_enc_key_generate();
	stream_init(&st);

	/* no paired hub with an encryption key: nothing written, counted */
	r = recorder(a, 0, cam, &none);
	one_event(&st, r);
	done(r);
	ev = ev_spool_names(a);
	g_assert_cmpuint(ev->len, ==, 0);
	g_ptr_array_unref(ev);

	/* the size of one event */
	r = recorder(a, 0, cam, &h);
	one_event(&st, r);
	done(r);
	r = recorder(a, 0, cam, &h);
	cam_recorder_get_stats(r, &rs);
	done(r);
	g_assert_cmpuint(rs.spool_events, ==, 1);
	one = rs.spool_bytes;

	/* room for two and a half: four events leave the newest two */
	bound = one * 5 / 2;
	r = recorder(b, bound, cam, &h);
	for (int i = 0; i < 4; i++)
		one_event(&st, r);
	stream_feed(&st, r, 1);
	done(r);
	r = recorder(b, bound, cam, &h);
	cam_recorder_get_stats(r, &rs);
	g_assert_cmpuint(rs.spool_events, ==, 2);
	g_assert_cmpuint(rs.spool_bytes, <=, bound);
	done(r);
	ev = ev_spool_names(b);
	g_assert_cmpuint(ev->len, ==, 2);
	/* events 0 and 1 were dropped, 2 and 3 kept (a local key's chain starts at 0) */
	g_assert_true(g_str_has_prefix(ev->pdata[0], "00000000000000000002-"));
	g_assert_true(g_str_has_prefix(ev->pdata[1], "00000000000000000003-"));
	g_ptr_array_unref(ev);

	cam_encoder_free(st.enc);
	vc_key_free(h.dev[0]);
	vc_enc_key_free(h.enc[0]);
	vc_key_free(cam);
	rm_rf(a);
	rm_rf(b);
}

/*
 * A spool path the camera cannot use (a file stands there): no recorder,
 * an error naming the path, and nothing left behind (ASan's leak check).
 */
static void test_spool_unusable(void)
{
	g_autofree char *dir = g_dir_make_tmp("recorder-XXXXXX", NULL);
	g_autofree char *file = g_build_filename(dir, "not-a-dir", NULL);
	struct cam_recorder_config cfg = { .spool_dir = file, .fps = 10 };
	uint8_t seed[32] = { 9 };
	struct vc_device_key *cam = vc_key_from_seed(seed);
	struct hubs h = { .n = 1 };
	GError *err = NULL;

	g_assert_true(g_file_set_contents(file, "x", 1, NULL));
	g_assert_null(cam_recorder_new(&cfg, cam, recipients, &h, &err));
	g_assert_error(err, CAM_ERROR, CAM_ERROR_DEVICE);
	g_assert_nonnull(strstr(err->message, file));
	g_error_free(err);
	vc_key_free(cam);
	rm_rf(dir);
}

int main(int argc, char **argv)
{
	gst_init(&argc, &argv);
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/camera/recorder/pre-and-post-roll", test_pre_and_post_roll);
	g_test_add_func("/camera/recorder/short-ring-and-waiting", test_short_ring_and_waiting);
	g_test_add_func("/camera/recorder/max-length", test_max_length);
	g_test_add_func("/camera/recorder/gap-ends-clip", test_gap_ends_clip);
	g_test_add_func("/camera/recorder/ring-byte-bound", test_ring_byte_bound);
	g_test_add_func("/camera/recorder/event-in-spool", test_event_in_spool);
	g_test_add_func("/camera/recorder/spool-bound-and-no-recipient",
			test_spool_bound_and_no_recipient);
	g_test_add_func("/camera/recorder/spool-unusable", test_spool_unusable);
	return g_test_run();
}
