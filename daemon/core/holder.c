// SPDX-License-Identifier: GPL-2.0
/*
 * veracam security core - the camera's key holder and the network
 * process's side of it (holder.h; request format: docs/PROTOCOL.md §14).
 *
 * Request, one SOCK_SEQPACKET message:
 *   0 "VK"  2 version (1)  3 op  4 body length (2, big-endian)  6 00 00
 *   8 body: PUBLIC empty | RECORD an encoded record | TLS13 the
 *     CertificateVerify content (64 x 0x20, the server context string,
 *     00, a 32- or 48-byte transcript hash) | EVENT_RECORD an encoded
 *     event frame record | MANIFEST an encoded event manifest (event.h)
 *     that follows the holder's chain head | EVENT_HEAD empty
 * Reply, always VC_HOLDER_REPLY_LEN bytes:
 *   0 "VK"  2 version  3 status  4 requests refused so far (4)
 *   8 signature (64), or the public key (32) and zeroes, or the chain head
 * Whatever does not match exactly is refused and counted.
 *
 * The chain head (the last manifest signed: its number, hash and event
 * id) is the holder's, kept in DIR/event-chain: two 128-byte slots, the
 * newer generation written in place of the older with pwrite + fdatasync
 * before the signature leaves; each slot carries its SHA-256, so a torn
 * write leaves the previous head readable (docs/PROTOCOL.md §14).
 *   slot: 0 "VCEH"  4 version (1)  5 flags (01 a head)  6 00 00
 *         8 generation (8)  16 key id (16)  32 event number (8)
 *         40 manifest hash (32)  72 event id (16)
 *         88 SHA-256 of bytes 0..88 (32)  120 zero (8)
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <sodium.h>

#include <veracam/event.h>
#include <veracam/holder.h>
#include "internal.h"

#define PROV_NAME	"veracam-holder"
#define PROV_PROPS	"provider=" PROV_NAME
#define PARAM_LINK	"veracam-holder-key"	/* our own: the struct vc_device_key */
#define STARTUP_MAX	256
#define HOLDER_FD	3
#define HEAD_FILE	"event-chain"
#define HEAD_SLOT_LEN	128
#define HEAD_SUM_AT	88
#define HEAD_F_SET	0x01

static const char tls_context[] = "TLS 1.3, server CertificateVerify";

/* ---- the holder's side -------------------------------------------------- */

static bool tls13_content_ok(const uint8_t *p, size_t len)
{
	size_t fixed = 64 + sizeof(tls_context);	/* the context with its 00 */
	size_t i;

	if (len != fixed + 32 && len != fixed + 48)
		return false;
	for (i = 0; i < 64; i++)
		if (p[i] != 0x20)
			return false;
	return !memcmp(p + 64, tls_context, sizeof(tls_context));
}

static enum vc_holder_status sign_record(const struct vc_device_key *k, const uint8_t *body,
					 size_t len, uint8_t sig[VC_SIG_LEN])
{
	uint8_t rec[VC_RECORD_MAX_LEN];
	struct vc_record r;

	if (vc_record_parse(body, len, &r) != VC_OK ||
	    CRYPTO_memcmp(r.key_id, k->id, VC_KEY_ID_LEN) != 0)
		return VC_HOLDER_REFUSED;
	memcpy(rec, body, len);
	if (vc_record_sign(k, rec, len) < 0)
		return VC_HOLDER_FAILED;
	memcpy(sig, rec + len - VC_SIG_LEN, VC_SIG_LEN);
	return VC_HOLDER_OK;
}

/* ---- the event chain head ---- */

void vc_holder_state_init(struct vc_holder_state *st)
{
	memset(st, 0, sizeof(*st));
	st->head_fd = -1;
}

static void head_encode(const struct vc_event_head *h, uint64_t gen,
			const uint8_t key_id[VC_KEY_ID_LEN], uint8_t slot[HEAD_SLOT_LEN])
{
	memset(slot, 0, HEAD_SLOT_LEN);
	memcpy(slot, "VCEH", 4);
	slot[4] = 1;
	slot[5] = h->set ? HEAD_F_SET : 0;
	vc_put_be64(slot + 8, gen);
	memcpy(slot + 16, key_id, VC_KEY_ID_LEN);
	vc_put_be64(slot + 32, h->number);
	memcpy(slot + 40, h->hash, VC_HASH_LEN);
	memcpy(slot + 72, h->event_id, VC_EVENT_ID_LEN);
	crypto_hash_sha256(slot + HEAD_SUM_AT, slot, HEAD_SUM_AT);
}

