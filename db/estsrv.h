/*
 * EST servers (guide §2.3): the rows of est_servers with their IP allow
 * lists, labels, templates and applications (db/005_est.sql), as the REST
 * API writes them (fcgi/api_estsrv*.c) and as estuary-est finds them on
 * every request (db_est_route(), at the end of this file).
 *
 * Routing is by host name (the server's domain).  One domain may serve
 * several organizations of one tenant, never two tenants: the writers
 * check that rule while holding the domain's row of est_domains
 * (db/014_est_domains.sql) locked, so that two concurrent writers of one
 * domain are serialized and cannot both pass.  (domain, org_id) is unique.
 *
 * Writers run in the caller's transaction and take the whole object, as
 * the device type writers do (db/devtype.h): the caller validated it as a
 * whole; the database constraints are the last line.
 */
#ifndef ESTUARY_DB_ESTSRV_H
#define ESTUARY_DB_ESTSRV_H

#include <stddef.h>
#include <stdint.h>

#include "ipallow.h"
#include "template.h"

struct db;

#define ESTSRV_DOMAIN_MAX 253 /* est_servers.domain, bytes */
#define ESTSRV_DESC_MAX 1024  /* est_servers.description, characters */
#define ESTSRV_LABEL_MIN 3    /* est_labels.label: [a-z0-9]{3,24} */
#define ESTSRV_LABEL_MAX 24
#define ESTSRV_IP_ALLOW_MAX 64 /* entries per server */
#define ESTSRV_TEMPLATES_MAX 16
#define ESTSRV_APPS_MAX 64
#define ESTSRV_LABELS_MAX 64 /* labels per server */

enum estsrv_kind {
	ESTSRV_KIND_DPS = 1, /* devices, through a device type */
	ESTSRV_KIND_CMS,     /* factory applications, through templates */
};

/* "dps", "cms"; NULL out of range. */
const char *estsrv_kind_name(enum estsrv_kind k);
/* 0 and *k set, or EST_E_INVAL. */
int estsrv_kind_value(const char *s, enum estsrv_kind *k);

/*
 * Whether s is a valid EST domain: a DNS host name of at most 253 bytes,
 * dot-separated labels of 1-63 letters, digits and hyphens that neither
 * start nor end with a hyphen, at least two labels, the last not all
 * digits (so that no IPv4 literal passes), no trailing dot, no port.
 * Upper case is accepted: *out (room for ESTSRV_DOMAIN_MAX + 1, may be
 * NULL) receives the lower-cased name.  0 or EST_E_UNPROCESSABLE.
 */
int estsrv_domain_check(const char *s, char *out);
/* Whether s is a valid label ([a-z0-9]{3,24}): 0 or EST_E_UNPROCESSABLE. */
int estsrv_label_check(const char *s);

struct estsrv_ip {
	char entry[IPALLOW_TEXT_SIZE]; /* canonical text */
	struct ipallow_range range;
};

struct estsrv_tmpl {
	int64_t template_id;
	int is_default;
};

struct estsrv_label {
	int64_t id;
	int64_t server_id;
	char label[ESTSRV_LABEL_MAX + 1];
	int64_t device_type_id; /* dps, else 0 */
	int64_t template_id;	/* cms, else 0 */
	char *created_at;	/* "YYYY-MM-DD HH:MM:SS.ffffff", UTC */
};

/* One server with every child.  Owned strings and arrays. */
struct estsrv {
	int64_t id;
	char *domain;	   /* lower case */
	char *description; /* NULL for none */
	int64_t tenant_id;
	int64_t org_id;
	enum estsrv_kind kind;
	int64_t device_type_id; /* dps; 0 for cms */
	int server_keygen;
	int auth_device_password;
	int auth_factory_cert;
	int auth_app_key;
	int auth_app_cert;
	int active;
	int64_t created_by; /* users.id, 0 for none */
	char *created_at;
	char *updated_at; /* the row version behind its ETag */

	struct estsrv_ip *ip_allow; /* in order */
	size_t nip_allow;
	struct estsrv_tmpl *templates; /* cms, in order */
	size_t ntemplates;
	int64_t *app_ids; /* API applications accepted, ascending */
	size_t napps;
	size_t nlabels; /* how many labels it has (loaded by db_estsrv_get) */
};

struct estsrv *estsrv_new(void);
void estsrv_free(struct estsrv *s);
void estsrv_label_free(struct estsrv_label *l);

/* ------------------------------------------------------------------ */
/* Queries */

/*
 * Server id with every child but its labels (nlabels counts them).  With
 * lock the row is read FOR UPDATE.  EST_E_NOTFOUND when there is none.
 */
int db_estsrv_get(struct db *db, int64_t id, int lock, struct estsrv **out);

