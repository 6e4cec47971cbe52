#!/usr/bin/env bash
# ctest: drives `a3b run` through a pseudo-terminal (tmux) like a person would: a question with
# thinking on (reasoning shown dimmed, apart from the answer), /no_think, /reasoning, /clear, a
# calculator tool call (tools from the model folder's tools.json) answered with /tool, /quit.
# Usage: run_chat_tty.sh A3B_BINARY MODEL_DIR
set -euo pipefail
BIN=$1 MODEL=$2
S=a3b-run-$$
tmux new-session -d -s "$S" -x 220 -y 60 "$BIN run -m $MODEL --temp 0 -n 160; echo RUN-EXITED-\$?; sleep 30"
trap 'tmux kill-session -t "$S" 2>/dev/null || true' EXIT
screen() { tmux capture-pane -p -e -S -1000 -t "$S"; }  # with colours (escape sequences)
plain() { tmux capture-pane -p -S -1000 -t "$S"; }
prompts() { plain | grep -cE '^>( |$)' || true; }
wait_for() {  # wait_for REGEX
  for _ in $(seq 1 1200); do
    screen | grep -qE "$1" && return 0
    sleep 0.1
  done
  screen
  echo "timed out waiting for: $1" >&2
  exit 1
}
wait_prompts() {  # wait until N prompts are on screen (the reply is done)
  for _ in $(seq 1 1200); do
    [ "$(prompts)" -ge "$1" ] && return 0
    sleep 0.1
  done
  screen
  echo "timed out waiting for prompt $1" >&2
  exit 1
}
wait_for "chatting with"
wait_prompts 1
tmux send-keys -t "$S" "What is the capital of France?" Enter
wait_prompts 2
first=$(screen)
# Reasoning is printed dimmed (ESC[2m ... ESC[0m) before the answer.
grep -q $'\x1b\[2m' <<<"$first" || { echo "$first"; echo "no dimmed reasoning shown" >&2; exit 1; }
tmux send-keys -t "$S" "/no_think" Enter
wait_for "thinking off"
tmux send-keys -t "$S" "/reasoning" Enter
wait_for "reasoning hidden"
tmux send-keys -t "$S" "/clear" Enter
wait_for "conversation cleared"
n=$(prompts)
tmux send-keys -t "$S" "Say hello." Enter
wait_prompts $((n + 1))
tmux send-keys -t "$S" "/clear" Enter
tmux send-keys -t "$S" "/think" Enter
wait_for "thinking on"
n=$(prompts)
tmux send-keys -t "$S" "What is 1234 * 5678? Use the calculator." Enter
wait_for '\[tool call\] calculator \{"expression": "1234 \* 5678"\}'
wait_prompts $((n + 1))
tmux send-keys -t "$S" "/tool 7006652" Enter
wait_for '7006652\.'
wait_prompts $((n + 2))
tmux send-keys -t "$S" "/quit" Enter
wait_for "RUN-EXITED-0"
echo "a3b run tty test passed"
