// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/fuzz/replay.c - run a libFuzzer target over corpus files, with gcc
 *
 * Linked with one tests/fuzz/<name>_fuzz.c, it feeds every file named on the
 * command line (directories are walked one level deep) to
 * LLVMFuzzerTestOneInput(), so `make check` replays each corpus without
 * clang.  A crash or a sanitizer report fails the run.
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
	uint8_t *data;
	FILE *f;
	long n;

	f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "replay: cannot open \"%s\": %s\n", path,
			strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) < 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) < 0) {
		fclose(f);
		return -1;
	}
	/* an exact-size heap copy lets ASan catch reads past the end */
	data = malloc(n ? (size_t)n : 1);
	if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) {
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t)n);
	free(data);
	return 0;
}

static int replay_path(const char *path, unsigned int *count)
{
	char sub[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int err = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: \"%s\": %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
			(*count)++;
			if (replay_file(sub) < 0)
				err = -1;
		}
	}
	closedir(d);
	return err;
}

int main(int argc, char **argv)
{
	unsigned int count = 0;
	int i, err = 0;

	for (i = 1; i < argc; i++) {
		if (replay_path(argv[i], &count) < 0)
			err = 1;
	}
	printf("replayed %u inputs\n", count);
	if (!count) {
		fprintf(stderr, "replay: no input found\n");
		return 1;
	}
	return err;
}
