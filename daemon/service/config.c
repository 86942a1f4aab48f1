// SPDX-License-Identifier: GPL-2.0
/*
 * config.c - veracamd's configuration: a GLib key file (one group named
 * after the role) and command-line flags of the same names; a flag wins
 * over the file, the file over the default.
 *
 * One table (opts[]) describes every option once: its key (= flag name),
 * the roles that have it, its type and range, its default and its help.
 * Every value, wherever it came from, goes through the same parser, and
 * the first bad one ends the parse with one line naming where it came
 * from ("--fps: ..." or "FILE: [camera] fps: ..."); veracamd exits 2.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <veracam/common.h>

#include "service.h"

#define CAM	(1u << VC_ROLE_CAMERA)
#define HUB	(1u << VC_ROLE_HUB)
#define MS	((uint64_t)1000000)
#define SEC	((uint64_t)1000000000)

enum opt_type {
	T_DIR,		/* existing directory */
	T_TEXT,		/* printable text, optionally checked by a hook */
	T_UINT,
	T_EVEN,		/* even uint (frame sizes) */
	T_SIZE,		/* WxH, both even */
	T_DURATION,	/* N(us|ms|s|min) */
	T_BITRATE,	/* N, Nk or NM bit/s */
	T_PERCENT,	/* N or N% */
	T_BOOL,
	T_ENUM,
	T_ADDR,
	T_SOCKET,	/* path or "none" */
	T_PATH,		/* absolute path (need not exist yet) */
	T_URL,		/* http:// or https:// URL; empty: none */
	T_CAMERAS,	/* NAME@HOST:PORT, repeatable */
};

enum hook { NO_HOOK, HOOK_SOURCE, HOOK_NAME, HOOK_DISPLAY };

struct opt {
	const char *key;
	unsigned int roles;
	enum opt_type type;
	size_t off;			/* field in struct svc_config */
	size_t off2;			/* T_SIZE: the height field */
	uint64_t min, max;
	const char *const *names;	/* T_ENUM: value = index, NULL-terminated; "" = gap */
	const char *const *aliases;	/* T_ENUM: alias, name, ..., NULL */
	enum hook hook;
	bool required;
	const char *def;		/* parsed like any value; NULL = none */
	const char *arg;		/* help: argument name */
	const char *help;
};

static const char *const transport_names[] = { "auto", "udp", "tcp", NULL };
static const char *const layout_names[] = { "auto", "single", "grid", NULL };
/*
 * syslog priorities: the index is LOG_EMERG .. LOG_DEBUG, from err only (a
 * level above it would hide the fatal start-up errors)
 */
static const char *const level_names[] = {
	"", "", "", "err", "warning", "notice", "info", "debug", NULL
};
static const char *const level_aliases[] = { "error", "err", "warn", "warning", NULL };

#define F(field) offsetof(struct svc_config, field)

