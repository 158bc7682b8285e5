'use strict';
// Browser side of the agents-web playground: microphone -> 20 ms s16le frames over the
// WebSocket; agent audio <- played by a worklet that reports its playhead; JSON events ->
// live transcript. No dependencies.

const WORKLETS = `
class Capture extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.frame = options.processorOptions.frameSamples;
    this.buf = new Int16Array(this.frame);
    this.n = 0;
    this.sumsq = 0;
  }
  process(inputs) {
    const input = inputs[0];
    if (input && input.length > 0) {
      const ch = input[0];
      for (let i = 0; i < ch.length; i++) {
        const s = Math.max(-1, Math.min(1, ch[i]));
        this.sumsq += s * s;
        this.buf[this.n++] = s < 0 ? Math.round(s * 32768) : Math.round(s * 32767);
        if (this.n === this.frame) {
          const rms = Math.sqrt(this.sumsq / this.frame);
          this.port.postMessage({ pcm: this.buf.buffer, rms }, [this.buf.buffer]);
          this.buf = new Int16Array(this.frame);
          this.n = 0;
          this.sumsq = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor('capture', Capture);

class Player extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.queue = [];
    this.offset = 0;
    this.queued = 0;
    this.played = 0;
    this.dropped = 0;
    this.every = options.processorOptions.reportSamples;
    this.since = 0;
    this.last = '';
    this.paused = false;
    this.port.onmessage = (e) => {
      const m = e.data;
      if (m.type === 'pause' || m.type === 'resume') {
        this.paused = m.type === 'pause';
      } else if (m.type === 'audio') {
        const a = new Int16Array(m.pcm);
        this.queue.push(a);
        this.queued += a.length;
      } else if (m.type === 'clear') {
        const head = this.played + this.dropped;
        this.dropped += this.queued;
        this.queue = [];
        this.offset = 0;
        this.queued = 0;
        this.port.postMessage({ type: 'cleared', seq: m.seq, head });
        this.report(true);
      }
    };
  }
  report(force) {
    const head = this.played + this.dropped;
    const key = head + '/' + this.queued;
    if (force || key !== this.last) {
      this.last = key;
      this.port.postMessage({ type: 'playout', head, played: this.played, queued: this.queued });
    }
  }
  process(inputs, outputs) {
    const out = outputs[0][0];
    let i = 0;
    while (!this.paused && i < out.length && this.queue.length > 0) {
      const cur = this.queue[0];
      const n = Math.min(out.length - i, cur.length - this.offset);
      for (let k = 0; k < n; k++) out[i + k] = cur[this.offset + k] / 32768;
      i += n;
      this.offset += n;
      this.played += n;
      this.queued -= n;
      if (this.offset === cur.length) {
        this.queue.shift();
        this.offset = 0;
      }
    }
    for (; i < out.length; i++) out[i] = 0;
    this.since += out.length;
    if (this.since >= this.every) {
      this.since = 0;
      this.report(false);
    }
    return true;
  }
}
registerProcessor('player', Player);
`;

const $ = (id) => document.getElementById(id);
const state = { started: false, ws: null, ctx: null, mic: null, player: null, capture: null, running: false,
                heardUser: false, agentLine: null, interimLine: null };

function setStatus(text) { $('status').textContent = text; }

function addLine(cls, who, text) {
  if (!who) console.info(`[playground] ${text}`);
  const div = document.createElement('div');
  div.className = 'line ' + cls;
  if (who) {
    const w = document.createElement('span');
    w.className = 'who';
    w.textContent = who;
    div.appendChild(w);
  }
  const t = document.createElement('span');
  t.className = 'text';
  t.textContent = text;
  div.appendChild(t);
  const box = $('transcript');
  const stick = box.scrollTop + box.clientHeight >= box.scrollHeight - 8;
  box.appendChild(div);
  if (stick) box.scrollTop = box.scrollHeight;
  return div;
}

function textOf(line) { return line.querySelector('.text'); }

function userSaid(text) {
  if (state.interimLine) { state.interimLine.remove(); state.interimLine = null; }
  state.agentLine = null;
  addLine('user', 'You', text);
}

function agentSays(delta, complete) {
  if (!state.agentLine) state.agentLine = addLine('agent', 'Agent', '');
  const t = textOf(state.agentLine);
  t.textContent = complete ? delta : t.textContent + delta;
  if (complete) state.agentLine = null;
}

function lastAgentLine() {
  const lines = $('transcript').querySelectorAll('.agent');
  return lines.length ? lines[lines.length - 1] : null;
}

function render(ev) {
  switch (ev.type) {
    case 'user_transcript':
      state.heardUser = true;
      if (ev.is_final) {
        userSaid(ev.text);
      } else {
        if (!state.interimLine) state.interimLine = addLine('user interim', 'You', '');
        textOf(state.interimLine).textContent = ev.text;
      }
      break;
    case 'message':
      if (ev.role === 'assistant') agentSays(ev.content, true);
      else if (ev.role === 'user' && !state.heardUser) userSaid(ev.content);
      break;
    case 'text_delta': agentSays(ev.content, false); break;
    case 'function_call': addLine('tool', '', `→ ${ev.name}(${ev.arguments})`); break;
    case 'function_call_output':
      addLine('tool' + (ev.is_error ? ' error' : ''), '', `← ${ev.name}: ${ev.output}`); break;
    case 'task_completed': addLine('task', '', `✓ task ${ev.name}: ${JSON.stringify(ev.output)}`); break;
    case 'agent_handoff': addLine('system', '', `handoff ${ev.old_agent || '(start)'} → ${ev.new_agent}`); break;
    case 'agent_state': setStatus('agent ' + ev.new); break;
    case 'user_state': $('level').style.background = ev.new === 'speaking' ? '#27c' : '#2a2'; break;
    case 'interrupted': {
      const l = lastAgentLine();
      if (l) l.appendChild(Object.assign(document.createElement('span'), { className: 'cut', textContent: ' (interrupted)' }));
      state.agentLine = null;
      break;
    }
    case 'reply_truncated': {
      const l = lastAgentLine();
      if (l) {
        const full = textOf(l).textContent;
        textOf(l).textContent = ev.heard;
        if (full.startsWith(ev.heard) && full.length > ev.heard.length) {
          l.appendChild(Object.assign(document.createElement('span'), { className: 'cut', textContent: full.slice(ev.heard.length) }));
        }
      }
      break;
    }
    case 'dtmf': addLine('system', '', `keypad ${ev.digits}`); break;
    case 'error': addLine('system error', '', `error: ${ev.message || ev.content}`); break;
    case 'closed': addLine('system', '', 'session closed'); break;
    case 'usage': case 'metrics': case 'playback_started': case 'playback_finished':
    case 'speech_committed': case 'user_turn_committed': case 'speech_paused': break;
    default: addLine('system', '', JSON.stringify(ev));
  }
}

