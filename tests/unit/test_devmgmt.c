/*
 * A device's values under its type's rules (pki/devmgmt.c): defaults,
 * fixed and required members on creation and on a change, reverse-mapped
 * values and their place among the others, attribute types, the
 * placeholder of auto-registration, the view that subject resolution
 * gets, and the names of the modes.  Nothing here needs the database.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "device.h"
#include "devmgmt.h"
#include "devtype.h"
#include "err.h"
#include "harness.h"
#include "jsonval.h"
#include "subject.h"

/*
 * The guide's example: model fixed "M1", firmware defaults to "1.0",
 * serial number required; attributes colour (default "blue"), batch (an
 * integer) and site (required, fixed "Lab" in fixed_site).
 */
static struct devtype *
example(int fixed_site)
{
	struct devtype *dt = devtype_new();

	CU_ASSERT_FATAL(dt != NULL);
	dt->props[SUBJ_PROP_MODEL].default_value = strdup("M1");
	dt->props[SUBJ_PROP_MODEL].fixed = 1;
	dt->props[SUBJ_PROP_FIRMWARE].default_value = strdup("1.0");
	dt->props[SUBJ_PROP_SERIAL_NUMBER].required = 1;
	dt->attrs = calloc(3, sizeof(*dt->attrs));
	CU_ASSERT_FATAL(dt->attrs != NULL);
	dt->nattrs = 3;
	dt->attrs[0].id = 11;
	dt->attrs[0].name = strdup("colour");
	dt->attrs[0].default_value = strdup("blue");
	dt->attrs[0].max_len = 255;
	dt->attrs[1].id = 12;
	dt->attrs[1].name = strdup("batch");
	dt->attrs[1].type = DEVTYPE_ATTR_INTEGER;
	dt->attrs[1].max_len = 10;
	dt->attrs[2].id = 13;
	dt->attrs[2].name = strdup("site");
	dt->attrs[2].required = 1;
	dt->attrs[2].max_len = 255;
	if (fixed_site) {
		dt->attrs[2].fixed = 1;
		dt->attrs[2].default_value = strdup("Lab");
	}
	return dt;
}

static const char *
prop(const struct device_vals *v, enum subj_prop p)
{
	return v->props[p] != NULL ? v->props[p] : "(none)";
}

static const char *
attr(const struct device_vals *v, size_t i)
{
	return v->attrs[i] != NULL ? v->attrs[i] : "(none)";
}

