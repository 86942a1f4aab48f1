// SPDX-License-Identifier: GPL-2.0
/*
 * decode - H.264 access units in, newest decoded frame out (decode.h): the
 * hub's side of the decoder child. Nothing the child says is believed
 * without a check (hub_decproto_parse_child(), slot ownership, sequence); a
 * child that lies, dies or falls silent mid-message is killed and replaced,
 * which costs its own camera's cell until the next IDR and nothing else.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "decode.h"
#include "decproto.h"

#define SHM_SIZE	(DECPROTO_SLOTS * DECPROTO_SLOT_SIZE)
#define HELLO_WAIT_MS	30000	/* hub_decode_new()'s wait: a loaded host, a sanitizer build */
#define GREET_MAX_MS	120000	/* a child silent this long is replaced (a TCG guest: > 30 s) */
#define SOCK_BUF	(1 << 20)
#define DEAD_MAX	8	/* killed children not yet reaped */
#define RELEASE_BATCH	2	/* RELEASEs waiting that go without a unit */

extern char **environ;

/* One child's picture slots; pictures handed out keep it mapped. */
struct shm {
	unsigned int refs;
	const uint8_t *map;
	struct hub_decode *owner;	/* NULL once its child is gone */
};

struct hub_decode {
	bool jpeg;		/* the child's JPEG mode */
	int epfd;
	int sock;		/* -1: no child */
	pid_t pid;
	pid_t dead[DEAD_MAX];	/* killed, reaped when they are gone */
	unsigned int ndead;
	struct shm *shm;
	bool ready;		/* its HELLO came */
	bool greeted;		/* some child of this decoder greeted, ever */
	bool refused;		/* a child sent FAIL before any greeted (hub_decode_refused_start) */
	int64_t spawned_ms;	/* CLOCK_MONOTONIC ms when the running child was started */
	bool hub_has[DECPROTO_SLOTS];
	/*
	 * Slots the hub is done with whose RELEASE is not sent yet: they go
	 * in one batch with the next message to the child (an AU, a FLUSH),
	 * so a frame wakes the child once, not twice; or at once when
	 * RELEASE_BATCH wait (the hub sends no unit while the child is
	 * behind or an IDR is awaited, and a child catching up on the units
	 * it holds needs free slots for their pictures).
	 */
	uint32_t unsent[DECPROTO_SLOTS];
	unsigned int nunsent;
	bool pending;		/* newest picture, not yet taken */
	struct hub_decproto_picture pic;
	char decoder[DECPROTO_NAME_LEN + 1];
	char why[DECPROTO_FAIL_MAX + 1];	/* why the last child failed (its FAIL, a signal) */
	int64_t behind_ms;		/* since when the child takes nothing (0: it does) */
	bool wait_idr;
	struct hub_decode_stats st;
	uint64_t last_sent, last_pic;	/* sequence numbers (PTS) */
	uint64_t flushed;		/* pictures of units before it: discarded */
	uint64_t done_idx;		/* ring index of the last AU with a picture */
	struct {
		uint64_t pts, capture_ns, show_until_ns;
	} ring[DECODE_RING];
	uint64_t ring_next;
};

struct held {
	struct shm *shm;
	uint32_t slot;
};

static void shm_unref(struct shm *s)
{
	if (s && !--s->refs) {
		munmap((void *)s->map, SHM_SIZE);
		free(s);
	}
}

static int send_batch(struct hub_decode *d, const uint8_t *msg, size_t len);

/* The hub is done with @slot: its RELEASE goes with the next message. */
static void release_slot(struct hub_decode *d, uint32_t slot)
{
	d->hub_has[slot] = false;
	if (d->sock >= 0 && d->nunsent < DECPROTO_SLOTS)
		d->unsent[d->nunsent++] = slot;
	if (d->nunsent >= RELEASE_BATCH)
		send_batch(d, NULL, 0);	/* (a socket gone: drain() finds it) */
}

/*
 * The RELEASEs not sent yet, then @len bytes of @msg (none: only the
 * RELEASEs), in one sendmmsg(). Returns how many of the RELEASEs and the
 * message went (a full socket takes a prefix: the rest wait), or -1 with
 * errno for a socket that is gone.
 */
