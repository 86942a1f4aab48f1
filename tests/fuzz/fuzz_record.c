// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the frame record parser. Any input either is refused
 * or parses into a record that encodes back to exactly the same bytes;
 * the signature check runs on every parsed record.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include <veracam/keys.h>
#include <veracam/record.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *pub;
	uint8_t enc[VC_RECORD_MAX_LEN];
	struct vc_record r;
	int len;

	if (!pub) {
		uint8_t raw[VC_PUBKEY_LEN];

		memset(raw, 0x42, sizeof(raw));
		pub = vc_pubkey_new(raw);
	}
	if (vc_record_parse(data, size, &r) != VC_OK)
		return 0;
	len = vc_record_encode(&r, enc);
	if (len < 0 || (size_t)len != size || memcmp(enc, data, size) != 0)
		abort();	/* parse accepted a non-canonical encoding */
	if (pub)
		vc_record_verify(pub, data, size);
	return 0;
}
