// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the key holder's request parser (vc_holder_answer).
 * Any input is answered with a reply of the one fixed length; a signature
 * comes only for a request that is exactly a record, an event record or an
 * event manifest of this key (which then verifies, and is the next of the
 * chain head the holder keeps, or that head's own manifest again) or a TLS
 * 1.3 server CertificateVerify content; every other answer is a refusal
 * that the count shows. The state (count, head) lives across inputs.
 */
#include <stdlib.h>
#include <string.h>

#include <veracam/event.h>
#include <veracam/holder.h>
#include <veracam/keys.h>
#include <veracam/record.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* seed 00 01 .. 1f: the key of the seed corpus in corpus/holder/ */
static struct vc_device_key *key(void)
{
	static struct vc_device_key *k;
	uint8_t seed[32];

	if (!k) {
		for (int i = 0; i < 32; i++)
			seed[i] = (uint8_t)i;
		k = vc_key_from_seed(seed);
		if (!k)
			abort();
	}
	return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vc_holder_state state = { .head_fd = -1 };
	uint8_t reply[VC_HOLDER_REPLY_LEN];
	struct vc_record r;
	struct vc_event_head before_head = state.head;
	uint32_t before = state.refused;
	enum vc_holder_status st;
	const uint8_t *body = data + VC_HOLDER_HDR_LEN;
	size_t blen = size - VC_HOLDER_HDR_LEN;

	st = vc_holder_answer(key(), &state, data, size, reply);
	if (reply[0] != 'V' || reply[1] != 'K' || reply[3] != st)
		abort();
	if (st == VC_HOLDER_REFUSED || st == VC_HOLDER_REFUSED_CHAIN) {
		if (state.refused != before + 1 ||
		    memcmp(&state.head, &before_head, sizeof(before_head)))
			abort();
		return 0;
	}
	if (st != VC_HOLDER_OK || state.refused != before || size < VC_HOLDER_HDR_LEN)
		abort();
	if (data[3] != VC_HOLDER_OP_MANIFEST && memcmp(&state.head, &before_head, sizeof(before_head)))
		abort();
	switch (data[3]) {
	case VC_HOLDER_OP_PUBLIC:
		if (blen || memcmp(reply + VC_HOLDER_HDR_LEN, vc_key_public(key()), VC_PUBKEY_LEN))
			abort();
		break;
	case VC_HOLDER_OP_RECORD: {
		uint8_t rec[VC_RECORD_MAX_LEN];

		/* signed only a record of this key, and the signature is its own */
		if (vc_record_parse(body, blen, &r) != VC_OK ||
		    memcmp(r.key_id, vc_key_id(key()), VC_KEY_ID_LEN))
			abort();
		memcpy(rec, body, blen);
		memcpy(rec + blen - VC_SIG_LEN, reply + VC_HOLDER_HDR_LEN, VC_SIG_LEN);
		if (!vc_record_verify(vc_key_public(key()), rec, blen))
			abort();
		break;
	}
	case VC_HOLDER_OP_EVENT_RECORD: {
		struct vc_event_record er;
		uint8_t rec[VC_EVREC_LEN];

		if (vc_event_record_parse(body, blen, &er) != VC_EV_OK ||
		    memcmp(er.key_id, vc_key_id(key()), VC_KEY_ID_LEN))
			abort();
		memcpy(rec, body, blen);
		memcpy(rec + blen - VC_SIG_LEN, reply + VC_HOLDER_HDR_LEN, VC_SIG_LEN);
		if (!vc_event_record_verify(vc_key_public(key()), rec, blen))
			abort();
		break;
	}
	case VC_HOLDER_OP_MANIFEST: {
		uint8_t man[VC_MANIFEST_MAX_LEN];
		struct vc_manifest m;

		/* a manifest of this key, which then verifies as a hub checks it */
		if (blen > sizeof(man))
			abort();
		memcpy(man, body, blen);
		memcpy(man + blen - VC_SIG_LEN, reply + VC_HOLDER_HDR_LEN, VC_SIG_LEN);
		if (vc_manifest_verify(man, blen, vc_key_public(key()), NULL, NULL, &m) != VC_EV_OK)
			abort();
		/* the head is now this manifest: the next after the old head, or the same */
		{
			uint8_t h[VC_HASH_LEN];

			if (vc_event_hash(man, blen, h) < 0 || !state.head.set ||
			    memcmp(h, state.head.hash, VC_HASH_LEN) || state.head.number != m.number)
				abort();
			if (memcmp(&state.head, &before_head, sizeof(before_head)) &&
			    (before_head.set ? m.number != before_head.number + 1 ||
			     memcmp(m.prev_hash, before_head.hash, VC_HASH_LEN) : m.number != 0))
				abort();
		}
		break;
	}
	case VC_HOLDER_OP_EVENT_HEAD:
		if (blen || reply[VC_HOLDER_HDR_LEN] != (state.head.set ? 1 : 0) ||
		    memcmp(reply + VC_HOLDER_HDR_LEN + 16, state.head.hash, VC_HASH_LEN))
			abort();
		break;
	case VC_HOLDER_OP_TLS13:
		if (blen != 64 + 34 + 32 && blen != 64 + 34 + 48)
			abort();
		if (!vc_ed25519_verify(vc_key_public(key()), body, blen, reply + VC_HOLDER_HDR_LEN))
			abort();
		break;
	default:
		abort();
	}
	return 0;
}
