/*
 * Unit tests of subject and SAN resolution (lib/subject.c): the order of
 * DESIGN.md's rule with the guide's examples, bounds, value syntax, the
 * encodings in X509_NAME and GENERAL_NAMES read back with OpenSSL, and the
 * reverse mapping of auto-registration.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "err.h"
#include "harness.h"
#include "subject.h"

#define OID_CN "2.5.4.3"
#define OID_O "2.5.4.10"
#define OID_OU "2.5.4.11"
#define OID_C "2.5.4.6"
#define OID_SERIAL "2.5.4.5"
#define OID_HWNAME "1.3.6.1.5.5.7.8.4"
#define WISUN_HW "1.3.6.1.4.1.45605.1.1:0123abcd"

#define ATTR(oid, sn, rule, max, def)                                          \
	{                                                                      \
		SUBJ_ATTR, oid, sn, SUBJ_STR_DEFAULT, SUBJ_SAN_DNS,            \
			SUBJ_ON_UTF8, rule, max, def                           \
	}
#define SAN(type, rule, max, def)                                              \
	{                                                                      \
		SUBJ_SAN, NULL, NULL, SUBJ_STR_DEFAULT, type, SUBJ_ON_UTF8,    \
			rule, max, def                                         \
	}
#define IN_ATTR(oid, v)                                                        \
	{                                                                      \
		SUBJ_ATTR, SUBJ_SAN_DNS, oid, v                                \
	}
#define IN_SAN(type, v)                                                        \
	{                                                                      \
		SUBJ_SAN, type, NULL, v                                        \
	}

/* The guide's device type: CN <- DeviceName, O <- Manufacturer. */
static const struct subj_field demo_fields[] = {
	ATTR(OID_C, "C", SUBJ_FIXED, 2, "CH"),
	ATTR(OID_O, "O", SUBJ_OPTIONAL, 64, NULL),
	ATTR(OID_CN, "CN", SUBJ_REQUIRED, 64, NULL),
};
static const struct subj_template demo = {demo_fields, 3};
static const struct subj_map_entry demo_map_entries[] = {
	{2, {SUBJ_TARGET_NAME, 0, NULL}, 0, NULL},
	{1,
	 {SUBJ_TARGET_PROPERTY, SUBJ_PROP_MANUFACTURER, NULL},
	 0,
	 "Demo Manufacturer"},
};
static const struct subj_mapping demo_map = {demo_map_entries, 2};
/* The same without the mapping's default. */
static const struct subj_map_entry nodef_map_entries[] = {
	{2, {SUBJ_TARGET_NAME, 0, NULL}, 0, NULL},
	{1, {SUBJ_TARGET_PROPERTY, SUBJ_PROP_MANUFACTURER, NULL}, 0, NULL},
};
static const struct subj_mapping nodef_map = {nodef_map_entries, 2};

/* A CSR subject: C=US, O=CSR Org, OU=Lab, CN=csr-cn. */
static const struct subj_input_entry csr_entries[] = {
	IN_ATTR(OID_C, "US"),
	IN_ATTR(OID_O, "CSR Org"),
	IN_ATTR(OID_OU, "Lab"),
	IN_ATTR(OID_CN, "csr-cn"),
};
static const struct subj_input csr = {csr_entries, 4};

/* The value of the result for template field i, or NULL. */
static const char *
value_of(const struct subj_result *r, size_t field)
{
	size_t i;

	for (i = 0; i < r->nvalues; i++)
		if (r->values[i].field == field)
			return r->values[i].value;
	return NULL;
}

/* The text of the first entry of nid in name, or NULL (caller frees). */
static char *
name_entry(const X509_NAME *name, int nid, int *type)
{
	const ASN1_STRING *s;
	int loc;

	if ((loc = X509_NAME_get_index_by_NID(name, nid, -1)) < 0)
		return NULL;
	s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, loc));
	if (type != NULL)
		*type = ASN1_STRING_type(s);
	return strndup((const char *)ASN1_STRING_get0_data(s),
		       (size_t)ASN1_STRING_length(s));
}

