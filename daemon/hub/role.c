// SPDX-License-Identifier: GPL-2.0
/*
 * role.c - veracamd's hub role, the hub side of the frame's path, per
 * configured camera NAME@HOST:PORT:
 *
 *   connect (link.c: a job on its own thread: TCP, TLS with the camera's
 *   pinned key, the offer) -> receive -> open -> verify -> decode ->
 *   display (this file)
 *
 * A camera configured with ",source=STABLE" is pinned to that capture
 * device: its verifier refuses records signed for any other source.
 *
 * Only units the verifier accepts reach the decoder. After any reject
 * the decoder is reset, so nothing is decoded until the next verified
 * IDR. A camera whose last verified frame is unavailable_ns old (1 s at
 * most) is replaced by the hub's own unavailable screen with the reason;
 * so is a camera whose session ends. Lost sessions are retried with
 * exponential backoff and jitter (link.c).
 *
 * Everything but the connect jobs runs on the service loop's thread.
 */
#include "role.h"

static const char *unavailable_state(enum hub_unavailable why)
{
	return why == HUB_NOT_VERIFIED ? "not verified" :
	       why == HUB_STALE ? "stale" : "not connected";
}

static const char *unavailable_reason(enum hub_unavailable why)
{
	return why == HUB_NOT_VERIFIED ? "not verified" :
	       why == HUB_STALE ? "no verified frame" : "not connected";
}

static void show_unavailable(struct feed *c, enum hub_unavailable why)
{
	c->showing = false;
	c->st->state = unavailable_state(why);
	hub_display_unavailable(c->hr->display, c->idx, why);
}

/*
 * Make sure the tick runs by @at (CLOCK_MONOTONIC). An earlier tick, even
 * one that expired and waits in this very batch of events, is kept:
 * re-arming it would drop its expiry and postpone the fail-closed check.
 */
static void tick_by(struct hub_role *hr, uint64_t at)
{
	if (hr->tick_at && hr->tick_at <= at)
		return;
	hr->tick_at = at;
	svc_timer_arm_at(hr->tick, at);
}

/* ------------------------------------------------------------------ */
/* Live session: receive -> open -> verify -> decode                    */
/* ------------------------------------------------------------------ */

static void update_decode_stats(struct feed *c)
{
	struct hub_decode_stats ds;

	hub_decode_get_stats(c->dec, &ds);
	c->st->dropped_late = ds.dropped_late + ds.dropped_backlog + ds.dropped_behind;
	c->st->decoder_crashes = ds.child_crashes;
	c->st->decoder_restarts = ds.child_starts ? ds.child_starts - 1 : 0;
	c->st->decoder_pid = hub_decode_child_pid(c->dec);
}

/*
 * The decoder failed (its child died, lied or errored, decode.h): what is
 * on glass cannot be followed by its next frames, so the cell fails closed
 * now rather than when the picture's freshness runs out; a fresh child
 * shows the camera again from its next IDR.
 */
static void decoder_failed(struct feed *c)
{
	if (hub_decode_refused_start(c->dec)) {	/* e.g. no H.264 decoder installed */
		svc_log(LOG_ERR, "camera %s: decoder: %s", c->ref->name,
			hub_decode_last_failure(c->dec));
		svc_loop_quit(c->hr->s->loop, EXIT_FAILURE);
		return;
	}
	svc_log(LOG_WARNING, "camera %s: decoder error (%s), waiting for an IDR", c->ref->name,
		hub_decode_last_failure(c->dec));
	if (c->showing)
		show_unavailable(c, HUB_STALE);
	update_decode_stats(c);
}

/* What the transport threw away before the core saw it, into the status. */
static void count_discards(struct feed *c)
{
	const struct vcn_reasm_stats *now = vcn_hub_reasm_stats(c->rx);
	struct vcn_reasm_stats *was = &c->rx_counted;

	for (int k = VCN_PKT_MALFORMED; k < VCN_PKT__COUNT; k++)
		svc_reasons_add_n(&c->st->discarded, vcn_pkt_name(k),
				  now->discarded[k] - was->discarded[k]);
	svc_reasons_add_n(&c->st->discarded, "incomplete", now->incomplete - was->incomplete);
	*was = *now;
}

