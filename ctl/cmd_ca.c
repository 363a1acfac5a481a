/*
 * ca create, ca list, ca export: internal CAs.  The key pair is made in
 * the token by the signer (label "ca-NAME", usage CA, bound to the CA's
 * subject); the certificate is built here with lib/x509 and signed by the
 * signer with the issuer's key: the CA's own for a root, the parent's for
 * an intermediate.  The database keeps the key's id and the certificate,
 * never the key.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ctl.h"
#include "dbq.h"
#include "err.h"
#include "sigclient.h"
#include "util.h"
#include "x509.h"

/*
 * A CA's name is free text (cas.name is VARCHAR(128)); its key's label is
 * derived from it (see ca_label()).
 */
#define CA_NAME_MAX 128
#define CA_LABEL_PREFIX "ca-"
/* Longest chain ca export follows; deeper means a loop in the table. */
#define CA_CHAIN_MAX 16
#define CA_PATHLEN_MAX 32

struct ca_req {
	const char *name, *dn, *type, *days, *parent, *pathlen;
	const char *scope, *tenant, *org, *out;
	int exists_ok;
	/* Checked values. */
	int keytype, ndays, npathlen;
	int64_t tenant_id, org_id;
};

/* Writes the PEM of a CA's certificate to path. */
static int
write_ca_pem(struct ctl *ctl, const struct db_ca *ca, const char *path)
{
	char *pem = NULL;
	size_t len = 0;
	int r;

	if (ca->cert_der == NULL)
		return ctl_fail(ctl, "CA '%s' has no certificate yet",
				ca->name);
	if ((r = x509_der_to_pem(ca->cert_der, ca->cert_len, &pem, &len)) !=
		    0 ||
	    (r = ctl_output(path, pem, len)) != 0) {
		free(pem);
		return ctl_fail_err(ctl, r, "cannot write %s",
				    path != NULL ? path : "the certificate");
	}
	free(pem);
	return 0;
}

/* Scope from --scope, or from which of --tenant and --org were given. */
static int
check_scope(struct ctl *ctl, struct ca_req *q)
{
	if (q->scope == NULL)
		q->scope = q->org != NULL      ? SCOPE_ORG
			   : q->tenant != NULL ? SCOPE_TENANT
					       : SCOPE_GLOBAL;
	if (strcmp(q->scope, SCOPE_GLOBAL) == 0) {
		if (q->tenant != NULL || q->org != NULL)
			return ctl_fail(ctl, "a global CA has no tenant or "
					     "organization");
	} else if (strcmp(q->scope, SCOPE_TENANT) == 0) {
		if (q->tenant == NULL || q->org != NULL)
			return ctl_fail(ctl, "scope tenant needs --tenant "
					     "and no --org");
	} else if (strcmp(q->scope, SCOPE_ORG) == 0) {
		if (q->tenant == NULL || q->org == NULL)
			return ctl_fail(ctl, "scope organization needs "
					     "--tenant and --org");
	} else {
		return ctl_fail(ctl, "--scope must be global, tenant or "
				     "organization");
	}
	return 0;
}

static int
check_request(struct ctl *ctl, struct ca_req *q)
{
	if (q->name == NULL || q->dn == NULL || q->type == NULL ||
	    q->days == NULL)
		return ctl_fail(ctl, "--name, --subject, --key-type and --days "
				     "are required");
	if (ctl_check_text(ctl, "the CA name", q->name, CA_NAME_MAX) != 0)
		return 1;
	if (x509_keytype_parse(q->type, &q->keytype) != 0)
		return ctl_fail(ctl,
				"unknown key type '%s' (ec-p256, ec-p384, "
				"rsa-2048, rsa-3072, rsa-4096)",
				q->type);
	if (ctl_parse_int(ctl, "--days", q->days, 1, X509_DAYS_MAX,
			  &q->ndays) != 0)
		return 1;
	q->npathlen = -1;
	if (q->pathlen != NULL &&
	    ctl_parse_int(ctl, "--path-len", q->pathlen, 0, CA_PATHLEN_MAX,
			  &q->npathlen) != 0)
		return 1;
	if (q->parent != NULL && ctl_check_text(ctl, "the parent CA name",
						q->parent, CA_NAME_MAX) != 0)
		return 1;
	return check_scope(ctl, q);
}

