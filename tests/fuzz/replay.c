// SPDX-License-Identifier: GPL-2.0
/*
 * The corpus replayed without libFuzzer: each fuzz target linked with this
 * main() instead runs once over every file of the seed corpus it is given
 * (files, or directories of files), in the ordinary and the ASan+UBSan
 * builds, as a meson test. A target's own checks abort() on a broken
 * property; this exits 1 when an input cannot be read or when there is no
 * input at all (a corpus that went missing must not pass).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long len;
	int ret = -1;

	if (!f) {
		fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		/* one byte more than the file so that an empty input has a buffer */
		buf = malloc((size_t)len + 1);
		if (buf && fread(buf, 1, (size_t)len, f) == (size_t)len) {
			LLVMFuzzerTestOneInput(buf, (size_t)len);
			ret = 0;
		}
	}
	if (ret)
		fprintf(stderr, "replay: %s: cannot read it\n", path);
	free(buf);
	fclose(f);
	return ret;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	unsigned int inputs = 0, bad = 0;

	for (int i = 1; i < argc; i++) {
		struct dirent **names;
		struct stat st;
		int n;

		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			bad++;
			continue;
		}
		if (!S_ISDIR(st.st_mode)) {
			bad += replay_file(argv[i]) < 0;
			inputs++;
			continue;
		}
		n = scandir(argv[i], &names, NULL, by_name);
		if (n < 0) {
			fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
			bad++;
			continue;
		}
		for (int j = 0; j < n; j++) {
			char path[4096];

			if (names[j]->d_name[0] != '.' &&
			    snprintf(path, sizeof(path), "%s/%s", argv[i], names[j]->d_name) <
			    (int)sizeof(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				bad += replay_file(path) < 0;
				inputs++;
			}
			free(names[j]);
		}
		free(names);
	}
	printf("replayed %u input%s, %u unreadable\n", inputs, inputs == 1 ? "" : "s", bad);
	return inputs && !bad ? 0 : 1;
}
