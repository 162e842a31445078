#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# Copyright the Outpost authors.
"""Times Keylime's own IMA verification of an ASCII IMA list against a Keylime runtime policy.

Our driver, not Keylime code: it imports Keylime from --keylime-src and calls the function the Keylime verifier
calls for every attestation, keylime.ima.ima.process_measurement_list (Tpm.__check_ima in keylime/tpm/tpm_main.py
passes it the list split on newlines, the deserialized runtime policy, PCR 10 from the quote, the agent's IMA
keyrings and the boot_aggregates from the measured-boot log, and the quote's bank). Per entry that covers parsing,
the template-hash check, the PCR 10 replay in the quoted bank, excludes and the policy lookup; at the end, whether
some prefix of the list replayed to the quoted PCR.

Each timed run starts from a fresh AgentAttestState, as a device's first attestation after boot (the whole list
from entry 0). The policy is deserialized once and its json.loads time reported apart ("policy load"): Keylime's
pull-mode verifier deserializes it on every attestation, our appliance compiles it once per policy.

Before timing, it checks that Keylime really verifies: tampered copies of the first list (made here in memory,
and any --tampered files) must fail, each for the expected reason. Exit 0 when every list passed and every
tampered one failed as expected, 1 otherwise, 2 when Keylime or a Python module is missing.

Run with the system Python that has Keylime's dependencies from Debian packages:
  apt-get install -y python3-jsonschema python3-gpg python3-lark python3-packaging python3-yaml python3-cryptography
  /usr/bin/python3 bench/keylime/keylime_ima.py --keylime-src /tmp/keylime-src --policy policy.json \
      --list list-10000.ascii [--pcr HEX | list-10000.ascii.pcr next to the list] [--bank sha256] [--runs 3]
      [--min-seconds 1] [--tampered tamper-KIND.ascii]... [--json]
"""

import argparse
import hashlib
import json
import logging
import os
import platform
import statistics
import struct
import subprocess
import sys
import tempfile
import time

APT_LINE = (
    "apt-get install -y python3-jsonschema python3-gpg python3-lark python3-packaging python3-yaml python3-cryptography"
)
# Python module -> Debian package, for the modules Keylime's IMA path imports.
DEBIAN = {
    "jsonschema": "python3-jsonschema",
    "gpg": "python3-gpg",
    "lark": "python3-lark",
    "packaging": "python3-packaging",
    "yaml": "python3-yaml",
    "cryptography": "python3-cryptography",
    "typing_extensions": "python3-typing-extensions",
}

# Which failure event ids each tamper kind must produce (and nothing else).
EXPECTED = {
    "template": "ima_hash",
    "pcr": "pcr_mismatch",
    "policy": "runtime_policy_hash",
    "unlisted": "not_in_allowlist",
}


def fail_usage(msg):
    print(f"keylime_ima.py: {msg}", file=sys.stderr)
    sys.exit(2)


def import_keylime(src, workdir):
    """Imports Keylime from src with its configuration taken from workdir, not /etc/keylime."""
    if not os.path.isfile(os.path.join(src, "keylime", "ima", "ima.py")):
        fail_usage(f"{src} is not a Keylime source tree (no keylime/ima/ima.py): give a checkout of keylime/keylime")
    log_file = os.path.join(workdir, "keylime.log")
    # Keylime's shipped logging.conf logs at INFO; here to a file, so the tamper checks' errors stay out of the way.
    with open(os.path.join(workdir, "logging.conf"), "w", encoding="utf-8") as f:
        f.write(
            "[loggers]\nkeys = root,keylime\n[handlers]\nkeys = file\n[formatters]\nkeys = formatter\n"
            "[formatter_formatter]\nformat = %(asctime)s %(name)s %(levelname)s %(message)s\n"
            "[logger_root]\nlevel = INFO\nhandlers = file\n"
            f"[handler_file]\nclass = FileHandler\nlevel = INFO\nformatter = formatter\nargs = ({log_file!r}, 'a')\n"
            "[logger_keylime]\nlevel = INFO\nqualname = keylime\nhandlers =\n"
        )
    # The shipped verifier.conf default; only read for ToMToU entries, which this workload has none of.
    with open(os.path.join(workdir, "verifier.conf"), "w", encoding="utf-8") as f:
        f.write("[verifier]\nignore_tomtou_errors = False\n")
    os.environ["KEYLIME_LOGGING_CONFIG"] = os.path.join(workdir, "logging.conf")
    os.environ["KEYLIME_VERIFIER_CONFIG"] = os.path.join(workdir, "verifier.conf")
    os.environ["KEYLIME_DIR"] = workdir
    sys.path.insert(0, os.path.abspath(src))
    logging.disable(logging.INFO)  # keylime.config's "Reading configuration from ..." before logging is set up
    try:
        # pylint: disable=import-outside-toplevel
        from keylime.agentstates import AgentAttestState
        from keylime.common.algorithms import Hash
        from keylime.ima import file_signatures, ima
    except ModuleNotFoundError as e:
        pkg = DEBIAN.get(e.name.split(".")[0]) if e.name else None
        fail_usage(
            f"Python module '{e.name}' is missing for {sys.executable}"
            + (f" (Debian package {pkg})" if pkg else "")
            + f".\nInstall Keylime's IMA dependencies with:\n  {APT_LINE}\n"
            + "(Debian's packages are for /usr/bin/python3: run this script with it.)"
        )
    finally:
        logging.disable(logging.NOTSET)
    real = os.path.realpath(ima.__file__)
    if not real.startswith(os.path.realpath(src) + os.sep):
        fail_usage(f"imported {real}, not the Keylime under {src}")
    return ima, file_signatures, AgentAttestState, Hash, log_file


