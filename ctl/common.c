/*
 * Helpers shared by the estuaryctl commands: option parsing against a
 * table, messages, lazily opened connections, input checks and files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "dbq.h"
#include "err.h"
#include "sigclient.h"

static void ctl_vmsg(struct ctl *ctl, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void
ctl_vmsg(struct ctl *ctl, const char *fmt, va_list ap)
{
	fprintf(stderr, "estuaryctl: ");
	if (ctl->cmdname != NULL)
		fprintf(stderr, "%s: ", ctl->cmdname);
	vfprintf(stderr, fmt, ap);
}

int
ctl_fail(struct ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmsg(ctl, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int
ctl_fail_err(struct ctl *ctl, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vmsg(ctl, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", est_strerror(err));
	return 1;
}

static const struct ctl_opt *
opt_find(const struct ctl_opt *opts, const char *name, size_t len)
{
	for (; opts->name != NULL; opts++)
		if (strlen(opts->name) == len &&
		    strncmp(opts->name, name, len) == 0)
			return opts;
	return NULL;
}

int
ctl_getopt(struct ctl *ctl, int argc, char **argv, const struct ctl_opt *opts,
	   char ***pos, int *npos, int minpos, int maxpos)
{
	const struct ctl_opt *o;
	const char *arg, *eq, *val;
	int i, n = 0, options = 1;
	size_t len;

	for (i = 0; i < argc; i++) {
		arg = argv[i];
		if (!options || strncmp(arg, "--", 2) != 0) {
			if (options && arg[0] == '-' && arg[1] != '\0')
				return ctl_fail(ctl, "unknown option %s", arg);
			argv[n++] = argv[i];
			continue;
		}
		if (arg[2] == '\0') {
			options = 0;
			continue;
		}
		arg += 2;
		eq = strchr(arg, '=');
		len = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		if ((o = opt_find(opts, arg, len)) == NULL)
			return ctl_fail(ctl, "unknown option --%.*s", (int)len,
					arg);
		if (o->flag != NULL) {
			if (eq != NULL)
				return ctl_fail(ctl, "--%s takes no value",
						o->name);
			if (*o->flag)
				return ctl_fail(ctl, "--%s given twice",
						o->name);
			*o->flag = 1;
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return ctl_fail(ctl, "--%s needs a value", o->name);
		if (*o->value != NULL)
			return ctl_fail(ctl, "--%s given twice", o->name);
		*o->value = val;
	}
	if (n < minpos)
		return ctl_fail(ctl, "missing argument");
	if (n > maxpos)
		return ctl_fail(ctl, "unexpected argument '%s'", argv[maxpos]);
	*pos = argv;
	*npos = n;
	return 0;
}

int
ctl_conf(struct ctl *ctl, struct conf **out)
{
	char err[512];
	int r;

	if (ctl->conf == NULL) {
		r = estuary_conf_load(ctl->confpath, &ctl->conf, err,
				      sizeof(err));
		if (r != 0) {
			fprintf(stderr, "estuaryctl: %s\n", err);
			return 1;
		}
	}
	*out = ctl->conf;
	return 0;
}

int
ctl_db(struct ctl *ctl, enum db_role role, struct db **out)
{
	struct db **dbp = role == DB_ROLE_ADMIN ? &ctl->dbadmin : &ctl->db;
	struct conf *conf;
	int r;

	if (*dbp == NULL) {
		if (ctl_conf(ctl, &conf) != 0)
			return 1;
		if ((r = db_connect(conf, role, dbp)) != 0)
			return ctl_fail_err(
				ctl, r, "cannot connect to %s as %s",
				conf_get(conf, "db_socket"),
				conf_get(conf, role == DB_ROLE_ADMIN
						       ? "db_admin_user"
						       : "db_user"));
	}
	*out = *dbp;
	return 0;
}

int
ctl_signer(struct ctl *ctl, struct sigclient **out)
{
	struct conf *conf;
	const char *path;
	int r;

	if (ctl->signer == NULL) {
		if (ctl_conf(ctl, &conf) != 0)
			return 1;
		path = conf_get(conf, "signer_socket");
		if ((r = sigclient_connect(path, &ctl->signer)) != 0)
			return ctl_fail_err(
				ctl, r, "cannot connect to the signer at %s",
				path);
	}
	*out = ctl->signer;
	return 0;
}

int
ctl_parse_int(struct ctl *ctl, const char *opt, const char *s, int min, int max,
	      int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (s[0] == '\0' || s[0] == ' ' || s[0] == '+' || *end != '\0' ||
	    errno != 0 || v < min || v > max)
		return ctl_fail(ctl, "%s must be a number from %d to %d", opt,
				min, max);
	*out = (int)v;
	return 0;
}

/*
 * Counts UTF-8 characters; -1 for invalid UTF-8 (overlong forms,
 * surrogates, beyond U+10FFFF) or a control character (C0, DEL, C1).
 */
