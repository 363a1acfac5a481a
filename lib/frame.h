/*
 * Framing of the signer protocol (signer/PROTOCOL):
 *
 *	u32	length of what follows (version + type + body), big-endian
 *	u8	protocol version (SIGNER_PROTO_VERSION)
 *	u8	message type
 *	byte[]	body
 *
 * The length is checked against FRAME_MAX before anything is allocated.
 */
#ifndef ESTUARY_FRAME_H
#define ESTUARY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define FRAME_HDR_LEN 4
#define FRAME_MIN 2		     /* version + type */
#define FRAME_MAX (16U * 1024 * 1024) /* hard maximum, before allocation */

struct frame {
	uint8_t version;
	uint8_t type;
	const uint8_t *body; /* borrowed from the parsed input */
	size_t bodylen;
};

/*
 * Parses one frame at the start of p.  Returns 0 and sets *f and *consumed
 * when a whole frame is present; EST_E_TRUNCATED when more bytes are needed;
 * EST_E_TOOBIG or EST_E_INVAL when the length prefix is out of range (the
 * stream cannot be resynchronised and must be closed).  The version is not
 * checked here.
 */
int frame_parse(const uint8_t *p, size_t len, struct frame *f,
		size_t *consumed);

/*
 * Reads one whole frame from a blocking fd into in (which is reset first)
 * and parses it into *f, whose body points into in.  EST_E_EOF on a clean
 * end of stream before the first byte, EST_E_TRUNCATED on an end of stream
 * inside a frame, EST_E_IO on a read error, EST_E_TOOBIG for an oversized
 * length prefix (nothing is read past the prefix).
 */
int frame_read(int fd, struct buf *in, struct frame *f);

/* Writes one frame: header, then body (which may be NULL for none). */
int frame_write(int fd, uint8_t version, uint8_t type, const struct buf *body);

/* Writes all of len bytes, retrying on EINTR and short writes. */
int write_all(int fd, const void *p, size_t len);

#endif
