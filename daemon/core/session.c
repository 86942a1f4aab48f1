// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - the control session (docs/PROTOCOL.md §5).
 *
 * TLS 1.3 only, both sides present a self-signed certificate for their
 * device key; the certificate chain is not verified against any CA:
 * the only question asked is whether the leaf's Ed25519 key equals a
 * pinned peer's key of the other role. TLS's CertificateVerify proves
 * possession of that key.
 *
 * After the handshake, inside TLS:
 *   hub -> camera: "VCH1" ver(2) cipher-mask(1) 00 00 hub-nonce(32)      (challenge 0)
 *   camera -> hub: "VCC1" ver(2) cipher(1) 00 00 camera-nonce(32)
 *   session id = SHA-256("veracam1 session" || hub nonce || camera nonce)[0..16)
 *   media key(dir) = TLS-Exporter(label(dir), context = session id, key + 12)
 *   transport key(dir) = TLS-Exporter(label(dir), context = session id, 32)
 * then control messages, type(1) length(1) body: the camera's media
 * offer, the hub's challenges and, once, the hub's encryption key with
 * its device key's binding signature (checked here against the pinned
 * key that proved itself in this very handshake).
 *
 * One state machine serves both roles and both ways of driving it: a
 * loop calling vc_session_advance() on readiness, or vc_session_run()
 * polling until an absolute deadline. No read ever waits on its own, so
 * only the caller's deadline bounds how long a peer can hold a session
 * in setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
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

#include <veracam/enckey.h>
#include <veracam/evfetch.h>
#include <veracam/holder.h>
#include <veracam/session.h>
#include "clock.h"
#include "internal.h"

#define HELLO_LEN	40
#define HELLO_VERSION	2
#define NONCE_LEN	32
#define CTL_HDR		2
#define CTL_LONG_HDR	3	/* type >= 0x80: a 16-bit length */
/* queued control bytes; beyond this a sender gets "no room" (one long answer fits) */
#define OUT_MAX		(1024 + CTL_LONG_HDR + VC_CTL_LONG_MAX)
#define IN_MAX		(CTL_LONG_HDR + VC_CTL_LONG_MAX)
#define READS_PER_CALL	1024	/* messages per vc_session_recv(): a flood cannot hold the loop */

_Static_assert(VC_CTL_LONG_MAX == VC_EVX_CHUNK_MAX_LEN &&
	       VC_EVX_LISTING_MAX_LEN <= VC_CTL_LONG_MAX, "an event chunk fills a long message");
_Static_assert(VC_CTL_ENC_KEY_LEN == VC_ENC_PUBKEY_LEN + VC_SIG_LEN &&
	       VC_CTL_ENC_KEY_LEN <= VC_CTL_BODY_MAX, "the encryption key message's body length");

static const char label_c2h[] = "EXPORTER-veracam1 camera-to-hub";
static const char label_h2c[] = "EXPORTER-veracam1 hub-to-camera";
static const char label_t_c2h[] = "EXPORTER-veracam transport camera-to-hub";
static const char label_t_h2c[] = "EXPORTER-veracam transport hub-to-camera";

enum state {
	ST_TLS,		/* TLS handshake */
	ST_HELLO_IN,	/* waiting for the peer's hello */
	ST_HELLO_OUT,	/* our hello queued; established once it is written */
	ST_UP,		/* established: control messages */
	ST_FAILED,
};

