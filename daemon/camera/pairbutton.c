// SPDX-License-Identifier: GPL-2.0
/*
 * pairbutton.c - the camera daemon's pairing window, opened by a request
 * line on its status socket (what a board's pairing button sends):
 *
 *	pair-window [ttl=SECONDS] [listen=HOST:PORT] [hub-name=NAME]
 *
 * The window itself is `veracamctl pair-mode KEYS ...`, started here as a
 * child process: the same single-use code, TTL and TLS exchange a person
 * gets at the command line, and the device key is read by that child,
 * never by this network-facing process (docs/ARCHITECTURE.md, "Key
 * custody"). The child's QR PNG goes beside the status socket (the
 * runtime directory); the answer to the request is one line,
 *
 *	open PAYLOAD PNG TTL		or	error WHY
 *
 * and the window's state (open, consumed, expired, refused, failed), its
 * expiry and the attempts it refused are in the status snapshot.
 * Who may send the request is who may connect to the status socket:
 * mode 0660, its owner and group.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>


#include <veracam/pairing.h>
#include <veracam/pairnet.h>

#include "clock.h"
#include "pairbutton.h"

#define START_WAIT_MS	15000	/* the child's payload line, at most (TCG guests are slow) */
#define OUTPUT_MAX	8192
#define TTL_MAX		3600

extern char **environ;

struct pair_button {
	struct svc_service *s;
	pid_t pid;		/* the window's pair-mode, 0 when none */
	int out_fd;		/* its stdout+stderr */
	GString *out;
	char *png;
};

/* The output holds the code (the payload line): wiped, not just freed. */
static void wipe(GString *s)
{
	vc_wipe(s->str, s->allocated_len);
	g_string_truncate(s, 0);
}

static struct svc_pair_window_stats *stats(struct pair_button *b)
{
	return &svc_status_camera_role(b->s->status)->pair_window;
}

/* veracamctl beside this veracamd (the build tree, /usr/bin), else $PATH. */
static char *ctl_path(void)
{
	g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
	g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
	char *p = dir ? g_build_filename(dir, "veracamctl", NULL) : NULL;

	if (p && access(p, X_OK) == 0)
		return p;
	g_free(p);
	return g_strdup("veracamctl");
}

static void on_output(void *data, uint32_t events);

