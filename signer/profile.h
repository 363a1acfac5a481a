/*
 * HSM profiles (estuary-hsm-profile(5)): one key = value file per HSM that
 * says which PKCS#11 module to load, which token to use, where the PIN
 * comes from, which mechanisms the signer may rely on and how to wrap
 * device keys.  Parsed with lib/conf.h against the table in profile.c.
 */
#ifndef ESTUARY_PROFILE_H
#define ESTUARY_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#include "p11.h"

/* How GEN_WRAPPED gets its AES-GCM IV (or whether it works at all). */
enum wrap_mode {
	WRAP_NONE = 0,	   /* server-side key generation disabled */
	WRAP_GCM,	   /* the signer draws the IV */
	WRAP_GCM_TOKEN_IV, /* the token draws it and returns it */
};

struct profile {
	char *name;
	char *module;
	char *token_label; /* NULL: the token is chosen by slot */
	CK_SLOT_ID slot;
	char *pin_source;   /* "file:/path" or "env:NAME" */
	char *module_env;   /* "NAME=value,..." set before loading */
	unsigned key_types; /* bit (1 << enum signer_keytype) */
	CK_MECHANISM_TYPE *mechs;
	size_t nmechs;
	int wrap_mode; /* enum wrap_mode */
	unsigned max_sessions;
	unsigned token_retries;
};

/* Loads a profile; on failure writes a one-line reason into err. */
int profile_load(const char *path, struct profile **out, char *err,
		 size_t errlen);
void profile_free(struct profile *p);

/*
 * estuary.conf(5) overrides: hsm_token_label replaces the profile's token
 * (label or slot), hsm_pin_file its pin_source.  NULL leaves a value.
 */
int profile_override(struct profile *p, const char *token_label,
		     const char *pin_file);

/* Sets the module_env variables that the environment does not set yet. */
int profile_apply_env(const struct profile *p);

/*
 * Reads the PIN from pin_source into a new allocation (caller wipes it
 * with freezero).  A PIN file must not be readable by others; one
 * trailing newline is dropped.  The value of an env: variable is wiped
 * from the environment once read.
 */
int profile_read_pin(const struct profile *p, char **pin, size_t *pinlen);

/*
 * Checks the token against the profile: every listed mechanism must be
 * offered, and every mechanism the enabled key types and wrap mode need
 * must be listed.  Logs each problem; EST_E_CONFIG if there was one.
 */
int profile_check_token(const struct profile *p, struct p11 *p11);

/* "ec-p256"... for a key type, or NULL; and the reverse (0 unknown). */
const char *keytype_name(uint8_t keytype);
uint8_t keytype_parse(const char *s, size_t len);

#endif
