"""The live Dynamo 1.6.1 stack on 127.0.0.1: frontends + mocker prefill/decode workers, closed-loop load.

Everything binds to loopback: file discovery (``DYN_FILE_KV`` = a fresh directory), TCP request plane on
127.0.0.1, and a pyzmq XSUB/XPUB broker bound to 127.0.0.1 for the workers' KV events
(``DYN_ZMQ_BROKER_URL``), so no worker binds its event socket to 0.0.0.0 (without a broker, Dynamo's ZMQ event
plane binds each publisher to ``tcp://0.0.0.0:0``: ``lib/runtime/src/transports/event_plane/mod.rs``). Workers run
on B200 timing from our profiles (:func:`gametheory.serving.dynamo.write_timing_file`), in real time.

Router settings are global per frontend process in 1.6.1 (per-request overrides are rejected), so
:class:`LiveStack` starts one frontend per (tau, omega) setting over the same workers;
:class:`LiveActuator` sends each interval's requests to the frontend of the current regime and reads TTFT
P99 from that frontend's Prometheus ``/metrics`` histogram (bucket deltas between two scrapes), as a real
deployment would. omega is passed as ``--router-kv-overlap-score-weight`` (the classic
``cost = omega * prefill_blocks + decode_blocks`` weight; a deprecated alias of ``prefill_load_scale`` in 1.6.1)
and tau as ``--router-temperature``.

Every process is started in its own session and stopped by its PID (its process group), also on failure.

References
----------
.. [1] NVIDIA Dynamo 1.6.1, https://github.com/ai-dynamo/dynamo: ``dynamo.frontend`` (``--router-mode kv``,
   ``--router-temperature``, ``--router-kv-overlap-score-weight``, Prometheus ``/metrics``), ``dynamo.mocker``
   (``components/src/dynamo/mocker``, ``--planner-profile-data``), the file discovery backend and the ZMQ
   event plane's broker mode (``lib/runtime/src/transports/event_plane/mod.rs``, ``DYN_ZMQ_BROKER_URL``).
.. [2] A. Georgiou, "The Price of Anarchy in Disaggregated Inference", arXiv 2606.17081, 2026, section 6 (the
   controller reads TTFT P99 from Prometheus every 5 s and switches the router setting per regime).
.. [3] Prometheus text exposition format and ``histogram_quantile``, https://prometheus.io/docs/.
.. [4] OpenAI completions API with ``stream=True`` (server-sent events), as served by Dynamo's frontend.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from gametheory.errors import GameTheoryError, InvalidInputError

__all__ = ["LiveStack", "LiveActuator", "RequestRecord", "closed_loop", "scrape", "write_model_dir",
           "TTFT_METRIC"]

TTFT_METRIC = "dynamo_frontend_time_to_first_token_seconds"
_BROKER = (
    "import sys, zmq\n"
    "c = zmq.Context()\n"
    "a = c.socket(zmq.XSUB); a.bind(sys.argv[1])\n"
    "b = c.socket(zmq.XPUB); b.bind(sys.argv[2])\n"
    "zmq.proxy(a, b)\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_model_dir(path) -> Path:
    """A weightless Llama-shaped model directory: byte-level BPE tokenizer (256 byte tokens, no merges, so one
    token per ASCII character), config, chat template and eos ids. Tens of KB.

    Parameters
    ----------
    path : str or os.PathLike
        The directory (created with its parents if missing; files in it are overwritten).

    Returns
    -------
    pathlib.Path
        The directory, holding ``tokenizer.json``, ``tokenizer_config.json``, ``config.json`` and
        ``generation_config.json``.
    """
    d = Path(path)
    d.mkdir(parents=True, exist_ok=True)
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    vocab = {chr(c): i for i, c in enumerate(cs)}
    vocab.update({"<|eos|>": 256, "<|bos|>": 257})
    special = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
                "special": True} for t, i in (("<|eos|>", 256), ("<|bos|>", 257))]
    byte_level = {"add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    tok = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": special, "normalizer": None,
           "pre_tokenizer": {"type": "ByteLevel", **byte_level}, "post_processor": None,
           "decoder": {"type": "ByteLevel", **byte_level},
           "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                     "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                     "vocab": vocab, "merges": []}}
    (d / "tokenizer.json").write_text(json.dumps(tok))
    (d / "tokenizer_config.json").write_text(json.dumps({
        "bos_token": "<|bos|>", "eos_token": "<|eos|>", "model_max_length": 8192,
        "tokenizer_class": "PreTrainedTokenizerFast",
        "chat_template": "{% for m in messages %}{{ m['content'] }}{% endfor %}"}))
    (d / "config.json").write_text(json.dumps({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 256, "intermediate_size": 512,
        "num_attention_heads": 4, "num_key_value_heads": 4, "num_hidden_layers": 2, "vocab_size": 258,
        "max_position_embeddings": 8192, "bos_token_id": 257, "eos_token_id": 256, "torch_dtype": "bfloat16"}))
    (d / "generation_config.json").write_text(json.dumps({"bos_token_id": 257, "eos_token_id": 256}))
    return d


@dataclass
class LiveStack:
    """Broker + 1 prefill mocker process + 1 decode mocker process (``n_prefill`` / ``n_decode`` workers) +
    one frontend per router setting, all on 127.0.0.1. Use as a context manager; :meth:`stop` kills every
    started process by PID (process group) and removes the working directory.

    Parameters
    ----------
    timing_file : pathlib.Path
        Mocker NPZ (:func:`gametheory.serving.dynamo.write_timing_file`).
    n_prefill, n_decode : int, optional
        Workers in the prefill and decode mocker processes (defaults 1 and 2).
    settings : tuple of (float, float), optional
        One (tau, omega) per frontend (default Dynamo's (0, 1) only).
    startup_timeout_s : float, optional
        How long :meth:`start` waits for every frontend to serve a request (s, default 60).
    workdir : pathlib.Path or None, optional
        Set by :meth:`start` (a fresh temporary directory holding discovery files, the model and the logs).
    """

    timing_file: Path
    n_prefill: int = 1
    n_decode: int = 2
    settings: tuple = ((0.0, 1.0),)
    startup_timeout_s: float = 60.0
    workdir: Path | None = None
    procs: list = field(default_factory=list, init=False)
    ports: list = field(default_factory=list, init=False)

    def _env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "DYN_FILE_KV": str(self.workdir / "kv"), "DYN_TCP_RPC_HOST": "127.0.0.1",
            "DYN_TCP_RESPONSE_STREAM_HOST": "127.0.0.1", "DYN_SYSTEM_HOST": "127.0.0.1", "HF_HUB_OFFLINE": "1",
            "DYN_LOG": "warn", "DYN_SELF_HOST_METADATA": "0",
            "DYN_ZMQ_BROKER_URL": f"xsub=tcp://127.0.0.1:{self._xsub} , xpub=tcp://127.0.0.1:{self._xpub}",
        })
        return env

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115  (closed in stop)
        p = subprocess.Popen([sys.executable, *args], env=self._env(), stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True, cwd=self.workdir)
        self.procs.append((name, p, log))

    def start(self) -> LiveStack:
        """Start the broker, the workers and the frontends; return once each frontend served a request.

        Returns
        -------
        LiveStack
            ``self``, running.

        Raises
        ------
        GameTheoryError
            A process exited during start-up (its log is named) or a frontend was not ready within
            ``startup_timeout_s``; every started process is stopped first and the logs are kept.
        """
        self.workdir = Path(tempfile.mkdtemp(prefix="gametheory-live-"))
        (self.workdir / "kv").mkdir()
        model = write_model_dir(self.workdir / "model")
        self._xsub, self._xpub = _free_port(), _free_port()
        try:
            self._spawn("broker", ["-c", _BROKER, f"tcp://127.0.0.1:{self._xsub}", f"tcp://127.0.0.1:{self._xpub}"])
            common = ["--model-path", str(model), "--model-name", "tiny", "--block-size", "16",
                      "--discovery-backend", "file", "--planner-profile-data", str(self.timing_file)]
            self._spawn("prefill", ["-m", "dynamo.mocker", *common, "--disaggregation-mode", "prefill",
                                    "--num-workers", str(self.n_prefill)])
            self._spawn("decode", ["-m", "dynamo.mocker", *common, "--disaggregation-mode", "decode",
                                   "--num-workers", str(self.n_decode)])
            for k, (tau, omega) in enumerate(self.settings):
                port = _free_port()
                self.ports.append(port)
                self._spawn(f"frontend{k}", ["-m", "dynamo.frontend", "--http-host", "127.0.0.1", "--http-port",
                                             str(port), "--router-mode", "kv", "--discovery-backend", "file",
                                             "--router-temperature", str(tau),
                                             "--router-kv-overlap-score-weight", str(omega)])
            self._wait_ready()
        except BaseException:
            self.stop(remove=False)  # keep the logs the error message points to
            raise
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        pending = set(range(len(self.ports)))
        while pending and time.monotonic() < deadline:
            for name, p, _ in self.procs:
                if p.poll() is not None:
                    raise GameTheoryError(
                        f"live stack: {name} exited with {p.returncode}; see {self.workdir}/{name}.log")
            for k in list(pending):
                try:
                    # Ready when a warm-up request completes through this frontend (model and workers known).
                    recs = closed_loop(self.url(k), 1, 0.0, n_requests=1, osl=2, timeout_s=5.0)
                    if recs and recs[0].error is None:
                        pending.discard(k)
                except OSError:
                    pass
            time.sleep(0.5)
        if pending:
            raise GameTheoryError(f"live stack: frontends {sorted(pending)} not ready in {self.startup_timeout_s} s")

    def url(self, k: int = 0) -> str:
        """Base URL of frontend ``k``.

        Parameters
        ----------
        k : int, optional
            Index into ``settings`` (default 0).

        Returns
        -------
        str
            ``http://127.0.0.1:<port>``.
        """
        return f"http://127.0.0.1:{self.ports[k]}"

    def pids(self) -> list[int]:
        """Process ids of every started process.

        Returns
        -------
        list of int
            Broker, workers and frontends, in start order.
        """
        return [p.pid for _, p, _ in self.procs]

    def stop(self, remove: bool = True) -> None:
        """SIGTERM each started process group, wait up to 5 s, then SIGKILL; close logs; remove the working
        directory unless ``remove`` is False.

        Parameters
        ----------
        remove : bool, optional
            Remove the working directory (default True; False keeps the logs).
        """
        for _, p, _ in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 5.0
        for _, p, log in self.procs:
            try:
                p.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(timeout=5.0)
            log.close()
        self.procs = []
        if remove and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> LiveStack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class RequestRecord:
    """One streamed completion: times in ms since the load's start, worker ids, tokens.

    Parameters
    ----------
    start_ms : float
        Send time (ms since the load started).
    ttft_ms : float, optional
        Time to the first streamed chunk (ms; NaN if none arrived).
    end_ms : float, optional
        Time of the last chunk (ms since the load started; NaN if none).
    chunks : int, optional
        Chunks received (one per output token).
    prefill_worker, decode_worker : int or None, optional
        Worker ids Dynamo reported (``nvext.worker_id``).
    input_length : int, optional
        Prompt length (tokens = characters with the byte-level tokenizer).
    error : str or None, optional
        What went wrong (HTTP status or exception), None on success.
    """

    start_ms: float
    ttft_ms: float = float("nan")
    end_ms: float = float("nan")
    chunks: int = 0
    prefill_worker: int | None = None
    decode_worker: int | None = None
    input_length: int = 0
    error: str | None = None


def _prompt(rng: random.Random, template: int, isl: int, shared: float) -> str:
    """ASCII prompt of ``isl`` tokens (one per byte): a shared template prefix, then a random suffix."""
    k = int(round(shared * isl))
    prefix = (f"T{template}" * isl)[:k]
    return prefix + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(isl - k))


def _one(url: str, prompt: str, osl: int, t0: float, timeout_s: float) -> RequestRecord:
    host, port = url.removeprefix("http://").split(":")
    rec = RequestRecord(start_ms=(time.monotonic() - t0) * 1e3, input_length=len(prompt))
    body = json.dumps({"model": "tiny", "prompt": prompt, "max_tokens": osl, "stream": True,
                       "ignore_eos": True, "nvext": {"extra_fields": ["worker_id", "timing"]}})
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout_s)
    try:
        conn.request("POST", "/v1/completions", body, {"content-type": "application/json"})
        resp = conn.getresponse()
        if resp.status != 200:
            rec.error = f"HTTP {resp.status}: {resp.read()[:200]!r}"
            return rec
        for raw in resp:
            line = raw.strip()
            if not line.startswith(b"data:") or line == b"data: [DONE]":
                continue
            now = (time.monotonic() - t0) * 1e3
            msg = json.loads(line[5:])
            if not msg.get("choices"):
                continue
            if rec.chunks == 0:
                rec.ttft_ms = now - rec.start_ms
            rec.chunks += 1
            rec.end_ms = now
            wid = (msg.get("nvext") or {}).get("worker_id") or {}
            rec.prefill_worker = wid.get("prefill_worker_id", rec.prefill_worker)
            rec.decode_worker = wid.get("decode_worker_id", rec.decode_worker)
    except (OSError, http.client.HTTPException, json.JSONDecodeError) as exc:
        rec.error = f"{type(exc).__name__}: {exc}"
    finally:
        conn.close()
    return rec


def closed_loop(url: str, concurrency: int, duration_s: float, *, n_requests: int | None = None, isl: int = 128,
                osl: int = 128, templates: int = 5, shared: float = 0.5, seed: int = 0,
                timeout_s: float = 60.0) -> list[RequestRecord]:
    """Closed-loop load: ``concurrency`` clients each send a streaming completion, wait for it, send the next,
    until ``duration_s`` has passed (or ``n_requests`` were started).

    Prompts are ``isl`` ASCII characters: a prefix shared by the requests of one of ``templates`` templates
    (``shared`` of the prompt), then random letters.

    Parameters
    ----------
    url : str
        Frontend base URL (``http://127.0.0.1:<port>``).
    concurrency : int
        Clients (>= 1).
    duration_s : float
        How long clients keep sending (s); ignored when ``n_requests`` is given.
    n_requests : int, optional
        Total requests to start instead of a duration.
    isl, osl : int, optional
        Prompt and output tokens (default 128 each).
    templates : int, optional
        Prompt templates (default 5, as in the paper).
    shared : float, optional
        Fraction of the prompt shared within a template (default 0.5).
    seed : int, optional
        Seed of the prompt generator.
    timeout_s : float, optional
        Per-request HTTP timeout (s).

    Returns
    -------
    list of RequestRecord
        One per request, in completion order; failures carry ``error``.

    Raises
    ------
    InvalidInputError
        ``concurrency`` below 1.
    """
    if int(concurrency) < 1:
        raise InvalidInputError(f"concurrency must be >= 1, got {concurrency}")
    t0 = time.monotonic()
    lock = threading.Lock()
    out: list[RequestRecord] = []
    started = [0]

    def client(i: int) -> None:
        rng = random.Random(seed * 10007 + i)
        while True:
            with lock:
                if n_requests is not None and started[0] >= n_requests:
                    return
                if n_requests is None and time.monotonic() - t0 >= duration_s:
                    return
                started[0] += 1
            rec = _one(url, _prompt(rng, rng.randrange(templates), isl, shared), osl, t0, timeout_s)
            with lock:
                out.append(rec)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(int(concurrency))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration_s + timeout_s + 5)
    return out


def scrape(url: str, timeout_s: float = 5.0) -> str:
    """The frontend's Prometheus text (``/metrics``).

    Parameters
    ----------
    url : str
        Frontend base URL.
    timeout_s : float, optional
        HTTP timeout (s).

    Returns
    -------
    str
        The scrape, Prometheus text format.
    """
    with urllib.request.urlopen(url + "/metrics", timeout=timeout_s) as r:  # noqa: S310 (loopback only)
        return r.read().decode()


def records_for_log(recs: list[RequestRecord], decode_ids: list, osl: int) -> list[dict]:
    """Live records in the replay's per-request shape for :func:`gametheory.serving.dynamo.request_log`:
    arrival = request start, decode admission = first token time (the client cannot see the admission itself),
    terminal = last token time, decode worker as an index.

    Parameters
    ----------
    recs : list of RequestRecord
        Records from :func:`closed_loop`; failed ones and those on unknown decode workers are left out.
    decode_ids : list
        Dynamo ids of the decode workers (sorted to give indices 0..m-1).
    osl : int
        Requested output tokens (caps the chunk count).

    Returns
    -------
    list of dict
        Records with ``arrival_time_ms``, ``decode_admit_ms``, ``terminal_time_ms``, ``decode_worker_idx``,
        ``input_length``, ``output_length`` and ``ttft_ms`` (ms).
    """
    index = {w: i for i, w in enumerate(sorted(decode_ids))}
    return [{"arrival_time_ms": r.start_ms, "decode_admit_ms": r.start_ms + r.ttft_ms, "terminal_time_ms": r.end_ms,
             "decode_worker_idx": index[r.decode_worker], "input_length": r.input_length,
             "output_length": min(r.chunks, osl), "ttft_ms": r.ttft_ms}
            for r in recs if r.error is None and r.decode_worker in index]


@dataclass
class LiveActuator:
    """Controller actuator on the live stack: interval k runs closed-loop load at ``ramp[k]`` for ``poll_s``
    seconds against the frontend whose setting is (tau, omega), and reports TTFT P99 from that frontend's
    ``/metrics`` histogram, throughput, and PoA-hat of the interval's requests.

    Parameters
    ----------
    stack : LiveStack
        A started stack.
    ramp : tuple of int
        Closed-loop concurrency of each interval.
    profile_name : str
        Profile of the workers' timing (for the PoA-hat model, :func:`gametheory.serving.profiles.load_profile`).
    poll_s : float, optional
        Interval length (s; default 5, the paper's poll period).
    osl : int, optional
        Output tokens per request (default 128).
    """

    stack: LiveStack
    ramp: tuple
    profile_name: str
    poll_s: float = 5.0
    osl: int = 128
    records: list = field(default_factory=list, init=False)

    def run_interval(self, index: int, tau: float, omega: float):
        """Run interval ``index`` on the frontend of setting (tau, omega) and report it.

        Parameters
        ----------
        index : int
            Interval number, an index into ``ramp``.
        tau, omega : float
            Router setting; must be one of the stack's ``settings``.

        Returns
        -------
        IntervalReport
            TTFT P99 from the frontend's histogram (ms), throughput (requests/s), PoA-hat (None until every
            decode worker's id has been seen), concurrency and duration (s).

        Raises
        ------
        InvalidInputError
            No frontend has the setting, or no request finished in the interval (empty histogram delta).
        """
        from gametheory.serving.controller import IntervalReport, histogram_quantile
        from gametheory.serving.dynamo import request_log
        from gametheory.serving.engine import Cluster
        from gametheory.serving.estimator import poa_hat_log
        from gametheory.serving.profiles import load_profile
        from gametheory.serving.workload import paper_workload

        settings = [tuple(map(float, x)) for x in self.stack.settings]
        if (float(tau), float(omega)) not in settings:
            raise InvalidInputError(f"(tau, omega) = ({tau}, {omega}) has no frontend on this stack; "
                                    f"its settings are {settings}")
        k = settings.index((float(tau), float(omega)))
        url = self.stack.url(k)
        before = scrape(url)
        t = time.monotonic()
        recs = closed_loop(url, int(self.ramp[index]), self.poll_s, osl=self.osl, seed=index)
        dur = time.monotonic() - t
        after = scrape(url)
        self.records.append(recs)
        ok = [r for r in recs if r.error is None]
        p99_ms = 1e3 * histogram_quantile(0.99, before, after, TTFT_METRIC)
        self._ids = getattr(self, "_ids", set()) | {r.decode_worker for r in ok if r.decode_worker is not None}
        ids = sorted(self._ids)
        poa = None  # unknown until every decode worker has been seen (its id is learned from responses)
        if len(ids) == self.stack.n_decode:
            cluster = Cluster(load_profile(self.profile_name), self.stack.n_prefill, self.stack.n_decode, 0.0)
            log = request_log(records_for_log(ok, ids, self.osl), cluster, paper_workload(self.osl))
            poa = float(poa_hat_log(log).value)
        return IntervalReport(p99_ms, len(ok) / dur, poa, int(self.ramp[index]), dur)


def client_ttft_p99_ms(recs: list[RequestRecord]) -> float:
    """TTFT P99 (ms) measured by the client, to compare with the frontend's histogram.

    Parameters
    ----------
    recs : list of RequestRecord
        Records from :func:`closed_loop`.

    Returns
    -------
    float
        99th percentile of the successful requests' TTFT (ms).

    Raises
    ------
    InvalidInputError
        No successful request.
    """
    x = np.array([r.ttft_ms for r in recs if r.error is None])
    if x.size == 0:
        raise InvalidInputError("no successful requests")
    return float(np.percentile(x, 99))