static int send_batch(struct hub_decode *d, const uint8_t *msg, size_t len)
{
	uint8_t rel[DECPROTO_SLOTS][DECPROTO_HDR + DECPROTO_RELEASE_LEN];
	struct mmsghdr mm[DECPROTO_SLOTS + 1];
	struct iovec iov[DECPROTO_SLOTS + 1];
	unsigned int n = 0;
	int sent;

	memset(mm, 0, sizeof(mm));
	for (; n < d->nunsent; n++) {
		iov[n].iov_base = rel[n];
		iov[n].iov_len = hub_decproto_put_release(rel[n], d->unsent[n]);
	}
	if (len) {
		iov[n].iov_base = (void *)msg;
		iov[n].iov_len = len;
		n++;
	}
	for (unsigned int i = 0; i < n; i++) {
		mm[i].msg_hdr.msg_iov = &iov[i];
		mm[i].msg_hdr.msg_iovlen = 1;
	}
	if (!n)
		return 0;
	while ((sent = sendmmsg(d->sock, mm, n, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 && errno == EINTR)
		;
	if (sent < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	if ((unsigned int)sent >= d->nunsent) {
		d->nunsent = 0;
	} else {
		d->nunsent -= (unsigned int)sent;
		memmove(d->unsent, d->unsent + sent, d->nunsent * sizeof(d->unsent[0]));
	}
	return sent;
}

/* Reap the killed children that are gone; with @wait, wait for them all. */
static void reap(struct hub_decode *d, bool wait)
{
	unsigned int i = 0;

	while (i < d->ndead) {
		pid_t r = waitpid(d->dead[i], NULL, wait ? 0 : WNOHANG);

		if (r == 0 || (r < 0 && errno == EINTR)) {
			i++;
			continue;
		}
		d->dead[i] = d->dead[--d->ndead];
	}
}

/*
 * Kill the child (if any), forget its slots; held pictures stay mapped.
 * The loop does not wait for it to be gone (a large process takes a
 * while to exit): it is reaped later.
 */
static void stop_child(struct hub_decode *d)
{
	if (d->pid > 0) {
		kill(d->pid, SIGKILL);
		if (d->ndead == DEAD_MAX)
			reap(d, true);
		d->dead[d->ndead++] = d->pid;
	}
	reap(d, false);
	d->pid = -1;
	if (d->sock >= 0) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, d->sock, NULL);
		close(d->sock);
	}
	d->sock = -1;
	if (d->shm) {
		d->shm->owner = NULL;
		shm_unref(d->shm);
		d->shm = NULL;
	}
	memset(d->hub_has, 0, sizeof(d->hub_has));
	d->nunsent = 0;
	d->pending = false;
	d->ready = false;
	d->wait_idr = true;
	d->behind_ms = 0;
}

static int64_t mono_ms(void)
{
	return (int64_t)(clk_mono_ns() / 1000000u);
}

/* The forked process, between fork and exec: async-signal-safe calls only. */
static void exec_child(int sock, int shm, bool jpeg)
{
	static char arg0[] = "veracam-decoder", arg1[] = DECODE_CHILD_ARG;
	static char arg2[] = DECODE_CHILD_JPEG;
	char *argv[] = { arg0, arg1, jpeg ? arg2 : NULL, NULL };
	struct stat st;
	int null;

	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* out of the way of 3 and 4 first, then into them (dup2 clears CLOEXEC) */
	sock = fcntl(sock, F_DUPFD_CLOEXEC, 10);
	shm = fcntl(shm, F_DUPFD_CLOEXEC, 10);
	if (sock < 0 || shm < 0 || dup2(sock, DECPROTO_SOCK_FD) < 0 ||
	    dup2(shm, DECPROTO_SHM_FD) < 0)
		_exit(127);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		_exit(127);
	dup2(null, 0);
	dup2(null, 1);
	/* stderr stays when it is a terminal or file; a socket (the journal) does not */
	if (fstat(2, &st) < 0 || S_ISSOCK(st.st_mode))
		dup2(null, 2);
	syscall(SYS_close_range, DECPROTO_SHM_FD + 1, ~0U, 0);
	execve("/proc/self/exe", argv, environ);
	_exit(127);
}

static int start_child(struct hub_decode *d, GError **error)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int sv[2] = { -1, -1 }, mfd, buf = SOCK_BUF;
	struct shm *s = NULL;
	void *map;

	mfd = memfd_create("veracam-decode", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0 || ftruncate(mfd, SHM_SIZE) < 0 ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED, "decoder child: picture memory: %s",
			    strerror(errno));
		goto fail;
	}
	map = mmap(NULL, SHM_SIZE, PROT_READ, MAP_SHARED, mfd, 0);
	s = calloc(1, sizeof(*s));
	if (map == MAP_FAILED || !s) {
		g_set_error_literal(error, HUB_ERROR, HUB_ERROR_FAILED,
				    "decoder child: cannot map its picture memory");
		if (map != MAP_FAILED)
			munmap(map, SHM_SIZE);
		goto fail;
	}
	s->map = map;
	s->refs = 1;
	s->owner = d;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED, "decoder child: socketpair: %s",
			    strerror(errno));
		goto fail;
	}
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	d->pid = fork();
	if (d->pid < 0) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED, "decoder child: fork: %s",
			    strerror(errno));
		goto fail;
	}
	if (d->pid == 0)
		exec_child(sv[1], mfd, d->jpeg);
	close(sv[1]);
	close(mfd);
	d->sock = sv[0];
	d->shm = s;
	ev.data.fd = d->sock;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sock, &ev) < 0) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED, "decoder child: epoll: %s",
			    strerror(errno));
		stop_child(d);
		return -EIO;
	}
	d->done_idx = d->ring_next;
	d->st.child_starts++;
	d->spawned_ms = mono_ms();
	return 0;
