/*
 * What an EST enrollment writes besides its certificate (fcgi/est.h): the
 * est_enrollments row and the audit rows' details, for est_issue.c's own
 * transaction; and, for an application's enrollment, the job that the
 * writer thread commits together with other requests' (fcgi/txq.h).
 *
 * An application's enrollment is signed on the request's thread and then
 * handed over with everything it writes copied out of the request: the
 * certificate's row, its enrollment record and its audit row "issue".
 * The answer (the certificate, or with serverkeygen the certificate and
 * the key exported before the hand-over) is made once they commit.  A
 * failure there is the server's (the database), answered 503 or 500 as
 * est_fail_code() says; the request is not recorded as a refusal, as
 * est_refuse() does not record a 503 either.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "ctx.h"
#include "db.h"
#include "enroll.h"
#include "err.h"
#include "est.h"
#include "est_resp.h"
#include "issue.h"
#include "perm.h"
#include "provision.h"
#include "resp.h"
#include "txq.h"
#include "util.h"

void
est_rec_of(const struct est_call *ec, const struct est_client *cl,
	   struct est_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->tenant_id = ec->scope.tenant_id;
	rec->org_id = ec->scope.org_id;
	rec->server_id = ec->scope.server_id;
	rec->domain = ec->scope.domain;
	rec->label = ec->scope.label;
	rec->source_addr = ec->scope.source_addr;
	rec->channel = ec->scope.channel;
	rec->method = cl->method;
	rec->app_id = cl->app_id;
	rec->app_name = cl->app_name;
}

void
est_rec_enrollment(const struct est_rec *rec, int64_t device_id,
		   int64_t cert_id, struct db_enrollment *en)
{
	memset(en, 0, sizeof(*en));
	en->tenant_id = rec->tenant_id;
	en->org_id = rec->org_id;
	en->server_id = rec->server_id;
	en->domain = rec->domain;
	en->label = rec->label;
	en->operation = prov_channel_name(rec->channel);
	en->auth_method = prov_method_name(rec->method);
	en->outcome = DB_ENROLL_SUCCESS;
	en->device_id = device_id;
	en->app_id = rec->app_id;
	en->certificate_id = cert_id;
	en->source_addr = rec->source_addr;
}

int
est_rec_details(const struct est_rec *rec, int64_t enrollment_id, char **out)
{
	struct json_object *o;
	const char *txt;
	int r = EST_E_NOMEM;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if (json_object_object_add(o, "server_id",
				   json_object_new_int64(rec->server_id)) ||
	    json_object_object_add(o, "domain",
				   json_object_new_string(rec->domain)) ||
	    json_object_object_add(o, "label",
				   rec->label != NULL
					   ? json_object_new_string(rec->label)
					   : NULL) ||
	    json_object_object_add(
		    o, "operation",
		    json_object_new_string(prov_channel_name(rec->channel))) ||
	    json_object_object_add(
		    o, "method",
		    json_object_new_string(prov_method_name(rec->method))) ||
	    json_object_object_add(o, "enrollment_id",
				   json_object_new_int64(enrollment_id)))
		goto out;
	if ((txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) !=
		    NULL &&
	    (*out = strdup(txt)) != NULL)
		r = 0;
out:
	json_object_put(o);
	return r;
}

void
est_rec_issue_event(const struct est_rec *rec, int64_t cert_id,
		    const char *serial, const char *details,
		    struct audit_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->actor_type = AUDIT_ACTOR_APPLICATION;
	ev->actor_id = rec->app_id;
	ev->actor_name = rec->app_name;
	ev->tenant_id = rec->tenant_id;
	ev->org_id = rec->org_id;
	ev->outcome = AUDIT_SUCCESS;
	ev->source_addr = rec->source_addr;
	ev->details = details;
	ev->entity = perm_entity_name(PERM_ENT_CERTIFICATE);
	ev->entity_id = cert_id;
	ev->entity_name = serial;
	ev->action = "issue";
}

/* ----- the deferred enrollment of an application ----- */

struct app_job {
	struct txjob j; /* first */
	struct issue_result *res;
	uint8_t *pkcs8; /* serverkeygen: the key for the answer */
	size_t pkcs8len;
	struct est_rec rec; /* its strings are the job's copies below */
	char *domain, *label, *source_addr;
	char app_name[AUTH_NAME_MAX + 1];
};

