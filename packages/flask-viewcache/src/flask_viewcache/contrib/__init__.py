"""Flask-Caching's ``contrib`` import paths (``flask_viewcache.contrib.uwsgicache``)."""