/*
 * List filters; 0, NULL or -1 do not filter.  scope_tenant / scope_org
 * come from perm_list_filter() (an EST server lives in an organization).
 */
struct db_estsrv_filter {
	int64_t scope_tenant;
	int64_t scope_org;
	int64_t tenant_id;
	int64_t org_id;
	int kind;		/* 0 any, else enum estsrv_kind */
	int active;		/* -1 any, 0, 1 */
	const char *domain;	/* exact, case-insensitive */
	int64_t device_type_id; /* the server's or one of its labels' */
};

/*
 * At most limit servers with ids above after_id, in id order, each with
 * its children (but labels: nlabels counts them).  Free with
 * db_estsrv_list_free().
 */
int db_estsrv_list(struct db *db, const struct db_estsrv_filter *f,
		   int64_t after_id, size_t limit, struct estsrv ***out,
		   size_t *n);
void db_estsrv_list_free(struct estsrv **list, size_t n);

/*
 * Locks domain for the rest of the caller's transaction (its row of
 * est_domains, created when missing) and checks the tenant rule: 0 when
 * no server of domain other than except_id (0: none) belongs to a tenant
 * other than tenant_id, else EST_E_CONFLICT.  The writers below call it;
 * it is public so that a caller can check before it writes anything else.
 */
int db_estsrv_domain_lock(struct db *db, const char *domain, int64_t tenant_id,
			  int64_t except_id);

/*
 * Inserts s (id, active as s says, times ignored) with every child after
 * db_estsrv_domain_lock(); sets *id.  EST_E_CONFLICT when the domain
 * belongs to another tenant; EST_E_EXISTS when the organization already
 * has a server for the domain.
 */
int db_estsrv_insert(struct db *db, const struct estsrv *s, int64_t created_by,
		     int64_t *id);
/*
 * Rewrites server id from s (every column but active, created_by and the
 * times) and replaces its ip allow list, templates and apps; labels stay
 * (they follow a new domain).  Errors as db_estsrv_insert, and
 * EST_E_NOTFOUND; EST_E_EXISTS also when a label of id is already used
 * under the new domain.
 */
int db_estsrv_replace(struct db *db, int64_t id, const struct estsrv *s);
int db_estsrv_set_active(struct db *db, int64_t id, int active);
/* Deletes the server with its children; EST_E_NOTFOUND for none. */
int db_estsrv_delete(struct db *db, int64_t id);

/* Labels of server_id in label order; free with db_estsrv_labels_free(). */
int db_estsrv_labels(struct db *db, int64_t server_id,
		     struct estsrv_label **out, size_t *n);
void db_estsrv_labels_free(struct estsrv_label *l, size_t n);
/* Label id of server_id; EST_E_NOTFOUND when it is not one of its labels. */
int db_estsrv_label_get(struct db *db, int64_t server_id, int64_t id,
			struct estsrv_label *out);
/*
 * Inserts l (server_id, label and one target) under the server's domain,
 * holding the domain's lock; sets *id.  EST_E_EXISTS when the domain
 * already has that label; EST_E_NOTFOUND when there is no such server.
 */
int db_estsrv_label_insert(struct db *db, const struct estsrv_label *l,
			   int64_t *id);
/* Rebinds label id of server_id to l's target. */
int db_estsrv_label_update(struct db *db, int64_t server_id, int64_t id,
			   const struct estsrv_label *l);
int db_estsrv_label_delete(struct db *db, int64_t server_id, int64_t id);

/*
 * What a server refers to, as the API checks it before a write: a device
 * type, a certificate template or an API application, read in share mode
 * (it cannot change or go away before the caller's transaction ends).
 * scope is PERM_SCOPE_* (applications: organization when org_id is set,
 * else tenant).  EST_E_NOTFOUND when there is no such row.
 */
struct estsrv_ref {
	int scope;	   /* enum perm_scope */
	int64_t tenant_id; /* 0 for none */
	int64_t org_id;
	int active;
};
int db_estsrv_devtype_ref(struct db *db, int64_t id, struct estsrv_ref *out);
int db_estsrv_template_ref(struct db *db, int64_t id, struct estsrv_ref *out);
int db_estsrv_app_ref(struct db *db, int64_t id, struct estsrv_ref *out);
/*
 * Whether what ref describes is visible to organization org_id of tenant
 * tenant_id: global, or tenant-wide in that tenant, or of that
 * organization.  1 or 0.
 */
int estsrv_ref_visible(const struct estsrv_ref *ref, int64_t tenant_id,
		       int64_t org_id);

/* ------------------------------------------------------------------ */
/* The runtime lookup (estuary-est, every request) */

