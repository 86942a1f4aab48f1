// SPDX-License-Identifier: GPL-2.0
/*
 * Test vectors of docs/PROTOCOL.md: read the inputs from
 * tests/vectors/frame-v3.txt, recompute every output with the library and
 * compare byte for byte; then run the sealed units through a verifier
 * that sent the vectors' challenges at their times, and check the age
 * bounds and the first instant frame 0 is refused.
 *
 *   test_vectors FILE            check (the meson test)
 *   test_vectors --write FILE    regenerate FILE from the built-in inputs
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <veracam/keys.h>
#include <veracam/pairing.h>
#include <veracam/record.h>
#include <veracam/seal.h>
#include <veracam/sei.h>
#include <veracam/session.h>
#include <veracam/verify.h>

#include "fixture.h"

#define MAX_VARS	96
#define N_FRAMES	3
#define N_CHALLENGES	3	/* 0 (the session hello), 1, 2 */

struct var {
	char name[48];
	struct vc_buf val;	/* bytes, or the decimal/text value as given */
	bool hex;
};

static struct var vars[MAX_VARS];
static size_t n_vars;
static FILE *out_file;	/* --write */

static struct var *find(const char *name)
{
	size_t i;

	for (i = 0; i < n_vars; i++)
		if (!strcmp(vars[i].name, name))
			return &vars[i];
	return NULL;
}

/* Numbers (names containing "_ns", starting with sensor_seq or challenge_) and text values. */
static bool is_text(const char *name)
{
	return strstr(name, "_ns") || !strncmp(name, "sensor_seq", 10) ||
	       !strncmp(name, "challenge_", 10) ||
	       !strcmp(name, "pair_code") || !strcmp(name, "sas") ||
	       !strcmp(name, "camera_identity") || !strcmp(name, "source_stable");
}

static int load(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!f)
		return -1;
	while ((n = getline(&line, &cap, f)) > 0) {
		char *eq, *v;
		struct var *x;
		size_t len;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		eq = strstr(line, " = ");
		if (!eq || n_vars == MAX_VARS)
			continue;
		*eq = '\0';
		v = eq + 3;
		len = strcspn(v, "\n");
		x = &vars[n_vars++];
		snprintf(x->name, sizeof(x->name), "%s", line);
		vc_buf_reserve(&x->val, len + 1);
		x->hex = !is_text(x->name) && vc_unhex(v, len, x->val.data) == 0;
		if (x->hex) {
			x->val.len = len / 2;
		} else {
			memcpy(x->val.data, v, len);
			x->val.data[len] = '\0';
			x->val.len = len;
		}
	}
	free(line);
	fclose(f);
	return 0;
}

/* Input: in write mode emit the built-in value, in check mode read it from the file. */
static const uint8_t *in_bytes(const char *name, const uint8_t *def, size_t len)
{
	struct var *x;

	if (out_file) {
		char hex[2 * 4096 + 1];

		vc_hex(def, len, hex);
		fprintf(out_file, "%s = %s\n", name, hex);
		return def;
	}
	x = find(name);
	if (!x || !x->hex || x->val.len != len) {
		g_test_message("input %s missing or wrong length", name);
		exit(1);
	}
	return x->val.data;
}

/* Text input: the built-in value in write mode, the file's in check mode. */
static const char *in_text(const char *name, const char *def)
{
	struct var *x;

	if (out_file) {
		fprintf(out_file, "%s = %s\n", name, def);
		return def;
	}
	x = find(name);
	if (!x || x->hex) {
		g_test_message("input %s missing", name);
		exit(1);
	}
	return (const char *)x->val.data;
}

static long long in_num(const char *name, long long def)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", def);
	return strtoll(in_text(name, text), NULL, 10);
}

/* Output: emit in write mode, compare in check mode. */
static void out_bytes(const char *name, const uint8_t *p, size_t len)
{
	char hex[2 * 8192 + 1];
	struct var *x;

	if (out_file) {
		vc_hex(p, len, hex);
		fprintf(out_file, "%s = %s\n", name, hex);
		return;
	}
	x = find(name);
	if (!x || x->val.len != len || memcmp(x->val.data, p, len) != 0) {
		g_test_message("%s differs from the vector", name);
		g_test_fail();
	}
}

static void out_text(const char *name, const char *s)
{
	struct var *x;

	if (out_file) {
		fprintf(out_file, "%s = %s\n", name, s);
		return;
	}
	x = find(name);
	if (!x || strcmp((const char *)x->val.data, s) != 0) {
		g_test_message("%s differs from the vector", name);
		g_test_fail();
	}
}

