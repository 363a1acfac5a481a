/*
 * Unit tests of IP allow list entries (lib/ipallow.c): every form in both
 * families with its exact range and canonical text, the strictness rules
 * (leading zeros, prefix bounds, reversed ranges, non-contiguous masks,
 * host bits, junk), and matching of client addresses including
 * IPv4-mapped IPv6 ones.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "err.h"
#include "harness.h"
#include "ipallow.h"
#include "util.h"

/* s must parse as form with canonical text canon and the given range. */
static void
expect_ok(const char *s, enum ipallow_form form, const char *canon,
	  const char *start, const char *end)
{
	struct ipallow_range r;
	enum ipallow_form f = 0;
	char text[IPALLOW_TEXT_SIZE];
	const char *why = NULL;
	uint8_t a[16];
	int fam, rc;

	memset(&r, 0, sizeof(r));
	rc = ipallow_parse(s, &r, &f, text, &why);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc != 0) {
		fprintf(stderr, "refused \"%s\": %s\n", s, why);
		return;
	}
	CU_ASSERT_EQUAL(f, form);
	CU_ASSERT_STRING_EQUAL(text, canon);
	if (strcmp(text, canon) != 0)
		fprintf(stderr, "\"%s\": canon %s, want %s\n", s, text, canon);
	fam = strchr(start, ':') ? AF_INET6 : AF_INET;
	CU_ASSERT_EQUAL(r.len, fam == AF_INET ? 4 : 16);
	CU_ASSERT_EQUAL_FATAL(inet_pton(fam, start, a), 1);
	CU_ASSERT(memcmp(r.start, a, r.len) == 0);
	CU_ASSERT_EQUAL_FATAL(inet_pton(fam, end, a), 1);
	CU_ASSERT(memcmp(r.end, a, r.len) == 0);

	/* The canonical text reads back as itself, with the same range. */
	{
		struct ipallow_range r2;
		char text2[IPALLOW_TEXT_SIZE];

		CU_ASSERT_EQUAL(ipallow_parse(text, &r2, NULL, text2, NULL), 0);
		CU_ASSERT_STRING_EQUAL(text2, text);
		CU_ASSERT(r2.len == r.len &&
			  memcmp(r2.start, r.start, r.len) == 0 &&
			  memcmp(r2.end, r.end, r.len) == 0);
	}
}

/* s must be refused with a reason; nothing is written to *r. */
static void
expect_bad(const char *s)
{
	struct ipallow_range r;
	const char *why = NULL;
	int rc;

	memset(&r, 0xa5, sizeof(r));
	rc = ipallow_parse(s, &r, NULL, NULL, &why);
	CU_ASSERT_EQUAL(rc, EST_E_UNPROCESSABLE);
	if (rc != EST_E_UNPROCESSABLE)
		fprintf(stderr, "accepted \"%s\"\n", s);
	CU_ASSERT_PTR_NOT_NULL(why);
	CU_ASSERT_EQUAL(r.len, 0xa5);
}

static void
test_single(void)
{
	expect_ok("192.168.0.12", IPALLOW_SINGLE, "192.168.0.12",
		  "192.168.0.12", "192.168.0.12");
	expect_ok("0.0.0.0", IPALLOW_SINGLE, "0.0.0.0", "0.0.0.0", "0.0.0.0");
	expect_ok("255.255.255.255", IPALLOW_SINGLE, "255.255.255.255",
		  "255.255.255.255", "255.255.255.255");
	expect_ok("2001:DB8:0:0:0:0:0:1", IPALLOW_SINGLE, "2001:db8::1",
		  "2001:db8::1", "2001:db8::1");
	expect_ok("::1", IPALLOW_SINGLE, "::1", "::1", "::1");
	expect_ok("::", IPALLOW_SINGLE, "::", "::", "::");
	/* Hex groups may have leading zeros; IPv4 components may not. */
	expect_ok("2001:0db8:0000::0001", IPALLOW_SINGLE, "2001:db8::1",
		  "2001:db8::1", "2001:db8::1");
	expect_ok("64:ff9b::192.0.2.1", IPALLOW_SINGLE, "64:ff9b::c000:201",
		  "64:ff9b::c000:201", "64:ff9b::c000:201");
}

