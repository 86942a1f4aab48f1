// SPDX-License-Identifier: GPL-2.0
/*
 * addr.c - strict HOST:PORT parsing for --listen and --camera.
 *
 *   192.0.2.10:7000        IPv4, dotted quad (inet_pton's strict form)
 *   [2001:db8::10]:7000    IPv6, always in brackets
 *   cam.example.net:7000   host name (RFC 1123 labels), resolved when used
 *
 * Ports are 1..65535 in plain decimal without leading zeros. A parsed
 * address is resolved (a name through getaddrinfo) when a socket is made.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <string.h>

#include "service.h"

/* The service frame's error domain (service.h), defined here, its leaf file. */
G_DEFINE_QUARK(svc-error-quark, svc_error)

static bool parse_port(const char *p, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = strlen(p);

	if (n == 0 || n > 5 || p[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_isdigit(p[i]))
			return false;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v > 65535)
		return false;
	*port = (uint16_t)v;
	return true;
}

/* RFC 1123 host name; the last label may not be all digits (so that a
 * mistyped IPv4 address is never taken for a name). */
static bool valid_hostname(const char *h)
{
	size_t n = strlen(h), label = 0;
	bool digits_only = true;

	if (n == 0 || n > SVC_HOST_MAX)
		return false;
	for (size_t i = 0; i <= n; i++) {
		char c = h[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || h[i - 1] == '-')
				return false;
			if (c == '\0')
				return !digits_only;
			label = 0;
			digits_only = true;
			continue;
		}
		if (!g_ascii_isalnum(c) && c != '-')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (!g_ascii_isdigit(c))
			digits_only = false;
		label++;
	}
	return false;
}

/* SVC_ERROR_ADDRESS with the reason; returns false for the caller to pass on. */
static bool G_GNUC_PRINTF(2, 3) bad(GError **error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	g_propagate_error(error, g_error_new_valist(SVC_ERROR, SVC_ERROR_ADDRESS, fmt, ap));
	va_end(ap);
	return false;
}

bool svc_addr_parse(const char *s, struct svc_addr *out, GError **error)
{
	const char *colon, *host = s;
	size_t hlen;
	unsigned char bin[16];

	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return bad(error, "empty address; expected HOST:PORT");
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return bad(error, "\"%s\": expected [IPv6]:PORT", s);
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
		out->kind = SVC_ADDR_IPV6;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return bad(error, "\"%s\": no port; expected HOST:PORT", s);
		hlen = (size_t)(colon - s);
		if (memchr(s, ':', hlen))
			return bad(error, "\"%s\": an IPv6 address must be written [ADDRESS]:PORT",
				   s);
		out->kind = SVC_ADDR_IPV4;
	}
	if (hlen == 0 || hlen > SVC_HOST_MAX)
		return bad(error, "\"%s\": %s host", s, hlen ? "overlong" : "empty");
	memcpy(out->host, host, hlen);
	out->host[hlen] = '\0';

	if (!parse_port(colon + 1, &out->port))
		return bad(error, "\"%s\": port must be 1..65535 (decimal, no leading zero)", s);

	if (out->kind == SVC_ADDR_IPV6) {
		if (inet_pton(AF_INET6, out->host, bin) != 1)
			return bad(error, "\"%s\": \"%s\" is not an IPv6 address", s, out->host);
		return true;
	}
	if (inet_pton(AF_INET, out->host, bin) == 1)
		return true;
	if (valid_hostname(out->host)) {
		out->kind = SVC_ADDR_NAME;
		return true;
	}
	return bad(error, "\"%s\": \"%s\" is neither an IPv4 address nor a host name",
		   s, out->host);
}

void svc_addr_format(const struct svc_addr *a, char out[SVC_ADDR_STR_MAX])
{
	if (a->kind == SVC_ADDR_IPV6)
		g_snprintf(out, SVC_ADDR_STR_MAX, "[%s]:%u", a->host, a->port);
	else
		g_snprintf(out, SVC_ADDR_STR_MAX, "%s:%u", a->host, a->port);
}

int svc_addr_resolve(const struct svc_addr *a, int socktype, struct sockaddr_storage *ss,
		     socklen_t *len, GError **error)
{
	struct addrinfo hints = { .ai_socktype = socktype }, *res = NULL;
	char port[8];
	int rc;

	hints.ai_family = a->kind == SVC_ADDR_IPV4 ? AF_INET :
			  a->kind == SVC_ADDR_IPV6 ? AF_INET6 : AF_UNSPEC;
	if (a->kind != SVC_ADDR_NAME)
		hints.ai_flags = AI_NUMERICHOST;
	g_snprintf(port, sizeof(port), "%u", a->port);
	rc = getaddrinfo(a->host, port, &hints, &res);
	if (rc || !res || res->ai_addrlen > sizeof(*ss)) {
		g_set_error(error, SVC_ERROR, SVC_ERROR_RESOLVE, "%s: %s", a->host,
			    rc ? gai_strerror(rc) : "no address");
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}