static const struct opt opts[] = {
	{ "keys", CAM | HUB, T_DIR, F(keys_dir), .required = true,
	  .arg = "DIR", .help = "key directory (made by veracamctl keygen)" },
	{ "status-socket", CAM | HUB, T_SOCKET, F(status_socket),
	  .arg = "PATH|none",
	  .help = "status socket (default: status.sock in $RUNTIME_DIRECTORY, "
		  "/run/veracam/ROLE or $XDG_RUNTIME_DIR/veracam/ROLE)" },
	{ "log-level", CAM | HUB, T_ENUM, F(log_level), .names = level_names,
	  .aliases = level_aliases,
	  .def = "info", .arg = "LEVEL", .help = "err, warning, notice, info or debug" },

	{ "source", CAM, T_TEXT, F(camera.source), .hook = HOOK_SOURCE,
	  .required = true, .arg = "SOURCE",
	  .help = "v4l2:id=HEX, v4l2:bus=BUS, v4l2:serial=S, /dev/videoN or "
		  "pattern:RRGGBB[,scene=solid|moving]" },
	{ "name", CAM, T_TEXT, F(camera.name), .hook = HOOK_NAME, .def = "camera",
	  .arg = "NAME", .help = "camera name shown on the hub's badge" },
	{ "width", CAM, T_EVEN, F(camera.width), .min = 16, .max = 4096,
	  .def = "1280", .arg = "PIXELS", .help = "frame width" },
	{ "height", CAM, T_EVEN, F(camera.height), .min = 16, .max = 4096,
	  .def = "720", .arg = "PIXELS", .help = "frame height" },
	{ "fps", CAM, T_UINT, F(camera.fps), .min = 1, .max = 120, .def = "30",
	  .arg = "N", .help = "frames per second" },
	{ "bitrate", CAM, T_BITRATE, F(camera.bitrate), .min = 64000,
	  .max = 50000000, .def = "2M", .arg = "BPS", .help = "H.264 bit rate (e.g. 2M, 800k)" },
	{ "idr-interval", CAM, T_DURATION, F(camera.idr_interval_ns),
	  .min = 100 * MS, .max = 60 * SEC, .def = "1s", .arg = "DURATION",
	  .help = "time between IDR frames" },
	{ "encoder", CAM, T_ENUM, F(camera.encoder), .names = vc_encoder_names,
	  .def = "auto", .arg = VC_ENCODER_GRAMMAR, .help = "H.264 encoder" },
	{ "listen", CAM, T_ADDR, F(camera.listen), .def = "0.0.0.0:7000",
	  .arg = "ADDR:PORT", .help = "where hubs connect" },
	{ "transport", CAM, T_ENUM, F(camera.transport),
	  .names = transport_names, .def = "auto", .arg = "auto|udp|tcp",
	  .help = "transports offered to hubs (auto: UDP, TCP when UDP does not get through)" },
	{ "freshness", CAM, T_DURATION, F(camera.freshness_ns),
	  .min = 100 * MS, .max = 60 * SEC, .def = "2s", .arg = "DURATION",
	  .help = "never send a frame captured longer ago" },
	{ "max-hubs", CAM, T_UINT, F(camera.max_hubs), .min = 1, .max = 16,
	  .def = "4", .arg = "N", .help = "concurrent hub sessions" },
	{ "motion", CAM, T_BOOL, F(camera.motion), .def = "true", .arg = "true|false",
	  .help = "detect motion on the captured frames (events)" },
	{ "motion-grid", CAM, T_SIZE, F(camera.motion_grid_w), F(camera.motion_grid_h),
	  .min = 4, .max = 256, .def = "64x36", .arg = "WxH",
	  .help = "cells the picture's luma is averaged down to" },
	{ "motion-threshold", CAM, T_UINT, F(camera.motion_threshold), .min = 1, .max = 255,
	  .def = "16", .arg = "LEVELS", .help = "luma change of a cell that counts (0-255 scale)" },
	{ "motion-area", CAM, T_PERCENT, F(camera.motion_area), .min = 1, .max = 100,
	  .def = "2%", .arg = "PERCENT", .help = "changed cells for a frame with motion" },
	{ "motion-hold", CAM, T_DURATION, F(camera.motion_hold_ns), .min = 100 * MS,
	  .max = 600 * SEC, .def = "2s", .arg = "DURATION",
	  .help = "motion ends this long after the last frame with motion" },
	{ "events", CAM, T_BOOL, F(camera.events), .def = "true", .arg = "true|false",
	  .help = "record events (motion, manual) as signed clips sealed for the paired hubs" },
	{ "event-pre-roll", CAM, T_DURATION, F(camera.event_pre_roll_ns), .min = 0,
	  .max = 30 * SEC, .def = "3s", .arg = "DURATION",
	  .help = "a clip reaches back at least this far before the event, to an IDR" },
	{ "event-post-roll", CAM, T_DURATION, F(camera.event_post_roll_ns), .min = 0,
	  .max = 600 * SEC, .def = "5s", .arg = "DURATION",
	  .help = "a clip goes on this long after the event ends" },
	{ "event-max-length", CAM, T_DURATION, F(camera.event_max_len_ns), .min = SEC,
	  .max = 3600 * SEC, .def = "60s", .arg = "DURATION",
	  .help = "no clip is longer; a longer event goes on in the next clip" },
	{ "event-spool", CAM, T_PATH, F(camera.event_spool), .arg = "DIR",
	  .help = "where sealed events wait (default: events/ in the key directory)" },
	{ "event-spool-max", CAM, T_UINT, F(camera.event_spool_mib), .min = 1,
	  .max = 1048576, .def = "256", .arg = "MIB",
	  .help = "the spool's bound in MiB: the oldest events are dropped beyond it" },
	{ "event-store", CAM, T_URL, F(camera.event_store), .def = "", .arg = "URL",
	  .help = "upload sealed events to this HTTP object store (PUT); empty: keep them "
		  "in the spool" },
	{ "event-store-timeout", CAM, T_DURATION, F(camera.event_store_timeout_ns),
	  .min = 1 * SEC, .max = 600 * SEC, .def = "10s", .arg = "DURATION",
	  .help = "give a store request up when connecting or a stall (< 1 KiB/s) lasts "
		  "this long" },
	{ "event-store-backoff-max", CAM, T_DURATION, F(camera.event_store_backoff_ns),
	  .min = 250 * MS, .max = 3600 * SEC, .def = "30s", .arg = "DURATION",
	  .help = "longest wait between retries of a failed upload" },

	{ "camera", HUB, T_CAMERAS, F(hub), .arg = "NAME@HOST:PORT[,source=STABLE_ID]",
	  .help = "a paired camera (or a relay for it), optionally pinned to the capture "
		  "device whose stable identity it must sign (e.g. source=id:<32 hex>); "
		  "repeat for up to 4" },
	{ "display", HUB, T_TEXT, F(hub.display), .hook = HOOK_DISPLAY,
	  .def = "drm", .arg = "drm[:DEVICE]|y4m:PATH", .help = "where frames are shown" },
	{ "output-size", HUB, T_SIZE, F(hub.out_width), F(hub.out_height),
	  .min = 16, .max = 4096, .def = "1280x720", .arg = "WxH",
	  .help = "frame size of the y4m display" },
	{ "kms-legacy", HUB, T_BOOL, F(hub.kms_legacy), .def = "false",
	  .arg = "true|false", .help = "legacy KMS even if atomic works" },
	{ "layout", HUB, T_ENUM, F(hub.layout), .names = layout_names,
	  .def = "auto", .arg = "auto|single|grid",
	  .help = "one camera full screen or a 2x2 grid" },
	{ "transport", HUB, T_ENUM, F(hub.transport),
	  .names = transport_names, .def = "auto", .arg = "auto|udp|tcp",
	  .help = "transport asked for (auto: UDP, TCP when UDP does not get through)" },
	{ "freshness", HUB, T_DURATION, F(hub.freshness_ns), .min = 100 * MS,
	  .max = 60 * SEC, .def = "2s", .arg = "DURATION",
	  .help = "reject frames captured longer ago" },
	{ "unavailable-timeout", HUB, T_DURATION, F(hub.unavailable_ns),
	  .min = 100 * MS, .max = 1 * SEC, .def = "1s", .arg = "DURATION",
	  .help = "show \"unavailable\" after this long without a verified frame" },
	{ "backoff-min", HUB, T_DURATION, F(hub.backoff_min_ns), .min = 10 * MS,
	  .max = 60 * SEC, .def = "250ms", .arg = "DURATION",
	  .help = "first reconnect delay" },
	{ "backoff-max", HUB, T_DURATION, F(hub.backoff_max_ns), .min = 100 * MS,
	  .max = 600 * SEC, .def = "2s", .arg = "DURATION",
	  .help = "longest reconnect delay" },
	{ "backoff-jitter", HUB, T_PERCENT, F(hub.backoff_jitter), .max = 100,
	  .def = "50%", .arg = "PERCENT", .help = "random part of each delay" },
	{ "event-store", HUB, T_URL, F(hub.event_store), .def = "", .arg = "URL",
	  .help = "fetch the cameras' newest sealed events from this HTTP store (or its cache) "
		  "into the hub's event cache; empty: none" },
};

