// SPDX-License-Identifier: GPL-2.0
/*
 * The camera's key holder (holder.h): the process that forked it never
 * holds the key (no mapping, no descriptor, not a byte of the seed in its
 * memory) yet signs records and completes TLS 1.3 as the device; requests
 * that are not well-formed records of this camera or TLS 1.3 server
 * CertificateVerify content are refused and counted; the holder runs
 * under seccomp and dies on a forbidden system call; when it is gone,
 * nothing is signed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <veracam/event.h>
#include <veracam/holder.h>
#include <veracam/keys.h>
#include <veracam/pairing.h>
#include <veracam/record.h>
#include <veracam/session.h>

#include "fixture.h"
#include "internal.h"	/* vc_key_pkey */

/*
 * The test must know the seed to look for it without ever holding it:
 * it keeps seed XOR mask and mask, and compares memory XOR mask.
 */
static uint8_t mask[32], masked[32];
static char dir[PATH_MAX];

/* Make DIR/device.key in a child process, which hands back the masked seed. */
static int make_key(void)
{
	int p[2];
	pid_t pid;
	int st;

	if (fx_tmpdir(dir, sizeof(dir)) < 0 || RAND_bytes(mask, sizeof(mask)) != 1 || pipe(p) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		struct vc_device_key *k;
		uint8_t seed[32];
		size_t len = sizeof(seed);

		close(p[0]);
		k = vc_keygen(dir) == 0 ? vc_key_load(dir) : NULL;
		if (!k || EVP_PKEY_get_raw_private_key(vc_key_pkey(k), seed, &len) != 1)
			_exit(1);
		for (int i = 0; i < 32; i++)
			seed[i] ^= mask[i];
		_exit(write(p[1], seed, 32) == 32 ? 0 : 1);
	}
	close(p[1]);
	st = read(p[0], masked, 32) == 32 ? 0 : -1;
	close(p[0]);
	waitpid(pid, NULL, 0);
	return st;
}

static bool is_seed_at(const uint8_t *p)
{
	for (int i = 0; i < 32; i++)
		if ((uint8_t)(p[i] ^ mask[i]) != masked[i])
			return false;
	return true;
}

/* Every readable mapping of this process, searched for the seed. */
static long seed_copies(void)
{
	static uint8_t buf[1 << 16];
	FILE *maps = fopen("/proc/self/maps", "r");
	int mem = open("/proc/self/mem", O_RDONLY);
	unsigned long lo, hi;
	char perms[8], line[512];
	long found = 0, scanned = 0;

	if (!maps || mem < 0)
		return -1;
	while (fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[0] != 'r')
			continue;
		/* a sanitizer's shadow (terabytes, never written here) is no heap */
		if (hi - lo > (1ul << 32))
			continue;
		for (unsigned long a = lo; a < hi; a += sizeof(buf) - 31) {
			size_t want = hi - a < sizeof(buf) ? hi - a : sizeof(buf);
			ssize_t n = pread(mem, buf, want, (off_t)a);

			if (n < 32)
				break;
			scanned += n;
			for (ssize_t i = 0; i + 32 <= n; i++)
				found += buf[i] == (uint8_t)(masked[0] ^ mask[0]) && is_seed_at(buf + i);
			if ((size_t)n < want)
				break;
		}
	}
	fclose(maps);
	close(mem);
	return scanned ? found : -1;
}

/* The scanner finds the seed where it is (a child that unmasks it). */
static void scanner_finds_the_seed(void)
{
	pid_t pid;
	int st;

	fx_require(make_key() == 0);
	pid = fork();
	if (pid == 0) {
		volatile uint8_t seed[32];

		for (int i = 0; i < 32; i++)
			seed[i] = masked[i] ^ mask[i];
		_exit(seed_copies() >= 1 && seed[0] == (masked[0] ^ mask[0]) ? 0 : 1);
	}
	fx_require(waitpid(pid, &st, 0) == pid);
	g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static bool fd_is_key(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char link[300], target[PATH_MAX];
	bool found = false;

	while (d && (e = readdir(d))) {
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			found |= strstr(target, VC_KEY_FILE) != NULL;
		}
	}
	if (d)
		closedir(d);
	return found;
}