/* A slot whose sum verifies: its generation, key id and head. */
static bool head_decode(const uint8_t slot[HEAD_SLOT_LEN], uint64_t *gen,
			uint8_t key_id[VC_KEY_ID_LEN], struct vc_event_head *h)
{
	uint8_t sum[VC_HASH_LEN];

	crypto_hash_sha256(sum, slot, HEAD_SUM_AT);
	if (memcmp(slot, "VCEH", 4) || slot[4] != 1 || (slot[5] & ~HEAD_F_SET) || slot[6] ||
	    slot[7] || CRYPTO_memcmp(sum, slot + HEAD_SUM_AT, VC_HASH_LEN))
		return false;
	*gen = vc_get_be64(slot + 8);
	memcpy(key_id, slot + 16, VC_KEY_ID_LEN);
	memset(h, 0, sizeof(*h));
	h->set = slot[5] & HEAD_F_SET;
	h->number = vc_get_be64(slot + 32);
	memcpy(h->hash, slot + 40, VC_HASH_LEN);
	memcpy(h->event_id, slot + 72, VC_EVENT_ID_LEN);
	return true;
}

int vc_holder_head_open(struct vc_holder_state *st, const char *dir,
			const uint8_t key_id[VC_KEY_ID_LEN])
{
	uint8_t buf[2 * HEAD_SLOT_LEN], id[VC_KEY_ID_LEN];
	struct vc_event_head h[2];
	uint64_t gen[2];
	bool ok[2];
	char path[4096];
	struct stat sb;
	int fd, best = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, HEAD_FILE) >= sizeof(path))
		return vc_err("%s: path too long", dir);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return vc_err("%s: %s", path, errno == ELOOP ? "is a symlink; refused" :
			      strerror(errno));
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return vc_err("%s: not a regular file", path);
	}
	if ((sb.st_mode & 077) || (sb.st_uid != geteuid() && sb.st_uid != 0)) {
		close(fd);
		return vc_err("%s: mode %04o, uid %u: only its owner (this user or root) may have "
			      "access; refused", path, (unsigned int)(sb.st_mode & 07777),
			      (unsigned int)sb.st_uid);
	}
	if (sb.st_size == 0) {		/* new: no event signed yet with any key */
		if (vc_give_to_dir_owner(dir, fd, NULL) < 0) {
			close(fd);
			return -1;
		}
		st->head_fd = fd;
		return 0;
	}
	/*
	 * Under 256 bytes: the first write (generation 1, the second slot,
	 * which makes the file whole) did not complete, so its signature never
	 * left; a whole slot in it still counts.
	 */
	memset(buf, 0, sizeof(buf));
	if (sb.st_size > (off_t)sizeof(buf) ||
	    pread(fd, buf, sizeof(buf), 0) != (ssize_t)sb.st_size) {
		close(fd);
		return vc_err("%s: not a veracam event chain file (%lld bytes)", path,
			      (long long)sb.st_size);
	}
	for (int i = 0; i < 2; i++) {
		ok[i] = head_decode(buf + i * HEAD_SLOT_LEN, &gen[i], id, &h[i]) &&
			(gen[i] & 1) == (uint64_t)i;
		/* a head of another key (a new key made here) starts a new chain */
		if (ok[i] && CRYPTO_memcmp(id, key_id, VC_KEY_ID_LEN))
			memset(&h[i], 0, sizeof(h[i]));
		if (ok[i] && (best < 0 || gen[i] > gen[best]))
			best = i;
	}
	if (best < 0 && sb.st_size < (off_t)sizeof(buf)) {
		st->head_fd = fd;	/* nothing was ever released from it */
		return 0;
	}
	if (best < 0) {
		close(fd);
		return vc_err("%s: both copies of the event chain head are damaged; refusing to "
			      "sign events that could fork the chain (remove the file only to "
			      "start this camera's events again from number 0)", path);
	}
	st->head = h[best];
	st->head_gen = gen[best];
	st->head_fd = fd;
	return 0;
}

/*
 * The new head on disk (the older slot overwritten) before its signature
 * leaves: after a crash the holder knows every manifest it released.
 */
static int head_store(struct vc_holder_state *st, const uint8_t key_id[VC_KEY_ID_LEN],
		      const struct vc_event_head *h)
{
	uint8_t slot[HEAD_SLOT_LEN];
	uint64_t gen = st->head_gen + 1;
	ssize_t n;

	if (st->head_fd < 0)
		return 0;
	head_encode(h, gen, key_id, slot);
	do
		n = pwrite(st->head_fd, slot, sizeof(slot), (off_t)((gen & 1) * HEAD_SLOT_LEN));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(slot) || fdatasync(st->head_fd) < 0)
		return -1;
	st->head_gen = gen;
	return 0;
}

