/*
 * The PKCS#11 layer of estuary-signerd: loading the module with dlopen,
 * finding the token, logging in, sessions and object lookup.  Only signer/
 * includes the PKCS#11 header.  A CK_RV becomes an EST_E_* code in exactly
 * one place, p11_err(); callers log the CK_RV's name with p11_rv_name().
 */
#ifndef ESTUARY_P11_H
#define ESTUARY_P11_H

#include <stddef.h>
#include <stdint.h>

#include <p11-kit/pkcs11.h>

struct p11 {
	void *dl;
	CK_FUNCTION_LIST_PTR f;
	int initialized;
	CK_SLOT_ID slot;
	char label[33]; /* token label, trailing blanks removed */
	/*
	 * Login state belongs to the application and lasts while one of its
	 * sessions is open, so this session stays open from login to exit.
	 */
	CK_SESSION_HANDLE login_session;
	int logged_in;
};

/* The EST_E_* code for a CK_RV (0 for CKR_OK). */
int p11_err(CK_RV rv);
/* The CKR_* name of rv for logs, e.g. "CKR_PIN_INCORRECT". */
const char *p11_rv_name(CK_RV rv);

/*
 * Loads the module, gets its function list and initialises it for use by
 * several threads (CKF_OS_LOCKING_OK).  Must run after any fork().  A module
 * that cannot be loaded gives EST_E_CONFIG with the reason logged.
 */
int p11_open(const char *module, struct p11 **out);
/* Closes every session, C_Finalize, dlclose; p11_close(NULL) is a no-op. */
void p11_close(struct p11 *p);

/*
 * Selects the token by label (label != NULL) or by slot id.  When it is
 * not there, tries again up to retries more times with a short growing
 * pause (another process may be writing a SoftHSM token store at that
 * instant), then fails with EST_E_NOTOKEN.
 */
int p11_find_token(struct p11 *p, const char *label, CK_SLOT_ID slot,
		   unsigned retries);

/*
 * Logs in as the user with pin (pinlen bytes), once: a wrong PIN is never
 * retried (EST_E_PIN), CKR_USER_ALREADY_LOGGED_IN counts as success.  The
 * PIN is wiped before this returns, whatever the outcome.
 */
int p11_login(struct p11 *p, char *pin, size_t pinlen);

/* A read-write session on the token. */
int p11_session_open(struct p11 *p, CK_SESSION_HANDLE *s);
void p11_session_close(struct p11 *p, CK_SESSION_HANDLE s);

/*
 * Finds the one object matching tmpl: EST_E_NOTFOUND for none, EST_E_HSM
 * (logged) for more than one.  C_FindObjectsFinal is always called.
 */
int p11_find_one(struct p11 *p, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
		 CK_ULONG n, CK_OBJECT_HANDLE *obj);
/* Every object matching tmpl (caller frees *objs); may be none. */
int p11_find_all(struct p11 *p, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
		 CK_ULONG n, CK_OBJECT_HANDLE **objs, size_t *nobjs);

/*
 * Reads one attribute into a new allocation of *len bytes (plus a NUL,
 * so text attributes can be used as C strings).  EST_E_NOTFOUND when the
 * object has no such attribute.
 */
int p11_get_attr(struct p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
		 CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len);

/* Whether the token offers mech (0) or not (EST_E_NOTFOUND). */
int p11_has_mechanism(struct p11 *p, CK_MECHANISM_TYPE mech);

#endif
