/*
 * A reader of docs/openapi.yaml for tests/unit/test_openapi: the
 * operations of its paths: section and the base path of its servers.
 *
 * The document is read by a small, strict parser for the part of YAML it
 * uses: block mappings and sequences by indentation (spaces only), plain
 * and quoted one-line scalars, one-line flow collections, block scalars
 * ("|", ">"), anchors and aliases.  Anything else under paths: (a flow
 * collection over several lines, a multi-line plain scalar, merge keys,
 * tags, a key the OpenAPI path item or operation object does not have, a
 * duplicate key) fails the test naming the line, so that a structure it
 * does not understand can never make it pass.  The parser is not a YAML
 * library: only the servers: and paths: sections are read.
 */
#ifndef ESTUARY_TEST_OPENAPI_YAML_H
#define ESTUARY_TEST_OPENAPI_YAML_H

#include <stddef.h>

struct ynode;
struct yanchor;

struct yparser {
	char **lines;
	size_t n, pos, end;
	struct ynode *nodes;
	struct yanchor *anchors;
	int failed;
	char err[512];
};

/* One documented operation. */
struct op {
	unsigned method;
	const char *path; /* below the base path */
	const char *id;	  /* operationId */
	size_t line;
};

struct doc {
	char *buf;
	struct yparser p;
	char base[256];
	struct op *ops;
	size_t nops;
};

/*
 * Parses text, which d keeps and changes; 0, or -1 with the first error,
 * "openapi.yaml:LINE: what", in d->p.err.  doc_free(d) in both cases.
 */
int doc_parse(struct doc *d, char *text);
/* doc_parse of the contents of file. */
int doc_load(struct doc *d, const char *file);
void doc_free(struct doc *d);

/* "get", "post", ... for one REQ_M_* bit. */
const char *openapi_method_name(unsigned bit);

#endif
