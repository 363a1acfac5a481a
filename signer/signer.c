/*
 * Start-up and shutdown of the token side of the signer (signer.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "log.h"
#include "signer.h"
#include "util.h"

int
signer_open(const struct profile *prof, char *pin, size_t pinlen,
	    const char *journal, struct signer **out)
{
	struct signer *s;
	const struct key **list = NULL;
	size_t n = 0;
	int r;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		freezero(pin, pinlen);
		return EST_E_NOMEM;
	}
	s->prof = prof;
	if ((r = profile_apply_env(prof)) != 0 ||
	    (r = p11_open(prof->module, &s->p11)) != 0 ||
	    (r = p11_find_token(s->p11, prof->token_label, prof->slot,
				prof->token_retries)) != 0)
		goto out;
	r = p11_login(s->p11, pin, pinlen);
	freezero(pin, pinlen);
	pin = NULL;
	if (r != 0)
		goto out;
	if ((r = profile_check_token(prof, s->p11)) != 0 ||
	    (r = keys_new(s->p11, prof->key_types, &s->keys)) != 0 ||
	    (r = wrap_new(s->p11, prof->wrap_mode, &s->wrap)) != 0 ||
	    (r = keys_scan(s->keys, s->p11->login_session, &list, &n)) != 0)
		goto out;
	free(list);
	if (journal != NULL && (r = sjournal_open(journal, &s->journal)) != 0)
		goto out;
	log_info("token \"%s\" (profile %s): logged in, %zu keys",
		 s->p11->label, prof->name, n);
	*out = s;
	s = NULL;
out:
	freezero(pin, pinlen);
	signer_close(s);
	return r;
}

void
signer_close(struct signer *s)
{
	if (s == NULL)
		return;
	sjournal_close(s->journal);
	wrap_free(s->wrap);
	keys_free(s->keys);
	p11_close(s->p11);
	free(s);
}

int
signer_selftest(struct signer *s, size_t *nkeys)
{
	const struct key **list = NULL;
	size_t n = 0;
	int r;

	if ((r = keys_scan(s->keys, s->p11->login_session, &list, &n)) != 0 ||
	    (r = wrap_selftest(s->wrap, s->p11->login_session)) != 0)
		goto out;
	*nkeys = n;
out:
	free(list);
	return r;
}
