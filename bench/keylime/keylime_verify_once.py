#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Copyright the Outpost authors.
"""Keylime's IMA verification of one list as a whole process: the counterpart of `outpost-appliance verify ima`.

Our driver, not Keylime code. It does once what keylime_ima.py times in a loop: read the runtime policy file and
deserialize it (Keylime's verifier does this per quote), read the ASCII list, and call
keylime.ima.ima.process_measurement_list as the verifier's Tpm.__check_ima does, from a fresh AgentAttestState
(first attestation since boot: the whole list from entry 0). Timed from outside (wall time, peak RSS), so the
interpreter's start and Keylime's imports count, as the JVM's start counts for ours.

  /usr/bin/python3 bench/keylime/keylime_verify_once.py --keylime-src DIR --policy policy.json --list LIST \
      [--pcr HEX | LIST.pcr] [--bank sha256]

Prints PASS or FAIL with the first failure; exit 0 pass, 1 fail, 2 Keylime or a module missing.
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import keylime_ima  # noqa: E402  our driver: Keylime's import with a private configuration


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--keylime-src", required=True)
    ap.add_argument("--policy", required=True)
    ap.add_argument("--list", required=True)
    ap.add_argument("--pcr")
    ap.add_argument("--bank", default="sha256")
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="keylime-once-")
    ima, file_signatures, agent_attest_state, hash_cls, _ = keylime_ima.import_keylime(args.keylime_src, workdir)
    with open(args.policy, encoding="utf-8") as f:
        policy = ima.deserialize_runtime_policy(f.read())
    pcr = args.pcr
    if not pcr:
        with open(args.list + ".pcr", encoding="ascii") as f:
            pcr = f.read().strip()
    with open(args.list, encoding="utf-8") as f:
        text = f.read()
    v = keylime_ima.Verifier(ima, file_signatures, agent_attest_state, hash_cls, policy, args.bank)
    failure, _, _ = v.attest(text, pcr)
    ids, msg = keylime_ima.failure_summary(failure)
    print("FAIL: " + msg if failure else "PASS")
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(main())
