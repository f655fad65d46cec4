"""popsync's Airflow DAGs, one per declared source (``popsync/sources/*.yaml``), built by
``popsync.scheduling``, where their steps, retries and schedules are described. (Airflow's
dag-processor reads only files that name both "airflow" and "dag".)"""

from popsync.scheduling import build_dags

globals().update(build_dags())
