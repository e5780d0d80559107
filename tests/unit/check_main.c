// SPDX-License-Identifier: BSD-2-Clause
/*
 * tests/unit/check_main.c - the one runner for every unit-test suite
 *
 * srunner_run_all(sr, CK_ENV) honours CK_RUN_SUITE, CK_RUN_CASE, CK_FORK
 * and CK_VERBOSITY, so one suite or one case can be run alone.
 */
#include <stdlib.h>

#include <check.h>

#include "tests/unit/suites.h"

int main(void)
{
	SRunner *sr;
	int failed;

	sr = srunner_create(conf_suite());
	srunner_add_suite(sr, http_parse_suite());
	srunner_add_suite(sr, timer_suite());
	srunner_add_suite(sr, log_suite());
	srunner_add_suite(sr, jsonw_suite());
	srunner_add_suite(sr, sqlerr_suite());
	srunner_add_suite(sr, shm_suite());
	srunner_add_suite(sr, route_suite());
	srunner_add_suite(sr, params_suite());
	srunner_add_suite(sr, snapshot_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
