// SPDX-License-Identifier: GPL-2.0
/* Device keys: generation, file permissions, refusal rules, key id, identity lines. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <veracam/keys.h>

#include "fixture.h"
#include "internal.h"	/* vc_key_pkey */

static char dir[512], keyfile[600];

static void keygen_creates_private_key(void)
{
	struct vc_device_key *k;
	struct stat st;

	fx_require(vc_keygen(dir) == 0);
	fx_require(stat(keyfile, &st) == 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	fx_require(stat(dir, &st) == 0);
	g_assert_false(st.st_mode & 077);
	k = vc_key_load(dir);
	fx_require(k);
	g_assert_cmpint(EVP_PKEY_get_base_id(vc_key_pkey(k)), ==, EVP_PKEY_ED25519);
	vc_key_free(k);
}

static void keygen_refuses_overwrite(void)
{
	struct vc_device_key *before = vc_key_load(dir), *after;

	fx_require(before);
	g_assert_cmpint(vc_keygen(dir), <, 0);
	g_assert_nonnull(strstr(vc_last_error(), "refusing to overwrite"));
	after = vc_key_load(dir);
	fx_require(after);
	g_assert_cmpmem(vc_key_public(before), VC_PUBKEY_LEN, vc_key_public(after), VC_PUBKEY_LEN);
	vc_key_free(before);
	vc_key_free(after);
}

static void load_refuses_bad_permissions(void)
{
	static const unsigned int modes[] = { 0640, 0604, 0644, 0660, 0606, 0620, 0602, 0700 };
	struct vc_device_key *k;
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		fx_require(chmod(keyfile, modes[i]) == 0);
		k = vc_key_load(dir);
		if (modes[i] & 077) {
			g_assert_null(k);
			g_assert_nonnull(strstr(vc_last_error(), "group or others"));
		} else {
			g_assert_nonnull(k);
		}
		vc_key_free(k);
	}
	fx_require(chmod(keyfile, 0600) == 0);
	k = vc_key_load(dir);
	g_assert_nonnull(k);
	vc_key_free(k);
}

static void load_refuses_symlink_and_foreign_owner(void)
{
	char other[600], link[700];
	struct vc_device_key *k;

	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	fx_require(mkdir(other, 0700) == 0);
	snprintf(link, sizeof(link), "%s/%s", other, VC_KEY_FILE);
	fx_require(symlink(keyfile, link) == 0);
	g_assert_null(vc_key_load(other));
	g_assert_nonnull(strstr(vc_last_error(), "symlink"));
	if (geteuid() == 0) {
		fx_require(chown(keyfile, 4321, 4321) == 0);
		k = vc_key_load(dir);
		g_assert_null(k);
		g_assert_nonnull(strstr(vc_last_error(), "owned by uid 4321"));
		vc_key_free(k);
		fx_require(chown(keyfile, 0, 0) == 0);
	} else {
		g_test_message("not root: foreign-owner case not exercised");
	}
}

