#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Keylime's Python IMA verification and ours, side by side in one run, on byte-identical files: the same ASCII
# ima-ng sha256 lists, the same Keylime runtime policy, the same quoted PCR 10 (sha256 bank).
#
#   bench/keylime/compare-ima.sh /path/to/keylime-checkout
#
# Builds nothing: first `./mvnw -B -q package -DskipTests -pl bench -am` (bench/target/benchmarks.jar and
# appliance/target/outpost-appliance.jar). Keylime's Python dependencies come from Debian packages for
# /usr/bin/python3 (see APT_LINE). Environment: SIZES (default 10000,100000), KEYLIME_RUNS (3), WARMUP_SECONDS (3),
# PYTHON (/usr/bin/python3), OUT (a new temp dir; the workload and both verifiers' JSON results stay there).
#
# Exit 0 when both verifiers pass every generated list and fail every tampered one for the expected reason;
# 1 when a verdict is wrong; 2 when something needed is missing.
set -euo pipefail

APT_LINE="apt-get install -y python3-jsonschema python3-gpg python3-lark python3-packaging python3-yaml python3-cryptography"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
src=${1:-}
sizes=${SIZES:-10000,100000}
py=${PYTHON:-/usr/bin/python3}
bench_jar=$root/bench/target/benchmarks.jar
cli_jar=$root/appliance/target/outpost-appliance.jar

die() { echo "compare-ima: $*" >&2; exit 2; }

[ -n "$src" ] || die "usage: $0 /path/to/keylime-checkout   (a checkout of the keylime/keylime repository)"
[ -f "$src/keylime/ima/ima.py" ] || die "$src is not a Keylime checkout (no keylime/ima/ima.py)"
[ -x "$py" ] || die "no $py; Keylime's dependencies are installed for Debian's python3: apt-get install -y python3 && $APT_LINE"
if ! missing=$("$py" - <<'EOF' 2>&1
import importlib, sys
gone = []
for m in ("jsonschema", "gpg", "lark", "packaging", "yaml", "cryptography"):
    try:
        importlib.import_module(m)
    except ImportError:
        gone.append(m)
print(" ".join(gone))
sys.exit(1 if gone else 0)
EOF
); then
  die "Python modules missing for $py: $missing
Install them with:
  $APT_LINE"
fi
for j in "$bench_jar" "$cli_jar"; do
  [ -f "$j" ] || die "no $j; build first: ./mvnw -B -q package -DskipTests -pl bench -am"
done
command -v java >/dev/null || die "no java on PATH"

out=${OUT:-$(mktemp -d /tmp/compare-ima.XXXXXX)}
mkdir -p "$out"
echo "== Keylime IMA verification vs Outpost's, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   keylime $(git -C "$src" rev-parse HEAD 2>/dev/null || echo "(not a git checkout)") ($(git -C "$src" describe --tags 2>/dev/null || echo '?')), Python $("$py" -c 'import platform; print(platform.python_version())'), $(java -version 2>&1 | head -1)"
echo "   workload in $out"

