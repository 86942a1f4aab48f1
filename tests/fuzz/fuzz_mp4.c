// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the fragmented MP4 parser (daemon/core/mp4.c) and the
 * offline verification of an exported clip (daemon/core/export.c), the
 * bytes `veracamctl verify` reads from any file. Every sample the parser
 * lists must lie inside the input and be rebuilt as Annex-B (or refused)
 * without reading past it; the whole file then runs through
 * vc_export_verify against the vectors' camera; and an input that parses
 * as a clip is exported (with the vectors' manifest) and must parse again
 * with the same samples and its export box found. A file cut inside a box
 * never verifies ok.
 */
#include <stdlib.h>
#include <string.h>

#include <veracam/export.h>
#include <veracam/mp4.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* camera_public of tests/vectors (frame-v3.txt, event-v1.txt) */
static const uint8_t camera_pub[VC_PUBKEY_LEN] = {
	0x03, 0x60, 0xed, 0xf1, 0xa0, 0x7c, 0x29, 0x25, 0xdf, 0x03, 0xf7, 0x8d, 0xf4, 0x8e, 0x54, 0x5f,
	0x6d, 0x12, 0xf6, 0x4e, 0x76, 0xa0, 0x95, 0x7b, 0xd3, 0x8d, 0x08, 0x09, 0x2e, 0x1a, 0x04, 0xfe,
};

static void export_again(const uint8_t *data, size_t size, const struct vc_mp4 *m)
{
	static const uint8_t man[VC_MANIFEST_LEN(1)];	/* bytes only: not verified here */
	static const uint8_t jpeg[3] = { 0xff, 0xd8, 0xff };
	struct vc_buf out = { 0 };
	struct vc_mp4 again;

	if (vc_export_build(data, size, man, sizeof(man), jpeg, sizeof(jpeg), &out) < 0) {
		if (!m->truncated && !m->export_len && !m->absolute_offsets)
			abort();	/* a clip that parsed must export */
		return;
	}
	if (vc_mp4_parse(out.data, out.len, &again) < 0 || again.n_samples != m->n_samples ||
	    !again.export_len || again.export_off != m->ftyp_end || again.truncated)
		abort();
	for (size_t i = 0; i < m->n_samples; i++)
		if (again.samples[i].len != m->samples[i].len ||
		    memcmp(out.data + again.samples[i].off, data + m->samples[i].off,
			   m->samples[i].len))
			abort();
	vc_mp4_free(&again);
	vc_buf_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vc_export_verdict v;
	struct vc_buf au = { 0 };
	struct vc_mp4 m;

	if (vc_mp4_parse(data, size, &m) == 0) {
		for (size_t i = 0; i < m.n_samples; i++) {
			const struct vc_mp4_sample *s = &m.samples[i];

			if (s->off > size || s->len > size - s->off || m.end > size)
				abort();
			if (vc_mp4_sample_annexb(data + s->off, s->len, &au) == 0 && au.len != s->len)
				abort();	/* 4-byte lengths become 4-byte start codes */
		}
		export_again(data, size, &m);
	}
	vc_mp4_free(&m);
	vc_buf_free(&au);
	vc_export_verify(data, size, camera_pub, NULL, NULL, &v);
	if (v.verdict == VC_EV_OK && (!v.have_manifest || v.cut))
		abort();	/* a cut file is never ok */
	return 0;
}
