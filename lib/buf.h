/*
 * Growable byte buffer with a hard maximum size, in the manner of
 * OpenSSH's sshbuf.  Readers consume from the front; writers append.
 * Getters return 0 or a negative EST_E_* code and leave the buffer
 * unchanged on error.  "get" functions copy (the caller frees), "peek"
 * functions borrow a pointer into the buffer that is valid until the next
 * modification.
 */
#ifndef ESTUARY_BUF_H
#define ESTUARY_BUF_H

#include <stddef.h>
#include <stdint.h>

struct buf;

#define BUF_SIZE_MAX (16U * 1024 * 1024)

/* A new empty buffer that refuses to grow beyond max bytes (0: BUF_SIZE_MAX). */
struct buf *buf_new(size_t max);
/* A read-only buffer borrowing len bytes at p; the caller keeps p alive. */
struct buf *buf_from(const void *p, size_t len);
/* Frees b and wipes its contents; buf_free(NULL) is a no-op. */
void buf_free(struct buf *b);
void buf_reset(struct buf *b);

size_t buf_len(const struct buf *b);
const uint8_t *buf_ptr(const struct buf *b);
/* Drops len bytes from the front. */
int buf_consume(struct buf *b, size_t len);

int buf_put(struct buf *b, const void *p, size_t len);
int buf_put_u8(struct buf *b, uint8_t v);
int buf_put_u32(struct buf *b, uint32_t v);
int buf_put_u64(struct buf *b, uint64_t v);
/* A string: u32 big-endian length then the bytes. */
int buf_put_string(struct buf *b, const void *p, size_t len);
int buf_put_cstring(struct buf *b, const char *s);
/* Reserves len bytes at the end and returns a pointer to them in *pp. */
int buf_reserve(struct buf *b, size_t len, uint8_t **pp);

int buf_get(struct buf *b, void *p, size_t len);
int buf_get_u8(struct buf *b, uint8_t *v);
int buf_get_u32(struct buf *b, uint32_t *v);
int buf_get_u64(struct buf *b, uint64_t *v);
/* Borrows the next string; *pp points into b. */
int buf_peek_string(struct buf *b, const uint8_t **pp, size_t *lenp);
/* Copies the next string into a new NUL-terminated allocation. */
int buf_get_string(struct buf *b, uint8_t **pp, size_t *lenp);
/*
 * Copies the next string as a C string; refuses one that contains a NUL
 * byte, so that the C string and the wire string always agree.
 */
int buf_get_cstring(struct buf *b, char **sp);

#endif