static void session_end(struct feed *c, const char *why)
{
	struct hub_role *hr = c->hr;
	struct svc_log_entry e;

	svc_loop_remove_fd(hr->s->loop, c->fd);
	if (c->rx) {
		svc_loop_remove_fd(hr->s->loop, vcn_hub_fd(c->rx));
		count_discards(c);
	}
	svc_timer_free(c->rx_timer);
	c->rx_timer = NULL;
	svc_timer_free(c->challenge_timer);
	c->challenge_timer = NULL;
	vcn_hub_free(c->rx);
	c->rx = NULL;
	vc_verifier_free(c->verifier);
	c->verifier = NULL;
	if (c->fetch)
		camfetch_session_end(c->fetch, !vc_session_event_idle(c->session));
	vc_session_free(c->session);
	c->session = NULL;
	close(c->fd);
	c->fd = -1;
	show_unavailable(c, HUB_NOT_CONNECTED);	/* gives back the decoder's picture */
	hub_decode_reset(c->dec);
	c->last_verified_ns = 0;
	c->st->reconnects++;
	svc_log_begin(&e, LOG_WARNING);
	svc_log_field(&e, "VERACAM_CAMERA", "%s", c->ref->name);
	svc_log_end(&e, "camera %s: session ended (%s)", c->ref->name, why);
	link_schedule_retry(c);
}

static void handle_unit(struct feed *c, const struct vcn_unit *u)
{
	struct hub_role *hr = c->hr;
	struct vc_verified out;
	enum vc_reject r;
	uint64_t now;
	int64_t left;
	int ret;

	c->st->received++;
	r = vc_verifier_accept(c->verifier, u->data, u->len, clk_boot_ns(), &out);
	if (r != VC_OK) {
		svc_reasons_add(&c->st->rejected, vc_reject_name(r));
		/*
		 * Not sealed for this session (every packet of it carried the
		 * session's transport MAC, so only a camera fault or a replay
		 * gets here): counted, and it changes nothing else.
		 */
		if (r <= VC_REJ_REPLAY)
			return;
		c->last_opened_ns = clk_mono_ns();	/* this session's media, late or not */
		/*
		 * Nothing more is decoded before the next verified IDR. The
		 * decoder is flushed once, when the stream first fails: a reset
		 * per rejected unit would stall the loop and the fail-closed timer.
		 */
		if (!c->rejected)
			hub_decode_reset(c->dec);
		c->rejected = true;
		if (!c->showing)
			show_unavailable(c, HUB_NOT_VERIFIED);
		return;
	}
	now = clk_mono_ns();
	c->last_opened_ns = now;
	c->last_verified_ns = now;
	c->rejected = false;
	c->st->keyframes += out.idr;
	c->st->last_verified_capture_ns = (int64_t)out.capture_ns;
	vc_hex(out.source, sizeof(out.source), c->st->source);
	if (!c->verified_once) {
		c->verified_once = true;
		c->failures = 0;
		svc_log(LOG_INFO, "camera %s: verified video (source %s)", c->ref->name,
			c->st->source);
	}
	if (hr->debug) {
		struct svc_log_entry e;

		svc_log_begin(&e, LOG_DEBUG);
		svc_log_field(&e, "VERACAM_CAMERA", "%s", c->ref->name);
		svc_log_field(&e, "VERACAM_VERIFIED_AGE_US", "%" PRId64,
			      (clk_real_ns() - (int64_t)out.capture_ns) / 1000);
		svc_log_field(&e, "VERACAM_AGE_BOUND_US", "%" PRId64, out.age_ns / 1000);
		svc_log_end(&e, "camera %s: unit %" PRIu64 " verified (age bound %" PRId64 " ms)",
			    c->ref->name, out.seq, out.age_ns / 1000000);
	}
	/*
	 * Its picture may be shown until its age bound reaches the window: the
	 * bound keeps growing, one for one with this clock, while the unit
	 * waits in the decoder (on_decoded() holds the picture to it).
	 */
	left = (int64_t)hr->cfg->freshness_ns - out.age_ns;
	ret = hub_decode_au(c->dec, out.au, out.au_len, out.capture_ns,
			    now + (uint64_t)(left > 0 ? left : 0), out.idr);
	if (ret == -EIO)
		decoder_failed(c);
	tick_by(hr, now + hr->cfg->unavailable_ns);
}

static void on_rx(void *data, uint32_t events)
{
	struct feed *c = data;
	struct vcn_unit u;

	(void)events;
	for (;;) {
		switch (vcn_hub_receive(c->rx, (int64_t)clk_mono_ns(), &u)) {
		case VCN_RX_UNIT:
			handle_unit(c, &u);
			continue;
		case VCN_RX_GONE:
			session_end(c, "media connection lost");
			return;
		case VCN_RX_NONE:
			break;
		}
		break;
	}
	count_discards(c);
	svc_timer_arm_at(c->rx_timer, (uint64_t)vcn_hub_deadline_ns(c->rx));
}

static void on_rx_timer(void *data)
{
	on_rx(data, 0);
}

static void control_watch(struct feed *c, enum vc_io io)
{
	uint32_t ev = io == VC_IO_WRITE ? EPOLLIN | EPOLLOUT : EPOLLIN;

	if (ev != c->events && svc_loop_mod_fd(c->hr->s->loop, c->fd, ev) == 0)
		c->events = ev;
}

