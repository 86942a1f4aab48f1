// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: veracamd's configuration parser (daemon/service).
 *
 * Input: byte 0 picks the role (even: camera, odd: hub); up to the first
 * NUL is the --config file's text; after it, newline-separated extra
 * arguments (at most 24). The parse must end in RUN, HELP or one error
 * line, and never crash, leak or read out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "service.h"

#define MAX_ARGS 24

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[6 + MAX_ARGS + 1], path[64], *err = NULL, *flags;
	const uint8_t *nul;
	size_t text_len;
	struct svc_config cfg;
	enum svc_config_result r;
	int fd, argc = 0;

	if (size < 1)
		return 0;
	nul = memchr(data + 1, 0, size - 1);
	text_len = nul ? (size_t)(nul - data - 1) : size - 1;

	fd = memfd_create("veracam-conf", MFD_CLOEXEC);
	if (fd < 0 || write(fd, data + 1, text_len) != (ssize_t)text_len)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);

	argv[argc++] = "veracamd";
	argv[argc++] = (data[0] & 1) ? "hub" : "camera";
	argv[argc++] = "--keys=/";
	argv[argc++] = "--config";
	argv[argc++] = path;
	flags = nul ? strndup((const char *)nul + 1, size - text_len - 2) : strdup("");
	for (char *save = NULL, *a = strtok_r(flags, "\n", &save); a && argc < 5 + MAX_ARGS;
	     a = strtok_r(NULL, "\n", &save))
		argv[argc++] = a;
	argv[argc] = NULL;

	r = svc_config_parse(argc, argv, NULL, &cfg, &err);
	if (r == SVC_CONFIG_RUN) {
		if (err || !cfg.keys_dir)
			abort();
		svc_config_clear(&cfg);
	} else if (!err || (r == SVC_CONFIG_ERROR && strchr(err, '\n'))) {
		abort();	/* an error is exactly one line */
	}
	g_free(err);
	free(flags);
	close(fd);
	return 0;
}
