/*
 * The signer's journal (signer/PROTOCOL section 6): one line per signature
 * and per destroyed key pair,
 *
 *	seq time key-id kind sha256(data) prev-hash hash
 *
 * hash-chained so that a changed, removed or inserted line is detected.
 * The line format and the verifier live here, outside the signer, so that
 * estuaryctl can check a journal without loading PKCS#11; the signer's
 * writer (signer/journal.c) formats its lines with journal_format_line().
 */
#ifndef ESTUARY_JOURNAL_H
#define ESTUARY_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#define JOURNAL_HASH_LEN 32
#define JOURNAL_KEYID_LEN 16
/* The longest kind name, "destroy". */
#define JOURNAL_KIND_MAX 7
/* The longest line, newline included, with a 20-digit seq and time. */
#define JOURNAL_LINE_MAX                                                       \
	(20 + 1 + 20 + 1 + 2 * JOURNAL_KEYID_LEN + 1 + JOURNAL_KIND_MAX + 1 +  \
	 3 * (2 * JOURNAL_HASH_LEN + 1))

/*
 * The journal kind of a destroyed key pair (DESTROYKEY), whose line holds
 * the SHA-256 of the 16-octet key id where a signature's holds that of
 * the data signed.  The other kinds are the SIGN kinds (enum
 * signer_sign_kind); this one is outside the byte range a later protocol
 * version would give new SIGN kinds.
 */
#define JOURNAL_KIND_DESTROY 0x80

struct journal_entry {
	uint64_t seq;
	uint64_t time;
	uint8_t keyid[JOURNAL_KEYID_LEN];
	/* "cert", "crl", "csr", "ocsp" or "destroy" */
	char kind[JOURNAL_KIND_MAX + 1];
	uint8_t data_hash[JOURNAL_HASH_LEN];
	uint8_t prev_hash[JOURNAL_HASH_LEN];
	uint8_t hash[JOURNAL_HASH_LEN];
};

/*
 * The journal's name of a SIGN kind (enum signer_sign_kind) or of
 * JOURNAL_KIND_DESTROY, or NULL.
 */
const char *journal_kind_name(uint8_t kind);

/*
 * Formats the line for e->seq, e->time, e->keyid, e->kind, e->data_hash and
 * e->prev_hash into line (JOURNAL_LINE_MAX + 1 bytes), newline included,
 * computes e->hash and sets *linelen.  Returns 0 or EST_E_INVAL.
 */
int journal_format_line(struct journal_entry *e, char *line, size_t linesz,
			size_t *linelen);

/*
 * Parses one line (with its newline, without a NUL) strictly: single
 * spaces, decimal numbers without leading zeros, lower-case hex of the
 * exact lengths, a known kind, and a hash that matches the rest of the
 * line.  Returns 0 and fills *e, or EST_E_INVAL.
 */
int journal_parse_line(const char *line, size_t len, struct journal_entry *e);

/*
 * Checks a whole journal: each line parses, its seq is its line number and
 * its prev-hash is the hash of the line before (64 zeros for the first).
 * Returns 0 when the journal is intact; EST_E_INVAL when it is not, with
 * *bad_line the 1-based number of the first line that was changed, removed
 * or inserted; EST_E_IO when it cannot be read (*bad_line 0).  *nlines is
 * always set: the number of intact lines read.  A journal cut short at its
 * end cannot be told from a shorter one by this check alone.
 */
int journal_verify(const char *path, uint64_t *nlines, uint64_t *bad_line);

#endif
