// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - the control session.
 *
 * TLS 1.3 only, both sides present a self-signed certificate for their
 * device key; the certificate chain is not verified against any CA:
 * the only question asked is whether the leaf's Ed25519 key equals a
 * pinned peer's key of the other role. TLS's CertificateVerify proves
 * possession of that key.
 *
 * After the handshake (docs/PROTOCOL.md "Session"):
 *   hub -> camera: "VCH1" ver(1) cipher-mask(1) 00 00 hub-nonce(32) t1(8)
 *   camera -> hub: "VCC1" ver(1) cipher(1) 00 00 camera-nonce(32) t2(8)
 *   session id = SHA-256("veracam1 session" || hub nonce || camera nonce)[0..16)
 *   media key(dir) = TLS-Exporter(label(dir), context = session id, key + 12)
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <veracam/session.h>
#include "internal.h"

#define HELLO_LEN	48
#define HELLO_VERSION	1
#define NONCE_LEN	32

static const char label_c2h[] = "EXPORTER-veracam1 camera-to-hub";
static const char label_h2c[] = "EXPORTER-veracam1 hub-to-camera";

struct vc_session {
	SSL_CTX *ctx;
	SSL *ssl;
	const struct vc_session_config *cfg;
	int matched;		/* index in cfg->peers of the peer that proved its key */
	bool unpinned;		/* the peer showed a key we do not pin */
	uint8_t unpinned_id[VC_KEY_ID_LEN];
	struct vc_session_params p;
};

const char *vc_cipher_name(enum vc_cipher c)
{
	switch (c) {
	case VC_CIPHER_AES128GCM:
		return "aes-128-gcm";
	case VC_CIPHER_CHACHA20POLY1305:
		return "chacha20-poly1305";
	}
	return "?";
}

int vc_cipher_parse(const char *s, enum vc_cipher *c)
{
	if (!strcmp(s, "aes-128-gcm"))
		*c = VC_CIPHER_AES128GCM;
	else if (!strcmp(s, "chacha20-poly1305"))
		*c = VC_CIPHER_CHACHA20POLY1305;
	else
		return vc_err("cipher must be aes-128-gcm or chacha20-poly1305, not '%s'", s);
	return 0;
}

static size_t cipher_key_len(enum vc_cipher c)
{
	return c == VC_CIPHER_AES128GCM ? 16 : 32;
}

int vc_session_id_derive(const uint8_t hub_nonce[32], const uint8_t camera_nonce[32],
			 uint8_t id[VC_SESSION_ID_LEN])
{
	static const char label[] = "veracam1 session";
	uint8_t msg[sizeof(label) - 1 + 2 * NONCE_LEN], h[VC_HASH_LEN];

	memcpy(msg, label, sizeof(label) - 1);
	memcpy(msg + sizeof(label) - 1, hub_nonce, NONCE_LEN);
	memcpy(msg + sizeof(label) - 1 + NONCE_LEN, camera_nonce, NONCE_LEN);
	if (EVP_Digest(msg, sizeof(msg), h, NULL, EVP_sha256(), NULL) != 1)
		return vc_err_ssl("SHA-256");
	memcpy(id, h, VC_SESSION_ID_LEN);
	return 0;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static X509 *self_signed_cert(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;
	uint8_t serial[8];
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	int ok;

	ok = x && RAND_bytes(serial, sizeof(serial)) == 1 &&
	     (bn = BN_bin2bn(serial, sizeof(serial), NULL)) &&
	     (sn = BN_to_ASN1_INTEGER(bn, NULL)) && X509_set_serialNumber(x, sn) == 1 &&
	     X509_set_version(x, X509_VERSION_3) == 1 &&
	     X509_gmtime_adj(X509_getm_notBefore(x), -86400) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365) &&
	     X509_set_pubkey(x, key) == 1 && (name = X509_get_subject_name(x)) &&
	     X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)"veracam", -1, -1, 0) == 1 &&
	     X509_set_issuer_name(x, name) == 1 && X509_sign(x, key, NULL) > 0;
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		vc_err_ssl("self-signed certificate");
		return NULL;
	}
	return x;
}

