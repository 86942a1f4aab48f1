// SPDX-License-Identifier: GPL-2.0
/*
 * The decoder child (decode.h, decproto.h): the hub's parser refuses every
 * malformed or out-of-bounds message; a lying child is killed, replaced and
 * shows nothing; the real child runs with seccomp, no new privileges, no
 * core, and no descriptor but its socket, its slots gone after mapping and
 * anonymous ones of its own (no DRM device, no key file, no other socket).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "decode.h"
#include "decproto.h"
#include "hubtest.h"

/* ---- the parser ---------------------------------------------------------- */

static struct hub_decproto_picture good_pic(void)
{
	struct hub_decproto_picture p = {
		.slot = 1, .format = DECPROTO_I420, .width = 320, .height = 240, .seq = 7,
		.offset = { 0, 320 * 240, 320 * 240 + 160 * 120 },
		.stride = { 320, 160, 160 },
	};
	return p;
}

/* Why the last parse() refused its message ("" when it took it). */
static char why[DECPROTO_FAIL_MAX];

/* hub_decproto_parse_child(), and its error: a refusal always says why, as HUB_ERROR_PROTOCOL. */
static int parse(const uint8_t *buf, size_t len, struct hub_decproto_msg *m)
{
	g_autoptr(GError) error = NULL;
	int ret = hub_decproto_parse_child(buf, len, m, &error);

	if (ret < 0)
		g_assert_error(error, HUB_ERROR, HUB_ERROR_PROTOCOL);
	else
		g_assert_no_error(error);
	snprintf(why, sizeof(why), "%s", error ? error->message : "");
	return ret;
}

static int parse_pic(const struct hub_decproto_picture *p)
{
	uint8_t buf[DECPROTO_HDR + DECPROTO_PICTURE_LEN];
	struct hub_decproto_msg m;
	size_t n = hub_decproto_put_picture(buf, p);

	return parse(buf, n, &m);
}

static void test_parser(void)
{
	uint8_t buf[DECPROTO_HDR + DECPROTO_PICTURE_LEN + 8];
	struct hub_decproto_picture p = good_pic();
	struct hub_decproto_msg m;
	size_t n;

	CHECK(parse_pic(&p) == 0, "a good picture refused: %s", why);
	p.format = DECPROTO_NV12;
	p.stride[1] = 320;
	p.offset[2] = p.stride[2] = 0;
	CHECK(parse_pic(&p) == 0, "a good NV12 picture refused: %s", why);
	/* the last slot's last byte, exactly */
	p = good_pic();
	p.slot = DECPROTO_SLOTS - 1;
	p.offset[2] = (uint32_t)(DECPROTO_SLOT_SIZE - 160 * 120);
	CHECK(parse_pic(&p) == 0, "a plane ending at its slot's end refused: %s", why);

	static const struct { const char *what; int field; uint32_t value; } bad[] = {
		{ "slot out of range", 0, DECPROTO_SLOTS },
		{ "slot far out of range", 0, 0xffffffffu },
		{ "unknown format", 1, 7 },
		{ "unknown matrix", 2, 2 },
		{ "full range not 0/1", 3, 2 },
		{ "width 0", 4, 0 },
		{ "width beyond the maximum", 4, DECPROTO_MAX_W + 2 },
		{ "height beyond the maximum", 5, DECPROTO_MAX_H + 2 },
		{ "luma stride under the width", 6, 319 },
		{ "luma stride huge", 6, 0x80000000u },
		{ "luma plane past the slot", 7, (uint32_t)DECPROTO_SLOT_SIZE - 1000 },
		{ "chroma offset wrapping", 8, 0xfffffff0u },
		{ "V plane past the slot", 9, (uint32_t)DECPROTO_SLOT_SIZE - 160 * 119 },
		{ "chroma stride under half the width", 10, 150 },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = good_pic();
		switch (bad[i].field) {
		case 0: p.slot = bad[i].value; break;
		case 1: p.format = bad[i].value; break;
		case 2: p.matrix = bad[i].value; break;
		case 3: p.full_range = bad[i].value; break;
		case 4: p.width = bad[i].value; break;
		case 5: p.height = bad[i].value; break;
		case 6: p.stride[0] = bad[i].value; break;
		case 7: p.offset[0] = bad[i].value; break;
		case 8: p.offset[1] = bad[i].value; break;
		case 9: p.offset[2] = bad[i].value; break;
		case 10: p.stride[1] = bad[i].value; break;
		}
		CHECK(parse_pic(&p) == -EBADMSG, "accepted: %s", bad[i].what);
	}
	p = good_pic();
	p.format = DECPROTO_NV12;
	p.stride[1] = 320;
	CHECK(parse_pic(&p) == -EBADMSG, "accepted: NV12 with a third plane");

	/* the frame around it: magic, version, length, type */
	p = good_pic();
	n = hub_decproto_put_picture(buf, &p);
	buf[0] = 'X';
	CHECK(parse(buf, n, &m) == -EBADMSG, "accepted: bad magic");
	n = hub_decproto_put_picture(buf, &p);
	buf[2] = DECPROTO_VERSION + 1;
	CHECK(parse(buf, n, &m) == -EBADMSG, "accepted: version 2");
	n = hub_decproto_put_picture(buf, &p);
	CHECK(parse(buf, n - 1, &m) == -EBADMSG, "accepted: truncated");
	memset(buf + n, 0, 4);
	CHECK(parse(buf, n + 4, &m) == -EBADMSG, "accepted: trailing bytes");
	buf[4]++;
	CHECK(parse(buf, n, &m) == -EBADMSG, "accepted: length field off");
	n = hub_decproto_put_picture(buf, &p);
	buf[3] = DECPROTO_AU;
	CHECK(parse(buf, n, &m) == -EBADMSG, "accepted: a hub's type");
	CHECK(parse(buf, 3, &m) == -EBADMSG, "accepted: 3 bytes");
	hub_decproto_put_hdr(buf, DECPROTO_FAIL, 0);
	CHECK(parse(buf, DECPROTO_HDR, &m) == -EBADMSG, "accepted: an empty FAIL");
	n = hub_decproto_put_hello(buf, DECPROTO_F_SECCOMP, "avdec_h264");
	CHECK(parse(buf, n, &m) == 0 && m.type == DECPROTO_HELLO &&
	      !strcmp(m.hello.name, "avdec_h264"), "HELLO refused: %s", why);
	hub_decproto_put_hdr(buf, DECPROTO_HELLO, DECPROTO_HELLO_LEN - 1);
	CHECK(parse(buf, n - 1, &m) == -EBADMSG, "accepted: a short HELLO");
}

