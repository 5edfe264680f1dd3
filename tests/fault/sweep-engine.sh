#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# sweep-engine.sh - the fault sweep (sweep.sh) over the engine backend: csr
# and enroll with --backend engine.  libp11's engine opens the module the
# tool was given, the fault module, so its PKCS#11 calls are counted and
# failed like the tool's own; a failed run promises what the provider
# backend does (tests/fault/promises.sh).
P11FAULT_RV=${P11FAULT_RV:-CKR_DEVICE_ERROR}
P11FAULT_PERSIST=0
P11FAULT_COMMANDS="csr-engine enroll-engine"
# a run cut off by the timeout is libp11's known hang (promises.sh): no
# need to wait two minutes for it; a clean run takes a few seconds
P11FAULT_TIMEOUT=${P11FAULT_TIMEOUT:-60}
export P11FAULT_RV P11FAULT_PERSIST P11FAULT_COMMANDS P11FAULT_TIMEOUT
exec sh "${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fault/sweep.sh"
