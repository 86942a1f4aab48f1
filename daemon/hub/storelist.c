// SPDX-License-Identifier: GPL-2.0
/*
 * storelist.c - a strict parser of the store's listing (nginx's JSON
 * autoindex) and of event object names. Its input comes from an untrusted
 * store through an untrusted cache: every length is checked, nothing is
 * recursed into, and anything not of the expected shape refuses the
 * whole listing (store.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

G_DEFINE_QUARK(veracam-store-error-quark, store_error)

struct lex {
	const char *start, *p, *end;
	GError **error;
};

/* The listing refused: what and where (the last one said is kept). */
static int bad(struct lex *l, const char *what)
{
	if (l->error)
		g_clear_error(l->error);
	g_set_error(l->error, STORE_ERROR, STORE_ERROR_LISTING, "listing: %s at byte %zu", what,
		    (size_t)(l->p - l->start));
	return -1;
}

static void skip_ws(struct lex *l)
{
	while (l->p < l->end && (*l->p == ' ' || *l->p == '\t' || *l->p == '\n' || *l->p == '\r'))
		l->p++;
}

static bool take(struct lex *l, char c)
{
	skip_ws(l);
	if (l->p < l->end && *l->p == c) {
		l->p++;
		return true;
	}
	return false;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * A JSON string into out (cap bytes with its NUL; NULL: only checked).
 * Escapes decoded; \u0000, a lone surrogate and raw control characters
 * refused; longer than cap - 1 refused when kept. 0 or -1.
 */
static int string(struct lex *l, char *out, size_t cap)
{
	size_t n = 0;

	if (!take(l, '"'))
		return bad(l, "expected a string");
	while (l->p < l->end && *l->p != '"') {
		unsigned char c = (unsigned char)*l->p++;
		char buf[4];
		size_t k = 1;

		if (c < 0x20)
			return bad(l, "control character in a string");
		buf[0] = (char)c;
		if (c == '\\') {
			if (l->p >= l->end)
				break;
			c = (unsigned char)*l->p++;
			switch (c) {
			case '"': case '\\': case '/': buf[0] = (char)c; break;
			case 'b': buf[0] = '\b'; break;
			case 'f': buf[0] = '\f'; break;
			case 'n': buf[0] = '\n'; break;
			case 'r': buf[0] = '\r'; break;
			case 't': buf[0] = '\t'; break;
			case 'u': {
				unsigned int u = 0;

				if (l->end - l->p < 4)
					return bad(l, "short \\u escape");
				for (int i = 0; i < 4; i++) {
					int h = hexval(l->p[i]);

					if (h < 0)
						return bad(l, "bad \\u escape");
					u = u << 4 | (unsigned int)h;
				}
				l->p += 4;
				if (!u || (u >= 0xd800 && u <= 0xdfff))
					return bad(l, "NUL or surrogate in a string");
				if (u < 0x80) {
					buf[0] = (char)u;
				} else if (u < 0x800) {
					buf[0] = (char)(0xc0 | u >> 6);
					buf[1] = (char)(0x80 | (u & 0x3f));
					k = 2;
				} else {
					buf[0] = (char)(0xe0 | u >> 12);
					buf[1] = (char)(0x80 | ((u >> 6) & 0x3f));
					buf[2] = (char)(0x80 | (u & 0x3f));
					k = 3;
				}
				break;
			}
			default:
				return bad(l, "bad escape");
			}
		}
		if (out) {
			if (n + k >= cap)
				return bad(l, "string too long");
			memcpy(out + n, buf, k);
		}
		n += k;
	}
	if (l->p >= l->end)
		return bad(l, "unterminated string");
	l->p++;
	if (out)
		out[n] = 0;
	return 0;
}

/* A JSON number; an integer 0..2^62 into *v, anything else *v = -1. 0 or -1. */
static int number(struct lex *l, int64_t *v)
{
	bool integer = true;
	int64_t x = 0;

	if (l->p < l->end && *l->p == '-') {
		l->p++;
		integer = false;
	}
	if (l->p >= l->end || *l->p < '0' || *l->p > '9')
		return bad(l, "bad number");
	if (*l->p == '0' && l->end - l->p > 1 && l->p[1] >= '0' && l->p[1] <= '9')
		return bad(l, "leading zero");
	while (l->p < l->end && *l->p >= '0' && *l->p <= '9') {
		if (x > ((int64_t)1 << 62) / 10)
			integer = false;
		else
			x = x * 10 + (*l->p - '0');
		l->p++;
	}
	if (l->p < l->end && *l->p == '.') {
		integer = false;
		l->p++;
		if (l->p >= l->end || *l->p < '0' || *l->p > '9')
			return bad(l, "bad fraction");
		while (l->p < l->end && *l->p >= '0' && *l->p <= '9')
			l->p++;
	}
	if (l->p < l->end && (*l->p == 'e' || *l->p == 'E')) {
		integer = false;
		l->p++;
		if (l->p < l->end && (*l->p == '+' || *l->p == '-'))
			l->p++;
		if (l->p >= l->end || *l->p < '0' || *l->p > '9')
			return bad(l, "bad exponent");
		while (l->p < l->end && *l->p >= '0' && *l->p <= '9')
			l->p++;
	}
	*v = integer ? x : -1;
	return 0;
}

static bool word(struct lex *l, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(l->end - l->p) < n || memcmp(l->p, w, n))
		return false;
	l->p += n;
	return true;
}

