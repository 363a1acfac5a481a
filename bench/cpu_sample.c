/*
 * CPU time of a running instance's processes (cpu_sample.h), from /proc,
 * for the benches that print what an operation costs each of them.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu_sample.h"

static const char *const cpu_comm[CPU_N] = {"lighttpd",	   "estuary-est",
					    "estuary-api", "estuary-signerd",
					    "mariadbd",	   NULL};

/* utime + stime in seconds from a /proc/PID/stat line; comm into comm. */
static int
stat_parse(const char *path, char *comm, size_t commlen, double *secs)
{
	char buf[1024], *l, *r;
	unsigned long long ut = 0, st = 0;
	FILE *fp = fopen(path, "r");
	size_t n;

	if (fp == NULL)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	if ((l = strchr(buf, '(')) == NULL || (r = strrchr(buf, ')')) == NULL ||
	    r < l)
		return -1;
	snprintf(comm, commlen, "%.*s", (int)(r - l - 1), l + 1);
	/* After the comm: state, then fields 4..13, then utime, stime. */
	if (sscanf(r + 2,
		   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
		   &st) != 2)
		return -1;
	*secs = (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
	return 0;
}

/* Whether process pid's command line names the instance in var. */
static int
of_instance(const char *pid, const char *var)
{
	char path[64], buf[4096], pat[600];
	size_t n, i, vl = strlen(var);
	FILE *fp;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%s/cmdline", pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	for (i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	buf[n] = '\0';
	snprintf(pat, sizeof(pat), "%s/etc/", var);
	if (strstr(buf, pat) != NULL)
		return 1;
	/* mariadbd --datadir=VAR/db */
	snprintf(pat, sizeof(pat), "=%s/db", var);
	for (p = buf; (p = strstr(p, pat)) != NULL; p += vl)
		if (p[strlen(pat)] == ' ' || p[strlen(pat)] == '/' ||
		    p[strlen(pat)] == '\0')
			return 1;
	return 0;
}

void
cpu_sample(double out[CPU_N])
{
	const char *var = getenv("ESTUARY_VAR");
	struct dirent *e;
	char path[300], comm[64];
	double secs;
	DIR *d;
	int k;

	memset(out, 0, CPU_N * sizeof(out[0]));
	if (stat_parse("/proc/self/stat", comm, sizeof(comm), &secs) == 0)
		out[CPU_SELF] = secs;
	if (var == NULL || (d = opendir("/proc")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if (stat_parse(path, comm, sizeof(comm), &secs) != 0)
			continue;
		for (k = 0; k < CPU_SELF; k++)
			if (strcmp(comm, cpu_comm[k]) == 0)
				break;
		if (k < CPU_SELF && of_instance(e->d_name, var))
			out[k] += secs;
	}
	closedir(d);
}
