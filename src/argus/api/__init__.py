"""The HTTP API of the control plane (FastAPI): ``create_app`` in ``argus.api.app``."""
