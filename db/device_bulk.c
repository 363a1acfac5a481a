/*
 * Devices in bulk (db/device.h): db_device_insert_many() writes many
 * devices with multi-row INSERT statements, for imports and for
 * bench/bench_devices, which fills a registry of a million devices.
 *
 * One INSERT per device costs a round trip and a statement execution per
 * row; one statement of DEVICE_BULK_ROWS rows costs them once per chunk.
 * The statements are prepared like every other one (db/db.h): their text
 * holds placeholders only, never a value.  A prepared statement has a
 * fixed number of rows, so there is one statement per chunk size: full
 * chunks of DEVICE_BULK_ROWS rows, and the rest (fewer rows) as a sum of
 * powers of two, 256 down to 1, so that nine more statements cover every
 * remainder and each is prepared at most once per connection.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "device.h"
#include "device_int.h"
#include "err.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The columns and one row's values, exactly as db_device_insert() writes. */
#define BULK_PREFIX                                                            \
	"INSERT INTO devices (name, tenant_id, org_id, device_type_id,"        \
	" description, mode, serial_number, model, hardware_version,"          \
	" manufacturer, device_class, firmware, descriptive_location,"         \
	" password_hash, password_set_at, factory_cert_fingerprint,"           \
	" factory_cert_der, created_via, created_by_user_id,"                  \
	" created_by_app_id) VALUES "
#define BULK_ROW                                                               \
	"(?,?,?,?,?,?,?,?,?,?,?,?,?,?,"                                        \
	"IF(? IS NULL,NULL,CURRENT_TIMESTAMP(6)),?,?,?,?,?)"
#define ROW_PARAMS DEVICE_ROW_PARAMS

/* The chunk sizes, largest first: DEVICE_BULK_ROWS, then 256 down to 1. */
static const unsigned bulk_sizes[] = {
	DEVICE_BULK_ROWS, 256, 128, 64, 32, 16, 8, 4, 2, 1};
#define NSIZES NELEM(bulk_sizes)
/* Rows over all statements: DEVICE_BULK_ROWS + 511. */
#define ALL_ROWS (DEVICE_BULK_ROWS + 511)

/*
 * The statement texts, made once per process: one static buffer, so that
 * making them cannot fail.  Each row takes sizeof(BULK_ROW) characters
 * (its text and a comma; the last row's place holds the NUL).
 */
static char
	bulk_text[NSIZES * sizeof(BULK_PREFIX) + ALL_ROWS * sizeof(BULK_ROW)];
static struct db_stmt_def bulk_stmts[NSIZES];
static pthread_once_t bulk_once = PTHREAD_ONCE_INIT;

static void
bulk_init(void)
{
	static const char *const names[NSIZES] = {
		"device_insert_bulk", "device_insert_256", "device_insert_128",
		"device_insert_64",   "device_insert_32",  "device_insert_16",
		"device_insert_8",    "device_insert_4",   "device_insert_2",
		"device_insert_1",
	};
	char *p = bulk_text;
	size_t i, k;

	for (i = 0; i < NSIZES; i++) {
		bulk_stmts[i].name = names[i];
		bulk_stmts[i].sql = p;
		bulk_stmts[i].nparams = bulk_sizes[i] * ROW_PARAMS;
		memcpy(p, BULK_PREFIX, sizeof(BULK_PREFIX) - 1);
		p += sizeof(BULK_PREFIX) - 1;
		for (k = 0; k < bulk_sizes[i]; k++) {
			if (k > 0)
				*p++ = ',';
			memcpy(p, BULK_ROW, sizeof(BULK_ROW) - 1);
			p += sizeof(BULK_ROW) - 1;
		}
		*p++ = '\0';
	}
}

/* What db_device_insert() refuses before it reaches the server. */
static int
row_valid(const struct db_device_new *n)
{
	return n->name != NULL && n->props != NULL && n->created_via != NULL &&
	       device_mode_name(n->mode) != NULL &&
	       n->mode != DEVICE_MODE_DISABLED &&
	       (n->factory_der == NULL || n->factory_der_len > 0);
}

int
db_device_insert_many(struct db *db, const struct db_device_new *rows, size_t n)
{
	struct db_param *p = NULL;
	size_t done = 0, i, k, chunk;
	int r = 0;

	if (db == NULL || (rows == NULL && n > 0))
		return EST_E_INVAL;
	/* Every row is checked before any is written. */
	for (i = 0; i < n; i++)
		if (!row_valid(&rows[i]))
			return EST_E_INVAL;
	if (n == 0)
		return 0;
	if (pthread_once(&bulk_once, bulk_init) != 0)
		return EST_E_INTERNAL;
	chunk = n < DEVICE_BULK_ROWS ? n : DEVICE_BULK_ROWS;
	if ((p = calloc(chunk * ROW_PARAMS, sizeof(*p))) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < NSIZES && r == 0; i++) {
		while (n - done >= bulk_sizes[i] && r == 0) {
			for (k = 0; k < bulk_sizes[i]; k++)
				device_row_params(&rows[done + k],
						  &p[k * ROW_PARAMS]);
			r = db_exec(db, &bulk_stmts[i], p,
				    bulk_sizes[i] * ROW_PARAMS, NULL, NULL);
			done += bulk_sizes[i];
		}
	}
	free(p);
	return r;
}
