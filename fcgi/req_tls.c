/*
 * The client certificate and its verification status, as the web server
 * exports them.  The web server has proved that the client holds the key
 * of the certificate; whether the certificate is trusted is decided later
 * by the application (DESIGN.md), so a certificate is accepted here with any
 * verification status.
 *
 * lighttpd (ssl.verifyclient.exportcert) and Apache (+ExportCertData) pass
 * SSL_CLIENT_CERT as PEM; nginx passes $ssl_client_escaped_cert, which is
 * the PEM URL-encoded.  PEM never contains '%', so a '%' means the encoded
 * form.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "err.h"
#include "reqparse.h"

#define PEM_CERT_BEGIN "-----BEGIN CERTIFICATE-----"

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
reqp_client_cert(const char *v, X509 **out)
{
	char *pem = NULL, *rest;
	const char *start;
	size_t len = strlen(v), pemlen, i;
	BIO *bio = NULL;
	X509 *x = NULL;
	int r;

	if (len > REQ_CERT_MAX)
		return EST_E_TOOBIG;
	if (strchr(v, '%') != NULL) {
		if ((r = reqp_unescape(v, len, 0, &pem, &pemlen)) != 0)
			return r;
	} else if ((pem = strndup(v, len)) == NULL) {
		return EST_E_NOMEM;
	} else {
		pemlen = len;
	}
	/* PEM is ASCII text: refuse anything else before OpenSSL sees it. */
	for (i = 0; i < pemlen; i++) {
		unsigned char c = (unsigned char)pem[i];

		if (!is_space((char)c) && (c < 0x20 || c > 0x7e)) {
			r = EST_E_INVAL;
			goto out;
		}
	}
	for (start = pem; is_space(*start); start++)
		;
	if (strncmp(start, PEM_CERT_BEGIN, strlen(PEM_CERT_BEGIN)) != 0) {
		r = EST_E_INVAL;
		goto out;
	}
	if ((bio = BIO_new_mem_buf(
		     start, (int)(pemlen - (size_t)(start - pem)))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL) {
		r = EST_E_BADASN1;
		goto out;
	}
	/* Exactly one certificate: only white space may follow it. */
	if ((i = (size_t)BIO_get_mem_data(bio, &rest)) > 0) {
		while (i > 0 && is_space(*rest)) {
			rest++;
			i--;
		}
		if (i != 0) {
			r = EST_E_TRAILING;
			goto out;
		}
	}
	*out = x;
	x = NULL;
	r = 0;
out:
	X509_free(x);
	BIO_free(bio);
	free(pem);
	return r;
}

int
reqp_verify(const char *v, enum req_verify *verify, char **reason)
{
	static const struct {
		const char *name;
		enum req_verify value;
	} forms[] = {
		{"SUCCESS", REQ_VERIFY_SUCCESS},
		{"NONE", REQ_VERIFY_NONE},
		{"GENEROUS", REQ_VERIFY_GENEROUS},
		{"FAILED", REQ_VERIFY_FAILED},
	};
	const char *why;
	char *copy = NULL;
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (strcmp(v, forms[i].name) == 0) {
			*verify = forms[i].value;
			*reason = NULL;
			return 0;
		}
	}
	if (strncmp(v, "FAILED:", 7) != 0)
		return EST_E_INVAL;
	why = v + 7;
	if (strlen(why) > REQ_REASON_MAX)
		return EST_E_INVAL;
	/* It may reach a log line: printable ASCII only. */
	for (i = 0; why[i] != '\0'; i++)
		if ((unsigned char)why[i] < 0x20 ||
		    (unsigned char)why[i] > 0x7e)
			return EST_E_INVAL;
	if (why[0] != '\0' && (copy = strdup(why)) == NULL)
		return EST_E_NOMEM;
	*verify = REQ_VERIFY_FAILED;
	*reason = copy;
	return 0;
}
