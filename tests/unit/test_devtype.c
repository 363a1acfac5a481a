/*
 * The in-memory device type (db/devtype_model.c): attribute values by
 * type and length, the names of its enums, and the mapping it lends a
 * template, which must point at the right template fields.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "devtype.h"
#include "err.h"
#include "harness.h"
#include "subject.h"
#include "tmpl.h"

static int
attr_ok(enum devtype_attr_type type, size_t max, const char *v)
{
	struct devtype_attr a;

	memset(&a, 0, sizeof(a));
	a.type = type;
	a.max_len = max;
	return devtype_attr_check(&a, v) == 0;
}

static void
test_attr_values_by_type(void)
{
	CU_ASSERT(attr_ok(DEVTYPE_ATTR_STRING, 5, "abcde"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_STRING, 5, "abcdef"));
	/* Characters, not bytes: five letters of two bytes each fit. */
	CU_ASSERT(attr_ok(DEVTYPE_ATTR_STRING, 5,
			  "\xc3\xa4\xc3\xa4\xc3\xa4"
			  "\xc3\xa4\xc3\xa4"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_STRING, 10, "tab\there"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_STRING, 10, "bad\xc3"));

	CU_ASSERT(attr_ok(DEVTYPE_ATTR_INTEGER, 20, "0"));
	CU_ASSERT(attr_ok(DEVTYPE_ATTR_INTEGER, 20, "-42"));
	CU_ASSERT(attr_ok(DEVTYPE_ATTR_INTEGER, 20, "9223372036854775807"));
	CU_ASSERT(attr_ok(DEVTYPE_ATTR_INTEGER, 20, "-9223372036854775808"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_INTEGER, 20, "9223372036854775808"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_INTEGER, 20, "007"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_INTEGER, 20, "-0"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_INTEGER, 20, "+1"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_INTEGER, 20, "1.5"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_INTEGER, 20, ""));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_INTEGER, 20, "-"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_INTEGER, 2, "123"));

	CU_ASSERT(attr_ok(DEVTYPE_ATTR_BOOLEAN, 5, "true"));
	CU_ASSERT(attr_ok(DEVTYPE_ATTR_BOOLEAN, 5, "false"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_BOOLEAN, 5, "True"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_BOOLEAN, 5, "1"));

	CU_ASSERT(attr_ok(DEVTYPE_ATTR_DATE, 10, "2024-02-29"));
	CU_ASSERT(attr_ok(DEVTYPE_ATTR_DATE, 10, "2000-02-29"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_DATE, 10, "1900-02-29"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_DATE, 10, "2023-02-29"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_DATE, 10, "2023-04-31"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_DATE, 10, "2023-13-01"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_DATE, 10, "0000-01-01"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_DATE, 10, "-123-01-01"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_DATE, 10, "2023-1-01"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_DATE, 12, "2023-01-01Z"));
	CU_ASSERT(!attr_ok(DEVTYPE_ATTR_DATE, 5, "2023-01-01"));
}

static void
test_names_round_trip(void)
{
	enum devtype_factory f;
	enum devtype_attr_type t;
	enum subj_prop p;
	enum subj_target s;
	int i;

	for (i = DEVTYPE_FACTORY_NONE; i <= DEVTYPE_FACTORY_EXTERNAL; i++) {
		CU_ASSERT_FATAL(devtype_factory_name(i) != NULL);
		CU_ASSERT(devtype_factory_value(devtype_factory_name(i), &f) ==
				  0 &&
			  (int)f == i);
	}
	for (i = DEVTYPE_ATTR_STRING; i <= DEVTYPE_ATTR_DATE; i++) {
		CU_ASSERT_FATAL(devtype_attr_type_name(i) != NULL);
		CU_ASSERT(devtype_attr_type_value(devtype_attr_type_name(i),
						  &t) == 0 &&
			  (int)t == i);
	}
	for (i = 0; i < SUBJ_PROP_COUNT; i++) {
		CU_ASSERT_FATAL(devtype_prop_name(i) != NULL);
		CU_ASSERT(devtype_prop_value(devtype_prop_name(i), &p) == 0 &&
			  (int)p == i);
	}
	for (i = SUBJ_TARGET_NAME; i <= SUBJ_TARGET_ATTRIBUTE; i++) {
		CU_ASSERT_FATAL(devtype_source_name(i) != NULL);
		CU_ASSERT(devtype_source_value(devtype_source_name(i), &s) ==
				  0 &&
			  (int)s == i);
	}
	CU_ASSERT_STRING_EQUAL(devtype_prop_name(SUBJ_PROP_MANUFACTURER),
			       "manufacturer");
	CU_ASSERT(devtype_source_name(SUBJ_TARGET_NONE) == NULL);
	CU_ASSERT(devtype_factory_name(DEVTYPE_FACTORY_EXTERNAL + 1) == NULL);
	CU_ASSERT(devtype_prop_value("Manufacturer", &p) == EST_E_INVAL);
	CU_ASSERT(devtype_source_value("", &s) == EST_E_INVAL);
	CU_ASSERT(devtype_attr_type_value(NULL, &t) == EST_E_INVAL);
}

/*
 * The guide's factory template (CN, O, OU fixed, then a DNS name) with
 * row ids as the two field tables would number them: the SAN row 11 and
 * the subject row 11 are different fields.
 */