#define N_OPTS G_N_ELEMENTS(opts)

struct parse {
	enum vc_role role;
	const struct svc_config_checks *checks;
	struct svc_config *cfg;
	char *flag[N_OPTS];		/* value given as a flag */
	GPtrArray *flag_cameras;	/* --camera values */
	enum { SRC_DEFAULT, SRC_FILE, SRC_FLAG } src[N_OPTS];
	char *config_file;
	bool help;
	bool no_status;			/* status-socket=none */
};

const char *svc_role_name(enum vc_role role)
{
	return role == VC_ROLE_CAMERA ? "camera" : role == VC_ROLE_HUB ? "hub" : "?";
}

static bool has_role(const struct opt *o, enum vc_role role)
{
	return o->roles & (1u << role);
}

static const struct opt *find_opt(const char *key, enum vc_role role)
{
	for (size_t i = 0; i < N_OPTS; i++)
		if (!strcmp(opts[i].key, key) && has_role(&opts[i], role))
			return &opts[i];
	return NULL;
}

static void *field(struct svc_config *cfg, size_t off)
{
	return (char *)cfg + off;
}

/* ---------------------------------------------------------------- values */

static bool printable(const char *s)
{
	if (!g_utf8_validate(s, -1, NULL))
		return false;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* Plain decimal, no sign, no leading zero, at most 12 digits. */
static bool parse_digits(const char *s, size_t n, uint64_t *v)
{
	*v = 0;
	if (n == 0 || n > 12 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return false;
		*v = *v * 10 + (uint64_t)(s[i] - '0');
	}
	return true;
}

static size_t count_digits(const char *s)
{
	size_t n = 0;

	while (g_ascii_isdigit(s[n]))
		n++;
	return n;
}

static char *range_error(const char *v, uint64_t min, uint64_t max)
{
	return g_strdup_printf("\"%s\" is out of range (%" PRIu64
			       "..%" PRIu64 ")", v, min, max);
}

static char *parse_uint(const struct opt *o, const char *v, bool even,
			unsigned int *out)
{
	uint64_t x;

	if (!parse_digits(v, strlen(v), &x))
		return g_strdup_printf("\"%s\" is not a whole number", v);
	if (x < o->min || x > o->max)
		return range_error(v, o->min, o->max);
	if (even && (x & 1))
		return g_strdup_printf("\"%s\" must be even", v);
	*out = (unsigned int)x;
	return NULL;
}

/* 250ms, 2s, 10min: the largest unit that divides the value */
static void format_duration(uint64_t ns, char out[24])
{
	if (ns % (60 * SEC) == 0)
		g_snprintf(out, 24, "%" PRIu64 "min", ns / (60 * SEC));
	else if (ns % SEC == 0)
		g_snprintf(out, 24, "%" PRIu64 "s", ns / SEC);
	else
		g_snprintf(out, 24, "%" PRIu64 "ms", ns / MS);
}

static char *parse_duration(const struct opt *o, const char *v, uint64_t *out)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "us", 1000 }, { "ms", MS }, { "s", SEC }, { "min", 60 * SEC },
	};
	size_t n = count_digits(v);
	uint64_t x;

	for (size_t i = 0; i < G_N_ELEMENTS(units); i++) {
		if (strcmp(v + n, units[i].unit) || !parse_digits(v, n, &x))
			continue;
		x *= units[i].ns;
		if (x < o->min || x > o->max) {
			char lo[24], hi[24];

			format_duration(o->min, lo);
			format_duration(o->max, hi);
			return g_strdup_printf("\"%s\" is out of range (%s..%s)", v, lo, hi);
		}
		*out = x;
		return NULL;
	}
	return g_strdup_printf("\"%s\" is not a duration (e.g. 500ms, 2s, 1min)", v);
}

static char *parse_bitrate(const struct opt *o, const char *v, unsigned int *out)
{
	size_t n = count_digits(v);
	uint64_t x, mul;

	if (!strcmp(v + n, ""))
		mul = 1;
	else if (!strcmp(v + n, "k"))
		mul = 1000;
	else if (!strcmp(v + n, "M"))
		mul = 1000000;
	else
		mul = 0;
	if (!mul || !parse_digits(v, n, &x))
		return g_strdup_printf("\"%s\" is not a bit rate (e.g. 2M, 800k, 500000)", v);
	x *= mul;
	if (x < o->min || x > o->max)
		return range_error(v, o->min, o->max);
	*out = (unsigned int)x;
	return NULL;
}

