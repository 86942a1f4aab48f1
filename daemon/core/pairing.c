// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - pairing records, pairing codes and the short
 * authentication string.
 *
 * A record is exactly five lines (see docs/PROTOCOL.md, "Pairing record"):
 *   veracam-peer 1
 *   name NAME
 *   role camera|hub
 *   key veracam1:ed25519:<64 hex>
 *   created <Unix seconds>
 * or, for a pin not confirmed yet, "veracam-peer 2", the same four lines
 * and "state pending". A version a reader does not know is refused.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <veracam/pairing.h>
#include "internal.h"

#define PEERS_DIR	"peers"

const char *vc_role_name(enum vc_role role)
{
	return role == VC_ROLE_CAMERA ? "camera" : role == VC_ROLE_HUB ? "hub" : "?";
}

int vc_role_parse(const char *s, enum vc_role *role)
{
	if (!strcmp(s, "camera"))
		*role = VC_ROLE_CAMERA;
	else if (!strcmp(s, "hub"))
		*role = VC_ROLE_HUB;
	else
		return vc_err("role must be camera or hub, not '%s'", s);
	return 0;
}

bool vc_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > VC_NAME_MAX || name[0] == '.' || name[0] == '-')
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

/*
 * Take one line starting with "<key> " from *p (bounded by end); the value
 * (without the newline) goes to val. Every line must end in '\n'.
 */
static int take_line(const char **p, const char *end, const char *key, char *val, size_t cap)
{
	size_t klen = strlen(key);
	const char *nl;
	size_t vlen;

	if ((size_t)(end - *p) < klen + 1 || memcmp(*p, key, klen) != 0 || (*p)[klen] != ' ')
		return vc_err("pairing record: expected '%s' line", key);
	*p += klen + 1;
	nl = memchr(*p, '\n', (size_t)(end - *p));
	if (!nl)
		return vc_err("pairing record: '%s' line not terminated", key);
	vlen = (size_t)(nl - *p);
	if (vlen == 0 || vlen >= cap || memchr(*p, '\0', vlen))
		return vc_err("pairing record: bad '%s' value", key);
	memcpy(val, *p, vlen);
	val[vlen] = '\0';
	*p = nl + 1;
	return 0;
}