static void
expect_subject(const struct subj_mapping *m, const struct subj_device *dev,
	       const char *cn, const char *o)
{
	struct subj_result *res = NULL;
	struct subj_error err;
	X509_NAME *name = NULL;
	char *s;
	int type = 0;

	CU_ASSERT_EQUAL_FATAL(
		subject_resolve(&demo, m, dev, &csr, SUBJ_SRC_CSR, &res, &err),
		0);
	CU_ASSERT_STRING_EQUAL(value_of(res, 2), cn);
	CU_ASSERT_STRING_EQUAL(value_of(res, 1), o);
	/* The fixed country beats the CSR's "US". */
	CU_ASSERT_STRING_EQUAL(value_of(res, 0), "CH");
	CU_ASSERT_EQUAL(res->nvalues, 3);
	CU_ASSERT_EQUAL_FATAL(subject_to_x509_name(res, &name), 0);
	/* Template order is encoding order; the CSR's OU is not there. */
	CU_ASSERT_EQUAL(X509_NAME_entry_count(name), 3);
	CU_ASSERT_EQUAL(X509_NAME_get_index_by_NID(name, NID_countryName, -1),
			0);
	CU_ASSERT_EQUAL(X509_NAME_get_index_by_NID(name, NID_commonName, -1),
			2);
	CU_ASSERT_EQUAL(X509_NAME_get_index_by_NID(
				name, NID_organizationalUnitName, -1),
			-1);
	s = name_entry(name, NID_commonName, &type);
	CU_ASSERT_PTR_NOT_NULL(s);
	if (s != NULL)
		CU_ASSERT_STRING_EQUAL(s, cn);
	CU_ASSERT_EQUAL(type, V_ASN1_UTF8STRING);
	free(s);
	s = name_entry(name, NID_countryName, &type);
	CU_ASSERT_EQUAL(type, V_ASN1_PRINTABLESTRING);
	free(s);
	X509_NAME_free(name);
	subject_result_free(res);
}

static void
test_device_value_present(void)
{
	struct subj_device dev = {.name = "dev-001"};

	dev.props[SUBJ_PROP_MANUFACTURER] = "Acme Devices";
	expect_subject(&demo_map, &dev, "dev-001", "Acme Devices");
}

static void
test_device_value_empty_takes_default(void)
{
	struct subj_device dev = {.name = "dev-002"};

	dev.props[SUBJ_PROP_MANUFACTURER] = "";
	expect_subject(&demo_map, &dev, "dev-002", "Demo Manufacturer");
}

static void
test_both_empty_takes_csr(void)
{
	struct subj_device dev = {.name = NULL};

	expect_subject(&nodef_map, &dev, "csr-cn", "CSR Org");
	/* No device at all reads the same. */
	expect_subject(&nodef_map, NULL, "csr-cn", "CSR Org");
	/* Without a mapping, the CSR's values. */
	expect_subject(NULL, NULL, "csr-cn", "CSR Org");
}

static void
test_required_missing_names_field(void)
{
	static const struct subj_input_entry only_o[] = {
		IN_ATTR(OID_O, "x"),
	};
	static const struct subj_input_entry only_cn[] = {
		IN_ATTR(OID_CN, "x"),
	};
	struct subj_input in = {only_o, 1};
	struct subj_result *res = NULL;
	struct subj_error err;
	int r;

	r = subject_resolve(&demo, &nodef_map, NULL, &in, SUBJ_SRC_CSR, &res,
			    &err);
	CU_ASSERT_EQUAL(r, EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(est_err_http_status(r), 422);
	CU_ASSERT_PTR_NULL(res);
	CU_ASSERT_EQUAL(err.field, 2);
	CU_ASSERT_STRING_EQUAL(err.name, "CN");
	/* An optional field may stay empty. */
	in.entries = only_cn;
	CU_ASSERT_EQUAL_FATAL(subject_resolve(&demo, NULL, NULL, &in,
					      SUBJ_SRC_CSR, &res, &err),
			      0);
	CU_ASSERT_EQUAL(res->nvalues, 2);
	CU_ASSERT_PTR_NULL(value_of(res, 1));
	subject_result_free(res);
}

static void
test_max_length_in_characters(void)
{
	static const struct subj_field f[] = {
		ATTR(OID_CN, "CN", SUBJ_REQUIRED, 4, NULL),
	};
	static const struct subj_template t = {f, 1};
	/* Four characters in eight bytes, then five. */
	static const struct subj_input_entry at[] = {
		IN_ATTR(OID_CN, "\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f"),
	};
	static const struct subj_input_entry past[] = {
		IN_ATTR(OID_CN, "\xc3\xa4\xc3\xb6\xc3\xbc\xc3\x9f"
				"\xe2\x82\xac"),
	};
	static const struct subj_input_entry bad[] = {
		IN_ATTR(OID_CN, "\xc0\xaf"),
	};
	static const struct subj_map_entry me[] = {
		{0, {SUBJ_TARGET_NAME, 0, NULL}, 3, NULL},
	};
	struct subj_mapping m = {me, 1};
	struct subj_input in = {at, 1};
	struct subj_device dev = {.name = "abcd"};
	struct subj_result *res = NULL;
	struct subj_error err;

	CU_ASSERT_EQUAL_FATAL(
		subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_USER, &res, &err),
		0);
	CU_ASSERT_STRING_EQUAL(value_of(res, 0), at[0].value);
	subject_result_free(res);
	res = NULL;
	in.entries = past;
	CU_ASSERT_EQUAL(
		subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_USER, &res, &err),
		EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.name, "CN");
	CU_ASSERT_PTR_NOT_NULL(strstr(err.reason, "longer"));
	in.entries = bad;
	CU_ASSERT_EQUAL(
		subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_USER, &res, &err),
		EST_E_UNPROCESSABLE);
	/* A mapping's smaller bound applies to the device's value too. */
	CU_ASSERT_EQUAL(
		subject_resolve(&t, &m, &dev, NULL, SUBJ_SRC_USER, &res, &err),
		EST_E_UNPROCESSABLE);
	dev.name = "abc";
	CU_ASSERT_EQUAL_FATAL(
		subject_resolve(&t, &m, &dev, NULL, SUBJ_SRC_USER, &res, &err),
		0);
	CU_ASSERT_STRING_EQUAL(value_of(res, 0), "abc");
	subject_result_free(res);
}

