// SPDX-License-Identifier: GPL-2.0
/* Pairing: records (atomic, strict), trust/untrust, pairing codes and the SAS. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <veracam/keys.h>
#include <veracam/pairing.h>

#include "fixture.h"

static char dir[512];

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void trust_load_untrust(void)
{
	struct vc_peer p = fx_peer("front-door", 1, VC_ROLE_CAMERA), q;
	char path[700];
	struct stat st;

	fx_require(vc_peer_trust(dir, &p) == 0);
	snprintf(path, sizeof(path), "%s/peers/front-door", dir);
	fx_require(stat(path, &st) == 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	snprintf(path, sizeof(path), "%s/peers", dir);
	g_assert_cmpint(count_entries(path), ==, 1);	/* no temp file left behind */
	fx_require(vc_peer_load(dir, "front-door", &q) == 0);
	g_assert_cmpmem(&p, sizeof(p), &q, sizeof(p));
	/* same key and role again: fine; another key or role under the name: refused */
	g_assert_cmpint(vc_peer_trust(dir, &p), ==, 0);
	q = fx_peer("front-door", 2, VC_ROLE_CAMERA);
	g_assert_cmpint(vc_peer_trust(dir, &q), <, 0);
	q = fx_peer("front-door", 1, VC_ROLE_HUB);
	g_assert_cmpint(vc_peer_trust(dir, &q), <, 0);
	fx_require(vc_peer_load(dir, "front-door", &q) == 0);
	g_assert_cmpmem(&p, sizeof(p), &q, sizeof(p));
	/* unpairing removes trust at once */
	g_assert_cmpint(vc_peer_untrust(dir, "front-door"), ==, 0);
	g_assert_cmpint(vc_peer_load(dir, "front-door", &q), <, 0);
	g_assert_cmpint(vc_peer_untrust(dir, "front-door"), <, 0);
}

static void list_is_sorted_and_fails_closed(void)
{
	struct vc_peer a = fx_peer("b-cam", 1, VC_ROLE_CAMERA), b = fx_peer("a-hub", 2, VC_ROLE_HUB);
	struct vc_peer *list;
	char path[700];
	size_t n;

	fx_require(vc_peer_trust(dir, &a) == 0 && vc_peer_trust(dir, &b) == 0);
	fx_require(vc_peer_list(dir, &list, &n) == 0);
	g_assert_true(n == 2 && !strcmp(list[0].name, "a-hub") && !strcmp(list[1].name, "b-cam"));
	free(list);
	/* a half-written temp file is ignored */
	snprintf(path, sizeof(path), "%s/peers/.b-cam.0123.tmp", dir);
	fx_require(fx_write(path, "veracam-peer 1\n", 15, 0600) == 0);
	fx_require(vc_peer_list(dir, &list, &n) == 0);
	g_assert_cmpint(n, ==, 2);
	free(list);
	remove(path);
	/* one malformed record: the whole trust store is refused */
	snprintf(path, sizeof(path), "%s/peers/broken", dir);
	fx_require(fx_write(path, "veracam-peer 1\nname broken\n", 27, 0600) == 0);
	g_assert_cmpint(vc_peer_list(dir, &list, &n), <, 0);
	g_assert_nonnull(strstr(vc_last_error(), "broken"));
	remove(path);
	/* a record whose name differs from its file name */
	snprintf(path, sizeof(path), "%s/peers/c-cam", dir);
	{
		char text[VC_PEER_RECORD_MAX];
		int len = vc_peer_format(&a, text, sizeof(text));

		fx_require(len > 0 && fx_write(path, text, (size_t)len, 0600) == 0);
	}
	g_assert_cmpint(vc_peer_load(dir, "c-cam", &a), <, 0);
	g_assert_cmpint(vc_peer_list(dir, &list, &n), <, 0);
	remove(path);
	vc_peer_untrust(dir, "a-hub");
	vc_peer_untrust(dir, "b-cam");
}

