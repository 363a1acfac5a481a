#!/bin/bash
#
# Runs unit/test_issue (issuance with a real signer and a real MariaDB)
# against the throwaway MariaDB server that run-db-tests.sh starts and
# stops; test_issue starts its own signer on a private SoftHSM token.
#
# Environment (set by make check): top_srcdir, top_builddir.

top_srcdir=${top_srcdir:-..}
TEST_DB=${TEST_ISSUE:-./unit/test_issue} exec bash "$top_srcdir/tests/unit/run-db-tests.sh"
