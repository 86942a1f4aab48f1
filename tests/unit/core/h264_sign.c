// SPDX-License-Identifier: GPL-2.0
/*
 * h264_sign IN OUT - sign every access unit of an Annex-B H.264 file
 * (AUs delimited by AUD NAL units, as x264enc aud=true writes them), seal
 * and verify each one, and write the signed stream to OUT. Used by
 * test_h264_passthrough.sh to prove real encoder output carries the
 * record and decodes to the same pixels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static size_t next_aud(const uint8_t *p, size_t len, size_t from)
{
	size_t i;

	for (i = from; i + 4 <= len; i++)
		if (p[i] == 0 && p[i + 1] == 0 && p[i + 2] == 1 && (p[i + 3] & 0x1f) == 9)
			return i > 0 && p[i - 1] == 0 ? i - 1 : i;
	return len;
}

int main(int argc, char **argv)
{
	struct fx_pipe p;
	struct vc_buf in = { 0 };
	struct vc_frame_info info = { .capture_ns = FX_NOW_NS };
	struct vc_record_session entry = { 0 };	/* challenge 0, delay 0 */
	size_t start, end, n = 0, idr = 0, bad = 0;
	FILE *f, *out;
	long size;

	if (argc != 3) {
		fprintf(stderr, "usage: h264_sign IN OUT\n");
		return 2;
	}
	f = fopen(argv[1], "rb");
	if (!f || fseek(f, 0, SEEK_END) < 0 || (size = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) < 0 || vc_buf_reserve(&in, (size_t)size) < 0 ||
	    fread(in.data, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "h264_sign: cannot read %s\n", argv[1]);
		return 1;
	}
	fclose(f);
	in.len = (size_t)size;
	out = fopen(argv[2], "wb");
	if (!out || fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) < 0)
		return 1;
	memcpy(entry.id, p.session_id, VC_SESSION_ID_LEN);
	for (start = next_aud(in.data, in.len, 0); start < in.len; start = end) {
		struct vc_verified v;
		enum vc_reject r;

		end = next_aud(in.data, in.len, start + 4);
		if (vc_signer_sign(p.signer, &info, &entry, 1, in.data + start, end - start,
				   &p.signed_au) < 0 ||
		    vc_seal(p.sealer, p.signed_au.data, p.signed_au.len, &p.unit) < 0) {
			fprintf(stderr, "h264_sign: AU %zu: %s\n", n, vc_last_error());
			return 1;
		}
		r = vc_verifier_accept(p.ver, p.unit.data, p.unit.len, p.now, &v);
		if (r != VC_OK) {
			fprintf(stderr, "h264_sign: AU %zu rejected: %s\n", n, vc_reject_name(r));
			bad++;
		}
		idr += v.idr;
		fwrite(v.au, 1, v.au_len, out);
		n++;
	}
	fclose(out);
	printf("%zu access units signed, sealed and verified (%zu IDR), %zu rejected\n", n, idr,
	       bad);
	fx_pipe_fini(&p);
	vc_buf_free(&in);
	return n && idr && !bad ? 0 : 1;
}
