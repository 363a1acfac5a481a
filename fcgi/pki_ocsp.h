/*
 * The OCSP responder's HTTP binding in estuary-est (RFC 6960 appendix A,
 * RFC 5019): public, no authentication, over plain HTTP and HTTPS.
 *
 *	POST /pki/ocsp/{id}		body: DER OCSPRequest,
 *					Content-Type application/ocsp-request
 *	GET  /pki/ocsp/{id}/{ocspreq}	the request in base64 (or base64url),
 *					URL-encoded
 *
 * {id} is the CA.  Every answer to a request that reached the responder is
 * 200 application/ocsp-response, an error being an OCSPResponse with its
 * status (pki/ocsp.h); only a POST with another Content-Type (415) or an
 * oversized body (413) is refused at the HTTP level.  A successful answer
 * to GET may be cached until its nextUpdate (Expires, Cache-Control).
 */
#ifndef ESTUARY_PKI_OCSP_HTTP_H
#define ESTUARY_PKI_OCSP_HTTP_H

#include "route.h"

int pki_ocsp_post(struct hctx *c, const struct request *req, struct resp *rs);
int pki_ocsp_get(struct hctx *c, const struct request *req, struct resp *rs);

/* The rows of estuary-est's route table (fcgi/est.c). */
#define PKI_OCSP_ROUTES                                                        \
	{REQ_M_POST, "/pki/ocsp/{id}", pki_ocsp_post},                         \
	{                                                                      \
		REQ_M_GET, "/pki/ocsp/{id}/{ocspreq}", pki_ocsp_get            \
	}

#endif
