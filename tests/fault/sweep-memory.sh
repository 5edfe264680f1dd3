#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# sweep-memory.sh - the fault sweep (sweep.sh) again, with the token out of memory at the
# injection point (CKR_DEVICE_MEMORY), as a full smartcard answers.
P11FAULT_RV=CKR_DEVICE_MEMORY
P11FAULT_PERSIST=0
export P11FAULT_RV P11FAULT_PERSIST
exec sh "${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fault/sweep.sh"