/* Event records: parsed as strictly as a hub does, this key's only. */
static enum vc_holder_status sign_event_record(const struct vc_device_key *k,
					       const uint8_t *body, size_t len,
					       uint8_t sig[VC_SIG_LEN])
{
	uint8_t buf[VC_EVREC_LEN];
	struct vc_event_record r;

	if (vc_event_record_parse(body, len, &r) != VC_EV_OK ||
	    CRYPTO_memcmp(r.key_id, k->id, VC_KEY_ID_LEN) != 0)
		return VC_HOLDER_REFUSED;
	memcpy(buf, body, len);
	if (vc_event_record_sign(k, buf) < 0)
		return VC_HOLDER_FAILED;
	memcpy(sig, buf + len - VC_SIG_LEN, VC_SIG_LEN);
	return VC_HOLDER_OK;
}

/*
 * Manifests: as strictly, this key's only, and only the next one of the
 * chain the holder keeps: number 0 on an empty head, else the head's
 * number + 1 linked to the head's hash under another event id. The same
 * manifest as the head's again gets its (deterministic) signature again,
 * for a network process that lost the reply; nothing else at or before
 * the head, nothing beyond it: a network process taken over can neither
 * fork the camera's chain nor sign an old position again.
 */
static enum vc_holder_status sign_manifest(const struct vc_device_key *k,
					   struct vc_holder_state *st, const uint8_t *body,
					   size_t len, uint8_t sig[VC_SIG_LEN])
{
	uint8_t buf[VC_MANIFEST_MAX_LEN];
	struct vc_event_head next;
	struct vc_manifest m;
	const struct vc_event_head *h = &st->head;

	if (vc_manifest_parse(body, len, &m) != VC_EV_OK ||
	    CRYPTO_memcmp(m.key_id, k->id, VC_KEY_ID_LEN) != 0)
		return VC_HOLDER_REFUSED;
	memcpy(buf, body, len);
	if (vc_manifest_sign(k, buf, len) < 0)
		return VC_HOLDER_FAILED;
	memset(&next, 0, sizeof(next));
	next.set = true;
	next.number = m.number;
	memcpy(next.event_id, m.event_id, VC_EVENT_ID_LEN);
	crypto_hash_sha256(next.hash, buf, len);
	if (h->set && !CRYPTO_memcmp(next.hash, h->hash, VC_HASH_LEN))
		goto signed_it;
	if (h->set ? m.number != h->number + 1 || h->number == UINT64_MAX ||
		     CRYPTO_memcmp(m.prev_hash, h->hash, VC_HASH_LEN) ||
		     !CRYPTO_memcmp(m.event_id, h->event_id, VC_EVENT_ID_LEN)
		   : m.number != 0)
		return VC_HOLDER_REFUSED_CHAIN;
	if (head_store(st, k->id, &next) < 0)
		return VC_HOLDER_FAILED;
	st->head = next;
signed_it:
	memcpy(sig, buf + len - VC_SIG_LEN, VC_SIG_LEN);
	return VC_HOLDER_OK;
}

static void head_payload(const struct vc_event_head *h, uint8_t out[VC_SIG_LEN])
{
	out[0] = h->set ? HEAD_F_SET : 0;
	vc_put_be64(out + 8, h->number);
	memcpy(out + 16, h->hash, VC_HASH_LEN);
	memcpy(out + 48, h->event_id, VC_EVENT_ID_LEN);
}

static enum vc_holder_status answer(const struct vc_device_key *k, struct vc_holder_state *st,
				    const uint8_t *req, size_t len, uint8_t *out)
{
	const uint8_t *body = req + VC_HOLDER_HDR_LEN;
	size_t blen;

	if (len < VC_HOLDER_HDR_LEN || len > VC_HOLDER_REQ_MAX || req[0] != 'V' ||
	    req[1] != 'K' || req[2] != VC_HOLDER_VERSION || req[6] || req[7])
		return VC_HOLDER_REFUSED;
	blen = (size_t)req[4] << 8 | req[5];
	if (blen != len - VC_HOLDER_HDR_LEN)
		return VC_HOLDER_REFUSED;
	switch (req[3]) {
	case VC_HOLDER_OP_PUBLIC:
		if (blen)
			return VC_HOLDER_REFUSED;
		memcpy(out, k->pub, VC_PUBKEY_LEN);
		return VC_HOLDER_OK;
	case VC_HOLDER_OP_RECORD:
		return sign_record(k, body, blen, out);
	case VC_HOLDER_OP_EVENT_RECORD:
		return sign_event_record(k, body, blen, out);
	case VC_HOLDER_OP_MANIFEST:
		return sign_manifest(k, st, body, blen, out);
	case VC_HOLDER_OP_EVENT_HEAD:
		if (blen)
			return VC_HOLDER_REFUSED;
		head_payload(&st->head, out);
		return VC_HOLDER_OK;
	case VC_HOLDER_OP_TLS13:
		if (!tls13_content_ok(body, blen))
			return VC_HOLDER_REFUSED;
		return vc_ed25519_sign(k, body, blen, out) < 0 ? VC_HOLDER_FAILED : VC_HOLDER_OK;
	}
	return VC_HOLDER_REFUSED;
}

