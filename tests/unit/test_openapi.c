/*
 * docs/openapi.yaml against estuary-api's route table (fcgi/api_routes.c),
 * in both directions: every (method, path) of the table is an operation of
 * the document, and every operation of the document is a route.  Paths are
 * compared after removing the base path of the document's servers (every
 * route must start with it); a capture "{id}" is one whole segment, and its
 * name must be the same on both sides, because the name in the document is
 * the parameter clients read and the name in the table is the one the
 * handler asks route_cap() for.  HEAD and OPTIONS are answered by the
 * dispatcher for every route, so neither side may list them.  Every
 * operation needs an operationId unique in the document and at least one
 * response.  The document is read by openapi_yaml.c, which refuses, naming
 * the line, anything under paths: that it does not understand; the
 * "parser" suite shows that it does.  The document is
 * $top_srcdir/docs/openapi.yaml (make check exports top_srcdir), else the
 * one of the source tree this program was built from.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_routes.h"
#include "harness.h"
#include "openapi_yaml.h"
#include "req.h"
#include "route.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define API_METHODS                                                            \
	(REQ_M_GET | REQ_M_POST | REQ_M_PUT | REQ_M_PATCH | REQ_M_DELETE)

/* --- Failures that name what is wrong --- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
fail(const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "test_openapi: %s\n", msg);
	CU_assertImplementation(CU_FALSE, __LINE__, msg, __FILE__, "",
				CU_FALSE);
}

/* Equal when the literal segments are; *names when the captures' are too. */
static int
path_eq(const char *a, const char *b, int *names)
{
	*names = 1;
	while (*a != '\0' && *b != '\0') {
		if (*a == '{' && *b == '{') {
			size_t la = strcspn(a, "}"), lb = strcspn(b, "}");

			if (la != lb || strncmp(a, b, la) != 0)
				*names = 0;
			a += la;
			b += lb;
		} else if (*a != *b) {
			return 0;
		}
		a++;
		b++;
	}
	return *a == *b;
}

/* --- The document against the route table --- */

static struct doc the_doc;
static int doc_ok;

static int
doc_init(void)
{
	const char *top = getenv("top_srcdir");
	char file[4096];

	snprintf(file, sizeof(file), "%s/docs/openapi.yaml",
		 top != NULL && *top != '\0' ? top : SRCDIR);
	doc_ok = doc_load(&the_doc, file) == 0;
	if (!doc_ok)
		fprintf(stderr, "test_openapi: %s: %s\n", file, the_doc.p.err);
	return 0;
}

static int
doc_fini(void)
{
	doc_free(&the_doc);
	return 0;
}

static void
t_doc_parses(void)
{
	if (!doc_ok)
		fail("%s", the_doc.p.err);
	CU_ASSERT_FATAL(doc_ok);
	CU_ASSERT(the_doc.nops > 0);
	CU_ASSERT_STRING_EQUAL(the_doc.base, "/api/v1");
}

static void
t_table(void)
{
	size_t i, j;

	CU_ASSERT_EQUAL(route_table_check(api_routes, api_nroutes), 0);
	for (i = 0; i < api_nroutes; i++) {
		if (api_routes[i].methods & ~API_METHODS)
			fail("route %s: HEAD and OPTIONS are implicit",
			     api_routes[i].pattern);
		for (j = 0; j < i; j++)
			if ((api_routes[i].methods & api_routes[j].methods) &&
			    strcmp(api_routes[i].pattern,
				   api_routes[j].pattern) == 0)
				fail("route %s twice", api_routes[i].pattern);
	}
}

/* Every route is documented. */
static void
t_routes_documented(void)
{
	const struct route *r;
	size_t i, k, blen = strlen(the_doc.base);
	unsigned bit;
	int names;

	CU_ASSERT_FATAL(doc_ok);
	for (i = 0; i < api_nroutes; i++) {
		r = &api_routes[i];
		if (strncmp(r->pattern, the_doc.base, blen) != 0 ||
		    r->pattern[blen] != '/') {
			fail("route %s is not under %s", r->pattern,
			     the_doc.base);
			continue;
		}
		for (bit = 1; bit <= API_METHODS; bit <<= 1) {
			if (!(r->methods & bit & API_METHODS))
				continue;
			for (k = 0; k < the_doc.nops; k++)
				if (the_doc.ops[k].method == bit &&
				    path_eq(the_doc.ops[k].path,
					    r->pattern + blen, &names))
					break;
			if (k == the_doc.nops)
				fail("route %s %s is not in openapi.yaml",
				     openapi_method_name(bit), r->pattern);
			else if (!names)
				fail("openapi.yaml:%zu: %s names its captures "
				     "unlike route %s",
				     the_doc.ops[k].line, the_doc.ops[k].path,
				     r->pattern);
		}
	}
}