static void malformed_records_are_refused(void)
{
	struct vc_peer p = fx_peer("cam1", 1, VC_ROLE_CAMERA), q;
	char good[VC_PEER_RECORD_MAX], text[2 * VC_PEER_RECORD_MAX], id[VC_IDENTITY_LEN + 1];
	const char *line4;
	int n;
	size_t i;
	static const struct {
		const char *from, *to;
	} edits[] = {
		{ "veracam-peer 1\n", "veracam-peer 2\n" },
		{ "veracam-peer 1\n", "veracam-peer 0\n" },
		{ "veracam-peer 1\n", "" },
		{ "name cam1\n", "name cam/1\n" },
		{ "name cam1\n", "name ../cam1\n" },
		{ "name cam1\n", "name \n" },
		{ "name cam1\n", "name  cam1\n" },
		{ "name cam1\n", "name cam1 \n" },
		{ "role camera\n", "role admin\n" },
		{ "role camera\n", "role Camera\n" },
		{ "role camera\n", "" },
		{ "key veracam1:ed25519:", "key veracam1:ed25519:0" },
		{ "key veracam1:", "key veracam2:" },
		{ "created 1795219200\n", "created -1795219200\n" },
		{ "created 1795219200\n", "created 01795219200\n" },
		{ "created 1795219200\n", "created 17952192x0\n" },
		{ "created 1795219200\n", "created 1795219200" },
		{ "created 1795219200\n", "created 1795219200\r\n" },
		{ "created 1795219200\n", "created 1795219200\n\n" },
		{ "created 1795219200\n", "created 1795219200\nextra 1\n" },
		{ "created 1795219200\n", "created 99999999999999999999\n" },
		{ "name cam1\nrole camera\n", "role camera\nname cam1\n" },
		{ "name cam1\n", "name cam1\nname cam1\n" },
		{ "name cam1\n", "name cam\0001\n" },
	};

	n = vc_peer_format(&p, good, sizeof(good));
	fx_require(n > 0);
	g_assert_cmpint(vc_peer_parse(good, (size_t)n, &q), ==, 0);
	g_assert_cmpmem(&p, sizeof(p), &q, sizeof(p));
	vc_identity_format(p.pub, id);
	line4 = strstr(good, "key ");
	fx_require(line4);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		const char *at = strstr(good, edits[i].from);
		size_t pre, tolen = strlen(edits[i].to), len;

		fx_require(at);
		pre = (size_t)(at - good);
		memcpy(text, good, pre);
		if (strstr(edits[i].to, "cam") == edits[i].to + 5 && edits[i].to[8] == '\0')
			tolen = 11;	/* the embedded NUL case */
		memcpy(text + pre, edits[i].to, tolen);
		len = pre + tolen;
		memcpy(text + len, at + strlen(edits[i].from), (size_t)n - pre - strlen(edits[i].from));
		len += (size_t)n - pre - strlen(edits[i].from);
		if (vc_peer_parse(text, len, &q) == 0)
			g_test_message("edit %zu (%s) accepted", i, edits[i].to);
		g_assert_cmpint(vc_peer_parse(text, len, &q), <, 0);
	}
	/* truncated at every length */
	for (i = 0; i < (size_t)n; i++)
		g_assert_cmpint(vc_peer_parse(good, i, &q), <, 0);
	/* oversized */
	memset(text, 'x', sizeof(text));
	g_assert_cmpint(vc_peer_parse(text, VC_PEER_RECORD_MAX + 1, &q), <, 0);
}

