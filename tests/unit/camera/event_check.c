// SPDX-License-Identifier: GPL-2.0
/*
 * event_check SPOOL CAMERA-IDENTITY HUB-KEYS WIDTH HEIGHT
 *
 * Every event in a camera's spool opened as the hub of HUB-KEYS would
 * (its device key id and enc.key) and checked against the pinned camera's
 * identity line: the envelope's manifest, the thumbnail, the clip as an
 * MP4 that GStreamer's discoverer reads at WIDTHxHEIGHT, and every AU of it
 * against the manifest's records. One line per event; any failure aborts
 * (exit status non-zero). For daemon-events (tests/e2e).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <veracam/enckey.h>
#include <veracam/keys.h>

#include "eventcheck.h"

int main(int argc, char **argv)
{
	uint8_t cam_pub[VC_PUBKEY_LEN];
	struct vc_device_key *hub;
	struct vc_enc_key *enc;
	GPtrArray *names;
	char *mp4;

	gst_init(&argc, &argv);
	if (argc != 6) {
		fprintf(stderr, "usage: event_check SPOOL CAMERA-IDENTITY HUB-KEYS WIDTH HEIGHT\n");
		return 2;
	}
	if (vc_identity_parse(argv[2], cam_pub) < 0 || !(hub = vc_key_load(argv[3])) ||
	    !(enc = vc_enc_key_load(argv[3]))) {
		fprintf(stderr, "event_check: %s\n", vc_last_error());
		return 2;
	}
	names = ev_spool_names(argv[1]);
	mp4 = g_strdup_printf("%s/.event_check-%d.mp4", g_get_tmp_dir(), (int)getpid());
	for (guint i = 0; i < names->len; i++) {
		struct vc_buf jpeg = { 0 };
		struct vc_manifest m;
		enum vc_event_reject r = ev_open(argv[1], names->pdata[i], cam_pub, vc_key_id(hub),
						 enc, &m, mp4, &jpeg);
		unsigned int n;

		if (r != VC_EV_OK) {
			printf("event %s: %s\n", (char *)names->pdata[i], vc_event_reject_name(r));
			return 1;
		}
		ev_check_discoverer(mp4, (unsigned int)atoi(argv[4]), (unsigned int)atoi(argv[5]), 0);
		ev_check_fragmented(mp4);
		n = ev_check_mp4(mp4, &m, cam_pub);
		g_assert_cmpuint(n, ==, m.n_frames);
		printf("event %s: number %llu, trigger %u, %u frames verified, %.2f s, "
		       "thumbnail %zu bytes\n", (char *)names->pdata[i],
		       (unsigned long long)m.number, m.trigger, n,
		       (double)(m.end_ns - m.start_ns) / 1e9, jpeg.len);
		vc_buf_free(&jpeg);
	}
	unlink(mp4);
	g_free(mp4);
	g_ptr_array_unref(names);
	vc_enc_key_free(enc);
	vc_key_free(hub);
	return 0;
}
