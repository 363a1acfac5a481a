/*
 * PKCS#11 module loading, token selection, login, sessions and lookups.
 * The module is loaded with dlopen and used through its function list;
 * the signer does not link a PKCS#11 library, so one binary works with
 * every HSM of hsm-profiles/.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "err.h"
#include "log.h"
#include "p11.h"
#include "util.h"

static const struct {
	CK_RV rv;
	const char *name;
	int err;
} rvtab[] = {
#define RV(name, err)                                                          \
	{                                                                      \
		name, #name, err                                               \
	}
	RV(CKR_OK, 0),
	RV(CKR_HOST_MEMORY, EST_E_NOMEM),
	RV(CKR_DEVICE_MEMORY, EST_E_HSM),
	RV(CKR_GENERAL_ERROR, EST_E_HSM),
	RV(CKR_FUNCTION_FAILED, EST_E_HSM),
	RV(CKR_DEVICE_ERROR, EST_E_HSM),
	RV(CKR_ARGUMENTS_BAD, EST_E_INTERNAL),
	RV(CKR_CANT_LOCK, EST_E_HSM),
	RV(CKR_CRYPTOKI_ALREADY_INITIALIZED, EST_E_HSM),
	RV(CKR_CRYPTOKI_NOT_INITIALIZED, EST_E_HSM),
	RV(CKR_PIN_INCORRECT, EST_E_PIN),
	RV(CKR_PIN_INVALID, EST_E_PIN),
	RV(CKR_PIN_LEN_RANGE, EST_E_PIN),
	RV(CKR_PIN_EXPIRED, EST_E_PIN),
	RV(CKR_PIN_LOCKED, EST_E_PIN),
	RV(CKR_USER_ALREADY_LOGGED_IN, 0),
	RV(CKR_USER_NOT_LOGGED_IN, EST_E_HSM),
	RV(CKR_USER_TYPE_INVALID, EST_E_HSM),
	RV(CKR_TOKEN_NOT_PRESENT, EST_E_NOTOKEN),
	RV(CKR_TOKEN_NOT_RECOGNIZED, EST_E_NOTOKEN),
	RV(CKR_SLOT_ID_INVALID, EST_E_NOTOKEN),
	RV(CKR_DEVICE_REMOVED, EST_E_NOTOKEN),
	RV(CKR_SESSION_HANDLE_INVALID, EST_E_HSM),
	RV(CKR_SESSION_CLOSED, EST_E_HSM),
	RV(CKR_SESSION_COUNT, EST_E_HSM),
	RV(CKR_SESSION_READ_ONLY, EST_E_HSM),
	RV(CKR_OBJECT_HANDLE_INVALID, EST_E_NOTFOUND),
	RV(CKR_KEY_HANDLE_INVALID, EST_E_NOTFOUND),
	RV(CKR_ATTRIBUTE_TYPE_INVALID, EST_E_NOTFOUND),
	RV(CKR_ATTRIBUTE_SENSITIVE, EST_E_DENIED),
	RV(CKR_ATTRIBUTE_VALUE_INVALID, EST_E_INVAL),
	RV(CKR_TEMPLATE_INCOMPLETE, EST_E_HSM),
	RV(CKR_TEMPLATE_INCONSISTENT, EST_E_HSM),
	RV(CKR_MECHANISM_INVALID, EST_E_BADALG),
	RV(CKR_MECHANISM_PARAM_INVALID, EST_E_BADALG),
	RV(CKR_KEY_TYPE_INCONSISTENT, EST_E_BADALG),
	RV(CKR_KEY_SIZE_RANGE, EST_E_BADALG),
	RV(CKR_KEY_FUNCTION_NOT_PERMITTED, EST_E_DENIED),
	RV(CKR_DATA_LEN_RANGE, EST_E_TOOBIG),
	RV(CKR_DATA_INVALID, EST_E_INVAL),
	RV(CKR_ENCRYPTED_DATA_INVALID, EST_E_CRYPTO),
	RV(CKR_ENCRYPTED_DATA_LEN_RANGE, EST_E_CRYPTO),
	RV(CKR_BUFFER_TOO_SMALL, EST_E_INTERNAL),
	RV(CKR_OPERATION_ACTIVE, EST_E_HSM),
	RV(CKR_OPERATION_NOT_INITIALIZED, EST_E_HSM),
	RV(CKR_FUNCTION_NOT_SUPPORTED, EST_E_HSM),
#undef RV
};

int
p11_err(CK_RV rv)
{
	size_t i;

	for (i = 0; i < sizeof(rvtab) / sizeof(rvtab[0]); i++)
		if (rvtab[i].rv == rv)
			return rvtab[i].err;
	return EST_E_HSM;
}

const char *
p11_rv_name(CK_RV rv)
{
	static __thread char other[32];
	size_t i;

	for (i = 0; i < sizeof(rvtab) / sizeof(rvtab[0]); i++)
		if (rvtab[i].rv == rv)
			return rvtab[i].name;
	snprintf(other, sizeof(other), "CKR_0x%08lx", (unsigned long)rv);
	return other;
}

static CK_RV
initialize(struct p11 *p)
{
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	/*
	 * Every connection thread makes PKCS#11 calls on its own session,
	 * so the module must do its own locking with the OS primitives.
	 */
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&args);
	if (rv == CKR_OK)
		p->initialized = 1;
	return rv;
}