static void fetch_status(struct feed *c);

static void fetch_log(void *data, int priority, const char *msg)
{
	(void)data;
	svc_log(priority, "%s", msg);
}

/*
 * The next event request, when the session has none outstanding (one at
 * a time, PROTOCOL.md §5.7): asked after each answer and at each
 * challenge, so an idle hub lists again every CAMFETCH_POLL_NS.
 */
static void fetch_poke(struct feed *c)
{
	uint8_t body[VC_EVX_GET_LEN];
	enum vc_ctl_type type;
	size_t len;

	if (!c->fetch || !vc_session_event_idle(c->session) ||
	    !camfetch_next(c->fetch, clk_mono_ns(), &type, body, &len))
		return;
	/* no room (a camera that does not read): asked again at the next challenge */
	if (vc_session_send(c->session, type, body, len) < 0)
		svc_log(LOG_ERR, "camera %s: event request: %s", c->ref->name, vc_last_error());
}

/*
 * The control channel after the offer: the camera answers our event
 * requests; anything else readable is its close (or a protocol error);
 * our challenges may be waiting to leave.
 */
static void on_control(void *data, uint32_t events)
{
	struct feed *c = data;
	enum vc_io io = vc_session_flush(c->session);
	struct vc_ctl m;
	int r = io == VC_IO_FAIL ? -1 : vc_session_recv(c->session, &m);
	char why[160];

	(void)events;
	while (r > 0 && c->fetch &&
	       (m.type == VC_CTL_EVENTS || m.type == VC_CTL_EVENT_CHUNK ||
		m.type == VC_CTL_EVENT_ERROR)) {
		if (camfetch_answer(c->fetch, &m, clk_mono_ns()) < 0) {
			svc_reasons_add(&c->st->rejected, "event-protocol");
			session_end(c, "the camera's event answer breaks the protocol");
			return;
		}
		fetch_poke(c);
		fetch_status(c);
		r = vc_session_recv(c->session, &m);
	}
	if (r == 0) {
		control_watch(c, vc_session_flush(c->session));
		return;
	}
	if (r < 0 && vc_session_cause(c->session) == VC_SESSION_PROTOCOL)
		svc_reasons_add(&c->st->rejected, "event-protocol");
	if (r > 0)
		snprintf(why, sizeof(why), "camera sent an unexpected control message");
	else
		snprintf(why, sizeof(why), "control channel %s",
			 vc_session_cause_name(vc_session_cause(c->session)));
	session_end(c, why);
}

/*
 * The next freshness challenge (PROTOCOL.md §5.4), numbered and timed by
 * the verifier on this hub's monotonic clock before it leaves. A camera
 * that does not read leaves no room: that challenge is not sent, and the
 * frames it signs grow older until they are refused.
 */
static void on_challenge(void *data)
{
	struct feed *c = data;
	uint64_t k = vc_verifier_challenge(c->verifier, clk_boot_ns());

	if (vc_session_send_challenge(c->session, k) < 0) {
		session_end(c, "control channel failed");
		return;
	}
	fetch_poke(c);
	control_watch(c, vc_session_flush(c->session));
}

/*
 * The camera's events come over this session (camfetch.h) when the hub
 * has no event store (with one, its fetcher fills the same cache:
 * evfetch.c): with our encryption key to open them. A re-paired camera
 * (another key under the name) starts afresh.
 */
static void fetch_start(struct feed *c, const struct vc_session_params *p)
{
	struct hub_role *hr = c->hr;
	struct camfetch_config fc = {
		.keys_dir = hr->s->cfg.keys_dir,
		.camera = c->ref->name,
		.enc = hr->enc,
		.log = fetch_log,
	};

	if (!hr->enc || hr->cfg->event_store)
		return;
	if (c->fetch && !vc_equal(p->peer.pub, c->fetch_pub, VC_PUBKEY_LEN)) {
		camfetch_free(c->fetch);
		c->fetch = NULL;
	}
	if (!c->fetch) {
		memcpy(fc.camera_pub, p->peer.pub, VC_PUBKEY_LEN);
		memcpy(fc.hub_key_id, vc_key_id(hr->key), VC_KEY_ID_LEN);
		memcpy(c->fetch_pub, p->peer.pub, VC_PUBKEY_LEN);
		memset(c->fetch_refused, 0, sizeof(c->fetch_refused));
		c->fetch_dropped = 0;
		c->fetch = camfetch_new(&fc);
	}
	if (c->fetch)
		camfetch_session_start(c->fetch);
}

