// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - network pairing (docs/PROTOCOL.md, "Network
 * pairing").
 *
 * TLS 1.3, hub = client, camera = server, each with its device key's
 * self-signed certificate. The hub accepts only a camera key whose key id
 * is the QR payload's; the camera accepts any Ed25519 key and notes it.
 * Inside the channel:
 *   K     = TLS-Exporter("EXPORTER-veracam pair", context = code, 32)
 *   hub -> camera: "VCP1" 01 00 len name hub-pub
 *                  HMAC-SHA256(K, "veracam pair hub" || hub-pub || camera-pub || name)
 *   camera -> hub: "VCP1" 02 status len name camera-pub
 *                  HMAC-SHA256(K, "veracam pair camera" || status || camera-pub || hub-pub || name)
 * The code enters only the exporter's context; a wrong code, a proof made
 * on another connection or a claimed key other than the TLS-proved one
 * all fail the camera's check, and any attempt spends the window.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <veracam/pairnet.h>
#include "clock.h"
#include "internal.h"

static const char exporter_label[] = "EXPORTER-veracam pair";
static const char magic[4] = { 'V', 'C', 'P', '1' };

/* ---- QR payload ---- */

static bool digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

static bool host_valid(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > VC_PAIR_HOST_MAX)
		return false;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '-' || c == ':' || c == '%'))
			return false;
	}
	return true;
}

int vc_pair_target_parse(const char *payload, struct vc_pair_target *t)
{
	size_t pre = sizeof(VC_PAIR2_PREFIX) - 1, len = strlen(payload);
	const char *p, *addr, *colon, *hend;
	struct vc_pair_target r;
	size_t hlen, plen;
	unsigned long port;

	memset(&r, 0, sizeof(r));
	if (len > VC_PAIR2_PAYLOAD_MAX || strncmp(payload, VC_PAIR2_PREFIX, pre) != 0)
		goto bad;
	p = payload + pre;
	if ((size_t)(payload + len - p) < 2 * VC_KEY_ID_LEN + 1 + VC_PAIR_CODE_DIGITS + 1 ||
	    vc_unhex(p, 2 * VC_KEY_ID_LEN, r.key_id) < 0 || p[2 * VC_KEY_ID_LEN] != ':')
		goto bad;
	p += 2 * VC_KEY_ID_LEN + 1;
	if (!digits(p, VC_PAIR_CODE_DIGITS) || p[VC_PAIR_CODE_DIGITS] != ':')
		goto bad;
	memcpy(r.code, p, VC_PAIR_CODE_DIGITS);
	addr = p + VC_PAIR_CODE_DIGITS + 1;
	if (*addr == '[') {
		hend = strchr(addr, ']');
		if (!hend || hend[1] != ':' || !memchr(addr, ':', (size_t)(hend - addr)))
			goto bad;	/* brackets only around an IPv6 address */
		addr++;
		colon = hend + 1;
	} else {
		colon = strrchr(addr, ':');
		if (!colon || memchr(addr, ':', (size_t)(colon - addr)))
			goto bad;	/* an IPv6 address needs its brackets */
		hend = colon;
	}
	hlen = (size_t)(hend - addr);
	plen = strlen(colon + 1);
	if (!host_valid(addr, hlen) || plen == 0 || plen > 5 || !digits(colon + 1, plen) ||
	    colon[1] == '0')
		goto bad;
	port = strtoul(colon + 1, NULL, 10);
	if (port == 0 || port > 65535)
		goto bad;
	memcpy(r.host, addr, hlen);
	memcpy(r.port, colon + 1, plen);
	*t = r;
	OPENSSL_cleanse(&r, sizeof(r));
	return 0;
bad:
	return vc_err("not a pairing payload (expected %s<32 hex key id>:<%d digits>:<host>:<port>)",
		      VC_PAIR2_PREFIX, VC_PAIR_CODE_DIGITS);
}

