/*
 * Internal certification authorities (the cas table): the row as a struct
 * db_ca, insertion with the columns derived from the certificate, and the
 * getters.  db/ca_admin.c holds the API's list and changes, db/ca_crl.c
 * the CRL storage.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca_int.h"
#include "db.h"
#include "dbq.h"
#include "err.h"
#include "log.h"
#include "util.h"

#define CA_INSERT_PARAMS 27

static const struct db_stmt_def ca_stmts[] = {
#define CA_INSERT 0
	{"ca_insert",
	 "INSERT INTO cas (name, parent_id, key_id, key_type, subject,"
	 " cert_der, scope, tenant_id, org_id, active, fingerprint, serial,"
	 " not_before, not_after, subject_der, subject_hash, ski,"
	 " description, path_len, key_usage, crl_period_hours, csr_der,"
	 " chain_pem, crl_url, ocsp_url, ca_issuers_url, created_by_user_id)"
	 " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
	 " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
	 CA_INSERT_PARAMS},
#define CA_GET 1
	{"ca_get", "SELECT " CA_COLUMNS " FROM cas WHERE id = ?", 1},
#define CA_GET_BY_NAME 2
	{"ca_get_by_name", "SELECT " CA_COLUMNS " FROM cas WHERE name = ?", 1},
#define CA_LIST_ACTIVE 3
	{"ca_list_active",
	 "SELECT " CA_COLUMNS " FROM cas"
	 " WHERE active AND cert_der IS NOT NULL ORDER BY id",
	 0},
#define CA_GET_LOCK 4
	{"ca_get_lock",
	 "SELECT " CA_COLUMNS " FROM cas WHERE id = ? FOR UPDATE", 1},
};

static const char *const ca_scopes[] = {SCOPE_GLOBAL, SCOPE_TENANT, SCOPE_ORG};

int
db_ca_time_text(int64_t t, char out[32])
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t < 0 || gmtime_r(&tt, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return EST_E_INVAL;
	return 0;
}

static int
ca_asn1_time_text(const ASN1_TIME *t, char out[32])
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return EST_E_BADASN1;
	if (tm.tm_year + 1900 > 9999 ||
	    strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		return EST_E_BADASN1;
	return 0;
}

/* OpenSSL's KU_* flags to RFC 5280 bit numbers (DB_CA_KU_*). */
static unsigned
ca_key_usage(X509 *x)
{
	static const struct {
		uint32_t ossl;
		unsigned bit;
	} map[] = {
		{KU_DIGITAL_SIGNATURE, DB_CA_KU_DIGITAL_SIGNATURE},
		{KU_NON_REPUDIATION, DB_CA_KU_NON_REPUDIATION},
		{KU_KEY_ENCIPHERMENT, DB_CA_KU_KEY_ENCIPHERMENT},
		{KU_DATA_ENCIPHERMENT, DB_CA_KU_DATA_ENCIPHERMENT},
		{KU_KEY_AGREEMENT, DB_CA_KU_KEY_AGREEMENT},
		{KU_KEY_CERT_SIGN, DB_CA_KU_KEY_CERT_SIGN},
		{KU_CRL_SIGN, DB_CA_KU_CRL_SIGN},
		{KU_ENCIPHER_ONLY, DB_CA_KU_ENCIPHER_ONLY},
		{KU_DECIPHER_ONLY, DB_CA_KU_DECIPHER_ONLY},
	};
	uint32_t ku;
	unsigned out = 0;
	size_t i;

	/* No extension at all reads as UINT32_MAX: nothing is recorded. */
	if ((X509_get_extension_flags(x) & EXFLAG_KUSAGE) == 0)
		return 0;
	ku = X509_get_key_usage(x);
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (ku & map[i].ossl)
			out |= map[i].bit;
	return out;
}

void
db_ca_cert_info_clear(struct ca_cert_info *ci)
{
	OPENSSL_free(ci->subject_der);
	memset(ci, 0, sizeof(*ci));
}