/* Every documented operation is a route. */
static void
t_documented_routed(void)
{
	const struct op *o;
	size_t i, k, blen = strlen(the_doc.base);
	int names;

	CU_ASSERT_FATAL(doc_ok);
	for (k = 0; k < the_doc.nops; k++) {
		o = &the_doc.ops[k];
		for (i = 0; i < api_nroutes; i++)
			if ((api_routes[i].methods & o->method) &&
			    strncmp(api_routes[i].pattern, the_doc.base,
				    blen) == 0 &&
			    path_eq(o->path, api_routes[i].pattern + blen,
				    &names))
				break;
		if (i == api_nroutes)
			fail("openapi.yaml:%zu: %s %s (%s) has no route",
			     o->line, openapi_method_name(o->method), o->path,
			     o->id);
	}
}

/* --- The parser refuses what it does not understand --- */

#define DOC_HEAD "openapi: 3.0.3\nservers:\n  - url: https://h/api/v1\npaths:\n"
#define OK_OP                                                                  \
	"    get:\n      operationId: a\n      responses:\n"                   \
	"        '200': {description: x}\n"

static int
parse_str(const char *yaml, struct doc *d)
{
	char *s = strdup(yaml);

	if (s == NULL)
		return -1;
	return doc_parse(d, s);
}

static void
t_parse_good(void)
{
	struct doc d;
	int r;

	r = parse_str(DOC_HEAD "  /a/{id}:\n"
			       "    parameters: [*x]\n" OK_OP
			       "    # A comment.\n"
			       "    post:\n"
			       "      operationId: 'b'\n"
			       "      description: |\n"
			       "        get:\n"
			       "\n"
			       "          x: {\n"
			       "      responses: &r\n"
			       "        '201':\n"
			       "          description: Made.\n"
			       "  /b:\n"
			       "    put:\n"
			       "      operationId: c\n"
			       "      tags:\n"
			       "      - t\n"
			       "      security:\n"
			       "        - cookie: []\n"
			       "          other: x\n"
			       "      responses: *r\n"
			       "components:\n"
			       "  x: {\n",
		      &d);
	if (r != 0)
		fail("%s", d.p.err);
	CU_ASSERT_EQUAL_FATAL(r, 0);
	CU_ASSERT_STRING_EQUAL(d.base, "/api/v1");
	CU_ASSERT_EQUAL_FATAL(d.nops, 3);
	CU_ASSERT_EQUAL(d.ops[0].method, REQ_M_GET);
	CU_ASSERT_STRING_EQUAL(d.ops[0].path, "/a/{id}");
	CU_ASSERT_EQUAL(d.ops[1].method, REQ_M_POST);
	CU_ASSERT_STRING_EQUAL(d.ops[1].id, "b");
	CU_ASSERT_EQUAL(d.ops[2].method, REQ_M_PUT);
	CU_ASSERT_STRING_EQUAL(d.ops[2].path, "/b");
	doc_free(&d);
}

