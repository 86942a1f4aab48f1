// SPDX-License-Identifier: GPL-2.0
/*
 * status.c - the counters `veracamctl status` shows, the local socket that
 * serves them and its client.
 *
 * The socket is AF_UNIX/SOCK_STREAM, mode 0660 (owner and the service's
 * group, e.g. admins in group veracam), in $RUNTIME_DIRECTORY by default.
 * A client may send one request line first: "status" (or nothing, for
 * REQUEST_WAIT_MS) gets one JSON snapshot; any other line goes to the
 * role's command hook (the camera's "pair-window", a board's button) and
 * its one-line answer is sent back. Then the connection is closed. The snapshot holds names, addresses, counters and
 * capture source ids only: never a key, never a frame.
 */
#include <errno.h>
#include <poll.h>
#include <inttypes.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "service.h"

#define SNAPSHOT_MAX	(1u << 20)
#define SEND_TIMEOUT_MS	200
#define RECV_TIMEOUT_MS	2000
#define REQUEST_WAIT_MS	100	/* a client that sends no request gets the snapshot */
#define REQUEST_MAX	256
#define GLASS_SHIFT	3	/* estimate moves 1/8 of the way to each sample */

struct svc_status {
	enum vc_role role;
	char *name;
	char *keys;			/* the key directory (veracamctl pair-mode --running) */
	uint64_t started_ns;
	bool ready;
	struct svc_camera_role_stats cam;
	GPtrArray *sessions;		/* struct svc_hub_session * */
	struct svc_camera_stats cameras[VC_HUB_MAX_CAMERAS];
	unsigned int n_cameras;
	struct svc_display_status display;
	struct svc_hub_events_stats events;
	int fd;
	char *path;			/* bound socket, unlinked on free */
	svc_status_command_fn command;
	void *command_data;
};

void svc_reasons_add_n(struct svc_reasons *r, const char *reason, uint64_t n)
{
	unsigned int i;

	if (!n)
		return;
	r->total += n;
	for (i = 0; i < r->n; i++) {
		if (!strcmp(r->name[i], reason)) {
			r->count[i] += n;
			return;
		}
	}
	if (r->n < SVC_REASONS_MAX - 1) {
		r->name[r->n] = g_strdup(reason);
	} else if (r->n == SVC_REASONS_MAX - 1) {
		r->name[r->n] = g_strdup("other");
	} else {
		r->count[SVC_REASONS_MAX - 1] += n;
		return;
	}
	r->count[r->n++] = n;
}

void svc_reasons_add(struct svc_reasons *r, const char *reason)
{
	svc_reasons_add_n(r, reason, 1);
}

static void reasons_clear(struct svc_reasons *r)
{
	for (unsigned int i = 0; i < r->n; i++)
		g_free(r->name[i]);
}

struct svc_status *svc_status_new(const struct svc_config *cfg)
{
	struct svc_status *st = g_new0(struct svc_status, 1);

	st->role = cfg->role;
	st->name = g_strdup(cfg->role == VC_ROLE_CAMERA ? cfg->camera.name : "hub");
	st->keys = g_strdup(cfg->keys_dir ? cfg->keys_dir : "");
	st->started_ns = clk_mono_ns();
	st->sessions = g_ptr_array_new_with_free_func(g_free);
	st->fd = -1;
	if (cfg->role == VC_ROLE_HUB) {
		st->n_cameras = cfg->hub.n_cameras;
		for (unsigned int i = 0; i < st->n_cameras; i++) {
			struct svc_camera_stats *c = &st->cameras[i];

			g_strlcpy(c->name, cfg->hub.cameras[i].name, sizeof(c->name));
			svc_addr_format(&cfg->hub.cameras[i].addr, c->addr);
			c->state = "not connected";
		}
	}
	return st;
}

