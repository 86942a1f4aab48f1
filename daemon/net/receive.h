/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam media transport (version 2) - the hub's "receive" step.
 *
 * One vcn_hub per camera session. After the control handshake the daemon
 * passes the offer the camera sent, the session's transport keys and the
 * camera's media address (which may be a relay's). UDP by default: the
 * hub sends tagged, counted hellos to that address; the camera answers a
 * hello from an address it does not send to yet with a path challenge,
 * which the hub echoes in a hello at once, and then sends media there.
 * Packets are reassembled only if their tag is the camera's. If no valid
 * media packet arrives within fallback_ns the hub opens a TCP connection
 * to the same address, presents a kind-2 hello, and receives RFC 4571
 * frames.
 *
 * The stream ends only by the control channel (the daemon's business);
 * the transport reports GONE only when a TCP media connection fails.
 *
 * Poll loop: wait for vcn_hub_fd() readable or vcn_hub_deadline_ns(), then
 * call vcn_hub_receive() until it returns VCN_RX_NONE. Every unit it
 * returns is a candidate for the security core's opener/verifier, which
 * alone decides whether it is authentic. Times are CLOCK_MONOTONIC ns.
 */
#ifndef VERACAM_NET_RECEIVE_H
#define VERACAM_NET_RECEIVE_H

#include <stdint.h>
#include <sys/socket.h>

#include "mac.h"
#include "rtp.h"
#include "wire.h"

enum vcn_hub_transport {
	VCN_HUB_AUTO = 0,	/* UDP, falling back to TCP */
	VCN_HUB_UDP,
	VCN_HUB_TCP,
};

struct vcn_hub_config {
	const struct sockaddr *camera;	/* media address (UDP and TCP), maybe a relay */
	socklen_t camera_len;
	const struct vcn_offer *offer;	/* as received on the control channel */
	const struct vcn_keys *keys;	/* the session's transport keys, required */
	enum vcn_hub_transport transport;
	int64_t fallback_ns;		/* AUTO: TCP if no UDP media by then; 0 = 2 s */
	int64_t hello_interval_ns;	/* keepalive period; 0 = 1 s */
	uint32_t max_au;		/* reassembly bounds, 0 = defaults (rtp.h) */
	unsigned int max_inflight;
	int64_t reasm_timeout_ns;
};

struct vcn_hub_stats {
	uint64_t hellos_sent;
	uint64_t udp_packets;
	uint64_t tcp_frames;
	uint64_t fallbacks;		/* UDP gave nothing in time: switched to TCP */
	uint64_t challenges;		/* path challenges accepted (and echoed) */
	uint64_t challenges_forged;	/* "VCMP" datagrams with a wrong tag or fields */
};

enum vcn_rx {
	VCN_RX_NONE = 0,	/* nothing more now: wait on the fd / timeout */
	VCN_RX_UNIT,		/* *out holds a reassembled unit (the camera's, by its tags) */
	VCN_RX_GONE,		/* TCP closed or failed */
};

struct vcn_hub;

/* NULL + errno (EINVAL: no keys, or the offer does not allow the requested transport). */
struct vcn_hub *vcn_hub_new(const struct vcn_hub_config *cfg, int64_t now_ns);
/* Says an authenticated bye to the camera (best effort), closes, wipes the keys. */
void vcn_hub_free(struct vcn_hub *hub);
int vcn_hub_fd(const struct vcn_hub *hub);
/*
 * CLOCK_MONOTONIC ns by which vcn_hub_receive() must run again (reassembly,
 * hellos, the TCP fallback); INT64_MAX for none (the path is gone).
 */
int64_t vcn_hub_deadline_ns(const struct vcn_hub *hub);
/* Timers, reads, reassembly; out->data is valid until the next call. */
enum vcn_rx vcn_hub_receive(struct vcn_hub *hub, int64_t now_ns, struct vcn_unit *out);
enum vcn_path vcn_hub_path(const struct vcn_hub *hub);
const struct vcn_hub_stats *vcn_hub_stats(const struct vcn_hub *hub);
const struct vcn_reasm_stats *vcn_hub_reasm_stats(const struct vcn_hub *hub);

#endif /* VERACAM_NET_RECEIVE_H */
