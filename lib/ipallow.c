/*
 * IP allow list entries: parsing, canonical text and matching (ipallow.h).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "ipallow.h"

/* The longest address text we read (an IPv6 with an IPv4 tail). */
#define ADDR_TEXT_MAX INET6_ADDRSTRLEN

static int
fail(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return EST_E_UNPROCESSABLE;
}

/*
 * Whether an IPv4 dotted quad has a component with a leading zero ("01"):
 * inet_pton() of some C libraries reads it, others refuse it, and other
 * tools read it as octal, so we refuse it everywhere.
 */
static int
v4_leading_zero(const char *s)
{
	const char *p;

	for (p = s; *p != '\0'; p++) {
		int start = p == s || p[-1] == '.';

		if (start && p[0] == '0' && p[1] >= '0' && p[1] <= '9')
			return 1;
	}
	return 0;
}

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/*
 * Reads one address of n bytes of s into a; *len 4 or 16.  An IPv4-mapped
 * IPv6 address is refused when mapped_ok is 0, converted to IPv4
 * otherwise.
 */
static int
parse_addr(const char *s, size_t n, uint8_t a[16], uint8_t *len, int mapped_ok,
	   const char **why)
{
	char tmp[ADDR_TEXT_MAX + 1];

	if (n == 0)
		return fail(why, "address missing");
	if (n > ADDR_TEXT_MAX)
		return fail(why, "not an IP address");
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (memchr(tmp, '\0', n) != NULL)
		return fail(why, "not an IP address");
	if (strchr(tmp, ':') == NULL) {
		if (v4_leading_zero(tmp))
			return fail(why, "leading zero in an IPv4 address");
		if (inet_pton(AF_INET, tmp, a) != 1)
			return fail(why, "not an IP address");
		*len = 4;
		return 0;
	}
	/* The IPv4 tail of an IPv6 address follows the last ':'. */
	if (strchr(tmp, '.') != NULL && v4_leading_zero(strrchr(tmp, ':') + 1))
		return fail(why, "leading zero in an IPv4 address");
	if (inet_pton(AF_INET6, tmp, a) != 1)
		return fail(why, "not an IP address");
	if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
		if (!mapped_ok)
			return fail(why,
				    "write an IPv4-mapped address as IPv4");
		memmove(a, a + 12, 4);
		*len = 4;
		return 0;
	}
	*len = 16;
	return 0;
}

/* A decimal number 0..max without sign or leading zero; -1 when not. */
static int
parse_prefix(const char *s, int max)
{
	int v = 0;

	if (*s == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > max)
			return -1;
	}
	return v;
}

/* The mask of a prefix length: bits set from the left. */
static void
prefix_mask(uint8_t *m, uint8_t len, int prefix)
{
	uint8_t i;

	for (i = 0; i < len; i++) {
		int bits = prefix - 8 * i;

		if (bits >= 8)
			m[i] = 0xff;
		else if (bits <= 0)
			m[i] = 0;
		else
			m[i] = (uint8_t)(0xff << (8 - bits));
	}
}

/* The prefix length of a contiguous mask, -1 when it is not contiguous. */
static int
mask_prefix(const uint8_t *m, uint8_t len)
{
	int prefix = 0;
	uint8_t i;
	int ended = 0;

	for (i = 0; i < len; i++) {
		int b;

		for (b = 7; b >= 0; b--) {
			int bit = (m[i] >> b) & 1;

			if (bit && ended)
				return -1;
			if (bit)
				prefix++;
			else
				ended = 1;
		}
	}
	return prefix;
}

/* Sets r from network a and mask m; EST_E_UNPROCESSABLE for host bits. */
static int
apply_mask(struct ipallow_range *r, const uint8_t *a, const uint8_t *m,
	   uint8_t len, const char **why)
{
	uint8_t i;

	for (i = 0; i < len; i++) {
		if ((a[i] & (uint8_t)~m[i]) != 0)
			return fail(why, "host bits set after the network");
		r->start[i] = a[i];
		r->end[i] = a[i] | (uint8_t)~m[i];
	}
	r->len = len;
	return 0;
}

static void
addr_text(const uint8_t *a, uint8_t len, char *out, size_t size)
{
	if (inet_ntop(len == 4 ? AF_INET : AF_INET6, a, out, (socklen_t)size) ==
	    NULL)
		out[0] = '\0';
}

