#!/bin/sh
# sweep-engine.sh - the fault sweep (sweep.sh) over the engine backend: csr
# and enroll with --backend engine.  libp11's engine opens the module the
# tool was given, the fault module, so its PKCS#11 calls are counted and
# failed like the tool's own; a failed run promises what the provider
# backend does (tests/fault/promises.sh).
P11FAULT_RV=${P11FAULT_RV:-CKR_DEVICE_ERROR}
P11FAULT_PERSIST=0
P11FAULT_COMMANDS="csr-engine enroll-engine"
export P11FAULT_RV P11FAULT_PERSIST P11FAULT_COMMANDS
exec sh "${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fault/sweep.sh"
