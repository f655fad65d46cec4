"""The steps of popsync, shared by the CLI and the Airflow DAGs.

- ``batch``: the batch record (a JSON dict) and where its files live in the work area;
- ``stages``: register, standardize, validate (pre-link), link, validate (post-link), load;
- ``recheck``: re-linking the rows a register change flagged, a stage of its own;
  ``recheck_run``: the same on its own, when no file came (``popsync recheck``);
- ``status``: each person's status after the batch (``stage_status``, the last stage) and the
  delta feed to the register (``publish_status``, ``popsync publish``);
- ``run``: every stage of a batch in order, its summary and report; ``run all``;
- ``commands``: the one-file commands (standardize, match, validate).

Every stage takes the batch and the ``Resources`` made at the edge (``popsync.resources``).
"""

from popsync.pipeline.batch import new_batch, plan_batches
from popsync.pipeline.commands import (
    match_files,
    standardize_file,
    train_files,
    validate_files,
)
from popsync.pipeline.lifecycle import close_run, fail_run, heartbeat, open_run
from popsync.pipeline.recheck import recheck_extract, stage_recheck
from popsync.pipeline.recheck_run import recheck_source
from popsync.pipeline.run import (
    STAGES,
    finish_batch,
    report_blocked,
    run_all,
    run_batch,
    run_source,
    stage_name,
)
from popsync.pipeline.stages import (
    batch_findings,
    prepare_register,
    read_standardized,
    stage_link,
    stage_load,
    stage_register,
    stage_standardize,
    stage_validate_post,
    stage_validate_pre,
)
from popsync.pipeline.status import STATUS_ASSET, publish_status, stage_status

__all__ = [
    "report_blocked",
    "close_run",
    "fail_run",
    "heartbeat",
    "open_run",
    "STAGES",
    "STATUS_ASSET",
    "batch_findings",
    "finish_batch",
    "match_files",
    "train_files",
    "new_batch",
    "plan_batches",
    "prepare_register",
    "publish_status",
    "read_standardized",
    "recheck_extract",
    "recheck_source",
    "run_all",
    "run_batch",
    "run_source",
    "stage_link",
    "stage_load",
    "stage_name",
    "stage_recheck",
    "stage_register",
    "stage_status",
    "stage_standardize",
    "stage_validate_post",
    "stage_validate_pre",
    "standardize_file",
    "validate_files",
]
