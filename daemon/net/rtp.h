/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam media transport (version 2) - the packet format and its two
 * ends: fragmenting one sealed unit into authenticated RTP packets, and
 * reassembling them on the hub without trusting order or count of what
 * arrives, and touching no state for a packet whose tag is wrong.
 *
 * Every media packet is an RTP packet (RFC 3550, no CSRC, no extension)
 * whose payload starts with a 20-byte veracam fragment header:
 *
 *   0  version (2)      1  kind (1 media)   2  flags   3  0
 *   4  unit number, 32 bits, +1 per unit within a session
 *   8  unit length in bytes
 *  12  fragment offset in bytes
 *  16  stride: bytes per fragment (every fragment but the last), 16 bits
 *  18  0, 16 bits
 *
 * then the fragment's bytes, then a 16-byte tag: HMAC-SHA256/128 under
 * the session's camera-to-hub transport key over every byte before it
 * (mac.h). All integers big-endian. The unit itself (a sealed unit of
 * the security core) is opaque here; the tag says the packet is the
 * camera's, for this session, unmodified; the sealed unit's AEAD is
 * still what makes its content trustworthy.
 */
#ifndef VERACAM_NET_RTP_H
#define VERACAM_NET_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mac.h"

#define VCN_RTP_HEADER_LEN	12
#define VCN_FRAG_HEADER_LEN	20
#define VCN_PACKET_HEADERS	(VCN_RTP_HEADER_LEN + VCN_FRAG_HEADER_LEN)
#define VCN_PACKET_OVERHEAD	(VCN_PACKET_HEADERS + VCN_TAG_LEN)
#define VCN_UDP_PACKET_MAX	1200	/* whole UDP payload, MTU-safe */
#define VCN_UDP_STRIDE		(VCN_UDP_PACKET_MAX - VCN_PACKET_OVERHEAD)
#define VCN_TCP_PACKET_MAX	65535	/* RFC 4571 16-bit length */
#define VCN_TCP_STRIDE		(VCN_TCP_PACKET_MAX - VCN_PACKET_OVERHEAD)
#define VCN_STRIDE_MIN		64	/* bounds the reassembly bitmap */

#define VCN_FRAG_VERSION	2
#define VCN_KIND_MEDIA		1	/* the only kind (version 1's end packet is gone) */
#define VCN_FLAG_KEYFRAME	0x01	/* a hint, authenticated: the unit starts a GOP */

#define VCN_PT_DEFAULT		96	/* dynamic payload type */
#define VCN_MAX_AU_DEFAULT	(2u << 20)
#define VCN_INFLIGHT_DEFAULT	4
#define VCN_REASM_TIMEOUT_DEFAULT_NS	500000000LL

/* 90 kHz RTP clock from a wall-clock capture time, without overflow. */
uint32_t vcn_rtp_clock(uint64_t capture_ns);

/* Camera side: the packet numbering state of one stream. */
struct vcn_packetizer {
	uint32_t ssrc;
	uint16_t seq;		/* next RTP sequence number */
	uint32_t ts_offset;	/* random, added to every RTP timestamp */
	uint32_t au_num;	/* next unit number */
	uint8_t pt;
	uint16_t stride;	/* fragment size for this stream's transport */
	struct vcn_mac *mac;	/* camera-to-hub key; borrowed */
};

/*
 * Random SSRC, initial sequence, timestamp offset and unit number
 * (RAND_bytes); 0 or -1 if the random generator fails. mac tags every
 * packet and must outlive the packetizer.
 */
int vcn_packetizer_init(struct vcn_packetizer *p, uint8_t pt, uint16_t stride,
			struct vcn_mac *mac);

/* One unit being cut into packets: fields fixed when the unit starts. */
struct vcn_fragmenter {
	const uint8_t *data;
	uint32_t len;
	uint32_t offset;	/* of the next fragment */
	uint32_t au_num;
	uint32_t rtp_ts;
	uint8_t flags;
	bool done;
};