/*
 * What an EST request is served by.  Every array is owned; free the whole
 * with est_route_free().
 */
struct est_route {
	int64_t server_id;
	int64_t tenant_id;
	int64_t org_id;
	enum estsrv_kind kind;
	char domain[ESTSRV_DOMAIN_MAX + 1];
	char label[ESTSRV_LABEL_MAX + 1]; /* "" without label */
	int64_t label_id;		  /* 0 without label */
	int server_keygen;
	int auth_device_password;
	int auth_factory_cert;
	int auth_app_key;
	int auth_app_cert;
	/*
	 * dps: the label's device type when a label was given, else the
	 * server's; 0 for cms.
	 */
	int64_t device_type_id;
	/*
	 * cms: with a label, only the label's template (it is the
	 * default); else the server's templates in order.  Empty for dps.
	 */
	int64_t *template_ids;
	size_t ntemplates;
	int64_t default_template_id;	/* cms; 0 when none */
	struct ipallow_range *ip_allow; /* empty: no restriction */
	size_t nip_allow;
	int64_t *app_ids; /* API applications accepted (app_key, app_cert) */
	size_t napps;
};

/*
 * Finds the active server for a request to host (lower case, without
 * port: struct request's host) and label (the path's label, NULL or ""
 * for /.well-known/est/<op>).  How a request picks a server:
 *   - with a label: the server that owns (host, label), since a label is
 *     unique per domain; that server must be active;
 *   - without: the one active server of host.  When several
 *     organizations' servers share host and more than one is active, the
 *     request is ambiguous and must use a label.
 * Returns 0 and sets *out, or
 *	EST_E_NOTFOUND	unknown or malformed host, unknown label, or the
 *			server is inactive (answer 404);
 *	EST_E_CONFLICT	no label and several active servers for host
 *			(answer 404 too: "ambiguous domain, use a label");
 *	EST_E_DB	the database failed (answer 503).
 * Two prepared, indexed reads (the server row, then its children in one
 * UNION) and no writes.  Whether the device type, templates or
 * applications named are themselves active is the caller's check.
 */
int db_est_route(struct db *db, const char *host, const char *label,
		 struct est_route **out);
void est_route_free(struct est_route *r);

/*
 * Versions read with a route's row, for estuary-est's per-thread caches
 * (fcgi/est_cache.c): the server's updated_at, which every write of the
 * server, its allow list, templates, applications and labels moves, and
 * the number of its applications (an application's deletion cascades);
 * for a dps route its device type's updated_at ("" for none) and live
 * active flag, and that type's external CA (extca_id 0 for none) with its
 * live flags, organization and certificate fingerprint.
 *
 * tmpl is the stamp (db_template_stamp() without the custom extensions)
 * of the template that the route issues from by default, tmpl_id (0 for
 * none): a dps route's device type's default operational template, a cms
 * label's template, a cms server's default template.  The thread's
 * issuing cache takes it instead of reading it again
 * (issue_cache_prime()).  The extensions' part is left out because a
 * correlated subquery costs MariaDB more than the statement it saves.
 */
struct est_route_stamp {
	char server[48];
	char devtype[32];
	int devtype_active;
	int64_t extca_id;
	int extca_active;
	int extca_verified;
	int64_t extca_org_id;
	uint8_t extca_fp[32];
	int64_t tmpl_id;
	struct db_template_stamp tmpl;
};
/*
 * The API application to read with a route's row: the one whose AppID is
 * app_id, else (app_id NULL) the one whose certificate has the SHA-256
 * fingerprint cert_fp (32 bytes); neither for none.  An app_id that is
 * no AppID names none.
 */
struct est_route_app {
	const char *app_id;
	const uint8_t *cert_fp;
};
/*
 * db_est_route() in two steps: the row with its stamp (*st may be NULL)
 * and no children (one statement), then the children of the server (one
 * statement), or a copy of those of an earlier route of the same server
 * and label read under the same server stamp.  With app not NULL, the
 * first statement also reads the API application that key names
 * (db/apiapp.h) into *app, NULL when there is none (or key is NULL).
 */
struct db_apiapp;
int db_est_route_row(struct db *db, const char *host, const char *label,
		     const struct est_route_app *key, struct est_route **out,
		     struct est_route_stamp *st, struct db_apiapp **app);
int db_est_route_children(struct db *db, struct est_route *rt);
int est_route_children_copy(struct est_route *dst, const struct est_route *src);

/* Whether client address addr passes r's allow list: 1 or 0. */
int est_route_ip_allowed(const struct est_route *r, const char *addr);
/* Whether API application app_id is one r accepts: 1 or 0. */
int est_route_app_allowed(const struct est_route *r, int64_t app_id);

#endif
