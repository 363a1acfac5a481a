/*
 * Shared state and helpers of the estuary-signerd tests (test_signer.c
 * runs the signer and the protocol tests; test_signer_x509.c builds and
 * verifies certificates, CRLs, requests and device keys through it;
 * test_signer_ocsp.c OCSP responses; test_signer_destroy.c destroys keys).
 */
#ifndef ESTUARY_TEST_SIGNER_H
#define ESTUARY_TEST_SIGNER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "sigclient.h"

/* The running signer's directory and socket. */
extern char dir[256];
extern char sockpath[300];
/* Signatures the signer returned: the journal must have as many lines. */
extern atomic_uint nsigned;

/* Keys made by the tests, by role, and what was built with them. */
extern uint8_t root_id[16], issuing_id[16], rsaroot_id[16], csr_id[16],
	rsa4096_id[16];
extern X509_NAME *root_name, *issuing_name, *rsaroot_name;
extern X509 *root_cert, *issuing_cert;

/* A new connection to the signer (fails the test when there is none). */
struct sigclient *client(void);

X509_NAME *make_name(const char *cn);
int name_der(X509_NAME *n, uint8_t **der);
EVP_PKEY *spki_key(const uint8_t *spki, size_t len);
/* The public key of a signer key, from PUBKEY. */
EVP_PKEY *pubkey_of(const uint8_t id[16]);
/* A certificate body with the given names, key, CA flag and algorithm. */
X509 *make_tbs(X509_NAME *subject, X509_NAME *issuer, EVP_PKEY *key, int ca,
	       int nid, long serial);
/* Signs a certificate body through the signer; NULL and *err on failure. */
X509 *sign_cert(X509 *x, const uint8_t id[16], int nid, int *err);
/* One SIGN request; 0 or the signer's error. */
int sign_raw(const uint8_t id[16], uint8_t kind, uint8_t digest,
	     const uint8_t *data, size_t len);

/* A raw connection to the signer (30 s receive timeout), and frames. */
int raw_connect(void);
int raw_send(int fd, uint32_t len, uint8_t version, uint8_t type,
	     const void *body, size_t bodylen);
/* Reads one reply: its type, a FAIL's code in *code; -1 on end of stream. */
int raw_reply(int fd, uint32_t *code);

void test_raw_protocol(void);
void test_cert_chain(void);
void test_rsa_root(void);
void test_crl(void);
void test_csr(void);
void test_policy(void);
void test_wrapped(void);
void test_ocsp(void);
/* DESTROYKEY (test_signer_destroy.c); these destroy every key pair. */
void test_destroy_one(void);
void test_destroy_refusals(void);
void test_destroy_only_key_pairs(void);
void test_destroy_while_signing(void);
void test_destroy_all_keeps_wrapping_key(void);
void test_destroy_journal(void);

#endif