void svc_status_free(struct svc_status *st)
{
	if (!st)
		return;
	if (st->fd >= 0)
		close(st->fd);
	if (st->path)
		unlink(st->path);
	g_free(st->path);
	for (unsigned int i = 0; i < st->n_cameras; i++) {
		reasons_clear(&st->cameras[i].rejected);
		reasons_clear(&st->cameras[i].discarded);
		reasons_clear(&st->cameras[i].camfetch.refused);
	}
	reasons_clear(&st->cam.rejected_peers);
	reasons_clear(&st->events.rejected);
	g_ptr_array_free(st->sessions, TRUE);
	g_free(st->name);
	g_free(st->keys);
	g_free(st);
}

struct svc_camera_role_stats *svc_status_camera_role(struct svc_status *st)
{
	return &st->cam;
}

struct svc_hub_session *svc_status_session_begin(struct svc_status *st,
						 const char *hub_name,
						 const char *peer,
						 const char *transport)
{
	struct svc_hub_session *s = g_new0(struct svc_hub_session, 1);

	g_strlcpy(s->name, hub_name, sizeof(s->name));
	g_strlcpy(s->peer, peer, sizeof(s->peer));
	g_strlcpy(s->transport, transport, sizeof(s->transport));
	s->started_ns = clk_mono_ns();
	g_ptr_array_add(st->sessions, s);
	return s;
}

void svc_status_session_end(struct svc_status *st, struct svc_hub_session *s)
{
	g_ptr_array_remove(st->sessions, s);
}

struct svc_display_status *svc_status_display(struct svc_status *st)
{
	return &st->display;
}

struct svc_hub_events_stats *svc_status_hub_events(struct svc_status *st)
{
	return &st->events;
}

struct svc_camera_stats *svc_status_camera(struct svc_status *st, unsigned int index)
{
	return index < st->n_cameras ? &st->cameras[index] : NULL;
}

void svc_camera_shown(struct svc_camera_stats *c, int64_t capture_ns, int64_t glass_ns)
{
	int64_t sample = glass_ns - capture_ns;

	c->shown++;
	if (sample < 0)		/* clocks disagree: no estimate from this one */
		return;
	if (!c->glass_ns)
		c->glass_ns = (uint64_t)sample;
	else
		c->glass_ns = (uint64_t)((int64_t)c->glass_ns +
					 ((sample - (int64_t)c->glass_ns) >> GLASS_SHIFT));
}

void svc_status_set_ready(struct svc_status *st, bool ready)
{
	st->ready = ready;
}

/* ---------------------------------------------------------------- JSON */

