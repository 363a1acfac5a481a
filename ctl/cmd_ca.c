/*
 * ca create, ca list, ca export: internal CAs.  A CA is made by
 * pki_ca_create() (pki/ca.c), as the REST API makes it: the key pair in
 * the token by the signer (label "ca-NAME", usage CA, bound to the CA's
 * subject), the certificate signed by the signer with the issuer's key
 * (the CA's own for a root, the parent's for an intermediate), the row
 * with its CRL and OCSP URLs under pki_base_url, and its first CRL.  Here
 * a key left in the token by an earlier run that stopped before storing
 * the CA is taken over.  The database keeps the key's id and the
 * certificate, never the key.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "conf.h"
#include "ctl.h"
#include "dbq.h"
#include "err.h"
#include "sigclient.h"
#include "util.h"
#include "x509.h"

/* A CA's name is free text (cas.name is VARCHAR(128)). */
#define CA_NAME_MAX PKI_CA_NAME_MAX

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
	    ctl_parse_int(ctl, "--path-len", q->pathlen, 0, PKI_CA_PATHLEN_MAX,
			  &q->npathlen) != 0)
		return 1;
	if (q->parent != NULL && ctl_check_text(ctl, "the parent CA name",
						q->parent, CA_NAME_MAX) != 0)
		return 1;
	return check_scope(ctl, q);
}

/*
 * Creates the CA and its audit row in one transaction.  Should either
 * fail, a key already made stays in the token and a later run takes it
 * over (pki_ca_req.take_over).
 */
static int
create_ca(struct ctl *ctl, struct db *db, struct sigclient *sc,
	  struct pki_ca_req *rq, const struct ca_req *q, int64_t *caid)
{
	const char *after[] = {"name",	   rq->name,  "subject", rq->subject,
			       "key_type", q->type,   "scope",	 rq->scope,
			       "parent",   q->parent, "tenant",	 q->tenant,
			       "org",	   q->org,    NULL};
	struct pki_ca_error err;
	int64_t id = 0;
	int r;

	memset(&err, 0, sizeof(err));
	if ((r = db_begin(db)) != 0)
		return ctl_fail_err(ctl, r, "cannot store CA '%s'", q->name);
	if ((r = pki_ca_create(db, sc, rq, &id, &err)) != 0) {
		db_rollback(db);
		if (r == EST_E_UNPROCESSABLE || r == EST_E_CONFLICT ||
		    r == EST_E_EXISTS)
			return ctl_fail(ctl, "%s", err.message);
		return ctl_fail_err(ctl, r, "%s", err.message);
	}
	if ((r = ctl_audit(db, "ca", id, rq->name, rq->tenant_id, rq->org_id,
			   "create", after)) != 0 ||
	    (r = db_commit(db)) != 0) {
		db_rollback(db);
		return ctl_fail_err(ctl, r, "cannot store CA '%s'", q->name);
	}
	if (rq->took_over)
		fprintf(stderr,
			"estuaryctl: %s: reusing the key left in the token "
			"by an earlier run\n",
			ctl->cmdname);
	*caid = id;
	return 0;
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
	struct pki_ca_req rq;
	struct conf *conf;
	struct db *db;
	struct sigclient *sc;
	struct db_ca *existing = NULL, *parent = NULL, *made = NULL;
	char **pos;
	int64_t caid = 0;
	int npos, r, status = 1;

	memset(&q, 0, sizeof(q));
	memset(&rq, 0, sizeof(rq));
	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    check_request(ctl, &q) != 0 || ctl_conf(ctl, &conf) != 0 ||
	    ctl_db(ctl, DB_ROLE_APP, &db) != 0)
		return 1;
	if ((r = db_ca_get_by_name(db, q.name, &existing)) == 0) {
		status = ca_exists(ctl, &q, existing);
		goto out;
	}
	if (r != EST_E_NOTFOUND) {
		ctl_fail_err(ctl, r, "cannot look up CA '%s'", q.name);
		goto out;
	}
	if (ctl_tenant_org(ctl, db, q.tenant, q.org, &q.tenant_id, &q.org_id) !=
	    0)
		goto out;
	if (q.parent != NULL &&
	    (r = db_ca_get_by_name(db, q.parent, &parent)) != 0) {
		if (r == EST_E_NOTFOUND)
			ctl_fail(ctl, "no CA '%s'", q.parent);
		else
			ctl_fail_err(ctl, r, "cannot look up CA '%s'",
				     q.parent);
		goto out;
	}
	rq.kind = parent != NULL ? PKI_CA_ISSUING : PKI_CA_ROOT;
	rq.name = q.name;
	rq.subject = q.dn;
	rq.keytype = q.keytype;
	rq.days = q.ndays;
	rq.path_len = q.npathlen;
	rq.scope = q.scope;
	rq.tenant_id = q.tenant_id;
	rq.org_id = q.org_id;
	rq.parent_id = parent != NULL ? parent->id : 0;
	rq.base_url = conf_get(conf, "pki_base_url");
	rq.take_over = 1;
	if (ctl_signer(ctl, &sc) != 0 ||
	    create_ca(ctl, db, sc, &rq, &q, &caid) != 0)
		goto out;
	if (q.out != NULL) {
		if ((r = db_ca_get(db, caid, &made)) != 0) {
			ctl_fail_err(ctl, r,
				     "CA '%s' was created, but %s "
				     "could not be written",
				     q.name, q.out);
			goto out;
		}
		if (write_ca_pem(ctl, made, q.out) != 0)
			goto out;
	}
	printf("%" PRId64 "\n", caid);
	status = 0;
out:
	db_ca_free(made);
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
	struct pki_chain ch;
	struct db *db;
	struct db_ca *ca = NULL;
	char **pos, *buf = NULL;
	size_t len = 0, n;
	int npos, r, status = 1;

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
	/*
	 * The CA first, then its issuers up to the root (with the uploaded
	 * chain of a CA signed elsewhere).
	 */
	if (ca->cert_der == NULL) {
		ctl_fail(ctl, "CA '%s' has no certificate yet", ca->name);
		goto out;
	}
	if ((r = pki_ca_chain(db, ca, &ch)) != 0) {
		ctl_fail_err(ctl, r, "cannot read the chain of '%s'", ca->name);
		goto out;
	}
	/* Without --chain, only the first; all of them are freed. */
	n = ch.n;
	if (!chain)
		ch.n = 1;
	r = pki_chain_pem(&ch, &buf, &len);
	ch.n = n;
	pki_chain_clear(&ch);
	if (r != 0) {
		ctl_fail_err(ctl, r, "cannot encode CA '%s'", ca->name);
		goto out;
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
