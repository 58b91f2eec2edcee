"""Two worker processes on 127.0.0.1 under `MultiWorkerMirroredStrategy`, as on two machines.

Each worker is a fresh process (`tests/distribute_checks.py multi_worker`) with
its own `TF_CONFIG`, one CPU device and half of every global batch; the chief
then trains the same models on one device, in one process, as the reference.
Compared, for a small GAN and a small VAE, one epoch (4 steps, global batch 16):
the losses, to a relative 1e-5, and every weight, to an absolute 1e-5 (measured:
about 2e-7). As in `tests/test_distribute.py`, each replica is given the rows of
the global batch's noise that belong to its examples, so the comparison is of
the loss reduction, the all-reduce across processes, batch normalisation and
the optimizers. The workers are killed if they run past the time limit.
"""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
FAMILIES = ("gan", "vae")
TIME_LIMIT = 120  # seconds; about 20 s on two cores
WEIGHT_TOLERANCE = 1e-5
LOSS_RTOL = 1e-5


def free_ports(count):
    """Ports that nothing listens on now (the operating system's choice)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def test_two_workers_train_as_one_process(tmp_path):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    env.pop("TF_CONFIG", None)  # each worker sets its own
    ports = ",".join(map(str, free_ports(2)))
    workers, outputs = [], []
    try:
        for index in range(2):
            out = tmp_path / f"worker-{index}.out"
            outputs.append(out)
            with open(out, "w") as stdout, open(tmp_path / f"worker-{index}.err", "w") as stderr:
                workers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "tests.distribute_checks", "multi_worker"]
                        + [str(index), ports, *FAMILIES],
                        cwd=REPO,
                        env=env,
                        stdout=stdout,
                        stderr=stderr,
                    )
                )
        deadline = time.monotonic() + TIME_LIMIT
        for worker in workers:
            worker.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for index, worker in enumerate(workers):
        if worker.returncode != 0:
            pytest.fail(
                f"worker {index} exited with {worker.returncode}:\n"
                + (tmp_path / f"worker-{index}.err").read_text()[-3000:]
            )
    chief, other = (json.loads(out.read_text().strip().splitlines()[-1]) for out in outputs)
    assert chief["strategy"].startswith("MultiWorkerMirroredStrategy: 2 replicas")
    for family in FAMILIES:
        result = chief[family]
        # Both processes hold the same model: the replicas are in step across processes.
        assert other[family]["history"] == result["history"]
        assert other[family]["weight_sum"] == result["weight_sum"]
        for name, values in result["one_process_history"].items():
            np.testing.assert_allclose(result["history"][name], values, rtol=LOSS_RTOL)
        assert result["weight_difference"] <= WEIGHT_TOLERANCE
        assert result["weight_change"] >= 100 * WEIGHT_TOLERANCE