int vc_pair_target_format(const struct vc_pair_target *t, char *out, size_t cap)
{
	char idhex[2 * VC_KEY_ID_LEN + 1];
	bool v6 = strchr(t->host, ':') != NULL;
	int n;

	vc_hex(t->key_id, VC_KEY_ID_LEN, idhex);
	n = snprintf(out, cap, "%s%s:%s:%s%s%s:%s", VC_PAIR2_PREFIX, idhex, t->code,
		     v6 ? "[" : "", t->host, v6 ? "]" : "", t->port);
	if (n < 0 || (size_t)n >= cap)
		return vc_err("pairing payload: buffer too small");
	return n;
}

/* ---- window ---- */

static int64_t mono_ns(void)
{
	return (int64_t)clk_mono_ns();
}

int vc_pair_window_open(struct vc_pair_window *w, int ttl_s)
{
	memset(w, 0, sizeof(*w));
	if (ttl_s <= 0 || ttl_s > 3600)
		return vc_err("pairing window: TTL must be 1..3600 s");
	if (vc_pair_code_random(w->code) < 0)
		return -1;
	w->expires_ns = mono_ns() + (int64_t)ttl_s * 1000000000;
	return 0;
}

void vc_pair_window_close(struct vc_pair_window *w)
{
	OPENSSL_cleanse(w, sizeof(*w));
	w->used = true;
}

/* ---- messages ---- */

const char *vc_pair_status_text(enum vc_pair_status s)
{
	switch (s) {
	case VC_PAIR_OK:
		return "paired";
	case VC_PAIR_BAD_PROOF:
		return "wrong pairing code (or a proof not made on this connection); the code is "
		       "spent: open a new pairing window on the camera";
	case VC_PAIR_SPENT:
		return "the camera's pairing code was already used or has expired: open a new "
		       "pairing window on the camera";
	case VC_PAIR_IDENTITY:
		return "the hub key in the request is not the key the TLS channel proved";
	case VC_PAIR_STORE:
		return "the camera could not pin this hub (a peer of that name with another key?)";
	}
	return "unknown answer";
}

int vc_pair_msg_parse(const uint8_t *buf, size_t len, struct vc_pair_msg *m)
{
	struct vc_pair_msg r;
	size_t nlen;

	memset(&r, 0, sizeof(r));
	if (len < 7 || memcmp(buf, magic, 4) != 0)
		return vc_err("pairing message: bad header");
	if (buf[4] != VC_PAIR_MSG_REQUEST && buf[4] != VC_PAIR_MSG_ANSWER)
		return vc_err("pairing message: bad type");
	r.type = buf[4];
	if ((r.type == VC_PAIR_MSG_REQUEST && buf[5] != 0) || buf[5] > VC_PAIR_STORE)
		return vc_err("pairing message: bad status");
	r.status = buf[5];
	nlen = buf[6];
	if (nlen > VC_NAME_MAX || len != 7 + nlen + VC_PUBKEY_LEN + VC_PAIR_MAC_LEN)
		return vc_err("pairing message: bad length");
	memcpy(r.name, buf + 7, nlen);
	r.name[nlen] = '\0';
	if (strlen(r.name) != nlen || !vc_name_valid(r.name))
		return vc_err("pairing message: invalid name");
	memcpy(r.pub, buf + 7 + nlen, VC_PUBKEY_LEN);
	memcpy(r.mac, buf + 7 + nlen + VC_PUBKEY_LEN, VC_PAIR_MAC_LEN);
	*m = r;
	return (int)len;
}

size_t vc_pair_msg_format(const struct vc_pair_msg *m, uint8_t out[VC_PAIR_MSG_MAX])
{
	size_t nlen = strnlen(m->name, VC_NAME_MAX);

	memcpy(out, magic, 4);
	out[4] = (uint8_t)m->type;
	out[5] = (uint8_t)m->status;
	out[6] = (uint8_t)nlen;
	memcpy(out + 7, m->name, nlen);
	memcpy(out + 7 + nlen, m->pub, VC_PUBKEY_LEN);
	memcpy(out + 7 + nlen + VC_PUBKEY_LEN, m->mac, VC_PAIR_MAC_LEN);
	return 7 + nlen + VC_PUBKEY_LEN + VC_PAIR_MAC_LEN;
}

