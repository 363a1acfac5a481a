/*
 * audit verify, audit list: the hash-chained audit log (db/audit.h), and
 * ctl_audit(), with which estuaryctl's own changes leave their row in the
 * same transaction as the change.
 */
#include "config.h"

#include <inttypes.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json.h>

#include "audit.h"
#include "ctl.h"
#include "err.h"
#include "util.h"

/* audit list prints at most this many rows. */
#define LIST_MAX 1000000
#define LIST_DEFAULT 100

/*
 * The invoking OS user, by its real uid: estuaryctl is not set-uid, so
 * this is who ran it (an environment variable such as SUDO_USER would be
 * the caller's word, not a fact).
 */
static void
os_user(char *out, size_t outlen)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	uid_t uid = getuid();

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) == 0 && res != NULL &&
	    pw.pw_name[0] != '\0')
		snprintf(out, outlen, "%s", pw.pw_name);
	else
		snprintf(out, outlen, "uid %lu", (unsigned long)uid);
}

/* {"after": {key: value, ...}} from NULL-ended key, value pairs. */
static int
after_json(const char *const *after, char **out)
{
	struct json_object *root = NULL, *obj = NULL, *v;
	const char *s;
	size_t i;
	int r = EST_E_NOMEM;

	if ((root = json_object_new_object()) == NULL ||
	    (obj = json_object_new_object()) == NULL)
		goto out;
	if (json_object_object_add(root, "after", obj) != 0) {
		json_object_put(obj);
		goto out;
	}
	for (i = 0; after[i] != NULL; i += 2) {
		v = NULL;
		if (after[i + 1] != NULL &&
		    (v = json_object_new_string(after[i + 1])) == NULL)
			goto out;
		if (json_object_object_add(obj, after[i], v) != 0) {
			json_object_put(v);
			goto out;
		}
	}
	if ((s = json_object_to_json_string_ext(
		     root, JSON_C_TO_STRING_PLAIN |
				   JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL ||
	    (*out = strdup(s)) == NULL)
		goto out;
	r = 0;
out:
	json_object_put(root);
	return r;
}

int
ctl_audit(struct db *db, const char *entity, int64_t entity_id,
	  const char *entity_name, int64_t tenant_id, int64_t org_id,
	  const char *action, const char *const *after)
{
	struct audit_event ev;
	char user[256], *details = NULL;
	int r;

	if ((r = after_json(after, &details)) != 0)
		return r;
	os_user(user, sizeof(user));
	memset(&ev, 0, sizeof(ev));
	ev.actor_type = AUDIT_ACTOR_SYSTEM;
	ev.actor_name = user;
	ev.tenant_id = tenant_id;
	ev.org_id = org_id;
	ev.entity = entity;
	ev.entity_id = entity_id;
	ev.entity_name = entity_name;
	ev.action = action;
	ev.outcome = AUDIT_SUCCESS;
	ev.details = details;
	r = db_audit_append(db, &ev);
	free(details);
	return r;
}

int
cmd_audit_verify(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_opt opts[] = {{NULL, NULL, NULL}};
	struct audit_verify v;
	struct db *db;
	char hex[2 * AUDIT_HASH_LEN + 1];
	char **pos;
	int npos, r;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    ctl_db(ctl, DB_ROLE_APP, &db) != 0)
		return 1;
	r = db_audit_verify_full(db, &v);
	if (r == 0) {
		printf("audit log OK: %" PRIu64 " rows\n", v.nrows);
		/* The anchor to note down: a rewrite of the end changes it. */
		if (v.nrows > 0) {
			hex_encode(v.last_hash, sizeof(v.last_hash), hex);
			printf("last row %" PRIu64 " sha256 %s\n", v.last_id,
			       hex);
		}
		return 0;
	}
	if (r != EST_E_INVAL)
		return ctl_fail_err(ctl, r, "cannot read the audit log");
	if (v.bad_id == 0)
		return ctl_fail(ctl, "audit log BROKEN: %s",
				audit_break_reason(v.status));
	return ctl_fail(ctl, "audit log BROKEN at id %" PRIu64 ": %s", v.bad_id,
			audit_break_reason(v.status));
}

/*
 * Does s match pattern exactly?  In the pattern, 'd' is a digit, 'T' is
 * 'T' or a space, anything else stands for itself.
 */
static int
time_shape(const char *s, const char *pattern)
{
	for (; *pattern != '\0'; s++, pattern++) {
		if (*pattern == 'd'   ? !(*s >= '0' && *s <= '9')
		    : *pattern == 'T' ? *s != 'T' && *s != ' '
				      : *s != *pattern)
			return 0;
	}
	return *s == '\0';
}

/*
 * A UTC time, "YYYY-MM-DD" (its midnight) or "YYYY-MM-DDTHH:MM:SS" with an
 * optional "Z", as UNIX seconds.  The time must exist: it is converted
 * back and compared, so that February 30 is refused, not moved.
 */
static int
parse_time(struct ctl *ctl, const char *opt, const char *s, int64_t *out)
{
	struct tm tm, back;
	time_t t;

	if (!time_shape(s, "dddd-dd-dd") &&
	    !time_shape(s, "dddd-dd-ddTdd:dd:dd") &&
	    !time_shape(s, "dddd-dd-ddTdd:dd:ddZ"))
		return ctl_fail(ctl,
				"%s must be YYYY-MM-DD or "
				"YYYY-MM-DDTHH:MM:SS (UTC)",
				opt);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	if (strlen(s) > 10) {
		tm.tm_hour = atoi(s + 11);
		tm.tm_min = atoi(s + 14);
		tm.tm_sec = atoi(s + 17);
	}
	back = tm;
	if (tm.tm_year < 70 || (t = timegm(&tm)) == (time_t)-1 ||
	    gmtime_r(&t, &tm) == NULL || tm.tm_year != back.tm_year ||
	    tm.tm_mon != back.tm_mon || tm.tm_mday != back.tm_mday ||
	    tm.tm_hour != back.tm_hour || tm.tm_min != back.tm_min ||
	    tm.tm_sec != back.tm_sec)
		return ctl_fail(ctl, "%s: no such time '%s'", opt, s);
	*out = (int64_t)t;
	return 0;
}

/*
 * A value for a tab-separated line: "-" for NULL, and control characters
 * (a tab or newline in JSON whitespace, anything a forged row holds) as
 * spaces, so that a record stays one line and a value cannot send
 * escape sequences to the operator's terminal.
 */
static void
print_cell(const char *s, size_t len)
{
	size_t i;

	if (s == NULL) {
		fputc('-', stdout);
		return;
	}
	for (i = 0; i < len; i++)
		fputc((unsigned char)s[i] < 0x20 || s[i] == 0x7f ? ' ' : s[i],
		      stdout);
}

static int
print_rows(struct ctl *ctl, const struct db_result *res, int csv)
{
	const char *s;
	char *line = NULL;
	size_t row, col, len = 0;
	int r;

	for (row = 0; row < db_result_rows(res); row++) {
		if (csv) {
			if ((r = db_audit_csv_row(res, row, &line, &len)) != 0)
				return ctl_fail_err(ctl, r, "CSV");
			fwrite(line, 1, len, stdout);
			free(line);
			continue;
		}
		for (col = 0; col < AUDIT_NCOLS; col++) {
			if (col > 0)
				fputc('\t', stdout);
			s = db_result_str(res, row, col, &len);
			print_cell(s, len);
		}
		fputc('\n', stdout);
	}
	return 0;
}

int
cmd_audit_list(struct ctl *ctl, int argc, char **argv)
{
	const char *limit = NULL, *since = NULL, *until = NULL, *entity = NULL;
	int csv = 0;
	const struct ctl_opt opts[] = {
		{"limit", &limit, NULL}, {"since", &since, NULL},
		{"until", &until, NULL}, {"entity", &entity, NULL},
		{"csv", NULL, &csv},	 {NULL, NULL, NULL},
	};
	struct audit_filter f;
	struct db_result *res = NULL;
	struct db *db;
	char **pos;
	uint64_t after = 0;
	size_t page, rows;
	int npos, n = LIST_DEFAULT, left, r;

	memset(&f, 0, sizeof(f));
	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    (limit != NULL &&
	     ctl_parse_int(ctl, "--limit", limit, 1, LIST_MAX, &n) != 0) ||
	    (since != NULL &&
	     parse_time(ctl, "--since", since, &f.since) != 0) ||
	    (until != NULL && parse_time(ctl, "--until", until, &f.until) != 0))
		return 1;
	f.entity = entity;
	if (ctl_db(ctl, DB_ROLE_APP, &db) != 0)
		return 1;
	if (csv)
		fputs(db_audit_csv_header(), stdout);
	for (left = n; left > 0; left -= (int)rows) {
		page = left < AUDIT_QUERY_MAX ? (size_t)left : AUDIT_QUERY_MAX;
		if ((r = db_audit_query(db, &f, after, page, &res)) != 0) {
			/* The times and the limit were checked above. */
			if (r == EST_E_INVAL)
				return ctl_fail(ctl,
						"--entity must be an entity "
						"name in lower case, such as "
						"tenant or ca");
			return ctl_fail_err(ctl, r,
					    "cannot read the audit log");
		}
		rows = db_result_rows(res);
		if (rows > 0)
			after = (uint64_t)db_result_i64(res, rows - 1,
							AUDIT_COL_ID);
		r = print_rows(ctl, res, csv);
		db_result_free(res);
		res = NULL;
		if (r != 0)
			return r;
		if (rows < page)
			break;
	}
	if (fflush(stdout) != 0)
		return ctl_fail(ctl, "cannot write the output");
	return 0;
}