fail:
	if (s)
		shm_unref(s);
	if (sv[0] >= 0) {
		close(sv[0]);
		close(sv[1]);
	}
	if (mfd >= 0)
		close(mfd);
	d->pid = -1;
	return -EIO;
}

/*
 * A child that died, lied or wedged: gone. One that had started is
 * replaced at once, ready for the next IDR; one that never started is
 * replaced only when an IDR comes (no loop of children failing to start).
 */
/* child_failed()'s cause for a child whose socket closed: it waits a moment for its status */
static const char child_closed[] = "closed its socket";

static void child_failed(struct hub_decode *d, const char *why)
{
	bool was_ready = d->ready;
	pid_t r = 0;
	int status;

	/*
	 * What became of it, for the journal: a signal (SIGSYS: seccomp) or
	 * an exit. A dying process closes its socket before it can be
	 * reaped: it is given up to 50 ms (a crash is rare; the loop waits
	 * no longer), else the journal says the socket closed.
	 */
	if (why != d->why && d->pid > 0) {
		r = waitpid(d->pid, &status, WNOHANG);
		for (int i = 0; r == 0 && why == child_closed && i < 10; i++) {
			nanosleep(&(struct timespec){ .tv_nsec = 5000000 }, NULL);
			r = waitpid(d->pid, &status, WNOHANG);
		}
	}
	if (r == d->pid) {
		if (WIFSIGNALED(status))
			snprintf(d->why, sizeof(d->why), "child %d killed by signal %d (%s)",
				 (int)d->pid, WTERMSIG(status), strsignal(WTERMSIG(status)));
		else
			snprintf(d->why, sizeof(d->why), "child %d exited with status %d",
				 (int)d->pid, WEXITSTATUS(status));
		d->pid = -1;	/* reaped */
	} else if (why != d->why) {
		snprintf(d->why, sizeof(d->why), "child %d %s", (int)d->pid, why);
	}
	d->st.child_crashes++;
	d->st.errors++;
	stop_child(d);
	if (was_ready)	/* if none starts, the next IDR's hub_decode_au() tries again */
		start_child(d, NULL);
}

static bool ring_find(const struct hub_decode *d, uint64_t pts, uint64_t *idx)
{
	for (uint64_t k = 1; k <= DECODE_RING && k <= d->ring_next; k++) {
		uint64_t i = d->ring_next - k;

		if (d->ring[i % DECODE_RING].pts == pts) {
			*idx = i;
			return true;
		}
	}
	return false;
}

/* A checked picture from the child: ours now; the newest one wins. */
static int on_picture(struct hub_decode *d, const struct hub_decproto_picture *p)
{
	uint64_t idx;

	if (d->hub_has[p->slot] || p->seq <= d->last_pic || p->seq > d->last_sent)
		return -EBADMSG;
	d->hub_has[p->slot] = true;
	d->last_pic = p->seq;
	d->behind_ms = 0;	/* it decodes: not wedged */
	if (p->seq < d->flushed) {	/* decoded before the flush reached the child */
		release_slot(d, p->slot);
		return 0;
	}
	if (ring_find(d, p->seq, &idx))
		d->done_idx = idx + 1;
	if (d->pending) {
		release_slot(d, d->pic.slot);
		d->st.dropped_late++;
	}
	d->pic = *p;
	d->pending = true;
	d->st.decoded++;
	return 0;
}

