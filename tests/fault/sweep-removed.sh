#!/bin/sh
# sweep-removed.sh - the fault sweep (sweep.sh) again, with the token pulled out: from the
# injection point on every call fails with CKR_DEVICE_REMOVED, the cleanup
# calls too.
P11FAULT_RV=CKR_DEVICE_REMOVED
P11FAULT_PERSIST=1
export P11FAULT_RV P11FAULT_PERSIST
exec sh "${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fault/sweep.sh"
