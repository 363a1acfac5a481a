/*
 * Shared state of the issuance tests: test_issue.c starts a real signer on
 * a private SoftHSM token, migrates the private MariaDB that
 * run-issue-tests.sh started and makes a root and two issuing CAs;
 * test_issue_cert.c issues and checks certificates, test_issue_db.c tests
 * db/cert.c and the refusals.
 */
#ifndef ESTUARY_TEST_ISSUE_H
#define ESTUARY_TEST_ISSUE_H

#include <stddef.h>
#include <stdint.h>

#include <CUnit/CUnit.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dbq.h"
#include "issue.h"
#include "tmpl.h"

struct db;
struct sigclient;

extern struct db *ti_db;	 /* the application account */
extern struct sigclient *ti_sig; /* the signer */
extern struct db_ca *ti_root, *ti_issuing, *ti_rsa_issuing;
extern X509 *ti_root_cert, *ti_issuing_cert, *ti_rsa_issuing_cert;

/* A template field: subject attribute (oid, name) or SAN (type). */
struct ti_field {
	int san;
	const char *oid;
	const char *name;
	enum subj_san_type san_type;
	enum subj_onenc onenc;
	enum subj_rule rule;
	size_t max_len;
	const char *def;
};

/* The usual device template of the tests, with fields given. */
struct tmpl *ti_template(const char *name, const struct db_ca *ca,
			 const struct ti_field *fields, size_t nfields);
/* Stores t (db_template_insert) and loads it back (db_template_load). */
struct tmpl *ti_store(struct tmpl *t);

/* A new key pair and a CSR signed with it. */
EVP_PKEY *ti_key(const char *alg);
/*
 * A CSR for key with subject "CN=...,O=..." attributes (pairs of short
 * name and value, NULL-ended) and DNS SAN names (NULL-ended, may be NULL).
 */
struct csr *ti_csr(EVP_PKEY *key, const char *const *subject,
		   const char *const *dns);
struct csr *ti_csr_der(const uint8_t *der, size_t len);

/* Issues in a transaction of its own (committed when it succeeds). */
int ti_issue(const struct tmpl *t, const struct db_ca *ca,
	     const struct csr *csr, int keygen, const struct subj_input *user,
	     time_t not_before, int days, struct issue_result **out,
	     struct issue_error *err);
/* The rows of certificates. */
int64_t ti_count(void);
/* 1 when x verifies up to the root through issuing. */
int ti_verify(X509 *x, X509 *issuing);
X509 *ti_x509(const struct issue_result *r);

/* The custom extension (OID TI_OID_CUSTOM, UTF8String "hello"). */
extern int64_t ti_custom_ext_id;
#define TI_OID_CUSTOM "1.3.6.1.4.1.99999.1"
#define TI_OID_WISUN_EKU "1.3.6.1.4.1.45605.1"
#define TI_OID_HWMODULE "1.3.6.1.5.5.7.8.4"
/* The CAs' publication URLs are under it. */
#define TI_BASE_URL "http://127.0.0.1:8080"

/* The tests of test_issue_cert.c and test_issue_db.c. */
extern CU_TestInfo ti_issue_tests[];
extern CU_TestInfo ti_db_tests[];

#endif
