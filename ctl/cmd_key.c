/*
 * token info, key list, key generate: what the signer holds.  The keys
 * themselves never leave the token; these commands see ids, labels, types
 * and public keys.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509.h>

#include "ctl.h"
#include "err.h"
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

int
cmd_key_list(struct ctl *ctl, int argc, char **argv)
{
	const struct ctl_opt opts[] = {{NULL, NULL, NULL}};
	struct sigclient *sc;
	struct signer_keyinfo *keys = NULL;
	char **pos, hex[2 * SIGNER_KEYID_LEN + 1];
	const char *type;
	size_t n = 0, i;
	int npos, r;

	if (ctl_getopt(ctl, argc, argv, opts, &pos, &npos, 0, 0) != 0 ||
	    ctl_signer(ctl, &sc) != 0)
		return 1;
	if ((r = sigclient_listkeys(sc, &keys, &n)) != 0)
		return ctl_fail_err(ctl, r, "cannot list keys");
	for (i = 0; i < n; i++) {
		hex_encode(keys[i].id, SIGNER_KEYID_LEN, hex);
		type = x509_keytype_name(keys[i].keytype);
		printf("%s\t%s\t%s\t%s\n", hex, keys[i].label,
		       type != NULL ? type : "unknown",
		       usage_name(keys[i].usage));
	}
	free(keys);
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
