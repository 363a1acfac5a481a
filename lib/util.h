/* Small helpers shared by every program: byte order, hex, memory hygiene. */
#ifndef ESTUARY_UTIL_H
#define ESTUARY_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void
put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Wipes then frees; freezero(NULL, n) is a no-op. */
void freezero(void *p, size_t len);
/* Wipes a C string in place and frees it. */
void freezero_str(char *s);

/* Lower-case hex of len bytes into out (2 * len + 1 bytes). */
void hex_encode(const uint8_t *p, size_t len, char *out);
/* Decodes exactly outlen bytes from a hex string of 2 * outlen digits. */
int hex_decode(const char *hex, uint8_t *out, size_t outlen);

/* Constant-time comparison of two equal-length byte strings: 0 when equal. */
int timingsafe_memcmp(const void *a, const void *b, size_t len);

/* Fills p with len bytes from the OS random source; 0 or EST_E_INTERNAL. */
int random_bytes(void *p, size_t len);

#endif
