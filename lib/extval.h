/*
 * Values of custom certificate extensions: from what a user types, in the
 * syntax of one of the types of custom_extensions.value_type, to the DER
 * that becomes the extension's extnValue content (RFC 5280 4.1: the
 * OCTET STRING wraps exactly these bytes).  The result is stored once in
 * custom_extensions.value_der, so issuance never re-encodes it.
 *
 * Text forms:
 *	utf8string	UTF-8 without control characters
 *	printablestring	A-Z a-z 0-9 space ' ( ) + , - . / : = ?
 *	ia5string	printable 7-bit ASCII (0x20..0x7e)
 *	octetstring	hex digits, an even number of them (either case)
 *	integer		decimal, optional leading '-', any size, no '+'
 *			and no leading zero ("0" itself is fine, "-0" not)
 *	boolean		"true" or "false"
 *	oid		dotted decimal, as extval_oid_check() accepts
 *	der		hex of exactly one complete DER value, walked
 *			strictly: definite minimal lengths, minimal tags,
 *			constructed contents that are whole values, the
 *			primitive forms DER requires for BOOLEAN, INTEGER,
 *			NULL, OBJECT IDENTIFIER and the string types
 * Every refusal is EST_E_UNPROCESSABLE with a short reason that may be sent
 * to the client.
 */
#ifndef ESTUARY_EXTVAL_H
#define ESTUARY_EXTVAL_H

#include <stddef.h>
#include <stdint.h>

/* Longest value text (bytes) and encoded value (bytes) accepted. */
#define EXTVAL_TEXT_MAX 8192
#define EXTVAL_DER_MAX 4096
/* Dotted OID text: characters and arcs. */
#define EXTVAL_OID_MAX 128
#define EXTVAL_OID_ARCS_MAX 64

enum extval_type {
	EXTVAL_UTF8 = 1,
	EXTVAL_PRINTABLE,
	EXTVAL_IA5,
	EXTVAL_OCTET,
	EXTVAL_INTEGER,
	EXTVAL_BOOLEAN,
	EXTVAL_OID,
	EXTVAL_DER,
};

/* The value_type names ("utf8string", ...); NULL / EST_E_INVAL. */
const char *extval_type_name(enum extval_type t);
int extval_type_parse(const char *name, enum extval_type *t);

/*
 * Encodes text as type t into a new buffer (*der, *len; free() it).  On
 * refusal returns EST_E_UNPROCESSABLE and, when reason is not NULL, points
 * it at a constant string saying why.
 */
int extval_encode(enum extval_type t, const char *text, uint8_t **der,
		  size_t *len, const char **reason);

/*
 * 0 when oid is a dotted-decimal OID of at least two arcs, the first 0..2,
 * the second below 40 under 0 and 1, no arc with a leading zero, at most
 * EXTVAL_OID_ARCS_MAX arcs and EXTVAL_OID_MAX characters; else
 * EST_E_UNPROCESSABLE.
 */
int extval_oid_check(const char *oid);

/*
 * 1 when oid names an extension that the issuer itself writes from the
 * template or the CA (basic constraints, key usage, extended key usage,
 * subject and issuer alternative names, key identifiers, CRL distribution
 * points, authority information access, name and policy constraints...)
 * or that has no place in an end-entity certificate (CRL extensions, the
 * Certificate Transparency poison): a custom extension may not carry it.
 */
int extval_oid_reserved(const char *oid);

/*
 * The strict DER walk used for the der type: 0 when der[0..len) is
 * exactly one DER value as described above, else EST_E_UNPROCESSABLE.
 */
int extval_der_check(const uint8_t *der, size_t len, const char **reason);

#endif
