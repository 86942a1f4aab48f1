// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the hub's media receive path without sockets. The
 * input is a TCP media stream (RFC 4571 frames); every frame goes to the
 * reassembler (and to the offer, hello and path challenge parsers and tag
 * checks), with the clock moving 7 ms per frame so timeouts fire. The
 * keys are fixed (those of docs/TRANSPORT.md §10, which the seed corpus
 * uses), so mutations of tagged seeds reach the rules behind the tag.
 * Whatever the bytes, a delivered unit is within the size bound, the
 * numbers of delivered units strictly rise, no packet both fails its tag
 * and gets stored, and every byte is readable (ASan).
 */
#include <stdlib.h>

#include "mac.h"
#include "rtp.h"
#include "wire.h"

#define FUZZ_SSRC	0x11223344u	/* the seed corpus uses this stream */
#define FUZZ_MAX_AU	(64u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile unsigned int sink;	/* keeps the reads of delivered bytes */
static struct vcn_mac *c2h, *h2c;

static void keys_once(void)
{
	uint8_t k[VCN_KEY_LEN];

	if (c2h)
		return;
	for (int i = 0; i < VCN_KEY_LEN; i++)
		k[i] = (uint8_t)(0x40 + i);
	c2h = vcn_mac_new(k);
	for (int i = 0; i < VCN_KEY_LEN; i++)
		k[i] = (uint8_t)(0x60 + i);
	h2c = vcn_mac_new(k);
	if (!c2h || !h2c)
		abort();
}

/* The small messages: parse, and check tags where the format holds. */
static void small_messages(const uint8_t *pkt, size_t len)
{
	uint8_t nonce[VCN_NONCE_LEN];
	struct vcn_offer offer;
	struct vcn_hello hello;

	vcn_offer_parse(pkt, len, &offer);
	if (vcn_hello_parse(pkt, len, &hello))
		sink ^= vcn_hello_authentic(h2c, pkt) ^ (unsigned int)hello.counter;
	if (vcn_challenge_magic(pkt, len))
		sink ^= (unsigned int)vcn_challenge_parse(pkt, len, FUZZ_SSRC, c2h, nonce);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vcn_reasm_config c = {
		.ssrc = FUZZ_SSRC, .pt = VCN_PT_DEFAULT, .max_au = FUZZ_MAX_AU,
		.max_inflight = 4, .timeout_ns = 50000000,
	};
	struct vcn_reasm *r;
	struct vcn_unit u;
	const uint8_t *pkt;
	size_t used, len;
	int64_t now = 0;
	uint32_t last = 0;
	bool any = false;
	unsigned int sum = 0;

	keys_once();
	c.mac = c2h;
	r = vcn_reasm_new(&c);
	if (!r)
		abort();
	while ((used = vcn_frame_next(data, size, &pkt, &len))) {
		bool authentic = len >= VCN_PACKET_OVERHEAD && len <= VCN_TCP_PACKET_MAX &&
				 vcn_mac_check(c2h, pkt, len - VCN_TAG_LEN, pkt + len - VCN_TAG_LEN);

		data += used;
		size -= used;
		now += 7000000;
		small_messages(pkt, len);
		if (vcn_reasm_push(r, pkt, len, now) == VCN_PKT_FRAGMENT && !authentic)
			abort();
		while (vcn_reasm_pop(r, now, &u)) {
			if (u.len > FUZZ_MAX_AU || (any && (int32_t)(u.au_num - last) <= 0))
				abort();
			for (size_t i = 0; i < u.len; i++)
				sum += u.data[i];
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
