// SPDX-License-Identifier: GPL-2.0
/*
 * veracamctl - keys, pairing and status for veracam devices.
 *
 * Exit status: 0 success, 1 an operation failed (I/O), 2 usage or
 * configuration error (bad arguments, key directory, pairing records),
 * 3 (export, verify) the event or file was refused by its checks.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <inttypes.h>
#include <netdb.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>


#include <veracam/enckey.h>
#include <veracam/event.h>
#include <veracam/export.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>
#include <veracam/pairnet.h>

#include "clock.h"
#include "mdns.h"
#include "qr.h"
#include "service.h"
#include "events.h"
#include "store.h"

#define EXIT_FAIL	1
#define EXIT_CONFIG	2
#define EXIT_REJECTED	3	/* verify, export: the file or event does not verify */

static const char usage_text[] =
	"usage: veracamctl COMMAND ...\n"
	"  keygen DIR                       create this device's keys in DIR (device.key,\n"
	"                                   enc.key); prints the identity line\n"
	"  identity DIR [--key-id]          print this device's public identity line\n"
	"                                   (or its key id, to compare with a peer's)\n"
	"  enc-keygen DIR                   create only the encryption key (enc.key) in a\n"
	"                                   key directory made before it existed\n"
	"  enc-identity DIR                 print this device's encryption key line\n"
	"  enc-binding DIR                  hub: print its encryption key line with its\n"
	"                                   device key's signature, for enc-pin\n"
	"  enc-pin DIR NAME BINDING         camera: keep pinned hub NAME's encryption key\n"
	"                                   (enc-binding's line, checked against the pin);\n"
	"                                   events are sealed for it\n"
	"  trust DIR NAME IDENTITY [--role camera|hub] [--pair-code PAYLOAD] [--confirmed]\n"
	"                                   pin a peer by hand (role defaults to camera),\n"
	"                                   pending until confirmed; with --pair-code\n"
	"                                   (a camera) its fingerprint must match and\n"
	"                                   confirms it\n"
	"  confirm DIR NAME                 make a pending pin active, once you compared\n"
	"                                   its key id with the peer's own screen\n"
	"  peers DIR                        list the pinned peers\n"
	"  untrust DIR NAME                 remove a peer's trust now\n"
	"  pair-mode DIR|--running [--listen HOST:PORT] [--address HOST] [--name NAME]\n"
	"            [--hub-name NAME] [--ttl SECONDS] [--png PATH]\n"
	"                                   camera: open a pairing window (one hub,\n"
	"                                   single-use code); shows the QR code\n"
	"            [--sas]\n"
	"  pair DIR NAME PAYLOAD [--hub-name NAME]\n"
	"                                   hub: pair with the camera of a QR payload\n"
	"                                   over the network; pins it as NAME\n"
	"  pair DIR NAME --sas HOST:PORT    hub: pair by comparing six digits on both\n"
	"                                   screens (pins pending until confirm)\n"
	"  pair DIR NAME --discover         hub: list cameras announcing a pairing\n"
	"                                   window on mDNS (a hint: check the key id)\n"
	"  pair-code DIR                    new pairing code; prints the QR payload\n"
	"  sas DIR NAME [CODE|PAYLOAD]      short authentication string to compare\n"
	"                                   on both screens (code from DIR/pair-code\n"
	"                                   when not given)\n"
	"  status camera|hub|SOCKET         the running daemon's counters (JSON) from its\n"
	"                                   status socket (the role's default path, or SOCKET)\n"
	"  event camera|SOCKET [manual|doorbell]\n"
	"                                   the running camera records an event now\n"
	"                                   (pre-roll before, post-roll after)\n"
	"  export DIR EVENT OUT.mp4 [--camera NAME] [--no-thumbnail]\n"
	"                                   hub: open a recorded event (NUMBER-ID.env of a\n"
	"                                   spool, or a spool of one event) with its keys,\n"
	"                                   check it and every frame against the pinned\n"
	"                                   camera, write a playable MP4 that verifies offline\n"
	"  verify FILE.mp4 --camera IDENTITY [--quiet]\n"
	"                                   check an exported clip against a camera's\n"
	"                                   identity line: each frame, then the file\n"
	"                                   (exit 0 verified, 3 rejected or truncated)\n"
	"  events list DIR --store URL --camera NAME [--timeout SECONDS]\n"
	"              [--deadline SECONDS] [--fetch OUTDIR]\n"
	"                                   hub: list camera NAME's events in the event\n"
	"                                   store (or a cache in front of it), each\n"
	"                                   envelope opened with this hub's keys and\n"
	"                                   checked against the one before (gaps shown,\n"
	"                                   a rollback refused: exit 3); the whole run\n"
	"                                   within --deadline (300 s); with --fetch,\n"
	"                                   each event's sealed objects that open, and\n"
	"                                   its envelope, saved in OUTDIR as stored\n"
	"  events show|live [--socket PATH]\n"
	"                                   hub: the running hub's screen to its events\n"
	"                                   view (each camera's newest verified\n"
	"                                   thumbnails) or back to live video\n"
	"  events play CAMERA NUMBER [--socket PATH]\n"
	"                                   hub: play that event's clip full screen,\n"
	"                                   each frame verified before it is decoded,\n"
	"                                   then back to the events view\n"
	"  version                          print the version\n";

static int fail(int status, const char *what)
{
	fprintf(stderr, "veracamctl: %s\n", what);
	return status;
}

/* The synopsis of the running command, for its one-line usage error. */
static const char *synopsis;

/*
 * Seconds since the epoch as UTC, "YYYY-MM-DD hh:mm:ss" (iso: with a 'T'
 * between date and time, ISO 8601); the number itself if it is beyond
 * what the calendar functions take.
 */
static void format_utc(int64_t secs, bool iso, char *out, size_t cap)
{
	time_t t = (time_t)secs;
	struct tm tm;
	size_t n = 0;

	if (gmtime_r(&t, &tm))
		n = iso ? strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm)
			: strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
	if (!n)
		snprintf(out, cap, "%lld", (long long)secs);
}

static int usage(void)
{
	fprintf(stderr, "veracamctl: usage: veracamctl %s (see 'veracamctl help')\n", synopsis);
	return EXIT_CONFIG;
}

static int print_identity(const char *dir, int status_on_error)
{
	struct vc_device_key *k = vc_key_load(dir);
	char id[VC_IDENTITY_LEN + 1];

	if (!k)
		return fail(status_on_error, vc_last_error());
	vc_identity_format(vc_key_public(k), id);
	printf("%s\n", id);
	vc_key_free(k);
	return 0;
}

static int cmd_keygen(int argc, char **argv)
{
	if (argc != 1)
		return usage();
	if (vc_keygen(argv[0]) < 0)
		return fail(EXIT_CONFIG, vc_last_error());
	if (vc_enc_keygen(argv[0]) < 0)
		return fail(EXIT_FAIL, vc_last_error());
	return print_identity(argv[0], EXIT_FAIL);
}

static int print_enc_identity(const char *dir, int status_on_error)
{
	struct vc_enc_key *k = vc_enc_key_load(dir);
	char line[VC_ENC_IDENTITY_LEN + 1];

	if (!k)
		return fail(status_on_error, vc_last_error());
	vc_enc_identity_format(vc_enc_key_public(k), line);
	printf("%s\n", line);
	vc_enc_key_free(k);
	return 0;
}

static int cmd_enc_keygen(int argc, char **argv)
{
	if (argc != 1)
		return usage();
	if (vc_enc_keygen(argv[0]) < 0)
		return fail(EXIT_CONFIG, vc_last_error());
	return print_enc_identity(argv[0], EXIT_FAIL);
}

static int cmd_enc_identity(int argc, char **argv)
{
	if (argc != 1)
		return usage();
	return print_enc_identity(argv[0], EXIT_CONFIG);
}

static int cmd_identity(int argc, char **argv)
{
	char idhex[2 * VC_KEY_ID_LEN + 1];
	struct vc_device_key *k;

	if (argc == 1)
		return print_identity(argv[0], EXIT_CONFIG);
	if (argc != 2 || strcmp(argv[1], "--key-id"))
		return usage();
	k = vc_key_load(argv[0]);
	if (!k)
		return fail(EXIT_CONFIG, vc_last_error());
	vc_hex(vc_key_id(k), VC_KEY_ID_LEN, idhex);
	printf("%s\n", idhex);
	vc_key_free(k);
	return 0;
}

static int cmd_trust(int argc, char **argv)
{
	const char *payload = NULL;
	bool confirmed = false;
	char idhex[2 * VC_KEY_ID_LEN + 1];
	struct vc_peer p;
	int i;

	if (argc < 3)
		return usage();
	memset(&p, 0, sizeof(p));
	p.role = VC_ROLE_CAMERA;
	for (i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "--role") && i + 1 < argc) {
			if (vc_role_parse(argv[++i], &p.role) < 0)
				return fail(EXIT_CONFIG, vc_last_error());
		} else if (!strcmp(argv[i], "--pair-code") && i + 1 < argc) {
			payload = argv[++i];
		} else if (!strcmp(argv[i], "--confirmed")) {
			confirmed = true;
		} else {
			return usage();
		}
	}
	if (!vc_name_valid(argv[1]))
		return fail(EXIT_CONFIG, "invalid NAME (letters, digits, '_', '.', '-'; up to 64; "
				    "not starting with '.' or '-')");
	strcpy(p.name, argv[1]);
	if (vc_identity_parse(argv[2], p.pub) < 0 || vc_key_id_of(p.pub, p.key_id) < 0)
		return fail(EXIT_CONFIG, vc_last_error());
	if (payload) {
		uint8_t fp[VC_KEY_ID_LEN];
		char code[VC_PAIR_CODE_DIGITS + 1];

		if (vc_pair_payload_parse(payload, fp, code) < 0)
			return fail(EXIT_CONFIG, vc_last_error());
		if (!vc_equal(fp, p.key_id, VC_KEY_ID_LEN))
			return fail(EXIT_CONFIG, "identity does not match the pairing code's "
					    "fingerprint; not trusted");
		/* the camera's 128-bit key id, read off the camera itself */
		if (p.role == VC_ROLE_CAMERA)
			confirmed = true;
	}
	p.created = clk_real_ns() / 1000000000;
	p.pending = !confirmed;
	if (vc_peer_trust(argv[0], &p) < 0)
		return fail(EXIT_CONFIG, vc_last_error());
	if (p.pending) {
		vc_hex(p.key_id, VC_KEY_ID_LEN, idhex);
		fprintf(stderr, "veracamctl: '%s' is pinned but pending: no session with it until "
			"you compare key id %s with what 'veracamctl identity --key-id' shows on "
			"the %s itself and run 'veracamctl confirm %s %s'. Simpler and sound: "
			"'veracamctl pair-mode' on the camera, 'veracamctl pair' on the hub.\n",
			p.name, idhex, vc_role_name(p.role), argv[0], p.name);
	}
	return 0;
}

