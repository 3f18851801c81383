"""flask-appcache: see the package README for what it does and will do."""

__version__ = "0.1.0"

__all__: list[str] = []
