/*
 * token info, key list, key generate, key destroy: what the signer holds.
 * The keys themselves never leave the token; these commands see ids,
 * labels, types and public keys.  The database says which keys are in use
 * (db/keyref.h): key destroy refuses those, key list --unused hides them.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "ctl.h"
#include "err.h"
#include "keyref.h"
#include "sigclient.h"
#include "util.h"
#include "x509.h"

static const char *
usage_name(int usage)
{
	switch (usage) {
	case SIGNER_USAGE_CA:
		return "ca";
	case SIGNER_USAGE_OTHER:
		return "other";
	case SIGNER_USAGE_OCSP:
		return "ocsp";
	}
	return "unknown";
}

int
cmd_token_info(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_opt opts[] = {{NULL, NULL, NULL}};
	struct sigclient *sc;
	char **pos, *label = NULL;
	uint32_t version = 0;
	int npos, r;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    ctl_signer(ctl, &sc) != 0)
		return 1;
	if ((r = sigclient_ping(sc, &version, &label)) != 0)
		return ctl_fail_err(ctl, r, "the signer did not answer");
	printf("protocol: %u\ntoken: %s\n", (unsigned)version, label);
	free(label);
	return 0;
}

/* Whether id is one of the n ids of DB_KEYREF_ID_LEN octets in ids. */
static int
referenced(const uint8_t *ids, size_t n, const uint8_t *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (memcmp(ids + i * DB_KEYREF_ID_LEN, id, DB_KEYREF_ID_LEN) ==
		    0)
			return 1;
	return 0;
}

int
cmd_key_list(struct ctl *ctl, int argc, char **argv)
{
	int unused = 0;
	const struct ctl_opt opts[] = {{"unused", NULL, &unused},
				       {NULL, NULL, NULL}};
	struct sigclient *sc;
	struct signer_keyinfo *keys = NULL;
	struct db *db;
	uint8_t *used = NULL;
	char **pos, hex[2 * SIGNER_KEYID_LEN + 1];
	const char *type;
	size_t n = 0, nused = 0, i;
	int npos, r;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0)
		return 1;
	if (unused) {
		if (ctl_db(ctl, DB_ROLE_APP, &db) != 0)
			return 1;
		if ((r = db_keyref_all(db, &used, &nused)) != 0)
			return ctl_fail_err(
				ctl, r, "cannot read which keys are in use");
	}
	if (ctl_signer(ctl, &sc) != 0) {
		free(used);
		return 1;
	}
	if ((r = sigclient_listkeys(sc, &keys, &n)) != 0) {
		free(used);
		return ctl_fail_err(ctl, r, "cannot list keys");
	}
	for (i = 0; i < n; i++) {
		if (unused && referenced(used, nused, keys[i].id))
			continue;
		hex_encode(keys[i].id, SIGNER_KEYID_LEN, hex);
		type = x509_keytype_name(keys[i].keytype);
		printf("%s\t%s\t%s\t%s\n", hex, keys[i].label,
		       type != NULL ? type : "unknown",
		       usage_name(keys[i].usage));
	}
	free(keys);
	free(used);
	return 0;
}

int
cmd_key_generate(struct ctl *ctl, int argc, char **argv)
{
	const char *label = NULL, *type = NULL, *usage = NULL, *dn = NULL;
	const struct ctl_opt opts[] = {
		{"label", &label, NULL}, {"type", &type, NULL},
		{"usage", &usage, NULL}, {"subject", &dn, NULL},
		{NULL, NULL, NULL},
	};
	struct sigclient *sc;
	X509_NAME *name = NULL;
	uint8_t id[SIGNER_KEYID_LEN], *subj = NULL, *spki = NULL;
	size_t subjlen = 0, spkilen = 0;
	char **pos, hex[2 * SIGNER_KEYID_LEN + 1];
	int npos, keytype, u, r, status = 1;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0)
		return 1;
	if (label == NULL || type == NULL || usage == NULL)
		return ctl_fail(ctl,
				"--label, --type and --usage are required");
	if (ctl_check_label(ctl, "the label", label, SIGNER_LABEL_MAX) != 0)
		return 1;
	if (x509_keytype_parse(type, &keytype) != 0)
		return ctl_fail(ctl,
				"unknown key type '%s' (ec-p256, ec-p384, "
				"rsa-2048, rsa-3072, rsa-4096)",
				type);
	if (strcmp(usage, "ca") == 0)
		u = SIGNER_USAGE_CA;
	else if (strcmp(usage, "other") == 0)
		u = SIGNER_USAGE_OTHER;
	else
		return ctl_fail(ctl, "--usage must be ca or other");
	/* A CA key is bound to its subject: the issuer it will sign as. */
	if (u == SIGNER_USAGE_CA && dn == NULL)
		return ctl_fail(ctl, "a CA key needs --subject");
	if (u == SIGNER_USAGE_OTHER && dn != NULL)
		return ctl_fail(ctl, "--subject is only for CA keys");
	if (dn != NULL) {
		if ((r = x509_name_parse(dn, &name)) != 0)
			return ctl_fail(ctl, "bad subject '%s'", dn);
		if ((r = x509_name_der(name, &subj, &subjlen)) != 0) {
			ctl_fail_err(ctl, r, "cannot encode the subject");
			goto out;
		}
	}
	if (ctl_signer(ctl, &sc) != 0)
		goto out;
	r = sigclient_genkey(sc, label, (uint8_t)keytype, (uint8_t)u, subj,
			     subjlen, id, &spki, &spkilen);
	if (r == EST_E_EXISTS) {
		ctl_fail(ctl, "a key labelled '%s' already exists", label);
		goto out;
	}
	if (r != 0) {
		ctl_fail_err(ctl, r, "the signer could not generate the key");
		goto out;
	}
	hex_encode(id, SIGNER_KEYID_LEN, hex);
	printf("%s\n", hex);
	status = 0;
