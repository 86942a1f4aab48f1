// SPDX-License-Identifier: GPL-2.0
/*
 * bench_core - cost of the frame security core per access unit, on one
 * core (thread CPU time), against SHA-256 of the same bytes measured in
 * the same run, and against one Ed25519 verify of a record (the limit of
 * open+verify). Prints a table, and every figure as a "BENCH key value
 * unit" line for tests/bench/summary.py; never asserts timings.
 * Synthetic units of fixed sizes (150 KiB I, 20 KiB P); bench_hub measures
 * the same steps on units x264 made.
 *
 *   bench_core [ITERATIONS-SCALE]   (default 1.0)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include "fixture.h"

#define I_BYTES	(150 * 1024)
#define P_BYTES	(20 * 1024)
#define FRAME_NS	33333333LL	/* 30 fps */

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

struct row {
	const char *name;
	size_t bytes;
	double sha, sign_seal, open_verify;
};

static int measure(struct row *r, bool idr, size_t bytes, int n, enum vc_cipher c)
{
	struct vc_buf au = { 0 }, signed_au = { 0 }, lead = { 0 };
	struct vc_buf *units = calloc((size_t)n + 1, sizeof(*units));
	uint8_t md[32];
	struct fx_pipe p;
	struct vc_frame_info info = { .capture_ns = FX_NOW_NS };
	struct vc_record_session entry = { 0 };
	struct vc_verified v;
	double t0;
	int i, bad = 0;

	if (!units || fx_pipe_init(&p, 1, 1, c) < 0)
		return -1;
	memcpy(entry.id, p.session_id, VC_SESSION_ID_LEN);
	fx_au(&au, idr, bytes, 1);
	r->bytes = au.len;

	t0 = cpu_us();
	for (i = 0; i < n; i++)
		EVP_Digest(au.data, au.len, md, NULL, EVP_sha256(), NULL);
	r->sha = (cpu_us() - t0) / n;

	/* a P-frame stream starts with an IDR (not timed) */
	fx_au(&lead, true, 2000, 2);
	if (vc_signer_sign(p.signer, &info, &entry, 1, lead.data, lead.len, &signed_au) < 0 ||
	    vc_seal(p.sealer, signed_au.data, signed_au.len, &units[0]) < 0)
		return -1;

	/* 30 fps, a challenge every third frame (100 ms): AU i names challenge i / 3 */
	t0 = cpu_us();
	for (i = 1; i <= n; i++) {
		info.capture_ns = FX_NOW_NS + (uint64_t)i;
		entry.challenge = (uint64_t)i / 3;
		entry.delay_ns = 10 * FX_MS;
		if (vc_signer_sign(p.signer, &info, &entry, 1, au.data, au.len, &signed_au) < 0 ||
		    vc_seal(p.sealer, signed_au.data, signed_au.len, &units[i]) < 0)
			return -1;
	}
	r->sign_seal = (cpu_us() - t0) / n;

	bad += vc_verifier_accept(p.ver, units[0].data, units[0].len, p.now, &v) != VC_OK;
	t0 = cpu_us();
	for (i = 1; i <= n; i++) {
		int64_t now = p.now + i * FRAME_NS;

		if (i % 3 == 0)
			vc_verifier_challenge(p.ver, now);
		bad += vc_verifier_accept(p.ver, units[i].data, units[i].len, now + 5 * FX_MS,
					  &v) != VC_OK;
	}
	r->open_verify = (cpu_us() - t0) / n;

	for (i = 0; i <= n; i++)
		vc_buf_free(&units[i]);
	free(units);
	vc_buf_free(&au);
	vc_buf_free(&lead);
	vc_buf_free(&signed_au);
	fx_pipe_fini(&p);
	if (bad) {
		fprintf(stderr, "bench_core: %d units did not verify\n", bad);
		return -1;
	}
	return 0;
}

/* One Ed25519 signature and verify of a one-session record, as the signer and verifier make them. */
static int ed25519_us(int n, double *sign, double *verify)
{
	struct vc_device_key *k = fx_key(1);
	uint8_t rec[VC_RECORD_MAX_LEN];
	struct vc_record r = { .version = VC_RECORD_VERSION, .n_sessions = 1 };
	size_t len;
	double t0;
	int i, bad = 0;

	if (!k)
		return -1;
	len = (size_t)vc_record_encode(&r, rec);
	t0 = cpu_us();
	for (i = 0; i < n; i++) {
		rec[20] = (uint8_t)i;	/* the sequence: another message each time */
		bad += vc_record_sign(k, rec, len) < 0;
	}
	*sign = (cpu_us() - t0) / n;
	t0 = cpu_us();
	for (i = 0; i < n; i++)
		bad += !vc_record_verify(vc_key_public(k), rec, len);
	*verify = (cpu_us() - t0) / n;
	vc_key_free(k);
	return bad ? -1 : 0;
}