enum vc_holder_status vc_holder_answer(const struct vc_device_key *k,
				       struct vc_holder_state *st, const uint8_t *req,
				       size_t len, uint8_t reply[VC_HOLDER_REPLY_LEN])
{
	enum vc_holder_status r;

	memset(reply, 0, VC_HOLDER_REPLY_LEN);
	r = answer(k, st, req, len, reply + VC_HOLDER_HDR_LEN);
	if (r != VC_HOLDER_OK) {
		memset(reply + VC_HOLDER_HDR_LEN, 0, VC_SIG_LEN);
		if (r != VC_HOLDER_FAILED)
			st->refused++;
	}
	reply[0] = 'V';
	reply[1] = 'K';
	reply[2] = VC_HOLDER_VERSION;
	reply[3] = (uint8_t)r;
	vc_put_be32(reply + 4, st->refused);
	return r;
}

#if defined(__x86_64__)
#define SECCOMP_ARCH	AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH	AUDIT_ARCH_AARCH64
#elif defined(__arm__)
#define SECCOMP_ARCH	AUDIT_ARCH_ARM
#elif defined(__i386__)
#define SECCOMP_ARCH	AUDIT_ARCH_I386
#endif

/* What the holder does after loading the key, and nothing more. */
static const int allowed_syscalls[] = {
	SYS_read, SYS_write, SYS_recvfrom, SYS_sendto, SYS_recvmsg, SYS_sendmsg,
	SYS_exit, SYS_exit_group, SYS_rt_sigreturn, SYS_restart_syscall,
	SYS_brk, SYS_mmap, SYS_munmap, SYS_mremap, SYS_madvise, SYS_futex,
	SYS_getrandom, SYS_clock_gettime,
	SYS_pwrite64, SYS_fdatasync,	/* the event chain head, on its open file */
#ifdef SYS_mmap2
	SYS_mmap2,
#endif
};

#define N_ALLOWED	(sizeof(allowed_syscalls) / sizeof(allowed_syscalls[0]))

int vc_holder_sandbox(void)
{
#ifdef SECCOMP_ARCH
	struct sock_filter f[5 + 2 * N_ALLOWED + 1];
	struct sock_fprog prog = { .filter = f };
	unsigned int n = 0, i;

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return vc_err("key holder: prctl: %s", strerror(errno));
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	/* the x32 numbers alias ours with a high bit: never allowed */
	f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 2 * N_ALLOWED, 0);
#endif
	for (i = 0; i < N_ALLOWED; i++) {
		f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (unsigned int)allowed_syscalls[i], 0, 1);
		f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	}
	f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	prog.len = (unsigned short)n;
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0)
		return vc_err("key holder: seccomp: %s", strerror(errno));
	return 0;
#else
	return vc_err("key holder: no seccomp filter for this architecture; refusing to run");
#endif
}

static void startup_send(int fd, enum vc_holder_status st, const void *payload, size_t len)
{
	uint8_t msg[VC_HOLDER_HDR_LEN + STARTUP_MAX] = { 'V', 'K', VC_HOLDER_VERSION, (uint8_t)st };

	if (len > STARTUP_MAX)
		len = STARTUP_MAX;
	memcpy(msg + VC_HOLDER_HDR_LEN, payload, len);
	send(fd, msg, VC_HOLDER_HDR_LEN + len, MSG_NOSIGNAL);
}

