/* SPDX-License-Identifier: BSD-2-Clause */
/* lib/version.h - the version poold and its tools print with -v */
#ifndef LIB_VERSION_H
#define LIB_VERSION_H

#define POOLD_VERSION "0.1.0"

#endif /* LIB_VERSION_H */
