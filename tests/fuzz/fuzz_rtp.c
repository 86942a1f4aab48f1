// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the hub's media receive path without sockets. The
 * input is a TCP media stream (RFC 4571 frames); every frame goes to the
 * reassembler (and to the offer and hello parsers), with the clock moving
 * 7 ms per frame so timeouts fire; units starting with an odd byte are
 * handed back as refused by the core (vcn_reasm_unpop). Whatever the
 * bytes, a delivered unit is within the size bound, the numbers of the
 * units kept strictly rise, and every byte is readable (ASan).
 */
#include <stdlib.h>

#include "rtp.h"
#include "wire.h"

#define FUZZ_SSRC	0x11223344u	/* the seed corpus uses this stream */
#define FUZZ_MAX_AU	(64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned int sink;	/* keeps the reads of delivered bytes */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vcn_reasm_config c = {
		.ssrc = FUZZ_SSRC, .pt = VCN_PT_DEFAULT, .max_au = FUZZ_MAX_AU,
		.max_inflight = 4, .timeout_ns = 50000000,
	};
	struct vcn_reasm *r = vcn_reasm_new(&c);
	uint8_t token[VCN_TOKEN_LEN];
	struct vcn_offer offer;
	struct vcn_unit u;
	const uint8_t *pkt;
	size_t used, len;
	int64_t now = 0;
	uint32_t last = 0;
	bool any = false;
	unsigned int sum = 0;

	if (!r)
		abort();
	while ((used = vcn_frame_next(data, size, &pkt, &len))) {
		data += used;
		size -= used;
		now += 7000000;
		vcn_offer_parse(pkt, len, &offer);
		vcn_hello_parse(pkt, len, token);
		vcn_reasm_push(r, pkt, len, now);
		while (vcn_reasm_pop(r, now, &u)) {
			if (u.len > FUZZ_MAX_AU || (any && (int32_t)(u.au_num - last) <= 0))
				abort();
			for (size_t i = 0; i < u.len; i++)
				sum += u.data[i];
			/* an odd first byte plays a unit the core's opener refuses */
			if (u.len && (u.data[0] & 1)) {
				vcn_reasm_unpop(r);
				continue;
			}
			last = u.au_num;
			any = true;
		}
	}
	if (vcn_reasm_stats(r)->units > vcn_reasm_stats(r)->packets)
		abort();
	vcn_reasm_free(r);
	sink = sum;
	return 0;
}