static void serve(int fd, const struct vc_device_key *k, struct vc_holder_state *st)
{
	uint8_t req[VC_HOLDER_REQ_MAX + 1], reply[VC_HOLDER_REPLY_LEN];

	for (;;) {
		/* MSG_TRUNC: the real length, so an oversized request is seen as one */
		ssize_t n = recv(fd, req, sizeof(req), MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		vc_holder_answer(k, st, req, (size_t)n < sizeof(req) ? (size_t)n : sizeof(req),
				 reply);
		if (send(fd, reply, sizeof(reply), MSG_NOSIGNAL) != (ssize_t)sizeof(reply))
			return;
	}
}

/* The forked child: never returns. */
static void holder_main(int fd, const char *keys_dir)
{
	struct vc_holder_state st;
	struct vc_device_key *k;

	prctl(PR_SET_NAME, "vc-keyholder", 0, 0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (fd != HOLDER_FD) {
		if (dup2(fd, HOLDER_FD) < 0)
			_exit(1);
		fd = HOLDER_FD;
	}
	/* nothing of the parent's: no listener, status socket, loop, journal */
	if (syscall(SYS_close_range, HOLDER_FD + 1, ~0U, 0) < 0) {
		for (int i = HOLDER_FD + 1; i < 1024; i++)
			close(i);
	}
	k = vc_key_load(keys_dir);
	if (!k) {
		const char *why = vc_last_error();

		startup_send(fd, VC_HOLDER_FAILED, why, strlen(why));
		_exit(1);
	}
	vc_holder_state_init(&st);
	if (vc_holder_head_open(&st, keys_dir, k->id) < 0 || vc_holder_sandbox() < 0) {
		const char *why = vc_last_error();

		startup_send(fd, VC_HOLDER_FAILED, why, strlen(why));
		_exit(1);
	}
	startup_send(fd, VC_HOLDER_OK, k->pub, VC_PUBKEY_LEN);
	serve(fd, k, &st);
	/* sodium_free needs mprotect, which the filter denies: wipe by hand */
	sodium_memzero(k->sk, VC_KEY_SK_LEN);
	_exit(0);
}

/* ---- the network process's side ----------------------------------------- */

/*
 * No signature from now on. The socket is shut down both ways: a late
 * reply can never be taken for the answer to a later request, the holder
 * reads the end and exits, and whoever watches the socket sees it hang up.
 */
static void holder_gone(struct vc_device_key *k, const char *why)
{
	k->holder_gone = true;
	shutdown(k->holder_fd, SHUT_RDWR);
	vc_err("key holder: %s; nothing is signed without it", why);
}

/* One request and its reply; the payload (64 bytes) to out. */
static int holder_call(struct vc_device_key *k, enum vc_holder_op op, const uint8_t *body,
		       size_t len, uint8_t out[VC_SIG_LEN])
{
	uint8_t req[VC_HOLDER_REQ_MAX], reply[VC_HOLDER_REPLY_LEN + 1];
	ssize_t n;
	int ret = -1;

	if (len > VC_HOLDER_BODY_MAX)
		return vc_err("key holder: request too long");
	req[0] = 'V';
	req[1] = 'K';
	req[2] = VC_HOLDER_VERSION;
	req[3] = (uint8_t)op;
	req[4] = (uint8_t)(len >> 8);
	req[5] = (uint8_t)len;
	req[6] = req[7] = 0;
	if (len)
		memcpy(req + VC_HOLDER_HDR_LEN, body, len);
	pthread_mutex_lock(&k->lock);
	if (k->holder_gone) {
		vc_err("key holder: gone; nothing is signed without it");
		goto out;
	}
	if (send(k->holder_fd, req, VC_HOLDER_HDR_LEN + len, MSG_NOSIGNAL) < 0) {
		holder_gone(k, strerror(errno));
		goto out;
	}
	/*
	 * As long as it takes: a holder starved of CPU is a slow signer, like
	 * a slow CPU; one that exits hangs up at once; one that is stopped
	 * stops the frames, and the service watchdog (fed while frames are
	 * signed) restarts the camera.
	 */
	do
		n = recv(k->holder_fd, reply, sizeof(reply), 0);
	while (n < 0 && errno == EINTR);
	if (n != VC_HOLDER_REPLY_LEN || reply[0] != 'V' || reply[1] != 'K' ||
	    reply[2] != VC_HOLDER_VERSION) {
		holder_gone(k, n == 0 ? "exited" : n < 0 ? strerror(errno) : "garbled answer");
		goto out;
	}
	__atomic_store_n(&k->refused, vc_get_be32(reply + 4), __ATOMIC_RELAXED);
	if (reply[3] == VC_HOLDER_OK) {
		memcpy(out, reply + VC_HOLDER_HDR_LEN, VC_SIG_LEN);
		ret = 0;
	} else if (reply[3] == VC_HOLDER_REFUSED) {
		vc_err("key holder: request refused (%u refused so far)", k->refused);
	} else if (reply[3] == VC_HOLDER_REFUSED_CHAIN) {
		vc_err("key holder: manifest refused: it does not follow the event chain head the "
		       "holder keeps (%u refused so far)", k->refused);
	} else {
		vc_err("key holder: signing failed");
	}
out:
	pthread_mutex_unlock(&k->lock);
	return ret;
}

int vc_holder_sign(struct vc_device_key *k, enum vc_holder_op op, uint8_t *msg, size_t len)
{
	return holder_call(k, op, msg, len, msg + len - VC_SIG_LEN);
}

int vc_holder_sign_record(struct vc_device_key *k, uint8_t *rec, size_t len)
{
	return vc_holder_sign(k, VC_HOLDER_OP_RECORD, rec, len);
}

int vc_holder_event_head(struct vc_device_key *k, struct vc_event_head *head)
{
	uint8_t p[VC_SIG_LEN];

	if (k->sk)
		return vc_err("key holder: a local key has no event chain head");
	if (holder_call(k, VC_HOLDER_OP_EVENT_HEAD, NULL, 0, p) < 0)
		return -1;
	memset(head, 0, sizeof(*head));
	head->set = p[0] & HEAD_F_SET;
	head->number = vc_get_be64(p + 8);
	memcpy(head->hash, p + 16, VC_HASH_LEN);
	memcpy(head->event_id, p + 48, VC_EVENT_ID_LEN);
	return 0;
}

int vc_key_holder_fd(const struct vc_device_key *k)
{
	return k->holder_fd;
}

uint32_t vc_key_holder_refused(const struct vc_device_key *k)
{
	return __atomic_load_n(&k->refused, __ATOMIC_RELAXED);
}

bool vc_key_is_remote(const struct vc_device_key *k)
{
	return !k->sk;
}

/* ---- an OpenSSL provider whose Ed25519 signature is the holder's ------- */

struct prov_key {
	uint8_t pub[VC_PUBKEY_LEN];
	bool has_pub;
	struct vc_device_key *link;	/* set: the holder signs with it */
};

struct prov_sig {
	struct prov_key *key;
};

static void *km_new(void *provctx)
{
	(void)provctx;
	return OPENSSL_zalloc(sizeof(struct prov_key));
}

static void km_free(void *kd)
{
	OPENSSL_free(kd);
}

static int km_has(const void *kd, int selection)
{
	const struct prov_key *pk = kd;

	if (!pk)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && !pk->link)
		return 0;
	if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && !pk->has_pub)
		return 0;
	return 1;
}