/* Assign the unit its number and timestamp; len <= UINT32_MAX. */
void vcn_fragmenter_start(struct vcn_packetizer *p, struct vcn_fragmenter *f,
			  const uint8_t *data, size_t len, uint64_t capture_ns,
			  uint8_t flags);
/*
 * Write the next packet, tag included, into out (VCN_PACKET_OVERHEAD +
 * p->stride bytes at least); returns its length, 0 once the unit is
 * done. A 0-byte unit is one packet with no data.
 */
size_t vcn_fragmenter_next(struct vcn_packetizer *p, struct vcn_fragmenter *f,
			   uint8_t *out);

/*
 * RFC 4571 framing on TCP: a 16-bit big-endian length, then one packet.
 * The length of the first whole frame in buf (2 + packet), 0 if buf does
 * not hold one yet; *pkt and *pkt_len describe its packet.
 */
size_t vcn_frame_next(const uint8_t *buf, size_t len, const uint8_t **pkt, size_t *pkt_len);

/* Hub side. What a packet was, and each way it can be discarded. */
enum vcn_pkt {
	VCN_PKT_FRAGMENT = 0,	/* stored */
	VCN_PKT_MALFORMED,	/* too short or long for a packet; or, tag valid, header rules broken */
	VCN_PKT_FORGED,		/* the tag is wrong: not the camera's packet, or modified */
	VCN_PKT_FOREIGN,	/* other SSRC or payload type */
	VCN_PKT_OVERSIZED,	/* unit longer than the configured maximum */
	VCN_PKT_DUPLICATE,	/* fragment already held, or unit already closed */
	VCN_PKT_INCONSISTENT,	/* disagrees with earlier fragments of its unit */
	VCN_PKT_LATE,		/* unit older than everything the window holds */
	VCN_PKT__COUNT
};

const char *vcn_pkt_name(enum vcn_pkt k);

struct vcn_reasm_config {
	struct vcn_mac *mac;		/* camera-to-hub key, required; borrowed */
	uint32_t ssrc;			/* only this stream is accepted */
	uint8_t pt;
	uint32_t max_au;		/* 0: VCN_MAX_AU_DEFAULT */
	unsigned int max_inflight;	/* units held at once; 0: default */
	int64_t timeout_ns;		/* since a unit's first fragment; 0: default */
};

struct vcn_reasm_stats {
	uint64_t packets;
	uint64_t discarded[VCN_PKT__COUNT];	/* index FRAGMENT unused */
	uint64_t units;				/* delivered whole */
	uint64_t unit_bytes;
	uint64_t incomplete;			/* units abandoned unfinished */
};

/* A delivered unit; data stays valid until the next push or pop. */
struct vcn_unit {
	const uint8_t *data;
	size_t len;
	uint32_t au_num;
	uint32_t rtp_ts;
	bool keyframe;
};

struct vcn_reasm;

/* NULL + errno (EINVAL without a mac). */
struct vcn_reasm *vcn_reasm_new(const struct vcn_reasm_config *cfg);
void vcn_reasm_free(struct vcn_reasm *r);

/*
 * One received packet (UDP datagram or RFC 4571 frame); now: monotonic
 * ns. The tag is checked first, after the length bounds only: a packet
 * with a wrong tag is counted FORGED and changes nothing else.
 */
enum vcn_pkt vcn_reasm_push(struct vcn_reasm *r, const uint8_t *pkt, size_t len,
			    int64_t now_ns);
/*
 * The next whole unit, in unit-number order: a finished unit waits for
 * older unfinished ones until they time out, unless it is flagged as a
 * keyframe. Units are delivered at most once, numbers strictly rising,
 * each byte from exactly one fragment of that unit. true if out is set.
 */
bool vcn_reasm_pop(struct vcn_reasm *r, int64_t now_ns, struct vcn_unit *out);
/* When the oldest held unit times out (INT64_MAX if none). */
int64_t vcn_reasm_deadline(const struct vcn_reasm *r);
const struct vcn_reasm_stats *vcn_reasm_stats(const struct vcn_reasm *r);

#endif /* VERACAM_NET_RTP_H */
