#!/bin/bash
#
# Runs unit/test_txq (the writer thread of fcgi/txq.c, its jobs writing
# real rows) on the throwaway MariaDB server that run-db-tests.sh starts
# and stops.
#
# Environment (set by make check): top_srcdir, top_builddir.

top_srcdir=${top_srcdir:-..}
TEST_DB=${TEST_TXQ:-./unit/test_txq} exec bash "$top_srcdir/tests/unit/run-db-tests.sh"