def keylime_commit(src):
    try:
        return subprocess.run(
            ["git", "-C", src, "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# ---- ima-ng lines, for the in-memory tampered copies (the kernel's template layout, written from its docs) ----


def ima_ng_template(digest_field, path):
    """Template data of an ima-ng entry: d-ng ("alg:" NUL digest) and n-ng (path NUL), each u32-LE length-prefixed."""
    alg, hexdigest = digest_field.split(":", 1)
    d = alg.encode() + b":\0" + bytes.fromhex(hexdigest)
    n = path.encode() + b"\0"
    return struct.pack("<I", len(d)) + d + struct.pack("<I", len(n)) + n


def replay(lines, bank):
    """PCR 10 after extending, for each ima-ng line, the bank's hash of its template data (the kernel's way)."""
    pcr = bytes(hashlib.new(bank).digest_size)
    for line in lines:
        if not line:
            continue
        _, _, _, digest_field, path = line.split(" ", 4)
        pcr = hashlib.new(bank, pcr + hashlib.new(bank, ima_ng_template(digest_field, path)).digest()).digest()
    return pcr.hex()


def builtin_tampers(text, pcr_hex, bank):
    """(kind, list text, quoted PCR) tampered copies of an ima-ng list, each caught by one check alone."""
    lines = text.split("\n")
    entries = [i for i, l in enumerate(lines) if l]
    mid = entries[len(entries) // 2]
    pcr_, th, tmpl, digest_field, path = lines[mid].split(" ", 4)
    if tmpl != "ima-ng":
        raise SystemExit(f"keylime_ima.py: the built-in tampers need an ima-ng entry mid-list, found {tmpl}")
    out = []
    # Template-hash column edited, template data intact; the TPM's PCR is the good list's.
    t = list(lines)
    t[mid] = " ".join([pcr_, ("1" if th[0] == "0" else "0") + th[1:], tmpl, digest_field, path])
    out.append(("template", "\n".join(t), pcr_hex))
    # An entry dropped from the log after the TPM was extended.
    t = list(lines)
    del t[mid]
    out.append(("pcr", "\n".join(t), pcr_hex))
    # A modified file measured by an honest kernel: new digest, consistent template hash and PCR.
    alg = digest_field.split(":", 1)[0]
    new_digest = f"{alg}:{hashlib.new(alg, b'modified ' + path.encode()).hexdigest()}"
    new_th = hashlib.sha1(ima_ng_template(new_digest, path)).hexdigest()
    t = list(lines)
    t[mid] = " ".join([pcr_, new_th, tmpl, new_digest, path])
    out.append(("policy", "\n".join(t), replay(t, bank)))
    return out


# ---- verification ----


class Verifier:
    def __init__(self, ima, file_signatures, agent_attest_state, hash_cls, policy, bank):
        self.ima = ima
        self.file_signatures = file_signatures
        self.agent_attest_state = agent_attest_state
        self.policy = policy
        self.bank = hash_cls(bank)

    def attest(self, text, pcr_hex):
        """One attestation's IMA check as the verifier runs it; returns (Failure, wall seconds, CPU seconds)."""
        state = self.agent_attest_state("side-by-side")
        keyrings = state.get_ima_keyrings()
        # cloud_verifier_common.process_quote_response: the tenant keyring from the policy's verification-keys.
        keyrings.set_tenant_keyring(self.file_signatures.ImaKeyring.from_string(self.policy["verification-keys"]))
        c0 = time.thread_time()
        t0 = time.perf_counter()
        _, failure = self.ima.process_measurement_list(
            state,
            text.split("\n"),
            self.policy,
            pcrval=pcr_hex,
            ima_keyrings=keyrings,
            boot_aggregates=None,  # no measured-boot log: boot_aggregate is checked against the policy's digests
            hash_alg=self.bank,
        )
        return failure, time.perf_counter() - t0, time.thread_time() - c0


def failure_summary(failure):
    if not failure:
        return [], ""
    ids = failure.get_event_ids()
    first = failure.events[0]
    return ids, f"{first.event_id}: {first.context}"


def tamper_verdict(kind, failure):
    """(ok, ids): the tampered list failed, with the expected event and no other kind."""
    ids, _ = failure_summary(failure)
    want = EXPECTED.get(kind)
    if want is None:
        return bool(failure), ids
    return bool(failure) and bool(ids) and all(i.endswith("." + want) for i in ids), ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    ap.add_argument("--keylime-src", required=True, help="a Keylime checkout (the directory holding keylime/)")
    ap.add_argument("--policy", required=True, help="Keylime runtime policy JSON")
    ap.add_argument("--list", action="append", required=True, help="ASCII IMA list (repeatable); PCR from LIST.pcr")
    ap.add_argument("--pcr", help="quoted PCR 10 (hex) for a single --list, instead of LIST.pcr")
    ap.add_argument("--bank", default="sha256", help="the quote's PCR bank (default sha256)")
    ap.add_argument("--tampered", action="append", default=[],
                    help="a list that must fail (repeatable); tamper-KIND.ascii must fail for that KIND only")
    ap.add_argument("--runs", type=int, default=3, help="at least this many timed runs per list (default 3)")
    ap.add_argument("--min-seconds", type=float, default=1.0,
                    help="and at least this much time in timed runs per list, after one untimed run (default 1)")
    ap.add_argument("--json", action="store_true", help="one JSON object per line")
    args = ap.parse_args()
    if args.pcr and len(args.list) != 1:
        fail_usage("--pcr goes with a single --list; otherwise each LIST.pcr is read")

    workdir = tempfile.mkdtemp(prefix="keylime-ima-")
    ima, file_signatures, agent_attest_state, hash_cls, log_file = import_keylime(args.keylime_src, workdir)

    def emit(obj, human):
        print(json.dumps(obj) if args.json else human, flush=True)

    def read_pcr(path):
        with open(path + ".pcr", encoding="ascii") as f:
            return f.read().strip()

    with open(args.policy, encoding="utf-8") as f:
        policy_text = f.read()
    loads = []
    for _ in range(3):
        t0 = time.perf_counter()
        policy = ima.deserialize_runtime_policy(policy_text)  # what the verifier does with the stored policy
        loads.append(time.perf_counter() - t0)
    ima.validate_runtime_policy(policy)  # what Keylime checks when the policy is uploaded (raises if invalid)
    emit(
        {
            "verifier": "keylime",
            "keylime_commit": keylime_commit(args.keylime_src),
            "python": platform.python_version(),
            "policy_load_ms": round(min(loads) * 1e3, 1),
            "policy_paths": len(policy["digests"]),
            "log": log_file,
        },
        f"Keylime {keylime_commit(args.keylime_src)[:12]} on Python {platform.python_version()}; policy "
        f"({len(policy['digests'])} paths) valid by Keylime's schema, json.loads {min(loads) * 1e3:.1f} ms; log {log_file}",
    )
    v = Verifier(ima, file_signatures, agent_attest_state, hash_cls, policy, args.bank)
    ok = True

    texts = []
    for path in args.list:
        with open(path, encoding="utf-8") as f:
            texts.append((path, f.read(), args.pcr or read_pcr(path)))

    # Sanity first: Keylime must reject tampered lists, each for the right reason.
    checks = [(f"built-in {k}", k, t, p) for k, t, p in builtin_tampers(texts[0][1], texts[0][2], args.bank)]
    for path in args.tampered:
        with open(path, encoding="utf-8") as f:
            name = os.path.basename(path)
            kind = name[len("tamper-"):].split(".")[0] if name.startswith("tamper-") else None
            checks.append((name, kind, f.read(), read_pcr(path)))
    for name, kind, text, pcr in checks:
        failure, _, _ = v.attest(text, pcr)
        good, ids = tamper_verdict(kind, failure)
        ok &= good
        emit(
            {"verifier": "keylime", "tampered": name, "kind": kind, "failed_as_expected": good, "failure_ids": ids},
            f"sanity {name}: {'FAIL as expected' if good else 'NOT AS EXPECTED'} ({', '.join(ids) or 'passed!'})",
        )

    for path, text, pcr in texts:
        entries = sum(1 for l in text.split("\n") if l.strip())
        failure, _, _ = v.attest(text, pcr)  # untimed first run
        times, cpu = [], []
        while len(times) < args.runs or sum(times) < args.min_seconds:
            failure, dt, dc = v.attest(text, pcr)
            times.append(dt)
            cpu.append(dc)
        median = statistics.median(times)
        cpu_median = statistics.median(cpu)
        ids, msg = failure_summary(failure)
        ok &= not failure
        emit(
            {
                "verifier": "keylime",
                "list": os.path.basename(path),
                "entries": entries,
                "passed": not failure,
                "runs": len(times),
                "median_s": round(median, 6),
                "best_s": round(min(times), 6),
                "cpu_median_s": round(cpu_median, 6),
                "entries_per_s": round(entries / median),
                "entries_per_cpu_s": round(entries / cpu_median),
                "failure_ids": ids,
                "failure": msg,
            },
            f"{os.path.basename(path)}: {entries} entries, {'PASS' if not failure else 'FAIL'}, median of "
            f"{len(times)} runs {median:.4f} s = {entries / median:,.0f} entries/s" + (f"\n  {msg}" if failure else ""),
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
