#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# sweep-session.sh - the fault sweep (sweep.sh) again, with the session lost at the injection
# point (CKR_SESSION_HANDLE_INVALID), as when a module or token resets.
P11FAULT_RV=CKR_SESSION_HANDLE_INVALID
P11FAULT_PERSIST=0
export P11FAULT_RV P11FAULT_PERSIST
exec sh "${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/fault/sweep.sh"
