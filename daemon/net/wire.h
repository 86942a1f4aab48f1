/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam media transport (version 2) - the small messages beside the
 * media:
 *
 * the offer (camera -> hub, inside the authenticated control channel,
 * 32 bytes):
 *   0 "VCMO"  4 version (2)  5 transports (bit 0 UDP, bit 1 TCP)
 *   6 RTP payload type  7 0  8 SSRC (32)  12 media port (16, 0 = the
 *   control port)  14 0 (16)  16 token (16 random bytes)
 *
 * the hello (hub -> camera, over UDP to the media port, or as the first
 * bytes and the keepalives of a TCP media connection, 64 bytes):
 *   0 "VCMH"  4 version (2)  5 kind (1 UDP keepalive, 2 TCP attach,
 *   3 bye)  6 0 (16)  8 token (16)  24 counter (64, from 1, strictly
 *   rising per session)  32 echo (16: the newest path challenge the hub
 *   received, zeros if none)  48 tag (16) = MAC(hub-to-camera key,
 *   bytes 0..47)
 *
 * the path challenge (camera -> hub, UDP, to a hello's source address
 * before media may go there, 44 bytes):
 *   0 "VCMP"  4 version (2)  5 0 0 0  8 challenge (16 random bytes)
 *   24 SSRC of the session (32)  28 tag (16) = MAC(camera-to-hub key,
 *   bytes 0..27)
 *
 * The token only finds the session; the tag (mac.h) is what proves a
 * hello is the hub's and a challenge the camera's, the counter that a
 * hello is not a replay, and the echo that the hub is reachable at the
 * address media is about to go to (return routability).
 */
#ifndef VERACAM_NET_WIRE_H
#define VERACAM_NET_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac.h"

#define VCN_TOKEN_LEN		16
#define VCN_OFFER_LEN		32
#define VCN_HELLO_LEN		64
#define VCN_HELLO_SIGNED	48	/* bytes the hello's tag covers */
#define VCN_CHALLENGE_LEN	44
#define VCN_CHALLENGE_SIGNED	28	/* bytes the challenge's tag covers */
#define VCN_NONCE_LEN		16	/* a path challenge's random value */
#define VCN_WIRE_VERSION	2

#define VCN_TRANSPORT_UDP	0x01
#define VCN_TRANSPORT_TCP	0x02

/* Where one session's media currently flows (either end). */
enum vcn_path {
	VCN_PATH_NONE = 0,	/* not yet: camera waits for a hello, hub for media */
	VCN_PATH_UDP,
	VCN_PATH_TCP,
	VCN_PATH_GONE,		/* authenticated bye, or TCP closed, failed or broken */
};

const char *vcn_path_name(enum vcn_path p);

enum vcn_hello_kind {
	VCN_HELLO_UDP = 1,	/* keepalive; proves the UDP media address (with its echo) */
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

/* A hello's fields (everything but the tag). */
struct vcn_hello {
	enum vcn_hello_kind kind;
	uint8_t token[VCN_TOKEN_LEN];
	uint64_t counter;
	uint8_t echo[VCN_NONCE_LEN];
};

/* Encode and tag with the hub-to-camera key. */
void vcn_hello_encode(const struct vcn_hello *h, struct vcn_mac *hub_to_camera,
		      uint8_t out[VCN_HELLO_LEN]);
/*
 * The kind, or 0 if it is not a well-formed version-2 hello; fills *h.
 * Says nothing about the tag: check it with vcn_hello_authentic() under
 * the key of the session the token names.
 */
int vcn_hello_parse(const uint8_t *p, size_t len, struct vcn_hello *h);
bool vcn_hello_authentic(struct vcn_mac *hub_to_camera, const uint8_t p[VCN_HELLO_LEN]);

/* Encode and tag with the camera-to-hub key. */
void vcn_challenge_encode(const uint8_t nonce[VCN_NONCE_LEN], uint32_t ssrc,
			  struct vcn_mac *camera_to_hub, uint8_t out[VCN_CHALLENGE_LEN]);
/* A datagram that starts like a path challenge ("VCMP"), to route it. */
bool vcn_challenge_magic(const uint8_t *p, size_t len);
/*
 * 0 and the nonce if p is a well-formed challenge of this session (SSRC)
 * with a right tag; -1 otherwise. The tag is checked before the fields.
 */
int vcn_challenge_parse(const uint8_t *p, size_t len, uint32_t ssrc,
			struct vcn_mac *camera_to_hub, uint8_t nonce[VCN_NONCE_LEN]);
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

static inline void vcn_put_be64(uint8_t *p, uint64_t v)
{
	vcn_put_be32(p, (uint32_t)(v >> 32));
	vcn_put_be32(p + 4, (uint32_t)v);
}

static inline uint64_t vcn_get_be64(const uint8_t *p)
{
	return (uint64_t)vcn_get_be32(p) << 32 | vcn_get_be32(p + 4);
}

#endif /* VERACAM_NET_WIRE_H */