/* The child ended (its output reached EOF): what it said is the outcome. */
static void finished(struct pair_button *b)
{
	struct svc_pair_window_stats *w = stats(b);
	int status = 0;
	const char *o = b->out->str;

	svc_loop_remove_fd(b->s->loop, b->out_fd);
	close(b->out_fd);
	b->out_fd = -1;
	while (waitpid(b->pid, &status, 0) < 0 && errno == EINTR)
		;
	b->pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && strstr(o, "Paired: ")) {
		w->state = "consumed";
		w->paired++;
		svc_log(LOG_NOTICE, "pairing window: a hub paired (%s)",
			strstr(o, "Paired: ") + strlen("Paired: "));
	} else if (strstr(o, "pairing refused")) {
		w->state = "refused";
		w->refused++;
		svc_log(LOG_WARNING, "pairing window: an attempt was refused; the code is spent");
	} else if (strstr(o, "expired")) {
		w->state = "expired";
		svc_log(LOG_INFO, "pairing window: expired, nobody paired");
	} else {
		w->state = "failed";
		svc_log(LOG_WARNING, "pairing window: ended without pairing (exit status %d)",
			WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	if (b->png)
		unlink(b->png);
	wipe(b->out);
}

static void on_output(void *data, uint32_t events)
{
	struct pair_button *b = data;
	char buf[512];
	ssize_t n;

	(void)events;
	for (;;) {
		n = read(b->out_fd, buf, sizeof(buf));
		if (n > 0) {
			if (b->out->len < OUTPUT_MAX)
				g_string_append_len(b->out, buf, n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		break;
	}
	if (n == 0)
		finished(b);
}

/* Read the child's output until its payload line (or EOF, or the wait). */
static const char *await_payload(struct pair_button *b)
{
	int64_t end = (int64_t)(clk_mono_ns() / 1000000u) + START_WAIT_MS;
	char buf[512];

	for (;;) {
		struct pollfd p = { .fd = b->out_fd, .events = POLLIN };
		int64_t left = end - (int64_t)(clk_mono_ns() / 1000000u);
		const char *pl = strstr(b->out->str, VC_PAIR2_PREFIX);
		ssize_t n;

		if (pl && strchr(pl, '\''))
			return pl;
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return NULL;
		n = read(b->out_fd, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0 || b->out->len >= OUTPUT_MAX)
			return NULL;
		g_string_append_len(b->out, buf, n);
	}
}

struct request {
	int ttl;
	char listen[SVC_ADDR_STR_MAX];
	char hub_name[VC_NAME_MAX + 1];
};

static char *parse_request(struct pair_button *b, const char *line, struct request *r)
{
	g_auto(GStrv) words = g_strsplit(line, " ", -1);
	struct svc_addr a = b->s->cfg.camera.listen;

	memset(r, 0, sizeof(*r));
	r->ttl = VC_PAIR_TTL_DEFAULT;
	a.port = (uint16_t)atoi(VC_PAIR_PORT_DEFAULT);
	for (unsigned int i = 1; words[i]; i++) {
		const char *v = strchr(words[i], '=');
		g_autoptr(GError) err = NULL;

		if (!words[i][0])
			continue;
		if (!v)
			return g_strdup_printf("'%s' is not KEY=VALUE", words[i]);
		v++;
		if (g_str_has_prefix(words[i], "ttl=")) {
			char *end;
			long t = strtol(v, &end, 10);

			if (*end || t < 1 || t > TTL_MAX)
				return g_strdup_printf("ttl must be 1..%d seconds", TTL_MAX);
			r->ttl = (int)t;
		} else if (g_str_has_prefix(words[i], "listen=")) {
			if (!svc_addr_parse(v, &a, &err))
				return g_strdup_printf("listen: %s", err->message);
		} else if (g_str_has_prefix(words[i], "hub-name=")) {
			if (!vc_name_valid(v))
				return g_strdup("hub-name: letters, digits, '_', '.', '-'; up to 64");
			snprintf(r->hub_name, sizeof(r->hub_name), "%s", v);
		} else {
			return g_strdup_printf("unknown key '%.*s' (ttl, listen, hub-name)",
					       (int)(v - 1 - words[i]), words[i]);
		}
	}
	svc_addr_format(&a, r->listen);
	return NULL;
}

static char *open_window(struct pair_button *b, const struct request *r)
{
	const struct svc_config *cfg = &b->s->cfg;
	g_autofree char *ctl = ctl_path(), *dir = g_path_get_dirname(cfg->status_socket);
	g_autofree char *ttl = g_strdup_printf("%d", r->ttl);
	struct svc_pair_window_stats *w = stats(b);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none;
	const char *pl;
	int p[2], e;
	char *argv[16];
	int n = 0;

	g_free(b->png);
	b->png = g_build_filename(dir, "pair-qr.png", NULL);
	argv[n++] = ctl;
	argv[n++] = "pair-mode";
	argv[n++] = cfg->keys_dir;
	argv[n++] = "--listen";
	argv[n++] = (char *)r->listen;
	argv[n++] = "--name";
	argv[n++] = cfg->camera.name;
	argv[n++] = "--ttl";
	argv[n++] = ttl;
	argv[n++] = "--png";
	argv[n++] = b->png;
	if (r->hub_name[0]) {
		argv[n++] = "--hub-name";
		argv[n++] = (char *)r->hub_name;
	}
	argv[n] = NULL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return g_strdup_printf("error pipe: %s\n", g_strerror(errno));
	/* the child gets no blocked signals (this loop blocks TERM, INT, HUP) */
	sigemptyset(&none);
	posix_spawnattr_init(&at);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, p[1], STDERR_FILENO);
	e = posix_spawnp(&b->pid, ctl, &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(p[1]);
	if (e) {
		close(p[0]);
		b->pid = 0;
		w->state = "failed";
		return g_strdup_printf("error cannot start %s: %s\n", ctl, g_strerror(e));
	}
	b->out_fd = p[0];
	g_string_truncate(b->out, 0);
	pl = await_payload(b);
	if (!pl) {
		g_autofree char *said = g_strstrip(g_strdup(b->out->str));

		kill(b->pid, SIGTERM);
		while (waitpid(b->pid, NULL, 0) < 0 && errno == EINTR)
			;
		b->pid = 0;
		close(b->out_fd);
		b->out_fd = -1;
		w->state = "failed";
		for (char *c = said; *c; c++)
			if (*c == '\n')
				*c = ' ';
		svc_log(LOG_WARNING, "pairing window: could not open: %s", said);
		return g_strdup_printf("error the pairing window did not open: %s\n", said);
	}
	/* under UMask=0077 it is the service user's only: open it to the socket's group */
	chmod(b->png, 0640);
	fcntl(b->out_fd, F_SETFL, O_NONBLOCK);
	svc_loop_add_fd(b->s->loop, b->out_fd, EPOLLIN, on_output, b);
	w->state = "open";
	w->opened++;
	w->expires_ns = clk_real_ns() + (int64_t)r->ttl * 1000000000;
	svc_log(LOG_NOTICE, "pairing window: open for %d s on %s (requested on the status socket)",
		r->ttl, r->listen);
	return g_strdup_printf("open %.*s %s %d\n", (int)strcspn(pl, "'"), pl, b->png, r->ttl);
}

bool pair_button_serves(const char *request)
{
	return !strcmp(request, "pair-window") || g_str_has_prefix(request, "pair-window ");
}

char *pair_button_command(struct pair_button *b, const char *request)
{
	struct request r;
	char *why;

	if (b->pid)
		return g_strdup("error a pairing window is already open\n");
	why = parse_request(b, request, &r);
	if (why) {
		char *e = g_strdup_printf("error %s\n", why);

		g_free(why);
		return e;
	}
	return open_window(b, &r);
}

struct pair_button *pair_button_new(struct svc_service *s)
{
	struct pair_button *b = g_new0(struct pair_button, 1);

	b->s = s;
	b->out_fd = -1;
	b->out = g_string_new(NULL);
	stats(b)->state = "none";
	return b;
}

void pair_button_free(struct pair_button *b)
{
	if (!b)
		return;
	if (b->pid) {
		kill(b->pid, SIGTERM);
		while (waitpid(b->pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (b->png)
			unlink(b->png);
	}
	if (b->out_fd >= 0) {
		svc_loop_remove_fd(b->s->loop, b->out_fd);
		close(b->out_fd);
	}
	wipe(b->out);
	g_string_free(b->out, TRUE);
	g_free(b->png);
	g_free(b);
}
