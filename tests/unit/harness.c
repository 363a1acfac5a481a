#include "config.h"

#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "harness.h"

int
test_add_suite(const char *name, CU_InitializeFunc init, CU_CleanupFunc cleanup,
	       CU_TestInfo *tests)
{
	CU_pSuite s;
	size_t i;

	if ((s = CU_add_suite(name, init, cleanup)) == NULL)
		return CU_get_error();
	for (i = 0; tests[i].pName != NULL; i++)
		if (CU_add_test(s, tests[i].pName, tests[i].pTestFunc) == NULL)
			return CU_get_error();
	return 0;
}

int
main(int argc, char **argv)
{
	const char *prog =
		strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	unsigned passed, failed, sfailed;
	int r;

	(void)argc;
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	if ((r = test_suites()) != 0) {
		fprintf(stderr, "%s: cannot register tests: %d\n", prog, r);
		printf("%s: 0 passed, 1 failed\n", prog);
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	/* A test passes when all of its assertions hold. */
	failed = CU_get_number_of_tests_failed();
	sfailed = CU_get_number_of_suites_failed();
	passed = CU_get_number_of_tests_run() - failed;
	printf("\n%s: %u passed, %u failed\n", prog, passed, failed + sfailed);
	CU_cleanup_registry();
	return (failed + sfailed) == 0 ? 0 : 1;
}