static void json_str(GString *o, const char *s)
{
	g_string_append_c(o, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			g_string_append_printf(o, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			g_string_append_printf(o, "\\u%04x", c);
		else
			g_string_append_c(o, (char)c);
	}
	g_string_append_c(o, '"');
}

static void json_key(GString *o, int indent, const char *key)
{
	g_string_append_printf(o, "%*s", indent, "");
	json_str(o, key);
	g_string_append(o, ": ");
}

static void json_u64(GString *o, int indent, const char *key, uint64_t v, bool last)
{
	json_key(o, indent, key);
	g_string_append_printf(o, "%" PRIu64 "%s\n", v, last ? "" : ",");
}

static void json_text(GString *o, int indent, const char *key, const char *v, bool last)
{
	json_key(o, indent, key);
	json_str(o, v);
	g_string_append_printf(o, "%s\n", last ? "" : ",");
}

/* "" is shown as null */
static void json_text_or_null(GString *o, int indent, const char *key, const char *v)
{
	if (*v) {
		json_text(o, indent, key, v, false);
	} else {
		json_key(o, indent, key);
		g_string_append(o, "null,\n");
	}
}

static void json_reasons(GString *o, int indent, const char *key,
			 const struct svc_reasons *r, bool last)
{
	json_key(o, indent, key);
	g_string_append_printf(o, "{ \"total\": %" PRIu64, r->total);
	for (unsigned int i = 0; i < r->n; i++) {
		g_string_append(o, ", ");
		json_str(o, r->name[i]);
		g_string_append_printf(o, ": %" PRIu64, r->count[i]);
	}
	g_string_append_printf(o, " }%s\n", last ? "" : ",");
}

/* UTC with milliseconds, e.g. 2026-11-21T09:13:31.123Z */
static void iso_time(int64_t ns, char out[32])
{
	time_t s = (time_t)(ns / 1000000000);
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	g_snprintf(out + strlen(out), 32 - strlen(out), ".%03dZ",
		   (int)(ns / 1000000 % 1000));
}

static void json_camera_role(const struct svc_status *st, GString *o)
{
	uint64_t now = clk_mono_ns();

	json_u64(o, 2, "frames_captured", st->cam.frames_captured, false);
	json_u64(o, 2, "capture_gaps", st->cam.capture_gaps, false);
	json_u64(o, 2, "frames_signed", st->cam.frames_signed, false);
	json_u64(o, 2, "key_holder_refused", st->cam.holder_refused, false);
	json_u64(o, 2, "forced_idrs", st->cam.forced_idrs, false);
	json_u64(o, 2, "pending_connections", st->cam.pending, false);
	json_u64(o, 2, "handshake_waits", st->cam.handshake_waits, false);
	json_key(o, 2, "media_refused");
	g_string_append_printf(o, "{ \"hello_bad_token\": %" PRIu64 ", \"hello_malformed\": %"
			       PRIu64 ", \"hello_forged\": %" PRIu64 ", \"hello_replay\": %" PRIu64
			       ", \"path_challenges\": %" PRIu64 ", \"tcp_refused\": %" PRIu64
			       " },\n", st->cam.media.hello_bad_token, st->cam.media.hello_malformed,
			       st->cam.media.hello_forged, st->cam.media.hello_replay,
			       st->cam.media.path_challenges, st->cam.media.tcp_refused);
	json_reasons(o, 2, "rejected_peers", &st->cam.rejected_peers, false);
	json_u64(o, 2, "peer_files_skipped", st->cam.peer_files_skipped, false);
	json_text_or_null(o, 2, "capture_identity", st->cam.capture_identity);
	json_text_or_null(o, 2, "source", st->cam.source);
	json_key(o, 2, "pair_window");
	{
		const struct svc_pair_window_stats *w = &st->cam.pair_window;
		char exp[32] = "";

		if (w->expires_ns)
			iso_time(w->expires_ns, exp);
		g_string_append_printf(o, "{ \"state\": \"%s\", \"expires\": ",
				       w->state ? w->state : "none");
		if (exp[0])
			json_str(o, exp);
		else
			g_string_append(o, "null");
		g_string_append_printf(o, ", \"opened\": %" PRIu64 ", \"paired\": %" PRIu64
				       ", \"refused\": %" PRIu64 " },\n", w->opened, w->paired,
				       w->refused);
	}
	json_key(o, 2, "motion");
	{
		const struct svc_motion_stats *m = &st->cam.motion;
		char start[32] = "", end[32] = "";

		if (m->start_ns)
			iso_time(m->start_ns, start);
		if (m->end_ns)
			iso_time(m->end_ns, end);
		g_string_append_printf(o, "{ \"state\": \"%s\", \"analysed\": %" PRIu64
				       ", \"unreadable\": %" PRIu64 ", \"frames_with_motion\": %"
				       PRIu64 ", \"events\": %" PRIu64 ", \"changed_permille\": %u"
				       ", \"last_start\": ", !m->enabled ? "off" :
				       m->active ? "motion" : "idle", m->analysed, m->unreadable,
				       m->moving_frames, m->events, m->changed_permille);
		if (start[0])
			json_str(o, start);
		else
			g_string_append(o, "null");
		g_string_append(o, ", \"last_end\": ");
		if (end[0])
			json_str(o, end);
		else
			g_string_append(o, "null");
		g_string_append(o, " },\n");
	}
	json_key(o, 2, "events");
	{
		const struct svc_event_stats *e = &st->cam.events;

		g_string_append_printf(o, "{ \"state\": \"%s\", \"triggers\": %" PRIu64
				       ", \"clips\": %" PRIu64 ", \"written\": %" PRIu64
				       ", \"failed\": %" PRIu64 ", \"no_recipient\": %" PRIu64
				       ", \"missed\": %" PRIu64 ", \"ended\": { \"post_roll\": %"
				       PRIu64 ", \"max_length\": %" PRIu64 ", \"gap\": %" PRIu64
				       " }, \"queue_dropped\": %" PRIu64 ", \"ring\": { \"aus\": %"
				       PRIu64 ", \"bytes\": %" PRIu64 " }, \"spool\": { \"events\": %"
				       PRIu64 ", \"bytes\": %" PRIu64 ", \"max_bytes\": %" PRIu64
				       ", \"dropped\": %" PRIu64 " }, \"last\": ",
				       !e->enabled ? "off" : e->recording ? "recording" : "idle",
				       e->triggers, e->clips, e->written, e->failed, e->no_recipient,
				       e->missed, e->ended_post_roll, e->ended_max_length,
				       e->ended_gap, e->queue_dropped, e->ring_aus, e->ring_bytes,
				       e->spool_events, e->spool_bytes, e->spool_max_bytes,
				       e->spool_dropped);
		if (e->have_last)
			g_string_append_printf(o, "{ \"number\": %" PRIu64 ", \"frames\": %u"
					       ", \"clip_bytes\": %" PRIu64 " }", e->last_number,
					       e->last_frames, e->last_clip_bytes);
		else
			g_string_append(o, "null");
		g_string_append_printf(o, ", \"upload\": \"%s\", \"uploaded\": %" PRIu64
				       ", \"upload_failed\": %" PRIu64 ", \"upload_retries\": %" PRIu64
				       ", \"upload_objects\": %" PRIu64 ", \"upload_bytes\": %" PRIu64
				       ", \"upload_skipped\": %" PRIu64 ", \"upload_queue\": { "
				       "\"events\": %" PRIu64 ", \"bytes\": %" PRIu64 " }, "
				       "\"upload_last_error\": ",
				       e->upload_state ? e->upload_state : "off", e->uploaded,
				       e->upload_failed, e->upload_retries, e->upload_objects,
				       e->upload_bytes, e->upload_skipped, e->upload_queue_events,
				       e->upload_queue_bytes);
		if (e->upload_last_error[0])
			json_str(o, e->upload_last_error);
		else
			g_string_append(o, "null");
		g_string_append_printf(o, ", \"served\": { \"lists\": %" PRIu64 ", \"chunks\": %"
				       PRIu64 ", \"objects\": %" PRIu64 ", \"bytes\": %" PRIu64
				       ", \"gone\": %" PRIu64 ", \"store\": %" PRIu64 " }",
				       e->served_lists, e->served_chunks, e->served_objects,
				       e->served_bytes, e->served_gone, e->served_store);
		g_string_append(o, " },\n");
	}
	json_key(o, 2, "hubs");
	g_string_append(o, "[");
	for (guint i = 0; i < st->sessions->len; i++) {
		const struct svc_hub_session *s = st->sessions->pdata[i];

		g_string_append(o, i ? ", {\n" : "{\n");
		json_text(o, 4, "name", s->name, false);
		json_text(o, 4, "peer", s->peer, false);
		json_text(o, 4, "transport", s->transport, false);
		json_u64(o, 4, "connected_ms", (now - s->started_ns) / 1000000, false);
		json_u64(o, 4, "frames_sent", s->frames_sent, false);
		json_u64(o, 4, "bytes_sent", s->bytes_sent, false);
		json_u64(o, 4, "drops", s->drops, true);
		g_string_append(o, "  }");
	}
	g_string_append(o, "]\n");
}

static void json_hub_role(const struct svc_status *st, GString *o)
{
	int64_t now = clk_real_ns();
	char when[32];

	json_key(o, 2, "display");
	g_string_append(o, "{\n");
	json_text(o, 4, "state", st->display.lost ? "lost" : "on", false);
	json_u64(o, 4, "lost", st->display.lost_count, true);
	g_string_append(o, "  },\n");
	json_key(o, 2, "events");
	g_string_append(o, "{\n");
	json_text(o, 4, "view", st->events.view ? st->events.view : "live", false);
	json_key(o, 4, "store");
	g_string_append(o, st->events.store ? "true,\n" : "false,\n");
	json_u64(o, 4, "fetched", st->events.fetched, false);
	json_u64(o, 4, "fetch_rounds", st->events.fetch_rounds, false);
	json_u64(o, 4, "fetch_errors", st->events.fetch_errors, false);
	json_u64(o, 4, "cache_dropped", st->events.cache_dropped, false);
	json_u64(o, 4, "thumbnails_shown", st->events.thumbnails_shown, false);
	json_u64(o, 4, "gaps", st->events.gaps, false);
	json_u64(o, 4, "clips_played", st->events.clips_played, false);
	json_u64(o, 4, "clip_frames", st->events.clip_frames, false);
	json_u64(o, 4, "clip_frames_shown", st->events.clip_frames_shown, false);
	json_text_or_null(o, 4, "last_error", st->events.last_error);
	json_reasons(o, 4, "rejected", &st->events.rejected, true);
	g_string_append(o, "  },\n");
	json_key(o, 2, "cameras");
	g_string_append(o, "[");
	for (unsigned int i = 0; i < st->n_cameras; i++) {
		const struct svc_camera_stats *c = &st->cameras[i];

		g_string_append(o, i ? ", {\n" : "{\n");
		json_text(o, 4, "name", c->name, false);
		json_text(o, 4, "address", c->addr, false);
		json_text(o, 4, "state", c->state, false);
		json_u64(o, 4, "received", c->received, false);
		json_u64(o, 4, "keyframes", c->keyframes, false);
		json_u64(o, 4, "shown", c->shown, false);
		json_u64(o, 4, "dropped_late", c->dropped_late, false);
		json_u64(o, 4, "expired", c->expired, false);
		json_u64(o, 4, "went_stale", c->went_stale, false);
		json_u64(o, 4, "reconnects", c->reconnects, false);
		json_u64(o, 4, "decoder_crashes", c->decoder_crashes, false);
		json_u64(o, 4, "decoder_restarts", c->decoder_restarts, false);
		json_key(o, 4, "decoder_pid");
		if (c->decoder_pid > 0)
			g_string_append_printf(o, "%d,\n", c->decoder_pid);
		else
			g_string_append(o, "null,\n");
		json_reasons(o, 4, "rejected", &c->rejected, false);
		json_reasons(o, 4, "discarded", &c->discarded, false);
		json_key(o, 4, "camera_events");
		g_string_append_printf(o, "{ \"state\": \"%s\", \"events\": %" PRIu64
				       ", \"objects\": %" PRIu64 ", \"bytes\": %" PRIu64
				       ", \"gaps\": %" PRIu64 ", \"gap_events\": %" PRIu64
				       ", \"gone\": %" PRIu64 ", \"newest\": ",
				       c->camfetch.state ? c->camfetch.state : "off",
				       c->camfetch.events, c->camfetch.objects, c->camfetch.bytes,
				       c->camfetch.gaps, c->camfetch.gap_events, c->camfetch.gone);
		if (c->camfetch.have_newest)
			g_string_append_printf(o, "%" PRIu64 " },\n", c->camfetch.newest);
		else
			g_string_append(o, "null },\n");
		json_reasons(o, 4, "camera_events_refused", &c->camfetch.refused, false);
		json_key(o, 4, "last_verified_capture");
		if (c->last_verified_capture_ns) {
			iso_time(c->last_verified_capture_ns, when);
			json_str(o, when);
			g_string_append(o, ",\n");
			json_key(o, 4, "last_verified_age_ms");
			g_string_append_printf(o, "%" PRId64 ",\n",
					       (now - c->last_verified_capture_ns) / 1000000);
		} else {
			g_string_append(o, "null,\n");
		}
		json_text_or_null(o, 4, "source", c->source);
		json_key(o, 4, "glass_latency_ms");
		if (c->glass_ns)
			g_string_append_printf(o, "%.1f\n", (double)c->glass_ns / 1e6);
		else
			g_string_append(o, "null\n");
		g_string_append(o, "  }");
	}
	g_string_append(o, "]\n");
}

char *svc_status_json(const struct svc_status *st)
{
	GString *o = g_string_new("{\n");

	json_u64(o, 2, "version", 1, false);
	json_text(o, 2, "role", svc_role_name(st->role), false);
	json_text(o, 2, "name", st->name, false);
	json_text(o, 2, "keys", st->keys, false);
	json_u64(o, 2, "pid", (uint64_t)getpid(), false);
	json_u64(o, 2, "uptime_ms", (clk_mono_ns() - st->started_ns) / 1000000, false);
	json_key(o, 2, "ready");
	g_string_append_printf(o, "%s,\n", st->ready ? "true" : "false");
	if (st->role == VC_ROLE_CAMERA)
		json_camera_role(st, o);
	else
		json_hub_role(st, o);
	g_string_append(o, "}\n");
	return g_string_free(o, FALSE);
}

/* ---------------------------------------------------------------- journal */

/* "other-session" -> VERACAM_REJECTED_OTHER_SESSION */
static void reason_fields(struct svc_log_entry *e, const char *prefix,
			  const struct svc_reasons *r)
{
	svc_log_field(e, prefix, "%" PRIu64, r->total);
	for (unsigned int i = 0; i < r->n; i++) {
		char *up = g_ascii_strup(r->name[i], -1);
		char *name;

		g_strcanon(up, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", '_');
		name = g_strdup_printf("%s_%s", prefix, up);
		svc_log_field(e, name, "%" PRIu64, r->count[i]);
		g_free(name);
		g_free(up);
	}
}

void svc_status_log(const struct svc_status *st)
{
	struct svc_log_entry e;

	if (st->role == VC_ROLE_CAMERA) {
		svc_log_begin(&e, LOG_INFO);
		svc_log_field(&e, "VERACAM_ROLE", "camera");
		svc_log_field(&e, "VERACAM_FRAMES_CAPTURED", "%" PRIu64, st->cam.frames_captured);
		svc_log_field(&e, "VERACAM_CAPTURE_GAPS", "%" PRIu64, st->cam.capture_gaps);
		svc_log_field(&e, "VERACAM_FRAMES_SIGNED", "%" PRIu64, st->cam.frames_signed);
		svc_log_field(&e, "VERACAM_KEY_HOLDER_REFUSED", "%" PRIu64, st->cam.holder_refused);
		svc_log_field(&e, "VERACAM_FORCED_IDRS", "%" PRIu64, st->cam.forced_idrs);
		svc_log_field(&e, "VERACAM_HELLOS_FORGED", "%" PRIu64, st->cam.media.hello_forged);
		svc_log_field(&e, "VERACAM_HELLOS_REPLAYED", "%" PRIu64, st->cam.media.hello_replay);
		svc_log_field(&e, "VERACAM_TCP_MEDIA_REFUSED", "%" PRIu64, st->cam.media.tcp_refused);
		reason_fields(&e, "VERACAM_REJECTED_PEERS", &st->cam.rejected_peers);
		if (*st->cam.source) {
			svc_log_field(&e, "VERACAM_CAPTURE_IDENTITY", "%s", st->cam.capture_identity);
			svc_log_field(&e, "VERACAM_SOURCE_ID", "%s", st->cam.source);
		}
		svc_log_end(&e, "camera %s: %" PRIu64 " frames captured, %" PRIu64
			    " gaps, %" PRIu64 " peers rejected, %u hubs", st->name,
			    st->cam.frames_captured, st->cam.capture_gaps,
			    st->cam.rejected_peers.total, st->sessions->len);
		for (guint i = 0; i < st->sessions->len; i++) {
			const struct svc_hub_session *s = st->sessions->pdata[i];

			svc_log_begin(&e, LOG_INFO);
			svc_log_field(&e, "VERACAM_ROLE", "camera");
			svc_log_field(&e, "VERACAM_HUB", "%s", s->name);
			svc_log_field(&e, "VERACAM_PEER", "%s", s->peer);
			svc_log_field(&e, "VERACAM_TRANSPORT", "%s", s->transport);
			svc_log_field(&e, "VERACAM_FRAMES_SENT", "%" PRIu64, s->frames_sent);
			svc_log_field(&e, "VERACAM_BYTES_SENT", "%" PRIu64, s->bytes_sent);
			svc_log_field(&e, "VERACAM_DROPS", "%" PRIu64, s->drops);
			svc_log_end(&e, "hub %s (%s): %" PRIu64 " frames, %" PRIu64
				    " bytes, %" PRIu64 " dropped", s->name, s->peer,
				    s->frames_sent, s->bytes_sent, s->drops);
		}
		return;
	}
	for (unsigned int i = 0; i < st->n_cameras; i++) {
		const struct svc_camera_stats *c = &st->cameras[i];

		svc_log_begin(&e, LOG_INFO);
		svc_log_field(&e, "VERACAM_ROLE", "hub");
		svc_log_field(&e, "VERACAM_CAMERA", "%s", c->name);
		svc_log_field(&e, "VERACAM_STATE", "%s", c->state);
		svc_log_field(&e, "VERACAM_RECEIVED", "%" PRIu64, c->received);
		svc_log_field(&e, "VERACAM_KEYFRAMES", "%" PRIu64, c->keyframes);
		svc_log_field(&e, "VERACAM_SHOWN", "%" PRIu64, c->shown);
		svc_log_field(&e, "VERACAM_DROPPED_LATE", "%" PRIu64, c->dropped_late);
		svc_log_field(&e, "VERACAM_EXPIRED", "%" PRIu64, c->expired);
		svc_log_field(&e, "VERACAM_DECODER_CRASHES", "%" PRIu64, c->decoder_crashes);
		svc_log_field(&e, "VERACAM_DECODER_RESTARTS", "%" PRIu64, c->decoder_restarts);
		if (c->glass_ns)
			svc_log_field(&e, "VERACAM_GLASS_LATENCY_US", "%" PRIu64,
				      c->glass_ns / 1000);
		if (*c->source)
			svc_log_field(&e, "VERACAM_SOURCE_ID", "%s", c->source);
		reason_fields(&e, "VERACAM_REJECTED", &c->rejected);
		reason_fields(&e, "VERACAM_DISCARDED", &c->discarded);
		svc_log_end(&e, "camera %s: %s, %" PRIu64 " shown, %" PRIu64
			    " rejected, %" PRIu64 " dropped late, %" PRIu64 " expired", c->name,
			    c->state, c->shown, c->rejected.total, c->dropped_late, c->expired);
	}
}

/* ---------------------------------------------------------------- socket */

static int unix_addr(const char *path, struct sockaddr_un *sa, GError **error)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path)) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM, "status socket %s: path too long",
			    path);
		return -1;
	}
	memcpy(sa->sun_path, path, strlen(path));
	return 0;
}

