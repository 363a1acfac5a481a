/*
 * The record of enrollments (est_enrollments, db/005_est.sql): one row
 * for every attempt by a device or a factory application to obtain a
 * certificate through EST or the reduced REST API, success or refusal,
 * written by pki/provision.c and by estuary-est.  The reports
 * (enrollments per day) and the audit trail read it; it holds no secret.
 *
 * A success's row is written in the transaction that issues the
 * certificate, so that it commits with it; a refusal's in a short
 * transaction of its own, since the refusal itself writes nothing.
 */
#ifndef ESTUARY_DB_ENROLL_H
#define ESTUARY_DB_ENROLL_H

#include <stddef.h>
#include <stdint.h>

struct db;

/* est_enrollments.outcome */
#define DB_ENROLL_SUCCESS "success"
#define DB_ENROLL_FAILURE "failure"
#define DB_ENROLL_DENIED "denied"

/* Limits of the columns, in bytes (the text columns are ASCII or cut). */
#define DB_ENROLL_DOMAIN_MAX 253
#define DB_ENROLL_LABEL_MAX 24
#define DB_ENROLL_REASON_MAX 255 /* characters */
#define DB_ENROLL_ADDR_MAX 45

/*
 * One attempt.  Ids are 0 for none; strings may be NULL where the column
 * is NULL-able.  operation is "simpleenroll", "simplereenroll",
 * "serverkeygen" or "rest"; auth_method "none", "device_password",
 * "factory_cert", "operational_cert", "app_key" or "app_cert"; outcome
 * DB_ENROLL_*.  A domain longer than its column, or not ASCII, is stored
 * as "" (the request's host was refused anyway); a reason over its bound
 * is cut at a character boundary.
 */
struct db_enrollment {
	int64_t tenant_id;
	int64_t org_id;
	int64_t server_id;
	const char *domain; /* NULL: "" */
	const char *label;
	const char *operation;
	const char *auth_method;
	const char *outcome;
	const char *reason;
	int64_t device_id;
	int device_created;
	int64_t app_id;
	int64_t certificate_id;
	const char *source_addr;
};

/*
 * Inserts e in the caller's transaction, or alone outside one; sets *id
 * (may be NULL).  EST_E_INVAL for an operation, method or outcome that is
 * not one of the above.
 */
int db_enrollment_record(struct db *db, const struct db_enrollment *e,
			 int64_t *id);
/*
 * n records (up to DB_MULTI_MAX, each with a certificate_id, distinct or
 * not) in one statement, in the caller's transaction; ids[i] is e[i]'s.
 * One record is db_enrollment_record().
 */
int db_enrollment_record_many(struct db *db,
			      const struct db_enrollment *const *e, size_t n,
			      int64_t *ids);

#endif
