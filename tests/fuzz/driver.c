// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Runs the fuzz target over files, without libFuzzer: the corpus and every crash
 * input found so far are regression tests of the normal (and sanitizer) build. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;

	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc(n > 0 ? (size_t)n : 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0, failed = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *d;
		struct dirent *e;

		if (stat(argv[i], &st))
			continue;
		if (!S_ISDIR(st.st_mode)) {
			failed += run_file(argv[i]) != 0;
			files++;
			continue;
		}
		d = opendir(argv[i]);
		while (d && (e = readdir(d))) {
			char p[4096];

			size_t len = strlen(e->d_name);

			if (e->d_name[0] == '.' || (len > 3 && !strcmp(e->d_name + len - 3, ".md")))
				continue;
			snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
			failed += run_file(p) != 0;
			files++;
		}
		if (d)
			closedir(d);
	}
	/* an invariant broken aborts before this line */
	printf("fuzz regressions: %d passed, %d failed\n", files - failed, failed);
	return failed != 0;
}