/* ---- a lying child ------------------------------------------------------- */

/*
 * Exec'd instead of the real child when VERACAM_TEST_LIE is set: greets,
 * waits for the first AU, then answers with the lie named and waits.
 */
static void liar_main(const char *lie)
{
	uint8_t buf[DECPROTO_MSG_MAX + 1], msg[DECPROTO_HDR + DECPROTO_PICTURE_LEN];
	struct hub_decproto_picture p = good_pic();
	uint8_t *shm;
	uint64_t seq;
	ssize_t n;

	shm = mmap(NULL, DECPROTO_SLOTS * DECPROTO_SLOT_SIZE, PROT_READ | PROT_WRITE,
		   MAP_SHARED, DECPROTO_SHM_FD, 0);
	if (shm == MAP_FAILED)
		_exit(1);
	if (!strcmp(lie, "slow")) {	/* a loaded host: greets only when the test says so */
		const char *go = getenv("VERACAM_TEST_GO");

		while (go && access(go, F_OK))
			usleep(10000);
	} else if (!strcmp(lie, "fail-early")) {	/* e.g. no H.264 decoder installed */
		send(DECPROTO_SOCK_FD, buf, hub_decproto_put_fail(buf, "no decoder for this test"),
		     0);
		_exit(1);
	}
	send(DECPROTO_SOCK_FD, msg, hub_decproto_put_hello(msg, DECPROTO_F_SECCOMP, "liar"), 0);
	n = recv(DECPROTO_SOCK_FD, buf, sizeof(buf), 0);
	if (n < DECPROTO_HDR + DECPROTO_AU_FIXED)
		_exit(1);
	seq = hub_decproto_get64(buf + DECPROTO_HDR);
	p.seq = seq;
	memset(shm + DECPROTO_SLOT_SIZE, 0x80, 320 * 240 * 3 / 2);
	if (!strcmp(lie, "none") || !strcmp(lie, "slow")) {
		send(DECPROTO_SOCK_FD, msg, hub_decproto_put_picture(msg, &p), 0);
	} else if (!strcmp(lie, "slot")) {
		p.slot = DECPROTO_SLOTS;
		send(DECPROTO_SOCK_FD, msg, hub_decproto_put_picture(msg, &p), 0);
	} else if (!strcmp(lie, "plane")) {
		p.offset[2] = (uint32_t)DECPROTO_SLOT_SIZE - 100;
		send(DECPROTO_SOCK_FD, msg, hub_decproto_put_picture(msg, &p), 0);
	} else if (!strcmp(lie, "twice")) {
		/* the same slot handed over twice: the hub's already */
		send(DECPROTO_SOCK_FD, msg, hub_decproto_put_picture(msg, &p), 0);
		p.seq = seq;	/* not newer either */
		send(DECPROTO_SOCK_FD, msg, hub_decproto_put_picture(msg, &p), 0);
	} else if (!strcmp(lie, "future")) {
		p.seq = seq + 1000000000ull;	/* an AU never sent */
		send(DECPROTO_SOCK_FD, msg, hub_decproto_put_picture(msg, &p), 0);
	} else if (!strcmp(lie, "hello")) {
		send(DECPROTO_SOCK_FD, msg, hub_decproto_put_hello(msg, DECPROTO_F_SECCOMP, "x"),
		     0);
	} else if (!strcmp(lie, "garbage")) {
		memset(msg, 0x41, sizeof(msg));
		send(DECPROTO_SOCK_FD, msg, sizeof(msg), 0);
	}
	for (;;)
		pause();
}

