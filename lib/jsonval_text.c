/*
 * Text rules for strings that come from clients: strict UTF-8 decoding and
 * the common validators of jsonval.h, usable on JSON fields and on query
 * parameters alike.
 */
#include "config.h"

#include <arpa/inet.h>
#include <string.h>

#include "err.h"
#include "jsonval.h"

/*
 * Decodes the UTF-8 sequence at p (n > 0 bytes available) into *cp and
 * returns its length, or 0 when it is not well-formed.  The byte ranges
 * are those of RFC 3629 section 4, which exclude overlong forms,
 * surrogates and code points above U+10FFFF; json-c's own check only
 * counts continuation bytes and lets all three through.
 */
size_t
jsonval_utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	uint32_t v;
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		v = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		v = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		v = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if (p[i] < lo || p[i] > hi)
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*cp = v;
	return len;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Host name rules of jsonval_check_hostname(); counts the labels. */
static int
hostname_labels(const char *s, size_t *nlabels)
{
	size_t len = strlen(s), i, lab = 0, n = 0;
	int alldigits = 1;
	char c;

	if (len == 0 || len > 253)
		return -1;
	for (i = 0; i <= len; i++) {
		c = s[i];
		if (c == '.' || c == '\0') {
			if (lab == 0 || s[i - 1] == '-')
				return -1;
			n++;
			if (c == '\0')
				break;
			lab = 0;
			alldigits = 1;
			continue;
		}
		if (!is_alnum(c) && (c != '-' || lab == 0))
			return -1;
		if (!is_digit(c))
			alldigits = 0;
		if (++lab > 63)
			return -1;
	}
	/* A numeric last label would make "10.0.0.1" a host name. */
	if (alldigits)
		return -1;
	*nlabels = n;
	return 0;
}

int
jsonval_check_hostname(const char *s)
{
	size_t n;

	return hostname_labels(s, &n) == 0 ? 0 : EST_E_UNPROCESSABLE;
}

int
jsonval_check_domain(const char *s)
{
	size_t n;

	return hostname_labels(s, &n) == 0 && n >= 2 ? 0 : EST_E_UNPROCESSABLE;
}

/*
 * Parsed here rather than by inet_pton(3) so that the rule (four decimal
 * parts 0-255, no leading zeros, which some parsers read as octal) does
 * not depend on the C library.
 */
int
jsonval_check_ipv4(const char *s)
{
	int part, digits, value;

	for (part = 0; part < 4; part++) {
		if (part > 0 && *s++ != '.')
			return EST_E_UNPROCESSABLE;
		for (digits = 0, value = 0; is_digit(*s); s++, digits++) {
			if (digits == 3 || (digits == 1 && value == 0))
				return EST_E_UNPROCESSABLE;
			value = value * 10 + (*s - '0');
		}
		if (digits == 0 || value > 255)
			return EST_E_UNPROCESSABLE;
	}
	return *s == '\0' ? 0 : EST_E_UNPROCESSABLE;
}

int
jsonval_check_ipv6(const char *s)
{
	struct in6_addr a;

	if (strlen(s) >= INET6_ADDRSTRLEN || inet_pton(AF_INET6, s, &a) != 1)
		return EST_E_UNPROCESSABLE;
	return 0;
}

int
jsonval_check_ip(const char *s)
{
	if (jsonval_check_ipv4(s) == 0 || jsonval_check_ipv6(s) == 0)
		return 0;
	return EST_E_UNPROCESSABLE;
}

/*
 * X.660: the first arc is 0, 1 or 2, and under 0 and 1 the second is at
 * most 39.  Arcs are limited to 39 digits, enough for the 128-bit UUID
 * arcs of 2.25, so that no consumer has to handle unbounded numbers.
 */
int
jsonval_check_oid(const char *s)
{
	const char *start;
	size_t arcs = 0, digits;
	int first = 0;

	for (;;) {
		for (start = s; is_digit(*s); s++)
			;
		digits = (size_t)(s - start);
		if (digits == 0 || digits > 39 ||
		    (digits > 1 && start[0] == '0'))
			return EST_E_UNPROCESSABLE;
		if (arcs == 0) {
			if (digits != 1 || start[0] > '2')
				return EST_E_UNPROCESSABLE;
			first = start[0] - '0';
		} else if (arcs == 1 && first < 2 &&
			   (digits > 2 ||
			    (digits == 2 &&
			     (start[0] - '0') * 10 + start[1] - '0' > 39)))
			return EST_E_UNPROCESSABLE;
		arcs++;
		if (*s == '\0')
			break;
		if (*s++ != '.')
			return EST_E_UNPROCESSABLE;
	}
	return arcs >= 2 ? 0 : EST_E_UNPROCESSABLE;
}

int
jsonval_check_label(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if (!is_digit(s[n]) && (s[n] < 'a' || s[n] > 'z'))
			return EST_E_UNPROCESSABLE;
	return n >= 3 && n <= 24 ? 0 : EST_E_UNPROCESSABLE;
}

static int
is_space_cp(uint32_t cp)
{
	return cp == 0x20 || cp == 0xa0 || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f || cp == 0x205f ||
	       cp == 0x3000;
}

/*
 * Characters that make a name look different from what it is: line and
 * paragraph separators, the bidirectional controls that can reorder what
 * a portal shows (CVE-2021-42574), the byte-order mark and the
 * noncharacters U+FFFE and U+FFFF.
 */
static int
is_deceptive_cp(uint32_t cp)
{
	return cp == 0x061c || cp == 0x200e || cp == 0x200f ||
	       (cp >= 0x2028 && cp <= 0x202e) ||
	       (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff || cp == 0xfffe ||
	       cp == 0xffff;
}

int
jsonval_check_name(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, k;
	uint32_t cp;
	int space = 0;

	if (len == 0)
		return EST_E_UNPROCESSABLE;
	while (i < len) {
		if ((k = jsonval_utf8_next(p + i, len - i, &cp)) == 0 ||
		    cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
		    is_deceptive_cp(cp))
			return EST_E_UNPROCESSABLE;
		space = is_space_cp(cp);
		if (i == 0 && space)
			return EST_E_UNPROCESSABLE;
		i += k;
	}
	return space ? EST_E_UNPROCESSABLE : 0;
}

/* RFC 5322 atext. */
static int
is_atext(int c)
{
	return is_alnum(c) || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

int
jsonval_check_email(const char *s)
{
	const char *at = strchr(s, '@');
	size_t i, local;

	if (at == NULL || strlen(s) > 254)
		return EST_E_UNPROCESSABLE;
	local = (size_t)(at - s);
	if (local == 0 || local > 64 || s[0] == '.' || s[local - 1] == '.')
		return EST_E_UNPROCESSABLE;
	for (i = 0; i < local; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			return EST_E_UNPROCESSABLE;
		if (s[i] != '.' && !is_atext(s[i]))
			return EST_E_UNPROCESSABLE;
	}
	return jsonval_check_domain(at + 1);
}
