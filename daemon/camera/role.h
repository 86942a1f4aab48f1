/* SPDX-License-Identifier: GPL-2.0 */
/*
 * role.h - the camera role's state and the joins between its files, in
 * the order of the frame's path:
 *
 *   pump.c         media thread: capture -> timestamp -> motion -> encode,
 *                  the newest AU to the loop through a mailbox
 *   role.c         loop thread: sign (once per AU) -> seal (per hub) ->
 *                  send; status, pairings, start and stop
 *   subscribers.c  the hub sessions: from the gate to a subscriber, its
 *                  control channel, liveness, forced IDRs
 *
 * Private to veracamd's camera role; everything here runs on the loop
 * thread unless it says otherwise.
 */
#ifndef VERACAM_CAMERA_ROLE_H
#define VERACAM_CAMERA_ROLE_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>


#include <veracam/holder.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>
#include <veracam/record.h>
#include <veracam/seal.h>
#include <veracam/session.h>

#include "camera.h"
#include "eventserve.h"
#include "gate.h"
#include "pairbutton.h"
#include "recorder.h"
#include "upload.h"
#include "send.h"
#include "sock.h"
#include "veracamd.h"

#define IDR_KEY_INTERVAL_NS	2000000000ull	/* forced IDRs for one hub key */
#define IDR_MIN_INTERVAL_NS	100000000ull	/* forced IDRs, all hubs together */
#define IDR_KEYS		16		/* hub keys remembered for that */
#define LIVE_CHECK_NS		250000000ull	/* how often hub liveness is checked */
#define RETRY_MIN_MS		250	/* capture device retry backoff */
#define RETRY_MAX_MS		8000
#define STATUS_INTERVAL_NS	1000000000ull
#define END_DRAIN_NS		500000000LL	/* time given to stream ends at exit */
#define GROUPS_MAX		((16 + VC_RECORD_MAX_SESSIONS - 1) / VC_RECORD_MAX_SESSIONS)

struct camera_role;

/* One authenticated hub session: a subscriber to this camera's media. */
struct subscriber {
	struct subscriber *next;
	struct camera_role *cr;
	struct vc_session *session;	/* its control channel: challenges in, offer out */
	int fd;
	uint32_t events;		/* watched on fd */
	struct vc_sealer *sealer;
	struct vcn_cam_hub *media;
	struct svc_hub_session *st;
	uint8_t session_id[VC_SESSION_ID_LEN];
	uint8_t pub[VC_PUBKEY_LEN];
	char name[VC_NAME_MAX + 1];
	unsigned int group;		/* which signer signs its records */
	uint64_t drops;			/* AUs not sealed for it (waiting for an IDR) */
	bool wants_idr;			/* its media needs a keyframe the encoder must make */
	/*
	 * Event requests (eventserve.h): one answer per turn of the loop. A
	 * request read after one was answered in the same turn waits here
	 * for the next turn (serve_timer); the session refuses a third.
	 */
	struct svc_timer *serve_timer;
	struct vc_ctl deferred;		/* the request waiting, if has_deferred */
	bool has_deferred;
	bool answered;			/* in this call of hub_control() */
};

struct camera_role {
	struct svc_service *s;
	const struct svc_camera_config *cfg;
	struct vc_device_key *key;	/* remote: the key holder signs (holder.h) */
	pid_t holder;
	struct vc_signer *signer[GROUPS_MAX];
	unsigned int n_groups;
	struct vc_buf signed_au, unit;
	uint8_t local_session[VC_SESSION_ID_LEN];	/* readiness: signed, never sent */
	bool ready;

	/* hubs: the listener's gate, then one struct subscriber per authenticated session */
	int listen_fd;
	struct gate *gate;
	struct vcn_cam *net;
	struct svc_timer *net_timer;
	struct svc_timer *live_timer;	/* hubs whose challenges stopped */
	struct subscriber *hubs;
	unsigned int n_hubs;
	struct vc_peer *peers;		/* pinned hubs as of the last reload */
	size_t n_peers;
	GHashTable *skip_logged;	/* files in peers/ skipped and logged: "name\twhy" */
	uint64_t skipped_now;		/* files skipped by the read in progress */
	struct reject_log {		/* refusals logged at most once a second each */
		char reason[16];
		uint64_t at_ns, quiet;
	} reject_log[8];

