/*
 * Internal CAs: creation (pki/ca.c), the certificate of a CA signed
 * elsewhere (pki/ca_upload.c), chains, publication URLs and the web
 * server's client-CA file (pki/ca_file.c).  estuary-api (fcgi/api_ca.c)
 * and estuaryctl (ctl/cmd_ca.c) both create CAs through pki_ca_create(),
 * so a CA is the same whichever made it.
 *
 * Three kinds of CA:
 *  - root: key generated in the HSM by the signer, self-signed;
 *  - issuing: key generated in the HSM, signed by an internal CA (the
 *    parent) that is active, has its certificate, may issue CA
 *    certificates (its pathLenConstraint leaves room) and outlives the new
 *    one;
 *  - external: key generated in the HSM and a certification request signed
 *    with it; the CA is pending until the certificate that another CA
 *    signed is uploaded (pki_ca_upload()).
 *
 * The key's label is "ca-" and the name (see pki/ca.c).  A CA key is bound
 * by the signer to the CA's subject: it signs only certificates and CRLs
 * whose issuer is exactly that subject, and requests for that subject.
 *
 * Transactions: pki_ca_create() and pki_ca_upload() run their statements
 * in the caller's open transaction (db_begin()), so that the CA and the
 * caller's audit row commit together.  A key generated in the HSM stays
 * there if the transaction is rolled back (the signer protocol has no
 * deletion); with take_over set, a later attempt with the same name reuses
 * it.
 *
 * Errors are EST_E_* codes with err filled in for the client: 422
 * (EST_E_UNPROCESSABLE) naming the field at fault, 409 (EST_E_EXISTS for
 * a name in use, EST_E_CONFLICT for a parent that is inactive or pending,
 * or a CA that is not pending), 404 for a CA that does not exist, 503 for
 * the signer or the database.
 */
#ifndef ESTUARY_PKI_CA_H
#define ESTUARY_PKI_CA_H

#include <stddef.h>
#include <stdint.h>

struct db;
struct db_ca;
struct sigclient;

#define PKI_CA_NAME_MAX 128	 /* cas.name, in characters */
#define PKI_CA_DESC_MAX 1024	 /* cas.description */
#define PKI_CA_PATHLEN_MAX 32	 /* deeper hierarchies are mistakes */
#define PKI_CA_URL_MAX 512	 /* cas.crl_url, ocsp_url, ca_issuers_url */
#define PKI_CHAIN_MAX 16	 /* certificates in a chain */
#define PKI_CERT_PEM_MAX 65536	 /* one uploaded certificate, as PEM */
#define PKI_CHAIN_PEM_MAX 524288 /* an uploaded chain, as PEM */

enum pki_ca_kind {
	PKI_CA_ROOT = 1,
	PKI_CA_ISSUING,
	PKI_CA_EXTERNAL,
};

struct pki_ca_req {
	enum pki_ca_kind kind;
	const char *name;
	const char *description; /* NULL for none */
	const char *subject;	 /* RFC 4514 text, as x509_name_parse() */
	int keytype;		 /* enum signer_keytype */
	int days;		 /* root and issuing: 1..X509_DAYS_MAX */
	/*
	 * pathLenConstraint, 0..PKI_CA_PATHLEN_MAX, or -1: none for a root
	 * or an external CA, 0 for an issuing CA (it issues end entities
	 * only).
	 */
	int path_len;
	unsigned key_usage; /* DB_CA_KU_* bits; 0: DB_CA_KU_DEFAULT */
	const char *scope;  /* SCOPE_* */
	int64_t tenant_id;  /* 0 for none */
	int64_t org_id;
	int64_t parent_id;    /* issuing */
	int crl_period_hours; /* 0: DB_CA_CRL_PERIOD_DEFAULT */
	/*
	 * pki_base_url of estuary.conf(5): the CA's CRL, OCSP responder and
	 * certificate are published under it (pki_ca_urls()); NULL or ""
	 * publishes nothing.
	 */
	const char *base_url;
	int64_t created_by_user_id; /* 0 for none */
	/*
	 * estuaryctl: a key with the CA's label left in the token by an
	 * earlier run that stopped before storing the CA is taken over when
	 * its type and usage fit and the signer confirms it is bound to the
	 * CA's subject.  Without it (the API) every CA gets a fresh key whose
	 * label carries a random suffix, so that a name used before never
	 * brings an old key back.
	 */
	int take_over;
	/* Set when a left-over key was taken over. */
	int took_over;
};

struct pki_ca_error {
	int code;
	char field[64];
	char message[160];
};

/*
 * Creates the CA described by rq (see above): key, certificate or request,
 * row, publication URLs and, when it has a certificate, its first CRL.
 * Sets *id.
 */
int pki_ca_create(struct db *db, struct sigclient *sc, struct pki_ca_req *rq,
		  int64_t *id, struct pki_ca_error *err);

/*
 * The certificate of pending CA id, signed elsewhere, as PEM (exactly one
 * certificate), with an optional chain (PEM, the certificates above it up
 * to a self-signed root; NULL for none).  The certificate must carry the
 * CA's key, have the request's subject octet for octet (the signer signs
 * only for that issuer name), be a CA certificate (basicConstraints
 * CA:TRUE, keyUsage keyCertSign and cRLSign) and be valid now; a chain
 * must verify it (X509_verify_cert).  422 naming "certificate" or "chain"
 * otherwise; 409 when the CA is not pending.  Stores both and makes the
 * CA's first CRL.
 */
int pki_ca_upload(struct db *db, struct sigclient *sc, int64_t id,
		  const char *cert_pem, size_t certlen, const char *chain_pem,
		  size_t chainlen, struct pki_ca_error *err);

/*
 * The publication URLs of CA id under base (no trailing slash needed):
 * base/pki/crl/ID.crl, base/pki/ocsp/ID and base/pki/ca/ID.crt, each a new
 * string.  All three NULL (and 0) when base is NULL or "".
 */
int pki_ca_urls(const char *base, int64_t id, char **crl, char **ocsp,
		char **issuers);

/*
 * A CA's chain: its certificate first, then each issuer up to and
 * including the root (internal parents, then the uploaded chain of an
 * externally signed CA).  Each der[i] is a new buffer.
 */
struct pki_chain {
	uint8_t *der[PKI_CHAIN_MAX];
	size_t len[PKI_CHAIN_MAX];
	size_t n;
};

/* EST_E_CONFLICT when ca (or a CA above it) has no certificate yet. */
int pki_ca_chain(struct db *db, const struct db_ca *ca, struct pki_chain *ch);
void pki_chain_clear(struct pki_chain *ch);
/* The chain as PEM text (NUL-terminated, *len without the NUL). */
int pki_chain_pem(const struct pki_chain *ch, char **pem, size_t *len);

/*
 * The web server's client-CA file (tls_client_ca_file): the PEM of every
 * active internal CA with a certificate and of every verified, active
 * external CA, replaced atomically (mode 0644) and only
 * when its content changes.  *changed says whether it was written, *n how
 * many certificates it holds.  EST_E_DENIED when the file or its directory
 * is not writable by this process.
 */
int pki_client_ca_write(struct db *db, const char *path, int *changed,
			size_t *n);

/*
 * Starts the operator's web_reload_command through /bin/sh in the
 * background, detached from this process (its own session, standard
 * streams on /dev/null), without waiting for it: a command that restarts
 * the web server would otherwise cut the response that is still on its
 * way through it.
 */
int pki_reload_start(const char *cmd);

#endif
