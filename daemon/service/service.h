/* SPDX-License-Identifier: GPL-2.0 */
/*
 * veracamd service frame - what both roles run inside to be a well-behaved
 * systemd service:
 *
 *	addr.c    strict ADDR:PORT and NAME@HOST:PORT parsing, resolving;
 *	          the SVC_ERROR domain
 *	config.c  GLib key-file config + command-line flags (flags win),
 *	          one-line errors naming the key or flag, exit status 2
 *	loop.c    epoll main loop: fds, timerfd timers, signalfd
 *	          (SIGTERM/SIGINT stop, SIGHUP reload hook)
 *	handoff.c the one way work crosses threads: a job on a named
 *	          thread that reports to the loop, a newest-wins mailbox
 *	notify.c  sd_notify READY/RELOADING/STOPPING/STATUS, and WATCHDOG=1
 *	          only while the role reports progress
 *	log.c     journal with structured fields, or stderr
 *	status.c  counters, the local status socket and its client
 *
 *	service.c the above put together for veracamd's main():
 *
 *	struct svc_service s;
 *	int rc = svc_service_init(&s, argc, argv, &checks);
 *	if (rc >= 0)
 *		return rc;			(help, config error: exit 2)
 *	... role setup: fds and timers on s.loop, counters in s.status,
 *	    svc_loop_on_reload(s.loop, reload_pairings, role) ...
 *	per frame: svc_notify_progress(&s.notify, clk_mono_ns() / 1000)
 *	once working: svc_notify_ready(&s.notify, "..."), svc_status_set_ready()
 *	rc = svc_service_run(&s);		(SIGTERM -> STOPPING=1)
 *	... role teardown (stream end to hubs, CRTC off) ...
 *	svc_service_finish(&s);
 *	return rc;
 *
 * Nothing here reads a file in the keys directory: only its path passes
 * through, so no key material can reach a log line or a status snapshot.
 * None of it is thread-safe (call from the role's loop thread) except
 * svc_mailbox_post(), which is for the role's other threads.
 *
 * Errors are GErrors in the SVC_ERROR domain (last parameter, GError
 * **error) whose message is one line naming what was wrong; the code says
 * which cause it was where a caller acts on it. The configuration is the
 * one exception: svc_config_parse() hands back help text or its one error
 * line as a string, for svc_config_report() to print, and the checks it
 * calls (struct svc_config_checks) return their reason as a string.
 */
#ifndef VERACAM_SERVICE_H
#define VERACAM_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <syslog.h>

#include <glib.h>

#include "clock.h"

#include <veracam/encoder.h>	/* enum vc_encoder */
#include <veracam/pairing.h>	/* VC_NAME_MAX, enum vc_role */
#include <veracam/record.h>	/* VC_SOURCE_MAX_LEN */

/* Exit status for any configuration or usage error. */
#define SVC_EXIT_USAGE		2

#define SVC_ERROR (svc_error_quark())
GQuark svc_error_quark(void);

enum svc_error_code {
	SVC_ERROR_ADDRESS,	/* not a HOST:PORT this parser takes */
	SVC_ERROR_RESOLVE,	/* the host has no address (getaddrinfo) */
	SVC_ERROR_SYSTEM,	/* a system call failed; the message has its strerror */
	SVC_ERROR_IN_USE,	/* the status socket: another veracamd serves it */
	SVC_ERROR_NO_DAEMON,	/* the status client: nothing accepts at that path */
	SVC_ERROR_ANSWER,	/* the status client: the answer broke off or is malformed */
};

/* ------------------------------------------------------------------ */
/* Addresses (addr.c)                                                 */
/* ------------------------------------------------------------------ */

enum svc_addr_kind {
	SVC_ADDR_IPV4,		/* dotted quad */
	SVC_ADDR_IPV6,		/* written in brackets: [::1]:7000 */
	SVC_ADDR_NAME,		/* RFC 1123 host name, resolved when used */
};

#define SVC_HOST_MAX		253
/* "[" + IPv6 text + "]:" + port, or a name + ":" + port, + NUL */
#define SVC_ADDR_STR_MAX	(SVC_HOST_MAX + 8)

