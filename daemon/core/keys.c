// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - device keys, stored as PKCS#8 PEM in
 * DIR/device.key with mode 0600, and every Ed25519 operation of the
 * library. Each key is held twice, both made from its one 32-byte seed:
 * an EVP_PKEY for TLS (the certificate and CertificateVerify) and
 * libsodium's secret key for frame records, whose Ed25519 signs in about
 * half and verifies in about 0.6 of the time OpenSSL 3.0's portable one
 * takes. Ed25519 is deterministic, so both give the same signature bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sodium.h>

#include <veracam/keys.h>
#include "internal.h"

#define KEY_FILE_MAX	4096

_Static_assert(VC_PUBKEY_LEN == crypto_sign_ed25519_PUBLICKEYBYTES, "public key size");
_Static_assert(VC_SIG_LEN == crypto_sign_ed25519_BYTES, "signature size");

_Static_assert(VC_KEY_SK_LEN == crypto_sign_ed25519_SECRETKEYBYTES, "secret key size");

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static bool sodium_ok;

static void sodium_start(void)
{
	sodium_ok = sodium_init() >= 0;
}

/* libsodium is initialised once per process, before its first use. */
int vc_sodium_ready(void)
{
	pthread_once(&sodium_once, sodium_start);
	return sodium_ok ? 0 : vc_err("libsodium: initialisation failed");
}

int vc_key_id_of(const uint8_t pub[VC_PUBKEY_LEN], uint8_t id[VC_KEY_ID_LEN])
{
	uint8_t h[VC_HASH_LEN];
	unsigned int n = 0;

	if (EVP_Digest(pub, VC_PUBKEY_LEN, h, &n, EVP_sha256(), NULL) != 1)
		return vc_err_ssl("SHA-256");
	memcpy(id, h, VC_KEY_ID_LEN);
	return 0;
}

/*
 * Both forms of the key from its seed; refused unless libsodium derives
 * the public key OpenSSL has.
 */
static struct vc_device_key *key_wrap(EVP_PKEY *pkey)
{
	uint8_t seed[crypto_sign_ed25519_SEEDBYTES], pub[VC_PUBKEY_LEN];
	size_t seed_len = sizeof(seed), len = VC_PUBKEY_LEN;
	struct vc_device_key *k = NULL;
	int ok;

	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519) {
		vc_err("device key is not an Ed25519 key");
		goto fail;
	}
	if (vc_sodium_ready() < 0)
		goto fail;
	k = calloc(1, sizeof(*k));
	/* the seed's only home: locked, between guard pages, wiped on free */
	if (k) {
		k->holder_fd = -1;
		k->sk = sodium_malloc(VC_KEY_SK_LEN);
	}
	if (!k || !k->sk) {
		vc_err("out of memory");
		goto fail;
	}
	ok = EVP_PKEY_get_raw_private_key(pkey, seed, &seed_len) == 1 &&
	     seed_len == sizeof(seed) &&
	     EVP_PKEY_get_raw_public_key(pkey, k->pub, &len) == 1 && len == VC_PUBKEY_LEN;
	ok = ok && crypto_sign_ed25519_seed_keypair(pub, k->sk, seed) == 0 &&
	     sodium_memcmp(pub, k->pub, VC_PUBKEY_LEN) == 0;
	sodium_memzero(seed, sizeof(seed));
	if (!ok || vc_key_id_of(k->pub, k->id) < 0) {
		vc_err_ssl("device key: raw key");
		goto fail;
	}
	k->pkey = pkey;
	return k;
fail:
	vc_key_free(k);
	EVP_PKEY_free(pkey);
	return NULL;
}

/*
 * mkdir -p -m 0700 DIR: missing parents are made as mkdir -p makes them
 * (0777 less the umask), DIR itself 0700. A first `keygen ~/.veracam/cam`
 * should not stop at a missing ~/.veracam.
 */
static int make_key_dir(const char *dir)
{
	char path[4096];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(path))
		return vc_err("%s: %s", dir, n ? "path too long" : "empty directory name");
	memcpy(path, dir, n + 1);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(path, 0777) < 0 && errno != EEXIST)
			return vc_err("%s: %s", path, strerror(errno));
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return vc_err("%s: %s", dir, strerror(errno));
	return 0;
}

