#!/bin/bash
#
# Runs unit/test_estroute (the EST server data layer and db_est_route
# against a real MariaDB) on the throwaway MariaDB server that
# run-db-tests.sh starts and stops.
#
# Environment (set by make check): top_srcdir, top_builddir.

top_srcdir=${top_srcdir:-..}
TEST_DB=${TEST_ESTROUTE:-./unit/test_estroute} exec bash "$top_srcdir/tests/unit/run-db-tests.sh"