void feed_session_start(struct feed *c)
{
	struct hub_role *hr = c->hr;
	const struct vc_session_params *p = vc_session_params(c->session);
	struct vc_verifier_config vcfg;
	enum vcn_hub_transport t = hr->cfg->transport == SVC_TRANSPORT_UDP ? VCN_HUB_UDP :
				   hr->cfg->transport == SVC_TRANSPORT_TCP ? VCN_HUB_TCP :
				   VCN_HUB_AUTO;
	struct vcn_keys keys;
	struct vcn_hub_config rc = {
		.camera = (struct sockaddr *)&c->addr,
		.camera_len = c->addr_len,
		.offer = &c->offer,
		.transport = t,
		.keys = &keys,
	};
	char sid[2 * VC_SESSION_ID_LEN + 1];
	struct svc_log_entry e;

	vc_verifier_config_from_session(&vcfg, p);
	vcfg.freshness_ns = (int64_t)hr->cfg->freshness_ns;
	vcfg.source = c->pinned ? c->source : NULL;
	c->verifier = vc_verifier_new(&vcfg);
	memcpy(keys.camera_to_hub, p->transport_camera_to_hub, sizeof(keys.camera_to_hub));
	memcpy(keys.hub_to_camera, p->transport_hub_to_camera, sizeof(keys.hub_to_camera));
	c->rx = c->verifier ? vcn_hub_new(&rc, (int64_t)clk_mono_ns()) : NULL;
	vc_wipe(&keys, sizeof(keys));
	memset(&c->rx_counted, 0, sizeof(c->rx_counted));
	c->rx_timer = svc_timer_new(hr->s->loop, on_rx_timer, c);
	c->challenge_timer = svc_timer_new(hr->s->loop, on_challenge, c);
	c->events = EPOLLIN;
	if (!c->verifier || !c->rx || !c->rx_timer || !c->challenge_timer ||
	    svc_loop_add_fd(hr->s->loop, c->fd, EPOLLIN, on_control, c) < 0 ||
	    svc_loop_add_fd(hr->s->loop, vcn_hub_fd(c->rx), EPOLLIN, on_rx, c) < 0) {
		svc_log(LOG_ERR, "camera %s: cannot start the session%s", c->ref->name,
			c->rx || !c->verifier ? "" : " (the offer allows no transport we may use)");
		session_end(c, "setup failed");
		return;
	}
	/*
	 * Our encryption key, once, right after the offer (PROTOCOL.md §5.4):
	 * the camera keeps it with our pin and seals its events for us.
	 */
	if (hr->has_enc &&
	    vc_session_send(c->session, VC_CTL_ENC_KEY, hr->enc_msg, sizeof(hr->enc_msg)) != 0) {
		session_end(c, "control channel failed");
		return;
	}
	fetch_start(c, p);
	c->phase = PHASE_LIVE;
	c->live_since_ns = clk_mono_ns();
	c->last_opened_ns = 0;
	c->fresh_until_ns = 0;
	c->verified_once = false;
	c->rejected = false;
	c->logged_why[0] = 0;	/* connected: the next failure is news again */
	hub_decode_reset(c->dec);
	vc_hex(p->session_id, VC_SESSION_ID_LEN, sid);
	svc_log_begin(&e, LOG_INFO);
	svc_log_field(&e, "VERACAM_CAMERA", "%s", c->ref->name);
	svc_log_end(&e, "camera %s: session %s, %s", c->ref->name, sid,
		    vc_cipher_name(p->cipher));
	/*
	 * Challenge 1 at once: until it reaches the camera its frames are
	 * bound to the hello, so their age bound carries the whole handshake
	 * (over a second on a loaded hub, which would leave them little of
	 * the window); after it, only its round trip.
	 */
	svc_timer_arm(c->challenge_timer, 1, VC_CHALLENGE_INTERVAL_NS);
	svc_timer_arm_at(c->rx_timer, (uint64_t)vcn_hub_deadline_ns(c->rx));
}

/* ------------------------------------------------------------------ */
/* Display: decoded frames, unavailable screens, glass time             */
/* ------------------------------------------------------------------ */

/*
 * A camera's frame reached the glass (the display's flip completion, or
 * its y4m write): count it once, with its capture -> glass latency. The
 * latency is read on the two wall clocks as they are (exact on one host,
 * NTP's error across hosts): the session's offset estimate is only good
 * to rtt / 2, which is for the verifier's bounds, not for a figure.
 */