/* A socket file is stale when nobody accepts on it. */
static int clear_stale(const char *path, const struct sockaddr_un *sa, GError **error)
{
	struct stat sb;
	int fd, rc;

	if (lstat(path, &sb))
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(sb.st_mode)) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM,
			    "status socket %s: exists and is not a socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_IN_USE,
			    "status socket %s: another veracamd is serving it", path);
		return -1;
	}
	return unlink(path);
}

int svc_status_listen(struct svc_status *st, const char *path, GError **error)
{
	GError *err = NULL;
	struct sockaddr_un sa;
	mode_t old;
	int fd, rc;

	if (unix_addr(path, &sa, error))
		return -1;
	if (clear_stale(path, &sa, &err)) {
		if (!err)
			err = g_error_new(SVC_ERROR, SVC_ERROR_SYSTEM, "status socket %s: %s",
					  path, g_strerror(errno));
		g_propagate_error(error, err);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	/* Born 0600 whatever the umask, then opened to the group. */
	old = umask(0177);
	rc = bind(fd, (const struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc)
		goto fail;
	st->path = g_strdup(path);
	if (chmod(path, 0660) || listen(fd, 16))
		goto fail;
	st->fd = fd;
	return 0;
fail:
	g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM, "status socket %s: %s", path,
		    g_strerror(errno));
	if (fd >= 0)
		close(fd);
	if (st->path)
		unlink(st->path);
	g_clear_pointer(&st->path, g_free);
	return -1;
}

int svc_status_fd(const struct svc_status *st)
{
	return st->fd;
}

static void send_all(int fd, const char *buf, size_t len)
{
	struct timeval tv = { 0, SEND_TIMEOUT_MS * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;		/* slow or gone client: it gets a truncated document */
		buf += n;
		len -= (size_t)n;
	}
}

void svc_status_on_command(struct svc_status *st, svc_status_command_fn fn, void *data)
{
	st->command = fn;
	st->command_data = data;
}

/* The client's request line, "" when it sent none in time; NULL for garbage. */
static char *read_request(int c)
{
	struct pollfd p = { .fd = c, .events = POLLIN };
	char buf[REQUEST_MAX + 1];
	ssize_t n;
	char *nl;

	if (poll(&p, 1, REQUEST_WAIT_MS) <= 0)
		return g_strdup("");
	n = recv(c, buf, REQUEST_MAX, MSG_DONTWAIT);
	if (n <= 0)
		return g_strdup("");
	buf[n] = '\0';
	nl = strpbrk(buf, "\r\n");
	if (nl)
		*nl = '\0';
	for (char *q = buf; *q; q++)
		if ((unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
			return NULL;
	return g_strdup(buf);
}

void svc_status_serve(struct svc_status *st)
{
	for (;;) {
		int c = accept4(st->fd, NULL, NULL, SOCK_CLOEXEC);
		g_autofree char *req = NULL;
		char *doc;

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;		/* EAGAIN: nothing more pending */
		}
		req = read_request(c);
		if (req && (!req[0] || !strcmp(req, "status")))
			doc = svc_status_json(st);
		else if (req && st->command)
			doc = st->command(st->command_data, req);
		else
			doc = g_strdup("error unknown request (this daemon serves: status)\n");
		send_all(c, doc, strlen(doc));
		g_free(doc);
		close(c);
	}
}

char *svc_status_request(const char *path, const char *request, int timeout_s,
			 GError **error)
{
	struct timeval tv = { timeout_s, 0 };
	g_autofree char *line = g_strconcat(request, "\n", NULL);
	struct sockaddr_un sa;
	GError *err = NULL;
	GString *doc;
	char buf[4096];
	int fd;

	if (unix_addr(path, &sa, error))
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_SYSTEM, "%s: %s", path, g_strerror(errno));
		return NULL;
	}
	if (connect(fd, (const struct sockaddr *)&sa, sizeof(sa))) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_NO_DAEMON, "%s: %s (is veracamd running?)",
			    path, g_strerror(errno));
		close(fd);
		return NULL;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* an older daemon reads nothing and sends its snapshot all the same */
	send(fd, line, strlen(line), MSG_NOSIGNAL);
	doc = g_string_new(NULL);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = g_error_new(SVC_ERROR, SVC_ERROR_ANSWER, "%s: %s", path,
					  g_strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (doc->len + (size_t)n > SNAPSHOT_MAX) {
			err = g_error_new(SVC_ERROR, SVC_ERROR_ANSWER,
					  "%s: snapshot larger than %u bytes", path, SNAPSHOT_MAX);
			break;
		}
		g_string_append_len(doc, buf, n);
	}
	close(fd);
	if (!err && memchr(doc->str, 0, doc->len))
		err = g_error_new(SVC_ERROR, SVC_ERROR_ANSWER, "%s: a NUL byte in the answer",
				  path);
	if (err) {
		g_propagate_error(error, err);
		g_string_free(doc, TRUE);
		return NULL;
	}
	return g_string_free(doc, FALSE);
}

char *svc_status_fetch(const char *path, GError **error)
{
	char *doc = svc_status_request(path, "status", RECV_TIMEOUT_MS / 1000, error);
	size_t len;

	if (!doc)
		return NULL;
	len = strlen(doc);
	if (len < 3 || doc[0] != '{' || !g_str_has_suffix(doc, "}\n")) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_ANSWER, "%s: incomplete status snapshot",
			    path);
		g_free(doc);
		return NULL;
	}
	return doc;
}

int svc_status_print(const char *path, FILE *out, GError **error)
{
	char *doc = svc_status_fetch(path, error);

	if (!doc)
		return -1;
	fputs(doc, out);
	g_free(doc);
	return 0;
}
