// SPDX-License-Identifier: GPL-2.0
/*
 * event_tamper - for daemon-eventsview only: what an attacker holding an
 * event's content key could do (the hub's own keys stand in for it), so
 * that the hub's frame-by-frame checks of a clip are reached at all: the
 * clip of DIR/NAME opened with the hub's keys, changed, and sealed again
 * under the same content key (a fresh index), in place.
 *
 *   event_tamper HUBKEYS CAMERA DIR NAME au N
 *       one byte of sample N's last NAL unit flipped (its AU's hash no
 *       longer the record's)
 *   event_tamper HUBKEYS CAMERA DIR NAME splice OTHER
 *       the clip replaced by event OTHER's clip (another event of the same
 *       camera, its records signed for OTHER's event id)
 *   event_tamper HUBKEYS CAMERA DIR NAME dump FILE
 *       the clip's plaintext (its fragmented MP4) written to FILE, nothing
 *       changed (for tests/adversarial/events.py, which edits it with
 *       tests/e2e/mp4edit.py)
 *   event_tamper HUBKEYS CAMERA DIR NAME replace FILE
 *       the clip replaced by FILE's bytes (an edited plaintext)
 *
 * Uses the core's test-only sealer (event_internal.h); never in veracamd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include <veracam/enckey.h>
#include <veracam/event.h>
#include <veracam/keys.h>
#include <veracam/mp4.h>
#include <veracam/pairing.h>

#include "event_internal.h"

static int die(const char *what)
{
	fprintf(stderr, "event_tamper: %s\n", what);
	return 1;
}

/* The clip's plaintext and the event's content key and AEAD. */
static int open_clip(const char *keys, const struct vc_peer *cam, const char *dir,
		     const char *name, uint8_t ck[VC_CONTENT_KEY_LEN], enum vc_hpke_aead *aead,
		     uint8_t mh[VC_HASH_LEN], struct vc_buf *mp4)
{
	struct vc_device_key *hub = vc_key_load(keys);
	struct vc_enc_key *enc = vc_enc_key_load(keys);
	g_autofree char *envp = g_strdup_printf("%s/%s", dir, name), *clipp = NULL;
	g_autofree char *env = NULL, *clip = NULL;
	uint8_t man[VC_MANIFEST_MAX_LEN];
	struct vc_manifest m;
	gsize el, cl;
	size_t ml;
	int ret = -1;

	clipp = g_strdup_printf("%s/%.53s.clip", dir, name);
	if (hub && enc && g_file_get_contents(envp, &env, &el, NULL) &&
	    g_file_get_contents(clipp, &clip, &cl, NULL) &&
	    vc_envelope_open((uint8_t *)env, el, cam->pub, NULL, vc_key_id(hub), enc, &m, man,
			     &ml, aead, ck) == VC_EV_OK &&
	    vc_event_hash(man, ml, mh) == 0 &&
	    vc_event_object_open(*aead, ck, mh, VC_OBJECT_CLIP, (uint8_t *)clip, cl, mp4) ==
	    VC_EV_OK)
		ret = 0;
	vc_enc_key_free(enc);
	vc_key_free(hub);
	return ret;
}

int main(int argc, char **argv)
{
	uint8_t ck[VC_CONTENT_KEY_LEN], mh[VC_HASH_LEN], ck2[VC_CONTENT_KEY_LEN], mh2[VC_HASH_LEN];
	struct vc_buf mp4 = { 0 }, other = { 0 }, sealed = { 0 }, junk = { 0 };
	struct vc_event_sealer *s;
	enum vc_hpke_aead aead, aead2;
	struct vc_peer cam;
	g_autofree char *out = NULL;

	if (argc != 7)
		return die("usage: event_tamper HUBKEYS CAMERA DIR NAME au N | splice OTHER | "
			   "dump FILE | replace FILE");
	if (vc_peer_load(argv[1], argv[2], &cam) < 0)
		return die("no such camera");
	if (open_clip(argv[1], &cam, argv[3], argv[4], ck, &aead, mh, &mp4) < 0)
		return die("the event does not open");
	if (!strcmp(argv[5], "au")) {
		struct vc_mp4 p;
		size_t n = strtoul(argv[6], NULL, 10);

		if (vc_mp4_parse(mp4.data, mp4.len, &p) < 0 || n >= p.n_samples)
			return die("no such sample");
		/* the last byte but one of the sample: inside its last NAL unit */
		mp4.data[p.samples[n].off + p.samples[n].len - 2] ^= 0x01;
		vc_mp4_free(&p);
	} else if (!strcmp(argv[5], "splice")) {
		if (open_clip(argv[1], &cam, argv[3], argv[6], ck2, &aead2, mh2, &other) < 0)
			return die("the other event does not open");
		vc_buf_free(&mp4);
		mp4 = other;
	} else if (!strcmp(argv[5], "dump")) {
		bool ok = g_file_set_contents(argv[6], (const char *)mp4.data, (gssize)mp4.len, NULL);

		vc_buf_free(&mp4);
		return ok ? 0 : die("cannot write");
	} else if (!strcmp(argv[5], "replace")) {
		gchar *data;
		gsize len;

		if (!g_file_get_contents(argv[6], &data, &len, NULL))
			return die("cannot read the replacement");
		vc_buf_free(&mp4);
		if (vc_buf_reserve(&mp4, len ? len : 1) < 0)
			return die("out of memory");
		memcpy(mp4.data, data, len);
		mp4.len = len;
		g_free(data);
	} else {
		return die("au N, splice OTHER, dump FILE or replace FILE");
	}
	s = vc_event_sealer_new_from_key(aead, ck, mh);
	/* past the indexes the camera used (thumbnail 0, clip 1): no nonce again */
	if (!s || vc_event_object_seal(s, VC_OBJECT_THUMBNAIL, (const uint8_t *)"x", 1, &junk) < 0 ||
	    vc_event_object_seal(s, VC_OBJECT_THUMBNAIL, (const uint8_t *)"x", 1, &junk) < 0 ||
	    vc_event_object_seal(s, VC_OBJECT_CLIP, mp4.data, mp4.len, &sealed) < 0)
		return die("cannot seal");
	vc_event_sealer_free(s);
	out = g_strdup_printf("%s/%.53s.clip", argv[3], argv[4]);
	if (!g_file_set_contents(out, (const char *)sealed.data, (gssize)sealed.len, NULL))
		return die("cannot write");
	vc_buf_free(&mp4);
	vc_buf_free(&sealed);
	vc_buf_free(&junk);
	return 0;
}