/* Camera with several hubs: one signature, one seal per hub. */
static double fan_out_us(int hubs, int n)
{
	struct vc_buf au = { 0 }, signed_au = { 0 }, unit = { 0 };
	struct fx_pipe p;
	struct vc_frame_info info = { .capture_ns = FX_NOW_NS };
	struct vc_record_session ids[VC_RECORD_MAX_SESSIONS] = { 0 };
	double t0, us;
	int i, h;

	if (fx_pipe_init(&p, 1, 1, VC_CIPHER_AES128GCM) < 0)
		return -1;
	for (h = 0; h < hubs; h++)
		fx_bytes((uint8_t)(h + 1), ids[h].id, VC_SESSION_ID_LEN);
	fx_au(&au, true, I_BYTES, 3);
	t0 = cpu_us();
	for (i = 0; i < n; i++) {
		vc_signer_sign(p.signer, &info, ids, (size_t)hubs, au.data, au.len, &signed_au);
		for (h = 0; h < hubs; h++)
			vc_seal(p.sealer, signed_au.data, signed_au.len, &unit);
	}
	us = (cpu_us() - t0) / n;
	vc_buf_free(&au);
	vc_buf_free(&signed_au);
	vc_buf_free(&unit);
	fx_pipe_fini(&p);
	return us;
}

int main(int argc, char **argv)
{
	double scale = argc > 1 ? atof(argv[1]) : 1.0;
	int n_i = (int)(300 * scale), n_p = (int)(2000 * scale);
	struct row rows[4] = {
		{ .name = "I  aes-128-gcm" }, { .name = "P  aes-128-gcm" },
		{ .name = "I  chacha20-poly1305" }, { .name = "P  chacha20-poly1305" },
	};
	double gop_verify, fan4, ed_sign, ed_verify;
	int i;

	if (n_i < 10)
		n_i = 10;
	if (n_p < 10)
		n_p = 10;
	if (measure(&rows[0], true, I_BYTES, n_i, VC_CIPHER_AES128GCM) < 0 ||
	    measure(&rows[1], false, P_BYTES, n_p, VC_CIPHER_AES128GCM) < 0 ||
	    measure(&rows[2], true, I_BYTES, n_i, VC_CIPHER_CHACHA20POLY1305) < 0 ||
	    measure(&rows[3], false, P_BYTES, n_p, VC_CIPHER_CHACHA20POLY1305) < 0) {
		fprintf(stderr, "bench_core: failed: %s\n", vc_last_error());
		return 1;
	}
	fan4 = fan_out_us(4, n_i);
	if (ed25519_us(n_p, &ed_sign, &ed_verify) < 0) {
		fprintf(stderr, "bench_core: Ed25519 failed\n");
		return 1;
	}

	printf("veracam core: CPU time per access unit on one core (%s; %d I, %d P iterations)\n",
	       OpenSSL_version(OPENSSL_VERSION), n_i, n_p);
	printf("%-22s %7s %8s %10s %6s %12s %6s %10s %12s\n", "AU / cipher", "bytes", "SHA-256",
	       "sign+seal", "/SHA", "open+verify", "/SHA", "all four", "verify AU/s");
	printf("%-22s %7s %8s %10s %6s %12s %6s %10s %12s\n", "", "", "us", "us", "", "us", "",
	       "us", "per core");
	for (i = 0; i < 4; i++) {
		struct row *r = &rows[i];

		printf("%-22s %7zu %8.1f %10.1f %5.1fx %12.1f %5.1fx %10.1f %12.0f\n", r->name,
		       r->bytes, r->sha, r->sign_seal, r->sign_seal / r->sha, r->open_verify,
		       r->open_verify / r->sha, r->sign_seal + r->open_verify,
		       1e6 / r->open_verify);
	}
	for (i = 0; i < 4; i++) {
		static const char *const key[] = { "i_aes", "p_aes", "i_chacha", "p_chacha" };

		printf("BENCH core.%s.bytes %zu B\n", key[i], rows[i].bytes);
		printf("BENCH core.%s.sha256_us %.6g us/AU\n", key[i], rows[i].sha);
		printf("BENCH core.%s.sign_seal_us %.6g us/AU\n", key[i], rows[i].sign_seal);
		printf("BENCH core.%s.open_verify_us %.6g us/AU\n", key[i], rows[i].open_verify);
	}
	gop_verify = (rows[0].open_verify + 29 * rows[1].open_verify) / 30;
	printf("\n30-frame GOP (1 I + 29 P), aes-128-gcm: open+verify %.1f us/AU average = %.0f AU/s "
	       "per core = %.0f streams at 30 fps\n", gop_verify, 1e6 / gop_verify,
	       1e6 / gop_verify / 30);
	printf("camera with 4 hubs, I-frame: sign once + seal 4x = %.1f us\n", fan4);
	printf("Ed25519 of one record (libsodium %s): sign %.1f us, verify %.1f us; "
	       "open+verify of a P unit = %.2fx one verify\n", sodium_version_string(), ed_sign,
	       ed_verify, rows[1].open_verify / ed_verify);
	printf("BENCH core.ed25519.sign_us %.6g us/record\n", ed_sign);
	printf("BENCH core.ed25519.verify_us %.6g us/record\n", ed_verify);
	printf("BENCH core.gop.verify_aus_per_core %.6g AU/s\n", 1e6 / gop_verify);
	printf("BENCH core.fan_out_4.sign_seal_us %.6g us/AU\n", fan4);
	printf("goals: open+verify >= 6000 AU/s per core (P: %.0f, GOP: %.0f); "
	       "sign+seal+open+verify <= 500 us per I-frame (%.1f)\n",
	       1e6 / rows[1].open_verify, 1e6 / gop_verify, rows[0].sign_seal + rows[0].open_verify);
	return 0;
}
