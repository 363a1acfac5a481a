/*
 * Password hashing with argon2id (RFC 9106) through libargon2, and random
 * passwords for generated credentials.
 *
 * A hash is stored in the PHC string format that libargon2 writes,
 *
 *	$argon2id$v=19$m=65536,t=3,p=1$<salt>$<hash>
 *
 * which records the parameters it was made with, so that they can be
 * raised later: passwd_verify() reads them from the string, and
 * passwd_needs_rehash() says when a stored hash is weaker than today's
 * defaults (the caller then hashes the password it just verified again).
 *
 * The defaults are RFC 9106's second recommended option: 64 MiB of memory
 * (m=65536 KiB), 3 passes (t=3), one lane (p=1), a 16-byte random salt and
 * a 32-byte tag.  One hash takes roughly 0.1-0.2 s on one core; that cost
 * is the point.  Plaintext passwords are never logged; the buffers that
 * held them are wiped.
 */
#ifndef ESTUARY_PASSWD_H
#define ESTUARY_PASSWD_H

#include <stddef.h>
#include <stdint.h>

#define PASSWD_M_KIB 65536
#define PASSWD_T_COST 3
#define PASSWD_LANES 1
#define PASSWD_SALT_LEN 16
#define PASSWD_HASH_LEN 32

/* Longest password accepted, in bytes. */
#define PASSWD_MAX 1024
/* Shortest generated password, in random bytes (128 bits). */
#define PASSWD_GEN_MIN 16

/*
 * Upper bounds on parameters read from a stored hash, so that a corrupt
 * row cannot make one verification allocate gigabytes.
 */
#define PASSWD_M_KIB_MAX (1024 * 1024)
#define PASSWD_T_COST_MAX 64
#define PASSWD_LANES_MAX 16

struct passwd_params {
	uint32_t m_kib;	 /* memory, KiB */
	uint32_t t_cost; /* passes */
	uint32_t lanes;	 /* parallelism */
};

/*
 * Hashes pw (1..PASSWD_MAX bytes, no NUL) with the default parameters into
 * a new encoded string (*out, caller frees).
 */
int passwd_hash(const char *pw, char **out);
/* The same with explicit parameters (within the bounds above). */
int passwd_hash_params(const char *pw, const struct passwd_params *p,
		       char **out);

/*
 * 0 when pw matches encoded; EST_E_DENIED when it does not, or when encoded
 * is not an argon2id hash within the bounds above; EST_E_NOMEM when memory
 * ran out.
 */
int passwd_verify(const char *pw, const char *encoded);

/*
 * 1 when encoded should be replaced by a new hash (not argon2id version
 * 19, unparsable, or any parameter below the defaults), else 0.
 */
int passwd_needs_rehash(const char *encoded);

/*
 * A random password of bytes random bytes (at least PASSWD_GEN_MIN),
 * written as unpadded base64url (RFC 4648 section 5): *out, which the
 * caller wipes and frees (freezero_str).
 */
int passwd_generate(size_t bytes, char **out);

#endif
