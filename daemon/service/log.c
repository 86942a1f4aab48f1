// SPDX-License-Identifier: GPL-2.0
/*
 * log.c - log entries with structured fields. Under systemd (stderr is the
 * journal's stream, JOURNAL_STREAM) they go to the journal natively, so
 * `journalctl VERACAM_HUB=kitchen` finds them; otherwise one escaped text
 * line per entry on stderr.
 *
 * GLib's own log (g_message() and g_warning() of the camera library,
 * GLib's and GStreamer's warnings) comes the same way: a GLib log writer
 * turns each record into an entry at the matching priority, with its log
 * domain as GLIB_DOMAIN, so --log-level and the journal apply to it too.
 *
 * The log never carries key material: nothing in the service frame reads
 * key files, and any message or value holding a PEM block (the format of
 * device.key) is replaced by "[redacted]" as a last line of defence.
 */
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "service.h"

#define FIELD_NAME_MAX	64
#define REDACTED	"[redacted]"

static struct {
	const char *ident;
	int level;
	enum svc_log_target target;
	FILE *stream;		/* NULL: stderr */
} logger = { "veracamd", LOG_INFO, SVC_LOG_STDERR, NULL };

/* Is stderr the stream systemd connected to the journal? */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st))
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

int svc_log_glib_priority(GLogLevelFlags level)
{
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		return LOG_ERR;
	if (level & G_LOG_LEVEL_WARNING)
		return LOG_WARNING;
	if (level & G_LOG_LEVEL_MESSAGE)
		return LOG_NOTICE;
	if (level & G_LOG_LEVEL_INFO)
		return LOG_INFO;
	return LOG_DEBUG;
}

static GLogWriterOutput glib_writer(GLogLevelFlags level, const GLogField *fields,
				    gsize n, gpointer data)
{
	const GLogField *domain = NULL, *message = NULL;
	struct svc_log_entry e;

	(void)data;
	if (svc_log_glib_priority(level) > logger.level)
		return G_LOG_WRITER_HANDLED;
	for (gsize i = 0; i < n; i++) {
		if (!strcmp(fields[i].key, "MESSAGE"))
			message = &fields[i];
		else if (!strcmp(fields[i].key, "GLIB_DOMAIN"))
			domain = &fields[i];
	}
	svc_log_begin(&e, svc_log_glib_priority(level));
	/* a length of -1: nul-terminated text */
	if (domain)
		svc_log_field(&e, "GLIB_DOMAIN", "%.*s",
			      domain->length < 0 ? INT_MAX : (int)domain->length,
			      (const char *)domain->value);
	if (message)
		svc_log_end(&e, "%.*s", message->length < 0 ? INT_MAX : (int)message->length,
			    (const char *)message->value);
	else
		svc_log_end(&e, "(a GLib log record without a message)");
	return G_LOG_WRITER_HANDLED;
}

void svc_log_init(enum vc_role role, int level)
{
	static bool glib_routed;

	logger.ident = role == VC_ROLE_CAMERA ? "veracamd-camera" : "veracamd-hub";
	logger.level = level;
	logger.target = stderr_is_journal() ? SVC_LOG_JOURNAL : SVC_LOG_STDERR;
	/* GLib takes a writer once per process */
	if (!glib_routed) {
		g_log_set_writer_func(glib_writer, NULL, NULL);
		glib_routed = true;
	}
}

enum svc_log_target svc_log_target(void)
{
	return logger.target;
}

void svc_log_set_stream(FILE *f)
{
	logger.stream = f;
	logger.target = SVC_LOG_STDERR;
}

static bool field_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > FIELD_NAME_MAX || name[0] == '_' || g_ascii_isdigit(name[0]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!g_ascii_isupper(name[i]) && !g_ascii_isdigit(name[i]) && name[i] != '_')
			return false;
	return true;
}

static bool holds_key_material(const char *s)
{
	return strstr(s, "-----BEGIN") != NULL;
}

void svc_log_begin(struct svc_log_entry *e, int priority)
{
	*e = (struct svc_log_entry){ .priority = priority };
}

void svc_log_field(struct svc_log_entry *e, const char *name, const char *fmt, ...)
{
	va_list ap;
	char *value;

	if (!field_name_valid(name) || e->n == SVC_LOG_FIELDS_MAX) {
		e->bad++;
		return;
	}
	va_start(ap, fmt);
	value = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	e->field[e->n++] = g_strdup_printf("%s=%s", name,
					   holds_key_material(value) ? REDACTED : value);
	g_free(value);
}

char **svc_log_journal_fields(const struct svc_log_entry *e, const char *msg)
{
	char **f = g_new0(char *, e->n + 5);
	unsigned int k = 0;

	f[k++] = g_strdup_printf("MESSAGE=%s", holds_key_material(msg) ? REDACTED : msg);
	f[k++] = g_strdup_printf("PRIORITY=%d", e->priority);
	f[k++] = g_strdup_printf("SYSLOG_IDENTIFIER=%s", logger.ident);
	for (unsigned int i = 0; i < e->n; i++)
		f[k++] = g_strdup(e->field[i]);
	if (e->bad)
		f[k++] = g_strdup_printf("SVC_LOG_BAD_FIELDS=%u", e->bad);
	return f;
}

/* Append @s with control characters escaped (\n, \t, \xNN). */
static void append_escaped(GString *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			g_string_append(out, "\\n");
		else if (c == '\t')
			g_string_append(out, "\\t");
		else if (c == '\\')
			g_string_append(out, "\\\\");
		else if (c < 0x20 || c == 0x7f)
			g_string_append_printf(out, "\\x%02x", c);
		else
			g_string_append_c(out, (char)c);
	}
}

char *svc_log_text_line(const struct svc_log_entry *e, const char *msg)
{
	GString *line = g_string_new(logger.ident);

	g_string_append(line, ": ");
	append_escaped(line, holds_key_material(msg) ? REDACTED : msg);
	if (e->n) {
		g_string_append(line, " [");
		for (unsigned int i = 0; i < e->n; i++) {
			if (i)
				g_string_append_c(line, ' ');
			append_escaped(line, e->field[i]);
		}
		g_string_append_c(line, ']');
	}
	return g_string_free(line, FALSE);
}

void svc_log_discard(struct svc_log_entry *e)
{
	for (unsigned int i = 0; i < e->n; i++)
		g_free(e->field[i]);
	e->n = 0;
}

static void emit(struct svc_log_entry *e, const char *msg)
{
	if (logger.target == SVC_LOG_JOURNAL) {
		char **f = svc_log_journal_fields(e, msg);
		guint n = g_strv_length(f);
		struct iovec *iov = g_new(struct iovec, n);

		for (guint i = 0; i < n; i++)
			iov[i] = (struct iovec){ f[i], strlen(f[i]) };
		sd_journal_sendv(iov, (int)n);
		g_free(iov);
		g_strfreev(f);
	} else {
		char *line = svc_log_text_line(e, msg);

		fprintf(logger.stream ? logger.stream : stderr, "%s\n", line);
		g_free(line);
	}
}

void svc_log_end(struct svc_log_entry *e, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	if (e->priority <= logger.level) {
		va_start(ap, fmt);
		msg = g_strdup_vprintf(fmt, ap);
		va_end(ap);
		emit(e, msg);
		g_free(msg);
	}
	svc_log_discard(e);
}

void svc_log(int priority, const char *fmt, ...)
{
	struct svc_log_entry e;
	va_list ap;
	char *msg;

	if (priority > logger.level)
		return;
	svc_log_begin(&e, priority);
	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	emit(&e, msg);
	g_free(msg);
}