static void
test_user_input_source(void)
{
	static const struct subj_field f[] = {
		ATTR(OID_C, "C", SUBJ_FIXED, 2, "CH"),
		ATTR(OID_O, "O", SUBJ_OPTIONAL, 64, "Template Org"),
		ATTR(OID_CN, "CN", SUBJ_REQUIRED, 64, NULL),
	};
	static const struct subj_template t = {f, 3};
	static const struct subj_input_entry same[] = {
		IN_ATTR(OID_C, "CH"),
		IN_ATTR(OID_CN, "typed"),
	};
	static const struct subj_input_entry changed[] = {
		IN_ATTR(OID_C, "DE"),
		IN_ATTR(OID_CN, "typed"),
	};
	struct subj_input in = {same, 2};
	struct subj_result *res = NULL;
	struct subj_error err;

	CU_ASSERT_EQUAL_FATAL(
		subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_USER, &res, &err),
		0);
	CU_ASSERT_STRING_EQUAL(value_of(res, 0), "CH");
	/* Nobody filled O: the template's default. */
	CU_ASSERT_STRING_EQUAL(value_of(res, 1), "Template Org");
	CU_ASSERT_STRING_EQUAL(value_of(res, 2), "typed");
	subject_result_free(res);
	res = NULL;
	/* A user may not change a fixed value; a CSR is overridden. */
	in.entries = changed;
	CU_ASSERT_EQUAL(
		subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_USER, &res, &err),
		EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(err.name, "C");
	CU_ASSERT_PTR_NULL(res);
	CU_ASSERT_EQUAL_FATAL(
		subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_CSR, &res, &err),
		0);
	CU_ASSERT_STRING_EQUAL(value_of(res, 0), "CH");
	subject_result_free(res);
}

/* Resolves one SAN field of type type with value v. */
static int
resolve_san(enum subj_san_type type, enum subj_onenc enc, const char *v)
{
	struct subj_field f[] = {
		SAN(type, SUBJ_REQUIRED, 255, NULL),
	};
	struct subj_template t = {f, 1};
	struct subj_input_entry e[] = {
		{SUBJ_SAN, type, type == SUBJ_SAN_OTHERNAME ? OID_HWNAME : NULL,
		 v},
	};
	struct subj_input in = {e, 1};
	struct subj_result *res = NULL;
	struct subj_error err;
	GENERAL_NAMES *gens = NULL;
	int r;

	f[0].onenc = enc;
	if (type == SUBJ_SAN_OTHERNAME)
		f[0].oid = OID_HWNAME;
	if ((r = subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_USER, &res,
				 &err)) != 0)
		return r;
	r = subject_to_general_names(res, &gens);
	CU_ASSERT_EQUAL(r, 0);
	CU_ASSERT_EQUAL(sk_GENERAL_NAME_num(gens), 1);
	GENERAL_NAMES_free(gens);
	subject_result_free(res);
	return r;
}