static int cmd_confirm(int argc, char **argv)
{
	if (argc != 2)
		return usage();
	if (vc_peer_confirm(argv[0], argv[1]) < 0)
		return fail(EXIT_CONFIG, vc_last_error());
	return 0;
}

static void say_skipped(void *ctx, const char *name, const char *why)
{
	fprintf(stderr, "veracamctl: peers: skipped %s/peers/%s: %s\n", (const char *)ctx, name, why);
}

/* hub: "veracam1:x25519:HEX SIGHEX", the encryption key its device key vouches for. */
static int cmd_enc_binding(int argc, char **argv)
{
	struct vc_device_key *k;
	struct vc_enc_key *e;
	char line[VC_ENC_IDENTITY_LEN + 1], sighex[2 * VC_SIG_LEN + 1];
	uint8_t sig[VC_SIG_LEN];
	int rc = 0;

	if (argc != 1)
		return usage();
	k = vc_key_load(argv[0]);
	e = k ? vc_enc_key_load(argv[0]) : NULL;
	if (!e || vc_enc_binding_sign(k, vc_enc_key_public(e), sig) < 0) {
		rc = fail(EXIT_CONFIG, vc_last_error());
	} else {
		vc_enc_identity_format(vc_enc_key_public(e), line);
		vc_hex(sig, sizeof(sig), sighex);
		printf("%s %s\n", line, sighex);
	}
	vc_enc_key_free(e);
	vc_key_free(k);
	return rc;
}

/*
 * camera: DIR/hub-enc/NAME, the encryption key of pinned hub NAME, kept
 * only when its binding verifies under the pinned device key (0600,
 * written atomically). Events are sealed for the hubs found there.
 */
static int cmd_enc_pin(int argc, char **argv)
{
	g_autofree char *text = NULL;
	uint8_t enc[VC_ENC_PUBKEY_LEN], sig[VC_SIG_LEN];
	struct vc_peer p;
	int r;

	if (argc != 3 && argc != 4)
		return usage();
	if (vc_peer_load(argv[0], argv[1], &p) < 0)
		return fail(EXIT_CONFIG, vc_last_error());
	if (p.role != VC_ROLE_HUB)
		return fail(EXIT_CONFIG, "enc-pin: that peer is not a hub");
	text = argc == 4 ? g_strdup_printf("%s %s", argv[2], argv[3]) : g_strdup(argv[2]);
	if (vc_hub_enc_parse(g_strstrip(text), enc, sig) < 0)
		return fail(EXIT_CONFIG, "enc-pin: expected the hub's enc-binding line "
			    "(veracam1:x25519:HEX SIGNATURE)");
	if (!vc_enc_binding_verify(p.pub, enc, sig))
		return fail(EXIT_FAIL, "enc-pin: the signature is not the pinned hub's: not kept");
	r = vc_hub_enc_store(argv[0], argv[1], p.pub, enc, sig);
	if (r < 0)
		return fail(EXIT_FAIL, vc_last_error());
	printf("events are sealed for hub %s from the next one on%s\n", argv[1],
	       r ? "" : " (that key was kept already)");
	return 0;
}

static int cmd_peers(int argc, char **argv)
{
	char idhex[2 * VC_KEY_ID_LEN + 1], when[32];
	struct vc_peer *v;
	size_t n, i;

	if (argc != 1)
		return usage();
	if (vc_peer_list_skipping(argv[0], &v, &n, say_skipped, argv[0]) < 0)
		return fail(EXIT_CONFIG, vc_last_error());
	printf("%-20s %-6s %-32s %-20s %s\n", "NAME", "ROLE", "KEY ID", "CREATED (UTC)", "STATE");
	for (i = 0; i < n; i++) {
		vc_hex(v[i].key_id, VC_KEY_ID_LEN, idhex);
		format_utc(v[i].created, false, when, sizeof(when));
		printf("%-20s %-6s %s %-20s %s\n", v[i].name, vc_role_name(v[i].role), idhex, when,
		       v[i].pending ? "pending" : "active");
	}
	free(v);
	return 0;
}

static int cmd_untrust(int argc, char **argv)
{
	if (argc != 2)
		return usage();
	if (vc_peer_untrust(argv[0], argv[1]) < 0)
		return fail(EXIT_CONFIG, vc_last_error());
	return 0;
}

static int cmd_pair_code(int argc, char **argv)
{
	char payload[VC_PAIR_PAYLOAD_LEN + 1];
	struct vc_device_key *k;
	int ret = 0;

	if (argc != 1)
		return usage();
	k = vc_key_load(argv[0]);
	if (!k)
		return fail(EXIT_CONFIG, vc_last_error());
	if (vc_pair_code_new(argv[0], k, payload) < 0)
		ret = fail(EXIT_FAIL, vc_last_error());
	else
		printf("%s\n", payload);
	vc_key_free(k);
	vc_wipe(payload, sizeof(payload));
	return ret;
}

static int cmd_sas(int argc, char **argv)
{
	char code[VC_PAIR_CODE_DIGITS + 1], sas[VC_SAS_LEN + 1];
	struct vc_device_key *k;
	const uint8_t *camera, *hub;
	struct vc_peer p;
	int ret = 0;

	if (argc != 2 && argc != 3)
		return usage();
	if (argc == 3) {
		size_t n = strlen(argv[2]);

		if (n == VC_PAIR_CODE_DIGITS) {
			memcpy(code, argv[2], n + 1);
		} else if (vc_pair_payload_parse(argv[2], NULL, code) < 0) {
			return fail(EXIT_CONFIG, "CODE must be the 8-digit pairing code or its payload");
		}
	} else if (vc_pair_code_load(argv[0], code) < 0) {
		fprintf(stderr, "veracamctl: no pairing code here; pass CODE (the other device's) "
			"or run 'veracamctl pair-code %s' first: %s\n", argv[0], vc_last_error());
		return EXIT_CONFIG;
	}
	if (vc_peer_load(argv[0], argv[1], &p) < 0)
		return fail(EXIT_CONFIG, vc_last_error());
	k = vc_key_load(argv[0]);
	if (!k)
		return fail(EXIT_CONFIG, vc_last_error());
	/* the peer's role says which side this device is */
	camera = p.role == VC_ROLE_CAMERA ? p.pub : vc_key_public(k);
	hub = p.role == VC_ROLE_CAMERA ? vc_key_public(k) : p.pub;
	if (vc_sas(camera, hub, code, sas) < 0)
		ret = fail(EXIT_CONFIG, vc_last_error());
	else
		printf("%s\n", sas);
	vc_key_free(k);
	vc_wipe(code, sizeof(code));
	return ret;
}

/* A name for this device from its host name, else fallback. */
static void default_name(char *out, size_t cap, const char *fallback)
{
	char host[256];
	size_t i;

	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		host[strcspn(host, ".")] = '\0';
		host[VC_NAME_MAX] = '\0';
		for (i = 0; host[i]; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
				    host[i]))
				host[i] = '-';
		if (vc_name_valid(host) && strlen(host) < cap) {
			memcpy(out, host, strlen(host) + 1);
			return;
		}
	}
	snprintf(out, cap, "%s", fallback);
}

/* Split "HOST:PORT" or "[V6]:PORT"; host may come back empty (any address). */
static int split_hostport(const char *s, char *host, size_t hcap, char *port, size_t pcap)
{
	const char *colon;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= hcap)
			return -1;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= hcap)
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
	}
	if (!colon[1] || strlen(colon + 1) >= pcap)
		return -1;
	strcpy(port, colon + 1);
	return 0;
}

/* This machine's first non-loopback IPv4 address, for the QR payload. */
static int guess_address(char *out, size_t cap)
{
	struct ifaddrs *ifa, *i;
	int ret = -1;

	if (getifaddrs(&ifa) < 0)
		return -1;
	for (i = ifa; i; i = i->ifa_next) {
		const struct sockaddr_in *sin = (const void *)i->ifa_addr;

		if (!sin || sin->sin_family != AF_INET ||
		    (ntohl(sin->sin_addr.s_addr) >> 24) == 127)
			continue;
		if (inet_ntop(AF_INET, &sin->sin_addr, out, (socklen_t)cap))
			ret = 0;
		break;
	}
	freeifaddrs(ifa);
	return ret;
}

/*
 * A TCP socket listening on (passive) or connected to host:port, the
 * first address that works; -1 after saying why on stderr.
 */