static bool maps_key(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool found = false;

	while (f && fgets(line, sizeof(line), f))
		found |= strstr(line, VC_KEY_FILE) != NULL;
	if (f)
		fclose(f);
	return found;
}

static void status_line(pid_t pid, const char *field, char *out, size_t cap)
{
	char path[64], line[256];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			snprintf(out, cap, "%s", line + strlen(field));
	if (f)
		fclose(f);
}

/* A record of the key with id key_id, n sessions, encoded. */
static int record_of(const uint8_t *key_id, uint8_t n, uint8_t out[VC_RECORD_MAX_LEN])
{
	struct vc_record r;

	memset(&r, 0, sizeof(r));
	r.version = VC_RECORD_VERSION;
	r.flags = VC_RECORD_F_IDR;
	r.n_sessions = n;
	memcpy(r.key_id, key_id, VC_KEY_ID_LEN);
	r.seq = 7;
	for (uint8_t i = 0; i < n; i++)
		fx_bytes(40 + i, r.sessions[i].id, VC_SESSION_ID_LEN);
	return vc_record_encode(&r, out);
}

/* One raw request: the reply's status, and the holder's refusal count. */
static int raw(struct vc_device_key *k, uint8_t op, const uint8_t *body, size_t len,
	       uint8_t version, uint32_t *refused)
{
	uint8_t req[1024], reply[VC_HOLDER_REPLY_LEN + 8];
	int fd = vc_key_holder_fd(k);

	req[0] = 'V';
	req[1] = 'K';
	req[2] = version;
	req[3] = op;
	req[4] = (uint8_t)(len >> 8);
	req[5] = (uint8_t)len;
	req[6] = req[7] = 0;
	memcpy(req + 8, body, len);
	if (send(fd, req, 8 + len, 0) < 0 || recv(fd, reply, sizeof(reply), 0) != VC_HOLDER_REPLY_LEN)
		return -1;
	*refused = (uint32_t)reply[4] << 24 | reply[5] << 16 | reply[6] << 8 | reply[7];
	return reply[3];
}

static struct vc_device_key *remote;
static pid_t holder;

static void network_process_never_holds_the_key(void)
{
	uint8_t rec[VC_RECORD_MAX_LEN];
	char seccomp[256];
	int len;

	fx_require(dir[0]);
	remote = vc_holder_spawn(dir, &holder);
	fx_require(remote);
	g_assert_true(vc_key_is_remote(remote));
	/* it signs records as the device */
	len = record_of(vc_key_id(remote), 2, rec);
	fx_require(len > 0);
	fx_require(vc_record_sign(remote, rec, (size_t)len) == 0);
	g_assert_true(vc_record_verify(vc_key_public(remote), rec, (size_t)len));
	/* and nothing else */
	g_assert_cmpint(vc_ed25519_sign(remote, rec, 10, rec), <, 0);
	g_assert_false(maps_key());
	g_assert_false(fd_is_key());
	g_assert_cmpint(seed_copies(), ==, 0);
	status_line(holder, "Seccomp:", seccomp, sizeof(seccomp));
	g_assert_cmpint(strtol(seccomp, NULL, 10), ==, 2);
}

/*
 * Event records and manifests (PROTOCOL.md §15) are signed by the real,
 * sandboxed holder through the remote key, and verify under its public key.
 */
static uint8_t first_manifest_hash[VC_HASH_LEN];

/* An unsigned manifest of key k: event `ev`, number, after prev (NULL for none). */
static int manifest_of(const struct vc_device_key *k, uint8_t ev, uint64_t number,
		       const uint8_t *prev, uint8_t out[VC_MANIFEST_MAX_LEN])
{
	struct vc_manifest m;

	memset(&m, 0, sizeof(m));
	m.trigger = VC_TRIGGER_MOTION;
	m.n_recipients = 1;
	memcpy(m.key_id, vc_key_id(k), VC_KEY_ID_LEN);
	fx_bytes(ev, m.event_id, VC_EVENT_ID_LEN);
	m.number = number;
	m.n_frames = 1;
	if (prev)
		memcpy(m.prev_hash, prev, VC_HASH_LEN);
	return vc_manifest_encode(&m, out);
}