/* HMAC-SHA256(key, label || a || b || extra) */
static int pair_mac(const uint8_t key[32], const char *label, const uint8_t *status,
		    const uint8_t a[VC_PUBKEY_LEN], const uint8_t b[VC_PUBKEY_LEN],
		    const char *name, uint8_t out[VC_PAIR_MAC_LEN])
{
	uint8_t msg[64 + 1 + 2 * VC_PUBKEY_LEN + VC_NAME_MAX];
	size_t n = 0, l = strlen(label), nl = strnlen(name, VC_NAME_MAX), outlen = 0;

	memcpy(msg, label, l);
	n = l;
	if (status)
		msg[n++] = *status;
	memcpy(msg + n, a, VC_PUBKEY_LEN);
	n += VC_PUBKEY_LEN;
	memcpy(msg + n, b, VC_PUBKEY_LEN);
	n += VC_PUBKEY_LEN;
	memcpy(msg + n, name, nl);
	n += nl;
	if (!EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, 32, msg, n, out,
		       VC_PAIR_MAC_LEN, &outlen) || outlen != VC_PAIR_MAC_LEN)
		return vc_err_ssl("HMAC-SHA256");
	return 0;
}

/* ---- the channel ---- */

struct pair_check {
	enum vc_role me;
	const uint8_t *want_id;		/* hub: the QR's key id */
	bool seen;
	uint8_t pub[VC_PUBKEY_LEN];	/* the peer's key, as TLS presented it */
};

static int pair_leaf_check(X509_STORE_CTX *xs, void *arg)
{
	struct pair_check *pc = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	EVP_PKEY *pk = leaf ? X509_get0_pubkey(leaf) : NULL;
	uint8_t id[VC_KEY_ID_LEN];
	size_t len = VC_PUBKEY_LEN;

	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pk, pc->pub, &len) != 1 || len != VC_PUBKEY_LEN)
		goto reject;
	if (pc->want_id && (vc_key_id_of(pc->pub, id) < 0 ||
			    CRYPTO_memcmp(id, pc->want_id, VC_KEY_ID_LEN) != 0))
		goto reject;
	pc->seen = true;
	return 1;
reject:
	X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
	return 0;
}

/*
 * The socket is non-blocking and every TLS step waits in poll() for at most
 * what is left until the connection's deadline: a per-read timeout alone
 * lets a peer that sends one byte now and then hold a connection (and the
 * camera's one-at-a-time listener) for as long as it likes.
 */
struct chan {
	SSL_CTX *ctx;
	SSL *ssl;
	struct pair_check pc;
	int fd;
	int64_t deadline_ns;
	bool timed_out;
};

enum chan_step { STEP_HANDSHAKE, STEP_READ, STEP_WRITE };

