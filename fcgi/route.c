#include "config.h"

#include <ctype.h>
#include <string.h>

#include "err.h"
#include "route.h"

#define ROUTE_ID_DIGITS 18 /* below 2^63 */
#define ROUTE_LABEL_MIN 3
#define ROUTE_LABEL_MAX 24

static int
valid_id(const char *s, size_t len)
{
	size_t i;

	/* A positive decimal without leading zeros: one spelling per id. */
	if (len == 0 || len > ROUTE_ID_DIGITS || s[0] == '0')
		return 0;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* EST arbitrary labels (guide 2.3): 3 to 24 lowercase letters and digits. */
static int
valid_label(const char *s, size_t len)
{
	size_t i;

	if (len < ROUTE_LABEL_MIN || len > ROUTE_LABEL_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if (!islower((unsigned char)s[i]) &&
		    !isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * An OCSP request in a GET path (RFC 6960 A.1): base64 or base64url, and
 * "%XX" escapes that the path layer left encoded (pki_ocsp.c decodes
 * them).
 */
static int
valid_ocspreq(const char *s, size_t len)
{
	size_t i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++) {
		if (isalnum((unsigned char)s[i]) || s[i] == '+' ||
		    s[i] == '=' || s[i] == '-' || s[i] == '_')
			continue;
		if (s[i] != '%' || len - i < 3 ||
		    !isxdigit((unsigned char)s[i + 1]) ||
		    !isxdigit((unsigned char)s[i + 2]))
			return 0;
		i += 2;
	}
	return 1;
}

/*
 * Published CA files: a CA id as valid_id() takes it, then ".crl" (its
 * CRL) or ".crt" (its certificate), as /pki/crl/{crlfile} and
 * /pki/ca/{crtfile} name them.
 */
static int
valid_id_ext(const char *s, size_t len, const char *ext)
{
	return len > 4 && memcmp(s + len - 4, ext, 4) == 0 &&
	       valid_id(s, len - 4);
}

static int
valid_crlfile(const char *s, size_t len)
{
	return valid_id_ext(s, len, ".crl");
}

static int
valid_crtfile(const char *s, size_t len)
{
	return valid_id_ext(s, len, ".crt");
}

/* Capture names and their validators; later routes add rows here. */
static const struct {
	const char *name;
	int (*valid)(const char *, size_t);
} route_caps[] = {
	{"id", valid_id},
	{"label_id", valid_id},
	{"label", valid_label},
	{"ocspreq", valid_ocspreq},
	{"crlfile", valid_crlfile},
	{"crtfile", valid_crtfile},
};

static int
cap_index(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(route_caps) / sizeof(route_caps[0]); i++)
		if (strcmp(route_caps[i].name, name) == 0)
			return (int)i;
	return -1;
}

int
route_cap_valid(const char *name, const char *s, size_t len)
{
	int i = cap_index(name);

	return i >= 0 && route_caps[i].valid(s, len);
}

/* The length of the segment at s (up to '/' or the end). */
static size_t
seglen(const char *s)
{
	const char *e = strchr(s, '/');

	return e != NULL ? (size_t)(e - s) : strlen(s);
}

static int
is_capture(const char *seg, size_t len)
{
	return len > 2 && seg[0] == '{' && seg[len - 1] == '}';
}

/*
 * Matches one pattern segment by segment; fills m's captures on success.
 * The captured values are copied into m->buf so they are NUL-terminated.
 */
static int
match_pattern(const char *pattern, const char *path, struct route_match *m)
{
	const char *p = pattern, *q = path;
	size_t plen, qlen, ncaps = 0, off = 0;

	if (*p != '/' || *q != '/')
		return 0;
	for (;;) {
		p++;
		q++;
		plen = seglen(p);
		qlen = seglen(q);
		if (is_capture(p, plen)) {
			char name[sizeof(m->caps[0].name)];

			if (plen - 2 >= sizeof(name) || ncaps == ROUTE_CAPS_MAX)
				return 0;
			memcpy(name, p + 1, plen - 2);
			name[plen - 2] = '\0';
			if (!route_cap_valid(name, q, qlen) ||
			    off + qlen + 1 > sizeof(m->buf))
				return 0;
			memcpy(m->buf + off, q, qlen);
			m->buf[off + qlen] = '\0';
			memcpy(m->caps[ncaps].name, name, plen - 1);
			m->caps[ncaps].value = m->buf + off;
			off += qlen + 1;
			ncaps++;
		} else if (plen != qlen || memcmp(p, q, plen) != 0) {
			return 0;
		}
		p += plen;
		q += qlen;
		/* Both must end together: no prefix matching. */
		if (*p == '\0' || *q == '\0') {
			if (*p != *q)
				return 0;
			break;
		}
	}
	m->ncaps = ncaps;
	return 1;
}

int
route_match(const struct route *tab, size_t n, const char *path,
	    unsigned method, struct route_match *m, unsigned *allow)
{
	unsigned want = method, seen = 0;
	size_t i;

	/* HEAD is GET without the body. */
	if (method == REQ_M_HEAD)
		want = REQ_M_GET | REQ_M_HEAD;
	for (i = 0; i < n; i++) {
		if (!match_pattern(tab[i].pattern, path, m))
			continue;
		if ((tab[i].methods & want) != 0) {
			m->route = &tab[i];
			return 0;
		}
		seen |= tab[i].methods;
	}
	if (seen == 0)
		return EST_E_NOTFOUND;
	if (seen & REQ_M_GET)
		seen |= REQ_M_HEAD;
	*allow = seen | REQ_M_OPTIONS;
	return EST_E_METHOD;
}

const char *
route_cap(const struct route_match *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->ncaps; i++)
		if (strcmp(m->caps[i].name, name) == 0)
			return m->caps[i].value;
	return NULL;
}

int
route_table_check(const struct route *tab, size_t n)
{
	const char *p;
	size_t i, len, ncaps, nsegs;
	char name[32];

	for (i = 0; i < n; i++) {
		if ((tab[i].methods & REQ_M_ALL) == 0 ||
		    (tab[i].methods & ~REQ_M_ALL) != 0 ||
		    tab[i].handler == NULL || tab[i].pattern == NULL ||
		    tab[i].pattern[0] != '/')
			return EST_E_CONFIG;
		ncaps = nsegs = 0;
		for (p = tab[i].pattern + 1;; p += len + 1) {
			len = seglen(p);
			if (len == 0 || ++nsegs > ROUTE_SEGS_MAX)
				return EST_E_CONFIG;
			if (is_capture(p, len)) {
				if (len - 2 >= sizeof(name) ||
				    ++ncaps > ROUTE_CAPS_MAX)
					return EST_E_CONFIG;
				memcpy(name, p + 1, len - 2);
				name[len - 2] = '\0';
				/* An unknown name has no validator. */
				if (cap_index(name) < 0)
					return EST_E_CONFIG;
			} else if (memchr(p, '{', len) != NULL ||
				   memchr(p, '}', len) != NULL) {
				return EST_E_CONFIG;
			}
			if (p[len] == '\0')
				break;
		}
	}
	return 0;
}
