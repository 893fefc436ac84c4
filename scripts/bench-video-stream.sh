#!/usr/bin/env bash
# Issue 21's measurements (BENCHMARKS.md, "Streaming video replies (issue 21)"): a 129-frame
# 1280x720 HunyuanVideo decode (latents [1,16,33,90,160] float16, 15 MB) against `rvae serve`.
#  1. Peak RSS (/usr/bin/time -f %M) and wall time of `rvae decode` with --output-type uint8
#     -o frames/, --output-type tensor -o t.npy and -o out.mp4 (when the endpoint has FFmpeg),
#     and of a decode into a caller's buffer (bench/bench_stream_into.cpp, when it is built);
#  2. over bench/throttle_proxy.py pacing the link at RATE MB/s (default 100), the time from the
#     reply's first byte (seen by the proxy) to the first frame file (its mtime), against the
#     reply's whole transfer time.
# Works against a library that holds replies whole too (then the first frame comes after the
# last byte): that is the baseline.
#   scripts/bench-video-stream.sh [BUILD_DIR]   (default build/bench, configured Release here)
#   RUNS=N repeats each measurement (medians printed); RVAE_BENCH_NO_BUILD=1 skips the build;
#   RVAE=PATH measures another rvae binary (e.g. one built from main before streaming);
#   CHUNKS=auto lets the CLI chunk the clip in time as it does by default (default here: off).
set -euo pipefail
cd "$(dirname "$0")/.."

build_dir="${1:-build/bench}"
runs="${RUNS:-3}"
rate="${RATE:-100}"
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DRVAE_BUILD_BENCHMARKS=ON \
    -DRVAE_BUILD_TESTS=OFF >/dev/null
fi
if [ -z "${RVAE_BENCH_NO_BUILD:-}" ]; then
  nice cmake --build "$build_dir" -j2 --target rvae_cli >/dev/null
  nice cmake --build "$build_dir" -j2 --target rvae_bench_stream_into >/dev/null 2>&1 || true
fi
rvae="${RVAE:-$build_dir/rvae}"
into="$build_dir/bench/rvae_bench_stream_into"
work="$build_dir/bench-video"
rm -rf "$work"
mkdir -p "$work"
latents="$work/latents.npy"
python3 bench/make_video_latents.py "$latents"

server=""
proxy=""
cleanup() {
  [ -n "$proxy" ] && kill "$proxy" 2>/dev/null || true
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
# rvae serve prints "serving URL" once it listens.
"$rvae" serve --port 0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 100); do grep -q '^serving ' "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/^serving //p' "$work/serve.out")"
port="${url##*:}"
port="${port%/}"

# Runs `rvae decode` under /usr/bin/time; appends {"case", "rss_kb", "wall_s", "report"} to rows.
rows="$work/rows.jsonl"
: >"$rows"
measure() {
  local name="$1"
  shift
  rm -rf "$work/out"
  mkdir -p "$work/out"
  if /usr/bin/time -f '%M %e' -o "$work/time.txt" "$@" >"$work/report.json" 2>"$work/err.txt"; then
    python3 - "$name" "$work/time.txt" "$work/report.json" >>"$rows" <<'PY'
import json, sys
rss, wall = open(sys.argv[2]).read().split()[-2:]
text = open(sys.argv[3]).read().strip()
report = json.loads(text.splitlines()[-1]) if text.startswith("{") else None
print(json.dumps({"case": sys.argv[1], "rss_kb": int(rss), "wall_s": float(wall),
                  "report": report}))
PY
  else
    echo "$name failed: $(tail -n 3 "$work/err.txt")" >&2
    return 1
  fi
}

decode=("$rvae" decode --model hunyuan-video --json)
# One request per decode, streamed: this is issue 21's streaming measurement. Since temporal
# chunking, the preset's reply budget would split this clip into chunks by default
# (CHUNKS=auto measures that instead); a CLI from before chunking has no such flag.
if "$rvae" decode --help | grep -q -- --frames-per-request; then
  decode+=(--frames-per-request "${CHUNKS:-off}")
fi
decode+=(--endpoint)
have_mp4=1
for run in $(seq "$runs"); do
  measure frames "${decode[@]}" "${url}hunyuan-video/decode/" "$latents" \
    --output-type uint8 -o "$work/out/frames/"
  measure npy "${decode[@]}" "${url}hunyuan-video/decode/" "$latents" \
    --output-type tensor -o "$work/out/t.npy"
  if [ "$have_mp4" = 1 ]; then
    measure mp4 "${decode[@]}" "${url}hunyuan-video/decode/" "$latents" \
      -o "$work/out/out.mp4" || have_mp4=0
  fi
  if [ -x "$into" ]; then
    rm -rf "$work/out" && mkdir -p "$work/out"
    /usr/bin/time -f '%M %e' -o "$work/time.txt" "$into" "${url}hunyuan-video/decode/" \
      "$latents" >"$work/report.json"
    python3 - "$work/time.txt" "$work/report.json" >>"$rows" <<'PY'
