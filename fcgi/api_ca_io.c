/*
 * What goes in and out of a CA beside its JSON (fcgi/api_ca.h): the
 * request of a CA to be signed elsewhere, the upload of the certificate
 * signed from it, downloads of the certificate and its chain, and the CRL.
 *
 * Downloads are public data ("read"): format pem (the certificate),
 * chain (PEM, the CA first and its root last), der (the certificate),
 * p7 (a certs-only PKCS#7 of the chain, DER), each as an attachment.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_ca.h"
#include "b64.h"
#include "ca.h"
#include "crl.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "p7.h"
#include "resp.h"
#include "rest.h"
#include "sigclient.h"
#include "util.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define PEM_TYPE "application/x-pem-file"
#define PEM_CHAIN_TYPE "application/pem-certificate-chain"
#define CERT_TYPE "application/pkix-cert"
#define P7_TYPE "application/pkcs7-mime; smime-type=certs-only"
#define PKCS10_TYPE "application/pkcs10"
#define CRL_TYPE "application/pkix-crl"

static const char *const dl_formats[] = {"pem", "chain", "der", "p7", NULL};
static const char *const csr_formats[] = {"pem", "der", NULL};

static const struct rest_qfield dl_query[] = {
	{.name = "format", .type = REST_Q_ENUM, .enum_values = dl_formats},
};

static const struct rest_qfield csr_query[] = {
	{.name = "format", .type = REST_Q_ENUM, .enum_values = csr_formats},
};

static const struct jsonval_field upload_fields[] = {
	{.name = "certificate",
	 .type = JV_STRING,
	 .required = 1,
	 .multiline = 1,
	 .min_len = 1,
	 .max_len = PKI_CERT_PEM_MAX},
	{.name = "chain",
	 .type = JV_STRING,
	 .nullable = 1,
	 .multiline = 1,
	 .min_len = 1,
	 .max_len = PKI_CHAIN_PEM_MAX},
};

/* Answers a file: status 200, its type, and a download name. */
static int
send_file(struct resp *rs, const char *type, const void *p, size_t len,
	  int64_t id, const char *what, const char *ext)
{
	char cd[96];
	int r;

	snprintf(cd, sizeof(cd), "attachment; filename=\"ca-%lld%s.%s\"",
		 (long long)id, what, ext);
	if ((r = resp_body(rs, 200, type, p, len)) != 0)
		return r;
	return resp_header(rs, "Content-Disposition", cd);
}

/* A format query parameter, the default when absent. */
static int
query_format(const struct request *req, const struct rest_qfield *tab,
	     const char **format, struct jsonval_error *e)
{
	struct rest_query q;
	const char *f;
	int r;

	if ((r = rest_query_parse(req, tab, 1, &q, e)) != 0)
		return r;
	f = rest_q_str(&q, "format");
	*format = f != NULL ? f : "pem";
	return 0;
}

