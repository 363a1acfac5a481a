/*
 * The route table of estuary-api (fcgi/api_routes.c), shared by its main()
 * and by tests/unit/test_openapi, which checks it against
 * docs/openapi.yaml in both directions.
 */
#ifndef ESTUARY_API_ROUTES_H
#define ESTUARY_API_ROUTES_H

#include <stddef.h>

#include "route.h"

extern const struct route api_routes[];
extern const size_t api_nroutes;

#endif
