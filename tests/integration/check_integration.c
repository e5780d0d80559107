// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/integration/check_integration.c - the runner for every suite that
 * boots the real server (POOLD_BIN); CK_RUN_SUITE / CK_RUN_CASE select.
 */
#include <signal.h>
#include <stdlib.h>

#include <check.h>

#include "tests/integration/suites.h"

int main(void)
{
	SRunner *sr;
	int failed;

	signal(SIGPIPE, SIG_IGN);
	sr = srunner_create(process_suite());
	srunner_add_suite(sr, http_suite());
	srunner_add_suite(sr, routes_suite());
	srunner_add_suite(sr, gate_suite());
	srunner_add_suite(sr, metrics_suite());
	srunner_add_suite(sr, accounting_suite());
	srunner_add_suite(sr, reload_suite());
	srunner_add_suite(sr, poolmon_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
