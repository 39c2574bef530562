#!/usr/bin/env bash
# Runs `dedup-vitals top` in a real pseudo-terminal (tmux, 120x40) over a live service fed by
# `simulate --scenario retry-storm`, and checks what a person would see: the series on screen, Enter opening the
# detail view, s changing the sort, a resize being redrawn, and q giving back the shell with its terminal settings
# untouched. Every process it starts is stopped by PID. Bounded: at most about a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
export LC_ALL=C.UTF-8 # count characters, not bytes, when measuring screen lines
command -v tmux >/dev/null 2>&1 || { echo "e2e-top: tmux is required"; exit 1; }
bin="$(swift build --show-bin-path)/dedup-vitals"
work="$(mktemp -d)"
sock="dv-e2e-top-$$"
tm() { tmux -L "$sock" "$@"; }
serve_pid=""
sim_pid=""
tmux_pid=""
cleanup() {
  status=$?
  if [ "$status" -ne 0 ] && [ -n "$tmux_pid" ]; then
    echo "--- screen at failure:"; tm capture-pane -p -t e2e 2>/dev/null || true
    echo "--- serve log:"; tail -5 "$work/serve.log" 2>/dev/null || true
  fi
  for pid in "$sim_pid" "$serve_pid" "$tmux_pid"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "$sim_pid" "$serve_pid"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  # The tmux server is not our child: give it a moment to go before removing the directory its shell ran in.
  for _ in $(seq 1 20); do
    [ -n "$tmux_pid" ] && kill -0 "$tmux_pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -rf "$work" 2>/dev/null || true
  exit "$status"
}
trap cleanup EXIT

# Waits until the tmux pane shows a line matching the extended regex $1 (at most $2 seconds).
wait_for() {
  local pattern=$1 limit=${2:-20}
  for _ in $(seq 1 $((limit * 10))); do
    tm capture-pane -p -t e2e | grep -Eq -- "$pattern" && return 0
    sleep 0.1
  done
  echo "e2e-top: timed out after ${limit}s waiting for: $pattern"
  return 1
}

"$bin" serve --db "$work/db.sqlite" --listen 127.0.0.1:0 >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do
  grep -q 'address=127.0.0.1:' "$work/serve.log" && break
  sleep 0.1
done
port="$(grep -o 'address=127.0.0.1:[0-9]*' "$work/serve.log" | head -1 | cut -d: -f2)"
[ -n "$port" ] || { echo "e2e-top: service did not start"; cat "$work/serve.log"; exit 1; }
url="http://127.0.0.1:$port"

"$bin" simulate --url "$url" --scenario retry-storm --duration 30 --rate 300 >"$work/simulate.log" 2>&1 &
sim_pid=$!

# A plain interactive shell with a recognizable prompt in a 120x40 pseudo-terminal.
tm new-session -d -s e2e -x 120 -y 40 \
  "env -i PATH=$PATH HOME=$work HISTFILE= TERM=xterm-256color PS1='e2e-shell\$ ' bash --norc --noprofile -i"
tmux_pid="$(tm display-message -p -t e2e '#{pid}')"
wait_for '^e2e-shell\$' 10
tm send-keys -t e2e "stty -g > $work/stty.before; $bin top --url $url --refresh 1; echo top-exit=\$?; stty -g > $work/stty.after" Enter

# The dashboard shows the simulated series with their ratios.
wait_for 'dedup-vitals +http://127.0.0.1:' 15
wait_for 'payments/refund +[0-9.]+ ' 20
wait_for 'agents/tool\.call' 5
wait_for 'SERIES +ATT/S +DUP 1m' 5
screen="$(tm capture-pane -p -t e2e)"
echo "$screen" | grep -q 'alerts firing' || { echo "e2e-top: no header totals"; exit 1; }

# Enter opens the detail view of the selected series; Esc goes back.
tm send-keys -t e2e Enter
wait_for 'Key forensics' 5
wait_for '^ +in_flight +.*peak' 5
tm send-keys -t e2e Escape
wait_for 'SERIES +ATT/S' 5

# s cycles the sort column.
wait_for 'sort name' 5
tm send-keys -t e2e s
wait_for 'sort attempts/s' 5

# A resize is redrawn at the new size.
tm resize-window -t e2e -x 90 -y 30
wait_for 'SERIES +ATT/S' 5
sleep 1.2
widest=0
while IFS= read -r line; do
  [ "${#line}" -gt "$widest" ] && widest=${#line}
done < <(tm capture-pane -p -t e2e)
[ "$widest" -le 90 ] || { echo "e2e-top: a line of $widest columns in a 90-column window"; exit 1; }

# q quits and gives the shell back with the terminal settings it had.
tm send-keys -t e2e q
wait_for '^top-exit=0$' 5
wait_for '^e2e-shell\$ *$' 5
if tm capture-pane -p -t e2e | grep -q 'SERIES'; then echo "e2e-top: dashboard still on screen after q"; exit 1; fi
[ -s "$work/stty.after" ] || sleep 0.5
cmp -s "$work/stty.before" "$work/stty.after" || { echo "e2e-top: terminal settings not restored"; exit 1; }
tm send-keys -t e2e 'echo restored-$((40+2))' Enter
wait_for '^restored-42$' 5

# Ctrl-C quits as well and restores the terminal.
tm send-keys -t e2e "$bin top --url $url --refresh 1; echo top2-exit=\$?; stty -g > $work/stty.after2" Enter
wait_for 'SERIES +ATT/S' 10
tm send-keys -t e2e C-c
wait_for '^top2-exit=0$' 5
sleep 0.3
cmp -s "$work/stty.before" "$work/stty.after2" || { echo "e2e-top: terminal settings not restored after Ctrl-C"; exit 1; }

# With the service gone the status line shows the error and polling goes on; SIGTERM restores the terminal.
tm send-keys -t e2e "sh -c 'echo \$\$ > $work/top.pid; exec $bin top --url $url --refresh 1'; echo top3-exit=\$?; stty -g > $work/stty.after3" Enter
wait_for 'SERIES +ATT/S' 10
kill "$sim_pid" 2>/dev/null || true
wait "$sim_pid" 2>/dev/null || true
sim_pid=""
kill -TERM "$serve_pid"
wait "$serve_pid"
serve_pid=""
wait_for '⚠ cannot reach http://127.0.0.1:[0-9]+/v1/summary: connection refused' 10
wait_for 'payments/refund' 2
kill -TERM "$(cat "$work/top.pid")"
wait_for '^top3-exit=0$' 5
sleep 0.3
cmp -s "$work/stty.before" "$work/stty.after3" || { echo "e2e-top: terminal settings not restored after SIGTERM"; exit 1; }
echo "top e2e: series shown, Enter/Esc/s change the view, resize redrawn, errors in the status line;" \
  "q, Ctrl-C and SIGTERM restore the shell"