static int tcp_socket(const char *host, const char *port, bool passive)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = passive ? AI_PASSIVE : 0 };
	struct timeval tv = { .tv_sec = VC_PAIR_IO_TIMEOUT_S };
	struct addrinfo *res, *a;
	int fd = -1, one = 1, e;

	e = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (e) {
		fprintf(stderr, "veracamctl: %s: %s\n", host, gai_strerror(e));
		return -1;
	}
	for (a = res; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		if (passive) {
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 4) == 0)
				break;
		} else {
			/* bounds connect() too */
			setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
			if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
				break;
		}
		e = errno;
		close(fd);
		fd = -1;
		errno = e;
	}
	if (fd < 0 && passive)
		fprintf(stderr, "veracamctl: pair-mode: cannot listen on %s port %s: %s\n",
			host[0] ? host : "*", port, strerror(errno));
	else if (fd < 0)
		fprintf(stderr, "veracamctl: pair: cannot reach the camera at %s port %s: %s "
			"(is its pairing window open?)\n", host, port, strerror(errno));
	freeaddrinfo(res);
	return fd;
}

static int64_t now_ms(void)
{
	return (int64_t)(clk_mono_ns() / 1000000u);
}

/*
 * A top-level text field of a status snapshot ("  \"KEY\": \"...\""),
 * unescaped; NULL when absent or holding escapes other than \" and \\.
 */
static char *status_field(const char *doc, const char *key)
{
	g_autofree char *pat = g_strdup_printf("\n  \"%s\": \"", key);
	const char *p = strstr(doc, pat);
	GString *v;

	if (!p)
		return NULL;
	v = g_string_new(NULL);
	for (p += strlen(pat); *p && *p != '"'; p++) {
		if (*p == '\\') {
			p++;
			if (*p != '"' && *p != '\\') {
				g_string_free(v, TRUE);
				return NULL;
			}
		}
		g_string_append_c(v, *p);
	}
	if (*p != '"') {
		g_string_free(v, TRUE);
		return NULL;
	}
	return g_string_free(v, FALSE);
}

/*
 * Whether nobody but root and @path's owners can have put @path where it
 * is: no directory from / down to it may be writable by group or others
 * unless it is sticky (/tmp: others cannot rename or remove what is ours),
 * and each belongs to root, to us, or to the owner of the entry below it.
 * Checked on the path as given and on where its symlinks lead. Returns
 * NULL or what is wrong.
 */
static char *path_unsafe(const char *path)
{
	g_autofree char *real = realpath(path, NULL);
	const char *const both[] = { path, real };

	if (!real)
		return g_strdup_printf("%s: %s", path, g_strerror(errno));
	for (size_t k = 0; k < G_N_ELEMENTS(both); k++) {
		g_autofree char *p = g_canonicalize_filename(both[k], NULL);
		struct stat below;

		if (lstat(p, &below) < 0)
			return g_strdup_printf("%s: %s", p, g_strerror(errno));
		while (strcmp(p, "/")) {
			char *up = g_path_get_dirname(p);
			struct stat st;

			g_free(p);
			p = up;
			if (stat(p, &st) < 0)
				return g_strdup_printf("%s: %s", p, g_strerror(errno));
			if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
				return g_strdup_printf("%s is writable by others than its owner", p);
			if (st.st_uid && st.st_uid != geteuid() && st.st_uid != below.st_uid)
				return g_strdup_printf("%s belongs to uid %u, who could replace what "
						       "is in it", p, (unsigned int)st.st_uid);
			below = st;
		}
	}
	return NULL;
}

/*
 * The running camera's key directory and name, from its status socket:
 * only a socket nobody else could have planted is believed, since the key
 * directory it names is the one this pairing pins.
 */
static int running_camera(char **dir, char **name)
{
	g_autofree char *tried = NULL;
	g_autofree char *path = svc_status_find(VC_ROLE_CAMERA, &tried);
	g_autofree char *unsafe = NULL;
	struct stat sock, keys;
	g_autoptr(GError) err = NULL;
	char *doc;
	int ret = -1;

	if (!path) {
		fprintf(stderr, "veracamctl: pair-mode: no camera status socket (looked for %s): is "
			"veracamd camera running? Else give its key directory\n", tried);
		return -1;
	}
	unsafe = path_unsafe(path);
	if (unsafe) {
		fprintf(stderr, "veracamctl: pair-mode: not trusting the status socket %s (%s): "
			"give the camera's key directory instead\n", path, unsafe);
		return -1;
	}
	doc = svc_status_fetch(path, &err);
	if (!doc) {
		fprintf(stderr, "veracamctl: pair-mode: %s: %s\n", path, err->message);
		return -1;
	}
	*dir = status_field(doc, "keys");
	*name = status_field(doc, "name");
	if (!*dir || !**dir || !*name) {
		fprintf(stderr, "veracamctl: pair-mode: %s does not say its key directory (an older "
			"veracamd?); give the directory\n", path);
	} else if (stat(path, &sock) < 0 || stat(*dir, &keys) < 0 || sock.st_uid != keys.st_uid) {
		/* the daemon that made the socket owns the keys it says it runs with */
		fprintf(stderr, "veracamctl: pair-mode: %s names the key directory %s, which its "
			"daemon's user does not own; give the directory\n", path, *dir);
	} else {
		ret = 0;
	}
	if (ret < 0) {
		g_clear_pointer(dir, g_free);
		g_clear_pointer(name, g_free);
	}
	g_free(doc);
	return ret;
}

/* The pair_window state in a camera's status snapshot; NULL if none. */
static char *window_state(const char *doc)
{
	const char *p = strstr(doc, "\"pair_window\": { \"state\": \"");

	if (!p)
		return NULL;
	p = strchr(p + strlen("\"pair_window\": { \"state\": "), '"') + 1;
	return g_strndup(p, strcspn(p, "\""));
}

/*
 * The button: ask the running camera daemon to open its own pairing window
 * ("pair-window" on its status socket), show the QR code it answers with,
 * and wait for the window's outcome in its status.
 */
static int pair_mode_daemon(const char *listen_arg, const char *hub_name, int ttl)
{
	g_autofree char *tried = NULL, *req = NULL, *ans = NULL, *doc = NULL;
	g_autoptr(GError) err = NULL;
	g_autofree char *path = svc_status_find(VC_ROLE_CAMERA, &tried), *name = NULL;
	g_auto(GStrv) f = NULL;
	int64_t end_ms;

	if (!path) {
		fprintf(stderr, "veracamctl: pair-mode: no camera status socket (looked for %s): is "
			"veracamd camera running? Else give its key directory\n", tried);
		return EXIT_FAIL;
	}
	doc = svc_status_fetch(path, NULL);
	if (doc)
		name = status_field(doc, "name");
	req = g_strdup_printf("pair-window ttl=%d%s%s%s%s", ttl, listen_arg ? " listen=" : "",
			      listen_arg ? listen_arg : "", hub_name ? " hub-name=" : "",
			      hub_name ? hub_name : "");
	ans = svc_status_request(path, req, 30, &err);
	if (!ans) {
		fprintf(stderr, "veracamctl: pair-mode: %s\n", err->message);
		return EXIT_FAIL;
	}
	g_strchomp(ans);
	f = g_strsplit(ans, " ", 4);
	if (g_strv_length(f) != 4 || strcmp(f[0], "open")) {
		fprintf(stderr, "veracamctl: pair-mode: %s: %s\n", path,
			g_str_has_prefix(ans, "error ") ? ans + 6 : ans[0] == '{' ?
			"this veracamd cannot open a pairing window (an older version?)" : ans);
		return EXIT_FAIL;
	}
	printf("Pairing window open for %s s: one hub may pair with this camera (%s).\n"
	       "On the hub, scan the QR code or run:\n"
	       "  veracamctl pair HUBDIR %s '%s'\n", f[3], name ? name : "camera",
	       name ? name : "camera", f[1]);
	qr_print(stdout, f[1]);
	printf("QR code also in %s\nThe camera daemon serves the window; waiting ...\n", f[2]);
	fflush(stdout);
	vc_wipe(ans, strlen(ans));
	end_ms = now_ms() + ((int64_t)atoi(f[3]) + 15) * 1000;
	while (now_ms() < end_ms) {
		g_autofree char *d = NULL, *state = NULL;

		usleep(300000);
		d = svc_status_fetch(path, NULL);
		state = d ? window_state(d) : NULL;
		if (!state || !strcmp(state, "open"))
			continue;
		if (!strcmp(state, "consumed")) {
			printf("Paired: a hub is trusted by this camera (veracamctl peers).\n");
			return 0;
		}
		fprintf(stderr, "veracamctl: pair-mode: the pairing window ended: %s%s\n", state,
			!strcmp(state, "expired") ? "; nobody paired (press again for a new code)" :
			!strcmp(state, "refused") ? "; a wrong code spent it" : "");
		return EXIT_FAIL;
	}
	fprintf(stderr, "veracamctl: pair-mode: %s stopped answering about the window\n", path);
	return EXIT_FAIL;
}

/*
 * pair-mode's connections, served side by side: a stranger who connects and
 * stalls (or keeps reconnecting) holds one slot for at most
 * VC_PAIR_IO_TIMEOUT_S, not the listener, so the person's hub is answered
 * at once. Bounded: PAIR_SLOTS at once, PAIR_PER_ADDRESS from one address
 * (more are closed at accept, and counted).
 */
#define PAIR_SLOTS		16
#define PAIR_PER_ADDRESS	4

struct pair_serve_ctx {
	const char *dir, *name, *hub_name;
	const struct vc_device_key *k;
	struct vc_pair_window *w;
	bool sas_mode;
	int wake[2];		/* a connection's thread is done: one byte */
};

struct pair_slot {
	struct pair_serve_ctx *ctx;
	pthread_t thread;
	int fd;			/* -1: the slot is free */
	char from[INET6_ADDRSTRLEN];
	bool done;		/* written by the thread, then wake; read after the join */
	int ret;
	struct vc_peer hub;
	char sas[VC_SAS_LEN + 1];
	char err[300];
};

