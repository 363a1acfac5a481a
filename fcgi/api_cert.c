/*
 * Certificates: list, the renewal report, read, revoke (fcgi/api_cert.h),
 * and what the other api_cert files share.
 *
 * A certificate is never changed but by revocation, which runs in one
 * transaction with the row locked, the CA's new CRL (pki/crl.h) and the
 * audit row: a revocation that cannot be published is not recorded either.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "api_cert.h"
#include "cert.h"
#include "crl.h"
#include "ctx.h"
#include "db.h"
#include "err.h"
#include "jsonval.h"
#include "perm.h"
#include "resp.h"
#include "rest.h"
#include "sigclient.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define SUBJECT_QUERY_MAX 256
#define SERIAL_HEX_MAX 40 /* 20 octets */
#define EXPIRING_DAYS_DEFAULT 30
#define EXPIRING_DAYS_MAX 3650
#define DAY_SECONDS 86400

int
api_cert_pass_check(const char *s)
{
	return strlen(s) <= SIGNER_PASSPHRASE_MAX ? 0 : EST_E_UNPROCESSABLE;
}

void
api_cert_wipe(struct json_object *body, const char *name)
{
	struct json_object *v;

	if (body != NULL && (v = json_object_object_get(body, name)) != NULL &&
	    json_object_is_type(v, json_type_string))
		explicit_bzero((char *)(uintptr_t)json_object_get_string(v),
			       (size_t)json_object_get_string_len(v));
}

/* "YYYY-MM-DD HH:MM:SS" of UNIX time t (UTC). */
static int
db_time_text(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return EST_E_UNPROCESSABLE;
	return 0;
}

/* ----- JSON of a certificate ----- */

/* RFC 5280 CRLReason names, by code; 7 is unused, 8 not for revocation. */
static const char *const reason_names[] = {
	[0] = "unspecified",	 [1] = "keyCompromise",
	[2] = "cACompromise",	 [3] = "affiliationChanged",
	[4] = "superseded",	 [5] = "cessationOfOperation",
	[6] = "certificateHold", [9] = "privilegeWithdrawn",
	[10] = "aACompromise",	 [11] = NULL,
};

static const char *
reason_name(int64_t code)
{
	return code >= 0 && (size_t)code < NELEM(reason_names)
		       ? reason_names[code]
		       : NULL;
}

static int
put_blob_hex(struct json_object *o, const char *key,
	     const struct db_result *res, size_t row, size_t col)
{
	const char *s;
	size_t len = 0;

	s = db_result_str(res, row, col, &len);
	return rest_put_hex(o, key, (const uint8_t *)s, s != NULL ? len : 0);
}

/*
 * What the portal shows beside a server-generated key (guide §2.2.1):
 * until when the PKCS#12 can be had.
 */
static int
put_key_note(struct json_object *o, const struct db_result *res, size_t row)
{
	const char *src = db_result_str(res, row, DB_CERT_KEY_SOURCE, NULL);
	const char *until;
	char msg[160], day[11];

	if (src == NULL || strcmp(src, "server") != 0)
		return rest_put_str(o, "key_download_message", NULL);
	until = db_result_str(res, row, DB_CERT_KEY_RETENTION_UNTIL, NULL);
	if (until == NULL || strlen(until) < 10)
		return rest_put_str(o, "key_download_message",
				    "The private key was not kept: it was "
				    "delivered once, with the certificate.");
	memcpy(day, until, 10);
	day[10] = '\0';
	snprintf(msg, sizeof(msg),
		 "You can't download the certificate with private key after "
		 "%s because of the key retention policy.",
		 day);
	return rest_put_str(o, "key_download_message", msg);
}