struct svc_addr {
	enum svc_addr_kind kind;
	char host[SVC_HOST_MAX + 1];	/* without brackets */
	uint16_t port;			/* 1..65535 */
};

/*
 * Parse "HOST:PORT": IPv4 "192.0.2.1:7000", IPv6 "[2001:db8::1]:7000",
 * host name "cam.example:7000". Nothing else (no whitespace, no missing or
 * zero port, no leading zeros in the port, no bare IPv6). On failure
 * returns false with SVC_ERROR_ADDRESS saying what is wrong.
 */
bool svc_addr_parse(const char *s, struct svc_addr *out, GError **error);
/* The canonical text form; out holds SVC_ADDR_STR_MAX bytes. */
void svc_addr_format(const struct svc_addr *a, char out[SVC_ADDR_STR_MAX]);
/*
 * Resolve @a for a stream or datagram socket (getaddrinfo: a host name is
 * resolved now; the first result wins). 0, or -1 with SVC_ERROR_RESOLVE.
 */
int svc_addr_resolve(const struct svc_addr *a, int socktype, struct sockaddr_storage *ss,
		     socklen_t *len, GError **error);

/* ------------------------------------------------------------------ */
/* Configuration (config.c)                                           */
/* ------------------------------------------------------------------ */

enum svc_transport { SVC_TRANSPORT_AUTO, SVC_TRANSPORT_UDP, SVC_TRANSPORT_TCP };
enum svc_layout { SVC_LAYOUT_AUTO, SVC_LAYOUT_SINGLE, SVC_LAYOUT_GRID };

struct svc_camera_config {
	char *source;			/* checked by svc_config_checks.source */
	char *name;			/* shown and burned in; checks.name */
	unsigned int width, height;	/* even, 16..4096 */
	unsigned int fps;		/* 1..120 */
	unsigned int bitrate;		/* bit/s */
	uint64_t idr_interval_ns;
	enum vc_encoder encoder;	/* handed to the camera library as it is */
	struct svc_addr listen;
	enum svc_transport transport;	/* what hubs are offered */
	uint64_t freshness_ns;		/* never send a frame captured longer ago */
	unsigned int max_hubs;		/* concurrent hub sessions */
	bool motion;			/* the motion detector runs */
	unsigned int motion_grid_w, motion_grid_h;	/* even, 4..256 */
	unsigned int motion_threshold;	/* luma levels, 1..255 */
	unsigned int motion_area;	/* percent of the cells, 1..100 */
	uint64_t motion_hold_ns;
	bool events;			/* the event recorder runs */
	uint64_t event_pre_roll_ns, event_post_roll_ns, event_max_len_ns;
	char *event_spool;		/* NULL: KEYS/events */
	unsigned int event_spool_mib;	/* the spool's bound */
	char *event_store;		/* NULL: no uploads (daemon/camera/upload.c) */
	uint64_t event_store_timeout_ns, event_store_backoff_ns;
};

struct svc_camera_ref {
	char *name;			/* the name the camera was trusted under */
	struct svc_addr addr;		/* the camera or a relay */
	char *source;			/* ",source=": the only capture device's stable
					 * identity accepted from it; NULL = any */
};

struct svc_hub_config {
	struct svc_camera_ref cameras[VC_HUB_MAX_CAMERAS];
	unsigned int n_cameras;		/* 1..VC_HUB_MAX_CAMERAS */
	char *display;			/* "drm", "drm:DEVICE" or "y4m:PATH" */
	unsigned int out_width, out_height;	/* y4m frame size */
	bool kms_legacy;		/* SetCrtc/PageFlip even if atomic works */
	enum svc_layout layout;		/* resolved: SINGLE or GRID */
	enum svc_transport transport;	/* what the hub asks for */
	uint64_t freshness_ns;		/* verifier's freshness window */
	uint64_t unavailable_ns;	/* unavailable screen after this */
	uint64_t backoff_min_ns, backoff_max_ns;
	unsigned int backoff_jitter;	/* percent, 0..100 */
	char *event_store;		/* NULL: no fetcher (hub/evfetch.c) */
};

