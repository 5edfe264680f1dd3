#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Ansible module p11enroll_apply: a host's PKCS#11 tokens as its manifest says.

p11enroll stays a per-host tool; this module only runs it: 'p11enroll plan'
in check mode, 'p11enroll apply' otherwise, both with --json, and reports
changed exactly as p11enroll does (plan: some identity would change; apply:
exit status 10).  PINs are module parameters marked no_log and reach
p11enroll as environment variables named by the manifest's env: PIN sources,
never on its command line.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: p11enroll_apply
short_description: Keys, requests, certificates and renewals on PKCS#11 tokens, from a manifest
description:
  - Runs C(p11enroll plan --json) in check mode and C(p11enroll apply --json) otherwise.
  - C(changed) is true when an identity would be (check mode) or was changed.
  - Identities that failed make the task fail, with their events.
options:
  manifest:
    description: The manifest on the host (p11enroll-manifest(5)).
    type: path
    required: true
  jobs:
    description: At most this many tokens at once (apply -j).
    type: int
    default: 1
  audit:
    description: Audit log file, or C(syslog) (apply --audit).
    type: str
  prometheus:
    description: File for the run's metrics (apply --prometheus).
    type: path
  module:
    description: PKCS#11 module for tokens whose manifest section names none (global --module).
    type: str
  binary:
    description: The p11enroll program.
    type: path
    default: p11enroll
  pins:
    description:
      - Environment variables for the manifest's env:VAR PIN sources, name to PIN.
      - Never logged (no_log); never on a command line.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: HSM identities as the manifest says
  p11enroll_apply:
    manifest: /etc/p11enroll/manifest.conf
    jobs: 4
    audit: syslog
    pins:
      HSM1_PIN: "{{ vault_hsm1_pin }}"
"""

RETURN = r"""
events:
  description: One p11enroll event per identity (token, identity, action, result, ...).
  type: list
  returned: always
summary:
  description: p11enroll's summary (changed, unchanged, failed, planned, exit).
  type: dict
  returned: always
exit_status:
  description: p11enroll's exit status (not "rc", which Ansible reads as failed when not 0).
  type: int
  returned: always
"""

import json
import re

from ansible.module_utils.basic import AnsibleModule

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_lines(text):
    events, summary = [], {}
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if doc.get("event") == "summary":
            summary = doc
        else:
            events.append(doc)
    return events, summary


def main():
    module = AnsibleModule(
        argument_spec=dict(
            manifest=dict(type="path", required=True),
            jobs=dict(type="int", default=1),
            audit=dict(type="str"),
            prometheus=dict(type="path"),
            module=dict(type="str"),
            binary=dict(type="path", default="p11enroll"),
            pins=dict(type="dict", default={}, no_log=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    pins = p["pins"] or {}
    for name in pins:
        if not ENV_NAME.match(str(name)):
            module.fail_json(msg="pins: '%s' is not an environment variable name" % name)
    binary = p["binary"]
    if "/" not in binary:
        binary = module.get_bin_path(binary, required=True)
    args = [binary]
    if p["module"]:
        args += ["--module", p["module"]]
    args.append("--json")
    if module.check_mode:
        args += ["plan", p["manifest"]]
    else:
        args += ["apply", p["manifest"], "-j", str(p["jobs"])]
        if p["audit"]:
            args += ["--audit", p["audit"]]
        if p["prometheus"]:
            args += ["--prometheus", p["prometheus"]]
    env = dict((str(k), str(v)) for k, v in pins.items())
    rc, out, err = module.run_command(args, environ_update=env)
    events, summary = parse_lines(out)
    failed = [e for e in events if e.get("result") == "failed"]
    result = dict(exit_status=rc, events=events, summary=summary, cmd=args)
    if module.check_mode:
        result["changed"] = any(e.get("result") == "planned" for e in events)
        ok = rc == 0
    else:
        result["changed"] = rc in (10, 11) and summary.get("changed", 0) > 0
        ok = rc in (0, 10)
    if not ok or failed:
        msg = err.strip() or "p11enroll exited with %d" % rc
        if failed:
            msg = "%d identities failed: %s" % (
                len(failed),
                "; ".join("%s/%s: %s" % (e.get("token"), e.get("identity"), e.get("error"))
                          for e in failed[:5]))
        module.fail_json(msg=msg, stderr=err, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
