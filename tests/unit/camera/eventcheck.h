/* SPDX-License-Identifier: GPL-2.0 */
/*
 * eventcheck.h - test helpers: a recorded event in a camera's spool
 * (docs/PROTOCOL.md §15) opened and checked as a hub would, with GLib
 * assertions. Used by test_recorder and event_check (the daemon test's
 * checker of a real camera's spool).
 */
#ifndef VERACAM_TEST_EVENTCHECK_H
#define VERACAM_TEST_EVENTCHECK_H

#include <stdint.h>

#include <glib.h>
#include <gst/gst.h>

#include <veracam/event.h>

/* A file's bytes (asserted readable). */
GBytes *ev_slurp(const char *dir, const char *name);
/* The spool's event names (NUMBER-ID, of each .env), sorted. */
GPtrArray *ev_spool_names(const char *dir);
/* Annex-B (a start code before each NAL unit) from an MP4 sample of 4-byte lengths. */
void ev_sample_to_annexb(const uint8_t *p, size_t len, GByteArray *out);
/*
 * Event name of the spool dir as the hub with that key id and encryption
 * key opens it: the envelope, the thumbnail (into jpeg, checked against
 * the manifest) and the clip, written to mp4. VC_EV_OK or the refusal.
 */
enum vc_event_reject ev_open(const char *dir, const char *name,
			     const uint8_t cam_pub[VC_PUBKEY_LEN], const uint8_t *hub_key_id,
			     const struct vc_enc_key *hub_enc, struct vc_manifest *m,
			     const char *mp4, struct vc_buf *jpeg);
/*
 * Every AU of the MP4 (qtdemux, avc3 samples) checked in order against
 * the manifest (vc_clip_check_au): the first an IDR, nothing missing at
 * the end. Returns the count.
 */
unsigned int ev_check_mp4(const char *path, const struct vc_manifest *m,
			  const uint8_t cam_pub[VC_PUBKEY_LEN]);
/*
 * A fragmented MP4: its top-level boxes are ftyp, moov, then moof + mdat
 * pairs (at least one), nothing past the end. Returns the moof count.
 */
unsigned int ev_check_fragmented(const char *path);
/*
 * The file as gst-discoverer-1.0 sees it: one H.264 video stream of that
 * size and (when not 0) duration.
 */
void ev_check_discoverer(const char *path, unsigned int width, unsigned int height,
			 uint64_t duration_ns);

#endif