static void *serve_one(void *arg)
{
	struct pair_slot *s = arg;
	struct pair_serve_ctx *c = s->ctx;

	if (c->sas_mode)
		s->ret = vc_pair_serve_sas(c->dir, c->k, c->name, c->hub_name, c->w, s->fd,
					   &s->hub, s->sas);
	else
		s->ret = vc_pair_serve(c->dir, c->k, c->name, c->hub_name, c->w, s->fd, &s->hub);
	if (s->ret < 0)
		snprintf(s->err, sizeof(s->err), "%s", vc_last_error());
	__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
	if (write(c->wake[1], "x", 1) < 0) {
		/* the pipe cannot be full (one byte per thread): nothing to do */
	}
	return NULL;
}

static void address_of(const struct sockaddr_storage *sa, char *out, size_t cap)
{
	const void *a = sa->ss_family == AF_INET6 ?
		(const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr :
		(const void *)&((const struct sockaddr_in *)sa)->sin_addr;

	if (!inet_ntop(sa->ss_family, a, out, (socklen_t)cap))
		snprintf(out, cap, "?");
}

/* Join a finished connection's thread; 1 when it was the one attempt of the window. */
static int reap(struct pair_slot *s, bool quiet, int *result)
{
	char idhex[2 * VC_KEY_ID_LEN + 1];
	const char *dir = s->ctx->dir;

	pthread_join(s->thread, NULL);
	close(s->fd);
	s->fd = -1;
	if (s->ret == 0 && s->ctx->sas_mode) {
		printf("SAS %s\nHub '%s' is pinned, pending. If the hub shows the same six "
		       "digits, run:\n  veracamctl confirm %s %s\nIf not, run: veracamctl "
		       "untrust %s %s\n", s->sas, s->hub.name, dir, s->hub.name, dir, s->hub.name);
	} else if (s->ret == 0) {
		vc_hex(s->hub.key_id, VC_KEY_ID_LEN, idhex);
		printf("Paired: hub '%s' (key id %s) is trusted by this camera.\n", s->hub.name,
		       idhex);
	} else if (!quiet || s->ret == -2) {
		fprintf(stderr, "veracamctl: pair-mode: %s (from %s)\n", s->err, s->from);
	}
	fflush(stdout);
	if (s->ret == 0 || s->ret == -2) {
		*result = s->ret == 0 ? 0 : EXIT_FAIL;
		return 1;
	}
	return 0;
}

/*
 * Accept and serve until one attempt has spent the window (code mode: the
 * first request, right or wrong; SAS mode: the first pin) or it expires.
 * A connection that fails before that (a port scan, a stranger hanging
 * up, TLS garbage) leaves the window open for the person's hub.
 */
static int serve_window(struct pair_serve_ctx *c, int lfd, int64_t ttl_ms)
{
	struct pair_slot slot[PAIR_SLOTS];
	int64_t end_ms = now_ms() + ttl_ms;
	int i, j, result = EXIT_FAIL;
	unsigned long refused = 0;
	bool over = false;
	char b[64];

	if (pipe2(c->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		fprintf(stderr, "veracamctl: pair-mode: pipe: %s\n", strerror(errno));
		return EXIT_FAIL;
	}
	for (i = 0; i < PAIR_SLOTS; i++)
		slot[i] = (struct pair_slot){ .ctx = c, .fd = -1 };
	while (!over) {
		struct pollfd pfd[2] = { { .fd = lfd, .events = POLLIN },
					 { .fd = c->wake[0], .events = POLLIN } };
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		int64_t left = end_ms - now_ms();
		int fd, same = 0, free_slot = -1;
		char from[INET6_ADDRSTRLEN];

		if (left <= 0) {
			fprintf(stderr, "veracamctl: pair-mode: the pairing window expired; nobody "
				"paired (run pair-mode again for a new code)\n");
			break;
		}
		if (poll(pfd, 2, left > 60000 ? 60000 : (int)left) <= 0)
			continue;
		if (pfd[1].revents) {
			while (read(c->wake[0], b, sizeof(b)) > 0)
				;
			for (i = 0; i < PAIR_SLOTS && !over; i++)
				if (slot[i].fd >= 0 && __atomic_load_n(&slot[i].done, __ATOMIC_ACQUIRE)) {
					over = reap(&slot[i], false, &result);
				}
			continue;
		}
		fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		address_of(&sa, from, sizeof(from));
		for (i = 0; i < PAIR_SLOTS; i++) {
			if (slot[i].fd < 0 && free_slot < 0)
				free_slot = i;
			else if (slot[i].fd >= 0 && !strcmp(slot[i].from, from))
				same++;
		}
		if (free_slot < 0 || same >= PAIR_PER_ADDRESS) {
			refused++;
			close(fd);
			continue;
		}
		j = free_slot;
		slot[j].fd = fd;
		slot[j].done = false;
		slot[j].ret = -1;
		slot[j].err[0] = '\0';
		snprintf(slot[j].from, sizeof(slot[j].from), "%s", from);
		if (pthread_create(&slot[j].thread, NULL, serve_one, &slot[j]) != 0) {
			close(fd);
			slot[j].fd = -1;
			refused++;
			continue;
		}
	}
	/* the window is over: cut the connections still open, then join them */
	for (i = 0; i < PAIR_SLOTS; i++)
		if (slot[i].fd >= 0)
			shutdown(slot[i].fd, SHUT_RDWR);
	for (i = 0; i < PAIR_SLOTS; i++)
		if (slot[i].fd >= 0 && reap(&slot[i], true, &j) && !over) {
			over = true;
			result = j;
		}
	if (refused)
		fprintf(stderr, "veracamctl: pair-mode: %lu connection(s) refused at accept "
			"(%d at once, %d from one address)\n", refused, PAIR_SLOTS,
			PAIR_PER_ADDRESS);
	close(c->wake[0]);
	close(c->wake[1]);
	return result;
}

static int cmd_pair_mode(int argc, char **argv)
{
	const char *listen_arg = "0.0.0.0:" VC_PAIR_PORT_DEFAULT, *address = NULL;
	const char *hub_name = NULL, *png_arg = NULL;
	char name[VC_NAME_MAX + 1], host[VC_PAIR_HOST_MAX + 1], port[6];
	char payload[VC_PAIR2_PAYLOAD_MAX + 1], png[4200];
	g_autoptr(GError) err = NULL;
	struct vc_pair_window w;
	struct vc_pair_target t;
	struct vc_device_key *k;
	struct pair_serve_ctx ctx;
	int i, ttl = VC_PAIR_TTL_DEFAULT, lfd, ret = EXIT_FAIL;
	bool sas_mode = false, listen_given = false;
	char idhex[2 * VC_KEY_ID_LEN + 1];
	struct mdns_announce *mdns = NULL;

	g_autofree char *run_dir = NULL, *run_name = NULL;
	const char *dir;

	if (argc < 1)
		return usage();
	default_name(name, sizeof(name), "camera");
	dir = argv[0];
	for (i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(argv[i], "--sas")) {
			sas_mode = true;
			continue;
		}
		if (!v)
			return usage();
		if (!strcmp(argv[i], "--listen")) {
			listen_arg = v;
			listen_given = true;
		}
		else if (!strcmp(argv[i], "--address"))
			address = v;
		else if (!strcmp(argv[i], "--name"))
			snprintf(name, sizeof(name), "%s", v);
		else if (!strcmp(argv[i], "--hub-name"))
			hub_name = v;
		else if (!strcmp(argv[i], "--png"))
			png_arg = v;
		else if (!strcmp(argv[i], "--ttl"))
			ttl = atoi(v);
		else
			return usage();
		i++;
	}
	if (!strcmp(argv[0], "--running") && !sas_mode)
		return pair_mode_daemon(listen_given ? listen_arg : NULL, hub_name, ttl);
	if (!strcmp(argv[0], "--running")) {
		/* SAS mode shows digits here: served by this process, beside the daemon */
		if (running_camera(&run_dir, &run_name) < 0)
			return EXIT_FAIL;
		dir = run_dir;
		snprintf(name, sizeof(name), "%s", run_name);
	}
	if (!vc_name_valid(name) || (hub_name && !vc_name_valid(hub_name)))
		return fail(EXIT_CONFIG, "invalid --name/--hub-name (letters, digits, '_', '.', "
				    "'-'; up to 64; not starting with '.' or '-')");
	if (split_hostport(listen_arg, host, sizeof(host), port, sizeof(port)) < 0)
		return fail(EXIT_CONFIG, "--listen must be HOST:PORT or [IPV6]:PORT");
	k = vc_key_load(dir);
	if (!k)
		return fail(EXIT_CONFIG, vc_last_error());
	memset(&t, 0, sizeof(t));
	memcpy(t.key_id, vc_key_id(k), VC_KEY_ID_LEN);
	snprintf(t.port, sizeof(t.port), "%s", port);
	if (address)
		snprintf(t.host, sizeof(t.host), "%s", address);
	else if (host[0] && strcmp(host, "0.0.0.0") && strcmp(host, "::"))
		snprintf(t.host, sizeof(t.host), "%s", host);
	else if (guess_address(t.host, sizeof(t.host)) < 0)
		snprintf(t.host, sizeof(t.host), "127.0.0.1");
	if (vc_pair_window_open(&w, ttl) < 0) {
		vc_key_free(k);
		return fail(EXIT_CONFIG, vc_last_error());
	}
	memcpy(t.code, w.code, sizeof(t.code));
	lfd = tcp_socket(host, port, true);
	if (lfd < 0 || vc_pair_target_format(&t, payload, sizeof(payload)) < 0)
		goto out;
	snprintf(png, sizeof(png), "%s", png_arg ? png_arg : "");
	if (!png_arg)
		snprintf(png, sizeof(png), "%s/pair-qr.png", dir);
	if (sas_mode) {
		png[0] = '\0';
		printf("Pairing window open for %d s (SAS mode: no code; both screens show six "
		       "digits to compare).\nOn the hub run:\n  veracamctl pair HUBDIR %s --sas "
		       "%s%s%s:%s\nWaiting ...\n", ttl, name, strchr(t.host, ':') ? "[" : "", t.host,
		       strchr(t.host, ':') ? "]" : "", t.port);
	} else if (qr_png(png, payload, 8, &err) < 0) {
		fprintf(stderr, "veracamctl: pair-mode: QR PNG: %s\n", err->message);
		goto out;
	}
	if (!sas_mode) {
		printf("Pairing window open for %d s: one hub may pair with this camera (%s).\n"
		       "On the hub, scan the QR code or run:\n"
		       "  veracamctl pair HUBDIR %s '%s'\n", ttl, name, name, payload);
		qr_print(stdout, payload);
		printf("QR code also in %s\nWaiting on %s:%s ...\n", png, host[0] ? host : "*",
		       port);
		vc_hex(t.key_id, VC_KEY_ID_LEN, idhex);
		mdns = mdns_announce_start(name, idhex, (uint16_t)atoi(port), &err);
		if (mdns)
			printf("Announced on mDNS as %s '%s' (key id and name, never the code).\n",
			       MDNS_PAIR_TYPE, name);
		else
			printf("Not announced on mDNS (%s): pair from the QR code.\n", err->message);
	}
	fflush(stdout);
	ctx = (struct pair_serve_ctx){ .dir = dir, .k = k, .name = name, .hub_name = hub_name,
				       .w = &w, .sas_mode = sas_mode };
	ret = serve_window(&ctx, lfd, (int64_t)ttl * 1000);
	mdns_announce_stop(mdns);
	if (png[0])
		unlink(png);
out:
	if (lfd >= 0)
		close(lfd);
	vc_pair_window_close(&w);
	vc_wipe(payload, sizeof(payload));
	vc_wipe(&t, sizeof(t));
	vc_key_free(k);
	return ret;
}

/*
 * pair --discover: the cameras announcing a pairing window on the link. A
 * hint: anyone can announce anything, so nothing is pinned from it; the
 * person compares the key id with the camera's own (its screen, sticker or
 * `veracamctl identity --key-id`) and types the code the camera shows.
 */
static int pair_discover(const char *dir, const char *name)
{
	g_autoptr(GError) err = NULL;
	GPtrArray *found = mdns_browse(3000, &err);

	if (!found) {
		fprintf(stderr, "veracamctl: pair --discover: mDNS: %s; pair from the QR code\n",
			err->message);
		return EXIT_FAIL;
	}
	if (!found->len) {
		fprintf(stderr, "veracamctl: pair --discover: no camera in pairing mode announced "
			"itself within 3 s (%s)\n", MDNS_PAIR_TYPE);
		g_ptr_array_free(found, TRUE);
		return EXIT_FAIL;
	}
	printf("Cameras in pairing mode (mDNS: a hint, not proof; check the key id on the "
	       "camera):\n");
	for (guint i = 0; i < found->len; i++) {
		const struct mdns_camera *m = found->pdata[i];
		bool v6 = strchr(m->host, ':') != NULL;

		printf("  %-20s key id %s  at %s%s%s:%u\n", m->name[0] ? m->name : m->service,
		       m->key_id[0] ? m->key_id : "(none)", v6 ? "[" : "", m->host, v6 ? "]" : "",
		       m->port);
		printf("    veracamctl pair %s %s 'veracam-pair2:%s:CODE:%s%s%s:%u'\n", dir, name,
		       m->key_id, v6 ? "[" : "", m->host, v6 ? "]" : "", m->port);
	}
	printf("If the key id matches the camera's own, replace CODE with the 8 digits it "
	       "shows.\n");
	g_ptr_array_free(found, TRUE);
	return 0;
}

static int cmd_pair(int argc, char **argv)
{
	char hub_name[VC_NAME_MAX + 1], idhex[2 * VC_KEY_ID_LEN + 1];
	struct vc_pair_target t;
	struct vc_device_key *k;
	struct vc_peer cam;
	int fd, ret = EXIT_FAIL;
	bool sas_mode = false;
	char sas[VC_SAS_LEN + 1];

	default_name(hub_name, sizeof(hub_name), "hub");
	if (argc == 3 && !strcmp(argv[2], "--discover"))
		return pair_discover(argv[0], argv[1]);
	if (argc == 5 && !strcmp(argv[3], "--hub-name"))
		snprintf(hub_name, sizeof(hub_name), "%s", argv[4]);
	else if (argc == 4 && !strcmp(argv[2], "--sas"))
		sas_mode = true;
	else if (argc != 3)
		return usage();
	if (!vc_name_valid(argv[1]) || !vc_name_valid(hub_name))
		return fail(EXIT_CONFIG, "invalid NAME (letters, digits, '_', '.', '-'; up to 64; "
				    "not starting with '.' or '-')");
	memset(&t, 0, sizeof(t));
	if (sas_mode) {
		if (split_hostport(argv[3], t.host, sizeof(t.host), t.port, sizeof(t.port)) < 0 ||
		    !t.host[0])
			return fail(EXIT_CONFIG, "--sas needs the camera's HOST:PORT");
	} else if (vc_pair_target_parse(argv[2], &t) < 0) {
		return fail(EXIT_CONFIG, vc_last_error());
	}
	k = vc_key_load(argv[0]);
	if (!k)
		return fail(EXIT_CONFIG, vc_last_error());
	fd = tcp_socket(t.host, t.port, false);
	if (fd >= 0) {
		if (sas_mode) {
			if (vc_pair_join_sas(argv[0], k, argv[1], hub_name, fd, NULL, &cam, sas) == 0) {
				printf("SAS %s\nCamera '%s' is pinned, pending. If the camera shows "
				       "the same six digits, run:\n  veracamctl confirm %s %s\n", sas,
				       cam.name, argv[0], cam.name);
				ret = 0;
			} else {
				fprintf(stderr, "veracamctl: pair: %s\n", vc_last_error());
			}
		} else if (vc_pair_join(argv[0], k, argv[1], hub_name, &t, fd, NULL, &cam) == 0) {
			vc_hex(cam.key_id, VC_KEY_ID_LEN, idhex);
			printf("Paired: camera '%s' (key id %s) is trusted by this hub, which the "
			       "camera knows as '%s'.\n", cam.name, idhex, hub_name);
			ret = 0;
		} else {
			fprintf(stderr, "veracamctl: pair: %s\n", vc_last_error());
		}
		close(fd);
	}
	vc_wipe(&t, sizeof(t));
	vc_key_free(k);
	return ret;
}

/* A manual (or doorbell) event on the running camera: "event ..." on its status socket. */
/*
 * One request line to a daemon's status socket: its "ok ..." answer printed
 * (0), or what is wrong on stderr: the daemon's "error ..." (EXIT_REJECTED
 * when it says "refused (", else EXIT_FAIL), old_version when the daemon
 * answered with its status document (it does not know the request).
 */
static int ask_daemon(const char *path, const char *req, const char *what,
		      const char *old_version)
{
	g_autofree char *ans = NULL;
	g_autoptr(GError) err = NULL;

	ans = svc_status_request(path, req, 10, &err);
	if (!ans) {
		fprintf(stderr, "veracamctl: %s: %s\n", what, err->message);
		return EXIT_FAIL;
	}
	g_strchomp(ans);
	if (!g_str_has_prefix(ans, "ok ")) {
		fprintf(stderr, "veracamctl: %s: %s: %s\n", what, path,
			g_str_has_prefix(ans, "error ") ? ans + 6 : ans[0] == '{' ? old_version : ans);
		return g_str_has_prefix(ans, "error ") && strstr(ans, "refused (") ?
		       EXIT_REJECTED : EXIT_FAIL;
	}
	printf("%s\n", ans + 3);
	return 0;
}

static int cmd_event(int argc, char **argv)
{
	g_autofree char *tried = NULL, *path = NULL, *req = NULL;
	const char *kind = argc == 2 ? argv[1] : "manual";

	if (argc < 1 || argc > 2)
		return usage();
	if (strcmp(kind, "manual") && strcmp(kind, "doorbell"))
		return fail(EXIT_CONFIG, "event: the trigger is manual or doorbell");
	if (!strcmp(argv[0], "camera")) {
		path = svc_status_find(VC_ROLE_CAMERA, &tried);
		if (!path) {
			fprintf(stderr, "veracamctl: event: no camera status socket (looked for %s): "
				"is veracamd camera running? Else give the socket's path\n", tried);
			return EXIT_FAIL;
		}
	} else if (argv[0][0] == '/') {
		path = g_strdup(argv[0]);
	} else {
		return fail(EXIT_CONFIG, "event: give camera or the camera's status socket path");
	}
	req = g_strdup_printf("event %s", kind);
	return ask_daemon(path, req, "event", "this veracamd records no events (an older version?)");
}

/* ---- recorded events: export (hub) and offline verification ---- */

static const char *trigger_name(unsigned int t)
{
	return t == VC_TRIGGER_MOTION ? "motion" : t == VC_TRIGGER_MANUAL ? "manual" :
	       t == VC_TRIGGER_DOORBELL ? "doorbell" : "?";
}

/* Capture time (wall clock ns) as UTC with milliseconds (ISO 8601). */
static void format_ns(uint64_t ns, char *out, size_t cap)
{
	char s[32];

	format_utc((int64_t)(ns / 1000000000u), true, s, sizeof(s));
	snprintf(out, cap, "%s.%03uZ", s, (unsigned int)(ns % 1000000000u / 1000000u));
}

/*
 * The event's three files: ARG is NUMBER-ID.env (the others beside it) or
 * a spool directory holding exactly one event. *base gets DIR/NUMBER-ID.
 */
static int event_files(const char *arg, char **base)
{
	g_autoptr(GDir) d = NULL;
	unsigned int count = 0;
	const char *n;

	if (g_str_has_suffix(arg, ".env")) {
		*base = g_strndup(arg, strlen(arg) - 4);
		return 0;
	}
	d = g_dir_open(arg, 0, NULL);
	if (!d)
		return fail(EXIT_CONFIG, "export: EVENT is a spool's NUMBER-ID.env file or a "
			    "spool directory");
	while ((n = g_dir_read_name(d)))
		if (g_str_has_suffix(n, ".env")) {
			if (++count == 1)
				*base = g_build_filename(arg, n, NULL);
		}
	if (count != 1) {
		g_free(*base);
		*base = NULL;
		fprintf(stderr, "veracamctl: export: %s holds %u events: give one's .env file\n",
			arg, count);
		return EXIT_CONFIG;
	}
	(*base)[strlen(*base) - 4] = 0;
	return 0;
}

/* The hub's confirmed camera pin NAME, or (NULL) the one with that key id. */
static int camera_pin(const char *dir, const char *name, const uint8_t key_id[VC_KEY_ID_LEN],
		      struct vc_peer *out)
{
	struct vc_peer *v;
	size_t n, i;
	int ret = -1;

	if (name) {
		if (vc_peer_load(dir, name, out) < 0) {
			fail(EXIT_CONFIG, vc_last_error());
			return -1;
		}
		if (out->role != VC_ROLE_CAMERA || out->pending) {
			fprintf(stderr, "veracamctl: export: %s is not a confirmed camera pin\n",
				name);
			return -1;
		}
		return 0;
	}
	if (vc_peer_list_skipping(dir, &v, &n, say_skipped, (void *)dir) < 0) {
		fail(EXIT_CONFIG, vc_last_error());
		return -1;
	}
	for (i = 0; i < n && ret < 0; i++)
		if (v[i].role == VC_ROLE_CAMERA && !v[i].pending &&
		    vc_equal(v[i].key_id, key_id, VC_KEY_ID_LEN)) {
			*out = v[i];
			ret = 0;
		}
	free(v);
	return ret;
}

static GBytes *slurp(const char *base, const char *ext, bool optional)
{
	g_autofree char *path = g_strconcat(base, ext, NULL);
	g_autoptr(GError) err = NULL;
	gchar *d;
	gsize n;

	if (!g_file_get_contents(path, &d, &n, &err)) {
		if (!optional || !g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT))
			fprintf(stderr, "veracamctl: export: %s\n", err->message);
		return NULL;
	}
	return g_bytes_new_take(d, n);
}