struct svc_config {
	enum vc_role role;
	char *keys_dir;
	char *config_file;		/* NULL when none was given */
	char *status_socket;		/* NULL: no status socket */
	bool status_dir_make;		/* the default under $XDG_RUNTIME_DIR: made at start */
	int log_level;			/* LOG_ERR .. LOG_DEBUG */
	struct svc_camera_config camera;	/* role == VC_ROLE_CAMERA */
	struct svc_hub_config hub;		/* role == VC_ROLE_HUB */
};

/*
 * Values whose meaning another part of veracamd owns are checked through
 * these hooks (e.g. the camera's source parser, the security core's name
 * rule), so that a bad value is still reported by the config as one line
 * naming the flag or key, with exit status 2. Each returns NULL when the
 * value is good, else a g_malloc'd one-line reason. A NULL hook accepts
 * any non-empty printable value.
 */
struct svc_config_checks {
	char *(*source)(const char *value);	/* camera source */
	char *(*name)(const char *value);	/* camera name, hub camera NAMEs */
	char *(*display)(const char *value);	/* hub display */
};

enum svc_config_result {
	SVC_CONFIG_RUN = 0,	/* *cfg is complete and valid */
	SVC_CONFIG_HELP,	/* *err holds the help text: print it, exit 0 */
	SVC_CONFIG_ERROR,	/* *err holds one line: print it, exit 2 */
};

/*
 * argv[1] is the role ("camera" or "hub"); the rest are flags, each key of
 * the config file also being a flag of the same name (--fps for fps=).
 * Precedence: flag, then the role's group of --config FILE, then the
 * default. *err (g_free) is set for HELP and ERROR; the error line names
 * the flag ("--fps: ...") or the file and key ("FILE: [camera] fps: ...")
 * and has no trailing newline. On SVC_CONFIG_RUN, free cfg with
 * svc_config_clear().
 */
enum svc_config_result svc_config_parse(int argc, char **argv,
					const struct svc_config_checks *checks,
					struct svc_config *cfg, char **err);
void svc_config_clear(struct svc_config *cfg);

/*
 * What veracamd does with a result other than SVC_CONFIG_RUN: help on
 * @out, or "veracamd: <line>" on @errf; frees @err and returns the exit
 * status (0 for help, SVC_EXIT_USAGE for an error).
 */
int svc_config_report(enum svc_config_result r, char *err, FILE *out, FILE *errf);

/* Log the effective configuration (one entry, structured fields). */
void svc_config_log(const struct svc_config *cfg);

const char *svc_role_name(enum vc_role role);
/*
 * Where a daemon puts its status socket when status-socket is not set:
 * $RUNTIME_DIRECTORY (systemd), else /run/veracam/ROLE if writable, else
 * $XDG_RUNTIME_DIR/veracam/ROLE (*make_dir: its directory is to be made
 * at start-up); NULL if none applies.
 */
char *svc_status_default_path(enum vc_role role, bool *make_dir);
/*
 * A request line other than "status" on the status socket: the role's
 * answer (g_malloc'd, one or more lines), sent back to the client.
 */
typedef char *(*svc_status_command_fn)(void *data, const char *request);
/* The role's status socket that exists, searched in the same places;
 * NULL (and *tried lists them) if none does. */
char *svc_status_find(enum vc_role role, char **tried);

/* ------------------------------------------------------------------ */
/* Main loop (loop.c)                                                 */
/* ------------------------------------------------------------------ */

struct svc_loop;
struct svc_timer;

typedef void (*svc_fd_fn)(void *data, uint32_t events);
typedef void (*svc_timer_fn)(void *data);
typedef void (*svc_reload_fn)(void *data);

/*
 * Blocks SIGTERM, SIGINT and SIGHUP in the calling thread and reads them
 * from a signalfd: create the loop before any other thread (GStreamer's)
 * so that those threads inherit the mask. NULL and SVC_ERROR_SYSTEM on
 * failure.
 */
struct svc_loop *svc_loop_new(GError **error);
/* Free the loop (after its timers) and restore the signal mask. */
void svc_loop_free(struct svc_loop *l);

/* Watch @fd for @events (EPOLLIN, ...); 0 or -errno. One watch per fd. */
int svc_loop_add_fd(struct svc_loop *l, int fd, uint32_t events,
		    svc_fd_fn fn, void *data);