/*
 * The parent must be an active CA with a certificate that may issue CA
 * certificates (its pathLenConstraint leaves room) and that outlives the
 * new one.  Without --path-len an intermediate gets 0: it issues end
 * entities only.
 */
static int
check_parent(struct ctl *ctl, const struct db_ca *p, X509 *pcert,
	     struct ca_req *q)
{
	long ppl = X509_get_pathlen(pcert);
	int days, secs;

	if (!p->active)
		return ctl_fail(ctl, "parent CA '%s' is not active", p->name);
	if (X509_check_ca(pcert) == 0)
		return ctl_fail(ctl, "parent '%s' is not a CA certificate",
				p->name);
	if (ppl == 0)
		return ctl_fail(ctl,
				"parent CA '%s' has path length 0: it "
				"cannot issue CA certificates",
				p->name);
	if (q->npathlen < 0)
		q->npathlen = 0;
	if (ppl > 0 && q->npathlen >= ppl)
		return ctl_fail(ctl,
				"--path-len must be below the parent's "
				"path length %ld",
				ppl);
	if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(pcert)))
		return ctl_fail(ctl, "cannot read the parent's validity");
	if ((int64_t)days * 86400 + secs < (int64_t)q->ndays * 86400)
		return ctl_fail(ctl,
				"--days %d would outlive the parent CA '%s' "
				"(%d days left)",
				q->ndays, p->name, days < 0 ? 0 : days);
	return 0;
}

/*
 * The label of a CA's key: "ca-NAME" when the name is made of label
 * characters (A-Z a-z 0-9 . _ -) and fits.  Otherwise every other byte
 * becomes '_', the result is cut to leave room, and '-' and the first 16
 * hex digits of the SHA-256 of the exact name are appended, so that two
 * names never share a label by accident.  The label depends only on the
 * name, so a later run finds a key that an interrupted one left behind.
 */
