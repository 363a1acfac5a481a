#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "err.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
b64_is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
b64_decode(const char *in, size_t len, int flags, uint8_t **out, size_t *outlen)
{
	uint8_t *buf = NULL;
	uint32_t acc = 0;
	size_t i, n = 0, ngroup = 0, npad = 0, wantpad = 0;
	int done = 0, v, r = EST_E_INVAL;

	/* Three bytes out for every four characters in, plus a NUL. */
	if ((buf = malloc(len / 4 * 3 + 4)) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if ((flags & B64_SKIP_WS) && b64_is_ws(c))
			continue;
		/* Padding ends the data: nothing may follow it. */
		if (done)
			goto out;
		if (c == '=') {
			/* Padding completes a group of two or three. */
			if (wantpad == 0) {
				if (ngroup < 2)
					goto out;
				wantpad = 4 - ngroup;
			}
			if (++npad == wantpad)
				done = 1;
			continue;
		}
		if (wantpad != 0 || (v = b64_value(c)) < 0)
			goto out;
		acc = (acc << 6) | (uint32_t)v;
		if (++ngroup == 4) {
			buf[n++] = (uint8_t)(acc >> 16);
			buf[n++] = (uint8_t)(acc >> 8);
			buf[n++] = (uint8_t)acc;
			acc = 0;
			ngroup = 0;
		}
	}
	if (wantpad != 0 && !done)
		goto out;
	if (!done && ngroup != 0)
		goto out;
	if (ngroup == 2) {
		/* Two characters carry one byte; the low 4 bits must be 0. */
		if ((acc & 0x0f) != 0)
			goto out;
		buf[n++] = (uint8_t)(acc >> 4);
	} else if (ngroup == 3) {
		/* Three characters carry two bytes; the low 2 bits are 0. */
		if ((acc & 0x03) != 0)
			goto out;
		buf[n++] = (uint8_t)(acc >> 10);
		buf[n++] = (uint8_t)(acc >> 2);
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	buf = NULL;
	r = 0;
out:
	free(buf);
	return r;
}

int
b64_encode(const uint8_t *p, size_t len, size_t linelen, char **out,
	   size_t *outlen)
{
	size_t enclen, nlines, total, i, col = 0, n = 0;
	uint32_t acc;
	char *s;

	if (linelen % 4 != 0)
		return EST_E_INVAL;
	if (len > (SIZE_MAX - 8) / 2)
		return EST_E_TOOBIG;
	enclen = (len + 2) / 3 * 4;
	nlines = linelen == 0 ? 1 : (enclen + linelen - 1) / linelen;
	if (nlines == 0)
		nlines = 1;
	total = enclen + nlines + 1;
	if ((s = malloc(total)) == NULL)
		return EST_E_NOMEM;
	for (i = 0; i < len; i += 3) {
		size_t k, rem = len - i < 3 ? len - i : 3;
		char quad[4];

		acc = (uint32_t)p[i] << 16;
		if (rem > 1)
			acc |= (uint32_t)p[i + 1] << 8;
		if (rem > 2)
			acc |= p[i + 2];
		quad[0] = b64_alphabet[(acc >> 18) & 0x3f];
		quad[1] = b64_alphabet[(acc >> 12) & 0x3f];
		quad[2] = rem > 1 ? b64_alphabet[(acc >> 6) & 0x3f] : '=';
		quad[3] = rem > 2 ? b64_alphabet[acc & 0x3f] : '=';
		for (k = 0; k < 4; k++) {
			s[n++] = quad[k];
			if (linelen != 0 && ++col == linelen) {
				s[n++] = '\n';
				col = 0;
			}
		}
	}
	if (n == 0 || s[n - 1] != '\n')
		s[n++] = '\n';
	s[n] = '\0';
	*out = s;
	*outlen = n;
	return 0;
}
