// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the frame record parser. Any input either is refused
 * or parses into a record that encodes back to exactly the same bytes;
 * the signature check runs on every parsed record.
 */
#include <stdlib.h>
#include <string.h>

#include <veracam/keys.h>
#include <veracam/record.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a real public key (camera_public of tests/vectors), so the whole check runs */
	static const uint8_t pub[VC_PUBKEY_LEN] = {
		0x03, 0x60, 0xed, 0xf1, 0xa0, 0x7c, 0x29, 0x25,
		0xdf, 0x03, 0xf7, 0x8d, 0xf4, 0x8e, 0x54, 0x5f,
		0x6d, 0x12, 0xf6, 0x4e, 0x76, 0xa0, 0x95, 0x7b,
		0xd3, 0x8d, 0x08, 0x09, 0x2e, 0x1a, 0x04, 0xfe,
	};
	uint8_t enc[VC_RECORD_MAX_LEN];
	struct vc_record r;
	int len;

	if (vc_record_parse(data, size, &r) != VC_OK)
		return 0;
	len = vc_record_encode(&r, enc);
	if (len < 0 || (size_t)len != size || memcmp(enc, data, size) != 0)
		abort();	/* parse accepted a non-canonical encoding */
	vc_record_verify(pub, data, size);
	return 0;
}
