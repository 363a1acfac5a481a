/*
 * IP allow lists of EST servers (guide §2.3.2 "IP White List"): what an
 * entry may say, its canonical text, the address range it stands for, and
 * whether a client address falls in a list.
 *
 * An entry is one of
 *	192.168.0.12			a single address
 *	192.168.1.0/24, 2001:db8::/32	CIDR (host bits must be zero)
 *	192.168.1.1-192.168.1.10	a range, start <= end, one family
 *	192.168.1.16/255.255.255.240	address/netmask (IPv4 only; the mask
 *					must be contiguous, host bits zero)
 * in IPv4 or IPv6, without whitespace, zone ids ("%eth0") or brackets.
 * Addresses are read with inet_pton() and, for IPv4, refused when a
 * component has a leading zero ("010.0.0.1" is octal to some readers and
 * decimal to others).  A prefix is decimal without sign or leading zero
 * and at most the family's width.  An IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is refused in an entry: write it as IPv4, which is what
 * client addresses in that form are matched against.
 *
 * A range is stored as [start, end] in network byte order, 4 bytes for
 * IPv4 and 16 for IPv6: the start_addr and end_addr columns of
 * est_server_ip_allow (db/005_est.sql).
 */
#ifndef ESTUARY_IPALLOW_H
#define ESTUARY_IPALLOW_H

#include <stddef.h>
#include <stdint.h>

/* est_server_ip_allow.entry, in bytes (ASCII), NUL excluded. */
#define IPALLOW_ENTRY_MAX 100
/* Room for any canonical entry text with its NUL. */
#define IPALLOW_TEXT_SIZE (IPALLOW_ENTRY_MAX + 1)

enum ipallow_form {
	IPALLOW_SINGLE = 1,
	IPALLOW_CIDR,
	IPALLOW_RANGE,
	IPALLOW_NETMASK,
};

struct ipallow_range {
	uint8_t len; /* 4 (IPv4) or 16 (IPv6) */
	uint8_t start[16];
	uint8_t end[16];
};

/*
 * Parses entry s (NUL-terminated).  On success sets *r and, when canon is
 * not NULL, writes the canonical text of the entry into canon (room for
 * IPALLOW_TEXT_SIZE bytes): the same form, each address as inet_ntop()
 * writes it (IPv6 lower case, longest zero run compressed), so that
 * "2001:DB8:0::/32" reads back as "2001:db8::/32".  *form may be NULL.
 * Returns 0, or EST_E_UNPROCESSABLE with *why (when not NULL) set to a
 * short static reason such as "prefix longer than the address".
 */
int ipallow_parse(const char *s, struct ipallow_range *r,
		  enum ipallow_form *form, char *canon, const char **why);

/*
 * A client address (REMOTE_ADDR text) as 4 or 16 bytes in a[16], *len set.
 * An IPv4-mapped IPv6 address gives its 4 IPv4 bytes.  EST_E_INVAL for
 * anything that is not an address.
 */
int ipallow_addr(const char *s, uint8_t a[16], uint8_t *len);

/* Whether address a of len bytes lies in r (families must agree): 1 or 0. */
int ipallow_range_contains(const struct ipallow_range *r, const uint8_t *a,
			   uint8_t len);

/*
 * Whether client address addr may connect given the n ranges of list:
 * 1 when n is 0 (no restriction) or some range contains it, else 0.  An
 * address that does not parse is never allowed by a non-empty list.
 */
int ipallow_match(const struct ipallow_range *list, size_t n, const char *addr);

#endif