static int km_match(const void *a, const void *b, int selection)
{
	const struct prov_key *x = a, *y = b;

	(void)selection;
	return x->has_pub && y->has_pub && !CRYPTO_memcmp(x->pub, y->pub, VC_PUBKEY_LEN);
}

static int km_import(void *kd, int selection, const OSSL_PARAM params[])
{
	struct prov_key *pk = kd;
	const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PUB_KEY);
	void *buf = pk->pub;
	size_t len = 0;

	if (!(selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) || !p ||
	    !OSSL_PARAM_get_octet_string(p, &buf, sizeof(pk->pub), &len) || len != VC_PUBKEY_LEN)
		return 0;
	pk->has_pub = true;
	p = OSSL_PARAM_locate_const(params, PARAM_LINK);
	if (p && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY)) {
		buf = &pk->link;
		if (!OSSL_PARAM_get_octet_string(p, &buf, sizeof(pk->link), &len) ||
		    len != sizeof(pk->link))
			return 0;
	}
	return 1;
}

static const OSSL_PARAM km_types_list[] = {
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *km_types(int selection)
{
	(void)selection;
	return km_types_list;
}

/* Only the public key ever leaves: there is no private key here. */
static int km_export(void *kd, int selection, OSSL_CALLBACK *cb, void *arg)
{
	struct prov_key *pk = kd;
	OSSL_PARAM params[] = {
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pk->pub, VC_PUBKEY_LEN),
		OSSL_PARAM_END
	};

	if (!(selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) || !pk->has_pub)
		return 0;
	return cb(params, arg);
}

static int km_get_params(void *kd, OSSL_PARAM params[])
{
	struct prov_key *pk = kd;
	OSSL_PARAM *p;

	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_BITS)) && !OSSL_PARAM_set_int(p, 253))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_SECURITY_BITS)) &&
	    !OSSL_PARAM_set_int(p, 128))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MAX_SIZE)) &&
	    !OSSL_PARAM_set_int(p, VC_SIG_LEN))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MANDATORY_DIGEST)) &&
	    !OSSL_PARAM_set_utf8_string(p, ""))
		return 0;
	if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_PUB_KEY)) &&
	    !OSSL_PARAM_set_octet_string(p, pk->pub, VC_PUBKEY_LEN))
		return 0;
	return 1;
}