/* Everything the child sent so far; -EIO when it had to be replaced. */
static int drain(struct hub_decode *d)
{
	uint8_t buf[DECPROTO_HDR + DECPROTO_FAIL_MAX + 1];
	struct hub_decproto_msg m;
	GError *error = NULL;
	const char *why;

	while (d->sock >= 0) {
		ssize_t n = recv(d->sock, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		why = child_closed;
		if (n > 0)
			why = "sent a message too long";
		if (n <= 0 || (size_t)n >= sizeof(buf))
			goto failed;
		if (hub_decproto_parse_child(buf, (size_t)n, &m, &error) < 0) {
			child_failed(d, error->message);
			g_error_free(error);
			return -EIO;
		}
		why = "sent a message out of turn";
		switch (m.type) {
		case DECPROTO_HELLO:
			if (d->ready || !(m.hello.flags & DECPROTO_F_SECCOMP))
				goto failed;
			d->ready = true;
			d->greeted = true;
			d->done_idx = d->ring_next;	/* a backlog counts from now */
			memcpy(d->decoder, m.hello.name, sizeof(d->decoder));
			break;
		case DECPROTO_FAIL:
			memcpy(d->why, m.fail, sizeof(d->why));
			d->why[sizeof(d->why) - 1] = '\0';
			why = d->why;
			if (!d->greeted)
				d->refused = true;
			goto failed;
		case DECPROTO_PICTURE:
			why = "sent a picture the hub did not ask for (slot or sequence)";
			if (!d->ready || on_picture(d, &m.pic) < 0)
				goto failed;
			break;
		default:
			goto failed;
		}
	}
	return 0;
failed:
	child_failed(d, why);
	return -EIO;
}

struct hub_decode *hub_decode_spawn(bool jpeg, GError **error)
{
	struct hub_decode *d = calloc(1, sizeof(*d));

	if (!d) {
		g_set_error_literal(error, HUB_ERROR, HUB_ERROR_FAILED, "out of memory");
		return NULL;
	}
	d->jpeg = jpeg;
	d->sock = -1;
	d->pid = -1;
	d->wait_idr = true;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0) {
		g_set_error(error, HUB_ERROR, HUB_ERROR_FAILED, "epoll: %s", strerror(errno));
		free(d);
		return NULL;
	}
	if (start_child(d, error) < 0) {
		hub_decode_free(d);
		return NULL;
	}
	return d;
}

int hub_decode_started(struct hub_decode *d)
{
	if (d->ready)
		return 1;
	if (d->sock < 0 || drain(d) < 0)
		return -EIO;
	if (!d->ready && mono_ms() - d->spawned_ms > GREET_MAX_MS) {
		child_failed(d, "gave no greeting in 120 s");
		return -EIO;
	}
	return d->ready ? 1 : 0;
}

bool hub_decode_refused_start(const struct hub_decode *d)
{
	return d->refused;
}

int hub_decode_wait_started(struct hub_decode *d, int timeout_ms)
{
	struct pollfd pfd = { .events = POLLIN };
	int64_t end = mono_ms() + timeout_ms;
	int ret;

	while ((ret = hub_decode_started(d)) == 0) {
		int64_t left = end - mono_ms();

		if (left <= 0)
			return 0;
		pfd.fd = d->sock;
		if (poll(&pfd, 1, (int)left) < 0 && errno != EINTR) {
			snprintf(d->why, sizeof(d->why), "poll: %s", strerror(errno));
			return -EIO;
		}
	}
	return ret;
}

int hub_decode_restart(struct hub_decode *d, GError **error)
{
	if (d->sock >= 0)
		stop_child(d);
	d->wait_idr = true;
	return start_child(d, error);
}

/* A child started and waited for: its decoder's name, or why it failed. */
static struct hub_decode *decode_start(bool jpeg, GError **error)
{
	struct hub_decode *d = hub_decode_spawn(jpeg, error);
	int ret;

