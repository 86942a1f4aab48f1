// SPDX-License-Identifier: GPL-2.0
/*
 * subscribers.c - the camera role's hub sessions (role.h): a connection
 * the gate authenticated becomes a subscriber; its control channel
 * (challenges, event requests, its encryption key), its liveness, the
 * forced IDRs it may ask for, its end.
 */
#include "role.h"

/* ------------------------------------------------------------------ */
/* Hub sessions                                                         */
/* ------------------------------------------------------------------ */

/* Hub @h needs an IDR; granted when the limits allow (subscribers_grant_idr()). */
void subscriber_want_idr(struct subscriber *h)
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
void subscribers_grant_idr(struct camera_role *cr, uint64_t now)
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
	pump_request_idr(cr);
}

static void reject_peer(struct camera_role *cr, const char *reason, const char *peer,
			const char *why);

/* @h out of cr->hubs and freed; its session says close_notify to the hub. */
void subscriber_drop(struct camera_role *cr, struct subscriber *h, const char *why)
{
	const struct vcn_cam_hub_stats *ns = vcn_cam_hub_stats(h->media);
	struct subscriber **pp = &cr->hubs;
	struct svc_log_entry e;

	while (*pp && *pp != h)
		pp = &(*pp)->next;
	if (*pp)
		*pp = h->next;
	svc_log_begin(&e, LOG_INFO);
	svc_log_field(&e, "VERACAM_HUB", "%s", h->name);
	svc_log_field(&e, "VERACAM_FRAMES_SENT", "%" PRIu64, ns->units_sent);
	svc_log_end(&e, "hub %s: session ended (%s) after %" PRIu64 " frames", h->name, why,
		    ns->units_sent);
	svc_loop_remove_fd(cr->s->loop, h->fd);
	vcn_cam_hub_remove(cr->net, h->media);
	vc_sealer_free(h->sealer);
	svc_timer_free(h->serve_timer);
	vc_session_free(h->session);	/* close_notify: the hub's authenticated end */
	close(h->fd);
	svc_status_session_end(cr->s->status, h->st);
	free(h);
	cr->n_hubs--;
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

/* Answer one event request: 0, or -1 with *bad saying why the session must end. */
static int serve_request(struct subscriber *h, const struct vc_ctl *m, GError **error,
			 const char **bad)
{
	int a = cam_eventserve_answer(h->cr->serve, h->session, m, &h->cr->serve_st, error);

	h->answered = true;
	if (!a)
		return 0;
	/* the queue always has room for one answer: 1 is a bug, not the hub */
	*bad = a > 0 ? "no room for the answer" : (*error)->message;
	return -1;
}

static bool hub_control(struct subscriber *h);

/* A request that waited for this turn of the loop. */
static void on_serve_timer(void *data)
{
	struct subscriber *h = data;

	if (h->has_deferred)
		hub_control(h);
}

/*
 * The hub's control channel: its challenges arrive here (the session
 * keeps the newest), its encryption key once, our offer may still be
 * leaving. Anything else, a close or a broken record, ends the session;
 * a hub that broke the protocol is counted among the refusals
 * ("protocol"). false: the session ended and h is gone.
 */
static bool hub_control(struct subscriber *h)
{
	enum vc_io io = vc_session_flush(h->session);
	enum vc_session_cause cause;
	struct vc_ctl m;
	char why[256];
	g_autoptr(GError) serve_err = NULL;
	const char *bad = NULL;
	int r = 0;

	h->answered = false;
	if (h->has_deferred && io != VC_IO_FAIL) {
		h->has_deferred = false;
		if (serve_request(h, &h->deferred, &serve_err, &bad) < 0)
			r = 1;
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
			if (h->has_deferred) {	/* the session refuses this already */
				bad = "a request before the last one's answer";
				break;
			}
			memcpy(&h->deferred, &m, offsetof(struct vc_ctl, body) + m.len);
			h->has_deferred = true;
			svc_timer_arm(h->serve_timer, 1, 0);
			continue;
		}
		if (serve_request(h, &m, &serve_err, &bad) < 0)
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
	subscriber_drop(h->cr, h, why);
	return false;
}

static void on_hub_control(void *data, uint32_t events)
{
	(void)events;
	hub_control(data);
}

/*
 * The signed delay is measured on CLOCK_MONOTONIC, which stops while the
 * camera is suspended: a frame captured before a suspend and a challenge
 * read after it would understate the frame's age by the time asleep. So a
 * resume ends every session (the hubs reconnect and start from a fresh
 * challenge 0) and no frame captured before it is sent.
 */
void subscribers_check_suspend(struct camera_role *cr)
{
	int64_t asleep;
	struct subscriber *h;

	if (!clk_boot_minus_mono(&asleep) || asleep - cr->asleep_ns < 1000000)
		return;
	svc_log(LOG_WARNING, "resumed after %" PRId64 " ms suspended: ending every hub session",
		(asleep - cr->asleep_ns) / 1000000);
	cr->asleep_ns = asleep;
	cr->awake_since_ns = clk_mono_ns();
	while ((h = cr->hubs))
		subscriber_drop(cr, h, "the camera was suspended");
}

/* Liveness is the hub's challenges, inside TLS: nothing a relay replays counts. */
void subscribers_on_live_timer(void *data)
{
	struct camera_role *cr = data;
	int64_t now = (int64_t)clk_mono_ns();
	struct subscriber *h, *next;

	subscribers_check_suspend(cr);
	for (h = cr->hubs; h; h = next) {
		uint64_t n;
		int64_t at;

		next = h->next;
		/* what already arrived counts (this timer may run first after a stall) */
		if (!hub_control(h))
			continue;
		vc_session_challenge(h->session, &n, &at);
		if (now - at > VC_CHALLENGE_TIMEOUT_NS)
			subscriber_drop(cr, h, "the hub's challenges stopped");
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
			subscriber_drop(cr, h, "replaced by a new session of the same hub");
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

const struct gate_ops subscribers_gate_ops = {
	.peers = gate_peers,
	.session = on_gate_session,
	.media = on_gate_media,
	.reject = on_gate_reject,
};

/* ------------------------------------------------------------------ */
/* Pairings (start, SIGHUP)                                             */
/* ------------------------------------------------------------------ */

/* Handshakes read the records themselves (gate_peers); this list judges running sessions. */
int subscribers_load_peers(struct camera_role *cr)
{
	free(cr->peers);
	return read_peers(cr, &cr->peers, &cr->n_peers);
}

void subscribers_on_reload(void *data)
{
	struct camera_role *cr = data;
	struct subscriber *h, *next;
	size_t n_hubs = 0;

	svc_notify_reloading(&cr->s->notify);
	subscribers_load_peers(cr);
	for (h = cr->hubs; h; h = next) {
		next = h->next;
		if (!trusted(cr->peers, cr->n_peers, h->pub))
			subscriber_drop(cr, h, "no longer trusted");
	}
	for (size_t i = 0; i < cr->n_peers; i++)
		n_hubs += cr->peers[i].role == VC_ROLE_HUB;
	svc_log(LOG_INFO, "reloaded pairings: %zu hub%s trusted", n_hubs, n_hubs == 1 ? "" : "s");
	svc_notify_ready(&cr->s->notify, "pairings reloaded");
}
