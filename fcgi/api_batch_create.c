/*
 * Creating a batch job (POST /api/v1/batch-jobs, fcgi/api_batch.h).
 *
 * The body is JSON: the template, either "count" (N items from the
 * common values, with placeholders: pki/batch.h) or "csv" (the text of a
 * CSV upload, one item per row, at most 1 MiB), the common "subject"
 * object and "san" array, "key_type", "passphrase_mode" ("per_batch",
 * with the user's "passphrase" or a generated one, or "per_certificate",
 * one generated passphrase per PKCS#12), "valid_from", "validity_days",
 * and like a certificate "tenant_id" and "org_id".  A CSV goes inside the
 * JSON rather than as a text/csv body so that those parameters travel
 * with it in one validated document.
 *
 * Nothing is written until every item has been checked as issue_cert()
 * will see it (a refusal is 422 naming the row and the field).  Then the
 * job row, all its items (multi-row INSERTs of 1000) and its audit row go
 * in one transaction, and the job's passphrases are written to its
 * directory before that transaction commits (pki/batch_files.c explains
 * why).  The answer is 202 with the job: estuary-worker issues the
 * certificates.
 *
 * Who may create: perm_check(batch_job, create) where the job (and its
 * certificates) will belong, which is decided as for a single certificate
 * (fcgi/api_cert_issue.c): the actor's tenant and organization, or those
 * named in the body within the actor's reach, or the template's.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "api_batch.h"
#include "api_cert.h"
#include "api_issue_req.h"
#include "batch.h"
#include "conf.h"
#include "csr.h"
#include "ctx.h"
#include "db.h"
#include "dbbatch.h"
#include "dbq.h"
#include "err.h"
#include "jsonval.h"
#include "log.h"
#include "perm.h"
#include "resp.h"
#include "rest.h"
#include "template.h"
#include "tmpl.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define DAY_SECONDS 86400
#define NAME_MAX_LEN 128

static const char *const key_types[] = {
	"ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", NULL,
};
static const char *const san_types[] = {
	"dns", "ip", "uri", "email", "othername", NULL,
};
static const char *const modes[] = {"per_batch", "per_certificate", NULL};

static const struct jsonval_field san_fields[] = {
	{.name = "type",
	 .type = JV_ENUM,
	 .required = 1,
	 .enum_values = san_types},
	{.name = "oid",
	 .type = JV_STRING,
	 .max_len = 128,
	 .check = jsonval_check_oid},
	{.name = "value",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = 1,
	 .max_len = BATCH_VALUE_MAX},
};

static const struct jsonval_field create_fields[] = {
	{.name = "name",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = 1,
	 .max_len = NAME_MAX_LEN,
	 .check = jsonval_check_name},
	{.name = "template_id",
	 .type = JV_INT,
	 .required = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "count", .type = JV_INT, .min = 1, .max = BATCH_COUNT_MAX},
	{.name = "csv",
	 .type = JV_STRING,
	 .multiline = 1,
	 .min_len = 1,
	 .max_len = BATCH_CSV_MAX},
	{.name = "san",
	 .type = JV_OBJECT_ARRAY,
	 .max_items = BATCH_SAN_MAX,
	 .fields = san_fields,
	 .nfields = NELEM(san_fields)},
	{.name = "key_type", .type = JV_ENUM, .enum_values = key_types},
	{.name = "passphrase_mode",
	 .type = JV_ENUM,
	 .required = 1,
	 .enum_values = modes},
	{.name = "passphrase",
	 .type = JV_STRING,
	 .min_len = API_CERT_PASS_MIN,
	 .max_len = API_CERT_PASS_MAX,
	 .check = api_cert_pass_check},
	{.name = "valid_from",
	 .type = JV_STRING,
	 .nullable = 1,
	 .max_len = 35,
	 .check = rest_time_check},
	{.name = "validity_days",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = X509_DAYS_MAX},
	{.name = "tenant_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
	{.name = "org_id",
	 .type = JV_INT,
	 .nullable = 1,
	 .min = 1,
	 .max = INT64_MAX},
};

/* Everything one request gathers; freed by create_clear(). */
struct creating {
	struct json_object *body;
	struct json_object *subject; /* the raw "subject" member */
	struct tmpl *t;
	struct db_ca *ca;
	struct batch_values *common;
	struct batch_csv *csv;
	struct batch_values **rows;
	char **rows_json;
	char *common_json;
	uint32_t count;
	int key_type;
	enum batch_mode mode;
	int64_t nb;
	int days;
	char valid_from[32];
	int64_t tenant_id, org_id;
};