int
p11_open(const char *module, struct p11 **out)
{
	CK_RV (*getlist)(CK_FUNCTION_LIST_PTR_PTR);
	struct p11 *p;
	CK_RV rv;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return EST_E_NOMEM;
	p->login_session = CK_INVALID_HANDLE;
	if ((p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		log_err("cannot load PKCS#11 module %s: %s", module, dlerror());
		free(p);
		return EST_E_CONFIG;
	}
	*(void **)&getlist = dlsym(p->dl, "C_GetFunctionList");
	if (getlist == NULL) {
		log_err("%s is not a PKCS#11 module (no C_GetFunctionList)",
			module);
		p11_close(p);
		return EST_E_CONFIG;
	}
	if ((rv = getlist(&p->f)) != CKR_OK || p->f == NULL) {
		log_err("%s: C_GetFunctionList: %s", module, p11_rv_name(rv));
		p11_close(p);
		return EST_E_CONFIG;
	}
	if ((rv = initialize(p)) != CKR_OK) {
		log_err("%s: C_Initialize: %s", module, p11_rv_name(rv));
		p11_close(p);
		return EST_E_HSM;
	}
	*out = p;
	return 0;
}

void
p11_close(struct p11 *p)
{
	if (p == NULL)
		return;
	if (p->initialized) {
		/* Logging out would end the login of other processes too. */
		if (p->login_session != CK_INVALID_HANDLE)
			p->f->C_CloseSession(p->login_session);
		p->f->C_Finalize(NULL);
	}
	if (p->dl != NULL)
		dlclose(p->dl);
	free(p);
}

/* The token label without the blanks PKCS#11 pads it with. */
static void
label_copy(char out[33], const CK_UTF8CHAR in[32])
{
	size_t n = 32;

	memcpy(out, in, 32);
	while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
		n--;
	out[n] = '\0';
}

/* One look at the slot list; EST_E_NOTOKEN when the token is not there. */
static int
find_once(struct p11 *p, const char *label, CK_SLOT_ID slot)
{
	CK_SLOT_ID *slots = NULL;
	CK_TOKEN_INFO ti;
	CK_ULONG n = 0, i;
	char l[33];
	int r = EST_E_NOTOKEN, found = 0;
	CK_RV rv;

	if ((rv = p->f->C_GetSlotList(CK_TRUE, NULL, &n)) != CKR_OK) {
		log_err("C_GetSlotList: %s", p11_rv_name(rv));
		return p11_err(rv);
	}
	if (n == 0)
		return EST_E_NOTOKEN;
	if ((slots = calloc(n, sizeof(*slots))) == NULL)
		return EST_E_NOMEM;
	if ((rv = p->f->C_GetSlotList(CK_TRUE, slots, &n)) != CKR_OK) {
		log_err("C_GetSlotList: %s", p11_rv_name(rv));
		free(slots);
		return p11_err(rv);
	}
	for (i = 0; i < n; i++) {
		if (label == NULL && slots[i] != slot)
			continue;
		if (p->f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		label_copy(l, ti.label);
		if (label != NULL && strcmp(l, label) != 0)
			continue;
		if (!(ti.flags & CKF_TOKEN_INITIALIZED))
			continue;
		if (found++) {
			log_err("two tokens are labelled \"%s\": select one "
				"by slot",
				l);
			r = EST_E_CONFIG;
			goto out;
		}
		p->slot = slots[i];
		memcpy(p->label, l, sizeof(p->label));
		r = 0;
	}
out:
	free(slots);
	return r;
}

int
p11_find_token(struct p11 *p, const char *label, CK_SLOT_ID slot,
	       unsigned retries)
{
	struct timespec ts;
	unsigned attempt;
	long ms = 50;
	CK_RV rv;
	int r;

	for (attempt = 0;; attempt++) {
		if ((r = find_once(p, label, slot)) != EST_E_NOTOKEN ||
		    attempt >= retries)
			break;
		log_warn("token %s%s not found, trying again in %ld ms",
			 label ? "labelled " : "in slot ", label ? label : "",
			 ms);
		/*
		 * Some modules (SoftHSM's file store) read the token list
		 * only at C_Initialize, so start the module afresh.
		 */
		p->f->C_Finalize(NULL);
		p->initialized = 0;
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
		ms *= 2;
		if ((rv = initialize(p)) != CKR_OK) {
			log_err("C_Initialize: %s", p11_rv_name(rv));
			return p11_err(rv);
		}
	}
	if (r == EST_E_NOTOKEN) {
		if (label != NULL)
			log_err("no initialised token labelled \"%s\"", label);
		else
			log_err("no initialised token in slot %lu",
				(unsigned long)slot);
	}
	return r;
}

int
p11_login(struct p11 *p, char *pin, size_t pinlen)
{
	CK_TOKEN_INFO ti;
	CK_RV rv;
	int r;

	if ((r = p11_session_open(p, &p->login_session)) != 0)
		goto out;
	if ((rv = p->f->C_GetTokenInfo(p->slot, &ti)) != CKR_OK) {
		log_err("C_GetTokenInfo: %s", p11_rv_name(rv));
		r = p11_err(rv);
		goto out;
	}
	if (ti.flags & CKF_USER_PIN_LOCKED) {
		log_err("the user PIN of token \"%s\" is locked", p->label);
		r = EST_E_PIN;
		goto out;
	}
	if (ti.flags & (CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW))
		log_warn("token \"%s\" reports failed logins: a wrong PIN "
			 "may lock it",
			 p->label);
	rv = p->f->C_Login(p->login_session, CKU_USER, (CK_UTF8CHAR_PTR)pin,
			   (CK_ULONG)pinlen);
	/* The PIN is not needed again: the login lasts until we exit. */
	explicit_bzero(pin, pinlen);
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) {
		p->logged_in = 1;
		r = 0;
	} else if (rv == CKR_PIN_INCORRECT) {
		/* Never retried: a second wrong try brings a lockout closer. */
		log_err("login to token \"%s\" failed: wrong PIN (%s); not "
			"retrying",
			p->label, p11_rv_name(rv));
		r = EST_E_PIN;
	} else {
		log_err("login to token \"%s\" failed: %s", p->label,
			p11_rv_name(rv));
		r = p11_err(rv) == 0 ? EST_E_PIN : p11_err(rv);
	}
out:
	explicit_bzero(pin, pinlen);
	return r;
}

int
p11_session_open(struct p11 *p, CK_SESSION_HANDLE *s)
{
	CK_SESSION_HANDLE h;
	CK_RV rv;

	rv = p->f->C_OpenSession(p->slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
				 NULL, NULL, &h);
	if (rv != CKR_OK) {
		log_err("C_OpenSession: %s", p11_rv_name(rv));
		return p11_err(rv);
	}
	*s = h;
	return 0;
}

void
p11_session_close(struct p11 *p, CK_SESSION_HANDLE s)
{
	if (s != CK_INVALID_HANDLE)
		p->f->C_CloseSession(s);
}

int
p11_find_one(struct p11 *p, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
	     CK_OBJECT_HANDLE *obj)
{
	CK_OBJECT_HANDLE found[2];
	CK_ULONG count = 0;
	CK_RV rv, frv;

	if ((rv = p->f->C_FindObjectsInit(s, tmpl, n)) != CKR_OK) {
		log_err("C_FindObjectsInit: %s", p11_rv_name(rv));
		return p11_err(rv);
	}
	/* Ask for two so that an ambiguous template is noticed. */
	rv = p->f->C_FindObjects(s, found, 2, &count);
	frv = p->f->C_FindObjectsFinal(s);
	if (rv != CKR_OK || frv != CKR_OK) {
		log_err("C_FindObjects: %s",
			p11_rv_name(rv != CKR_OK ? rv : frv));
		return p11_err(rv != CKR_OK ? rv : frv);
	}
	if (count == 0)
		return EST_E_NOTFOUND;
	if (count > 1) {
		log_err("token holds more than one object where one is "
			"expected");
		return EST_E_HSM;
	}
	*obj = found[0];
	return 0;
}

int
p11_find_all(struct p11 *p, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n,
	     CK_OBJECT_HANDLE **objs, size_t *nobjs)
{
	CK_OBJECT_HANDLE *all = NULL, *tmp;
	size_t have = 0, cap = 0;
	CK_ULONG count;
	CK_RV rv, frv;
	int r = 0;

	if ((rv = p->f->C_FindObjectsInit(s, tmpl, n)) != CKR_OK) {
		log_err("C_FindObjectsInit: %s", p11_rv_name(rv));
		return p11_err(rv);
	}
	for (;;) {
		if (have == cap) {
			cap = cap ? cap * 2 : 64;
			if ((tmp = reallocarray(all, cap, sizeof(*all))) ==
			    NULL) {
				r = EST_E_NOMEM;
				break;
			}
			all = tmp;
		}
		count = 0;
		rv = p->f->C_FindObjects(s, all + have, (CK_ULONG)(cap - have),
					 &count);
		if (rv != CKR_OK) {
			log_err("C_FindObjects: %s", p11_rv_name(rv));
			r = p11_err(rv);
			break;
		}
		if (count == 0)
			break;
		have += count;
	}
	frv = p->f->C_FindObjectsFinal(s);
	if (r == 0 && frv != CKR_OK) {
		log_err("C_FindObjectsFinal: %s", p11_rv_name(frv));
		r = p11_err(frv);
	}
	if (r != 0) {
		free(all);
		return r;
	}
	*objs = all;
	*nobjs = have;
	return 0;
}

int
p11_get_attr(struct p11 *p, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
	     CK_ATTRIBUTE_TYPE type, uint8_t **val, size_t *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	uint8_t *v;
	CK_RV rv;

	rv = p->f->C_GetAttributeValue(s, obj, &a, 1);
	if (rv != CKR_OK || a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return rv == CKR_OK ? EST_E_NOTFOUND : p11_err(rv);
	if (a.ulValueLen > 65536)
		return EST_E_TOOBIG;
	if ((v = malloc(a.ulValueLen + 1)) == NULL)
		return EST_E_NOMEM;
	a.pValue = v;
	if ((rv = p->f->C_GetAttributeValue(s, obj, &a, 1)) != CKR_OK) {
		free(v);
		return p11_err(rv);
	}
	v[a.ulValueLen] = '\0';
	*val = v;
	*len = a.ulValueLen;
	return 0;
}

int
p11_has_mechanism(struct p11 *p, CK_MECHANISM_TYPE mech)
{
	CK_MECHANISM_INFO mi;

	return p->f->C_GetMechanismInfo(p->slot, mech, &mi) == CKR_OK
		       ? 0
		       : EST_E_NOTFOUND;
}