static const struct {
	const char *yaml, *err;
} bad[] = {
	{"openapi: 3.0.3\npaths:\n  /a:\n" OK_OP,
	 "openapi.yaml:1: no \"servers:\""},
	{DOC_HEAD, "openapi.yaml:4: empty \"paths:\""},
	{DOC_HEAD "  /a:\n\t  get:\n", ":6: tab in indentation"},
	{DOC_HEAD "  /a:\n    get: {operationId: a,\n      responses: {}}\n",
	 ":6: flow collection not closed"},
	{DOC_HEAD "  /a:\n    get:\n      operationId: a\n        b\n",
	 ":8: unexpected indentation"},
	{DOC_HEAD "  /a:\n" OK_OP "  /a:\n" OK_OP, ":10: duplicate key \"/a\""},
	{DOC_HEAD "  /a:\n" OK_OP OK_OP, ":10: duplicate key \"get\""},
	{DOC_HEAD "  /a:\n    gett:\n      operationId: a\n",
	 ":6: unknown path item key \"gett\""},
	{DOC_HEAD "  /a:\n    head:\n      operationId: a\n",
	 ":6: unknown path item key \"head\""},
	{DOC_HEAD "  /a:\n    $ref: '#/x'\n",
	 ":6: unknown path item key \"$ref\""},
	{DOC_HEAD "  /a:\n    get:\n      responses:\n        '200': {}\n",
	 ":6: operation without operationId"},
	{DOC_HEAD "  /a:\n" OK_OP "  /b:\n" OK_OP,
	 ":12: operationId a also on"},
	{DOC_HEAD
	 "  /a:\n    get:\n      operationId: a\n      responses: {}\n",
	 ":8: an operation needs a block mapping of responses"},
	{DOC_HEAD "  /a:\n    get:\n      operationId: a\n",
	 ":6: an operation"},
	{DOC_HEAD
	 "  /a:\n    get:\n      operationId: a\n      responses: *q\n",
	 ":8: alias *q of no anchor"},
	{DOC_HEAD "  /a:\n    get:\n      <<: *q\n", ":7: merge keys"},
	{DOC_HEAD "  /a:\n    get:\n      operationId: a\n      response:\n"
		  "        '200': {}\n",
	 ":8: unknown operation key \"response\""},
	{DOC_HEAD "  /a:\n    get:\n      operationId: a\n      responses:\n"
		  "        '20': {}\n",
	 ":9: bad response key \"20\""},
	{DOC_HEAD "  /a/{id:\n" OK_OP, ":5: bad path \"/a/{id\""},
	{DOC_HEAD "  /a/x{id}:\n" OK_OP, ":5: bad path"},
	{DOC_HEAD "  /a:\n    get:\n      summary: a: b\n",
	 ":7: plain scalar with \": \""},
	{DOC_HEAD "  /a:\n    get:\n      summary: !!str a\n",
	 ":7: value not understood"},
	{DOC_HEAD "  /a:\n    get:\n      summary: 'a\n        b'\n",
	 ":7: quoted scalar not understood"},
	{DOC_HEAD "  /a:\n  get:\n", ":5: path item is no block mapping"},
	{DOC_HEAD "  /a:\n     get:\n    post:\n",
	 ":7: unexpected indentation"},
	{DOC_HEAD "  ? /a\n", ":5: expected \"key:\""},
	{DOC_HEAD "  /a: x\n", ":5: path item is no block mapping"},
	{DOC_HEAD "  /a:\n" OK_OP "paths:\n", ":10: \"paths:\" not understood"},
};

static void
t_parse_bad(void)
{
	struct doc d;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse_str(bad[i].yaml, &d) == 0)
			fail("case %zu parsed", i);
		else if (strstr(d.p.err, bad[i].err) == NULL)
			fail("case %zu: \"%s\", not \"%s\"", i, d.p.err,
			     bad[i].err);
		doc_free(&d);
	}
}

static void
t_path_eq(void)
{
	int names;

	CU_ASSERT(path_eq("/a/{id}/b", "/a/{id}/b", &names) && names);
	CU_ASSERT(path_eq("/a/{id}/b", "/a/{x}/b", &names) && !names);
	CU_ASSERT(!path_eq("/a/{id}/b", "/a/{id}/c", &names));
	CU_ASSERT(!path_eq("/a/{id}", "/a/{id}/c", &names));
	CU_ASSERT(!path_eq("/a", "/a/{id}", &names));
}

int
test_suites(void)
{
	static CU_TestInfo parser[] = {
		{"good", t_parse_good},
		{"refused", t_parse_bad},
		{"path_eq", t_path_eq},
		CU_TEST_INFO_NULL,
	};
	static CU_TestInfo sync[] = {
		{"parses", t_doc_parses},
		{"table", t_table},
		{"routes_documented", t_routes_documented},
		{"documented_routed", t_documented_routed},
		CU_TEST_INFO_NULL,
	};
	int r;

	if ((r = test_add_suite("parser", NULL, NULL, parser)) != 0)
		return r;
	return test_add_suite("openapi", doc_init, doc_fini, sync);
}
