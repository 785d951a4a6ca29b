#!/usr/bin/env bash
# Runs every fuzz target for a short while; exits non-zero if one crashes.
#
#   fuzz/run.sh                      # each target for 20 s
#   FUZZ_SECONDS=300 fuzz/run.sh     # longer
#   fuzz/run.sh chunked_decoder      # only the named targets
#
# Only a stable toolchain is needed: RUSTC_BOOTSTRAP=1 lets cargo-fuzz pass
# its nightly-only flags (-Zsanitizer, -Cpasses=sancov...). FUZZ_SANITIZER
# picks the sanitizer (default address; "none" builds faster and runs more
# executions per second).
set -euo pipefail

cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-20}"
sanitizer="${FUZZ_SANITIZER:-address}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

export RUSTC_BOOTSTRAP=1
failed=()
for target in "${targets[@]}"; do
    echo "=== $target: ${seconds}s, sanitizer $sanitizer" >&2
    mkdir -p "corpus/$target"
    # New inputs go to corpus/ (not kept in git); seeds/ holds valid examples.
    seeds=()
    [ -d "seeds/$target" ] && seeds=("seeds/$target")
    if ! cargo fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -print_final_stats=1 -close_fd_mask=1; then
        failed+=("$target")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "crashed: ${failed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
echo "all ${#targets[@]} targets ran ${seconds}s without a crash" >&2