static int
canon_text(const struct ipallow_range *r, enum ipallow_form form, int prefix,
	   const uint8_t *mask, char *canon)
{
	char a[ADDR_TEXT_MAX], b[ADDR_TEXT_MAX];
	int n;

	addr_text(r->start, r->len, a, sizeof(a));
	switch (form) {
	case IPALLOW_SINGLE:
		n = snprintf(canon, IPALLOW_TEXT_SIZE, "%s", a);
		break;
	case IPALLOW_CIDR:
		n = snprintf(canon, IPALLOW_TEXT_SIZE, "%s/%d", a, prefix);
		break;
	case IPALLOW_RANGE:
		addr_text(r->end, r->len, b, sizeof(b));
		n = snprintf(canon, IPALLOW_TEXT_SIZE, "%s-%s", a, b);
		break;
	case IPALLOW_NETMASK:
		addr_text(mask, r->len, b, sizeof(b));
		n = snprintf(canon, IPALLOW_TEXT_SIZE, "%s/%s", a, b);
		break;
	default:
		return EST_E_INVAL;
	}
	if (n < 0 || n >= IPALLOW_TEXT_SIZE)
		return EST_E_UNPROCESSABLE;
	return 0;
}

int
ipallow_parse(const char *s, struct ipallow_range *r, enum ipallow_form *form,
	      char *canon, const char **why)
{
	struct ipallow_range v;
	enum ipallow_form f;
	uint8_t a[16], b[16], m[16];
	uint8_t alen, blen;
	const char *slash, *dash;
	size_t n;
	int prefix = -1, rc;

	memset(&v, 0, sizeof(v));
	memset(m, 0, sizeof(m));
	if (s == NULL || r == NULL)
		return EST_E_INVAL;
	n = strlen(s);
	if (n == 0)
		return fail(why, "empty entry");
	if (n > IPALLOW_ENTRY_MAX)
		return fail(why, "entry too long");
	if (strspn(s, "0123456789abcdefABCDEF.:/-") != n)
		return fail(why, "unexpected character");
	slash = strchr(s, '/');
	dash = strchr(s, '-');
	if (slash != NULL && dash != NULL)
		return fail(why, "both '/' and '-'");
	if (dash != NULL) {
		if (strchr(dash + 1, '-') != NULL)
			return fail(why, "more than one '-'");
		if ((rc = parse_addr(s, (size_t)(dash - s), a, &alen, 0,
				     why)) != 0 ||
		    (rc = parse_addr(dash + 1, strlen(dash + 1), b, &blen, 0,
				     why)) != 0)
			return rc;
		if (alen != blen)
			return fail(why, "range mixes IPv4 and IPv6");
		if (memcmp(a, b, alen) > 0)
			return fail(why, "range start after its end");
		v.len = alen;
		memcpy(v.start, a, alen);
		memcpy(v.end, b, alen);
		f = IPALLOW_RANGE;
	} else if (slash != NULL) {
		const char *rest = slash + 1;

		if (strchr(rest, '/') != NULL)
			return fail(why, "more than one '/'");
		if (*rest == '\0')
			return fail(why, "prefix length missing");
		if ((rc = parse_addr(s, (size_t)(slash - s), a, &alen, 0,
				     why)) != 0)
			return rc;
		if (strspn(rest, "0123456789") == strlen(rest)) {
			prefix = parse_prefix(rest, alen * 8);
			if (prefix < 0)
				return fail(why, "bad prefix length");
			prefix_mask(m, alen, prefix);
			f = IPALLOW_CIDR;
		} else {
			if (alen != 4)
				return fail(why, "netmask form is IPv4 only");
			if ((rc = parse_addr(rest, strlen(rest), m, &blen, 0,
					     why)) != 0)
				return rc;
			if (blen != 4)
				return fail(why, "netmask of another family");
			prefix = mask_prefix(m, 4);
			if (prefix < 0)
				return fail(why, "netmask not contiguous");
			f = IPALLOW_NETMASK;
		}
		if ((rc = apply_mask(&v, a, m, alen, why)) != 0)
			return rc;
	} else {
		if ((rc = parse_addr(s, n, a, &alen, 0, why)) != 0)
			return rc;
		v.len = alen;
		memcpy(v.start, a, alen);
		memcpy(v.end, a, alen);
		f = IPALLOW_SINGLE;
	}
	if (canon != NULL && canon_text(&v, f, prefix, m, canon) != 0)
		return fail(why, "entry too long");
	*r = v;
	if (form != NULL)
		*form = f;
	return 0;
}

int
ipallow_addr(const char *s, uint8_t a[16], uint8_t *len)
{
	uint8_t v[16];
	uint8_t l;

	if (s == NULL || parse_addr(s, strlen(s), v, &l, 1, NULL) != 0)
		return EST_E_INVAL;
	memcpy(a, v, l);
	*len = l;
	return 0;
}

int
ipallow_range_contains(const struct ipallow_range *r, const uint8_t *a,
		       uint8_t len)
{
	if (r == NULL || a == NULL || r->len != len)
		return 0;
	return memcmp(r->start, a, len) <= 0 && memcmp(a, r->end, len) <= 0;
}

int
ipallow_match(const struct ipallow_range *list, size_t n, const char *addr)
{
	uint8_t a[16];
	uint8_t len;
	size_t i;

	if (n == 0)
		return 1;
	if (list == NULL || ipallow_addr(addr, a, &len) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (ipallow_range_contains(&list[i], a, len))
			return 1;
	return 0;
}
