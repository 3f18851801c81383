"""flask-staticbust: a skeleton that installs and imports; its README says what it will do."""

__version__ = "0.1.0"

__all__: list[str] = []