static void names_are_validated(void)
{
	char longname[VC_NAME_MAX + 2];

	g_assert_true(vc_name_valid("kitchen"));
	g_assert_true(vc_name_valid("Cam_2.north-side"));
	g_assert_false(vc_name_valid(""));
	g_assert_false(vc_name_valid("."));
	g_assert_false(vc_name_valid(".."));
	g_assert_false(vc_name_valid("../etc"));
	g_assert_false(vc_name_valid("a/b"));
	g_assert_false(vc_name_valid(".hidden"));
	g_assert_false(vc_name_valid("-rf"));
	g_assert_false(vc_name_valid("space name"));
	g_assert_false(vc_name_valid("tab\tname"));
	memset(longname, 'a', sizeof(longname));
	longname[VC_NAME_MAX] = '\0';
	g_assert_true(vc_name_valid(longname));
	longname[VC_NAME_MAX] = 'a';
	longname[VC_NAME_MAX + 1] = '\0';
	g_assert_false(vc_name_valid(longname));
	{
		struct vc_peer p = fx_peer("ok", 1, VC_ROLE_CAMERA);

		strcpy(p.name, "../escape");
		g_assert_cmpint(vc_peer_trust(dir, &p), <, 0);
	}
}

static void pair_code_and_sas(void)
{
	struct vc_device_key *cam = fx_key(1), *hub = fx_key(2), *evil = fx_key(3);
	char payload[VC_PAIR_PAYLOAD_LEN + 1], payload2[VC_PAIR_PAYLOAD_LEN + 1];
	char code[VC_PAIR_CODE_DIGITS + 1], code2[VC_PAIR_CODE_DIGITS + 1];
	char s1[VC_SAS_LEN + 1], s2[VC_SAS_LEN + 1], s3[VC_SAS_LEN + 1];
	uint8_t fp[VC_KEY_ID_LEN];
	char path[700];
	struct stat st;

	fx_require(cam && hub && evil);
	fx_require(vc_pair_code_new(dir, cam, payload) == 0);
	g_assert_cmpint(strlen(payload), ==, VC_PAIR_PAYLOAD_LEN);
	snprintf(path, sizeof(path), "%s/%s", dir, VC_PAIR_CODE_FILE);
	fx_require(stat(path, &st) == 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	fx_require(vc_pair_payload_parse(payload, fp, code) == 0);
	g_assert_cmpmem(fp, VC_KEY_ID_LEN, vc_key_id(cam), VC_KEY_ID_LEN);	/* carries the fingerprint */
	fx_require(vc_pair_code_load(dir, code2) == 0);
	g_assert_cmpstr(code, ==, code2);
	fx_require(vc_pair_code_new(dir, cam, payload2) == 0);
	g_assert_cmpstr(payload, !=, payload2);			/* fresh each time */

	/* both screens compute the same string; any other key or code changes it */
	fx_require(vc_sas(vc_key_public(cam), vc_key_public(hub), code, s1) == 0);
	fx_require(vc_sas(vc_key_public(cam), vc_key_public(hub), code, s2) == 0);
	g_assert_true(!strcmp(s1, s2) && strlen(s1) == VC_SAS_LEN && s1[3] == ' ');
	fx_require(vc_sas(vc_key_public(evil), vc_key_public(hub), code, s3) == 0);
	g_assert_cmpstr(s1, !=, s3);
	fx_require(vc_sas(vc_key_public(cam), vc_key_public(evil), code, s3) == 0);
	g_assert_cmpstr(s1, !=, s3);
	code2[0] = code[0] == '9' ? '0' : (char)(code[0] + 1);
	memcpy(code2 + 1, code + 1, VC_PAIR_CODE_DIGITS);
	fx_require(vc_sas(vc_key_public(cam), vc_key_public(hub), code2, s3) == 0);
	g_assert_cmpstr(s1, !=, s3);
	g_assert_cmpint(vc_sas(vc_key_public(cam), vc_key_public(hub), "1234", s3), <, 0);

	g_assert_cmpint(vc_pair_payload_parse("veracam-pair1:00:12345678", fp, code), <, 0);
	payload[VC_PAIR_PAYLOAD_LEN - 1] = 'x';
	g_assert_cmpint(vc_pair_payload_parse(payload, fp, code), <, 0);
	fx_require(fx_write(path, "1234\n", 5, 0600) == 0);
	g_assert_cmpint(vc_pair_code_load(dir, code), <, 0);
	vc_key_free(cam);
	vc_key_free(hub);
	vc_key_free(evil);
}

/* A pending pin round-trips as record version 2 and is confirmed in place. */
static void pending_pin_and_confirm(void)
{
	struct vc_peer p = fx_peer("gate", 3, VC_ROLE_HUB), q;
	char text[VC_PEER_RECORD_MAX];
	int n;

	p.pending = true;
	n = vc_peer_format(&p, text, sizeof(text));
	fx_require(n > 0);
	g_assert_true(!strncmp(text, "veracam-peer 2\n", 15) && strstr(text, "\nstate pending\n"));
	fx_require(vc_peer_parse(text, (size_t)n, &q) == 0);
	g_assert_true(q.pending && !memcmp(&p, &q, sizeof(p)));
	/* version 2 without the state line, or another state: refused */
	g_assert_cmpint(vc_peer_parse(text, (size_t)n - strlen("state pending\n"), &q), <, 0);
	text[n - 2] = 'x';
	g_assert_cmpint(vc_peer_parse(text, (size_t)n, &q), <, 0);
	fx_require(vc_peer_trust(dir, &p) == 0);
	fx_require(vc_peer_load(dir, "gate", &q) == 0);
	g_assert_true(q.pending);
	/* a pending re-trust does not downgrade; confirm activates */
	g_assert_cmpint(vc_peer_confirm(dir, "gate"), ==, 0);
	fx_require(vc_peer_load(dir, "gate", &q) == 0);
	g_assert_false(q.pending);
	g_assert_cmpint(vc_peer_trust(dir, &p), ==, 0);
	fx_require(vc_peer_load(dir, "gate", &q) == 0);
	g_assert_false(q.pending);
	g_assert_cmpint(vc_peer_confirm(dir, "nobody"), <, 0);
	g_assert_cmpint(vc_peer_untrust(dir, "gate"), ==, 0);
}

static void note_skip(void *ctx, const char *name, const char *why)
{
	int *count = ctx;

	g_test_message("skipped %s: %s", name, why);
	(*count)++;
}

/*
 * One stray or broken file among the records - an editor's backup, a
 * README, a truncated record, a record of an unknown version, a
 * directory - leaves every other peer trusted (skipped, each named once).
 */
static void stray_files_skipped_not_fatal(void)
{
	struct vc_peer a = fx_peer("alpha", 4, VC_ROLE_HUB), b = fx_peer("beta", 5, VC_ROLE_HUB);
	char path[700], text[VC_PEER_RECORD_MAX];
	struct vc_peer *v, q;
	size_t n;
	int skipped = 0, len;
	FILE *f;

	fx_require(vc_peer_trust(dir, &a) == 0 && vc_peer_trust(dir, &b) == 0);
	len = vc_peer_format(&a, text, sizeof(text));
	snprintf(path, sizeof(path), "%s/peers/alpha~", dir);	/* editor backup */
	fx_require((f = fopen(path, "w")) && fwrite(text, 1, (size_t)len, f) && !fclose(f));
	snprintf(path, sizeof(path), "%s/peers/README", dir);
	fx_require((f = fopen(path, "w")) && fputs("pins live here\n", f) >= 0 && !fclose(f));
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/peers/gamma", dir);	/* a future version */
	fx_require((f = fopen(path, "w")) && fputs("veracam-peer 9\n", f) >= 0 && !fclose(f));
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/peers/delta", dir);
	fx_require(mkdir(path, 0700) == 0);
	/*
	 * A well-formed record made group-writable, a FIFO and a symlink to a
	 * good record under peer names: each refused on the opened file itself
	 * (loaded by name too: no check by name that a swap could slip past,
	 * and the FIFO does not hang the load).
	 */
	snprintf(path, sizeof(path), "%s/peers/eta", dir);
	q = fx_peer("eta", 6, VC_ROLE_HUB);
	len = vc_peer_format(&q, text, sizeof(text));
	fx_require(len > 0 && (f = fopen(path, "w")) && fwrite(text, 1, (size_t)len, f) &&
		   !fclose(f));
	fx_require(chmod(path, 0620) == 0);
	g_assert_true(vc_peer_load(dir, "eta", &q) < 0 &&
		      strstr(vc_last_error(), "writable by others"));
	snprintf(path, sizeof(path), "%s/peers/epsilon", dir);
	fx_require(mkfifo(path, 0600) == 0);
	g_assert_true(vc_peer_load(dir, "epsilon", &q) < 0 &&
		      strstr(vc_last_error(), "not a regular file"));
	snprintf(path, sizeof(path), "%s/peers/zeta", dir);
	fx_require(symlink("beta", path) == 0);
	g_assert_cmpint(vc_peer_load(dir, "zeta", &q), <, 0);
	fx_require(vc_peer_list_skipping(dir, &v, &n, note_skip, &skipped) == 0);
	g_assert_true(n == 2 && !strcmp(v[0].name, "alpha") && !strcmp(v[1].name, "beta"));
	g_assert_cmpint(skipped, ==, 7);
	free(v);
	unlink(path);
	snprintf(path, sizeof(path), "%s/peers/epsilon", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/peers/eta", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/peers/delta", dir);
	/* the strict list still refuses the whole directory (veracamctl checks) */
	g_assert_true(vc_peer_list(dir, &v, &n) < 0 && n == 0);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/peers/gamma", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/peers/README", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/peers/alpha~", dir);
	unlink(path);
	g_assert_true(vc_peer_untrust(dir, "alpha") == 0 && vc_peer_untrust(dir, "beta") == 0);
}

/*
 * DIR/peers made a symlink (the service's user owns DIR; an admin runs
 * veracamctl trust/confirm/untrust or pair-mode as root there): no pin is
 * written into, and no file removed from, the directory it points to.
 */
static void peers_symlink_refused(void)
{
	struct vc_peer p = fx_peer("victim", 1, VC_ROLE_HUB);
	char linked[600], elsewhere[600], path[800];
	struct stat st;

	snprintf(linked, sizeof(linked), "%s/linked", dir);
	snprintf(elsewhere, sizeof(elsewhere), "%s/elsewhere", dir);
	fx_require(mkdir(linked, 0700) == 0 && mkdir(elsewhere, 0700) == 0);
	snprintf(path, sizeof(path), "%s/victim", elsewhere);
	fx_require(fx_write(path, "precious\n", 9, 0600) == 0);
	snprintf(path, sizeof(path), "%s/peers", linked);
	fx_require(symlink(elsewhere, path) == 0);
	g_assert_cmpint(vc_peer_untrust(linked, "victim"), <, 0);
	snprintf(path, sizeof(path), "%s/victim", elsewhere);
	g_assert_true(stat(path, &st) == 0 && st.st_size == 9);
	p = fx_peer("newpin", 1, VC_ROLE_HUB);
	g_assert_cmpint(vc_peer_trust(linked, &p), <, 0);
	g_assert_cmpint(count_entries(elsewhere), ==, 1);
}

int main(int argc, char **argv)
{
	char base[400];
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	if (fx_tmpdir(base, sizeof(base)) < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s", base);
	g_test_add_func("/core/pairing/trust-load-untrust", trust_load_untrust);
	g_test_add_func("/core/pairing/list-is-sorted-and-fails-closed",
			list_is_sorted_and_fails_closed);
	g_test_add_func("/core/pairing/malformed-records-are-refused",
			malformed_records_are_refused);
	g_test_add_func("/core/pairing/names-are-validated", names_are_validated);
	g_test_add_func("/core/pairing/pair-code-and-sas", pair_code_and_sas);
	g_test_add_func("/core/pairing/pending-pin-and-confirm", pending_pin_and_confirm);
	g_test_add_func("/core/pairing/stray-files-skipped-not-fatal",
			stray_files_skipped_not_fatal);
	g_test_add_func("/core/pairing/peers-symlink-refused", peers_symlink_refused);
	rc = g_test_run();
	fx_rmtree(base);
	return rc;
}
