/*
 * REQUEST_URI: the path is percent-decoded once and must then be printable
 * ASCII without dot-segments, so that routing compares exactly what the web
 * server resolved; the query becomes a small table of parameters.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "reqparse.h"

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
reqp_unescape(const char *s, size_t len, int plus_space, char **out,
	      size_t *outlen)
{
	size_t i, n = 0;
	char *d;
	int hi, lo;

	if ((d = malloc(len + 1)) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < len; i++) {
		if (s[i] == '%') {
			/* Two hex digits must follow; %00 never decodes. */
			if (len - i < 3)
				goto bad;
			if ((hi = hexval((unsigned char)s[i + 1])) < 0 ||
			    (lo = hexval((unsigned char)s[i + 2])) < 0 ||
			    (hi == 0 && lo == 0))
				goto bad;
			d[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (plus_space && s[i] == '+') {
			d[n++] = ' ';
		} else {
			d[n++] = s[i];
		}
	}
	d[n] = '\0';
	*out = d;
	*outlen = n;
	return 0;
bad:
	free(d);
	return EST_E_INVAL;
}

int
reqp_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, n;
	uint32_t cp, min;

	while (i < len) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		if ((p[i] & 0xe0) == 0xc0) {
			n = 1;
			cp = p[i] & 0x1f;
			min = 0x80;
		} else if ((p[i] & 0xf0) == 0xe0) {
			n = 2;
			cp = p[i] & 0x0f;
			min = 0x800;
		} else if ((p[i] & 0xf8) == 0xf0) {
			n = 3;
			cp = p[i] & 0x07;
			min = 0x10000;
		} else {
			return 0;
		}
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		/* Overlong forms, surrogates and values past Unicode. */
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += n + 1;
	}
	return 1;
}

/* RFC 3986 pchar without pct-encoded, plus '/': what a raw path may hold. */
static int
is_path_char(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("-._~!$&'()*+,;=:@/%", c));
}

/* A query may also hold '?' (RFC 3986 section 3.4). */
static int
is_query_char(unsigned char c)
{
	return is_path_char(c) || c == '?';
}

/*
 * Percent-decodes a path, except that an encoded '/' stays encoded
 * ("%2F"): decoded, it would change the segments the router sees, and a
 * segment may need to hold one (an OCSP request in base64, RFC 6960 A.1).
 * An encoded '%' stays encoded too ("%25"), so that a path keeps one
 * spelling: in the result a '%' always starts one of these two escapes,
 * upper case, which only a capture's own decoder reads.
 */
static int
path_unescape(const char *s, size_t len, char **out, size_t *outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, n = 0;
	char *d;
	int hi, lo, c;

	if ((d = malloc(len + 1)) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			d[n++] = s[i];
			continue;
		}
		if (len - i < 3 || (hi = hexval((unsigned char)s[i + 1])) < 0 ||
		    (lo = hexval((unsigned char)s[i + 2])) < 0 ||
		    (hi == 0 && lo == 0)) {
			free(d);
			return EST_E_INVAL;
		}
		c = hi << 4 | lo;
		if (c == '/' || c == '%') {
			d[n++] = '%';
			d[n++] = hex[hi];
			d[n++] = hex[lo];
		} else
			d[n++] = (char)c;
		i += 2;
	}
	d[n] = '\0';
	*out = d;
	*outlen = n;
	return 0;
}

static int
decode_path(const char *raw, size_t len, char **out)
{
	char *path = NULL, *seg, *end;
	size_t i, n, seglen;
	int r;

	if (len == 0 || raw[0] != '/')
		return EST_E_INVAL;
	for (i = 0; i < len; i++)
		if (!is_path_char((unsigned char)raw[i]))
			return EST_E_INVAL;
	if ((r = path_unescape(raw, len, &path, &n)) != 0)
		return r;
	if (n > REQ_PATH_MAX)
		goto bad;
	for (i = 0; i < n; i++)
		if (path[i] < 0x21 || path[i] > 0x7e)
			goto bad;
	/* No "." or ".." segment, whether it was written plain or encoded. */
	for (seg = path + 1;; seg = end + 1) {
		if ((end = strchr(seg, '/')) == NULL)
			end = seg + strlen(seg);
		seglen = (size_t)(end - seg);
		if ((seglen == 1 && seg[0] == '.') ||
		    (seglen == 2 && seg[0] == '.' && seg[1] == '.'))
			goto bad;
		if (*end == '\0')
			break;
	}
	*out = path;
	return 0;
bad:
	free(path);
	return EST_E_INVAL;
}

static int
valid_qname(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
		    s[i] != '-' && s[i] != '.')
			return 0;
	return i > 0 && i <= REQ_QNAME_MAX;
}

static int
valid_qvalue(const char *s, size_t len)
{
	size_t i;

	if (len > REQ_QVALUE_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return reqp_utf8_valid(s, len);
}

static void
free_query(struct req_param *q, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(q[i].name);
		free(q[i].value);
		q[i].name = q[i].value = NULL;
	}
}

/*
 * name=value pairs separated by '&'.  Empty pairs are skipped; a name
 * without '=' has an empty value; a repeated name is refused, so that no
 * two parts of the program can disagree about which one counts.
 */
static int
decode_query(const char *raw, size_t len, struct req_param *q, size_t *nq)
{
	const char *p = raw, *end = raw + len, *amp, *eq;
	char *name = NULL, *value = NULL;
	size_t n = 0, i, nlen, vlen;
	int r;

	for (i = 0; i < len; i++)
		if (!is_query_char((unsigned char)raw[i]))
			return EST_E_INVAL;
	while (p < end) {
		if ((amp = memchr(p, '&', (size_t)(end - p))) == NULL)
			amp = end;
		if (amp == p) {
			p++;
			continue;
		}
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			eq = amp;
		if (n == REQ_QUERY_MAX) {
			r = EST_E_INVAL;
			goto out;
		}
		if ((r = reqp_unescape(p, (size_t)(eq - p), 1, &name, &nlen)) !=
		    0)
			goto out;
		if ((r = reqp_unescape(eq < amp ? eq + 1 : amp,
				       eq < amp ? (size_t)(amp - eq - 1) : 0, 1,
				       &value, &vlen)) != 0)
			goto out;
		if (!valid_qname(name) || !valid_qvalue(value, vlen)) {
			r = EST_E_INVAL;
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (strcmp(q[i].name, name) == 0) {
				r = EST_E_INVAL;
				goto out;
			}
		}
		q[n].name = name;
		q[n].value = value;
		name = value = NULL;
		n++;
		p = amp < end ? amp + 1 : end;
	}
	*nq = n;
	return 0;
out:
	free(name);
	free(value);
	free_query(q, n);
	return r;
}

int
reqp_uri(const char *raw, char **path, struct req_param *query, size_t *nquery)
{
	const char *qmark;
	char *p = NULL;
	size_t len = strlen(raw), plen, nq = 0;
	int r;

	if (len > REQ_URI_MAX)
		return EST_E_INVAL;
	qmark = strchr(raw, '?');
	plen = qmark != NULL ? (size_t)(qmark - raw) : len;
	if ((r = decode_path(raw, plen, &p)) != 0)
		return r;
	if (qmark != NULL &&
	    (r = decode_query(qmark + 1, len - plen - 1, query, &nq)) != 0) {
		free(p);
		return r;
	}
	*path = p;
	*nquery = nq;
	return 0;
}