static void glass_check(struct hub_role *hr)
{
	struct svc_display_status *dst = svc_status_display(hr->s->status);
	struct hub_display_stats ds;

	hub_display_get_stats(hr->display, &ds);
	/* the output lost or back: said once, and in the status */
	if ((ds.output_lost > ds.output_restarted) != dst->lost) {
		const char *out = hr->cfg->display ? hr->cfg->display : "drm";

		dst->lost = !dst->lost;
		if (dst->lost)
			svc_log(LOG_WARNING, "display %s: output lost, nothing reaches the screen "
				"until it is back (unplugged, DRM master taken, or the y4m "
				"FIFO's reader went away)", out);
		else
			svc_log(LOG_NOTICE, "display %s: output back", out);
	}
	dst->lost_count = ds.output_lost;
	/* taken down and back between two checks: still said */
	if (ds.commits_given_up != hr->given_up) {
		svc_log(LOG_WARNING, "display %s: a page flip did not complete within %u ms; "
			"the output was taken down and started again, so that nothing "
			"past its freshness stays on the screen (%" PRIu64 " time(s))",
			hr->cfg->display ? hr->cfg->display : "drm", DISPLAY_PENDING_MAX_MS,
			ds.commits_given_up);
		hr->given_up = ds.commits_given_up;
	}
	for (unsigned int i = 0; i < hr->cfg->n_cameras; i++) {
		struct feed *c = &hr->cams[i];
		uint64_t cap = ds.on_screen_capture_ns[i];
		int64_t glass_at;

		if (ds.expired[i] != c->display_expired) {
			/*
			 * The display took the picture off at its deadline
			 * before on_tick() did (a commit for another cell came
			 * first): the same fail-closed step, said the same way.
			 */
			c->display_expired = ds.expired[i];
			if (c->showing) {
				c->showing = false;
				c->st->state = unavailable_state(HUB_STALE);
				c->st->went_stale++;
				svc_log(LOG_WARNING, "camera %s: unavailable (%s), %" PRIu64
					" ms after its last verified frame: its picture's age "
					"bound reached the freshness window before a newer one "
					"was decoded", c->ref->name, unavailable_reason(HUB_STALE),
					(clk_mono_ns() - c->last_verified_ns) / 1000000);
			}
		}
		if (!cap || cap == c->on_screen_ns)
			continue;
		c->on_screen_ns = cap;
		glass_at = (int64_t)(cap + ds.glass_ns[i]);	/* CLOCK_REALTIME */
		svc_camera_shown(c->st, (int64_t)cap, glass_at);
		if (hr->debug) {
			struct svc_log_entry e;

			svc_log_begin(&e, LOG_DEBUG);
			svc_log_field(&e, "VERACAM_CAMERA", "%s", c->ref->name);
			svc_log_field(&e, "VERACAM_GLASS_US", "%" PRIu64, ds.glass_ns[i] / 1000);
			svc_log_end(&e, "camera %s: frame on glass", c->ref->name);
		}
	}
}

/*
 * The camera's decoder child, started without waiting (decode.h): its
 * greeting logged once. One that fails before it greets is
 * decoder_failed()'s: a child that says it cannot decode here (no H.264
 * decoder installed) stops the hub, as a bad configuration does; a crash
 * or 120 s of silence is replaced at the next IDR. 1 started, 0 not yet,
 * -EIO failed.
 */
static int decoder_started(struct feed *c)
{
	int ret = hub_decode_started(c->dec);

	if (ret == 1) {
		c->dec_started = true;
		svc_log(LOG_INFO, "camera %s: decoder %s ready (sandboxed child %d)", c->ref->name,
			hub_decode_decoder(c->dec), hub_decode_child_pid(c->dec));
	} else if (ret < 0) {
		decoder_failed(c);
	}
	return ret;
}

static void on_decoded(void *data, uint32_t events)
{
	struct feed *c = data;
	struct hub_role *hr = c->hr;
	struct hub_picture pic;
	int ret;

	(void)events;
	if (!c->dec_started && decoder_started(c) <= 0)
		return;
	while ((ret = hub_decode_take(c->dec, &pic)) == 1) {
		/* on glass only while its unit is fresh (a hub short of CPU, a backlog) */
		uint64_t until = pic.show_until_ns;

		if (clk_mono_ns() >= until) {
			c->st->expired++;
			pic.release(&pic);
		} else if (hub_display_show(hr->display, c->idx, &pic) == 0) {
			c->showing = true;
			c->st->state = "connected";
			c->fresh_until_ns = until;
			tick_by(hr, until);
		}
	}
	if (ret == -EIO)
		decoder_failed(c);
	update_decode_stats(c);
	glass_check(hr);
	svc_notify_progress(&hr->s->notify, clk_mono_ns() / 1000);
}

static void on_display(void *data, uint32_t events)
{
	struct hub_role *hr = data;

	(void)events;
	hub_display_dispatch(hr->display);
	glass_check(hr);
}

/* STATUS=porch: connected, 1234 shown; garden: stale, ... */
static void status_line(struct hub_role *hr)
{
	GString *line = g_string_new(NULL);

	for (unsigned int i = 0; i < hr->cfg->n_cameras; i++) {
		const struct svc_camera_stats *st = hr->cams[i].st;

		g_string_append_printf(line, "%s%s: %s, %" PRIu64 " shown, %" PRIu64 " rejected",
				       i ? "; " : "", hr->cams[i].ref->name, st->state,
				       st->shown, st->rejected.total);
	}
	svc_notify_status(&hr->s->notify, "%s", line->str);
	g_string_free(line, TRUE);
}

