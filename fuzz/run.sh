#!/usr/bin/env bash
# Builds every fuzz target and runs each, one after another, for SECONDS
# (libFuzzer's -max_total_time), then prints per target the executions and
# the findings (files libFuzzer left in fuzz/artifacts/<target>/ during this
# run). Exits non-zero if any target crashed.
#
#   bash fuzz/run.sh 180          # every target, 3 minutes each
#   bash fuzz/run.sh 60 api_answer next
#
# Targets are what `cargo fuzz list` lists: add one with `cargo fuzz add NAME`
# (a file in fuzz/fuzz_targets/ and its [[bin]] in fuzz/Cargo.toml). Each runs
# on a working copy of its corpus under fuzz/target/corpus/<target>, seeded
# from fuzz/corpus/<target>, with fuzz/dict/<target>.dict if there is one,
# so the git tree stays clean.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
# The fuzz crate is its own workspace with its own target directory.
unset CARGO_TARGET_DIR

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
fuzz=(cargo +nightly fuzz)

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <("${fuzz[@]}" list)
fi
listed="$("${fuzz[@]}" list)"
for file in fuzz_targets/*.rs; do
  name="$(basename "$file" .rs)"
  if ! grep -qx "$name" <<<"$listed"; then
    echo "warning: $file is not a target in fuzz/Cargo.toml (add it with cargo fuzz add)" >&2
  fi
done

build_log="$(mktemp)"
if ! "${fuzz[@]}" build >"$build_log" 2>&1; then
  cat "$build_log" >&2
  exit 1
fi
rm -f "$build_log"

failed=0
summary=()
for t in "${targets[@]}"; do
  corpus="target/corpus/$t"
  artifacts="artifacts/$t"
  log="target/logs/$t.log"
  mkdir -p "$corpus" "$artifacts" target/logs
  if [ -d "corpus/$t" ]; then
    cp -R corpus/"$t"/. "$corpus"/
  fi
  before="$(find "$artifacts" -type f | sort)"
  options=(-max_total_time="$seconds" -print_final_stats=1 -timeout=20)
  if [ -f "dict/$t.dict" ]; then
    options+=(-dict="dict/$t.dict")
  fi
  echo "== $t: ${seconds}s" >&2
  start=$SECONDS
  if "${fuzz[@]}" run "$t" "$corpus" -- "${options[@]}" >"$log" 2>&1; then
    status=ok
  else
    status=CRASHED
    failed=1
  fi
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
  new="$(comm -13 <(echo "$before") <(find "$artifacts" -type f | sort) | sed '/^$/d')"
  findings="$(printf '%s' "$new" | grep -c . || true)"
  summary+=("$(printf '%-22s %-8s executions %-12s findings %s (%ss)' \
    "$t" "$status" "${execs:-?}" "$findings" "$((SECONDS - start))")")
  if [ "$status" != ok ]; then
    grep -m1 -A12 -E '^(thread .* panicked|==[0-9]+==ERROR)' "$log" >&2 || tail -20 "$log" >&2
    printf '%s\n' "$new" | sed 's|^|  finding: fuzz/|' >&2
  fi
done

printf '%s\n' "${summary[@]}"
exit "$failed"
