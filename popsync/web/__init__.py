"""The stewards' workspace (``popsync serve``): a FastAPI app over the warehouse with Jinja2
templates, server-rendered SVG charts and a small script of its own (no CDN: it runs offline).

``app.create_app(res, settings)`` builds it from resources made at the edge; ``server`` runs it
with uvicorn; ``airflow_plugin`` mounts the same app in Airflow's UI."""
