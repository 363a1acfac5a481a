/*
 * EST request intake without the database (fcgi/est_body.h).
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "csr.h"
#include "err.h"
#include "est_body.h"
#include "mtype.h"
#include "req.h"

int
est_label_valid(const char *s)
{
	size_t i;

	if (s == NULL)
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= EST_LABEL_MAX)
			return 0;
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= '0' && s[i] <= '9')))
			return 0;
	}
	return i >= EST_LABEL_MIN;
}

int
est_fail(struct prov_error *e, int status, enum prov_reason code,
	 const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
	va_end(ap);
	return est_err_from_status(status);
}

int
est_body_csr(const struct request *req, struct csr **out, struct prov_error *e)
{
	struct csr_error ce;
	int r;

	if (req->content_type == NULL ||
	    !mtype_is(req->content_type, EST_PKCS10_TYPE))
		return est_fail(e, 415, PROV_R_BAD_REQUEST,
				"Content-Type must be " EST_PKCS10_TYPE);
	if (req->body == NULL || req->bodylen == 0)
		return est_fail(e, 400, PROV_R_BAD_REQUEST,
				"empty request body");
	memset(&ce, 0, sizeof(ce));
	r = csr_parse(req->body, req->bodylen, CSR_FORM_BASE64, out, &ce);
	if (r == 0)
		return 0;
	if (r == EST_E_NOMEM)
		return est_fail(e, 500, PROV_R_INTERNAL, "out of memory");
	if (r == EST_E_TOOBIG || ce.code == EST_E_TOOBIG)
		return est_fail(e, 413, PROV_R_BAD_REQUEST,
				"certification request too large");
	/*
	 * Malformed base64 or DER, a signature that does not verify, or a
	 * request the intake does not accept: EST clients know 400.
	 */
	return est_fail(e, 400, PROV_R_BAD_REQUEST, "malformed CSR: %s",
			ce.message[0] != '\0' ? ce.message : "not a PKCS#10");
}