static int
ca_label(const char *name, char label[SIGNER_LABEL_MAX + 1])
{
	static const char ok[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz0123456789._-";
	const size_t pre = sizeof(CA_LABEL_PREFIX) - 1;
	uint8_t md[32];
	char hex[2 * sizeof(md) + 1];
	size_t n = strlen(name), keep, i;

	if (strspn(name, ok) == n && pre + n <= SIGNER_LABEL_MAX) {
		snprintf(label, SIGNER_LABEL_MAX + 1, "%s%s", CA_LABEL_PREFIX,
			 name);
		return 0;
	}
	if (!EVP_Digest(name, n, md, NULL, EVP_sha256(), NULL))
		return EST_E_CRYPTO;
	hex_encode(md, sizeof(md), hex);
	keep = SIGNER_LABEL_MAX - pre - 1 - 16;
	if (n < keep)
		keep = n;
	memcpy(label, CA_LABEL_PREFIX, pre);
	for (i = 0; i < keep; i++)
		label[pre + i] = strchr(ok, name[i]) != NULL ? name[i] : '_';
	snprintf(label + pre + keep, SIGNER_LABEL_MAX + 1 - pre - keep,
		 "-%.16s", hex);
	return 0;
}

/*
 * Proves that a key left in the token is bound to subject: the signer
 * signs a certification request with a CA key only when the request's
 * subject is the key's own.  (For a root, signing the certificate proves
 * it as well; for an intermediate the parent's key signs, so without this
 * check a key bound to another subject could become a CA that can never
 * sign.)
 */
static int
probe_key(struct ctl *ctl, struct sigclient *sc, const struct ca_req *q,
	  const X509_NAME *subject, const uint8_t id[SIGNER_KEYID_LEN],
	  const uint8_t *spki, size_t spkilen, const char *label)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pkey = NULL;
	int r;

	if ((r = x509_spki_to_pkey(spki, spkilen, &pkey)) != 0 ||
	    (req = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_subject_name(req, subject) ||
	    !X509_REQ_set_pubkey(req, pkey)) {
		r = r != 0 ? r : EST_E_NOMEM;
		goto out;
	}
	r = x509_req_sign(sc, id, q->keytype, SIGNER_DIGEST_SHA256, req);
	if (r == 0 && X509_REQ_verify(req, pkey) != 1)
		r = EST_E_CRYPTO;
out:
	X509_REQ_free(req);
	EVP_PKEY_free(pkey);
	if (r == EST_E_POLICY)
		return ctl_fail(ctl,
				"the token holds a key labelled '%s' "
				"that is bound to another subject",
				label);
	if (r != 0)
		return ctl_fail_err(ctl, r, "cannot check key '%s'", label);
	return 0;
}

/*
 * Generates the CA's key in the token.  A key with the CA's label left by
 * an earlier run that stopped before the database insert is taken over
 * when its type and usage fit and it is bound to the CA's subject; the
 * database refuses it if another CA already uses it (cas.key_id is
 * unique).
 */
static int
make_key(struct ctl *ctl, struct sigclient *sc, const struct ca_req *q,
	 const X509_NAME *subject, const uint8_t *subj, size_t subjlen,
	 uint8_t id[SIGNER_KEYID_LEN], uint8_t **spki, size_t *spkilen)
{
	char label[SIGNER_LABEL_MAX + 1];
	struct signer_keyinfo *keys = NULL;
	uint8_t *pk = NULL;
	size_t pklen = 0, n = 0, i;
	int r;

	if ((r = ca_label(q->name, label)) != 0)
		return ctl_fail_err(ctl, r, "cannot derive the key label");
	r = sigclient_genkey(sc, label, (uint8_t)q->keytype, SIGNER_USAGE_CA,
			     subj, subjlen, id, spki, spkilen);
	if (r != EST_E_EXISTS) {
		if (r != 0)
			return ctl_fail_err(
				ctl, r, "the signer could not generate key %s",
				label);
		return 0;
	}
	if ((r = sigclient_listkeys(sc, &keys, &n)) != 0)
		return ctl_fail_err(ctl, r, "cannot list keys");
	for (i = 0; i < n; i++)
		if (strcmp(keys[i].label, label) == 0)
			break;
	if (i == n || keys[i].usage != SIGNER_USAGE_CA ||
	    keys[i].keytype != q->keytype) {
		free(keys);
		return ctl_fail(ctl,
				"the token holds a key labelled '%s' of "
				"another type or usage",
				label);
	}
	memcpy(id, keys[i].id, SIGNER_KEYID_LEN);
	free(keys);
	if ((r = sigclient_pubkey(sc, id, &pk, &pklen)) != 0)
		return ctl_fail_err(ctl, r, "cannot read key %s", label);
	if (probe_key(ctl, sc, q, subject, id, pk, pklen, label) != 0) {
		free(pk);
		return 1;
	}
	fprintf(stderr,
		"estuaryctl: %s: reusing key '%s' left in the token "
		"by an earlier run\n",
		ctl->cmdname, label);
	*spki = pk;
	*spkilen = pklen;
	return 0;
}

/*
 * Builds and signs the certificate.  Before anything is stored, the
 * signature is checked with the issuer's public key, so that a wrong
 * answer from the signer cannot become a CA.
 */
static int
make_cert(struct ctl *ctl, struct sigclient *sc, const struct ca_req *q,
	  const X509_NAME *subject, const uint8_t *spki, size_t spkilen,
	  const uint8_t id[SIGNER_KEYID_LEN], const struct db_ca *parent,
	  X509 *pcert, X509 **out)
{
	struct x509_ca_spec spec;
	X509 *cert = NULL;
	EVP_PKEY *ikey;
	int r;

	memset(&spec, 0, sizeof(spec));
	spec.subject = subject;
	spec.spki = spki;
	spec.spkilen = spkilen;
	spec.days = q->ndays;
	spec.pathlen = q->npathlen;
	spec.issuer = pcert;
	if ((r = x509_ca_build(&spec, &cert)) != 0)
		return ctl_fail_err(ctl, r, "cannot build the certificate");
	if (parent != NULL)
		r = x509_sign(sc, parent->key_id, parent->keytype, &cert);
	else
		r = x509_sign(sc, id, q->keytype, &cert);
	if (r != 0) {
		X509_free(cert);
		return ctl_fail_err(ctl, r, "the signer refused to sign");
	}
	ikey = X509_get0_pubkey(pcert != NULL ? pcert : cert);
	if (ikey == NULL || X509_verify(cert, ikey) != 1) {
		X509_free(cert);
		return ctl_fail(ctl, "the signed certificate does not verify");
	}
	*out = cert;
	return 0;
}

/*
 * Inserts the CA and its audit row in one transaction.  Should either
 * fail, the key stays in the token and a later run takes it over (see
 * make_key()).
 */
static int
insert_ca(struct db *db, const struct db_ca *ca, const struct ca_req *q,
	  int64_t *caid)
{
	const char *after[] = {"name",	   ca->name,  "subject", ca->subject,
			       "key_type", q->type,   "scope",	 ca->scope,
			       "parent",   q->parent, "tenant",	 q->tenant,
			       "org",	   q->org,    NULL};
	int64_t id = 0;
	int r;

	if ((r = db_begin(db)) != 0)
		return r;
	if ((r = db_ca_insert(db, ca, &id)) == 0 &&
	    (r = ctl_audit(db, "ca", id, ca->name, ca->tenant_id, ca->org_id,
			   "create", after)) == 0 &&
	    (r = db_commit(db)) == 0) {
		*caid = id;
		return 0;
	}
	db_rollback(db);
	return r;
}

/* Inserts the CA; *id is its new row id. */
static int
store_ca(struct ctl *ctl, struct db *db, const struct ca_req *q, X509 *cert,
	 const uint8_t id[SIGNER_KEYID_LEN], const struct db_ca *parent,
	 int64_t *caid)
{
	struct db_ca ca;
	char *name = NULL, *scope = NULL, *subject = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int r, status = 1;

	memset(&ca, 0, sizeof(ca));
	if ((name = strdup(q->name)) == NULL ||
	    (scope = strdup(q->scope)) == NULL) {
		ctl_fail_err(ctl, EST_E_NOMEM, "store");
		goto out;
	}
	if ((r = x509_cert_der(cert, &der, &len)) != 0 ||
	    (r = x509_name_text(X509_get_subject_name(cert), &subject)) != 0) {
		ctl_fail_err(ctl, r, "cannot encode the certificate");
		goto out;
	}
	ca.name = name;
	ca.parent_id = parent != NULL ? parent->id : 0;
	memcpy(ca.key_id, id, SIGNER_KEYID_LEN);
	ca.keytype = q->keytype;
	ca.subject = subject;
	ca.cert_der = der;
	ca.cert_len = len;
	ca.scope = scope;
	ca.tenant_id = q->tenant_id;
	ca.org_id = q->org_id;
	ca.active = 1;
	if ((r = insert_ca(db, &ca, q, caid)) == EST_E_EXISTS)
		ctl_fail(ctl, "CA '%s' already exists", q->name);
	else if (r != 0)
		ctl_fail_err(ctl, r, "cannot store CA '%s'", q->name);
	else
		status = 0;
out:
	free(der);
	free(subject);
	free(scope);
	free(name);
	return status;
}

/* --exists-ok on an existing CA: (re)write --out, print the id. */
static int
ca_exists(struct ctl *ctl, const struct ca_req *q, const struct db_ca *ca)
{
	if (!q->exists_ok)
		return ctl_fail(ctl, "CA '%s' already exists", q->name);
	if (q->out != NULL && write_ca_pem(ctl, ca, q->out) != 0)
		return 1;
	printf("%" PRId64 "\n", ca->id);
	return 0;
}

int
cmd_ca_create(struct ctl *ctl, int argc, char **argv)
{
	struct ca_req q;
	const struct ctl_opt opts[] = {
		{"name", &q.name, NULL},
		{"subject", &q.dn, NULL},
		{"key-type", &q.type, NULL},
		{"days", &q.days, NULL},
		{"parent", &q.parent, NULL},
		{"path-len", &q.pathlen, NULL},
		{"scope", &q.scope, NULL},
		{"tenant", &q.tenant, NULL},
		{"org", &q.org, NULL},
		{"out", &q.out, NULL},
		{"exists-ok", NULL, &q.exists_ok},
		{NULL, NULL, NULL},
	};
	struct db *db;
	struct sigclient *sc;
	struct db_ca *existing = NULL, *parent = NULL;
	X509_NAME *subject = NULL;
	X509 *pcert = NULL, *cert = NULL;
	uint8_t id[SIGNER_KEYID_LEN], *subj = NULL, *spki = NULL, *der = NULL;
	size_t subjlen = 0, spkilen = 0, derlen = 0;
	char **pos, *pem = NULL;
	int64_t caid = 0;
	int npos, r, status = 1;

	memset(&q, 0, sizeof(q));
	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    check_request(ctl, &q) != 0 || ctl_db(ctl, DB_ROLE_APP, &db) != 0)
		return 1;
	if ((r = db_ca_get_by_name(db, q.name, &existing)) == 0) {
		status = ca_exists(ctl, &q, existing);
		goto out;
	}
	if (r != EST_E_NOTFOUND) {
		ctl_fail_err(ctl, r, "cannot look up CA '%s'", q.name);
		goto out;
	}
	if ((r = x509_name_parse(q.dn, &subject)) != 0) {
		ctl_fail(ctl, "bad subject '%s'", q.dn);
		goto out;
	}
	if ((r = x509_name_der(subject, &subj, &subjlen)) != 0) {
		ctl_fail_err(ctl, r, "cannot encode the subject");
		goto out;
	}
	if (ctl_tenant_org(ctl, db, q.tenant, q.org, &q.tenant_id, &q.org_id) !=
	    0)
		goto out;
	if (q.parent != NULL) {
		if ((r = db_ca_get_by_name(db, q.parent, &parent)) != 0) {
			if (r == EST_E_NOTFOUND)
				ctl_fail(ctl, "no CA '%s'", q.parent);
			else
				ctl_fail_err(ctl, r, "cannot look up CA '%s'",
					     q.parent);
			goto out;
		}
		if (parent->cert_der == NULL) {
			ctl_fail(ctl, "parent CA '%s' has no certificate yet",
				 q.parent);
			goto out;
		}
		if ((r = x509_cert_from_der(parent->cert_der, parent->cert_len,
					    &pcert)) != 0) {
			ctl_fail_err(ctl, r,
				     "cannot read the certificate of "
				     "CA '%s'",
				     q.parent);
			goto out;
		}
		if (check_parent(ctl, parent, pcert, &q) != 0)
			goto out;
	}
	if (ctl_signer(ctl, &sc) != 0 ||
	    make_key(ctl, sc, &q, subject, subj, subjlen, id, &spki,
		     &spkilen) != 0 ||
	    make_cert(ctl, sc, &q, subject, spki, spkilen, id, parent, pcert,
		      &cert) != 0 ||
	    store_ca(ctl, db, &q, cert, id, parent, &caid) != 0)
		goto out;
	if (q.out != NULL) {
		if ((r = x509_cert_der(cert, &der, &derlen)) != 0 ||
		    (r = x509_der_to_pem(der, derlen, &pem, NULL)) != 0 ||
		    (r = ctl_write_file(q.out, pem, strlen(pem), 0644)) != 0) {
			ctl_fail_err(ctl, r,
				     "CA '%s' was created, but %s "
				     "could not be written",
				     q.name, q.out);
			goto out;
		}
	}
	printf("%" PRId64 "\n", caid);
	status = 0;
out:
	free(pem);
	free(der);
	free(spki);
	free(subj);
	X509_free(cert);
	X509_free(pcert);
	X509_NAME_free(subject);
	db_ca_free(parent);
	db_ca_free(existing);
	return status;
}

