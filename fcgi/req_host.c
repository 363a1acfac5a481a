/*
 * The Host of a request (HTTP_HOST, else SERVER_NAME).  Issue 6 routes EST
 * servers by it, and it may be echoed into URLs, so only a DNS name or an IP
 * literal with an optional port is accepted: anything else (CR, LF, spaces,
 * '@', '/', a zone id, an empty label) is refused as a possible header
 * injection or routing trick.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "reqparse.h"

#define HOST_NAME_MAX_LEN 253
#define HOST_LABEL_MAX 63

static int
parse_port(const char *s, unsigned *port)
{
	unsigned v = 0;
	size_t i;

	/* 1 to 65535, digits only, no sign and no leading zero. */
	if (s[0] < '1' || s[0] > '9')
		return EST_E_INVAL;
	for (i = 0; s[i] != '\0'; i++) {
		if (!isdigit((unsigned char)s[i]) || i >= 5)
			return EST_E_INVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return EST_E_INVAL;
	*port = v;
	return 0;
}

/* A DNS name of letters, digits and hyphens; lower-cased into out. */
static int
check_name(const char *s, size_t len, char *out, int *is_ip)
{
	size_t i, lablen = 0, labstart = 0;
	int alldigits = 1;
	struct in_addr a4;

	/* One trailing dot (a fully qualified name) is dropped. */
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > HOST_NAME_MAX_LEN)
		return EST_E_INVAL;
	for (i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)s[i] : '.';

		if (c == '.') {
			if (lablen == 0 || lablen > HOST_LABEL_MAX ||
			    s[labstart] == '-' || s[i - 1] == '-')
				return EST_E_INVAL;
			/* Only the last label decides whether it is IPv4. */
			if (i < len)
				alldigits = 1;
			lablen = 0;
			labstart = i + 1;
			if (i < len)
				out[i] = '.';
			continue;
		}
		if (!isalnum(c) && c != '-')
			return EST_E_INVAL;
		if (!isdigit(c))
			alldigits = 0;
		out[i] = (char)tolower(c);
		lablen++;
	}
	out[len] = '\0';
	/*
	 * A top-level label is never all digits (RFC 3696 section 2), so
	 * such a name must be a dotted-quad IPv4 address.
	 */
	*is_ip = 0;
	if (alldigits) {
		if (inet_pton(AF_INET, out, &a4) != 1)
			return EST_E_INVAL;
		*is_ip = 1;
	}
	return 0;
}

int
reqp_host(const char *v, char **host, unsigned *port, int *is_ip)
{
	char buf[REQ_HOST_MAX + 1], lit[INET6_ADDRSTRLEN];
	const char *colon, *end;
	struct in6_addr a6;
	unsigned p = 0;
	size_t len = strlen(v);
	int ip = 0, r;

	if (len == 0 || len > REQ_HOST_MAX)
		return EST_E_INVAL;
	if (v[0] == '[') {
		/* An IPv6 literal (RFC 3986 IP-literal, without IPvFuture). */
		if ((end = strchr(v, ']')) == NULL ||
		    (size_t)(end - v - 1) >= sizeof(lit))
			return EST_E_INVAL;
		memcpy(lit, v + 1, (size_t)(end - v - 1));
		lit[end - v - 1] = '\0';
		if (inet_pton(AF_INET6, lit, &a6) != 1 ||
		    inet_ntop(AF_INET6, &a6, buf, sizeof(buf)) == NULL)
			return EST_E_INVAL;
		if (end[1] == ':') {
			if ((r = parse_port(end + 2, &p)) != 0)
				return r;
		} else if (end[1] != '\0') {
			return EST_E_INVAL;
		}
		ip = 1;
	} else {
		colon = strchr(v, ':');
		if (colon != NULL && (r = parse_port(colon + 1, &p)) != 0)
			return r;
		if ((r = check_name(v,
				    colon != NULL ? (size_t)(colon - v) : len,
				    buf, &ip)) != 0)
			return r;
	}
	if ((*host = strdup(buf)) == NULL)
		return EST_E_NOMEM;
	*port = p;
	*is_ip = ip;
	return 0;
}