static void load_refuses_other_contents(void)
{
	char d2[600], f2[700];
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	FILE *f;

	snprintf(d2, sizeof(d2), "%s/other", dir);
	snprintf(f2, sizeof(f2), "%s/%s", d2, VC_KEY_FILE);
	fx_require(mkdir(d2, 0700) == 0 && ec);
	g_assert_null(vc_key_load(d2));			/* missing */
	fx_require(fx_write(f2, "garbage\n", 8, 0600) == 0);
	g_assert_null(vc_key_load(d2));			/* not PEM */
	fx_require(fx_write(f2, "", 0, 0600) == 0);
	g_assert_null(vc_key_load(d2));			/* empty */
	f = fopen(f2, "w");
	fx_require(f && PEM_write_PrivateKey(f, ec, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	g_assert_null(vc_key_load(d2));			/* not Ed25519 */
	g_assert_nonnull(strstr(vc_last_error(), "Ed25519"));
	EVP_PKEY_free(ec);
}

static void key_id_is_sha256_of_public_key(void)
{
	struct vc_device_key *k = fx_key(9);
	uint8_t h[32], id[VC_KEY_ID_LEN];

	fx_require(k);
	fx_require(EVP_Digest(vc_key_public(k), VC_PUBKEY_LEN, h, NULL, EVP_sha256(), NULL) == 1);
	g_assert_cmpmem(vc_key_id(k), VC_KEY_ID_LEN, h, VC_KEY_ID_LEN);
	fx_require(vc_key_id_of(vc_key_public(k), id) == 0);
	g_assert_cmpmem(id, VC_KEY_ID_LEN, h, VC_KEY_ID_LEN);
	vc_key_free(k);
}

static void identity_line_round_trip_and_strictness(void)
{
	struct vc_device_key *k = fx_key(9);
	char line[VC_IDENTITY_LEN + 1], bad[VC_IDENTITY_LEN + 8];
	uint8_t pub[VC_PUBKEY_LEN];

	fx_require(k);
	vc_identity_format(vc_key_public(k), line);
	g_assert_true(strlen(line) == VC_IDENTITY_LEN && !strncmp(line, "veracam1:ed25519:", 17));
	g_assert_cmpint(vc_identity_parse(line, pub), ==, 0);
	g_assert_cmpmem(pub, VC_PUBKEY_LEN, vc_key_public(k), VC_PUBKEY_LEN);
	snprintf(bad, sizeof(bad), "%s ", line);
	g_assert_cmpint(vc_identity_parse(bad, pub), <, 0);		/* trailing space */
	snprintf(bad, sizeof(bad), "%.*s", (int)VC_IDENTITY_LEN - 2, line);
	g_assert_cmpint(vc_identity_parse(bad, pub), <, 0);		/* short */
	memcpy(bad, line, sizeof(line));
	bad[20] = 'g';
	g_assert_cmpint(vc_identity_parse(bad, pub), <, 0);		/* not hex */
	memcpy(bad, line, sizeof(line));
	bad[VC_IDENTITY_LEN - 1] = 'A';
	g_assert_cmpint(vc_identity_parse(bad, pub), <, 0);		/* one spelling only: lowercase */
	memcpy(bad, line, sizeof(line));
	bad[8] = '2';
	g_assert_cmpint(vc_identity_parse(bad, pub), <, 0);		/* other version */
	memcpy(bad, line, sizeof(line));
	memcpy(bad + 9, "ed448::", 7);
	g_assert_cmpint(vc_identity_parse(bad, pub), <, 0);		/* other algorithm */
	vc_key_free(k);
}

static void seeded_keys_are_deterministic(void)
{
	struct vc_device_key *a = fx_key(3), *b = fx_key(3), *c = fx_key(4);

	fx_require(a && b && c);
	g_assert_cmpmem(vc_key_public(a), VC_PUBKEY_LEN, vc_key_public(b), VC_PUBKEY_LEN);
	g_assert_true(memcmp(vc_key_public(a), vc_key_public(c), VC_PUBKEY_LEN) != 0);
	vc_key_free(a);
	vc_key_free(b);
	vc_key_free(c);
}

int main(int argc, char **argv)
{
	char base[400];
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	if (fx_tmpdir(base, sizeof(base)) < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/keys", base);
	snprintf(keyfile, sizeof(keyfile), "%s/%s", dir, VC_KEY_FILE);
	g_test_add_func("/core/keys/keygen-creates-private-key", keygen_creates_private_key);
	g_test_add_func("/core/keys/keygen-refuses-overwrite", keygen_refuses_overwrite);
	g_test_add_func("/core/keys/load-refuses-bad-permissions", load_refuses_bad_permissions);
	g_test_add_func("/core/keys/load-refuses-symlink-and-foreign-owner",
			load_refuses_symlink_and_foreign_owner);
	g_test_add_func("/core/keys/load-refuses-other-contents", load_refuses_other_contents);
	g_test_add_func("/core/keys/key-id-is-sha256-of-public-key",
			key_id_is_sha256_of_public_key);
	g_test_add_func("/core/keys/identity-line-round-trip-and-strictness",
			identity_line_round_trip_and_strictness);
	g_test_add_func("/core/keys/seeded-keys-are-deterministic", seeded_keys_are_deterministic);
	rc = g_test_run();
	fx_rmtree(base);
	return rc;
}