int
db_ca_cert_parse(const uint8_t *der, size_t len, struct ca_cert_info *ci)
{
	const unsigned char *p = der;
	const ASN1_OCTET_STRING *ski;
	unsigned int mdlen = 0;
	X509 *x = NULL;
	BIGNUM *bn = NULL;
	int n, r = EST_E_BADASN1;

	memset(ci, 0, sizeof(*ci));
	if (len > LONG_MAX || (x = d2i_X509(NULL, &p, (long)len)) == NULL ||
	    p != der + len)
		goto out;
	if (EVP_Digest(der, len, ci->fingerprint, &mdlen, EVP_sha256(), NULL) !=
	    1) {
		r = EST_E_CRYPTO;
		goto out;
	}
	if ((bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL)) ==
		    NULL ||
	    (n = BN_num_bytes(bn)) > (int)sizeof(ci->serial) || n < 1)
		goto out;
	ci->serial_len = (size_t)BN_bn2bin(bn, ci->serial);
	if ((r = ca_asn1_time_text(X509_get0_notBefore(x), ci->not_before)) !=
		    0 ||
	    (r = ca_asn1_time_text(X509_get0_notAfter(x), ci->not_after)) != 0)
		goto out;
	r = EST_E_BADASN1;
	if ((ci->subject_der_len = i2d_X509_NAME(X509_get_subject_name(x),
						 &ci->subject_der)) <= 0) {
		ci->subject_der = NULL;
		goto out;
	}
	if (EVP_Digest(ci->subject_der, (size_t)ci->subject_der_len,
		       ci->subject_hash, &mdlen, EVP_sha256(), NULL) != 1) {
		r = EST_E_CRYPTO;
		goto out;
	}
	if ((ski = X509_get0_subject_key_id(x)) != NULL &&
	    ASN1_STRING_length(ski) > 0 &&
	    (size_t)ASN1_STRING_length(ski) <= sizeof(ci->ski)) {
		ci->ski_len = (size_t)ASN1_STRING_length(ski);
		memcpy(ci->ski, ASN1_STRING_get0_data(ski), ci->ski_len);
	}
	/* X509_get_pathlen() is -1 without a pathLenConstraint. */
	ci->path_len = (int)X509_get_pathlen(x);
	if (ci->path_len < -1 || ci->path_len > 65535)
		ci->path_len = -1;
	ci->key_usage = ca_key_usage(x);
	r = 0;
out:
	if (r != 0)
		db_ca_cert_info_clear(ci);
	BN_free(bn);
	X509_free(x);
	return r;
}

static int
ca_scope_valid(const char *scope)
{
	size_t i;

	for (i = 0; i < sizeof(ca_scopes) / sizeof(ca_scopes[0]); i++)
		if (strcmp(scope, ca_scopes[i]) == 0)
			return 1;
	return 0;
}

int
db_ca_insert(struct db *db, const struct db_ca *ca, int64_t *id)
{
	struct ca_cert_info ci;
	struct db_param p[CA_INSERT_PARAMS];
	uint64_t newid = 0;
	unsigned ku;
	size_t i;
	int have_cert, path_len, period, r;

	if (ca == NULL || ca->name == NULL || ca->subject == NULL ||
	    ca->scope == NULL || ca->parent_id < 0 || ca->tenant_id < 0 ||
	    ca->org_id < 0 || !ca_scope_valid(ca->scope) ||
	    (ca->key_usage & ~DB_CA_KU_ALL) != 0 || ca->path_len < -1 ||
	    ca->crl_period_hours < 0 ||
	    ca->crl_period_hours > DB_CA_CRL_PERIOD_MAX ||
	    ca->created_by_user_id < 0)
		return EST_E_INVAL;
	memset(&ci, 0, sizeof(ci));
	have_cert = ca->cert_der != NULL && ca->cert_len > 0;
	if (have_cert &&
	    (r = db_ca_cert_parse(ca->cert_der, ca->cert_len, &ci)) != 0)
		return r;
	/* A certificate says what it allows; a request only asks. */
	path_len = have_cert ? ci.path_len : ca->path_len;
	ku = have_cert		  ? ci.key_usage
	     : ca->key_usage != 0 ? ca->key_usage
				  : DB_CA_KU_DEFAULT;
	period = ca->crl_period_hours > 0 ? ca->crl_period_hours
					  : DB_CA_CRL_PERIOD_DEFAULT;
	p[0] = DB_STR(ca->name);
	p[1] = ca->parent_id > 0 ? DB_I64(ca->parent_id) : DB_NULL;
	p[2] = DB_BLOB(ca->key_id, sizeof(ca->key_id));
	p[3] = DB_I64(ca->keytype);
	p[4] = DB_STR(ca->subject);
	p[5] = have_cert ? DB_BLOB(ca->cert_der, ca->cert_len) : DB_NULL;
	p[6] = DB_STR(ca->scope);
	p[7] = ca->tenant_id > 0 ? DB_I64(ca->tenant_id) : DB_NULL;
	p[8] = ca->org_id > 0 ? DB_I64(ca->org_id) : DB_NULL;
	p[9] = DB_I64(ca->active ? 1 : 0);
	if (have_cert) {
		p[10] = DB_BLOB(ci.fingerprint, sizeof(ci.fingerprint));
		p[11] = DB_BLOB(ci.serial, ci.serial_len);
		p[12] = DB_STRN(ci.not_before, strlen(ci.not_before));
		p[13] = DB_STRN(ci.not_after, strlen(ci.not_after));
		p[14] = DB_BLOB(ci.subject_der, (size_t)ci.subject_der_len);
		p[15] = DB_BLOB(ci.subject_hash, sizeof(ci.subject_hash));
		p[16] = ci.ski_len > 0 ? DB_BLOB(ci.ski, ci.ski_len) : DB_NULL;
	} else {
		for (i = 10; i < 17; i++)
			p[i] = DB_NULL;
	}
	p[17] = DB_STR(ca->description);
	p[18] = path_len >= 0 ? DB_I64(path_len) : DB_NULL;
	/* A SET column takes its members as the bits of an integer. */
	p[19] = DB_I64(ku);
	p[20] = DB_I64(period);
	p[21] = ca->csr_der != NULL && ca->csr_len > 0
			? DB_BLOB(ca->csr_der, ca->csr_len)
			: DB_NULL;
	p[22] = DB_STR(ca->chain_pem);
	p[23] = DB_STR(ca->crl_url);
	p[24] = DB_STR(ca->ocsp_url);
	p[25] = DB_STR(ca->ca_issuers_url);
	p[26] = ca->created_by_user_id > 0 ? DB_I64(ca->created_by_user_id)
					   : DB_NULL;
	r = db_exec(db, &ca_stmts[CA_INSERT], p, CA_INSERT_PARAMS, NULL,
		    &newid);
	db_ca_cert_info_clear(&ci);
	if (r != 0)
		return r;
	*id = (int64_t)newid;
	return 0;
}

