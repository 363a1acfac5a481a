/*
 * Which rows refer to a key pair of the signer (db/keyref.c), so that
 * "estuaryctl key destroy" refuses a key still in use and "key list
 * --unused" shows the others.  The columns that hold the id of a signer
 * key pair are cas.key_id (a CA's own key) and cas.ocsp_key_id (its
 * delegated OCSP responder key).  The wrapping_key_id columns name the
 * token's wrapping key, which is no key pair, and are not looked at.
 */
#ifndef ESTUARY_DB_KEYREF_H
#define ESTUARY_DB_KEYREF_H

#include <stddef.h>
#include <stdint.h>

struct db;

#define DB_KEYREF_ID_LEN 16

/* A row that refers to a key. */
struct db_keyref {
	int64_t ca_id;
	char *ca_name;
	int ocsp; /* 1: the CA's OCSP responder key; 0: the CA's own key */
};

/*
 * The row that refers to id, a CA's own key before an OCSP responder key
 * and then the lowest CA id; free it with db_keyref_clear().
 * EST_E_NOTFOUND when no row refers to it.
 */
int db_keyref_find(struct db *db, const uint8_t id[DB_KEYREF_ID_LEN],
		   struct db_keyref *out);
void db_keyref_clear(struct db_keyref *ref);

/*
 * Every key id some row refers to, each once, as *n ids of
 * DB_KEYREF_ID_LEN octets one after the other in *ids (caller frees).
 */
int db_keyref_all(struct db *db, uint8_t **ids, size_t *n);

#endif
