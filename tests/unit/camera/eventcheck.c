// SPDX-License-Identifier: GPL-2.0
/*
 * eventcheck.c - a recorded event checked as a hub would (eventcheck.h):
 * the spool's files opened by the product's vc_event_open, the MP4 read by
 * the product's parser (daemon/core/mp4.c) and, independently, by
 * GStreamer's discoverer; every AU's event record against the manifest.
 * Failures are GLib assertions (the callers are tests).
 */
#include <string.h>

#include <gst/pbutils/pbutils.h>

#include <veracam/export.h>
#include <veracam/mp4.h>

#include "eventcheck.h"

GBytes *ev_slurp(const char *dir, const char *name)
{
	char *p = g_build_filename(dir, name, NULL);
	gchar *d = NULL;
	gsize n = 0;

	g_assert_true(g_file_get_contents(p, &d, &n, NULL));
	g_free(p);
	return g_bytes_new_take(d, n);
}

static gint cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *ev_spool_names(const char *dir)
{
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *n;

	g_assert_nonnull(d);
	while ((n = g_dir_read_name(d)))
		if (g_str_has_suffix(n, ".env"))
			g_ptr_array_add(a, g_strndup(n, strlen(n) - 4));
	g_dir_close(d);
	g_ptr_array_sort(a, cmp_names);
	return a;
}

unsigned int ev_check_mp4(const char *path, const struct vc_manifest *m,
			  const uint8_t cam_pub[VC_PUBKEY_LEN])
{
	gchar *d = NULL;
	gsize len = 0;
	struct vc_clip_check cc;
	struct vc_buf au = { 0 };
	struct vc_mp4 mp4;
	size_t n;

	g_assert_true(g_file_get_contents(path, &d, &len, NULL));
	g_assert_cmpint(vc_mp4_parse((const uint8_t *)d, len, &mp4), ==, 0);
	g_assert_false(mp4.truncated);
	vc_clip_check_init(&cc, m, cam_pub);
	for (size_t i = 0; i < mp4.n_samples; i++) {
		struct vc_event_record rec;

		g_assert_cmpint(vc_mp4_sample_annexb((const uint8_t *)d + mp4.samples[i].off,
						     mp4.samples[i].len, &au), ==, 0);
		g_assert_cmpint(vc_clip_check_au(&cc, au.data, au.len, &rec), ==, VC_EV_OK);
		g_assert_cmpuint(rec.seq, ==, i);
		if (i == 0)
			g_assert_true(rec.flags & VC_EVREC_F_IDR);	/* reaches back to an IDR */
	}
	g_assert_cmpint(vc_clip_check_end(&cc), ==, VC_EV_OK);
	n = mp4.n_samples;
	vc_buf_free(&au);
	vc_mp4_free(&mp4);
	g_free(d);
	return (unsigned int)n;
}

void ev_check_discoverer(const char *path, unsigned int width, unsigned int height,
			 uint64_t duration_ns)
{
	GError *err = NULL;
	GstDiscoverer *d = gst_discoverer_new(20 * GST_SECOND, &err);
	char *uri = gst_filename_to_uri(path, NULL);
	GstDiscovererInfo *info;
	GList *video;
	GstCaps *caps;
	char *text;

	g_assert_no_error(err);
	info = gst_discoverer_discover_uri(d, uri, &err);
	g_assert_no_error(err);
	g_assert_cmpint(gst_discoverer_info_get_result(info), ==, GST_DISCOVERER_OK);
	video = gst_discoverer_info_get_video_streams(info);
	g_assert_cmpuint(g_list_length(video), ==, 1);
	g_assert_cmpuint(gst_discoverer_video_info_get_width(video->data), ==, width);
	g_assert_cmpuint(gst_discoverer_video_info_get_height(video->data), ==, height);
	caps = gst_discoverer_stream_info_get_caps(video->data);
	text = gst_caps_to_string(caps);
	g_test_message("discoverer: %s, %.2f s", text,
		       (double)gst_discoverer_info_get_duration(info) / 1e9);
	g_assert_true(g_str_has_prefix(text, "video/x-h264"));
	if (duration_ns)	/* the frames, the last one's duration included */
		g_assert_cmpuint(gst_discoverer_info_get_duration(info), ==, duration_ns);
	g_free(text);
	gst_caps_unref(caps);
	gst_discoverer_stream_info_list_free(video);
	gst_discoverer_info_unref(info);
	g_free(uri);
	g_object_unref(d);
}

unsigned int ev_check_fragmented(const char *path)
{
	gchar *d = NULL;
	gsize n = 0;
	struct vc_mp4 mp4;
	unsigned int frags;

	g_assert_true(g_file_get_contents(path, &d, &n, NULL));
	g_assert_cmpint(vc_mp4_parse((const uint8_t *)d, n, &mp4), ==, 0);
	g_assert_cmpuint(mp4.moov_off, ==, mp4.ftyp_end);	/* ftyp, then moov */
	g_assert_false(mp4.truncated);
	g_assert_cmpuint(mp4.end, ==, n);			/* nothing past the end */
	g_assert_cmpuint(mp4.n_fragments, >=, 1);
	frags = mp4.n_fragments;
	vc_mp4_free(&mp4);
	g_free(d);
	return frags;
}

enum vc_event_reject ev_open(const char *dir, const char *name,
			     const uint8_t cam_pub[VC_PUBKEY_LEN], const uint8_t *hub_key_id,
			     const struct vc_enc_key *hub_enc, struct vc_manifest *m,
			     const char *mp4, struct vc_buf *jpeg)
{
	char *fn[3] = { g_strdup_printf("%s.env", name), g_strdup_printf("%s.thumb", name),
			g_strdup_printf("%s.clip", name) };
	GBytes *b[3];
	const uint8_t *p[3];
	gsize n[3];
	uint8_t man[VC_MANIFEST_MAX_LEN];
	struct vc_buf clip = { 0 };
	enum vc_event_reject r;
	size_t man_len;

	for (int i = 0; i < 3; i++) {
		b[i] = ev_slurp(dir, fn[i]);
		p[i] = g_bytes_get_data(b[i], &n[i]);
	}
	r = vc_event_open(p[0], n[0], p[1], n[1], p[2], n[2], cam_pub, hub_key_id, hub_enc, m,
			  man, &man_len, jpeg, &clip);
	if (r == VC_EV_OK)
		g_assert_true(g_file_set_contents(mp4, (const char *)clip.data, (gssize)clip.len,
						  NULL));
	vc_buf_free(&clip);
	for (int i = 0; i < 3; i++) {
		g_bytes_unref(b[i]);
		g_free(fn[i]);
	}
	return r;
}
