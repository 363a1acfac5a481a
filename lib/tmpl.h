/*
 * A certificate template as the issuing code uses it: one row of
 * cert_templates with its subject and SAN fields (cert_template_subject_
 * fields, cert_template_san_fields, in position order) and its custom
 * extensions (already DER-encoded, as custom_extensions.value_der holds
 * them).  db/template.h loads one from the database; nothing here reads it.
 * Every string and array is owned by the struct and freed by tmpl_free().
 */
#ifndef ESTUARY_TMPL_H
#define ESTUARY_TMPL_H

#include <stddef.h>
#include <stdint.h>

#include "subject.h"

enum tmpl_type {
	TMPL_FACTORY = 1,
	TMPL_OPERATIONAL,
	TMPL_GENERAL,
};

/* cert_templates.digest. */
enum tmpl_digest {
	TMPL_DIGEST_SHA256 = 1,
	TMPL_DIGEST_SHA384,
	TMPL_DIGEST_SHA512,
};

/* One custom extension attached to the template. */
struct tmpl_ext {
	int64_t id;
	char *oid; /* dotted decimal */
	int critical;
	uint8_t *der; /* the extnValue content (custom_extensions.value_der) */
	size_t derlen;
};

/* "unlimited expiration": notAfter 99991231235959Z (RFC 5280 4.1.2.5). */
#define TMPL_VALIDITY_UNLIMITED 0

struct tmpl {
	int64_t id;
	char *name;
	enum tmpl_type type;
	char *scope; /* SCOPE_* of db/dbq.h */
	int64_t tenant_id; /* 0 for none */
	int64_t org_id;
	int active;
	int64_t ca_id;
	int validity_days; /* > 0, or TMPL_VALIDITY_UNLIMITED */
	uint32_t key_types; /* CSR_KEYBIT(enum signer_keytype) set */
	int server_keygen;
	int keygen_key_type; /* enum signer_keytype; 0: first of key_types */
	enum tmpl_digest digest;
	unsigned int ku; /* CSR_KU_* bits; 0: no keyUsage extension */
	int ku_critical;
	char **eku; /* dotted OIDs; neku 0: no extendedKeyUsage */
	size_t neku;
	int eku_critical;
	int basic_constraints; /* include basicConstraints */
	int basic_ca;
	int basic_pathlen; /* -1: none */
	int basic_critical;
	int san_critical;
	int crl_dp;	    /* add the CA's CRL distribution point */
	int ocsp_aia;	    /* add the CA's OCSP URL in AIA */
	int ca_issuers_aia; /* add caIssuers (the CA's certificate URL) */
	int key_retention_days; /* -1: keep no server-generated key */
	struct subj_field *fields; /* subject then SAN fields, in order */
	size_t nfields;
	/*
	 * The row id of each field (cert_template_subject_fields.id for a
	 * SUBJ_ATTR field, cert_template_san_fields.id for a SUBJ_SAN one),
	 * parallel to fields: device-type mappings name fields by these ids.
	 */
	int64_t *field_ids;
	struct tmpl_ext *exts;
	size_t nexts;
	char *updated_at; /* row version, for ETags */
	char *description; /* NULL for none */
	char *created_at;
};

void tmpl_free(struct tmpl *t);

/* The fields as subject_resolve() takes them (borrowed from t). */
void tmpl_subject(const struct tmpl *t, struct subj_template *out);

/*
 * The names of the enums above and of lib/subject.h's template enums as
 * the database columns and the API spell them ("factory", "sha256",
 * "required", "printablestring", "dns", "hardware_module_name", and the
 * keyUsage bit names of RFC 5280 for the bit numbers of CSR_KU_*).
 * tmpl_name() returns NULL for a value out of range; tmpl_value() sets *v
 * and returns 0, or returns EST_E_INVAL for an unknown name (exact,
 * case-sensitive).
 */
enum tmpl_names {
	TMPL_N_TYPE,	/* enum tmpl_type */
	TMPL_N_DIGEST,	/* enum tmpl_digest */
	TMPL_N_RULE,	/* enum subj_rule */
	TMPL_N_STRTYPE, /* enum subj_strtype */
	TMPL_N_SANTYPE, /* enum subj_san_type */
	TMPL_N_ONENC,	/* enum subj_onenc */
	TMPL_N_KU,	/* bit number of CSR_KU_* */
};
const char *tmpl_name(enum tmpl_names kind, int v);
int tmpl_value(enum tmpl_names kind, const char *name, int *v);

#endif
