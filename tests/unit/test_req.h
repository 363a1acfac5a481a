/*
 * Helpers shared by the files of the test_req program (the request module
 * of the FastCGI programs and what surrounds it).
 */
#ifndef ESTUARY_TEST_REQ_H
#define ESTUARY_TEST_REQ_H

#include <stddef.h>
#include <sys/types.h>

#include "req.h"

/* max_body of every request the tests build. */
#define MAX_BODY 100

/* Parses a NULL-terminated env list; never NULL (asserts instead). */
struct request *parse_env(char **env);
/* A request with method, uri and up to two more "KEY=value" entries. */
struct request *parse3(const char *method, const char *uri, const char *e1,
		       const char *e2);
/* The status a request with one extra variable gets. */
int status_with(const char *method, const char *entry);

/* A body read through req_read_fn in chunks of at most chunk bytes. */
struct membody {
	const char *p;
	size_t len, off, chunk;
};
ssize_t mem_read(void *arg, void *p, size_t len);

/* Suites of test_req_tls.c and test_req_http.c. */
int test_req_tls_suites(void);
int test_req_http_suites(void);

#endif