static void
test_cidr(void)
{
	expect_ok("10.0.0.0/8", IPALLOW_CIDR, "10.0.0.0/8", "10.0.0.0",
		  "10.255.255.255");
	expect_ok("192.168.1.0/24", IPALLOW_CIDR, "192.168.1.0/24",
		  "192.168.1.0", "192.168.1.255");
	expect_ok("0.0.0.0/0", IPALLOW_CIDR, "0.0.0.0/0", "0.0.0.0",
		  "255.255.255.255");
	expect_ok("10.1.2.3/32", IPALLOW_CIDR, "10.1.2.3/32", "10.1.2.3",
		  "10.1.2.3");
	expect_ok("172.16.0.0/12", IPALLOW_CIDR, "172.16.0.0/12", "172.16.0.0",
		  "172.31.255.255");
	expect_ok("10.0.0.128/25", IPALLOW_CIDR, "10.0.0.128/25", "10.0.0.128",
		  "10.0.0.255");
	expect_ok("2001:db8::/32", IPALLOW_CIDR, "2001:db8::/32",
		  "2001:db8::", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
	expect_ok("2001:DB8:0::/48", IPALLOW_CIDR, "2001:db8::/48",
		  "2001:db8::", "2001:db8:0:ffff:ffff:ffff:ffff:ffff");
	expect_ok("::/0", IPALLOW_CIDR, "::/0",
		  "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	expect_ok("fe80::/10", IPALLOW_CIDR, "fe80::/10",
		  "fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	expect_ok("2001:db8::1/128", IPALLOW_CIDR, "2001:db8::1/128",
		  "2001:db8::1", "2001:db8::1");
}

static void
test_range(void)
{
	expect_ok("192.168.1.1-192.168.1.10", IPALLOW_RANGE,
		  "192.168.1.1-192.168.1.10", "192.168.1.1", "192.168.1.10");
	expect_ok("10.0.0.5-10.0.0.5", IPALLOW_RANGE, "10.0.0.5-10.0.0.5",
		  "10.0.0.5", "10.0.0.5");
	expect_ok("9.255.255.255-10.0.0.0", IPALLOW_RANGE,
		  "9.255.255.255-10.0.0.0", "9.255.255.255", "10.0.0.0");
	expect_ok("2001:db8::1-2001:DB8::FF", IPALLOW_RANGE,
		  "2001:db8::1-2001:db8::ff", "2001:db8::1", "2001:db8::ff");
}

static void
test_netmask(void)
{
	expect_ok("192.168.1.16/255.255.255.240", IPALLOW_NETMASK,
		  "192.168.1.16/255.255.255.240", "192.168.1.16",
		  "192.168.1.31");
	expect_ok("10.0.0.0/255.0.0.0", IPALLOW_NETMASK, "10.0.0.0/255.0.0.0",
		  "10.0.0.0", "10.255.255.255");
	expect_ok("0.0.0.0/0.0.0.0", IPALLOW_NETMASK, "0.0.0.0/0.0.0.0",
		  "0.0.0.0", "255.255.255.255");
	expect_ok("10.1.2.3/255.255.255.255", IPALLOW_NETMASK,
		  "10.1.2.3/255.255.255.255", "10.1.2.3", "10.1.2.3");
	/* Non-contiguous masks. */
	expect_bad("10.0.0.0/255.0.255.0");
	expect_bad("10.0.0.0/0.255.255.255");
	expect_bad("10.0.0.0/255.255.255.253");
	/* Host bits outside the mask. */
	expect_bad("192.168.1.17/255.255.255.240");
	/* IPv6 netmask form, mixed families. */
	expect_bad("2001:db8::/ffff:ffff::");
	expect_bad("10.0.0.0/ffff::");
	expect_bad("10.0.0.0/255.0.0");
}

static void
test_strict(void)
{
	/* Leading zeros in IPv4, alone or as an IPv6 tail. */
	expect_bad("010.0.0.1");
	expect_bad("10.0.0.01");
	expect_bad("10.00.0.1");
	expect_bad("10.0.0.0/08");
	expect_bad("::ffff:010.0.0.1");
	expect_bad("64:ff9b::192.0.02.1");
	/* Prefix bounds and syntax. */
	expect_bad("10.0.0.0/33");
	expect_bad("10.0.0.0/");
	expect_bad("10.0.0.0/-1");
	expect_bad("10.0.0.0/+8");
	expect_bad("10.0.0.0/8/8");
	expect_bad("2001:db8::/129");
	expect_bad("2001:db8::/1280");
	expect_bad("10.0.0.0/99999999999999999999");
	/* Host bits set after the network. */
	expect_bad("10.0.0.1/8");
	expect_bad("2001:db8::1/32");
	/* Ranges. */
	expect_bad("10.0.0.10-10.0.0.9");
	expect_bad("10.0.0.1-2001:db8::1");
	expect_bad("10.0.0.1-");
	expect_bad("-10.0.0.1");
	expect_bad("10.0.0.1-10.0.0.2-10.0.0.3");
	expect_bad("10.0.0.1/8-10.0.0.2");
	expect_bad("2001:db8::ff-2001:db8::1");
	/* Junk, shorthand and things inet_aton would take. */
	expect_bad("");
	expect_bad(" 10.0.0.1");
	expect_bad("10.0.0.1 ");
	expect_bad("10.0.0.1\n");
	expect_bad("10.0.0");
	expect_bad("10.0.0.256");
	expect_bad("10.0.0.0.1");
	expect_bad("0x0a.0.0.1");
	expect_bad("167772161");
	expect_bad("10..0.1");
	expect_bad("fe80::1%eth0");
	expect_bad("[2001:db8::1]");
	expect_bad("2001:db8:::1");
	expect_bad("2001:db8::1::2");
	expect_bad("1:2:3:4:5:6:7:8:9");
	expect_bad("example.com");
	expect_bad("10.0.0.1,10.0.0.2");
	/* IPv4-mapped addresses are written as IPv4. */
	expect_bad("::ffff:10.0.0.1");
	expect_bad("::ffff:10.0.0.0-::ffff:10.0.0.9");
	/* Longer than the column. */
	{
		char big[IPALLOW_ENTRY_MAX + 2];

		memset(big, '1', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		expect_bad(big);
	}
	CU_ASSERT_EQUAL(ipallow_parse(NULL, NULL, NULL, NULL, NULL),
			EST_E_INVAL);
}

static void
test_match(void)
{
	struct ipallow_range list[4];
	const char *entries[] = {"192.168.1.0/24", "10.0.0.5-10.0.0.9",
				 "2001:db8::/32",
				 "172.16.0.16/255.255.255.240"};
	size_t i;

	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL_FATAL(
			ipallow_parse(entries[i], &list[i], NULL, NULL, NULL),
			0);

	/* Empty list: no restriction, even for junk. */
	CU_ASSERT_EQUAL(ipallow_match(NULL, 0, "203.0.113.1"), 1);
	CU_ASSERT_EQUAL(ipallow_match(NULL, 0, "junk"), 1);

	CU_ASSERT_EQUAL(ipallow_match(list, 4, "192.168.1.0"), 1);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "192.168.1.255"), 1);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "192.168.2.0"), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "192.168.0.255"), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "10.0.0.4"), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "10.0.0.5"), 1);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "10.0.0.9"), 1);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "10.0.0.10"), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "172.16.0.15"), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "172.16.0.16"), 1);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "172.16.0.31"), 1);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "172.16.0.32"), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "2001:db8::1"), 1);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "2001:db8:ffff::1"), 1);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "2001:db9::1"), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "::1"), 0);

	/* IPv4-mapped client addresses match IPv4 entries, either case. */
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "::ffff:192.168.1.7"), 1);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "::FFFF:10.0.0.7"), 1);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "::ffff:c0a8:107"), 1);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "::ffff:192.168.2.7"), 0);
	/* An IPv4 address never matches an IPv6 entry or vice versa. */
	CU_ASSERT_EQUAL(ipallow_match(&list[2], 1, "32.1.13.184"), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 2, "::c0a8:107"), 0);

	/* Unparsable client addresses are refused by a non-empty list. */
	CU_ASSERT_EQUAL(ipallow_match(list, 4, NULL), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, ""), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "192.168.1.7 "), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "192.168.001.7"), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "fe80::1%eth0"), 0);
	CU_ASSERT_EQUAL(ipallow_match(list, 4, "192.168.1.0/24"), 0);
}

