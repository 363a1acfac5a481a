/*
 * argon2id password hashes and generated passwords (see passwd.h).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <openssl/evp.h>

#include "err.h"
#include "passwd.h"
#include "util.h"

static const struct passwd_params passwd_defaults = {
	.m_kib = PASSWD_M_KIB,
	.t_cost = PASSWD_T_COST,
	.lanes = PASSWD_LANES,
};

static int
params_ok(const struct passwd_params *p)
{
	/* libargon2's own floor is 8 KiB per lane. */
	return p->m_kib >= 8 * p->lanes && p->m_kib <= PASSWD_M_KIB_MAX &&
	       p->t_cost >= 1 && p->t_cost <= PASSWD_T_COST_MAX &&
	       p->lanes >= 1 && p->lanes <= PASSWD_LANES_MAX;
}

static int
pw_len(const char *pw, size_t *len)
{
	size_t n = strnlen(pw, PASSWD_MAX + 1);

	if (n == 0 || n > PASSWD_MAX)
		return EST_E_INVAL;
	*len = n;
	return 0;
}

int
passwd_hash_params(const char *pw, const struct passwd_params *p, char **out)
{
	uint8_t salt[PASSWD_SALT_LEN];
	char *enc;
	size_t pwlen, enclen;
	int r;

	if (!params_ok(p))
		return EST_E_INVAL;
	if ((r = pw_len(pw, &pwlen)) != 0 ||
	    (r = random_bytes(salt, sizeof(salt))) != 0)
		return r;
	enclen = argon2_encodedlen(p->t_cost, p->m_kib, p->lanes,
				   PASSWD_SALT_LEN, PASSWD_HASH_LEN, Argon2_id);
	if ((enc = calloc(1, enclen)) == NULL)
		return EST_E_NOMEM;
	r = argon2id_hash_encoded(p->t_cost, p->m_kib, p->lanes, pw, pwlen,
				  salt, sizeof(salt), PASSWD_HASH_LEN, enc,
				  enclen);
	explicit_bzero(salt, sizeof(salt));
	if (r != ARGON2_OK) {
		free(enc);
		return r == ARGON2_MEMORY_ALLOCATION_ERROR ? EST_E_NOMEM
							   : EST_E_CRYPTO;
	}
	*out = enc;
	return 0;
}

int
passwd_hash(const char *pw, char **out)
{
	return passwd_hash_params(pw, &passwd_defaults, out);
}

/* A decimal number without sign or leading zeros, ending at *end. */
static int
parse_u32(const char **sp, char end, uint32_t *v)
{
	const char *s = *sp;
	uint64_t n = 0;

	if (*s < '0' || *s > '9' || (*s == '0' && s[1] != end))
		return EST_E_INVAL;
	while (*s >= '0' && *s <= '9') {
		n = n * 10 + (uint64_t)(*s++ - '0');
		if (n > UINT32_MAX)
			return EST_E_INVAL;
	}
	if (*s != end)
		return EST_E_INVAL;
	*sp = s + 1;
	*v = (uint32_t)n;
	return 0;
}

/*
 * Reads the parameters of "$argon2id$v=19$m=M,t=T,p=P$..." and checks them
 * against the bounds of passwd.h; the salt and tag are left to libargon2.
 */
static int
parse_params(const char *enc, struct passwd_params *p)
{
	static const char prefix[] = "$argon2id$v=19$m=";
	const char *s = enc;
	struct passwd_params q;

	if (strncmp(s, prefix, sizeof(prefix) - 1) != 0)
		return EST_E_INVAL;
	s += sizeof(prefix) - 1;
	if (parse_u32(&s, ',', &q.m_kib) != 0 || strncmp(s, "t=", 2) != 0)
		return EST_E_INVAL;
	s += 2;
	if (parse_u32(&s, ',', &q.t_cost) != 0 || strncmp(s, "p=", 2) != 0)
		return EST_E_INVAL;
	s += 2;
	if (parse_u32(&s, '$', &q.lanes) != 0 || !params_ok(&q))
		return EST_E_INVAL;
	*p = q;
	return 0;
}

int
passwd_verify(const char *pw, const char *encoded)
{
	struct passwd_params p;
	size_t pwlen;
	int r;

	if (pw_len(pw, &pwlen) != 0 || parse_params(encoded, &p) != 0)
		return EST_E_DENIED;
	r = argon2id_verify(encoded, pw, pwlen);
	if (r == ARGON2_OK)
		return 0;
	if (r == ARGON2_MEMORY_ALLOCATION_ERROR)
		return EST_E_NOMEM;
	return EST_E_DENIED;
}

int
passwd_needs_rehash(const char *encoded)
{
	struct passwd_params p;

	if (parse_params(encoded, &p) != 0)
		return 1;
	return p.m_kib < passwd_defaults.m_kib ||
	       p.t_cost < passwd_defaults.t_cost ||
	       p.lanes < passwd_defaults.lanes;
}

int
passwd_generate(size_t bytes, char **out)
{
	uint8_t *raw = NULL;
	char *b64 = NULL;
	size_t n, i;
	int r;

	if (bytes < PASSWD_GEN_MIN || bytes > PASSWD_MAX / 2)
		return EST_E_INVAL;
	n = 4 * ((bytes + 2) / 3);
	if ((raw = malloc(bytes)) == NULL || (b64 = malloc(n + 1)) == NULL) {
		r = EST_E_NOMEM;
		goto out;
	}
	if ((r = random_bytes(raw, bytes)) != 0)
		goto out;
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)bytes);
	/* base64 to base64url, without the '=' padding. */
	for (i = 0; i < n && b64[i] != '='; i++) {
		if (b64[i] == '+')
			b64[i] = '-';
		else if (b64[i] == '/')
			b64[i] = '_';
	}
	b64[i] = '\0';
	*out = b64;
	b64 = NULL;
out:
	freezero(b64, n + 1);
	freezero(raw, bytes);
	return r;
}