static void holder_signs_events(void)
{
	uint8_t man[VC_MANIFEST_MAX_LEN], rec[VC_EVREC_LEN];
	struct vc_event_record r;
	struct vc_manifest m, got;
	struct vc_clip_check chk;
	int len;

	fx_require(remote);
	memset(&r, 0, sizeof(r));
	memcpy(r.key_id, vc_key_id(remote), VC_KEY_ID_LEN);
	fx_bytes(9, r.event_id, VC_EVENT_ID_LEN);
	r.flags = VC_EVREC_F_IDR;
	vc_event_record_encode(&r, rec);
	fx_require(vc_event_record_sign(remote, rec) == 0);
	memset(&m, 0, sizeof(m));
	m.trigger = VC_TRIGGER_MANUAL;
	m.n_recipients = 1;
	memcpy(m.key_id, vc_key_id(remote), VC_KEY_ID_LEN);
	memcpy(m.event_id, r.event_id, VC_EVENT_ID_LEN);
	m.n_frames = 1;
	fx_require(vc_event_hash(rec, VC_EVREC_LEN, m.last_record_hash) == 0);
	len = vc_manifest_encode(&m, man);
	fx_require(len > 0);
	fx_require(vc_manifest_sign(remote, man, (size_t)len) == 0);
	g_assert_cmpint(vc_manifest_verify(man, (size_t)len, vc_key_public(remote), r.event_id,
					   NULL, &got), ==, VC_EV_OK);
	fx_require(vc_event_hash(man, (size_t)len, first_manifest_hash) == 0);
	vc_clip_check_init(&chk, &got, vc_key_public(remote));
	g_assert_cmpint(vc_clip_check_record(&chk, rec, VC_EVREC_LEN, NULL), ==, VC_EV_OK);
	g_assert_cmpint(vc_clip_check_end(&chk), ==, VC_EV_OK);
	/* another camera's manifest is refused by the holder, through the API too */
	m.key_id[0] ^= 1;
	len = vc_manifest_encode(&m, man);
	g_assert_cmpint(vc_manifest_sign(remote, man, (size_t)len), <, 0);
}

/*
 * The chain head outlives the holder: a holder started again on the same
 * key directory (the camera restarted, or its network process taken over
 * and the holder re-forked) still refuses a fork of the chain or an old
 * position; a torn write of the head's file leaves the previous head; a
 * file with both copies damaged, or readable by others, stops the holder.
 */