static const uint8_t fake_idr[] = { 0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00 };

/* Dead: no such process, or a zombie not yet reaped (the hub reaps later). */
static bool dead(int pid)
{
	char path[64], buf[256], *p;
	FILE *f;
	bool zombie = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')))
		zombie = p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
	fclose(f);
	return zombie;
}

/*
 * The hub's view of one lie: the picture handed out (1) when the child told
 * none, else the child replaced.
 */
static void test_lie(gconstpointer data)
{
	const char *lie = data;
	bool believed = !strcmp(lie, "none");
	struct hub_picture pic = { 0 };
	struct hub_decode_stats st;
	struct hub_decode *d;
	g_autoptr(GError) error = NULL;
	int ret = 0, pid;

	setenv("VERACAM_TEST_LIE", lie, 1);
	d = hub_decode_new(&error);
	unsetenv("VERACAM_TEST_LIE");
	CHECK(d, "hub_decode_new (%s): %s", lie, error->message);
	if (!d)
		return;
	pid = hub_decode_child_pid(d);
	CHECK(hub_decode_au(d, fake_idr, sizeof(fake_idr), 1, ~0ull, true) == 0, "%s: AU", lie);
	for (int i = 0; i < 200 && ret == 0; i++) {
		struct pollfd pfd = { .fd = hub_decode_fd(d), .events = POLLIN };

		poll(&pfd, 1, 20);
		ret = hub_decode_take(d, &pic);
	}
	/* "twice": the first is honest and held (its slot the hub's), then the lie */
	for (int i = 0; i < 50 && ret == 1 && !believed; i++) {
		struct hub_picture again;
		struct pollfd pfd = { .fd = hub_decode_fd(d), .events = POLLIN };

		poll(&pfd, 1, 20);
		ret = hub_decode_take(d, &again);
		if (ret == 1) {
			again.release(&again);
			ret = 1;
		} else if (ret == 0) {
			ret = 1;
		}
		if (ret != 1)
			pic.release(&pic);
	}
	hub_decode_get_stats(d, &st);
	if (believed) {
		CHECK(ret == 1 && pic.width == 320 && pic.plane[0][0] == 0x80 &&
		      pic.capture_ns == 1, "%s: the honest picture was not handed out (%d)",
		      lie, ret);
		CHECK(st.child_crashes == 0, "%s: an honest child counted as crashed", lie);
		if (ret == 1)
			pic.release(&pic);
	} else {
		CHECK(ret == -EIO, "%s: the lie was not caught (%d)", lie, ret);
		if (ret == 1)
			pic.release(&pic);
		CHECK(st.child_crashes == 1 && st.errors == 1, "%s: crashes %llu", lie,
		      (unsigned long long)st.child_crashes);
		for (int i = 0; i < 100 && !dead(pid); i++)
			nanosleep(&(struct timespec){ .tv_nsec = 10000000 }, NULL);
		CHECK(dead(pid), "%s: the liar still runs", lie);
		CHECK(hub_decode_child_pid(d) != pid, "%s: the liar was not replaced", lie);
		CHECK(hub_decode_au(d, fake_idr, 4, 1, ~0ull, false) == -EAGAIN,
		      "%s: a P-frame accepted after the lie", lie);
	}
	hub_decode_free(d);
}

/* ---- the real child's sandbox --------------------------------------------- */

