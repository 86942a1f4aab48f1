// SPDX-License-Identifier: GPL-2.0
/*
 * link.c - the hub role's link to each camera (role.h): a connect job
 * (TCP, TLS with the camera's pinned key, its media offer, under one
 * absolute deadline) on a thread of its own, and after a failure a retry
 * with exponential backoff and jitter.
 */
#include "role.h"

/* The camera's first control message: its media offer, by the deadline. */
static int read_offer(struct feed *c, int64_t deadline)
{
	struct vc_ctl m;

	for (;;) {
		int64_t now = (int64_t)clk_mono_ns();
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		int r = vc_session_recv(c->session, &m);

		if (r < 0) {
			c->cause = vc_session_cause(c->session);
			snprintf(c->why, sizeof(c->why), "camera closed the session before its offer");
			return -1;
		}
		if (r == 1) {
			if (m.type == VC_CTL_OFFER && vcn_offer_parse(m.body, m.len, &c->offer) == 0)
				return 0;
			if (m.type == VC_CTL_REFUSED) {
				c->cause = VC_SESSION_CLOSED;
				c->refused = m.body[0];
				snprintf(c->why, sizeof(c->why), "camera refused the session: %s",
					 m.body[0] == VC_REFUSED_BUSY ?
					 "busy (its max-hubs other hubs are connected)" :
					 "for a reason this hub does not know");
				return -1;
			}
			c->cause = VC_SESSION_PROTOCOL;
			snprintf(c->why, sizeof(c->why), "camera sent an invalid media offer");
			return -1;
		}
		if (now >= deadline) {
			c->cause = VC_SESSION_TIMEOUT;
			snprintf(c->why, sizeof(c->why), "no media offer within the deadline");
			return -1;
		}
		poll(&pfd, 1, (int)((deadline - now) / 1000000 + 1));
	}
}

/*
 * TCP connect, TLS, hellos and the offer, all within one absolute
 * deadline (a relay that trickles bytes cannot stretch it).
 */
static int connect_camera(struct feed *c)
{
	struct hub_role *hr = c->hr;
	int64_t deadline = (int64_t)clk_mono_ns() + VC_HANDSHAKE_TIMEOUT_NS;
	struct vc_peer peer;
	struct vc_session_config sc = {
		.role = VC_ROLE_HUB,
		.key = hr->key,
		.peers = &peer,
		.n_peers = 1,
	};
	GError *err = NULL;
	int fd;

	c->cause = VC_SESSION_TLS;
	if (vc_peer_load(hr->s->cfg.keys_dir, c->ref->name, &peer) < 0) {
		snprintf(c->why, sizeof(c->why), "not paired: %s", vc_last_error());
		return -1;
	}
	if (peer.role != VC_ROLE_CAMERA) {
		snprintf(c->why, sizeof(c->why), "%s is paired as a hub, not a camera",
			 c->ref->name);
		return -1;
	}
	if (svc_addr_resolve(&c->ref->addr, SOCK_STREAM, &c->addr, &c->addr_len, &err) < 0) {
		g_strlcpy(c->why, err->message, sizeof(c->why));
		g_error_free(err);
		return -1;
	}
	fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto sys_error;
	pthread_mutex_lock(&hr->lock);	/* teardown may shut it down */
	c->fd = fd;
	pthread_mutex_unlock(&hr->lock);
	/* Bounds connect(); the session's own steps are non-blocking. */
	vd_socket_timeouts(c->fd, (unsigned int)(VC_HANDSHAKE_TIMEOUT_NS / 1000000));
	if (connect(c->fd, (struct sockaddr *)&c->addr, c->addr_len) < 0)
		goto sys_error;
	c->session = vc_session_new(&sc, c->fd);
	if (!c->session || vc_session_run(c->session, deadline) < 0) {
		if (c->session)
			c->cause = vc_session_cause(c->session);
		g_strlcpy(c->why, vc_last_error(), sizeof(c->why));
		return -1;
	}
	return read_offer(c, deadline);
sys_error:
	snprintf(c->why, sizeof(c->why), "%s", strerror(errno));
	return -1;
}

static void connect_run(void *data)
{
	struct feed *c = data;

	if (connect_camera(c) < 0) {
		vc_session_free(c->session);
		c->session = NULL;
	}
}

/* The connect job returned (loop thread): a session, or a retry later. */
static void connect_done(void *data)
{
	struct feed *c = data;

	c->connect = NULL;
	if (c->session) {
		feed_session_start(c);
		return;
	}
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	/* the key at that address is not the one pinned under the name */
	if (c->cause == VC_SESSION_NOT_PAIRED)
		svc_reasons_add(&c->st->rejected, "unpaired-camera");
	if (c->cause == VC_SESSION_PENDING)
		svc_reasons_add(&c->st->rejected, "pending-camera");
	if (c->refused == VC_REFUSED_BUSY)
		svc_reasons_add(&c->st->rejected, "camera-busy");
	/* a retry that fails the same way is logged at debug: once is enough */
	svc_log(!strcmp(c->why, c->logged_why) ? LOG_DEBUG :
		c->failures ? LOG_INFO : LOG_WARNING, "camera %s: %s", c->ref->name,
		c->why);
	memcpy(c->logged_why, c->why, sizeof(c->logged_why));
	link_schedule_retry(c);
}

void link_on_retry(void *data)
{
	struct feed *c = data;

	c->fd = -1;
	c->why[0] = 0;
	c->refused = 0;
	c->connect = svc_job_start(c->hr->s->loop, "vc-connect", connect_run, connect_done, c);
	if (!c->connect) {
		svc_log(LOG_ERR, "camera %s: cannot start a connection thread: %s",
			c->ref->name, strerror(errno));
		svc_timer_arm(c->retry, c->hr->cfg->backoff_max_ns, 0);
		return;
	}
	c->phase = PHASE_CONNECTING;
}

/* Exponential backoff from backoff-min to backoff-max, jitter% of it random. */
void link_schedule_retry(struct feed *c)
{
	const struct svc_hub_config *cfg = c->hr->cfg;
	uint64_t delay = cfg->backoff_min_ns;
	uint32_t r = 0;

	for (unsigned int i = 0; i < c->failures && delay < cfg->backoff_max_ns; i++)
		delay *= 2;
	if (delay > cfg->backoff_max_ns)
		delay = cfg->backoff_max_ns;
	(void)vc_random(&r, sizeof(r));	/* r = 0 on failure: no jitter */
	delay -= (uint64_t)((double)delay * cfg->backoff_jitter / 100.0 * ((double)r / UINT32_MAX));
	if (c->failures < 64)
		c->failures++;
	c->phase = PHASE_WAIT;
	svc_timer_arm(c->retry, delay ? delay : 1, 0);
}
