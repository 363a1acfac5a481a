/*
 * Certificate downloads (fcgi/api_cert.h):
 *
 *	GET  /api/v1/certificates/{id}/download?format=pem|der|p7|chain
 *	POST /api/v1/certificates/{id}/pkcs12	{"passphrase": "..."}
 *
 * A certificate is public data (action "read"): PEM, DER, a certs-only
 * PKCS#7 (DER) with the chain up to the root, or the chain as PEM, leaf
 * first.  The PKCS#12 holds the server-generated private key (action
 * "download"), made by the signer from the wrapped key while the
 * template's retention lasts: 409 for a certificate whose key was never
 * generated here, 410 once the retention date has passed (the key is then
 * destroyed on the spot if the sweep has not done it yet) or the key was
 * not kept.  The passphrase travels in the body, never in a URL.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "api_cert.h"
#include "b64.h"
#include "ca.h"
#include "cert.h"
#include "ctx.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "jsonval.h"
#include "log.h"
#include "p7.h"
#include "resp.h"
#include "rest.h"
#include "sigclient.h"
#include "util.h"
#include "x509.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define PEM_TYPE "application/x-pem-file"
#define DER_TYPE "application/pkix-cert"
#define P7_TYPE "application/pkcs7-mime"
#define CHAIN_TYPE "application/pem-certificate-chain"
#define PKCS12_TYPE "application/pkcs12"

static const char *const formats[] = {"pem", "der", "p7", "chain", NULL};

static const struct rest_qfield dl_query[] = {
	{.name = "format", .type = REST_Q_ENUM, .enum_values = formats},
};

static const struct jsonval_field p12_fields[] = {
	{.name = "passphrase",
	 .type = JV_STRING,
	 .required = 1,
	 .min_len = API_CERT_PASS_MIN,
	 .max_len = API_CERT_PASS_MAX,
	 .check = api_cert_pass_check},
};

/* The certificate in res and the CAs above it, leaf first. */
struct certs {
	const uint8_t *der[PKI_CHAIN_MAX + 1];
	size_t len[PKI_CHAIN_MAX + 1];
	size_t n;
	struct pki_chain ch;
};

static int
certs_load(struct db *db, const struct db_result *res, struct certs *cs)
{
	struct db_ca *ca = NULL;
	const char *der;
	size_t len = 0, i;
	int r;

	memset(cs, 0, sizeof(*cs));
	if ((der = db_result_str(res, 0, DB_CERT_DER, &len)) == NULL)
		return EST_E_INTERNAL;
	cs->der[0] = (const uint8_t *)der;
	cs->len[0] = len;
	cs->n = 1;
	if ((r = db_ca_get(db, db_result_i64(res, 0, DB_CERT_CA_ID), &ca)) != 0)
		return r == EST_E_NOTFOUND ? EST_E_INTERNAL : r;
	r = pki_ca_chain(db, ca, &cs->ch);
	db_ca_free(ca);
	if (r != 0)
		return r;
	for (i = 0; i < cs->ch.n; i++) {
		cs->der[cs->n] = cs->ch.der[i];
		cs->len[cs->n++] = cs->ch.len[i];
	}
	return 0;
}

/* The PEM blocks of certificates [0, n) of cs, concatenated. */
static int
certs_pem(const struct certs *cs, size_t n, char **out, size_t *outlen)
{
	char *all = NULL, *pem = NULL, *t;
	size_t len = 0, plen, i;
	int r = 0;

	for (i = 0; i < n; i++) {
		if ((r = x509_der_to_pem(cs->der[i], cs->len[i], &pem,
					 &plen)) != 0)
			break;
		if ((t = realloc(all, len + plen + 1)) == NULL) {
			r = EST_E_NOMEM;
			break;
		}
		all = t;
		memcpy(all + len, pem, plen + 1);
		len += plen;
		free(pem);
		pem = NULL;
	}
	free(pem);
	if (r != 0) {
		free(all);
		return r;
	}
	*out = all;
	*outlen = len;
	return 0;
}