/* The strings the job needs after ev and cl are gone. */
static int
app_job_copy(struct app_job *aj, const struct est_rec *rec)
{
	aj->rec = *rec;
	snprintf(aj->app_name, sizeof(aj->app_name), "%s",
		 rec->app_name != NULL ? rec->app_name : "");
	aj->rec.app_name = aj->app_name;
	if ((rec->domain != NULL &&
	     (aj->domain = strdup(rec->domain)) == NULL) ||
	    (rec->label != NULL && (aj->label = strdup(rec->label)) == NULL) ||
	    (rec->source_addr != NULL &&
	     (aj->source_addr = strdup(rec->source_addr)) == NULL))
		return EST_E_NOMEM;
	aj->rec.domain = aj->domain;
	aj->rec.label = aj->label;
	aj->rec.source_addr = aj->source_addr;
	return 0;
}

/*
 * The enrollment records and audit rows of n jobs whose certificates are
 * stored: one statement each for the records and for the audit rows.
 */
static int
app_records(struct db *db, struct app_job **jobs, size_t n)
{
	struct db_enrollment en[TXQ_GROUP_MAX];
	const struct db_enrollment *enp[TXQ_GROUP_MAX] = {NULL};
	struct audit_event ev[TXQ_GROUP_MAX];
	const struct audit_event *evp[TXQ_GROUP_MAX];
	char *det[TXQ_GROUP_MAX], serial[TXQ_GROUP_MAX][41];
	int64_t ids[TXQ_GROUP_MAX];
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		est_rec_enrollment(&jobs[i]->rec, 0, jobs[i]->res->id, &en[i]);
		enp[i] = &en[i];
		det[i] = NULL;
	}
	r = db_enrollment_record_many(db, enp, n, ids);
	for (i = 0; i < n && r == 0; i++) {
		hex_encode(jobs[i]->res->serial, jobs[i]->res->serial_len,
			   serial[i]);
		if ((r = est_rec_details(&jobs[i]->rec, ids[i], &det[i])) == 0)
			est_rec_issue_event(&jobs[i]->rec, jobs[i]->res->id,
					    serial[i], det[i], &ev[i]);
		evp[i] = &ev[i];
	}
	/* Audit rows go last: they hold the chain's head until the commit. */
	if (r == 0)
		r = db_audit_append_many(db, evp, n);
	for (i = 0; i < n; i++)
		free(det[i]);
	return r;
}

/* A taken serial: signed again only in a transaction of its own. */
static int
app_write(struct txjob **jobs, size_t n, struct hctx *c, int alone)
{
	struct issue_result *res[TXQ_GROUP_MAX];
	struct db *db;
	size_t i;
	int r;

	if (n == 0 || n > TXQ_GROUP_MAX || (alone && n != 1))
		return EST_E_INVAL;
	if ((r = ctx_db(c, &db)) != 0)
		return r;
	for (i = 0; i < n; i++)
		res[i] = ((struct app_job *)jobs[i])->res;
	r = alone ? issue_cert_store_lazy(db, ctx_signer_cb, c, res[0])
		  : issue_cert_store_many(db, res, n);
	if (r != 0)
		return r;
	return app_records(db, (struct app_job **)jobs, n);
}

static int
app_answer(struct txjob *j, int r, struct resp *rs)
{
	struct app_job *aj = (struct app_job *)j;
	const uint8_t *ders[1];
	size_t lens[1];
	struct prov_error e = {0};

	if (r != 0) {
		est_fail_code(&e, r);
		return est_resp_error(rs, &e);
	}
	ders[0] = aj->res->der;
	lens[0] = aj->res->derlen;
	if (aj->rec.channel == PROV_CH_SERVERKEYGEN)
		return est_resp_serverkeygen(rs, aj->pkcs8, aj->pkcs8len, ders,
					     lens, 1);
	return est_resp_certs(rs, ders, lens, 1);
}

static void
app_free(struct txjob *j)
{
	struct app_job *aj = (struct app_job *)j;

	issue_result_free(aj->res);
	freezero(aj->pkcs8, aj->pkcs8len);
	free(aj->domain);
	free(aj->label);
	free(aj->source_addr);
	free(aj);
}

static const struct txjob_ops app_job_ops = {app_write, 1, app_answer,
					     app_free};

int
est_defer_app(struct est_call *ec, const struct est_client *cl,
	      struct issue_result **res, uint8_t **pkcs8, size_t *pkcs8len)
{
	struct est_rec rec;
	struct app_job *aj;
	int r;

	if ((aj = calloc(1, sizeof(*aj))) == NULL)
		return EST_E_NOMEM;
	aj->j.ops = &app_job_ops;
	est_rec_of(ec, cl, &rec);
	if ((r = app_job_copy(aj, &rec)) != 0) {
		app_free(&aj->j);
		return r;
	}
	aj->res = *res;
	*res = NULL;
	aj->pkcs8 = *pkcs8;
	aj->pkcs8len = *pkcs8len;
	*pkcs8 = NULL;
	*pkcs8len = 0;
	txq_defer(ec->c, &aj->j);
	return 0;
}