int64_t
db_ca_time_parse(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, se;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h,
				&mi, &se) != 6)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	return (int64_t)timegm(&tm);
}

static char *
ca_strdup(const struct db_result *res, size_t row, size_t col)
{
	const char *s = db_result_str(res, row, col, NULL);

	return s != NULL ? strdup(s) : NULL;
}

/* A nullable text column: 0 and *out (NULL for SQL NULL), or NOMEM. */
static int
ca_optstr(const struct db_result *res, size_t row, size_t col, char **out)
{
	if (db_result_isnull(res, row, col))
		return 0;
	return (*out = ca_strdup(res, row, col)) != NULL ? 0 : EST_E_NOMEM;
}

/* A nullable blob column copied into a new buffer. */
static int
ca_optblob(const struct db_result *res, size_t row, size_t col, uint8_t **out,
	   size_t *outlen)
{
	const char *s;
	size_t len = 0;

	if ((s = db_result_str(res, row, col, &len)) == NULL || len == 0)
		return 0;
	if ((*out = malloc(len)) == NULL)
		return EST_E_NOMEM;
	memcpy(*out, s, len);
	*outlen = len;
	return 0;
}

static void
ca_copy_text(const struct db_result *res, size_t row, size_t col, char out[32])
{
	const char *s = db_result_str(res, row, col, NULL);

	snprintf(out, 32, "%s", s != NULL ? s : "");
}

