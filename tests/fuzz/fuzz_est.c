/*
 * Fuzz target for the EST request path that needs no database or signer
 * (fcgi/est_body.h, fcgi/est_resp.h): the input is a request as
 * fuzz_request.c takes it (NUL-terminated "KEY=value" parameters, an
 * empty entry, then the body).  It goes through the dispatcher with
 * estuary-est's EST routes (so the host, the label capture and the body
 * are parsed as in production), and each handler does what estuary-est
 * does before and after the database: the label check, the enrollment
 * body's media type and CSR intake, and the responses (certs-only,
 * serverkeygen's multipart with the CSR's bytes standing in for a key,
 * csrattrs from the CSR's subject, text/plain refusals).  Every answer is
 * serialized; an answer with an unknown status aborts.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "csr.h"
#include "ctx.h"
#include "dispatch.h"
#include "err.h"
#include "est_body.h"
#include "est_resp.h"
#include "log.h"
#include "req.h"
#include "resp.h"
#include "route.h"
#include "subject.h"

#define FUZZ_ENV_MAX 64
#define FUZZ_MAX_BODY (96 * 1024)
#define BASE "/.well-known/est"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A certificate to answer with, made once. */
static uint8_t *cert_der;
static size_t cert_len;

struct body {
	const uint8_t *p;
	size_t len, off;
};

static ssize_t
body_read(void *arg, void *p, size_t len)
{
	struct body *b = arg;
	size_t n = b->len - b->off;

	if (n > len)
		n = len;
	memcpy(p, b->p + b->off, n);
	b->off += n;
	return (ssize_t)n;
}

static int
discard(void *arg, const void *p, size_t len)
{
	size_t *total = arg;

	(void)p;
	*total += len;
	return 0;
}

/* The label, as est_call_start() checks it. */
static int
label_ok(struct hctx *c, struct resp *rs)
{
	const char *label = route_cap(c->match, "label");
	struct prov_error e;

	if (label == NULL || est_label_valid(label))
		return 1;
	est_fail(&e, 404, PROV_R_UNKNOWN_TYPE, "unknown EST label");
	(void)est_resp_error(rs, &e);
	return 0;
}

/* csrattrs as if the CSR's subject attributes were the required ones. */
static int
csrattrs(struct resp *rs, const struct csr *csr)
{
	struct subj_field f[CSR_SUBJECT_MAX + 1];
	uint8_t *der = NULL;
	size_t n = 0, i, len = 0;
	int r;

	memset(f, 0, sizeof(f));
	for (i = 0; i < csr->nsubject && n < CSR_SUBJECT_MAX; i++, n++) {
		f[n].kind = SUBJ_ATTR;
		f[n].oid = csr->subject[i].oid;
		f[n].rule = SUBJ_REQUIRED;
	}
	if (csr->has_san) {
		f[n].kind = SUBJ_SAN;
		f[n].rule = SUBJ_REQUIRED;
		n++;
	}
	if ((r = est_csrattrs_der(f, n, CSR_KEYBIT(csr->keytype), &der,
				  &len)) != 0)
		return r;
	r = est_resp_csrattrs(rs, der, len);
	free(der);
	return r;
}

static int
h_enroll(struct hctx *c, const struct request *req, struct resp *rs)
{
	const uint8_t *ders[1] = {cert_der};
	size_t lens[1] = {cert_len};
	struct prov_error e;
	struct csr *csr = NULL;
	int r;

	if (!label_ok(c, rs))
		return 0;
	memset(&e, 0, sizeof(e));
	if (est_body_csr(req, &csr, &e) != 0)
		return est_resp_error(rs, &e);
	if (strstr(req->path, "serverkeygen") != NULL)
		r = est_resp_serverkeygen(rs, csr->der, csr->derlen, ders, lens,
					  1);
	else if (req->auth_user != NULL)
		r = csrattrs(rs, csr);
	else
		r = est_resp_certs(rs, ders, lens, 1);
	csr_free(csr);
	return r;
}

static int
h_get(struct hctx *c, const struct request *req, struct resp *rs)
{
	const uint8_t *ders[1] = {cert_der};
	size_t lens[1] = {cert_len};

	(void)req;
	if (!label_ok(c, rs))
		return 0;
	return est_resp_certs(rs, ders, lens, 1);
}

static const struct route est_routes[] = {
	{REQ_M_GET, BASE "/cacerts", h_get},
	{REQ_M_POST, BASE "/simpleenroll", h_enroll},
	{REQ_M_POST, BASE "/simplereenroll", h_enroll},
	{REQ_M_POST, BASE "/serverkeygen", h_enroll},
	{REQ_M_GET, BASE "/csrattrs", h_get},
	{REQ_M_GET, BASE "/{label}/cacerts", h_get},
	{REQ_M_POST, BASE "/{label}/simpleenroll", h_enroll},
	{REQ_M_POST, BASE "/{label}/simplereenroll", h_enroll},
	{REQ_M_POST, BASE "/{label}/serverkeygen", h_enroll},
	{REQ_M_GET, BASE "/{label}/csrattrs", h_get},
};

static const struct app est_app = {
	.name = "fuzz-est",
	.socket_key = "est_socket",
	.kind = RESP_EST,
	.routes = est_routes,
	.nroutes = sizeof(est_routes) / sizeof(est_routes[0]),
};

/* A throw-away self-signed EC certificate. */
static void
make_cert(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	unsigned char *p = NULL;
	int len;

	if (k == NULL || x == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !ASN1_INTEGER_set(X509_get_serialNumber(x), 1) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), 86400) == NULL ||
	    !X509_NAME_add_entry_by_txt(
		    X509_get_subject_name(x), "CN", MBSTRING_ASC,
		    (const unsigned char *)"fuzz", -1, -1, 0) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(x)) ||
	    !X509_set_pubkey(x, k) || X509_sign(x, k, EVP_sha256()) == 0 ||
	    (len = i2d_X509(x, &p)) <= 0)
		abort();
	cert_der = p;
	cert_len = (size_t)len;
	X509_free(x);
	EVP_PKEY_free(k);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init("fuzz_est", 0, LOG_LVL_ERR);
	make_cert();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct req_limits lim = {.max_body = FUZZ_MAX_BODY};
	char *copy, *env[FUZZ_ENV_MAX + 1];
	struct hctx ctx;
	struct body b;
	struct resp *rs;
	size_t i = 0, n = 0, total = 0;
	int herr, r;

	if ((copy = malloc(size + 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	while (i < size && n < FUZZ_ENV_MAX) {
		if (copy[i] == '\0') {
			i++;
			break;
		}
		env[n++] = copy + i;
		i += strlen(copy + i) + 1;
	}
	env[n] = NULL;
	b.p = data + (i < size ? i : size);
	b.len = size - (i < size ? i : size);
	b.off = 0;
	memset(&ctx, 0, sizeof(ctx));
	if ((rs = resp_new(RESP_EST)) != NULL) {
		r = dispatch(&est_app, &ctx, env, &lim, body_read, &b, rs,
			     &herr);
		if (r == 0 && resp_write(rs, discard, &total) != 0)
			abort();
		if (r == 0 &&
		    strcmp(resp_reason(resp_status(rs)), "Unknown") == 0)
			abort();
		resp_free(rs);
	}
	free(copy);
	return 0;
}