/* The certs-only SignedData, DER (p7.c writes it for EST, in base64). */
static int
certs_p7(const struct certs *cs, uint8_t **out, size_t *outlen)
{
	char *b64 = NULL;
	size_t blen = 0;
	int r;

	if ((r = p7_certs_only_b64(cs->der, cs->len, cs->n, &b64, &blen)) != 0)
		return r;
	r = b64_decode(b64, blen, B64_SKIP_WS, out, outlen);
	free(b64);
	return r;
}

static int
attachment(struct resp *rs, int64_t id, const char *ext)
{
	char disp[96];

	snprintf(disp, sizeof(disp),
		 "attachment; filename=\"certificate-%lld.%s\"", (long long)id,
		 ext);
	return resp_header(rs, "Content-Disposition", disp);
}

static int
h_download(struct hctx *c, const struct request *req, const struct principal *p,
	   struct resp *rs)
{
	struct jsonval_error e = {0};
	struct db_result *res = NULL;
	struct rest_query q;
	struct certs cs;
	struct db *db;
	const char *fmt;
	uint8_t *bin = NULL;
	char *text = NULL;
	size_t len = 0;
	int64_t id;
	int r;

	memset(&cs, 0, sizeof(cs));
	if ((r = rest_query_parse(req, dl_query, NELEM(dl_query), &q, &e)) !=
		    0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_cert_access(db, p, req, id, 0, PERM_ACT_READ, "read", &res,
				 &e)) != 0)
		goto out;
	if ((fmt = rest_q_str(&q, "format")) == NULL)
		fmt = "pem";
	if (strcmp(fmt, "der") == 0) {
		const char *der = db_result_str(res, 0, DB_CERT_DER, &len);

		if ((r = resp_body(rs, 200, DER_TYPE, der, len)) == 0)
			r = attachment(rs, id, "der");
		goto out;
	}
	if (strcmp(fmt, "pem") == 0) {
		cs.der[0] = (const uint8_t *)db_result_str(res, 0, DB_CERT_DER,
							   &cs.len[0]);
		if ((r = certs_pem(&cs, 1, &text, &len)) == 0 &&
		    (r = resp_body(rs, 200, PEM_TYPE, text, len)) == 0)
			r = attachment(rs, id, "pem");
		goto out;
	}
	if ((r = certs_load(db, res, &cs)) != 0)
		goto out;
	if (strcmp(fmt, "chain") == 0) {
		if ((r = certs_pem(&cs, cs.n, &text, &len)) == 0 &&
		    (r = resp_body(rs, 200, CHAIN_TYPE, text, len)) == 0)
			r = attachment(rs, id, "chain.pem");
	} else {
		if ((r = certs_p7(&cs, &bin, &len)) == 0 &&
		    (r = resp_body(rs, 200, P7_TYPE, bin, len)) == 0)
			r = attachment(rs, id, "p7b");
	}
out:
	free(bin);
	free(text);
	pki_chain_clear(&cs.ch);
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

/*
 * Why there is no key to hand out.  A key past its retention that the
 * sweep has not destroyed yet is destroyed now.
 */
static int
pkcs12_refusal(struct db *db, const struct db_result *res,
	       struct jsonval_error *e)
{
	const char *src = db_result_str(res, 0, DB_CERT_KEY_SOURCE, NULL);
	int64_t id = db_result_i64(res, 0, DB_CERT_ID);
	uint64_t n = 0;
	int r;

	if (src == NULL || strcmp(src, "server") != 0)
		return jsonval_error_set(e, EST_E_CONFLICT, "id",
					 "the private key was not generated "
					 "by the server");
	if ((r = db_cert_destroy_keys(db, id, 0, &n)) != 0)
		return r;
	if (n > 0)
		log_info("certificate %lld: key destroyed after its retention",
			 (long long)id);
	return jsonval_error_set(e, EST_E_GONE, "id",
				 "the private key is no longer kept");
}

