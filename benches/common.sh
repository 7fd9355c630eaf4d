# Shared by the benchmark scripts (scripts/bench-*): building, corpora,
# starting our server, and medians. Source it; it does nothing by itself.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET/release/practice-site"
CORPUS_BIN="$TARGET/release/examples/corpus"
SEED="${SEED:-1}"

build_release() {
    (cd "$ROOT" && cargo build --release --locked --quiet --bin practice-site --example corpus)
}

# corpus DIR N: the shipped content plus N generated articles (seed $SEED).
corpus() {
    rm -rf "$1"
    "$CORPUS_BIN" "$1" "$2" "$SEED" >/dev/null
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_server CONTENT PORT LOG: our release server on loopback; sets SERVER.
# TRUST_PROXY=1 as in production behind Caddy: every wrk connection comes
# from one address, and the per-address connection cap (64) is then the
# proxy's job, as it would be for real.
start_server() {
    SECRET_KEY="a benchmark signing key long enough" RUST_LOG="warn,practice_site=info" TRUST_PROXY=1 \
        "$BIN" serve --content "$1" --config "$1/site.toml" --static "$ROOT/static" \
        --port "$2" --database "$(dirname "$3")/bench-$2.db" 2>"$3" &
    SERVER=$!
}

# wait_for_line FILE PATTERN SECONDS
wait_for_line() {
    local deadline=$((SECONDS + $3))
    until grep -q "$2" "$1" 2>/dev/null; do
        if ((SECONDS > deadline)); then echo "timed out waiting for '$2' in $1" >&2; cat "$1" >&2; return 1; fi
        sleep 0.05
    done
}

# median of the numbers given as arguments
median() {
    printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

machine() {
    echo "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
}
