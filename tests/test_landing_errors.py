"""An error about a landing area names it without its password (a landing URL may carry one:
``ftp://user:password@host/dir``, or an Airflow connection's URI)."""

from __future__ import annotations

import fsspec
import pytest
from pull_helpers import resources

from popsync import pull
from popsync.core.errors import UserError
from popsync.core.sources import load_catalog


def test_a_register_landing_area_without_files_is_named_without_its_password(tmp_path):
    url = "memory://reader:s3cret@landing/registers"
    fsspec.filesystem("memory").mkdir("reader:s3cret@landing/registers")
    settings = pull.PullSettings(spec=load_catalog()["dan_cu"], landing=url, settle_seconds=0)
    with pytest.raises(UserError, match="no register file in the landing area") as error:
        pull.fetch_register(resources(tmp_path, None), settings, sleep=lambda seconds: None)
    assert "memory://reader@landing/registers" in str(error.value)
    assert "s3cret" not in str(error.value)