static long
utf8_chars(const unsigned char *s)
{
	long n = 0;
	unsigned need, k;
	uint32_t cp, min;

	while (*s != '\0') {
		if (*s < 0x80) {
			if (*s < 0x20 || *s == 0x7f)
				return -1;
			s++;
			n++;
			continue;
		}
		if ((*s & 0xe0) == 0xc0) {
			need = 1;
			cp = *s & 0x1f;
			min = 0x80;
		} else if ((*s & 0xf0) == 0xe0) {
			need = 2;
			cp = *s & 0x0f;
			min = 0x800;
		} else if ((*s & 0xf8) == 0xf0) {
			need = 3;
			cp = *s & 0x07;
			min = 0x10000;
		} else {
			return -1;
		}
		for (k = 1; k <= need; k++) {
			if ((s[k] & 0xc0) != 0x80)
				return -1;
			cp = (cp << 6) | (s[k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) ||
		    (cp >= 0x80 && cp <= 0x9f))
			return -1;
		s += need + 1;
		n++;
	}
	return n;
}

int
ctl_check_text(struct ctl *ctl, const char *what, const char *s, size_t max)
{
	long n = utf8_chars((const unsigned char *)s);

	if (n < 0)
		return ctl_fail(
			ctl, "%s must be UTF-8 text without control characters",
			what);
	if (n == 0 || (size_t)n > max)
		return ctl_fail(ctl, "%s must have 1 to %zu characters", what,
				max);
	return 0;
}

int
ctl_check_label(struct ctl *ctl, const char *what, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n == 0 || n > max ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		      "0123456789._-") != n)
		return ctl_fail(
			ctl,
			"%s must have 1 to %zu characters of A-Z a-z 0-9 . _ -",
			what, max);
	return 0;
}

int
ctl_read_file(const char *path, size_t max, char **out, size_t *len)
{
	char *d;
	size_t n = 0;
	ssize_t k;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? EST_E_NOTFOUND : EST_E_IO;
	if ((d = malloc(max + 1)) == NULL) {
		close(fd);
		return EST_E_NOMEM;
	}
	/* Read one byte more than allowed to tell "too big" from "full". */
	for (;;) {
		k = read(fd, d + n, max + 1 - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = EST_E_IO;
			break;
		}
		if (k == 0)
			break;
		n += (size_t)k;
		if (n > max) {
			r = EST_E_TOOBIG;
			break;
		}
	}
	close(fd);
	if (r != 0) {
		explicit_bzero(d, n);
		free(d);
		return r;
	}
	d[n] = '\0';
	*out = d;
	if (len != NULL)
		*len = n;
	return 0;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	ssize_t k;

	while (len > 0) {
		k = write(fd, p, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return EST_E_IO;
		p += k;
		len -= (size_t)k;
	}
	return 0;
}

int
ctl_write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	int fd, dfd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp))
		return EST_E_INVAL;
	if ((fd = mkstemp(tmp)) < 0)
		return EST_E_IO;
	if ((r = write_all(fd, data, len)) != 0 || fchmod(fd, mode) != 0 ||
	    fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return r != 0 ? r : EST_E_IO;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return EST_E_IO;
	}
	/* Make the rename itself durable. */
	snprintf(dir, sizeof(dir), "%s", path);
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >=
	    0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int
ctl_output(const char *path, const void *data, size_t len)
{
	if (path != NULL)
		return ctl_write_file(path, data, len, 0644);
	if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
		return EST_E_IO;
	return 0;
}

int
ctl_tenant_org(struct ctl *ctl, struct db *db, const char *tenant,
	       const char *org, int64_t *tenant_id, int64_t *org_id)
{
	int64_t tid = 0, oid = 0;
	int r;

	if (org != NULL && tenant == NULL)
		return ctl_fail(ctl, "--org needs --tenant");
	if (tenant != NULL) {
		if (ctl_check_text(ctl, "the tenant name", tenant, 128) != 0)
			return 1;
		if ((r = db_tenant_find(db, tenant, &tid)) == EST_E_NOTFOUND)
			return ctl_fail(ctl, "no tenant '%s'", tenant);
		if (r != 0)
			return ctl_fail_err(ctl, r, "cannot look up tenant");
	}
	if (org != NULL) {
		if (ctl_check_text(ctl, "the organization name", org, 128) != 0)
			return 1;
		if ((r = db_org_find(db, tid, org, &oid)) == EST_E_NOTFOUND)
			return ctl_fail(ctl,
					"no organization '%s' in tenant '%s'",
					org, tenant);
		if (r != 0)
			return ctl_fail_err(ctl, r,
					    "cannot look up organization");
	}
	*tenant_id = tid;
	*org_id = oid;
	return 0;
}