static char *parse_enum(const struct opt *o, const char *v, unsigned int *out)
{
	const char *name = v;
	GString *why;

	for (unsigned int i = 0; o->aliases && o->aliases[i]; i += 2)
		if (!strcmp(o->aliases[i], v))
			name = o->aliases[i + 1];
	/* "" is a gap: no value has that index */
	for (unsigned int i = 0; o->names[i]; i++) {
		if (*o->names[i] && !strcmp(o->names[i], name)) {
			*out = i;
			return NULL;
		}
	}
	why = g_string_new(NULL);
	g_string_printf(why, "\"%s\" is not one of", v);
	for (unsigned int i = 0, n = 0; o->names[i]; i++)
		if (*o->names[i])
			g_string_append_printf(why, "%s %s", n++ ? "," : "", o->names[i]);
	return g_string_free(why, FALSE);
}

static char *run_hook(const struct parse *p, enum hook h, const char *v)
{
	char *(*fn)(const char *) = NULL;

	if (!*v)
		return g_strdup("empty value");
	if (!printable(v))
		return g_strdup("contains control characters or invalid UTF-8");
	if (p->checks)
		fn = h == HOOK_SOURCE ? p->checks->source :
		     h == HOOK_NAME ? p->checks->name :
		     h == HOOK_DISPLAY ? p->checks->display : NULL;
	return fn ? fn(v) : NULL;
}

/* ",source=STABLE" after a camera's address: the pinned capture source. */
static char *parse_camera_source(const struct parse *p, const char *v, const char *s,
				 struct svc_camera_ref *ref)
{
	char *why = run_hook(p, NO_HOOK, s);

	if (!why && strlen(s) > VC_SOURCE_MAX_LEN)
		why = g_strdup_printf("longer than %d bytes", VC_SOURCE_MAX_LEN);
	if (why) {
		char *w = g_strdup_printf("\"%s\": source: %s", v, why);

		g_free(why);
		return w;
	}
	ref->source = g_strdup(s);
	return NULL;
}

/* svc_addr_parse()'s reason as one of the config's reason strings; NULL if good. */
static char *parse_addr(const char *v, struct svc_addr *dst)
{
	g_autoptr(GError) err = NULL;

	if (svc_addr_parse(v, dst, &err))
		return NULL;
	return g_steal_pointer(&err->message);
}

static char *parse_camera_ref(const struct parse *p, const char *v,
			      struct svc_camera_ref *ref)
{
	const char *at = strchr(v, '@');
	const char *pin = at ? strstr(at, ",source=") : NULL;
	char *name, *addr, *why;

	if (!at)
		return g_strdup_printf("\"%s\": expected NAME@HOST:PORT", v);
	name = g_strndup(v, (size_t)(at - v));
	if (strlen(name) > VC_NAME_MAX) {
		why = g_strdup_printf("\"%s\": name longer than %d characters",
				      v, VC_NAME_MAX);
	} else {
		why = run_hook(p, HOOK_NAME, name);
		if (why) {
			char *w = g_strdup_printf("\"%s\": name: %s", v, why);

			g_free(why);
			why = w;
		}
	}
	if (why) {
		g_free(name);
		return why;
	}
	addr = pin ? g_strndup(at + 1, (size_t)(pin - at - 1)) : g_strdup(at + 1);
	if ((why = parse_addr(addr, &ref->addr)) ||
	    (pin && (why = parse_camera_source(p, v, pin + strlen(",source="), ref)))) {
		g_free(addr);
		g_free(name);
		return why;
	}
	g_free(addr);
	ref->name = name;
	return NULL;
}

static char *parse_cameras(const struct parse *p, char **list, guint n)
{
	struct svc_hub_config *hub = &p->cfg->hub;
	char *why;

	if (n > VC_HUB_MAX_CAMERAS)
		return g_strdup_printf("%u cameras given; at most %d", n, VC_HUB_MAX_CAMERAS);
	for (guint i = 0; i < n; i++) {
		why = parse_camera_ref(p, list[i], &hub->cameras[hub->n_cameras]);
		if (why)
			return why;
		hub->n_cameras++;
		for (unsigned int j = 0; j + 1 < hub->n_cameras; j++)
			if (!strcmp(hub->cameras[j].name, hub->cameras[hub->n_cameras - 1].name))
				return g_strdup_printf("camera name \"%s\" given twice",
						       hub->cameras[j].name);
	}
	return NULL;
}

