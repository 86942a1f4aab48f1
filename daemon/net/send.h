/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam media transport - the camera's "send" step.
 *
 * One vcn_cam per camera: a UDP socket (and optionally a TCP listener on
 * the same port) serving every hub session. Per hub session the daemon
 * calls vcn_cam_hub_add() after the control handshake and sends the offer
 * it fills in to the hub over the control channel. Media for that hub
 * goes to the source address of the latest UDP hello carrying its token
 * (or down the TCP connection that presented the token). Each hub has a
 * small bounded queue; when it is full whole units are dropped, counted,
 * and the hub "needs a keyframe" until one is queued.
 *
 * Poll loop: wait for vcn_cam_fd() readable or vcn_cam_timeout_ms(), then
 * vcn_cam_process(). Times are CLOCK_MONOTONIC ns. No threads.
 */
#ifndef VERACAM_NET_SEND_H
#define VERACAM_NET_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "wire.h"

struct vcn_cam_config {
	const struct sockaddr *bind;	/* media address; port 0 picks one */
	socklen_t bind_len;
	bool listen_tcp;		/* own a TCP listener on the same port */
	uint8_t transports;		/* offered VCN_TRANSPORT_*; 0 = both */
	uint8_t pt;			/* RTP payload type; 0 = 96 */
	uint32_t max_au;		/* largest unit accepted; 0 = 2 MiB */
	unsigned int queue_units;	/* per hub; 0 = 3 */
	size_t queue_bytes;		/* per hub; 0 = 4 MiB */
	uint64_t rate;			/* pacing, bytes/s per hub; 0 = unpaced */
	size_t burst;			/* pacing bucket; 0 = 64 KiB */
	int64_t hub_timeout_ns;		/* no hello for this long: hub gone; 0 = 5 s */
	int64_t attach_timeout_ns;	/* new hub's first hello; 0 = 10 s */
};

struct vcn_cam_stats {
	uint64_t hello_bad_token;	/* well-formed hello, no hub has its token */
	uint64_t hello_malformed;
	uint64_t tcp_refused;		/* TCP media connection without a valid hello */
	uint64_t hubs_expired;		/* dropped for silence or a closed connection */
};

struct vcn_cam_hub_stats {
	uint64_t units_sent;		/* every packet handed to the kernel */
	uint64_t packets_sent;
	uint64_t bytes_sent;		/* unit bytes */
	uint64_t dropped_queue_full;
	uint64_t dropped_await_keyframe;
	uint64_t dropped_no_path;	/* before the first hello / after the end */
	uint64_t dropped_path_change;	/* unit cut short by UDP -> TCP */
	uint64_t send_errors;
	uint64_t relatched;		/* hello from a new source address */
	uint64_t hellos;
};

enum vcn_send {
	VCN_SEND_QUEUED = 0,
	VCN_SEND_QUEUE_FULL,		/* dropped: queue full (or unit > max_au); keyframe now needed */
	VCN_SEND_AWAIT_KEYFRAME,	/* dropped: not a keyframe while one is needed */
	VCN_SEND_NO_PATH,		/* dropped: no hello yet, or ended/gone */
};

struct vcn_cam;
struct vcn_cam_hub;

struct vcn_cam *vcn_cam_new(const struct vcn_cam_config *cfg);
/* Frees every hub (without sending anything) and closes the sockets. */
void vcn_cam_free(struct vcn_cam *cam);
/* An epoll fd: readable when vcn_cam_process() has socket work. */
int vcn_cam_fd(const struct vcn_cam *cam);
uint16_t vcn_cam_port(const struct vcn_cam *cam);
/* poll() timeout until the next timer (pacing, expiry); -1 for none. */
int vcn_cam_timeout_ms(const struct vcn_cam *cam, int64_t now_ns);
/* Hellos, new TCP connections, queued packets, expiry. 0, or -1 + errno. */
int vcn_cam_process(struct vcn_cam *cam, int64_t now_ns);
/*
 * A TCP connection the daemon accepted on its own (control) port whose
 * first bytes are a media hello (vcn_hello_magic() with MSG_PEEK). The
 * camera owns fd from here on, also on failure.
 */
int vcn_cam_adopt_tcp(struct vcn_cam *cam, int fd, int64_t now_ns);
const struct vcn_cam_stats *vcn_cam_stats(const struct vcn_cam *cam);
/* True when no hub has anything queued (after vcn_cam_hub_end(): all sent). */
bool vcn_cam_idle(const struct vcn_cam *cam);

/* A new hub session: fresh token, SSRC, numbering. offer goes to the hub. */
struct vcn_cam_hub *vcn_cam_hub_add(struct vcn_cam *cam, int64_t now_ns,
				    struct vcn_offer *offer);
void vcn_cam_hub_remove(struct vcn_cam *cam, struct vcn_cam_hub *hub);
/*
 * Queue one sealed unit for this hub (copied) and send what the path and
 * pacing allow now. keyframe: the unit starts with an IDR.
 */
enum vcn_send vcn_cam_send(struct vcn_cam *cam, struct vcn_cam_hub *hub,
			   const uint8_t *unit, size_t len, uint64_t capture_ns,
			   bool keyframe, int64_t now_ns);
/* Queue the stream end after the queued units; the path then becomes ENDED. */
void vcn_cam_hub_end(struct vcn_cam *cam, struct vcn_cam_hub *hub, int64_t now_ns);
/* The next unit sent to this hub must be a keyframe (ask the encoder for an IDR). */
bool vcn_cam_hub_needs_keyframe(const struct vcn_cam_hub *hub);
enum vcn_path vcn_cam_hub_path(const struct vcn_cam_hub *hub);
const struct vcn_cam_hub_stats *vcn_cam_hub_stats(const struct vcn_cam_hub *hub);

#endif /* VERACAM_NET_SEND_H */
