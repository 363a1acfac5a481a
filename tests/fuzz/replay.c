/*
 * Replays a fuzz target over every file of its corpus directory, so that
 * each target is also an ordinary test in make check.  The directory is
 * FUZZ_CORPUS from the environment, else CORPUS_DIR given at build time.
 * Ends with "<program>: N passed, 0 failed": an input that crashes the
 * target aborts the run instead (ASan or an assertion).
 */
#include "config.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int
replay_file(const char *path)
{
	struct stat st;
	uint8_t *data;
	FILE *fp;
	size_t n;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return 0;
	if ((fp = fopen(path, "rb")) == NULL)
		return -1;
	if ((data = malloc(st.st_size ? (size_t)st.st_size : 1)) == NULL) {
		fclose(fp);
		return -1;
	}
	n = fread(data, 1, (size_t)st.st_size, fp);
	fclose(fp);
	if (n != (size_t)st.st_size) {
		free(data);
		return -1;
	}
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	return 1;
}

int
main(int argc, char **argv)
{
	const char *prog =
		strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *dir = getenv("FUZZ_CORPUS");
	struct dirent **names;
	char path[4096];
	int i, n, r;
	unsigned count = 0;

	if (dir == NULL)
		dir = CORPUS_DIR;
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if ((n = scandir(dir, &names, NULL, alphasort)) < 0) {
		fprintf(stderr, "%s: cannot read corpus %s\n", prog, dir);
		printf("%s: 0 passed, 1 failed\n", prog);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir,
				 names[i]->d_name);
			if ((r = replay_file(path)) < 0) {
				fprintf(stderr, "%s: cannot read %s\n", prog,
					path);
				printf("%s: %u passed, 1 failed\n", prog,
				       count);
				return 1;
			}
			count += (unsigned)r;
		}
		free(names[i]);
	}
	free(names);
	/* An empty corpus means the target was never exercised. */
	if (count == 0) {
		printf("%s: 0 passed, 1 failed\n", prog);
		return 1;
	}
	printf("%s: %u passed, 0 failed\n", prog, count);
	return 0;
}