/* Replaces chain verification: the leaf's key must be a pinned peer's. */
static int pinned_key_check(X509_STORE_CTX *xs, void *arg)
{
	struct vc_session *s = arg;
	const struct vc_session_config *cfg = s->cfg;
	enum vc_role want = cfg->role == VC_ROLE_HUB ? VC_ROLE_CAMERA : VC_ROLE_HUB;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	EVP_PKEY *pk = leaf ? X509_get0_pubkey(leaf) : NULL;
	uint8_t pub[VC_PUBKEY_LEN];
	size_t len = sizeof(pub), i;

	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pk, pub, &len) != 1 || len != VC_PUBKEY_LEN) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	for (i = 0; i < cfg->n_peers; i++) {
		if (cfg->peers[i].role == want &&
		    CRYPTO_memcmp(cfg->peers[i].pub, pub, VC_PUBKEY_LEN) == 0) {
			s->matched = (int)i;
			return 1;
		}
	}
	s->unpinned = true;
	vc_key_id_of(pub, s->unpinned_id);
	X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
	return 0;
}

static int tls_setup(struct vc_session *s, int fd)
{
	EVP_PKEY *key = vc_key_pkey(s->cfg->key);
	X509 *cert;
	int ok;

	s->ctx = SSL_CTX_new(s->cfg->role == VC_ROLE_HUB ? TLS_client_method() : TLS_server_method());
	if (!s->ctx)
		return vc_err_ssl("TLS context");
	cert = self_signed_cert(key);
	if (!cert)
		return -1;
	ok = SSL_CTX_set_min_proto_version(s->ctx, TLS1_3_VERSION) == 1 &&
	     SSL_CTX_use_certificate(s->ctx, cert) == 1 &&
	     SSL_CTX_use_PrivateKey(s->ctx, key) == 1 &&
	     SSL_CTX_check_private_key(s->ctx) == 1 &&
	     SSL_CTX_set_num_tickets(s->ctx, 0) == 1;
	X509_free(cert);
	if (!ok)
		return vc_err_ssl("TLS context setup");
	SSL_CTX_set_session_cache_mode(s->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(s->ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_verify(s->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_cert_verify_callback(s->ctx, pinned_key_check, s);
	s->ssl = SSL_new(s->ctx);
	if (!s->ssl || SSL_set_fd(s->ssl, fd) != 1)
		return vc_err_ssl("TLS connection");
	return 0;
}

static int tls_io(struct vc_session *s, uint8_t *buf, size_t len, bool wr)
{
	size_t done = 0;

	while (done < len) {
		size_t n = 0;
		int ok = wr ? SSL_write_ex(s->ssl, buf + done, len - done, &n)
			    : SSL_read_ex(s->ssl, buf + done, len - done, &n);

		if (!ok)
			return vc_err_ssl("session hello: %s (has the peer paired this device?)",
					  wr ? "send failed" : "peer closed the session");
		done += n;
	}
	return 0;
}

static int export_key(struct vc_session *s, const char *label, size_t label_len,
		      struct vc_media_key *k)
{
	uint8_t out[VC_MEDIA_KEY_MAX + VC_MEDIA_IV_LEN];
	size_t klen = cipher_key_len(s->p.cipher);

	if (SSL_export_keying_material(s->ssl, out, klen + VC_MEDIA_IV_LEN, label, label_len,
				       s->p.session_id, VC_SESSION_ID_LEN, 1) != 1)
		return vc_err_ssl("TLS exporter");
	memset(k, 0, sizeof(*k));
	k->cipher = s->p.cipher;
	memcpy(k->key, out, klen);
	memcpy(k->iv, out + klen, VC_MEDIA_IV_LEN);
	OPENSSL_cleanse(out, sizeof(out));
	return 0;
}

static int hello_hub(struct vc_session *s, unsigned int mask)
{
	uint8_t mine[HELLO_LEN], theirs[HELLO_LEN];

	memcpy(mine, "VCH1", 4);
	mine[4] = HELLO_VERSION;
	mine[5] = (uint8_t)mask;
	mine[6] = mine[7] = 0;
	if (RAND_bytes(mine + 8, NONCE_LEN) != 1)
		return vc_err_ssl("random");
	vc_put_be64(mine + 40, (uint64_t)wall_ns());
	/* the hello is challenge 0 of the verifier (§9): its send time, read before it goes */
	s->p.hello_ns = clock_ns(CLOCK_MONOTONIC);
	if (tls_io(s, mine, HELLO_LEN, true) < 0 || tls_io(s, theirs, HELLO_LEN, false) < 0)
		return -1;
	if (memcmp(theirs, "VCC1", 4) != 0 || theirs[4] != HELLO_VERSION || theirs[6] || theirs[7])
		return vc_err("session hello: camera sent an unsupported hello (version %u)",
			      theirs[4]);
	if (theirs[5] > 7 || !(mask & VC_CIPHER_MASK(theirs[5])))
		return vc_err("session hello: camera chose a cipher we did not offer");
	s->p.cipher = theirs[5];
	return vc_session_id_derive(mine + 8, theirs + 8, s->p.session_id);
}

static int hello_camera(struct vc_session *s, unsigned int mask)
{
	enum vc_cipher prefer = s->cfg->prefer ? s->cfg->prefer : VC_CIPHER_AES128GCM;
	enum vc_cipher other = prefer == VC_CIPHER_AES128GCM ? VC_CIPHER_CHACHA20POLY1305
							      : VC_CIPHER_AES128GCM;
	uint8_t mine[HELLO_LEN], theirs[HELLO_LEN];
	unsigned int both;

	if (tls_io(s, theirs, HELLO_LEN, false) < 0)
		return -1;
	if (memcmp(theirs, "VCH1", 4) != 0 || theirs[4] != HELLO_VERSION || theirs[6] || theirs[7])
		return vc_err("session hello: hub sent an unsupported hello (version %u)", theirs[4]);
	both = mask & theirs[5];
	if (both & VC_CIPHER_MASK(prefer))
		s->p.cipher = prefer;
	else if (both & VC_CIPHER_MASK(other))
		s->p.cipher = other;
	else
		return vc_err("session hello: no media cipher in common with the hub");
	memcpy(mine, "VCC1", 4);
	mine[4] = HELLO_VERSION;
	mine[5] = (uint8_t)s->p.cipher;
	mine[6] = mine[7] = 0;
	if (RAND_bytes(mine + 8, NONCE_LEN) != 1)
		return vc_err_ssl("random");
	vc_put_be64(mine + 40, (uint64_t)wall_ns());
	if (tls_io(s, mine, HELLO_LEN, true) < 0)
		return -1;
	return vc_session_id_derive(theirs + 8, mine + 8, s->p.session_id);
}

struct vc_session *vc_session_handshake(const struct vc_session_config *cfg, int fd)
{
	unsigned int mask = cfg->ciphers ? cfg->ciphers
		: VC_CIPHER_MASK(VC_CIPHER_AES128GCM) | VC_CIPHER_MASK(VC_CIPHER_CHACHA20POLY1305);
	struct vc_session *s = calloc(1, sizeof(*s));
	int ret;

	if (!s) {
		vc_err("out of memory");
		return NULL;
	}
	s->cfg = cfg;
	s->matched = -1;
	if (cfg->role != VC_ROLE_HUB && cfg->role != VC_ROLE_CAMERA) {
		vc_err("session: invalid role");
		goto fail;
	}
	if (tls_setup(s, fd) < 0)
		goto fail;
	ret = cfg->role == VC_ROLE_HUB ? SSL_connect(s->ssl) : SSL_accept(s->ssl);
	if (ret != 1 || s->matched < 0) {
		if (s->unpinned) {
			char hex[2 * VC_KEY_ID_LEN + 1];

			vc_hex(s->unpinned_id, VC_KEY_ID_LEN, hex);
			vc_err("TLS handshake: peer key %s is not paired as a %s; refused", hex,
			       cfg->role == VC_ROLE_HUB ? "camera" : "hub");
			ERR_clear_error();
		} else {
			vc_err_ssl("TLS handshake failed");
		}
		goto fail;
	}
	if (SSL_version(s->ssl) != TLS1_3_VERSION) {
		vc_err("TLS handshake: not TLS 1.3");
		goto fail;
	}
	if ((cfg->role == VC_ROLE_HUB ? hello_hub(s, mask) : hello_camera(s, mask)) < 0)
		goto fail;
	if (export_key(s, label_c2h, sizeof(label_c2h) - 1, &s->p.camera_to_hub) < 0 ||
	    export_key(s, label_h2c, sizeof(label_h2c) - 1, &s->p.hub_to_camera) < 0)
		goto fail;
	s->p.peer = cfg->peers[s->matched];
	s->cfg = NULL;	/* not kept past the call */
	return s;
fail:
	s->cfg = NULL;
	vc_session_free(s);
	return NULL;
}

const struct vc_session_params *vc_session_params(const struct vc_session *s)
{
	return &s->p;
}

SSL *vc_session_ssl(struct vc_session *s)
{
	return s->ssl;
}

void vc_session_free(struct vc_session *s)
{
	if (!s)
		return;
	if (s->ssl) {
		if (SSL_is_init_finished(s->ssl))
			SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	SSL_CTX_free(s->ctx);
	OPENSSL_cleanse(&s->p, sizeof(s->p));
	free(s);
	ERR_clear_error();
}