/*
 * Hub: open a sealed event with this hub's keys, check it against its
 * pinned camera, check every frame, and write the export (the clip's MP4
 * with the manifest and thumbnail in a uuid box, PROTOCOL.md §15.7).
 */
static int cmd_export(int argc, char **argv)
{
	g_autoptr(GBytes) env = NULL, thumb = NULL, clip = NULL;
	g_autofree char *base = NULL, *cam_name = NULL;
	g_autoptr(GError) err = NULL;
	const char *pos[3] = { 0 };
	struct vc_buf jpeg = { 0 }, mp4 = { 0 }, out = { 0 };
	uint8_t man[VC_MANIFEST_MAX_LEN];
	struct vc_export_verdict v;
	struct vc_device_key *hub = NULL;
	struct vc_enc_key *enc = NULL;
	struct vc_manifest m, clear;
	bool no_thumb = false;
	struct vc_peer cam;
	int i, np = 0, ret = EXIT_REJECTED;
	enum vc_event_reject r;
	const uint8_t *ep, *tp, *cp;
	size_t man_len;
	gsize el, tl = 0, cl;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--camera") && i + 1 < argc)
			cam_name = g_strdup(argv[++i]);
		else if (!strcmp(argv[i], "--no-thumbnail"))
			no_thumb = true;
		else if (argv[i][0] != '-' && np < 3)
			pos[np++] = argv[i];
		else
			return usage();
	}
	if (np != 3)
		return usage();
	if ((ret = event_files(pos[1], &base)))
		return ret;
	ret = EXIT_REJECTED;
	if (!(hub = vc_key_load(pos[0])) || !(enc = vc_enc_key_load(pos[0]))) {
		ret = fail(EXIT_CONFIG, vc_last_error());
		goto out;
	}
	env = slurp(base, ".env", false);
	clip = env ? slurp(base, ".clip", false) : NULL;
	thumb = clip ? slurp(base, ".thumb", true) : NULL;
	if (!clip) {
		ret = EXIT_FAIL;
		goto out;
	}
	ep = g_bytes_get_data(env, &el);
	/* which pin: the manifest in the clear names the camera; the open checks it */
	if (el < VC_ENVELOPE_HDR_LEN ||
	    vc_manifest_parse(ep + VC_ENVELOPE_HDR_LEN,
			      MIN(el - VC_ENVELOPE_HDR_LEN, (gsize)(ep[4] << 8 | ep[5])),
			      &clear) != VC_EV_OK) {
		printf("export: rejected: malformed (not a sealed event's envelope)\n");
		goto out;
	}
	if (camera_pin(pos[0], cam_name, clear.key_id, &cam) < 0) {
		if (!cam_name)
			printf("export: rejected: wrong-camera (no confirmed camera pin in %s has "
			       "the manifest's key id)\n", pos[0]);
		ret = cam_name ? EXIT_CONFIG : EXIT_REJECTED;
		goto out;
	}
	tp = thumb ? g_bytes_get_data(thumb, &tl) : NULL;
	cp = g_bytes_get_data(clip, &cl);
	r = vc_event_open(ep, el, tp, tl, cp, cl, cam.pub, vc_key_id(hub), enc, &m, man, &man_len,
			  &jpeg, &mp4);
	if (r != VC_EV_OK) {
		printf("export: rejected: %s (camera %s)\n", vc_event_reject_name(r), cam.name);
		goto out;
	}
	if (vc_export_build(mp4.data, mp4.len, man, man_len, no_thumb || !jpeg.len ? NULL :
			    jpeg.data, jpeg.len, &out) < 0) {
		printf("export: rejected: malformed (%s)\n", vc_last_error());
		goto out;
	}
	/* what is written must verify: every frame, before anything is kept */
	if (vc_export_verify(out.data, out.len, cam.pub, NULL, NULL, &v) != VC_EV_OK) {
		printf("export: rejected: %s at frame %zu of %u\n", vc_event_reject_name(v.verdict),
		       v.bad_frame == SIZE_MAX ? v.frames_ok : v.bad_frame, m.n_frames);
		goto out;
	}
	if (!g_file_set_contents_full(pos[2], (const char *)out.data, (gssize)out.len,
				      G_FILE_SET_CONTENTS_CONSISTENT, 0600, &err)) {
		ret = fail(EXIT_FAIL, err->message);
		goto out;
	}
	printf("exported event %llu of camera %s: %u frames verified, %.2f s, thumbnail %s, "
	       "%zu bytes to %s\n", (unsigned long long)m.number, cam.name, m.n_frames,
	       (double)(m.end_ns - m.start_ns) / 1e9, v.thumbnail ? "included" : "left out",
	       out.len, pos[2]);
	ret = 0;