/* Change the events watched on @fd; 0 or -errno. */
int svc_loop_mod_fd(struct svc_loop *l, int fd, uint32_t events);
/* Safe from inside any callback, including @fd's own. */
void svc_loop_remove_fd(struct svc_loop *l, int fd);

/* A timer on CLOCK_MONOTONIC, disarmed until svc_timer_arm(). */
struct svc_timer *svc_timer_new(struct svc_loop *l, svc_timer_fn fn,
				void *data);
/* Fire after @first_ns, then every @interval_ns (0: once); 0, 0 disarms. */
void svc_timer_arm(struct svc_timer *t, uint64_t first_ns,
		   uint64_t interval_ns);
/*
 * Fire once at the absolute CLOCK_MONOTONIC time @at_ns (clk_mono_ns()'s
 * clock; TFD_TIMER_ABSTIME, so no time passes between reading the clock and
 * arming). A time already past fires at once; INT64_MAX or more (the
 * transport's "no deadline") disarms.
 */
void svc_timer_arm_at(struct svc_timer *t, uint64_t at_ns);
void svc_timer_free(struct svc_timer *t);

/* ------------------------------------------------------------------ */
/* Thread hand-off (handoff.c)                                        */
/* ------------------------------------------------------------------ */

/*
 * A job: @run(@data) on a thread of its own named @name (at most 15
 * characters show in top, gdb and sanitizer reports), then @done(@data)
 * on the loop thread once @run has returned and the thread is joined, so
 * @done sees everything @run wrote. The job frees itself before @done:
 * @done is where the caller forgets its pointer. NULL + errno when no
 * thread could be started (nothing runs). The thread starts with the
 * loop's signals blocked.
 */
typedef void (*svc_job_fn)(void *data);
struct svc_job *svc_job_start(struct svc_loop *l, const char *name,
			      svc_job_fn run, svc_job_fn done, void *data);
/*
 * For teardown: wait for @run to return (the caller makes it return: a
 * stop flag, a shut-down socket) and free the job; @done is not called.
 */
void svc_job_join(struct svc_job *j);

/*
 * A newest-wins mailbox of one item of @size bytes: a producer thread
 * posts, the loop thread takes. A post replaces an item not taken yet
 * (@clear releases what it owned; counted in svc_mailbox_replaced()) and
 * wakes the loop, which calls @fn(@data); @fn takes the item (or finds it
 * already taken: false). svc_mailbox_free() clears an item left in it.
 */
typedef void (*svc_mailbox_fn)(void *data);
struct svc_mailbox *svc_mailbox_new(struct svc_loop *l, size_t size,
				    void (*clear)(void *item),
				    svc_mailbox_fn fn, void *data);
/* Any thread: @item (@size bytes, and what it owns) moves into the box. */
void svc_mailbox_post(struct svc_mailbox *m, const void *item);
/* The loop thread: the newest item moves out to @item; false if none. */
bool svc_mailbox_take(struct svc_mailbox *m, void *item);
uint64_t svc_mailbox_replaced(struct svc_mailbox *m);
void svc_mailbox_free(struct svc_mailbox *m);

/* Called on SIGHUP (reload pairings). */
void svc_loop_on_reload(struct svc_loop *l, svc_reload_fn fn, void *data);

/*
 * Dispatch until SIGTERM or SIGINT (returns 0) or svc_loop_quit() (returns
 * its status). The signal that stopped the loop is svc_loop_signal().
 */
int svc_loop_run(struct svc_loop *l);
void svc_loop_quit(struct svc_loop *l, int status);
int svc_loop_signal(const struct svc_loop *l);

/* The clocks: clock.h (clk_mono_ns, clk_real_ns, clk_boot_ns: the hub's
 * freshness clock, which counts a suspend). */

/* ------------------------------------------------------------------ */
/* sd_notify (notify.c)                                               */
/* ------------------------------------------------------------------ */

struct svc_notify {
	uint64_t watchdog_us;	/* 0: no watchdog requested */
	uint64_t last_ping_us;	/* time of the last WATCHDOG=1 */
	bool pinged;		/* any WATCHDOG=1 sent yet */
	bool ready;
	uint64_t pings;		/* WATCHDOG=1 messages sent */
};

