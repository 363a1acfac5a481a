/*
 * The reduced REST API for devices (fcgi/api_provision.h): the HTTP side
 * of pki/provision.h.  A handler checks what only HTTP knows (the client
 * certificate the web server exported, the route, the body, the CSR),
 * hands the rest to the provisioning core, and answers in JSON.  A
 * refusal decided here is recorded as the core records its own.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>
#include <openssl/bio.h>
#include <openssl/pem.h>

#include "api_cert.h"
#include "api_issue_req.h"
#include "api_provision.h"
#include "csr.h"
#include "ctx.h"
#include "err.h"
#include "issue.h"
#include "jsonval.h"
#include "provision.h"
#include "req.h"
#include "resp.h"
#include "rest.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* A CSR as text: PEM or base64 of DER, with room for RSA-4096. */
#define PROV_CSR_TEXT_MAX (64 * 1024)
#define PROV_KEY_TYPE_MAX 16

static const struct jsonval_field body_fields[] = {
	{.name = "csr",
	 .type = JV_STRING,
	 .multiline = 1,
	 .min_len = 1,
	 .max_len = PROV_CSR_TEXT_MAX},
	{.name = "key_type",
	 .type = JV_STRING,
	 .nullable = 1,
	 .min_len = 1,
	 .max_len = PROV_KEY_TYPE_MAX},
};

/* Everything one request gathers; freed by call_clear(). */
struct call {
	struct prov_scope scope;
	struct json_object *body;
	struct csr *csr;
	struct prov_cert_req rq;
	struct prov_result *res;
	char *key_pem;
	size_t key_pem_len;
};

static void
call_clear(struct call *cl)
{
	json_object_put(cl->body);
	csr_free(cl->csr);
	prov_result_free(cl->res);
	freezero(cl->key_pem, cl->key_pem_len);
	memset(cl, 0, sizeof(*cl));
}

/* ------------------------------------------------------------------ */
/* Answers */

static int
put(struct json_object *o, const char *key, struct json_object *v)
{
	return rest_put_obj(o, key, v);
}

/* {"error": {"code", "message", "reason"}}; no Basic challenge on 401. */
static int
send_error(struct resp *rs, const struct prov_error *pe)
{
	struct json_object *top = NULL, *e = NULL;
	int status = pe->status >= 400 && pe->status < 600 ? pe->status : 500;
	const char *code;
	int r;

	switch (status) {
	case 400:
		code = est_err_name(EST_E_INVAL);
		break;
	case 401:
		code = est_err_name(EST_E_UNAUTH);
		break;
	case 403:
		code = est_err_name(EST_E_DENIED);
		break;
	case 404:
		code = est_err_name(EST_E_NOTFOUND);
		break;
	case 409:
		code = est_err_name(EST_E_CONFLICT);
		break;
	case 413:
		code = est_err_name(EST_E_TOOBIG);
		break;
	case 415:
		code = est_err_name(EST_E_MEDIATYPE);
		break;
	case 422:
		code = est_err_name(EST_E_UNPROCESSABLE);
		break;
	case 503:
		code = est_err_name(EST_E_DB);
		break;
	default:
		code = est_err_name(EST_E_INTERNAL);
		status = 500;
		break;
	}
	resp_reset(rs);
	if ((top = json_object_new_object()) == NULL ||
	    (e = json_object_new_object()) == NULL) {
		json_object_put(top);
		return EST_E_NOMEM;
	}
	if ((r = put(top, "error", e)) != 0) {
		json_object_put(top);
		return r;
	}
	if ((r = rest_put_str(e, "code", code)) != 0 ||
	    (r = rest_put_str(e, "message",
			      pe->reason[0] != '\0' ? pe->reason
						    : "refused")) != 0 ||
	    (r = rest_put_str(e, "reason", prov_reason_name(pe->code))) != 0 ||
	    (r = resp_json(rs, status, top)) != 0)
		goto out;
	if (status == 503)
		r = resp_header(rs, "Retry-After", RESP_RETRY_AFTER);
out:
	json_object_put(top);
	return r;
}

/* UNIX time as RFC 3339 UTC. */
static int
put_time(struct json_object *o, const char *key, time_t t)
{
	char buf[32];
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		return EST_E_INTERNAL;
	return rest_put_str(o, key, buf);
}

static int
put_pem(struct json_object *o, const char *key, const uint8_t *der, size_t len)
{
	char *pem = NULL;
	size_t pemlen = 0;
	int r;

	if ((r = x509_der_to_pem(der, len, &pem, &pemlen)) != 0)
		return r;
	r = rest_put_str(o, key, pem);
	free(pem);
	return r;
}

