/*
 * The delegated OCSP responder of a CA (fcgi/api_ocsp.h): reading,
 * making and removing it through pki/ocsp_responder.c, with the
 * permission checks, If-Match and audit rows of a change of the CA.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "api_ocsp.h"
#include "auth.h"
#include "ctx.h"
#include "db.h"
#include "dbocsp.h"
#include "err.h"
#include "ocsp.h"
#include "resp.h"
#include "rest.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define RESPONDER_PATH "/api/v1/cas/%lld/ocsp-responder"

static const char *const keytypes[] = {
	"ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "rsa-4096", NULL,
};

static const struct jsonval_field set_fields[] = {
	{.name = "key_type", .type = JV_ENUM, .enum_values = keytypes},
	{.name = "validity_days",
	 .type = JV_INT,
	 .min = 1,
	 .max = OCSP_RESPONDER_DAYS_MAX},
};

static void
ocsp_what(struct rest_what *w, const struct db_ocsp_ca *ca, const char *action)
{
	memset(w, 0, sizeof(*w));
	w->entity = PERM_ENT_CA;
	w->action = action;
	w->id = ca->id;
	w->name = ca->name;
	w->tenant_id = ca->tenant_id;
	w->org_id = ca->org_id;
}

/*
 * Reads the CA of the request's {id} and asks whether p may act on it:
 * 404 when there is none or p may not know of it.
 */
static int
ocsp_load(struct hctx *c, struct db *db, const struct request *req,
	  const struct principal *p, enum perm_action act, const char *action,
	  struct db_ocsp_ca **out, struct jsonval_error *e)
{
	struct db_ocsp_ca *ca = NULL;
	struct perm_object o;
	struct rest_what w;
	int64_t id = 0;
	int r;

	if ((r = rest_cap_id(c, "id", &id, e)) != 0)
		return r;
	if ((r = db_ocsp_ca_get(db, id, 0, &ca)) != 0)
		return r == EST_E_NOTFOUND ? rest_fail(e, r, "id") : r;
	memset(&o, 0, sizeof(o));
	o.tenant_id = ca->tenant_id;
	o.org_id = ca->org_id;
	ocsp_what(&w, ca, action);
	if (perm_scope_from_name(ca->scope, &o.scope) != 0)
		r = EST_E_INTERNAL;
	else
		r = rest_perm(db, p, req, act, &o, &w, e);
	if (r != 0) {
		db_ocsp_ca_free(ca);
		return r;
	}
	*out = ca;
	return 0;
}

/*
 * Inside the change's transaction: locks the CA and, when the client
 * sent If-Match, checks it against the CA's ETag (that of GET
 * /api/v1/cas/{id}), so that a client can make the change only to the CA
 * it last read.
 */
static int
ocsp_lock(struct db *db, const struct request *req, int64_t id,
	  struct db_ocsp_ca **out, struct jsonval_error *e)
{
	struct db_ocsp_ca *ca = NULL;
	char etag[REST_ETAG_MAX];
	int r;

	if ((r = db_ocsp_ca_get(db, id, 1, &ca)) != 0)
		return r == EST_E_NOTFOUND ? rest_fail(e, r, "id") : r;
	if (req->if_match != NULL &&
	    ((r = rest_etag(perm_entity_name(PERM_ENT_CA), id, ca->updated_at,
			    etag)) != 0 ||
	     (r = rest_if_match(req, etag, e)) != 0)) {
		db_ocsp_ca_free(ca);
		return r;
	}
	*out = ca;
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS", the database form rest_put_time() takes. */
static int
db_time(time_t t, char out[32])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return EST_E_INTERNAL;
	return 0;
}

static int
responder_json(int64_t ca_id, const struct ocsp_responder *rs,
	       struct json_object **out)
{
	struct json_object *o = NULL;
	char nb[32], na[32], *pem = NULL;
	size_t pemlen = 0;
	int r;