out:
	free(spki);
	free(subj);
	X509_NAME_free(name);
	return status;
}

/* A key id as key list prints it: exactly 32 hex digits. */
static int
parse_keyid(const char *s, uint8_t id[SIGNER_KEYID_LEN])
{
	if (strlen(s) != 2 * SIGNER_KEYID_LEN)
		return EST_E_INVAL;
	return hex_decode(s, id, SIGNER_KEYID_LEN);
}

/*
 * Refuses (1, with the reason printed) a key that a row still refers to:
 * destroying it would leave that CA unable to sign.
 */
static int
check_unused(struct ctl *ctl, const uint8_t id[SIGNER_KEYID_LEN],
	     const char *hex)
{
	struct db_keyref ref;
	struct db *db;
	int r;

	memset(&ref, 0, sizeof(ref));
	if (ctl_db(ctl, DB_ROLE_APP, &db) != 0)
		return 1;
	if ((r = db_keyref_find(db, id, &ref)) == EST_E_NOTFOUND)
		return 0;
	if (r != 0)
		return ctl_fail_err(
			ctl, r, "cannot check whether key %s is in use", hex);
	ctl_fail(ctl,
		 "key %s is in use: it is the %s of CA '%s' (id %" PRId64
		 "); not destroyed",
		 hex, ref.ocsp ? "OCSP responder key" : "key", ref.ca_name,
		 ref.ca_id);
	db_keyref_clear(&ref);
	return 1;
}

int
cmd_key_destroy(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_opt opts[] = {{NULL, NULL, NULL}};
	struct signer_keyinfo *keys = NULL;
	struct sigclient *sc;
	uint8_t id[SIGNER_KEYID_LEN];
	char **pos, hex[2 * SIGNER_KEYID_LEN + 1];
	size_t n = 0, i;
	int npos, r, status = 1;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 1, 1) != 0)
		return 1;
	if (parse_keyid(pos[0], id) != 0)
		return ctl_fail(ctl,
				"'%s' is not a key id (32 hex digits, as key "
				"list prints them)",
				pos[0]);
	hex_encode(id, SIGNER_KEYID_LEN, hex);
	if (check_unused(ctl, id, hex) != 0 || ctl_signer(ctl, &sc) != 0)
		return 1;
	/* The label, for the officer's record of what went. */
	if ((r = sigclient_listkeys(sc, &keys, &n)) != 0)
		return ctl_fail_err(ctl, r, "cannot list keys");
	for (i = 0; i < n; i++)
		if (memcmp(keys[i].id, id, SIGNER_KEYID_LEN) == 0)
			break;
	if (i == n) {
		ctl_fail(ctl, "no such key %s", hex);
		goto out;
	}
	r = sigclient_destroy_key(sc, id);
	if (r == EST_E_NOTFOUND) {
		ctl_fail(ctl, "no such key %s", hex);
		goto out;
	}
	if (r == EST_E_BADTYPE) {
		ctl_fail(ctl, "the signer is older than key destruction; "
			      "upgrade estuary-signerd");
		goto out;
	}
	if (r != 0) {
		ctl_fail_err(ctl, r, "the signer could not destroy key %s",
			     hex);
		goto out;
	}
	printf("destroyed %s (%s)\n", hex, keys[i].label);
	status = 0;
out:
	free(keys);
	return status;
}
