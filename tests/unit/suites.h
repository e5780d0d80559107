/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tests/unit/suites.h - every unit-test suite, one per module
 *
 * Each tests/unit/check_<module>.c exports <module>_suite(); check_main.c
 * runs them all in one runner.
 */
#ifndef TESTS_UNIT_SUITES_H
#define TESTS_UNIT_SUITES_H

#include <check.h>

Suite *conf_suite(void);
Suite *http_parse_suite(void);
Suite *timer_suite(void);
Suite *log_suite(void);
Suite *jsonw_suite(void);
Suite *sqlerr_suite(void);
Suite *shm_suite(void);
Suite *route_suite(void);
Suite *params_suite(void);
Suite *snapshot_suite(void);

#endif /* TESTS_UNIT_SUITES_H */
