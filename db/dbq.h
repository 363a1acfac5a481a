/*
 * Domain queries of the foundation: tenants, organizations, users and CAs.
 * Later modules add their own headers beside this one.
 */
#ifndef ESTUARY_DBQ_H
#define ESTUARY_DBQ_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* Roles, as stored in users.role. */
#define ROLE_ADMIN "admin"
#define ROLE_AUDITOR "auditor"
#define ROLE_TENANT_ADMIN "tenant_admin"
#define ROLE_TENANT_AUDITOR "tenant_auditor"
#define ROLE_TENANT_OPERATOR "tenant_operator"
#define ROLE_ORG_OPERATOR "org_operator"

int db_tenant_create(struct db *db, const char *name, const char *description,
		     int64_t *id);
int db_tenant_find(struct db *db, const char *name, int64_t *id);
int db_org_create(struct db *db, int64_t tenant_id, const char *name,
		  const char *description, int64_t *id);
int db_org_find(struct db *db, int64_t tenant_id, const char *name,
		int64_t *id);

/* tenant_id and org_id are 0 for none (an Admin or Auditor). */
int db_user_create(struct db *db, const char *username, const char *pwhash,
		   const char *role, int64_t tenant_id, int64_t org_id,
		   int64_t *id);
int db_user_find(struct db *db, const char *username, int64_t *id);

/* Accessibility scope of shareable entities. */
#define SCOPE_GLOBAL "global"
#define SCOPE_TENANT "tenant"
#define SCOPE_ORG "organization"

struct db_ca {
	int64_t id;
	char *name;
	int64_t parent_id;  /* 0 for a root */
	uint8_t key_id[16]; /* the signer's key id */
	int keytype;	    /* enum signer_keytype */
	char *subject;	    /* RFC 2253 text, for display */
	uint8_t *cert_der;  /* NULL while the certificate is pending */
	size_t cert_len;
	char *scope;	   /* SCOPE_* */
	int64_t tenant_id; /* 0 when global */
	int64_t org_id;	   /* 0 unless organization scope */
	int active;
	/*
	 * Derived from cert_der by db_ca_insert (which ignores these) and
	 * returned by the getters; zero while the certificate is pending.
	 */
	uint8_t fingerprint[32]; /* SHA-256 of cert_der */
	int64_t not_before;	 /* UNIX time */
	int64_t not_after;
};

/*
 * Inserts ca (id and the derived fields ignored); sets *id.  The columns
 * that describe the certificate (fingerprint, serial, validity, subject DER
 * and its hash, subject key identifier) are computed from cert_der here,
 * so they cannot disagree with it: EST_E_BADASN1 when it is not one DER
 * certificate.
 */
int db_ca_insert(struct db *db, const struct db_ca *ca, int64_t *id);
int db_ca_get(struct db *db, int64_t id, struct db_ca **out);
int db_ca_get_by_name(struct db *db, const char *name, struct db_ca **out);
/* Every active CA that has a certificate, for the web server's CA file. */
int db_ca_list_active(struct db *db, struct db_ca ***out, size_t *n);
void db_ca_free(struct db_ca *ca);
void db_ca_list_free(struct db_ca **list, size_t n);

#endif