static void
test_san_syntax(void)
{
	static const struct {
		enum subj_san_type type;
		enum subj_onenc enc;
		const char *value;
		int ok;
	} cases[] = {
		{SUBJ_SAN_DNS, 0, "device.example.com", 1},
		{SUBJ_SAN_DNS, 0, "*.example.com", 1},
		{SUBJ_SAN_DNS, 0, "xn--bcher-kva.example", 1},
		{SUBJ_SAN_DNS, 0, "-bad.example.com", 0},
		{SUBJ_SAN_DNS, 0, "a..example.com", 0},
		{SUBJ_SAN_DNS, 0, "a.*.example.com", 0},
		{SUBJ_SAN_DNS, 0, "under_score.example", 0},
		{SUBJ_SAN_DNS, 0,
		 "b\xc3\xbc"
		 "cher.example",
		 0},
		{SUBJ_SAN_IP, 0, "192.0.2.1", 1},
		{SUBJ_SAN_IP, 0, "2001:db8::1", 1},
		{SUBJ_SAN_IP, 0, "192.0.2.256", 0},
		{SUBJ_SAN_IP, 0, "example.com", 0},
		{SUBJ_SAN_URI, 0, "urn:dev:ops:1234", 1},
		{SUBJ_SAN_URI, 0, "https://device.example/x?y=1", 1},
		{SUBJ_SAN_URI, 0, "no scheme here", 0},
		{SUBJ_SAN_URI, 0, "/relative/path", 0},
		{SUBJ_SAN_EMAIL, 0, "ops@example.com", 1},
		{SUBJ_SAN_EMAIL, 0, "ops@", 0},
		{SUBJ_SAN_EMAIL, 0, "@example.com", 0},
		{SUBJ_SAN_EMAIL, 0, "a@b@example.com", 0},
		{SUBJ_SAN_OTHERNAME, SUBJ_ON_HWMODULE, WISUN_HW, 1},
		{SUBJ_SAN_OTHERNAME, SUBJ_ON_HWMODULE, "1.3.6.1:0", 0},
		{SUBJ_SAN_OTHERNAME, SUBJ_ON_HWMODULE, "1.3.6.1:zz", 0},
		{SUBJ_SAN_OTHERNAME, SUBJ_ON_HWMODULE, "abc:00", 0},
		{SUBJ_SAN_OTHERNAME, SUBJ_ON_HWMODULE, "0123abcd", 0},
		{SUBJ_SAN_OTHERNAME, SUBJ_ON_OCTET, "00ff", 1},
		{SUBJ_SAN_OTHERNAME, SUBJ_ON_DER, "0c026869", 1},
		{SUBJ_SAN_OTHERNAME, SUBJ_ON_DER, "0c02686900", 0},
		{SUBJ_SAN_OTHERNAME, SUBJ_ON_IA5, "caf\xc3\xa9", 0},
		{SUBJ_SAN_OTHERNAME, SUBJ_ON_UTF8, "caf\xc3\xa9", 1},
	};
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = resolve_san(cases[i].type, cases[i].enc, cases[i].value);
		if ((r == 0) != cases[i].ok)
			fprintf(stderr, "SAN case %zu (%s): %d\n", i,
				cases[i].value, r);
		CU_ASSERT_EQUAL(r, cases[i].ok ? 0 : EST_E_UNPROCESSABLE);
	}
}

static void
test_two_dns_fields_take_csr_entries_in_order(void)
{
	static const struct subj_field f[] = {
		SAN(SUBJ_SAN_DNS, SUBJ_REQUIRED, 255, NULL),
		SAN(SUBJ_SAN_IP, SUBJ_OPTIONAL, 64, NULL),
		SAN(SUBJ_SAN_DNS, SUBJ_OPTIONAL, 255, NULL),
	};
	static const struct subj_template t = {f, 3};
	static const struct subj_input_entry e[] = {
		IN_SAN(SUBJ_SAN_DNS, "one.example"),
		IN_SAN(SUBJ_SAN_URI, "urn:x:ignored"),
		IN_SAN(SUBJ_SAN_DNS, "two.example"),
		IN_SAN(SUBJ_SAN_DNS, "three.example"),
	};
	static const struct subj_input_entry b[] = {
		IN_SAN(SUBJ_SAN_DNS, "one.example"),
		IN_SAN(SUBJ_SAN_DNS, "bad name"),
	};
	struct subj_input in = {e, 4};
	struct subj_result *res = NULL;
	struct subj_error err;

	CU_ASSERT_EQUAL_FATAL(
		subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_CSR, &res, &err),
		0);
	CU_ASSERT_EQUAL(res->nvalues, 2);
	CU_ASSERT_STRING_EQUAL(value_of(res, 0), "one.example");
	CU_ASSERT_STRING_EQUAL(value_of(res, 2), "two.example");
	subject_result_free(res);
	/* A bad SAN names its position and type. */
	in.entries = b;
	in.nentries = 2;
	CU_ASSERT_EQUAL(
		subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_CSR, &res, &err),
		EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(err.field, 2);
	CU_ASSERT_STRING_EQUAL(err.name, "SAN 3 (DNS)");
}

