/*
 * The signer's journal writer (signer/journal.c; the line format is in
 * lib/journal.h).  One line per signature or destroyed key pair,
 * appended with one write(2) under a mutex to a file opened with O_APPEND.
 */
#ifndef ESTUARY_SJOURNAL_H
#define ESTUARY_SJOURNAL_H

#include <stddef.h>
#include <stdint.h>

struct sjournal;

/*
 * Opens (creating, mode 0640) the journal and resumes its chain from the
 * last line.  A last line that does not parse, or a file that does not
 * end in a newline, is EST_E_CONFIG: the journal must be repaired by hand
 * before the signer signs again.
 */
int sjournal_open(const char *path, struct sjournal **out);
void sjournal_close(struct sjournal *j);

/*
 * Checks an existing journal's last line without opening it for writing
 * (estuary-signerd -t); a missing file is fine.
 */
int sjournal_check(const char *path, uint64_t *lastseq);

/*
 * Appends one line of kind (a SIGN kind, or JOURNAL_KIND_DESTROY with the
 * SHA-256 of the key id as data_sha256).  On a failed or short write the
 * journal refuses every later append (EST_E_IO): its end is no longer a
 * whole line.
 */
int sjournal_append(struct sjournal *j, const uint8_t keyid[16], uint8_t kind,
		    const uint8_t data_sha256[32]);

#endif