/* Parse @v for option @o into the config. NULL, or the reason. */
static char *parse_value(struct parse *p, const struct opt *o, const char *v)
{
	void *dst = field(p->cfg, o->off);
	struct stat sb;
	char *why;

	switch (o->type) {
	case T_DIR:
		if (!*v)
			return g_strdup("empty path");
		if (stat(v, &sb))
			return g_strdup_printf("\"%s\": %s", v, g_strerror(errno));
		if (!S_ISDIR(sb.st_mode))
			return g_strdup_printf("\"%s\" is not a directory", v);
		break;
	case T_SOCKET:
		p->no_status = !strcmp(v, "none");
		if (p->no_status)
			return NULL;
		if (v[0] != '/' || !printable(v))
			return g_strdup_printf("\"%s\": expected an absolute path or \"none\"", v);
		if (strlen(v) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			return g_strdup_printf("\"%s\" is too long for a socket path", v);
		break;
	case T_PATH:
		if (v[0] != '/' || !printable(v))
			return g_strdup_printf("\"%s\": expected an absolute path", v);
		break;
	case T_URL:
		if (!*v) {
			g_free(*(char **)dst);
			*(char **)dst = NULL;
			return NULL;
		}
		if ((strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) || !printable(v) ||
		    strpbrk(v, " \"'<>\\^`{|}?#") || strlen(v) > 1024) {
			char shown[1100];

			return g_strdup_printf("\"%s\": expected an http:// or https:// URL "
					       "(no query, no fragment)",
					       vc_url_redact(v, shown, sizeof(shown)));
		}
		break;
	case T_TEXT:
		why = run_hook(p, o->hook, v);
		if (why)
			return why;
		if (o->hook == HOOK_NAME && strlen(v) > VC_NAME_MAX)
			return g_strdup_printf("longer than %d characters", VC_NAME_MAX);
		break;
	case T_UINT:
		return parse_uint(o, v, false, dst);
	case T_EVEN:
		return parse_uint(o, v, true, dst);
	case T_SIZE: {
		const char *x = strchr(v, 'x');
		char *w;

		if (!x)
			return g_strdup_printf("\"%s\" is not WIDTHxHEIGHT", v);
		w = g_strndup(v, (size_t)(x - v));
		why = parse_uint(o, w, true, dst);
		g_free(w);
		if (!why)
			why = parse_uint(o, x + 1, true, field(p->cfg, o->off2));
		return why;
	}
	case T_DURATION:
		return parse_duration(o, v, dst);
	case T_BITRATE:
		return parse_bitrate(o, v, dst);
	case T_PERCENT: {
		size_t n = count_digits(v);
		uint64_t x;

		if ((strcmp(v + n, "") && strcmp(v + n, "%")) || !parse_digits(v, n, &x))
			return g_strdup_printf("\"%s\" is not a percentage", v);
		if (x < o->min || x > o->max)
			return range_error(v, o->min, o->max);
		*(unsigned int *)dst = (unsigned int)x;
		return NULL;
	}
	case T_BOOL:
		if (strcmp(v, "true") && strcmp(v, "false"))
			return g_strdup_printf("\"%s\" is not true or false", v);
		*(bool *)dst = !strcmp(v, "true");
		return NULL;
	case T_ENUM:
		return parse_enum(o, v, dst);
	case T_ADDR:
		return parse_addr(v, dst);
	case T_CAMERAS:
		return NULL;	/* lists go through parse_cameras() */
	}
	/* strings are kept as given */
	g_free(*(char **)dst);
	*(char **)dst = g_strdup(v);
	return NULL;
}

/* ---------------------------------------------------------------- flags */

static gboolean on_flag(const gchar *name, const gchar *value, gpointer data,
			GError **error)
{
	struct parse *p = data;
	const struct opt *o;

	if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
		p->help = true;
		return TRUE;
	}
	if (!strcmp(name, "--config")) {
		if (p->config_file) {
			g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
				    "--config given twice");
			return FALSE;
		}
		p->config_file = g_strdup(value);
		return TRUE;
	}
	o = find_opt(name + 2, p->role);
	if (o->type == T_CAMERAS) {
		g_ptr_array_add(p->flag_cameras, g_strdup(value));
		return TRUE;
	}
	if (p->flag[o - opts]) {
		g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
			    "%s given twice", name);
		return FALSE;
	}
	p->flag[o - opts] = g_strdup(value);
	return TRUE;
}

static GOptionContext *make_context(struct parse *p)
{
	GOptionEntry *e = g_new0(GOptionEntry, N_OPTS + 3);
	GOptionContext *ctx;
	GOptionGroup *g;
	size_t n = 0;

	e[n++] = (GOptionEntry){ "config", 0, 0, G_OPTION_ARG_CALLBACK, (gpointer)on_flag,
				 "configuration file (key file, group [role])", "FILE" };
	for (size_t i = 0; i < N_OPTS; i++) {
		if (!has_role(&opts[i], p->role))
			continue;
		e[n++] = (GOptionEntry){ opts[i].key, 0, 0, G_OPTION_ARG_CALLBACK,
					 (gpointer)on_flag, opts[i].help, opts[i].arg };
	}
	e[n++] = (GOptionEntry){ "help", 'h', G_OPTION_FLAG_NO_ARG, G_OPTION_ARG_CALLBACK,
				 (gpointer)on_flag, "show the options", NULL };

	ctx = g_option_context_new(NULL);
	g_option_context_set_help_enabled(ctx, FALSE);
	g_option_context_set_summary(ctx, p->role == VC_ROLE_CAMERA ?
		"veracamd camera: capture, sign, seal and stream to paired hubs." :
		"veracamd hub: receive, verify and show paired cameras, fail-closed.");
	g_option_context_set_description(ctx,
		"Every option is also a key in the [role] group of the --config file;\n"
		"a flag overrides the file. Durations: 500ms, 2s, 1min.");
	g = g_option_group_new(svc_role_name(p->role), "", "", p, NULL);
	g_option_group_add_entries(g, e);
	g_option_context_set_main_group(ctx, g);
	g_free(e);
	return ctx;
}

/* ---------------------------------------------------------------- file */

/*
 * Check the file's shape: only the role's group, only the role's keys.
 * A key of the other role is named as such, so that a file written for
 * the hub and given to the camera says so.
 */