static void
create_clear(struct creating *cr)
{
	size_t i;

	api_cert_wipe(cr->body, "passphrase");
	json_object_put(cr->body);
	json_object_put(cr->subject);
	tmpl_free(cr->t);
	db_ca_free(cr->ca);
	batch_values_free(cr->common);
	if (cr->csv != NULL) {
		batch_rows_free(cr->rows, cr->csv->nrows);
		for (i = 0; cr->rows_json != NULL && i < cr->csv->nrows; i++)
			free(cr->rows_json[i]);
	}
	free(cr->rows_json);
	batch_csv_free(cr->csv);
	free(cr->common_json);
	memset(cr, 0, sizeof(*cr));
}

static int
berror(struct jsonval_error *e, const struct batch_error *be)
{
	return jsonval_error_set(e, EST_E_UNPROCESSABLE, be->field, "%s",
				 be->message);
}

/* ----- the body ----- */

/*
 * Exactly application/json (utf-8 only), as rest_body() wants; the body
 * is read here because its "subject" member has the template's fields as
 * members, which no static table lists: it is taken out before the rest
 * is checked, and checked against the template once that is known.
 */
static int
read_body(const struct request *req, struct creating *cr,
	  struct jsonval_error *e)
{
	struct json_object *sub;
	int r;

	if ((r = rest_body_parse(req, &cr->body, e)) != 0)
		return r;
	if (json_object_object_get_ex(cr->body, "subject", &sub)) {
		if (!json_object_is_type(sub, json_type_object))
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "subject",
						 "must be an object");
		cr->subject = json_object_get(sub);
		json_object_object_del(cr->body, "subject");
	}
	if ((r = jsonval_check(cr->body, create_fields, NELEM(create_fields),
			       e)) != 0)
		return r;
	if ((jsonval_presence(cr->body, "count") == JV_PRESENT) ==
	    (jsonval_presence(cr->body, "csv") == JV_PRESENT))
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "count",
					 "give either count or csv");
	cr->mode = strcmp(jsonval_get_string(cr->body, "passphrase_mode"),
			  "per_batch") == 0
			   ? BATCH_PER_BATCH
			   : BATCH_PER_CERTIFICATE;
	if (cr->mode == BATCH_PER_CERTIFICATE &&
	    jsonval_presence(cr->body, "passphrase") == JV_PRESENT)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "passphrase",
					 "per_certificate passphrases are "
					 "generated");
	return 0;
}

/* ----- template and owner (as fcgi/api_cert_issue.c decides them) ----- */

static int
template_load(struct db *db, const struct principal *p, struct creating *cr,
	      struct jsonval_error *e)
{
	struct perm_object o = {0, 0, PERM_SCOPE_NONE};
	struct perm_actor a;
	enum perm_scope sc;
	int64_t id = 0;
	int r;