	if (!d)
		return NULL;
	ret = hub_decode_wait_started(d, HELLO_WAIT_MS);
	if (ret <= 0) {
		if (ret < 0 && d->why[0])
			g_set_error_literal(error, HUB_ERROR, HUB_ERROR_DECODER, d->why);
		else
			g_set_error(error, HUB_ERROR, HUB_ERROR_DECODER,
				    "decoder child did not start (%s)",
				    ret ? "it exited" : "no answer in 30 s");
		hub_decode_free(d);
		return NULL;
	}
	return d;
}

struct hub_decode *hub_decode_new(GError **error)
{
	return decode_start(false, error);
}

struct hub_decode *hub_decode_new_jpeg(GError **error)
{
	return decode_start(true, error);
}

void hub_decode_reset(struct hub_decode *d)
{
	uint8_t msg[DECPROTO_HDR];

	d->st.resets++;
	d->wait_idr = true;
	if (d->sock < 0)
		return;
	drain(d);
	if (d->pending) {
		release_slot(d, d->pic.slot);
		d->pending = false;
	}
	d->flushed = d->last_sent + 1;
	d->done_idx = d->ring_next;
	/*
	 * The flush only spares the child work: pictures it decodes from
	 * before it are released unseen (d->flushed). A full socket is a
	 * child behind, not a failed one.
	 */
	if (d->sock >= 0 && send_batch(d, msg, hub_decproto_put_flush(msg)) < 0)
		child_failed(d, child_closed);
}

/* A PTS of the hub's CLOCK_MONOTONIC, later than every one before it. */
static uint64_t next_pts(struct hub_decode *d)
{
	uint64_t now = clk_mono_ns();

	d->last_sent = now > d->last_sent ? now : d->last_sent + 1;
	return d->last_sent;
}

/*
 * The AU, never waiting: the hub's loop serves every camera. A full socket
 * (SOCK_BUF bytes unread) is a child that is behind, a starved CPU most
 * often: -EAGAIN,
 * the AU is dropped (one cut part-way is discarded by the child when the
 * next AU starts) and decoding resumes at an IDR. Only a child that has
 * taken nothing for WEDGE_MS is called wedged and replaced (hub_decode_au()).
 */