static char *check_file(const struct parse *p, GKeyFile *kf)
{
	const char *group = svc_role_name(p->role);
	const char *f = p->config_file;
	gchar **groups = g_key_file_get_groups(kf, NULL);
	gchar **keys = NULL;
	char *why = NULL;

	for (gsize i = 0; groups[i] && !why; i++)
		if (strcmp(groups[i], group))
			why = g_strdup_printf("%s: unknown group [%s]; the %s role reads [%s]",
					      f, groups[i], group, group);
	g_strfreev(groups);
	if (why || !g_key_file_has_group(kf, group))
		return why;

	keys = g_key_file_get_keys(kf, group, NULL, NULL);
	for (gsize i = 0; keys[i] && !why; i++) {
		enum vc_role other = p->role == VC_ROLE_CAMERA ? VC_ROLE_HUB : VC_ROLE_CAMERA;

		if (find_opt(keys[i], p->role))
			continue;
		if (find_opt(keys[i], other))
			why = g_strdup_printf("%s: [%s] %s: is a %s option, not a %s one",
					      f, group, keys[i], svc_role_name(other), group);
		else
			why = g_strdup_printf("%s: [%s] unknown key \"%s\"", f, group, keys[i]);
	}
	g_strfreev(keys);
	return why;
}

/* ---------------------------------------------------------------- merge */

/* "--key" or "FILE: [group] key", for error lines. */
static char *origin(const struct parse *p, const struct opt *o, bool from_flag)
{
	if (from_flag)
		return g_strdup_printf("--%s", o->key);
	return g_strdup_printf("%s: [%s] %s", p->config_file, svc_role_name(p->role), o->key);
}

static char *with_origin(const struct parse *p, const struct opt *o,
			 bool from_flag, char *why)
{
	char *where = origin(p, o, from_flag);
	char *line = g_strdup_printf("%s: %s", where, why);

	g_free(where);
	g_free(why);
	return line;
}

/*
 * A key given twice in one group: GKeyFile keeps the last silently, so a
 * stale line above an edited one would win without a word. NULL, or the
 * error naming the file, both lines and the key.
 */
static char *file_duplicates(const char *file, const char *text)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	g_autofree char *group = g_strdup("");

	for (guint i = 0; lines[i]; i++) {
		char *line = g_strstrip(lines[i]), *eq;
		char *key;

		if (!*line || *line == '#' || *line == ';')
			continue;
		if (*line == '[') {
			g_free(group);
			group = g_strdup(line);
			continue;
		}
		eq = strchr(line, '=');
		if (!eq)
			continue;	/* GKeyFile has refused it already */
		*eq = '\0';
		key = g_strdup_printf("%s%s", group, g_strstrip(line));
		if (g_hash_table_contains(seen, key)) {
			char *why = g_strdup_printf("%s:%u: %s %s= given twice (first on line %u)",
				file, i + 1, group, line,
				GPOINTER_TO_UINT(g_hash_table_lookup(seen, key)));

			g_free(key);
			return why;
		}
		g_hash_table_insert(seen, key, GUINT_TO_POINTER(i + 1));
	}
	return NULL;
}

static char *apply(struct parse *p, GKeyFile *kf)
{
	const char *group = svc_role_name(p->role);

	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];
		bool from_flag = false;
		char *value = NULL, *why;

		if (!has_role(o, p->role))
			continue;

		if (o->type == T_CAMERAS) {
			gchar **list = NULL;
			gsize n = 0;

			if (p->flag_cameras->len) {
				from_flag = true;
				why = parse_cameras(p, (char **)p->flag_cameras->pdata,
						    p->flag_cameras->len);
			} else if (kf && g_key_file_has_key(kf, group, o->key, NULL)) {
				list = g_key_file_get_string_list(kf, group, o->key, &n, NULL);
				why = list ? parse_cameras(p, list, (guint)n) :
					     g_strdup("not a list of NAME@HOST:PORT");
				g_strfreev(list);
			} else {
				why = NULL;
			}
			if (!why && p->cfg->hub.n_cameras == 0)
				return g_strdup("no camera: give --camera NAME@HOST:PORT "
						"(or camera= in the [hub] group of --config)");
			if (why)
				return with_origin(p, o, from_flag, why);
			continue;
		}

		if (p->flag[i]) {
			value = g_strdup(p->flag[i]);
			from_flag = true;
			p->src[i] = SRC_FLAG;
		} else if (kf && g_key_file_has_key(kf, group, o->key, NULL)) {
			GError *e = NULL;

			p->src[i] = SRC_FILE;
			value = g_key_file_get_string(kf, group, o->key, &e);
			if (!value) {
				why = g_strdup(e->message);
				g_error_free(e);
				return with_origin(p, o, false, why);
			}
		} else if (o->def) {
			value = g_strdup(o->def);
		} else if (o->required) {
			return g_strdup_printf("--%s is required (or %s= in the [%s] group of --config)",
					       o->key, o->key, group);
		} else {
			continue;
		}
		why = parse_value(p, o, value);
		g_free(value);
		if (why)
			return with_origin(p, o, from_flag, why);
	}
	return NULL;
}

/* Rules between options, once every value is known. The error names the
 * option the user set (of two, the first one set). */
static char *cross_error(const struct parse *p, const char *key,
			 const char *other, char *why)
{
	const struct opt *o = find_opt(key, p->role);

	if (p->src[o - opts] == SRC_DEFAULT && other)
		o = find_opt(other, p->role);
	return with_origin(p, o, p->src[o - opts] == SRC_FLAG, why);
}