/* The name of the CA with id, from list or else from the database. */
static char *
parent_name(struct db *db, struct db_ca **list, size_t n, int64_t id)
{
	struct db_ca *ca = NULL;
	char *name;
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i]->id == id)
			return strdup(list[i]->name);
	if (db_ca_get(db, id, &ca) != 0)
		return NULL;
	name = strdup(ca->name);
	db_ca_free(ca);
	return name;
}

int
cmd_ca_list(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_opt opts[] = {{NULL, NULL, NULL}};
	struct db *db;
	struct db_ca **list = NULL;
	const char *type;
	char **pos, *pname;
	size_t n = 0, i;
	int npos, r;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    ctl_db(ctl, DB_ROLE_APP, &db) != 0)
		return 1;
	if ((r = db_ca_list_active(db, &list, &n)) != 0)
		return ctl_fail_err(ctl, r, "cannot list CAs");
	for (i = 0; i < n; i++) {
		type = x509_keytype_name(list[i]->keytype);
		pname = list[i]->parent_id == 0
				? NULL
				: parent_name(db, list, n, list[i]->parent_id);
		printf("%" PRId64 "\t%s\t%s\t%s\t%s\t%s\n", list[i]->id,
		       list[i]->name, type != NULL ? type : "unknown",
		       pname != NULL ? pname : "-", list[i]->scope,
		       list[i]->subject);
		free(pname);
	}
	db_ca_list_free(list, n);
	return 0;
}