static void out_num(const char *name, long long n)
{
	char text[24];

	snprintf(text, sizeof(text), "%lld", n);
	out_text(name, text);
}

static void comment(const char *s)
{
	if (out_file)
		fprintf(out_file, "\n# %s\n", s);
}

/* A hub verifier that has sent challenges 1 .. N_CHALLENGES - 1 at their times. */
static struct vc_verifier *hub_verifier(const struct vc_verifier_config *cfg,
					const long long sent[N_CHALLENGES])
{
	struct vc_verifier *v = vc_verifier_new(cfg);
	int i;

	for (i = 1; v && i < N_CHALLENGES; i++)
		if (vc_verifier_challenge(v, sent[i]) != (uint64_t)i) {
			vc_verifier_free(v);
			return NULL;
		}
	return v;
}

static void vectors(void)
{
	uint8_t def[64], cam_seed[32], hub_seed[32], hub_nonce[32], cam_nonce[32];
	uint8_t sid[VC_SESSION_ID_LEN], rec[VC_RECORD_MAX_LEN], rhash[VC_HASH_LEN];
	uint8_t source[VC_HASH_LEN];
	const char *stable;
	char name[64], sas[VC_SAS_LEN + 1], idline[VC_IDENTITY_LEN + 1];
	struct vc_media_key aes, chacha;
	struct vc_device_key *cam, *hub;
	struct vc_signer *signer;
	struct vc_sealer *s_aes, *s_chacha;
	struct vc_verifier *v_aes, *v_chacha;
	struct vc_verifier_config cfg;
	struct vc_buf au = { 0 }, signed_au = { 0 }, unit = { 0 };
	struct vc_frame_info info;
	struct vc_au_scan scan;
	struct vc_verified vd;
	long long sensor, now, window, sent[N_CHALLENGES], stale_at = 0;
	struct vc_buf unit0 = { 0 };
	size_t rlen;
	int i;

	comment("device keys: Ed25519 private key seeds (RFC 8032 secret keys)");
	fx_bytes(1, def, 32);
	memcpy(cam_seed, in_bytes("camera_seed", def, 32), 32);
	fx_bytes(2, def, 32);
	memcpy(hub_seed, in_bytes("hub_seed", def, 32), 32);
	cam = vc_key_from_seed(cam_seed);
	hub = vc_key_from_seed(hub_seed);
	fx_require(cam && hub);
	out_bytes("camera_public", vc_key_public(cam), VC_PUBKEY_LEN);
	out_bytes("camera_key_id", vc_key_id(cam), VC_KEY_ID_LEN);
	vc_identity_format(vc_key_public(cam), idline);
	out_text("camera_identity", idline);
	out_bytes("hub_public", vc_key_public(hub), VC_PUBKEY_LEN);

	comment("pairing: short authentication string");
	out_text("pair_code", "48213907");
	{
		struct var *x = out_file ? NULL : find("pair_code");
		const char *code = x ? (const char *)x->val.data : "48213907";

		fx_require(vc_sas(vc_key_public(cam), vc_key_public(hub), code, sas) == 0);
		out_text("sas", sas);
	}

	comment("session: hello nonces -> session id; media keys (normally TLS exporter output)");
	fx_bytes(3, def, 32);
	memcpy(hub_nonce, in_bytes("hub_nonce", def, 32), 32);
	fx_bytes(4, def, 32);
	memcpy(cam_nonce, in_bytes("camera_nonce", def, 32), 32);
	fx_require(vc_session_id_derive(hub_nonce, cam_nonce, sid) == 0);
	out_bytes("session_id", sid, VC_SESSION_ID_LEN);
	memset(&aes, 0, sizeof(aes));
	memset(&chacha, 0, sizeof(chacha));
	aes.cipher = VC_CIPHER_AES128GCM;
	chacha.cipher = VC_CIPHER_CHACHA20POLY1305;
	fx_bytes(5, def, 28);
	memcpy(aes.key, in_bytes("aes128gcm_key", def, 16), 16);
	memcpy(aes.iv, in_bytes("aes128gcm_iv", def + 16, 12), 12);
	fx_bytes(6, def, 44);
	memcpy(chacha.key, in_bytes("chacha20poly1305_key", def, 32), 32);
	memcpy(chacha.iv, in_bytes("chacha20poly1305_iv", def + 32, 12), 12);

	comment("capture source: the camera's stable identity (text) -> source id");
	stable = in_text("source_stable", "id:c0ffee0000000000000000000000cafe");
	fx_require(vc_source_id(stable, source) == 0);
	out_bytes("source_id", source, VC_HASH_LEN);

	comment("freshness: the hub's challenges (0 = its session hello) and their send times on"
		" the hub's CLOCK_MONOTONIC, the window, and the hub's CLOCK_MONOTONIC at which"
		" every unit is verified");
	for (i = 0; i < N_CHALLENGES; i++) {
		snprintf(name, sizeof(name), "challenge_sent_ns_%d", i);
		sent[i] = in_num(name, FX_HELLO_NS + i * 100 * FX_MS);
	}
	window = in_num("freshness_ns", VC_FRESHNESS_DEFAULT_NS);
	now = in_num("verify_now_ns", FX_HELLO_NS + 250 * FX_MS);

	comment("frames: per frame i the AU in, capture time (camera wall clock, ns since the Unix"
		" epoch, display only), sensor sequence (-1: none), the newest challenge the"
		" camera had, its capture and that challenge's arrival on the camera's"
		" CLOCK_MONOTONIC; then the delay, the record, signed AU, record hash, sealed"
		" units (unit sequence = i) and the age bound at verify_now_ns (all within the"
		" window)");

	signer = vc_signer_new(cam);
	s_aes = vc_sealer_new(&aes, sid);
	s_chacha = vc_sealer_new(&chacha, sid);
	memset(&cfg, 0, sizeof(cfg));
	cfg.camera_pub = vc_key_public(cam);
	cfg.session_id = sid;
	cfg.key = &aes;
	cfg.challenge0_ns = sent[0];
	cfg.freshness_ns = window;
	v_aes = hub_verifier(&cfg, sent);
	cfg.key = &chacha;
	v_chacha = hub_verifier(&cfg, sent);
	fx_require(signer && s_aes && s_chacha && v_aes && v_chacha);
	fx_require(vc_signer_set_source(signer, stable) == 0);
	for (i = 0; i < N_FRAMES; i++) {
		static const long long chal[N_FRAMES] = { 1, 1, 2 };
		static const long long cap_mono[N_FRAMES] = {
			7000020000000LL, 7000053333333LL, 7000086666666LL };
		static const long long recv_mono[N_FRAMES] = {
			7000045000000LL, 7000045000000LL, 7000145000000LL };
		struct vc_record_session entry;
		struct vc_buf defau = { 0 };
		long long c, r;

		fx_au(&defau, i == 0, i == 0 ? 120 : 60, (uint32_t)(i + 1));
		if (!out_file) {
			snprintf(name, sizeof(name), "au_%d", i);
			fx_require(find(name));
			defau.len = find(name)->val.len;
			vc_buf_reserve(&defau, defau.len);
		}
		snprintf(name, sizeof(name), "au_%d", i);
		au.len = 0;
		vc_buf_reserve(&au, defau.len);
		memcpy(au.data, in_bytes(name, defau.data, defau.len), defau.len);
		au.len = defau.len;
		vc_buf_free(&defau);

		memset(&info, 0, sizeof(info));
		snprintf(name, sizeof(name), "capture_ns_%d", i);
		info.capture_ns = (uint64_t)in_num(name, FX_NOW_NS + i * 33333333LL);
		snprintf(name, sizeof(name), "sensor_seq_%d", i);
		sensor = in_num(name, i == 2 ? -1 : 100 + i);	/* frame 2: no metadata node */
		info.has_sensor_seq = sensor >= 0;
		info.sensor_seq = info.has_sensor_seq ? (uint32_t)sensor : 0;
		memset(&entry, 0, sizeof(entry));
		memcpy(entry.id, sid, VC_SESSION_ID_LEN);
		snprintf(name, sizeof(name), "challenge_%d", i);
		entry.challenge = (uint64_t)in_num(name, chal[i]);
		snprintf(name, sizeof(name), "capture_mono_ns_%d", i);
		c = in_num(name, cap_mono[i]);
		snprintf(name, sizeof(name), "received_mono_ns_%d", i);
		r = in_num(name, recv_mono[i]);
		entry.delay_ns = vc_challenge_delay(c, r);
		snprintf(name, sizeof(name), "delay_ns_%d", i);
		out_num(name, (long long)entry.delay_ns);
		fx_require(entry.challenge < N_CHALLENGES);
		fx_require(vc_signer_sign(signer, &info, &entry, 1, au.data, au.len,
					  &signed_au) == 0);
		fx_require(vc_sei_extract(signed_au.data, signed_au.len, &scan, rec,
					  &rlen) == VC_OK);
		snprintf(name, sizeof(name), "record_%d", i);
		out_bytes(name, rec, rlen);
		snprintf(name, sizeof(name), "signed_au_%d", i);
		out_bytes(name, signed_au.data, signed_au.len);
		vc_record_hash(rec, rlen, rhash);
		snprintf(name, sizeof(name), "record_hash_%d", i);
		out_bytes(name, rhash, VC_HASH_LEN);
		fx_require(vc_seal(s_aes, signed_au.data, signed_au.len, &unit) == 0);
		snprintf(name, sizeof(name), "unit_aes128gcm_%d", i);
		out_bytes(name, unit.data, unit.len);
		if (i == 0 && vc_buf_reserve(&unit0, unit.len) == 0) {
			memcpy(unit0.data, unit.data, unit.len);
			unit0.len = unit.len;
		}
		fx_assert_reject(vc_verifier_accept(v_aes, unit.data, unit.len, now, &vd), VC_OK);
		g_assert_cmpmem(vd.source, VC_HASH_LEN, source, VC_HASH_LEN);
		g_assert_cmpint(vd.age_ns, ==,
				now - sent[entry.challenge] + (int64_t)entry.delay_ns);
		snprintf(name, sizeof(name), "age_bound_ns_%d", i);
		out_num(name, vd.age_ns);
		if (i == 0)
			stale_at = sent[entry.challenge] + window - (int64_t)entry.delay_ns + 1;
		fx_require(vc_seal(s_chacha, signed_au.data, signed_au.len, &unit) == 0);
		snprintf(name, sizeof(name), "unit_chacha20poly1305_%d", i);
		out_bytes(name, unit.data, unit.len);
		fx_assert_reject(vc_verifier_accept(v_chacha, unit.data, unit.len, now, &vd),
				 VC_OK);
	}

	comment("the first hub CLOCK_MONOTONIC time at which unit_aes128gcm_0 is refused as stale:"
		" challenge_sent_ns[challenge_0] + freshness_ns - delay_ns_0 + 1");
	out_num("stale_now_ns_0", stale_at);
	vc_verifier_free(v_aes);
	cfg.key = &aes;
	v_aes = hub_verifier(&cfg, sent);
	fx_require(v_aes);
	fx_assert_reject(vc_verifier_accept(v_aes, unit0.data, unit0.len, stale_at, &vd),
			 VC_REJ_STALE);
	vc_verifier_free(v_aes);
	v_aes = hub_verifier(&cfg, sent);
	fx_require(v_aes);
	fx_assert_reject(vc_verifier_accept(v_aes, unit0.data, unit0.len, stale_at - 1, &vd),
			 VC_OK);
	g_assert_cmpint(vd.age_ns, ==, window);
	vc_verifier_free(v_aes);
	vc_verifier_free(v_chacha);
	vc_sealer_free(s_aes);
	vc_sealer_free(s_chacha);
	vc_signer_free(signer);
	vc_key_free(cam);
	vc_key_free(hub);
	vc_buf_free(&au);
	vc_buf_free(&signed_au);
	vc_buf_free(&unit);
	vc_buf_free(&unit0);
}

int main(int argc, char **argv)
{
	size_t i;
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	if (argc == 3 && !strcmp(argv[1], "--write")) {
		out_file = fopen(argv[2], "w");
		if (!out_file)
			return 1;
		fprintf(out_file, "# veracam protocol v3 test vectors; see docs/PROTOCOL.md, "
			"\"Test vectors\".\n"
			"# name = value: hex bytes, or a decimal number / text. Generated by\n"
			"# test_vectors --write and checked by test_vectors and check_vectors.py.\n");
		g_test_add_func("/core/vectors/write-frame-v3", vectors);
		rc = g_test_run();
		fclose(out_file);
		return rc;
	}
	if (argc != 2 || load(argv[1]) < 0) {
		fprintf(stderr, "usage: test_vectors FILE | --write FILE\n");
		return 2;
	}
	g_test_add_func("/core/vectors/frame-v3", vectors);
	rc = g_test_run();
	for (i = 0; i < n_vars; i++)
		vc_buf_free(&vars[i].val);
	return rc;
}
