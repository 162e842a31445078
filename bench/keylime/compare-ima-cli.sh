#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Whole-process comparison: `outpost-appliance verify ima` (through bin/outpost-appliance, JVM start, class loading
# and a cold policy load included) against Keylime's IMA verification run once in a fresh Python process
# (keylime_verify_once.py: interpreter start, Keylime's imports, policy json.loads, list, verdict), on the same files,
# interleaved run by run so both see the same load on a shared box. Wall time and peak RSS from /usr/bin/time.
#
#   bench/keylime/compare-ima-cli.sh /path/to/keylime-checkout
#
# Builds nothing: first `./mvnw -B -q package -DskipTests -pl bench -am`. Environment: ENTRIES (500000), PATHS
# (100000 policy paths; the list cycles over them), RUNS (5), PYTHON (/usr/bin/python3), OUT (workload directory,
# kept; reused when it already holds the files), OUTPOST_JAVA_OPTS (passed on to the launcher, e.g. to compare flags).
# Exit 0 when every run of both passed the list, 1 otherwise, 2 when something needed is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
src=${1:-}
entries=${ENTRIES:-500000}
paths=${PATHS:-100000}
runs=${RUNS:-5}
py=${PYTHON:-/usr/bin/python3}
die() { echo "compare-ima-cli: $*" >&2; exit 2; }
[ -f "$src/keylime/ima/ima.py" ] || die "usage: $0 /path/to/keylime-checkout (no keylime/ima/ima.py under '$src')"
[ -x /usr/bin/time ] || die "needs GNU time (/usr/bin/time; apt-get install -y time)"
[ -f "$root/bench/target/benchmarks.jar" ] || die "build first: ./mvnw -B -q package -DskipTests -pl bench -am"
out=${OUT:-$(mktemp -d /tmp/compare-ima-cli.XXXXXX)}
list=$out/list-$entries.ascii
if [ ! -f "$list" ] || [ ! -f "$out/policy.json" ]; then
  java -cp "$root/bench/target/benchmarks.jar" dev.outpost.bench.ima.ImaSideBySide generate --out "$out" \
    --sizes "10000,$entries" --paths "$paths"
fi
pcr=$(cat "$list.pcr")
echo "== verify ima as a whole process: $entries entries, $paths-path policy, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "   load average before: $(cut -d' ' -f1-3 /proc/loadavg); OUTPOST_JAVA_OPTS='${OUTPOST_JAVA_OPTS:-}'"
(cd "$out" && sha256sum policy.json "$(basename "$list")" | sed 's/^/   /')
rc=0
: > "$out/times.txt"
for i in $(seq "$runs"); do
  /usr/bin/time -o "$out/t" -f '%e %M %U %S' "$py" "$here/keylime_verify_once.py" --keylime-src "$src" \
    --policy "$out/policy.json" --list "$list" --pcr "$pcr" --bank sha256 > "$out/keylime.out" 2>&1 || rc=1
  echo "keylime $(tail -1 "$out/t") $(head -c 60 "$out/keylime.out" | head -1)" >> "$out/times.txt"
  /usr/bin/time -o "$out/t" -f '%e %M %U %S' "$root/bin/outpost-appliance" verify ima --policy "$out/policy.json" \
    --log "$list" --pcr "$pcr" --bank sha256 > "$out/outpost.out" 2>&1 || rc=1
  echo "outpost $(tail -1 "$out/t") $(head -c 60 "$out/outpost.out" | head -1)" >> "$out/times.txt"
done
sed 's/^/   /' "$out/times.txt"
echo "   load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
"$py" - "$out/times.txt" <<'PYEOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
med = {}
for who in ("keylime", "outpost"):
    t = [float(r[1]) for r in rows if r[0] == who]
    m = [int(r[2]) for r in rows if r[0] == who]
    c = [float(r[3]) + float(r[4]) for r in rows if r[0] == who]
    med[who] = (statistics.median(t), statistics.median(m), max(m), statistics.median(c))
    print(f"   {who:8} median {med[who][0]:.2f} s wall, {med[who][3]:.2f} s CPU (user+sys), peak RSS median"
          f" {med[who][1] / 1024:.0f} MiB (max {med[who][2] / 1024:.0f})")
# CPU time is the steadier figure on a shared box: waiting for a core inflates wall time, not CPU time.
print(f"   Keylime / Outpost: {med['keylime'][0] / med['outpost'][0]:.1f}x the wall time, "
      f"{med['keylime'][3] / med['outpost'][3]:.1f}x the CPU time, {med['keylime'][1] / med['outpost'][1]:.2f}x the memory")
PYEOF
[ "$rc" = 0 ] || echo "== FAILED: a run did not pass the list (see $out/*.out)"
exit "$rc"
