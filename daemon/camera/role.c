// SPDX-License-Identifier: GPL-2.0
/*
 * role.c - veracamd's camera role, the camera side of the frame's path:
 *
 *   media thread:  capture -> timestamp -> encode        (camera library)
 *                  one access unit in a mailbox, newest wins
 *   loop thread:   sign (once per AU) -> seal (per hub session) -> send
 *
 * and around it the hubs: each TCP connection to the listen port waits
 * in the gate (gate.c: deadlines, per-address caps, eviction, rate limits)
 * until it is either a TLS control channel with a pinned hub key or a
 * hub's TCP media connection with its whole hello (handed to the
 * transport). One session per hub key. A hub session ends when its
 * control channel closes, when its challenges stop for
 * VC_CHALLENGE_TIMEOUT_NS (nothing unauthenticated keeps it alive), on an
 * authenticated bye or a closed TCP media connection, when it is no
 * longer trusted after SIGHUP, or at SIGTERM.
 *
 * Each AU travels with the stable identity of the device that captured it
 * ("id:<unique id>" or "bus:...;serial:..."), and the signers sign that
 * identity's source id into its record: a hub can tell which sensor made
 * the frame, whatever /dev/videoN it was opened as.
 *
 * The device key is used by the loop thread only (signing records, and
 * TLS CertificateVerify in the gate's handshakes through its EVP_PKEY).
 */
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
	struct vc_ctl *deferred;	/* NULL: none waits */
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
	struct cam_motion_stats motion_st;	/* the detector's, as of the last AU */
	uint64_t stale_dropped;		/* AUs older than freshness: never sent */
	uint64_t frames_at_status;
	uint64_t status_at_ns;
	char encoder[32];
	char source[VC_SOURCE_MAX_LEN + 1];	/* the identity the signers sign for */
};

/* ------------------------------------------------------------------ */
/* Media thread: capture -> timestamp -> encode                          */
/* ------------------------------------------------------------------ */

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

static void media_au_clear(void *item)
{
	cam_au_clear(&((struct media_au *)item)->au);
}

static void media_state(struct camera_role *cr, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void media_state(struct camera_role *cr, const char *fmt, ...)
{
	struct media_state st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st.text, sizeof(st.text), fmt, ap);
	va_end(ap);
	svc_mailbox_post(cr->state_box, &st);
}

static bool media_stopping(struct camera_role *cr)
{
	bool stop;

	pthread_mutex_lock(&cr->lock);
	stop = cr->stop;
	pthread_mutex_unlock(&cr->lock);
	return stop;
}

/*
 * The motion detector's events (media thread): kept for the loop thread,
 * which logs them; the status shows the counters and the last event.
 */
static void on_motion(void *data, const struct cam_motion_event *ev)
{
	struct camera_role *cr = data;

	if (cr->recorder && ev->kind == CAM_MOTION_START)
		cam_recorder_trigger(cr->recorder, VC_TRIGGER_MOTION);
	else if (cr->recorder)
		cam_recorder_release(cr->recorder);
	pthread_mutex_lock(&cr->lock);
	if (cr->n_motion_log < G_N_ELEMENTS(cr->motion_log))
		cr->motion_log[cr->n_motion_log++] = *ev;
	else
		cr->motion_log_lost++;
	pthread_mutex_unlock(&cr->lock);
}

/*
 * One captured frame through the detector (the step between capture and
 * encode); the recorder sees it too (it copies one when an event has just
 * started: the thumbnail).
 */
static void media_motion(struct camera_role *cr, struct cam_capture *cap,
			 const struct cam_frame *frame)
{
	GstVideoFrame vf;

	if (!cr->motion && !cr->recorder)
		return;
	if (gst_video_frame_map(&vf, cam_capture_video_info(cap), frame->buffer, GST_MAP_READ)) {
		if (cr->motion)
			cam_motion_frame(cr->motion, &vf, &frame->info);
		if (cr->recorder)
			cam_recorder_frame(cr->recorder, &vf);
		gst_video_frame_unmap(&vf);
	}
}

/* Stream until the device fails (the error is returned) or we stop (NULL). */
static GError *media_stream(struct camera_role *cr, struct cam_capture *cap,
			    struct cam_encoder *enc, uint64_t *captured)
{
	const char *stable = cam_capture_identity(cap)->stable;
	struct cam_capture_stats cs;
	GError *err = NULL;

	for (;;) {
		struct cam_frame frame = { 0 };
		struct media_au m = { 0 };
		bool idr;
		int n;

		if (!cam_capture_next(cap, &frame, &err))
			return err;
		cam_capture_get_stats(cap, &cs);
		media_motion(cr, cap, &frame);
		++*captured;
		pthread_mutex_lock(&cr->lock);
		idr = cr->want_idr;
		cr->want_idr = false;
		if (cr->stop) {
			pthread_mutex_unlock(&cr->lock);
			cam_frame_clear(&frame);
			return NULL;
		}
		pthread_mutex_unlock(&cr->lock);
		if (idr)
			cam_encoder_force_keyframe(enc);
		n = cam_encode_frame(enc, &frame, &m.au, &err);
		cam_frame_clear(&frame);
		if (n < 0)
			return err;
		if (!n)
			continue;
		if (cr->recorder)	/* a copy: the live AU goes on as before */
			cam_recorder_au(cr->recorder, &m.au, stable);
		g_strlcpy(m.source, stable, sizeof(m.source));
		g_strlcpy(m.encoder, cam_encoder_element(enc), sizeof(m.encoder));
		m.captured = *captured;
		m.gaps = cs.lost;
		if (cr->motion)
			cam_motion_get_stats(cr->motion, &m.motion);
		svc_mailbox_post(cr->media_box, &m);
	}
}

static void media_run(void *arg)
{
	struct camera_role *cr = arg;
	const struct svc_camera_config *c = cr->cfg;
	struct cam_capture_config capcfg = {
		.source = c->source,
		.name = c->name,
		.width = c->width,
		.height = c->height,
		.fps_n = c->fps,
		.fps_d = 1,
	};
	struct cam_encode_config enccfg = {
		.encoder = c->encoder == SVC_ENCODER_X264 ? "x264" :
			   c->encoder == SVC_ENCODER_V4L2 ? "v4l2" : "auto",
		.bitrate_kbps = c->bitrate / 1000,
		.idr_interval = (unsigned int)(c->idr_interval_ns * c->fps / 1000000000ull),
	};
	unsigned int retry_ms = RETRY_MIN_MS;
	uint64_t captured = 0;

	if (!enccfg.idr_interval)
		enccfg.idr_interval = 1;
	while (!media_stopping(cr)) {
		GError *err = NULL;
		struct cam_capture *cap = cam_capture_open(&capcfg, &err);
		struct cam_encoder *enc = NULL;
		const char *element = NULL;
		struct timespec until;

		if (cap)
			element = cam_encoder_choose(enccfg.encoder, &err);
		if (element) {
			enccfg.dmabuf_input = cam_capture_use_dmabuf(cap,
					cam_encoder_imports_dmabuf(element));
			enc = cam_encoder_new(&enccfg, cam_capture_video_info(cap), &err);
		}
		if (enc && cr->motion)
			cam_motion_reset(cr->motion);	/* another device, or the same reopened */
		if (enc && cr->recorder)
			cam_recorder_restart(cr->recorder);	/* no clip across the break */
		if (enc) {
			const struct cam_identity *id = cam_capture_identity(cap);

			media_state(cr, "capturing %s (%s, bus %s), encoder %s, %s path",
				    id->stable, id->card, id->bus_info, cam_encoder_element(enc),
				    enccfg.dmabuf_input ? "dmabuf zero-copy" : "copy");
			retry_ms = RETRY_MIN_MS;
			err = media_stream(cr, cap, enc, &captured);
		}
		cam_encoder_free(enc);
		if (cap)
			cam_capture_close(cap);
		if (!err)
			break;
		media_state(cr, "camera unavailable: %s; retrying in %u ms", err->message,
			    retry_ms);
		g_error_free(err);

		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += retry_ms / 1000;
		until.tv_nsec += (long)(retry_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&cr->lock);
		while (!cr->stop && pthread_cond_timedwait(&cr->cond, &cr->lock, &until) == 0)
			;
		pthread_mutex_unlock(&cr->lock);
		retry_ms = MIN(retry_ms * 2, RETRY_MAX_MS);
	}
}

