/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracam media transport (version 2) - the camera's "send" step.
 *
 * One vcn_cam per camera: a UDP socket serving every hub session (TCP
 * media connections are accepted by the daemon on its own port and
 * handed over with their first hello). Per hub session the daemon calls
 * vcn_cam_hub_add() after the control handshake, with the session's
 * transport keys, and sends the offer it fills in to the hub over the
 * control channel. Every packet the camera sends is tagged with the
 * camera-to-hub key; every hello it acts on carries a right tag under
 * the hub-to-camera key and a counter above the last one accepted. Media
 * for a hub goes to an address only after the hub proved it is there
 * (a path challenge sent to that address, echoed in a hello from it), or
 * down the TCP connection whose first hello was the hub's. Each hub has a
 * small bounded queue; when it is full whole units are dropped, counted,
 * and the hub "needs a keyframe" until one is queued.
 *
 * The transport never ends a session for silence: liveness is the
 * control channel's business. A session's path becomes GONE only by an
 * authenticated bye or when its TCP media connection closes or breaks.
 *
 * Poll loop: wait for vcn_cam_fd() readable or vcn_cam_deadline_ns(), then
 * vcn_cam_process(). Times are CLOCK_MONOTONIC ns. No threads.
 */
#ifndef VERACAM_NET_SEND_H
#define VERACAM_NET_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "mac.h"
#include "wire.h"

struct vcn_cam_config {
	const struct sockaddr *bind;	/* media address; port 0 picks one */
	socklen_t bind_len;
	uint8_t transports;		/* offered VCN_TRANSPORT_*; 0 = both */
	uint8_t pt;			/* RTP payload type; 0 = 96 */
	uint32_t max_au;		/* largest unit accepted; 0 = 2 MiB */
	unsigned int queue_units;	/* per hub; 0 = 3 */
	size_t queue_bytes;		/* per hub; 0 = 4 MiB */
	uint64_t rate;			/* pacing, bytes/s per hub; 0 = unpaced */
	size_t burst;			/* pacing bucket; 0 = 64 KiB */
};

struct vcn_cam_stats {
	uint64_t hello_bad_token;	/* well-formed hello, no hub has its token */
	uint64_t hello_malformed;
	uint64_t hello_forged;		/* a hub's token, a wrong tag */
	uint64_t hello_replay;		/* right tag, counter not above the last accepted */
	uint64_t challenges_sent;	/* path challenges (return routability) */
	uint64_t tcp_refused;		/* TCP media connection without a valid hello */
	uint64_t hubs_gone;		/* paths ended: authenticated bye, TCP closed/broken */
};

struct vcn_cam_hub_stats {
	uint64_t units_sent;		/* every packet handed to the kernel */
	uint64_t packets_sent;
	uint64_t bytes_sent;		/* unit bytes */
	uint64_t dropped_queue_full;
	uint64_t dropped_await_keyframe;
	uint64_t dropped_no_path;	/* before the first latch / once gone */
	uint64_t dropped_path_change;	/* unit cut short by UDP -> TCP */
	uint64_t send_errors;
	uint64_t relatched;		/* media moved to a new, proven UDP address */
	uint64_t hellos;		/* accepted (authentic, fresh counter) */
};

enum vcn_send {
	VCN_SEND_QUEUED = 0,
	VCN_SEND_QUEUE_FULL,		/* dropped: queue full (or unit > max_au); keyframe now needed */
	VCN_SEND_AWAIT_KEYFRAME,	/* dropped: not a keyframe while one is needed */
	VCN_SEND_NO_PATH,		/* dropped: no proven path yet, or gone */
};

struct vcn_cam;
struct vcn_cam_hub;

struct vcn_cam *vcn_cam_new(const struct vcn_cam_config *cfg);
/* Frees every hub (without sending anything) and closes the sockets. */
void vcn_cam_free(struct vcn_cam *cam);
/* An epoll fd: readable when vcn_cam_process() has socket work. */
int vcn_cam_fd(const struct vcn_cam *cam);
uint16_t vcn_cam_port(const struct vcn_cam *cam);
/* CLOCK_MONOTONIC ns of the next timer (pacing); INT64_MAX for none. */
int64_t vcn_cam_deadline_ns(const struct vcn_cam *cam);
/* Hellos, TCP keepalives, queued packets. 0, or -1 + errno. */
int vcn_cam_process(struct vcn_cam *cam, int64_t now_ns);
/*
 * A TCP media connection the daemon accepted on its own port, classified
 * (vcn_hello_magic()) and whose first VCN_HELLO_LEN bytes it read itself,
 * under its own deadline and per-address caps. Verified at once: a
 * kind-2 hello of a live session with a right tag and a fresh counter
 * moves that session's media to fd. The camera owns fd from here on: on
 * any failure it is closed, tcp_refused counted, -1 returned (EACCES).
 */
int vcn_cam_adopt_tcp(struct vcn_cam *cam, int fd, const uint8_t hello[VCN_HELLO_LEN],
		      int64_t now_ns);
const struct vcn_cam_stats *vcn_cam_stats(const struct vcn_cam *cam);
/* True when no hub with a path has anything queued or half sent. */
bool vcn_cam_idle(const struct vcn_cam *cam);

/*
 * A new hub session: fresh token, SSRC, numbering, and its transport
 * keys (copied into keyed contexts; the caller wipes its copy). offer
 * goes to the hub. NULL + errno (EINVAL without keys).
 */
struct vcn_cam_hub *vcn_cam_hub_add(struct vcn_cam *cam, int64_t now_ns,
				    const struct vcn_keys *keys, struct vcn_offer *offer);
void vcn_cam_hub_remove(struct vcn_cam *cam, struct vcn_cam_hub *hub);
/*
 * Queue one sealed unit for this hub (copied) and send what the path and
 * pacing allow now. keyframe: the unit starts with an IDR.
 */
enum vcn_send vcn_cam_send(struct vcn_cam *cam, struct vcn_cam_hub *hub,
			   const uint8_t *unit, size_t len, uint64_t capture_ns,
			   bool keyframe, int64_t now_ns);
/* The next unit sent to this hub must be a keyframe (ask the encoder for an IDR). */
bool vcn_cam_hub_needs_keyframe(const struct vcn_cam_hub *hub);
enum vcn_path vcn_cam_hub_path(const struct vcn_cam_hub *hub);
const struct vcn_cam_hub_stats *vcn_cam_hub_stats(const struct vcn_cam_hub *hub);

#endif /* VERACAM_NET_SEND_H */
