/*
 * Unit tests of custom extension values (lib/extval.c): every value type
 * with the exact DER it must produce and the text it must refuse, the
 * strict DER walk behind the "der" type, OID validation and the OIDs the
 * issuer keeps for itself.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "extval.h"
#include "harness.h"
#include "util.h"

/* Encodes text as t and compares with the hex of the expected DER. */
static void
expect_der(enum extval_type t, const char *text, const char *hex)
{
	const char *why = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	char *got;
	int r;

	r = extval_encode(t, text, &der, &len, &why);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	if (r != 0) {
		fprintf(stderr, "refused \"%s\": %s\n", text, why);
		return;
	}
	got = malloc(2 * len + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	hex_encode(der, len, got);
	CU_ASSERT_STRING_EQUAL(got, hex);
	if (strcmp(got, hex) != 0)
		fprintf(stderr, "\"%s\": got %s, want %s\n", text, got, hex);
	free(got);
	free(der);
}

static void
expect_refused(enum extval_type t, const char *text)
{
	const char *why = NULL;
	uint8_t *der = NULL;
	size_t len = 0;
	int r;

	r = extval_encode(t, text, &der, &len, &why);
	CU_ASSERT_EQUAL(r, EST_E_UNPROCESSABLE);
	CU_ASSERT_PTR_NULL(der);
	/* Every refusal says why, for the 422 body. */
	CU_ASSERT_PTR_NOT_NULL(why);
	if (r != EST_E_UNPROCESSABLE)
		fprintf(stderr, "type %d accepted \"%s\"\n", (int)t, text);
	free(der);
}

/* A string of n copies of unit. */
static char *
repeat(const char *unit, size_t n)
{
	size_t ul = strlen(unit), i;
	char *s = malloc(ul * n + 1);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

static void
test_utf8string(void)
{
	expect_der(EXTVAL_UTF8, "hello", "0c0568656c6c6f");
	expect_der(EXTVAL_UTF8, "Z\xc3\xbcrich", "0c075ac3bc72696368");
	expect_refused(EXTVAL_UTF8, "");
	expect_refused(EXTVAL_UTF8, "a\x01"
				    "b");
	expect_refused(EXTVAL_UTF8, "tab\there");
	expect_refused(EXTVAL_UTF8, "\xff");
	expect_refused(EXTVAL_UTF8, "\xc0\xaf");	    /* overlong "/" */
	expect_refused(EXTVAL_UTF8, "\xed\xa0\x80");	    /* a surrogate */
	expect_refused(EXTVAL_UTF8, "c1 \xc2\x85 control"); /* NEL */
}

static void
test_printablestring(void)
{
	expect_der(EXTVAL_PRINTABLE, "Test 1", "1306546573742031");
	expect_der(EXTVAL_PRINTABLE, "a'()+,-./:=?",
		   "130c612728292b2c2d2e2f3a3d3f");
	expect_refused(EXTVAL_PRINTABLE, "a@b");
	expect_refused(EXTVAL_PRINTABLE, "a*b");
	expect_refused(EXTVAL_PRINTABLE, "a_b");
	expect_refused(EXTVAL_PRINTABLE, "Z\xc3\xbcrich");
}

static void
test_ia5string(void)
{
	expect_der(EXTVAL_IA5, "a@b.c", "16056140622e63");
	expect_der(EXTVAL_IA5, "~ ", "16027e20");
	expect_refused(EXTVAL_IA5, "a\x7f");
	expect_refused(EXTVAL_IA5, "tab\t");
	expect_refused(EXTVAL_IA5, "Z\xc3\xbcrich");
}

static void
test_octetstring(void)
{
	char *hex, *want;

	expect_der(EXTVAL_OCTET, "0A1b", "04020a1b");
	expect_der(EXTVAL_OCTET, "00", "040100");
	/* Long-form lengths: one and two length bytes. */
	hex = repeat("ab", 200);
	want = malloc(6 + 400 + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	snprintf(want, 6 + 400 + 1, "0481c8%s", hex);
	expect_der(EXTVAL_OCTET, hex, want);
	free(hex);
	free(want);
	hex = repeat("cd", 300);
	want = malloc(8 + 600 + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	snprintf(want, 8 + 600 + 1, "0482012c%s", hex);
	expect_der(EXTVAL_OCTET, hex, want);
	free(hex);
	free(want);
	expect_refused(EXTVAL_OCTET, "abc");
	expect_refused(EXTVAL_OCTET, "zz");
	expect_refused(EXTVAL_OCTET, "0x01");
	expect_refused(EXTVAL_OCTET, "01 02");
	/* Over EXTVAL_DER_MAX bytes. */
	hex = repeat("00", EXTVAL_DER_MAX + 1);
	expect_refused(EXTVAL_OCTET, hex);
	free(hex);
}

static void
test_integer(void)
{
	expect_der(EXTVAL_INTEGER, "0", "020100");
	expect_der(EXTVAL_INTEGER, "1", "020101");
	expect_der(EXTVAL_INTEGER, "127", "02017f");
	expect_der(EXTVAL_INTEGER, "128", "02020080");
	expect_der(EXTVAL_INTEGER, "256", "02020100");
	expect_der(EXTVAL_INTEGER, "-1", "0201ff");
	expect_der(EXTVAL_INTEGER, "-128", "020180");
	expect_der(EXTVAL_INTEGER, "-129", "0202ff7f");
	/* Beyond 64 bits: 2^64 and -(2^64). */
	expect_der(EXTVAL_INTEGER, "18446744073709551616",
		   "0209010000000000000000");
	expect_der(EXTVAL_INTEGER, "-18446744073709551616",
		   "0209ff0000000000000000");
	expect_refused(EXTVAL_INTEGER, "+1");
	expect_refused(EXTVAL_INTEGER, "01");
	expect_refused(EXTVAL_INTEGER, "00");
	expect_refused(EXTVAL_INTEGER, "-0");
	expect_refused(EXTVAL_INTEGER, "-01");
	expect_refused(EXTVAL_INTEGER, "-");
	expect_refused(EXTVAL_INTEGER, "1.5");
	expect_refused(EXTVAL_INTEGER, " 1");
	expect_refused(EXTVAL_INTEGER, "1 ");
	expect_refused(EXTVAL_INTEGER, "0x10");
	expect_refused(EXTVAL_INTEGER, "1e3");
}

static void
test_boolean(void)
{
	expect_der(EXTVAL_BOOLEAN, "true", "0101ff");
	expect_der(EXTVAL_BOOLEAN, "false", "010100");
	expect_refused(EXTVAL_BOOLEAN, "TRUE");
	expect_refused(EXTVAL_BOOLEAN, "1");
	expect_refused(EXTVAL_BOOLEAN, "yes");
	expect_refused(EXTVAL_BOOLEAN, "true ");
}

static void
test_oid_value(void)
{
	expect_der(EXTVAL_OID, "1.2.840.113549", "06062a864886f70d");
	expect_der(EXTVAL_OID, "1.3.6.1.4.1.45605.1", "06092b0601040182e42501");
	expect_der(EXTVAL_OID, "2.999.3", "0603883703");
	expect_refused(EXTVAL_OID, "1");
	expect_refused(EXTVAL_OID, "3.1");
	expect_refused(EXTVAL_OID, "1.40");
	expect_refused(EXTVAL_OID, "1.2.03");
	expect_refused(EXTVAL_OID, "1..2");
	expect_refused(EXTVAL_OID, "1.2.");
	expect_refused(EXTVAL_OID, "a.b");
}

static void
test_der_value(void)
{
	char *hex, *want;
	size_t i;

	expect_der(EXTVAL_DER, "3003020101", "3003020101");
	expect_der(EXTVAL_DER, "0500", "0500");
	expect_der(EXTVAL_DER, "300A0C0568656C6C6F0101FF",
		   "300a0c0568656c6c6f0101ff");
	/* A context tag in the high-tag-number form (31). */
	expect_der(EXTVAL_DER, "9f1f0100", "9f1f0100");
	expect_der(EXTVAL_DER, "170d3234303130313030303030305a",
		   "170d3234303130313030303030305a");
	/* 100 NULLs: a long-form length of one byte. */
	hex = repeat("0500", 100);
	want = malloc(6 + 400 + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	snprintf(want, 6 + 400 + 1, "3081c8%s", hex);
	expect_der(EXTVAL_DER, want, want);
	free(hex);
	free(want);

	expect_refused(EXTVAL_DER, "300");	    /* odd digits */
	expect_refused(EXTVAL_DER, "30030201");	    /* truncated */
	expect_refused(EXTVAL_DER, "0201");	    /* truncated */
	expect_refused(EXTVAL_DER, "3003020101ff"); /* trailing */
	expect_refused(EXTVAL_DER, "0500"
				   "0500");	      /* two values */
	expect_refused(EXTVAL_DER, "30800201010000"); /* indefinite */
	expect_refused(EXTVAL_DER, "02020001");	      /* INTEGER not minimal */
	expect_refused(EXTVAL_DER, "0202ff80");	      /* INTEGER not minimal */
	expect_refused(EXTVAL_DER, "0200");	      /* empty INTEGER */
	expect_refused(EXTVAL_DER, "010101");	      /* BOOLEAN not 00/ff */
	expect_refused(EXTVAL_DER, "04810100");	      /* length not minimal */
	expect_refused(EXTVAL_DER, "0482000100");     /* length not minimal */
	expect_refused(EXTVAL_DER, "2403040100");     /* constructed string */
	expect_refused(EXTVAL_DER, "1003020101");     /* primitive SEQUENCE */
	expect_refused(EXTVAL_DER, "0c01ff");	      /* not UTF-8 */
	expect_refused(EXTVAL_DER, "130140");	      /* '@' PrintableString */
	expect_refused(EXTVAL_DER, "0000");	      /* end-of-contents */
	expect_refused(EXTVAL_DER, "050100");	      /* NULL with content */
	expect_refused(EXTVAL_DER, "0602802a");	      /* OID arc not minimal */
	expect_refused(EXTVAL_DER, "06022a86");	      /* OID arc unfinished */
	expect_refused(EXTVAL_DER, "9f1e0100");	      /* tag 30 in long form */
	expect_refused(EXTVAL_DER, "9f801f0100");     /* tag not minimal */
	expect_refused(EXTVAL_DER, "030207ff");	      /* unused bits not 0 */
	expect_refused(EXTVAL_DER, "170d32343031303130303030303030");
	expect_refused(EXTVAL_DER, "");
	expect_refused(EXTVAL_DER, "zz");
	/*
	 * 33 nested SEQUENCEs (32 below the top) are within the depth
	 * bound, 34 are not.
	 */
	hex = strdup("3000");
	CU_ASSERT_PTR_NOT_NULL_FATAL(hex);
	for (i = 0; i < 32; i++) {
		size_t n = strlen(hex) / 2;

		want = malloc(strlen(hex) + 5);
		CU_ASSERT_PTR_NOT_NULL_FATAL(want);
		snprintf(want, strlen(hex) + 5, "30%02zx%s", n, hex);
		free(hex);
		hex = want;
	}
	expect_der(EXTVAL_DER, hex, hex);
	want = malloc(strlen(hex) + 5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(want);
	snprintf(want, strlen(hex) + 5, "30%02zx%s", strlen(hex) / 2, hex);
	expect_refused(EXTVAL_DER, want);
	free(want);
	free(hex);
}

static void
test_oid_check(void)
{
	char *s;

	CU_ASSERT_EQUAL(extval_oid_check("1.3.6.1.4.1.45605.1"), 0);
	CU_ASSERT_EQUAL(extval_oid_check("2.999"), 0);
	CU_ASSERT_EQUAL(extval_oid_check("0.39"), 0);
	CU_ASSERT_EQUAL(extval_oid_check("1"), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(extval_oid_check("3.1"), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(extval_oid_check("1.40"), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(extval_oid_check("01.2"), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(extval_oid_check("1.2.03"), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(extval_oid_check(""), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(extval_oid_check("1.2."), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(extval_oid_check("1.2..3"), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(extval_oid_check("1.2.a"), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(extval_oid_check(" 1.2"), EST_E_UNPROCESSABLE);
	CU_ASSERT_EQUAL(extval_oid_check(NULL), EST_E_UNPROCESSABLE);
	/* 64 arcs pass, 65 do not. */
	s = repeat("1.", 64);
	s[strlen(s) - 1] = '\0';
	CU_ASSERT_EQUAL(extval_oid_check(s), 0);
	free(s);
	s = repeat("1.", 65);
	s[strlen(s) - 1] = '\0';
	CU_ASSERT_EQUAL(extval_oid_check(s), EST_E_UNPROCESSABLE);
	free(s);
	/* 128 characters pass, 129 do not. */
	s = repeat("1.", 64);
	memcpy(s + 126, "11", 3); /* 127 characters, 64 arcs */
	CU_ASSERT_EQUAL(strlen(s), 128);
	CU_ASSERT_EQUAL(extval_oid_check(s), 0);
	free(s);
	s = repeat("1.", 64);
	s[127] = '\0';
	CU_ASSERT_EQUAL(strlen(s), 127);
	s = realloc(s, 130);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memcpy(s + 126, "111", 4); /* 129 characters */
	CU_ASSERT_EQUAL(strlen(s), 129);
	CU_ASSERT_EQUAL(extval_oid_check(s), EST_E_UNPROCESSABLE);
	free(s);
}

static void
test_oid_reserved(void)
{
	static const char *const issuer[] = {
		"2.5.29.14",	     "2.5.29.15",
		"2.5.29.17",	     "2.5.29.19",
		"2.5.29.30",	     "2.5.29.31",
		"2.5.29.35",	     "2.5.29.37",
		"1.3.6.1.5.5.7.1.1", "1.3.6.1.4.1.11129.2.4.3",
	};
	size_t i;

	for (i = 0; i < sizeof(issuer) / sizeof(issuer[0]); i++)
		CU_ASSERT_EQUAL(extval_oid_reserved(issuer[i]), 1);
	/* Certificate policies and private extensions are the user's. */
	CU_ASSERT_EQUAL(extval_oid_reserved("2.5.29.32"), 0);
	CU_ASSERT_EQUAL(extval_oid_reserved("1.3.6.1.4.1.45605.2"), 0);
	CU_ASSERT_EQUAL(extval_oid_reserved("2.5.29.1"), 0);
	CU_ASSERT_EQUAL(extval_oid_reserved("2.5.29.190"), 0);
}

static void
test_type_names(void)
{
	enum extval_type t;
	int i;

	for (i = EXTVAL_UTF8; i <= EXTVAL_DER; i++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(extval_type_name(i));
		CU_ASSERT_EQUAL(extval_type_parse(extval_type_name(i), &t), 0);
		CU_ASSERT_EQUAL((int)t, i);
	}
	CU_ASSERT_STRING_EQUAL(extval_type_name(EXTVAL_OCTET), "octetstring");
	CU_ASSERT_EQUAL(extval_type_parse("bitstring", &t), EST_E_INVAL);
	CU_ASSERT_EQUAL(extval_type_parse("UTF8String", &t), EST_E_INVAL);
	CU_ASSERT_PTR_NULL(extval_type_name(0));
	CU_ASSERT_PTR_NULL(extval_type_name(EXTVAL_DER + 1));
	/* An unknown type is a caller's error, not the user's. */
	CU_ASSERT_EQUAL(extval_encode(0, "x", NULL, NULL, NULL), EST_E_INVAL);
}

static void
test_text_bound(void)
{
	char *s = repeat("a", EXTVAL_TEXT_MAX + 1);

	expect_refused(EXTVAL_UTF8, s);
	s[EXTVAL_DER_MAX] = '\0';
	expect_der(EXTVAL_IA5, s + EXTVAL_DER_MAX - 3, "1603616161");
	free(s);
}

static CU_TestInfo extval_tests[] = {
	{"utf8string: DER and refusals", test_utf8string},
	{"printablestring: DER and alphabet", test_printablestring},
	{"ia5string: DER and refusals", test_ia5string},
	{"octetstring: hex, long lengths, bounds", test_octetstring},
	{"integer: minimal two's complement, big values", test_integer},
	{"boolean: true and false only", test_boolean},
	{"oid value: arcs and refusals", test_oid_value},
	{"der: one strict DER value", test_der_value},
	{"extension OID syntax and bounds", test_oid_check},
	{"OIDs the issuer controls are reserved", test_oid_reserved},
	{"type names", test_type_names},
	{"value text bound", test_text_bound},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("extval", NULL, NULL, extval_tests);
}