struct vc_session {
	SSL_CTX *ctx;
	SSL *ssl;
	int fd;
	struct vc_session_config cfg;	/* peers point at the copy below */
	struct vc_peer *peers;
	enum state state;
	enum vc_session_cause cause;
	unsigned int mask;		/* ciphers allowed */
	int matched;		/* index in peers of the peer that proved its key */
	bool sent_finished;	/* our TLS Finished is written: the first flight is made */
	bool unpinned;		/* the peer showed a key we do not pin */
	bool pending;		/* ... or one whose pin is not confirmed yet */
	uint8_t unpinned_id[VC_KEY_ID_LEN];
	uint8_t my_nonce[NONCE_LEN];
	/* received bytes not yet a whole hello / message */
	uint8_t in[IN_MAX];
	size_t in_len;
	/* queued output */
	uint8_t out[OUT_MAX];
	size_t out_len;
	/* camera: newest challenge received */
	uint64_t challenge;
	int64_t challenge_ns;
	bool enc_key_seen;	/* VC_CTL_ENC_KEY taken: one per session */
	/*
	 * Event fetch (§5.7). Camera: a request was returned and not answered
	 * yet (asked), or its answer is still in the queue (answering). Hub:
	 * the request waiting for its answer (req_type 0: none).
	 */
	bool asked, answering;
	uint8_t req_type;
	uint64_t req_from;
	struct vc_evx_get req_get;
	/* the session's secrets: in OpenSSL's secure heap once TLS is done */
	struct vc_session_params *p;
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

const char *vc_session_cause_name(enum vc_session_cause c)
{
	switch (c) {
	case VC_SESSION_OK:
		return "ok";
	case VC_SESSION_NOT_PAIRED:
		return "not-paired";
	case VC_SESSION_PENDING:
		return "pending";
	case VC_SESSION_TIMEOUT:
		return "timeout";
	case VC_SESSION_CLOSED:
		return "closed";
	case VC_SESSION_PROTOCOL:
		return "protocol";
	case VC_SESSION_TLS:
		return "tls";
	}
	return "?";
}

/*
 * The session reads its clocks itself, each at the moment that keeps the
 * freshness bound conservative: the hub's send time of challenge 0 just
 * before the hello is queued (never later than it leaves), the camera's
 * read time of a challenge just after its last byte was read (never
 * earlier than it arrived). The readings come from the daemons' one clock
 * module (daemon/util/clock.h).
 */

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

/*
 * The certificate is only the carrier of the key TLS 1.3 proves
 * possession of (CertificateVerify); no peer checks its signature. A key
 * in the key holder signs nothing but CertificateVerify, so its
 * certificate is signed by a throwaway key made for it (signer).
 */
static X509 *key_cert(EVP_PKEY *key, EVP_PKEY *signer)
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
	     X509_set_issuer_name(x, name) == 1 && X509_sign(x, signer, NULL) > 0;
	ASN1_INTEGER_free(sn);
	BN_free(bn);
	if (!ok) {
		X509_free(x);
		vc_err_ssl("certificate");
		return NULL;
	}
	return x;
}

static X509 *device_cert(const struct vc_device_key *k)
{
	EVP_PKEY *pub, *throwaway;
	X509 *x;

	if (!vc_key_is_remote(k))
		return key_cert(vc_key_pkey(k), vc_key_pkey(k));
	pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, vc_key_public(k), VC_PUBKEY_LEN);
	throwaway = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	x = pub && throwaway ? key_cert(pub, throwaway) : NULL;
	if (!x)
		vc_err_ssl("certificate of the key holder's key");
	EVP_PKEY_free(pub);
	EVP_PKEY_free(throwaway);
	return x;
}

/* Replaces chain verification: the leaf's key must be a pinned peer's. */
static int pinned_key_check(X509_STORE_CTX *xs, void *arg)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct vc_session *s = ssl ? SSL_get_app_data(ssl) : NULL;
	const struct vc_session_config *cfg;
	enum vc_role want;
	X509 *leaf = X509_STORE_CTX_get0_cert(xs);
	EVP_PKEY *pk = leaf ? X509_get0_pubkey(leaf) : NULL;
	uint8_t pub[VC_PUBKEY_LEN];
	size_t len = sizeof(pub), i;

	(void)arg;
	if (!s) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	cfg = &s->cfg;
	want = cfg->role == VC_ROLE_HUB ? VC_ROLE_CAMERA : VC_ROLE_HUB;
	if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(pk, pub, &len) != 1 || len != VC_PUBKEY_LEN) {
		X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
		return 0;
	}
	for (i = 0; i < cfg->n_peers; i++) {
		if (cfg->peers[i].role == want &&
		    CRYPTO_memcmp(cfg->peers[i].pub, pub, VC_PUBKEY_LEN) == 0) {
			if (cfg->peers[i].pending) {
				/* pinned, not confirmed yet: no session (unless also pinned active) */
				s->pending = true;
				continue;
			}
			s->matched = (int)i;
			s->pending = false;
			return 1;
		}
	}
	s->unpinned = true;
	vc_key_id_of(pub, s->unpinned_id);
	X509_STORE_CTX_set_error(xs, X509_V_ERR_CERT_REJECTED);
	return 0;
}


static enum vc_io fail(struct vc_session *s, enum vc_session_cause cause)
{
	s->state = ST_FAILED;
	if (!s->cause)
		s->cause = cause;
	return VC_IO_FAIL;
}

static enum vc_io fail_msg(struct vc_session *s, enum vc_session_cause cause, const char *what)
{
	vc_err("%s", what);
	return fail(s, cause);
}

