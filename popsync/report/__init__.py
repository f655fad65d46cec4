"""What people read: ``terminal`` (short rich summaries), ``html`` (the batch report, Jinja2
templates in ``templates/``) and ``progress`` (the one progress display)."""
