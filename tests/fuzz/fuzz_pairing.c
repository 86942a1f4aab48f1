// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the pairing record parser (and the identity line and
 * pairing payload parsers it shares with veracamctl, and the line a camera
 * keeps with a hub's pin in hub-enc/). A record that parses must format
 * back to exactly the input; a hub-enc line must parse back to its keys.
 */
#include <stdlib.h>
#include <string.h>

#include <veracam/enckey.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[VC_PEER_RECORD_MAX + 1], line[VC_PEER_RECORD_MAX + 1];
	char code[VC_PAIR_CODE_DIGITS + 1];
	uint8_t pub[VC_PUBKEY_LEN], id[VC_KEY_ID_LEN];
	uint8_t enc[VC_ENC_PUBKEY_LEN], sig[VC_SIG_LEN], enc2[VC_ENC_PUBKEY_LEN], sig2[VC_SIG_LEN];
	char kept[VC_HUB_ENC_LINE_LEN + 2];
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
		if (vc_hub_enc_parse(line, enc, sig) == 0) {
			vc_hub_enc_format(enc, sig, kept);
			if (vc_hub_enc_parse(kept, enc2, sig2) < 0 || memcmp(enc, enc2, sizeof(enc)) ||
			    memcmp(sig, sig2, sizeof(sig)))
				abort();	/* what we write must read back */
		}
	}
	return 0;
}
