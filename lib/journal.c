/*
 * Line format and verification of the signer's journal (lib/journal.h).
 * The parser is strict so that there is exactly one text for each entry:
 * a line that differs from what the signer wrote in any byte fails.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "err.h"
#include "journal.h"
#include "sigproto.h"
#include "util.h"

/* The kinds of line: the SIGN kinds, and a destroyed key pair. */
static const struct {
	uint8_t kind;
	const char *name;
} journal_kinds[] = {
	{.kind = SIGNER_SIGN_TBSCERT, .name = "cert"},
	{.kind = SIGNER_SIGN_TBSCRL, .name = "crl"},
	{.kind = SIGNER_SIGN_CRI, .name = "csr"},
	{.kind = SIGNER_SIGN_OCSP, .name = "ocsp"},
	{.kind = JOURNAL_KIND_DESTROY, .name = "destroy"},
};
#define NKINDS (sizeof(journal_kinds) / sizeof(journal_kinds[0]))

const char *
journal_kind_name(uint8_t kind)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (journal_kinds[i].kind == kind)
			return journal_kinds[i].name;
	return NULL;
}

static int
valid_kind(const char *kind)
{
	size_t i;

	for (i = 0; i < NKINDS; i++)
		if (strcmp(kind, journal_kinds[i].name) == 0)
			return 1;
	return 0;
}

/* The hash of a line covers everything before " hash\n". */
static int
line_hash(const char *p, size_t len, uint8_t out[JOURNAL_HASH_LEN])
{
	unsigned int n = 0;

	if (EVP_Digest(p, len, out, &n, EVP_sha256(), NULL) != 1 ||
	    n != JOURNAL_HASH_LEN)
		return EST_E_CRYPTO;
	return 0;
}

int
journal_format_line(struct journal_entry *e, char *line, size_t linesz,
		    size_t *linelen)
{
	char keyid[2 * JOURNAL_KEYID_LEN + 1];
	char dhash[2 * JOURNAL_HASH_LEN + 1], prev[2 * JOURNAL_HASH_LEN + 1];
	char hash[2 * JOURNAL_HASH_LEN + 1];
	int n, r;

	if (!valid_kind(e->kind) || e->seq == 0 ||
	    linesz < JOURNAL_LINE_MAX + 1)
		return EST_E_INVAL;
	hex_encode(e->keyid, sizeof(e->keyid), keyid);
	hex_encode(e->data_hash, sizeof(e->data_hash), dhash);
	hex_encode(e->prev_hash, sizeof(e->prev_hash), prev);
	n = snprintf(line, linesz, "%" PRIu64 " %" PRIu64 " %s %s %s %s",
		     e->seq, e->time, keyid, e->kind, dhash, prev);
	if (n < 0 || (size_t)n >= linesz)
		return EST_E_INVAL;
	if ((r = line_hash(line, (size_t)n, e->hash)) != 0)
		return r;
	hex_encode(e->hash, sizeof(e->hash), hash);
	if ((size_t)n + 1 + sizeof(hash) >= linesz)
		return EST_E_INVAL;
	line[n] = ' ';
	memcpy(line + n + 1, hash, sizeof(hash) - 1);
	n += (int)sizeof(hash);
	line[n++] = '\n';
	line[n] = '\0';
	*linelen = (size_t)n;
	return 0;
}

/* A decimal number without sign or leading zeros, up to the next space. */
static int
parse_u64(const char **pp, const char *end, uint64_t *v)
{
	const char *p = *pp;
	uint64_t n = 0;

	if (p >= end || *p < '0' || *p > '9' ||
	    (*p == '0' && p + 1 < end && p[1] != ' '))
		return EST_E_INVAL;
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return EST_E_INVAL;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*v = n;
	*pp = p;
	return 0;
}

/* Exactly 2 * len lower-case hex digits. */
static int
parse_hex(const char **pp, const char *end, uint8_t *out, size_t len)
{
	char tmp[2 * JOURNAL_HASH_LEN + 1];
	const char *p = *pp;
	size_t i;

	if (len > JOURNAL_HASH_LEN || (size_t)(end - p) < 2 * len)
		return EST_E_INVAL;
	for (i = 0; i < 2 * len; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') ||
		      (p[i] >= 'a' && p[i] <= 'f')))
			return EST_E_INVAL;
		tmp[i] = p[i];
	}
	tmp[2 * len] = '\0';
	if (hex_decode(tmp, out, len) != 0)
		return EST_E_INVAL;
	*pp = p + 2 * len;
	return 0;
}

