"""popsync on Airflow: one DAG per declared source, built from the declarations
(``popsync/sources/*.yaml``, their ``dag_id``), so a new source gets its DAG with no code.

- ``population_register_sync`` pulls the register's snapshots, validates and loads them, and
  emits the Asset ``popsync_register``;
- each extract's DAG (``vaccination_sync``, ``f0_sync``, ``social_insurance_sync``) runs daily
  and whenever the register changed: pull → one mapped group per pulled file (standardize →
  validate_pre → link → validate_post → load → report) → publish_status. One file failing
  (a blocked gate, a broken file) stops that file only; the others load. A file of more rows
  than the chunk size fans out instead: a mapped link task per chunk across the workers, then
  one load of the whole batch in one transaction (``chunked.py``).

``dags.py`` builds the DAGs, ``steps.py`` holds what each task does (every step calls the same
``popsync.pipeline`` function as the CLI), ``context.py`` turns Airflow's world (connections,
logical dates) into popsync's ``Resources``, ``intake.py`` asks ``popsync.pull`` what to run.
"""

from popsync.scheduling.dags import build_dags

__all__ = ["build_dags"]