static const OSSL_PARAM km_gettable_list[] = {
	OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
	OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
	OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
	OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
	OSSL_PARAM_END
};

static const OSSL_PARAM *km_gettable(void *provctx)
{
	(void)provctx;
	return km_gettable_list;
}

static void *sig_new(void *provctx, const char *propq)
{
	(void)provctx;
	(void)propq;
	return OPENSSL_zalloc(sizeof(struct prov_sig));
}

static void sig_free(void *ctx)
{
	OPENSSL_free(ctx);
}

static void *sig_dup(void *ctx)
{
	struct prov_sig *d = OPENSSL_malloc(sizeof(*d));

	if (d)
		*d = *(struct prov_sig *)ctx;
	return d;
}

static int sig_init(void *ctx, const char *mdname, void *kd, const OSSL_PARAM params[])
{
	struct prov_sig *s = ctx;
	struct prov_key *pk = kd;

	(void)params;
	if ((mdname && mdname[0]) || !pk || !pk->link)
		return 0;
	s->key = pk;
	return 1;
}

static int sig_sign(void *ctx, unsigned char *sig, size_t *siglen, size_t sigsize,
		    const unsigned char *tbs, size_t tbslen)
{
	struct prov_sig *s = ctx;

	*siglen = VC_SIG_LEN;
	if (!sig)
		return 1;
	if (sigsize < VC_SIG_LEN || !s->key)
		return 0;
	return holder_call(s->key->link, VC_HOLDER_OP_TLS13, tbs, tbslen, sig) == 0;
}

/*
 * A TLS context that prefers this provider (the camera's, see session.c)
 * verifies the hub's CertificateVerify here too: libsodium's Ed25519.
 */
static int sig_verify_init(void *ctx, const char *mdname, void *kd, const OSSL_PARAM params[])
{
	struct prov_sig *s = ctx;
	struct prov_key *pk = kd;

	(void)params;
	if ((mdname && mdname[0]) || !pk || !pk->has_pub)
		return 0;
	s->key = pk;
	return 1;
}

static int sig_verify(void *ctx, const unsigned char *sig, size_t siglen,
		      const unsigned char *tbs, size_t tbslen)
{
	struct prov_sig *s = ctx;

	return s->key && siglen == VC_SIG_LEN && vc_ed25519_verify(s->key->pub, tbs, tbslen, sig);
}

static const OSSL_DISPATCH km_fns[] = {
	{ OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))km_new },
	{ OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))km_free },
	{ OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))km_has },
	{ OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void))km_match },
	{ OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))km_import },
	{ OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))km_types },
	{ OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void))km_export },
	{ OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void))km_types },
	{ OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))km_get_params },
	{ OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void))km_gettable },
	{ 0, NULL }
};

static const OSSL_DISPATCH sig_fns[] = {
	{ OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))sig_new },
	{ OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))sig_free },
	{ OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))sig_dup },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))sig_init },
	{ OSSL_FUNC_SIGNATURE_DIGEST_SIGN, (void (*)(void))sig_sign },
	{ OSSL_FUNC_SIGNATURE_DIGEST_VERIFY_INIT, (void (*)(void))sig_verify_init },
	{ OSSL_FUNC_SIGNATURE_DIGEST_VERIFY, (void (*)(void))sig_verify },
	{ 0, NULL }
};

static const OSSL_ALGORITHM prov_keymgmt[] = {
	{ "ED25519:1.3.101.112", PROV_PROPS, km_fns, "Ed25519 held by the key holder" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM prov_signature[] = {
	{ "ED25519:1.3.101.112", PROV_PROPS, sig_fns, "Ed25519 by the key holder" },
	{ NULL, NULL, NULL, NULL }
};

static const OSSL_ALGORITHM *prov_query(void *provctx, int op, int *no_cache)
{
	(void)provctx;
	*no_cache = 0;
	if (op == OSSL_OP_KEYMGMT)
		return prov_keymgmt;
	if (op == OSSL_OP_SIGNATURE)
		return prov_signature;
	return NULL;
}

static const OSSL_DISPATCH prov_fns[] = {
	{ OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))prov_query },
	{ 0, NULL }
};

static int prov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
		     const OSSL_DISPATCH **out, void **provctx)
{
	(void)handle;
	(void)in;
	*out = prov_fns;
	*provctx = NULL;
	return 1;
}