int
api_cert_json(const struct db_result *res, size_t row, int with_pem,
	      struct json_object **out)
{
	struct json_object *o;
	const char *der;
	char *pem = NULL;
	size_t derlen = 0;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = rest_put_id(o, "id", db_result_i64(res, row, DB_CERT_ID))) !=
		    0 ||
	    (r = rest_put_id(o, "ca_id",
			     db_result_i64(res, row, DB_CERT_CA_ID))) != 0 ||
	    (r = put_blob_hex(o, "serial", res, row, DB_CERT_SERIAL)) != 0 ||
	    (r = put_blob_hex(o, "fingerprint", res, row,
			      DB_CERT_FINGERPRINT)) != 0 ||
	    (r = rest_put_str(
		     o, "subject",
		     db_result_str(res, row, DB_CERT_SUBJECT, NULL))) != 0 ||
	    (r = rest_put_str(
		     o, "subject_cn",
		     db_result_str(res, row, DB_CERT_SUBJECT_CN, NULL))) != 0 ||
	    (r = rest_put_str(o, "issuer",
			      db_result_str(res, row, DB_CERT_ISSUER, NULL))) !=
		    0 ||
	    (r = rest_put_time(
		     o, "not_before",
		     db_result_str(res, row, DB_CERT_NOT_BEFORE, NULL))) != 0 ||
	    (r = rest_put_time(
		     o, "not_after",
		     db_result_str(res, row, DB_CERT_NOT_AFTER, NULL))) != 0 ||
	    (r = rest_put_str(o, "status",
			      db_result_str(res, row, DB_CERT_STATUS, NULL))) !=
		    0 ||
	    (r = rest_put_str(
		     o, "revocation_reason",
		     db_result_isnull(res, row, DB_CERT_REVOCATION_REASON)
			     ? NULL
			     : reason_name(db_result_i64(
				       res, row,
				       DB_CERT_REVOCATION_REASON)))) != 0 ||
	    (r = rest_put_time(
		     o, "revoked_at",
		     db_result_str(res, row, DB_CERT_REVOKED_AT, NULL))) != 0 ||
	    (r = rest_put_time(o, "invalidity_date",
			       db_result_str(res, row, DB_CERT_INVALIDITY_DATE,
					     NULL))) != 0 ||
	    (r = rest_put_id(o, "template_id",
			     db_result_i64(res, row, DB_CERT_TEMPLATE_ID))) !=
		    0 ||
	    (r = rest_put_id(o, "device_id",
			     db_result_i64(res, row, DB_CERT_DEVICE_ID))) !=
		    0 ||
	    (r = rest_put_str(o, "kind",
			      db_result_str(res, row, DB_CERT_KIND, NULL))) !=
		    0 ||
	    (r = rest_put_str(o, "key_type",
			      x509_keytype_name((int)db_result_i64(
				      res, row, DB_CERT_KEY_TYPE)))) != 0 ||
	    (r = rest_put_str(
		     o, "key_source",
		     db_result_str(res, row, DB_CERT_KEY_SOURCE, NULL))) != 0 ||
	    (r = rest_put_bool(
		     o, "key_available",
		     (int)db_result_i64(res, row, DB_CERT_KEY_AVAILABLE))) !=
		    0 ||
	    (r = rest_put_time(o, "key_retention_until",
			       db_result_str(res, row,
					     DB_CERT_KEY_RETENTION_UNTIL,
					     NULL))) != 0 ||
	    (r = put_key_note(o, res, row)) != 0 ||
	    (r = rest_put_id(o, "renewed_from_id",
			     db_result_i64(res, row, DB_CERT_RENEWED_FROM))) !=
		    0 ||
	    (r = rest_put_str(
		     o, "issued_via",
		     db_result_str(res, row, DB_CERT_ISSUED_VIA, NULL))) != 0 ||
	    (r = rest_put_str(o, "created_by_type",
			      db_result_str(res, row, DB_CERT_CREATED_BY_TYPE,
					    NULL))) != 0 ||
	    (r = rest_put_id(o, "tenant_id",
			     db_result_i64(res, row, DB_CERT_TENANT_ID))) !=
		    0 ||
	    (r = rest_put_id(o, "org_id",
			     db_result_i64(res, row, DB_CERT_ORG_ID))) != 0 ||
	    (r = rest_put_time(
		     o, "created_at",
		     db_result_str(res, row, DB_CERT_CREATED_AT, NULL))) != 0)
		goto out;
	if (with_pem) {
		if ((der = db_result_str(res, row, DB_CERT_DER, &derlen)) ==
			    NULL ||
		    derlen == 0) {
			r = EST_E_INTERNAL;
			goto out;
		}
		if ((r = x509_der_to_pem((const uint8_t *)der, derlen, &pem,
					 NULL)) != 0 ||
		    (r = rest_put_str(o, "pem", pem)) != 0)
			goto out;
	}
	*out = o;
	o = NULL;
out:
	free(pem);
	json_object_put(o);
	return r;
}

int
api_cert_etag(const struct db_result *res, char etag[REST_ETAG_MAX])
{
	return rest_etag("certificate", db_result_i64(res, 0, DB_CERT_ID),
			 db_result_str(res, 0, DB_CERT_UPDATED_AT, NULL), etag);
}

