// SPDX-License-Identifier: GPL-2.0
/*
 * wire.c - the offer, hello and path challenge messages (layouts in
 * wire.h) and the token comparison.
 */
#include <string.h>

#include <openssl/crypto.h>

#include "wire.h"

static const uint8_t offer_magic[4] = { 'V', 'C', 'M', 'O' };
static const uint8_t hello_magic[4] = { 'V', 'C', 'M', 'H' };
static const uint8_t challenge_magic[4] = { 'V', 'C', 'M', 'P' };

void vcn_offer_encode(const struct vcn_offer *o, uint8_t out[VCN_OFFER_LEN])
{
	memset(out, 0, VCN_OFFER_LEN);
	memcpy(out, offer_magic, 4);
	out[4] = VCN_WIRE_VERSION;
	out[5] = o->transports;
	out[6] = o->pt & 0x7f;
	vcn_put_be32(out + 8, o->ssrc);
	vcn_put_be16(out + 12, o->port);
	memcpy(out + 16, o->token, VCN_TOKEN_LEN);
}

int vcn_offer_parse(const uint8_t *p, size_t len, struct vcn_offer *o)
{
	if (len != VCN_OFFER_LEN || memcmp(p, offer_magic, 4) || p[4] != VCN_WIRE_VERSION ||
	    !p[5] || (p[5] & ~(VCN_TRANSPORT_UDP | VCN_TRANSPORT_TCP)) ||
	    (p[6] & 0x80) || p[7] || vcn_get_be16(p + 14))
		return -1;
	o->transports = p[5];
	o->pt = p[6];
	o->ssrc = vcn_get_be32(p + 8);
	o->port = vcn_get_be16(p + 12);
	memcpy(o->token, p + 16, VCN_TOKEN_LEN);
	return 0;
}

void vcn_hello_encode(const struct vcn_hello *h, struct vcn_mac *hub_to_camera,
		      uint8_t out[VCN_HELLO_LEN])
{
	memcpy(out, hello_magic, 4);
	out[4] = VCN_WIRE_VERSION;
	out[5] = (uint8_t)h->kind;
	out[6] = 0;
	out[7] = 0;
	memcpy(out + 8, h->token, VCN_TOKEN_LEN);
	vcn_put_be64(out + 24, h->counter);
	memcpy(out + 32, h->echo, VCN_NONCE_LEN);
	vcn_mac_tag(hub_to_camera, out, VCN_HELLO_SIGNED, out + VCN_HELLO_SIGNED);
}

int vcn_hello_parse(const uint8_t *p, size_t len, struct vcn_hello *h)
{
	if (len != VCN_HELLO_LEN || memcmp(p, hello_magic, 4) || p[4] != VCN_WIRE_VERSION ||
	    p[5] < VCN_HELLO_UDP || p[5] > VCN_HELLO_BYE || p[6] || p[7])
		return 0;
	h->kind = p[5];
	memcpy(h->token, p + 8, VCN_TOKEN_LEN);
	h->counter = vcn_get_be64(p + 24);
	memcpy(h->echo, p + 32, VCN_NONCE_LEN);
	return p[5];
}

bool vcn_hello_authentic(struct vcn_mac *hub_to_camera, const uint8_t p[VCN_HELLO_LEN])
{
	return vcn_mac_check(hub_to_camera, p, VCN_HELLO_SIGNED, p + VCN_HELLO_SIGNED);
}

void vcn_challenge_encode(const uint8_t nonce[VCN_NONCE_LEN], uint32_t ssrc,
			  struct vcn_mac *camera_to_hub, uint8_t out[VCN_CHALLENGE_LEN])
{
	memcpy(out, challenge_magic, 4);
	out[4] = VCN_WIRE_VERSION;
	out[5] = out[6] = out[7] = 0;
	memcpy(out + 8, nonce, VCN_NONCE_LEN);
	vcn_put_be32(out + 24, ssrc);
	vcn_mac_tag(camera_to_hub, out, VCN_CHALLENGE_SIGNED, out + VCN_CHALLENGE_SIGNED);
}

bool vcn_challenge_magic(const uint8_t *p, size_t len)
{
	return len >= 4 && !memcmp(p, challenge_magic, 4);
}

int vcn_challenge_parse(const uint8_t *p, size_t len, uint32_t ssrc,
			struct vcn_mac *camera_to_hub, uint8_t nonce[VCN_NONCE_LEN])
{
	if (len != VCN_CHALLENGE_LEN ||
	    !vcn_mac_check(camera_to_hub, p, VCN_CHALLENGE_SIGNED, p + VCN_CHALLENGE_SIGNED))
		return -1;
	if (memcmp(p, challenge_magic, 4) || p[4] != VCN_WIRE_VERSION || p[5] || p[6] || p[7] ||
	    vcn_get_be32(p + 24) != ssrc)
		return -1;
	memcpy(nonce, p + 8, VCN_NONCE_LEN);
	return 0;
}

bool vcn_hello_magic(const uint8_t *p, size_t len)
{
	return len >= 4 && !memcmp(p, hello_magic, 4);
}

bool vcn_token_equal(const uint8_t a[VCN_TOKEN_LEN], const uint8_t b[VCN_TOKEN_LEN])
{
	return CRYPTO_memcmp(a, b, VCN_TOKEN_LEN) == 0;
}

const char *vcn_path_name(enum vcn_path p)
{
	switch (p) {
	case VCN_PATH_NONE:
		return "waiting";
	case VCN_PATH_UDP:
		return "udp";
	case VCN_PATH_TCP:
		return "tcp";
	case VCN_PATH_GONE:
		return "gone";
	}
	return "?";
}