/*
 * The TLS context of one identity in one role: its self-signed certificate
 * and settings, the same for every connection. Making it costs a signature
 * and OpenSSL's algorithm fetches, so it is made once per key and role and
 * shared: a camera's gate pays for a stranger's ClientHello with the
 * handshake alone. The few most recent are kept (each holds a reference to
 * its key, so a key's address cannot be reused while it is cached); ctx_lock
 * protects the table, as the hub makes sessions on several threads.
 */
#define CTX_CACHE 8

static struct {
	EVP_PKEY *key;
	int role;
	SSL_CTX *ctx;
	unsigned long used;
} ctx_cache[CTX_CACHE];
static unsigned long ctx_uses;
static pthread_mutex_t ctx_lock = PTHREAD_MUTEX_INITIALIZER;

static SSL_CTX *ctx_make(const struct vc_device_key *dk, enum vc_role role,
			 int (*check)(X509_STORE_CTX *, void *), void *arg)
{
	EVP_PKEY *key = vc_key_pkey(dk);
	/* a key in the key holder: its Ed25519 from the provider that forwards it */
	SSL_CTX *ctx = SSL_CTX_new_ex(NULL, vc_key_is_remote(dk) ? VC_HOLDER_PROPQ : NULL,
				      role == VC_ROLE_HUB ? TLS_client_method()
							  : TLS_server_method());
	X509 *cert;
	int ok;

	if (!ctx) {
		vc_err_ssl("TLS context");
		return NULL;
	}
	cert = device_cert(dk);
	ok = cert && SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) == 1 &&
	     SSL_CTX_use_certificate(ctx, cert) == 1 &&
	     SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
	     SSL_CTX_check_private_key(ctx) == 1 &&
	     SSL_CTX_set_num_tickets(ctx, 0) == 1;
	X509_free(cert);
	if (!ok) {
		SSL_CTX_free(ctx);
		vc_err_ssl("TLS context setup");
		return NULL;
	}
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	/* the session is found from the SSL (app data): the context is shared */
	SSL_CTX_set_cert_verify_callback(ctx, check, arg);
	return ctx;
}

SSL_CTX *vc_tls_ctx_new(const struct vc_device_key *dk, enum vc_role role,
		       int (*check)(X509_STORE_CTX *, void *), void *arg)
{
	return ctx_make(dk, role, check, arg);
}

/* A reference to the shared context of key in role (SSL_CTX_free it); NULL on failure. */
static SSL_CTX *ctx_get(const struct vc_device_key *dk, enum vc_role role)
{
	EVP_PKEY *key = vc_key_pkey(dk);
	SSL_CTX *ctx = NULL;
	unsigned int i, lru = 0;

	pthread_mutex_lock(&ctx_lock);
	for (i = 0; i < CTX_CACHE; i++) {
		if (ctx_cache[i].ctx && ctx_cache[i].key == key && ctx_cache[i].role == (int)role) {
			ctx = ctx_cache[i].ctx;
			ctx_cache[i].used = ++ctx_uses;
			break;
		}
		if (ctx_cache[i].used < ctx_cache[lru].used)
			lru = i;
	}
	if (!ctx && (ctx = ctx_make(dk, role, pinned_key_check, NULL))) {
		SSL_CTX_free(ctx_cache[lru].ctx);
		EVP_PKEY_free(ctx_cache[lru].key);
		EVP_PKEY_up_ref(key);
		ctx_cache[lru].key = key;
		ctx_cache[lru].role = (int)role;
		ctx_cache[lru].ctx = ctx;
		ctx_cache[lru].used = ++ctx_uses;
	}
	if (ctx)
		SSL_CTX_up_ref(ctx);
	pthread_mutex_unlock(&ctx_lock);
	return ctx;
}

/* Each TLS message as it is written or read: notes when our Finished goes out. */
static void on_tls_message(int write_p, int version, int content_type, const void *buf,
			   size_t len, SSL *ssl, void *arg)
{
	struct vc_session *s = SSL_get_app_data(ssl);

	(void)version;
	(void)arg;
	if (s && write_p && content_type == SSL3_RT_HANDSHAKE && len >= 1 &&
	    ((const uint8_t *)buf)[0] == SSL3_MT_FINISHED)
		s->sent_finished = true;
}