out:
	vc_buf_free(&jpeg);
	vc_buf_free(&mp4);
	vc_buf_free(&out);
	vc_enc_key_free(enc);
	vc_key_free(hub);
	return ret;
}

static void print_manifest(const struct vc_export_verdict *v)
{
	char idhex[2 * VC_KEY_ID_LEN + 1], evhex[2 * VC_EVENT_ID_LEN + 1];

	vc_hex(v->m.key_id, VC_KEY_ID_LEN, idhex);
	vc_hex(v->m.event_id, VC_EVENT_ID_LEN, evhex);
	printf("manifest: camera %s, event %s, number %llu, %s, %u frames, thumbnail %s "
	       "(recipients not checked offline)\n", idhex, evhex, (unsigned long long)v->m.number,
	       trigger_name(v->m.trigger), v->m.n_frames,
	       v->thumbnail ? "carried and matching" : "not carried");
}

/* ctx: the verdict being filled (its manifest is verified before any frame is checked). */
static void print_frame(void *ctx, const struct vc_export_frame *f)
{
	char when[48];

	if (f->index == 0)
		print_manifest(ctx);
	if (f->have_record) {
		format_ns(f->rec.capture_ns, when, sizeof(when));
		printf("frame %zu: sequence %llu, captured %s%s, fragment %u: %s\n", f->index,
		       (unsigned long long)f->rec.seq, when,
		       f->rec.flags & VC_EVREC_F_IDR ? " (IDR)" : "", f->fragment,
		       f->verdict == VC_EV_OK ? "ok" : vc_event_reject_name(f->verdict));
	} else {
		printf("frame %zu: no event record, fragment %u: %s\n", f->index, f->fragment,
		       vc_event_reject_name(f->verdict));
	}
}

/*
 * Offline: an exported file against a camera's identity line. Per frame,
 * then the file's verdict; 0 verified, 3 rejected (truncated included).
 */
