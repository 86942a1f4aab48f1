// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: Annex-B scanning and SEI extraction. For an AU
 * without a record, inserting one must make it extractable with the same
 * bytes and leave the AU hash unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include <veracam/record.h>
#include <veracam/sei.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t rec[VC_RECORD_MAX_LEN], back[VC_RECORD_MAX_LEN];
	struct vc_au_scan scan, scan2;
	struct vc_buf out = { 0 };
	size_t len, i;

	if (vc_sei_extract(data, size, &scan, rec, &len) == VC_OK && len > VC_RECORD_MAX_LEN)
		abort();
	if (vc_au_scan(data, size, &scan) != VC_OK || scan.n_records)
		return 0;
	/* a record-like payload with zero runs, derived from the input */
	len = 1 + size % VC_RECORD_MAX_LEN;
	for (i = 0; i < len; i++)
		rec[i] = i % 3 ? 0 : data[i % size];
	if (vc_sei_insert(data, size, &scan, rec, len, &out) < 0)
		abort();
	if (vc_sei_extract(out.data, out.len, &scan2, back, &i) != VC_OK || i != len ||
	    memcmp(back, rec, len) != 0 || memcmp(scan.hash, scan2.hash, VC_HASH_LEN) != 0 ||
	    scan2.idr != scan.idr)
		abort();
	vc_buf_free(&out);
	return 0;
}