int vc_keygen_pem(const char *dir, const char *name, const char *alg)
{
	EVP_PKEY *pkey = NULL;
	BIO *mem = NULL;
	char *pem;
	long len;
	int ret = -1;

	if (make_key_dir(dir) < 0)
		return -1;
	pkey = EVP_PKEY_Q_keygen(NULL, NULL, alg);
	if (!pkey)
		return vc_err_ssl("%s key generation", alg);
	mem = BIO_new(BIO_s_secmem());
	if (!mem || PEM_write_bio_PrivateKey(mem, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
		vc_err_ssl("encoding the private key");
		goto out;
	}
	len = BIO_get_mem_data(mem, &pem);
	ret = vc_write_file_atomic(dir, name, pem, (size_t)len, 0600, 1);
out:
	BIO_free(mem);
	EVP_PKEY_free(pkey);
	return ret;
}

int vc_keygen(const char *dir)
{
	return vc_keygen_pem(dir, VC_KEY_FILE, "ED25519");
}

EVP_PKEY *vc_load_pem(const char *dir, const char *name)
{
	char path[4096];
	struct stat st;
	EVP_PKEY *pkey;
	BIO *bio;
	char *buf;
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path)) {
		vc_err("%s: path too long", dir);
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		vc_err("%s: %s", path, errno == ELOOP ? "is a symlink; refused" : strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		vc_err("%s: not a regular file", path);
		return NULL;
	}
	if (st.st_mode & 077) {
		close(fd);
		vc_err("%s: mode %04o gives access to group or others; refused (chmod 600)",
		       path, (unsigned int)(st.st_mode & 07777));
		return NULL;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		close(fd);
		if (geteuid() == 0)
			vc_err("%s: owned by uid %u, not by root; refused (run veracamctl as that "
			       "user: sudo -u '#%u' veracamctl ...)", path, (unsigned int)st.st_uid,
			       (unsigned int)st.st_uid);
		else
			vc_err("%s: owned by uid %u, not by this user; refused", path,
			       (unsigned int)st.st_uid);
		return NULL;
	}
	if (st.st_size <= 0 || st.st_size > KEY_FILE_MAX) {
		close(fd);
		vc_err("%s: unexpected size %lld", path, (long long)st.st_size);
		return NULL;
	}
	buf = OPENSSL_secure_malloc(KEY_FILE_MAX);
	if (!buf) {
		close(fd);
		vc_err("out of memory");
		return NULL;
	}
	while (got < KEY_FILE_MAX && (n = read(fd, buf + got, KEY_FILE_MAX - got)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	bio = BIO_new_mem_buf(buf, (int)got);
	pkey = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	OPENSSL_secure_clear_free(buf, KEY_FILE_MAX);
	if (!pkey)
		vc_err_ssl("%s: not a PEM private key", path);
	return pkey;
}

struct vc_device_key *vc_key_load(const char *dir)
{
	EVP_PKEY *pkey = vc_load_pem(dir, VC_KEY_FILE);

	return pkey ? key_wrap(pkey) : NULL;
}

struct vc_device_key *vc_key_from_seed(const uint8_t seed[32])
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);

	if (!pkey) {
		vc_err_ssl("Ed25519 key from seed");
		return NULL;
	}
	return key_wrap(pkey);
}

void vc_key_free(struct vc_device_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	if (k->sk)
		sodium_free(k->sk);	/* zeroes it first */
	if (k->holder_fd >= 0) {
		close(k->holder_fd);
		pthread_mutex_destroy(&k->lock);
	}
	free(k);
}

EVP_PKEY *vc_key_pkey(const struct vc_device_key *k)
{
	return k->pkey;
}

const uint8_t *vc_key_public(const struct vc_device_key *k)
{
	return k->pub;
}

const uint8_t *vc_key_id(const struct vc_device_key *k)
{
	return k->id;
}

int vc_ed25519_sign(const struct vc_device_key *k, const uint8_t *msg, size_t len,
		    uint8_t sig[VC_SIG_LEN])
{
	if (!k->sk)
		return vc_err("Ed25519 signature: the key is in the key holder, which signs "
			      "only frame records and TLS handshakes");
	if (crypto_sign_ed25519_detached(sig, NULL, msg, len, k->sk) != 0)
		return vc_err("Ed25519 signature");
	return 0;
}

bool vc_ed25519_verify(const uint8_t pub[VC_PUBKEY_LEN], const uint8_t *msg, size_t len,
		       const uint8_t sig[VC_SIG_LEN])
{
	return vc_sodium_ready() == 0 &&
	       crypto_sign_ed25519_verify_detached(sig, msg, len, pub) == 0;
}

void vc_keyline_format(const char *prefix, const uint8_t key[32], char *out)
{
	size_t n = strlen(prefix);

	memcpy(out, prefix, n);
	vc_hex(key, 32, out + n);
}

int vc_keyline_parse(const char *line, const char *prefix, uint8_t key[32])
{
	const char *kind = strstr(prefix, "x25519") ? "encryption key" : "identity";
	size_t n = strlen(prefix);

	if (strlen(line) != n + 64 || strncmp(line, prefix, n) != 0)
		return vc_err("not a veracam %s (expected %s<64 hex digits>)", kind, prefix);
	if (vc_unhex(line + n, 64, key) < 0)
		return vc_err("%s: bad hex digits", kind);
	return 0;
}

void vc_identity_format(const uint8_t pub[VC_PUBKEY_LEN], char *out)
{
	vc_keyline_format(VC_IDENTITY_PREFIX, pub, out);
}

int vc_identity_parse(const char *line, uint8_t pub[VC_PUBKEY_LEN])
{
	return vc_keyline_parse(line, VC_IDENTITY_PREFIX, pub);
}