/*
 * Reads WATCHDOG_USEC/WATCHDOG_PID (sd_watchdog_enabled). Without
 * NOTIFY_SOCKET every call below is a cheap no-op.
 */
void svc_notify_init(struct svc_notify *n);

/* READY=1 with a STATUS= line (after a reload too). */
void svc_notify_ready(struct svc_notify *n, const char *status);
/* RELOADING=1 (SIGHUP received; follow with svc_notify_ready). */
void svc_notify_reloading(struct svc_notify *n);
/* STOPPING=1 */
void svc_notify_stopping(struct svc_notify *n);
/* STATUS=... (one line; newlines become spaces) */
void svc_notify_status(struct svc_notify *n, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);

/*
 * The role made progress (a frame signed and sent; a frame or an
 * unavailable screen committed) at CLOCK_MONOTONIC @now_us. WATCHDOG=1 is
 * sent from here only, at most every WATCHDOG_USEC/2: when progress stops,
 * pings stop and systemd's watchdog fires between WATCHDOG_USEC/2 and
 * WATCHDOG_USEC later. Returns true if a ping was sent.
 */
bool svc_notify_progress(struct svc_notify *n, uint64_t now_us);

/* ------------------------------------------------------------------ */
/* Logging (log.c)                                                    */
/* ------------------------------------------------------------------ */

#define SVC_LOG_FIELDS_MAX	32

/*
 * One log entry with structured fields: begin, add fields, end. Field
 * names are journal field names: [A-Z0-9_], not starting with '_' or a
 * digit, at most 64 characters; invalid names are dropped (and counted in
 * SVC_LOG_BAD_FIELDS). The stderr form is "IDENT: message [NAME=value ...]"
 * with control characters escaped, so a value cannot forge a line. Any
 * message or value containing a PEM block is replaced by "[redacted]".
 */
struct svc_log_entry {
	int priority;			/* LOG_ERR .. LOG_DEBUG */
	unsigned int n;
	unsigned int bad;		/* invalid field names dropped */
	char *field[SVC_LOG_FIELDS_MAX];	/* "NAME=value", g_malloc'd */
};

enum svc_log_target {
	SVC_LOG_STDERR,		/* text lines on a stream (stderr by default) */
	SVC_LOG_JOURNAL,	/* sd_journal_sendv */
};

/*
 * Identifier "veracamd-camera"/"veracamd-hub"; journal when stderr is
 * connected to the journal (JOURNAL_STREAM matches), else stderr. GLib's
 * log (g_message(), g_warning(), ...) is routed here from then on, at
 * svc_log_glib_priority() and with its domain as GLIB_DOMAIN.
 */
void svc_log_init(enum vc_role role, int level);
/* error/critical -> LOG_ERR, warning, message -> LOG_NOTICE, info, debug. */
int svc_log_glib_priority(GLogLevelFlags level);
enum svc_log_target svc_log_target(void);
/* Write text lines to @f instead (tests, foreground use); NULL = stderr. */
void svc_log_set_stream(FILE *f);

void svc_log_begin(struct svc_log_entry *e, int priority);
void svc_log_field(struct svc_log_entry *e, const char *name,
		   const char *fmt, ...) G_GNUC_PRINTF(3, 4);
/* Emit (if priority passes the level) and free the fields. */
void svc_log_end(struct svc_log_entry *e, const char *fmt, ...)
	G_GNUC_PRINTF(2, 3);
