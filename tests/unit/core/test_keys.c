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
#include "harness.h"
#include "internal.h"	/* vc_key_pkey */

static char dir[512], keyfile[600];

static void keygen_creates_private_key(void)
{
	struct vc_device_key *k;
	struct stat st;

	REQUIRE(vc_keygen(dir) == 0);
	REQUIRE(stat(keyfile, &st) == 0);
	CHECK((st.st_mode & 07777) == 0600);
	REQUIRE(stat(dir, &st) == 0);
	CHECK(!(st.st_mode & 077));
	k = vc_key_load(dir);
	REQUIRE(k);
	CHECK(EVP_PKEY_get_base_id(vc_key_pkey(k)) == EVP_PKEY_ED25519);
	vc_key_free(k);
}

static void keygen_refuses_overwrite(void)
{
	struct vc_device_key *before = vc_key_load(dir), *after;

	REQUIRE(before);
	CHECK(vc_keygen(dir) < 0);
	CHECK(strstr(vc_last_error(), "refusing to overwrite") != NULL);
	after = vc_key_load(dir);
	REQUIRE(after);
	CHECK(!memcmp(vc_key_public(before), vc_key_public(after), VC_PUBKEY_LEN));
	vc_key_free(before);
	vc_key_free(after);
}

static void load_refuses_bad_permissions(void)
{
	static const unsigned int modes[] = { 0640, 0604, 0644, 0660, 0606, 0620, 0602, 0700 };
	struct vc_device_key *k;
	size_t i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		REQUIRE(chmod(keyfile, modes[i]) == 0);
		k = vc_key_load(dir);
		if (modes[i] & 077) {
			CHECK(k == NULL);
			CHECK(strstr(vc_last_error(), "group or others") != NULL);
		} else {
			CHECK(k != NULL);
		}
		vc_key_free(k);
	}
	REQUIRE(chmod(keyfile, 0600) == 0);
	k = vc_key_load(dir);
	CHECK(k != NULL);
	vc_key_free(k);
}

static void load_refuses_symlink_and_foreign_owner(void)
{
	char other[600], link[700];
	struct vc_device_key *k;

	snprintf(other, sizeof(other), "%s/elsewhere", dir);
	REQUIRE(mkdir(other, 0700) == 0);
	snprintf(link, sizeof(link), "%s/%s", other, VC_KEY_FILE);
	REQUIRE(symlink(keyfile, link) == 0);
	CHECK(vc_key_load(other) == NULL);
	CHECK(strstr(vc_last_error(), "symlink") != NULL);
	if (geteuid() == 0) {
		REQUIRE(chown(keyfile, 4321, 4321) == 0);
		k = vc_key_load(dir);
		CHECK(k == NULL);
		CHECK(strstr(vc_last_error(), "owned by uid 4321") != NULL);
		vc_key_free(k);
		REQUIRE(chown(keyfile, 0, 0) == 0);
	} else {
		printf("# not root: foreign-owner case not exercised\n");
	}
}

static void load_refuses_other_contents(void)
{
	char d2[600], f2[700];
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	FILE *f;

	snprintf(d2, sizeof(d2), "%s/other", dir);
	snprintf(f2, sizeof(f2), "%s/%s", d2, VC_KEY_FILE);
	REQUIRE(mkdir(d2, 0700) == 0 && ec);
	CHECK(vc_key_load(d2) == NULL);			/* missing */
	REQUIRE(fx_write(f2, "garbage\n", 8, 0600) == 0);
	CHECK(vc_key_load(d2) == NULL);			/* not PEM */
	REQUIRE(fx_write(f2, "", 0, 0600) == 0);
	CHECK(vc_key_load(d2) == NULL);			/* empty */
	f = fopen(f2, "w");
	REQUIRE(f && PEM_write_PrivateKey(f, ec, NULL, NULL, 0, NULL, NULL) == 1);
	fclose(f);
	CHECK(vc_key_load(d2) == NULL);			/* not Ed25519 */
	CHECK(strstr(vc_last_error(), "Ed25519") != NULL);
	EVP_PKEY_free(ec);
}