static void
test_defaults_and_fixed(void)
{
	struct devtype *dt = example(1);
	struct jsonval_error e;
	struct device_vals v;

	memset(&e, 0, sizeof(e));
	CU_ASSERT_FATAL(device_vals_init(&v, dt, NULL) == 0);
	CU_ASSERT(device_vals_set_prop(&v, SUBJ_PROP_SERIAL_NUMBER, "S1") == 0);
	CU_ASSERT(device_vals_complete(&v, dt, NULL, 0, &e) == 0);
	CU_ASSERT_STRING_EQUAL(prop(&v, SUBJ_PROP_MODEL), "M1");
	CU_ASSERT_STRING_EQUAL(prop(&v, SUBJ_PROP_FIRMWARE), "1.0");
	CU_ASSERT_STRING_EQUAL(prop(&v, SUBJ_PROP_SERIAL_NUMBER), "S1");
	CU_ASSERT_STRING_EQUAL(prop(&v, SUBJ_PROP_MANUFACTURER), "(none)");
	CU_ASSERT_STRING_EQUAL(attr(&v, 0), "blue");
	CU_ASSERT_STRING_EQUAL(attr(&v, 1), "(none)");
	CU_ASSERT_STRING_EQUAL(attr(&v, 2), "Lab");
	device_vals_clear(&v);

	/* The fixed value itself may be sent; another is refused. */
	CU_ASSERT_FATAL(device_vals_init(&v, dt, NULL) == 0);
	device_vals_set_prop(&v, SUBJ_PROP_SERIAL_NUMBER, "S1");
	device_vals_set_prop(&v, SUBJ_PROP_MODEL, "M1");
	CU_ASSERT(device_vals_complete(&v, dt, NULL, 0, &e) == 0);
	device_vals_clear(&v);
	CU_ASSERT_FATAL(device_vals_init(&v, dt, NULL) == 0);
	device_vals_set_prop(&v, SUBJ_PROP_SERIAL_NUMBER, "S1");
	device_vals_set_prop(&v, SUBJ_PROP_MODEL, "M2");
	CU_ASSERT(device_vals_complete(&v, dt, NULL, 0, &e) ==
		  EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(e.field, "properties.model");
	device_vals_clear(&v);
	CU_ASSERT_FATAL(device_vals_init(&v, dt, NULL) == 0);
	device_vals_set_prop(&v, SUBJ_PROP_SERIAL_NUMBER, "S1");
	device_vals_set_attr(&v, 2, "Office");
	CU_ASSERT(device_vals_complete(&v, dt, NULL, 0, &e) ==
		  EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(e.field, "attributes.site");
	device_vals_clear(&v);
	devtype_free(dt);
}

static void
test_required_and_types(void)
{
	struct devtype *dt = example(0);
	struct jsonval_error e;
	struct device_vals v;

	memset(&e, 0, sizeof(e));
	CU_ASSERT_FATAL(device_vals_init(&v, dt, NULL) == 0);
	device_vals_set_attr(&v, 2, "Lab");
	CU_ASSERT(device_vals_complete(&v, dt, NULL, 0, &e) ==
		  EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(e.field, "properties.serial_number");
	device_vals_clear(&v);

	/* An empty string is no value, for "required" too. */
	CU_ASSERT_FATAL(device_vals_init(&v, dt, NULL) == 0);
	device_vals_set_prop(&v, SUBJ_PROP_SERIAL_NUMBER, "S1");
	device_vals_set_attr(&v, 2, "");
	CU_ASSERT(device_vals_complete(&v, dt, NULL, 0, &e) ==
		  EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(e.field, "attributes.site");
	device_vals_clear(&v);

	CU_ASSERT_FATAL(device_vals_init(&v, dt, NULL) == 0);
	device_vals_set_prop(&v, SUBJ_PROP_SERIAL_NUMBER, "S1");
	device_vals_set_attr(&v, 2, "Lab");
	device_vals_set_attr(&v, 1, "forty");
	CU_ASSERT(device_vals_complete(&v, dt, NULL, 0, &e) ==
		  EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(e.field, "attributes.batch");
	device_vals_clear(&v);

	/* Auto-registration: nobody to ask, the placeholder instead. */
	CU_ASSERT_FATAL(device_vals_init(&v, dt, NULL) == 0);
	CU_ASSERT(device_vals_complete(&v, dt, NULL, 1, &e) == 0);
	CU_ASSERT_STRING_EQUAL(prop(&v, SUBJ_PROP_SERIAL_NUMBER),
			       SUBJ_UNDEFINED);
	CU_ASSERT_STRING_EQUAL(attr(&v, 2), SUBJ_UNDEFINED);
	device_vals_clear(&v);
	devtype_free(dt);
}

static void
test_reverse_mapped(void)
{
	struct devtype *dt = example(1);
	struct subj_device_values rev;
	struct subj_attr_out ra[2];
	struct jsonval_error e;
	struct device_vals v;

	memset(&e, 0, sizeof(e));
	memset(&rev, 0, sizeof(rev));
	rev.props[SUBJ_PROP_SERIAL_NUMBER] = "REV-SN";
	rev.props[SUBJ_PROP_MANUFACTURER] = "Rev Corp";
	rev.props[SUBJ_PROP_MODEL] = "Rev Model";
	rev.props[SUBJ_PROP_FIRMWARE] = "";
	ra[0].name = "colour";
	ra[0].value = "green";
	ra[1].name = "site";
	ra[1].value = "Elsewhere";
	rev.attrs = ra;
	rev.nattrs = 2;
	CU_ASSERT_FATAL(device_vals_init(&v, dt, NULL) == 0);
	device_vals_set_prop(&v, SUBJ_PROP_MANUFACTURER, "Sent Corp");
	CU_ASSERT(device_vals_complete(&v, dt, &rev, 0, &e) == 0);
	/* What the client sent, then the certificate, then the default. */
	CU_ASSERT_STRING_EQUAL(prop(&v, SUBJ_PROP_MANUFACTURER), "Sent Corp");
	CU_ASSERT_STRING_EQUAL(prop(&v, SUBJ_PROP_SERIAL_NUMBER), "REV-SN");
	CU_ASSERT_STRING_EQUAL(prop(&v, SUBJ_PROP_FIRMWARE), "1.0");
	CU_ASSERT_STRING_EQUAL(attr(&v, 0), "green");
	/* A fixed member keeps the type's value whatever the certificate says. */
	CU_ASSERT_STRING_EQUAL(prop(&v, SUBJ_PROP_MODEL), "M1");
	CU_ASSERT_STRING_EQUAL(attr(&v, 2), "Lab");
	device_vals_clear(&v);
	devtype_free(dt);
}

static void
test_changes(void)
{
	struct devtype *dt = example(1);
	struct device_attr da[2];
	struct jsonval_error e;
	struct device_vals v;
	struct device cur;

	memset(&e, 0, sizeof(e));
	memset(&cur, 0, sizeof(cur));
	cur.props[SUBJ_PROP_MODEL] = "M1";
	cur.props[SUBJ_PROP_MANUFACTURER] = "Acme";
	da[0].attribute_id = 11;
	da[0].name = "colour";
	da[0].value = "red";
	da[1].attribute_id = 13;
	da[1].name = "site";
	da[1].value = "Lab";
	cur.attrs = da;
	cur.nattrs = 2;

	/* The serial number the type requires was never set: untouched. */
	CU_ASSERT_FATAL(device_vals_init(&v, dt, &cur) == 0);
	CU_ASSERT_STRING_EQUAL(attr(&v, 0), "red");
	device_vals_set_prop(&v, SUBJ_PROP_MANUFACTURER, NULL);
	device_vals_set_prop(&v, SUBJ_PROP_MODEL, "M1");
	CU_ASSERT(device_vals_check_changes(&v, dt, &e) == 0);
	CU_ASSERT_STRING_EQUAL(prop(&v, SUBJ_PROP_MANUFACTURER), "(none)");
	device_vals_clear(&v);

	CU_ASSERT_FATAL(device_vals_init(&v, dt, &cur) == 0);
	device_vals_set_prop(&v, SUBJ_PROP_MODEL, NULL);
	CU_ASSERT(device_vals_check_changes(&v, dt, &e) == EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(e.field, "properties.model");
	device_vals_clear(&v);

	CU_ASSERT_FATAL(device_vals_init(&v, dt, &cur) == 0);
	device_vals_set_prop(&v, SUBJ_PROP_SERIAL_NUMBER, NULL);
	CU_ASSERT(device_vals_check_changes(&v, dt, &e) == EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(e.field, "properties.serial_number");
	device_vals_clear(&v);

	CU_ASSERT_FATAL(device_vals_init(&v, dt, &cur) == 0);
	device_vals_set_attr(&v, 1, "12a");
	CU_ASSERT(device_vals_check_changes(&v, dt, &e) == EST_E_UNPROCESSABLE);
	CU_ASSERT_STRING_EQUAL(e.field, "attributes.batch");
	device_vals_clear(&v);
	devtype_free(dt);
}

static void
test_subject_view(void)
{
	struct devtype *dt = example(1);
	struct jsonval_error e;
	struct device_vals v;
	struct subj_device sd;

	memset(&e, 0, sizeof(e));
	CU_ASSERT_FATAL(device_vals_init(&v, dt, NULL) == 0);
	device_vals_set_prop(&v, SUBJ_PROP_SERIAL_NUMBER, "S1");
	CU_ASSERT(device_vals_complete(&v, dt, NULL, 0, &e) == 0);
	CU_ASSERT(device_vals_subj(&v, dt, "dev-1", &sd) == 0);
	CU_ASSERT_STRING_EQUAL(sd.name, "dev-1");
	CU_ASSERT_STRING_EQUAL(sd.props[SUBJ_PROP_SERIAL_NUMBER], "S1");
	CU_ASSERT_PTR_NULL(sd.props[SUBJ_PROP_MANUFACTURER]);
	/* Only the attributes with a value: colour and site, not batch. */
	CU_ASSERT_EQUAL(sd.nattrs, 2);
	CU_ASSERT_STRING_EQUAL(sd.attrs[0].name, "colour");
	CU_ASSERT_STRING_EQUAL(sd.attrs[1].name, "site");
	CU_ASSERT_STRING_EQUAL(sd.attrs[1].value, "Lab");
	device_vals_clear(&v);
	device_vals_clear(NULL);
	devtype_free(dt);
}

static void
test_mode_names(void)
{
	enum device_mode m;
	int i;

	for (i = DEVICE_MODE_NEW; i <= DEVICE_MODE_DISABLED; i++) {
		CU_ASSERT_FATAL(device_mode_name((enum device_mode)i) != NULL);
		CU_ASSERT(
			device_mode_value(device_mode_name((enum device_mode)i),
					  &m) == 0);
		CU_ASSERT_EQUAL((int)m, i);
	}
	CU_ASSERT_PTR_NULL(device_mode_name((enum device_mode)9));
	CU_ASSERT(device_mode_value("operational", &m) == EST_E_INVAL);
	CU_ASSERT(device_mode_value(NULL, &m) == EST_E_INVAL);
	/* Enable takes the lower of two modes: the order is the lifecycle's. */
	CU_ASSERT(DEVICE_MODE_NEW < DEVICE_MODE_FACTORY);
	CU_ASSERT(DEVICE_MODE_FACTORY < DEVICE_MODE_OPERATIONAL);
}

static CU_TestInfo tests[] = {
	{"defaults and fixed members", test_defaults_and_fixed},
	{"required members and attribute types", test_required_and_types},
	{"reverse-mapped values", test_reverse_mapped},
	{"changes check what was sent", test_changes},
	{"the view of subject resolution", test_subject_view},
	{"mode names and order", test_mode_names},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("devmgmt", NULL, NULL, tests);
}
