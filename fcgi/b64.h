/*
 * Base64 (RFC 4648) for the FastCGI programs: HTTP Basic credentials are
 * decoded strictly; EST bodies (RFC 7030 as clarified by RFC 8951) may carry
 * line breaks and other white space, and responses are written in 64-column
 * lines.
 */
#ifndef ESTUARY_B64_H
#define ESTUARY_B64_H

#include <stddef.h>
#include <stdint.h>

/* White space (SP, HTAB, CR, LF) between groups is skipped. */
#define B64_SKIP_WS 0x01

/*
 * Decodes len characters at in.  Padding is required to complete the last
 * group; anything outside the alphabet (and white space unless
 * B64_SKIP_WS), a misplaced '=' or non-zero trailing bits is EST_E_INVAL.
 * On success *out is a new allocation of *outlen bytes plus a NUL byte that
 * the caller frees.
 */
int b64_decode(const char *in, size_t len, int flags, uint8_t **out,
	       size_t *outlen);

/*
 * Encodes len bytes at p in lines of at most linelen characters (a multiple
 * of 4; 0 for one line), each ending in LF.  *out is NUL-terminated and
 * *outlen excludes the NUL.
 */
int b64_encode(const uint8_t *p, size_t len, size_t linelen, char **out,
	       size_t *outlen);

#endif
