/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tests/integration/suites.h - every integration suite (real poold)
 *
 * Each tests/integration/check_<feature>.c exports <feature>_suite().
 */
#ifndef TESTS_INTEGRATION_SUITES_H
#define TESTS_INTEGRATION_SUITES_H

#include <check.h>

Suite *process_suite(void);
Suite *http_suite(void);
Suite *routes_suite(void);
Suite *gate_suite(void);
Suite *metrics_suite(void);
Suite *accounting_suite(void);
Suite *reload_suite(void);
Suite *poolmon_suite(void);

#endif /* TESTS_INTEGRATION_SUITES_H */
