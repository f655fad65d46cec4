"""Independent test-data maker for popsync (see ../README.md).

Built from the written contract only: nothing here imports or copies popsync's own generator.
"""