void
api_cert_what(const struct db_result *res, const char *action,
	      struct rest_what *w)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_CERTIFICATE;
	w->action = action;
	if (res == NULL)
		return;
	w->id = db_result_i64(res, 0, DB_CERT_ID);
	/* An empty subject (Wi-SUN) names nothing: the row has the id. */
	w->name = db_result_str(res, 0, DB_CERT_SUBJECT, NULL);
	if (w->name != NULL && w->name[0] == '\0')
		w->name = NULL;
	w->tenant_id = db_result_i64(res, 0, DB_CERT_TENANT_ID);
	w->org_id = db_result_i64(res, 0, DB_CERT_ORG_ID);
}

int
api_cert_access(struct db *db, const struct principal *p,
		const struct request *req, int64_t id, int lock,
		enum perm_action act, const char *action,
		struct db_result **out, struct jsonval_error *e)
{
	struct perm_object o = {0, 0, PERM_SCOPE_NONE};
	struct db_result *res = NULL;
	struct rest_what w;
	int r;

	if ((r = db_cert_get(db, id, lock, &res)) == EST_E_NOTFOUND)
		return rest_fail(e, r, NULL);
	if (r != 0)
		return r;
	o.tenant_id = db_result_i64(res, 0, DB_CERT_TENANT_ID);
	o.org_id = db_result_i64(res, 0, DB_CERT_ORG_ID);
	api_cert_what(res, action, &w);
	/* Inside a transaction the refusal is audited by the caller. */
	if (lock) {
		struct perm_actor a;

		if (auth_actor(p, &a) != 0)
			r = EST_E_INTERNAL;
		else if ((r = perm_check(&a, PERM_ENT_CERTIFICATE, act, &o)) !=
			 0)
			r = rest_fail(e, r, NULL);
	} else {
		r = rest_perm(db, p, req, act, &o, &w, e);
	}
	if (r != 0) {
		db_result_free(res);
		return r;
	}
	*out = res;
	return 0;
}

/* ----- list and report ----- */

static const char *const status_names[] = {"active", "revoked", "expired",
					   NULL};
static const char *const kind_names[] = {"factory", "operational", "other",
					 NULL};

static int
check_serial(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n % 2 != 0 || n > SERIAL_HEX_MAX)
		return EST_E_UNPROCESSABLE;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f') ||
		      (s[i] >= 'A' && s[i] <= 'F')))
			return EST_E_UNPROCESSABLE;
	return 0;
}

#define CERT_QUERY_COMMON                                                      \
	{.name = "ca_id", .type = REST_Q_ID},                                  \
		{.name = "template_id", .type = REST_Q_ID},                    \
		{.name = "device_id", .type = REST_Q_ID},                      \
		{.name = "tenant_id", .type = REST_Q_ID},                      \
		{.name = "org_id", .type = REST_Q_ID},                         \
		{.name = "kind",                                               \
		 .type = REST_Q_ENUM,                                          \
		 .enum_values = kind_names},                                   \
		{.name = "subject",                                            \
		 .type = REST_Q_STRING,                                        \
		 .max_len = SUBJECT_QUERY_MAX},                                \
		{.name = "subject_cn", .type = REST_Q_STRING, .max_len = 255}, \
	{                                                                      \
		.name = "serial", .type = REST_Q_STRING,                       \
		.max_len = SERIAL_HEX_MAX, .check = check_serial               \
	}

static const struct rest_qfield list_query[] = {
	CERT_QUERY_COMMON,
	{.name = "status", .type = REST_Q_ENUM, .enum_values = status_names},
	{.name = "expiring_before",
	 .type = REST_Q_STRING,
	 .max_len = REST_TIME_MAX_LEN,
	 .check = rest_time_check},
};

static const struct rest_qfield expiring_query[] = {
	CERT_QUERY_COMMON,
	{.name = "within_days",
	 .type = REST_Q_INT,
	 .min = 1,
	 .max = EXPIRING_DAYS_MAX},
};

/*
 * The list, or with expiring set the renewal report: the active
 * certificates whose notAfter falls within the next within_days days (30
 * unless given), the window in which device types renew them.
 */
static int
cert_list(struct hctx *c, const struct request *req, const struct principal *p,
	  struct resp *rs, int expiring)
{
	struct jsonval_error e = {0};
	struct db_cert_filter f;
	struct rest_page pg = {0};
	struct db_result *res = NULL;
	struct json_object *item;
	struct perm_filter pf;
	struct perm_actor a;
	struct rest_query q;
	struct rest_what w;
	struct db *db;
	uint8_t serial[20];
	char before[32];
	const char *s;
	int64_t v, t;
	size_t i;
	int r;

