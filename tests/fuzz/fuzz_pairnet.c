// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: network pairing's parsers - the messages inside the
 * pairing channel (a hub's request, a camera's answer) and the QR payload
 * a hub is given, and SAS mode's commitment messages. What parses must
 * format back to exactly the input.
 */
#include <stdlib.h>
#include <string.h>

#include <veracam/pairnet.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[VC_PAIR2_PAYLOAD_MAX + 2], back[VC_PAIR2_PAYLOAD_MAX + 2];
	uint8_t out[VC_PAIR_MSG_MAX];
	struct vc_pair_target t;
	struct vc_pair_msg m;
	uint8_t body[VC_SAS_NONCE_LEN], sas[VC_SAS_MSG_LEN];
	int type;

	if (vc_pair_msg_parse(data, size, &m) >= 0) {
		if (vc_pair_msg_format(&m, out) != size || memcmp(out, data, size) != 0)
			abort();	/* accepted a non-canonical message */
	}
	if (size < sizeof(text)) {
		memcpy(text, data, size);
		text[size] = '\0';
		if (vc_pair_target_parse(text, &t) == 0 &&
		    (vc_pair_target_format(&t, back, sizeof(back)) < 0 || strcmp(back, text) != 0))
			abort();
	}
	for (type = VC_SAS_COMMIT; type <= VC_SAS_DONE; type++) {
		if (vc_sas_msg_parse(data, size, type, body) == 0) {
			vc_sas_msg_format(type, body, sas);
			if (memcmp(sas, data, sizeof(sas)) != 0)
				abort();
		}
	}
	return 0;
}
