// SPDX-License-Identifier: GPL-2.0
/* Shared test fixtures for the core; see fixture.h. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "fixture.h"

void fx_bytes(uint8_t tag, uint8_t *out, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		out[i] = (uint8_t)(tag * 31 + i * 7 + 1);
}

struct vc_device_key *fx_key(uint8_t tag)
{
	uint8_t seed[32];

	fx_bytes(tag, seed, sizeof(seed));
	return vc_key_from_seed(seed);
}

struct vc_peer fx_peer(const char *name, uint8_t tag, enum vc_role role)
{
	struct vc_device_key *k = fx_key(tag);
	struct vc_peer p;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.role = role;
	memcpy(p.pub, vc_key_public(k), VC_PUBKEY_LEN);
	memcpy(p.key_id, vc_key_id(k), VC_KEY_ID_LEN);
	p.created = 1795219200;
	vc_key_free(k);
	return p;
}

static void put(struct vc_buf *b, const void *p, size_t n)
{
	vc_buf_reserve(b, b->len + n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

void fx_au(struct vc_buf *out, bool idr, size_t size, uint32_t seed)
{
	static const uint8_t aud[] = { 0, 0, 0, 1, 0x09, 0xf0 };
	static const uint8_t sps[] = { 0, 0, 0, 1, 0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40,
				       0x16, 0xe8, 0x40, 0x00, 0x00, 0x03, 0x00, 0x40,
				       0x00, 0x00, 0x0f, 0x23, 0xc6, 0x0c, 0x92 };
	static const uint8_t pps[] = { 0, 0, 0, 1, 0x68, 0xce, 0x3c, 0x80 };
	uint8_t slice_hdr[5] = { 0, 0, 0, 1, (uint8_t)(idr ? 0x65 : 0x41) };
	uint32_t x = seed * 2654435761u + 1;
	size_t i, start;

	out->len = 0;
	put(out, aud, sizeof(aud));
	if (idr) {
		put(out, sps, sizeof(sps));
		put(out, pps, sizeof(pps));
	}
	put(out, slice_hdr, sizeof(slice_hdr));
	start = out->len;
	if (size < start + 16)
		size = start + 16;
	vc_buf_reserve(out, size);
	for (i = start; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		out->data[i] = (uint8_t)(x >> 24) ? (uint8_t)(x >> 24) : 0x5a;
	}
	out->len = size;
}

void fx_pipe_config(const struct fx_pipe *p, struct vc_verifier_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->camera_pub = vc_key_public(p->cam);
	cfg->session_id = p->session_id;
	cfg->key = &p->key;
	cfg->challenge0_ns = FX_HELLO_NS;
}

int fx_pipe_init(struct fx_pipe *p, uint8_t cam_tag, uint8_t sess_tag, enum vc_cipher c)
{
	struct vc_verifier_config cfg;

	memset(p, 0, sizeof(*p));
	p->now = FX_HELLO_NS + 30 * FX_MS;
	p->cam = fx_key(cam_tag);
	if (!p->cam)
		return -1;
	fx_bytes(sess_tag, p->session_id, sizeof(p->session_id));
	p->key.cipher = c;
	fx_bytes((uint8_t)(sess_tag + 100), p->key.key, sizeof(p->key.key));
	fx_bytes((uint8_t)(sess_tag + 200), p->key.iv, sizeof(p->key.iv));
	p->signer = vc_signer_new(p->cam);
	snprintf(p->source, sizeof(p->source), FX_SOURCE_FMT, cam_tag);
	if (p->signer && vc_signer_set_source(p->signer, p->source) < 0)
		return -1;
	p->sealer = vc_sealer_new(&p->key, p->session_id);
	fx_pipe_config(p, &cfg);
	p->ver = vc_verifier_new(&cfg);
	return p->signer && p->sealer && p->ver ? 0 : -1;
}

void fx_pipe_fini(struct fx_pipe *p)
{
	vc_verifier_free(p->ver);
	vc_sealer_free(p->sealer);
	vc_signer_free(p->signer);
	vc_key_free(p->cam);
	vc_buf_free(&p->au);
	vc_buf_free(&p->signed_au);
	vc_buf_free(&p->unit);
}

int fx_pipe_frame(struct fx_pipe *p, bool idr, uint64_t capture_ns)
{
	struct vc_frame_info info = {
		.capture_ns = capture_ns,
		.sensor_seq = p->frame,
		.has_sensor_seq = true,
	};
	struct vc_record_session entry = { .challenge = p->challenge, .delay_ns = p->delay_ns };

	memcpy(entry.id, p->session_id, VC_SESSION_ID_LEN);
	fx_au(&p->au, idr, idr ? 3000 : 800, p->frame++);
	if (vc_signer_sign(p->signer, &info, &entry, 1, p->au.data, p->au.len,
			   &p->signed_au) < 0)
		return -1;
	return vc_seal(p->sealer, p->signed_au.data, p->signed_au.len, &p->unit);
}

uint64_t fx_pipe_challenge(struct fx_pipe *p, int64_t sent_ns)
{
	p->challenge = vc_verifier_challenge(p->ver, sent_ns);
	return p->challenge;
}

enum vc_reject fx_pipe_deliver(struct fx_pipe *p, const struct vc_buf *unit)
{
	struct vc_verified out;

	return vc_verifier_accept(p->ver, unit->data, unit->len, p->now, &out);
}

int fx_tmpdir(char *path, size_t cap)
{
	const char *base = getenv("TMPDIR");

	if ((size_t)snprintf(path, cap, "%s/vc-test-XXXXXX", base && *base ? base : "/tmp") >= cap)
		return -1;
	return mkdtemp(path) ? 0 : -1;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fx_rmtree(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int fx_write(const char *path, const void *data, size_t len, unsigned int mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, data, len) == (ssize_t)len && fchmod(fd, mode) == 0;
	close(fd);
	return ok ? 0 : -1;
}

#define FX_VEC_MAX	128

static struct {
	char name[48];
	struct vc_buf val;
} fx_vecs[FX_VEC_MAX];
static size_t fx_n_vecs;

int fx_vec_load(const char *path)
{
	FILE *f = fopen(path, "r");
	char line[8192];

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '='), *v, *end;
		size_t n;

		if (line[0] == '#' || !eq || fx_n_vecs == FX_VEC_MAX)
			continue;
		for (end = eq; end > line && end[-1] == ' '; end--)
			;
		*end = '\0';
		for (v = eq + 1; *v == ' '; v++)
			;
		n = strcspn(v, " \n");
		if (strlen(line) >= sizeof(fx_vecs[0].name))
			continue;
		strcpy(fx_vecs[fx_n_vecs].name, line);
		if (vc_buf_reserve(&fx_vecs[fx_n_vecs].val, n / 2 + 1) < 0 ||
		    (n && vc_unhex(v, n, fx_vecs[fx_n_vecs].val.data) < 0)) {
			fclose(f);
			return -1;
		}
		fx_vecs[fx_n_vecs++].val.len = n / 2;
	}
	fclose(f);
	return 0;
}

const uint8_t *fx_vec(const char *name, size_t *len)
{
	size_t i;

	for (i = 0; i < fx_n_vecs; i++) {
		if (!strcmp(fx_vecs[i].name, name)) {
			if (len)
				*len = fx_vecs[i].val.len;
			return fx_vecs[i].val.data;
		}
	}
	printf("# vector %s missing\n", name);
	exit(1);
}