	(void)jsonval_get_int(cr->body, "template_id", &id);
	if ((r = db_template_load(db, id, &cr->t)) == EST_E_NOTFOUND)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "template_id",
					 "no such template");
	if (r != 0)
		return r;
	if (auth_actor(p, &a) != 0 || perm_scope_from_name(cr->t->scope, &sc))
		return EST_E_INTERNAL;
	o.tenant_id = cr->t->tenant_id;
	o.org_id = cr->t->org_id;
	o.scope = sc;
	if (perm_check(&a, PERM_ENT_CERT_TEMPLATE, PERM_ACT_READ, &o) != 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "template_id",
					 "no such template");
	if (!cr->t->active)
		return jsonval_error_set(e, EST_E_CONFLICT, "template_id",
					 "the template is inactive");
	if (!cr->t->server_keygen)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "template_id",
					 "the template does not allow keys "
					 "generated by the server");
	/* The archive is kept until the keys' retention date. */
	if (cr->t->key_retention_days <= 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "template_id",
					 "the template keeps no key: a batch "
					 "needs key retention");
	if ((r = db_ca_get(db, cr->t->ca_id, &cr->ca)) != 0)
		return r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
	if (!cr->ca->active || cr->ca->cert_der == NULL)
		return jsonval_error_set(e, EST_E_CONFLICT, "template_id",
					 "the template's CA is inactive");
	return 0;
}

/* ----- validity, key type ----- */

/*
 * The checks issue_cert() makes on validity, made once for the whole job
 * with valid_from (or now): a job refused item by item would only fail
 * later and slower.
 */
static int
validity_get(struct creating *cr, struct jsonval_error *e)
{
	const char *s = jsonval_get_string(cr->body, "valid_from");
	int64_t v, from = (int64_t)time(NULL);
	int days;
	struct tm tm;
	time_t tt;

	if (s != NULL) {
		if (rest_time_parse(s, &v) != 0 || v == 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "valid_from",
						 "not an RFC 3339 date-time");
		cr->nb = from = v;
		tt = (time_t)v;
		if (gmtime_r(&tt, &tm) == NULL ||
		    strftime(cr->valid_from, sizeof(cr->valid_from),
			     "%Y-%m-%d %H:%M:%S", &tm) == 0)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE,
						 "valid_from", "out of range");
	}
	if (jsonval_get_int(cr->body, "validity_days", &v) == 0) {
		if (cr->t->validity_days == TMPL_VALIDITY_UNLIMITED)
			return jsonval_error_set(
				e, EST_E_UNPROCESSABLE, "validity_days",
				"the template has unlimited expiration");
		cr->days = (int)v;
	}
	if (from < cr->ca->not_before)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "valid_from",
					 "the CA's certificate is not valid "
					 "yet then");
	if (from >= cr->ca->not_after)
		return jsonval_error_set(e, EST_E_CONFLICT, "valid_from",
					 "the CA's certificate has expired by "
					 "then");
	days = cr->days != 0 ? cr->days : cr->t->validity_days;
	if (cr->t->validity_days != TMPL_VALIDITY_UNLIMITED &&
	    from + (int64_t)days * DAY_SECONDS > cr->ca->not_after)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE,
					 "validity_days",
					 "the certificates would outlive their "
					 "CA's");
	return 0;
}

static int
key_type_get(struct creating *cr, struct jsonval_error *e)
{
	const char *s = jsonval_get_string(cr->body, "key_type");
	int kt = cr->t->keygen_key_type, i;

	if (s != NULL && x509_keytype_parse(s, &kt) != 0)
		return EST_E_INTERNAL;
	for (i = SIGNER_KEY_MIN; kt == 0 && i <= SIGNER_KEY_MAX; i++)
		if ((cr->t->key_types & CSR_KEYBIT(i)) != 0)
			kt = i;
	if (kt == 0 || (cr->t->key_types & CSR_KEYBIT(kt)) == 0)
		return jsonval_error_set(e, EST_E_UNPROCESSABLE, "key_type",
					 "the template does not allow this key "
					 "type");
	cr->key_type = kt;
	return 0;
}

/* ----- the items ----- */

static int
has_placeholder(const struct batch_values *v)
{
	size_t i;

	for (i = 0; i < v->nsubject; i++)
		if (strchr(v->subject[i].value, '{') != NULL)
			return 1;
	for (i = 0; i < v->nsan; i++)
		if (strchr(v->san[i].value, '{') != NULL)
			return 1;
	return 0;
}