static int
h_ca_csr(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	static const char begin[] = "-----BEGIN CERTIFICATE REQUEST-----\n";
	static const char end[] = "-----END CERTIFICATE REQUEST-----\n";
	struct jsonval_error e = {0};
	struct db_ca *ca = NULL;
	const char *format = NULL;
	char *b64 = NULL, *pem = NULL;
	size_t len = 0;
	struct db *db;
	int r;

	if ((r = query_format(req, csr_query, &format, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_ca_load(c, db, req, p, PERM_ACT_READ, "read", &ca, &e)) !=
		    0)
		goto out;
	if (ca->csr_der == NULL) {
		r = jsonval_error_set(&e, EST_E_CONFLICT, NULL,
				      "the CA was not made from a request");
		goto out;
	}
	if (strcmp(format, "der") == 0) {
		r = send_file(rs, PKCS10_TYPE, ca->csr_der, ca->csr_len, ca->id,
			      "", "csr");
		goto out;
	}
	if ((r = b64_encode(ca->csr_der, ca->csr_len, 64, &b64, &len)) != 0)
		goto out;
	if (asprintf(&pem, "%s%s%s", begin, b64, end) < 0) {
		pem = NULL;
		r = EST_E_NOMEM;
		goto out;
	}
	r = send_file(rs, PEM_TYPE, pem, strlen(pem), ca->id, "", "csr.pem");
out:
	free(pem);
	free(b64);
	db_ca_free(ca);
	return rest_answer(rs, r, &e);
}

static int
upload_tx(struct db *db, struct sigclient *sc, const struct principal *p,
	  const struct request *req, int64_t id, struct json_object *body,
	  struct jsonval_error *e)
{
	const char *cert = jsonval_get_string(body, "certificate");
	const char *chain = jsonval_get_string(body, "chain");
	struct pki_ca_error pe;
	struct db_ca *ca = NULL;
	char fp[65];
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = pki_ca_upload(db, sc, id, cert, strlen(cert), chain,
			       chain != NULL ? strlen(chain) : 0, &pe)) != 0) {
		if (est_err_http_status(r) >= 500)
			return r;
		return jsonval_error_set(e, r,
					 pe.field[0] != '\0' ? pe.field : NULL,
					 "%s", pe.message);
	}
	if ((r = db_ca_get(db, id, &ca)) != 0)
		goto out;
	hex_encode(ca->fingerprint, sizeof(ca->fingerprint), fp);
	api_ca_what(ca, "upload_certificate", &w);
	if ((r = rest_diff_str(&d, "status", "pending", api_ca_status(ca))) !=
		    0 ||
	    (r = rest_diff_str(&d, "fingerprint", NULL, fp)) != 0 ||
	    (r = rest_diff_bool(&d, "has_chain", 0, ca->chain_pem != NULL)) !=
		    0 ||
	    (r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
out:
	rest_diff_clear(&d);
	db_ca_free(ca);
	return r;
}

static int
h_ca_upload(struct hctx *c, const struct request *req,
	    const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_ca *ca = NULL;
	struct sigclient *sc;
	struct db *db;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = api_ca_load(c, db, req, p, PERM_ACT_UPDATE,
			     "upload_certificate", &ca, &e)) != 0 ||
	    (r = rest_body(req, upload_fields, NELEM(upload_fields), &body,
			   &e)) != 0 ||
	    (r = ctx_signer(c, &sc)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = upload_tx(db, sc, p, req, ca->id, body, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	api_ca_web_refresh(c);
	r = api_ca_send(db, ca->id, 200, rs);
out:
	json_object_put(body);
	db_ca_free(ca);
	return rest_answer(rs, r, &e);
}

/* The chain as a certs-only PKCS#7, DER. */
static int
chain_p7(const struct pki_chain *ch, uint8_t **der, size_t *len)
{
	char *b64 = NULL;
	size_t blen = 0;
	int r;

	if ((r = p7_certs_only_b64((const uint8_t *const *)ch->der, ch->len,
				   ch->n, &b64, &blen)) != 0)
		return r;
	r = b64_decode(b64, blen, B64_SKIP_WS, der, len);
	free(b64);
	return r;
}

static int
h_ca_download(struct hctx *c, const struct request *req,
	      const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct pki_chain ch = {0};
	struct db_ca *ca = NULL;
	const char *format = NULL;
	uint8_t *der = NULL;
	char *pem = NULL;
	size_t len = 0, n;
	struct db *db;
	int r;

	if ((r = query_format(req, dl_query, &format, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_ca_load(c, db, req, p, PERM_ACT_READ, "read", &ca, &e)) !=
		    0)
		goto out;
	if (ca->cert_der == NULL) {
		r = jsonval_error_set(&e, EST_E_CONFLICT, NULL,
				      "the CA has no certificate yet");
		goto out;
	}
	if (strcmp(format, "der") == 0) {
		r = send_file(rs, CERT_TYPE, ca->cert_der, ca->cert_len, ca->id,
			      "", "der");
		goto out;
	}
	if ((r = pki_ca_chain(db, ca, &ch)) != 0)
		goto out;
	if (strcmp(format, "p7") == 0) {
		if ((r = chain_p7(&ch, &der, &len)) == 0)
			r = send_file(rs, P7_TYPE, der, len, ca->id, "-chain",
				      "p7b");
		goto out;
	}
	/* pem is the certificate alone; chain is all of them. */
	n = ch.n;
	if (strcmp(format, "pem") == 0)
		ch.n = 1;
	r = pki_chain_pem(&ch, &pem, &len);
	ch.n = n;
	if (r != 0)
		goto out;
	if (strcmp(format, "pem") == 0)
		r = send_file(rs, PEM_TYPE, pem, len, ca->id, "", "pem");
	else
		r = send_file(rs, PEM_CHAIN_TYPE, pem, len, ca->id, "-chain",
			      "pem");
out:
	free(pem);
	free(der);
	pki_chain_clear(&ch);
	db_ca_free(ca);
	return rest_answer(rs, r, &e);
}

static int
h_ca_crl_get(struct hctx *c, const struct request *req,
	     const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct sigclient *sc = NULL;
	struct db_ca *ca = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	struct db *db;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = api_ca_load(c, db, req, p, PERM_ACT_READ, "read", &ca, &e)) !=
		    0)
		goto out;
	/* A late CRL is made again if the signer answers, served if not. */
	if (ctx_signer(c, &sc) != 0)
		sc = NULL;
	r = crl_get_current(db, sc, ca->id, &der, &len, NULL, NULL);
	if (r == EST_E_NOTFOUND) {
		r = jsonval_error_set(&e, EST_E_CONFLICT, NULL,
				      "the CA has no CRL yet");
		goto out;
	}
	if (r == 0)
		r = send_file(rs, CRL_TYPE, der, len, ca->id, "", "crl");
out:
	free(der);
	db_ca_free(ca);
	return rest_answer(rs, r, &e);
}

static int
crl_make_tx(struct db *db, struct sigclient *sc, const struct principal *p,
	    const struct request *req, int64_t id, struct jsonval_error *e)
{
	struct db_ca *before = NULL, *after = NULL;
	struct rest_diff d;
	struct rest_what w;
	int r;

	rest_diff_init(&d);
	if ((r = db_ca_get_lock(db, id, &before)) != 0)
		return r == EST_E_NOTFOUND ? rest_fail(e, r, "id") : r;
	if (before->cert_der == NULL) {
		r = jsonval_error_set(e, EST_E_CONFLICT, NULL,
				      "the CA has no certificate yet");
		goto out;
	}
	if ((r = crl_regenerate(db, sc, id)) != 0 ||
	    (r = db_ca_get(db, id, &after)) != 0)
		goto out;
	api_ca_what(after, "regenerate_crl", &w);
	if ((r = rest_diff_int(&d, "crl_number", before->crl_number,
			       after->crl_number, 0)) != 0 ||
	    (r = rest_audit(db, p, req, &w, &d)) != 0)
		goto out;
out:
	rest_diff_clear(&d);
	db_ca_free(after);
	db_ca_free(before);
	return r;
}

static int
h_ca_crl_make(struct hctx *c, const struct request *req,
	      const struct principal *p, struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_ca *ca = NULL;
	struct sigclient *sc;
	struct db *db;
	int r;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_body_none(req, &e)) != 0 || (r = ctx_db(c, &db)) != 0 ||
	    (r = api_ca_load(c, db, req, p, PERM_ACT_UPDATE, "regenerate_crl",
			     &ca, &e)) != 0 ||
	    (r = ctx_signer(c, &sc)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = crl_make_tx(db, sc, p, req, ca->id, &e);
	if ((r = rest_tx_end(db, r)) != 0)
		goto out;
	r = api_ca_send(db, ca->id, 200, rs);
out:
	db_ca_free(ca);
	return rest_answer(rs, r, &e);
}

AUTH_ROUTE_PUBLIC(api_ca_csr, h_ca_csr)
AUTH_ROUTE_PUBLIC(api_ca_upload, h_ca_upload)
AUTH_ROUTE_PUBLIC(api_ca_download, h_ca_download)
AUTH_ROUTE_PUBLIC(api_ca_crl_get, h_ca_crl_get)
AUTH_ROUTE_PUBLIC(api_ca_crl_make, h_ca_crl_make)