	memset(&f, 0, sizeof(f));
	api_cert_what(NULL, "list", &w);
	if ((r = rest_query_parse(req, expiring ? expiring_query : list_query,
				  expiring ? NELEM(expiring_query)
					   : NELEM(list_query),
				  &q, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_LIST, NULL, &w, &e)) != 0)
		goto out;
	if (auth_actor(p, &a) != 0 ||
	    perm_list_filter(&a, PERM_ENT_CERTIFICATE, &pf) != 0 ||
	    pf.kind == PERM_FILTER_NONE) {
		r = EST_E_INTERNAL;
		goto out;
	}
	if (pf.kind != PERM_FILTER_ALL)
		f.scope_tenant = pf.tenant_id;
	if (pf.kind == PERM_FILTER_ORG)
		f.scope_org = pf.org_id;
	if (rest_q_int(&q, "ca_id", &v) == 0)
		f.ca_id = v;
	if (rest_q_int(&q, "template_id", &v) == 0)
		f.template_id = v;
	if (rest_q_int(&q, "device_id", &v) == 0)
		f.device_id = v;
	if (rest_q_int(&q, "tenant_id", &v) == 0)
		f.tenant_id = v;
	if (rest_q_int(&q, "org_id", &v) == 0)
		f.org_id = v;
	f.kind = rest_q_str(&q, "kind");
	f.subject_contains = rest_q_str(&q, "subject");
	f.subject_cn = rest_q_str(&q, "subject_cn");
	if ((s = rest_q_str(&q, "serial")) != NULL) {
		f.serial_len = strlen(s) / 2;
		if (hex_decode(s, serial, f.serial_len) != 0) {
			r = rest_fail(&e, EST_E_INVAL, "serial");
			goto out;
		}
		f.serial = serial;
	}
	if (expiring) {
		if (rest_q_int(&q, "within_days", &v) != 0)
			v = EXPIRING_DAYS_DEFAULT;
		f.status = "active";
		t = (int64_t)time(NULL) + v * DAY_SECONDS;
	} else {
		f.status = rest_q_str(&q, "status");
		t = -1;
		if ((s = rest_q_str(&q, "expiring_before")) != NULL &&
		    rest_time_parse(s, &t) != 0) {
			r = rest_fail(&e, EST_E_INVAL, "expiring_before");
			goto out;
		}
	}
	if (t >= 0) {
		if (db_time_text(t, before) != 0) {
			r = rest_fail(&e, EST_E_INVAL,
				      expiring ? "within_days"
					       : "expiring_before");
			goto out;
		}
		f.expiring_before = before;
	}
	if ((r = db_cert_list(db, &f, q.after_id, rest_page_fetch(&q), &res)) !=
		    0 ||
	    (r = rest_page_init(&pg, &q)) != 0)
		goto out;
	for (i = 0; i < db_result_rows(res); i++) {
		if ((r = api_cert_json(res, i, 0, &item)) != 0 ||
		    (r = rest_page_add(&pg, db_result_i64(res, i, DB_CERT_ID),
				       item)) != 0)
			goto out;
	}
	r = rest_page_send(&pg, rs);
out:
	rest_page_clear(&pg);
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

static int
h_list(struct hctx *c, const struct request *req, const struct principal *p,
       struct resp *rs)
{
	return cert_list(c, req, p, rs, 0);
}

static int
h_expiring(struct hctx *c, const struct request *req, const struct principal *p,
	   struct resp *rs)
{
	return cert_list(c, req, p, rs, 1);
}

/* ----- read ----- */

static int
cert_send(struct db *db, int64_t id, int status, struct resp *rs)
{
	struct db_result *res = NULL;
	struct json_object *o = NULL;
	char etag[REST_ETAG_MAX];
	int r;

	if ((r = db_cert_get(db, id, 0, &res)) != 0 ||
	    (r = api_cert_json(res, 0, 1, &o)) != 0 ||
	    (r = api_cert_etag(res, etag)) != 0)
		goto out;
	r = rest_send(rs, status, o, etag);
out:
	json_object_put(o);
	db_result_free(res);
	return r;
}

static int
h_get(struct hctx *c, const struct request *req, const struct principal *p,
      struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_result *res = NULL;
	struct db *db;
	int64_t id;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_cert_access(db, p, req, id, 0, PERM_ACT_READ, "read", &res,
				 &e)) != 0)
		goto out;
	r = cert_send(db, id, 200, rs);
out:
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

/* ----- revoke ----- */

static const char *const revoke_reasons[] = {
	"unspecified",	   "keyCompromise",
	"cACompromise",	   "affiliationChanged",
	"superseded",	   "cessationOfOperation",
	"certificateHold", "privilegeWithdrawn",
	"aACompromise",	   NULL,
};