static void
test_wisun_round_trip(void)
{
	static const struct subj_field f[] = {
		{SUBJ_SAN, OID_HWNAME, NULL, SUBJ_STR_DEFAULT,
		 SUBJ_SAN_OTHERNAME, SUBJ_ON_HWMODULE, SUBJ_REQUIRED, 255,
		 NULL},
	};
	static const struct subj_template t = {f, 1};
	static const struct subj_input_entry e[] = {
		{SUBJ_SAN, SUBJ_SAN_OTHERNAME, OID_HWNAME, WISUN_HW},
	};
	struct subj_input in = {e, 1};
	struct subj_input *back = NULL;
	struct subj_result *res = NULL, *res2 = NULL;
	struct subj_error err;
	X509_NAME *name = NULL;
	GENERAL_NAMES *gens = NULL, *gens2 = NULL;
	const GENERAL_NAME *g;
	STACK_OF(ASN1_TYPE) *seq = NULL;
	const unsigned char *p;
	unsigned char *der = NULL;
	char oid[64];
	int len;

	CU_ASSERT_EQUAL_FATAL(
		subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_USER, &res, &err),
		0);
	CU_ASSERT_EQUAL_FATAL(subject_to_x509_name(res, &name), 0);
	CU_ASSERT_EQUAL(X509_NAME_entry_count(name), 0);
	CU_ASSERT_EQUAL_FATAL(subject_to_general_names(res, &gens), 0);
	/* Encode, decode, and read the RFC 4108 structure by hand. */
	len = i2d_GENERAL_NAMES(gens, &der);
	CU_ASSERT_FATAL(len > 0);
	p = der;
	gens2 = d2i_GENERAL_NAMES(NULL, &p, len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(gens2);
	CU_ASSERT_EQUAL(p, der + len);
	CU_ASSERT_EQUAL_FATAL(sk_GENERAL_NAME_num(gens2), 1);
	g = sk_GENERAL_NAME_value(gens2, 0);
	CU_ASSERT_EQUAL_FATAL(g->type, GEN_OTHERNAME);
	OBJ_obj2txt(oid, sizeof(oid), g->d.otherName->type_id, 1);
	CU_ASSERT_STRING_EQUAL(oid, OID_HWNAME);
	CU_ASSERT_EQUAL_FATAL(g->d.otherName->value->type, V_ASN1_SEQUENCE);
	p = ASN1_STRING_get0_data(g->d.otherName->value->value.sequence);
	seq = d2i_ASN1_SEQUENCE_ANY(
		NULL, &p,
		ASN1_STRING_length(g->d.otherName->value->value.sequence));
	CU_ASSERT_PTR_NOT_NULL_FATAL(seq);
	CU_ASSERT_EQUAL_FATAL(sk_ASN1_TYPE_num(seq), 2);
	CU_ASSERT_EQUAL_FATAL(sk_ASN1_TYPE_value(seq, 0)->type, V_ASN1_OBJECT);
	OBJ_obj2txt(oid, sizeof(oid), sk_ASN1_TYPE_value(seq, 0)->value.object,
		    1);
	CU_ASSERT_STRING_EQUAL(oid, "1.3.6.1.4.1.45605.1.1");
	CU_ASSERT_EQUAL_FATAL(sk_ASN1_TYPE_value(seq, 1)->type,
			      V_ASN1_OCTET_STRING);
	CU_ASSERT_EQUAL(ASN1_STRING_length(
				sk_ASN1_TYPE_value(seq, 1)->value.octet_string),
			4);
	CU_ASSERT_EQUAL(
		memcmp(ASN1_STRING_get0_data(
			       sk_ASN1_TYPE_value(seq, 1)->value.octet_string),
		       "\x01\x23\xab\xcd", 4),
		0);
	/* Read back as input and resolved again as a CSR would be. */
	CU_ASSERT_EQUAL_FATAL(subject_input_from_cert(name, gens2, &back), 0);
	CU_ASSERT_EQUAL_FATAL(back->nentries, 1);
	CU_ASSERT_STRING_EQUAL(back->entries[0].value, WISUN_HW);
	CU_ASSERT_EQUAL_FATAL(subject_resolve(&t, NULL, NULL, back,
					      SUBJ_SRC_CSR, &res2, &err),
			      0);
	CU_ASSERT_STRING_EQUAL(value_of(res2, 0), WISUN_HW);
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	OPENSSL_free(der);
	subject_input_free(back);
	GENERAL_NAMES_free(gens);
	GENERAL_NAMES_free(gens2);
	X509_NAME_free(name);
	subject_result_free(res);
	subject_result_free(res2);
}

