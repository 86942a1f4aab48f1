// SPDX-License-Identifier: GPL-2.0
/*
 * role.c - veracamd's camera role, the camera side of the frame's path:
 *
 *   media thread:  capture -> timestamp -> encode  (pump.c, over the
 *                  one AU in a mailbox, newest wins   camera library)
 *   loop thread:   sign (once per AU) -> seal (per hub session) -> send
 *                                                     (this file)
 *
 * and around it the hubs (subscribers.c): each TCP connection to the
 * listen port waits in the gate (gate.c: deadlines, per-address caps,
 * eviction, rate limits) until it is either a TLS control channel with a
 * pinned hub key or a hub's TCP media connection with its whole hello (handed to the
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
#include "role.h"

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
			subscriber_drop(cr, h, "media gone");
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
					subscriber_want_idr(h);
				continue;
			}
			if (vc_seal(h->sealer, cr->signed_au.data, cr->signed_au.len, &cr->unit) < 0) {
				svc_log(LOG_ERR, "seal for %s: %s", h->name, vc_last_error());
				continue;
			}
			if (vcn_cam_send(cr->net, h->media, cr->unit.data, cr->unit.len,
					 fi.capture_ns, au->idr, now_ns) != VCN_SEND_QUEUED &&
			    vcn_cam_hub_needs_keyframe(h->media) && has_path(h))
				subscriber_want_idr(h);
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
static void motion_status(struct camera_role *cr, struct svc_camera_role_stats *rs,
			  const struct cam_motion_stats *m)
{

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
	motion_status(cr, rs, &m.motion);
	cr->replaced_seen = svc_mailbox_replaced(cr->media_box);
	g_strlcpy(cr->encoder, m.encoder, sizeof(cr->encoder));

	drop_gone_hubs(cr);
	subscribers_check_suspend(cr);
	if (now - au.info.mono_ns > cr->cfg->freshness_ns || au.info.mono_ns < cr->awake_since_ns) {
		cr->stale_dropped++;	/* never send what is already too old */
	} else if (set_source(cr, m.source) == 0) {
		for (struct subscriber *h = cr->hubs; au.idr && h; h = h->next)
			h->wants_idr = false;	/* this IDR answers every wish so far */
		send_au(cr, &au, (int64_t)now);
	}
	subscribers_grant_idr(cr, now);
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
/* Start, run, stop                                                     */
/* ------------------------------------------------------------------ */

static int open_listener(struct camera_role *cr)
{
	g_autoptr(GError) err = NULL;
	char text[SVC_ADDR_STR_MAX];
	struct sockaddr_storage ss;
	socklen_t len;
	const int one = 1;

	svc_addr_format(&cr->cfg->listen, text);
	if (svc_addr_resolve(&cr->cfg->listen, SOCK_STREAM, &ss, &len, &err) < 0) {
		svc_log(LOG_ERR, "listen %s: %s", text, err->message);
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
	char id[2 * VC_KEY_ID_LEN + 1], shown[512];
	g_autoptr(GError) err = NULL;
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
	__atomic_store_n(&cr->upload, cam_upload_new(&uc, &err), __ATOMIC_RELEASE);
	if (!cr->upload) {
		svc_log(LOG_ERR, "%s", err->message);
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
	while (!clk_boot_minus_mono(&cr->asleep_ns))
		;
	subscribers_load_peers(cr);
	if (open_listener(cr) < 0)
		return -1;
	cr->gate = gate_new(loop, cr->listen_fd, &(struct gate_config){
				.key = cr->key,
			    }, &subscribers_gate_ops, cr);
	cr->media_box = svc_mailbox_new(loop, sizeof(struct media_au), pump_au_clear,
					on_media, cr);
	cr->state_box = svc_mailbox_new(loop, sizeof(struct media_state), NULL,
					on_media_state, cr);
	cr->net_timer = svc_timer_new(loop, on_net_timer, cr);
	cr->status_timer = svc_timer_new(loop, on_status_timer, cr);
	if (cr->s->cfg.status_socket) {
		cr->pair_button = pair_button_new(cr->s);
		svc_status_on_command(cr->s->status, on_status_command, cr);
	}
	cr->live_timer = svc_timer_new(loop, subscribers_on_live_timer, cr);
	if (!cr->gate || !cr->media_box || !cr->state_box || !cr->net_timer ||
	    !cr->status_timer || !cr->live_timer ||
	    svc_loop_add_fd(loop, vcn_cam_fd(cr->net), EPOLLIN, on_net, cr) < 0) {
		svc_log(LOG_ERR, "event loop setup failed");
		return -1;
	}
	svc_timer_arm(cr->status_timer, STATUS_INTERVAL_NS, STATUS_INTERVAL_NS);
	svc_timer_arm(cr->live_timer, LIVE_CHECK_NS, LIVE_CHECK_NS);
	svc_loop_on_reload(loop, subscribers_on_reload, cr);
	if (cr->cfg->motion) {
		struct cam_motion_config mc = {
			.enabled = true,
			.grid_w = cr->cfg->motion_grid_w,
			.grid_h = cr->cfg->motion_grid_h,
			.threshold = cr->cfg->motion_threshold,
			.min_area_permille = cr->cfg->motion_area * 10,
			.hold_ns = cr->cfg->motion_hold_ns,
		};

		cr->motion = cam_motion_new(&mc, pump_on_motion, cr);
		if (!cr->motion) {
			svc_log(LOG_ERR, "motion detector: cannot set it up");
			return -1;
		}
		/* before any frame (the counters come with each AU) */
		svc_status_camera_role(cr->s->status)->motion.enabled = true;
		svc_log(LOG_INFO, "motion detector: %ux%u cells, threshold %u, %u%% of cells, "
			"hold %" PRIu64 " ms", mc.grid_w, mc.grid_h, mc.threshold,
			cr->cfg->motion_area, mc.hold_ns / 1000000);
	}
	/* without a recorder the hubs' event requests get empty listings */
	if (!cr->cfg->events && !(cr->serve = cam_eventserve_new(NULL, false)))
		return VD_FATAL;
	if (cr->cfg->events && start_recorder(cr) < 0)
		return -1;
	cr->media = svc_job_start(loop, "vc-media", pump_run, pump_ended, cr);
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
	while (cr->hubs)
		subscriber_drop(cr, cr->hubs, "stopping");
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
