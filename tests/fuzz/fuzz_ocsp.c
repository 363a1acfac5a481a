/*
 * Fuzz target for the OCSP responder's request parser (pki/ocsp_req.c),
 * the input every client on the network controls.  A refusal must carry
 * one of the parser's codes and no request; an accepted request must be
 * within the limits, and the ResponseData the responder would build from
 * it (every answer kind, the nonce echoed) must be one that the signer's
 * strict parser accepts, so that no request can make the responder build
 * something the signer refuses.  Built as a check_PROGRAM with replay.c,
 * or with -fsanitize=fuzzer for libFuzzer.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "ocsp.h"
#include "sigproto.h"
#include "tbs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_accepted(const struct ocsp_request *rq)
{
	struct ocsp_single s[OCSP_REQ_CERTS_MAX];
	struct tbs_info info;
	uint8_t kh[20], *rd = NULL;
	size_t rdlen = 0, i;
	int known = 1;

	if (rq->n < 1 || rq->n > OCSP_REQ_CERTS_MAX)
		abort();
	if (rq->nonce != NULL &&
	    (rq->noncelen < OCSP_NONCE_MIN + 2 ||
	     rq->noncelen > OCSP_NONCE_MAX + 2 || rq->nonce[0] != 0x04))
		abort();
	for (i = 0; i < rq->n; i++) {
		const struct ocsp_certid *id = &rq->ids[i];

		if (id->der == NULL || id->derlen < 2 || id->serial_len > 20)
			abort();
		if ((id->hash == OCSP_HASH_SHA1 && id->hashlen != 20) ||
		    (id->hash == OCSP_HASH_SHA256 && id->hashlen != 32))
			abort();
		known &= id->hash != OCSP_HASH_OTHER;
		s[i].id = id;
		s[i].status = (enum ocsp_cert_status)(i % 3);
		s[i].revoked_at = 1700000000;
		s[i].reason = (int)(i % 2 ? 1 : -1);
	}
	/* Only CertIDs of hashes we answer ever reach the signer. */
	if (!known)
		return;
	memset(kh, 0x11, sizeof(kh));
	if (ocsp_respdata_der(kh, 1700000000, 1700003600, s, rq->n, rq->nonce,
			      rq->noncelen, &rd, &rdlen) != 0)
		abort();
	if (tbs_parse(SIGNER_SIGN_OCSP, rd, rdlen, &info) != 0)
		abort();
	free(rd);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ocsp_request *rq = NULL;
	int r;

	r = ocsp_request_parse(data, size, &rq);
	if (r != 0) {
		if (rq != NULL || (r != EST_E_BADASN1 && r != EST_E_INVAL &&
				   r != EST_E_TOOBIG && r != EST_E_NOMEM))
			abort();
		return 0;
	}
	check_accepted(rq);
	ocsp_request_free(rq);
	return 0;
}
