// SPDX-License-Identifier: GPL-2.0
/*
 * Encryption keys (enckey.h): enc.key on disk beside device.key, its
 * printable line, and the device key's binding signature over it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <veracam/enckey.h>
#include <veracam/hpke.h>
#include <veracam/keys.h>
#include <veracam/session.h>

#include "fixture.h"

static char dir[512];

/* keygen on disk, load, and the loaded key opens what was sealed to its public key */
static void test_file_round_trip(void)
{
	static const uint8_t msg[] = "content key";
	struct vc_buf ct = { 0 }, pt = { 0 };
	char path[600];
	struct vc_enc_key *k;
	struct stat st;
	uint8_t enc[VC_HPKE_ENC_LEN];

	fx_require(vc_enc_keygen(dir) == 0);
	snprintf(path, sizeof(path), "%s/%s", dir, VC_ENC_KEY_FILE);
	fx_require(stat(path, &st) == 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpint(vc_enc_keygen(dir), <, 0);	/* never overwritten */
	k = vc_enc_key_load(dir);
	fx_require(k);
	fx_require(vc_hpke_seal(VC_HPKE_CHACHA20POLY1305, vc_enc_key_public(k), NULL, 0, NULL, 0,
				msg, sizeof(msg), enc, &ct) == 0);
	vc_enc_key_free(k);
	k = vc_enc_key_load(dir);
	fx_require(k);
	g_assert_cmpint(vc_hpke_open(VC_HPKE_CHACHA20POLY1305, k, enc, NULL, 0, NULL, 0, ct.data,
				     ct.len, &pt), ==, 0);
	g_assert_true(pt.len == sizeof(msg) && !memcmp(pt.data, msg, sizeof(msg)));
	vc_enc_key_free(k);
	/* the same file checks as device.key */
	chmod(path, 0640);
	g_assert_null(vc_enc_key_load(dir));
	chmod(path, 0600);
	vc_buf_free(&ct);
	vc_buf_free(&pt);
}

/* A key directory of before: enc.key missing, the error names the fix. */
static void test_missing_names_fix(void)
{
	struct vc_enc_key *k;
	char old[600];

	snprintf(old, sizeof(old), "%s/old", dir);
	fx_require(vc_keygen(old) == 0);
	g_assert_null(vc_enc_key_load(old));
	g_assert_nonnull(strstr(vc_last_error(), "veracamctl enc-keygen"));
	fx_require(vc_enc_keygen(old) == 0);
	k = vc_enc_key_load(old);
	g_assert_nonnull(k);
	vc_enc_key_free(k);
}

static void test_identity_line(void)
{
	struct vc_enc_key *k = vc_enc_key_generate();
	char line[VC_ENC_IDENTITY_LEN + 1], bad[VC_ENC_IDENTITY_LEN + 2];
	uint8_t pub[VC_ENC_PUBKEY_LEN];

	fx_require(k);
	vc_enc_identity_format(vc_enc_key_public(k), line);
	g_assert_cmpint(strlen(line), ==, VC_ENC_IDENTITY_LEN);
	g_assert_cmpint(strncmp(line, "veracam1:x25519:", 16), ==, 0);
	g_assert_cmpint(vc_enc_identity_parse(line, pub), ==, 0);
	g_assert_cmpmem(pub, VC_ENC_PUBKEY_LEN, vc_enc_key_public(k), VC_ENC_PUBKEY_LEN);
	/* a device identity line is not an encryption key line, nor the reverse */
	snprintf(bad, sizeof(bad), "veracam1:ed25519:%s", line + 16);
	g_assert_cmpint(vc_enc_identity_parse(bad, pub), <, 0);
	g_assert_cmpint(vc_identity_parse(line, pub), <, 0);
	snprintf(bad, sizeof(bad), "%s0", line);
	g_assert_cmpint(vc_enc_identity_parse(bad, pub), <, 0);
	memcpy(bad, line, sizeof(line));
	bad[VC_ENC_IDENTITY_LEN - 1] = 'g';
	g_assert_cmpint(vc_enc_identity_parse(bad, pub), <, 0);
	vc_enc_key_free(k);
}

/* The hub's device key vouches for its encryption key, and for nothing else. */
static void test_binding(void)
{
	struct vc_device_key *hub = fx_key(2), *other = fx_key(3);
	struct vc_enc_key *e = vc_enc_key_generate(), *e2 = vc_enc_key_generate();
	uint8_t sig[VC_SIG_LEN];

	fx_require(hub && other && e && e2);
	fx_require(vc_enc_binding_sign(hub, vc_enc_key_public(e), sig) == 0);
	g_assert_true(vc_enc_binding_verify(vc_key_public(hub), vc_enc_key_public(e), sig));
	g_assert_false(vc_enc_binding_verify(vc_key_public(other), vc_enc_key_public(e), sig));
	g_assert_false(vc_enc_binding_verify(vc_key_public(hub), vc_enc_key_public(e2), sig));
	sig[5] ^= 1;
	g_assert_false(vc_enc_binding_verify(vc_key_public(hub), vc_enc_key_public(e), sig));
	vc_key_free(hub);
	vc_key_free(other);
	vc_enc_key_free(e);
	vc_enc_key_free(e2);
}

/*
 * DIR/hub-enc/NAME: kept only when the binding verifies under the pin, 0600,
 * not rewritten when unchanged, read back only while it still verifies.
 */
static void test_hub_enc_file(void)
{
	struct vc_device_key *hub = fx_key(2), *other = fx_key(3);
	struct vc_enc_key *e = vc_enc_key_generate(), *e2 = vc_enc_key_generate();
	uint8_t sig[VC_SIG_LEN], sig2[VC_SIG_LEN], bad[VC_SIG_LEN], pub[VC_ENC_PUBKEY_LEN];
	char path[700], line[VC_HUB_ENC_LINE_LEN + 2];
	struct stat st, st2;

	fx_require(hub && other && e && e2);
	fx_require(vc_enc_binding_sign(hub, vc_enc_key_public(e), sig) == 0);
	fx_require(vc_enc_binding_sign(hub, vc_enc_key_public(e2), sig2) == 0);
	fx_require(vc_enc_binding_sign(other, vc_enc_key_public(e), bad) == 0);
	snprintf(path, sizeof(path), "%s/%s/kitchen", dir, VC_HUB_ENC_DIR);

	/* a binding by another key: refused, nothing written */
	g_assert_cmpint(vc_hub_enc_store(dir, "kitchen", vc_key_public(hub), vc_enc_key_public(e),
					 bad), <, 0);
	g_assert_cmpint(stat(path, &st), <, 0);
	g_assert_cmpint(vc_hub_enc_load(dir, "kitchen", vc_key_public(hub), pub), <, 0);
	/* a name that is not a pin's */
	g_assert_cmpint(vc_hub_enc_store(dir, "../x", vc_key_public(hub), vc_enc_key_public(e),
					 sig), <, 0);

	g_assert_cmpint(vc_hub_enc_store(dir, "kitchen", vc_key_public(hub), vc_enc_key_public(e),
					 sig), ==, 1);
	fx_require(stat(path, &st) == 0);
	g_assert_cmpint(st.st_mode & 07777, ==, 0600);
	g_assert_cmpint(vc_hub_enc_load(dir, "kitchen", vc_key_public(hub), pub), ==, 0);
	g_assert_cmpmem(pub, VC_ENC_PUBKEY_LEN, vc_enc_key_public(e), VC_ENC_PUBKEY_LEN);
	/* the same again: not rewritten (same inode: no rename happened) */
	g_assert_cmpint(vc_hub_enc_store(dir, "kitchen", vc_key_public(hub), vc_enc_key_public(e),
					 sig), ==, 0);
	fx_require(stat(path, &st2) == 0);
	g_assert_cmpint(st.st_ino, ==, st2.st_ino);
	/* a new key replaces it */
	g_assert_cmpint(vc_hub_enc_store(dir, "kitchen", vc_key_public(hub), vc_enc_key_public(e2),
					 sig2), ==, 1);
	g_assert_cmpint(vc_hub_enc_load(dir, "kitchen", vc_key_public(hub), pub), ==, 0);
	g_assert_cmpmem(pub, VC_ENC_PUBKEY_LEN, vc_enc_key_public(e2), VC_ENC_PUBKEY_LEN);
	/* under another pinned key the kept file is not used */
	g_assert_cmpint(vc_hub_enc_load(dir, "kitchen", vc_key_public(other), pub), <, 0);

	/* the line: strict parse, the format's round trip */
	vc_hub_enc_format(vc_enc_key_public(e), sig, line);
	g_assert_true(strlen(line) == VC_HUB_ENC_LINE_LEN + 1 && line[VC_HUB_ENC_LINE_LEN] == '\n');
	g_assert_true(vc_hub_enc_parse(line, pub, bad) == 0 && !memcmp(bad, sig, VC_SIG_LEN));
	line[VC_ENC_IDENTITY_LEN] = ':';
	g_assert_cmpint(vc_hub_enc_parse(line, pub, bad), <, 0);
	line[VC_ENC_IDENTITY_LEN] = ' ';
	line[VC_HUB_ENC_LINE_LEN - 1] = 0;
	g_assert_cmpint(vc_hub_enc_parse(line, pub, bad), <, 0);
	vc_key_free(hub);
	vc_key_free(other);
	vc_enc_key_free(e);
	vc_enc_key_free(e2);
}

/*
 * PROTOCOL.md §5.4's vector: the hub of §11 (hub_seed) with the X25519
 * private key 40 41 .. 5f sends this encryption key message (computed
 * independently with Python's cryptography package when it was written).
 */
static void test_enc_key_message_vector(void)
{
	static const char hub_seed[] =
		"3f464d545b626970777e858c939aa1a8afb6bdc4cbd2d9e0e7eef5fc030a1118";
	static const char want[] =
		"0460"
		"79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a"
		"9c109d64ea8853fcc9ad920d481ee4aef48f5466a146a5492611e7716270df1e"
		"2723c6621643a6bf09800950868e943d14f918835c2e373ea656c757cce04a0c";
	uint8_t seed[32], sk[VC_ENC_SECRET_LEN], msg[2 + VC_CTL_ENC_KEY_LEN];
	char hex[2 * sizeof(msg) + 1];
	struct vc_device_key *hub;
	struct vc_enc_key *e;

	fx_require(vc_unhex(hub_seed, 64, seed) == 0);
	for (unsigned int i = 0; i < sizeof(sk); i++)
		sk[i] = (uint8_t)(0x40 + i);
	hub = vc_key_from_seed(seed);
	e = vc_enc_key_from_raw(sk);
	fx_require(hub && e);
	msg[0] = VC_CTL_ENC_KEY;
	msg[1] = VC_CTL_ENC_KEY_LEN;
	memcpy(msg + 2, vc_enc_key_public(e), VC_ENC_PUBKEY_LEN);
	fx_require(vc_enc_binding_sign(hub, vc_enc_key_public(e),
				       msg + 2 + VC_ENC_PUBKEY_LEN) == 0);
	vc_hex(msg, sizeof(msg), hex);
	g_assert_cmpstr(hex, ==, want);
	g_assert_true(vc_enc_binding_verify(vc_key_public(hub), msg + 2,
					    msg + 2 + VC_ENC_PUBKEY_LEN));
	vc_key_free(hub);
	vc_enc_key_free(e);
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	if (fx_tmpdir(dir, sizeof(dir)) < 0)
		return 1;
	g_test_add_func("/core/enckey/file-round-trip", test_file_round_trip);
	g_test_add_func("/core/enckey/missing-names-fix", test_missing_names_fix);
	g_test_add_func("/core/enckey/identity-line", test_identity_line);
	g_test_add_func("/core/enckey/binding", test_binding);
	g_test_add_func("/core/enckey/hub-enc-file", test_hub_enc_file);
	g_test_add_func("/core/enckey/enc-key-message-vector", test_enc_key_message_vector);
	rc = g_test_run();
	fx_rmtree(dir);
	return rc;
}