int
db_ca_from_row(const struct db_result *res, size_t row, struct db_ca **out)
{
	struct db_ca *ca = NULL;
	const char *s;
	size_t len;
	int r = EST_E_NOMEM;

	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return EST_E_NOMEM;
	ca->id = db_result_i64(res, row, 0);
	if ((ca->name = ca_strdup(res, row, 1)) == NULL)
		goto out;
	ca->parent_id = db_result_i64(res, row, 2);
	s = db_result_str(res, row, 3, &len);
	if (s == NULL || len != sizeof(ca->key_id)) {
		log_err("db: CA %lld has a malformed key id",
			(long long)ca->id);
		r = EST_E_INTERNAL;
		goto out;
	}
	memcpy(ca->key_id, s, sizeof(ca->key_id));
	ca->keytype = (int)db_result_i64(res, row, 4);
	if ((ca->subject = ca_strdup(res, row, 5)) == NULL ||
	    ca_optblob(res, row, 6, &ca->cert_der, &ca->cert_len) != 0 ||
	    (ca->scope = ca_strdup(res, row, 7)) == NULL)
		goto out;
	ca->tenant_id = db_result_i64(res, row, 8);
	ca->org_id = db_result_i64(res, row, 9);
	ca->active = db_result_i64(res, row, 10) != 0;
	if ((s = db_result_str(res, row, 11, &len)) != NULL &&
	    len == sizeof(ca->fingerprint))
		memcpy(ca->fingerprint, s, len);
	ca->not_before = db_ca_time_parse(db_result_str(res, row, 12, NULL));
	ca->not_after = db_ca_time_parse(db_result_str(res, row, 13, NULL));
	if (ca_optstr(res, row, 14, &ca->crl_url) != 0 ||
	    ca_optstr(res, row, 15, &ca->ocsp_url) != 0)
		goto out;
	if ((s = db_result_str(res, row, 16, &len)) != NULL &&
	    len == sizeof(ca->ocsp_key_id)) {
		memcpy(ca->ocsp_key_id, s, len);
		ca->has_ocsp_key = 1;
	}
	if (ca_optblob(res, row, 17, &ca->ocsp_cert_der, &ca->ocsp_cert_len) !=
		    0 ||
	    ca_optstr(res, row, 18, &ca->description) != 0)
		goto out;
	ca->path_len = db_result_isnull(res, row, 19)
			       ? -1
			       : (int)db_result_i64(res, row, 19);
	ca->key_usage = (unsigned)db_result_i64(res, row, 20) & DB_CA_KU_ALL;
	ca->crl_period_hours = (int)db_result_i64(res, row, 21);
	ca->crl_number = db_result_i64(res, row, 22);
	ca->crl_this_update =
		db_ca_time_parse(db_result_str(res, row, 23, NULL));
	ca->crl_next_update =
		db_ca_time_parse(db_result_str(res, row, 24, NULL));
	if (ca_optstr(res, row, 25, &ca->ca_issuers_url) != 0 ||
	    ca_optblob(res, row, 26, &ca->csr_der, &ca->csr_len) != 0 ||
	    ca_optstr(res, row, 27, &ca->chain_pem) != 0)
		goto out;
	if ((s = db_result_str(res, row, 28, &len)) != NULL && len > 0 &&
	    len <= sizeof(ca->serial)) {
		memcpy(ca->serial, s, len);
		ca->serial_len = len;
	}
	ca->created_by_user_id = db_result_i64(res, row, 29);
	ca_copy_text(res, row, 30, ca->created_at);
	ca_copy_text(res, row, 31, ca->updated_at);
	*out = ca;
	ca = NULL;
	r = 0;
out:
	db_ca_free(ca);
	return r;
}

static int
ca_get(struct db *db, const struct db_stmt_def *def, const struct db_param *p,
       struct db_ca **out)
{
	struct db_result *res = NULL;
	int r;

	if ((r = db_query_one(db, def, p, 1, &res)) != 0)
		return r;
	r = db_ca_from_row(res, 0, out);
	db_result_free(res);
	return r;
}

int
db_ca_get(struct db *db, int64_t id, struct db_ca **out)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return ca_get(db, &ca_stmts[CA_GET], p, out);
}

int
db_ca_get_lock(struct db *db, int64_t id, struct db_ca **out)
{
	struct db_param p[1];

	p[0] = DB_I64(id);
	return ca_get(db, &ca_stmts[CA_GET_LOCK], p, out);
}

int
db_ca_get_by_name(struct db *db, const char *name, struct db_ca **out)
{
	struct db_param p[1];

	if (name == NULL)
		return EST_E_INVAL;
	p[0] = DB_STR(name);
	return ca_get(db, &ca_stmts[CA_GET_BY_NAME], p, out);
}

int
db_ca_list_active(struct db *db, struct db_ca ***out, size_t *n)
{
	struct db_result *res = NULL;
	struct db_ca **list = NULL;
	size_t i = 0, rows = 0;
	int r;

	if ((r = db_query(db, &ca_stmts[CA_LIST_ACTIVE], NULL, 0, &res)) != 0)
		return r;
	rows = db_result_rows(res);
	if (rows > 0 && (list = calloc(rows, sizeof(*list))) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	for (i = 0; i < rows; i++)
		if ((r = db_ca_from_row(res, i, &list[i])) != 0)
			goto out;
	*out = list;
	*n = rows;
	list = NULL;
	r = 0;
out:
	db_ca_list_free(list, i);
	db_result_free(res);
	return r;
}

void
db_ca_free(struct db_ca *ca)
{
	if (ca == NULL)
		return;
	free(ca->name);
	free(ca->subject);
	free(ca->cert_der);
	free(ca->scope);
	free(ca->crl_url);
	free(ca->ocsp_url);
	free(ca->ocsp_cert_der);
	free(ca->description);
	free(ca->ca_issuers_url);
	free(ca->csr_der);
	free(ca->chain_pem);
	free(ca);
}

void
db_ca_list_free(struct db_ca **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		db_ca_free(list[i]);
	free(list);
}
