/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gate.h - the unauthenticated side of the camera's listener.
 *
 * Every TCP connection to the camera's port is held here until it has
 * proved something: a TLS control session with a pinned hub key
 * (gate_session_fn), or a whole media hello to hand to the transport
 * (gate_media_fn, whose MAC the transport checks). Until then a stranger
 * holds one slot, and the gate bounds what strangers can hold:
 *
 *  - an absolute deadline per connection from accept (not per read), so
 *    trickling bytes does not extend it;
 *  - at most per_addr slots per source address (IPv4 /32, IPv6 /64) and
 *    max_pending in all; a new connection that finds them full evicts the
 *    oldest connection of the address holding the most slots (its own
 *    address first), so new arrivals are never locked out and one
 *    address's flood only displaces its own connections;
 *  - a token bucket of connection attempts per address (rate, burst);
 *    beyond it a connection is closed at once;
 *  - the TLS handshake is non-blocking and driven by the loop, so slow
 *    peers hold a slot, never the thread;
 *  - a handshake budget: the steps of unauthenticated handshakes may take
 *    at most hs_share of the loop thread's time (its CPU clock against the
 *    time it had: real time less its wait for a CPU; a bucket of
 *    hs_burst_ns); beyond it connections wait their turn: a first step
 *    (ClientHello) one per source address in turn, later steps first, so
 *    a flood of complete ClientHellos costs the camera a bounded share of
 *    its loop and a hub waits behind one step of each stranger address,
 *    not behind the flood.
 *
 * Each refusal is reported (gate_reject_fn) with a reason: "rate",
 * "evicted", "timeout", "unpaired", "handshake", "garbage", "closed".
 */
#ifndef VERACAM_CAMERA_GATE_H
#define VERACAM_CAMERA_GATE_H

#include <stdint.h>

#include <veracam/pairing.h>
#include <veracam/session.h>

#include "service.h"
#include "wire.h"

struct gate_config {
	unsigned int max_pending;	/* 0 = 64 */
	/*
	 * Per source address: generous enough for every hub of a household
	 * behind one NAT or one relay reconnecting at once (an outage), small
	 * enough that one address cannot hold the table.
	 */
	unsigned int per_addr;		/* 0 = 16 */
	double rate;			/* attempts per second per address; 0 = 8 */
	double burst;			/* 0 = 32 */
	int64_t deadline_ns;		/* 0 = VC_HANDSHAKE_TIMEOUT_NS */
	double hs_share;		/* of the loop's time for handshakes; 0 = 0.25 */
	int64_t hs_burst_ns;		/* 0 = 50 ms */
	enum vc_cipher prefer;
	const struct vc_device_key *key;
};

struct gate_ops {
	/* The pinned hubs, read anew for each handshake (caller frees *peers). */
	int (*peers)(void *data, struct vc_peer **peers, size_t *n);
	/* An authenticated session; the callee owns fd and s from here on. */
	void (*session)(void *data, int fd, struct vc_session *s, const char *peer);
	/* A media connection and its first VCN_HELLO_LEN bytes; the callee owns fd. */
	void (*media)(void *data, int fd, const uint8_t hello[VCN_HELLO_LEN]);
	/* A connection refused; reason is one word, why one line. */
	void (*reject)(void *data, const char *reason, const char *peer, const char *why);
};

struct gate;

/* Starts accepting on listen_fd (non-blocking, listening); NULL on failure. */
struct gate *gate_new(struct svc_loop *loop, int listen_fd, const struct gate_config *cfg,
		      const struct gate_ops *ops, void *data);
/* Closes every pending connection (not the listener). */
void gate_free(struct gate *g);
/* Connections held now, not yet authenticated. */
unsigned int gate_pending(const struct gate *g);
/* Connections that had to wait for the handshake budget, in all. */
uint64_t gate_waits(const struct gate *g);

#endif /* VERACAM_CAMERA_GATE_H */
