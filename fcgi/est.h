/*
 * Inside estuary-est (fcgi/est*.c): the program's shared state, one EST
 * request as it goes, and the steps the handlers share.
 *
 *	est.c		the route table, init and shutdown
 *	est_route.c	request -> EST server (host, label, allow list)
 *	est_cache.c	what a worker thread keeps between requests
 *	est_auth.c	who the client is, by the server's methods
 *	est_enroll.c	simpleenroll, simplereenroll, serverkeygen
 *	est_issue.c	issuing for an application or a device password
 *	est_info.c	cacerts and csrattrs
 *	est_body.c	request intake without the database
 *	est_resp.c	responses without the database
 */
#ifndef ESTUARY_EST_H
#define ESTUARY_EST_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "auth.h"
#include "estsrv.h"
#include "provision.h"

struct audit_event;
struct db;
struct db_apiapp;
struct db_enrollment;
struct device;
struct devtype;
struct est_cache;
struct est_route;
struct issue_cache;
struct issue_result;
struct hctx;
struct request;
struct resp;

#define EST_BASE "/.well-known/est"

/* cacerts answers are cached this long per server and label. */
#define EST_CACERTS_TTL 30 /* seconds */
#define EST_CACERTS_SLOTS 64

struct est_cacerts_slot {
	int64_t server_id;
	int64_t label_id;
	char *b64; /* certs-only PKCS#7, base64 */
	size_t len;
	time_t expiry; /* CLOCK_MONOTONIC seconds; 0: empty */
};

struct est_state {
	pthread_mutex_t mtx; /* guards slots */
	struct est_cacerts_slot slots[EST_CACERTS_SLOTS];
	/*
	 * An argon2id hash of a random password, verified when a device ID
	 * names no device (or one without a password), so that an unknown
	 * ID takes as long as a wrong password.
	 */
	char *dummy_hash;
	/*
	 * Password verifications running now (guarded by mtx): each takes
	 * argon2id's memory (64 MiB) and a good part of a core, and anyone
	 * may ask for one by sending a device ID, so at most
	 * EST_PASSWD_MAX run at once and the others are told to come back
	 * (503, Retry-After) instead of exhausting the machine.
	 */
	int passwd_running;
};

#define EST_PASSWD_MAX 2

/* One EST request. */
struct est_call {
	struct hctx *c;
	const struct request *req;
	struct db *db;
	struct est_route *route;      /* NULL until routed */
	struct est_route_stamp stamp; /* the versions read with the route */
	struct est_cache *cache;      /* the thread's (fcgi/est_cache.h) */
	struct prov_scope scope;
	int enroll; /* an enrollment: refusals are recorded */
	/*
	 * The API application that the request's TLS client certificate
	 * (app_by EST_APP_BY_CERT) or else its HTTP Basic user, an AppID
	 * (EST_APP_BY_ID), names, read with the route (NULL for none).
	 */
	struct db_apiapp *app;
	enum { EST_APP_NONE = 0, EST_APP_BY_ID, EST_APP_BY_CERT } app_by;
};

/* How the client authenticated (est_auth.c). */
struct est_client {
	enum prov_method method;
	/* PROV_AUTH_APP_KEY, PROV_AUTH_APP_CERT */
	int64_t app_id;
	char app_name[AUTH_NAME_MAX + 1];
	/* PROV_AUTH_DEVICE_PASSWORD: the device, verified. */
	struct device *dev;
	/* The certificate methods: the TLS client certificate (borrowed). */
	X509 *cert;
};

/*
 * Starts ec for req: the database, then the server that host and the
 * route's label name (404 "unknown EST domain", 404 "unknown EST label",
 * 404 for an ambiguous domain without label), then the client's address
 * against its allow list (403).  channel is the enrollment operation, or
 * PROV_CH_REST for cacerts and csrattrs (nothing is recorded for them).
 */
int est_call_start(struct est_call *ec, struct hctx *c,
		   const struct request *req, enum prov_channel channel,
		   int enroll, struct prov_error *e);
void est_call_clear(struct est_call *ec);

/*
 * Answers refusal e: records it (enrollments only; prov_record_refusal())
 * and writes the text/plain answer.  Returns what the handler returns.
 */
int est_refuse(struct est_call *ec, struct resp *rs, enum prov_method m,
	       int64_t device_id, const struct prov_error *e);