/* The PKCS#8 PEM of a generated key, in memory that is wiped after use. */
static int
key_pem(struct call *cl)
{
	BIO *b = NULL;
	char *p = NULL;
	long n;
	int r = EST_E_NOMEM;

	if ((b = BIO_new(BIO_s_secmem())) == NULL ||
	    PEM_write_bio(b, "PRIVATE KEY", "", cl->res->pkcs8,
			  (long)cl->res->pkcs8_len) <= 0 ||
	    (n = BIO_get_mem_data(b, &p)) <= 0)
		goto out;
	if ((cl->key_pem = malloc((size_t)n + 1)) == NULL)
		goto out;
	memcpy(cl->key_pem, p, (size_t)n);
	cl->key_pem[n] = '\0';
	cl->key_pem_len = (size_t)n + 1;
	r = 0;
out:
	BIO_free(b);
	return r;
}

static int
answer(struct call *cl, struct resp *rs)
{
	const struct prov_result *res = cl->res;
	struct json_object *top = NULL, *dev = NULL, *crt = NULL, *ch = NULL;
	size_t i;
	int r = EST_E_NOMEM;

	if ((top = json_object_new_object()) == NULL)
		return EST_E_NOMEM;
	if ((dev = json_object_new_object()) == NULL ||
	    (r = put(top, "device", dev)) != 0)
		goto out;
	if ((r = rest_put_int(dev, "id", res->device_id)) != 0 ||
	    (r = rest_put_str(dev, "name", res->device_name)) != 0 ||
	    (r = rest_put_str(dev, "mode", device_mode_name(res->mode))) != 0 ||
	    (r = rest_put_bool(dev, "created", res->device_created)) != 0)
		goto out;
	r = EST_E_NOMEM;
	if ((crt = json_object_new_object()) == NULL ||
	    (r = put(top, "certificate", crt)) != 0)
		goto out;
	if ((r = rest_put_int(crt, "id", res->cert->id)) != 0 ||
	    (r = rest_put_hex(crt, "serial", res->cert->serial,
			      res->cert->serial_len)) != 0 ||
	    (r = put_time(crt, "not_before", res->cert->not_before)) != 0 ||
	    (r = put_time(crt, "not_after", res->cert->not_after)) != 0 ||
	    (r = put_pem(crt, "pem", res->cert->der, res->cert->derlen)) != 0)
		goto out;
	r = EST_E_NOMEM;
	if ((ch = json_object_new_array()) == NULL ||
	    (r = put(top, "chain", ch)) != 0)
		goto out;
	for (i = 0; i < res->chain.n; i++) {
		char *pem = NULL;
		size_t len = 0;

		if ((r = x509_der_to_pem(res->chain.der[i], res->chain.len[i],
					 &pem, &len)) != 0)
			goto out;
		r = json_object_array_add(ch, json_object_new_string(pem)) == 0
			    ? 0
			    : EST_E_NOMEM;
		free(pem);
		if (r != 0)
			goto out;
	}
	if (res->pkcs8 != NULL &&
	    ((r = key_pem(cl)) != 0 ||
	     (r = rest_put_str(top, "private_key", cl->key_pem)) != 0))
		goto out;
	/* resp.c marks every API answer no-store. */
	r = resp_json(rs, 201, top);
	/* The key's copies that we own are wiped; the answer's leaves. */
	api_cert_wipe(top, "private_key");
out:
	json_object_put(top);
	return r;
}

/* ------------------------------------------------------------------ */
/* Requests */

/*
 * The client certificate: exported and not refused by the web server
 * (the handshake proved that the client holds its key).
 */
static int
client_cert(const struct request *req, struct prov_error *pe)
{
	if (req->client_cert == NULL || req->verify == REQ_VERIFY_ABSENT ||
	    req->verify == REQ_VERIFY_NONE)
		return prov_fail(pe, 401, PROV_R_NO_CERT,
				 "a TLS client certificate is required");
	if (req->verify == REQ_VERIFY_FAILED)
		return prov_fail(pe, 403, PROV_R_CERT_UNTRUSTED,
				 "the web server refused the client "
				 "certificate");
	return 0;
}

/* An error of the REST helpers as a provisioning error. */
static int
from_jv(struct prov_error *pe, int r, const struct jsonval_error *je)
{
	int status = est_err_http_status(r);

	if (status >= 500)
		return prov_fail(pe, status == 503 ? 503 : 500,
				 status == 503 ? PROV_R_UNAVAILABLE
					       : PROV_R_INTERNAL,
				 "%s", est_strerror(r));
	if (je->code == r && je->field[0] != '\0')
		return prov_fail(
			pe, status, PROV_R_BAD_REQUEST, "%.60s: %s", je->field,
			je->message[0] != '\0' ? je->message : est_strerror(r));
	return prov_fail(pe, status, PROV_R_BAD_REQUEST, "%s",
			 je->code == r && je->message[0] != '\0'
				 ? je->message
				 : est_strerror(r));
}

