/*
 * The EST load client shared by the concurrency test
 * (tests/integration/est_load.c) and bench/bench_est: simulated devices
 * that each hold a factory certificate minted here by a factory CA whose
 * certificate and key we have (var/demo.env's ESTUARY_EXT_FACTORY_CA_CERT
 * and _KEY), make a fresh EC P-256 key and CSR, and enroll with
 * simpleenroll, the factory certificate as their TLS client certificate,
 * over bench/https.h (loopback targets only).  The answer is checked: a
 * certs-only PKCS#7 whose certificate holds the CSR's public key.
 */
#ifndef ESTUARY_ESTLOAD_H
#define ESTUARY_ESTLOAD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "https.h"

/* The factory CA that mints the devices' certificates. */
struct estload_ca {
	X509 *cert;
	EVP_PKEY *key;
};

/* Loads the CA's PEM certificate and key; 0 or -1 (why in err). */
int estload_ca_load(const char *certfile, const char *keyfile,
		    struct estload_ca *ca, char *err, size_t errlen);
void estload_ca_clear(struct estload_ca *ca);

/* One simulated device. */
struct estload_dev {
	X509 *factory;	/* its factory certificate */
	EVP_PKEY *fkey; /* the factory certificate's key */
	uint8_t fp[32]; /* SHA-256 of the factory certificate's DER */
	char fphex[65]; /* the same in lower-case hex */
};

/*
 * A new device: an EC P-256 key and a factory certificate from ca with
 * subject CN=name, serialNumber=name (name: at most 64 characters), valid
 * from an hour ago for a year, for clientAuth; 0 or -1.
 */
int estload_dev_mint(const struct estload_ca *ca, const char *name,
		     struct estload_dev *d);
/* A device from its certificate and key (estload_dev_write()'s format). */
int estload_dev_set(X509 *cert, EVP_PKEY *key, struct estload_dev *d);
void estload_dev_clear(struct estload_dev *d);

/*
 * Writes devices to fp as PEM, the key of each (PKCS#8, unencrypted:
 * throwaway test keys) after its certificate; reads them back.  0 or -1.
 */
int estload_devs_write(FILE *fp, const struct estload_dev *devs, size_t n);
int estload_devs_read(FILE *fp, struct estload_dev **devs, size_t *n);

/*
 * A fresh EC P-256 key and a CSR for it with subject CN=cn, as the
 * base64 of its DER (no line breaks, NUL-terminated, free() it).  0 or -1.
 */
int estload_csr(const char *cn, EVP_PKEY **key, char **b64, size_t *b64len);

/*
 * The full request of a POST to path with body b64 (Content-Type
 * application/pkcs10), extra header lines (each ending in \r\n, or NULL),
 * and Connection: close when close is set; free() it.  NULL when out of
 * memory.
 */
char *estload_request(const char *path, const char *extra, const char *b64,
		      size_t b64len, int close, size_t *len);

/*
 * Checks a 200 answer's body: base64 (line breaks allowed) of a DER
 * certs-only PKCS#7 that holds a certificate with key's public key.
 * 0 and, unless out is NULL, that certificate (X509_free() it); -1 with
 * the reason in err.
 */
int estload_check(const char *body, size_t len, EVP_PKEY *key, X509 **out,
		  char *err, size_t errlen);

/*
 * The certificates of a base64 certs-only PKCS#7 (a cacerts answer), in
 * *out (sk_X509_pop_free(*out, X509_free)); 0 or -1.
 */
int estload_p7_certs(const char *body, size_t len, STACK_OF(X509) * *out);

/* The SHA-256 fingerprint of x in lower-case hex. */
void estload_fphex(X509 *x, char out[65]);

/* Base64 of DER (no line breaks; free() it) and its length; NULL on error */
char *estload_b64(const uint8_t *der, size_t len, size_t *outlen);

/*
 * One enrollment on a new TLS connection with d's factory certificate:
 * a fresh key and CSR (CN=the device's fingerprint), the POST to path,
 * the answer checked.  sync, unless NULL, is called with arg once the
 * handshake is done and before the request goes out (the load test lines
 * up two clients of one device there).  *status is the HTTP status (0
 * when no answer came) and, for a checked 200, issued the new
 * certificate's fingerprint in hex (else ""); err says what went wrong.
 * 0 when the exchange completed (whatever the status), -1 on a transport
 * error or a 200 whose body does not check.
 */
int estload_enroll(const char *path, const struct estload_dev *d,
		   void (*sync)(void *), void *arg, int *status,
		   char issued[65], char *err, size_t errlen);

#endif