void svc_log_discard(struct svc_log_entry *e);
/* Shorthand for an entry without fields. */
void svc_log(int priority, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/*
 * The exact records: the journal's fields (MESSAGE=, PRIORITY=,
 * SYSLOG_IDENTIFIER=, then the entry's fields) as g_malloc'd strings in a
 * NULL-terminated g_strfreev() array, and the stderr line.
 */
char **svc_log_journal_fields(const struct svc_log_entry *e, const char *msg);
char *svc_log_text_line(const struct svc_log_entry *e, const char *msg);

/* ------------------------------------------------------------------ */
/* Status (status.c)                                                  */
/* ------------------------------------------------------------------ */

#define SVC_REASONS_MAX		24

/* Counters by reason name (the security core's vc_reject_name(), ...). */
struct svc_reasons {
	uint64_t total;
	unsigned int n;
	char *name[SVC_REASONS_MAX];	/* the last slot collects "other" */
	uint64_t count[SVC_REASONS_MAX];
};

void svc_reasons_add(struct svc_reasons *r, const char *reason);
void svc_reasons_add_n(struct svc_reasons *r, const char *reason, uint64_t n);

/* Camera role: one per hub session. The role increments the counters. */
struct svc_hub_session {
	char name[VC_NAME_MAX + 1];	/* the hub's trusted name */
	char peer[SVC_ADDR_STR_MAX];	/* address as seen (maybe a relay) */
	char transport[8];		/* "udp" or "tcp" */
	uint64_t started_ns;		/* CLOCK_MONOTONIC */
	uint64_t frames_sent;
	uint64_t bytes_sent;
	uint64_t drops;			/* frames not sent to this hub */
};

/* Hub role: one per configured camera. */
struct svc_camera_stats {
	char name[VC_NAME_MAX + 1];
	char addr[SVC_ADDR_STR_MAX];
	const char *state;		/* static string: "connected", "not connected", ... */
	uint64_t received;		/* access units received */
	uint64_t keyframes;		/* verified IDRs */
	uint64_t shown;			/* frames committed to the display */
	uint64_t dropped_late;		/* decoded but superseded before display */
	uint64_t expired;		/* decoded after its freshness ran out: not shown */
	uint64_t went_stale;		/* pictures taken off the screen for their age:
					 * the freshness window or the unavailable
					 * timeout ran out before a newer one came */
	uint64_t reconnects;
	uint64_t decoder_crashes;	/* decoder children that died or lied */
	uint64_t decoder_restarts;	/* fresh decoder children: crashes, resets,
					 * new sessions */
	int decoder_pid;		/* its running decoder child; 0 = none */
	struct svc_reasons rejected;	/* by reason */
	struct svc_reasons discarded;	/* by the transport, before the core: packets
					 * by vcn_pkt_name(), "incomplete" units */
	int64_t last_verified_capture_ns;	/* CLOCK_REALTIME; 0 = never */
	char source[65];		/* signed source id of that frame, hex; "" = none */
	uint64_t glass_ns;		/* capture -> on glass, smoothed; 0 = none */
	/* recorded events fetched from the camera over the session (hub/camfetch.c) */
	struct svc_camfetch_stats {
		const char *state;	/* NULL/"off", "idle", "listing", "fetching",
					 * "store" (the camera has a store), "old-camera" */
		uint64_t events;	/* events verified and written into the cache */
		uint64_t objects, bytes;	/* objects written, chunk bytes received */
		uint64_t gaps, gap_events;	/* chain gaps (events the spool lost) */
		uint64_t gone;		/* objects gone from the spool before fetched */
		bool have_newest;
		uint64_t newest;	/* the newest event in the cache */
		struct svc_reasons refused;	/* events refused, by vc_event_reject_name() */
	} camfetch;
};

struct svc_status;

/* Counters for the role and name in @cfg (camera name, or "hub"). */
struct svc_status *svc_status_new(const struct svc_config *cfg);
void svc_status_free(struct svc_status *st);

/* Camera role: role-wide counters. */
struct svc_camera_role_stats {
	uint64_t frames_captured;
	uint64_t capture_gaps;		/* frames lost before capture (sequence gaps) */
	uint64_t frames_signed;
	uint64_t holder_refused;	/* signing requests the key holder refused */
	uint64_t forced_idrs;		/* IDRs asked of the encoder for hubs (rate-limited) */
	uint64_t pending;		/* connections not yet authenticated, now */
	uint64_t handshake_waits;	/* of them, made to wait for the handshake budget, in all */
	/* media packets refused by the transport (docs/TRANSPORT.md) */
	struct svc_media_refusals {
		uint64_t hello_bad_token;	/* a hello with no session's token */
		uint64_t hello_malformed;
		uint64_t hello_forged;		/* a session's token, a wrong MAC */
		uint64_t hello_replay;		/* MAC right, counter not new: replayed */
		uint64_t path_challenges;	/* hellos from a new address: challenged */
		uint64_t tcp_refused;		/* TCP media without a valid hello */
	} media;
	struct svc_reasons rejected_peers;	/* refused before or at the handshake */
	uint64_t peer_files_skipped;	/* files in peers/ not usable, at the last read */
	char capture_identity[256];	/* stable identity signed for; "" = none yet */
	char source[65];		/* its source id, hex (vc_source_id()) */
	/* the pairing window a "pair-window" request opened (a board's button) */
	struct svc_pair_window_stats {
		const char *state;	/* NULL/"none", "open", "consumed", "expired",
					 * "refused" (a wrong code spent it), "failed" */
		int64_t expires_ns;	/* CLOCK_REALTIME; 0 = none */
		uint64_t opened;	/* windows opened */
		uint64_t paired;	/* hubs pinned through them */
		uint64_t refused;	/* attempts refused: a wrong or spent code */
	} pair_window;
	/* the motion detector (daemon/camera/motion.c) */
	struct svc_motion_stats {
		bool enabled;
		bool active;		/* an event in progress */
		uint64_t analysed;	/* frames read */
		uint64_t unreadable;	/* frames in a format it does not read */
		uint64_t moving_frames;	/* frames with motion */
		uint64_t events;	/* events started */
		unsigned int changed_permille;	/* the last frame's changed cells */
		int64_t start_ns, end_ns;	/* the last event's capture times; 0 = none */
	} motion;
	/* the event recorder (daemon/camera/recorder.c) */
	struct svc_event_stats {
		bool enabled;
		bool recording;		/* a clip in progress */
		uint64_t triggers;	/* event starts offered (motion, manual) */
		uint64_t clips;		/* clips begun */
		uint64_t written;	/* events sealed into the spool */
		uint64_t failed;	/* events that could not be written (logged) */
		uint64_t no_recipient;	/* not recorded: no paired hub's encryption key */
		uint64_t missed;	/* triggers that never got an IDR */
		uint64_t ended_post_roll, ended_max_length, ended_gap;
		uint64_t queue_dropped;	/* AUs the recorder was too late for */
		uint64_t ring_aus, ring_bytes;	/* the pre-roll ring now */
		uint64_t spool_events, spool_bytes, spool_max_bytes;
		uint64_t spool_dropped;	/* old events dropped for the bound */
		bool have_last;
		uint64_t last_number;	/* the last event written */
		uint32_t last_frames;
		uint64_t last_clip_bytes;
		/* the uploader (daemon/camera/upload.c); state NULL: no store */
		const char *upload_state;
		uint64_t uploaded, upload_objects, upload_bytes, upload_skipped;
		uint64_t upload_failed, upload_retries;
		uint64_t upload_queue_events, upload_queue_bytes;
		char upload_last_error[160];
		/* served to hubs over the session (daemon/camera/eventserve.c) */
		uint64_t served_lists, served_chunks, served_objects, served_bytes;
		uint64_t served_gone, served_store;
	} events;
};
struct svc_camera_role_stats *svc_status_camera_role(struct svc_status *st);

/* A hub session started / ended. The pointer stays valid until ended. */
struct svc_hub_session *svc_status_session_begin(struct svc_status *st,
						 const char *hub_name,
						 const char *peer,
						 const char *transport);
void svc_status_session_end(struct svc_status *st, struct svc_hub_session *s);

/* Hub role: its display output. */
struct svc_display_status {
	bool lost;			/* nothing reaches the screen (unplugged, no DRM
					 * master, a y4m FIFO without a reader) */
	uint64_t lost_count;		/* times it was lost */
};
struct svc_display_status *svc_status_display(struct svc_status *st);

/* Hub role: recorded events, its cache and its events view (hub/evview.c, evfetch.c). */
struct svc_hub_events_stats {
	bool store;			/* event-store is set: the fetcher runs */
	const char *view;		/* "live", "events", "clip" (static) */
	uint64_t fetched;		/* events written into the cache */
	uint64_t fetch_rounds;		/* polls of the store */
	uint64_t fetch_errors;		/* requests that failed (the store down, 404, ...) */
	uint64_t cache_dropped;		/* events dropped for the cache's bound */
	uint64_t thumbnails_shown;	/* verified thumbnails put in a tile */
	uint64_t gaps;			/* gap tiles shown (events missing) */
	uint64_t clips_played;		/* clips started */
	uint64_t clip_frames;		/* verified frames of clips handed to the decoder */
	uint64_t clip_frames_shown;	/* clip pictures put on the screen */
	struct svc_reasons rejected;	/* thumbnails, clips, envelopes refused, by reason */
	char last_error[160];		/* the fetcher's last failure, "" = none */
};
struct svc_hub_events_stats *svc_status_hub_events(struct svc_status *st);

/* Hub role: the stats of configured camera @index (0..n_cameras-1). */
struct svc_camera_stats *svc_status_camera(struct svc_status *st,
					   unsigned int index);
/* A verified frame captured at @capture_ns reached the glass at @glass_ns
 * (both CLOCK_REALTIME): counts it and updates the latency estimate. */
void svc_camera_shown(struct svc_camera_stats *c, int64_t capture_ns,
		      int64_t glass_ns);

/* Mark the role ready (shown in the snapshot). */
void svc_status_set_ready(struct svc_status *st, bool ready);

/* The snapshot as a JSON document (g_free). */
char *svc_status_json(const struct svc_status *st);

/* One journal entry per session / camera with the same counters. */
void svc_status_log(const struct svc_status *st);

/*
 * Serve snapshots on an AF_UNIX stream socket at @path (mode 0660): every
 * connection gets one JSON snapshot and is closed. A stale socket file is
 * replaced; a live one (another daemon answers) is SVC_ERROR_IN_USE. 0, or
 * -1 and @error.
 */
int svc_status_listen(struct svc_status *st, const char *path, GError **error);
int svc_status_fd(const struct svc_status *st);
/*
 * Answer every pending connection (call when svc_status_fd() is readable):
 * a client's first line (waited for up to 100 ms) "status" or none gets
 * the snapshot, another the command hook's answer.
 */
void svc_status_serve(struct svc_status *st);
/* The role's hook for request lines other than "status" (NULL: none). */
void svc_status_on_command(struct svc_status *st, svc_status_command_fn fn, void *data);

/*
 * Client (veracamctl status): fetch one snapshot from @path and write it
 * to @out. 0, or -1 with @error: SVC_ERROR_NO_DAEMON when nothing accepts
 * at @path, SVC_ERROR_ANSWER for an answer cut short or not a snapshot.
 */
int svc_status_print(const char *path, FILE *out, GError **error);
/* The same, returning the document (g_free). */
char *svc_status_fetch(const char *path, GError **error);
/* Send one request line, return the whole answer (g_free); NULL and @error. */
char *svc_status_request(const char *path, const char *request, int timeout_s,
			 GError **error);

/* ------------------------------------------------------------------ */
/* The frame put together (service.c)                                 */
/* ------------------------------------------------------------------ */

#define SVC_STATUS_LOG_INTERVAL_NS	(60 * 1000000000ull)

struct svc_service {
	struct svc_config cfg;
	struct svc_loop *loop;
	struct svc_status *status;	/* counters; served if cfg.status_socket */
	struct svc_notify notify;
	struct svc_timer *status_log;	/* counters to the journal every minute */
};

/*
 * Parse the configuration, start logging, create the loop (signals are
 * blocked from here on: call before starting any thread), open the status
 * socket on the loop, read the watchdog settings, log the configuration.
 * Returns -1 when the role should now set itself up and run; otherwise the
 * process exit status, with the reason already printed: 0 after --help,
 * SVC_EXIT_USAGE for a configuration error, 1 if the service could not
 * start (then s is already released).
 */
int svc_service_init(struct svc_service *s, int argc, char **argv,
		     const struct svc_config_checks *checks);

/*
 * Run the loop until SIGTERM/SIGINT or svc_loop_quit(); then STOPPING=1.
 * Returns the loop's status; the role tears itself down after this.
 */
int svc_service_run(struct svc_service *s);

/* Log the final counters and release everything (removes the socket). */
void svc_service_finish(struct svc_service *s);

#endif /* VERACAM_SERVICE_H */