static const struct jsonval_field revoke_fields[] = {
	{.name = "reason", .type = JV_ENUM, .enum_values = revoke_reasons},
	{.name = "invalidity_date",
	 .type = JV_STRING,
	 .nullable = 1,
	 .max_len = REST_TIME_MAX_LEN,
	 .check = rest_time_check},
};

static int
reason_code(const char *name)
{
	size_t i;

	for (i = 0; i < NELEM(reason_names); i++)
		if (reason_names[i] != NULL &&
		    strcmp(reason_names[i], name) == 0)
			return (int)i;
	return -1;
}

static int
revoke_tx(struct db *db, struct sigclient *sig, const struct principal *p,
	  const struct request *req, int64_t id, int reason, int64_t invalidity,
	  struct jsonval_error *e)
{
	struct db_result *res = NULL;
	const char *status;
	struct rest_diff d;
	struct rest_what w;
	char etag[REST_ETAG_MAX];
	int r;

	rest_diff_init(&d);
	if ((r = api_cert_access(db, p, req, id, 1, PERM_ACT_REVOKE, "revoke",
				 &res, e)) != 0 ||
	    (r = api_cert_etag(res, etag)) != 0 ||
	    (req->if_match != NULL && (r = rest_if_match(req, etag, e)) != 0))
		goto out;
	status = db_result_str(res, 0, DB_CERT_STATUS, NULL);
	if (status == NULL || strcmp(status, "active") != 0) {
		r = jsonval_error_set(
			e, EST_E_CONFLICT, "id",
			"the certificate is %s already",
			status != NULL && strcmp(status, "expired") == 0
				? "expired"
				: "revoked");
		goto out;
	}
	api_cert_what(res, "revoke", &w);
	if ((r = db_cert_revoke(db, id, reason, (time_t)invalidity,
				auth_user_id(p))) != 0 ||
	    (r = crl_regenerate(db, sig,
				db_result_i64(res, 0, DB_CERT_CA_ID))) != 0 ||
	    (r = rest_diff_str(&d, "status", "active", "revoked")) != 0 ||
	    (r = rest_diff_str(&d, "revocation_reason", NULL,
			       reason_names[reason])) != 0 ||
	    (r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
out:
	rest_diff_clear(&d);
	db_result_free(res);
	return r;
}

static int
h_revoke(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_result *res = NULL;
	struct sigclient *sig = NULL;
	const char *s;
	struct db *db;
	int64_t id, invalidity = 0;
	int reason = 0, r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = rest_body_optional(req, revoke_fields, NELEM(revoke_fields),
				    &body, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_cert_access(db, p, req, id, 0, PERM_ACT_REVOKE, "revoke",
				 &res, &e)) != 0)
		goto out;
	if (body != NULL && (s = jsonval_get_string(body, "reason")) != NULL)
		reason = reason_code(s);
	if (body != NULL &&
	    (s = jsonval_get_string(body, "invalidity_date")) != NULL) {
		/* The day the key was compromised cannot lie ahead. */
		if (rest_time_parse(s, &invalidity) != 0 ||
		    invalidity > (int64_t)time(NULL) || invalidity == 0) {
			r = jsonval_error_set(&e, EST_E_UNPROCESSABLE,
					      "invalidity_date",
					      "must not lie in the future");
			goto out;
		}
	}
	if (reason < 0) {
		r = EST_E_INTERNAL;
		goto out;
	}
	if ((r = ctx_signer(c, &sig)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = revoke_tx(db, sig, p, req, id, reason, invalidity, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = cert_send(db, id, 200, rs);
out:
	db_result_free(res);
	json_object_put(body);
	return rest_answer(rs, r, &e);
}

AUTH_ROUTE(r_list, h_list)
AUTH_ROUTE(r_expiring, h_expiring)
AUTH_ROUTE(r_get, h_get)
AUTH_ROUTE(r_revoke, h_revoke)

int
api_cert_r_list(struct hctx *c, const struct request *req, struct resp *rs)
{
	return r_list(c, req, rs);
}

int
api_cert_r_expiring(struct hctx *c, const struct request *req, struct resp *rs)
{
	return r_expiring(c, req, rs);
}

int
api_cert_r_get(struct hctx *c, const struct request *req, struct resp *rs)
{
	return r_get(c, req, rs);
}

int
api_cert_r_revoke(struct hctx *c, const struct request *req, struct resp *rs)
{
	return r_revoke(c, req, rs);
}