/* One scalar member value: into out (strings, when out) or *num. */
static int scalar(struct lex *l, char *out, size_t cap, int64_t *num)
{
	skip_ws(l);
	if (l->p >= l->end)
		return bad(l, "value expected");
	if (*l->p == '"')
		return string(l, out, cap);
	if (*l->p == '-' || (*l->p >= '0' && *l->p <= '9'))
		return number(l, num);
	if (word(l, "true") || word(l, "false") || word(l, "null"))
		return 0;
	return bad(l, "not a string, number, true, false or null");
}

static int entry(struct lex *l, struct store_entry *e)
{
	bool have_name = false;

	memset(e, 0, sizeof(*e));
	e->size = -1;
	if (!take(l, '{'))
		return bad(l, "expected an object");
	if (take(l, '}'))
		return bad(l, "an entry without a name");
	do {
		char key[64], type[32];
		int64_t num = -1;
		int rc;

		if (string(l, key, sizeof(key)) < 0 || !take(l, ':'))
			return bad(l, "expected a member");
		if (!strcmp(key, "name")) {
			if (have_name)
				return bad(l, "two names");
			skip_ws(l);
			if (l->p >= l->end || *l->p != '"')
				return bad(l, "a name that is not a string");
			rc = string(l, e->name, sizeof(e->name));
			have_name = true;
		} else if (!strcmp(key, "type")) {
			type[0] = 0;
			skip_ws(l);
			rc = l->p < l->end && *l->p == '"' ? string(l, type, sizeof(type)) :
			     scalar(l, NULL, 0, &num);
			e->is_file = !strcmp(type, "file");
		} else if (!strcmp(key, "size")) {
			rc = scalar(l, NULL, 0, &num);
			e->size = num;
		} else {
			rc = scalar(l, NULL, 0, &num);
		}
		if (rc < 0)
			return -1;
	} while (take(l, ','));
	if (!take(l, '}'))
		return bad(l, "expected , or }");
	if (!have_name)
		return bad(l, "an entry without a name");
	return 0;
}

int store_list_parse(const char *p, size_t len, struct store_entry **out, size_t *n,
		     GError **error)
{
	struct lex l = { p, p, p + len, error };
	struct store_entry *v = NULL;
	size_t have = 0, room = 0;

	*out = NULL;
	*n = 0;
	if (len > STORE_LIST_MAX_BYTES) {
		g_set_error(error, STORE_ERROR, STORE_ERROR_LISTING, "listing: longer than %u bytes",
			    STORE_LIST_MAX_BYTES);
		return -1;
	}
	if (!take(&l, '['))
		return bad(&l, "not a JSON array");
	if (!take(&l, ']')) {
		do {
			if (have == STORE_LIST_MAX_ENTRIES) {
				bad(&l, "too many entries");
				goto fail;
			}
			if (have == room) {
				struct store_entry *nv;

				room = room ? room * 2 : 16;
				nv = realloc(v, room * sizeof(*v));
				if (!nv) {
					bad(&l, "out of memory");
					goto fail;
				}
				v = nv;
			}
			if (entry(&l, &v[have]) < 0)
				goto fail;
			have++;
		} while (take(&l, ','));
		if (!take(&l, ']')) {
			bad(&l, "expected , or ]");
			goto fail;
		}
	}
	skip_ws(&l);
	if (l.p != l.end) {
		bad(&l, "bytes after the array");
		goto fail;
	}
	*out = v;
	*n = have;
	return 0;
fail:
	free(v);
	return -1;
}

bool store_envelope_name(const char *name, uint64_t *number, uint8_t event_id[16])
{
	uint64_t x = 0;

	if (strlen(name) != STORE_EVENT_NAME_LEN + 4 || strcmp(name + STORE_EVENT_NAME_LEN, ".env") ||
	    name[20] != '-')
		return false;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		if (x > (UINT64_MAX - (uint64_t)(name[i] - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(name[i] - '0');
	}
	for (int i = 0; i < 16; i++) {
		int hi = hexval(name[21 + 2 * i]), lo = hexval(name[22 + 2 * i]);

		if (hi < 0 || lo < 0 || (name[21 + 2 * i] >= 'A' && name[21 + 2 * i] <= 'F') ||
		    (name[22 + 2 * i] >= 'A' && name[22 + 2 * i] <= 'F'))
			return false;
		event_id[i] = (uint8_t)(hi << 4 | lo);
	}
	*number = x;
	return true;
}