java -cp "$bench_jar" dev.outpost.bench.ima.ImaSideBySide generate --out "$out" --sizes "$sizes"
lists=()
for n in ${sizes//,/ }; do lists+=("$out/list-$n.ascii"); done
tampered=("$out"/tamper-*.ascii)
(cd "$out" && sha256sum policy.json list-*.ascii tamper-*.ascii | sed 's/^/   /')

echo "== Keylime (Python, keylime.ima.ima.process_measurement_list)"
kl_args=(--json --keylime-src "$src" --policy "$out/policy.json" --runs "${KEYLIME_RUNS:-3}")
for l in "${lists[@]}"; do kl_args+=(--list "$l"); done
for t in "${tampered[@]}"; do kl_args+=(--tampered "$t"); done
kl_rc=0
TMPDIR="$out" "$py" "$here/keylime_ima.py" "${kl_args[@]}" > "$out/keylime.jsonl" || kl_rc=$?  # its log stays in $out
[ "$kl_rc" -le 1 ] || { cat "$out/keylime.jsonl"; die "the Keylime driver could not run (exit $kl_rc)"; }

echo "== Outpost (Java, IncrementalImaVerifier as the appliance runs it, JIT warmed)"
op_args=(run --policy "$out/policy.json" --warmup-seconds "${WARMUP_SECONDS:-3}")
for t in "${tampered[@]}"; do op_args+=(--tampered "$t"); done
java -cp "$bench_jar" dev.outpost.bench.ima.ImaSideBySide "${op_args[@]}" "${lists[@]}" > "$out/outpost.jsonl"

echo "== Outpost CLI once, JVM start-up included"
big=${lists[${#lists[@]}-1]}
t0=$(date +%s%N)
cli_rc=0
java -jar "$cli_jar" verify ima --policy "$out/policy.json" --log "$big" --pcr "$(cat "$big.pcr")" --bank sha256 \
  > "$out/cli.txt" 2>&1 || cli_rc=$?
t1=$(date +%s%N)
echo "   outpost-appliance verify ima --policy policy.json --log $(basename "$big") --pcr ... --bank sha256: exit $cli_rc," \
  "$(( (t1 - t0) / 1000000 )) ms wall; $(head -1 "$out/cli.txt" | cut -c1-60)..."

"$py" - "$out" "$kl_rc" "$cli_rc" <<'EOF'
import json, os, sys
out, kl_rc, cli_rc = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(name):
    with open(os.path.join(out, name)) as f:
        return [json.loads(l) for l in f if l.strip()]
kl, op = load("keylime.jsonl"), load("outpost.jsonl")
# The single check each tampered list must trip, as each verifier names it.
want = {"keylime": {"template": "ima_hash", "pcr": "pcr_mismatch", "policy": "runtime_policy_hash", "unlisted": "not_in_allowlist"},
        "outpost": {"template": "template_hash_mismatch", "pcr": "pcr_mismatch", "policy": "runtime_policy_hash", "unlisted": "not_in_allowlist"}}
errors = []
if kl_rc:
    errors.append("the Keylime driver reported a wrong verdict (exit 1)")
if cli_rc:
    errors.append(f"outpost-appliance verify ima failed the good list (exit {cli_rc})")
kl_lists = {r["list"]: r for r in kl if "list" in r}
op_lists = {r["list"]: r for r in op if "list" in r}
print("== Sanity: tampered lists must fail, each for its one reason")
for r in kl:
    if "tampered" in r:
        print(f"   keylime {r['tampered']:24} {'fails as expected' if r['failed_as_expected'] else 'WRONG'}: {', '.join(r['failure_ids']) or 'PASSED'}")
        if not r["failed_as_expected"]:
            errors.append(f"Keylime: {r['tampered']} did not fail as expected")
for name, r in op_lists.items():
    if not name.startswith("tamper-"):
        continue
    kind = name[len("tamper-"):].split(".")[0]
    good = not r["passed"] and r["failure_ids"] and all(i.endswith(want["outpost"][kind]) for i in r["failure_ids"])
    print(f"   outpost {name:24} {'fails as expected' if good else 'WRONG'}: {', '.join(r['failure_ids']) or 'PASSED'}")
    if not good:
        errors.append(f"Outpost: {name} did not fail as expected")
print("== Throughput: whole list from entry 0 against the quoted PCR 10; median wall time per list (and on the")
print("   verifying thread's CPU time, which the other work on a shared box inflates less)")
print(f"   {'entries':>9} | {'keylime entries/s':>17} | {'outpost entries/s':>17} | {'ratio':>6} | {'ratio, thread CPU':>17}")
for name, k in kl_lists.items():
    o = op_lists.get(name)
    if o is None:
        errors.append(f"Outpost did not verify {name}")
        continue
    for who, r in (("Keylime", k), ("Outpost", o)):
        if not r["passed"]:
            errors.append(f"{who} failed the good list {name}: {r['failure']}")
    if k["entries"] != o["entries"]:
        errors.append(f"{name}: Keylime counted {k['entries']} entries, Outpost {o['entries']}")
    print(f"   {k['entries']:>9,} | {k['entries_per_s']:>17,} | {o['entries_per_s']:>17,.0f} |"
          f" {o['entries_per_s'] / k['entries_per_s']:>5.1f}x | {o['entries_per_cpu_s'] / k['entries_per_cpu_s']:>16.1f}x")
kh = next(r for r in kl if "policy_load_ms" in r)
oh = next(r for r in op if "policy_load_ms" in r)
print(f"   policy ({kh['policy_paths']:,} paths) load: Keylime json.loads {kh['policy_load_ms']} ms (its pull-mode verifier does it on"
      f" every attestation); Outpost load + compile {oh['policy_load_ms']} ms warm, {oh['policy_load_ms_first']} ms cold (once per policy, cached)")
if errors:
    print("== FAILED:\n   " + "\n   ".join(errors))
    sys.exit(1)
print("== OK: both verifiers passed every good list and failed every tampered one for the expected reason")
EOF