/*
 * The event fetch's counters into the camera's status; the events view
 * built again when the cache changed (an event cached, a refusal noted, an
 * event the cache's bound removed).
 */
static void fetch_status(struct feed *c)
{
	const struct camfetch_stats *fs;
	struct svc_camfetch_stats *s = &c->st->camfetch;
	bool changed;

	if (!c->fetch)
		return;
	fs = camfetch_stats(c->fetch);
	changed = fs->events != s->events || fs->cache_dropped != c->fetch_dropped;
	s->state = camfetch_state(c->fetch);
	s->events = fs->events;
	s->objects = fs->objects;
	s->bytes = fs->bytes;
	s->gaps = fs->gaps;
	s->gap_events = fs->gap_events;
	s->gone = fs->gone;
	s->have_newest = fs->have_newest;
	s->newest = fs->newest;
	for (int r = 0; r < VC_EV__COUNT; r++) {
		changed |= fs->refused[r] != c->fetch_refused[r];
		svc_reasons_add_n(&s->refused, vc_event_reject_name(r),
				  fs->refused[r] - c->fetch_refused[r]);
		c->fetch_refused[r] = fs->refused[r];
	}
	/* the cache is one, whichever source made room in it */
	svc_status_hub_events(c->hr->s->status)->cache_dropped += fs->cache_dropped -
								   c->fetch_dropped;
	c->fetch_dropped = fs->cache_dropped;
	if (changed && c->hr->evview)
		evview_cache_changed(c->hr->evview);
}

/*
 * Fail closed on time: a camera whose last verified frame is
 * unavailable_ns old gets the unavailable screen; then the display's own
 * tick (its staleness, unplug, master).
 */
static void on_tick(void *data)
{
	struct hub_role *hr = data;
	uint64_t now = clk_mono_ns(), next = UINT64_MAX, display_at;

	hr->tick_at = 0;
	for (unsigned int i = 0; i < hr->cfg->n_cameras; i++) {
		struct feed *c = &hr->cams[i];
		uint64_t due = c->last_verified_ns + hr->cfg->unavailable_ns;

		fetch_status(c);

		if (c->phase == PHASE_LIVE) {
			/*
			 * A live control channel proves nothing about the media:
			 * a session whose transport delivers no unit of this
			 * session for STALL_NS (a relay wedged its reassembly
			 * state, say) is started anew. Units that open but are
			 * then rejected (stale, gap) count as arriving: a slow
			 * link is shown as stale, not reconnected.
			 */
			uint64_t last = c->last_opened_ns > c->live_since_ns ?
					c->last_opened_ns : c->live_since_ns;

			if (now >= last + STALL_NS) {
				session_end(c, "no media of this session arrives");
				continue;
			}
			if (last + STALL_NS < next)
				next = last + STALL_NS;
		}
		if (c->fresh_until_ns && c->fresh_until_ns < due)
			due = c->fresh_until_ns;
		if (!c->last_verified_ns || !c->showing)
			continue;
		if (now >= due) {
			enum hub_unavailable why = c->rejected ? HUB_NOT_VERIFIED : HUB_STALE;

			show_unavailable(c, why);
			c->st->went_stale += why == HUB_STALE;
			/*
			 * Nothing verified for the timeout, or a reject: start
			 * over at an IDR. Only the shown picture's deadline: the
			 * units in the decoder are newer and may still be shown.
			 */
			if (c->rejected || now >= c->last_verified_ns + hr->cfg->unavailable_ns)
				hub_decode_reset(c->dec);
			svc_log(LOG_WARNING, "camera %s: unavailable (%s), %" PRIu64
				" ms after its last verified frame", c->ref->name,
				unavailable_reason(why), (now - c->last_verified_ns) / 1000000);
		} else if (due < next) {
			next = due;
		}
	}
	display_at = hub_display_tick(hr->display, now);
	if (display_at < next)
		next = display_at;
	glass_check(hr);
	svc_notify_progress(&hr->s->notify, now / 1000);
	if (now - hr->status_at >= STATUS_INTERVAL_NS) {
		hr->status_at = now;
		status_line(hr);
	}
	if (next != UINT64_MAX)
		tick_by(hr, next);
}

/* ------------------------------------------------------------------ */
/* Start, run, stop                                                     */
/* ------------------------------------------------------------------ */