static bool status_has(int pid, const char *line)
{
	char path[64], buf[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	while (f && !found && fgets(buf, sizeof(buf), f))
		found = !strcmp(buf, line);
	if (f)
		fclose(f);
	return found;
}

static bool limit_is(int pid, const char *name, const char *soft)
{
	char path[64], buf[256];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", pid);
	f = fopen(path, "r");
	while (f && !found && fgets(buf, sizeof(buf), f)) {
		char value[32];

		if (!strncmp(buf, name, strlen(name)) &&
		    sscanf(buf + 26, "%31s", value) == 1)
			found = !strcmp(value, soft);
	}
	if (f)
		fclose(f);
	return found;
}

/* 1: an unnamed AF_UNIX socket (a pair); 0: anything else (bound, network) */
static bool unnamed_unix(unsigned long inode)
{
	char buf[512];
	bool found = false;
	FILE *f = fopen("/proc/net/unix", "r");

	while (f && !found && fgets(buf, sizeof(buf), f)) {
		unsigned long ino;
		char path[256] = "";

		if (sscanf(buf, "%*s %*s %*s %*s %*s %*s %lu %255s", &ino, path) >= 1 &&
		    ino == inode)
			found = !path[0];
	}
	if (f)
		fclose(f);
	return found;
}

static void test_sandbox(void)
{
	char path[64], link[256], fdpath[320];
	unsigned int sockets = 0, fds = 0;
	g_autoptr(GError) error = NULL;
	struct hub_decode *d = hub_decode_new(&error);
	struct dirent *e;
	DIR *dir;
	int pid;

	g_assert_no_error(error);
	if (!d)
		return;
	pid = hub_decode_child_pid(d);
	CHECK(status_has(pid, "Seccomp:\t2\n"), "child %d: no seccomp filter", pid);
	CHECK(status_has(pid, "NoNewPrivs:\t1\n"), "child %d: may gain privileges", pid);
	CHECK(status_has(pid, "CapEff:\t0000000000000000\n") &&
	      status_has(pid, "CapPrm:\t0000000000000000\n"), "child %d: has capabilities", pid);
	CHECK(limit_is(pid, "Max core file size", "0"), "child: may dump core");
	CHECK(limit_is(pid, "Max open files", "64"), "child: open files not limited");
	if (geteuid() != 0) {
		printf("# SKIP the child's descriptors: /proc/PID/fd of a non-dumpable "
		       "process needs CAP_SYS_PTRACE\n");
		hub_decode_free(d);
		return;
	}
	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	dir = opendir(path);
	CHECK(dir, "%s: %s", path, strerror(errno));
	while (dir && (e = readdir(dir))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(fdpath, sizeof(fdpath), "%s/%s", path, e->d_name);
		n = readlink(fdpath, link, sizeof(link) - 1);
		if (n < 0)
			continue;
		link[n] = 0;
		fds++;
		if (!strncmp(link, "socket:[", 8)) {
			/* its own pair to the hub, GStreamer's wake-up pairs: no other kind */
			CHECK(unnamed_unix(strtoul(link + 8, NULL, 10)),
			      "child fd %s: %s is not an unnamed AF_UNIX socket", e->d_name, link);
			sockets++;
		}
		/* sockets, anonymous ones (eventfd, pipe), /dev/null, a test's stderr */
		CHECK(strncmp(link, "/dev/dri", 8) && strncmp(link, "/dev/video", 10) &&
		      !strstr(link, "key") && !strstr(link, "memfd:"),
		      "child fd %s -> %s", e->d_name, link);
	}
	if (dir)
		closedir(dir);
	CHECK(sockets >= 1, "the child has no socket to the hub");
	CHECK(fds >= 4, "only %u descriptors seen", fds);
	printf("# decoder child %d: %u descriptors (%u unnamed AF_UNIX sockets), seccomp, "
	       "no new privileges\n", pid, fds, sockets);
	hub_decode_free(d);
}

/* SIGKILL of the child: the next take says so, a new child decodes again. */
static void test_killed(void)
{
	struct hub_picture pic;
	struct hub_decode_stats st;
	g_autoptr(GError) error = NULL;
	struct hub_decode *d = hub_decode_new(&error);
	int pid, ret = 0;

	g_assert_no_error(error);
	if (!d)
		return;
	pid = hub_decode_child_pid(d);
	kill(pid, SIGKILL);
	for (int i = 0; i < 100 && ret == 0; i++) {
		struct pollfd pfd = { .fd = hub_decode_fd(d), .events = POLLIN };

		poll(&pfd, 1, 20);
		ret = hub_decode_take(d, &pic);
	}
	CHECK(ret == -EIO, "a killed child went unnoticed (%d)", ret);
	hub_decode_get_stats(d, &st);
	CHECK(st.child_crashes == 1 && st.child_starts == 2, "crashes %llu starts %llu",
	      (unsigned long long)st.child_crashes, (unsigned long long)st.child_starts);
	CHECK(hub_decode_child_pid(d) > 0 && hub_decode_child_pid(d) != pid, "no new child");
	hub_decode_free(d);
}

/*
 * hub_decode_spawn() never waits: a child slow to greet (exec and GStreamer
 * take tens of seconds on a starved host) is "starting", units meanwhile
 * dropped; once it greets, the first IDR is decoded. A child that fails
 * before greeting gives its reason, and hub_decode_restart() starts another.
 */
static void test_slow_start(void)
{
	char go[] = "/tmp/veracam-decproto-go.XXXXXX";
	g_autoptr(GError) error = NULL;
	struct hub_picture pic = { 0 };
	struct hub_decode *d;
	int fd, ret = 0;

	fd = mkstemp(go);
	CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
	if (fd < 0)
		return;
	close(fd);
	unlink(go);
	setenv("VERACAM_TEST_LIE", "slow", 1);
	setenv("VERACAM_TEST_GO", go, 1);
	d = hub_decode_spawn(false, &error);
	g_assert_no_error(error);
	if (!d)
		goto out;
	CHECK(hub_decode_started(d) == 0, "a child that has not greeted counted as started");
	CHECK(hub_decode_au(d, fake_idr, sizeof(fake_idr), 1, ~0ull, true) == -EAGAIN,
	      "an AU taken by a child that has not greeted");
	CHECK(hub_decode_wait_started(d, 200) == 0, "started without greeting");
	fd = open(go, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd >= 0)
		close(fd);
	CHECK(hub_decode_wait_started(d, 30000) == 1 && !strcmp(hub_decode_decoder(d), "liar"),
	      "the slow child's greeting not taken");
	CHECK(hub_decode_au(d, fake_idr, sizeof(fake_idr), 7, ~0ull, true) == 0,
	      "the first IDR after the greeting not sent");
	for (int i = 0; i < 1500 && ret == 0; i++) {
		struct pollfd pfd = { .fd = hub_decode_fd(d), .events = POLLIN };

		poll(&pfd, 1, 20);
		ret = hub_decode_take(d, &pic);
	}
	CHECK(ret == 1 && pic.capture_ns == 7, "no picture from the slow child (%d)", ret);
	CHECK(!hub_decode_refused_start(d), "a slow child taken for one that cannot decode");
	if (ret == 1)
		pic.release(&pic);
	hub_decode_free(d);

	setenv("VERACAM_TEST_LIE", "fail-early", 1);
	d = hub_decode_spawn(false, &error);
	g_assert_no_error(error);
	if (!d)
		goto out;
	CHECK(hub_decode_wait_started(d, 30000) == -EIO &&
	      strstr(hub_decode_last_failure(d), "no decoder for this test"),
	      "a child failing before its greeting: not reported (%s)", hub_decode_last_failure(d));
	CHECK(hub_decode_refused_start(d),
	      "a FAIL before any greeting not told apart from a crash");
	setenv("VERACAM_TEST_LIE", "none", 1);
	g_assert_cmpint(hub_decode_restart(d, &error), ==, 0);
	g_assert_no_error(error);
	CHECK(hub_decode_wait_started(d, 30000) == 1, "hub_decode_restart: no new child greeted (%s)",
	      hub_decode_last_failure(d));
	hub_decode_free(d);
out:
	unsetenv("VERACAM_TEST_LIE");
	unsetenv("VERACAM_TEST_GO");
	unlink(go);
}

int main(int argc, char **argv)
{
	/* "none": the honest child; each other a lie of liar_main() */
	static const char *const lies[] = {
		"none", "slot", "plane", "twice", "future", "hello", "garbage",
	};

	if (hub_decode_child_requested(argc, argv)) {
		const char *lie = getenv("VERACAM_TEST_LIE");

		if (lie)
			liar_main(lie);
		decode_child_main();
	}
	g_test_init(&argc, &argv, NULL);
	g_test_set_nonfatal_assertions();
	signal(SIGPIPE, SIG_IGN);
	g_test_add_func("/hub/decproto/parser", test_parser);
	for (size_t i = 0; i < G_N_ELEMENTS(lies); i++) {
		g_autofree char *name = g_strdup_printf("/hub/decproto/lie/%s", lies[i]);

		g_test_add_data_func(name, lies[i], test_lie);
	}
	g_test_add_func("/hub/decproto/sandbox", test_sandbox);
	g_test_add_func("/hub/decproto/killed", test_killed);
	g_test_add_func("/hub/decproto/slow-start", test_slow_start);
	return g_test_run();
}