static void
test_name_round_trip(void)
{
	static const struct subj_field f[] = {
		ATTR(OID_C, "C", SUBJ_REQUIRED, 2, NULL),
		ATTR(OID_O, "O", SUBJ_REQUIRED, 64, NULL),
		ATTR(OID_SERIAL, "serialNumber", SUBJ_REQUIRED, 64, NULL),
		ATTR(OID_CN, "CN", SUBJ_REQUIRED, 64, NULL),
		SAN(SUBJ_SAN_IP, SUBJ_REQUIRED, 64, NULL),
	};
	static const struct subj_template t = {f, 5};
	static const struct subj_input_entry e[] = {
		IN_ATTR(OID_CN, "Ger\xc3\xa4t 7"),
		IN_ATTR(OID_SERIAL, "SN-0042"),
		IN_ATTR(OID_O, "Z\xc3\xbcrich AG"),
		IN_ATTR(OID_C, "CH"),
		IN_SAN(SUBJ_SAN_IP, "2001:db8::7"),
	};
	struct subj_input in = {e, 5}, *back = NULL;
	struct subj_result *res = NULL, *res2 = NULL;
	struct subj_error err;
	X509_NAME *name = NULL;
	GENERAL_NAMES *gens = NULL;
	char *s;
	size_t i;
	int type = 0;

	CU_ASSERT_EQUAL_FATAL(
		subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_CSR, &res, &err),
		0);
	CU_ASSERT_EQUAL_FATAL(subject_to_x509_name(res, &name), 0);
	CU_ASSERT_EQUAL_FATAL(subject_to_general_names(res, &gens), 0);
	s = name_entry(name, NID_serialNumber, &type);
	CU_ASSERT_EQUAL(type, V_ASN1_PRINTABLESTRING);
	free(s);
	s = name_entry(name, NID_organizationName, &type);
	CU_ASSERT_EQUAL(type, V_ASN1_UTF8STRING);
	free(s);
	CU_ASSERT_EQUAL_FATAL(subject_input_from_cert(name, gens, &back), 0);
	CU_ASSERT_EQUAL(back->nentries, 5);
	CU_ASSERT_EQUAL_FATAL(subject_resolve(&t, NULL, NULL, back,
					      SUBJ_SRC_CSR, &res2, &err),
			      0);
	CU_ASSERT_EQUAL_FATAL(res2->nvalues, res->nvalues);
	for (i = 0; i < res->nvalues; i++)
		CU_ASSERT_STRING_EQUAL(res2->values[i].value,
				       res->values[i].value);
	subject_input_free(back);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	subject_result_free(res);
	subject_result_free(res2);
}