/*
 * Every item checked before anything is written.  Items made from the
 * common values alone are all alike without a placeholder: one check is
 * enough then.
 */
static int
items_check(struct creating *cr, struct jsonval_error *e)
{
	struct issue_error ie;
	char field[128];
	uint32_t i, n = cr->count;
	int r;

	if (cr->csv == NULL && !has_placeholder(cr->common))
		n = 1;
	for (i = 0; i < n; i++) {
		memset(&ie, 0, sizeof(ie));
		r = batch_item_check(cr->t, cr->common,
				     cr->rows != NULL ? cr->rows[i] : NULL,
				     i + 1, &ie);
		if (r == 0)
			continue;
		if (r != EST_E_UNPROCESSABLE)
			return r;
		if (cr->csv == NULL)
			return jsonval_error_set(e, r, ie.field,
						 "item %u: %.80s",
						 (unsigned)(i + 1), ie.message);
		snprintf(field, sizeof(field), "csv.rows[%u].%.80s",
			 (unsigned)i, ie.field);
		return jsonval_error_set(
			e, r, field, "row %u (line %zu): %.70s",
			(unsigned)(i + 1), cr->csv->line[i], ie.message);
	}
	return 0;
}

static int
items_prepare(struct creating *cr, struct jsonval_error *e)
{
	struct batch_error be;
	const char *text = jsonval_get_string(cr->body, "csv");
	int64_t v;
	size_t i;
	int r;

	memset(&be, 0, sizeof(be));
	if ((r = batch_values_from_request(cr->t, cr->subject, cr->body,
					   &cr->common, &be)) != 0)
		return r == EST_E_UNPROCESSABLE ? berror(e, &be) : r;
	if (text == NULL) {
		if (jsonval_get_int(cr->body, "count", &v) != 0)
			return EST_E_INTERNAL;
		cr->count = (uint32_t)v;
	} else {
		if (strlen(text) > BATCH_CSV_MAX)
			return jsonval_error_set(e, EST_E_UNPROCESSABLE, "csv",
						 "larger than 1 MiB");
		if ((r = batch_csv_parse(text, strlen(text), &cr->csv, &be)) !=
			    0 ||
		    (r = batch_csv_values(cr->t, cr->csv, &cr->rows, &be)) != 0)
			return r == EST_E_UNPROCESSABLE ? berror(e, &be) : r;
		cr->count = (uint32_t)cr->csv->nrows;
	}
	if ((r = items_check(cr, e)) != 0 ||
	    (r = batch_values_json(cr->common, &cr->common_json)) != 0)
		return r;
	if (cr->csv == NULL)
		return 0;
	if ((cr->rows_json = calloc(cr->csv->nrows, sizeof(char *))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < cr->csv->nrows; i++)
		if ((r = batch_values_json(cr->rows[i], &cr->rows_json[i])) !=
		    0)
			return r;
	return 0;
}

/* ----- writing ----- */

static int
create_tx(struct db *db, const struct principal *p, const struct request *req,
	  const char *batch_dir, struct creating *cr, int64_t *id, int *wrote)
{
	struct db_batch_job_new j;
	struct rest_diff d;
	struct rest_what w;
	char tpl[24];
	int r;

	memset(&j, 0, sizeof(j));
	j.name = jsonval_get_string(cr->body, "name");
	j.template_id = cr->t->id;
	j.tenant_id = cr->tenant_id;
	j.org_id = cr->org_id;
	j.source = cr->csv != NULL ? "csv" : "generated";
	j.total = cr->count;
	j.key_type = cr->key_type;
	j.passphrase_mode =
		cr->mode == BATCH_PER_BATCH ? "per_batch" : "per_certificate";
	j.subject_values = cr->common_json;
	j.valid_from = cr->valid_from[0] != '\0' ? cr->valid_from : NULL;
	j.validity_days = cr->days;
	j.key_retention_days = cr->t->key_retention_days;
	j.created_by_type = p->kind == PRINCIPAL_USER ? "user" : "application";
	j.created_by_user_id = auth_user_id(p);
	j.created_by_app_id = p->kind == PRINCIPAL_APPLICATION ? p->id : 0;
	rest_diff_create(&d);
	snprintf(tpl, sizeof(tpl), "%lld", (long long)cr->t->id);
	if ((r = db_batch_job_insert(db, &j, id)) != 0 ||
	    (r = db_batch_items_insert(db, *id, 1,
				       (const char *const *)cr->rows_json,
				       cr->count)) != 0)
		goto out;
	/* Before the commit: a job whose passphrases are lost never exists. */
	*wrote = 1;
	if ((r = batch_secrets_write(batch_dir, *id, cr->mode,
				     jsonval_get_string(cr->body, "passphrase"),
				     cr->count)) != 0) {
		log_err("batch job %lld: cannot write its passphrases in %s: "
			"%s",
			(long long)*id, batch_dir, est_strerror(r));
		r = EST_E_IO;
		goto out;
	}
	memset(&w, 0, sizeof(w));
	w.entity = PERM_ENT_BATCH_JOB;
	w.action = "create";
	w.id = *id;
	w.name = j.name;
	w.tenant_id = cr->tenant_id;
	w.org_id = cr->org_id;
	if ((r = rest_diff_int(&d, "template_id", 0, cr->t->id, 1)) != 0 ||
	    (r = rest_diff_str(&d, "source", NULL, j.source)) != 0 ||
	    (r = rest_diff_int(&d, "total", 0, cr->count, 0)) != 0 ||
	    (r = rest_diff_str(&d, "key_type", NULL,
			       x509_keytype_name(cr->key_type))) != 0 ||
	    (r = rest_diff_str(&d, "passphrase_mode", NULL,
			       j.passphrase_mode)) != 0 ||
	    (jsonval_presence(cr->body, "passphrase") == JV_PRESENT &&
	     (r = rest_diff_note(&d, "passphrase", "set")) != 0))
		goto out;
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	return r;
}

static int
h_create(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct perm_object o = {0, 0, PERM_SCOPE_NONE};
	struct jsonval_error e = {0};
	struct creating cr;
	struct rest_what w;
	const char *batch_dir = conf_get(c->conf, "batch_dir");
	struct db *db;
	int64_t id = 0;
	int r, wrote = 0;

	memset(&cr, 0, sizeof(cr));
	memset(&w, 0, sizeof(w));
	w.entity = PERM_ENT_BATCH_JOB;
	w.action = "create";
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = rest_perm(db, p, req, PERM_ACT_CREATE, NULL, &w, &e)) != 0 ||
	    (r = read_body(req, &cr, &e)) != 0 ||
	    (r = template_load(db, p, &cr, &e)) != 0 ||
	    (r = issue_req_owner(db, p, cr.t, cr.body, &cr.tenant_id,
				 &cr.org_id, &e)) != 0)
		goto out;
	o.tenant_id = w.tenant_id = cr.tenant_id;
	o.org_id = w.org_id = cr.org_id;
	if ((r = rest_perm(db, p, req, PERM_ACT_CREATE, &o, &w, &e)) != 0 ||
	    (r = validity_get(&cr, &e)) != 0 ||
	    (r = key_type_get(&cr, &e)) != 0 ||
	    (r = items_prepare(&cr, &e)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = create_tx(db, p, req, batch_dir, &cr, &id, &wrote);
	if ((r = rest_tx_end(db, r)) != 0) {
		/* The directory of a job that does not exist must not stay. */
		if (wrote)
			(void)batch_dir_remove(batch_dir, id);
		goto out;
	}
	log_info("batch job %lld created: %u items", (long long)id,
		 (unsigned)cr.count);
	r = api_batch_send(db, id, 202, rs);
out:
	create_clear(&cr);
	return rest_answer(rs, r, &e);
}

AUTH_ROUTE_PUBLIC(api_batch_r_create, h_create)