static int cmd_verify(int argc, char **argv)
{
	g_autoptr(GMappedFile) f = NULL;
	g_autoptr(GError) err = NULL;
	const char *file = NULL, *ident = NULL;
	uint8_t pub[VC_PUBKEY_LEN];
	struct vc_export_verdict v;
	bool quiet = false;
	int i;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--camera") && i + 1 < argc)
			ident = argv[++i];
		else if (!strcmp(argv[i], "--quiet"))
			quiet = true;
		else if (argv[i][0] != '-' && !file)
			file = argv[i];
		else
			return usage();
	}
	if (!file || !ident)
		return usage();
	if (vc_identity_parse(ident, pub) < 0)
		return fail(EXIT_CONFIG, "verify: --camera takes the camera's identity line "
			    "(veracam1:ed25519:HEX, from 'veracamctl identity')");
	f = g_mapped_file_new(file, FALSE, &err);
	if (!f)
		return fail(EXIT_FAIL, err->message);
	vc_export_verify((const uint8_t *)g_mapped_file_get_contents(f), g_mapped_file_get_length(f),
			 pub, quiet ? NULL : print_frame, &v, &v);
	if (v.have_manifest && (quiet || !v.frames))
		print_manifest(&v);
	if (v.verdict == VC_EV_OK) {
		printf("file: ok: %zu of %u frames signed, chained and bound to the manifest\n",
		       v.frames_ok, v.m.n_frames);
		return 0;
	}
	if (v.verdict == VC_EV_TRUNCATED)
		printf("file: truncated: %zu of %u frames, nothing after frame %zu%s\n",
		       v.frames_ok, v.m.n_frames, v.frames_ok ? v.frames_ok - 1 : 0,
		       v.cut ? " (the file ends inside a box)" : "");
	else if (v.bad_frame != SIZE_MAX)
		printf("file: rejected: %s at frame %zu (%zu frames before it verified)\n",
		       vc_event_reject_name(v.verdict), v.bad_frame, v.frames_ok);
	else
		printf("file: rejected: %s%s%s\n", vc_event_reject_name(v.verdict),
		       v.detail ? ": " : "", v.detail ? v.detail : "");
	return EXIT_REJECTED;
}

static int cmd_status(int argc, char **argv)
{
	enum vc_role role;
	g_autoptr(GError) err = NULL;
	char *path;
	int ret = 0;

	if (argc != 1)
		return usage();
	if (!strcmp(argv[0], "camera") || !strcmp(argv[0], "hub")) {
		g_autofree char *tried = NULL;

		role = !strcmp(argv[0], "camera") ? VC_ROLE_CAMERA : VC_ROLE_HUB;
		path = svc_status_find(role, &tried);
		if (!path) {
			fprintf(stderr, "veracamctl: status: no %s status socket (looked for %s): is "
				"veracamd %s running? Else give the socket's path\n", argv[0], tried,
				argv[0]);
			return EXIT_FAIL;
		}
	} else if (argv[0][0] == '/') {
		path = g_strdup(argv[0]);
	} else {
		return fail(EXIT_CONFIG, "status: give camera, hub or the socket's absolute path");
	}
	if (svc_status_print(path, stdout, &err) < 0) {
		fprintf(stderr, "veracamctl: status: %s\n", err->message);
		ret = EXIT_FAIL;
	}
	g_free(path);
	return ret;
}

#define EVENTS_DEADLINE_S	300	/* `events list`, whole run, --deadline */

/*
 * One run of `events list` over one camera's listing (oldest first): the
 * chain so far, the newest event seen by earlier runs (KEYS/events-seen/
 * NAME) and what was refused, by reason.
 */
struct events_run {
	struct store_fetch *f;
	const struct vc_peer *cam;
	const uint8_t *hub_id;
	const struct vc_enc_key *enc;
	const char *kid, *out;
	bool have_prev;
	struct vc_manifest prev;		/* the last event accepted in this run */
	uint8_t prev_hash[VC_HASH_LEN];
	struct hub_event_seen seen;
	unsigned int refused[VC_EV__COUNT], missing, gaps;
	uint64_t gap_events;
};

static void refuse(struct events_run *run, uint64_t number, const char *name,
		   enum vc_event_reject r)
{
	run->refused[r]++;
	printf("%-20" PRIu64 " %s: refused (%s)\n", number, name, vc_event_reject_name(r));
}

/*
 * The event's objects (sealed, as stored) and its envelope into out, names
 * as in the store (hub_event_fetch_objects, then hub_event_cache_put: the
 * hub's own cache writer). Appends what it did to note. VC_EV_OK, or why
 * not (VC_EV__COUNT: not fetched or not written).
 */
static enum vc_event_reject fetch_objects(struct events_run *run, const char *name,
					  const struct vc_manifest *m,
					  const uint8_t man_hash[VC_HASH_LEN],
					  enum vc_hpke_aead aead, const uint8_t *ck,
					  const uint8_t *env, size_t env_len, GString *note)
{
	char base[STORE_EVENT_NAME_LEN + 1];
	g_autoptr(GError) err = NULL;
	struct hub_event_objects o;
	enum vc_event_reject r;

	snprintf(base, sizeof(base), "%.*s", STORE_EVENT_NAME_LEN, name);
	r = hub_event_fetch_objects(run->f, run->kid, base, m, man_hash, aead, ck, &o, &err);
	if (r != VC_EV_OK) {
		g_string_append_printf(note, "; %s%s", err->message,
				       r == VC_EV__COUNT ? "" : ", not written");
		return r;
	}
	if (hub_event_cache_put(run->out, name, env, env_len, &o, &err) < 0) {
		g_string_append_printf(note, "; %s", err->message);
		hub_event_objects_free(&o);
		return VC_EV__COUNT;
	}
	if (o.thumb)
		g_string_append_printf(note, ", thumb %zu bytes (cache %s)", o.thumb_len,
				       o.thumb_cache[0] ? o.thumb_cache : "-");
	g_string_append_printf(note, ", clip %zu bytes (cache %s)", o.clip_len,
			       o.clip_cache[0] ? o.clip_cache : "-");
	hub_event_objects_free(&o);
	return VC_EV_OK;
}

/* One envelope fetched, opened and chained (its objects fetched into out): a line, 0 when it opened. */
static int list_one(struct events_run *run, const char *name)
{
	uint8_t id[VC_EVENT_ID_LEN], man[VC_MANIFEST_MAX_LEN], ck[VC_CONTENT_KEY_LEN];
	uint8_t h[VC_HASH_LEN], *env;
	char path[2 * VC_KEY_ID_LEN + STORE_NAME_MAX + 2], cache[16], when[32];
	g_autoptr(GError) err = NULL;
	struct vc_manifest m;
	enum vc_hpke_aead aead;
	enum vc_event_reject r, objs = VC_EV_OK;
	uint64_t number;
	size_t len, man_len;
	long status;
	GString *note;

	if (!store_envelope_name(name, &number, id))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", run->kid, name);
	status = store_fetch_get(run->f, path, 64 << 10, &env, &len, cache, &err);
	if (status != 200) {
		run->missing++;
		printf("%-20" PRIu64 " %s: not fetched (%s)\n", number, name, err->message);
		return -1;
	}
	r = vc_envelope_open(env, len, run->cam->pub, id, run->hub_id, run->enc, &m, man, &man_len,
			     &aead, ck);
	if (r == VC_EV_OK && m.number != number)
		r = VC_EV_EVENT;	/* renamed in the store */
	if (r == VC_EV_OK && vc_event_hash(man, man_len, h) < 0)
		r = VC_EV_MALFORMED;
	if (r == VC_EV_OK)
		r = hub_event_chain_check(run->have_prev ? &run->prev : NULL, run->prev_hash,
					  &run->seen, &m, h);
	if (r == VC_EV_GAP) {
		uint64_t from = run->have_prev ? run->prev.number + 1 : run->seen.number + 1;

		run->gaps++;
		run->gap_events += m.number - from;
		printf("%-20" PRIu64 " gap: event%s %" PRIu64 "..%" PRIu64 " missing (%" PRIu64
		       " not in the store)\n", from, m.number - from == 1 ? "" : "s", from,
		       m.number - 1, m.number - from);
		r = VC_EV_OK;
	}
	if (r != VC_EV_OK) {
		vc_wipe(ck, sizeof(ck));
		free(env);
		refuse(run, number, name, r);
		return -1;
	}
	run->prev = m;
	memcpy(run->prev_hash, h, VC_HASH_LEN);
	run->have_prev = true;
	note = g_string_new("");
	if (run->out)
		objs = fetch_objects(run, name, &m, h, aead, ck, env, len, note);
	vc_wipe(ck, sizeof(ck));
	free(env);
	if (objs != VC_EV_OK) {
		if (objs == VC_EV__COUNT)
			run->missing++;
		else
			run->refused[objs]++;
	}
	format_utc((int64_t)(m.start_ns / 1000000000u), false, when, sizeof(when));
	printf("%-20" PRIu64 " %.32s %-8s %s UTC %5.1f s %5u frames%s: opened (cache %s)%s\n",
	       m.number, name + 21, trigger_name(m.trigger), when,
	       (double)(m.end_ns - m.start_ns) / 1e9, m.n_frames,
	       m.flags & VC_MANIFEST_F_THUMBNAIL ? ", thumbnail" : "", cache[0] ? cache : "-",
	       note->str);
	g_string_free(note, TRUE);
	return objs == VC_EV_OK ? 0 : -1;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_entry *)a)->name, ((const struct store_entry *)b)->name);
}

/* The listing is older than what this hub saw: a rollback (counted as replay). */
static void rollback(struct events_run *run, const char *newest)
{
	run->refused[VC_EV_REPLAY]++;
	printf("rollback: %s, but event %" PRIu64 " was seen before: refused (replay)\n", newest,
	       run->seen.number);
}