static void
test_country_and_printable_rules(void)
{
	static const struct {
		const char *oid;
		const char *value;
		int ok;
	} cases[] = {
		{OID_C, "CH", 1},	    {OID_C, "ch", 0},
		{OID_C, "CHE", 0},	    {OID_C, "C1", 0},
		{OID_C, "\xc3\x84T", 0},    {OID_SERIAL, "ABC-123 (rev. 2)", 1},
		{OID_SERIAL, "abc_123", 0}, {OID_SERIAL, "caf\xc3\xa9", 0},
		{"2.5.4.46", "qual@x", 0},  {OID_CN, "caf\xc3\xa9_ok", 1},
		{OID_CN, "tab\there", 0},
	};
	struct subj_field f[] = {
		ATTR(OID_C, "x", SUBJ_REQUIRED, 64, NULL),
	};
	struct subj_template t = {f, 1};
	struct subj_input_entry e[] = {IN_ATTR(OID_C, NULL)};
	struct subj_input in = {e, 1};
	struct subj_value v = {0,
			       SUBJ_ATTR,
			       SUBJ_STR_DEFAULT,
			       SUBJ_SAN_DNS,
			       SUBJ_ON_UTF8,
			       (char *)OID_C,
			       (char *)"ch"};
	struct subj_result direct = {&v, 1};
	struct subj_result *res = NULL;
	struct subj_error err;
	X509_NAME *name = NULL;
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f[0].oid = e[0].oid = cases[i].oid;
		e[0].value = cases[i].value;
		res = NULL;
		r = subject_resolve(&t, NULL, NULL, &in, SUBJ_SRC_USER, &res,
				    &err);
		CU_ASSERT_EQUAL(r, cases[i].ok ? 0 : EST_E_UNPROCESSABLE);
		if (r != 0)
			continue;
		CU_ASSERT_EQUAL(subject_to_x509_name(res, &name), 0);
		X509_NAME_free(name);
		name = NULL;
		subject_result_free(res);
	}
	/* The encoder refuses what it is handed outside the rules too. */
	CU_ASSERT_EQUAL(subject_to_x509_name(&direct, &name),
			EST_E_UNPROCESSABLE);
	CU_ASSERT_PTR_NULL(name);
}

static void
test_reverse_mapping_with_undefined(void)
{
	static const struct subj_field f[] = {
		ATTR(OID_O, "O", SUBJ_OPTIONAL, 64, NULL),
		ATTR(OID_SERIAL, "serialNumber", SUBJ_OPTIONAL, 64, NULL),
		ATTR(OID_CN, "CN", SUBJ_REQUIRED, 64, NULL),
	};
	static const struct subj_template t = {f, 3};
	static const struct subj_map_entry me[] = {
		{2, {SUBJ_TARGET_NAME, 0, NULL}, 0, NULL},
		{0,
		 {SUBJ_TARGET_PROPERTY, SUBJ_PROP_MANUFACTURER, NULL},
		 0,
		 "Demo Manufacturer"},
		{1, {SUBJ_TARGET_ATTRIBUTE, 0, "hwid"}, 0, NULL},
	};
	static const struct subj_mapping m = {me, 3};
	/* The factory certificate has CN and O, an OU, no serialNumber. */
	static const struct subj_input_entry e[] = {
		IN_ATTR(OID_OU, "Factory"),
		IN_ATTR(OID_O, "Acme Devices"),
		IN_ATTR(OID_CN, "meter-0001"),
	};
	static const struct subj_input in = {e, 3};
	static const struct subj_devfield required[] = {
		{SUBJ_TARGET_NAME, 0, NULL},
		{SUBJ_TARGET_PROPERTY, SUBJ_PROP_MODEL, NULL},
		{SUBJ_TARGET_PROPERTY, SUBJ_PROP_MANUFACTURER, NULL},
		{SUBJ_TARGET_ATTRIBUTE, 0, "hwid"},
		{SUBJ_TARGET_ATTRIBUTE, 0, "site"},
	};
	struct subj_device_values *v = NULL;
	struct subj_error err;
	size_t i;
	int seen = 0;

	CU_ASSERT_EQUAL_FATAL(
		subject_reverse_map(&t, &m, &in, required, 5, &v, &err), 0);
	CU_ASSERT_STRING_EQUAL(v->name, "meter-0001");
	CU_ASSERT_STRING_EQUAL(v->props[SUBJ_PROP_MANUFACTURER],
			       "Acme Devices");
	CU_ASSERT_STRING_EQUAL(v->props[SUBJ_PROP_MODEL], SUBJ_UNDEFINED);
	/* Not required and not provided: left empty. */
	CU_ASSERT_PTR_NULL(v->props[SUBJ_PROP_FIRMWARE]);
	CU_ASSERT_EQUAL(v->nattrs, 2);
	for (i = 0; i < v->nattrs; i++) {
		CU_ASSERT_STRING_EQUAL(v->attrs[i].value, SUBJ_UNDEFINED);
		seen |= strcmp(v->attrs[i].name, "hwid") == 0	? 1
			: strcmp(v->attrs[i].name, "site") == 0 ? 2
								: 4;
	}
	CU_ASSERT_EQUAL(seen, 3);
	subject_device_values_free(v);
	v = NULL;
	/* Without a certificate value the required name is UNDEFINED too. */
	CU_ASSERT_EQUAL_FATAL(
		subject_reverse_map(&t, &m, NULL, required, 1, &v, &err), 0);
	CU_ASSERT_STRING_EQUAL(v->name, SUBJ_UNDEFINED);
	CU_ASSERT_PTR_NULL(v->props[SUBJ_PROP_MANUFACTURER]);
	subject_device_values_free(v);
}