static void on_reload(void *data)
{
	struct hub_role *hr = data;

	svc_notify_reloading(&hr->s->notify);
	for (unsigned int i = 0; i < hr->cfg->n_cameras; i++) {
		struct feed *c = &hr->cams[i];
		const struct vc_session_params *p;
		struct vc_peer peer;

		if (c->phase != PHASE_LIVE)
			continue;
		p = vc_session_params(c->session);
		if (vc_peer_load(hr->s->cfg.keys_dir, c->ref->name, &peer) < 0 ||
		    peer.role != VC_ROLE_CAMERA ||
		    memcmp(peer.pub, p->peer.pub, VC_PUBKEY_LEN) != 0)
			session_end(c, "camera no longer trusted under its name");
	}
	svc_log(LOG_INFO, "reloaded pairings");
	svc_notify_ready(&hr->s->notify, "pairings reloaded");
}

/* 0, VD_RETRY or VD_FATAL (veracamd.h). */
/*
 * The encryption key cameras seal events for us with, vouched for by our
 * device key (what `veracamctl enc-binding` prints), sent in every
 * session. Like enc-binding, the daemon makes no key: without enc.key it
 * says how to make one and sends none (cameras then need enc-pin).
 */
static void load_enc_binding(struct hub_role *hr)
{
	const char *dir = hr->s->cfg.keys_dir;
	struct vc_enc_key *e = vc_enc_key_load(dir);
	char line[VC_ENC_IDENTITY_LEN + 1];

	if (!e || vc_enc_binding_sign(hr->key, vc_enc_key_public(e),
				      hr->enc_msg + VC_ENC_PUBKEY_LEN) < 0) {
		svc_log(LOG_WARNING, "encryption key: %s; cameras are not sent one, so they record "
			"events for this hub only with veracamctl enc-pin", vc_last_error());
		vc_enc_key_free(e);
		return;
	}
	memcpy(hr->enc_msg, vc_enc_key_public(e), VC_ENC_PUBKEY_LEN);
	hr->enc = e;	/* kept: it opens the events fetched from the cameras */
	hr->has_enc = true;
	vc_enc_identity_format(hr->enc_msg, line);
	svc_log(LOG_INFO, "encryption key %s: sent to each camera with its binding", line);
}

/* "events show|live|play CAMERA NUMBER" (veracamctl events ...). */
static char *on_status_command(void *data, const char *request)
{
	struct hub_role *hr = data;
	char *ans = hr->evview ? evview_command(hr->evview, request) : NULL;

	return ans ? ans : g_strdup_printf("error unknown request \"%.40s\"\n", request);
}

/* The events view over the display, the fetcher with an event store. */
static int events_setup(struct hub_role *hr)
{
	const struct svc_hub_config *cfg = hr->cfg;
	struct evview_config ec = {
		.loop = hr->s->loop,
		.display = hr->display,
		.st = svc_status_hub_events(hr->s->status),
		.keys = hr->s->cfg.keys_dir,
		.hub_key_id = vc_key_id(hr->key),
		.n_cameras = cfg->n_cameras,
		.store = cfg->event_store,
	};
	g_autoptr(GError) err = NULL;

	for (unsigned int i = 0; i < cfg->n_cameras; i++)
		ec.names[i] = cfg->cameras[i].name;
	hr->evview = evview_new(&ec, &err);
	if (!hr->evview) {
		svc_log(LOG_ERR, "events view: %s", err->message);
		return -1;
	}
	svc_status_on_command(hr->s->status, on_status_command, hr);
	if (cfg->event_store) {
		char shown[1100];

		svc_log(LOG_INFO, "events: the newest events of each camera fetched from %s into "
			"%s/" "event-cache", vc_url_redact(cfg->event_store, shown,
								   sizeof(shown)),
			hr->s->cfg.keys_dir);
	}
	return 0;
}