static int tls_setup(struct vc_session *s)
{
	s->ctx = ctx_get(s->cfg.key, s->cfg.role);
	if (!s->ctx)
		return -1;
	s->ssl = SSL_new(s->ctx);
	if (!s->ssl || SSL_set_fd(s->ssl, s->fd) != 1 || SSL_set_app_data(s->ssl, s) != 1)
		return vc_err_ssl("TLS connection");
	SSL_set_msg_callback(s->ssl, on_tls_message);
	return 0;
}

bool vc_session_past_first_flight(const struct vc_session *s)
{
	return s->sent_finished || (s->state != ST_TLS && s->state != ST_FAILED);
}

struct vc_session *vc_session_new(const struct vc_session_config *cfg, int fd)
{
	struct vc_session *s = calloc(1, sizeof(*s));
	int fl;

	if (!s) {
		vc_err("out of memory");
		return NULL;
	}
	s->fd = fd;
	s->cfg = *cfg;
	s->matched = -1;
	s->mask = cfg->ciphers ? cfg->ciphers
		: VC_CIPHER_MASK(VC_CIPHER_AES128GCM) | VC_CIPHER_MASK(VC_CIPHER_CHACHA20POLY1305);
	if (cfg->n_peers) {
		s->peers = malloc(cfg->n_peers * sizeof(*s->peers));
		if (!s->peers) {
			free(s);
			vc_err("out of memory");
			return NULL;
		}
		memcpy(s->peers, cfg->peers, cfg->n_peers * sizeof(*s->peers));
	}
	s->cfg.peers = s->peers;
	if (cfg->role != VC_ROLE_HUB && cfg->role != VC_ROLE_CAMERA)
		fail_msg(s, VC_SESSION_PROTOCOL, "session: invalid role");
	else if ((fl = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		fail_msg(s, VC_SESSION_TLS, "session: cannot make the socket non-blocking");
	else if (tls_setup(s) < 0)
		fail(s, VC_SESSION_TLS);
	return s;
}

/* What a failed SSL call means; want_read/want_write say "later". */
static enum vc_io ssl_result(struct vc_session *s, int ret, const char *what)
{
	int e = SSL_get_error(s->ssl, ret);

	if (e == SSL_ERROR_WANT_READ)
		return VC_IO_READ;
	if (e == SSL_ERROR_WANT_WRITE)
		return VC_IO_WRITE;
	if (e == SSL_ERROR_ZERO_RETURN ||
	    (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)) {
		ERR_clear_error();
		vc_err("%s: the peer closed the connection", what);
		return fail(s, VC_SESSION_CLOSED);
	}
	vc_err_ssl("%s", what);
	return fail(s, VC_SESSION_TLS);
}

enum vc_io vc_session_flush(struct vc_session *s)
{
	while (s->out_len && s->state != ST_FAILED) {
		size_t n = 0;
		int ret = SSL_write_ex(s->ssl, s->out, s->out_len, &n);

		if (ret <= 0)
			return ssl_result(s, ret, "control channel write");
		memmove(s->out, s->out + n, s->out_len - n);
		s->out_len -= n;
	}
	if (!s->out_len)
		s->answering = false;	/* the whole answer left: the hub may ask again */
	return s->state == ST_FAILED ? VC_IO_FAIL : VC_IO_DONE;
}

static int queue(struct vc_session *s, const uint8_t *p, size_t len)
{
	if (len > OUT_MAX - s->out_len)
		return 1;
	memcpy(s->out + s->out_len, p, len);
	s->out_len += len;
	return 0;
}

/* Read until @want bytes are buffered: VC_IO_DONE when they are. */
static enum vc_io fill(struct vc_session *s, size_t want, const char *what)
{
	while (s->in_len < want) {
		size_t n = 0;
		int ret = SSL_read_ex(s->ssl, s->in + s->in_len, want - s->in_len, &n);

		if (ret <= 0)
			return ssl_result(s, ret, what);
		s->in_len += n;
	}
	return VC_IO_DONE;
}

static int export_key(struct vc_session *s, const char *label, size_t label_len,
		      uint8_t *out, size_t len)
{
	if (SSL_export_keying_material(s->ssl, out, len, label, label_len,
				       s->p->session_id, VC_SESSION_ID_LEN, 1) != 1)
		return vc_err_ssl("TLS exporter");
	return 0;
}

static int export_media_key(struct vc_session *s, const char *label, size_t label_len,
			    struct vc_media_key *k)
{
	uint8_t out[VC_MEDIA_KEY_MAX + VC_MEDIA_IV_LEN];
	size_t klen = cipher_key_len(s->p->cipher);

	if (export_key(s, label, label_len, out, klen + VC_MEDIA_IV_LEN) < 0)
		return -1;
	memset(k, 0, sizeof(*k));
	k->cipher = s->p->cipher;
	memcpy(k->key, out, klen);
	memcpy(k->iv, out + klen, VC_MEDIA_IV_LEN);
	OPENSSL_cleanse(out, sizeof(out));
	return 0;
}

static void hello_encode(uint8_t out[HELLO_LEN], const char *magic, uint8_t cipher,
			 const uint8_t nonce[NONCE_LEN])
{
	memcpy(out, magic, 4);
	out[4] = HELLO_VERSION;
	out[5] = cipher;
	out[6] = out[7] = 0;
	memcpy(out + 8, nonce, NONCE_LEN);
}

static bool hello_valid(const uint8_t *h, const char *magic)
{
	return !memcmp(h, magic, 4) && h[4] == HELLO_VERSION && !h[6] && !h[7];
}

/* Both hellos known: session id and the keys. */
static enum vc_io establish(struct vc_session *s, const uint8_t *hub_nonce,
			    const uint8_t *camera_nonce)
{
	if (vc_session_id_derive(hub_nonce, camera_nonce, s->p->session_id) < 0 ||
	    export_media_key(s, label_c2h, sizeof(label_c2h) - 1, &s->p->camera_to_hub) < 0 ||
	    export_media_key(s, label_h2c, sizeof(label_h2c) - 1, &s->p->hub_to_camera) < 0 ||
	    export_key(s, label_t_c2h, sizeof(label_t_c2h) - 1, s->p->transport_camera_to_hub,
		       VC_TRANSPORT_KEY_LEN) < 0 ||
	    export_key(s, label_t_h2c, sizeof(label_t_h2c) - 1, s->p->transport_hub_to_camera,
		       VC_TRANSPORT_KEY_LEN) < 0)
		return fail(s, VC_SESSION_TLS);
	s->p->peer = s->peers[s->matched];
	return VC_IO_DONE;
}

static enum vc_io tls_done(struct vc_session *s)
{
	uint8_t hello[HELLO_LEN];

	if (s->matched < 0 || SSL_version(s->ssl) != TLS1_3_VERSION)
		return fail_msg(s, VC_SESSION_TLS, "TLS handshake: not TLS 1.3 with a pinned peer");
	s->p = OPENSSL_secure_zalloc(sizeof(*s->p));
	if (!s->p)
		return fail_msg(s, VC_SESSION_TLS, "session: out of secure memory");
	if (RAND_bytes(s->my_nonce, NONCE_LEN) != 1) {
		vc_err_ssl("random");
		return fail(s, VC_SESSION_TLS);
	}
	if (s->cfg.role == VC_ROLE_HUB) {
		/* challenge 0: every later frame is judged from this instant on */
		hello_encode(hello, "VCH1", (uint8_t)s->mask, s->my_nonce);
		s->p->hello_ns = clk_boot_ns();
		queue(s, hello, HELLO_LEN);
	}
	s->state = ST_HELLO_IN;
	return VC_IO_DONE;
}

static enum vc_io hello_in_hub(struct vc_session *s)
{
	const uint8_t *h = s->in;

	if (!hello_valid(h, "VCC1"))
		return fail_msg(s, VC_SESSION_PROTOCOL,
				"session hello: the camera sent an unsupported hello");
	if (h[5] > 7 || !(s->mask & VC_CIPHER_MASK(h[5])))
		return fail_msg(s, VC_SESSION_PROTOCOL,
				"session hello: the camera chose a cipher we did not offer");
	s->p->cipher = h[5];
	return establish(s, s->my_nonce, h + 8);
}

static enum vc_io hello_in_camera(struct vc_session *s)
{
	enum vc_cipher prefer = s->cfg.prefer ? s->cfg.prefer : VC_CIPHER_AES128GCM;
	enum vc_cipher other = prefer == VC_CIPHER_AES128GCM ? VC_CIPHER_CHACHA20POLY1305
							      : VC_CIPHER_AES128GCM;
	const uint8_t *h = s->in;
	uint8_t mine[HELLO_LEN];
	unsigned int both;

	if (!hello_valid(h, "VCH1"))
		return fail_msg(s, VC_SESSION_PROTOCOL,
				"session hello: the hub sent an unsupported hello");
	both = s->mask & h[5];
	if (both & VC_CIPHER_MASK(prefer))
		s->p->cipher = prefer;
	else if (both & VC_CIPHER_MASK(other))
		s->p->cipher = other;
	else
		return fail_msg(s, VC_SESSION_PROTOCOL,
				"session hello: no media cipher in common with the hub");
	s->p->hello_ns = (int64_t)clk_mono_ns();
	s->challenge = 0;
	s->challenge_ns = s->p->hello_ns;
	hello_encode(mine, "VCC1", (uint8_t)s->p->cipher, s->my_nonce);
	queue(s, mine, HELLO_LEN);
	return establish(s, h + 8, s->my_nonce);
}

static enum vc_io handshake_failed(struct vc_session *s, int ret)
{
	char hex[2 * VC_KEY_ID_LEN + 1];

	if (!s->unpinned)
		return ssl_result(s, ret, "TLS handshake failed");
	vc_hex(s->unpinned_id, VC_KEY_ID_LEN, hex);
	ERR_clear_error();
	if (s->pending) {
		vc_err("TLS handshake: peer key %s is pinned as a %s but not confirmed yet "
		       "(veracamctl confirm); refused", hex,
		       s->cfg.role == VC_ROLE_HUB ? "camera" : "hub");
		return fail(s, VC_SESSION_PENDING);
	}
	vc_err("TLS handshake: peer key %s is not paired as a %s; refused", hex,
	       s->cfg.role == VC_ROLE_HUB ? "camera" : "hub");
	return fail(s, VC_SESSION_NOT_PAIRED);
}

enum vc_io vc_session_advance(struct vc_session *s)
{
	enum vc_io r;
	int ret;

	switch (s->state) {
	case ST_TLS:
		ret = s->cfg.role == VC_ROLE_HUB ? SSL_connect(s->ssl) : SSL_accept(s->ssl);
		if (ret != 1)
			return handshake_failed(s, ret);
		if (tls_done(s) == VC_IO_FAIL)
			return VC_IO_FAIL;
		/* fall through */
	case ST_HELLO_IN:
		r = vc_session_flush(s);
		if (r == VC_IO_FAIL)
			return r;
		r = fill(s, HELLO_LEN, "session hello");
		if (r != VC_IO_DONE)
			return r;
		r = s->cfg.role == VC_ROLE_HUB ? hello_in_hub(s) : hello_in_camera(s);
		if (r != VC_IO_DONE)
			return r;
		s->in_len = 0;
		s->state = ST_HELLO_OUT;
		/* fall through */
	case ST_HELLO_OUT:
		r = vc_session_flush(s);
		if (r != VC_IO_DONE)
			return r;
		s->state = ST_UP;
		/* fall through */
	case ST_UP:
		return VC_IO_DONE;
	case ST_FAILED:
		break;
	}
	return VC_IO_FAIL;
}

int vc_session_run(struct vc_session *s, int64_t deadline_ns)
{
	for (;;) {
		int64_t now = (int64_t)clk_mono_ns();
		enum vc_io r = vc_session_advance(s);
		struct pollfd pfd = { .fd = s->fd };
		int64_t left_ms;

		if (r == VC_IO_DONE)
			return 0;
		if (r == VC_IO_FAIL)
			return -1;
		left_ms = (deadline_ns - now + 999999) / 1000000;
		if (left_ms <= 0) {
			vc_err("session setup: no answer within the deadline");
			fail(s, VC_SESSION_TIMEOUT);
			return -1;
		}
		pfd.events = r == VC_IO_READ ? POLLIN : POLLOUT;
		if (poll(&pfd, 1, left_ms > 60000 ? 60000 : (int)left_ms) < 0 && errno != EINTR) {
			vc_err("session setup: poll: %s", strerror(errno));
			fail(s, VC_SESSION_TLS);
			return -1;
		}
	}
}

enum vc_session_cause vc_session_cause(const struct vc_session *s)
{
	return s->cause;
}

const struct vc_session_params *vc_session_params(const struct vc_session *s)
{
	static const struct vc_session_params none;

	return s->p ? s->p : &none;
}

/* The event-fetch rules for a message we send (§5.7): 0, or -1 (not sent). */
static int event_send_check(struct vc_session *s, enum vc_ctl_type type, const void *body,
			    size_t len)
{
	bool camera = s->cfg.role == VC_ROLE_CAMERA;

	switch (type) {
	case VC_CTL_EVENTS_LIST:
	case VC_CTL_EVENT_GET:
		if (camera || s->req_type)
			return vc_err("control channel: an event request %s",
				      camera ? "from a camera" : "before the last one's answer");
		if (type == VC_CTL_EVENTS_LIST ? vc_evx_list_parse(body, len, &s->req_from) :
		    vc_evx_get_parse(body, len, &s->req_get))
			return -1;
		s->req_type = (uint8_t)type;
		return 0;
	case VC_CTL_EVENTS:
	case VC_CTL_EVENT_CHUNK:
	case VC_CTL_EVENT_ERROR:
		if (!camera || !s->asked)
			return vc_err("control channel: an event answer without a request");
		return 0;
	default:
		return 0;
	}
}

static int send_msg(struct vc_session *s, enum vc_ctl_type type, const void *body, size_t len,
		    bool checked)
{
	uint8_t hdr[CTL_LONG_HDR];
	size_t hl = type & VC_CTL_LONG ? CTL_LONG_HDR : CTL_HDR;

	if (s->state != ST_UP)
		return vc_err("control channel: session not established");
	if (len > (type & VC_CTL_LONG ? VC_CTL_LONG_MAX : VC_CTL_BODY_MAX) || type > 0xff)
		return vc_err("control channel: message too long");
	if (hl + len > OUT_MAX - s->out_len)
		return 1;
	if (checked && event_send_check(s, type, body, len) < 0)
		return -1;
	hdr[0] = (uint8_t)type;
	if (hl == CTL_LONG_HDR) {
		hdr[1] = (uint8_t)(len >> 8);
		hdr[2] = (uint8_t)len;
	} else {
		hdr[1] = (uint8_t)len;
	}
	queue(s, hdr, hl);
	queue(s, body, len);
	if (checked && (type == VC_CTL_EVENTS || type == VC_CTL_EVENT_CHUNK ||
			type == VC_CTL_EVENT_ERROR)) {
		s->asked = false;
		s->answering = true;
	}
	return vc_session_flush(s) == VC_IO_FAIL ? -1 : 0;
}

int vc_session_send(struct vc_session *s, enum vc_ctl_type type, const void *body, size_t len)
{
	return send_msg(s, type, body, len, true);
}

int vc_session_send_unchecked(struct vc_session *s, unsigned int type, const void *body,
			      size_t len)
{
	return send_msg(s, (enum vc_ctl_type)type, body, len, false);
}

bool vc_session_event_idle(const struct vc_session *s)
{
	return !s->req_type;
}

int vc_session_send_challenge(struct vc_session *s, uint64_t number)
{
	uint8_t body[8];

	vc_put_be64(body, number);
	return vc_session_send(s, VC_CTL_CHALLENGE, body, sizeof(body));
}

static int give(struct vc_ctl *m, enum vc_ctl_type type, const uint8_t *b, size_t len)
{
	m->type = type;
	m->len = len;
	memcpy(m->body, b, len);
	return 1;
}

/*
 * An event-fetch message (§5.7) read by this side: 1 (given to the
 * caller), or -1 (the session failed: malformed, unasked, too early).
 */
static int take_event(struct vc_session *s, struct vc_ctl *m, enum vc_ctl_type type,
		      const uint8_t *b, size_t len)
{
	bool camera = s->cfg.role == VC_ROLE_CAMERA;
	struct vc_evx_entry e[VC_EVX_LIST_MAX];
	struct vc_evx_chunk c;
	struct vc_evx_get g;
	enum vc_evx_error code;
	uint64_t from;
	size_t n;
	bool more;
	int bad = -1;

	if (camera && (type == VC_CTL_EVENTS_LIST || type == VC_CTL_EVENT_GET)) {
		if (s->asked || s->answering) {
			vc_err("control channel: an event request before the answer to the last "
			       "one was read");
		} else {
			bad = type == VC_CTL_EVENTS_LIST ? vc_evx_list_parse(b, len, &from)
							 : vc_evx_get_parse(b, len, &g);
			s->asked = !bad;
		}
	} else if (!camera && type == VC_CTL_EVENTS && s->req_type == VC_CTL_EVENTS_LIST) {
		bad = vc_evx_listing_parse(b, len, s->req_from, e, &n, &more);
	} else if (!camera && type == VC_CTL_EVENT_CHUNK && s->req_type == VC_CTL_EVENT_GET) {
		bad = vc_evx_chunk_parse(b, len, &c);
		if (!bad && !vc_evx_chunk_answers(&c, &s->req_get))
			bad = vc_err("event chunk: not the bytes asked for");
	} else if (!camera && type == VC_CTL_EVENT_ERROR && s->req_type) {
		bad = vc_evx_error_parse(b, len, &code);
	} else {
		vc_err("control channel: an unasked event message (type %u)", type);
	}
	if (bad) {
		fail(s, VC_SESSION_PROTOCOL);
		return -1;
	}
	if (!camera)
		s->req_type = 0;
	return give(m, type, b, len);
}

/* One whole message in s->in: check it against the protocol and take it. */
static int take_message(struct vc_session *s, struct vc_ctl *m)
{
	enum vc_ctl_type type = s->in[0];
	bool lng = type & VC_CTL_LONG;
	size_t len = lng ? (size_t)s->in[1] << 8 | s->in[2] : s->in[1];
	bool camera = s->cfg.role == VC_ROLE_CAMERA;

	if (camera && type == VC_CTL_CHALLENGE && len == 8) {
		uint64_t n = vc_get_be64(s->in + CTL_HDR);

		if (n <= s->challenge) {
			fail_msg(s, VC_SESSION_PROTOCOL, "control channel: challenge numbers must rise");
			return -1;
		}
		s->challenge = n;
		s->challenge_ns = (int64_t)clk_mono_ns();
		return 0;
	}
	if (camera && type == VC_CTL_ENC_KEY && len == VC_CTL_ENC_KEY_LEN) {
		const uint8_t *b = s->in + CTL_HDR;

		if (s->enc_key_seen) {
			fail_msg(s, VC_SESSION_PROTOCOL,
				 "control channel: a second encryption key in one session");
			return -1;
		}
		/* identity is the key that proved itself in this handshake, never the address */
		if (!vc_enc_binding_verify(s->p->peer.pub, b, b + VC_ENC_PUBKEY_LEN)) {
			fail_msg(s, VC_SESSION_PROTOCOL, "control channel: the hub's encryption key "
				 "is not signed by its pinned device key");
			return -1;
		}
		s->enc_key_seen = true;
		m->type = type;
		m->len = len;
		memcpy(m->body, b, len);
		return 1;
	}
	if (type == VC_CTL_EVENTS_LIST || type == VC_CTL_EVENT_GET || type == VC_CTL_EVENTS ||
	    type == VC_CTL_EVENT_CHUNK || type == VC_CTL_EVENT_ERROR)
		return take_event(s, m, type, s->in + (lng ? CTL_LONG_HDR : CTL_HDR), len);
	if (!camera && ((type == VC_CTL_OFFER && len == 32) ||
			(type == VC_CTL_REFUSED && len == 1))) {
		m->type = type;
		m->len = len;
		memcpy(m->body, s->in + CTL_HDR, len);
		return 1;
	}
	vc_err("control channel: unexpected message type %u, length %zu", type, len);
	fail(s, VC_SESSION_PROTOCOL);
	return -1;
}

int vc_session_recv(struct vc_session *s, struct vc_ctl *m)
{
	for (unsigned int i = 0; i < READS_PER_CALL; i++) {
		enum vc_io r;
		int got;

		if (s->state != ST_UP)
			return s->state == ST_FAILED ? -1 : 0;
		r = fill(s, CTL_HDR, "control channel");
		if (r == VC_IO_DONE && (s->in[0] & VC_CTL_LONG)) {
			r = fill(s, CTL_LONG_HDR, "control channel");
			if (r == VC_IO_DONE &&
			    ((size_t)s->in[1] << 8 | s->in[2]) > VC_CTL_LONG_MAX) {
				fail_msg(s, VC_SESSION_PROTOCOL,
					 "control channel: a long message over its limit");
				return -1;
			}
			if (r == VC_IO_DONE)
				r = fill(s, CTL_LONG_HDR + ((size_t)s->in[1] << 8 | s->in[2]),
					 "control channel");
		} else if (r == VC_IO_DONE) {
			r = fill(s, CTL_HDR + s->in[1], "control channel");
		}
		if (r == VC_IO_FAIL)
			return -1;
		if (r != VC_IO_DONE)
			return 0;
		got = take_message(s, m);
		s->in_len = 0;
		if (got)
			return got;
	}
	return 0;
}

void vc_session_challenge(const struct vc_session *s, uint64_t *number, int64_t *read_ns)
{
	*number = s->challenge;
	*read_ns = s->challenge_ns;
}

void vc_session_free(struct vc_session *s)
{
	if (!s)
		return;
	if (s->ssl) {
		if (s->state == ST_UP)
			SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	SSL_CTX_free(s->ctx);
	OPENSSL_secure_clear_free(s->p, sizeof(*s->p));
	OPENSSL_cleanse(s->in, sizeof(s->in));
	free(s->peers);
	free(s);
	ERR_clear_error();
}
