"""Many processes, one training run: `jax.distributed` started from the usual
environment, so that `fit`'s default mesh spans every process's devices."""

import os

import jax

from ._log import logger

ENV_COORDINATOR = "SCIML_COORDINATOR"
ENV_NUM_PROCESSES = "SCIML_NUM_PROCESSES"
ENV_PROCESS_ID = "SCIML_PROCESS_ID"


def start_distributed(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
) -> bool:
    """Join this process to a multi-process JAX run; call it first, before any
    other JAX computation. Returns whether the run has several processes.

    Where the processes come from, first match wins:

    1. The arguments: `coordinator_address` (`"host:port"` of process 0),
       `num_processes` and this `process_id`.
    2. The environment variables `SCIML_COORDINATOR`, `SCIML_NUM_PROCESSES`
       and `SCIML_PROCESS_ID`, e.g. set by a launch script.
    3. A SLURM job step with more than one task (`SLURM_NTASKS`): JAX reads
       the coordinator, the count and the rank from SLURM's variables itself.

    Otherwise (one process) nothing is started and it returns `False`. On the
    CPU the processes' collectives go over gloo (TCP). Afterwards
    `jax.devices()` lists every process's devices, and `sciml.training.fit`'s
    default mesh spans them all: every process then runs the same `fit` call
    with the same batches for each step (each process sends only its part of a
    batch to its devices) and gets the same losses.

    Launch recipe, two processes on one machine (a test does this):

    ```bash
    SCIML_COORDINATOR=127.0.0.1:29500 SCIML_NUM_PROCESSES=2 SCIML_PROCESS_ID=0 python train.py &
    SCIML_COORDINATOR=127.0.0.1:29500 SCIML_NUM_PROCESSES=2 SCIML_PROCESS_ID=1 python train.py
    ```

    and on a SLURM cluster `srun --ntasks=<hosts x GPUs> python train.py`, with
    `train.py` calling `sciml.training.start_distributed()` before anything else.
    """
    if jax.distributed.is_initialized():
        return jax.process_count() > 1
    env = os.environ
    address = coordinator_address or env.get(ENV_COORDINATOR)
    kwargs = {}
    if address is not None:
        n = num_processes if num_processes is not None else env.get(ENV_NUM_PROCESSES)
        rank = process_id if process_id is not None else env.get(ENV_PROCESS_ID)
        if n is None or rank is None:
            raise ValueError(
                f"start_distributed: a coordinator ({address}) needs the number of "
                f"processes and this process's id too. Fix: pass `num_processes` "
                f"and `process_id`, or set {ENV_NUM_PROCESSES} and {ENV_PROCESS_ID}."
            )
        kwargs = dict(
            coordinator_address=address,
            num_processes=int(n),
            process_id=int(rank),
        )
        if kwargs["num_processes"] == 1:
            return False
    elif int(env.get("SLURM_NTASKS", "1")) <= 1:
        return False
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(**kwargs)
    logger.info(
        "start_distributed: process %d of %d, %d local of %d devices.",
        jax.process_index(),
        jax.process_count(),
        jax.local_device_count(),
        jax.device_count(),
    )
    return jax.process_count() > 1