static void chain_head_survives_restarts(void)
{
	uint8_t man[VC_MANIFEST_MAX_LEN], h1[VC_HASH_LEN], slot[128];
	struct vc_event_head head;
	struct vc_device_key *k;
	char path[PATH_MAX + 32];
	pid_t pid;
	int len, fd;

	fx_require(dir[0] && first_manifest_hash[0] | first_manifest_hash[1]);
	snprintf(path, sizeof(path), "%s/event-chain", dir);
	k = vc_holder_spawn(dir, &pid);
	fx_require(k);
	fx_require(vc_holder_event_head(k, &head) == 0);
	g_assert_true(head.set && head.number == 0 &&
		      !memcmp(head.hash, first_manifest_hash, VC_HASH_LEN));
	/* a second event 0, and an event 1 after it: the chain is not forked */
	len = manifest_of(k, 70, 0, NULL, man);
	fx_require(len > 0);
	g_assert_cmpint(vc_manifest_sign(k, man, (size_t)len), <, 0);
	g_assert_nonnull(strstr(vc_last_error(), "chain head"));
	len = manifest_of(k, 71, 1, first_manifest_hash, man);
	fx_require(vc_manifest_sign(k, man, (size_t)len) == 0);
	fx_require(vc_event_hash(man, (size_t)len, h1) == 0);
	g_assert_cmpint(vc_key_holder_refused(k), ==, 1);
	/* killed at once after the reply: the head was on disk before it */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	vc_key_free(k);

	k = vc_holder_spawn(dir, &pid);
	fx_require(k);
	fx_require(vc_holder_event_head(k, &head) == 0);
	g_assert_true(head.set && head.number == 1 && !memcmp(head.hash, h1, VC_HASH_LEN));
	len = manifest_of(k, 72, 1, first_manifest_hash, man);		/* another event 1 */
	g_assert_cmpint(vc_manifest_sign(k, man, (size_t)len), <, 0);
	len = manifest_of(k, 73, 0, NULL, man);				/* the old position */
	g_assert_cmpint(vc_manifest_sign(k, man, (size_t)len), <, 0);
	g_assert_cmpint(vc_key_holder_refused(k), ==, 2);
	vc_key_free(k);
	waitpid(pid, NULL, 0);

	/* a write torn by a crash damages the older copy: the head stays */
	fd = open(path, O_RDWR);
	fx_require(fd >= 0);
	memset(slot, 0x5a, sizeof(slot));
	g_assert_cmpint(pwrite(fd, slot, 60, 128), ==, 60);		/* generation 1's slot, half written */
	k = vc_holder_spawn(dir, &pid);
	fx_require(k);
	fx_require(vc_holder_event_head(k, &head) == 0);
	g_assert_true(head.set && head.number == 1 && !memcmp(head.hash, h1, VC_HASH_LEN));
	vc_key_free(k);
	waitpid(pid, NULL, 0);
	/* both damaged: the holder does not start (nothing would stop a fork) */
	g_assert_cmpint(pwrite(fd, slot, 60, 0), ==, 60);
	close(fd);
	g_assert_null(vc_holder_spawn(dir, &pid));
	g_assert_nonnull(strstr(vc_last_error(), "damaged"));
	/* readable by others */
	fx_require(unlink(path) == 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	fx_require(fd >= 0);
	fchmod(fd, 0644);
	close(fd);
	g_assert_null(vc_holder_spawn(dir, &pid));
	g_assert_nonnull(strstr(vc_last_error(), "event-chain"));
	/* the very first write torn (the file never reached its size): no head yet */
	fx_require(unlink(path) == 0);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	fx_require(fd >= 0);
	g_assert_cmpint(pwrite(fd, slot, 60, 128), ==, 60);
	close(fd);
	k = vc_holder_spawn(dir, &pid);
	fx_require(k);
	fx_require(vc_holder_event_head(k, &head) == 0);
	g_assert_false(head.set);
	vc_key_free(k);
	waitpid(pid, NULL, 0);
	/* longer than two slots: not ours */
	fd = open(path, O_WRONLY);
	fx_require(fd >= 0);
	g_assert_cmpint(pwrite(fd, slot, 1, 256), ==, 1);
	close(fd);
	g_assert_null(vc_holder_spawn(dir, &pid));
	g_assert_nonnull(strstr(vc_last_error(), "not a veracam event chain file"));
	/* a new, empty file: the chain starts again at 0 (the operator's choice) */
	fx_require(unlink(path) == 0);
	k = vc_holder_spawn(dir, &pid);
	fx_require(k);
	fx_require(vc_holder_event_head(k, &head) == 0);
	g_assert_false(head.set);
	{
		struct stat sb;

		g_assert_true(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	}
	vc_key_free(k);
	waitpid(pid, NULL, 0);
}

struct tls_side {
	struct vc_session_config cfg;
	struct vc_peer peer;
	int fd;
	struct vc_session *s;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *tls_run(void *arg)
{
	struct tls_side *t = arg;

	t->s = vc_session_new(&t->cfg, t->fd);
	if (t->s && vc_session_run(t->s, mono_ns() + 5000000000LL) < 0) {
		g_test_message("%s: %s", t->cfg.role == VC_ROLE_HUB ? "hub" : "camera",
			       vc_last_error());
		vc_session_free(t->s);
		t->s = NULL;
		shutdown(t->fd, SHUT_RDWR);
	}
	return NULL;
}

/* TLS 1.3 with the hub pinning the device key: CertificateVerify by the holder. */
static void tls_through_the_holder(void)
{
	struct vc_device_key *hub_key = fx_key(2);
	struct tls_side cam = { 0 }, hub = { 0 };
	int sv[2];
	pthread_t t;

	fx_require(remote && hub_key);
	fx_require(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	cam.peer = fx_peer("hub", 2, VC_ROLE_HUB);
	cam.cfg = (struct vc_session_config){ .role = VC_ROLE_CAMERA, .key = remote,
					      .peers = &cam.peer, .n_peers = 1 };
	cam.fd = sv[0];
	memset(&hub.peer, 0, sizeof(hub.peer));
	snprintf(hub.peer.name, sizeof(hub.peer.name), "cam");
	hub.peer.role = VC_ROLE_CAMERA;
	memcpy(hub.peer.pub, vc_key_public(remote), VC_PUBKEY_LEN);
	memcpy(hub.peer.key_id, vc_key_id(remote), VC_KEY_ID_LEN);
	hub.cfg = (struct vc_session_config){ .role = VC_ROLE_HUB, .key = hub_key,
					      .peers = &hub.peer, .n_peers = 1 };
	hub.fd = sv[1];
	pthread_create(&t, NULL, tls_run, &cam);
	tls_run(&hub);
	pthread_join(t, NULL);
	g_assert_true(cam.s && hub.s);
	if (cam.s && hub.s)
		g_assert_cmpmem(vc_session_params(cam.s)->session_id, VC_SESSION_ID_LEN,
				vc_session_params(hub.s)->session_id, VC_SESSION_ID_LEN);
	vc_session_free(cam.s);
	vc_session_free(hub.s);
	close(sv[0]);
	close(sv[1]);
	vc_key_free(hub_key);
	g_assert_cmpint(seed_copies(), ==, 0);
}

/* Not a well-formed record of this camera, or not TLS 1.3 content: refused, counted. */
static void holder_is_not_an_oracle(void)
{
	struct vc_device_key *other = fx_key(3);
	uint8_t rec[VC_RECORD_MAX_LEN], big[600], tls[64 + 34 + 48];
	uint32_t before, n;
	int len;

	fx_require(remote && other);
	len = record_of(vc_key_id(remote), 1, rec);
	fx_require(raw(remote, VC_HOLDER_OP_RECORD, rec, (size_t)len, 1, &before) == VC_HOLDER_OK);

	len = record_of(vc_key_id(other), 1, rec);		/* another camera's key id */
	g_assert_cmpint(raw(remote, VC_HOLDER_OP_RECORD, rec, (size_t)len, 1, &n), ==,
			VC_HOLDER_REFUSED);
	g_assert_cmpint(n, ==, before + 1);
	g_assert_cmpint(vc_record_sign(remote, rec, (size_t)len), <, 0);	/* the same through the API */
	len = record_of(vc_key_id(remote), 2, rec);
	g_assert_cmpint(raw(remote, VC_HOLDER_OP_RECORD, rec, (size_t)len - 1, 1, &n), ==,
			VC_HOLDER_REFUSED);
	rec[0] = VC_RECORD_VERSION + 1;				/* record version */
	g_assert_cmpint(raw(remote, VC_HOLDER_OP_RECORD, rec, (size_t)len, 1, &n), ==,
			VC_HOLDER_REFUSED);
	rec[0] = VC_RECORD_VERSION;
	g_assert_cmpint(raw(remote, VC_HOLDER_OP_RECORD, rec, (size_t)len, 2, &n), ==,
			VC_HOLDER_REFUSED);
	memset(big, 0, sizeof(big));				/* oversized */
	memcpy(big, rec, (size_t)len);
	g_assert_cmpint(raw(remote, VC_HOLDER_OP_RECORD, big, sizeof(big), 1, &n), ==,
			VC_HOLDER_REFUSED);
	g_assert_cmpint(raw(remote, 9, rec, (size_t)len, 1, &n), ==, VC_HOLDER_REFUSED);	/* unknown op */
	/* TLS: a client context, or a message of any other shape */
	memset(tls, 0x20, 64);
	memcpy(tls + 64, "TLS 1.3, client CertificateVerify", 34);
	g_assert_cmpint(raw(remote, VC_HOLDER_OP_TLS13, tls, 64 + 34 + 32, 1, &n), ==,
			VC_HOLDER_REFUSED);
	memcpy(tls + 64, "TLS 1.3, server CertificateVerify", 34);
	g_assert_cmpint(raw(remote, VC_HOLDER_OP_TLS13, tls, 64 + 34 + 40, 1, &n), ==,
			VC_HOLDER_REFUSED);
	g_assert_cmpint(raw(remote, VC_HOLDER_OP_TLS13, rec, (size_t)len, 1, &n), ==,
			VC_HOLDER_REFUSED);
	g_assert_cmpint(n, ==, before + 10);
	g_assert_cmpint(raw(remote, VC_HOLDER_OP_TLS13, tls, 64 + 34 + 48, 1, &n), ==,
			VC_HOLDER_OK);
	g_assert_cmpint(n, ==, before + 10);
	vc_key_free(other);
}

/* The filter kills on anything outside its list; its list is enough to serve. */
static void sandbox_kills_forbidden_calls(void)
{
	int p[2], st;
	pid_t pid;
	char c = 0;

	fx_require(pipe(p) == 0);
	pid = fork();
	if (pid == 0) {
		if (vc_holder_sandbox() < 0)
			_exit(3);
		if (write(p[1], "x", 1) != 1)	/* allowed */
			_exit(4);
		socket(AF_INET, SOCK_STREAM, 0);	/* forbidden: never returns */
		_exit(0);
	}
	close(p[1]);
	g_assert_true(read(p[0], &c, 1) == 1 && c == 'x');
	close(p[0]);
	fx_require(waitpid(pid, &st, 0) == pid);
	g_assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGSYS);
	if (!WIFSIGNALED(st))
		g_test_message("child exited with %d", WEXITSTATUS(st));
}

/* The holder killed: no signature from then on, and the caller is told. */
static void holder_gone_stops_signing(void)
{
	uint8_t rec[VC_RECORD_MAX_LEN];
	int len;

	fx_require(remote);
	len = record_of(vc_key_id(remote), 1, rec);
	fx_require(vc_record_sign(remote, rec, (size_t)len) == 0);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	memset(rec + len - VC_SIG_LEN, 0, VC_SIG_LEN);
	g_assert_cmpint(vc_record_sign(remote, rec, (size_t)len), <, 0);
	g_assert_nonnull(strstr(vc_last_error(), "key holder"));
	for (int i = 0; i < VC_SIG_LEN; i++)
		g_assert_cmpint(rec[len - VC_SIG_LEN + i], ==, 0);
	vc_key_free(remote);
	remote = NULL;
}

/* A missing key: the holder's own reason reaches the caller. */
static void missing_key_is_reported(void)
{
	char empty[PATH_MAX];
	pid_t pid;

	fx_require(fx_tmpdir(empty, sizeof(empty)) == 0);
	g_assert_null(vc_holder_spawn(empty, &pid));
	g_assert_nonnull(strstr(vc_last_error(), VC_KEY_FILE));
	fx_rmtree(empty);
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	vc_secure_heap_init();
	g_test_add_func("/core/holder/scanner-finds-the-seed", scanner_finds_the_seed);
	g_test_add_func("/core/holder/network-process-never-holds-the-key",
			network_process_never_holds_the_key);
	g_test_add_func("/core/holder/tls-through-the-holder", tls_through_the_holder);
	g_test_add_func("/core/holder/holder-signs-events", holder_signs_events);
	g_test_add_func("/core/holder/holder-is-not-an-oracle", holder_is_not_an_oracle);
	g_test_add_func("/core/holder/sandbox-kills-forbidden-calls",
			sandbox_kills_forbidden_calls);
	g_test_add_func("/core/holder/holder-gone-stops-signing", holder_gone_stops_signing);
	g_test_add_func("/core/holder/chain-head-survives-restarts", chain_head_survives_restarts);
	g_test_add_func("/core/holder/missing-key-is-reported", missing_key_is_reported);
	rc = g_test_run();
	if (dir[0])
		fx_rmtree(dir);
	return rc;
}
