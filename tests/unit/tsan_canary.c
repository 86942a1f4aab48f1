// SPDX-License-Identifier: GPL-2.0
/*
 * tsan_canary - the TSan stage's own check that it can fail (TAP).
 *
 *   tsan_canary SUPPRESSIONS        the test: runs itself as "race" twice
 *   tsan_canary race|locked         two pthreads add to one counter,
 *                                   without a lock or with one
 *
 * Under the stage's suppressions (tests/unit/tsan.supp) a race between two
 * threads veracam starts must still be reported (the child exits 66, the
 * report names this file), and the same threads with a mutex must not be:
 * so the suppressions hide no race of the project's own threads, and the
 * stage's runtime is really there. Built only with -Db_sanitize=thread.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static long counter;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int locked;

static void *add(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++) {
		if (locked)
			pthread_mutex_lock(&lock);
		counter++;
		if (locked)
			pthread_mutex_unlock(&lock);
	}
	return NULL;
}

static int race(void)
{
	pthread_t a, b;

	if (pthread_create(&a, NULL, add, NULL) || pthread_create(&b, NULL, add, NULL))
		return 2;
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return counter > 0 ? 0 : 2;
}

/* The exit status of "tsan_canary MODE" under @supp; its stderr in @out. */
static int child(const char *self, const char *mode, const char *supp, char *out, size_t cap)
{
	char opts[4096];
	int pipefd[2], status = -1;
	size_t len = 0;
	ssize_t n;
	pid_t pid;

	snprintf(opts, sizeof(opts), "TSAN_OPTIONS=suppressions=%s:exitcode=66", supp);
	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid == 0) {
		char *envp[] = { opts, NULL };

		dup2(pipefd[1], 2);
		close(pipefd[0]);
		execle(self, self, mode, (char *)NULL, envp);
		_exit(127);
	}
	close(pipefd[1]);
	while (len + 1 < cap && (n = read(pipefd[0], out + len, cap - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(pipefd[0]);
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	static char out[1 << 16];
	int st, fails = 0;

	if (argc == 2 && !strcmp(argv[1], "race"))
		return race();
	if (argc == 2 && !strcmp(argv[1], "locked")) {
		locked = 1;
		return race();
	}
	if (argc != 2) {
		fprintf(stderr, "usage: tsan_canary SUPPRESSIONS\n");
		return 2;
	}
	printf("TAP version 13\n1..2\n");
	st = child("/proc/self/exe", "race", argv[1], out, sizeof(out));
	if (st == 66 && strstr(out, "WARNING: ThreadSanitizer: data race") &&
	    strstr(out, "tsan_canary.c")) {
		printf("ok 1 - two threads of ours racing on a counter: reported under the stage's "
		       "suppressions\n");
	} else {
		printf("not ok 1 - two threads of ours racing on a counter: exit %d, %s\n", st,
		       strstr(out, "ThreadSanitizer") ? "a report without this file" : "no report");
		fails++;
	}
	st = child("/proc/self/exe", "locked", argv[1], out, sizeof(out));
	if (st == 0 && !strstr(out, "ThreadSanitizer")) {
		printf("ok 2 - the same threads under a mutex: no report\n");
	} else {
		printf("not ok 2 - the same threads under a mutex: exit %d\n", st);
		fails++;
	}
	return fails ? 1 : 0;
}
