/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared test fixtures for the core: deterministic keys, synthetic H.264
 * access units, and a camera -> hub pipeline without the network
 * (signer + sealer on one side, verifier on the other).
 *
 * The tests are GLib g_test programs (run with --tap) under
 * g_test_set_nonfatal_assertions(): a failed g_assert_true() / _cmpint() /
 * ... marks the test failed and the test goes on. fx_require() is the check
 * after which going on makes no sense: it fails the test and returns.
 */
#ifndef VC_TEST_FIXTURE_H
#define VC_TEST_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include <veracam/keys.h>
#include <veracam/pairing.h>
#include <veracam/record.h>
#include <veracam/seal.h>
#include <veracam/sei.h>
#include <veracam/session.h>
#include <veracam/verify.h>

/* Fail the test and leave the (void) test function, with the core's last error. */
#define fx_require(cond) do {							\
	if (!(cond)) {								\
		g_test_fail_printf("%s:%d: fx_require(%s) failed: %s",		\
				   __FILE__, __LINE__, #cond, vc_last_error());	\
		return;								\
	}									\
} while (0)

/* Two enum vc_reject values, compared by name (both printed on mismatch). */
#define fx_assert_reject(got, want)						\
	g_assert_cmpstr(vc_reject_name(got), ==, vc_reject_name(want))

/* Test time: a fixed wall clock, 2026-11-21 00:00:00 UTC (capture times, display only). */
#define FX_NOW_NS	1795219200000000000LL
/* The hub's CLOCK_MONOTONIC when it wrote the session hello (challenge 0). */
#define FX_HELLO_NS	5000000000000LL
#define FX_MS		1000000LL

/* Deterministic 32-byte values (seeds, nonces, keys) from a label byte. */
void fx_bytes(uint8_t tag, uint8_t *out, size_t len);
struct vc_device_key *fx_key(uint8_t tag);

/*
 * An Annex-B access unit of about `size` bytes: AUD, and for an IDR also
 * SPS and PPS, then one slice (type 5 or 1) whose payload is pseudo-random
 * bytes from `seed` without zero bytes (so no emulation prevention needed).
 */
void fx_au(struct vc_buf *out, bool idr, size_t size, uint32_t seed);

/* A pairing record for the key fx_key(tag). */
struct vc_peer fx_peer(const char *name, uint8_t tag, enum vc_role role);

/* A fresh private directory under $TMPDIR (or /tmp); fx_rmtree removes it. */
int fx_tmpdir(char *path, size_t cap);
void fx_rmtree(const char *path);
/* Write a file with a mode (test setup of key and pairing directories). */
int fx_write(const char *path, const void *data, size_t len, unsigned int mode);

/*
 * A file of "name = hex" lines ('#' comments; an empty value is zero
 * bytes), as in tests/vectors/hpke-rfc9180.txt: fx_vec_load() reads it
 * (0 or -1), fx_vec() gives a value's bytes and length, and exits the test
 * with a message when the name is missing.
 */
int fx_vec_load(const char *path);
const uint8_t *fx_vec(const char *name, size_t *len);

/* The capture source a pipe's signer signs for: its stable identity. */
#define FX_SOURCE_FMT	"id:fixture-camera-%u"

/* One camera -> hub session without sockets. */
struct fx_pipe {
	struct vc_device_key *cam;
	char source[32];		/* FX_SOURCE_FMT with the camera tag */
	uint8_t session_id[VC_SESSION_ID_LEN];
	struct vc_media_key key;
	struct vc_signer *signer;
	struct vc_sealer *sealer;
	struct vc_verifier *ver;
	struct vc_buf au, signed_au, unit;
	uint32_t frame;
	uint64_t challenge;		/* the camera's newest challenge, for the next frames */
	uint64_t delay_ns;		/* and their delay */
	int64_t now;			/* hub CLOCK_MONOTONIC for fx_pipe_deliver() */
};

/*
 * cam_tag selects the camera key, sess_tag the session id and media key.
 * The verifier's challenge 0 went at FX_HELLO_NS; frames name challenge 0
 * with delay 0 and are delivered at FX_HELLO_NS + 30 ms until changed.
 */
int fx_pipe_init(struct fx_pipe *p, uint8_t cam_tag, uint8_t sess_tag, enum vc_cipher c);
/* The same verifier config as fx_pipe_init() (source not pinned). */
void fx_pipe_config(const struct fx_pipe *p, struct vc_verifier_config *cfg);
void fx_pipe_fini(struct fx_pipe *p);
/* The hub sends a challenge at sent_ns and the camera receives it at once. */
uint64_t fx_pipe_challenge(struct fx_pipe *p, int64_t sent_ns);
/* Sign (p->challenge, p->delay_ns) and seal the next frame of p's camera into p->unit. */
int fx_pipe_frame(struct fx_pipe *p, bool idr, uint64_t capture_ns);
/* Hand p->unit (or any unit) to p's verifier at p->now. */
enum vc_reject fx_pipe_deliver(struct fx_pipe *p, const struct vc_buf *unit);

#endif /* VC_TEST_FIXTURE_H */