static void key_id_is_sha256_of_public_key(void)
{
	struct vc_device_key *k = fx_key(9);
	uint8_t h[32], id[VC_KEY_ID_LEN];

	REQUIRE(k);
	REQUIRE(EVP_Digest(vc_key_public(k), VC_PUBKEY_LEN, h, NULL, EVP_sha256(), NULL) == 1);
	CHECK(!memcmp(vc_key_id(k), h, VC_KEY_ID_LEN));
	REQUIRE(vc_key_id_of(vc_key_public(k), id) == 0);
	CHECK(!memcmp(id, h, VC_KEY_ID_LEN));
	vc_key_free(k);
}

static void identity_line_round_trip_and_strictness(void)
{
	struct vc_device_key *k = fx_key(9);
	char line[VC_IDENTITY_LEN + 1], bad[VC_IDENTITY_LEN + 8];
	uint8_t pub[VC_PUBKEY_LEN];

	REQUIRE(k);
	vc_identity_format(vc_key_public(k), line);
	CHECK(strlen(line) == VC_IDENTITY_LEN && !strncmp(line, "veracam1:ed25519:", 17));
	CHECK(vc_identity_parse(line, pub) == 0);
	CHECK(!memcmp(pub, vc_key_public(k), VC_PUBKEY_LEN));
	snprintf(bad, sizeof(bad), "%s ", line);
	CHECK(vc_identity_parse(bad, pub) < 0);		/* trailing space */
	snprintf(bad, sizeof(bad), "%.*s", (int)VC_IDENTITY_LEN - 2, line);
	CHECK(vc_identity_parse(bad, pub) < 0);		/* short */
	memcpy(bad, line, sizeof(line));
	bad[20] = 'g';
	CHECK(vc_identity_parse(bad, pub) < 0);		/* not hex */
	memcpy(bad, line, sizeof(line));
	bad[VC_IDENTITY_LEN - 1] = 'A';
	CHECK(vc_identity_parse(bad, pub) < 0);		/* one spelling only: lowercase */
	memcpy(bad, line, sizeof(line));
	bad[8] = '2';
	CHECK(vc_identity_parse(bad, pub) < 0);		/* other version */
	memcpy(bad, line, sizeof(line));
	memcpy(bad + 9, "ed448::", 7);
	CHECK(vc_identity_parse(bad, pub) < 0);		/* other algorithm */
	vc_key_free(k);
}

static void seeded_keys_are_deterministic(void)
{
	struct vc_device_key *a = fx_key(3), *b = fx_key(3), *c = fx_key(4);

	REQUIRE(a && b && c);
	CHECK(!memcmp(vc_key_public(a), vc_key_public(b), VC_PUBKEY_LEN));
	CHECK(memcmp(vc_key_public(a), vc_key_public(c), VC_PUBKEY_LEN) != 0);
	vc_key_free(a);
	vc_key_free(b);
	vc_key_free(c);
}

int main(void)
{
	char base[400];

	if (fx_tmpdir(base, sizeof(base)) < 0)
		return 1;
	snprintf(dir, sizeof(dir), "%s/keys", base);
	snprintf(keyfile, sizeof(keyfile), "%s/%s", dir, VC_KEY_FILE);
	RUN(keygen_creates_private_key);
	RUN(keygen_refuses_overwrite);
	RUN(load_refuses_bad_permissions);
	RUN(load_refuses_symlink_and_foreign_owner);
	RUN(load_refuses_other_contents);
	RUN(key_id_is_sha256_of_public_key);
	RUN(identity_line_round_trip_and_strictness);
	RUN(seeded_keys_are_deterministic);
	fx_rmtree(base);
	return harness_done();
}