	if ((o = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((r = db_time(rs->not_before, nb)) != 0 ||
	    (r = db_time(rs->not_after, na)) != 0 ||
	    (r = x509_der_to_pem(rs->der, rs->derlen, &pem, &pemlen)) != 0 ||
	    (r = rest_put_id(o, "ca_id", ca_id)) != 0 ||
	    (r = rest_put_str(o, "key_type", x509_keytype_name(rs->keytype))) !=
		    0 ||
	    (r = rest_put_str(o, "subject", rs->subject)) != 0 ||
	    (r = rest_put_hex(o, "serial", rs->serial, rs->serial_len)) != 0 ||
	    (r = rest_put_time(o, "not_before", nb)) != 0 ||
	    (r = rest_put_time(o, "not_after", na)) != 0 ||
	    (r = rest_put_hex(o, "fingerprint", rs->fingerprint,
			      sizeof(rs->fingerprint))) != 0 ||
	    (r = rest_put_str(o, "certificate", pem)) != 0)
		goto out;
	*out = o;
	o = NULL;
out:
	free(pem);
	json_object_put(o);
	return r;
}

/* The serial of a responder certificate as lower-case hex; "" for none. */
static int
serial_hex(const struct ocsp_responder *rs, char out[41])
{
	out[0] = '\0';
	if (rs != NULL)
		hex_encode(rs->serial, rs->serial_len, out);
	return 0;
}

static int
h_get(struct hctx *c, const struct request *req, const struct principal *p,
      struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_ocsp_ca *ca = NULL;
	struct ocsp_responder * or = NULL;
	struct json_object *o = NULL;
	struct db *db;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = ocsp_load(c, db, req, p, PERM_ACT_READ, "read", &ca, &e)) != 0)
		goto out;
	if (!ca->has_ocsp_key) {
		r = rest_fail(&e, EST_E_NOTFOUND, NULL);
		goto out;
	}
	if ((r = ocsp_responder_parse(ca->ocsp_cert_der, ca->ocsp_cert_len,
				      & or)) != 0 ||
	    (r = responder_json(ca->id, or, &o)) != 0)
		goto out;
	r = rest_send(rs, 200, o, NULL);
out:
	json_object_put(o);
	ocsp_responder_free(or);
	db_ocsp_ca_free(ca);
	return rest_answer(rs, r, &e);
}

/* Maps the errors of pki/ocsp_responder.c to the API's. */
static int
responder_error(int r, struct jsonval_error *e)
{
	switch (r) {
	case EST_E_NOTFOUND:
		return rest_fail(e, r, NULL);
	case EST_E_CONFLICT:
		/* Inactive, still without a certificate, or expired. */
		return rest_fail(e, r, "id");
	case EST_E_BADALG:
		/* A key type the HSM profile does not allow. */
		return rest_fail(e, EST_E_UNPROCESSABLE, "key_type");
	default:
		return r;
	}
}

static int
set_tx(struct db *db, struct sigclient *sc, const struct principal *p,
       const struct request *req, const struct ocsp_responder_req *rq,
       struct ocsp_responder **out, struct jsonval_error *e)
{
	struct db_ocsp_ca *ca = NULL;
	struct ocsp_responder *old = NULL, *nr = NULL;
	char oldhex[41], newhex[41], na[32];
	struct rest_diff d;
	struct rest_what w;
	int replaced = 0, r;

