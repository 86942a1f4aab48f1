/* SPDX-License-Identifier: GPL-2.0 */
/*
 * role.h - the hub role's state and the joins between its files:
 *
 *   link.c   per camera: connect (a job: TCP, TLS, the offer), backoff
 *   role.c   the live session: receive -> open -> verify -> decode ->
 *            display, the fail-closed tick, status, start and stop
 *
 * Private to veracamd's hub role; everything runs on the loop thread but
 * the connect jobs.
 */
#ifndef VERACAM_HUB_ROLE_H
#define VERACAM_HUB_ROLE_H

#include <errno.h>
#include <poll.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>


#include <veracam/enckey.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>
#include <veracam/session.h>
#include <veracam/verify.h>

#include "camfetch.h"
#include "decode.h"
#include "display.h"
#include "evview.h"
#include "receive.h"
#include "veracamd.h"

#define STATUS_INTERVAL_NS	2000000000ull
/* a live session that opens no unit for this long is started anew */
#define STALL_NS		5000000000ull

enum phase {
	PHASE_WAIT,		/* retry timer armed */
	PHASE_CONNECTING,	/* connect job running */
	PHASE_LIVE,		/* session up: receiving */
};

struct hub_role;

/* One camera the hub shows: its link (connect, backoff) and its session. */
struct feed {
	struct hub_role *hr;
	unsigned int idx;
	const struct svc_camera_ref *ref;
	struct svc_camera_stats *st;
	enum phase phase;
	struct svc_timer *retry;
	unsigned int failures;		/* attempts since the last verified frame */
	bool pinned;			/* ref->source given: only that source is verified */
	uint8_t source[VC_HASH_LEN];	/* its source id */

	/*
	 * connect job (svc_job): inputs fixed before it starts, results read
	 * in its done callback; fd also under hr->lock (teardown shuts it)
	 */
	struct svc_job *connect;
	int fd;
	struct vc_session *session;
	enum vc_session_cause cause;	/* why it failed */
	uint8_t refused;		/* the camera's VC_REFUSED_* reason, 0 if none */
	struct vcn_offer offer;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char why[256];
	char logged_why[256];		/* the last failure logged above debug */

	/* live session */
	struct vc_verifier *verifier;
	struct vcn_hub *rx;
	struct vcn_reasm_stats rx_counted;	/* rx's discards already in st->discarded */
	struct svc_timer *rx_timer;
	struct svc_timer *challenge_timer;	/* VC_CHALLENGE_INTERVAL_NS */
	uint32_t events;			/* watched on fd */
	struct hub_decode *dec;
	bool dec_started;		/* its first decoder child has greeted */
	bool verified_once;		/* in this session */
	bool rejected;			/* a reject since the last verified unit */
	bool showing;			/* the cell holds a frame, not a screen */
	uint64_t last_verified_ns;	/* CLOCK_MONOTONIC; 0 = none in this session */
	uint64_t fresh_until_ns;	/* CLOCK_MONOTONIC when the age bound of the frame on
					 * glass reaches the freshness window (its unit's, not
					 * the newest verified unit's) */
	uint64_t live_since_ns;		/* CLOCK_MONOTONIC start of this session */
	uint64_t last_opened_ns;	/* CLOCK_MONOTONIC of its last unit that opened */
	uint64_t on_screen_ns;		/* capture time of its frame last on glass */
	uint64_t display_expired;	/* display_stats.expired[idx] already handled */
	/* its recorded events over the session (camfetch.h); NULL without enc.key */
	struct camfetch *fetch;
	uint8_t fetch_pub[VC_PUBKEY_LEN];
	uint64_t fetch_refused[VC_EV__COUNT];	/* already in st->camfetch.refused */
	uint64_t fetch_dropped;			/* already in events.cache_dropped */
};

struct hub_role {
	struct svc_service *s;
	const struct svc_hub_config *cfg;
	struct vc_device_key *key;
	/* VC_CTL_ENC_KEY's body: our encryption key and its binding; none without enc.key */
	uint8_t enc_msg[VC_CTL_ENC_KEY_LEN];
	bool has_enc;
	struct vc_enc_key *enc;		/* its private half: opens the cameras' events */
	struct hub_display *display;
	struct evview *evview;		/* the events view and its cache (issue 17) */
	struct feed cams[VC_HUB_MAX_CAMERAS];
	pthread_mutex_t lock;		/* each feed's fd while it connects */
	struct svc_timer *tick;
	uint64_t tick_at;		/* CLOCK_MONOTONIC the tick is armed for */
	uint64_t status_at;		/* last STATUS= line, CLOCK_MONOTONIC */
	uint64_t given_up;		/* display_stats.commits_given_up logged */
	bool debug;
};

/* ---- link.c ------------------------------------------------------ */

/* c->retry's timer: start the connect job. */
void link_on_retry(void *c);
/* The next attempt after the backoff (c->failures so far). */
void link_schedule_retry(struct feed *c);

/* ---- role.c ------------------------------------------------------ */

/* The connect job brought a session (c->session, c->offer): go live. */
void feed_session_start(struct feed *c);

#endif /* VERACAM_HUB_ROLE_H */
