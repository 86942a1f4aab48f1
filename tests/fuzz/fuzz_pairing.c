// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the pairing record parser (and the identity line and
 * pairing payload parsers it shares with veracamctl). A record that
 * parses must format back to exactly the input.
 */
#include <stdlib.h>
#include <string.h>

#include <veracam/keys.h>
#include <veracam/pairing.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[VC_PEER_RECORD_MAX + 1], line[VC_PEER_RECORD_MAX + 1];
	char code[VC_PAIR_CODE_DIGITS + 1];
	uint8_t pub[VC_PUBKEY_LEN], id[VC_KEY_ID_LEN];
	struct vc_peer p;
	int n;

	if (vc_peer_parse((const char *)data, size, &p) == 0) {
		n = vc_peer_format(&p, text, sizeof(text));
		if (n < 0 || (size_t)n != size || memcmp(text, data, size) != 0)
			abort();	/* accepted a non-canonical record */
	}
	if (size <= VC_PEER_RECORD_MAX) {
		memcpy(line, data, size);
		line[size] = '\0';
		vc_identity_parse(line, pub);
		vc_pair_payload_parse(line, id, code);
		vc_name_valid(line);
	}
	return 0;
}
