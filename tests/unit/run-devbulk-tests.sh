#!/bin/bash
#
# Runs unit/test_devbulk (db_device_insert_many against a real MariaDB)
# on the throwaway MariaDB server that run-db-tests.sh starts and stops.
#
# Environment (set by make check): top_srcdir, top_builddir.

top_srcdir=${top_srcdir:-..}
TEST_DB=${TEST_DEVBULK:-./unit/test_devbulk} exec bash "$top_srcdir/tests/unit/run-db-tests.sh"