static int
pkcs12_tx(struct db *db, struct sigclient *sig, const struct principal *p,
	  const struct request *req, int64_t id, const char *pass,
	  uint8_t **p12, size_t *p12len, struct jsonval_error *e)
{
	struct db_result *res = NULL;
	struct rest_diff d;
	struct rest_what w;
	struct certs cs;
	uint8_t *wrapped = NULL;
	size_t wlen = 0;
	int r;

	memset(&cs, 0, sizeof(cs));
	rest_diff_init(&d);
	if ((r = api_cert_access(db, p, req, id, 1, PERM_ACT_DOWNLOAD,
				 "download", &res, e)) != 0)
		goto out;
	if ((r = db_cert_wrapped_key(db, id, &wrapped, &wlen)) ==
	    EST_E_NOTFOUND) {
		r = pkcs12_refusal(db, res, e);
		goto out;
	}
	if (r != 0 || (r = certs_load(db, res, &cs)) != 0)
		goto out;
	/* The chain goes in without the leaf, which is the cert itself. */
	if ((r = sigclient_export_wrapped(sig, wrapped, wlen,
					  SIGNER_EXPORT_PKCS12, pass, cs.der[0],
					  cs.len[0], cs.der + 1, cs.len + 1,
					  cs.n - 1, p12, p12len)) != 0 ||
	    (r = rest_diff_note(&d, "pkcs12", "downloaded")) != 0)
		goto out;
	api_cert_what(res, "download", &w);
	r = rest_audit(db, p, req, &w, &d);
out:
	rest_diff_clear(&d);
	freezero(wrapped, wlen);
	pki_chain_clear(&cs.ch);
	db_result_free(res);
	return r;
}

static int
h_pkcs12(struct hctx *c, const struct request *req, const struct principal *p,
	 struct resp *rs)
{
	struct jsonval_error e = {0};
	struct json_object *body = NULL;
	struct db_result *res = NULL;
	struct sigclient *sig = NULL;
	struct db *db;
	uint8_t *p12 = NULL;
	size_t p12len = 0;
	int64_t id;
	int r, tx;

	if ((r = rest_query_none(req, &e)) != 0 ||
	    (r = rest_cap_id(c, "id", &id, &e)) != 0 ||
	    (r = rest_body(req, p12_fields, NELEM(p12_fields), &body, &e)) !=
		    0 ||
	    (r = ctx_db(c, &db)) != 0 ||
	    (r = api_cert_access(db, p, req, id, 0, PERM_ACT_DOWNLOAD,
				 "download", &res, &e)) != 0 ||
	    (r = ctx_signer(c, &sig)) != 0 || (r = db_begin(db)) != 0)
		goto out;
	r = pkcs12_tx(db, sig, p, req, id,
		      jsonval_get_string(body, "passphrase"), &p12, &p12len,
		      &e);
	/* A 410 keeps what it did: the destroyed key stays destroyed. */
	tx = r == EST_E_GONE ? rest_tx_end(db, 0) : rest_tx_end(db, r);
	if (r == 0)
		r = tx;
	else if (tx != 0 && r == EST_E_GONE)
		r = tx;
	if (r != 0)
		goto out;
	if ((r = resp_body(rs, 200, PKCS12_TYPE, p12, p12len)) == 0)
		r = attachment(rs, id, "p12");
out:
	freezero(p12, p12len);
	api_cert_wipe(body, "passphrase");
	json_object_put(body);
	db_result_free(res);
	return rest_answer(rs, r, &e);
}

AUTH_ROUTE(r_download, h_download)
AUTH_ROUTE(r_pkcs12, h_pkcs12)

int
api_cert_r_download(struct hctx *c, const struct request *req, struct resp *rs)
{
	return r_download(c, req, rs);
}

int
api_cert_r_pkcs12(struct hctx *c, const struct request *req, struct resp *rs)
{
	return r_pkcs12(c, req, rs);
}