import json, sys
rss, wall = open(sys.argv[1]).read().split()[-2:]
print(json.dumps({"case": "into", "rss_kb": int(rss), "wall_s": float(wall),
                  "report": json.loads(open(sys.argv[2]).read())}))
PY
  fi
done

# Over the paced link: the reply's first byte to the first frame file on disk.
proxy_log="$work/proxy.jsonl"
python3 bench/throttle_proxy.py "127.0.0.1:$port" "$rate" "$work/proxy.url" "$proxy_log" &
proxy=$!
for _ in $(seq 100); do [ -s "$work/proxy.url" ] && break; sleep 0.1; done
proxy_url="$(cat "$work/proxy.url")"
paced="$work/paced.jsonl"
: >"$paced"
for run in $(seq "$runs"); do
  : >"$proxy_log"
  rm -rf "$work/out" && mkdir -p "$work/out"
  started="$(date +%s.%N)"
  "${decode[@]}" "${proxy_url}hunyuan-video/decode/" "$latents" --output-type uint8 \
    -o "$work/out/frames/" >"$work/report.json"
  ended="$(date +%s.%N)"
  # The proxy logs the connection when it closes, just after the CLI exits.
  for _ in $(seq 100); do [ -s "$proxy_log" ] && break; sleep 0.05; done
  python3 - "$proxy_log" "$work/out/frames/frame_00000.png" "$work/report.json" "$started" \
    "$ended" >>"$paced" <<'PY'
import json, os, sys
reply = json.loads(open(sys.argv[1]).read().splitlines()[-1])
wall = float(sys.argv[5]) - float(sys.argv[4])
first_file = os.stat(sys.argv[2]).st_mtime
report = json.loads(open(sys.argv[3]).read().strip().splitlines()[-1])
print(json.dumps({"transfer_s": reply["last"] - reply["first"], "wall_s": wall,
                  "first_frame_s": first_file - reply["first"], "bytes": reply["bytes"],
                  "cli_first_frame_ms": report.get("first_frame_ms"),
                  "cli_download_ms": (report.get("timings_ms") or {}).get("download")}))
PY
done

python3 - "$rows" "$paced" "$rate" "$latents" <<'PY'
import json, os, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
paced = [json.loads(line) for line in open(sys.argv[2])]
latents_mb = os.path.getsize(sys.argv[4]) / 1e6
frames_reply = [r["report"]["bytes_received"] for r in rows if r["case"] == "frames"]
reply_mb = frames_reply[0] / 1e6 if frames_reply else 0
targets = {"frames": ("<= 96 MB + latents", 96 + latents_mb),
           "npy": ("<= 96 MB + latents", 96 + latents_mb),
           "into": ("<= reply + 64 MB", reply_mb + 64), "mp4": ("", None)}
labels = {"frames": "--output-type uint8 -o frames/", "npy": "--output-type tensor -o t.npy",
          "mp4": "-o out.mp4", "into": "ReplyStream::into (bench_stream_into)"}
print("median of %d runs per case:" % max(1, len([r for r in rows if r["case"] == "frames"])))
for case in ("frames", "into", "npy", "mp4"):
    mine = [r for r in rows if r["case"] == case]
    if not mine:
        continue
    rss = statistics.median(r["rss_kb"] for r in mine) / 1000
    wall = statistics.median(r["wall_s"] for r in mine)
    target, bound = targets[case]
    verdict = "" if bound is None else (" (target %s = %.0f MB: %s)" % (
        target, bound, "met" if rss <= bound else "NOT met"))
    print("  %-40s peak RSS %7.1f MB, wall %6.2f s%s" % (labels[case], rss, wall, verdict))
if paced:
    transfer = statistics.median(p["transfer_s"] for p in paced)
    first = statistics.median(p["first_frame_s"] for p in paced)
    ratio = first / transfer
    print("over %s MB/s: reply transfer %.2f s (%.0f MB), first frame file %.2f s after the "
          "reply's first byte = %.0f%% of the transfer (target <= 25%%: %s); wall %.2f s"
          % (sys.argv[3], transfer, paced[0]["bytes"] / 1e6, first, 100 * ratio,
             "met" if ratio <= 0.25 else "NOT met",
             statistics.median(p["wall_s"] for p in paced)))
    cli = [p["cli_first_frame_ms"] for p in paced if p["cli_first_frame_ms"] is not None]
    if cli:
        print("  --json first_frame_ms (library-measured first body byte to file): median %.0f ms"
              % statistics.median(cli))
PY