/*
 * Authenticates the client by the methods the server allows (see
 * est_auth.c).  0 and *cl (clear it with est_client_clear()), or a
 * refusal in *e: 401 without usable credentials, 403 for a known client
 * that the server refuses, 503 when the database is down.  *m and *dev
 * say, for the record of a refusal, which method failed and for which
 * device.
 */
int est_authenticate(struct est_call *ec, struct est_client *cl,
		     enum prov_method *m, int64_t *dev, struct prov_error *e);
void est_client_clear(struct est_client *cl);

/*
 * What an issue for an application or a device password produced: the
 * certificate alone, which is all the answer carries (RFC 7030 section
 * 4.2.3; the chain is cacerts').
 */
struct est_issued {
	uint8_t *cert; /* DER */
	size_t certlen;
	uint8_t *pkcs8; /* serverkeygen; wiped by est_issued_clear() */
	size_t pkcs8len;
	/*
	 * Set when the writes went to the writer thread (est_defer_app()),
	 * which answers: the handler leaves the response alone.
	 */
	int deferred;
};
void est_issued_clear(struct est_issued *is);

/*
 * What an enrollment's record and audit rows say of where and how the
 * client enrolled (est_commit.c).  est_rec_of() borrows ec's and cl's
 * strings.
 */
struct est_rec {
	int64_t tenant_id, org_id, server_id;
	const char *domain, *label, *source_addr;
	enum prov_channel channel;
	enum prov_method method;
	int64_t app_id; /* the application methods */
	const char *app_name;
};
void est_rec_of(const struct est_call *ec, const struct est_client *cl,
		struct est_rec *rec);
/* The est_enrollments row of a success (strings borrowed from rec). */
void est_rec_enrollment(const struct est_rec *rec, int64_t device_id,
			int64_t cert_id, struct db_enrollment *en);
/* The audit rows' details: where and how, and the record's id. */
int est_rec_details(const struct est_rec *rec, int64_t enrollment_id,
		    char **out);
/* The application's audit row "issue" of certificate cert_id. */
void est_rec_issue_event(const struct est_rec *rec, int64_t cert_id,
			 const char *serial, const char *details,
			 struct audit_event *ev);
/*
 * Hands an application's signed certificate (*res, and with serverkeygen
 * its exported key *pkcs8) to the writer thread, which stores it with its
 * record and audit row and answers (fcgi/txq.h); takes *res and *pkcs8.
 */
int est_defer_app(struct est_call *ec, const struct est_client *cl,
		  struct issue_result **res, uint8_t **pkcs8, size_t *pkcs8len);

/*
 * Issues for an application (cms: the label's or the server's default
 * template; dps: the device type's default operational template), with
 * the subject from the CSR under the template's rules, bound to no
 * device; and for a device that gave its password (the device type's
 * default operational template, bound to the device, which becomes
 * OPERATIONAL).  csr is required (serverkeygen takes the subject from
 * it); keygen asks the signer for the key.  Every success and refusal is
 * recorded.
 */
int est_issue_app(struct est_call *ec, const struct est_client *cl,
		  const struct csr *csr, int keygen, struct est_issued *out,
		  struct prov_error *e);
int est_issue_device(struct est_call *ec, const struct est_client *cl,
		     const struct csr *csr, int keygen, struct est_issued *out,
		     struct prov_error *e);

/*
 * The route's device type (dps), current as of this request, through the
 * thread's cache; the errors of est_cache_devtype().
 */
int est_route_devtype(struct est_call *ec, const struct devtype **out);
/* The thread's issuing cache (c->icache), made on first use. */
int est_icache(struct est_call *ec, struct issue_cache **out);

/* *e for an EST_E_* code of a lower layer (503, 500...). */
int est_fail_code(struct prov_error *e, int r);

/* Handlers (est_enroll.c, est_info.c). */
int est_h_simpleenroll(struct hctx *c, const struct request *req,
		       struct resp *rs);
int est_h_simplereenroll(struct hctx *c, const struct request *req,
			 struct resp *rs);
int est_h_serverkeygen(struct hctx *c, const struct request *req,
		       struct resp *rs);
int est_h_cacerts(struct hctx *c, const struct request *req, struct resp *rs);
int est_h_csrattrs(struct hctx *c, const struct request *req, struct resp *rs);

#endif