static void
test_malformed_definitions_refused(void)
{
	static const struct subj_field zero[] = {
		ATTR(OID_CN, "CN", SUBJ_OPTIONAL, 0, NULL),
	};
	static const struct subj_field fixed_empty[] = {
		ATTR(OID_CN, "CN", SUBJ_FIXED, 64, NULL),
	};
	static const struct subj_field bad_oid[] = {
		ATTR("commonName", "CN", SUBJ_OPTIONAL, 64, NULL),
	};
	static const struct subj_map_entry outside[] = {
		{5, {SUBJ_TARGET_NAME, 0, NULL}, 0, NULL},
	};
	static const struct subj_map_entry twice[] = {
		{2, {SUBJ_TARGET_NAME, 0, NULL}, 0, NULL},
		{2, {SUBJ_TARGET_PROPERTY, SUBJ_PROP_MODEL, NULL}, 0, NULL},
	};
	struct subj_template t = {zero, 1};
	struct subj_mapping m = {outside, 1};
	struct subj_result empty = {NULL, 0}, *res = NULL;
	struct subj_error err;
	GENERAL_NAMES *gens = (GENERAL_NAMES *)1;

	CU_ASSERT_EQUAL(
		subject_resolve(&t, NULL, NULL, &csr, SUBJ_SRC_CSR, &res, &err),
		EST_E_INVAL);
	t.fields = fixed_empty;
	CU_ASSERT_EQUAL(
		subject_resolve(&t, NULL, NULL, &csr, SUBJ_SRC_CSR, &res, &err),
		EST_E_INVAL);
	t.fields = bad_oid;
	CU_ASSERT_EQUAL(
		subject_resolve(&t, NULL, NULL, &csr, SUBJ_SRC_CSR, &res, &err),
		EST_E_INVAL);
	CU_ASSERT_EQUAL(subject_resolve(&demo, &m, NULL, &csr, SUBJ_SRC_CSR,
					&res, &err),
			EST_E_INVAL);
	m.entries = twice;
	m.nentries = 2;
	CU_ASSERT_EQUAL(subject_resolve(&demo, &m, NULL, &csr, SUBJ_SRC_CSR,
					&res, &err),
			EST_E_INVAL);
	CU_ASSERT_PTR_NULL(res);
	/* No SAN at all: no extension. */
	CU_ASSERT_EQUAL(subject_to_general_names(&empty, &gens), 0);
	CU_ASSERT_PTR_NULL(gens);
}

int
test_suites(void)
{
	static CU_TestInfo guide_tests[] = {
		{"device value present", test_device_value_present},
		{"device value empty takes the mapping default",
		 test_device_value_empty_takes_default},
		{"device and default empty take the CSR value",
		 test_both_empty_takes_csr},
		{"required field missing names the field",
		 test_required_missing_names_field},
		{"user input source and fixed values", test_user_input_source},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo value_tests[] = {
		{"max length in characters", test_max_length_in_characters},
		{"SAN syntax per type", test_san_syntax},
		{"repeated SAN types fill fields in order",
		 test_two_dns_fields_take_csr_entries_in_order},
		{"countryName and PrintableString rules",
		 test_country_and_printable_rules},
		{"malformed definitions are refused",
		 test_malformed_definitions_refused},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo encoding_tests[] = {
		{"Wi-SUN template round trip", test_wisun_round_trip},
		{"name and SAN round trip", test_name_round_trip},
		{"reverse mapping with UNDEFINED",
		 test_reverse_mapping_with_undefined},
		CU_TEST_INFO_NULL,
	};
	int r;

	if ((r = test_add_suite("subject rules", NULL, NULL, guide_tests)) !=
		    0 ||
	    (r = test_add_suite("subject values", NULL, NULL, value_tests)) !=
		    0 ||
	    (r = test_add_suite("subject encoding", NULL, NULL,
				encoding_tests)) != 0)
		return r;
	return 0;
}