/* The body: a CSR, or a key type for a generated key. */
static int
read_body(const struct request *req, struct call *cl, struct prov_error *pe)
{
	struct jsonval_error je;
	struct subj_input *in = NULL;
	const char *csr, *kt;
	char name[PROV_KEY_TYPE_MAX + 1];
	size_t i;
	int r;

	memset(&je, 0, sizeof(je));
	if ((r = rest_body(req, body_fields, NELEM(body_fields), &cl->body,
			   &je)) != 0)
		return from_jv(pe, r, &je);
	csr = jsonval_get_string(cl->body, "csr");
	kt = jsonval_get_string(cl->body, "key_type");
	if ((csr != NULL) ==
	    (jsonval_presence(cl->body, "key_type") == JV_PRESENT))
		return prov_fail(pe, 400, PROV_R_BAD_REQUEST,
				 "exactly one of csr and key_type");
	if (csr != NULL) {
		if ((r = issue_req_csr(csr, "", &cl->csr, &in, &je)) != 0)
			return from_jv(pe, r, &je);
		subject_input_free(in);
		cl->rq.csr = cl->csr;
		return 0;
	}
	cl->rq.keygen = 1;
	if (kt == NULL)
		return 0;
	for (i = 0; kt[i] != '\0' && i < PROV_KEY_TYPE_MAX; i++)
		name[i] = (char)tolower((unsigned char)kt[i]);
	name[i] = '\0';
	if (x509_keytype_parse(name, &cl->rq.key_type) != 0)
		return prov_fail(pe, 422, PROV_R_UNPROCESSABLE,
				 "key_type: not a key type");
	return 0;
}

typedef int (*prov_fn)(struct db *, struct sigclient *,
		       const struct prov_scope *, X509 *,
		       const struct prov_cert_req *, struct prov_result **,
		       struct prov_error *);

static int
handle(struct hctx *c, const struct request *req, struct resp *rs,
       int64_t type_id, enum prov_method method, prov_fn fn)
{
	struct prov_error pe;
	struct jsonval_error je;
	struct sigclient *sig = NULL;
	struct db *db = NULL;
	struct call cl;
	int r;

	memset(&cl, 0, sizeof(cl));
	memset(&pe, 0, sizeof(pe));
	memset(&je, 0, sizeof(je));
	cl.scope.device_type_id = type_id;
	cl.scope.domain = req->host;
	cl.scope.channel = PROV_CH_REST;
	cl.scope.source_addr = req->remote != NULL ? req->remote->text : NULL;
	if ((r = ctx_db(c, &db)) != 0) {
		r = prov_fail(&pe, 503, PROV_R_UNAVAILABLE,
			      "the database is unavailable");
		goto refused;
	}
	if ((r = rest_query_none(req, &je)) != 0) {
		r = from_jv(&pe, r, &je);
		goto record;
	}
	if ((r = client_cert(req, &pe)) != 0) {
		method = PROV_AUTH_NONE;
		goto record;
	}
	if ((r = read_body(req, &cl, &pe)) != 0)
		goto record;
	if ((r = ctx_signer(c, &sig)) != 0) {
		r = prov_fail(&pe, 503, PROV_R_UNAVAILABLE,
			      "the signer is unavailable");
		goto record;
	}
	/* The core records its own refusals. */
	if ((r = fn(db, sig, &cl.scope, req->client_cert, &cl.rq, &cl.res,
		    &pe)) != 0)
		goto refused;
	r = answer(&cl, rs);
	goto out;
record:
	(void)prov_record_refusal(db, &cl.scope, method, 0, &pe);
refused:
	r = send_error(rs, &pe);
out:
	call_clear(&cl);
	return r;
}

int
api_provision_enroll(struct hctx *c, const struct request *req, struct resp *rs)
{
	struct jsonval_error je;
	struct prov_error pe;
	int64_t id;

	memset(&je, 0, sizeof(je));
	if (rest_cap_id(c, "id", &id, &je) != 0) {
		memset(&pe, 0, sizeof(pe));
		(void)prov_fail(&pe, 404, PROV_R_UNKNOWN_TYPE,
				"no such device type");
		return send_error(rs, &pe);
	}
	return handle(c, req, rs, id, PROV_AUTH_FACTORY_CERT,
		      prov_enroll_factory);
}

int
api_provision_reenroll(struct hctx *c, const struct request *req,
		       struct resp *rs)
{
	return handle(c, req, rs, 0, PROV_AUTH_OPERATIONAL_CERT, prov_reenroll);
}
