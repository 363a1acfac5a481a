/*
 * A small main() for CUnit test programs.  Each program defines
 * test_suites(), which registers its suites, and links harness.c.  The
 * harness runs everything and ends with the line
 *
 *	<program>: N passed, N failed
 *
 * which ./devstack test adds up.  The exit status is non-zero when any
 * assertion failed or a suite could not be set up.
 */
#ifndef ESTUARY_TEST_HARNESS_H
#define ESTUARY_TEST_HARNESS_H

#include <CUnit/CUnit.h>

/* Registers the program's suites; returns 0 or a CUnit error code. */
int test_suites(void);

/* Adds a suite with its tests from a NULL-terminated CU_TestInfo array. */
int test_add_suite(const char *name, CU_InitializeFunc init,
		   CU_CleanupFunc cleanup, CU_TestInfo *tests);

#endif