static void
test_addr(void)
{
	uint8_t a[16];
	uint8_t len = 0;
	static const uint8_t v4[4] = {10, 1, 2, 3};

	CU_ASSERT_EQUAL(ipallow_addr("10.1.2.3", a, &len), 0);
	CU_ASSERT_EQUAL(len, 4);
	CU_ASSERT(memcmp(a, v4, 4) == 0);
	len = 0;
	CU_ASSERT_EQUAL(ipallow_addr("::ffff:10.1.2.3", a, &len), 0);
	CU_ASSERT_EQUAL(len, 4);
	CU_ASSERT(memcmp(a, v4, 4) == 0);
	CU_ASSERT_EQUAL(ipallow_addr("::1", a, &len), 0);
	CU_ASSERT_EQUAL(len, 16);
	CU_ASSERT_EQUAL(a[15], 1);
	len = 7;
	CU_ASSERT_EQUAL(ipallow_addr("10.1.2", a, &len), EST_E_INVAL);
	CU_ASSERT_EQUAL(len, 7);
	CU_ASSERT_EQUAL(ipallow_addr(NULL, a, &len), EST_E_INVAL);
}

static void
test_contains_edges(void)
{
	struct ipallow_range r;
	uint8_t lo[4] = {0, 0, 0, 0}, hi[4] = {255, 255, 255, 255};

	CU_ASSERT_EQUAL_FATAL(ipallow_parse("0.0.0.0/0", &r, NULL, NULL, NULL),
			      0);
	CU_ASSERT_EQUAL(ipallow_range_contains(&r, lo, 4), 1);
	CU_ASSERT_EQUAL(ipallow_range_contains(&r, hi, 4), 1);
	CU_ASSERT_EQUAL(ipallow_range_contains(&r, hi, 16), 0);
	CU_ASSERT_EQUAL(ipallow_range_contains(NULL, hi, 4), 0);
	CU_ASSERT_EQUAL(ipallow_match(&r, 1, "255.255.255.255"), 1);
	CU_ASSERT_EQUAL(ipallow_match(&r, 1, "::"), 0);
}

static CU_TestInfo ipallow_tests[] = {
	{"single addresses, both families", test_single},
	{"CIDR ranges and canonical text", test_cidr},
	{"a-b ranges", test_range},
	{"address/netmask, contiguous only", test_netmask},
	{"strict parsing refusals", test_strict},
	{"matching client addresses", test_match},
	{"client address parsing", test_addr},
	{"edges of the address space", test_contains_edges},
	CU_TEST_INFO_NULL,
};

int
test_suites(void)
{
	return test_add_suite("ipallow", NULL, NULL, ipallow_tests);
}
