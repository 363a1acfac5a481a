/*
 * Strict DER reading (der.h).  The signer only ever signs bytes that this
 * reader accepted, so it refuses every encoding freedom BER allows:
 * indefinite lengths, long-form lengths that fit the short form, leading
 * zero length octets and high tag numbers.
 */
#include "config.h"

#include <string.h>

#include "der.h"
#include "err.h"

int
der_next(struct der *d, struct der_tlv *t)
{
	const uint8_t *p = d->p;
	size_t len = d->len, hdr = 2, vlen, n, i;

	if (len < 2)
		return EST_E_BADASN1;
	/* High tag numbers never occur in the structures we parse. */
	if ((p[0] & 0x1f) == 0x1f || p[0] == 0)
		return EST_E_BADASN1;
	if (p[1] < 0x80) {
		vlen = p[1];
	} else {
		n = p[1] & 0x7f;
		/* 0x80 is BER's indefinite length; over 4 bytes is absurd. */
		if (n == 0 || n > 4 || len - 2 < n)
			return EST_E_BADASN1;
		if (p[2] == 0)
			return EST_E_BADASN1; /* not the shortest form */
		for (vlen = 0, i = 0; i < n; i++)
			vlen = (vlen << 8) | p[2 + i];
		if (vlen < 0x80)
			return EST_E_BADASN1; /* short form would do */
		hdr += n;
	}
	if (vlen > len - hdr)
		return EST_E_BADASN1;
	t->tag = p[0];
	t->raw = p;
	t->rawlen = hdr + vlen;
	t->val = p + hdr;
	t->vlen = vlen;
	d->p += t->rawlen;
	d->len -= t->rawlen;
	return 0;
}

int
der_expect(struct der *d, uint8_t tag, struct der_tlv *t)
{
	if (der_peek_tag(d) != tag)
		return EST_E_BADASN1;
	return der_next(d, t);
}

void
der_enter(const struct der_tlv *t, struct der *inner)
{
	der_init(inner, t->val, t->vlen);
}

static int
check_run(const uint8_t *p, size_t len, int depth)
{
	struct der d;
	struct der_tlv t;
	int r;

	if (depth > DER_MAX_DEPTH)
		return EST_E_BADASN1;
	der_init(&d, p, len);
	while (!der_empty(&d)) {
		if ((r = der_next(&d, &t)) != 0)
			return r;
		if ((t.tag & DER_CONSTRUCTED) &&
		    (r = check_run(t.val, t.vlen, depth + 1)) != 0)
			return r;
	}
	return 0;
}

int
der_check_one(const uint8_t *p, size_t len)
{
	struct der d;
	struct der_tlv t;
	int r;

	der_init(&d, p, len);
	if ((r = der_next(&d, &t)) != 0)
		return r;
	if (!der_empty(&d))
		return EST_E_BADASN1;
	if (t.tag & DER_CONSTRUCTED)
		return check_run(t.val, t.vlen, 1);
	return 0;
}

/* An OBJECT IDENTIFIER's contents: base-128 arcs, minimal encoding. */
static int
check_oid(const struct der_tlv *t)
{
	size_t i;

	if (t->tag != DER_OID || t->vlen == 0 || t->vlen > 128)
		return EST_E_BADASN1;
	if (t->val[t->vlen - 1] & 0x80)
		return EST_E_BADASN1;
	for (i = 0; i < t->vlen; i++)
		if (t->val[i] == 0x80 && (i == 0 || !(t->val[i - 1] & 0x80)))
			return EST_E_BADASN1;
	return 0;
}

int
der_check_name(const struct der_tlv *t)
{
	struct der name, rdn, atv;
	struct der_tlv set, seq, oid, val;
	int r;

	if (t->tag != DER_SEQUENCE)
		return EST_E_BADASN1;
	der_enter(t, &name);
	while (!der_empty(&name)) {
		if ((r = der_expect(&name, DER_SET, &set)) != 0)
			return r;
		der_enter(&set, &rdn);
		if (der_empty(&rdn))
			return EST_E_BADASN1; /* SET SIZE (1..MAX) */
		while (!der_empty(&rdn)) {
			if ((r = der_expect(&rdn, DER_SEQUENCE, &seq)) != 0)
				return r;
			der_enter(&seq, &atv);
			if ((r = der_next(&atv, &oid)) != 0 ||
			    (r = check_oid(&oid)) != 0 ||
			    (r = der_next(&atv, &val)) != 0)
				return r;
			if (!der_empty(&atv))
				return EST_E_BADASN1;
		}
	}
	return check_run(t->val, t->vlen, 1);
}

int
der_algorithm(const struct der_tlv *t, const uint8_t **oid, size_t *oidlen,
	      const struct der_tlv **params, struct der_tlv *pbuf)
{
	struct der d;
	struct der_tlv o;
	int r;

	if (t->tag != DER_SEQUENCE)
		return EST_E_BADASN1;
	der_enter(t, &d);
	if ((r = der_next(&d, &o)) != 0 || (r = check_oid(&o)) != 0)
		return r;
	*params = NULL;
	if (!der_empty(&d)) {
		if ((r = der_next(&d, pbuf)) != 0)
			return r;
		if (!der_empty(&d))
			return EST_E_BADASN1;
		*params = pbuf;
	}
	*oid = o.val;
	*oidlen = o.vlen;
	return 0;
}