static int parse_seconds(const char *s, int64_t *out)
{
	int64_t v = 0;
	size_t i, n = strlen(s);

	if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int vc_peer_parse(const char *text, size_t len, struct vc_peer *out)
{
	const char *p = text, *end = text + len;
	char val[VC_IDENTITY_LEN + 2];
	struct vc_peer peer;

	memset(&peer, 0, sizeof(peer));
	if (len > VC_PEER_RECORD_MAX)
		return vc_err("pairing record: too long");
	if (take_line(&p, end, "veracam-peer", val, sizeof(val)) < 0)
		return -1;
	if (strcmp(val, "1") != 0 && strcmp(val, "2") != 0)
		return vc_err("pairing record: unsupported version '%s'", val);
	peer.pending = val[0] == '2';
	if (take_line(&p, end, "name", val, sizeof(val)) < 0)
		return -1;
	if (!vc_name_valid(val))
		return vc_err("pairing record: invalid name");
	memcpy(peer.name, val, strlen(val) + 1);
	if (take_line(&p, end, "role", val, sizeof(val)) < 0 ||
	    vc_role_parse(val, &peer.role) < 0)
		return vc_err("pairing record: bad role");
	if (take_line(&p, end, "key", val, sizeof(val)) < 0)
		return -1;
	if (vc_identity_parse(val, peer.pub) < 0)
		return vc_err("pairing record: bad key");
	if (take_line(&p, end, "created", val, sizeof(val)) < 0)
		return -1;
	if (parse_seconds(val, &peer.created) < 0)
		return vc_err("pairing record: bad created time");
	if (peer.pending && (take_line(&p, end, "state", val, sizeof(val)) < 0 ||
			     strcmp(val, "pending") != 0))
		return vc_err("pairing record: version 2 needs 'state pending'");
	if (p != end)
		return vc_err("pairing record: trailing data");
	if (vc_key_id_of(peer.pub, peer.key_id) < 0)
		return -1;
	*out = peer;
	return 0;
}

int vc_peer_format(const struct vc_peer *p, char *out, size_t cap)
{
	char id[VC_IDENTITY_LEN + 1];
	int n;

	vc_identity_format(p->pub, id);
	n = snprintf(out, cap, "veracam-peer %d\nname %s\nrole %s\nkey %s\ncreated %lld\n%s",
		     p->pending ? 2 : 1, p->name, vc_role_name(p->role), id,
		     (long long)p->created, p->pending ? "state pending\n" : "");
	if (n < 0 || (size_t)n >= cap)
		return vc_err("pairing record: buffer too small");
	return n;
}

/*
 * DIR/peers, a real directory: a symlink there (DIR may be a service's,
 * writable by its user, while veracamctl runs as root) would have pins
 * written into, or files unlinked from, whatever directory it names.
 */
static int peers_dir(const char *dir, char *out, size_t cap, bool create)
{
	struct stat st;

	if ((size_t)snprintf(out, cap, "%s/%s", dir, PEERS_DIR) >= cap)
		return vc_err("%s: path too long", dir);
	if (create) {
		if (mkdir(out, 0700) == 0)
			return vc_give_to_dir_owner(dir, -1, out);
		if (errno != EEXIST)
			return vc_err("%s: %s", out, strerror(errno));
	}
	if (lstat(out, &st) == 0 && !S_ISDIR(st.st_mode))
		return vc_err("%s: not a directory (a symlink?); refusing to use it", out);
	return 0;
}

int vc_peer_load(const char *dir, const char *name, struct vc_peer *out)
{
	char pdir[4096], path[4200], text[VC_PEER_RECORD_MAX + 1];
	long n;

	if (!vc_name_valid(name))
		return vc_err("invalid peer name '%s'", name);
	if (peers_dir(dir, pdir, sizeof(pdir), false) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", pdir, name);
	n = vc_read_small_file(path, text, VC_PEER_RECORD_MAX, true);
	if (n < 0)
		return -1;
	if (vc_peer_parse(text, (size_t)n, out) < 0)
		return vc_err("%s: %s", path, vc_last_error());
	if (strcmp(out->name, name) != 0)
		return vc_err("%s: record names '%s'", path, out->name);
	return 0;
}

int vc_peer_trust(const char *dir, const struct vc_peer *p)
{
	char pdir[4096], text[VC_PEER_RECORD_MAX];
	struct vc_peer old;
	int n;

	if (!vc_name_valid(p->name))
		return vc_err("invalid peer name '%s' (letters, digits, '_', '.', '-'; up to %d)",
			      p->name, VC_NAME_MAX);
	if (p->role != VC_ROLE_CAMERA && p->role != VC_ROLE_HUB)
		return vc_err("invalid role");
	if (peers_dir(dir, pdir, sizeof(pdir), true) < 0)
		return -1;
	if (vc_peer_load(dir, p->name, &old) == 0) {
		/* the same pin again: no-op, or a confirmation of a pending one */
		if (CRYPTO_memcmp(old.pub, p->pub, VC_PUBKEY_LEN) == 0 && old.role == p->role)
			return old.pending && !p->pending ? vc_peer_confirm(dir, p->name) : 0;
		return vc_err("'%s' is already trusted with another key or role; untrust it first",
			      p->name);
	}
	n = vc_peer_format(p, text, sizeof(text));
	if (n < 0)
		return -1;
	return vc_write_file_atomic(pdir, p->name, text, (size_t)n, 0600, 1);
}

int vc_peer_confirm(const char *dir, const char *name)
{
	char pdir[4096], text[VC_PEER_RECORD_MAX];
	struct vc_peer p;
	int n;

	if (vc_peer_load(dir, name, &p) < 0)
		return -1;
	if (!p.pending)
		return 0;
	p.pending = false;
	if (peers_dir(dir, pdir, sizeof(pdir), false) < 0)
		return -1;
	n = vc_peer_format(&p, text, sizeof(text));
	if (n < 0)
		return -1;
	return vc_write_file_atomic(pdir, p.name, text, (size_t)n, 0600, 0);
}

int vc_peer_untrust(const char *dir, const char *name)
{
	char pdir[4096], path[4200];

	if (!vc_name_valid(name))
		return vc_err("invalid peer name '%s'", name);
	if (peers_dir(dir, pdir, sizeof(pdir), false) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", pdir, name);
	if (unlink(path) < 0)
		return vc_err("%s: %s", path, errno == ENOENT ? "no such peer" : strerror(errno));
	return vc_fsync_dir(pdir);
}

static int cmp_peer(const void *a, const void *b)
{
	return strcmp(((const struct vc_peer *)a)->name, ((const struct vc_peer *)b)->name);
}

/* Why the record file NAME cannot be used, or NULL if it can (*p is it). */
static const char *record_unusable(const char *dir, const char *name, struct vc_peer *p,
				   char *why, size_t cap)
{
	const char *e, *colon;

	if (!vc_name_valid(name))
		return "not a peer name (an editor's backup, a README?)";
	/* type, owner and mode are checked on the opened file (vc_read_small_file) */
	if (vc_peer_load(dir, name, p) < 0) {
		e = vc_last_error();
		colon = strstr(e, ": ");
		snprintf(why, cap, "%s", colon ? colon + 2 : e);
		return why;
	}
	return NULL;
}

int vc_peer_list_skipping(const char *dir, struct vc_peer **out, size_t *n_out,
			  void (*skip)(void *ctx, const char *name, const char *why), void *ctx)
{
	char pdir[4096], why[600];
	struct vc_peer *v = NULL, *nv;
	const char *bad;
	size_t n = 0;
	struct dirent *de;
	DIR *d;

	*out = NULL;
	*n_out = 0;
	if (peers_dir(dir, pdir, sizeof(pdir), false) < 0)
		return -1;
	d = opendir(pdir);
	if (!d) {
		if (errno == ENOENT)
			return 0;
		return vc_err("%s: %s", pdir, strerror(errno));
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;	/* ".", "..", temp files of a write in progress */
		nv = realloc(v, (n + 1) * sizeof(*v));
		if (!nv) {
			closedir(d);
			free(v);
			return vc_err("out of memory");
		}
		v = nv;
		bad = record_unusable(dir, de->d_name, &v[n], why, sizeof(why));
		if (!bad)
			n++;
		else if (skip)
			skip(ctx, de->d_name, bad);
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_peer);
	*out = v;
	*n_out = n;
	return 0;
}

struct first_skip {
	char msg[800];
	bool any;
};

static void note_first_skip(void *ctx, const char *name, const char *why)
{
	struct first_skip *f = ctx;

	if (!f->any)
		snprintf(f->msg, sizeof(f->msg), "peers/%s: %s", name, why);
	f->any = true;
}

int vc_peer_list(const char *dir, struct vc_peer **out, size_t *n_out)
{
	struct first_skip f = { .any = false };

	if (vc_peer_list_skipping(dir, out, n_out, note_first_skip, &f) < 0)
		return -1;
	if (!f.any)
		return 0;
	free(*out);
	*out = NULL;
	*n_out = 0;
	return vc_err("%s", f.msg);
}

int vc_pair_code_random(char code[VC_PAIR_CODE_DIGITS + 1])
{
	size_t i = 0;

	/* uniform digits by rejection sampling bytes >= 250 */
	while (i < VC_PAIR_CODE_DIGITS) {
		uint8_t b;

		if (RAND_bytes(&b, 1) != 1)
			return vc_err_ssl("random");
		if (b < 250)
			code[i++] = (char)('0' + b % 10);
	}
	code[i] = '\0';
	return 0;
}

int vc_pair_code_new(const char *dir, const struct vc_device_key *k, char *out)
{
	char code[VC_PAIR_CODE_DIGITS + 2];
	char idhex[2 * VC_KEY_ID_LEN + 1];
	size_t i = VC_PAIR_CODE_DIGITS;

	if (vc_pair_code_random(code) < 0)
		return -1;
	code[i++] = '\n';
	if (vc_write_file_atomic(dir, VC_PAIR_CODE_FILE, code, i, 0600, 0) < 0)
		return -1;
	code[VC_PAIR_CODE_DIGITS] = '\0';
	vc_hex(vc_key_id(k), VC_KEY_ID_LEN, idhex);
	memcpy(out, VC_PAIR_PREFIX, sizeof(VC_PAIR_PREFIX) - 1);
	memcpy(out + sizeof(VC_PAIR_PREFIX) - 1, idhex, 2 * VC_KEY_ID_LEN);
	out[sizeof(VC_PAIR_PREFIX) - 1 + 2 * VC_KEY_ID_LEN] = ':';
	memcpy(out + VC_PAIR_PAYLOAD_LEN - VC_PAIR_CODE_DIGITS, code, VC_PAIR_CODE_DIGITS + 1);
	OPENSSL_cleanse(code, sizeof(code));
	return 0;
}

static int code_valid(const char *s, size_t n)
{
	size_t i;

	if (n != VC_PAIR_CODE_DIGITS)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

int vc_pair_code_load(const char *dir, char code[VC_PAIR_CODE_DIGITS + 1])
{
	char path[4096], text[VC_PAIR_CODE_DIGITS + 1];
	long n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, VC_PAIR_CODE_FILE) >= sizeof(path))
		return vc_err("%s: path too long", dir);
	n = vc_read_small_file(path, text, sizeof(text), false);
	if (n < 0)
		return -1;
	if (n != VC_PAIR_CODE_DIGITS + 1 || text[VC_PAIR_CODE_DIGITS] != '\n' ||
	    !code_valid(text, VC_PAIR_CODE_DIGITS))
		return vc_err("%s: malformed pairing code file", path);
	memcpy(code, text, VC_PAIR_CODE_DIGITS);
	code[VC_PAIR_CODE_DIGITS] = '\0';
	return 0;
}

int vc_pair_payload_parse(const char *payload, uint8_t key_id[VC_KEY_ID_LEN],
			  char code[VC_PAIR_CODE_DIGITS + 1])
{
	size_t pre = sizeof(VC_PAIR_PREFIX) - 1;
	uint8_t id[VC_KEY_ID_LEN];

	if (strlen(payload) != VC_PAIR_PAYLOAD_LEN || strncmp(payload, VC_PAIR_PREFIX, pre) != 0 ||
	    payload[pre + 2 * VC_KEY_ID_LEN] != ':' ||
	    vc_unhex(payload + pre, 2 * VC_KEY_ID_LEN, id) < 0 ||
	    !code_valid(payload + pre + 2 * VC_KEY_ID_LEN + 1, VC_PAIR_CODE_DIGITS))
		return vc_err("not a pairing code (expected %s<32 hex>:<%d digits>)",
			      VC_PAIR_PREFIX, VC_PAIR_CODE_DIGITS);
	if (key_id)
		memcpy(key_id, id, VC_KEY_ID_LEN);
	memcpy(code, payload + pre + 2 * VC_KEY_ID_LEN + 1, VC_PAIR_CODE_DIGITS);
	code[VC_PAIR_CODE_DIGITS] = '\0';
	return 0;
}

int vc_sas(const uint8_t camera_pub[VC_PUBKEY_LEN], const uint8_t hub_pub[VC_PUBKEY_LEN],
	   const char *code, char out[VC_SAS_LEN + 1])
{
	static const char label[] = "veracam1 sas";
	uint8_t h[VC_HASH_LEN];
	EVP_MD_CTX *md;
	uint32_t v;
	int ok;

	if (!code_valid(code, strlen(code)))
		return vc_err("pairing code must be %d digits", VC_PAIR_CODE_DIGITS);
	md = EVP_MD_CTX_new();
	ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 &&
	     EVP_DigestUpdate(md, label, sizeof(label) - 1) == 1 &&
	     EVP_DigestUpdate(md, camera_pub, VC_PUBKEY_LEN) == 1 &&
	     EVP_DigestUpdate(md, hub_pub, VC_PUBKEY_LEN) == 1 &&
	     EVP_DigestUpdate(md, code, VC_PAIR_CODE_DIGITS) == 1 &&
	     EVP_DigestFinal_ex(md, h, NULL) == 1;
	EVP_MD_CTX_free(md);
	if (!ok)
		return vc_err_ssl("SHA-256");
	v = vc_get_be32(h) % 1000000u;
	snprintf(out, VC_SAS_LEN + 1, "%03u %03u", v / 1000, v % 1000);
	return 0;
}
