/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam security core - the fragmented MP4 of a recorded clip, read from
 * untrusted bytes (an exported file, a clip opened from a store): the
 * top-level boxes and, per fragment (moof + mdat), where each sample lies.
 * Every length and offset is checked against the bytes given; nothing is
 * trusted, nothing is decoded. The layout the camera's recorder writes is
 * in docs/PROTOCOL.md §15 (avc3 samples: NAL units with 4-byte lengths).
 */
#ifndef VERACAM_MP4_H
#define VERACAM_MP4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <veracam/common.h>

/* Upper bound on samples in one file (a 60 s clip at 60 fps is 3600). */
#define VC_MP4_MAX_SAMPLES	(1u << 18)

struct vc_mp4_sample {
	size_t off, len;	/* inside the bytes parsed, inside its fragment's mdat */
	uint32_t fragment;	/* 0 for the first moof + mdat pair, then +1 */
	uint64_t dts;		/* when it plays, in the track's timescale (0 first) */
};

struct vc_mp4 {
	size_t ftyp_end;		/* offset just past the ftyp box (the first box) */
	size_t moov_off, moov_len;	/* the moov box (exactly one, before any moof) */
	size_t export_off, export_len;	/* veracam's export box (export.h); 0, 0 if none */
	struct vc_mp4_sample *samples;	/* malloc'd, in file order */
	size_t n_samples;
	uint32_t n_fragments;		/* complete moof + mdat pairs */
	uint32_t timescale;		/* the track's ticks per second (mdhd), > 0 */
	/*
	 * The bytes end inside a box (a cut file): the parse stopped at the
	 * last complete fragment, whose samples are all listed.
	 */
	bool truncated;
	/*
	 * A tfhd gave an absolute base offset: the samples do not move with
	 * their moof, so no box may be inserted before them. (Such a tfhd
	 * is refused now; kept false for the callers' checks.)
	 */
	bool absolute_offsets;
	size_t end;			/* offset where the complete boxes end */
	const char *error;		/* on -1: why (static text) */
};

/*
 * Parse a fragmented MP4 of the shape the camera's recorder writes
 * (GStreamer mp4mux; PROTOCOL.md §15.7), refusing any other: ftyp first,
 * then (an export) the veracam export box, one moov (one enabled video
 * trak, no edit list, empty sample tables, one avc3 sample description,
 * mvex/trex of the same track), then moof + mdat pairs (mfhd, one traf of
 * that track: tfhd, tfdt, truns; the samples fill the mdat in order, each
 * with a duration; each tfdt where the previous fragment ended, the first
 * 0), then optionally mfra, last. A top-level box that would run past the
 * end marks the file truncated (nested: malformed). 0, or -1 with
 * out->error set; out->samples is freed by vc_mp4_free either way.
 */
int vc_mp4_parse(const uint8_t *p, size_t len, struct vc_mp4 *out);
void vc_mp4_free(struct vc_mp4 *m);

/* When sample i plays, in ns from the clip's start (its dts in the timescale). */
uint64_t vc_mp4_sample_ns(const struct vc_mp4 *m, size_t i);
/* One tick of the track's timescale, in ns (rounded up). */
uint64_t vc_mp4_tick_ns(const struct vc_mp4 *m);

/*
 * An avc3 sample (NAL units, each after its 4-byte big-endian length) as
 * Annex-B (00 00 00 01 before each NAL unit) into out (replacing it); -1 if
 * a length runs past the sample or one is 0.
 */
int vc_mp4_sample_annexb(const uint8_t *p, size_t len, struct vc_buf *out);

#endif /* VERACAM_MP4_H */