/* The media job ends only when teardown stops it: anything else is a bug. */
static void media_ended(void *arg)
{
	struct camera_role *cr = arg;

	cr->media = NULL;
	svc_log(LOG_ERR, "media thread ended while the camera was running");
	svc_loop_quit(cr->s->loop, EXIT_FAILURE);
}

static void media_request_idr(struct camera_role *cr)
{
	pthread_mutex_lock(&cr->lock);
	cr->want_idr = true;
	pthread_mutex_unlock(&cr->lock);
}

/* ------------------------------------------------------------------ */
/* Hub sessions                                                         */
/* ------------------------------------------------------------------ */

/* Hub @h needs an IDR; granted when the limits allow (grant_idr()). */
static void want_idr(struct subscriber *h)
{
	h->wants_idr = true;
}

/* The key's slot in the table (the least recently used one for a new key). */
static struct idr_key *idr_key_of(struct camera_role *cr, const uint8_t pub[VC_PUBKEY_LEN])
{
	struct idr_key *lru = &cr->idr_keys[0];

	for (unsigned int i = 0; i < IDR_KEYS; i++) {
		struct idr_key *k = &cr->idr_keys[i];

		if (!memcmp(k->pub, pub, VC_PUBKEY_LEN))
			return k;
		if (k->at_ns < lru->at_ns)
			lru = k;
	}
	memcpy(lru->pub, pub, VC_PUBKEY_LEN);
	lru->at_ns = 0;
	return lru;
}

/*
 * Ask the encoder for an IDR when a waiting hub's key may have one: a slow
 * or reconnect-looping hub cannot turn every hub's stream into IDRs, and
 * hubs coming back after an outage are served at once.
 */
static void grant_idr(struct camera_role *cr, uint64_t now)
{
	bool due = false;

	if (cr->idr_at_ns && now - cr->idr_at_ns < IDR_MIN_INTERVAL_NS)
		return;
	for (struct subscriber *h = cr->hubs; h && !due; h = h->next) {
		uint64_t at = idr_key_of(cr, h->pub)->at_ns;

		due = h->wants_idr && (!at || now - at >= IDR_KEY_INTERVAL_NS);
	}
	if (!due)
		return;
	for (struct subscriber *h = cr->hubs; h; h = h->next) {
		if (!h->wants_idr)
			continue;
		h->wants_idr = false;
		idr_key_of(cr, h->pub)->at_ns = now;
	}
	cr->idr_at_ns = now;
	svc_status_camera_role(cr->s->status)->forced_idrs++;
	media_request_idr(cr);
}

static void reject_peer(struct camera_role *cr, const char *reason, const char *peer,
			const char *why);

static void hub_free(struct camera_role *cr, struct subscriber *h, const char *why)
{
	const struct vcn_cam_hub_stats *ns = vcn_cam_hub_stats(h->media);
	struct svc_log_entry e;

	svc_log_begin(&e, LOG_INFO);
	svc_log_field(&e, "VERACAM_HUB", "%s", h->name);
	svc_log_field(&e, "VERACAM_FRAMES_SENT", "%" PRIu64, ns->units_sent);
	svc_log_end(&e, "hub %s: session ended (%s) after %" PRIu64 " frames", h->name, why,
		    ns->units_sent);
	svc_loop_remove_fd(cr->s->loop, h->fd);
	vcn_cam_hub_remove(cr->net, h->media);
	vc_sealer_free(h->sealer);
	svc_timer_free(h->serve_timer);
	free(h->deferred);
	vc_session_free(h->session);	/* close_notify: the hub's authenticated end */
	close(h->fd);
	svc_status_session_end(cr->s->status, h->st);
	free(h);
	cr->n_hubs--;
}

static void hub_drop(struct camera_role *cr, struct subscriber *h, const char *why)
{
	for (struct subscriber **pp = &cr->hubs; *pp; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			hub_free(cr, h, why);
			return;
		}
	}
}

static void hub_watch(struct subscriber *h, enum vc_io io)
{
	uint32_t ev = io == VC_IO_WRITE ? EPOLLIN | EPOLLOUT : EPOLLIN;

	if (ev != h->events && svc_loop_mod_fd(h->cr->s->loop, h->fd, ev) == 0)
		h->events = ev;
}

/*
 * The hub's encryption key, its binding already verified by the session
 * against the hub's pinned device key (PROTOCOL.md §5.4): kept with the
 * pin in KEYS/hub-enc/NAME, where event_recipients() finds it. Written
 * here, by the network process, which has no device key and needs none
 * for this; the file is checked again against the pin at every event.
 */
static void keep_hub_enc(struct subscriber *h, const struct vc_ctl *m)
{
	const char *keys = h->cr->s->cfg.keys_dir;
	char line[VC_ENC_IDENTITY_LEN + 1];
	int r = vc_hub_enc_store(keys, h->name, h->pub, m->body, m->body + VC_ENC_PUBKEY_LEN);
	struct svc_log_entry e;

	vc_enc_identity_format(m->body, line);
	svc_log_begin(&e, r < 0 ? LOG_ERR : r ? LOG_INFO : LOG_DEBUG);
	svc_log_field(&e, "VERACAM_HUB", "%s", h->name);
	if (r < 0)
		svc_log_end(&e, "hub %s: cannot keep its encryption key: %s", h->name,
			    vc_last_error());
	else
		svc_log_end(&e, "hub %s: encryption key %s %s", h->name, line,
			    r ? "kept: events are sealed for it from the next one on" :
			    "unchanged");
}

/*
 * The hub's control channel: its challenges arrive here (the session
 * keeps the newest), its encryption key once, our offer may still be
 * leaving. Anything else, a close or a broken record, ends the session;
 * a hub that broke the protocol is counted among the refusals
 * ("protocol"). false: the session ended and h is gone.
 */
/* Answer one event request: 0, or -1 with *bad saying why the session must end. */
static int serve_request(struct subscriber *h, const struct vc_ctl *m, char *why, size_t cap,
			 const char **bad)
{
	int a = cam_eventserve_answer(h->cr->serve, h->session, m, &h->cr->serve_st, why, cap);

	h->answered = true;
	if (!a)
		return 0;
	/* the queue always has room for one answer: 1 is a bug, not the hub */
	*bad = a > 0 ? "no room for the answer" : why;
	return -1;
}

static bool hub_control(struct subscriber *h);

/* A request that waited for this turn of the loop. */
static void on_serve_timer(void *data)
{
	struct subscriber *h = data;

	if (h->deferred)
		hub_control(h);
}