/* One TLS step, retried until done, failed or past the deadline; 1 when done. */
static int chan_do(struct chan *c, enum chan_step step, void *buf, size_t n, size_t *done)
{
	for (;;) {
		struct pollfd pfd = { .fd = c->fd };
		int64_t left;
		int r, e;

		ERR_clear_error();
		if (step == STEP_HANDSHAKE)
			r = c->pc.me == VC_ROLE_HUB ? SSL_connect(c->ssl) : SSL_accept(c->ssl);
		else if (step == STEP_READ)
			r = SSL_read_ex(c->ssl, buf, n, done);
		else
			r = SSL_write_ex(c->ssl, buf, n, done);
		if (r == 1)
			return 1;
		e = SSL_get_error(c->ssl, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
			return 0;
		left = c->deadline_ns - mono_ns();
		if (left <= 0) {
			c->timed_out = true;
			return 0;
		}
		pfd.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		if (poll(&pfd, 1, (int)((left + 999999) / 1000000)) < 0 && errno != EINTR)
			return 0;
	}
}

static int chan_fail(struct chan *c, const char *what)
{
	if (c->timed_out)
		return vc_err("pairing: %s: the peer did not finish in time (the connection's "
			      "deadline passed)", what);
	return vc_err_ssl("pairing: %s", what);
}

static void chan_free(struct chan *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	c->ssl = NULL;
	c->ctx = NULL;
}

/* deadline_ns: CLOCK_MONOTONIC time by which the whole exchange is over */
static int chan_open(struct chan *c, const struct vc_device_key *k, enum vc_role me, int fd,
		     const uint8_t *want_id, int64_t deadline_ns)
{
	int ret, fl;

	memset(c, 0, sizeof(*c));
	c->pc.me = me;
	c->pc.want_id = want_id;
	c->fd = fd;
	c->deadline_ns = deadline_ns;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return vc_err("pairing: socket: %s", strerror(errno));
	c->ctx = vc_tls_ctx_new(k, me, pair_leaf_check, &c->pc);
	if (!c->ctx)
		return -1;
	c->ssl = SSL_new(c->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1)
		return vc_err_ssl("pairing: TLS connection");
	ret = chan_do(c, STEP_HANDSHAKE, NULL, 0, NULL);
	if (ret != 1 || !c->pc.seen) {
		if (me == VC_ROLE_HUB && c->pc.want_id && !c->pc.seen && !c->timed_out)
			return vc_err("pairing: the device at that address is not the camera of "
				      "this QR code (its key does not match the fingerprint)");
		return chan_fail(c, "TLS handshake");
	}
	return 0;
}

static int chan_key(struct chan *c, const char *code, uint8_t key[32])
{
	if (SSL_export_keying_material(c->ssl, key, 32, exporter_label,
				       sizeof(exporter_label) - 1, (const uint8_t *)code,
				       VC_PAIR_CODE_DIGITS, 1) != 1)
		return vc_err_ssl("pairing: TLS exporter");
	return 0;
}

static int chan_write(struct chan *c, const struct vc_pair_msg *m)
{
	uint8_t buf[VC_PAIR_MSG_MAX];
	size_t n = vc_pair_msg_format(m, buf);
	size_t written = 0;

	if (chan_do(c, STEP_WRITE, buf, n, &written) != 1 || written != n)
		return chan_fail(c, "send");
	return 0;
}

static int read_all(struct chan *c, uint8_t *buf, size_t n)
{
	size_t got = 0, r;

	while (got < n) {
		if (chan_do(c, STEP_READ, buf + got, n - got, &r) != 1)
			return chan_fail(c, "the peer closed or timed out");
		got += r;
	}
	return 0;
}

static int chan_read(struct chan *c, struct vc_pair_msg *m, enum vc_pair_msg_type want)
{
	uint8_t buf[VC_PAIR_MSG_MAX];
	size_t n;

	if (read_all(c, buf, 7) < 0)
		return -1;
	n = 7 + (size_t)buf[6] + VC_PUBKEY_LEN + VC_PAIR_MAC_LEN;
	if (n > sizeof(buf))
		return vc_err("pairing message: bad length");
	if (read_all(c, buf + 7, n - 7) < 0 || vc_pair_msg_parse(buf, n, m) < 0)
		return -1;
	if (m->type != want)
		return vc_err("pairing message: unexpected type");
	return 0;
}

/* ---- camera ---- */

static int serve_answer(struct chan *c, const struct vc_device_key *k, const char *camera_name,
			const uint8_t key[32], enum vc_pair_status st, const uint8_t hub_pub[32])
{
	struct vc_pair_msg a;
	uint8_t sb = (uint8_t)st;

	memset(&a, 0, sizeof(a));
	a.type = VC_PAIR_MSG_ANSWER;
	a.status = st;
	snprintf(a.name, sizeof(a.name), "%s", camera_name);
	memcpy(a.pub, vc_key_public(k), VC_PUBKEY_LEN);
	if (st == VC_PAIR_OK &&
	    pair_mac(key, "veracam pair camera", &sb, a.pub, hub_pub, a.name, a.mac) < 0)
		return -1;
	return chan_write(c, &a);
}

int vc_pair_serve(const char *dir, const struct vc_device_key *k, const char *camera_name,
		  const char *hub_name, struct vc_pair_window *w, int fd, struct vc_peer *hub)
{
	enum vc_pair_status st = VC_PAIR_OK;
	uint8_t key[32], want[VC_PAIR_MAC_LEN];
	char why[300] = "";
	char code[VC_PAIR_CODE_DIGITS + 1];
	struct vc_pair_msg req;
	struct vc_peer p;
	bool claimed = false;
	struct chan c;
	int ret = -1;

	memset(key, 0, sizeof(key));
	memset(&c, 0, sizeof(c));
	if (!vc_name_valid(camera_name))
		return vc_err("invalid camera name '%s'", camera_name);
	/*
	 * A connection lasts VC_PAIR_IO_TIMEOUT_S at most, from accept; one
	 * accepted near the window's end gets its "expired" answer below.
	 */
	if (chan_open(&c, k, VC_ROLE_CAMERA, fd, NULL,
		      mono_ns() + (int64_t)VC_PAIR_IO_TIMEOUT_S * 1000000000) < 0 ||
	    chan_read(&c, &req, VC_PAIR_MSG_REQUEST) < 0)
		goto out;
	/*
	 * The attempt spends the window whatever its outcome: one guess per
	 * code. Connections are served side by side (veracamctl pair-mode), so
	 * the claim is one atomic exchange: exactly one attempt gets the code.
	 */
	memcpy(code, w->code, sizeof(code));
	claimed = !__atomic_exchange_n(&w->used, true, __ATOMIC_ACQ_REL);
	if (!claimed || mono_ns() >= w->expires_ns)
		st = VC_PAIR_SPENT;
	memset(&p, 0, sizeof(p));
	if (st == VC_PAIR_OK && CRYPTO_memcmp(req.pub, c.pc.pub, VC_PUBKEY_LEN) != 0)
		st = VC_PAIR_IDENTITY;
	if (st == VC_PAIR_OK) {
		if (chan_key(&c, code, key) < 0 ||
		    pair_mac(key, "veracam pair hub", NULL, c.pc.pub, vc_key_public(k), req.name,
			     want) < 0)
			goto out;
		if (CRYPTO_memcmp(want, req.mac, VC_PAIR_MAC_LEN) != 0)
			st = VC_PAIR_BAD_PROOF;
	}
	if (st == VC_PAIR_OK) {
		snprintf(p.name, sizeof(p.name), "%s", hub_name ? hub_name : req.name);
		p.role = VC_ROLE_HUB;
		memcpy(p.pub, c.pc.pub, VC_PUBKEY_LEN);
		p.created = clk_real_ns() / 1000000000;
		if (vc_key_id_of(p.pub, p.key_id) < 0 || vc_peer_trust(dir, &p) < 0) {
			st = VC_PAIR_STORE;
		}
	}
	if (serve_answer(&c, k, camera_name, key, st, c.pc.pub) < 0)
		goto out;
	if (st != VC_PAIR_OK) {
		vc_err("pairing refused: %s%s", vc_pair_status_text(st), why);
		goto out;
	}
	if (hub)
		*hub = p;
	ret = 0;
out:
	OPENSSL_cleanse(code, sizeof(code));
	OPENSSL_cleanse(key, sizeof(key));
	chan_free(&c);
	return ret < 0 && claimed ? -2 : ret;
}

/* ---- hub ---- */

/*
 * The hub waits longer than a camera gives any one connection: its
 * connection may queue behind strangers' on the camera's listener, each of
 * which the camera ends after VC_PAIR_IO_TIMEOUT_S.
 */
static int64_t hub_deadline(void)
{
	return mono_ns() + (int64_t)VC_PAIR_HUB_TIMEOUT_S * 1000000000;
}

int vc_pair_join(const char *dir, const struct vc_device_key *k, const char *camera_name,
		 const char *hub_name, const struct vc_pair_target *t, int fd,
		 const struct vc_pair_faults *faults, struct vc_peer *camera)
{
	uint8_t key[32], want[VC_PAIR_MAC_LEN], sb = VC_PAIR_OK;
	struct vc_pair_msg req, ans;
	struct vc_peer p;
	struct chan c;
	int ret = -1;

	memset(key, 0, sizeof(key));
	if (!vc_name_valid(camera_name) || !vc_name_valid(hub_name))
		return vc_err("invalid name (letters, digits, '_', '.', '-'; up to %d)",
			      VC_NAME_MAX);
	if (vc_peer_load(dir, camera_name, &p) == 0)
		return vc_err("'%s' is already a peer here; untrust it first or pick another name",
			      camera_name);
	if (chan_open(&c, k, VC_ROLE_HUB, fd, t->key_id, hub_deadline()) < 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.type = VC_PAIR_MSG_REQUEST;
	snprintf(req.name, sizeof(req.name), "%s", hub_name);
	memcpy(req.pub, faults && faults->claim_pub ? faults->claim_pub : vc_key_public(k),
	       VC_PUBKEY_LEN);
	if (chan_key(&c, t->code, key) < 0)
		goto out;
	if (faults && faults->other_channel)
		key[0] ^= 1;
	if (pair_mac(key, "veracam pair hub", NULL, req.pub, c.pc.pub, req.name, req.mac) < 0 ||
	    chan_write(&c, &req) < 0 || chan_read(&c, &ans, VC_PAIR_MSG_ANSWER) < 0)
		goto out;
	if (faults && faults->other_channel)
		key[0] ^= 1;
	if (ans.status != VC_PAIR_OK) {
		vc_err("the camera refused: %s", vc_pair_status_text(ans.status));
		goto out;
	}
	if (CRYPTO_memcmp(ans.pub, c.pc.pub, VC_PUBKEY_LEN) != 0 ||
	    pair_mac(key, "veracam pair camera", &sb, c.pc.pub, vc_key_public(k), ans.name,
		     want) < 0 ||
	    CRYPTO_memcmp(want, ans.mac, VC_PAIR_MAC_LEN) != 0) {
		vc_err("pairing: the camera's confirmation does not check");
		goto out;
	}
	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", camera_name);
	p.role = VC_ROLE_CAMERA;
	memcpy(p.pub, c.pc.pub, VC_PUBKEY_LEN);
	p.created = clk_real_ns() / 1000000000;
	if (vc_key_id_of(p.pub, p.key_id) < 0 || vc_peer_trust(dir, &p) < 0)
		goto out;
	if (camera)
		*camera = p;
	ret = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	chan_free(&c);
	return ret;
}

/* ---- SAS mode ---- */

static const char sas_magic[4] = { 'V', 'C', 'S', '1' };
static const char sas_exporter_label[] = "EXPORTER-veracam sas";

int vc_sas_msg_parse(const uint8_t *buf, size_t len, enum vc_sas_msg_type want,
		     uint8_t body[VC_SAS_NONCE_LEN])
{
	if (len != VC_SAS_MSG_LEN || memcmp(buf, sas_magic, 4) != 0 || buf[4] != (uint8_t)want)
		return vc_err("SAS pairing: unexpected message");
	memcpy(body, buf + 5, VC_SAS_NONCE_LEN);
	return 0;
}

void vc_sas_msg_format(enum vc_sas_msg_type type, const uint8_t body[VC_SAS_NONCE_LEN],
		       uint8_t out[VC_SAS_MSG_LEN])
{
	memcpy(out, sas_magic, 4);
	out[4] = (uint8_t)type;
	memcpy(out + 5, body, VC_SAS_NONCE_LEN);
}

int vc_sas_commit(const uint8_t hub_pub[VC_PUBKEY_LEN], const uint8_t nh[VC_SAS_NONCE_LEN],
		  uint8_t c[VC_SAS_NONCE_LEN])
{
	static const char label[] = "veracam sas commit";
	uint8_t msg[sizeof(label) - 1 + VC_PUBKEY_LEN + VC_SAS_NONCE_LEN];

	memcpy(msg, label, sizeof(label) - 1);
	memcpy(msg + sizeof(label) - 1, hub_pub, VC_PUBKEY_LEN);
	memcpy(msg + sizeof(label) - 1 + VC_PUBKEY_LEN, nh, VC_SAS_NONCE_LEN);
	if (EVP_Digest(msg, sizeof(msg), c, NULL, EVP_sha256(), NULL) != 1)
		return vc_err_ssl("SHA-256");
	return 0;
}

static int sas_value(struct chan *c, const uint8_t cam_pub[VC_PUBKEY_LEN],
		     const uint8_t hub_pub[VC_PUBKEY_LEN], const uint8_t nh[VC_SAS_NONCE_LEN],
		     const uint8_t nc[VC_SAS_NONCE_LEN], char out[VC_SAS_LEN + 1])
{
	static const char label[] = "veracam sas 2";
	uint8_t msg[sizeof(label) - 1 + 32 + 2 * VC_PUBKEY_LEN + 2 * VC_SAS_NONCE_LEN];
	uint8_t h[32], *p = msg;
	uint32_t v;

	memcpy(p, label, sizeof(label) - 1);
	p += sizeof(label) - 1;
	if (SSL_export_keying_material(c->ssl, p, 32, sas_exporter_label,
				       sizeof(sas_exporter_label) - 1, NULL, 0, 0) != 1)
		return vc_err_ssl("SAS pairing: TLS exporter");
	p += 32;
	memcpy(p, cam_pub, VC_PUBKEY_LEN);
	p += VC_PUBKEY_LEN;
	memcpy(p, hub_pub, VC_PUBKEY_LEN);
	p += VC_PUBKEY_LEN;
	memcpy(p, nh, VC_SAS_NONCE_LEN);
	p += VC_SAS_NONCE_LEN;
	memcpy(p, nc, VC_SAS_NONCE_LEN);
	if (EVP_Digest(msg, sizeof(msg), h, NULL, EVP_sha256(), NULL) != 1)
		return vc_err_ssl("SHA-256");
	v = vc_get_be32(h) % 1000000u;
	snprintf(out, VC_SAS_LEN + 1, "%03u %03u", v / 1000, v % 1000);
	return 0;
}

static int sas_send(struct chan *c, enum vc_sas_msg_type type, const uint8_t body[32])
{
	uint8_t buf[VC_SAS_MSG_LEN];
	size_t w = 0;

	vc_sas_msg_format(type, body, buf);
	if (chan_do(c, STEP_WRITE, buf, sizeof(buf), &w) != 1 || w != sizeof(buf))
		return chan_fail(c, "SAS send");
	return 0;
}

static int sas_recv(struct chan *c, enum vc_sas_msg_type want, uint8_t body[32])
{
	uint8_t buf[VC_SAS_MSG_LEN];

	if (read_all(c, buf, sizeof(buf)) < 0)
		return -1;
	return vc_sas_msg_parse(buf, sizeof(buf), want, body);
}

/* Pin the peer TLS proved, pending, under name. */
static int pin_pending(const char *dir, struct chan *c, const char *name, enum vc_role role,
		       struct vc_peer *out)
{
	struct vc_peer p;

	memset(&p, 0, sizeof(p));
	snprintf(p.name, sizeof(p.name), "%s", name);
	p.role = role;
	p.pending = true;
	memcpy(p.pub, c->pc.pub, VC_PUBKEY_LEN);
	p.created = clk_real_ns() / 1000000000;
	if (vc_key_id_of(p.pub, p.key_id) < 0 || vc_peer_trust(dir, &p) < 0)
		return -1;
	if (out)
		*out = p;
	return 0;
}

int vc_pair_serve_sas(const char *dir, const struct vc_device_key *k, const char *camera_name,
		      const char *hub_name, struct vc_pair_window *w, int fd, struct vc_peer *hub,
		      char sas[VC_SAS_LEN + 1])
{
	uint8_t commit[32], nc[32], nh[32], check[32];
	char name[VC_NAME_MAX + 1], idhex[2 * VC_KEY_ID_LEN + 1];
	bool claimed = false;
	struct chan c;
	int ret = -1;

	memset(&c, 0, sizeof(c));
	if (!vc_name_valid(camera_name) || (hub_name && !vc_name_valid(hub_name)))
		return vc_err("invalid name");
	if (chan_open(&c, k, VC_ROLE_CAMERA, fd, NULL,
		      mono_ns() + (int64_t)VC_PAIR_IO_TIMEOUT_S * 1000000000) < 0 ||
	    sas_recv(&c, VC_SAS_COMMIT, commit) < 0)
		goto out;
	/* our nonce only after the hub is bound to its own */
	if (RAND_bytes(nc, sizeof(nc)) != 1) {
		vc_err_ssl("random");
		goto out;
	}
	if (sas_send(&c, VC_SAS_CAMERA_NONCE, nc) < 0 || sas_recv(&c, VC_SAS_OPEN, nh) < 0 ||
	    vc_sas_commit(c.pc.pub, nh, check) < 0)
		goto out;
	if (CRYPTO_memcmp(check, commit, sizeof(check)) != 0) {
		vc_err("SAS pairing refused: the hub's nonce does not open its commitment");
		goto out;
	}
	if (sas_value(&c, vc_key_public(k), c.pc.pub, nh, nc, sas) < 0)
		goto out;
	if (hub_name) {
		snprintf(name, sizeof(name), "%s", hub_name);
	} else {
		vc_hex(vc_key_id_of(c.pc.pub, check) == 0 ? check : nc, 4, idhex);
		snprintf(name, sizeof(name), "hub-%s", idhex);
	}
	/* only a pin spends a SAS window: the first connection to get here */
	claimed = !__atomic_exchange_n(&w->used, true, __ATOMIC_ACQ_REL);
	if (!claimed) {
		vc_err("SAS pairing refused: another hub was pinned first");
		goto out;
	}
	if (mono_ns() >= w->expires_ns) {
		vc_err("SAS pairing refused: the pairing window expired");
		goto out;
	}
	ret = pin_pending(dir, &c, name, VC_ROLE_HUB, hub);
	memset(check, 0, sizeof(check));
	if (ret == 0 && sas_send(&c, VC_SAS_DONE, check) < 0)
		ret = -1;
out:
	chan_free(&c);
	return ret < 0 && claimed ? -2 : ret;
}

int vc_pair_join_sas(const char *dir, const struct vc_device_key *k, const char *camera_name,
		     const char *hub_name, int fd, const struct vc_pair_faults *faults,
		     struct vc_peer *camera, char sas[VC_SAS_LEN + 1])
{
	uint8_t commit[32], nc[32], nh[32];
	struct vc_peer old;
	struct chan c;
	int ret = -1;

	memset(&c, 0, sizeof(c));
	if (!vc_name_valid(camera_name) || !vc_name_valid(hub_name))
		return vc_err("invalid name");
	if (vc_peer_load(dir, camera_name, &old) == 0)
		return vc_err("'%s' is already a peer here; untrust it first or pick another name",
			      camera_name);
	if (RAND_bytes(nh, sizeof(nh)) != 1)
		return vc_err_ssl("random");
	if (chan_open(&c, k, VC_ROLE_HUB, fd, NULL, hub_deadline()) < 0 ||
	    vc_sas_commit(vc_key_public(k), nh, commit) < 0 ||
	    sas_send(&c, VC_SAS_COMMIT, commit) < 0 || sas_recv(&c, VC_SAS_CAMERA_NONCE, nc) < 0)
		goto out;
	if (faults && faults->sas_reopen)
		nh[0] ^= 1;	/* what a grinder would need: another Nh after seeing Nc */
	if (sas_send(&c, VC_SAS_OPEN, nh) < 0 ||
	    sas_value(&c, c.pc.pub, vc_key_public(k), nh, nc, sas) < 0)
		goto out;
	/* the camera's "pinned"; it hangs up instead on a commitment that does not open */
	if (sas_recv(&c, VC_SAS_DONE, commit) < 0) {
		vc_err("SAS pairing: the camera refused (it names the reason on its side)");
		goto out;
	}
	ret = pin_pending(dir, &c, camera_name, VC_ROLE_CAMERA, camera);
out:
	chan_free(&c);
	return ret;
}