	/* suspend: CLOCK_BOOTTIME - CLOCK_MONOTONIC grows by the time asleep */
	int64_t asleep_ns;		/* that difference when last looked at */
	uint64_t awake_since_ns;	/* CLOCK_MONOTONIC of the last resume seen */

	/*
	 * Forced IDRs: one hub key gets at most one per IDR_KEY_INTERVAL_NS
	 * (remembered across its sessions, so a reconnect loop is bounded too),
	 * all hubs together at most one per IDR_MIN_INTERVAL_NS; each IDR serves
	 * every hub waiting for one.
	 */
	struct idr_key {
		uint8_t pub[VC_PUBKEY_LEN];
		uint64_t at_ns;
	} idr_keys[IDR_KEYS];
	uint64_t idr_at_ns;

	/*
	 * The media thread (a svc_job) hands the loop its newest AU and its
	 * state line through two newest-wins mailboxes (struct media_au,
	 * struct media_state); the loop's requests and the detector's
	 * events go the other way under the lock.
	 */
	struct svc_job *media;
	struct svc_mailbox *media_box;		/* struct media_au */
	struct svc_mailbox *state_box;		/* struct media_state */
	pthread_mutex_t lock;			/* stop, want_idr, motion_log* */
	pthread_cond_t cond;			/* stop, for the retry waits */
	bool stop, want_idr;
	struct cam_motion *motion;		/* the media thread's */
	struct cam_motion_event motion_log[4];	/* events the loop has not logged yet */
	struct cam_recorder *recorder;		/* fed by the media thread, its own thread */
	struct cam_upload *upload;		/* the spool to the event store, its own thread */
	struct cam_eventserve *serve;		/* hubs' event requests (loop thread) */
	struct cam_eventserve_stats serve_st;
	unsigned int n_motion_log;
	uint64_t motion_log_lost;

	/* loop thread counters */
	struct svc_timer *status_timer;
	struct pair_button *pair_button;	/* "pair-window" on the status socket */
	uint64_t replaced_seen;		/* AUs the loop was too late to take */
	uint64_t stale_dropped;		/* AUs older than freshness: never sent */
	uint64_t frames_at_status;
	uint64_t status_at_ns;
	char encoder[32];
	char source[VC_SOURCE_MAX_LEN + 1];	/* the identity the signers sign for */
};


/* The media thread's newest AU, for the loop (cr->media_box). */
struct media_au {
	struct cam_au au;
	char source[VC_SOURCE_MAX_LEN + 1];	/* stable identity of au's device */
	char encoder[32];			/* the element that made it */
	uint64_t captured, gaps;		/* capture counters as of this AU */
	struct cam_motion_stats motion;		/* the detector's, as of this AU */
};

/* Its newest state line (cr->state_box): logged and in STATUS=. */
struct media_state {
	char text[320];
};

/* ---- pump.c: the media thread ---------------------------------- */

/* The media job (svc_job_start(loop, "vc-media", pump_run, pump_ended, cr)). */
void pump_run(void *cr);
void pump_ended(void *cr);
/* The mailbox's clear for a struct media_au not taken. */
void pump_au_clear(void *item);
/* The motion detector's callback (media thread). */
void pump_on_motion(void *cr, const struct cam_motion_event *ev);
/* The encoder makes the next frame an IDR. Any thread. */
void pump_request_idr(struct camera_role *cr);

/* ---- subscribers.c: the hub sessions ---------------------------- */

/* What the gate hands over: authenticated sessions, TCP media, refusals. */
extern const struct gate_ops subscribers_gate_ops;
/* Ends @h's session (close_notify to the hub), logs @why, frees it. */
void subscriber_drop(struct camera_role *cr, struct subscriber *h, const char *why);
/* @h needs an IDR; subscribers_grant_idr() grants it when the limits allow. */
void subscriber_want_idr(struct subscriber *h);
void subscribers_grant_idr(struct camera_role *cr, uint64_t now);
/* After a suspend every session ends (the signed delays would lie). */
void subscribers_check_suspend(struct camera_role *cr);
/* cr->live_timer: hubs whose challenges stopped are dropped. */
void subscribers_on_live_timer(void *cr);
/* The pinned hubs into cr->peers (start); SIGHUP: again, untrusted dropped. */
int subscribers_load_peers(struct camera_role *cr);
void subscribers_on_reload(void *cr);

#endif /* VERACAM_CAMERA_ROLE_H */