static int
expect(const char **pp, const char *end, char c)
{
	if (*pp >= end || **pp != c)
		return EST_E_INVAL;
	(*pp)++;
	return 0;
}

int
journal_parse_line(const char *line, size_t len, struct journal_entry *e)
{
	const char *p = line, *end = line + len, *k;
	struct journal_entry t;
	uint8_t want[JOURNAL_HASH_LEN];
	size_t hashed;

	memset(&t, 0, sizeof(t));
	if (len == 0 || len > JOURNAL_LINE_MAX || line[len - 1] != '\n')
		return EST_E_INVAL;
	end--; /* the newline */
	if (parse_u64(&p, end, &t.seq) != 0 || expect(&p, end, ' ') != 0 ||
	    parse_u64(&p, end, &t.time) != 0 || expect(&p, end, ' ') != 0 ||
	    parse_hex(&p, end, t.keyid, sizeof(t.keyid)) != 0 ||
	    expect(&p, end, ' ') != 0)
		return EST_E_INVAL;
	for (k = p; p < end && *p != ' '; p++)
		if ((size_t)(p - k) >= sizeof(t.kind) - 1)
			return EST_E_INVAL;
	memcpy(t.kind, k, (size_t)(p - k));
	t.kind[p - k] = '\0';
	if (!valid_kind(t.kind) || t.seq == 0 || expect(&p, end, ' ') != 0 ||
	    parse_hex(&p, end, t.data_hash, sizeof(t.data_hash)) != 0 ||
	    expect(&p, end, ' ') != 0 ||
	    parse_hex(&p, end, t.prev_hash, sizeof(t.prev_hash)) != 0)
		return EST_E_INVAL;
	hashed = (size_t)(p - line);
	if (expect(&p, end, ' ') != 0 ||
	    parse_hex(&p, end, t.hash, sizeof(t.hash)) != 0 || p != end)
		return EST_E_INVAL;
	if (line_hash(line, hashed, want) != 0 ||
	    memcmp(want, t.hash, sizeof(want)) != 0)
		return EST_E_INVAL;
	*e = t;
	return 0;
}

/* Checks one line against the chain so far. */
static int
verify_line(const char *line, size_t len, uint64_t lineno,
	    uint8_t prev[JOURNAL_HASH_LEN])
{
	struct journal_entry e;

	if (journal_parse_line(line, len, &e) != 0 || e.seq != lineno ||
	    memcmp(e.prev_hash, prev, JOURNAL_HASH_LEN) != 0)
		return EST_E_INVAL;
	memcpy(prev, e.hash, JOURNAL_HASH_LEN);
	return 0;
}

int
journal_verify(const char *path, uint64_t *nlines, uint64_t *bad_line)
{
	uint8_t prev[JOURNAL_HASH_LEN];
	char chunk[65536], line[JOURNAL_LINE_MAX + 1];
	size_t linelen = 0, n, i;
	uint64_t count = 0;
	FILE *fp;
	int r = 0;

	*nlines = 0;
	*bad_line = 0;
	memset(prev, 0, sizeof(prev));
	if ((fp = fopen(path, "rb")) == NULL)
		return EST_E_IO;
	while (r == 0 && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		for (i = 0; i < n; i++) {
			if (linelen >= sizeof(line)) {
				r = EST_E_INVAL;
				break;
			}
			line[linelen++] = chunk[i];
			if (chunk[i] != '\n')
				continue;
			if ((r = verify_line(line, linelen, count + 1, prev)) !=
			    0)
				break;
			count++;
			linelen = 0;
		}
	}
	if (r == 0 && ferror(fp)) {
		fclose(fp);
		*nlines = count;
		return EST_E_IO;
	}
	fclose(fp);
	/* A last line without its newline was cut short. */
	if (r == 0 && linelen > 0)
		r = EST_E_INVAL;
	*nlines = count;
	if (r != 0)
		*bad_line = count + 1;
	return r;
}