static bool hub_control(struct subscriber *h)
{
	enum vc_io io = vc_session_flush(h->session);
	enum vc_session_cause cause;
	struct vc_ctl m;
	char why[256], serve_why[160] = "";
	const char *bad = NULL;
	int r = 0;

	h->answered = false;
	if (h->deferred && io != VC_IO_FAIL) {
		struct vc_ctl *d = h->deferred;

		h->deferred = NULL;
		if (serve_request(h, d, serve_why, sizeof(serve_why), &bad) < 0)
			r = 1;
		free(d);
	}
	while (!bad && (r = io == VC_IO_FAIL ? -1 : vc_session_recv(h->session, &m)) > 0) {
		if (m.type == VC_CTL_ENC_KEY) {
			keep_hub_enc(h, &m);
			continue;
		}
		if ((m.type != VC_CTL_EVENTS_LIST && m.type != VC_CTL_EVENT_GET) || !h->cr->serve) {
			bad = "unexpected message";
			break;
		}
		/*
		 * One answer per request, at most one chunk, and at most one
		 * answer per turn of the loop: the live path goes first.
		 */
		if (h->answered) {
			h->deferred = malloc(sizeof(*h->deferred));
			if (!h->deferred) {
				bad = "out of memory";
				break;
			}
			memcpy(h->deferred, &m, offsetof(struct vc_ctl, body) + m.len);
			svc_timer_arm(h->serve_timer, 1, 0);
			continue;
		}
		if (serve_request(h, &m, serve_why, sizeof(serve_why), &bad) < 0)
			break;
	}
	if (r == 0) {
		hub_watch(h, vc_session_flush(h->session));
		return true;
	}
	/* a message it must not send, or one it sent too early; else why the session failed */
	cause = vc_session_cause(h->session) ? vc_session_cause(h->session) :
		r > 0 ? VC_SESSION_PROTOCOL : VC_SESSION_CLOSED;
	snprintf(why, sizeof(why), "control channel %s: %s", vc_session_cause_name(cause),
		 r > 0 ? bad : vc_last_error());
	if (cause == VC_SESSION_PROTOCOL)
		reject_peer(h->cr, "protocol", h->st->peer, why);
	hub_drop(h->cr, h, why);
	return false;
}

static void on_hub_control(void *data, uint32_t events)
{
	(void)events;
	hub_control(data);
}

/*
 * CLOCK_BOOTTIME - CLOCK_MONOTONIC, read between two monotonic readings no
 * more than 100 us apart (a preemption between the reads must not look
 * like a suspend); false when no such pair came in a few tries.
 */
static bool boot_minus_mono(int64_t *diff)
{
	for (int i = 0; i < 4; i++) {
		int64_t m1 = (int64_t)clk_mono_ns();
		int64_t b = clk_boot_ns();
		int64_t m2 = (int64_t)clk_mono_ns();

		if (m2 - m1 <= 100000) {
			*diff = b - m2;
			return true;
		}
	}
	return false;
}

/*
 * The signed delay is measured on CLOCK_MONOTONIC, which stops while the
 * camera is suspended: a frame captured before a suspend and a challenge
 * read after it would understate the frame's age by the time asleep. So a
 * resume ends every session (the hubs reconnect and start from a fresh
 * challenge 0) and no frame captured before it is sent.
 */
static void check_suspend(struct camera_role *cr)
{
	int64_t asleep;
	struct subscriber *h;

	if (!boot_minus_mono(&asleep) || asleep - cr->asleep_ns < 1000000)
		return;
	svc_log(LOG_WARNING, "resumed after %" PRId64 " ms suspended: ending every hub session",
		(asleep - cr->asleep_ns) / 1000000);
	cr->asleep_ns = asleep;
	cr->awake_since_ns = clk_mono_ns();
	while ((h = cr->hubs))
		hub_drop(cr, h, "the camera was suspended");
}

/* Liveness is the hub's challenges, inside TLS: nothing a relay replays counts. */
static void on_live_timer(void *data)
{
	struct camera_role *cr = data;
	int64_t now = (int64_t)clk_mono_ns();
	struct subscriber *h, *next;

	check_suspend(cr);
	for (h = cr->hubs; h; h = next) {
		uint64_t n;
		int64_t at;

		next = h->next;
		/* what already arrived counts (this timer may run first after a stall) */
		if (!hub_control(h))
			continue;
		vc_session_challenge(h->session, &n, &at);
		if (now - at > VC_CHALLENGE_TIMEOUT_NS)
			hub_drop(cr, h, "the hub's challenges stopped");
	}
}

static bool trusted(const struct vc_peer *peers, size_t n, const uint8_t pub[VC_PUBKEY_LEN])
{
	for (size_t i = 0; i < n; i++)
		if (peers[i].role == VC_ROLE_HUB && !peers[i].pending &&
		    vc_equal(peers[i].pub, pub, VC_PUBKEY_LEN))
			return true;
	return false;
}

/* Counted always; logged at most once a second per reason (a flood is one line a second). */
static void reject_peer(struct camera_role *cr, const char *reason, const char *peer,
			const char *why)
{
	struct svc_camera_role_stats *rs = svc_status_camera_role(cr->s->status);
	struct reject_log *rl = &cr->reject_log[0];
	uint64_t now = clk_mono_ns();
	struct svc_log_entry e;

	svc_reasons_add(&rs->rejected_peers, reason);
	for (unsigned int i = 0; i < G_N_ELEMENTS(cr->reject_log); i++) {
		struct reject_log *r = &cr->reject_log[i];

		if (!strcmp(r->reason, reason) || !r->reason[0]) {
			rl = r;
			break;
		}
		if (r->at_ns < rl->at_ns)
			rl = r;
	}
	if (strcmp(rl->reason, reason)) {
		g_strlcpy(rl->reason, reason, sizeof(rl->reason));
		rl->at_ns = 0;
		rl->quiet = 0;
	}
	if (rl->at_ns && now - rl->at_ns < 1000000000ull) {
		rl->quiet++;
		return;
	}
	svc_log_begin(&e, LOG_WARNING);
	svc_log_field(&e, "VERACAM_PEER", "%s", peer);
	svc_log_field(&e, "VERACAM_REJECT", "%s", reason);
	if (rl->quiet)
		svc_log_end(&e, "refused %s (%s): %s; %" PRIu64 " more refused for %s since",
			    peer, reason, why, rl->quiet, reason);
	else
		svc_log_end(&e, "refused %s (%s): %s", peer, reason, why);
	rl->at_ns = now;
	rl->quiet = 0;
}

static unsigned int least_used_group(const struct camera_role *cr)
{
	unsigned int count[GROUPS_MAX] = { 0 }, best = 0;

	for (const struct subscriber *h = cr->hubs; h; h = h->next)
		count[h->group]++;
	for (unsigned int g = 1; g < cr->n_groups; g++)
		if (count[g] < count[best])
			best = g;
	return best;
}

static void log_session(struct camera_role *cr, const struct subscriber *h, const char *peer)
{
	char sid[2 * VC_SESSION_ID_LEN + 1];
	struct svc_log_entry e;

	vc_hex(h->session_id, VC_SESSION_ID_LEN, sid);
	svc_log_begin(&e, LOG_INFO);
	svc_log_field(&e, "VERACAM_HUB", "%s", h->name);
	svc_log_field(&e, "VERACAM_PEER", "%s", peer);
	svc_log_end(&e, "hub %s (%s): session %s, %s, %u hub%s", h->name, peer, sid,
		    vc_cipher_name(vc_session_params(h->session)->cipher), cr->n_hubs,
		    cr->n_hubs == 1 ? "" : "s");
}

/*
 * A hub proved its pinned key (gate.c): give it a media session. One
 * session per hub key: a new one replaces the old, so neither a relay
 * holding dead sessions open nor one hub opening many can fill max-hubs.
 */