/* Appends the PEM of ca's certificate to *buf. */
static int
append_pem(struct ctl *ctl, const struct db_ca *ca, char **buf, size_t *len)
{
	char *pem = NULL, *nbuf;
	size_t plen = 0;
	int r;

	if (ca->cert_der == NULL)
		return ctl_fail(ctl, "CA '%s' has no certificate yet",
				ca->name);
	if ((r = x509_der_to_pem(ca->cert_der, ca->cert_len, &pem, &plen)) != 0)
		return ctl_fail_err(ctl, r, "cannot encode CA '%s'", ca->name);
	if ((nbuf = realloc(*buf, *len + plen + 1)) == NULL) {
		free(pem);
		return ctl_fail_err(ctl, EST_E_NOMEM, "export");
	}
	memcpy(nbuf + *len, pem, plen + 1);
	*buf = nbuf;
	*len += plen;
	free(pem);
	return 0;
}

int
cmd_ca_export(struct ctl *ctl, int argc, char **argv)
{
	const char *format = NULL, *out = NULL;
	int chain = 0;
	const struct ctl_opt opts[] = {
		{"chain", NULL, &chain},
		{"format", &format, NULL},
		{"out", &out, NULL},
		{NULL, NULL, NULL},
	};
	struct db *db;
	struct db_ca *ca = NULL, *next = NULL;
	char **pos, *buf = NULL;
	size_t len = 0;
	int npos, r, depth, status = 1;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 1, 1) != 0)
		return 1;
	if (format != NULL && strcmp(format, "pem") != 0 &&
	    strcmp(format, "der") != 0)
		return ctl_fail(ctl, "--format must be pem or der");
	if (chain && format != NULL && strcmp(format, "der") == 0)
		return ctl_fail(ctl, "a DER file holds one certificate; export "
				     "the chain as pem");
	if (ctl_check_text(ctl, "the CA name", pos[0], CA_NAME_MAX) != 0 ||
	    ctl_db(ctl, DB_ROLE_APP, &db) != 0)
		return 1;
	if ((r = db_ca_get_by_name(db, pos[0], &ca)) != 0) {
		if (r == EST_E_NOTFOUND)
			return ctl_fail(ctl, "no CA '%s'", pos[0]);
		return ctl_fail_err(ctl, r, "cannot look up CA '%s'", pos[0]);
	}
	if (format != NULL && strcmp(format, "der") == 0) {
		if (ca->cert_der == NULL) {
			ctl_fail(ctl, "CA '%s' has no certificate yet",
				 ca->name);
			goto out;
		}
		if ((r = ctl_output(out, ca->cert_der, ca->cert_len)) != 0) {
			ctl_fail_err(ctl, r, "cannot write %s",
				     out != NULL ? out : "the certificate");
			goto out;
		}
		status = 0;
		goto out;
	}
	/* The CA first, then its issuers up to the root. */
	for (depth = 0;; depth++) {
		if (append_pem(ctl, ca, &buf, &len) != 0)
			goto out;
		if (!chain || ca->parent_id == 0)
			break;
		if (depth == CA_CHAIN_MAX) {
			ctl_fail(ctl, "the chain of '%s' is longer than %d",
				 pos[0], CA_CHAIN_MAX);
			goto out;
		}
		if ((r = db_ca_get(db, ca->parent_id, &next)) != 0) {
			ctl_fail_err(ctl, r,
				     "cannot look up the issuer of "
				     "'%s'",
				     ca->name);
			goto out;
		}
		db_ca_free(ca);
		ca = next;
		next = NULL;
	}
	if ((r = ctl_output(out, buf, len)) != 0) {
		ctl_fail_err(ctl, r, "cannot write %s",
			     out != NULL ? out : "the certificates");
		goto out;
	}
	status = 0;
out:
	free(buf);
	db_ca_free(ca);
	return status;
}
