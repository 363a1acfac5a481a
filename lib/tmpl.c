/*
 * The in-memory certificate template: freeing it, lending its fields to
 * subject_resolve(), and the names its enums have in the database and the
 * API (one table per enum, so that the two cannot drift apart).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "tmpl.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *const type_names[] = {
	[TMPL_FACTORY] = "factory",
	[TMPL_OPERATIONAL] = "operational",
	[TMPL_GENERAL] = "general",
};

static const char *const digest_names[] = {
	[TMPL_DIGEST_SHA256] = "sha256",
	[TMPL_DIGEST_SHA384] = "sha384",
	[TMPL_DIGEST_SHA512] = "sha512",
};

static const char *const rule_names[] = {
	[SUBJ_OPTIONAL] = "optional",
	[SUBJ_REQUIRED] = "required",
	[SUBJ_FIXED] = "fixed",
};

static const char *const strtype_names[] = {
	[SUBJ_STR_DEFAULT] = "default",
	[SUBJ_STR_UTF8] = "utf8string",
	[SUBJ_STR_PRINTABLE] = "printablestring",
	[SUBJ_STR_IA5] = "ia5string",
};

static const char *const santype_names[] = {
	[SUBJ_SAN_DNS] = "dns",
	[SUBJ_SAN_IP] = "ip",
	[SUBJ_SAN_URI] = "uri",
	[SUBJ_SAN_EMAIL] = "email",
	[SUBJ_SAN_OTHERNAME] = "othername",
};

static const char *const onenc_names[] = {
	[SUBJ_ON_UTF8] = "utf8string",
	[SUBJ_ON_IA5] = "ia5string",
	[SUBJ_ON_OCTET] = "octetstring",
	[SUBJ_ON_HWMODULE] = "hardware_module_name",
	[SUBJ_ON_DER] = "der",
};

/* RFC 5280 4.2.1.3, in bit order (the order of the SET columns too). */
static const char *const ku_names[] = {
	"digitalSignature", "nonRepudiation", "keyEncipherment",
	"dataEncipherment", "keyAgreement",   "keyCertSign",
	"cRLSign",	    "encipherOnly",   "decipherOnly",
};

struct name_table {
	const char *const *names;
	size_t n;
};

static const struct name_table name_tables[] = {
	[TMPL_N_TYPE] = {type_names, NELEM(type_names)},
	[TMPL_N_DIGEST] = {digest_names, NELEM(digest_names)},
	[TMPL_N_RULE] = {rule_names, NELEM(rule_names)},
	[TMPL_N_STRTYPE] = {strtype_names, NELEM(strtype_names)},
	[TMPL_N_SANTYPE] = {santype_names, NELEM(santype_names)},
	[TMPL_N_ONENC] = {onenc_names, NELEM(onenc_names)},
	[TMPL_N_KU] = {ku_names, NELEM(ku_names)},
};

const char *
tmpl_name(enum tmpl_names kind, int v)
{
	const struct name_table *t;

	if ((unsigned)kind >= NELEM(name_tables))
		return NULL;
	t = &name_tables[kind];
	if (v < 0 || (size_t)v >= t->n)
		return NULL;
	return t->names[v];
}

int
tmpl_value(enum tmpl_names kind, const char *name, int *v)
{
	const struct name_table *t;
	size_t i;

	if ((unsigned)kind >= NELEM(name_tables) || name == NULL)
		return EST_E_INVAL;
	t = &name_tables[kind];
	for (i = 0; i < t->n; i++) {
		if (t->names[i] != NULL && strcmp(t->names[i], name) == 0) {
			*v = (int)i;
			return 0;
		}
	}
	return EST_E_INVAL;
}

/*
 * The strings of a field belong to the template (subj_field lends them as
 * const to subject_resolve, which never writes them).
 */
static void
field_clear(struct subj_field *f)
{
	free((char *)(uintptr_t)f->oid);
	free((char *)(uintptr_t)f->short_name);
	free((char *)(uintptr_t)f->default_value);
}

void
tmpl_free(struct tmpl *t)
{
	size_t i;

	if (t == NULL)
		return;
	free(t->name);
	free(t->scope);
	for (i = 0; i < t->neku; i++)
		free(t->eku[i]);
	free(t->eku);
	for (i = 0; t->fields != NULL && i < t->nfields; i++)
		field_clear(&t->fields[i]);
	free(t->fields);
	free(t->field_ids);
	for (i = 0; t->exts != NULL && i < t->nexts; i++) {
		free(t->exts[i].oid);
		free(t->exts[i].der);
	}
	free(t->exts);
	free(t->updated_at);
	free(t->description);
	free(t->created_at);
	free(t);
}

void
tmpl_subject(const struct tmpl *t, struct subj_template *out)
{
	out->fields = t->fields;
	out->nfields = t->nfields;
}
