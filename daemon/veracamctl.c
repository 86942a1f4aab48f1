// SPDX-License-Identifier: GPL-2.0
/*
 * veracamctl - keys, pairing and status for veracam devices.
 *
 * Exit status: 0 success, 1 an operation failed (I/O), 2 usage or
 * configuration error (bad arguments, key directory, pairing records).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include <veracam/enckey.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>

#include "service.h"

#define EXIT_FAIL	1
#define EXIT_CONFIG	2

static const char usage_text[] =
	"usage: veracamctl COMMAND ...\n"
	"  keygen DIR                       create this device's keys in DIR (device.key,\n"
	"                                   enc.key); prints the identity line\n"
	"  identity DIR                     print this device's public identity line\n"
	"  enc-keygen DIR                   create only the encryption key (enc.key) in a\n"
	"                                   key directory made before it existed\n"
	"  enc-identity DIR                 print this device's encryption key line\n"
	"  trust DIR NAME IDENTITY [--role camera|hub] [--pair-code PAYLOAD]\n"
	"                                   pin a peer (role defaults to camera);\n"
	"                                   with --pair-code, its fingerprint must match\n"
	"  untrust DIR NAME                 remove a peer's trust now\n"
	"  pair-code DIR                    new pairing code; prints the QR payload\n"
	"  sas DIR NAME [CODE|PAYLOAD]      short authentication string to compare\n"
	"                                   on both screens (code from DIR/pair-code\n"
	"                                   when not given)\n"
	"  status camera|hub|SOCKET         the running daemon's counters (JSON) from its\n"
	"                                   status socket (the role's default path, or SOCKET)\n"
	"  version                          print the version\n";

static int fail(int status, const char *what)
{
	fprintf(stderr, "veracamctl: %s\n", what);
	return status;
}

/* The synopsis of the running command, for its one-line usage error. */
static const char *synopsis;

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
	if (argc != 1)
		return usage();
	return print_identity(argv[0], EXIT_CONFIG);
}

static int cmd_trust(int argc, char **argv)
{
	const char *payload = NULL;
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
		if (CRYPTO_memcmp(fp, p.key_id, VC_KEY_ID_LEN) != 0)
			return fail(EXIT_CONFIG, "identity does not match the pairing code's "
					    "fingerprint; not trusted");
	}
	p.created = (int64_t)time(NULL);
	if (vc_peer_trust(argv[0], &p) < 0)
		return fail(EXIT_CONFIG, vc_last_error());
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
	OPENSSL_cleanse(payload, sizeof(payload));
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
	OPENSSL_cleanse(code, sizeof(code));
	return ret;
}

static int cmd_status(int argc, char **argv)
{
	enum svc_role role;
	char *path, *err = NULL;
	int ret = 0;

	if (argc != 1)
		return usage();
	if (!strcmp(argv[0], "camera") || !strcmp(argv[0], "hub")) {
		g_autofree char *tried = NULL;

		role = !strcmp(argv[0], "camera") ? SVC_ROLE_CAMERA : SVC_ROLE_HUB;
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
		fprintf(stderr, "veracamctl: status: %s\n", err);
		ret = EXIT_FAIL;
	}
	g_free(err);
	g_free(path);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name, *synopsis;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "keygen", "keygen DIR", cmd_keygen },
		{ "identity", "identity DIR", cmd_identity },
		{ "enc-keygen", "enc-keygen DIR", cmd_enc_keygen },
		{ "enc-identity", "enc-identity DIR", cmd_enc_identity },
		{ "trust", "trust DIR NAME IDENTITY [--role camera|hub] [--pair-code PAYLOAD]",
		  cmd_trust },
		{ "untrust", "untrust DIR NAME", cmd_untrust },
		{ "pair-code", "pair-code DIR", cmd_pair_code },
		{ "sas", "sas DIR NAME [CODE|PAYLOAD]", cmd_sas },
		{ "status", "status camera|hub|SOCKET", cmd_status },
	};
	size_t i;

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