static char *cross_check(struct parse *p)
{
	struct svc_hub_config *hub = &p->cfg->hub;

	if (p->role != VC_ROLE_HUB)
		return NULL;

	if (hub->layout == SVC_LAYOUT_AUTO)
		hub->layout = hub->n_cameras > 1 ? SVC_LAYOUT_GRID : SVC_LAYOUT_SINGLE;
	else if (hub->layout == SVC_LAYOUT_SINGLE && hub->n_cameras > 1)
		return cross_error(p, "layout", NULL,
			g_strdup_printf("\"single\" shows one camera but %u are configured; use grid",
					hub->n_cameras));

	if (hub->backoff_min_ns > hub->backoff_max_ns)
		return cross_error(p, "backoff-min", "backoff-max",
			g_strdup_printf("backoff-min (%" PRIu64
					"ms) is longer than backoff-max (%" PRIu64 "ms)",
					hub->backoff_min_ns / MS, hub->backoff_max_ns / MS));
	return NULL;
}

/*
 * The places a role's status socket may be, in order: [0] the unit's
 * RuntimeDirectory= (systemd sets $RUNTIME_DIRECTORY, colon-separated if
 * several), [1] the system-wide /run/veracam/ROLE (made by the unit or
 * tmpfiles), [2] the user's $XDG_RUNTIME_DIR/veracam/ROLE (by hand, no
 * root); NULL where the variable is not set.
 */
#define PLACES 3

static void status_places(enum vc_role role, char *out[PLACES])
{
	const char *rt = g_getenv("RUNTIME_DIRECTORY"), *xdg = g_getenv("XDG_RUNTIME_DIR");

	out[0] = rt && rt[0] == '/' ?
		 g_strdup_printf("%.*s/status.sock", (int)strcspn(rt, ":"), rt) : NULL;
	out[1] = g_strdup_printf("/run/veracam/%s/status.sock", svc_role_name(role));
	out[2] = xdg && xdg[0] == '/' ?
		 g_strdup_printf("%s/veracam/%s/status.sock", xdg, svc_role_name(role)) : NULL;
}

/* places[k] (may be NULL), the others freed. */
static char *keep_place(char *places[PLACES], int k)
{
	for (int i = 0; i < PLACES; i++)
		if (i != k)
			g_free(places[i]);
	return k < 0 ? NULL : places[k];
}

char *svc_status_default_path(enum vc_role role, bool *make_dir)
{
	char *places[PLACES];
	g_autofree char *sys_dir = NULL;

	status_places(role, places);
	*make_dir = false;
	if (places[0])
		return keep_place(places, 0);
	sys_dir = g_path_get_dirname(places[1]);
	if (access(sys_dir, W_OK | X_OK) == 0)
		return keep_place(places, 1);
	*make_dir = places[2] != NULL;	/* its directory is made at start-up */
	return keep_place(places, 2);
}

char *svc_status_find(enum vc_role role, char **tried)
{
	char *places[PLACES];
	GString *t = g_string_new(NULL);
	int found = -1;

	status_places(role, places);
	for (int i = 0; i < PLACES && found < 0; i++) {
		if (!places[i])
			continue;
		if (g_file_test(places[i], G_FILE_TEST_EXISTS))
			found = i;
		else
			g_string_append_printf(t, "%s%s", t->len ? ", " : "", places[i]);
	}
	if (found < 0 && tried) {
		*tried = g_string_free(t, FALSE);
	} else {
		g_string_free(t, TRUE);
		if (tried)
			*tried = NULL;
	}
	return keep_place(places, found);
}

static void parse_free(struct parse *p)
{
	for (size_t i = 0; i < N_OPTS; i++)
		g_free(p->flag[i]);
	g_ptr_array_free(p->flag_cameras, TRUE);
	g_free(p->config_file);
}

void svc_config_clear(struct svc_config *cfg)
{
	g_free(cfg->keys_dir);
	g_free(cfg->config_file);
	g_free(cfg->status_socket);
	g_free(cfg->camera.source);
	g_free(cfg->camera.name);
	g_free(cfg->camera.event_spool);
	g_free(cfg->camera.event_store);
	g_free(cfg->hub.event_store);
	for (unsigned int i = 0; i < cfg->hub.n_cameras; i++) {
		g_free(cfg->hub.cameras[i].name);
		g_free(cfg->hub.cameras[i].source);
	}
	g_free(cfg->hub.display);
	memset(cfg, 0, sizeof(*cfg));
}

/* The error quotes what it was given: control characters become \xNN so
 * that it stays one line. */
static char *one_line(char *why)
{
	GString *out = g_string_sized_new(strlen(why));

	for (const char *c = why; *c; c++) {
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			g_string_append_printf(out, "\\x%02x", (unsigned char)*c);
		else
			g_string_append_c(out, *c);
	}
	g_free(why);
	return g_string_free(out, FALSE);
}

static enum svc_config_result fail(struct parse *p, char *why, char **err)
{
	svc_config_clear(p->cfg);
	parse_free(p);
	*err = one_line(why);
	return SVC_CONFIG_ERROR;
}

enum svc_config_result svc_config_parse(int argc, char **argv,
					const struct svc_config_checks *checks,
					struct svc_config *cfg, char **err)
{
	struct parse p = { .checks = checks, .cfg = cfg };
	GOptionContext *ctx;
	GKeyFile *kf = NULL;
	GError *e = NULL;
	char **args;
	int nargs = argc - 1;
	char *why;