function send(obj) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(obj));
}

async function onHello(hello) {
  const ctx = new AudioContext({ sampleRate: hello.sample_rate, latencyHint: 'interactive' });
  state.ctx = ctx;
  const url = URL.createObjectURL(new Blob([WORKLETS], { type: 'text/javascript' }));
  await ctx.audioWorklet.addModule(url);
  URL.revokeObjectURL(url);
  const player = new AudioWorkletNode(ctx, 'player', {
    numberOfInputs: 0, numberOfOutputs: 1, outputChannelCount: [1],
    processorOptions: { reportSamples: Math.round(hello.sample_rate / 20) },
  });
  player.port.onmessage = (e) => {
    const m = e.data;
    if (m.type === 'playout') window.playgroundStats = m;
    // Reports mean something to the server only once the session started.
    if (state.started) send(m);
  };
  player.connect(ctx.destination);
  state.player = player;
  try {
    state.mic = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false, channelCount: 1 },
    });
    const src = ctx.createMediaStreamSource(state.mic);
    const capture = new AudioWorkletNode(ctx, 'capture', {
      numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1],
      channelCount: 1, channelCountMode: 'explicit',
      processorOptions: { frameSamples: Math.round(hello.sample_rate * hello.frame_ms / 1000) },
    });
    capture.port.onmessage = (e) => {
      if (state.ws && state.ws.readyState === WebSocket.OPEN) state.ws.send(e.data.pcm);
      const db = 20 * Math.log10(e.data.rms + 1e-9);
      $('level').style.width = Math.max(0, Math.min(100, (db + 60) * 100 / 60)) + '%';
    };
    const mute = ctx.createGain();
    mute.gain.value = 0;
    src.connect(capture);
    capture.connect(mute).connect(ctx.destination);
    state.capture = capture;
  } catch (err) {
    addLine('system error', '', `microphone unavailable: ${err.name}: ${err.message}`);
  }
  send({ type: 'start', reports_playout: true });
  state.started = true;
  if (ctx.state === 'suspended') {
    setStatus('click anywhere to enable audio');
    document.addEventListener('click', () => ctx.resume(), { once: true });
  } else {
    setStatus('connected');
  }
}

function onMessage(e) {
  if (typeof e.data !== 'string') {
    if (state.player) state.player.port.postMessage({ type: 'audio', pcm: e.data }, [e.data]);
    return;
  }
  let msg;
  try { msg = JSON.parse(e.data); } catch (_) { return; }
  if (msg.type === 'hello') {
    onHello(msg).catch((err) => { addLine('system error', '', `audio setup failed: ${err}`); stop(); });
  } else if (msg.type === 'clear') {
    if (state.player) state.player.port.postMessage({ type: 'clear', seq: msg.seq });
  } else if (msg.type === 'pause' || msg.type === 'resume') {
    if (state.player) state.player.port.postMessage({ type: msg.type });
  } else if (msg.type === 'event') {
    render(msg.event);
  }
}

function start() {
  if (state.running) return;
  state.running = true;
  state.heardUser = false;
  $('start').textContent = 'Stop';
  setStatus('connecting…');
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(`${proto}//${location.host}/ws`);
  ws.binaryType = 'arraybuffer';
  ws.onmessage = onMessage;
  ws.onclose = (e) => {
    addLine('system', '', `disconnected (${e.code}${e.reason ? ': ' + e.reason : ''})`);
    teardown();
  };
  state.ws = ws;
}

function teardown() {
  state.running = false;
  $('start').textContent = 'Start';
  setStatus('idle');
  $('level').style.width = '0';
  if (state.mic) state.mic.getTracks().forEach((t) => t.stop());
  if (state.ctx) state.ctx.close().catch(() => {});
  Object.assign(state, { started: false, ws: null, ctx: null, mic: null, player: null, capture: null, agentLine: null, interimLine: null });
}

function stop() {
  const ws = state.ws;
  if (ws && ws.readyState === WebSocket.OPEN) {
    send({ type: 'stop' });
    ws.close(1000, 'stopped by user');
  }
  teardown();
}

$('start').addEventListener('click', () => (state.running ? stop() : start()));
for (const d of ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#']) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = d;
  b.addEventListener('click', () => send({ type: 'dtmf', digit: d }));
  $('keypad').appendChild(b);
}
document.addEventListener('keydown', (e) => {
  if (state.running && /^[0-9*#]$/.test(e.key) && !e.ctrlKey && !e.metaKey) send({ type: 'dtmf', digit: e.key });
});
if (new URLSearchParams(location.search).get('autostart') === '1') start();