static void on_gate_session(void *data, int fd, struct vc_session *s, const char *peer)
{
	struct camera_role *cr = data;
	const struct vc_session_params *p = vc_session_params(s);
	struct vcn_keys keys;
	uint8_t offer_msg[VCN_OFFER_LEN];
	struct vcn_offer offer;
	struct subscriber *h;

	for (h = cr->hubs; h; h = h->next) {
		if (vc_equal(h->pub, p->peer.pub, VC_PUBKEY_LEN)) {
			hub_drop(cr, h, "replaced by a new session of the same hub");
			break;
		}
	}
	if (cr->n_hubs >= cr->cfg->max_hubs) {
		uint8_t why = VC_REFUSED_BUSY;

		/* the hub is authenticated: tell it why, so its log says so */
		vc_session_send(s, VC_CTL_REFUSED, &why, 1);
		reject_peer(cr, "busy", peer, "max-hubs sessions already running");
		goto refuse;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		goto refuse;
	h->cr = cr;
	h->session = s;
	h->fd = fd;
	h->events = EPOLLIN;
	memcpy(h->session_id, p->session_id, VC_SESSION_ID_LEN);
	memcpy(h->pub, p->peer.pub, VC_PUBKEY_LEN);
	g_strlcpy(h->name, p->peer.name, sizeof(h->name));
	h->group = least_used_group(cr);
	h->sealer = vc_sealer_new(&p->camera_to_hub, p->session_id);
	h->serve_timer = svc_timer_new(cr->s->loop, on_serve_timer, h);
	memcpy(keys.camera_to_hub, p->transport_camera_to_hub, sizeof(keys.camera_to_hub));
	memcpy(keys.hub_to_camera, p->transport_hub_to_camera, sizeof(keys.hub_to_camera));
	h->media = vcn_cam_hub_add(cr->net, (int64_t)clk_mono_ns(), &keys, &offer);
	vc_wipe(&keys, sizeof(keys));
	if (h->media)
		vcn_offer_encode(&offer, offer_msg);
	if (!h->sealer || !h->media || !h->serve_timer ||
	    vc_session_send(s, VC_CTL_OFFER, offer_msg, sizeof(offer_msg)) != 0 ||
	    svc_loop_add_fd(cr->s->loop, fd, EPOLLIN, on_hub_control, h) < 0) {
		svc_log(LOG_ERR, "hub %s: cannot start its session", h->name);
		if (h->media)
			vcn_cam_hub_remove(cr->net, h->media);
		vc_sealer_free(h->sealer);
		svc_timer_free(h->serve_timer);
		free(h);
		goto refuse;
	}
	h->st = svc_status_session_begin(cr->s->status, h->name, peer, "udp");
	h->next = cr->hubs;
	cr->hubs = h;
	cr->n_hubs++;
	/* its first IDR is asked for once its media has a path (send_au()): one sooner is lost */
	log_session(cr, h, peer);
	on_hub_control(h, 0);	/* the offer may still be leaving; challenges may be here */
	return;
refuse:
	vc_session_free(s);
	close(fd);
}

static void on_gate_media(void *data, int fd, const uint8_t hello[VCN_HELLO_LEN])
{
	struct camera_role *cr = data;

	vcn_cam_adopt_tcp(cr->net, fd, hello, (int64_t)clk_mono_ns());
	svc_timer_arm_at(cr->net_timer, (uint64_t)vcn_cam_deadline_ns(cr->net));
}

static void on_gate_reject(void *data, const char *reason, const char *peer, const char *why)
{
	reject_peer(data, reason, peer, why);
}

/* A file in peers/ that is no usable record: logged once (per name and why), counted. */
static void on_peer_skipped(void *data, const char *name, const char *why)
{
	struct camera_role *cr = data;
	char *key = g_strdup_printf("%s\t%s", name, why);

	cr->skipped_now++;
	if (!cr->skip_logged)
		cr->skip_logged = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (g_hash_table_add(cr->skip_logged, key))
		svc_log(LOG_WARNING, "pairings: skipped peers/%s: %s (the other hubs stay trusted)",
			name, why);
}

/*
 * The pairing records as they are on disk now (PROTOCOL.md §4.1); a stray
 * or broken file is skipped, never the others with it.
 */
static int read_peers(struct camera_role *cr, struct vc_peer **peers, size_t *n)
{
	*peers = NULL;
	*n = 0;
	cr->skipped_now = 0;
	if (vc_peer_list_skipping(cr->s->cfg.keys_dir, peers, n, on_peer_skipped, cr) == 0) {
		svc_status_camera_role(cr->s->status)->peer_files_skipped = cr->skipped_now;
		return 0;
	}
	/* fail closed: a trust store that cannot be read trusts nobody */
	svc_log(LOG_ERR, "pairings: %s; no hub is trusted", vc_last_error());
	*peers = NULL;
	*n = 0;
	return -1;
}

static int gate_peers(void *data, struct vc_peer **peers, size_t *n)
{
	return read_peers(data, peers, n);
}

static const struct gate_ops gate_ops = {
	.peers = gate_peers,
	.session = on_gate_session,
	.media = on_gate_media,
	.reject = on_gate_reject,
};

/* ------------------------------------------------------------------ */
/* Per access unit: sign -> seal -> send                                */
/* ------------------------------------------------------------------ */

static void update_session_stats(struct camera_role *cr)
{
	const struct vcn_cam_stats *cs = vcn_cam_stats(cr->net);
	struct svc_media_refusals *mr = &svc_status_camera_role(cr->s->status)->media;

	*mr = (struct svc_media_refusals){
		.hello_bad_token = cs->hello_bad_token,
		.hello_malformed = cs->hello_malformed,
		.hello_forged = cs->hello_forged,
		.hello_replay = cs->hello_replay,
		.path_challenges = cs->challenges_sent,
		.tcp_refused = cs->tcp_refused,
	};
	for (struct subscriber *h = cr->hubs; h; h = h->next) {
		const struct vcn_cam_hub_stats *ns = vcn_cam_hub_stats(h->media);

		h->st->frames_sent = ns->units_sent;
		h->st->bytes_sent = ns->bytes_sent;
		h->st->drops = h->drops + ns->dropped_queue_full + ns->dropped_await_keyframe +
			       ns->dropped_no_path + ns->dropped_path_change;
		g_strlcpy(h->st->transport,
			  vcn_cam_hub_path(h->media) == VCN_PATH_TCP ? "tcp" : "udp",
			  sizeof(h->st->transport));
	}
}

/* Hubs whose media went silent or whose TCP media connection closed. */
static void drop_gone_hubs(struct camera_role *cr)
{
	struct subscriber *h = cr->hubs, *next;

	for (; h; h = next) {
		next = h->next;
		if (vcn_cam_hub_path(h->media) == VCN_PATH_GONE)
			hub_drop(cr, h, "media gone");
	}
}

/* An IDR for a hub whose media has no path yet would be dropped anyway. */
static bool has_path(const struct subscriber *h)
{
	enum vcn_path p = vcn_cam_hub_path(h->media);

	return p == VCN_PATH_UDP || p == VCN_PATH_TCP;
}

/*
 * This hub session's entry in the record: its newest challenge, and how
 * long before that challenge was read the frame was captured (both on
 * this camera's CLOCK_MONOTONIC), so the hub can bound the frame's age
 * from its own clock alone (PROTOCOL.md §9 rule 15).
 */
static void record_entry(const struct subscriber *h, const struct cam_au *au,
			 struct vc_record_session *e)
{
	int64_t read_ns;

	memcpy(e->id, h->session_id, VC_SESSION_ID_LEN);
	vc_session_challenge(h->session, &e->challenge, &read_ns);
	e->delay_ns = vc_challenge_delay((int64_t)au->info.mono_ns, read_ns);
}

/* Sign the AU once per group of hubs, seal and queue it for each. */
static void send_au(struct camera_role *cr, const struct cam_au *au, int64_t now_ns)
{
	const struct vc_frame_info fi = {
		.capture_ns = (uint64_t)au->info.wall_ns,
		.sensor_seq = au->info.sensor_sequence,
		.has_sensor_seq = au->info.has_sensor,
	};
	struct vc_record_session entries[VC_RECORD_MAX_SESSIONS];
	struct svc_camera_role_stats *rs = svc_status_camera_role(cr->s->status);
	bool signed_any = false;

	for (unsigned int g = 0; g < cr->n_groups; g++) {
		size_t n = 0;

		for (struct subscriber *h = cr->hubs; h; h = h->next)
			if (h->group == g && n < VC_RECORD_MAX_SESSIONS)
				record_entry(h, au, &entries[n++]);
		if (!n && (g || cr->ready))
			continue;
		if (!n) {	/* no hub yet: one signature proves the path works */
			memset(&entries[0], 0, sizeof(entries[0]));
			memcpy(entries[n++].id, cr->local_session, VC_SESSION_ID_LEN);
		}
		if (vc_signer_sign(cr->signer[g], &fi, entries, n, au->data, au->size,
				   &cr->signed_au) < 0) {
			svc_log(LOG_ERR, "sign: %s", vc_last_error());
			continue;
		}
		signed_any = true;
		for (struct subscriber *h = cr->hubs; h; h = h->next) {
			if (h->group != g)
				continue;
			if (vcn_cam_hub_needs_keyframe(h->media) && !au->idr) {
				h->drops++;
				if (has_path(h))
					want_idr(h);
				continue;
			}
			if (vc_seal(h->sealer, cr->signed_au.data, cr->signed_au.len, &cr->unit) < 0) {
				svc_log(LOG_ERR, "seal for %s: %s", h->name, vc_last_error());
				continue;
			}
			if (vcn_cam_send(cr->net, h->media, cr->unit.data, cr->unit.len,
					 fi.capture_ns, au->idr, now_ns) != VCN_SEND_QUEUED &&
			    vcn_cam_hub_needs_keyframe(h->media) && has_path(h))
				want_idr(h);
		}
	}
	if (signed_any)
		rs->frames_signed++;
	/* requests the key holder refused: none unless something is wrong here */
	rs->holder_refused = vc_key_holder_refused(cr->key);
	if (signed_any && !cr->ready) {
		cr->ready = true;
		svc_status_set_ready(cr->s->status, true);
		svc_notify_ready(&cr->s->notify, "streaming: first frame signed");
		svc_log(LOG_INFO, "ready: first frame signed (%s)", cr->encoder);
	}
}

/*
 * The AU came from @stable: the signers sign for it from now on. Logged
 * (and shown in the status) when it first starts and whenever the device
 * that returns after an unplug is another one.
 */
static int set_source(struct camera_role *cr, const char *stable)
{
	struct svc_camera_role_stats *rs = svc_status_camera_role(cr->s->status);
	uint8_t id[VC_HASH_LEN];
	char hex[2 * VC_HASH_LEN + 1];
	struct svc_log_entry e;

	if (!strcmp(stable, cr->source))
		return 0;
	for (unsigned int g = 0; g < cr->n_groups; g++) {
		if (vc_signer_set_source(cr->signer[g], stable) < 0) {
			svc_log(LOG_ERR, "capture source %s: %s", stable, vc_last_error());
			return -1;
		}
	}
	vc_source_id(stable, id);
	vc_hex(id, sizeof(id), hex);
	g_strlcpy(cr->source, stable, sizeof(cr->source));
	g_strlcpy(rs->capture_identity, stable, sizeof(rs->capture_identity));
	g_strlcpy(rs->source, hex, sizeof(rs->source));
	svc_log_begin(&e, LOG_INFO);
	svc_log_field(&e, "VERACAM_CAPTURE_IDENTITY", "%s", stable);
	svc_log_field(&e, "VERACAM_SOURCE_ID", "%s", hex);
	svc_log_end(&e, "signing frames of capture source %s (source id %s)", stable, hex);
	return 0;
}

/* The media thread's newest state line (cr->state_box). */
static void on_media_state(void *data)
{
	struct camera_role *cr = data;
	struct media_state st;

	if (!svc_mailbox_take(cr->state_box, &st))
		return;
	svc_log(strstr(st.text, "unavailable") ? LOG_WARNING : LOG_INFO, "%s", st.text);
	svc_notify_status(&cr->s->notify, "%s", st.text);
}

/* The detector's counters into the status. */
static void motion_status(struct camera_role *cr, struct svc_camera_role_stats *rs)
{
	const struct cam_motion_stats *m = &cr->motion_st;

	rs->motion.enabled = cr->motion != NULL;
	rs->motion.active = m->active;
	rs->motion.analysed = m->analysed;
	rs->motion.unreadable = m->unreadable;
	rs->motion.moving_frames = m->moving_frames;
	rs->motion.events = m->events;
	rs->motion.changed_permille = m->last_changed_permille;
	rs->motion.start_ns = m->start_wall_ns;
	rs->motion.end_ns = m->end_wall_ns;
}

/* The detector's events, logged from the loop thread. */
static void log_motion(struct camera_role *cr)
{
	struct cam_motion_event ev[G_N_ELEMENTS(cr->motion_log)];
	unsigned int n;
	uint64_t lost;

	pthread_mutex_lock(&cr->lock);
	n = cr->n_motion_log;
	memcpy(ev, cr->motion_log, n * sizeof(ev[0]));
	cr->n_motion_log = 0;
	lost = cr->motion_log_lost;
	cr->motion_log_lost = 0;
	pthread_mutex_unlock(&cr->lock);
	for (unsigned int i = 0; i < n; i++) {
		if (ev[i].kind == CAM_MOTION_START)
			svc_log(LOG_INFO, "motion event %" PRIu64 " started (capture time %" PRId64
				" ns)", ev[i].number, ev[i].start_wall_ns);
		else
			svc_log(LOG_INFO, "motion event %" PRIu64 " ended: capture times %" PRId64
				"..%" PRId64 " ns (%.1f s)", ev[i].number, ev[i].start_wall_ns,
				ev[i].end_wall_ns,
				(double)(ev[i].end_wall_ns - ev[i].start_wall_ns) / 1e9);
	}
	if (lost)
		svc_log(LOG_WARNING, "motion: %" PRIu64 " event(s) not logged (the loop was late); "
			"the status has the counts", lost);
}

/*
 * The paired hubs an event is sealed for (the recorder thread asks at
 * each event's start and end): each confirmed hub pin with an encryption
 * key its device key vouches for, in KEYS/hub-enc/NAME ("veracam1:x25519:
 * HEX SIGNATURE-HEX", PROTOCOL.md §15.1: sent by the hub over its session,
 * keep_hub_enc(), or kept by hand with veracamctl enc-pin). A file whose
 * signature does not verify under the pinned key is not used.
 */
static size_t event_recipients(void *data, struct vc_event_recipient *to, size_t max)
{
	struct camera_role *cr = data;
	struct vc_peer *peers = NULL;
	size_t n_peers = 0, n = 0;

	if (vc_peer_list_skipping(cr->s->cfg.keys_dir, &peers, &n_peers, NULL, NULL) < 0)
		return 0;
	for (size_t i = 0; i < n_peers && n < max; i++) {
		if (peers[i].role != VC_ROLE_HUB || peers[i].pending)
			continue;
		if (vc_hub_enc_load(cr->s->cfg.keys_dir, peers[i].name, peers[i].pub,
				    to[n].enc_pub) == 0) {
			memcpy(to[n].key_id, peers[i].key_id, VC_KEY_ID_LEN);
			n++;
		}
	}
	free(peers);
	return n;
}

static void log_event_line(void *data, int priority, const char *msg)
{
	(void)data;
	svc_log(priority, "%s", msg);
}

/* The recorder's counters into the status, its log lines into the journal (loop thread). */
static void event_status(struct camera_role *cr)
{
	struct svc_event_stats *e = &svc_status_camera_role(cr->s->status)->events;
	struct cam_recorder_stats st;

	e->served_lists = cr->serve_st.lists;
	e->served_chunks = cr->serve_st.chunks;
	e->served_objects = cr->serve_st.objects;
	e->served_bytes = cr->serve_st.bytes;
	e->served_gone = cr->serve_st.gone;
	e->served_store = cr->serve_st.store;
	e->enabled = cr->recorder != NULL;
	if (!cr->recorder)
		return;
	cam_recorder_drain_log(cr->recorder, log_event_line, cr);
	cam_recorder_get_stats(cr->recorder, &st);
	e->recording = st.core.recording;
	e->triggers = st.core.triggers;
	e->clips = st.core.clips;
	e->missed = st.core.missed;
	e->ended_post_roll = st.core.ended[REC_END_POST_ROLL];
	e->ended_max_length = st.core.ended[REC_END_MAX_LENGTH];
	e->ended_gap = st.core.ended[REC_END_GAP];
	e->ring_aus = st.core.ring_aus;
	e->ring_bytes = st.core.ring_bytes;
	e->written = st.written;
	e->failed = st.failed;
	e->no_recipient = st.no_recipient;
	e->queue_dropped = st.queue_dropped;
	e->spool_events = st.spool_events;
	e->spool_bytes = st.spool_bytes;
	e->spool_max_bytes = (uint64_t)cr->cfg->event_spool_mib << 20;
	e->spool_dropped = st.spool_dropped;
	e->have_last = st.have_last;
	e->last_number = st.last_number;
	e->last_frames = st.last_frames;
	e->last_clip_bytes = st.last_clip_bytes;
	if (cr->upload) {
		struct cam_upload_stats us;

		cam_upload_drain_log(cr->upload, log_event_line, cr);
		cam_upload_get_stats(cr->upload, &us);
		e->upload_state = upl_state_name(us.state);
		e->uploaded = us.uploaded;
		e->upload_failed = us.failed;
		e->upload_retries = us.retries;
		e->upload_objects = us.objects;
		e->upload_bytes = us.bytes;
		e->upload_skipped = us.skipped;
		e->upload_queue_events = us.queue_events;
		e->upload_queue_bytes = us.queue_bytes;
		g_strlcpy(e->upload_last_error, us.last_error, sizeof(e->upload_last_error));
	}
}

/* The media thread's newest AU (cr->media_box): sign, seal, send. */
static void on_media(void *data)
{
	struct camera_role *cr = data;
	struct svc_camera_role_stats *rs = svc_status_camera_role(cr->s->status);
	struct cam_au au;
	struct media_au m;
	uint64_t now = clk_mono_ns();

	log_motion(cr);
	if (!svc_mailbox_take(cr->media_box, &m))
		return;
	au = m.au;
	rs->frames_captured = m.captured;
	rs->capture_gaps = m.gaps;
	cr->motion_st = m.motion;
	motion_status(cr, rs);
	cr->replaced_seen = svc_mailbox_replaced(cr->media_box);
	g_strlcpy(cr->encoder, m.encoder, sizeof(cr->encoder));

	drop_gone_hubs(cr);
	check_suspend(cr);
	if (now - au.info.mono_ns > cr->cfg->freshness_ns || au.info.mono_ns < cr->awake_since_ns) {
		cr->stale_dropped++;	/* never send what is already too old */
	} else if (set_source(cr, m.source) == 0) {
		for (struct subscriber *h = cr->hubs; au.idr && h; h = h->next)
			h->wants_idr = false;	/* this IDR answers every wish so far */
		send_au(cr, &au, (int64_t)now);
	}
	grant_idr(cr, now);
	cam_au_clear(&au);
	update_session_stats(cr);
	svc_timer_arm_at(cr->net_timer, (uint64_t)vcn_cam_deadline_ns(cr->net));
	svc_notify_progress(&cr->s->notify, now / 1000);
}

static void on_net(void *data, uint32_t events)
{
	struct camera_role *cr = data;

	(void)events;
	vcn_cam_process(cr->net, (int64_t)clk_mono_ns());
	drop_gone_hubs(cr);
	update_session_stats(cr);
	svc_timer_arm_at(cr->net_timer, (uint64_t)vcn_cam_deadline_ns(cr->net));
}

static void on_net_timer(void *data)
{
	on_net(data, 0);
}

static void on_status_timer(void *data)
{
	struct camera_role *cr = data;
	struct svc_camera_role_stats *rs = svc_status_camera_role(cr->s->status);
	uint64_t now = clk_mono_ns();
	double fps = 0;

	log_motion(cr);	/* also when no AU comes */
	event_status(cr);
	rs->pending = gate_pending(cr->gate);
	rs->handshake_waits = gate_waits(cr->gate);
	if (cr->status_at_ns && now > cr->status_at_ns)
		fps = (double)(rs->frames_captured - cr->frames_at_status) * 1e9 /
		      (double)(now - cr->status_at_ns);
	cr->frames_at_status = rs->frames_captured;
	cr->status_at_ns = now;
	if (cr->ready)
		svc_notify_status(&cr->s->notify, "%.1f fps, %u hub%s, %" PRIu64 " signed, %"
				  PRIu64 " not sent (late %" PRIu64 ", stale %" PRIu64 "), %"
				  PRIu64 " peers refused", fps, cr->n_hubs,
				  cr->n_hubs == 1 ? "" : "s", rs->frames_signed,
				  cr->replaced_seen + cr->stale_dropped, cr->replaced_seen,
				  cr->stale_dropped, rs->rejected_peers.total);
}

/* ------------------------------------------------------------------ */
/* Pairings (start, SIGHUP)                                             */
/* ------------------------------------------------------------------ */

/* Handshakes read the records themselves (gate_peers); this list judges running sessions. */
static int load_peers(struct camera_role *cr)
{
	free(cr->peers);
	return read_peers(cr, &cr->peers, &cr->n_peers);
}

static void on_reload(void *data)
{
	struct camera_role *cr = data;
	struct subscriber *h, *next;
	size_t n_hubs = 0;

	svc_notify_reloading(&cr->s->notify);
	load_peers(cr);
	for (h = cr->hubs; h; h = next) {
		next = h->next;
		if (!trusted(cr->peers, cr->n_peers, h->pub))
			hub_drop(cr, h, "no longer trusted");
	}
	for (size_t i = 0; i < cr->n_peers; i++)
		n_hubs += cr->peers[i].role == VC_ROLE_HUB;
	svc_log(LOG_INFO, "reloaded pairings: %zu hub%s trusted", n_hubs, n_hubs == 1 ? "" : "s");
	svc_notify_ready(&cr->s->notify, "pairings reloaded");
}

/* ------------------------------------------------------------------ */
/* Start, run, stop                                                     */
/* ------------------------------------------------------------------ */

static int open_listener(struct camera_role *cr)
{
	char *why = NULL, text[SVC_ADDR_STR_MAX];
	struct sockaddr_storage ss;
	socklen_t len;
	const int one = 1;

	svc_addr_format(&cr->cfg->listen, text);
	if (vd_resolve(&cr->cfg->listen, SOCK_STREAM, &ss, &len, &why) < 0) {
		svc_log(LOG_ERR, "listen %s: %s", text, why);
		g_free(why);
		return -1;
	}
	cr->listen_fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cr->listen_fd < 0 ||
	    setsockopt(cr->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(cr->listen_fd, (struct sockaddr *)&ss, len) < 0 ||
	    listen(cr->listen_fd, 64) < 0) {
		svc_log(LOG_ERR, "listen %s: %s", text, strerror(errno));
		return -1;
	}
	/* Media shares the port: UDP on it, TCP media adopted from the listener. */
	cr->net = vcn_cam_new(&(struct vcn_cam_config){
		.bind = (struct sockaddr *)&ss,
		.bind_len = len,
		.transports = cr->cfg->transport == SVC_TRANSPORT_UDP ? VCN_TRANSPORT_UDP :
			      cr->cfg->transport == SVC_TRANSPORT_TCP ? VCN_TRANSPORT_TCP : 0,
	});
	if (!cr->net) {
		svc_log(LOG_ERR, "media socket on %s: %s", text, strerror(errno));
		return -1;
	}
	svc_log(LOG_INFO, "listening on %s (control TCP, media UDP/TCP)", text);
	return 0;
}

/* Why the key holder ended, for the log. */
static void holder_exit_text(pid_t pid, char *out, size_t cap)
{
	int st, i = 0;

	/* it hung up while exiting: give it up to 1 s to be reaped */
	while (waitpid(pid, &st, WNOHANG) != pid) {
		if (++i > 100) {
			snprintf(out, cap, "closed its socket");
			return;
		}
		usleep(10000);
	}
	if (WIFSIGNALED(st))
		snprintf(out, cap, "was killed by signal %d (%s)%s", WTERMSIG(st),
			 strsignal(WTERMSIG(st)),
			 WTERMSIG(st) == SIGSYS ? ": a system call its seccomp filter forbids" : "");
	else
		snprintf(out, cap, "exited with status %d", WEXITSTATUS(st));
}

/*
 * The key holder is gone: no frame can be signed from now on (and none
 * is sent unsigned). The camera stops with status 1, so that systemd
 * restarts it (Restart=on-failure) with a new holder; the hubs show the
 * camera unavailable as its sessions close.
 */
static void on_holder_gone(void *data, uint32_t events)
{
	struct camera_role *cr = data;
	char why[128];

	(void)events;
	svc_loop_remove_fd(cr->s->loop, vc_key_holder_fd(cr->key));
	holder_exit_text(cr->holder, why, sizeof(why));
	svc_log(LOG_ERR, "key holder (pid %d) %s; no frame is signed without it: stopping "
		"(exit status 1, the service manager restarts the camera)", (int)cr->holder, why);
	svc_status_set_ready(cr->s->status, false);
	svc_notify_status(&cr->s->notify, "key holder gone: restarting");
	svc_loop_quit(cr->s->loop, 1);
}

/*
 * Request lines on the status socket other than "status": "pair-window
 * ..." for the pairing window, "event [manual|doorbell]" for an event
 * recorded now (a manual or doorbell trigger: pre-roll, then post-roll
 * from now).
 */
static char *on_status_command(void *data, const char *request)
{
	struct camera_role *cr = data;
	enum vc_event_trigger t = VC_TRIGGER_MANUAL;

	if (pair_button_serves(request) && cr->pair_button)
		return pair_button_command(cr->pair_button, request);
	if (!strcmp(request, "event") || !strcmp(request, "event manual") ||
	    !strcmp(request, "event doorbell")) {
		if (!cr->recorder)
			return g_strdup("error events are off (events = false)\n");
		if (!strcmp(request, "event doorbell"))
			t = VC_TRIGGER_DOORBELL;
		cam_recorder_trigger(cr->recorder, t);
		cam_recorder_release(cr->recorder);
		svc_log(LOG_INFO, "event: %s trigger (requested on the status socket)",
			t == VC_TRIGGER_DOORBELL ? "doorbell" : "manual");
		return g_strdup_printf("ok %s event triggered\n",
				       t == VC_TRIGGER_DOORBELL ? "doorbell" : "manual");
	}
	return g_strdup("error unknown request (a camera serves: status, pair-window "
			"[ttl=SECONDS] [listen=HOST:PORT] [hub-name=NAME], event [manual|doorbell])\n");
}

/* The uploader's callbacks (their threads): a new event; one stored. */
static void event_spooled(void *data)
{
	struct camera_role *cr = data;
	/* set by the loop thread after the recorder's thread started */
	struct cam_upload *u = __atomic_load_n(&cr->upload, __ATOMIC_ACQUIRE);

	if (u)
		cam_upload_kick(u);
}

static int event_stored(void *data, const char *name)
{
	struct camera_role *cr = data;

	return cam_recorder_spool_done(cr->recorder, name);
}

/* The uploader, when an event store is configured (after the recorder). */
static int start_upload(struct camera_role *cr, const char *dir)
{
	const struct svc_camera_config *c = cr->cfg;
	char id[2 * VC_KEY_ID_LEN + 1], why[256], shown[512];
	size_t n;
	struct cam_upload_config uc = {
		.base_url = c->event_store,
		.spool_dir = dir,
		.camera_id = id,
		.backoff_max_ns = c->event_store_backoff_ns,
		.timeout_ns = c->event_store_timeout_ns,
		.done = event_stored,
		.data = cr,
	};

	vc_hex(vc_key_id(cr->key), VC_KEY_ID_LEN, id);
	__atomic_store_n(&cr->upload, cam_upload_new(&uc, why, sizeof(why)), __ATOMIC_RELEASE);
	if (!cr->upload) {
		svc_log(LOG_ERR, "%s", why);
		return -1;
	}
	vc_url_redact(c->event_store, shown, sizeof(shown));
	n = strlen(shown);
	while (n && shown[n - 1] == '/')
		n--;
	svc_log(LOG_INFO, "event store: %.*s/%s/ (timeout %" PRIu64 " s, backoff up to %"
		PRIu64 " ms)", (int)n, shown, id, c->event_store_timeout_ns / 1000000000,
		c->event_store_backoff_ns / 1000000);
	return 0;
}

/* The event recorder and its spool (KEYS/events unless configured). */
static int start_recorder(struct camera_role *cr)
{
	const struct svc_camera_config *c = cr->cfg;
	char *dir = c->event_spool ? g_strdup(c->event_spool) :
		    g_build_filename(cr->s->cfg.keys_dir, "events", NULL);
	struct cam_recorder_config rc = {
		.core = {
			.pre_roll_ns = c->event_pre_roll_ns,
			.post_roll_ns = c->event_post_roll_ns,
			.max_len_ns = c->event_max_len_ns,
		},
		.spool_dir = dir,
		.spool_max_bytes = (uint64_t)c->event_spool_mib << 20,
		.fps = c->fps,
		.spooled = event_spooled,
		.spooled_data = cr,
	};
	GError *err = NULL;

	cr->recorder = cam_recorder_new(&rc, cr->key, event_recipients, cr, &err);
	if (!cr->recorder) {
		svc_log(LOG_ERR, "event recorder: %s", err->message);
		g_error_free(err);
		g_free(dir);
		return -1;
	}
	svc_log(LOG_INFO, "event recorder: pre-roll %" PRIu64 " ms, post-roll %" PRIu64 " ms, "
		"at most %" PRIu64 " s a clip; spool %s (%u MiB at most)",
		c->event_pre_roll_ns / 1000000, c->event_post_roll_ns / 1000000,
		c->event_max_len_ns / 1000000000, dir, c->event_spool_mib);
	if (c->event_store && start_upload(cr, dir) < 0) {
		g_free(dir);
		return -1;
	}
	/* hubs without a store fetch from the spool over their sessions (§5.7) */
	cr->serve = cam_eventserve_new(dir, c->event_store != NULL);
	g_free(dir);
	if (!cr->serve) {
		svc_log(LOG_ERR, "event recorder: out of memory");
		return -1;
	}
	event_status(cr);
	return 0;
}

/* 0, VD_RETRY or VD_FATAL (veracamd.h). */
static int setup(struct camera_role *cr)
{
	struct svc_loop *loop = cr->s->loop;

	/* hang-up only: the replies are read by whoever asked */
	if (svc_loop_add_fd(loop, vc_key_holder_fd(cr->key), 0, on_holder_gone, cr) < 0) {
		svc_log(LOG_ERR, "key holder: cannot watch it");
		return -1;
	}
	cr->n_groups = (cr->cfg->max_hubs + VC_RECORD_MAX_SESSIONS - 1) / VC_RECORD_MAX_SESSIONS;
	if (cr->n_groups > GROUPS_MAX)
		cr->n_groups = GROUPS_MAX;
	for (unsigned int g = 0; g < cr->n_groups; g++)
		if (!(cr->signer[g] = vc_signer_new(cr->key))) {
			svc_log(LOG_ERR, "signer: %s", vc_last_error());
			return -1;
		}
	if (vc_random(cr->local_session, sizeof(cr->local_session)) < 0) {
		svc_log(LOG_ERR, "session id: %s", vc_last_error());
		return -1;
	}
	while (!boot_minus_mono(&cr->asleep_ns))
		;
	load_peers(cr);
	if (open_listener(cr) < 0)
		return -1;
	cr->gate = gate_new(loop, cr->listen_fd, &(struct gate_config){
				.key = cr->key,
			    }, &gate_ops, cr);
	cr->media_box = svc_mailbox_new(loop, sizeof(struct media_au), media_au_clear,
					on_media, cr);
	cr->state_box = svc_mailbox_new(loop, sizeof(struct media_state), NULL,
					on_media_state, cr);
	cr->net_timer = svc_timer_new(loop, on_net_timer, cr);
	cr->status_timer = svc_timer_new(loop, on_status_timer, cr);
	if (cr->s->cfg.status_socket) {
		cr->pair_button = pair_button_new(cr->s);
		svc_status_on_command(cr->s->status, on_status_command, cr);
	}
	cr->live_timer = svc_timer_new(loop, on_live_timer, cr);
	if (!cr->gate || !cr->media_box || !cr->state_box || !cr->net_timer ||
	    !cr->status_timer || !cr->live_timer ||
	    svc_loop_add_fd(loop, vcn_cam_fd(cr->net), EPOLLIN, on_net, cr) < 0) {
		svc_log(LOG_ERR, "event loop setup failed");
		return -1;
	}
	svc_timer_arm(cr->status_timer, STATUS_INTERVAL_NS, STATUS_INTERVAL_NS);
	svc_timer_arm(cr->live_timer, LIVE_CHECK_NS, LIVE_CHECK_NS);
	svc_loop_on_reload(loop, on_reload, cr);
	if (cr->cfg->motion) {
		struct cam_motion_config mc = {
			.enabled = true,
			.grid_w = cr->cfg->motion_grid_w,
			.grid_h = cr->cfg->motion_grid_h,
			.threshold = cr->cfg->motion_threshold,
			.min_area_permille = cr->cfg->motion_area * 10,
			.hold_ns = cr->cfg->motion_hold_ns,
		};

		cr->motion = cam_motion_new(&mc, on_motion, cr);
		if (!cr->motion) {
			svc_log(LOG_ERR, "motion detector: cannot set it up");
			return -1;
		}
		svc_log(LOG_INFO, "motion detector: %ux%u cells, threshold %u, %u%% of cells, "
			"hold %" PRIu64 " ms", mc.grid_w, mc.grid_h, mc.threshold,
			cr->cfg->motion_area, mc.hold_ns / 1000000);
	}
	/* without a recorder the hubs' event requests get empty listings */
	if (!cr->cfg->events && !(cr->serve = cam_eventserve_new(NULL, false)))
		return VD_FATAL;
	if (cr->cfg->events && start_recorder(cr) < 0)
		return -1;
	cr->media = svc_job_start(loop, "vc-media", media_run, media_ended, cr);
	if (!cr->media) {
		svc_log(LOG_ERR, "media thread: %s", strerror(errno));
		return -1;
	}
	svc_notify_status(&cr->s->notify, "starting capture");
	return 0;
}

/*
 * SIGTERM: what is queued is given a moment to leave; then each session
 * is closed on its control channel (close_notify), the end a hub can
 * trust.
 */
static void end_streams(struct camera_role *cr)
{
	int64_t deadline = (int64_t)clk_mono_ns() + END_DRAIN_NS;

	if (!cr->hubs)
		return;
	for (;;) {
		int64_t now = (int64_t)clk_mono_ns();
		struct pollfd pfd = { .fd = vcn_cam_fd(cr->net), .events = POLLIN };
		int ms = vcn_timeout_ms(now, vcn_cam_deadline_ns(cr->net));

		vcn_cam_process(cr->net, now);
		if (vcn_cam_idle(cr->net) || now >= deadline)
			break;
		if (ms < 0 || ms > 50)
			ms = 50;
		poll(&pfd, 1, ms);
	}
}

static void teardown(struct camera_role *cr)
{
	struct svc_loop *loop = cr->s->loop;

	if (cr->s->cfg.status_socket)
		svc_status_on_command(cr->s->status, NULL, NULL);
	pair_button_free(cr->pair_button);
	if (cr->media) {
		pthread_mutex_lock(&cr->lock);
		cr->stop = true;
		pthread_cond_broadcast(&cr->cond);
		pthread_mutex_unlock(&cr->lock);
	}
	if (cr->net)
		end_streams(cr);
	while (cr->hubs) {
		struct subscriber *h = cr->hubs;

		cr->hubs = h->next;
		hub_free(cr, h, "stopping");
	}
	gate_free(cr->gate);	/* connections not yet authenticated: closed */
	cam_eventserve_free(cr->serve);
	cr->serve = NULL;
	svc_job_join(cr->media);
	svc_mailbox_free(cr->media_box);	/* an AU not taken is freed */
	svc_mailbox_free(cr->state_box);
	cam_motion_free(cr->motion);
	cr->motion = NULL;
	if (cr->recorder) {	/* a clip in progress is finished and written */
		cam_recorder_stop(cr->recorder);
		if (cr->upload) {	/* an upload in progress is cut; the spool keeps it */
			cam_upload_free(cr->upload);
			cr->upload = NULL;
		}
		cam_recorder_drain_log(cr->recorder, log_event_line, cr);
		cam_recorder_free(cr->recorder);
		cr->recorder = NULL;
	}

	if (cr->listen_fd >= 0)
		close(cr->listen_fd);
	if (cr->net) {
		svc_loop_remove_fd(loop, vcn_cam_fd(cr->net));
		vcn_cam_free(cr->net);
	}
	svc_timer_free(cr->net_timer);
	svc_timer_free(cr->status_timer);
	svc_timer_free(cr->live_timer);
	for (unsigned int g = 0; g < GROUPS_MAX; g++)
		vc_signer_free(cr->signer[g]);
	vc_buf_free(&cr->signed_au);
	vc_buf_free(&cr->unit);
	if (cr->skip_logged)
		g_hash_table_destroy(cr->skip_logged);
	free(cr->peers);
	svc_loop_remove_fd(loop, vc_key_holder_fd(cr->key));
	vc_key_free(cr->key);	/* closes the holder's socket: it exits */
	if (cr->holder > 0)
		waitpid(cr->holder, NULL, 0);
	pthread_mutex_destroy(&cr->lock);
	pthread_cond_destroy(&cr->cond);
}

int camera_role_run(struct svc_service *s, struct vc_device_key *key, pid_t holder)
{
	struct camera_role cr = {
		.s = s,
		.key = key,
		.holder = holder,
		.cfg = &s->cfg.camera,
		.listen_fd = -1,
	};
	pthread_condattr_t ca;
	int rc;

	pthread_mutex_init(&cr.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);	/* the retry waits */
	pthread_cond_init(&cr.cond, &ca);
	pthread_condattr_destroy(&ca);
	rc = setup(&cr);
	rc = rc ? VD_EXIT(rc) : svc_service_run(s);
	teardown(&cr);
	return rc;
}