static struct subj_field guide_fields[] = {
	{.kind = SUBJ_ATTR,
	 .oid = "2.5.4.3",
	 .short_name = "CN",
	 .rule = SUBJ_REQUIRED,
	 .max_len = 64},
	{.kind = SUBJ_ATTR,
	 .oid = "2.5.4.10",
	 .short_name = "O",
	 .rule = SUBJ_OPTIONAL,
	 .max_len = 64},
	{.kind = SUBJ_ATTR,
	 .oid = "2.5.4.11",
	 .short_name = "OU",
	 .rule = SUBJ_FIXED,
	 .max_len = 64,
	 .default_value = "Factory"},
	{.kind = SUBJ_SAN,
	 .san_type = SUBJ_SAN_DNS,
	 .rule = SUBJ_OPTIONAL,
	 .max_len = 255},
};
static int64_t guide_ids[] = {10, 11, 12, 11};

static void
test_mapping_points_at_template_fields(void)
{
	struct devtype_map maps[4];
	struct subj_mapping m = {0};
	struct subj_result *res = NULL;
	struct subj_template st;
	struct subj_device dev;
	struct subj_error err;
	struct devtype *dt;
	struct tmpl t;

	memset(&t, 0, sizeof(t));
	t.fields = guide_fields;
	t.field_ids = guide_ids;
	t.nfields = 4;
	memset(maps, 0, sizeof(maps));
	/* CN <- device name; O <- manufacturer, default Demo Manufacturer. */
	maps[0].kind = SUBJ_ATTR;
	maps[0].field_id = 10;
	maps[0].to.target = SUBJ_TARGET_NAME;
	maps[1].kind = SUBJ_ATTR;
	maps[1].field_id = 11;
	maps[1].to.target = SUBJ_TARGET_PROPERTY;
	maps[1].to.prop = SUBJ_PROP_MANUFACTURER;
	maps[1].default_value = "Demo Manufacturer";
	/* The SAN row 11 from an attribute, by name. */
	maps[2].kind = SUBJ_SAN;
	maps[2].field_id = 11;
	maps[2].to.target = SUBJ_TARGET_ATTRIBUTE;
	maps[2].attr_name = "host";
	/* A field of another template: left out. */
	maps[3].kind = SUBJ_ATTR;
	maps[3].field_id = 99;
	maps[3].to.target = SUBJ_TARGET_NAME;
	CU_ASSERT_FATAL((dt = devtype_new()) != NULL);
	dt->maps = maps;
	dt->nmaps = 4;

	CU_ASSERT_FATAL(devtype_mapping(dt, &t, &m) == 0);
	CU_ASSERT_FATAL(m.nentries == 3);
	CU_ASSERT(m.entries[0].field == 0 &&
		  m.entries[0].to.target == SUBJ_TARGET_NAME);
	CU_ASSERT(m.entries[1].field == 1 &&
		  m.entries[1].to.prop == SUBJ_PROP_MANUFACTURER);
	CU_ASSERT_STRING_EQUAL(m.entries[1].default_value, "Demo Manufacturer");
	CU_ASSERT(m.entries[2].field == 3 &&
		  m.entries[2].to.target == SUBJ_TARGET_ATTRIBUTE);
	CU_ASSERT_STRING_EQUAL(m.entries[2].to.attr_name, "host");

	/* The mapping resolves the guide's subject: name and default. */
	tmpl_subject(&t, &st);
	memset(&dev, 0, sizeof(dev));
	dev.name = "sensor-0001";
	memset(&err, 0, sizeof(err));
	CU_ASSERT_FATAL(subject_resolve(&st, &m, &dev, NULL, SUBJ_SRC_USER,
					&res, &err) == 0);
	CU_ASSERT_FATAL(res->nvalues == 3);
	CU_ASSERT_STRING_EQUAL(res->values[0].value, "sensor-0001");
	CU_ASSERT_STRING_EQUAL(res->values[1].value, "Demo Manufacturer");
	CU_ASSERT_STRING_EQUAL(res->values[2].value, "Factory");
	subject_result_free(res);
	devtype_mapping_free(&m);
	CU_ASSERT(m.entries == NULL && m.nentries == 0);

	/* A template none of whose fields is mapped: an empty mapping. */
	t.field_ids = (int64_t[]){1, 2, 3, 4};
	CU_ASSERT(devtype_mapping(dt, &t, &m) == 0 && m.nentries == 0 &&
		  m.entries == NULL);
	devtype_mapping_free(&m);
	/* A template without field ids cannot be mapped. */
	t.field_ids = NULL;
	CU_ASSERT(devtype_mapping(dt, &t, &m) == EST_E_INVAL);

	dt->maps = NULL;
	dt->nmaps = 0;
	devtype_free(dt);
	devtype_free(NULL);
}

static void
test_new_has_the_defaults(void)
{
	struct devtype *dt = devtype_new();

	CU_ASSERT_FATAL(dt != NULL);
	CU_ASSERT(dt->password_retention_hours == 1);
	CU_ASSERT(dt->op_renewal_hours == -1 &&
		  dt->factory_renewal_hours == -1);
	CU_ASSERT(dt->factory_source == DEVTYPE_FACTORY_NONE);
	CU_ASSERT(dt->active == 1 && dt->dar == 0);
	devtype_free(dt);
}

int
test_suites(void)
{
	static CU_TestInfo tests[] = {
		{"attribute values by type and length",
		 test_attr_values_by_type},
		{"names round-trip", test_names_round_trip},
		{"a mapping points at its template's fields",
		 test_mapping_points_at_template_fields},
		{"a new device type has the schema's defaults",
		 test_new_has_the_defaults},
		CU_TEST_INFO_NULL,
	};

	return test_add_suite("devtype", NULL, NULL, tests);
}