	rest_diff_init(&d);
	if ((r = ocsp_lock(db, req, rq->ca_id, &ca, e)) != 0)
		goto out;
	if (ca->has_ocsp_key &&
	    (r = ocsp_responder_parse(ca->ocsp_cert_der, ca->ocsp_cert_len,
				      &old)) != 0)
		goto out;
	if ((r = ocsp_responder_set(db, sc, rq, &nr, &replaced)) != 0) {
		r = responder_error(r, e);
		goto out;
	}
	ocsp_what(&w, ca, "set_ocsp_responder");
	serial_hex(old, oldhex);
	serial_hex(nr, newhex);
	if ((r = db_time(nr->not_after, na)) != 0 ||
	    (r = rest_diff_str(&d, "ocsp_responder_serial",
			       old != NULL ? oldhex : NULL, newhex)) != 0 ||
	    (r = rest_diff_str(&d, "ocsp_responder_key_type",
			       old != NULL ? x509_keytype_name(old->keytype)
					   : NULL,
			       x509_keytype_name(nr->keytype))) != 0 ||
	    (r = rest_diff_str(&d, "ocsp_responder_not_after", NULL, na)) !=
		    0 ||
	    (r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
	*out = nr;
	nr = NULL;
out:
	rest_diff_clear(&d);
	ocsp_responder_free(nr);
	ocsp_responder_free(old);
	db_ocsp_ca_free(ca);
	return r;
}

static int
h_set(struct hctx *c, const struct request *req, const struct principal *p,
      struct resp *rs)
{
	struct jsonval_error e = {0};
	struct ocsp_responder_req rq;
	struct db_ocsp_ca *ca = NULL;
	struct ocsp_responder *nr = NULL;
	struct json_object *body = NULL, *o = NULL;
	struct sigclient *sc;
	const char *kt;
	char loc[96];
	struct db *db;
	int64_t days = 0;
	int keytype = 0, r;

	memset(&rq, 0, sizeof(rq));
	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = ocsp_load(c, db, req, p, PERM_ACT_UPDATE, "set_ocsp_responder",
			   &ca, &e)) != 0 ||
	    (r = rest_body_optional(req, set_fields, NELEM(set_fields), &body,
				    &e)) != 0)
		goto out;
	if ((kt = jsonval_get_string(body, "key_type")) != NULL &&
	    x509_keytype_parse(kt, &keytype) != 0) {
		r = rest_fail(&e, EST_E_UNPROCESSABLE, "key_type");
		goto out;
	}
	if (jsonval_get_int(body, "validity_days", &days) != 0)
		days = 0;
	rq.ca_id = ca->id;
	rq.keytype = keytype;
	rq.days = (int)days;
	rq.by_app = p->kind == PRINCIPAL_APPLICATION;
	rq.creator = p->id;
	rq.now = time(NULL);
	if ((r = ctx_signer(c, &sc)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = set_tx(db, sc, p, req, &rq, &nr, &e);
	if ((r = rest_tx_end(db, r)) != 0 ||
	    (r = responder_json(ca->id, nr, &o)) != 0 ||
	    (r = rest_send(rs, 201, o, NULL)) != 0)
		goto out;
	snprintf(loc, sizeof(loc), RESPONDER_PATH, (long long)ca->id);
	r = resp_header(rs, "Location", loc);
out:
	json_object_put(o);
	json_object_put(body);
	ocsp_responder_free(nr);
	db_ocsp_ca_free(ca);
	return rest_answer(rs, r, &e);
}

static int
delete_tx(struct db *db, struct sigclient *sc, const struct principal *p,
	  const struct request *req, int64_t id, struct jsonval_error *e)
{
	struct db_ocsp_ca *ca = NULL;
	struct ocsp_responder *old = NULL;
	char oldhex[41];
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = ocsp_lock(db, req, id, &ca, e)) != 0)
		goto out;
	if ((r = ocsp_responder_clear(db, sc, id, auth_user_id(p), &old)) !=
	    0) {
		r = responder_error(r, e);
		goto out;
	}
	ocsp_what(&w, ca, "delete_ocsp_responder");
	serial_hex(old, oldhex);
	if ((r = rest_diff_str(&d, "ocsp_responder_serial", oldhex, NULL)) !=
		    0 ||
	    (r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
out:
	rest_diff_clear(&d);
	ocsp_responder_free(old);
	db_ocsp_ca_free(ca);
	return r;
}

static int
h_delete(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_ocsp_ca *ca = NULL;
	struct sigclient *sc;
	struct db *db;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_body_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = ocsp_load(c, db, req, p, PERM_ACT_UPDATE,
			   "delete_ocsp_responder", &ca, &e)) != 0 ||
	    (r = ctx_signer(c, &sc)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = delete_tx(db, sc, p, req, ca->id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = resp_empty(rs, 204);
out:
	db_ocsp_ca_free(ca);
	return rest_answer(rs, r, &e);
}

AUTH_ROUTE_PUBLIC(api_ocsp_responder_get, h_get)
AUTH_ROUTE_PUBLIC(api_ocsp_responder_set, h_set)
AUTH_ROUTE_PUBLIC(api_ocsp_responder_delete, h_delete)