static pthread_once_t prov_once = PTHREAD_ONCE_INIT;
static OSSL_PROVIDER *prov_default, *prov_holder;	/* loaded once, until exit */
static bool prov_ok;

/*
 * At exit, before OpenSSL's own clean-up (atexit runs handlers in reverse,
 * and OpenSSL registered its handler when it was first used).
 */
static void prov_stop(void)
{
	if (prov_holder)
		OSSL_PROVIDER_unload(prov_holder);
	if (prov_default)
		OSSL_PROVIDER_unload(prov_default);
	prov_holder = prov_default = NULL;
}

static void prov_start(void)
{
	/* loading any provider by hand stops the default one from loading itself */
	prov_default = OSSL_PROVIDER_load(NULL, "default");
	if (prov_default && OSSL_PROVIDER_add_builtin(NULL, PROV_NAME, prov_init) == 1)
		prov_holder = OSSL_PROVIDER_load(NULL, PROV_NAME);
	prov_ok = prov_default && prov_holder;
	atexit(prov_stop);
}

/* The TLS key of a remote key: its public key, signed for by the holder. */
static EVP_PKEY *remote_pkey(struct vc_device_key *k)
{
	EVP_PKEY_CTX *pc;
	EVP_PKEY *pkey = NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, k->pub, VC_PUBKEY_LEN),
		OSSL_PARAM_octet_string(PARAM_LINK, &k, sizeof(k)),
		OSSL_PARAM_END
	};

	pthread_once(&prov_once, prov_start);
	if (!prov_ok) {
		vc_err_ssl("key holder: OpenSSL provider");
		return NULL;
	}
	pc = EVP_PKEY_CTX_new_from_name(NULL, "ED25519", PROV_PROPS);
	if (!pc || EVP_PKEY_fromdata_init(pc) != 1 ||
	    EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
		vc_err_ssl("key holder: TLS key");
	EVP_PKEY_CTX_free(pc);
	return pkey;
}

struct vc_device_key *vc_key_remote(int fd)
{
	struct vc_device_key *k = calloc(1, sizeof(*k));
	uint8_t pub[VC_SIG_LEN];

	if (!k) {
		close(fd);
		vc_err("out of memory");
		return NULL;
	}
	k->holder_fd = fd;
	pthread_mutex_init(&k->lock, NULL);
	if (holder_call(k, VC_HOLDER_OP_PUBLIC, NULL, 0, pub) < 0 ||
	    vc_key_id_of(pub, k->id) < 0) {
		vc_key_free(k);
		return NULL;
	}
	memcpy(k->pub, pub, VC_PUBKEY_LEN);
	k->pkey = remote_pkey(k);
	if (!k->pkey) {
		vc_key_free(k);
		return NULL;
	}
	return k;
}

/* The holder's first message: its public key, or why it could not start. */
static int startup_wait(int fd, pid_t pid)
{
	uint8_t msg[VC_HOLDER_HDR_LEN + STARTUP_MAX + 1];
	ssize_t n;
	int status;

	do
		n = recv(fd, msg, sizeof(msg) - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n >= VC_HOLDER_HDR_LEN && msg[0] == 'V' && msg[1] == 'K' && msg[3] == VC_HOLDER_OK)
		return 0;
	if (n > VC_HOLDER_HDR_LEN && msg[3] == VC_HOLDER_FAILED) {
		msg[n] = 0;
		vc_err("%s", (char *)msg + VC_HOLDER_HDR_LEN);
	} else {
		vc_err("key holder: exited before it started");
	}
	waitpid(pid, &status, 0);
	return -1;
}

struct vc_device_key *vc_holder_spawn(const char *keys_dir, pid_t *pid)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		vc_err("key holder: socketpair: %s", strerror(errno));
		return NULL;
	}
	*pid = fork();
	if (*pid < 0) {
		close(sv[0]);
		close(sv[1]);
		vc_err("key holder: fork: %s", strerror(errno));
		return NULL;
	}
	if (*pid == 0) {
		close(sv[0]);
		holder_main(sv[1], keys_dir);
	}
	close(sv[1]);
	if (startup_wait(sv[0], *pid) < 0) {
		close(sv[0]);
		return NULL;
	}
	return vc_key_remote(sv[0]);
}

int vc_secure_heap_init(void)
{
	if (CRYPTO_secure_malloc_initialized())
		return 0;
	/* 256 KiB: device keys, each session's secrets (~300 bytes); 16-byte blocks */
	if (!CRYPTO_secure_malloc_init(256 * 1024, 16))
		return vc_err("OpenSSL secure heap: cannot set it up");
	return 0;
}
