/*
 * A small strict DER reader for the structures the signer checks before
 * it signs.  Only DER is accepted: low tag numbers (no high-tag-number
 * form), definite lengths in their shortest form, and constructed values
 * whose contents are exactly a sequence of such elements.  Every function
 * returns 0 or EST_E_BADASN1 and never reads outside its input.
 */
#ifndef ESTUARY_DER_H
#define ESTUARY_DER_H

#include <stddef.h>
#include <stdint.h>

#define DER_SEQUENCE 0x30
#define DER_SET 0x31
#define DER_INTEGER 0x02
#define DER_BITSTRING 0x03
#define DER_OCTETSTRING 0x04
#define DER_NULL 0x05
#define DER_OID 0x06
#define DER_BOOLEAN 0x01
#define DER_UTCTIME 0x17
#define DER_GENTIME 0x18
#define DER_CONSTRUCTED 0x20
#define DER_CTX(n) (0x80 | (n))	     /* [n] IMPLICIT, primitive */
#define DER_CTX_CONS(n) (0xa0 | (n)) /* [n] constructed */

/* Deepest nesting accepted; real certificates stay well below it. */
#define DER_MAX_DEPTH 32

/* A cursor over a run of DER elements; it borrows its bytes. */
struct der {
	const uint8_t *p;
	size_t len;
};

/* One element: tag, contents, and the whole encoding (header included). */
struct der_tlv {
	uint8_t tag;
	const uint8_t *val;
	size_t vlen;
	const uint8_t *raw;
	size_t rawlen;
};

static inline void
der_init(struct der *d, const uint8_t *p, size_t len)
{
	d->p = p;
	d->len = len;
}

static inline int
der_empty(const struct der *d)
{
	return d->len == 0;
}

/* The tag of the next element, or -1 at the end. */
static inline int
der_peek_tag(const struct der *d)
{
	return d->len == 0 ? -1 : d->p[0];
}

/* Reads the next element header and advances past the whole element. */
int der_next(struct der *d, struct der_tlv *t);

/* Reads the next element, which must have the given tag. */
int der_expect(struct der *d, uint8_t tag, struct der_tlv *t);

/* Opens the contents of a constructed element as a new cursor. */
void der_enter(const struct der_tlv *t, struct der *inner);

/*
 * Checks that p..p+len is exactly one element whose constructed parts nest
 * exactly, down to DER_MAX_DEPTH levels.
 */
int der_check_one(const uint8_t *p, size_t len);

/*
 * Checks a Name (RFC 5280 4.1.2.4): a SEQUENCE OF SET OF
 * AttributeTypeAndValue, each a SEQUENCE of an OID and one value.
 */
int der_check_name(const struct der_tlv *t);

/* Checks an AlgorithmIdentifier and returns its OID contents. */
int der_algorithm(const struct der_tlv *t, const uint8_t **oid, size_t *oidlen,
		  const struct der_tlv **params, struct der_tlv *pbuf);

#endif