static int setup(struct hub_role *hr)
{
	const struct svc_hub_config *cfg = hr->cfg;
	struct svc_loop *loop = hr->s->loop;
	struct hub_display_config dc = {
		.output = cfg->display,
		.cameras = cfg->n_cameras,
		.grid = cfg->layout == SVC_LAYOUT_GRID,
		.width = cfg->out_width,
		.height = cfg->out_height,
		.kms_legacy = cfg->kms_legacy,
		.stale_ns = cfg->unavailable_ns,
	};
	g_autoptr(GError) error = NULL;

	hr->key = vd_load_key(&hr->s->cfg);
	if (!hr->key)
		return VD_FATAL;
	load_enc_binding(hr);
	for (unsigned int i = 0; i < cfg->n_cameras; i++)
		dc.names[i] = cfg->cameras[i].name;
	hr->display = hub_display_open(&dc, &error);
	if (!hr->display) {
		svc_log(LOG_ERR, "display %s: %s", cfg->display, error->message);
		return VD_FATAL;
	}
	hr->tick = svc_timer_new(loop, on_tick, hr);
	if (!hr->tick ||
	    (hub_display_fd(hr->display) >= 0 &&
	     svc_loop_add_fd(loop, hub_display_fd(hr->display), EPOLLIN, on_display, hr) < 0)) {
		svc_log(LOG_ERR, "event loop setup failed");
		return -1;
	}
	for (unsigned int i = 0; i < cfg->n_cameras; i++) {
		struct feed *c = &hr->cams[i];

		c->dec = hub_decode_spawn(false, &error);
		if (!c->dec) {
			svc_log(LOG_ERR, "decoder: %s", error->message);
			return -1;
		}
		c->retry = svc_timer_new(loop, link_on_retry, c);
		if (!c->retry ||
		    svc_loop_add_fd(loop, hub_decode_fd(c->dec), EPOLLIN, on_decoded, c) < 0) {
			svc_log(LOG_ERR, "event loop setup failed");
			return -1;
		}
		c->st->state = "not connected";
		if (c->ref->source) {
			char hex[2 * VC_HASH_LEN + 1];

			if (vc_source_id(c->ref->source, c->source) < 0) {
				svc_log(LOG_ERR, "camera %s: source %s: %s", c->ref->name,
					c->ref->source, vc_last_error());
				return -1;
			}
			c->pinned = true;
			vc_hex(c->source, sizeof(c->source), hex);
			svc_log(LOG_INFO, "camera %s: pinned to capture source %s (source id %s)",
				c->ref->name, c->ref->source, hex);
		}
		link_on_retry(c);
	}
	if (events_setup(hr) < 0)
		return -1;
	svc_log(LOG_INFO, "display %s, %u camera%s, their decoders starting", cfg->display,
		cfg->n_cameras, cfg->n_cameras == 1 ? "" : "s");
	svc_status_set_ready(hr->s->status, true);
	svc_notify_ready(&hr->s->notify, "display up, connecting to cameras");
	tick_by(hr, clk_mono_ns() + 1000000u);
	return 0;
}

static void teardown(struct hub_role *hr)
{
	struct svc_loop *loop = hr->s->loop;

	svc_status_on_command(hr->s->status, NULL, NULL);
	/* first: it gives the decoders' pictures it still shows back */
	if (hr->display) {
		if (hub_display_fd(hr->display) >= 0)
			svc_loop_remove_fd(loop, hub_display_fd(hr->display));
		hub_display_close(hr->display);
	}
	evview_free(hr->evview);
	for (unsigned int i = 0; i < hr->cfg->n_cameras; i++) {
		struct feed *c = &hr->cams[i];

		if (c->phase == PHASE_CONNECTING) {
			pthread_mutex_lock(&hr->lock);
			if (c->fd >= 0)
				shutdown(c->fd, SHUT_RDWR);	/* ends a pending handshake */
			pthread_mutex_unlock(&hr->lock);
			svc_job_join(c->connect);
			vc_session_free(c->session);
			if (c->fd >= 0)
				close(c->fd);
		} else if (c->phase == PHASE_LIVE) {
			svc_loop_remove_fd(loop, c->fd);
			svc_loop_remove_fd(loop, vcn_hub_fd(c->rx));
			svc_timer_free(c->rx_timer);
			svc_timer_free(c->challenge_timer);
			count_discards(c);
			vcn_hub_free(c->rx);
			vc_verifier_free(c->verifier);
			vc_session_free(c->session);
			close(c->fd);
		}
		svc_timer_free(c->retry);
		camfetch_free(c->fetch);
		if (c->dec) {
			update_decode_stats(c);
			svc_loop_remove_fd(loop, hub_decode_fd(c->dec));
			hub_decode_free(c->dec);
		}
	}
	svc_timer_free(hr->tick);
	vc_key_free(hr->key);
	vc_enc_key_free(hr->enc);
	pthread_mutex_destroy(&hr->lock);
}

int hub_role_run(struct svc_service *s)
{
	struct hub_role hr = {
		.s = s, .cfg = &s->cfg.hub,
		.debug = s->cfg.log_level >= LOG_DEBUG,
	};
	int rc;

	pthread_mutex_init(&hr.lock, NULL);
	for (unsigned int i = 0; i < hr.cfg->n_cameras; i++) {
		hr.cams[i].hr = &hr;
		hr.cams[i].idx = i;
		hr.cams[i].ref = &hr.cfg->cameras[i];
		hr.cams[i].st = svc_status_camera(s->status, i);
		hr.cams[i].fd = -1;
	}
	rc = setup(&hr);
	if (rc == 0) {
		svc_loop_on_reload(s->loop, on_reload, &hr);
		rc = svc_service_run(s);
	} else {
		rc = VD_EXIT(rc);
	}
	teardown(&hr);
	return rc;
}
