/*
 * Fuzz target for lib/csr, the CSR intake path of the API and of EST.  The
 * first byte selects the form (DER, PEM or base64) and the rest is the
 * input.  A refusal must carry its code, a field and a terminated message;
 * an accepted request must be internally consistent (the SPKI inside the
 * DER and decodable, every subject value NUL-free UTF-8, every SAN that
 * has a value a C string) and go through the key policy both ways.  Built
 * as a check_PROGRAM with replay.c, or with -fsanitize=fuzzer for
 * libFuzzer.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "csr.h"
#include "err.h"
#include "jsonval.h"
#include "x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const enum csr_form forms[] = {CSR_FORM_DER, CSR_FORM_PEM,
				      CSR_FORM_BASE64};

static void
check_utf8(const char *s)
{
	size_t len = strlen(s), k, n;
	uint32_t cp;

	if (len == 0)
		abort();
	for (k = 0; k < len; k += n)
		if ((n = jsonval_utf8_next((const unsigned char *)s + k,
					   len - k, &cp)) == 0 ||
		    cp < 0x20)
			abort();
}

static void
check_accepted(const struct csr *c)
{
	struct key_policy pol;
	struct csr_error err;
	EVP_PKEY *pk = NULL;
	size_t i;

	if (c->spki < c->der || c->spki + c->spkilen > c->der + c->derlen ||
	    x509_spki_to_pkey(c->spki, c->spkilen, &pk) != 0)
		abort();
	EVP_PKEY_free(pk);
	for (i = 0; i < c->nsubject; i++)
		check_utf8(c->subject[i].value);
	for (i = 0; i < c->nsan; i++) {
		if (c->san[i].type == CSR_SAN_OTHER) {
			if (c->san[i].der == NULL || c->san[i].derlen == 0)
				abort();
		} else
			check_utf8(c->san[i].value);
	}
	if (c->challenge != NULL && strlen(c->challenge) != c->challengelen)
		abort();
	pol.allowed = CSR_KEYBIT(c->keytype);
	if (csr_key_allowed(c, &pol, &err) != 0)
		abort();
	pol.allowed = ~CSR_KEYBIT(c->keytype);
	if (csr_key_allowed(c, &pol, &err) != EST_E_UNPROCESSABLE)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct csr_error err;
	struct csr *c = NULL;
	int r;

	if (size < 1)
		return 0;
	r = csr_parse(data + 1, size - 1, forms[data[0] % 3], &c, &err);
	if (r != 0) {
		if (c != NULL || r != err.code || err.message[0] == '\0' ||
		    err.field[0] == '\0' ||
		    memchr(err.message, '\0', sizeof(err.message)) == NULL ||
		    est_err_http_status(r) < 400 ||
		    est_err_http_status(r) >= 500 + (r == EST_E_NOMEM))
			abort();
		return 0;
	}
	check_accepted(c);
	csr_free(c);
	return 0;
}
