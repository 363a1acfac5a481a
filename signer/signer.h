/*
 * The signer's state once the token is open: what every connection
 * thread shares.  signer_open() is the part of start-up that must run
 * after fork() and after privileges are dropped: it loads the PKCS#11
 * module, logs in, reads the keys and opens the journal.
 */
#ifndef ESTUARY_SIGNER_H
#define ESTUARY_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "keys.h"
#include "p11.h"
#include "profile.h"
#include "sjournal.h"
#include "wrap.h"

struct signer {
	const struct profile *prof; /* borrowed */
	struct p11 *p11;
	struct keystore *keys;
	struct sjournal *journal; /* NULL in check mode */
	struct wrap *wrap;
};

/*
 * Opens everything.  Takes the PIN (from profile_read_pin(), read before
 * privileges were dropped) and wipes and frees it whatever happens.
 * journal may be NULL for a check that signs nothing (estuary-signerd -t).
 * Errors are logged; the codes say which part failed: EST_E_CONFIG
 * (module, profile, journal), EST_E_NOTOKEN, EST_E_PIN, EST_E_HSM.
 */
int signer_open(const struct profile *prof, char *pin, size_t pinlen,
		const char *journal, struct signer **out);
void signer_close(struct signer *s);

/*
 * The checks of estuary-signerd -t beyond signer_open(): mechanisms and
 * the AES-GCM behaviour the profile promises.  Sets *nkeys.
 */
int signer_selftest(struct signer *s, size_t *nkeys);

#endif
