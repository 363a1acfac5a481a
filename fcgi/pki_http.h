/*
 * The CA files that relying parties fetch, served by estuary-est without
 * authentication over plain HTTP and HTTPS (RFC 5280 4.2.1.13 and
 * 4.2.2.1 point there; pki_base_url of estuary.conf(5) says where):
 *
 *	GET /pki/crl/{ID}.crl	the CA's CRL, DER, application/pkix-crl,
 *				made again first when its nextUpdate has
 *				passed; cacheable until that nextUpdate
 *	GET /pki/ca/{ID}.crt	the CA's certificate, DER,
 *				application/pkix-cert (RFC 2585)
 *
 * An unknown CA, one without a certificate or CRL yet, is 404.
 */
#ifndef ESTUARY_PKI_HTTP_H
#define ESTUARY_PKI_HTTP_H

#include "route.h"

int pki_http_crl(struct hctx *c, const struct request *req, struct resp *rs);
int pki_http_cert(struct hctx *c, const struct request *req, struct resp *rs);

/* The rows of estuary-est's route table (fcgi/est.c). */
#define PKI_HTTP_ROUTES                                                        \
	{REQ_M_GET, "/pki/crl/{crlfile}", pki_http_crl},                       \
	{                                                                      \
		REQ_M_GET, "/pki/ca/{crtfile}", pki_http_cert                  \
	}

#endif
