#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "util.h"

struct buf {
	uint8_t *d;
	size_t off;  /* read offset */
	size_t size; /* bytes written, including consumed ones */
	size_t alloc;
	size_t max;
	int readonly;
};

struct buf *
buf_new(size_t max)
{
	struct buf *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->max = (max == 0 || max > BUF_SIZE_MAX) ? BUF_SIZE_MAX : max;
	return b;
}

struct buf *
buf_from(const void *p, size_t len)
{
	struct buf *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	/* The cast is safe: a read-only buffer never writes through d. */
	b->d = (uint8_t *)(uintptr_t)p;
	b->size = b->alloc = b->max = len;
	b->readonly = 1;
	return b;
}

void
buf_free(struct buf *b)
{
	if (b == NULL)
		return;
	if (!b->readonly && b->d != NULL) {
		explicit_bzero(b->d, b->alloc);
		free(b->d);
	}
	free(b);
}

void
buf_reset(struct buf *b)
{
	if (b->readonly) {
		b->off = b->size;
		return;
	}
	if (b->d != NULL)
		explicit_bzero(b->d, b->size);
	b->off = b->size = 0;
}

size_t
buf_len(const struct buf *b)
{
	return b->size - b->off;
}

const uint8_t *
buf_ptr(const struct buf *b)
{
	return b->d == NULL ? (const uint8_t *)"" : b->d + b->off;
}

int
buf_consume(struct buf *b, size_t len)
{
	if (len > buf_len(b))
		return EST_E_TRUNCATED;
	b->off += len;
	return 0;
}

int
buf_reserve(struct buf *b, size_t len, uint8_t **pp)
{
	size_t need, nalloc;
	uint8_t *nd;

	if (b->readonly)
		return EST_E_INVAL;
	/* Reclaim consumed space before growing. */
	if (b->off > 0 && b->off == b->size)
		b->off = b->size = 0;
	if (len > b->max || b->size - b->off > b->max - len)
		return EST_E_TOOBIG;
	need = b->size + len;
	if (need > b->alloc) {
		if (b->off > 0) {
			memmove(b->d, b->d + b->off, b->size - b->off);
			b->size -= b->off;
			b->off = 0;
			need = b->size + len;
		}
	}
	if (need > b->alloc) {
		nalloc = b->alloc < 256 ? 256 : b->alloc;
		while (nalloc < need)
			nalloc *= 2;
		if (nalloc > b->max)
			nalloc = b->max;
		/* Reallocate by hand so the old copy can be wiped. */
		if ((nd = malloc(nalloc)) == NULL)
			return EST_E_NOMEM;
		if (b->d != NULL) {
			memcpy(nd, b->d, b->size);
			explicit_bzero(b->d, b->alloc);
			free(b->d);
		}
		b->d = nd;
		b->alloc = nalloc;
	}
	*pp = b->d + b->size;
	b->size += len;
	return 0;
}

int
buf_put(struct buf *b, const void *p, size_t len)
{
	uint8_t *dst;
	int r;

	if ((r = buf_reserve(b, len, &dst)) != 0)
		return r;
	if (len > 0)
		memcpy(dst, p, len);
	return 0;
}

int
buf_put_u8(struct buf *b, uint8_t v)
{
	return buf_put(b, &v, 1);
}

int
buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t d[4];

	put_be32(d, v);
	return buf_put(b, d, sizeof(d));
}

int
buf_put_u64(struct buf *b, uint64_t v)
{
	uint8_t d[8];

	put_be32(d, (uint32_t)(v >> 32));
	put_be32(d + 4, (uint32_t)v);
	return buf_put(b, d, sizeof(d));
}

int
buf_put_string(struct buf *b, const void *p, size_t len)
{
	int r;

	if (len > UINT32_MAX)
		return EST_E_TOOBIG;
	if ((r = buf_put_u32(b, (uint32_t)len)) != 0)
		return r;
	return buf_put(b, p, len);
}

int
buf_put_cstring(struct buf *b, const char *s)
{
	return buf_put_string(b, s, s == NULL ? 0 : strlen(s));
}

int
buf_get(struct buf *b, void *p, size_t len)
{
	if (len > buf_len(b))
		return EST_E_TRUNCATED;
	if (p != NULL && len > 0)
		memcpy(p, buf_ptr(b), len);
	b->off += len;
	return 0;
}

int
buf_get_u8(struct buf *b, uint8_t *v)
{
	return buf_get(b, v, 1);
}

int
buf_get_u32(struct buf *b, uint32_t *v)
{
	uint8_t d[4];
	int r;

	if ((r = buf_get(b, d, sizeof(d))) != 0)
		return r;
	*v = get_be32(d);
	return 0;
}

int
buf_get_u64(struct buf *b, uint64_t *v)
{
	uint8_t d[8];
	int r;

	if ((r = buf_get(b, d, sizeof(d))) != 0)
		return r;
	*v = ((uint64_t)get_be32(d) << 32) | get_be32(d + 4);
	return 0;
}

int
buf_peek_string(struct buf *b, const uint8_t **pp, size_t *lenp)
{
	uint32_t len;

	if (buf_len(b) < 4)
		return EST_E_TRUNCATED;
	len = get_be32(buf_ptr(b));
	if (len > buf_len(b) - 4)
		return EST_E_TRUNCATED;
	*pp = buf_ptr(b) + 4;
	*lenp = len;
	b->off += 4 + (size_t)len;
	return 0;
}

int
buf_get_string(struct buf *b, uint8_t **pp, size_t *lenp)
{
	const uint8_t *p;
	size_t len, off = b->off;
	uint8_t *copy;
	int r;

	if ((r = buf_peek_string(b, &p, &len)) != 0)
		return r;
	if ((copy = malloc(len + 1)) == NULL) {
		b->off = off;
		return EST_E_NOMEM;
	}
	if (len > 0)
		memcpy(copy, p, len);
	copy[len] = '\0';
	*pp = copy;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
buf_get_cstring(struct buf *b, char **sp)
{
	const uint8_t *p;
	size_t len, off = b->off;
	char *s;
	int r;

	if ((r = buf_peek_string(b, &p, &len)) != 0)
		return r;
	if (len > 0 && memchr(p, '\0', len) != NULL) {
		b->off = off;
		return EST_E_INVAL;
	}
	if ((s = malloc(len + 1)) == NULL) {
		b->off = off;
		return EST_E_NOMEM;
	}
	if (len > 0)
		memcpy(s, p, len);
	s[len] = '\0';
	*sp = s;
	return 0;
}
