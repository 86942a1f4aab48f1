// SPDX-License-Identifier: GPL-2.0
/*
 * eventcheck.c - a recorded event checked as a hub would (eventcheck.h):
 * the spool's files, the MP4 through GStreamer's discoverer and qtdemux,
 * every AU's event record against the manifest. Failures are GLib
 * assertions (the callers are tests).
 */
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/pbutils/pbutils.h>

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

void ev_sample_to_annexb(const uint8_t *p, size_t len, GByteArray *out)
{
	static const uint8_t sc[4] = { 0, 0, 0, 1 };
	size_t i = 0;

	g_byte_array_set_size(out, 0);
	while (i + 4 <= len) {
		uint32_t n = (uint32_t)p[i] << 24 | (uint32_t)p[i + 1] << 16 |
			     (uint32_t)p[i + 2] << 8 | p[i + 3];

		g_assert_cmpuint(i + 4 + n, <=, len);
		g_byte_array_append(out, sc, 4);
		g_byte_array_append(out, p + i + 4, n);
		i += 4 + n;
	}
	g_assert_cmpuint(i, ==, len);
}

unsigned int ev_check_mp4(const char *path, const struct vc_manifest *m,
			      const uint8_t cam_pub[VC_PUBKEY_LEN])
{
	char *desc = g_strdup_printf("filesrc location=%s ! qtdemux ! appsink name=sink sync=false",
				     path);
	GstElement *pipe = gst_parse_launch(desc, NULL);
	GstElement *sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
	struct vc_clip_check cc;
	GByteArray *au = g_byte_array_new();
	GstSample *s;
	unsigned int n = 0;

	g_assert_nonnull(pipe);
	vc_clip_check_init(&cc, m, cam_pub);
	g_assert_cmpint(gst_element_set_state(pipe, GST_STATE_PLAYING), !=,
			GST_STATE_CHANGE_FAILURE);
	while ((s = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 10 * GST_SECOND))) {
		GstBuffer *b = gst_sample_get_buffer(s);
		struct vc_event_record rec;
		GstMapInfo map;

		if (n == 0) {
			const GstStructure *cs = gst_caps_get_structure(gst_sample_get_caps(s), 0);

			g_assert_cmpstr(gst_structure_get_name(cs), ==, "video/x-h264");
			g_assert_cmpstr(gst_structure_get_string(cs, "stream-format"), ==, "avc3");
		}
		g_assert_true(gst_buffer_map(b, &map, GST_MAP_READ));
		ev_sample_to_annexb(map.data, map.size, au);
		gst_buffer_unmap(b, &map);
		g_assert_cmpint(vc_clip_check_au(&cc, au->data, au->len, &rec), ==, VC_EV_OK);
		g_assert_cmpuint(rec.seq, ==, n);
		if (n == 0)
			g_assert_true(rec.flags & VC_EVREC_F_IDR);	/* reaches back to an IDR */
		n++;
		gst_sample_unref(s);
	}
	g_assert_cmpint(vc_clip_check_end(&cc), ==, VC_EV_OK);
	gst_element_set_state(pipe, GST_STATE_NULL);
	gst_object_unref(sink);
	gst_object_unref(pipe);
	g_byte_array_unref(au);
	g_free(desc);
	return n;
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
	gsize n = 0, off = 0;
	unsigned int moof = 0, mdat = 0, i = 0;

	g_assert_true(g_file_get_contents(path, &d, &n, NULL));
	while (off + 8 <= n) {
		const uint8_t *b = (const uint8_t *)d + off;
		uint64_t size = (uint64_t)b[0] << 24 | (uint64_t)b[1] << 16 | (uint64_t)b[2] << 8 | b[3];
		char type[5] = { (char)b[4], (char)b[5], (char)b[6], (char)b[7], 0 };

		if (size == 1 && off + 16 <= n)
			size = (uint64_t)b[8] << 56 | (uint64_t)b[9] << 48 | (uint64_t)b[10] << 40 |
			       (uint64_t)b[11] << 32 | (uint64_t)b[12] << 24 | (uint64_t)b[13] << 16 |
			       (uint64_t)b[14] << 8 | b[15];
		g_assert_cmpuint(size, >=, 8);
		g_assert_cmpuint(off + size, <=, n);
		if (i == 0)
			g_assert_cmpstr(type, ==, "ftyp");
		if (i == 1)
			g_assert_cmpstr(type, ==, "moov");
		moof += !strcmp(type, "moof");
		mdat += !strcmp(type, "mdat");
		off += size;
		i++;
	}
	g_assert_cmpuint(off, ==, n);
	g_assert_cmpuint(moof, >=, 1);
	g_assert_cmpuint(mdat, ==, moof);
	g_free(d);
	return moof;
}

enum vc_event_reject ev_open(const char *dir, const char *name,
			     const uint8_t cam_pub[VC_PUBKEY_LEN], const uint8_t *hub_key_id,
			     const struct vc_enc_key *hub_enc, struct vc_manifest *m,
			     const char *mp4, struct vc_buf *jpeg)
{
	char *fn = g_strdup_printf("%s.env", name);
	GBytes *env = ev_slurp(dir, fn), *obj;
	uint8_t man[VC_MANIFEST_MAX_LEN], mh[VC_HASH_LEN], ck[VC_CONTENT_KEY_LEN];
	struct vc_buf clip = { 0 };
	enum vc_hpke_aead aead;
	enum vc_event_reject r;
	size_t man_len;
	gsize n;
	const uint8_t *p = g_bytes_get_data(env, &n);

	r = vc_envelope_open(p, n, cam_pub, NULL, hub_key_id, hub_enc, m, man, &man_len, &aead,
			     ck);
	g_bytes_unref(env);
	g_free(fn);
	if (r != VC_EV_OK)
		return r;
	vc_event_hash(man, man_len, mh);
	if (m->flags & VC_MANIFEST_F_THUMBNAIL) {
		fn = g_strdup_printf("%s.thumb", name);
		obj = ev_slurp(dir, fn);
		p = g_bytes_get_data(obj, &n);
		r = vc_event_object_open(aead, ck, mh, VC_OBJECT_THUMBNAIL, p, n, jpeg);
		if (r == VC_EV_OK)
			r = vc_manifest_check_thumbnail(m, jpeg->data, jpeg->len);
		g_bytes_unref(obj);
		g_free(fn);
		if (r != VC_EV_OK)
			return r;
	}
	fn = g_strdup_printf("%s.clip", name);
	obj = ev_slurp(dir, fn);
	p = g_bytes_get_data(obj, &n);
	r = vc_event_object_open(aead, ck, mh, VC_OBJECT_CLIP, p, n, &clip);
	if (r == VC_EV_OK)
		g_assert_true(g_file_set_contents(mp4, (const char *)clip.data, (gssize)clip.len,
						  NULL));
	vc_buf_free(&clip);
	g_bytes_unref(obj);
	g_free(fn);
	return r;
}
