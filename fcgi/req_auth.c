/*
 * HTTP Basic credentials (RFC 7617) from HTTP_AUTHORIZATION.  The decoded
 * buffer holds a password, so every copy is wiped before it is freed.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "b64.h"
#include "err.h"
#include "reqparse.h"
#include "util.h"

static int
valid_cred(const char *s, size_t len, size_t max)
{
	size_t i;

	if (len > max)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return reqp_utf8_valid(s, len);
}

int
reqp_basic(const char *v, char **user, char **pass)
{
	const char *sp, *tok, *end;
	uint8_t *dec = NULL;
	char *u = NULL, *pw = NULL, *colon;
	size_t len = strlen(v), declen = 0, ulen;
	int r;

	if (len > REQ_AUTH_MAX)
		return EST_E_INVAL;
	/* Another scheme is not an error here: the handler refuses it. */
	if ((sp = strchr(v, ' ')) == NULL || (size_t)(sp - v) != 5 ||
	    strncasecmp(v, "basic", 5) != 0) {
		*user = *pass = NULL;
		return 0;
	}
	for (tok = sp; *tok == ' '; tok++)
		;
	for (end = v + len; end > tok && (end[-1] == ' ' || end[-1] == '\t');
	     end--)
		;
	if ((r = b64_decode(tok, (size_t)(end - tok), 0, &dec, &declen)) != 0)
		return r;
	/* A NUL would make the C strings differ from what was sent. */
	if (memchr(dec, '\0', declen) != NULL ||
	    (colon = memchr(dec, ':', declen)) == NULL) {
		r = EST_E_INVAL;
		goto out;
	}
	ulen = (size_t)(colon - (char *)dec);
	if (ulen == 0 || !valid_cred((char *)dec, ulen, REQ_USER_MAX) ||
	    !valid_cred(colon + 1, declen - ulen - 1, REQ_PASS_MAX)) {
		r = EST_E_INVAL;
		goto out;
	}
	if ((u = strndup((char *)dec, ulen)) == NULL ||
	    (pw = strndup(colon + 1, declen - ulen - 1)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	*user = u;
	*pass = pw;
	u = pw = NULL;
	r = 0;
out:
	freezero(dec, declen);
	freezero_str(u);
	freezero_str(pw);
	return r;
}
