/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam media transport - the small messages beside the media:
 *
 * the offer (camera -> hub, inside the authenticated control channel,
 * 32 bytes):
 *   0 "VCMO"  4 version (1)  5 transports (bit 0 UDP, bit 1 TCP)
 *   6 RTP payload type  7 0  8 SSRC (32)  12 media port (16, 0 = the
 *   control port)  14 0 (16)  16 token (16 random bytes)
 *
 * the hello (hub -> camera, over UDP to the media port, or as the first
 * bytes of a TCP media connection, 24 bytes):
 *   0 "VCMH"  4 version (1)  5 kind (1 UDP keepalive, 2 TCP attach,
 *   3 bye)  6 0 (16)  8 token
 *
 * The token is the session's media capability: whoever presents it gets
 * the session's (sealed) media sent to the address it came from. It is
 * never an identity; the sealed units' AEAD is what binds media to the
 * session.
 */
#ifndef VERACAM_NET_WIRE_H
#define VERACAM_NET_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VCN_TOKEN_LEN		16
#define VCN_OFFER_LEN		32
#define VCN_HELLO_LEN		24
#define VCN_WIRE_VERSION	1

#define VCN_TRANSPORT_UDP	0x01
#define VCN_TRANSPORT_TCP	0x02

/* Where one session's media currently flows (either end). */
enum vcn_path {
	VCN_PATH_NONE = 0,	/* not yet: camera waits for a hello, hub for media */
	VCN_PATH_UDP,
	VCN_PATH_TCP,
	VCN_PATH_ENDED,		/* stream end sent (camera) or received (hub) */
	VCN_PATH_GONE,		/* peer vanished, TCP closed or failed */
};

const char *vcn_path_name(enum vcn_path p);

enum vcn_hello_kind {
	VCN_HELLO_UDP = 1,	/* keepalive; latches the UDP media address */
	VCN_HELLO_TCP = 2,	/* this TCP connection carries the media now */
	VCN_HELLO_BYE = 3,	/* the hub is leaving: drop it now */
};

struct vcn_offer {
	uint8_t token[VCN_TOKEN_LEN];
	uint32_t ssrc;
	uint16_t port;
	uint8_t pt;
	uint8_t transports;
};

void vcn_offer_encode(const struct vcn_offer *o, uint8_t out[VCN_OFFER_LEN]);
/* 0, or -1 if it is not a version-1 offer with a known transport. */
int vcn_offer_parse(const uint8_t *p, size_t len, struct vcn_offer *o);

void vcn_hello_encode(enum vcn_hello_kind kind, const uint8_t token[VCN_TOKEN_LEN],
		      uint8_t out[VCN_HELLO_LEN]);
/* The kind, or 0 if malformed; the token is copied out. */
int vcn_hello_parse(const uint8_t *p, size_t len, uint8_t token[VCN_TOKEN_LEN]);
/*
 * For a daemon sharing one TCP port between TLS control and media: true
 * if the first bytes of a connection (MSG_PEEK) start a media hello. A
 * TLS record starts with 0x16, a hello with 'V'.
 */
bool vcn_hello_magic(const uint8_t *p, size_t len);

/* Constant-time token comparison (CRYPTO_memcmp). */
bool vcn_token_equal(const uint8_t a[VCN_TOKEN_LEN], const uint8_t b[VCN_TOKEN_LEN]);

static inline void vcn_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void vcn_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t vcn_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t vcn_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif /* VERACAM_NET_WIRE_H */