	memset(cfg, 0, sizeof(*cfg));
	*err = NULL;
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		*err = g_strdup("veracamd " VERACAM_VERSION "\n");
		return SVC_CONFIG_HELP;
	}
	if (argc < 2 || (strcmp(argv[1], "camera") && strcmp(argv[1], "hub"))) {
		*err = g_strdup("usage: veracamd camera|hub [OPTIONS] (veracamd camera --help)");
		return SVC_CONFIG_ERROR;
	}
	p.role = !strcmp(argv[1], "camera") ? VC_ROLE_CAMERA : VC_ROLE_HUB;
	p.flag_cameras = g_ptr_array_new_with_free_func(g_free);
	cfg->role = p.role;

	/* GOption reorders its argv: give it a copy starting at the role. */
	args = g_new0(char *, (gsize)argc);
	memcpy(args, argv + 1, sizeof(char *) * (size_t)nargs);
	ctx = make_context(&p);
	if (!g_option_context_parse(ctx, &nargs, &args, &e)) {
		why = g_strdup(e->message);
		g_error_free(e);
	} else if (p.help) {
		*err = g_option_context_get_help(ctx, TRUE, NULL);
		why = NULL;
	} else if (nargs > 1) {
		why = g_strdup_printf("unexpected argument \"%s\"", args[1]);
	} else {
		why = NULL;
	}
	g_option_context_free(ctx);
	g_free(args);
	if (why)
		return fail(&p, why, err);
	if (*err) {
		parse_free(&p);
		return SVC_CONFIG_HELP;
	}

	if (p.config_file) {
		g_autofree char *text = NULL;
		gsize len = 0;

		kf = g_key_file_new();
		if (!g_file_get_contents(p.config_file, &text, &len, &e) ||
		    !g_key_file_load_from_data(kf, text, len, G_KEY_FILE_KEEP_TRANSLATIONS, &e)) {
			why = g_strdup_printf("--config %s: %s", p.config_file, e->message);
			g_error_free(e);
		} else if (!(why = file_duplicates(p.config_file, text))) {
			why = check_file(&p, kf);
		}
	}
	if (!why)
		why = apply(&p, kf);
	if (!why)
		why = cross_check(&p);
	if (kf)
		g_key_file_free(kf);
	if (why)
		return fail(&p, why, err);

	cfg->config_file = g_steal_pointer(&p.config_file);
	if (!cfg->status_socket && !p.no_status) {
		cfg->status_socket = svc_status_default_path(p.role, &cfg->status_dir_make);
		if (!cfg->status_socket)
			return fail(&p, g_strdup_printf("no place for the status socket: "
				"/run/veracam/%s is not writable and neither $RUNTIME_DIRECTORY (systemd) "
				"nor $XDG_RUNTIME_DIR is set; give --status-socket PATH (or none)",
				svc_role_name(p.role)), err);
	}
	parse_free(&p);
	return SVC_CONFIG_RUN;
}

int svc_config_report(enum svc_config_result r, char *err, FILE *out, FILE *errf)
{
	int status = r == SVC_CONFIG_HELP ? 0 : SVC_EXIT_USAGE;

	if (r == SVC_CONFIG_HELP)
		fputs(err, out);
	else
		fprintf(errf, "veracamd: %s\n", err ? err : "configuration error");
	g_free(err);
	return status;
}

void svc_config_log(const struct svc_config *cfg)
{
	const struct svc_camera_config *c = &cfg->camera;
	const struct svc_hub_config *h = &cfg->hub;
	struct svc_log_entry e;
	char addr[SVC_ADDR_STR_MAX];

	svc_log_begin(&e, LOG_INFO);
	svc_log_field(&e, "VERACAM_ROLE", "%s", svc_role_name(cfg->role));
	svc_log_field(&e, "VERACAM_KEYS_DIR", "%s", cfg->keys_dir);
	if (cfg->config_file)
		svc_log_field(&e, "VERACAM_CONFIG", "%s", cfg->config_file);
	svc_log_field(&e, "VERACAM_STATUS_SOCKET", "%s",
		      cfg->status_socket ? cfg->status_socket : "none");
	if (cfg->role == VC_ROLE_CAMERA) {
		svc_addr_format(&c->listen, addr);
		svc_log_field(&e, "VERACAM_CAMERA", "%s", c->name);
		svc_log_field(&e, "VERACAM_SOURCE", "%s", c->source);
		svc_log_field(&e, "VERACAM_LISTEN", "%s", addr);
		svc_log_end(&e, "camera %s: source %s, %ux%u@%u, %u bit/s, encoder %s, "
			    "listening on %s (%s), keys in %s", c->name, c->source,
			    c->width, c->height, c->fps, c->bitrate,
			    vc_encoder_name(c->encoder), addr, transport_names[c->transport],
			    cfg->keys_dir);
		return;
	}
	for (unsigned int i = 0; i < h->n_cameras; i++) {
		char *name = g_strdup_printf("VERACAM_CAMERA_%u", i);

		svc_addr_format(&h->cameras[i].addr, addr);
		svc_log_field(&e, name, "%s@%s%s%s", h->cameras[i].name, addr,
			      h->cameras[i].source ? ",source=" : "",
			      h->cameras[i].source ? h->cameras[i].source : "");
		g_free(name);
	}
	svc_log_field(&e, "VERACAM_DISPLAY", "%s", h->display);
	svc_log_end(&e, "hub: %u camera%s, display %s (%s), freshness %" PRIu64
		    "ms, unavailable after %" PRIu64 "ms, keys in %s", h->n_cameras,
		    h->n_cameras == 1 ? "" : "s", h->display, layout_names[h->layout],
		    h->freshness_ns / MS, h->unavailable_ns / MS, cfg->keys_dir);
}
