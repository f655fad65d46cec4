"""The ground floor: what every part of popsync may import, and which imports nothing above it.

- ``errors``: errors a user can act on;
- ``sources``: the one declaration of each source (fields, labels, kinds, table, asset);
- ``contracts``: the columns the parts exchange (findings, candidates, decisions, pillars);
- ``domain``: domain facts as data (``popsync/reference/``), each with its source;
- ``privacy``: masking of personal values;
- ``timing``: the one timer of stages and steps;
- ``files``: a file's sha256.

A test (``tests/test_architecture.py``) checks that nothing here imports ``transforms``,
``matching``, ``expectations`` or the upper floors of ``popsync``.
"""