#define WEDGE_MS	2000
static int send_au(struct hub_decode *d, const uint8_t *au, size_t len, uint64_t pts)
{
	static uint8_t msg[DECPROTO_MSG_MAX];

	for (size_t off = 0; off < len; off += DECPROTO_CHUNK) {
		size_t chunk = len - off < DECPROTO_CHUNK ? len - off : DECPROTO_CHUNK;
		size_t h = hub_decproto_put_au_head(msg, pts, (uint32_t)len, (uint32_t)off,
						    (uint32_t)chunk);
		ssize_t n;

		memcpy(msg + h, au + off, chunk);
		if (off == 0) {	/* with the RELEASEs waiting */
			unsigned int before = d->nunsent;
			int sent = send_batch(d, msg, h + chunk);

			if (sent < 0)
				return -EIO;
			if ((unsigned int)sent <= before)
				return -EAGAIN;
			continue;
		}
		while ((n = send(d->sock, msg, h + chunk, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 &&
		       errno == EINTR)
			;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -EAGAIN;
		if (n != (ssize_t)(h + chunk))
			return -EIO;
	}
	return 0;
}

/*
 * An AU refused because the child is behind (its socket full, or a
 * backlog of AUs without pictures), counted in *count: -EAGAIN, decoding
 * resumes at an IDR. A child that neither took an AU nor gave a picture
 * for WEDGE_MS since the first refusal is wedged: replaced, -EIO.
 */
static int child_behind(struct hub_decode *d, uint64_t *count)
{
	int64_t now = mono_ms();

	if (!d->behind_ms)
		d->behind_ms = now;
	if (now - d->behind_ms < WEDGE_MS) {
		(*count)++;
		d->wait_idr = true;
		return -EAGAIN;
	}
	child_failed(d, "took nothing and gave no picture for 2 s (wedged)");
	return -EIO;
}

int hub_decode_au(struct hub_decode *d, const void *au, size_t len,
		  uint64_t capture_ns, uint64_t show_until_ns, bool idr)
{
	uint64_t queued, slot;
	GError *error = NULL;
	int ret;

	if (drain(d) < 0)
		return -EIO;
	if (!len || len > DECPROTO_AU_MAX)
		return -EINVAL;
	queued = d->ready && d->ring_next > d->done_idx ? d->ring_next - d->done_idx : 0;
	if (queued >= DECODE_BACKLOG) {
		if (!idr)
			return child_behind(d, &d->st.dropped_backlog);
		/* an IDR starts afresh: a new child, this AU its first */
		d->st.dropped_backlog += queued;
		hub_decode_reset(d);
	}
	if (d->wait_idr && !idr) {
		d->st.dropped_wait_idr++;
		return -EAGAIN;
	}
	if (d->sock < 0 && start_child(d, &error) < 0) {
		snprintf(d->why, sizeof(d->why), "%s", error->message);	/* last_failure's */
		g_error_free(error);
		d->st.errors++;
		return -EIO;
	}
	if (!d->ready && hub_decode_started(d) < 0)
		return -EIO;	/* failed before its greeting, or silent too long */
	if (!d->ready) {
		/*
		 * A replacement child still starting (exec, GStreamer: seconds
		 * on a loaded host) takes nothing yet: units sent now would fill
		 * its socket and get it replaced again. The first IDR after its
		 * HELLO starts it.
		 */
		d->st.dropped_wait_idr++;
		d->wait_idr = true;
		return -EAGAIN;
	}
	d->wait_idr = false;
	slot = d->ring_next % DECODE_RING;
	d->ring[slot].pts = next_pts(d);
	d->ring[slot].capture_ns = capture_ns;
	d->ring[slot].show_until_ns = show_until_ns;
	ret = send_au(d, au, len, d->ring[slot].pts);
	if (ret == -EAGAIN)
		return child_behind(d, &d->st.dropped_behind);
	if (ret < 0) {
		child_failed(d, child_closed);
		return -EIO;
	}
	d->ring_next++;
	d->st.pushed++;
	return 0;
}

static void decode_release(struct hub_picture *pic)
{
	struct held *h = pic->priv;

	if (!h)
		return;
	if (h->shm->owner && h->shm->owner->hub_has[h->slot])
		release_slot(h->shm->owner, h->slot);
	shm_unref(h->shm);
	free(h);
	memset(pic, 0, sizeof(*pic));
}

int hub_decode_take(struct hub_decode *d, struct hub_picture *pic)
{
	const struct hub_decproto_picture *p = &d->pic;
	const uint8_t *base;
	struct held *h;
	uint64_t idx;

	if (drain(d) < 0)
		return -EIO;
	if (!d->pending)
		return 0;
	h = calloc(1, sizeof(*h));
	if (!h) {
		release_slot(d, p->slot);
		d->pending = false;
		d->st.errors++;
		return -EIO;
	}
	d->pending = false;
	h->shm = d->shm;
	h->slot = p->slot;
	d->shm->refs++;
	base = d->shm->map + (size_t)p->slot * DECPROTO_SLOT_SIZE;
	memset(pic, 0, sizeof(*pic));
	pic->format = p->format == DECPROTO_NV12 ? HUB_PIX_NV12 : HUB_PIX_I420;
	pic->matrix = p->matrix ? HUB_MATRIX_BT709 : HUB_MATRIX_BT601;
	pic->full_range = p->full_range;
	pic->width = p->width;
	pic->height = p->height;
	for (int i = 0; i < (p->format == DECPROTO_NV12 ? 2 : 3); i++) {
		pic->plane[i] = base + p->offset[i];
		pic->stride[i] = p->stride[i];
	}
	pic->priv = h;
	pic->release = decode_release;
	if (ring_find(d, p->seq, &idx)) {
		pic->capture_ns = d->ring[idx % DECODE_RING].capture_ns;
		pic->show_until_ns = d->ring[idx % DECODE_RING].show_until_ns;
	} else {
		d->st.unmatched++;
	}
	d->st.taken++;
	return 1;
}

int hub_decode_fd(const struct hub_decode *d)
{
	return d->epfd;
}

const char *hub_decode_last_failure(const struct hub_decode *d)
{
	return d->why;
}

const char *hub_decode_decoder(const struct hub_decode *d)
{
	return d->decoder;
}

/* What the child has said so far is taken in first (and checked). */
void hub_decode_get_stats(struct hub_decode *d, struct hub_decode_stats *st)
{
	drain(d);
	*st = d->st;
}

int hub_decode_child_pid(const struct hub_decode *d)
{
	return d->pid;
}

void hub_decode_free(struct hub_decode *d)
{
	if (!d)
		return;
	stop_child(d);
	reap(d, true);
	if (d->epfd >= 0)
		close(d->epfd);
	free(d);
}
