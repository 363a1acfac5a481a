/*
 * What db/ca.c shares with db/ca_admin.c and db/ca_crl.c: the column list
 * every CA getter reads, the row decoder and what is derived from a CA
 * certificate.  Not for use outside db/.
 */
#ifndef ESTUARY_DB_CA_INT_H
#define ESTUARY_DB_CA_INT_H

#include <stddef.h>
#include <stdint.h>

struct db_ca;
struct db_result;

/* The column list every getter reads, in the order db_ca_from_row expects. */
#define CA_COLUMNS                                                             \
	"id, name, parent_id, key_id, key_type, subject, cert_der, scope,"     \
	" tenant_id, org_id, active, fingerprint, not_before, not_after,"      \
	" crl_url, ocsp_url, ocsp_key_id, ocsp_cert_der, description,"         \
	" path_len, key_usage + 0, crl_period_hours, crl_number,"              \
	" crl_this_update, crl_next_update, ca_issuers_url, csr_der,"          \
	" chain_pem, serial, created_by_user_id, created_at, updated_at"

/* What db_ca_insert() and db_ca_set_cert() derive from a certificate. */
struct ca_cert_info {
	uint8_t fingerprint[32];
	uint8_t serial[20];
	size_t serial_len;
	char not_before[32]; /* "YYYY-MM-DD HH:MM:SS" */
	char not_after[32];
	unsigned char *subject_der; /* OPENSSL_free */
	int subject_der_len;
	uint8_t subject_hash[32];
	uint8_t ski[64];
	size_t ski_len;
	int path_len;	    /* -1 for none */
	unsigned key_usage; /* DB_CA_KU_* bits; 0 without the extension */
};

/* Parses one DER certificate (nothing after it) into ci. */
int db_ca_cert_parse(const uint8_t *der, size_t len, struct ca_cert_info *ci);
void db_ca_cert_info_clear(struct ca_cert_info *ci);

/* A struct db_ca from row of a result whose columns are CA_COLUMNS. */
int db_ca_from_row(const struct db_result *res, size_t row, struct db_ca **out);

/* "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) to UNIX time; 0 for NULL or bad. */
int64_t db_ca_time_parse(const char *s);
/* UNIX time t as "YYYY-MM-DD HH:MM:SS" (UTC); EST_E_INVAL out of range. */
int db_ca_time_text(int64_t t, char out[32]);

#endif
