#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <errno.h>

#include "err.h"
#include "util.h"

void
freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	explicit_bzero(p, len);
	free(p);
}

void
freezero_str(char *s)
{
	if (s == NULL)
		return;
	freezero(s, strlen(s));
}

void
hex_encode(const uint8_t *p, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int
hex_val(char c)
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
hex_decode(const char *hex, uint8_t *out, size_t outlen)
{
	size_t i;
	int hi, lo;

	if (strlen(hex) != 2 * outlen)
		return EST_E_INVAL;
	for (i = 0; i < outlen; i++) {
		if ((hi = hex_val(hex[2 * i])) < 0 ||
		    (lo = hex_val(hex[2 * i + 1])) < 0)
			return EST_E_INVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

int
timingsafe_memcmp(const void *a, const void *b, size_t len)
{
	const volatile uint8_t *pa = a, *pb = b;
	uint8_t acc = 0;
	size_t i;

	for (i = 0; i < len; i++)
		acc |= pa[i] ^ pb[i];
	return acc != 0;
}

int
random_bytes(void *p, size_t len)
{
	uint8_t *d = p;
	ssize_t n;

	while (len > 0) {
		n = getrandom(d, len, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return EST_E_INTERNAL;
		}
		d += n;
		len -= (size_t)n;
	}
	return 0;
}