/* "N events of NAME (KEYID), K refused or missing (reason n, ...), G gaps (E events missing)" */
static void events_summary(const struct events_run *run, size_t shown, const char *camera)
{
	unsigned int bad = run->missing;
	const char *sep = " (";

	for (int r = 0; r < VC_EV__COUNT; r++)
		bad += run->refused[r];
	printf("%zu event%s of %s (%s), %u refused or missing", shown, shown == 1 ? "" : "s",
	       camera, run->kid, bad);
	for (int r = 0; r < VC_EV__COUNT; r++) {
		if (run->refused[r]) {
			printf("%s%s %u", sep, vc_event_reject_name((enum vc_event_reject)r),
			       run->refused[r]);
			sep = ", ";
		}
	}
	if (run->missing)
		printf("%snot-fetched %u", sep, run->missing);
	printf("%s, %u gap%s (%" PRIu64 " event%s missing)\n", bad ? ")" : "", run->gaps,
	       run->gaps == 1 ? "" : "s", run->gap_events, run->gap_events == 1 ? "" : "s");
}

/*
 * events show|live [--socket PATH], events play CAMERA NUMBER [--socket PATH]:
 * a request to the running hub's status socket.
 */
static int events_screen(int argc, char **argv)
{
	g_autofree char *tried = NULL, *path = NULL, *req = NULL;
	int words = !strcmp(argv[0], "play") ? 3 : 1;

	if (argc != words && !(argc == words + 2 && !strcmp(argv[words], "--socket")))
		return usage();
	if (argc == words + 2) {
		if (argv[words + 1][0] != '/')
			return fail(EXIT_CONFIG, "events: --socket takes the hub's status socket's "
				    "absolute path");
		path = g_strdup(argv[words + 1]);
	} else if (!(path = svc_status_find(VC_ROLE_HUB, &tried))) {
		fprintf(stderr, "veracamctl: events: no hub status socket (looked for %s): is "
			"veracamd hub running? Else give --socket PATH\n", tried);
		return EXIT_FAIL;
	}
	req = words == 3 ? g_strdup_printf("events play %s %s", argv[1], argv[2])
			 : g_strdup_printf("events %s", argv[0]);
	if (strpbrk(req, "\n\r"))
		return fail(EXIT_CONFIG, "events: a camera name or number with a line break");
	return ask_daemon(path, req, "events", "this veracamd has no events view (an older version?)");
}

static int cmd_events(int argc, char **argv)
{
	const char *dir, *store = NULL, *camera = NULL;
	char kid[2 * VC_KEY_ID_LEN + 1], cache[16];
	g_autoptr(GError) err = NULL;
	struct vc_device_key *hub = NULL;
	struct vc_enc_key *enc = NULL;
	struct store_entry *e = NULL;
	struct vc_peer cam;
	struct events_run run = { .kid = kid };
	long timeout = 10, deadline = EVENTS_DEADLINE_S, status;
	uint8_t *list = NULL;
	size_t len, n = 0, shown = 0;
	int ret = EXIT_FAIL;
	bool bad = false;

	if (argc >= 1 && (!strcmp(argv[0], "show") || !strcmp(argv[0], "live") ||
			  !strcmp(argv[0], "play")))
		return events_screen(argc, argv);
	if (argc < 2 || strcmp(argv[0], "list"))
		return usage();
	dir = argv[1];
	for (int i = 2; i < argc; i++) {
		if (i + 1 < argc && !strcmp(argv[i], "--store"))
			store = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--camera"))
			camera = argv[++i];
		else if (i + 1 < argc && !strcmp(argv[i], "--timeout"))
			timeout = atol(argv[++i]);
		else if (i + 1 < argc && !strcmp(argv[i], "--deadline"))
			deadline = atol(argv[++i]);
		else if (i + 1 < argc && !strcmp(argv[i], "--fetch"))
			run.out = argv[++i];
		else
			return usage();
	}
	if (!store || !camera || timeout < 1 || timeout > 600 || deadline < 1 || deadline > 86400)
		return usage();
	if (vc_peer_load(dir, camera, &cam) < 0)
		return fail(EXIT_CONFIG, vc_last_error());
	if (cam.role != VC_ROLE_CAMERA || cam.pending)
		return fail(EXIT_CONFIG, "events: that peer is not a confirmed camera");
	if (hub_event_seen_load(dir, camera, &run.seen) < 0)
		return fail(EXIT_CONFIG, "events: events-seen: unreadable or malformed");
	if (!(hub = vc_key_load(dir)) || !(enc = vc_enc_key_load(dir))) {
		ret = fail(EXIT_CONFIG, vc_last_error());
		goto out;
	}
	if (!(run.f = store_fetch_new(store, timeout, &err))) {
		ret = fail(EXIT_CONFIG, err->message);
		goto out;
	}
	store_fetch_set_deadline(run.f, store_fetch_now_ms() + (uint64_t)deadline * 1000u);
	run.cam = &cam;
	run.hub_id = vc_key_id(hub);
	run.enc = enc;
	vc_hex(cam.key_id, VC_KEY_ID_LEN, kid);
	{
		char path[sizeof(kid) + 1];

		snprintf(path, sizeof(path), "%s/", kid);
		status = store_fetch_get(run.f, path, STORE_LIST_MAX_BYTES, &list, &len, cache, &err);
	}
	if (status == 404 && !run.seen.have) {
		printf("no events of %s in the store\n", camera);
		ret = 0;
		goto out;
	}
	if (status == 404) {
		rollback(&run, "the store has no listing");
		events_summary(&run, 0, camera);
		ret = EXIT_REJECTED;
		goto out;
	}
	if (status != 200) {
		fprintf(stderr, "veracamctl: events: %s\n", err->message);
		goto out;
	}
	if (store_list_parse((const char *)list, len, &e, &n, &err) < 0) {
		fprintf(stderr, "veracamctl: events: %s\n", err->message);
		goto out;
	}
	if (n > 1)
		qsort(e, n, sizeof(*e), name_cmp);	/* 20-digit numbers: oldest first */
	for (size_t i = 0; i < n; i++) {
		uint64_t num;
		uint8_t id[VC_EVENT_ID_LEN];

		if (!e[i].is_file || !store_envelope_name(e[i].name, &num, id))
			continue;
		shown++;
		if (list_one(&run, e[i].name) < 0)
			bad = true;
	}
	if (run.seen.have && (!run.have_prev || run.prev.number < run.seen.number)) {
		char newest[64];

		if (run.have_prev)
			snprintf(newest, sizeof(newest), "the newest listed event is %" PRIu64,
				 run.prev.number);
		else
			snprintf(newest, sizeof(newest), "no listed event opened");
		rollback(&run, newest);
		ret = EXIT_REJECTED;
	} else if (run.have_prev && (!run.seen.have || run.prev.number > run.seen.number) &&
		   hub_event_seen_save(dir, camera, run.prev.number, run.prev_hash) < 0) {
		fprintf(stderr, "veracamctl: events: %s/events-seen/%s: not written\n", dir, camera);
		bad = true;
	}
	events_summary(&run, shown, camera);
	if (ret != EXIT_REJECTED)
		ret = bad ? EXIT_FAIL : 0;
out:
	free(e);
	free(list);
	store_fetch_free(run.f);
	vc_enc_key_free(enc);
	vc_key_free(hub);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name, *synopsis;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "keygen", "keygen DIR", cmd_keygen },
		{ "identity", "identity DIR [--key-id]", cmd_identity },
		{ "enc-keygen", "enc-keygen DIR", cmd_enc_keygen },
		{ "enc-binding", "enc-binding DIR", cmd_enc_binding },
		{ "enc-pin", "enc-pin DIR NAME BINDING", cmd_enc_pin },
		{ "enc-identity", "enc-identity DIR", cmd_enc_identity },
		{ "trust", "trust DIR NAME IDENTITY [--role camera|hub] [--pair-code PAYLOAD] "
		  "[--confirmed]", cmd_trust },
		{ "confirm", "confirm DIR NAME", cmd_confirm },
		{ "peers", "peers DIR", cmd_peers },
		{ "untrust", "untrust DIR NAME", cmd_untrust },
		{ "pair-mode", "pair-mode DIR|--running [--listen HOST:PORT] [--address HOST] [--name NAME] "
		  "[--hub-name NAME] [--ttl SECONDS] [--png PATH] [--sas]", cmd_pair_mode },
		{ "pair", "pair DIR NAME PAYLOAD [--hub-name NAME] | pair DIR NAME --sas HOST:PORT | "
		  "pair DIR NAME --discover",
		  cmd_pair },
		{ "pair-code", "pair-code DIR", cmd_pair_code },
		{ "sas", "sas DIR NAME [CODE|PAYLOAD]", cmd_sas },
		{ "status", "status camera|hub|SOCKET", cmd_status },
		{ "event", "event camera|SOCKET [manual|doorbell]", cmd_event },
		{ "export", "export DIR EVENT OUT.mp4 [--camera NAME] [--no-thumbnail]", cmd_export },
		{ "verify", "verify FILE.mp4 --camera IDENTITY [--quiet]", cmd_verify },
		{ "events", "events list DIR --store URL --camera NAME [--timeout SECONDS] "
		  "[--deadline SECONDS] [--fetch OUTDIR] | events show|live [--socket PATH] | "
		  "events play CAMERA NUMBER [--socket PATH]",
		  cmd_events },
	};
	size_t i;

	/* a pairing peer that hangs up mid-write is an error, not a signal */
	signal(SIGPIPE, SIG_IGN);
	if (argc >= 2 && (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help"))) {
		fputs(usage_text, stdout);
		return 0;
	}
	if (argc == 2 && (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version"))) {
		puts("veracamctl " VERACAM_VERSION);
		return 0;
	}
	for (i = 0; argc >= 2 && i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			synopsis = cmds[i].synopsis;
			return cmds[i].fn(argc - 2, argv + 2);
		}
	}
	synopsis = "COMMAND ...";
	if (argc >= 2)
		fprintf(stderr, "veracamctl: unknown command '%s' (see 'veracamctl help')\n", argv[1]);
	else
		usage();
	return EXIT_CONFIG;
}
